//! Any bytes as a delivery: read, decompressed, split, parsed, every built-in detector run,
//! findings merged and masked. Nothing may panic, hang or allocate without bound (libFuzzer's
//! `-timeout` and `-malloc_limit_mb` in `make fuzz` say so), and what is reported must add up
//! (`check.rs`, which tests/fuzz_corpus.rs replays on stable).
#![no_main]

#[path = "../check.rs"]
mod check;

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use trailwatch::Pipeline;

static PIPELINE: LazyLock<Pipeline> = LazyLock::new(check::pipeline);

fuzz_target!(|data: &[u8]| {
    check::check(&PIPELINE, "fuzz.json", data);
});
