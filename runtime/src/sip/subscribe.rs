//! SUBSCRIBE to `message-summary` (RFC 3842 over RFC 6665), to `dialog` (RFC 4235) and
//! to `presence` (RFC 3856), and the NOTIFYs in each subscription's dialog: a phone asks
//! for its own mailbox's lamp, for the busy lamp of any extension's line, or for an
//! extension's presence in its contact list, proves who it is with a digest
//! like REGISTER, and hears the state at once and on every change.
//!
//! Refusals never invite a storm: every SUBSCRIBE first takes a token from its
//! address's bucket (`rate`; over it, 503 with `Retry-After`), failures count toward
//! the same throttle as REGISTER, a too short expiry gets `Min-Expires`, and another
//! event package gets 489 with `Allow-Events` so the phone knows not to ask again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::sip::param::Tag;
use rsipstack::sip::typed::{Contact, From as FromHeader, To as ToHeader};
use rsipstack::sip::{Header, HeadersExt, Method, Param, StatusCode, StatusCodeKind, Uri};
use rsipstack::transaction::make_tag;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::SipAddr;
use tracing::{debug, info, warn};

use super::rate::Rate;
use super::registrar::Transport;
use super::server::{Shared, reply, source, user_of};
use super::subscriptions::{
    DialogKey, Expiry, MIN_SUBSCRIBE_EXPIRES, Package, Subscription, expiry,
};
use super::{SipError, dialog_info, mwi, presence};

/// How long a phone refused for its credentials or its mailbox is asked to wait.
const RETRY_AFTER_REFUSAL: Duration = Duration::from_secs(300);

/// The state a NOTIFY reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SubscriptionState {
    Active,
    /// The last NOTIFY of a subscription that ended (unsubscribed or fetched).
    Terminated,
}

impl Shared {
    /// Answers a SUBSCRIBE, in a dialog (refresh or unsubscribe) or outside one (a
    /// new subscription), and sends the NOTIFY that follows a success.
    pub(super) async fn subscribe(self: &Arc<Self>, tx: &mut Transaction) -> Result<(), SipError> {
        let Some((source, transport)) = source(tx) else {
            return reply(tx, StatusCode::BadRequest, vec![]).await;
        };
        let rate = self
            .rate
            .lock()
            .expect("rate lock")
            .take(source.ip(), Instant::now());
        if let Rate::Exceeded { retry_after } = rate {
            debug!(%source, "SUBSCRIBE over the rate");
            return reply(tx, StatusCode::ServiceUnavailable, vec![retry(retry_after)]).await;
        }
        let Some((package, event_id)) = event_of(tx) else {
            let allow = Header::Other("Allow-Events".into(), ALLOW_EVENTS.into());
            return reply(tx, StatusCode::BadEvent, vec![allow]).await;
        };
        let refusal = vec![retry(RETRY_AFTER_REFUSAL)];
        let Some(user) = self
            .sign_in(tx, source, "message-waiting subscription", refusal)
            .await?
        else {
            return Ok(());
        };
        let from_user = user_of(&tx.original.from_header()?.uri()?);
        if from_user.as_deref() != Some(user.as_str()) {
            warn!(%user, ?from_user, %source, "subscription refused: authenticated as someone else");
            return reply(tx, StatusCode::Forbidden, vec![retry(RETRY_AFTER_REFUSAL)]).await;
        }
        let requested = tx
            .original
            .expires_header()
            .and_then(|e| e.value().trim().parse::<u32>().ok());
        let granted = match expiry(requested) {
            Expiry::TooBrief => {
                let min = Header::MinExpires(MIN_SUBSCRIBE_EXPIRES.to_string().into());
                return reply(tx, StatusCode::IntervalTooBrief, vec![min]).await;
            }
            e => e,
        };
        let now = Instant::now();
        let remote_tag = tx
            .original
            .from_header()?
            .tag()?
            .map(|t| t.value().to_string())
            .unwrap_or_default();
        let call_id = tx.original.call_id_header()?.value().to_string();

        if let Some(local_tag) = tx.original.to_header()?.tag()? {
            // A refresh or an unsubscribe in an existing subscription's dialog.
            let key = DialogKey {
                call_id,
                remote_tag,
                local_tag: local_tag.value().to_string(),
            };
            // Inside the dialog the Request-URI is our Contact: the mailbox is the one
            // the dialog was made for, and only its owner refreshes or ends it.
            let owner = self
                .subscriptions
                .lock()
                .expect("subscriptions lock")
                .get(&key, now)
                .map(|s| match s.package {
                    Package::MessageSummary => s.resource.clone(),
                    // A busy lamp's or a contact's subscriber is who made it.
                    Package::Dialog | Package::Presence => Uri::try_from(s.remote_uri.as_str())
                        .ok()
                        .and_then(|u| user_of(&u))
                        .unwrap_or_default(),
                });
            match owner {
                None => {
                    return reply(tx, StatusCode::CallTransactionDoesNotExist, vec![]).await;
                }
                Some(mailbox) if mailbox != user => {
                    warn!(%user, %mailbox, %source, "message-waiting subscription refused: not the subscriber's own mailbox");
                    return reply(tx, StatusCode::Forbidden, vec![retry(RETRY_AFTER_REFUSAL)])
                        .await;
                }
                Some(_) => {}
            }
            return match granted {
                Expiry::Grant(seconds) => {
                    let _ = self
                        .subscriptions
                        .lock()
                        .expect("subscriptions lock")
                        .refresh(&key, seconds, now);
                    reply(tx, StatusCode::OK, vec![expires(seconds)]).await?;
                    debug!(%user, %source, seconds, "message-waiting subscription refreshed");
                    self.notify_subscriber(&key, SubscriptionState::Active)
                        .await
                }
                _ => {
                    reply(tx, StatusCode::OK, vec![expires(0)]).await?;
                    info!(%user, %source, "message-waiting subscription ended by the phone");
                    self.notify_subscriber(&key, SubscriptionState::Terminated)
                        .await
                }
            };
        }

        // A new subscription: what is watched is what the request names. A mailbox must
        // be the subscriber's own; any extension's line may light a busy lamp.
        let Some(resource) = user_of(&tx.original.uri) else {
            return reply(tx, StatusCode::NotFound, vec![]).await;
        };
        if package == Package::MessageSummary && resource != user {
            warn!(%user, %resource, %source, "message-waiting subscription refused: not the subscriber's own mailbox");
            return reply(tx, StatusCode::Forbidden, vec![retry(RETRY_AFTER_REFUSAL)]).await;
        }
        let Some(target) = tx
            .original
            .typed_contact_headers()
            .ok()
            .and_then(|c| c.into_iter().next())
        else {
            // RFC 6665 section 4.1.2.1: the NOTIFYs need somewhere to go.
            return reply(tx, StatusCode::BadRequest, vec![]).await;
        };
        let local_tag = make_tag().value().to_string();
        let seconds = match granted {
            Expiry::Grant(s) => s,
            _ => 0,
        };
        let key = DialogKey {
            call_id,
            remote_tag,
            local_tag: local_tag.clone(),
        };
        let subscription = Subscription {
            key: key.clone(),
            package,
            resource,
            remote_uri: tx.original.from_header()?.uri()?.to_string(),
            local_uri: tx.original.to_header()?.uri()?.to_string(),
            target: target.uri.to_string(),
            source,
            transport,
            event_id,
            // A fetch (Expires: 0) lives just long enough for its one NOTIFY.
            expires_at: now + Duration::from_secs(seconds.max(1).into()),
            cseq: 0,
        };
        self.subscriptions
            .lock()
            .expect("subscriptions lock")
            .insert(subscription);
        let to = tx.original.to_header()?.with_tag(Tag::new(local_tag));
        tx.original.headers.unique_push(to.into());
        let contact = Contact::from(self.contact(transport, source.ip()));
        reply(tx, StatusCode::OK, vec![expires(seconds), contact.into()]).await?;
        if seconds == 0 {
            debug!(%user, %source, "message-waiting state fetched");
            return self
                .notify_subscriber(&key, SubscriptionState::Terminated)
                .await;
        }
        info!(%user, %source, seconds, ?package, "subscription");
        self.notify_subscriber(&key, SubscriptionState::Active)
            .await?;
        // The counts may be stale or unknown here: the server looks them up and they
        // come back through `notify_message_waiting`.
        if package == Package::MessageSummary
            && let Some(watch) = &*self.registered.lock().expect("registered lock")
        {
            let _ = watch.send(user);
        }
        Ok(())
    }

    /// Sends a NOTIFY in a subscription's dialog with the mailbox's last known
    /// counts (no body while none are known); a terminated one ends the dialog.
    pub(super) async fn notify_subscriber(
        self: &Arc<Self>,
        key: &DialogKey,
        state: SubscriptionState,
    ) -> Result<(), SipError> {
        let now = Instant::now();
        let subscription = {
            let mut table = self.subscriptions.lock().expect("subscriptions lock");
            let next = table.next_notify(key, now);
            if state == SubscriptionState::Terminated {
                table.remove(key);
            }
            next
        };
        let Some(subscription) = subscription else {
            return Ok(());
        };
        self.send_notify(subscription, state, now).await
    }

    /// Ends the subscriptions expired at `now` (none refreshed them in time), each
    /// with a last NOTIFY saying so (RFC 6665 section 4.2.2).
    pub(super) async fn end_expired(self: &Arc<Self>, now: Instant) {
        let expired = self
            .subscriptions
            .lock()
            .expect("subscriptions lock")
            .purge(now);
        for mut subscription in expired {
            debug!(resource = %subscription.resource, source = %subscription.source, "subscription expired");
            subscription.cseq += 1;
            if let Err(e) = self
                .send_notify(subscription, SubscriptionState::Terminated, now)
                .await
            {
                warn!(error = %e, "last NOTIFY of an expired subscription not sent");
            }
        }
    }

    /// Sends one NOTIFY in `subscription`'s dialog, with its CSeq as it stands.
    async fn send_notify(
        self: &Arc<Self>,
        subscription: Subscription,
        state: SubscriptionState,
        now: Instant,
    ) -> Result<(), SipError> {
        let state_value = match state {
            SubscriptionState::Active => {
                format!("active;expires={}", subscription.expires_in(now))
            }
            SubscriptionState::Terminated => "terminated;reason=timeout".to_string(),
        };
        let transport = match subscription.transport {
            Transport::Udp => rsipstack::sip::Transport::Udp,
            Transport::Tcp => rsipstack::sip::Transport::Tcp,
        };
        let peer = subscription.source.ip();
        let ours = SipAddr::new(transport, self.addr_for(peer).into());
        let via = self.endpoint.get_via(Some(ours), None)?;
        let from = FromHeader {
            display_name: None,
            uri: Uri::try_from(subscription.local_uri.as_str())?,
            params: vec![Param::Tag(Tag::new(subscription.key.local_tag.clone()))],
        };
        let to = ToHeader {
            display_name: None,
            uri: Uri::try_from(subscription.remote_uri.as_str())?,
            params: vec![Param::Tag(Tag::new(subscription.key.remote_tag.clone()))],
        };
        let request = self.endpoint.make_request(
            Method::Notify,
            Uri::try_from(subscription.target.as_str())?,
            via,
            from,
            to,
            subscription.cseq,
            Some(subscription.key.call_id.clone().into()),
        );
        let (package_event, content_type, body) = self.state_of(&subscription);
        let event = match &subscription.event_id {
            Some(id) => format!("{package_event};id={id}"),
            None => package_event.to_string(),
        };
        let contact = self.contact(subscription.transport, peer);
        let destination = SipAddr::new(transport, subscription.source.into());
        let mut tx = self
            .send_notify_request(
                request,
                event,
                content_type,
                &state_value,
                contact,
                body,
                destination,
            )
            .await?;
        let shared = self.clone();
        let key = subscription.key.clone();
        tokio::spawn(async move {
            while let Some(message) = tx.receive().await {
                if let rsipstack::sip::SipMessage::Response(response) = message
                    && response.status_code.kind() != StatusCodeKind::Provisional
                {
                    debug!(status = %response.status_code, "NOTIFY in a subscription answered");
                    // RFC 6665 section 4.2.2: a subscriber that no longer knows the
                    // dialog (481), or refuses the NOTIFY, ends the subscription.
                    if response.status_code.kind() != StatusCodeKind::Successful {
                        shared
                            .subscriptions
                            .lock()
                            .expect("subscriptions lock")
                            .remove(&key);
                    }
                    break;
                }
            }
        });
        Ok(())
    }

    /// Sends the current state to every live subscription to `resource` in `package`.
    pub(super) async fn notify_subscribers(self: &Arc<Self>, package: Package, resource: &str) {
        let keys = self
            .subscriptions
            .lock()
            .expect("subscriptions lock")
            .of_resource(package, resource, Instant::now());
        for key in keys {
            if let Err(e) = self
                .notify_subscriber(&key, SubscriptionState::Active)
                .await
            {
                warn!(resource, error = %e, "NOTIFY in a subscription not sent");
            }
        }
    }

    /// The event, content type and body of a NOTIFY in `subscription` as things stand:
    /// a mailbox's last known counts (no body while none are known), or a line's state.
    fn state_of(&self, subscription: &Subscription) -> (&'static str, &'static str, Vec<u8>) {
        match subscription.package {
            Package::MessageSummary => {
                // A hot-desk phone's lamp is the mailbox of whoever is logged in on it.
                let mailbox = self.answers_for(&subscription.resource);
                let counts = self
                    .counts
                    .lock()
                    .expect("counts lock")
                    .get(&mailbox)
                    .copied();
                let body = counts
                    .map(|(new, saved)| mwi::summary(new, saved).into_bytes())
                    .unwrap_or_default();
                (mwi::EVENT, mwi::CONTENT_TYPE, body)
            }
            Package::Dialog => {
                let state = self
                    .lines
                    .lock()
                    .expect("lines lock")
                    .state(&subscription.resource);
                // The CSeq counts the NOTIFYs of the subscription from 1: the body's
                // version counts them from 0.
                let body = dialog_info::body(
                    &subscription.local_uri,
                    subscription.cseq.saturating_sub(1),
                    state,
                );
                (
                    dialog_info::EVENT,
                    dialog_info::CONTENT_TYPE,
                    body.into_bytes(),
                )
            }
            Package::Presence => {
                let now = self.presence_of(&subscription.resource);
                self.presence_told
                    .lock()
                    .expect("presence lock")
                    .insert(subscription.resource.clone(), now);
                let body = presence::body(&subscription.local_uri, now);
                (presence::EVENT, presence::CONTENT_TYPE, body.into_bytes())
            }
        }
    }
}

/// The events SUBSCRIBE may ask for, as `Allow-Events` lists them.
pub(super) const ALLOW_EVENTS: &str = "message-summary, dialog, presence";

/// The package of a SUBSCRIBE's `Event` and its `id` parameter; none for any other
/// event package or none at all.
fn event_of(tx: &Transaction) -> Option<(Package, Option<String>)> {
    let value = tx
        .original
        .headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case("Event") || h.name().eq_ignore_ascii_case("o"))?
        .value()
        .to_string();
    let mut parts = value.split(';').map(str::trim);
    let name = parts.next()?;
    let package = if name.eq_ignore_ascii_case(mwi::EVENT) {
        Package::MessageSummary
    } else if name.eq_ignore_ascii_case(dialog_info::EVENT) {
        Package::Dialog
    } else if name.eq_ignore_ascii_case(presence::EVENT) {
        Package::Presence
    } else {
        return None;
    };
    let id = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("id"))
        .map(|(_, v)| v.trim().to_string());
    Some((package, id))
}

fn expires(seconds: u32) -> Header {
    Header::Expires(seconds.to_string().into())
}

fn retry(after: Duration) -> Header {
    Header::RetryAfter(after.as_secs().to_string().into())
}
