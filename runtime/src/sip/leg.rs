//! One server INVITE dialog, as the engine's call sees it: answer, reject or
//! hang up, and the caller's hang-up, DTMF and re-INVITEs as events.
//!
//! A task per leg reads the dialog's state changes from rsipstack, answers the
//! in-dialog requests that need the leg's SDP (re-INVITE, UPDATE: see `reinvite`,
//! which also refuses one that crosses ours with 491) or nothing from the engine
//! (INFO, OPTIONS), and turns the rest into [`LegEvent`]s, a hold and its end among
//! them. [`CallLeg::hold`] puts the caller on hold by a re-INVITE of ours.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, HeadersExt, Method, Request, StatusCode};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::SipError;
use super::reinvite::{self, CallIdChosenBy, Offers, Renegotiated, Wish};
use crate::media::sdp::Direction;

/// Events a leg queues before the engine reads them; past this the leg's task
/// waits for the engine.
const EVENT_QUEUE: usize = 64;

/// Something the caller's side did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegEvent {
    /// The caller hung up (BYE), gave up before the answer (CANCEL), or never
    /// acknowledged the answer.
    Hangup,
    /// A key pressed, sent as SIP INFO (`application/dtmf-relay` or
    /// `application/dtmf`).
    Dtmf(char),
    /// The caller sent a re-INVITE that neither put the call on hold nor took
    /// it off; it was answered with the call's SDP.
    ReInvite,
    /// The caller put the call on hold (a re-INVITE or UPDATE offering
    /// `a=sendonly`, `a=inactive` or `c=0.0.0.0`), answered `a=recvonly` or
    /// `a=inactive`.
    Hold,
    /// The caller took the call off hold (`a=sendrecv` again).
    Resume,
}

/// How far the call has come, as the leg's task saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Offered,
    Answered,
    Confirmed,
    Ended,
}

/// One server INVITE dialog.
pub struct CallLeg {
    dialog: InviteDialog,
    /// The phase, written only by the leg's task, which lives until the dialog
    /// ends.
    phase: watch::Receiver<Phase>,
    /// Set once `answer` sent the 200 OK.
    answered: AtomicBool,
    /// Set by the leg's task when the ACK came, and never cleared: the caller
    /// may hang up right after it.
    acked: Arc<AtomicBool>,
    /// Our SDP and our re-INVITE in flight, shared with the leg's task and the
    /// task sending our re-INVITEs.
    offers: Arc<Offers>,
    /// Whether we hold the caller; dropping it ends the task sending our
    /// re-INVITEs.
    wish: Wish,
    /// Events from the leg's task; closed when the dialog has ended.
    events: mpsc::Receiver<LegEvent>,
    /// Our address as the caller reaches it (see `reach`).
    local_ip: IpAddr,
}

impl CallLeg {
    /// Wraps a new server dialog and starts the task that follows it, until
    /// the dialog ends or `stop` fires (the server shutting down, which the
    /// engine sees as the caller hanging up).
    pub(super) fn start(
        local_ip: IpAddr,
        dialog: InviteDialog,
        states: DialogStateReceiver,
        dialogs: Arc<DialogLayer>,
        stop: CancellationToken,
    ) -> CallLeg {
        let (phase_tx, phase) = watch::channel(Phase::Offered);
        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        let offers = Arc::new(Offers::default());
        let (wish, wished) = Wish::new();
        let acked = Arc::new(AtomicBool::new(false));
        tokio::spawn(follow(
            states,
            phase_tx,
            events_tx,
            Shared {
                offers: offers.clone(),
                wish: wish.watch(),
                acked: acked.clone(),
            },
            dialogs,
            stop,
        ));
        // The caller chose the Call-ID.
        reinvite::send_offers(
            dialog.clone(),
            offers.clone(),
            wished,
            CallIdChosenBy::ThePhone,
        );
        CallLeg {
            dialog,
            phase,
            answered: AtomicBool::new(false),
            acked,
            offers,
            wish,
            events,
            local_ip,
        }
    }

    /// Our address as the caller reaches it: what our SDP's `c=` line must carry so
    /// the caller's media arrives (the `public-ip` setting, or the local address of
    /// the interface its INVITE came in on).
    pub fn local_ip(&self) -> IpAddr {
        self.local_ip
    }

    /// Sends 180 Ringing.
    pub async fn ringing(&self) -> Result<(), SipError> {
        self.unanswered()?;
        self.dialog.ringing(None, None)?;
        Ok(())
    }

    /// Sends 183 Session Progress carrying `sdp`, so the caller hears early media
    /// (RFC 3960). It must be the SDP the 200 will carry: an offer gets one answer
    /// (RFC 3264), and the caller's phone takes this one as it.
    pub async fn session_progress(&self, sdp: String) -> Result<(), SipError> {
        self.unanswered()?;
        self.dialog
            .ringing(Some(vec![sdp_type()]), Some(sdp.into_bytes()))?;
        Ok(())
    }

    /// Answers with 200 OK carrying `sdp`, and returns once the caller's ACK
    /// arrived (rsipstack retransmits the 200 until then). Fails with
    /// [`SipError::CallEnded`] if the caller cancelled first or never sent the
    /// ACK.
    pub async fn answer(&self, sdp: String) -> Result<(), SipError> {
        self.unanswered()?;
        if self.answered.swap(true, Ordering::SeqCst) {
            return Err(SipError::WrongState("the call is already answered"));
        }
        self.offers.set_ours(sdp.clone(), &sdp);
        self.dialog
            .accept(Some(vec![sdp_type()]), Some(sdp.into_bytes()))?;
        let mut phase = self.phase.clone();
        // An error means the task is gone, so the call has ended too.
        let _ = phase
            .wait_for(|p| matches!(p, Phase::Confirmed | Phase::Ended))
            .await;
        if self.acked.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(SipError::CallEnded)
        }
    }

    /// Refuses the call with a final status (404, 486, 488, 503, ...).
    pub async fn reject(&self, code: u16) -> Result<(), SipError> {
        if !(300..700).contains(&code) {
            return Err(SipError::WrongState(
                "a call is rejected with a 3xx-6xx status",
            ));
        }
        self.unanswered()?;
        if self.answered.load(Ordering::SeqCst) {
            return Err(SipError::WrongState("the call is already answered"));
        }
        self.dialog.reject(Some(StatusCode::from(code)), None)?;
        Ok(())
    }

    /// Ends the call: BYE once answered, 480 before. Ending an ended call is
    /// not an error.
    pub async fn hangup(&self) -> Result<(), SipError> {
        if *self.phase.borrow() == Phase::Ended {
            return Ok(());
        }
        if self.answered.load(Ordering::SeqCst) {
            self.dialog.bye().await?;
        } else {
            self.dialog
                .reject(Some(StatusCode::TemporarilyUnavailable), None)?;
        }
        Ok(())
    }

    /// Puts the caller on hold (a re-INVITE of ours offering `a=sendonly`, so
    /// its phone shows the call held and hears what we send) or takes it off
    /// (`a=sendrecv`). Returns at once; the re-INVITE goes out once the call is
    /// answered, and one the caller refuses with 491 is sent again after RFC
    /// 3261's random delay.
    pub fn hold(&self, on: bool) {
        self.wish.hold(on);
    }

    /// Whether the caller's last offer put the call on hold.
    pub fn is_held(&self) -> bool {
        self.offers.held()
    }

    /// The caller's side of the call, as it happens. Closed after the call
    /// has ended.
    pub fn events(&mut self) -> &mut mpsc::Receiver<LegEvent> {
        &mut self.events
    }

    fn unanswered(&self) -> Result<(), SipError> {
        match *self.phase.borrow() {
            Phase::Ended => Err(SipError::CallEnded),
            Phase::Offered => Ok(()),
            Phase::Answered | Phase::Confirmed => {
                Err(SipError::WrongState("the call is already answered"))
            }
        }
    }
}

impl fmt::Debug for CallLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallLeg")
            .field("dialog", &self.dialog.id().to_string())
            .field("phase", &*self.phase.borrow())
            .finish()
    }
}

impl Drop for CallLeg {
    /// A leg the engine lets go of without ending it ends here, so one
    /// failing call never leaves a phone ringing or connected to nothing.
    fn drop(&mut self) {
        if *self.phase.borrow() == Phase::Ended {
            return;
        }
        if !self.answered.load(Ordering::SeqCst) {
            self.dialog
                .reject(Some(StatusCode::TemporarilyUnavailable), None)
                .ok();
        } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let dialog = self.dialog.clone();
            runtime.spawn(async move { dialog.bye().await.ok() });
        }
    }
}

/// What the leg's task shares with its `CallLeg`.
struct Shared {
    offers: Arc<Offers>,
    /// Whether we hold the caller, which limits what we answer its offers with.
    wish: watch::Receiver<Direction>,
    acked: Arc<AtomicBool>,
}

/// The leg's task: follows the dialog until it ends.
async fn follow(
    mut states: DialogStateReceiver,
    phase: watch::Sender<Phase>,
    events: mpsc::Sender<LegEvent>,
    shared: Shared,
    dialogs: Arc<DialogLayer>,
    stop: CancellationToken,
) {
    let advance = |to: Phase| {
        phase.send_if_modified(|p| {
            let forward =
                *p != Phase::Ended && *p != to && (to != Phase::Answered || *p == Phase::Offered);
            if forward {
                *p = to;
            }
            forward
        });
    };
    loop {
        let state = tokio::select! {
            state = states.recv() => match state {
                Some(state) => state,
                None => break,
            },
            _ = stop.cancelled() => {
                events.send(LegEvent::Hangup).await.ok();
                break;
            }
        };
        match state {
            DialogState::WaitAck(..) => advance(Phase::Answered),
            DialogState::Confirmed(..) => {
                shared.acked.store(true, Ordering::SeqCst);
                advance(Phase::Confirmed);
            }
            DialogState::Terminated(id, reason) => {
                debug!(%id, ?reason, "call leg ended");
                advance(Phase::Ended);
                dialogs.remove_dialog(&id);
                if ended_by_caller(&reason) {
                    events.send(LegEvent::Hangup).await.ok();
                }
                break;
            }
            DialogState::Info(_, request, handle) => match dtmf(&request) {
                Some(digit) => {
                    handle.reply(StatusCode::OK).await.ok();
                    events.send(LegEvent::Dtmf(digit)).await.ok();
                }
                None => {
                    handle.reply(StatusCode::UnsupportedMediaType).await.ok();
                }
            },
            DialogState::Updated(_, request, handle) => {
                let wish = *shared.wish.borrow();
                let method = request.method;
                let event = match reinvite::answer(&shared.offers, wish, &request, handle).await {
                    Renegotiated::Held => Some(LegEvent::Hold),
                    Renegotiated::Resumed => Some(LegEvent::Resume),
                    Renegotiated::Unchanged if method == Method::Invite => Some(LegEvent::ReInvite),
                    Renegotiated::Unchanged | Renegotiated::Refused => None,
                };
                if let Some(event) = event {
                    events.send(event).await.ok();
                }
            }
            DialogState::Options(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
            }
            DialogState::Notify(_, _, handle)
            | DialogState::Refer(_, _, handle)
            | DialogState::Message(_, _, handle)
            | DialogState::Publish(_, _, handle) => {
                handle.reply(StatusCode::NotImplemented).await.ok();
            }
            DialogState::Calling(_) | DialogState::Trying(_) | DialogState::Early(..) => {}
        }
    }
    advance(Phase::Ended);
}

/// Whether the dialog ended from the caller's side (or for want of its ACK)
/// rather than by our reject or BYE.
fn ended_by_caller(reason: &TerminatedReason) -> bool {
    !matches!(
        reason,
        TerminatedReason::UasBye
            | TerminatedReason::UasBusy
            | TerminatedReason::UasDecline
            | TerminatedReason::UasOther(_)
    )
}

fn sdp_type() -> Header {
    Header::ContentType("application/sdp".into())
}

/// The key an INFO request carries, if it is a DTMF INFO.
fn dtmf(request: &Request) -> Option<char> {
    let content_type = request.header_value("Content-Type")?;
    dtmf_digit(&content_type, &String::from_utf8_lossy(&request.body))
}

/// The key in a DTMF INFO body of the given content type: `Signal=5` lines for
/// `application/dtmf-relay`, the bare key for `application/dtmf`.
fn dtmf_digit(content_type: &str, body: &str) -> Option<char> {
    let media = content_type.split(';').next()?.trim();
    let signal = if media.eq_ignore_ascii_case("application/dtmf-relay") {
        body.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("Signal")
                .then_some(value.trim())
        })?
    } else if media.eq_ignore_ascii_case("application/dtmf") {
        body.trim()
    } else {
        return None;
    };
    match signal {
        "10" => Some('*'),
        "11" => Some('#'),
        s => {
            let mut chars = s.chars();
            let key = chars.next()?.to_ascii_uppercase();
            (chars.next().is_none() && "0123456789*#ABCD".contains(key)).then_some(key)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_and_plain_dtmf_bodies() {
        assert_eq!(
            dtmf_digit("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"),
            Some('5')
        );
        assert_eq!(
            dtmf_digit("Application/DTMF-Relay; charset=x", "signal= #\r\n"),
            Some('#')
        );
        assert_eq!(dtmf_digit("application/dtmf-relay", "Signal=10"), Some('*'));
        assert_eq!(dtmf_digit("application/dtmf-relay", "Signal=11"), Some('#'));
        assert_eq!(dtmf_digit("application/dtmf", "d\r\n"), Some('D'));
    }

    #[test]
    fn other_infos_are_not_dtmf() {
        assert_eq!(dtmf_digit("application/media_control+xml", "<x/>"), None);
        assert_eq!(dtmf_digit("application/dtmf-relay", "Duration=160"), None);
        assert_eq!(dtmf_digit("application/dtmf", "12"), None);
        assert_eq!(dtmf_digit("application/dtmf", "x"), None);
        assert_eq!(dtmf_digit("application/dtmf", ""), None);
    }
}
