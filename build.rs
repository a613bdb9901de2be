//! Embeds every file of `detectors/` in the binary.
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
    for n in &names {
        println!("cargo:rerun-if-changed=detectors/{n}");
        let _ = writeln!(
            out,
            "    ({n:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/detectors/\", {n:?}))),"
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_detectors.rs");
    std::fs::write(dest, out).unwrap();
}
