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

# Coverage-guided fuzzing of the scan (outside `make test`: a nightly toolchain and
# cargo-fuzz). Seeds: samples/ (gzip and plain) and, when present, the shared corpus; new
# inputs land in fuzz/corpus/scan, replayed on stable by tests/fuzz_corpus.rs.
FUZZ_SECONDS ?= 600
FUZZ_SEEDS ?= $(or $(TMPDIR),/tmp)/trailwatch-fuzz-seeds
.PHONY: fuzz fuzz-seeds
fuzz-seeds:
	rm -rf $(FUZZ_SEEDS) && mkdir -p $(FUZZ_SEEDS)
	for f in samples/*.json.gz $(wildcard ../shared/corpus/real/*/*.json.gz); do \
	  cp $$f $(FUZZ_SEEDS)/; gzip -dc $$f > $(FUZZ_SEEDS)/$$(basename $$f .gz); done
fuzz: fuzz-seeds
	ASAN_OPTIONS=detect_leaks=0 cargo +nightly fuzz run scan fuzz/corpus/scan $(FUZZ_SEEDS) -- \
	  -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 -max_len=262144
