//! Replay's [`Memory`]: one correlation engine over an in-memory store and the dedup windows,
//! for all files of a run (read from and saved to `--state FILE` by `correlation.rs`).
//! Windows close by event time: correlation windows and dedup windows at the end of the run,
//! all of them, or with a state file those the latest `eventTime` seen has closed.

use super::correlation::{self, CorrelationOptions, ReplayEngine};
use crate::alert::Alert;
use crate::correlate::time::parse_event_time;
use crate::correlate::{Dedup, Observed, Store};
use crate::redact::Redacted;
use crate::stage::{Admitted, Delivery, Memory, Raised, When};
use std::convert::Infallible;

/// The state of one replay run. Its faults do not stop the run: they are kept in `faults`
/// for the caller to report (and count), and the alerts of the file are still written.
pub struct ReplayMemory {
    /// The correlation engine.
    pub engine: ReplayEngine,
    /// The dedup windows.
    pub dedup: Dedup,
    options: CorrelationOptions,
    /// Where the end of the run closed the dedup windows (`None`: all of them).
    watermark: Option<i64>,
    /// What failed, as the line to show (`FILE: why`, `--state why`).
    pub faults: Vec<String>,
}

impl ReplayMemory {
    /// The memory of a run with `engine` and `dedup` (as `correlation::open` gave them).
    /// Records dated more than a quarter of an hour past the machine's clock are counted and
    /// not correlated, as in the Lambda: a forged file of 2099 must not close every window
    /// (nor stay in a state file as its watermark).
    pub fn new(
        mut engine: ReplayEngine,
        dedup: Dedup,
        options: CorrelationOptions,
    ) -> ReplayMemory {
        let now = crate::alert::time::now_millis() / 1000;
        engine.clock = Some(now as i64);
        ReplayMemory {
            engine,
            dedup,
            options,
            watermark: None,
            faults: Vec::new(),
        }
    }

    /// Saves what is still open for the next run, when there is a state file.
    pub fn save(&mut self) {
        if let Err(e) = correlation::save(&self.engine, &self.dedup, &self.options) {
            self.faults.push(format!("--state {e}"));
        }
    }

    fn counted<T>(&mut self, work: impl FnOnce(&mut Self) -> T) -> (T, u64, u64) {
        let (late, evicted) = (self.engine.late, self.engine.store.evicted());
        let out = work(self);
        let late = self.engine.late - late;
        (out, late, self.engine.store.evicted() - evicted)
    }
}

impl Memory for ReplayMemory {
    type Error = Infallible;

    async fn observe(
        &mut self,
        d: &Delivery<'_>,
        observed: Observed,
    ) -> Result<Raised, Infallible> {
        let ahead = self.engine.ahead;
        let ((), late, evicted) = self.counted(|m| {
            if let Err(e) = m.engine.observe(d.name, observed) {
                m.faults.push(format!("{}: {e}", d.name));
            }
            // Every record moves the run's clock, not only the findings of base rules:
            // windows (and dedup windows) close when the logs have moved past them.
            if let Some(at) =
                parse_event_time(d.newest_event).filter(|&at| at <= m.engine.horizon())
            {
                m.engine.newest = m.engine.newest.max(at);
            }
        });
        Ok(Raised {
            alerts: Vec::new(),
            late,
            evicted,
            ahead: self.engine.ahead - ahead,
        })
    }

    async fn due(&mut self, _clock: Option<i64>) -> Result<Raised, Infallible> {
        let (decided, late, evicted) =
            self.counted(|m| correlation::decide(&mut m.engine, &m.options));
        let alerts = match decided {
            Ok((alerts, at)) => {
                self.watermark = at;
                alerts
            }
            Err(e) => {
                self.faults.push(format!("--state {e}"));
                Vec::new()
            }
        };
        Ok(Raised {
            alerts,
            late,
            evicted,
            ahead: 0,
        })
    }

    async fn admit(
        &mut self,
        alerts: Vec<Redacted<Alert>>,
        at: When,
    ) -> Result<Admitted, Infallible> {
        let held = self.dedup.held;
        let mut out = Vec::with_capacity(alerts.len());
        if self.dedup.is_empty() {
            out = alerts;
        } else {
            for a in alerts {
                out.extend(self.dedup.admit(a));
            }
        }
        if let When::Due(_) = at {
            out.extend(match self.watermark {
                Some(at) => self.dedup.close(at),
                None => self.dedup.flush(),
            });
        }
        Ok(Admitted {
            alerts: out,
            held: self.dedup.held - held,
        })
    }
}
