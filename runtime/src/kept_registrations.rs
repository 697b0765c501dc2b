//! Registrations that outlive a restart. Phones register for up to two hours
//! (`sip::registrar::MAX_EXPIRES`) and most refresh only near the end, so a server that
//! forgot them at each start (an upgrade, a config change) would leave the office's desk
//! phones silent for that long: callers would hear "not reachable" or go to voicemail.
//! The registrar stays the truth in memory; the store keeps a copy of each user's UDP
//! contacts (`sqlite_store::sip_registrations`), written after every REGISTER that
//! changed them, and the server puts the live ones back before it answers anything.
//!
//! A kept contact is put back only for a user the plan still defines and who still has a
//! password: one removed while the server was down is not rung.

use crate::reload::PlanHolder;
use crate::sip::{Registration, SipServer, Transport};
use crate::sqlite_store::{SavedRegistration, StoreThread};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc::UnboundedReceiver;

/// Puts the kept registrations still live back into `sip`'s registrar; how many.
pub async fn restore(sip: &SipServer, store: &StoreThread, plans: &PlanHolder) -> usize {
    let now_ms = wall_clock_ms();
    let kept = store
        .run_sqlite(move |s| {
            let saved = s.saved_registrations(now_ms)?;
            let mut with_password = Vec::with_capacity(saved.len());
            for (user, registration) in saved {
                if s.has_password(&user)? {
                    with_password.push((user, registration));
                }
            }
            Ok::<_, switchboard_core::store::StoreError>(with_password)
        })
        .await;
    let kept = match kept {
        Ok(Ok(kept)) => kept,
        Ok(Err(e)) | Err(e) => {
            tracing::warn!("the registrations kept from the last run were not read: {e}");
            return 0;
        }
    };
    let plan = plans.plan();
    let now = Instant::now();
    let live: Vec<(String, Registration)> = kept
        .into_iter()
        .filter(|(user, _)| plan.is_sip_user(user))
        .map(|(user, saved)| {
            let left = Duration::from_millis(saved.expires_at_ms.saturating_sub(now_ms));
            let registration = Registration {
                contact: saved.contact,
                source: saved.source,
                transport: Transport::Udp,
                expires_at: now + left,
                user_agent: saved.user_agent,
            };
            (user, registration)
        })
        .collect();
    sip.restore_registrations(live)
}

/// Writes each change `sip` reports (a user and all its contacts after a REGISTER) to the
/// store, until `sip` stops. The changes that queued up while one was written are written
/// together, the last of each user's winning: a burst of REGISTERs after a network outage
/// costs a few transactions, not one each.
pub async fn keep(store: StoreThread, mut changes: UnboundedReceiver<(String, Vec<Registration>)>) {
    while let Some((user, contacts)) = changes.recv().await {
        let mut batch = BTreeMap::from([(user, contacts)]);
        while let Ok((user, contacts)) = changes.try_recv() {
            batch.insert(user, contacts);
        }
        let now = Instant::now();
        let now_ms = wall_clock_ms();
        let batch: Vec<(String, Vec<SavedRegistration>)> = batch
            .into_iter()
            .map(|(user, contacts)| (user, saved(&contacts, now, now_ms)))
            .collect();
        let written = store
            .run_sqlite(move |s| {
                for (user, contacts) in &batch {
                    s.save_registrations(user, contacts)?;
                }
                Ok::<_, switchboard_core::store::StoreError>(())
            })
            .await;
        if let Ok(Err(e)) | Err(e) = written {
            // The registrar still has them: only a restart before the phones' next
            // refresh would miss them.
            tracing::warn!("registrations not kept for the next start: {e}");
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

fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
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
