//! Subscriptions (RFC 6665 SUBSCRIBE/NOTIFY: message-summary, dialog, presence), sans-IO:
//! which expiry a SUBSCRIBE gets, and the table of live subscriptions with the dialog
//! state each NOTIFY needs. Time comes in as an [`Instant`] from the caller.
//!
//! A subscription is a dialog of its own, keyed by Call-ID and both tags. Its owner is
//! the authenticated user and the mailbox is always that user's own: the request
//! handler checks that before anything reaches this table.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::registrar::Transport;

/// The shortest subscription granted; shorter gets 423 with `Min-Expires`.
pub const MIN_SUBSCRIBE_EXPIRES: u32 = 60;
/// The longest subscription granted; longer asks are shortened to it.
pub const MAX_SUBSCRIBE_EXPIRES: u32 = 3600;
/// The expiry of a SUBSCRIBE without `Expires` (RFC 3842 section 4).
pub const DEFAULT_SUBSCRIBE_EXPIRES: u32 = 3600;
/// A mailbox's subscriptions past this replace its oldest: a phone that rebooted
/// without unsubscribing must not lock out its successor.
pub const MAX_SUBSCRIPTIONS_PER_MAILBOX: usize = 8;
/// All subscriptions; past it the one closest to expiring goes.
const MAX_SUBSCRIPTIONS: usize = 10_000;

/// What a SUBSCRIBE's `Expires` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// `Expires: 0`: end the subscription (after one last NOTIFY).
    Unsubscribe,
    /// Granted for this many seconds.
    Grant(u32),
    /// Shorter than [`MIN_SUBSCRIBE_EXPIRES`]: 423 Interval Too Brief.
    TooBrief,
}

/// The expiry granted for a SUBSCRIBE whose `Expires` says `requested`.
pub fn expiry(requested: Option<u32>) -> Expiry {
    match requested {
        None => Expiry::Grant(DEFAULT_SUBSCRIBE_EXPIRES),
        Some(0) => Expiry::Unsubscribe,
        Some(n) if n < MIN_SUBSCRIBE_EXPIRES => Expiry::TooBrief,
        Some(n) => Expiry::Grant(n.min(MAX_SUBSCRIBE_EXPIRES)),
    }
}

/// One subscription dialog, as the subscriber's requests identify it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogKey {
    pub call_id: String,
    /// The subscriber's tag (its From tag; the To tag of our NOTIFYs).
    pub remote_tag: String,
    /// Our tag (the To tag of our 200; the From tag of our NOTIFYs).
    pub local_tag: String,
}

/// What a subscription watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Package {
    /// `message-summary` (RFC 3842): the subscriber's own mailbox, its lamp.
    MessageSummary,
    /// `dialog` (RFC 4235): an extension's line, a busy lamp on another phone.
    Dialog,
    /// `presence` (RFC 3856): whether an extension is reachable and on the phone, for
    /// a phone's contact list.
    Presence,
}

/// A live subscription and what a NOTIFY in its dialog is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub key: DialogKey,
    pub package: Package,
    /// What is watched: the mailbox (the authenticated subscriber's own) or the
    /// extension whose line lights the lamp.
    pub resource: String,
    /// The subscriber's address of record (its From URI): the To of our NOTIFYs.
    pub remote_uri: String,
    /// The resource subscribed to (the To URI of the SUBSCRIBE): our NOTIFYs' From.
    pub local_uri: String,
    /// Where NOTIFYs are addressed: the subscriber's Contact.
    pub target: String,
    /// Where the SUBSCRIBE came from; NOTIFYs are sent there (NAT).
    pub source: SocketAddr,
    pub transport: Transport,
    /// The `id` parameter of the SUBSCRIBE's `Event`, repeated in every NOTIFY.
    pub event_id: Option<String>,
    pub expires_at: Instant,
    /// The CSeq of our last NOTIFY in this dialog.
    pub cseq: u32,
}

impl Subscription {
    /// Whole seconds left at `now` (for `Subscription-State: active;expires=N`).
    pub fn expires_in(&self, now: Instant) -> u32 {
        let left = self.expires_at.saturating_duration_since(now);
        u32::try_from(left.as_secs()).unwrap_or(u32::MAX)
    }
}

/// Every live subscription, by dialog.
#[derive(Default)]
pub struct Subscriptions {
    live: HashMap<DialogKey, Subscription>,
}

impl Subscriptions {
    pub fn new() -> Subscriptions {
        Subscriptions::default()
    }

    /// Adds a new subscription, replacing the mailbox's oldest past the limits (an
    /// expired one not yet swept first: it expires soonest).
    pub fn insert(&mut self, subscription: Subscription) {
        let mailbox: Vec<&Subscription> = self
            .live
            .values()
            .filter(|s| s.resource == subscription.resource && s.package == subscription.package)
            .collect();
        let evict = if mailbox.len() >= MAX_SUBSCRIPTIONS_PER_MAILBOX {
            mailbox.into_iter().min_by_key(|s| s.expires_at)
        } else if self.live.len() >= MAX_SUBSCRIPTIONS {
            self.live.values().min_by_key(|s| s.expires_at)
        } else {
            None
        };
        if let Some(key) = evict.map(|s| s.key.clone()) {
            self.live.remove(&key);
        }
        self.live.insert(subscription.key.clone(), subscription);
    }

    /// The live subscription of a dialog at `now`.
    pub fn get(&self, key: &DialogKey, now: Instant) -> Option<&Subscription> {
        self.live.get(key).filter(|s| s.expires_at > now)
    }

    /// Extends a live subscription by `seconds` from `now`; none if it is not live.
    pub fn refresh(&mut self, key: &DialogKey, seconds: u32, now: Instant) -> Option<()> {
        let subscription = self.live.get_mut(key).filter(|s| s.expires_at > now)?;
        subscription.expires_at = now + Duration::from_secs(seconds.into());
        Some(())
    }

    /// Ends a subscription, returning it for its last NOTIFY.
    pub fn remove(&mut self, key: &DialogKey) -> Option<Subscription> {
        self.live.remove(key)
    }

    /// Takes the next CSeq of a live subscription for a NOTIFY, returning the
    /// subscription as it then is.
    pub fn next_notify(&mut self, key: &DialogKey, now: Instant) -> Option<Subscription> {
        let subscription = self.live.get_mut(key).filter(|s| s.expires_at > now)?;
        subscription.cseq += 1;
        Some(subscription.clone())
    }

    /// How many subscriptions are live at `now`.
    pub fn live_count(&self, now: Instant) -> usize {
        self.live.values().filter(|s| s.expires_at > now).count()
    }

    /// Every resource with a live subscription in `package`, once each.
    pub fn resources(&self, package: Package, now: Instant) -> Vec<String> {
        let mut resources: Vec<String> = self
            .live
            .values()
            .filter(|s| s.package == package && s.expires_at > now)
            .map(|s| s.resource.clone())
            .collect();
        resources.sort();
        resources.dedup();
        resources
    }

    /// The dialogs of the live subscriptions to `resource` in `package`.
    pub fn of_resource(&self, package: Package, resource: &str, now: Instant) -> Vec<DialogKey> {
        self.live
            .values()
            .filter(|s| s.package == package && s.resource == resource && s.expires_at > now)
            .map(|s| s.key.clone())
            .collect()
    }

    /// Whether a live subscription to `mailbox` came from `source`: that phone hears
    /// its lamp in its dialog and needs no unsolicited NOTIFY as well.
    pub fn covers(&self, mailbox: &str, source: SocketAddr, now: Instant) -> bool {
        self.live.values().any(|s| {
            s.package == Package::MessageSummary
                && s.resource == mailbox
                && s.source == source
                && s.expires_at > now
        })
    }

    /// Forgets the subscriptions expired at `now` and returns them.
    pub fn purge(&mut self, now: Instant) -> Vec<Subscription> {
        let expired: Vec<DialogKey> = self
            .live
            .values()
            .filter(|s| s.expires_at <= now)
            .map(|s| s.key.clone())
            .collect();
        expired
            .iter()
            .filter_map(|key| self.live.remove(key))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(mailbox: &str, n: u32, now: Instant, seconds: u64) -> Subscription {
        Subscription {
            key: DialogKey {
                call_id: format!("call-{mailbox}-{n}"),
                remote_tag: format!("r{n}"),
                local_tag: format!("l{n}"),
            },
            package: Package::MessageSummary,
            resource: mailbox.to_string(),
            remote_uri: format!("sip:{mailbox}@pbx"),
            local_uri: format!("sip:{mailbox}@pbx"),
            target: format!("sip:{mailbox}@192.0.2.1:5060"),
            source: "192.0.2.1:5060".parse().unwrap(),
            transport: Transport::Udp,
            event_id: None,
            expires_at: now + Duration::from_secs(seconds),
            cseq: 0,
        }
    }

    #[test]
    fn expiry_is_clamped_and_zero_unsubscribes() {
        assert_eq!(expiry(None), Expiry::Grant(DEFAULT_SUBSCRIBE_EXPIRES));
        assert_eq!(expiry(Some(0)), Expiry::Unsubscribe);
        assert_eq!(expiry(Some(1)), Expiry::TooBrief);
        assert_eq!(expiry(Some(MIN_SUBSCRIBE_EXPIRES - 1)), Expiry::TooBrief);
        assert_eq!(
            expiry(Some(MIN_SUBSCRIBE_EXPIRES)),
            Expiry::Grant(MIN_SUBSCRIBE_EXPIRES)
        );
        assert_eq!(expiry(Some(600)), Expiry::Grant(600));
        assert_eq!(expiry(Some(u32::MAX)), Expiry::Grant(MAX_SUBSCRIBE_EXPIRES));
    }

    #[test]
    fn a_subscription_lives_until_it_expires_unless_refreshed() {
        let t0 = Instant::now();
        let mut table = Subscriptions::new();
        let s = subscription("102", 1, t0, 60);
        let key = s.key.clone();
        table.insert(s);
        assert_eq!(
            table.of_resource(Package::MessageSummary, "102", t0),
            vec![key.clone()]
        );
        assert!(
            table
                .of_resource(Package::MessageSummary, "101", t0)
                .is_empty()
        );
        assert_eq!(table.get(&key, t0).unwrap().expires_in(t0), 60);

        let t1 = t0 + Duration::from_secs(50);
        assert_eq!(table.refresh(&key, 60, t1), Some(()));
        let t2 = t0 + Duration::from_secs(100);
        assert!(table.get(&key, t2).is_some(), "refreshed at 50 s for 60 s");
        let t3 = t0 + Duration::from_secs(110);
        assert!(table.get(&key, t3).is_none());
        assert_eq!(table.refresh(&key, 60, t3), None, "too late to refresh");
        assert_eq!(table.purge(t3).len(), 1);
        assert!(
            table
                .of_resource(Package::MessageSummary, "102", t0)
                .is_empty()
        );
    }

    #[test]
    fn notifies_count_up_and_removal_ends_the_dialog() {
        let t0 = Instant::now();
        let mut table = Subscriptions::new();
        let s = subscription("102", 1, t0, 600);
        let key = s.key.clone();
        table.insert(s);
        assert_eq!(table.next_notify(&key, t0).unwrap().cseq, 1);
        assert_eq!(table.next_notify(&key, t0).unwrap().cseq, 2);
        assert!(table.covers("102", "192.0.2.1:5060".parse().unwrap(), t0));
        assert!(!table.covers("102", "192.0.2.9:5060".parse().unwrap(), t0));
        assert_eq!(table.remove(&key).unwrap().cseq, 2);
        assert!(table.next_notify(&key, t0).is_none());
    }

    #[test]
    fn a_mailbox_keeps_its_newest_subscriptions() {
        let t0 = Instant::now();
        let mut table = Subscriptions::new();
        for n in 0..MAX_SUBSCRIPTIONS_PER_MAILBOX as u32 + 3 {
            table.insert(subscription("102", n, t0, 600 + u64::from(n)));
        }
        table.insert(subscription("101", 99, t0, 600));
        let live = table.of_resource(Package::MessageSummary, "102", t0);
        assert_eq!(live.len(), MAX_SUBSCRIPTIONS_PER_MAILBOX);
        assert!(
            !live.iter().any(|k| k.call_id == "call-102-0"),
            "the oldest went"
        );
        assert_eq!(
            table.of_resource(Package::MessageSummary, "101", t0).len(),
            1
        );
    }
}
