//! The registrar's side of keeping registrations across restarts (`kept_registrations`
//! in the runtime does the storing): the contacts kept from the last run go into the
//! registrar before the SIP server reads its first message (`SipConfig`), and each user's
//! contacts are told after every change, under the registrar's lock so the copy sees
//! them in the order they were applied.

use std::time::Instant;

use tracing::info;

use super::registrar::{Registrar, Registration};
use super::server::{Shared, SipServer};

/// A user and every contact it has after a change (none: it has no phone registered).
pub type RegistrationChange = (String, Vec<Registration>);

/// A registrar holding the contacts `kept` from the last run that are still live.
pub(super) fn registrar_with(kept: Vec<(String, Registration)>) -> Registrar {
    let now = Instant::now();
    let mut registrar = Registrar::new();
    let restored = kept
        .into_iter()
        .filter(|(user, registration)| registrar.restore(user, registration.clone(), now))
        .count();
    if restored > 0 {
        info!(
            count = restored,
            "registrations kept from the last run are back"
        );
    }
    registrar
}

impl SipServer {
    /// Stops telling of registration changes, so whoever keeps them sees the end of them:
    /// for a server that is stopping, once it reads no more REGISTERs.
    pub fn stop_reporting_registrations(&self) {
        self.shared.kept.lock().expect("kept lock").take();
    }
}

impl Shared {
    /// `user`'s contacts changed to `contacts`: tells whoever keeps them. Called with the
    /// registrar's lock held.
    pub(super) fn registrations_changed(&self, user: &str, contacts: &[Registration]) {
        if let Some(kept) = &*self.kept.lock().expect("kept lock") {
            let _ = kept.send((user.to_string(), contacts.to_vec()));
        }
    }
}
