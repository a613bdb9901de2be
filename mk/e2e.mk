# End-to-end tests of the Lambda front end: a moto server and cargo-lambda from the tools
# virtualenv (mk/tools.mk). Included from the main Makefile.

.PHONY: e2e

e2e: $(VENV)/.installed
	TRAILWATCH_VENV=$(abspath $(VENV)) cargo test --features e2e --test e2e
