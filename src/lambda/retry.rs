//! Retries, one way for the whole front end: how an AWS SDK error is classed, how long to
//! wait ([`Backoff`]), batch calls whose entries fail one by one ([`send_all`]: SNS
//! `PublishBatch`, Security Hub `BatchImportFindings`, EventBridge `PutEvents`), and
//! optimistic-concurrency loops over the state table ([`Contention`]: reread, recount, write
//! conditioned on the versions read, with jittered backoff within the invocation's time).

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The first delay; each next one doubles.
    pub first: Duration,
}

impl Backoff {
    /// Four tries, from 200 ms.
    pub const DEFAULT: Backoff = Backoff {
        attempts: 4,
        first: Duration::from_millis(200),
    };

    /// The pause before attempt `n` (1-based for retries): doubling, capped at 5 s.
    pub fn delay(&self, n: u32) -> Duration {
        self.first
            .saturating_mul(1 << n.saturating_sub(1).min(5))
            .min(Duration::from_secs(5))
    }
}

/// Whether an AWS SDK error is worth retrying: throttling, 5xx, timeouts, connection faults.
/// (The SDK has already retried these with backoff before it returns them.)
pub fn is_transient<E>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            status >= 500 || status == 429 || status == 408
        }
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    }
}

/// A one-line description of an AWS SDK error: the service's code and message with the HTTP
/// status, or the cause chain of a timeout or connection fault.
pub fn describe<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            let code = e.code().unwrap_or("error");
            match e.message() {
                Some(m) => format!("{code}: {m} (HTTP {status})"),
                None => format!("{code} (HTTP {status})"),
            }
        }
        _ => DisplayErrorContext(e).to_string(),
    }
}

/// What to do with one entry of a batch call that the destination did not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Another try may succeed (throttling, an internal fault): sent again with backoff, and
    /// a failure of the output (retryable) when the tries run out.
    Retry,
    /// It cannot succeed, and the output fails (an access or validation fault to fix).
    Fail,
    /// The destination refused this one entry for good (SNS's sender faults): logged and
    /// counted as rejected; the others are delivered, and the object is not retried for it.
    Reject,
}

/// One entry of a call that the destination did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The entry's index in the call.
    pub index: usize,
    /// The destination's error code.
    pub code: String,
    /// What to do with it.
    pub verdict: Verdict,
}

/// A whole call that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailed {
    /// Another try may succeed.
    pub retryable: bool,
    /// What the service said.
    pub message: String,
}

impl CallFailed {
    /// A failed SDK call of `operation`, classified and described.
    pub fn from_sdk<E>(operation: &str, e: &SdkError<E, HttpResponse>) -> CallFailed
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        CallFailed {
            retryable: is_transient(e),
            message: format!("{operation}: {}", describe(e)),
        }
    }
}

/// What a batch output achieved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Entries accepted.
    pub sent: usize,
    /// Entries refused for good ([`Verdict::Reject`]).
    pub rejected: usize,
}

/// Entries that were not delivered: how many, whether a later try may succeed, the codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    /// Entries not delivered.
    pub failed: usize,
    /// A later try may succeed.
    pub retryable: bool,
    /// The codes and messages met, in order, once each.
    pub message: String,
}

/// Sends every batch through `send`, retrying failed calls and retryable refused entries up
/// to `backoff.attempts` times; `Err` when some entries were not delivered.
pub async fn send_all<T, F, Fut>(
    batches: Vec<Vec<T>>,
    backoff: Backoff,
    send: F,
) -> Result<Sent, Unsent>
where
    T: Clone,
    F: Fn(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<Refused>, CallFailed>>,
{
    let mut done = Sent::default();
    let (mut lost, mut codes) = (0, Vec::<String>::new());
    let mut retryable = true;
    for batch in batches {
        let mut pending = batch;
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt > 0 {
                tokio::time::sleep(backoff.delay(attempt)).await;
            }
            attempt += 1;
            let refused = match send(pending.clone()).await {
                Ok(r) => r,
                Err(e) if e.retryable && attempt < backoff.attempts => {
                    tracing::warn!(attempt, error = %e.message, "call failed, retrying");
                    continue;
                }
                Err(e) => {
                    lost += pending.len();
                    retryable &= e.retryable;
                    codes.push(e.message);
                    break;
                }
            };
            let mut again = Vec::new();
            for r in &refused {
                if !codes.contains(&r.code) {
                    codes.push(r.code.clone());
                }
                let Some(item) = pending.get(r.index) else {
                    continue;
                };
                match r.verdict {
                    Verdict::Retry if attempt < backoff.attempts => again.push(item.clone()),
                    Verdict::Reject => {
                        tracing::error!(code = %r.code, "entry refused for good");
                        done.rejected += 1;
                    }
                    Verdict::Retry | Verdict::Fail => {
                        lost += 1;
                        retryable &= r.verdict == Verdict::Retry;
                    }
                }
            }
            if !again.is_empty() {
                tracing::warn!(attempt, failed = again.len(), "entries refused, retrying");
            }
            done.sent += pending.len() - refused.len().min(pending.len());
            pending = again;
        }
    }
    if lost == 0 {
        Ok(done)
    } else {
        Err(Unsent {
            failed: lost,
            retryable,
            message: codes.join(", "),
        })
    }
}

/// The budget of an optimistic-concurrency loop: tries, jittered backoff between them, and
/// the time by which it gives up (the invocation's, less what publishing needs).
#[derive(Debug, Clone, Copy)]
pub struct Contention {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The ceiling of the first pause; each next one doubles, up to `cap`.
    pub first: Duration,
    /// The longest pause.
    pub cap: Duration,
    /// No try starts after this.
    pub until: Option<Instant>,
}

impl Contention {
    /// Six tries, pauses drawn up to 25 ms, 50 ms ... 800 ms, no deadline.
    pub const DEFAULT: Contention = Contention {
        attempts: 6,
        first: Duration::from_millis(25),
        cap: Duration::from_millis(800),
        until: None,
    };

    /// The budget with a deadline.
    pub fn until(self, until: Instant) -> Contention {
        Contention {
            until: Some(until),
            ..self
        }
    }

    /// The tries of one loop: `while tries.next().await { ... }`.
    pub fn tries(self) -> Tries {
        Tries {
            budget: self,
            done: 0,
        }
    }
}

/// The tries of one optimistic-concurrency loop.
#[derive(Debug)]
pub struct Tries {
    budget: Contention,
    done: u32,
}

impl Tries {
    /// Whether another try may start: the first at once, each next one after a pause drawn
    /// at random up to the doubling ceiling ("full jitter", so that invocations that lost the
    /// same race do not meet again); `false` when the tries or the time are spent.
    pub async fn next(&mut self) -> bool {
        if self.done >= self.budget.attempts {
            return false;
        }
        if self.done > 0 {
            let ceiling = self
                .budget
                .first
                .saturating_mul(1 << (self.done - 1).min(16))
                .min(self.budget.cap);
            let pause = ceiling.mul_f64(jitter());
            if self
                .budget
                .until
                .is_some_and(|t| Instant::now() + pause >= t)
            {
                return false;
            }
            tokio::time::sleep(pause).await;
        }
        self.done += 1;
        true
    }

    /// Tries made so far.
    pub fn made(&self) -> u32 {
        self.done
    }
}

/// A number in [0, 1), different at every call.
fn jitter() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
