//! The README's worked tuning example, run as written: from `--top` and `--suggest-filters` on
//! the samples to a filter file that loads, drops and lowers what it says, counted.

mod common;
use common::*;
use std::process::Command;

/// The commands of the block after the `tuning example` marker, in README.md or docs/.
fn example() -> Vec<String> {
    let mut files = vec![repo().join("README.md")];
    if let Ok(dir) = std::fs::read_dir(repo().join("docs")) {
        files.extend(dir.map(|e| e.unwrap().path()));
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let Some(at) = text.find("<!-- tuning example") else {
            continue;
        };
        let block = &text[at..];
        let body = &block[block.find("```sh\n").unwrap() + 6..];
        let body = &body[..body.find("```").unwrap()];
        return body
            .lines()
            .filter_map(|l| l.strip_prefix("$ "))
            .map(|l| l.split("  #").next().unwrap().trim().to_owned())
            .collect();
    }
    panic!("no block marked `tuning example` in README.md or docs/");
}

#[test]
fn the_readme_tuning_example_runs_as_written() {
    let dir = scratch("tuning-example");
    std::os::unix::fs::symlink(repo().join("samples"), dir.join("samples")).unwrap();
    let commands = example();
    assert!(commands.len() >= 5, "{commands:?}");
    let mut ran = Vec::new();
    for command in &commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words[0] {
            "mkdir" => std::fs::create_dir_all(dir.join(words[2])).unwrap(),
            // What a person does in the editor: say why and who.
            "$EDITOR" => {
                let file = dir.join(words[1]);
                let text = std::fs::read_to_string(&file).unwrap();
                let reviewed = text
                    .replace("reason: ''", "reason: 'reviewed'")
                    .replace("owner: ''", "owner: 'platform'");
                std::fs::write(&file, reviewed).unwrap();
            }
            "git" => {}
            "trailwatch" => {
                let out = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
                    .args(&words[1..])
                    .current_dir(&dir)
                    .env_remove("AWS_LAMBDA_RUNTIME_API")
                    .output()
                    .unwrap();
                let err = text(&out.stderr);
                assert_eq!(out.status.code(), Some(0), "{command}: {err}");
                ran.push((command.clone(), text(&out.stdout), err));
            }
            other => panic!("the example runs `{other}`, which this test does not know"),
        }
    }
    let (_, table, said) = &ran[0];
    assert!(table.starts_with("FINDINGS\tSEVERITY\t"), "{table}");
    assert!(said.contains("suggested filters for"), "{said}");
    let suggested = std::fs::read_to_string(dir.join("tuning/known-good.yml")).unwrap();
    assert!(suggested.contains("action: lower"), "{suggested}");
    let (_, check, _) = &ran[1];
    assert!(check.contains(" 0 refused"), "{check}");
    let (_, _, filtered) = &ran[2];
    assert!(filtered.contains("findings dropped"), "{filtered}");
    assert!(filtered.contains("findings lowered"), "{filtered}");
    let (_, _, unfiltered) = &ran[3];
    assert!(!unfiltered.contains("trailwatch: filters:"), "{unfiltered}");
    assert!(
        unfiltered.contains("--no-filters: 4 filters not applied"),
        "{unfiltered}"
    );
}
