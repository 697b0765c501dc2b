//! Click-to-call: a person in the web client clicks a number, the server rings their own
//! phones, and the one that answers becomes the caller of an ordinary call to that number.
//!
//! The fewest new concepts: the answered call to the person's phone stands where a
//! phone's INVITE stands in every other call (the runner's `CallerLeg::Placed`), and the
//! engine's `Call` starts exactly as if that extension had dialled the number — the
//! plan's `dial` routes, its toll-fraud rules for the extension, `DialTrunk` and the
//! bridge are the ones a desk call goes through. Only the first part is new here: every
//! phone the extension registered (and a hot-desk phone logged in as it) is called at
//! once, showing the number about to be called as the caller id, the [`Fork`] picks the
//! first to answer and the others are cancelled. They ring for as long as the person's
//! desk rings for any call (their extension's `ring`, else the plan's).
//!
//! What the person hears before the far end answers is what a desk phone's own exchange
//! would play it (`progress_tones`): ringback (440 + 480 Hz, 2 s on, 4 s off) once the far
//! end rings, or the far end's early media when it sends some (183 with SDP); the far
//! end's voice the moment it answers, with no tone beside it; the busy tone (reorder for
//! any other failure) for a few seconds when the number through the trunk is busy or
//! fails, and then the call ends. A refusal of the plan's (toll fraud, a route's prompt)
//! is played to them like to a desk caller, and the call ends.
//!
//! Every click-to-call leaves a call record (`/api/cdr`), the ones that never reached
//! the number too: its outcome says the person declined on their phone, did not answer
//! in their ring time, or could not be reached — and that the number was not called.

use super::caller_leg::{CallerLeg, PlacedLeg};
use super::{CallServices, Ready, detail, drive};
use crate::call_log::NewCall;
use crate::media::{self, latch::Learning, send_gate::SendGate, session::FarEndTrust};
use crate::sip::{BranchEvent, CallerId, Fork, ForkAction, OutgoingEvent, OutgoingHandle};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use switchboard_core::call::Caller;
use switchboard_core::ids::CallId;
use switchboard_core::store::HungUpBy;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// How long the person's phones ring before the call is given up: as long as their desk
/// rings for any call (their extension's `ring`, else the plan's `ring` setting).
fn ring_time(plan: &switchboard_dsl::Plan, extension: &str) -> Duration {
    plan.extension(extension)
        .and_then(|e| e.options.ring)
        .unwrap_or(plan.settings.ring)
}

/// Why the person's phones did not connect them, so that the number was never called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NotConnected {
    /// A phone declined: 486 Busy Here, 600 Busy Everywhere or 603 Decline (a phone's
    /// "reject" key sends one of them).
    Declined(u16),
    /// They rang for the ring time and nobody answered.
    NoAnswer(Duration),
    /// Every phone failed otherwise (unreachable, 480 with do-not-disturb, ...), with the
    /// last status one gave.
    Unreachable(Option<u16>),
    /// The server stopped while they rang.
    ServerStopped,
    /// The phone that answered offered no media we can use.
    UnusableAnswer,
}

impl NotConnected {
    /// A phone's final refusal, as the person's record words it.
    fn of_status(status: Option<u16>) -> NotConnected {
        match status {
            Some(code @ (486 | 600 | 603)) => NotConnected::Declined(code),
            other => NotConnected::Unreachable(other),
        }
    }

    /// The record's outcome: what became of the person's phones, and that `number` was
    /// not called.
    fn outcome(self, extension: &str, number: &str) -> String {
        let what = match self {
            NotConnected::Declined(code) => format!("{extension} declined on their phone ({code})"),
            NotConnected::NoAnswer(after) => {
                format!("{extension} did not answer in {} s", after.as_secs())
            }
            NotConnected::Unreachable(Some(code)) => {
                format!("{extension}'s phones could not be reached ({code})")
            }
            NotConnected::Unreachable(None) => format!("{extension}'s phones could not be reached"),
            NotConnected::ServerStopped => {
                format!("the server stopped before {extension} answered")
            }
            NotConnected::UnusableAnswer => {
                format!("{extension}'s phone answered with an SDP we cannot use")
            }
        };
        format!("{what}: {number} was not called")
    }

    /// Who ended it: the person, when they declined; the server otherwise (it stopped
    /// ringing, or gave up).
    fn hung_up_by(self) -> HungUpBy {
        match self {
            NotConnected::Declined(_) => HungUpBy::Caller,
            _ => HungUpBy::Server,
        }
    }
}

/// Starts click-to-call calls beside the calls the SIP side brings, stopped with them.
pub struct CallBack {
    services: Arc<CallServices>,
    hang_up: CancellationToken,
    tasks: TaskTracker,
}

/// Why a click-to-call was not started; nothing rang.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallBackRefused {
    /// No phone of the person's is registered (checked first: the client then offers a
    /// `tel:` link, whatever the number).
    NotRegistered,
    /// No `dial` route of the running plan takes the number.
    NoRoute(String),
    /// The server has no media port or cannot place the call.
    Unavailable(String),
}

impl CallBack {
    /// `hang_up` and `tasks` are the server's for its calls: these end with them.
    pub fn new(
        services: Arc<CallServices>,
        hang_up: CancellationToken,
        tasks: TaskTracker,
    ) -> CallBack {
        CallBack {
            services,
            hang_up,
            tasks,
        }
    }

    /// Rings `extension`'s phones showing `number`; once one answers, calls `number` as
    /// that extension. Returns the call's id (as `/api/calls` knows it) once the phones
    /// are being called.
    pub async fn start(&self, extension: &str, number: &str) -> Result<u64, CallBackRefused> {
        if self.tasks.is_closed() {
            return Err(CallBackRefused::Unavailable(
                "the server is stopping and takes no new calls".into(),
            ));
        }
        let version = self.services.plans.current();
        let plan = version.plan.clone();
        let sip = &self.services.sip;
        let mut phones = sip.registrations(extension);
        let ext = extension.to_string();
        if let Ok(Ok(Some(mac))) = self
            .services
            .store
            .run(move |store| store.hot_desk_device(&ext))
            .await
        {
            phones.extend(sip.registrations(&mac.to_ascii_uppercase()));
        }
        if phones.is_empty() {
            return Err(CallBackRefused::NotRegistered);
        }
        let mut routes = Vec::new();
        plan.route_table.lookup(&plan.routes, number, &mut routes);
        if routes.is_empty() {
            return Err(CallBackRefused::NoRoute(format!(
                "no dial route of the running plan (version {}) takes {number}; the \
                 office's phones could not call it either",
                version.version
            )));
        }
        let port = self
            .services
            .ports
            .bind()
            .map_err(|e| CallBackRefused::Unavailable(format!("no media port free: {e}")))?;
        let id = CallId(self.services.next_id.fetch_add(1, Ordering::Relaxed));
        let local_ip = sip.local_ip_for(phones[0].source.ip());
        let offer = media::sdp::offer(local_ip, port.lease.port(), id.0);
        // The person's phone shows whom it is about to call.
        let shown = CallerId {
            number: number.to_string(),
            name: None,
        };
        let (events_tx, events) = mpsc::unbounded_channel();
        let mut placed = Vec::new();
        for (branch, phone) in phones.iter().enumerate() {
            match sip.call_phone(phone, extension, &shown, offer.clone()) {
                Ok(mut call) => {
                    let tx = events_tx.clone();
                    tokio::spawn(async move {
                        while let Some(event) = call.events.recv().await {
                            if tx.send((branch, event)).is_err() {
                                break;
                            }
                        }
                    });
                    placed.push(Some((call.handle, phone.source.ip())));
                }
                Err(e) => {
                    tracing::warn!("cannot call {extension} at {}: {e}", phone.source);
                    events_tx.send((branch, OutgoingEvent::Failed(None))).ok();
                    placed.push(None);
                }
            }
        }
        drop(events_tx);
        if placed.iter().all(Option::is_none) {
            return Err(CallBackRefused::Unavailable(
                "none of your phones could be called".into(),
            ));
        }
        let sip_call_id = format!("click-to-call-{}", id.0);
        self.services.calls.start(NewCall {
            id,
            sip_call_id: sip_call_id.clone(),
            caller: extension.to_string(),
            dialled: number.to_string(),
            plan_version: version.version,
        });
        let span = tracing::info_span!(
            "call",
            id = id.0,
            sip_call_id = %sip_call_id,
            caller = %extension,
            dialled = %number,
            plan_version = version.version,
        );
        let ringing = Ringing {
            services: self.services.clone(),
            hang_up: self.hang_up.clone(),
            id,
            version,
            extension: extension.to_string(),
            number: number.to_string(),
            sip_call_id,
            offer,
            port,
            placed,
            events,
        };
        self.tasks.spawn(ringing.run().instrument(span));
        Ok(id.0)
    }
}

/// The person's phones being called.
struct Ringing {
    services: Arc<CallServices>,
    hang_up: CancellationToken,
    id: CallId,
    version: Arc<crate::reload::PlanVersion>,
    extension: String,
    number: String,
    sip_call_id: String,
    offer: String,
    port: media::BoundPort,
    /// Each phone's call and the address its media may come from behind NAT.
    placed: Vec<Option<(OutgoingHandle, std::net::IpAddr)>>,
    events: mpsc::UnboundedReceiver<(usize, OutgoingEvent)>,
}

impl Ringing {
    async fn run(mut self) {
        let started = SystemTime::now();
        let mut fork = Fork::new(self.placed.len());
        let mut answers: Vec<Option<String>> = vec![None; self.placed.len()];
        let ring_for = ring_time(&self.version.plan, &self.extension);
        let deadline = tokio::time::sleep(ring_for);
        tokio::pin!(deadline);
        // The phones' refusals so far: a decline among them is what the record says.
        let mut refusal = NotConnected::Unreachable(None);
        let answered = loop {
            let (branch, event) = tokio::select! {
                ev = self.events.recv() => match ev {
                    Some(ev) => ev,
                    None => break Err(refusal),
                },
                _ = &mut deadline => {
                    self.hang_up_all(None);
                    break Err(NotConnected::NoAnswer(ring_for));
                }
                _ = self.hang_up.cancelled() => {
                    self.hang_up_all(None);
                    break Err(NotConnected::ServerStopped);
                }
            };
            let branch_event = match event {
                OutgoingEvent::Ringing | OutgoingEvent::EarlyMedia { .. } => {
                    BranchEvent::Ringing(branch)
                }
                OutgoingEvent::Answered { sdp } => match media::sdp::read_answer(&sdp) {
                    Ok(_) => {
                        answers[branch] = Some(sdp);
                        BranchEvent::Answered(branch)
                    }
                    Err(e) => {
                        tracing::warn!("{} answered with an unusable SDP: {e}", self.extension);
                        self.hang_up_branch(branch);
                        BranchEvent::Failed(branch, None)
                    }
                },
                OutgoingEvent::Failed(status) => {
                    if !matches!(refusal, NotConnected::Declined(_)) {
                        refusal = NotConnected::of_status(status);
                    }
                    BranchEvent::Failed(branch, status)
                }
                OutgoingEvent::Ended | OutgoingEvent::Hold | OutgoingEvent::Resume => continue,
            };
            let mut connect = None;
            let mut gave_up = false;
            for action in fork.on(branch_event) {
                match action {
                    ForkAction::Connect { branch, cancel } => {
                        for b in cancel {
                            self.hang_up_branch(b);
                        }
                        connect = Some(branch);
                    }
                    ForkAction::HangUpLate(late) => self.hang_up_branch(late),
                    ForkAction::GiveUp(_) => gave_up = true,
                    ForkAction::TellRinging | ForkAction::HearEarly(_) | ForkAction::EndEarly => {}
                }
            }
            if let Some(branch) = connect {
                break Ok(branch);
            }
            if gave_up {
                break Err(refusal);
            }
        };
        match answered {
            Ok(branch) => {
                self.connect(branch, answers[branch].take().unwrap_or_default(), started)
                    .await
            }
            Err(why) => {
                let record = self.record(started);
                not_connected(&self.services, self.id, record, why).await;
            }
        }
    }

    /// The call's record as it stands, its outcome still to be said.
    fn record(&self, started: SystemTime) -> detail::Ended {
        detail::Ended {
            sip_call_id: self.sip_call_id.clone(),
            started,
            caller: self.extension.clone(),
            dialled: self.number.clone(),
            outcome: String::new(),
            plan_version: self.version.version,
        }
    }

    fn hang_up_branch(&self, branch: usize) {
        if let Some(Some((handle, _))) = self.placed.get(branch) {
            handle.hang_up();
        }
    }

    fn hang_up_all(&self, except: Option<usize>) {
        for branch in 0..self.placed.len() {
            if Some(branch) != except {
                self.hang_up_branch(branch);
            }
        }
    }

    /// The phone of `branch` answered with `answer`: the engine's call to the number
    /// starts with it as the caller.
    async fn connect(self, branch: usize, answer: String, started: SystemTime) {
        let record = self.record(started);
        let Ringing {
            services,
            hang_up,
            id,
            version,
            extension,
            number,
            offer,
            port,
            placed,
            mut events,
            ..
        } = self;
        let Some(Some((handle, phone_ip))) = placed.get(branch).cloned() else {
            return;
        };
        let negotiated = match media::sdp::read_answer(&answer) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("unusable SDP from {extension}: {e}");
                handle.hang_up();
                not_connected(&services, id, record, NotConnected::UnusableAnswer).await;
                return;
            }
        };
        // Only the answered phone's events go on, as the caller's leg's.
        let (leg_tx, leg_events) = mpsc::unbounded_channel();
        let late = placed.clone();
        tokio::spawn(async move {
            while let Some((b, event)) = events.recv().await {
                if b == branch {
                    if leg_tx.send(event).is_err() {
                        break;
                    }
                } else if matches!(event, OutgoingEvent::Answered { .. })
                    && let Some(Some((other, _))) = late.get(b)
                {
                    // Answered as it was being cancelled: the stack ACKed, so a BYE.
                    other.hang_up();
                }
            }
        });
        tracing::info!("{extension} answered; calling {number} as {extension}");
        // The phone answered our offer from its registered address: what it names is
        // trusted like a desk caller's, and learnt from that address only.
        let trust = FarEndTrust {
            learning: Learning::for_peer(negotiated.remote, Some(phone_ip)),
            gate: SendGate::open(),
        };
        let (media, media_events) = media::session::start_watched(
            port.socket,
            negotiated,
            services.recordings.clone(),
            services.media_watch,
            trust,
        );
        drive(
            services,
            hang_up,
            Ready {
                id,
                version,
                from: Caller::Extension {
                    number: extension,
                    device: None,
                },
                dialled: number,
                leg: CallerLeg::Placed(PlacedLeg::new(handle, leg_events)),
                answered: true,
                media,
                media_events,
                answer_sdp: offer,
                lease: port.lease,
                record,
            },
        )
        .await;
    }
}

/// Ends a click-to-call that never reached the number: its outcome in `/api/calls` and
/// its record kept, as a desk call's would be.
async fn not_connected(
    services: &CallServices,
    id: CallId,
    record: detail::Ended,
    why: NotConnected,
) {
    let outcome = why.outcome(&record.caller, &record.dialled);
    tracing::info!("{outcome}");
    let mut facts = detail::Facts::default();
    facts.hung_up(why.hung_up_by());
    let detail = detail::Ended {
        outcome: outcome.clone(),
        ..record
    }
    .detail(facts);
    services.calls.finish(id, outcome);
    if let Err(e) = services.store.run(move |s| s.record_call(&detail)).await {
        tracing::error!("the call's record could not be kept: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_says_what_became_of_the_persons_phones() {
        let said = |why: NotConnected| why.outcome("101", "+12605559876");
        assert_eq!(
            said(NotConnected::of_status(Some(603))),
            "101 declined on their phone (603): +12605559876 was not called"
        );
        assert_eq!(
            NotConnected::of_status(Some(486)),
            NotConnected::Declined(486)
        );
        assert_eq!(
            said(NotConnected::NoAnswer(Duration::from_secs(20))),
            "101 did not answer in 20 s: +12605559876 was not called"
        );
        assert_eq!(
            said(NotConnected::of_status(Some(480))),
            "101's phones could not be reached (480): +12605559876 was not called"
        );
        assert_eq!(NotConnected::Declined(603).hung_up_by(), HungUpBy::Caller);
        assert_eq!(
            NotConnected::NoAnswer(Duration::ZERO).hung_up_by(),
            HungUpBy::Server
        );
    }
}
