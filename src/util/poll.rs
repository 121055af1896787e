//! Polling until a deadline: the one "ask, and ask again every so often until it holds or time
//! is up" loop behind every wait in drctl.
//!
//! A probe answers `ControlFlow::Break(answer)` when what it waits for holds (or when waiting is
//! pointless, with an error as the answer) and `ControlFlow::Continue(state)` when not yet, with
//! what it saw: the caller words its timeout message from the last state.

use std::future::Future;
use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;

/// Runs `probe`, then again every `every`, until it breaks: `Ok(answer)`. Once a probe that
/// continues ends at or after `deadline`, `Err(its state)`. The probe always runs at least once,
/// and once more after the sleep that crosses the deadline: what holds by the deadline is seen.
pub(crate) async fn until<T, S, P: Future<Output = ControlFlow<T, S>>>(
    deadline: Instant,
    every: Duration,
    probe: impl FnMut() -> P,
) -> Result<T, S> {
    pace(Deadline::new(deadline, every, None), probe).await
}

/// [`within`], asking again soon at first: at the next millisecond tick, then after a quarter
/// of the time waited so far, up to `every`. For what usually holds within milliseconds, a
/// procedure's verification above all: a change that lands at 3 ms is seen by 4 ms, not at the
/// interval, and a long wait still asks only every `every`.
pub(crate) async fn eager<T, S, P: Future<Output = ControlFlow<T, S>>>(
    timeout: Duration,
    every: Duration,
    probe: impl FnMut() -> P,
) -> Result<T, S> {
    pace(Deadline::eager(timeout, every), probe).await
}

async fn pace<T, S, P: Future<Output = ControlFlow<T, S>>>(
    wait: Deadline,
    mut probe: impl FnMut() -> P,
) -> Result<T, S> {
    loop {
        match probe().await {
            ControlFlow::Break(answer) => return Ok(answer),
            ControlFlow::Continue(last) if !wait.again().await => return Err(last),
            ControlFlow::Continue(_) => {}
        }
    }
}

/// [`until`] with the deadline `timeout` from now.
pub(crate) async fn within<T, S, P: Future<Output = ControlFlow<T, S>>>(
    timeout: Duration,
    every: Duration,
    probe: impl FnMut() -> P,
) -> Result<T, S> {
    until(Instant::now() + timeout, every, probe).await
}

/// [`within`] for code that blocks its thread (the labs' process handling): the same loop,
/// sleeping with `std::thread::sleep`.
pub(crate) fn within_blocking<T, S>(
    timeout: Duration,
    every: Duration,
    mut probe: impl FnMut() -> ControlFlow<T, S>,
) -> Result<T, S> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match probe() {
            ControlFlow::Break(answer) => return Ok(answer),
            ControlFlow::Continue(last) if std::time::Instant::now() >= deadline => {
                return Err(last)
            }
            ControlFlow::Continue(_) => std::thread::sleep(every),
        }
    }
}

/// `Break(())` when `it` holds, else `Continue(())`: for a probe that has nothing to report.
pub(crate) fn holds(it: bool) -> ControlFlow<()> {
    if it {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    }
}

/// An eager wait's shortest sleep. Tokio's timer ends a sleep at the first whole-millisecond
/// tick at or after its deadline: a 1 ms sleep took 1–2 ms, this one ends at the next tick
/// (0.25–1.25 ms), so a change that lands right after a probe is seen about 0.75 ms sooner.
const EAGER_FIRST: Duration = Duration::from_micros(250);

/// The same wait for a loop written out by hand, because its probe changes the caller's state
/// (a writer that moves to the next node): `loop { probe; if !wait.again().await { time up } }`.
pub(crate) struct Deadline {
    at: Instant,
    every: Duration,
    /// Eager: when the wait began (see [`eager`]).
    eager_since: Option<Instant>,
}

impl Deadline {
    fn new(at: Instant, every: Duration, eager_since: Option<Instant>) -> Self {
        Deadline {
            at,
            every,
            eager_since,
        }
    }

    /// Up to `timeout` from now, asking every `every`.
    pub(crate) fn within(timeout: Duration, every: Duration) -> Self {
        Deadline::new(Instant::now() + timeout, every, None)
    }

    /// Up to `timeout` from now, asking every millisecond at first (see [`eager`]).
    pub(crate) fn eager(timeout: Duration, every: Duration) -> Self {
        let now = Instant::now();
        Deadline::new(now + timeout, every, Some(now))
    }

    /// After a probe that did not hold: `false` if the deadline has passed, else sleeps one
    /// interval and `true` (probe again).
    pub(crate) async fn again(&self) -> bool {
        if Instant::now() >= self.at {
            return false;
        }
        let sleep = match self.eager_since {
            Some(t0) => (t0.elapsed() / 4).clamp(EAGER_FIRST, self.every.max(EAGER_FIRST)),
            None => self.every,
        };
        tokio::time::sleep(sleep).await;
        true
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn ready_at_once_returns_without_sleeping() {
        let t0 = Instant::now();
        let probes = Cell::new(0);
        let r: Result<&str, ()> = within(100 * MS, 10 * MS, || async {
            probes.set(probes.get() + 1);
            ControlFlow::Break("up")
        })
        .await;
        assert_eq!(r, Ok("up"));
        assert_eq!(probes.get(), 1);
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn ready_later_returns_at_that_probe() {
        let t0 = Instant::now();
        let probes = Cell::new(0);
        let r: Result<u32, u32> = within(100 * MS, 10 * MS, || async {
            probes.set(probes.get() + 1);
            if probes.get() == 4 {
                ControlFlow::Break(probes.get())
            } else {
                ControlFlow::Continue(probes.get())
            }
        })
        .await;
        assert_eq!(r, Ok(4));
        assert_eq!(t0.elapsed(), 30 * MS, "three sleeps of the interval");
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_reports_the_last_state_after_a_probe_at_the_deadline() {
        let t0 = Instant::now();
        let probes = Cell::new(0);
        let r: Result<(), String> = within(100 * MS, 30 * MS, || async {
            probes.set(probes.get() + 1);
            ControlFlow::Continue(format!("probe {} at {:?}", probes.get(), t0.elapsed()))
        })
        .await;
        // Probes at 0, 30, 60, 90 and 120 ms: the one after the sleep that crossed 100 ms is the
        // last, and its state is the answer.
        assert_eq!(r, Err("probe 5 at 120ms".to_string()));
        assert_eq!(t0.elapsed(), 120 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_past_deadline_still_probes_once() {
        let probes = Cell::new(0);
        let r = until(Instant::now(), 10 * MS, || async {
            probes.set(probes.get() + 1);
            holds(false)
        })
        .await;
        assert_eq!(r, Err(()));
        assert_eq!(probes.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_break_with_an_error_ends_the_wait_at_once() {
        let t0 = Instant::now();
        let r: Result<Result<(), &str>, ()> = within(100 * MS, 10 * MS, || async {
            ControlFlow::Break(Err("refused"))
        })
        .await;
        assert_eq!(r, Ok(Err("refused")));
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }

    #[test]
    fn blocking_answers_like_the_async_loop() {
        let mut probes = 0;
        let r: Result<(), u32> = within_blocking(Duration::ZERO, MS, || {
            probes += 1;
            ControlFlow::Continue(probes)
        });
        assert_eq!(
            r,
            Err(1),
            "a past deadline still probes once, and only once"
        );
        let started = std::time::Instant::now();
        let mut probes = 0;
        let r: Result<u32, ()> = within_blocking(Duration::from_secs(5), MS, || {
            probes += 1;
            if probes == 3 {
                ControlFlow::Break(probes)
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(r, Ok(3));
        assert!(started.elapsed() >= 2 * MS, "slept between probes");
        let started = std::time::Instant::now();
        let r = within_blocking(20 * MS, 5 * MS, || holds(false));
        assert_eq!(r, Err(()));
        assert!(started.elapsed() >= 20 * MS, "waited out the deadline");
    }

    #[tokio::test(start_paused = true)]
    async fn eager_asks_every_ms_then_after_a_quarter_of_the_wait_up_to_the_interval() {
        let t0 = Instant::now();
        let seen = std::sync::Mutex::new(Vec::new());
        let r: Result<(), ()> = eager(30 * MS, 10 * MS, || async {
            seen.lock().unwrap().push(t0.elapsed());
            holds(false)
        })
        .await;
        assert_eq!(r, Err(()));
        let at: Vec<u64> = seen
            .into_inner()
            .unwrap()
            .iter()
            .map(|d| d.as_millis() as u64)
            .collect();
        // Every millisecond up to 5 ms, then a quarter of the time waited (the timer rounds up
        // to whole milliseconds), until the probe at or past 30 ms.
        assert_eq!(at, vec![0, 1, 2, 3, 4, 5, 7, 9, 12, 15, 19, 24, 30]);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_sleeps_until_it_has_passed() {
        let t0 = Instant::now();
        let wait = Deadline::within(25 * MS, 10 * MS);
        let mut sleeps = 0;
        while wait.again().await {
            sleeps += 1;
        }
        // Asked at 0, 10 and 20 ms (each followed by a sleep), then at 30 ms: past.
        assert_eq!(sleeps, 3);
        assert_eq!(t0.elapsed(), 30 * MS);
    }
}
