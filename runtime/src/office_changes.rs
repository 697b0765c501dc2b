//! A counter bumped whenever the office's state changes — a phone registers or lapses,
//! someone logs in to a hot desk or a queue, a message is left, a SIP password is set —
//! so the editor's event stream (`/api/events`) can tell the browser without polling.

use tokio::sync::watch;

pub struct OfficeChanges {
    generation: watch::Sender<u64>,
}

impl Default for OfficeChanges {
    fn default() -> Self {
        OfficeChanges {
            generation: watch::Sender::new(0),
        }
    }
}

impl OfficeChanges {
    /// Something in the office changed; every subscriber wakes.
    pub fn bump(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Wakes on each change after now.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }
}
