//! What the editor's view of the office learns from SIP: which phones are registered, and
//! that a registration came, went or lapsed, so the view changes without reloading
//! (`OfficeChanges`, served as the `office` event of `/api/events`).
//!
//! A REGISTER says so at once. A lapse has no request to say it: the subscription sweep
//! looks every few seconds at the registrar's count of expired contacts, which grows
//! whoever purged them first.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::registrar::Registration;
use super::server::{Shared, SipServer};
use crate::office_changes::OfficeChanges;

/// Whom to tell of changes, and how many lapses were told so far.
#[derive(Default)]
pub(super) struct OfficeWatch {
    /// Set once by the server; nobody is told before.
    changes: OnceLock<Arc<OfficeChanges>>,
    /// The registrar's lapse count last told.
    lapses_told: AtomicU64,
}

impl SipServer {
    /// Tells `changes` of every registration that comes, goes or lapses from now on.
    pub fn report_office_changes(&self, changes: Arc<OfficeChanges>) {
        let _ = self.shared.office.changes.set(changes);
    }

    /// The digest realm phones authenticate in: what a password is stored for.
    pub fn realm(&self) -> &str {
        &self.shared.realm
    }

    /// Forgets every phone registered as `user` (its password changed or was removed): it
    /// is no longer rung, and its presence watchers and the office view hear it left.
    pub async fn forget_registrations(&self, user: &str) {
        let had = {
            let mut registrar = self.shared.registrar.lock().expect("registrar lock");
            // Under the lock, in order with the REGISTERs (see `register`).
            self.shared.registrations_changed(user, &[]);
            registrar.forget(user)
        };
        if had {
            self.shared.tell_office();
            self.shared.registration_changed(user).await;
        }
    }

    /// Tells the office view of the registrations lapsed at `now`. The server does this on
    /// its own every few seconds; a test passes a later `now` instead of waiting a
    /// registration's minute out.
    pub fn notice_lapsed_registrations(&self, now: Instant) {
        self.shared.tell_lapsed_registrations(now);
    }

    /// Every phone registered now: the user it registered as and its registration, by
    /// user.
    pub fn registered_phones(&self) -> Vec<(String, Registration)> {
        let now = Instant::now();
        let mut registrar = self.shared.registrar.lock().expect("registrar lock");
        registrar.purge(now);
        registrar.all_live(now)
    }
}

impl Shared {
    /// A registration came, was refreshed or went.
    pub(super) fn tell_office(&self) {
        if let Some(changes) = self.office.changes.get() {
            changes.bump();
        }
    }

    /// Run by the sweep: tells of the registrations that lapsed since it last looked.
    pub(super) fn tell_lapsed_registrations(&self, now: Instant) {
        let lapsed = {
            let mut registrar = self.registrar.lock().expect("registrar lock");
            registrar.purge(now);
            registrar.lapsed()
        };
        if self.office.lapses_told.swap(lapsed, Ordering::Relaxed) != lapsed {
            self.tell_office();
        }
    }
}
