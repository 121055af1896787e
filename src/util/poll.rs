//! Polling until a deadline: the one "ask, and ask again every so often until it holds or time
//! is up" loop behind every wait in drctl.
//!
//! A probe answers `ControlFlow::Break(answer)` when what it waits for holds (or when waiting is
//! pointless, with an error as the answer) and `ControlFlow::Continue(state)` when not yet, with
//! what it saw: the caller words its timeout message from the last state.

use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;

/// Runs `probe`, then again every `every`, until it breaks: `Ok(answer)`. Once a probe that
/// continues ends at or after `deadline`, `Err(its state)`. The probe always runs at least once,
/// and once more after the sleep that crosses the deadline: what holds by the deadline is seen.
pub(crate) async fn until<T, S>(
    deadline: Instant,
    every: Duration,
    mut probe: impl AsyncFnMut() -> ControlFlow<T, S>,
) -> Result<T, S> {
    loop {
        match probe().await {
            ControlFlow::Break(answer) => return Ok(answer),
            ControlFlow::Continue(last) if Instant::now() >= deadline => return Err(last),
            ControlFlow::Continue(_) => tokio::time::sleep(every).await,
        }
    }
}

/// [`until`] with the deadline `timeout` from now.
pub(crate) async fn within<T, S>(
    timeout: Duration,
    every: Duration,
    probe: impl AsyncFnMut() -> ControlFlow<T, S>,
) -> Result<T, S> {
    until(Instant::now() + timeout, every, probe).await
}

/// `Break(())` when `it` holds, else `Continue(())`: for a probe that has nothing to report.
pub(crate) fn holds(it: bool) -> ControlFlow<()> {
    if it {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn ready_at_once_returns_without_sleeping() {
        let t0 = Instant::now();
        let mut probes = 0;
        let r: Result<&str, ()> = within(100 * MS, 10 * MS, async || {
            probes += 1;
            ControlFlow::Break("up")
        })
        .await;
        assert_eq!(r, Ok("up"));
        assert_eq!(probes, 1);
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn ready_later_returns_at_that_probe() {
        let t0 = Instant::now();
        let mut probes = 0;
        let r: Result<u32, u32> = within(100 * MS, 10 * MS, async || {
            probes += 1;
            if probes == 4 {
                ControlFlow::Break(probes)
            } else {
                ControlFlow::Continue(probes)
            }
        })
        .await;
        assert_eq!(r, Ok(4));
        assert_eq!(t0.elapsed(), 30 * MS, "three sleeps of the interval");
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_reports_the_last_state_after_a_probe_at_the_deadline() {
        let t0 = Instant::now();
        let mut probes = 0u32;
        let r: Result<(), String> = within(100 * MS, 30 * MS, async || {
            probes += 1;
            ControlFlow::Continue(format!("probe {probes} at {:?}", t0.elapsed()))
        })
        .await;
        // Probes at 0, 30, 60, 90 and 120 ms: the one after the sleep that crossed 100 ms is the
        // last, and its state is the answer.
        assert_eq!(r, Err("probe 5 at 120ms".to_string()));
        assert_eq!(t0.elapsed(), 120 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_past_deadline_still_probes_once() {
        let mut probes = 0;
        let r = until(Instant::now(), 10 * MS, async || {
            probes += 1;
            holds(false)
        })
        .await;
        assert_eq!(r, Err(()));
        assert_eq!(probes, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_break_with_an_error_ends_the_wait_at_once() {
        let t0 = Instant::now();
        let r: Result<Result<(), &str>, ()> =
            within(100 * MS, 10 * MS, async || ControlFlow::Break(Err("refused"))).await;
        assert_eq!(r, Ok(Err("refused")));
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }
}
