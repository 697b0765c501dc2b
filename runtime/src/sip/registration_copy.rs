//! The registrar's side of keeping registrations across restarts
//! (`kept_registrations` in the runtime does the storing): whoever asked is told each
//! user's contacts after every change, and contacts kept from the last run go back in.

use std::time::Instant;

use tokio::sync::mpsc;

use super::registrar::Registration;
use super::server::{Shared, SipServer};

/// A user and every contact it has after a change (none: it has no phone registered).
pub type RegistrationChange = (String, Vec<Registration>);

impl SipServer {
    /// Tells the returned receiver of each change to a user's contacts from now on: a
    /// REGISTER that added, refreshed or removed one, or the user forgotten. Lapses are not
    /// told; a kept contact carries its expiry.
    pub fn report_registration_changes(&self) -> mpsc::UnboundedReceiver<RegistrationChange> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.shared.kept.lock().expect("kept lock") = Some(tx);
        rx
    }

    /// Puts back contacts kept from the last run, for the server's start; how many went
    /// in (a lapsed one, or one the phone already registered again, does not).
    pub fn restore_registrations(&self, kept: Vec<(String, Registration)>) -> usize {
        let now = Instant::now();
        let restored = {
            let mut registrar = self.shared.registrar.lock().expect("registrar lock");
            kept.into_iter()
                .filter(|(user, registration)| registrar.restore(user, registration.clone(), now))
                .count()
        };
        if restored > 0 {
            self.shared.tell_office();
        }
        restored
    }
}

impl Shared {
    /// `user`'s contacts changed to `contacts`: tells whoever keeps them.
    pub(super) fn registrations_changed(&self, user: &str, contacts: &[Registration]) {
        if let Some(kept) = &*self.kept.lock().expect("kept lock") {
            let _ = kept.send((user.to_string(), contacts.to_vec()));
        }
    }
}
