//! Identifiers, as newtypes so a timer id can never be passed where a call id is meant.

/// One call, unique within a running server (or a test run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// A timer a call asked for; unique within that call, never reused, so a timer that fires
/// after it was cancelled is recognised as stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub u32);

/// One `Play` command; its `PlayFinished` event names it, so a late completion of an
/// earlier prompt is not mistaken for the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayId(pub u32);

/// A stored message in a mailbox, numbered by the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u64);

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call-{}", self.0)
    }
}
