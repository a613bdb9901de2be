//! The distinct calls of a merged alert, with counts and failed attempts marked:
//! `ConsoleLogin x9, CreateAccessKey x2, StopLogging (failed)`.

use std::fmt::Write;

/// Distinct (call, failed) pairs kept per alert; the rest are counted together.
const MAX_CALLS: usize = 20;

/// One distinct call of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The event name.
    pub name: String,
    /// The attempts failed (`errorCode` present).
    pub failed: bool,
    /// How many times.
    pub count: u64,
}

/// The calls of one alert, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    calls: Vec<Call>,
    /// Events of calls beyond [`MAX_CALLS`].
    more: u64,
}

impl Calls {
    /// Counts one more event.
    pub fn add(&mut self, name: &str, failed: bool) {
        if let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.failed == failed && c.name == name)
        {
            c.count += 1;
        } else if self.calls.len() < MAX_CALLS {
            self.calls.push(Call {
                name: name.to_owned(),
                failed,
                count: 1,
            });
        } else {
            self.more += 1;
        }
    }

    /// The distinct calls.
    pub fn iter(&self) -> impl Iterator<Item = &Call> {
        self.calls.iter()
    }

    /// Rewrites every call name (masking).
    pub fn rename(&mut self, f: &dyn Fn(&str) -> String) {
        for c in &mut self.calls {
            c.name = f(&c.name);
        }
    }

    /// Whether the calls say more than one event name would: several calls, or a failure.
    pub fn worth_naming(&self) -> bool {
        self.calls.len() > 1 || self.more > 0 || self.calls.iter().any(|c| c.failed)
    }

    /// `ConsoleLogin x9, CreateAccessKey x2, StopLogging (failed)`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for c in &self.calls {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(if c.name.is_empty() { "?" } else { &c.name });
            match (c.failed, c.count) {
                (false, 1) => {}
                (false, n) => {
                    let _ = write!(out, " x{n}");
                }
                (true, 1) => out.push_str(" (failed)"),
                (true, n) => {
                    let _ = write!(out, " (failed x{n})");
                }
            }
        }
        if self.more > 0 {
            let _ = write!(out, " and {} more", self.more);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_calls_with_counts_and_failures() {
        let mut c = Calls::default();
        for (name, failed) in [
            ("ConsoleLogin", false),
            ("CreateAccessKey", false),
            ("ConsoleLogin", false),
            ("StopLogging", true),
            ("CreateAccessKey", false),
            ("StopLogging", false),
        ] {
            c.add(name, failed);
        }
        assert_eq!(
            c.describe(),
            "ConsoleLogin x2, CreateAccessKey x2, StopLogging (failed), StopLogging"
        );
        assert!(c.worth_naming());
        let mut one = Calls::default();
        one.add("DisableKey", false);
        one.add("DisableKey", false);
        assert!(!one.worth_naming());
        let mut many = Calls::default();
        for i in 0..25 {
            many.add(&format!("Call{i}"), false);
        }
        assert!(many.describe().ends_with("Call19 and 5 more"));
    }
}
