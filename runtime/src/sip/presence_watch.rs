//! Presence as the server keeps it (the I/O side of `presence`): what an extension's
//! watchers are told — reachable while one of its phones, or a hot-desk phone it is
//! logged in on, is registered; its line from `lines` — and when they are told: on a
//! registration that changes it, on a line change, and by the subscription sweep for a
//! registration that lapsed with no request to say so. What each was last told is kept,
//! so a refresh that changes nothing sends nothing.

use std::sync::Arc;

use super::presence::Presence;
use super::server::Shared;
use super::subscriptions::Package;

impl Shared {
    /// What `extension`'s watchers are told: reachable while one of its phones, or a
    /// hot-desk phone it is logged in on, is registered.
    pub(super) fn presence_of(&self, extension: &str) -> Presence {
        let now = std::time::Instant::now();
        let mut users = vec![extension.to_string()];
        users.extend(self.desks_of(extension));
        let reachable = {
            let mut registrar = self.registrar.lock().expect("registrar lock");
            registrar.purge(now);
            users.iter().any(|u| !registrar.live(u, now).is_empty())
        };
        let line = self.lines.lock().expect("lines lock").state(extension);
        Presence { reachable, line }
    }

    /// Tells watchers of each extension whose presence changed with nothing to say so
    /// (a registration that lapsed): run by the subscription sweep.
    pub(super) async fn tell_lapsed_presence(self: &Arc<Self>) {
        let watched = self
            .subscriptions
            .lock()
            .expect("subscriptions lock")
            .resources(Package::Presence, std::time::Instant::now());
        // Only what is still watched is remembered.
        self.presence_told
            .lock()
            .expect("presence lock")
            .retain(|e, _| watched.contains(e));
        for extension in watched {
            self.tell_presence_if_changed(&extension).await;
        }
    }

    /// Tells the presence watchers of the extension a phone registered as `user`
    /// answers for (the phone's own, or the one logged in on a hot-desk phone).
    /// A refresh that changes nothing sends nothing.
    pub(super) async fn registration_changed(self: &Arc<Self>, user: &str) {
        let extension = self.answers_for(user);
        self.tell_presence_if_changed(&extension).await;
    }

    /// Tells `extension`'s presence watchers, unless they were last told the same.
    async fn tell_presence_if_changed(self: &Arc<Self>, extension: &str) {
        let told = self
            .presence_told
            .lock()
            .expect("presence lock")
            .get(extension)
            .copied();
        if told != Some(self.presence_of(extension)) {
            self.notify_subscribers(Package::Presence, extension).await;
        }
    }
}
