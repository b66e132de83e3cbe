//! Runs independent requests with a bounded number in flight, answers in request order.
//!
//! A failing request stops the others from starting (those in flight finish or time out), so a
//! broken server costs at most one timeout per worker, never a silent wrong score.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sparkbench_protocol::CallCtx;

use crate::error::HttpError;

/// Apply `job` to every item with at most `concurrency` in flight. Answers keep item order.
/// `tokens_of` says how many tokens an answer represents, for the heartbeat.
pub fn run_ordered<I, O>(
    items: &[I],
    concurrency: usize,
    cx: &CallCtx<'_>,
    job: impl Fn(&I) -> Result<O, HttpError> + Sync,
    tokens_of: impl Fn(&O) -> u64 + Sync,
) -> Result<Vec<O>, HttpError>
where
    I: Sync,
    O: Send,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<O>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let failure: Mutex<Option<HttpError>> = Mutex::new(None);
    let workers = concurrency.max(1).min(items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    if cx.cancel.is_set() || lock(&failure).is_some() {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { return };
                    match job(item) {
                        Ok(out) => {
                            (cx.heartbeat)(tokens_of(&out));
                            lock(&results)[i] = Some(out);
                        }
                        Err(e) => {
                            let mut f = lock(&failure);
                            if f.is_none() {
                                *f = Some(e);
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    if cx.cancel.is_set() {
        return Err(HttpError::Cancelled);
    }
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.ok_or_else(|| HttpError::BadResponse {
                url: String::new(),
                what: format!("request {i} got no answer"),
            })
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparkbench_protocol::Cancel;

    #[test]
    fn keeps_order_and_counts_tokens() {
        let cancel = Cancel::new();
        let seen = AtomicUsize::new(0);
        let beat = |t: u64| {
            seen.fetch_add(t as usize, Ordering::SeqCst);
        };
        let cx = CallCtx::new(&cancel, &beat);
        let items: Vec<u64> = (0..20).collect();
        let out = run_ordered(&items, 4, &cx, |x| Ok(x * 2), |_| 1).expect("run");
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert_eq!(seen.load(Ordering::SeqCst), 20);
    }

    #[test]
    fn first_failure_is_reported() {
        let cancel = Cancel::new();
        let beat = |_t: u64| {};
        let cx = CallCtx::new(&cancel, &beat);
        let items: Vec<u64> = (0..10).collect();
        let err = run_ordered(
            &items,
            2,
            &cx,
            |x| {
                if *x == 3 {
                    Err(HttpError::Config("boom".into()))
                } else {
                    Ok(*x)
                }
            },
            |_| 0,
        )
        .expect_err("must fail");
        assert!(err.to_string().contains("boom"));
    }

    #[test]
    fn cancel_stops_work() {
        let cancel = Cancel::new();
        cancel.set();
        let beat = |_t: u64| {};
        let cx = CallCtx::new(&cancel, &beat);
        let items: Vec<u64> = (0..10).collect();
        let err = run_ordered(&items, 2, &cx, |x| Ok(*x), |_| 0).expect_err("must fail");
        assert!(matches!(err, HttpError::Cancelled));
    }
}
