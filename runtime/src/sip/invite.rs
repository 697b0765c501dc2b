//! A new INVITE: from a trunk's address (over TCP only, when the trunk asks), signed in
//! as a trunk's user, or authenticated as its From user, it becomes an [`IncomingCall`]
//! with a [`CallLeg`]; anything else is refused before a dialog exists.

use std::net::SocketAddr;

use rsipstack::dialog::DialogId;
use rsipstack::sip::{Header, HeadersExt, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tracing::{debug, info, warn};

use super::auth::AuthVerdict;
use super::door::INVITE_CREDENTIALS;
use super::registrar::Transport;
use super::server::{Shared, Trunk, refuse, source, user_of};
use super::{CallLeg, CallOrigin, IncomingCall, SipError};

impl Shared {
    /// Handles an INVITE outside a dialog until its transaction ends: the
    /// refusal and its ACK, or the call's answer and its ACK (or CANCEL).
    pub(super) async fn invite(&self, mut tx: Transaction) -> Result<(), SipError> {
        let Some((source, transport)) = source(&tx) else {
            return refuse(tx, StatusCode::BadRequest, vec![]).await;
        };
        let from_user = user_of(&tx.original.from_header()?.uri()?);
        let origin = match self.trunk_at(source, transport) {
            Some(trunk) => CallOrigin::Trunk {
                name: trunk.name.clone(),
                number: from_user.unwrap_or_default(),
            },
            None => {
                if !self.admit(source.ip()).await {
                    return refuse(tx, StatusCode::Forbidden, vec![]).await;
                }
                match self.authenticate(&tx, &INVITE_CREDENTIALS) {
                    AuthVerdict::Authenticated { user } if self.trunk_of_user(&user).is_some() => {
                        CallOrigin::Trunk {
                            name: self.trunk_of_user(&user).unwrap_or_default(),
                            number: from_user.unwrap_or_default(),
                        }
                    }
                    AuthVerdict::Authenticated { user } if from_user.as_deref() == Some(&user) => {
                        CallOrigin::Extension {
                            number: user,
                            source,
                        }
                    }
                    AuthVerdict::Authenticated { user } => {
                        debug!(%user, ?from_user, "INVITE authenticated as another user");
                        return refuse(tx, StatusCode::Forbidden, vec![]).await;
                    }
                    verdict @ (AuthVerdict::Challenge | AuthVerdict::Stale) => {
                        let headers = self
                            .challenges(verdict == AuthVerdict::Stale)
                            .into_iter()
                            .map(|c| Header::ProxyAuthenticate(c.into()))
                            .collect();
                        return refuse(tx, StatusCode::ProxyAuthenticationRequired, headers).await;
                    }
                    AuthVerdict::Refused => {
                        return refuse(tx, StatusCode::Forbidden, vec![]).await;
                    }
                    AuthVerdict::Rejected => {
                        // One line per evaluated failure, for fail2ban-style tools: the
                        // per-address throttle bounds how many an address can cause.
                        warn!(user = ?self.claimed_user(&tx, &INVITE_CREDENTIALS), %source, "INVITE failed: wrong password, unknown user or bad credentials");
                        return refuse(tx, StatusCode::Forbidden, vec![]).await;
                    }
                }
            }
        };
        let Some(dialled) = tx.original.uri.auth.as_ref().map(|a| a.user.clone()) else {
            return refuse(tx, StatusCode::NotFound, vec![]).await;
        };
        if tx.original.contact_header().is_err() {
            // RFC 3261 section 8.1.1.8: an INVITE must say where to reach the caller.
            return refuse(tx, StatusCode::BadRequest, vec![]).await;
        }
        let sip_call_id = tx.original.call_id_header()?.value().to_string();
        let called = tx
            .original
            .to_header()
            .ok()
            .and_then(|to| to.uri().ok())
            .and_then(|uri| user_of(&uri));
        let sdp_offer = String::from_utf8_lossy(&tx.original.body).into_owned();
        let (states_tx, states) = self.dialogs.new_dialog_state_channel();
        let created = self.dialogs.get_or_create_server_invite(
            &tx,
            states_tx,
            None,
            Some(self.contact(transport, source.ip())),
        );
        let mut dialog = match created {
            Ok(dialog) => dialog,
            Err(e) => {
                warn!(call_id = %sip_call_id, error = %e, "no dialog for an INVITE");
                return refuse(tx, StatusCode::ServerInternalError, vec![]).await;
            }
        };
        if transport == Transport::Udp {
            self.follow_nat(&tx, &dialog.id(), source);
        }
        let leg = CallLeg::start(
            self.reach.for_peer(source.ip()),
            dialog.clone(),
            states,
            self.dialogs.clone(),
            self.stop.child_token(),
        );
        let call = IncomingCall {
            sip_call_id,
            origin,
            dialled,
            called,
            sdp_offer,
            leg,
        };
        info!(call_id = %call.sip_call_id, origin = ?call.origin, dialled = %call.dialled, "incoming call");
        if let Err(e) = self.calls.try_send(call) {
            warn!(error = %e, "the engine is not taking calls");
            dialog.reject(Some(StatusCode::ServiceUnavailable), None)?;
        }
        // Sends 100 Trying, then the leg's answers as the engine gives them,
        // until the ACK or a CANCEL.
        dialog.handle(&mut tx).await?;
        Ok(())
    }

    /// The trunk an INVITE from `source` over `transport` belongs to by its address.
    fn trunk_at(&self, source: SocketAddr, transport: Transport) -> Option<Trunk> {
        let trunks = self
            .trunks
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        trunks
            .iter()
            .find(|t| t.trusts(source, transport == Transport::Tcp))
            .cloned()
    }

    /// A phone behind NAT puts its private address in Contact; requests in
    /// the dialog (our BYE) then go to the address the INVITE came from.
    fn follow_nat(&self, tx: &Transaction, id: &DialogId, source: SocketAddr) {
        let Some(contact) = tx
            .original
            .typed_contact_headers()
            .ok()
            .and_then(|c| c.into_iter().next())
        else {
            return;
        };
        let advertised = SocketAddr::try_from(contact.uri.host_with_port.clone()).ok();
        if advertised == Some(source) {
            return;
        }
        let mut target = contact.uri.clone();
        target.host_with_port = source.into();
        if let Some(dialog) = self.dialogs.get_dialog(id) {
            debug!(%source, contact = %contact.uri, "dialog target follows the INVITE's source");
            dialog.set_remote_target(target, tx.original.contact_header().ok().cloned());
        }
    }
}
