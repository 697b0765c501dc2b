//! REGISTER (RFC 3261 section 10): digest authentication against the
//! credential store, then the location table.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rsipstack::sip::typed::Contact;
use rsipstack::sip::{Header, HeadersExt, Scheme, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tracing::{info, warn};

use super::SipError;
use super::registrar::{
    ContactUpdate, MIN_EXPIRES, RegisterContext, RegisterError, RegisterRequest, Registration,
    Transport,
};
use super::server::{Shared, reply, source, user_of};

impl Shared {
    /// Answers a REGISTER: 401 to challenge, 403 for failed credentials or
    /// someone else's address, 423 for too short an expiry, else 200 with the
    /// extension's contacts.
    pub(super) async fn register(self: &Arc<Self>, tx: &mut Transaction) -> Result<(), SipError> {
        let Some((source, transport)) = source(tx) else {
            return reply(tx, StatusCode::BadRequest, vec![]).await;
        };
        let Some(user) = self.sign_in(tx, source, "registration", vec![]).await? else {
            return Ok(());
        };
        let aor = tx.original.to_header()?.uri()?;
        if user_of(&aor).as_deref() != Some(user.as_str()) {
            warn!(%user, %aor, %source, "registration failed: authenticated for another user's address");
            return reply(tx, StatusCode::Forbidden, vec![]).await;
        }
        let Ok(contacts) = tx.original.typed_contact_headers() else {
            return reply(tx, StatusCode::BadRequest, vec![]).await;
        };
        let fetch = contacts.is_empty();
        let request = if fetch {
            RegisterRequest::Fetch
        } else if contacts.iter().any(is_wildcard) {
            if contacts.len() > 1 {
                return reply(tx, StatusCode::BadRequest, vec![]).await;
            }
            RegisterRequest::RemoveAll
        } else {
            RegisterRequest::Update(
                contacts
                    .iter()
                    .map(|c| ContactUpdate {
                        uri: c.uri.to_string(),
                        expires: c.expires(),
                    })
                    .collect(),
            )
        };
        let context = RegisterContext {
            expires_header: tx
                .original
                .expires_header()
                .and_then(|e| e.value().trim().parse().ok()),
            source,
            transport,
            user_agent: tx
                .original
                .user_agent_header()
                .map(|u| u.value().to_string()),
        };
        let now = Instant::now();
        let (before, applied) = {
            let mut registrar = self.registrar.lock().expect("registrar lock");
            let before = shown(&registrar.live(&user, now));
            let applied = registrar.apply(&user, request, context, now);
            // Told under the registrar's lock, so the copy kept for the next start sees
            // two REGISTERs of one user in the order they were applied.
            if let (Ok(bindings), false) = (&applied, fetch) {
                self.registrations_changed(&user, bindings);
            }
            (before, applied)
        };
        match applied {
            Ok(bindings) => {
                let contacts: Vec<&str> = bindings.iter().map(|b| b.contact.as_str()).collect();
                info!(%user, %source, ?contacts, "registered");
                if !bindings.is_empty()
                    && let Some(watch) = &*self.registered.lock().expect("registered lock")
                {
                    let _ = watch.send(user.clone());
                }
                let headers = bindings
                    .iter()
                    .map(|b| {
                        let contact = format!("<{}>;expires={}", b.contact, b.expires_in(now));
                        Header::Contact(contact.into())
                    })
                    .collect();
                reply(tx, StatusCode::OK, headers).await?;
                // Watchers hear the extension come or go, and so does the office view —
                // which a phone refreshing the same binding every minute or so does not
                // change, so it wakes no browser.
                if !fetch {
                    if shown(&bindings) != before {
                        self.tell_office();
                    }
                    self.registration_changed(&user).await;
                }
                Ok(())
            }
            Err(RegisterError::IntervalTooBrief) => {
                warn!(%user, %source, "registration refused: expiry shorter than {MIN_EXPIRES} s");
                let min = Header::MinExpires(MIN_EXPIRES.to_string().into());
                reply(tx, StatusCode::IntervalTooBrief, vec![min]).await
            }
            Err(RegisterError::BadWildcard) => reply(tx, StatusCode::BadRequest, vec![]).await,
        }
    }
}

/// What the office view shows of an extension's bindings, in a fixed order: a REGISTER
/// that leaves this as it was (a refresh, with only the expiry moved) changes nothing
/// there.
fn shown(bindings: &[Registration]) -> Vec<(String, SocketAddr, Transport, Option<String>)> {
    let mut shown: Vec<_> = bindings
        .iter()
        .map(|b| {
            (
                b.contact.clone(),
                b.source,
                b.transport,
                b.user_agent.clone(),
            )
        })
        .collect();
    shown.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    shown
}

fn is_wildcard(contact: &Contact) -> bool {
    matches!(&contact.uri.scheme, Some(Scheme::Other(s)) if s == "*")
}
