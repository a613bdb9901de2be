# OCSF output validated against the OCSF 1.1.0 Detection Finding JSON Schema
# (tests/ocsf_check.py, jsonschema from the tools virtualenv). Included from the main Makefile.

.PHONY: ocsf-check

ocsf-check: $(VENV)/.installed
	TRAILWATCH_VENV=$(abspath $(VENV)) $(CARGO) test --test ocsf
