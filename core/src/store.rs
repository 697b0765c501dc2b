//! The office's runtime state (mailboxes, queue logins, hot desks, park orbits) behind a
//! trait, so the engines run the same against the in-memory store of tests and the SQLite
//! store of the server.
//!
//! Every method returns `Result`, because a database can fail; the in-memory store never
//! does. The store keeps state and nothing more: the office's rules (who may log whom in,
//! which PIN counts) are in `office`, which is the only caller the engines should use.
//! Keys are passed as the office spells them; the store compares them exactly.

pub mod call_detail;
pub mod conformance;
pub mod memory;

pub use call_detail::{CallDetail, HungUpBy};
pub use memory::MemoryStore;

use crate::ids::{CallId, MessageId};
use std::error::Error;
use std::fmt;

/// A store that could not do what was asked, such as a database that is locked or gone.
#[derive(Debug)]
pub struct StoreError {
    message: String,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by another, such as the database driver's, kept for `source()`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Error + Send + Sync + 'static,
    ) -> StoreError {
        StoreError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// The two folders of a mailbox: messages arrive in `New` and the owner may keep them in
/// `Saved`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Folder {
    New,
    Saved,
}

/// A message in a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub folder: Folder,
    /// The reference the runtime gave the recording, such as a file name.
    pub recording: String,
    /// The caller who left it, as the call showed them.
    pub from: String,
    pub duration_ms: u64,
    /// The office's wall time when it arrived, like `"2026-11-23 10:00"`.
    pub received: String,
}

/// A message to file: the store gives it its id and puts it in `New`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub recording: String,
    pub from: String,
    pub duration_ms: u64,
    pub received: String,
}

/// The call waiting in a park orbit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParkedCall {
    pub call: CallId,
    /// Who parked it (or whom it is from), for the pick-up announcement.
    pub from: String,
}

/// The wrong PINs typed into one mailbox and the locks they caused, as
/// `office::try_pin` keeps them. Times are the store's clock (`Store::now_ms`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinAttempts {
    /// Failed attempts counted since `since` (an attempt is counted before it is checked,
    /// and a right PIN takes its count back).
    pub failures: u32,
    /// When the first of those failures came, so that old ones stop counting.
    pub since: u64,
    /// How many times the mailbox was locked since its PIN last opened it: each lock is
    /// twice as long as the one before.
    pub locks: u32,
    /// Until when PIN entry is refused; in the past (or 0) when it is not locked.
    pub locked_until: u64,
}

/// The office's state. `Send` so that a server can hand it to the thread that runs calls.
pub trait Store: Send {
    /// The store's clock, in milliseconds since the Unix epoch: the SQLite store reads
    /// the system clock, the in-memory one a virtual clock its owner moves. PIN locks are
    /// stamped with it, so they hold across calls and restarts while the engine itself
    /// still never reads a clock.
    fn now_ms(&self) -> Result<u64, StoreError>;

    /// Keeps the record of a finished call.
    fn record_call(&mut self, detail: &CallDetail) -> Result<(), StoreError>;

    /// The records of calls started from `from_ms` (inclusive) to `to_ms` (exclusive),
    /// oldest first, at most `limit` of them.
    fn call_details(
        &self,
        from_ms: u64,
        to_ms: u64,
        limit: usize,
    ) -> Result<Vec<CallDetail>, StoreError>;

    /// The failed PIN attempts of `mailbox`; the default (nothing counted) when none.
    fn pin_attempts(&self, mailbox: &str) -> Result<PinAttempts, StoreError>;

    /// Replaces the failed PIN attempts of `mailbox`; the default forgets them.
    fn set_pin_attempts(&mut self, mailbox: &str, attempts: PinAttempts) -> Result<(), StoreError>;

    /// Whether `pin` is the stored PIN of `mailbox`; `None` when no PIN was stored for it
    /// yet (the plan's `pin` option then applies).
    fn check_pin(&self, mailbox: &str, pin: &str) -> Result<Option<bool>, StoreError>;

    /// Stores a new PIN for `mailbox`, hashed with a fresh salt that the store supplies.
    fn set_pin(&mut self, mailbox: &str, pin: &str) -> Result<(), StoreError>;

    /// The messages of one folder, oldest first (in the order they arrived).
    fn messages(&self, mailbox: &str, folder: Folder) -> Result<Vec<Message>, StoreError>;

    /// How many messages are (new, saved).
    fn message_counts(&self, mailbox: &str) -> Result<(u32, u32), StoreError>;

    /// Files a message in `New` and returns its id, unique across every mailbox.
    fn add_message(&mut self, mailbox: &str, message: NewMessage) -> Result<MessageId, StoreError>;

    /// Moves a message to a folder; false when the mailbox holds no such message.
    fn move_message(
        &mut self,
        mailbox: &str,
        id: MessageId,
        to: Folder,
    ) -> Result<bool, StoreError>;

    /// Deletes a message; false when the mailbox holds no such message.
    fn delete_message(&mut self, mailbox: &str, id: MessageId) -> Result<bool, StoreError>;

    /// The recording of the mailbox's own greeting, if its owner recorded one.
    fn greeting(&self, mailbox: &str) -> Result<Option<String>, StoreError>;

    fn set_greeting(&mut self, mailbox: &str, recording: &str) -> Result<(), StoreError>;

    /// The self-ID: the owner saying their name, which dial-by-name plays.
    fn name_recording(&self, mailbox: &str) -> Result<Option<String>, StoreError>;

    fn set_name_recording(&mut self, mailbox: &str, recording: &str) -> Result<(), StoreError>;

    /// Whether `agent` is logged in to `queue`; agents start logged out.
    fn queue_logged_in(&self, agent: &str, queue: &str) -> Result<bool, StoreError>;

    fn set_queue_logged_in(
        &mut self,
        agent: &str,
        queue: &str,
        logged_in: bool,
    ) -> Result<(), StoreError>;

    /// When `agent`'s last queue call ended, by the store's clock (`now_ms`); `None`
    /// before their first. Wrap-up and `longest_idle` read it, across every queue.
    fn agent_last_call_end(&self, agent: &str) -> Result<Option<u64>, StoreError>;

    fn set_agent_last_call_end(&mut self, agent: &str, at_ms: u64) -> Result<(), StoreError>;

    /// How many of `queue`'s calls `agent` answered since logging in to it (`fewest_calls`);
    /// 0 when none were counted.
    fn queue_calls_answered(&self, agent: &str, queue: &str) -> Result<u32, StoreError>;

    /// Replaces the count; `office::queue_login` sets it back to 0 at each login.
    fn set_queue_calls_answered(
        &mut self,
        agent: &str,
        queue: &str,
        answered: u32,
    ) -> Result<(), StoreError>;

    /// The agent `queue` last offered a call to (`round_robin` goes on after them).
    fn queue_last_offered(&self, queue: &str) -> Result<Option<String>, StoreError>;

    fn set_queue_last_offered(&mut self, queue: &str, agent: &str) -> Result<(), StoreError>;

    /// The extension logged in on a hot-desk phone.
    fn hot_desk_extension(&self, device_mac: &str) -> Result<Option<String>, StoreError>;

    /// The phone an extension is logged in on (the first by MAC, should there be several).
    fn hot_desk_device(&self, extension: &str) -> Result<Option<String>, StoreError>;

    /// Logs `extension` in on the phone, replacing whoever was there, or logs the phone out
    /// with `None`. The one-phone-per-extension rule is `office::hot_desk_login`'s to keep.
    fn set_hot_desk(&mut self, device_mac: &str, extension: Option<&str>)
    -> Result<(), StoreError>;

    /// Every (MAC, extension) login, sorted.
    fn hot_desk_logins(&self) -> Result<Vec<(String, String)>, StoreError>;

    /// The call parked in an orbit.
    fn parked(&self, orbit: &str) -> Result<Option<ParkedCall>, StoreError>;

    /// Puts a call in an orbit (replacing any) or empties it with `None`.
    fn set_parked(&mut self, orbit: &str, parked: Option<ParkedCall>) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_error_shows_its_message_and_keeps_its_source() {
        let plain = StoreError::new("database is locked");
        assert_eq!(plain.to_string(), "database is locked");
        assert_eq!(plain.message(), "database is locked");
        assert!(plain.source().is_none());

        let cause = std::fmt::Error;
        let wrapped = StoreError::with_source("could not save the message", cause);
        assert_eq!(wrapped.to_string(), "could not save the message");
        let source = wrapped.source().expect("the cause is kept");
        assert_eq!(source.to_string(), cause.to_string());
    }

    #[test]
    fn store_is_object_safe_and_send() {
        // The engines hold the store as `Box<dyn Store>` and may move it across threads.
        fn assert_send<T: Send + ?Sized>() {}
        assert_send::<Box<dyn Store>>();
        let mut store: Box<dyn Store> = Box::new(MemoryStore::new());
        store.set_greeting("101", "greeting-101.wav").unwrap();
        assert_eq!(
            store.greeting("101").unwrap().as_deref(),
            Some("greeting-101.wav")
        );
    }
}
