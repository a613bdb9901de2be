//! Every relative link of README.md and docs/*.md leads somewhere: the file exists, and an
//! `#anchor` names a heading of the file it points to (GitHub's anchor rules).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The lines of a Markdown text outside fenced code blocks (fences left out).
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The anchors GitHub gives the headings of a Markdown text.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let title = heading.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        // A repeated heading gets `-1`, `-2`...
        let mut anchor = slug.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{slug}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// The targets of the inline links `[text](target)` outside code.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        // Inline code spans are not links.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].trim().to_owned());
            rest = &after[end..];
        }
    }
    out
}

fn documents() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

fn check(doc: &Path, target: &str) -> Result<(), String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return Ok(());
    }
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        doc.to_path_buf()
    } else {
        doc.parent().unwrap().join(path)
    };
    if !file.exists() {
        return Err(format!("{target}: no such file"));
    }
    if let Some(anchor) = anchor {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{target}: {e}"))?;
        if !anchors(&text).contains(anchor) {
            return Err(format!("{target}: no heading with that anchor"));
        }
    }
    Ok(())
}

#[test]
fn every_link_of_the_readme_and_the_docs_leads_somewhere() {
    let mut broken = Vec::new();
    let mut count = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for target in links(&text) {
            count += 1;
            if let Err(why) = check(&doc, &target) {
                let name = doc.strip_prefix(repo()).unwrap().display().to_string();
                broken.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(count > 0, "no links found");
}

#[test]
fn anchors_follow_githubs_rules() {
    let text = "# Replay\n## Deploying to AWS Lambda\n### (a) No trail yet: `new-trail`\n## Replay\n```\n# not a heading\n```\n";
    let a = anchors(text);
    for want in [
        "replay",
        "deploying-to-aws-lambda",
        "a-no-trail-yet-new-trail",
        "replay-1",
    ] {
        assert!(a.contains(want), "{want}: {a:?}");
    }
    assert!(!a.contains("not-a-heading"));
    assert_eq!(
        links("see [a](docs/x.md#y) and `[b](nope)`"),
        ["docs/x.md#y"]
    );
}

#[test]
fn the_readme_is_a_front_door() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = text.lines().count();
    assert!(
        lines <= 160,
        "README.md has {lines} lines: the rest belongs in docs/"
    );
}
