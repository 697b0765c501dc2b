//! What a store's writes changed that someone outside must hear of once it is committed:
//! the office's state (hot-desk and queue logins, messages, parked calls, SIP users),
//! which the editor's office view follows (`OfficeChanges`), and the SIP credentials,
//! which the store thread keeps in memory for the registrar.
//!
//! A write marks what it touches (a removal only what it did remove); the store thread takes the marks after
//! its batch's `COMMIT` (or rollback), so what it announces is what a reader then finds.
//! A write that failed may leave a mark behind: that costs one needless look, never a
//! missed change.

/// The marks since the store thread last took them.
#[derive(Debug, Default)]
pub(super) struct Changed {
    /// Something the office view shows was written.
    pub(super) office: bool,
    /// A SIP password was set or removed (the office view shows the users too).
    pub(super) credentials: bool,
}

impl Changed {
    /// A SIP password was set or removed.
    pub(super) fn credentials(&mut self) {
        self.credentials = true;
        self.office = true;
    }

    /// The marks, leaving none.
    pub(super) fn take(&mut self) -> Changed {
        std::mem::take(self)
    }
}
