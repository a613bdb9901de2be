# End-to-end tests of the Lambda front end: a moto server and cargo-lambda from the tools
# virtualenv (mk/tools.mk installs it). Included from the main Makefile.

VENV ?= .venv

.PHONY: e2e

e2e: $(VENV)/.installed
	TRAILWATCH_VENV=$(abspath $(VENV)) $(CARGO) test --features e2e --test e2e
