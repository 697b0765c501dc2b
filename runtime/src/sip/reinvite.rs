//! Re-INVITEs on an established call, both ways, for either leg (the caller's server
//! dialog and a rung phone's client dialog).
//!
//! - A phone's re-INVITE (or UPDATE) with an offer is answered with our SDP in the
//!   direction that mirrors it, limited to what we want ourselves (sendonly while the
//!   other phone holds), and the call is told whether it put the call on hold or took it
//!   off. One without an offer gets our SDP as the offer (its answer comes in the ACK).
//! - While a re-INVITE of ours waits for its answer, the phone's gets 491 Request Pending
//!   (RFC 3261 §14.2): two offers may not cross.
//! - Ours is sent whenever what we want changes (hold: `a=sendonly`; resume:
//!   `a=sendrecv`), one at a time, the latest wish winning. When the phone answers it 491
//!   it is sent again after RFC 3261 §14.1's random delay, in units of 10 ms: 2.1 to 4 s
//!   when we chose the dialog's Call-ID (a phone we rang), up to 2 s when the phone did
//!   (the caller's leg), so the two ends do not collide again.
//!
//! Every SDP we send restates the call's own (our answer to the caller; our offer to a
//! rung phone, narrowed to the codec it chose) with a new direction, and a higher `o=`
//! version whenever it changed (RFC 3264 §8).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsipstack::dialog::dialog::TransactionHandle;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Method, Request, StatusCode};
use tokio::sync::watch;
use tracing::{debug, info};

use crate::media::hold_sdp;
use crate::media::sdp::Direction;

/// Our side of one dialog's offers and answers, shared by the leg's handle, the task
/// following the dialog and the task sending our re-INVITEs.
#[derive(Debug, Default)]
pub(super) struct Offers {
    state: Mutex<State>,
    /// Set while a re-INVITE of ours waits for its final answer.
    pending: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    /// Our SDP, once the call has one (answered, or the phone's answer came).
    ours: Option<Ours>,
    /// Whether the phone's last offer held the call.
    held: bool,
}

#[derive(Debug)]
struct Ours {
    /// The SDP whose direction and version we restate.
    base: String,
    /// The SDP the phone has from us now, and its version.
    last: String,
    version: u64,
}

/// What a phone's offer in the dialog came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Renegotiated {
    /// Refused: 491 (ours is pending) or 488 (an SDP we cannot read).
    Refused,
    /// Answered; the hold did not change.
    Unchanged,
    /// Answered; the phone put the call on hold.
    Held,
    /// Answered; the phone took the call off hold.
    Resumed,
}

impl Offers {
    /// The call's SDP: `base` is what later SDPs restate, `sent` what the phone has from
    /// us now (the answer we gave, or the offer it answered).
    pub(super) fn set_ours(&self, base: String, sent: &str) {
        let version = hold_sdp::version(sent).unwrap_or(0);
        self.state().ours = Some(Ours {
            base,
            last: sent.to_string(),
            version,
        });
    }

    /// Whether the phone's last offer held the call.
    pub(super) fn held(&self) -> bool {
        self.state().held
    }

    /// The SDP the phone has from us now, once the call has one.
    pub(super) fn current(&self) -> Option<String> {
        self.state().ours.as_ref().map(|o| o.last.clone())
    }

    /// Our SDP in `direction`: the last one again if that is what it says, else a new
    /// version. `None` before the call has an SDP.
    fn ours_in(&self, direction: Direction) -> Option<String> {
        let mut state = self.state();
        let ours = state.ours.as_mut()?;
        let same = hold_sdp::restate(&ours.base, direction, ours.version);
        if same != ours.last {
            ours.version += 1;
            ours.last = hold_sdp::restate(&ours.base, direction, ours.version);
        }
        Some(ours.last.clone())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Answers a request in the dialog that may carry an offer (a re-INVITE, an UPDATE),
/// wanting `wish` ourselves.
pub(super) async fn answer(
    offers: &Offers,
    wish: Direction,
    request: &Request,
    handle: TransactionHandle,
) -> Renegotiated {
    let sdp_type = || Some(vec![Header::ContentType("application/sdp".into())]);
    // RFC 3261 §14.2: an INVITE while ours is in progress gets 491, with an offer or
    // without (an offerless one would have us send a new offer across ours).
    if (request.method == Method::Invite || !request.body.is_empty())
        && offers.pending.load(Ordering::SeqCst)
    {
        debug!(method = %request.method, "a request crossed our re-INVITE: 491");
        handle.reply(StatusCode::RequestPending).await.ok();
        return Renegotiated::Refused;
    }
    if request.body.is_empty() {
        // No offer: an INVITE gets ours (answered in its ACK), an UPDATE a bare 200.
        let ours = match request.method {
            Method::Invite => offers.current(),
            _ => None,
        };
        match ours {
            Some(sdp) => handle.respond(StatusCode::OK, sdp_type(), Some(sdp.into_bytes())),
            None => handle.respond(StatusCode::OK, None, None),
        }
        .await
        .ok();
        return Renegotiated::Unchanged;
    }
    let offer = String::from_utf8_lossy(&request.body);
    let Some(offered) = hold_sdp::read_offer(&offer) else {
        handle.reply(StatusCode::NotAcceptableHere).await.ok();
        return Renegotiated::Refused;
    };
    let Some(sdp) = offers.ours_in(hold_sdp::both(offered.mirrored, wish)) else {
        // An UPDATE before we answered the INVITE's offer: RFC 3311 §5.2 wants 500 and a
        // random Retry-After of up to 10 s.
        let retry = Header::Other("Retry-After".into(), (random() % 11).to_string());
        handle
            .respond(StatusCode::ServerInternalError, Some(vec![retry]), None)
            .await
            .ok();
        return Renegotiated::Refused;
    };
    let was_held = std::mem::replace(&mut offers.state().held, offered.holds);
    handle
        .respond(StatusCode::OK, sdp_type(), Some(sdp.into_bytes()))
        .await
        .ok();
    match (was_held, offered.holds) {
        (false, true) => Renegotiated::Held,
        (true, false) => Renegotiated::Resumed,
        _ => Renegotiated::Unchanged,
    }
}

/// Who chose a dialog's Call-ID, for the delay before a re-INVITE refused with 491 is
/// sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CallIdChosenBy {
    Us,
    ThePhone,
}

/// Starts the task that sends our re-INVITEs on `dialog` whenever `wish` changes, until
/// the wish's sender is dropped (the leg is let go of) or the dialog ends.
pub(super) fn send_offers(
    dialog: InviteDialog,
    offers: Arc<Offers>,
    wish: watch::Receiver<Direction>,
    chosen_by: CallIdChosenBy,
) {
    tokio::spawn(offer_changes(dialog, offers, wish, chosen_by));
}

async fn offer_changes(
    dialog: InviteDialog,
    offers: Arc<Offers>,
    mut wish: watch::Receiver<Direction>,
    chosen_by: CallIdChosenBy,
) {
    // What the phone has agreed to from us: the call starts sendrecv.
    let mut agreed = Direction::SendRecv;
    loop {
        let wanted = *wish.borrow_and_update();
        if wanted == agreed {
            if wish.changed().await.is_err() {
                return;
            }
            continue;
        }
        if dialog.state().is_terminated() {
            return;
        }
        let Some(offer) = offers.ours_in(wanted) else {
            // Not answered yet: the call will start with what we want then.
            agreed = wanted;
            continue;
        };
        offers.pending.store(true, Ordering::SeqCst);
        let sdp_type = vec![Header::ContentType("application/sdp".into())];
        let answered = tokio::select! {
            answered = dialog.reinvite(Some(sdp_type), Some(offer.into_bytes())) => answered,
            // The call is over: its phone may never answer, and nobody waits for it.
            () = let_go(&mut wish) => return,
        };
        offers.pending.store(false, Ordering::SeqCst);
        let status = match answered {
            Ok(Some(response)) => Some(response.status_code),
            Ok(None) => None,
            Err(e) => {
                debug!(id = %dialog.id(), error = %e, "re-INVITE failed");
                None
            }
        };
        match status {
            Some(StatusCode::RequestPending) => {
                let delay = glare_delay(chosen_by, random());
                info!(id = %dialog.id(), ?delay, "our re-INVITE crossed the phone's (491); trying again");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    // A new wish waits out the delay too; a leg let go of does not.
                    () = let_go(&mut wish) => return,
                }
            }
            Some(status) if status.kind() == rsipstack::sip::StatusCodeKind::Successful => {
                agreed = wanted;
            }
            other => {
                // Refused or unanswered: the phone keeps what it had. Not tried again
                // until the wish changes, so a phone that refuses holds is not pestered.
                debug!(id = %dialog.id(), status = ?other, "re-INVITE not accepted");
                if dialog.state().is_terminated() {
                    return;
                }
                agreed = wanted;
            }
        }
    }
}

/// Returns once the leg's wish is let go of (the call is over). A new wish meanwhile is
/// read when the loop comes round again.
async fn let_go(wish: &mut watch::Receiver<Direction>) {
    while wish.changed().await.is_ok() {}
}

/// RFC 3261 §14.1: how long to wait before sending again a re-INVITE refused with 491,
/// from a random number.
pub(super) fn glare_delay(chosen_by: CallIdChosenBy, random: u16) -> Duration {
    let tens_of_ms = match chosen_by {
        // 2.1 s to 4 s.
        CallIdChosenBy::Us => 210 + random % 191,
        // 0 to 2 s.
        CallIdChosenBy::ThePhone => random % 201,
    };
    Duration::from_millis(u64::from(tens_of_ms) * 10)
}

fn random() -> u16 {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        // No randomness from the OS: the clock's nanoseconds still differ per call.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        return (nanos / 1000) as u16;
    }
    u16::from_le_bytes(b)
}

/// A leg's wish for its media and the task that carries it out: what the leg's handle
/// keeps. Dropping it ends the task.
#[derive(Debug)]
pub(super) struct Wish(watch::Sender<Direction>);

impl Wish {
    pub(super) fn new() -> (Wish, watch::Receiver<Direction>) {
        let (tx, rx) = watch::channel(Direction::SendRecv);
        (Wish(tx), rx)
    }

    /// Holds the phone (we send only: it hears the other phone's music) or resumes it.
    pub(super) fn hold(&self, on: bool) {
        let direction = if on {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        self.0.send_replace(direction);
    }

    /// What the task following the dialog reads the wish by.
    pub(super) fn watch(&self) -> watch::Receiver<Direction> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glare_delay_is_the_rfcs() {
        let us = |r| glare_delay(CallIdChosenBy::Us, r);
        let phone = |r| glare_delay(CallIdChosenBy::ThePhone, r);
        assert_eq!(us(0), Duration::from_millis(2100));
        assert_eq!(us(190), Duration::from_millis(4000));
        assert_eq!(us(191), Duration::from_millis(2100));
        assert_eq!(phone(0), Duration::ZERO);
        assert_eq!(phone(200), Duration::from_millis(2000));
        for r in [1, 77, 5000, u16::MAX] {
            assert!((2100..=4000).contains(&us(r).as_millis()));
            assert!(phone(r).as_millis() <= 2000);
            assert_eq!(us(r).as_millis() % 10, 0);
        }
    }

    use rsipstack::dialog::dialog::TransactionCommand;
    use rsipstack::sip::{Headers, Uri, Version};

    const OURS: &str = "v=0\r\no=switchboard 9 9 IN IP4 127.0.0.1\r\ns=-\r\n\
                        c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";

    fn offer(direction: &str) -> String {
        format!(
            "v=0\r\no=phone 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n\
             m=audio 5000 RTP/AVP 0\r\na={direction}\r\n"
        )
    }

    /// What `answer` made of `method` with `body`: its verdict, and the response's
    /// status, headers and body.
    async fn answered(
        offers: &Offers,
        wish: Direction,
        method: Method,
        body: &str,
    ) -> (Renegotiated, StatusCode, Vec<Header>, String) {
        let request = Request {
            method,
            uri: Uri::try_from("sip:101@127.0.0.1").unwrap(),
            version: Version::V2,
            headers: Headers(vec![]),
            body: body.as_bytes().to_vec(),
        };
        let (handle, mut responses) = TransactionHandle::new();
        let verdict = answer(offers, wish, &request, handle).await;
        let TransactionCommand::Respond {
            status,
            headers,
            body,
        } = responses.recv().await.expect("a response");
        let body = String::from_utf8(body.unwrap_or_default()).unwrap();
        (verdict, status, headers.unwrap_or_default(), body)
    }

    #[tokio::test]
    async fn a_phones_offers_hold_resume_cross_ours_or_come_too_early() {
        let offers = Offers::default();
        let sendrecv = Direction::SendRecv;
        // Before the call has our SDP: 500 with a Retry-After (RFC 3311).
        let (verdict, status, headers, _) =
            answered(&offers, sendrecv, Method::Update, &offer("sendonly")).await;
        assert_eq!(
            (verdict, status),
            (Renegotiated::Refused, StatusCode::ServerInternalError)
        );
        assert!(matches!(&headers[..], [Header::Other(name, _)] if name == "Retry-After"));
        offers.set_ours(OURS.into(), OURS);

        // Hold, answered recvonly in a new version; again, unchanged; then resumed.
        let (verdict, status, _, body) =
            answered(&offers, sendrecv, Method::Invite, &offer("sendonly")).await;
        assert_eq!((verdict, status), (Renegotiated::Held, StatusCode::OK));
        assert!(
            body.contains("a=recvonly") && body.contains("o=switchboard 9 10 "),
            "{body}"
        );
        let (verdict, _, _, same) =
            answered(&offers, sendrecv, Method::Invite, &offer("sendonly")).await;
        assert_eq!((verdict, same), (Renegotiated::Unchanged, body));
        let (verdict, _, _, body) =
            answered(&offers, sendrecv, Method::Update, &offer("sendrecv")).await;
        assert_eq!(verdict, Renegotiated::Resumed);
        assert!(
            body.contains("a=sendrecv") && body.contains("o=switchboard 9 11 "),
            "{body}"
        );

        // While we hold the phone, its sendrecv offer is answered sendonly.
        let (_, _, _, body) = answered(
            &offers,
            Direction::SendOnly,
            Method::Invite,
            &offer("sendrecv"),
        )
        .await;
        assert!(body.contains("a=sendonly"), "{body}");

        // No offer: ours, as the offer. An offer crossing ours: 491. Garbage: 488.
        let (verdict, status, _, body) = answered(&offers, sendrecv, Method::Invite, "").await;
        assert_eq!((verdict, status), (Renegotiated::Unchanged, StatusCode::OK));
        assert!(body.starts_with("v=0"));
        offers.pending.store(true, Ordering::SeqCst);
        let (verdict, status, _, _) =
            answered(&offers, sendrecv, Method::Invite, &offer("sendonly")).await;
        assert_eq!(
            (verdict, status),
            (Renegotiated::Refused, StatusCode::RequestPending)
        );
        offers.pending.store(false, Ordering::SeqCst);
        let (verdict, status, _, _) = answered(&offers, sendrecv, Method::Invite, "x=1").await;
        assert_eq!(
            (verdict, status),
            (Renegotiated::Refused, StatusCode::NotAcceptableHere)
        );
    }

    #[test]
    fn our_sdp_gets_a_new_version_only_when_it_changes() {
        let offers = Offers::default();
        let base = "v=0\r\no=switchboard 9 9 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
                    t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
        assert_eq!(offers.ours_in(Direction::SendOnly), None);
        offers.set_ours(base.into(), base);
        assert_eq!(offers.ours_in(Direction::SendRecv).as_deref(), Some(base));
        let held = offers.ours_in(Direction::SendOnly).unwrap();
        assert!(held.contains("o=switchboard 9 10 ") && held.contains("a=sendonly"));
        assert_eq!(offers.ours_in(Direction::SendOnly), Some(held));
        let resumed = offers.ours_in(Direction::SendRecv).unwrap();
        assert!(resumed.contains("o=switchboard 9 11 ") && resumed.contains("a=sendrecv"));
    }
}
