//! A person's web sessions end when the running plan stops defining their extension.
//!
//! The guard already refuses such a session on every request (a set lookup in the
//! running plan), and open event streams end at the reload (`events::session_ended`).
//! This task makes it last: at start and after every reload it deletes the sessions of
//! extensions the plan no longer defines, so an extension taken out and put back later
//! (the same number, perhaps a new person) does not bring back a browser's old session.
//! The web password is kept (`sqlite_store::web_passwords`): putting the extension back
//! lets its person sign in again without an admin setting a new one.

use crate::reload::PlanHolder;
use crate::sqlite_store::StoreThread;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Ends the sessions of extensions outside the running plan now and after each reload,
/// until the holder's version channel closes. Spawned by the server beside the watcher.
pub async fn end_sessions_outside_the_plan(store: StoreThread, plans: Arc<PlanHolder>) {
    // Subscribed before the first sweep, so a reload during it is not missed.
    let mut versions = plans.versions();
    loop {
        versions.borrow_and_update();
        let extensions: BTreeSet<String> = plans
            .plan()
            .extensions
            .iter()
            .map(|e| e.number.clone())
            .collect();
        let ended = store
            .run_sqlite(move |s| s.end_sessions_outside(&extensions))
            .await
            .and_then(|r| r);
        match ended {
            Ok(ended) if ended.is_empty() => {}
            Ok(ended) => tracing::info!(
                "signed out the web sessions of {}: the plan no longer defines {}",
                ended.join(", "),
                if ended.len() == 1 { "it" } else { "them" }
            ),
            Err(e) => tracing::warn!(
                "cannot end the web sessions of extensions no longer in the plan: {e}; the \
                 guard refuses them all the same"
            ),
        }
        if versions.changed().await.is_err() {
            return;
        }
    }
}
