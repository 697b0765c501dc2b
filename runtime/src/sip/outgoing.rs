//! A call the server places to one phone (a client INVITE dialog), as the bridge sees
//! it: ringing, answered with the phone's SDP, failed with its status, or — once
//! answered — ended by the phone's BYE; and the server's side: hang up, which is a
//! CANCEL before the answer and a BYE after it.
//!
//! A task per call places the INVITE through rsipstack (which retransmits it, ACKs the
//! answer and answers a late second 2xx with a BYE) and turns the dialog's states into
//! exactly one final [`OutgoingEvent`] after any number of `Ringing`s (a 180 or 183
//! with no SDP) and `EarlyMedia`s (one with SDP: the phone or provider will send audio
//! before it answers), and `Ended` after `Answered`. The phone's requests inside the call are answered here: a re-INVITE or
//! UPDATE with our SDP in the direction that mirrors its offer (see `reinvite`: a hold
//! becomes [`OutgoingEvent::Hold`], and an offer crossing a re-INVITE of ours gets 491),
//! INFO and OPTIONS with 200, the rest with 501. [`OutgoingHandle::hold`] holds the
//! phone by a re-INVITE of ours.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{Dialog, DialogState, TerminatedReason};
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode, Uri};
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;
use tracing::debug;

use super::registrar::{Registration, Transport};
use super::reinvite::{self, CallIdChosenBy, Offers, Renegotiated, Wish};
use super::server::Shared;
use super::{CallerId, SipError};
use crate::media::hold_sdp;
use crate::media::sdp::Direction;

/// What the phone did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutgoingEvent {
    /// 180 or 183 with no SDP.
    Ringing,
    /// 180 or 183 carrying this SDP: early media (RFC 3960) will come from where it says.
    EarlyMedia { sdp: String },
    /// 2xx, with the SDP of its answer.
    Answered { sdp: String },
    /// A final failure with this status, or none when no answer came (a timeout, a
    /// transport error).
    Failed(Option<u16>),
    /// The phone hung up after answering, or the dialog ended for want of a BYE's answer.
    Ended,
    /// Once answered, the phone put the call on hold (a re-INVITE or UPDATE offering
    /// `a=sendonly`, `a=inactive` or `c=0.0.0.0`).
    Hold,
    /// The phone took the call off hold.
    Resume,
}

/// One call placed to one phone.
pub struct OutgoingCall {
    /// What the phone did, as it happens; closed after the last event.
    pub events: mpsc::UnboundedReceiver<OutgoingEvent>,
    /// Our side of it, which may be kept apart from the events.
    pub handle: OutgoingHandle,
}

/// Our side of a call placed to one phone: whom it went to, and hanging up.
#[derive(Clone)]
pub struct OutgoingHandle {
    dialog: Arc<Mutex<DialogSlot>>,
    /// Where the phone is (its registration's source), for the log and the trace.
    pub target: SocketAddr,
}

impl OutgoingCall {
    /// What the phone did, as it happens; closed after the last event.
    pub fn events(&mut self) -> &mut mpsc::UnboundedReceiver<OutgoingEvent> {
        &mut self.events
    }

    /// See [`OutgoingHandle::hang_up`].
    pub fn hang_up(&self) {
        self.handle.hang_up();
    }
}

impl OutgoingHandle {
    /// Ends the call from our side: CANCEL while it rings, BYE once answered. Returns at
    /// once: the outcome arrives as the call's last event. Ending an ended call does
    /// nothing.
    pub fn hang_up(&self) {
        let mut slot = self.dialog.lock().expect("dialog lock");
        slot.hang_up = true;
        if let Some(dialog) = &slot.dialog {
            hang_up(dialog.clone());
        }
    }

    /// Holds the phone (a re-INVITE of ours offering `a=sendonly`, so it shows the call
    /// held and hears what we send) or takes it off hold (`a=sendrecv`). Returns at once;
    /// does nothing before the phone answered.
    pub fn hold(&self, on: bool) {
        if let Some(wish) = &self.dialog.lock().expect("dialog lock").wish {
            wish.hold(on);
        }
    }
}

/// The call's dialog once rsipstack made it, and whether we hung up before that: both
/// under one lock, so a hang-up that comes before the dialog is carried out when it
/// arrives.
#[derive(Default)]
struct DialogSlot {
    dialog: Option<InviteDialog>,
    hang_up: bool,
    /// Whether we hold the phone, once it answered; dropped with the last handle and the
    /// dialog's task, which ends the task sending our re-INVITEs.
    wish: Option<Wish>,
}

fn hang_up(dialog: InviteDialog) {
    tokio::spawn(async move {
        if let Err(e) = dialog.hangup().await {
            debug!(id = %dialog.id(), error = %e, "hanging up an outgoing call");
        }
    });
}

impl Shared {
    /// Calls the phone registered as `registration` for `callee` (the extension rung),
    /// from `caller`, offering `sdp`.
    pub(super) fn place_call(
        self: &Arc<Self>,
        registration: &Registration,
        callee: &str,
        caller: &CallerId,
        sdp: String,
    ) -> Result<OutgoingCall, SipError> {
        let target = Uri::try_from(registration.contact.as_str())?;
        let peer = registration.source.ip();
        let transport = match registration.transport {
            Transport::Udp => rsipstack::sip::Transport::Udp,
            Transport::Tcp => rsipstack::sip::Transport::Tcp,
        };
        let mut from = self.contact(Transport::Udp, peer);
        from.auth = Some(rsipstack::sip::Auth {
            user: caller.number.clone(),
            password: None,
        });
        let mut to = target.clone();
        to.auth = Some(rsipstack::sip::Auth {
            user: callee.to_string(),
            password: None,
        });
        let option = InviteOption {
            caller_display_name: caller.name.clone(),
            caller: from,
            callee: target,
            destination: Some(SipAddr::new(transport, registration.source.into())),
            content_type: Some("application/sdp".into()),
            offer: Some(sdp.into_bytes()),
            contact: self.contact(registration.transport, peer),
            headers: Some(vec![Header::Other(
                "Allow".into(),
                super::screen::ALLOW.into(),
            )]),
            ..Default::default()
        };
        Ok(self.start_call(option, registration.source))
    }

    /// Places the INVITE `option` describes, to `target`, and follows its dialog.
    pub(super) fn start_call(
        self: &Arc<Self>,
        option: InviteOption,
        target: SocketAddr,
    ) -> OutgoingCall {
        let (events_tx, events) = mpsc::unbounded_channel();
        let dialog = Arc::new(Mutex::new(DialogSlot::default()));
        tokio::spawn(follow(self.clone(), option, events_tx, dialog.clone()));
        OutgoingCall {
            events,
            handle: OutgoingHandle { dialog, target },
        }
    }
}

/// Places the INVITE and follows its dialog until it ends.
async fn follow(
    shared: Arc<Shared>,
    option: InviteOption,
    events: mpsc::UnboundedSender<OutgoingEvent>,
    slot: Arc<Mutex<DialogSlot>>,
) {
    let (states_tx, mut states) = shared.dialogs.new_dialog_state_channel();
    let dialogs = shared.dialogs.clone();
    // Our offer, narrowed to what the phone's answer chose, is what we answer its
    // re-INVITEs with and offer in ours.
    let offer = String::from_utf8_lossy(&option.offer.clone().unwrap_or_default()).into_owned();
    let offers = Arc::new(Offers::default());
    let mut wished = None;
    let invite = tokio::spawn(async move { dialogs.do_invite(option, states_tx).await });
    let mut answered = false;
    let mut finished = false;
    let mut id: Option<DialogId> = None;
    while let Some(state) = states.recv().await {
        match state {
            DialogState::Calling(early) => {
                if let Some(Dialog::Invite(d)) = shared.dialogs.get_dialog(&early) {
                    let mut slot = slot.lock().expect("dialog lock");
                    if slot.hang_up {
                        hang_up(d.clone());
                    }
                    slot.dialog = Some(d);
                }
                id = Some(early);
            }
            DialogState::Early(_, response) if !finished => {
                let sdp = String::from_utf8_lossy(&response.body);
                let event = if sdp.trim().is_empty() {
                    OutgoingEvent::Ringing
                } else {
                    OutgoingEvent::EarlyMedia {
                        sdp: sdp.into_owned(),
                    }
                };
                events.send(event).ok();
            }
            DialogState::Confirmed(confirmed, response) if !finished => {
                answered = true;
                finished = true;
                id = Some(confirmed);
                let sdp = String::from_utf8_lossy(&response.body).into_owned();
                offers.set_ours(hold_sdp::narrowed(&offer, &sdp), &offer);
                let mut slot = slot.lock().expect("dialog lock");
                if let Some(dialog) = &slot.dialog {
                    let (wish, watch) = Wish::new();
                    wished = Some(wish.watch());
                    // We chose the Call-ID.
                    reinvite::send_offers(
                        dialog.clone(),
                        offers.clone(),
                        watch,
                        CallIdChosenBy::Us,
                    );
                    slot.wish = Some(wish);
                }
                events.send(OutgoingEvent::Answered { sdp }).ok();
            }
            DialogState::Updated(_, request, handle) => {
                let wish = wished.as_ref().map_or(Direction::SendRecv, |w| *w.borrow());
                match reinvite::answer(&offers, wish, &request, handle).await {
                    Renegotiated::Held => events.send(OutgoingEvent::Hold).ok(),
                    Renegotiated::Resumed => events.send(OutgoingEvent::Resume).ok(),
                    Renegotiated::Unchanged | Renegotiated::Refused => None,
                };
            }
            DialogState::Info(_, _, handle) | DialogState::Options(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Notify(_, _, handle)
            | DialogState::Refer(_, _, handle)
            | DialogState::Message(_, _, handle)
            | DialogState::Publish(_, _, handle) => {
                handle.reply(StatusCode::NotImplemented).await.ok();
            }
            DialogState::Terminated(ended, reason) => {
                debug!(id = %ended, ?reason, "outgoing call ended");
                shared.dialogs.remove_dialog(&ended);
                if answered {
                    events.send(OutgoingEvent::Ended).ok();
                } else if !finished {
                    events.send(OutgoingEvent::Failed(status_of(&reason))).ok();
                }
                finished = true;
                break;
            }
            _ => {}
        }
    }
    // The INVITE's own outcome, for a failure the states did not carry.
    let outcome = invite.await;
    if !finished {
        let status = match outcome {
            Ok(Ok((_, Some(response)))) => Some(response.status_code.code()),
            _ => None,
        };
        events.send(OutgoingEvent::Failed(status)).ok();
    }
    if let Some(id) = id {
        shared.dialogs.remove_dialog(&id);
    }
}

/// The status a dialog that ended unanswered was refused with, where the reason says.
fn status_of(reason: &TerminatedReason) -> Option<u16> {
    match reason {
        TerminatedReason::UasBusy => Some(486),
        TerminatedReason::UasDecline => Some(603),
        TerminatedReason::ProxyAuthRequired => Some(407),
        TerminatedReason::UasOther(code) | TerminatedReason::ProxyError(code) => Some(code.code()),
        _ => None,
    }
}
