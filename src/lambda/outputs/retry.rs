//! Sending batches whose entries can fail one by one (`PutEvents`, `BatchImportFindings`):
//! failed entries that may succeed later are sent again with backoff, the others counted.

use super::OutputError;
use crate::lambda::publish::Backoff;
use crate::lambda::s3::{describe, is_transient};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use std::future::Future;

/// One entry of a call that the destination did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The entry's index in the call.
    pub index: usize,
    /// The destination's error code.
    pub code: String,
    /// Another try may succeed (throttling, an internal fault).
    pub retryable: bool,
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
    /// A failed SDK call of `operation`, classified and described as for S3.
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

/// Sends every batch through `send`, retrying failed calls and retryable refused entries up
/// to `backoff.attempts` times; returns how many entries were accepted.
pub async fn send_all<T, F, Fut>(
    output: &'static str,
    batches: Vec<Vec<T>>,
    backoff: Backoff,
    send: F,
) -> Result<usize, OutputError>
where
    T: Clone,
    F: Fn(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<Refused>, CallFailed>>,
{
    let (mut sent, mut lost, mut codes) = (0, 0, Vec::<String>::new());
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
                Err(e) if e.retryable && attempt < backoff.attempts => continue,
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
                match pending.get(r.index) {
                    Some(item) if r.retryable && attempt < backoff.attempts => {
                        again.push(item.clone())
                    }
                    Some(_) => {
                        lost += 1;
                        retryable &= r.retryable;
                    }
                    None => {}
                }
            }
            sent += pending.len() - refused.len().min(pending.len());
            pending = again;
        }
    }
    if lost == 0 {
        Ok(sent)
    } else {
        Err(OutputError {
            output,
            failed: lost,
            retryable,
            message: codes.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    const FAST: Backoff = Backoff {
        attempts: 3,
        first: Duration::ZERO,
    };

    #[tokio::test]
    async fn retries_refused_entries_then_gives_up_on_the_rest() {
        let calls = Mutex::new(Vec::new());
        let result = send_all(
            "x",
            vec![vec![1, 2, 3], vec![4]],
            FAST,
            |batch: Vec<i32>| {
                calls.lock().unwrap().push(batch.clone());
                async move {
                    // 2 is throttled once; 3 is always malformed.
                    let tries = batch.len();
                    Ok(batch
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v == 3 || (**v == 2 && tries == 3))
                        .map(|(index, v)| Refused {
                            index,
                            code: if *v == 3 { "Invalid" } else { "Throttled" }.into(),
                            retryable: *v == 2,
                        })
                        .collect())
                }
            },
        )
        .await;
        let e = result.unwrap_err();
        assert_eq!((e.failed, e.retryable), (1, false));
        assert_eq!(e.message, "Throttled, Invalid");
        assert_eq!(
            *calls.lock().unwrap(),
            vec![vec![1, 2, 3], vec![2], vec![4]]
        );
    }

    #[tokio::test]
    async fn a_failing_call_is_retried_then_reported() {
        let result = send_all("x", vec![vec![1, 2]], FAST, |_b: Vec<i32>| async {
            Err::<Vec<Refused>, _>(CallFailed {
                retryable: true,
                message: "ServiceUnavailable".into(),
            })
        })
        .await;
        let e = result.unwrap_err();
        assert_eq!((e.failed, e.retryable), (2, true));
    }
}
