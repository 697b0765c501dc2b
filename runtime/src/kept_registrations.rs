//! Registrations that outlive a restart. Phones register for up to two hours
//! (`sip::registrar::MAX_EXPIRES`) and most refresh only near the end, so a server that
//! forgot them at each start (an upgrade, a config change) would leave the office's desk
//! phones silent for that long: callers would hear "not reachable" or go to voicemail.
//! The registrar stays the truth in memory; the store keeps a copy of each user's UDP
//! contacts (`sqlite_store::sip_registrations`), written after every REGISTER that
//! changed them, and the live ones go into the registrar before the SIP server reads its
//! first message (`SipConfig::kept_registrations`), so no REGISTER of the new run can be
//! undone by them. A stopping server writes what it was told last before it ends.
//!
//! A kept contact is put back only for a user the plan still defines and whose password
//! still answers the realm's digest: one removed, or whose password changed, while the
//! server was down is not rung (a new password also forgets the kept contacts in the
//! store, so a phone that knew only the old one is not rung after the next restart).

use crate::reload::PlanHolder;
use crate::sip::{
    CredentialStore, DigestAlgorithm, MAX_EXPIRES, Registration, RegistrationChange, Transport,
};
use crate::sqlite_store::{SavedRegistration, StoreThread};
use crate::wall_clock::now_ms;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// The kept registrations still live, of users the plan defines with a password in
/// `realm` for one of `algorithms`, ready for `SipConfig::kept_registrations`. Expiries
/// are cut to `MAX_EXPIRES` from now: a wall clock set back since they were written
/// (a machine that booted before its time was set) must not make one last for ever.
pub async fn restorable(
    store: &StoreThread,
    plans: &PlanHolder,
    credentials: &dyn CredentialStore,
    realm: &str,
    algorithms: &[DigestAlgorithm],
) -> Vec<(String, Registration)> {
    let now_ms = now_ms();
    let kept = match store
        .run_sqlite(move |s| s.saved_registrations(now_ms))
        .await
    {
        Ok(Ok(kept)) => kept,
        Ok(Err(e)) | Err(e) => {
            tracing::warn!("the registrations kept from the last run were not read: {e}");
            return Vec::new();
        }
    };
    let plan = plans.plan();
    let now = Instant::now();
    let longest = Duration::from_secs(u64::from(MAX_EXPIRES));
    kept.into_iter()
        .filter(|(user, _)| {
            plan.is_sip_user(user)
                && algorithms
                    .iter()
                    .any(|a| credentials.ha1(user, realm, *a).is_some())
        })
        .map(|(user, saved)| {
            let left = Duration::from_millis(saved.expires_at_ms.saturating_sub(now_ms));
            let registration = Registration {
                contact: saved.contact,
                source: saved.source,
                transport: Transport::Udp,
                expires_at: now + left.min(longest),
                user_agent: saved.user_agent,
            };
            (user, registration)
        })
        .collect()
}

/// Writes each change the SIP server reports (a user and all its contacts after a
/// REGISTER) to the store, until the server stops reporting
/// (`SipServer::stop_reporting_registrations`). The changes that queued up while one was
/// written are written together, the last of each user's winning: a burst of REGISTERs
/// after a network outage costs a few transactions, not one each.
pub async fn keep(store: StoreThread, mut changes: UnboundedReceiver<RegistrationChange>) {
    while let Some((user, contacts)) = changes.recv().await {
        let mut batch = BTreeMap::from([(user, contacts)]);
        while let Ok((user, contacts)) = changes.try_recv() {
            batch.insert(user, contacts);
        }
        let now = Instant::now();
        let now_ms = now_ms();
        let batch: Vec<(String, Vec<SavedRegistration>)> = batch
            .into_iter()
            .map(|(user, contacts)| (user, saved(&contacts, now, now_ms)))
            .collect();
        let written = store
            .run_sqlite(move |s| {
                batch
                    .iter()
                    .filter_map(|(user, contacts)| {
                        s.save_registrations(user, contacts)
                            .err()
                            .map(|e| format!("{user}: {e}"))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        // The registrar still has them: only a restart before the phones' next refresh
        // would miss them.
        match written {
            Ok(failed) => {
                for e in failed {
                    tracing::warn!("a registration was not kept for the next start: {e}");
                }
            }
            Err(e) => tracing::warn!("registrations not kept for the next start: {e}"),
        }
    }
}

/// `contacts` as the store keeps them: the UDP ones, with their expiry on the wall clock.
fn saved(contacts: &[Registration], now: Instant, now_ms: u64) -> Vec<SavedRegistration> {
    contacts
        .iter()
        .filter(|c| c.transport == Transport::Udp)
        .map(|c| {
            let left = c.expires_at.saturating_duration_since(now);
            SavedRegistration {
                contact: c.contact.clone(),
                source: c.source,
                expires_at_ms: now_ms
                    .saturating_add(u64::try_from(left.as_millis()).unwrap_or(u64::MAX)),
                user_agent: c.user_agent.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(transport: Transport, left: Duration, now: Instant) -> Registration {
        Registration {
            contact: "sip:102@192.0.2.7:5062".into(),
            source: "192.0.2.7:5062".parse().unwrap(),
            transport,
            expires_at: now + left,
            user_agent: Some("Yealink".into()),
        }
    }

    #[test]
    fn only_udp_contacts_are_kept_with_their_expiry_on_the_wall_clock() {
        let now = Instant::now();
        let kept = saved(
            &[
                contact(Transport::Udp, Duration::from_secs(90), now),
                contact(Transport::Tcp, Duration::from_secs(90), now),
            ],
            now,
            1_000_000,
        );
        assert_eq!(
            kept,
            [SavedRegistration {
                contact: "sip:102@192.0.2.7:5062".into(),
                source: "192.0.2.7:5062".parse().unwrap(),
                expires_at_ms: 1_090_000,
                user_agent: Some("Yealink".into()),
            }]
        );
    }
}
