# Tools from PyPI for the deployment checks: cfn-lint, the moto server for
# the end-to-end tests, and cargo-lambda with zig for the arm64 Lambda build.
# Included from the main Makefile.

VENV ?= .venv
PYTHON ?= python3
TOOLS_REQUIREMENTS ?= requirements-test.txt
LAMBDA_TARGET ?= aarch64-unknown-linux-gnu
LAMBDA_BINARY ?= trailwatch
# cargo-lambda writes to <target dir>/lambda/<binary>/bootstrap.zip.
LAMBDA_ZIP ?= $(or $(CARGO_TARGET_DIR),target)/lambda/$(LAMBDA_BINARY)/bootstrap.zip
# The goal for the zipped function (issue: at most 8 MB).
LAMBDA_ZIP_GOAL_BYTES ?= 8000000

VENV_BIN := $(abspath $(VENV))/bin

# Re-created only when the requirements file changes.
$(VENV)/.installed: $(TOOLS_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r $(TOOLS_REQUIREMENTS)
	touch $@

.PHONY: tools deploy-check lint-template template-check lambda-target lambda-build lambda-size

tools: $(VENV)/.installed

lint-template: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml

template-check: $(VENV)/.installed
	$(VENV)/bin/python tests/template_check.py --self-test template.yaml

# The template checks of `make test` (no build).
deploy-check: lint-template template-check

# The Rust standard library for the Lambda target (rustup needs to reach its
# distribution server the first time).
lambda-target:
	@rustup target list --installed | grep -qx '$(LAMBDA_TARGET)' \
	  || rustup target add $(LAMBDA_TARGET)

# cargo-lambda cross-links with zig: it finds the ziglang package through
# `python -m ziglang`, so the venv's python comes first on PATH and is named
# explicitly for cargo-zigbuild.
lambda-build: $(VENV)/.installed lambda-target
	PATH="$(VENV_BIN):$$PATH" CARGO_ZIGBUILD_PYTHON_PATH="$(VENV_BIN)/python" \
	  $(VENV)/bin/cargo-lambda lambda build --release --arm64 \
	  --bin $(LAMBDA_BINARY) --output-format zip

lambda-size: lambda-build
	@bytes=$$(stat -c %s '$(LAMBDA_ZIP)'); \
	  echo "$(LAMBDA_ZIP): $$bytes bytes ($$(awk "BEGIN{printf \"%.2f\", $$bytes/1000000}") MB zipped)"; \
	  if [ $$bytes -gt $(LAMBDA_ZIP_GOAL_BYTES) ]; then \
	    echo "warning: over the $(LAMBDA_ZIP_GOAL_BYTES)-byte goal"; fi
