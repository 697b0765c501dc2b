//! The loop the outbox sender (`outbox_sender`) and the media fetcher (`media_fetcher`)
//! both run: each works a table of rows that a claim holds under a fresh attempt id and a
//! lease, and this is where they start, claim, sleep, wake and stop. It exists so the two
//! tasks pace themselves the same way and a fix to one loop is a fix to both; what a row
//! is and what working it means stays in each task's own file.
//!
//! The loop:
//! - **A start makes every waiting row due now.** A restart is how an admin applies a
//!   fixed config (a new access token): what waited goes now, not after the rest of its
//!   wait.
//! - **A pass claims one batch** under a fresh attempt id, `<run id><tag>-<n>` (`run_id`:
//!   no two runs share one), and works it. A full batch means more may be due at once:
//!   the next pass follows straight away.
//! - **Otherwise it sleeps** until the next row is due, at most `idle_check` (a row
//!   queued by another process, a clock jump), or until the hub announces an event that
//!   may have queued a row; then it waits `min_gap` more, so the rows of a burst gather
//!   into one claim and a flood of messages costs the store a few claims a second, not
//!   one per message.
//! - **It ends** when `stop` is cancelled or the hub is gone. What `stop` does to a pass
//!   in flight is each task's choice (`PassOnStop`).

use super::outbox_sender::{SenderSettings, millis};
use crate::chat::{ChatError, ChatEvent, ChatHub};
use crate::wall_clock::now_ms;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// One kind of leased work: a table whose due rows are claimed in batches and worked.
pub(crate) trait LeasedWork {
    /// The table, for the log: "{TABLE} could not be read".
    const TABLE: &'static str;
    /// Its rows, for the log: "{n} {ROWS} waiting for another try are tried now".
    const ROWS: &'static str;
    /// What stands between the run's id and the claim's number in each attempt id: a
    /// label, so an attempt id in the store or the log says which task made it.
    const ATTEMPT_TAG: &'static str;

    /// Lease, timeouts, batch and sleeps.
    fn pacing(&self) -> &SenderSettings;

    /// Makes every row waiting for another try due at `now_ms`; how many there were.
    async fn make_waiting_due_now(&self, now_ms: u64) -> Result<usize, ChatError>;

    /// Claims a batch of due rows under `attempt`, works each and marks it; how many rows
    /// it claimed.
    async fn pass(&self, attempt: &str) -> usize;

    /// When the next waiting row is due, in ms since the epoch; `None` when none waits.
    async fn next_due(&self) -> Result<Option<u64>, ChatError>;
}

/// What `stop` does to a pass in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PassOnStop {
    /// The pass ends first, its rows marked; `stop` is looked at after it, so a backlog
    /// of full batches is left for the next start.
    Finish,
    /// The pass is dropped where it is; its rows are claimed again once their lease runs
    /// out.
    Drop,
}

/// Runs `work` until `stop` is cancelled or the hub is gone: makes the waiting rows due,
/// then claims and works batches, sleeping in between until the next row is due or the
/// hub announces an event for which `wakes_on` is true.
pub(crate) async fn run_until_stopped<W: LeasedWork>(
    work: &W,
    hub: &ChatHub,
    wakes_on: fn(&ChatEvent) -> bool,
    on_stop: PassOnStop,
    stop: &CancellationToken,
) {
    match work.make_waiting_due_now(now_ms()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("{n} {} waiting for another try are tried now", W::ROWS),
        Err(e) => tracing::warn!("{} could not be read: {e}", W::TABLE),
    }
    let mut events = hub.subscribe();
    let pacing = work.pacing();
    let run = run_id();
    for claim in 0u64.. {
        let attempt = format!("{run}{}-{claim}", W::ATTEMPT_TAG);
        let pass = work.pass(&attempt);
        let claimed = match on_stop {
            PassOnStop::Finish => pass.await,
            PassOnStop::Drop => tokio::select! {
                () = stop.cancelled() => return,
                n = pass => n,
            },
        };
        // A full batch: there may be more due at once, unless the server is stopping
        // (a backlog of full batches must not hold a shutdown up).
        if claimed >= pacing.batch as usize {
            if stop.is_cancelled() {
                return;
            }
            continue;
        }
        let wait = until_next_due(work).await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
            woke = wait_for(&mut events, wakes_on) => {
                if !woke {
                    return;
                }
                // Let the rows of a burst gather into one claim.
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(pacing.min_gap) => {}
                }
            }
        }
    }
}

/// The last moment a request may start and still end inside the lease of a claim made at
/// `claimed_at`.
pub(crate) fn latest_start(claimed_at: u64, pacing: &SenderSettings) -> u64 {
    claimed_at + millis(pacing.lease) - millis(pacing.request_timeout).min(millis(pacing.lease))
}

/// How long to sleep: until the next row is due, at most `idle_check`.
async fn until_next_due<W: LeasedWork>(work: &W) -> Duration {
    let idle = work.pacing().idle_check;
    match work.next_due().await {
        Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now_ms())).min(idle),
        Ok(None) => idle,
        Err(e) => {
            tracing::warn!("{} could not be read: {e}", W::TABLE);
            idle
        }
    }
}

/// Returns when the hub announces an event for which `wakes_on` is true; false when the
/// hub is gone.
async fn wait_for(
    events: &mut broadcast::Receiver<ChatEvent>,
    wakes_on: fn(&ChatEvent) -> bool,
) -> bool {
    use broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(e) if wakes_on(&e) => return true,
            Ok(_) => {}
            // Missed some: one of them may have been one that wakes.
            Err(RecvError::Lagged(_)) => return true,
            Err(RecvError::Closed) => return false,
        }
    }
}

/// This process's part of every attempt id, so no two runs share one.
fn run_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // The clock alone still tells this run from the last.
        bytes = now_ms().to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
