//! The caller's side of a call, whichever way it began: a phone's INVITE to us (an
//! `Incoming` server dialog, the usual call), or a call we placed to a person's own phone
//! that they answered (`Placed`, click-to-call from the web client: see `call_back`).
//!
//! The engine and the rest of the runner see one leg either way. A placed leg is
//! answered before the engine starts, so answering, ringing and early media are nothing
//! to do; a hang-up is our BYE, and its hold, resume and end arrive as the same
//! [`LegEvent`]s an incoming leg gives.

use crate::sip::{CallLeg, LegEvent, OutgoingEvent, OutgoingHandle, SipError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;

pub(super) enum CallerLeg {
    Incoming(CallLeg),
    Placed(PlacedLeg),
}

/// A call we placed to the caller's phone, answered.
pub(super) struct PlacedLeg {
    handle: OutgoingHandle,
    events: mpsc::Receiver<LegEvent>,
    held: Arc<AtomicBool>,
}

impl PlacedLeg {
    /// Follows the answered call `handle` whose further events come on `events`.
    pub(super) fn new(
        handle: OutgoingHandle,
        mut events: mpsc::UnboundedReceiver<OutgoingEvent>,
    ) -> PlacedLeg {
        let (tx, rx) = mpsc::channel(16);
        let held = Arc::new(AtomicBool::new(false));
        let held_by_phone = held.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let leg_event = match event {
                    OutgoingEvent::Hold => {
                        held_by_phone.store(true, Ordering::SeqCst);
                        LegEvent::Hold
                    }
                    OutgoingEvent::Resume => {
                        held_by_phone.store(false, Ordering::SeqCst);
                        LegEvent::Resume
                    }
                    OutgoingEvent::Ended | OutgoingEvent::Failed(_) => LegEvent::Hangup,
                    OutgoingEvent::Ringing
                    | OutgoingEvent::EarlyMedia { .. }
                    | OutgoingEvent::Answered { .. } => continue,
                };
                let last = leg_event == LegEvent::Hangup;
                if tx.send(leg_event).await.is_err() || last {
                    break;
                }
            }
        });
        PlacedLeg {
            handle,
            events: rx,
            held,
        }
    }
}

impl CallerLeg {
    pub(super) async fn ringing(&self) -> Result<(), SipError> {
        match self {
            CallerLeg::Incoming(leg) => leg.ringing().await,
            CallerLeg::Placed(_) => Ok(()),
        }
    }

    pub(super) async fn session_progress(&self, sdp: String) -> Result<(), SipError> {
        match self {
            CallerLeg::Incoming(leg) => leg.session_progress(sdp).await,
            // Answered already: its media is flowing, the relay is not needed.
            CallerLeg::Placed(_) => Err(SipError::WrongState("the call is already answered")),
        }
    }

    pub(super) async fn answer(&self, sdp: String) -> Result<(), SipError> {
        match self {
            CallerLeg::Incoming(leg) => leg.answer(sdp).await,
            CallerLeg::Placed(_) => Ok(()),
        }
    }

    pub(super) async fn reject(&self, code: u16) -> Result<(), SipError> {
        match self {
            CallerLeg::Incoming(leg) => leg.reject(code).await,
            CallerLeg::Placed(placed) => {
                placed.handle.hang_up();
                Ok(())
            }
        }
    }

    pub(super) async fn hangup(&self) -> Result<(), SipError> {
        match self {
            CallerLeg::Incoming(leg) => leg.hangup().await,
            CallerLeg::Placed(placed) => {
                placed.handle.hang_up();
                Ok(())
            }
        }
    }

    pub(super) fn hold(&self, on: bool) {
        match self {
            CallerLeg::Incoming(leg) => leg.hold(on),
            CallerLeg::Placed(placed) => placed.handle.hold(on),
        }
    }

    pub(super) fn is_held(&self) -> bool {
        match self {
            CallerLeg::Incoming(leg) => leg.is_held(),
            CallerLeg::Placed(placed) => placed.held.load(Ordering::SeqCst),
        }
    }

    pub(super) fn events(&mut self) -> &mut mpsc::Receiver<LegEvent> {
        match self {
            CallerLeg::Incoming(leg) => leg.events(),
            CallerLeg::Placed(placed) => &mut placed.events,
        }
    }
}
