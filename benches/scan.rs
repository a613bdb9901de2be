//! Criterion benches: the reader alone (split + parse, no detectors) and the whole scan with the
//! built-in detectors, over an in-memory gzip delivery made from the project's samples.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::io::{Read, Write};
use trailwatch::detectors::Settings;
use trailwatch::Catalog;
use trailwatch::Detector;

/// About 20 MB of JSON: the records of every sample delivery, repeated.
fn delivery() -> (Vec<u8>, u64) {
    let mut records: Vec<serde_json::Value> = Vec::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
    {
        let mut text = String::new();
        MultiGzDecoder::new(std::fs::File::open(p).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        records.extend(v["Records"].as_array().cloned().unwrap_or_default());
    }
    let one: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    let mut all = Vec::new();
    while all.len() * 1000 < 20_000_000 && !one.is_empty() {
        all.extend(one.iter().cloned());
    }
    let text = format!(r#"{{"Records":[{}]}}"#, all.join(","));
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    (gz.finish().unwrap(), text.len() as u64)
}

fn benches(c: &mut Criterion) {
    let (data, json_bytes) = delivery();
    let catalog = Catalog::embedded().unwrap();
    let mut g = c.benchmark_group("scan");
    g.sample_size(10).throughput(Throughput::Bytes(json_bytes));
    g.bench_function("reader", |b| {
        b.iter(|| {
            let mut none: Vec<Box<dyn Detector>> = Vec::new();
            trailwatch::scan(&data[..], &mut none, &mut |_| {}).records
        })
    });
    g.bench_function("all-detectors", |b| {
        b.iter(|| {
            let mut detectors = catalog.detectors(&Settings::default(), &[]);
            let mut n = 0u64;
            trailwatch::scan(&data[..], &mut detectors, &mut |_| n += 1);
            n
        })
    });
    g.finish();
}

criterion_group!(scan, benches);
criterion_main!(scan);
