//! Hot-desk phones as the lamps see them: a phone registered under its MAC answers for
//! whichever extension is logged in on it, so its message lamp shows that extension's
//! mailbox, and that extension's presence is `open` while the phone is registered
//! (`presence_watch`).
//!
//! The office store keeps the logins; the call runner tells the server of each change
//! (and the server is told them all at start), so the lamps never read the store.

use std::collections::HashMap;

use super::server::{Shared, SipServer};
use super::subscriptions::Package;

/// Which extension each hot-desk phone is logged in as, by the phone's MAC (upper case).
#[derive(Default)]
pub(super) struct DeskPhones {
    logged_in: HashMap<String, String>,
}

impl DeskPhones {
    /// The extension logged in on `device`, if any.
    pub(super) fn extension_of(&self, device: &str) -> Option<&str> {
        self.logged_in
            .get(&device.to_ascii_uppercase())
            .map(String::as_str)
    }

    /// The phones `extension` is logged in on.
    pub(super) fn devices_of(&self, extension: &str) -> Vec<String> {
        self.logged_in
            .iter()
            .filter(|(_, e)| e.as_str() == extension)
            .map(|(d, _)| d.clone())
            .collect()
    }

    /// Records a login (or, with `None`, a logout) and returns the extension the phone
    /// was logged in as before.
    pub(super) fn set(&mut self, device: &str, extension: Option<&str>) -> Option<String> {
        let device = device.to_ascii_uppercase();
        match extension {
            Some(e) => self.logged_in.insert(device, e.to_string()),
            None => self.logged_in.remove(&device),
        }
    }
}

impl Shared {
    /// The extension the phone registered as `user` answers for, whose mailbox its lamp
    /// shows: its own, or for a hot-desk phone the logged-in extension (nobody's: the
    /// MAC itself, which has no mailbox).
    pub(super) fn answers_for(&self, user: &str) -> String {
        let desks = self.desks.lock().expect("desks lock");
        desks.extension_of(user).unwrap_or(user).to_string()
    }

    /// The hot-desk phones `extension` is logged in on.
    pub(super) fn desks_of(&self, extension: &str) -> Vec<String> {
        self.desks.lock().expect("desks lock").devices_of(extension)
    }
}

impl SipServer {
    /// A hot-desk phone now belongs to `extension` (or, with `None`, to nobody): its
    /// message lamp follows, and both extensions' watchers hear their presence.
    pub async fn set_hot_desk(&self, device: &str, extension: Option<&str>) {
        let before = self
            .shared
            .desks
            .lock()
            .expect("desks lock")
            .set(device, extension);
        let device = device.to_ascii_uppercase();
        if extension.is_none() {
            // Nobody's phone has no messages: its lamp goes dark, said explicitly.
            self.shared
                .counts
                .lock()
                .expect("counts lock")
                .insert(device.clone(), (0, 0));
        }
        // The lamp: the new extension's counts once known, else dark.
        self.shared
            .notify_subscribers(Package::MessageSummary, &device)
            .await;
        for e in before.iter().map(String::as_str).chain(extension) {
            self.shared.notify_subscribers(Package::Presence, e).await;
        }
        if extension.is_some()
            && let Some(watch) = &*self.shared.registered.lock().expect("registered lock")
        {
            // Looks up the extension's counts and lights the phone's lamp with them.
            let _ = watch.send(device);
        }
    }

    /// The extension logged in on a hot-desk phone, as the server was last told.
    pub fn hot_desk_extension(&self, device: &str) -> Option<String> {
        let desks = self.shared.desks.lock().expect("desks lock");
        desks.extension_of(device).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_replaces_the_last_and_a_logout_forgets_it() {
        let mut desks = DeskPhones::default();
        assert_eq!(desks.set("001565aabbcc", Some("101")), None);
        assert_eq!(desks.extension_of("001565AABBCC"), Some("101"));
        assert_eq!(desks.devices_of("101"), vec!["001565AABBCC".to_string()]);
        assert_eq!(desks.set("001565AABBCC", Some("102")), Some("101".into()));
        assert!(desks.devices_of("101").is_empty());
        assert_eq!(desks.set("001565AABBCC", None), Some("102".into()));
        assert_eq!(desks.extension_of("001565AABBCC"), None);
    }
}
