//! Embeds every file of `detectors/` in the binary, and beside each one-document rule file
//! its rule as JSON without its `tests:` (YAML is slow to read; the catalog that scans reads
//! the JSON, and the YAML only when its tests are asked for).
//!
//! Paths stay relative to the package (`rerun-if-changed=detectors`, `CARGO_MANIFEST_DIR` in the
//! generated `include_str!`), so a target directory shared by two checkouts never embeds the
//! other checkout's files.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it was compiled: a build script compiled for another
    // checkout sharing the target directory must not look in that checkout's folder.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("detectors");
    println!("cargo:rerun-if-changed=detectors");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    names.retain(|n| n.ends_with(".yml") || n.ends_with(".yaml"));
    names.sort();
    let mut out = String::from(
        "/// (file name, contents) of every file in `detectors/`.\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    let mut json = String::from(
        "/// (file name, the rule as JSON without `tests`) of every one-document rule file in \
         `detectors/`.\npub static EMBEDDED_JSON: &[(&str, &str)] = &[\n",
    );
    for n in &names {
        println!("cargo:rerun-if-changed=detectors/{n}");
        let _ = writeln!(
            out,
            "    ({n:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/detectors/\", {n:?}))),"
        );
        let text = std::fs::read_to_string(dir.join(n)).expect("a detector file reads");
        if let Some(rule) = rule_json(&text) {
            let _ = writeln!(json, "    ({n:?}, {rule:?}),");
        }
    }
    out.push_str("];\n");
    json.push_str("];\n");
    out.push_str(&json);
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_detectors.rs");
    std::fs::write(dest, out).unwrap();
}

/// A one-document rule file's rule as JSON, without `tests`; `None` for anything else (several
/// documents, a filter, YAML that does not read): the catalog reads those from the YAML.
fn rule_json(text: &str) -> Option<String> {
    let mut docs = serde_norway::Deserializer::from_str(text);
    let doc = docs.next()?;
    let mut value = <serde_json::Value as serde::Deserialize>::deserialize(doc).ok()?;
    if docs.next().is_some() {
        return None;
    }
    let map = value.as_object_mut()?;
    if map.contains_key("filter") || !map.contains_key("title") {
        return None;
    }
    map.remove("tests");
    serde_json::to_string(&value).ok()
}
