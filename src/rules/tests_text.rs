//! A rule file's `tests:`, read only when something runs them.
//!
//! Most of a rule file is its inline tests (three quarters of the built-in files' text), and
//! scanning never reads them: the catalog that replay and the Lambda load cuts the top-level
//! `tests:` block out of the text and parses it on first use (`detectors test`, `detectors
//! check`). Both parts keep their line numbers, so an error still points at the file's line.
//!
//! Imports [`super::raw`] only.

use super::raw::InlineTest;
use serde::Deserialize;
use std::sync::OnceLock;

/// The inline tests of one rule: parsed, or their text until first use.
#[derive(Debug, Clone, Default)]
pub struct Tests {
    /// Where the tests are, until read.
    unread: Unread,
    parsed: OnceLock<Result<Vec<InlineTest>, String>>,
}

#[derive(Debug, Clone, Default)]
enum Unread {
    /// Nothing to read (the tests were given parsed).
    #[default]
    Nothing,
    /// A `tests:` block, with the lines before it left blank.
    Block(String),
    /// A built-in rule file whose block is cut out on first use.
    File(&'static str),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Block {
    #[serde(default)]
    tests: Vec<InlineTest>,
}

impl Tests {
    /// Tests already parsed.
    pub fn parsed(tests: Vec<InlineTest>) -> Tests {
        let parsed = OnceLock::new();
        let _ = parsed.set(Ok(tests));
        Tests {
            unread: Unread::Nothing,
            parsed,
        }
    }

    /// Tests to parse from `text` (a `tests:` block) on first use.
    pub fn later(text: String) -> Tests {
        Tests {
            unread: Unread::Block(text),
            parsed: OnceLock::new(),
        }
    }

    /// The tests of a built-in rule file, cut out of its text on first use.
    pub fn in_file(file: &'static str) -> Tests {
        Tests {
            unread: Unread::File(file),
            parsed: OnceLock::new(),
        }
    }

    /// The tests, or why their YAML does not read.
    pub fn get(&self) -> Result<&[InlineTest], &str> {
        let parsed = self.parsed.get_or_init(|| {
            let cut;
            let text = match &self.unread {
                Unread::Nothing => "",
                Unread::Block(text) => text,
                Unread::File(file) => {
                    cut = split(file).map(|(_, tests)| tests).unwrap_or_default();
                    &cut
                }
            };
            serde_norway::from_str::<Block>(text)
                .map(|b| b.tests)
                .map_err(|e| format!("its `tests:` do not read (the rule itself loads): {e}"))
        });
        parsed.as_deref().map_err(String::as_str)
    }
}

/// Splits a one-document rule file into the text without its top-level `tests:` block and
/// that block; `None` when there is no such block. The block runs from its `tests:` line to
/// the next line that starts another top-level key. Each part keeps the other's lines as blank
/// lines, so that line numbers stay the file's.
pub fn split(text: &str) -> Option<(String, String)> {
    let mut offset = 0;
    let (mut start, mut end) = (None, text.len());
    for line in text.split_inclusive('\n') {
        let key = line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '"');
        match start {
            None if line.starts_with("tests:") => start = Some(offset),
            Some(_) if key => {
                end = offset;
                break;
            }
            _ => {}
        }
        offset += line.len();
    }
    let start = start?;
    let blank = |part: &str| "\n".repeat(part.matches('\n').count());
    let rule = format!(
        "{}{}{}",
        &text[..start],
        blank(&text[start..end]),
        &text[end..]
    );
    let tests = format!("{}{}", blank(&text[..start]), &text[start..end]);
    Some((rule, tests))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_cut_out_with_its_lines_kept() {
        let text = "title: x\ntests:\n- name: a\n  expect: match\n  record: {a: 1}\nlevel: high\n";
        let (rule, tests) = split(text).unwrap();
        assert_eq!(rule, "title: x\n\n\n\n\nlevel: high\n");
        assert_eq!(
            tests,
            "\ntests:\n- name: a\n  expect: match\n  record: {a: 1}\n"
        );
        let t = Tests::later(tests);
        assert_eq!(t.get().unwrap()[0].name, "a");
        assert!(split("title: x\nlevel: high\n").is_none());
        let flow = split("title: x\ntests: []\n").unwrap();
        assert_eq!(flow.0, "title: x\n\n");
    }

    #[test]
    fn a_broken_block_says_which_line() {
        let (_, tests) =
            split("title: x\nlevel: high\ntests:\n  - name: a\n    expect: [\n").unwrap();
        let e = Tests::later(tests).get().unwrap_err().to_owned();
        assert!(e.contains("line 5"), "{e}");
    }
}
