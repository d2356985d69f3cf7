//! An ordered parallel runner: work items computed on every core, results
//! consumed strictly in item order.
//!
//! The profile's floating-point merges (moments) are not associative to the
//! last bit, so partial states must be folded in a fixed order for the output
//! to be byte-identical whatever the thread count. Workers take items in
//! order and may run at most `window` items ahead of the consumer, which
//! bounds the memory held by finished-but-unmerged results. After a
//! failure, the items before the failed one still run, so the error
//! reported is the first failing item's, whatever the threads' timing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::error::{Error, Result};

struct Shared<T> {
    /// Finished items; None where the item failed or was skipped after a failure.
    done: BTreeMap<usize, Option<T>>,
    consumed: usize,
    /// The first error, by item index.
    error: Option<(usize, Error)>,
}

fn poisoned() -> Error {
    Error::Internal("a worker thread panicked".into())
}

/// Run `work(i)` for i in 0..n on `threads` threads and feed the results to
/// `sink` in order of i. Stops at the first error (from either side).
pub fn run_ordered<T: Send>(
    n: usize,
    threads: usize,
    window: usize,
    work: impl Fn(usize) -> Result<T> + Sync,
    mut sink: impl FnMut(usize, T) -> Result<()>,
) -> Result<()> {
    let threads = threads.clamp(1, n.max(1));
    let window = window.max(threads);
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let state = Mutex::new(Shared {
        done: BTreeMap::new(),
        consumed: 0,
        error: None,
    });
    let cv = Condvar::new();
    std::thread::scope(|s| -> Result<()> {
        // As many workers as the system gives (each one takes items until
        // none are left); none at all is out of memory, not a panic.
        let mut started = 0;
        for _ in 0..threads {
            let spawned = std::thread::Builder::new().spawn_scoped(s, || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                {
                    let Ok(mut g) = state.lock() else { return };
                    while i >= g.consumed + window && !abort.load(Ordering::Relaxed) {
                        g = match cv.wait(g) {
                            Ok(g) => g,
                            Err(_) => return,
                        };
                    }
                }
                // After a failure, only the items before the failed one
                // still run (one of them may fail first, and the error
                // reported must be the first item's whatever the timing);
                // after the consumer's, none.
                let skip = abort.load(Ordering::Relaxed) && {
                    let Ok(g) = state.lock() else { return };
                    g.error.as_ref().is_none_or(|(j, _)| *j < i)
                };
                // A panic in `work` must not kill the worker: the consumer
                // would wait for its item forever.
                let r = if skip {
                    Err(None)
                } else {
                    crate::error::catch_panic(|| work(i))
                        .unwrap_or_else(|m| {
                            Err(Error::Internal(format!("a worker thread panicked: {m}")))
                        })
                        .map_err(Some)
                };
                let Ok(mut g) = state.lock() else { return };
                match r {
                    Ok(v) => {
                        g.done.insert(i, Some(v));
                    }
                    Err(e) => {
                        g.done.insert(i, None);
                        if let Some(e) = e {
                            abort.store(true, Ordering::Relaxed);
                            if g.error.as_ref().is_none_or(|(j, _)| i < *j) {
                                g.error = Some((i, e));
                            }
                        }
                    }
                }
                drop(g);
                cv.notify_all();
            });
            match spawned {
                Ok(_) => started += 1,
                Err(_) if started > 0 => break,
                Err(e) => {
                    return Err(Error::NoThread(format!(
                        "{e}; {}",
                        crate::watchdog::hints().memory
                    )))
                }
            }
        }
        let result = (|| -> Result<()> {
            for i in 0..n {
                let item = {
                    let mut g = state.lock().map_err(|_| poisoned())?;
                    let item = loop {
                        if let Some(r) = g.done.remove(&i) {
                            break r;
                        }
                        g = cv.wait(g).map_err(|_| poisoned())?;
                    };
                    g.consumed = i + 1;
                    match item {
                        Some(v) => v,
                        None => {
                            return Err(g.error.take().map(|(_, e)| e).unwrap_or_else(|| {
                                Error::Internal("a work item was skipped".into())
                            }))
                        }
                    }
                };
                cv.notify_all();
                sink(i, item)?;
            }
            Ok(())
        })();
        if result.is_err() {
            abort.store(true, Ordering::Relaxed);
            cv.notify_all();
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_order() {
        let mut seen = Vec::new();
        run_ordered(
            100,
            4,
            3,
            |i| Ok(i * 2),
            |i, v| {
                assert_eq!(v, i * 2);
                seen.push(i);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn first_error_stops_the_run() {
        let r = run_ordered(
            50,
            3,
            4,
            |i| {
                if i == 7 {
                    Err(Error::Internal("boom".into()))
                } else {
                    Ok(i)
                }
            },
            |_, _| Ok(()),
        );
        assert!(matches!(r, Err(Error::Internal(m)) if m == "boom"));
    }

    #[test]
    fn the_first_failing_item_is_reported_whatever_fails_first() {
        // Three threads, a window of three: items 3 and 4 wait for item 0
        // (slow), then race. Item 4 fails at once; item 3 fails too, and
        // is the one reported, whichever thread wakes first (a worker that
        // saw item 4's failure used to skip item 3, and item 4 was
        // reported: which error a corrupt file gave depended on timing).
        for round in 0..60 {
            let r = run_ordered(
                8,
                3,
                3,
                |i| match i {
                    0 => {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        Ok(i)
                    }
                    3 | 4 => Err(Error::Internal(format!("item {i}"))),
                    _ => Ok(i),
                },
                |_, _| Ok(()),
            );
            assert!(
                matches!(&r, Err(Error::Internal(m)) if m == "item 3"),
                "round {round}: {r:?}"
            );
        }
    }

    #[test]
    fn a_panicking_item_fails_the_run_instead_of_hanging() {
        for threads in [1, 2, 4] {
            let r = run_ordered(
                40,
                threads,
                2,
                |i| {
                    if i == 5 {
                        panic!("decoder exploded");
                    }
                    Ok(i)
                },
                |_, _| Ok(()),
            );
            match r {
                Err(Error::Internal(m)) => assert!(m.contains("decoder exploded"), "{m}"),
                other => panic!("expected the panic as an error, got {other:?}"),
            }
        }
    }
}
