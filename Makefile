# trailwatch: `make test` sets up everything the tests need and runs them all.
SHELL := /bin/bash
CARGO ?= cargo
SIGMA_CORPUS ?= ../shared/corpus/sigma

.PHONY: test check fmt-check clippy unit golden bench samples

test: fmt-check clippy unit deploy-check ocsf-check e2e lambda-size

fmt-check:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test

# Rewrite tests/golden/ after an intended change of replay output over samples/.
golden:
	UPDATE_GOLDEN=1 $(CARGO) test --test replay samples_match_the_golden_alerts

samples:
	for s in scripts/make_*samples.py; do python3 $$s; done

bench:
	$(CARGO) bench
	$(CARGO) build --release
	../shared/bench/run -- target/release/trailwatch replay --format jsonl

-include mk/*.mk
