# Tools from PyPI for the deployment checks: cfn-lint and checkov, the moto
# server for the end-to-end tests, cargo-lambda with zig for the arm64 Lambda
# build, and (in a virtualenv of its own) the AWS SAM CLI. Included from the
# main Makefile.

VENV ?= .venv
PYTHON ?= python3
TOOLS_REQUIREMENTS ?= requirements-test.txt
SAM_VENV ?= .venv-sam
SAM_REQUIREMENTS ?= requirements-sam.txt
LAMBDA_TARGET ?= aarch64-unknown-linux-gnu
LAMBDA_BINARY ?= trailwatch
# cargo-lambda writes to <target dir>/lambda/<binary>/bootstrap.zip.
LAMBDA_ZIP ?= $(or $(CARGO_TARGET_DIR),target)/lambda/$(LAMBDA_BINARY)/bootstrap.zip
# The goal for the zipped function (issue: at most 8 MB).
LAMBDA_ZIP_GOAL_BYTES ?= 8000000

VENV_BIN := $(abspath $(VENV))/bin
SAM_VENV_BIN := $(abspath $(SAM_VENV))/bin
# No call leaves the machine: no telemetry, no update checks, no platform API.
OFFLINE_ENV := SAM_CLI_TELEMETRY=0 CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE

# Re-created only when the requirements file changes.
$(VENV)/.installed: $(TOOLS_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r $(TOOLS_REQUIREMENTS)
	touch $@

$(SAM_VENV)/.installed: $(SAM_REQUIREMENTS)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r $(SAM_REQUIREMENTS)
	touch $@

.PHONY: tools deploy-check lint-template checkov template-check sam-validate sam-build \
  lambda-target lambda-build lambda-size

tools: $(VENV)/.installed $(SAM_VENV)/.installed

lint-template: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml

# Offline (--skip-download, no API key): the checks shipped in the package.
# Fails on any failed check; the template's checkov skips carry their reasons
# (tests/template_check.py fails a skip without one).
checkov: $(VENV)/.installed
	$(OFFLINE_ENV) $(VENV)/bin/checkov --file template.yaml --framework cloudformation \
	  --skip-download --compact --quiet

template-check: $(VENV)/.installed
	$(VENV)/bin/python tests/template_check.py --self-test template.yaml

# The SAM transform and cfn-lint, as SAM runs them (no AWS call).
sam-validate: $(SAM_VENV)/.installed
	$(OFFLINE_ENV) AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint --template template.yaml

# The template checks of `make test` (no build).
deploy-check: lint-template checkov template-check sam-validate

# `sam build` as the README has it: cargo-lambda and zig from $(VENV), the
# SAM CLI from $(SAM_VENV); the function lands in .aws-sam/build/.
sam-build: $(VENV)/.installed $(SAM_VENV)/.installed lambda-target
	PATH="$(VENV_BIN):$(SAM_VENV_BIN):$$PATH" CARGO_ZIGBUILD_PYTHON_PATH="$(VENV_BIN)/python" \
	  $(OFFLINE_ENV) sam build --beta-features

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
