//! The caller's side of a call, whichever way it began: a phone's INVITE to us (an
//! `Incoming` server dialog, the usual call), or a call we placed to a person's own phone
//! that they answered (`Placed`, click-to-call from the web client: see `call_back`).
//!
//! The engine and the rest of the runner see one leg either way. A placed leg is
//! answered before the engine starts, so answering, ringing and early media are nothing
//! to signal: what the far end does before it answers reaches the person as sound in
//! the media they already have (`progress_tones`); a hang-up is our BYE, and its hold,
//! resume and end arrive as the same [`LegEvent`]s an incoming leg gives.

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
    /// Whether ringback is playing to the person now (`progress_tones`).
    ringback: bool,
    /// Whether the engine plays the person hold music (a queue's): a ringback would wait
    /// behind it, and early media would cut it off, so neither is played from then on.
    hold_music: bool,
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
            ringback: false,
            hold_music: false,
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
            // Answered already: nothing to signal, the early media is relayed into the
            // media the person already has.
            CallerLeg::Placed(_) => Ok(()),
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

    /// Whether the caller was answered before the call began (a placed leg): no SIP
    /// tells them the far end rings or is busy, so the server plays them the tones.
    pub(super) fn hears_progress_tones(&self) -> bool {
        matches!(self, CallerLeg::Placed(placed) if !placed.hold_music)
    }

    /// The engine plays the caller hold music: no progress tones from now on.
    pub(super) fn note_hold_music(&mut self) {
        if let CallerLeg::Placed(placed) = self {
            placed.hold_music = true;
        }
    }

    /// Notes whether ringback plays to this leg now; returns whether it did before. An
    /// incoming leg never has it played.
    pub(super) fn note_ringback(&mut self, playing: bool) -> bool {
        match self {
            CallerLeg::Incoming(_) => false,
            CallerLeg::Placed(placed) => std::mem::replace(&mut placed.ringback, playing),
        }
    }

    pub(super) fn events(&mut self) -> &mut mpsc::Receiver<LegEvent> {
        match self {
            CallerLeg::Incoming(leg) => leg.events(),
            CallerLeg::Placed(placed) => &mut placed.events,
        }
    }
}
