//! What the stage keeps across deliveries, behind the front end: the [`Memory`] trait.
//! Replay keeps it in memory for a run (and a `--state` file); the Lambda in its DynamoDB
//! table (or nowhere, without `STATE_TABLE` and for backfills); [`NoMemory`] keeps nothing
//! (the Lambda's operational alerts go through the stage with it).

use crate::alert::Alert;
use crate::correlate::Observed;
use crate::redact::Redacted;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// One delivery, as the memory sees it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The file, or `s3://bucket/key`.
    pub name: &'a str,
    /// The object's bucket and key (a trail's delivery is recorded by them), if it is one.
    pub object: Option<(&'a str, &'a str)>,
    /// The latest `eventTime` of its records (as written; empty when none).
    pub newest_event: &'a str,
    /// The clock, seconds since the epoch (the Lambda); `None`: replay, whose windows close by
    /// event time.
    pub clock: Option<i64>,
}

/// When alerts are admitted into the dedup windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// With a delivery, at the clock (the Lambda: windows due then close) or by event time
    /// (replay: `None`, windows close at the end of the run).
    Delivery(Option<i64>),
    /// The windows due at the clock (the scheduled check) or at the end of a replay (`None`).
    Due(Option<i64>),
}

/// What the memory raised: correlation alerts and alerts about the trails.
#[derive(Debug, Default)]
pub struct Raised {
    /// The alerts, not yet masked.
    pub alerts: Vec<Alert>,
    /// Base-rule matches too late for their correlation windows.
    pub late: u64,
    /// Correlation groups evicted to respect the cap.
    pub evicted: u64,
    /// Base-rule matches dated too far ahead of the clock, not counted.
    pub ahead: u64,
}

/// What the dedup windows let through.
#[derive(Debug, Default)]
pub struct Admitted {
    /// The alerts published, with the summaries of the windows that closed.
    pub alerts: Vec<Redacted<Alert>>,
    /// Alerts held back.
    pub held: u64,
}

/// State across deliveries: correlation windows, dedup windows, the trails' deliveries.
pub trait Memory {
    /// Why the state could not be read or written (the delivery is then to be tried again).
    type Error;

    /// Counts a delivery's observations (and records its trail's delivery): the alerts that
    /// raises.
    fn observe(
        &mut self,
        delivery: &Delivery<'_>,
        observed: Observed,
    ) -> impl Future<Output = Result<Raised, Self::Error>> + Send;

    /// The windows due at `clock` (`None`: the end of a replay): their alerts, and those
    /// about silent trails.
    fn due(
        &mut self,
        clock: Option<i64>,
    ) -> impl Future<Output = Result<Raised, Self::Error>> + Send;

    /// What of `alerts` the dedup windows let through, with the summaries of the windows that
    /// closed by `at`.
    fn admit(
        &mut self,
        alerts: Vec<Redacted<Alert>>,
        at: When,
    ) -> impl Future<Output = Result<Admitted, Self::Error>> + Send;
}

/// No state across deliveries: nothing correlated, nothing held back.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMemory;

impl Memory for NoMemory {
    type Error = std::convert::Infallible;

    async fn observe(&mut self, _: &Delivery<'_>, _: Observed) -> Result<Raised, Self::Error> {
        Ok(Raised::default())
    }

    async fn due(&mut self, _: Option<i64>) -> Result<Raised, Self::Error> {
        Ok(Raised::default())
    }

    async fn admit(
        &mut self,
        alerts: Vec<Redacted<Alert>>,
        _: When,
    ) -> Result<Admitted, Self::Error> {
        Ok(Admitted { alerts, held: 0 })
    }
}

/// Runs `future` to its end on this thread. For memories that never wait (replay's): a
/// future that is pending is polled again after a yield, so one that waits on I/O would spin.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
