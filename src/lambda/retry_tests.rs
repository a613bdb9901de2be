use super::*;
use std::sync::Mutex;

const FAST: Backoff = Backoff {
    attempts: 3,
    first: Duration::ZERO,
};

#[tokio::test]
async fn retries_refused_entries_then_gives_up_on_the_rest() {
    let calls = Mutex::new(Vec::new());
    let result = send_all(vec![vec![1, 2, 3, 5], vec![4]], FAST, |batch: Vec<i32>| {
        calls.lock().unwrap().push(batch.clone());
        async move {
            // 2 is throttled once; 3 is always malformed; 5 is refused for good.
            let tries = batch.len();
            Ok(batch
                .iter()
                .enumerate()
                .filter(|(_, v)| **v == 3 || **v == 5 || (**v == 2 && tries == 4))
                .map(|(index, v)| Refused {
                    index,
                    code: match v {
                        3 => "Invalid",
                        5 => "InvalidParameter",
                        _ => "Throttled",
                    }
                    .into(),
                    verdict: match v {
                        3 => Verdict::Fail,
                        5 => Verdict::Reject,
                        _ => Verdict::Retry,
                    },
                })
                .collect())
        }
    })
    .await;
    let e = result.unwrap_err();
    assert_eq!((e.failed, e.retryable), (1, false));
    assert_eq!(e.message, "Throttled, Invalid, InvalidParameter");
    assert_eq!(
        *calls.lock().unwrap(),
        vec![vec![1, 2, 3, 5], vec![2], vec![4]]
    );
    let rejected_only = send_all(vec![vec![5, 1]], FAST, |batch: Vec<i32>| async move {
        Ok(batch
            .iter()
            .position(|v| *v == 5)
            .map(|index| Refused {
                index,
                code: "InvalidParameter".into(),
                verdict: Verdict::Reject,
            })
            .into_iter()
            .collect())
    })
    .await;
    assert_eq!(
        rejected_only,
        Ok(Sent {
            sent: 1,
            rejected: 1
        })
    );
}

#[tokio::test]
async fn a_failing_call_is_retried_then_reported() {
    let result = send_all(vec![vec![1, 2]], FAST, |_b: Vec<i32>| async {
        Err::<Vec<Refused>, _>(CallFailed {
            retryable: true,
            message: "ServiceUnavailable".into(),
        })
    })
    .await;
    let e = result.unwrap_err();
    assert_eq!((e.failed, e.retryable), (2, true));
}

#[tokio::test]
async fn contention_tries_are_bounded_by_count_and_by_time() {
    let quick = Contention {
        first: Duration::from_millis(1),
        cap: Duration::from_millis(2),
        ..Contention::DEFAULT
    };
    let mut tries = quick.tries();
    let mut n = 0;
    while tries.next().await {
        n += 1;
    }
    assert_eq!((n, tries.made()), (6, 6));
    // A deadline already passed: the first try still runs (it needs no pause), no other.
    let late = Contention {
        first: Duration::from_secs(1),
        ..quick
    }
    .until(Instant::now());
    let mut tries = late.tries();
    assert!(tries.next().await);
    assert!(!tries.next().await);
    let pauses: Vec<f64> = (0..64).map(|_| jitter()).collect();
    assert!(pauses.iter().all(|p| (0.0..1.0).contains(p)));
    assert!(pauses.windows(2).any(|w| w[0] != w[1]), "drawn, not fixed");
}
