//! Ringing phones and connecting the one that answers: the runtime's side of the
//! engine's `Ring` (an extension's phones) and `RingQueue` (the phones of a queue's
//! logged-in agents, all at once: `ring_all`, the one strategy the checker lets through
//! today).
//!
//! Every contact the extensions registered, and every hot-desk phone one of them is
//! logged in on, is called at once, each offered a port of
//! the call's own (one port for all: only one of them will be connected). The
//! [`Fork`] decides: the caller hears ringing once any phone rings; the first to answer
//! is connected and the rest are cancelled; when every phone failed, the engine hears
//! busy or failed and the plan goes on (to voicemail, say). Connecting answers the
//! caller if the plan had not, takes the caller's media over from its session, and
//! joins both in a [`bridge`](crate::media::bridge). Once connected, either side's
//! hang-up ends the call.

use super::LiveCall;
use crate::media::bridge::{self, BridgeHandle, Which};
use crate::media::latch::{Latch, Learning};
use crate::media::rtp::OutgoingStream;
use crate::media::{self, BoundPort, PortLease};
use crate::sip::{
    BranchEvent, CallerId, Fork, ForkAction, ForkOutcome, LineState, OutgoingEvent, OutgoingHandle,
    Registration, TrunkDestination,
};
use std::net::{IpAddr, SocketAddr};
use switchboard_core::event::{Event, FarEnd};
use tokio::sync::mpsc;

/// The phones being rung for one `Ring`, until one is connected or all failed.
pub(super) struct Ringing {
    pub(super) events: mpsc::UnboundedReceiver<(usize, OutgoingEvent)>,
    fork: Fork,
    phones: Vec<Phone>,
    /// The port offered to every phone; the one connected gets it.
    port: Option<BoundPort>,
    extension: String,
}

/// Whom one branch of a ring calls.
pub(super) enum Callee {
    /// A registered phone of an extension.
    Phone {
        extension: String,
        registration: Registration,
    },
    /// A number through a trunk, presenting `caller`.
    Trunk {
        destination: TrunkDestination,
        number: String,
        caller: CallerId,
    },
}

impl Callee {
    /// Where its SIP goes.
    fn peer(&self) -> SocketAddr {
        match self {
            Callee::Phone { registration, .. } => registration.source,
            Callee::Trunk { destination, .. } => destination.next_hop,
        }
    }
}

/// One phone being rung.
struct Phone {
    handle: OutgoingHandle,
    /// The extension it rings for; for a trunk, the number and the trunk (its "line"
    /// lights no lamp, since no phone subscribes to it).
    extension: String,
    /// The address its RTP may come from behind NAT: a phone's SIP address. None for a
    /// trunk, whose media often comes from another host than its SIP.
    ip: Option<IpAddr>,
    /// Whether it is a call out through a trunk, whose failures are traced with the
    /// provider's status.
    through_trunk: bool,
    /// Its answer's SDP, once it answered.
    answer: Option<String>,
}

/// A phone connected to the caller: the bridge between them and the phone's side.
pub(super) struct Connected {
    branch: usize,
    pub(super) bridge: BridgeHandle,
    pub(super) phone: OutgoingHandle,
    pub(super) extension: String,
    /// The bridge's port for the phone; returned when the bridge is closed.
    _lease: PortLease,
}

impl LiveCall {
    /// Rings every phone of every one of `extensions`; `label` names them in the trace
    /// (`102`, `queue 600`).
    pub(super) async fn ring(&mut self, label: String, extensions: Vec<String>) {
        let mut registrations: Vec<_> = extensions
            .iter()
            .flat_map(|e| {
                self.services
                    .sip
                    .registrations(e)
                    .into_iter()
                    .map(move |r| (e.clone(), r))
            })
            .collect();
        // A hot-desk phone rings for the extension logged in on it.
        for extension in &extensions {
            let e = extension.clone();
            let device = self
                .services
                .store
                .run(move |store| store.hot_desk_device(&e))
                .await;
            if let Ok(Ok(Some(mac))) = device {
                let phones = self.services.sip.registrations(&mac.to_ascii_uppercase());
                registrations.extend(phones.into_iter().map(|r| (extension.clone(), r)));
            }
        }
        let extension = label;
        if registrations.is_empty() {
            self.note(format!(
                "{extension} has no phone registered: not reachable"
            ));
            self.pending.push_back(Event::FarEnd(FarEnd::Failed));
            return;
        }
        let callees = registrations
            .into_iter()
            .map(|(extension, registration)| Callee::Phone {
                extension,
                registration,
            })
            .collect();
        self.ring_callees(extension, callees, &extensions).await;
    }

    /// Calls every one of `callees` at once (at least one), offering each the same port;
    /// `extension` names them in the trace, and `lines` are the extensions whose busy
    /// lamps show the ringing.
    pub(super) async fn ring_callees(
        &mut self,
        extension: String,
        callees: Vec<Callee>,
        lines: &[String],
    ) {
        let port = match self.services.ports.bind() {
            Ok(port) => port,
            Err(e) => {
                self.note(format!("cannot ring {extension}: {e}"));
                self.pending.push_back(Event::FarEnd(FarEnd::Failed));
                return;
            }
        };
        let local_ip = self.services.sip.local_ip_for(callees[0].peer().ip());
        let offer = media::sdp::offer(local_ip, port.lease.port(), self.id.0);
        let (events_tx, events) = mpsc::unbounded_channel();
        let mut phones = Vec::new();
        for (branch, callee) in callees.iter().enumerate() {
            let placed = match callee {
                Callee::Phone {
                    extension,
                    registration,
                } => self.services.sip.call_phone(
                    registration,
                    extension,
                    &self.caller_id,
                    offer.clone(),
                ),
                Callee::Trunk {
                    destination,
                    number,
                    caller,
                } => self
                    .services
                    .sip
                    .call_trunk(destination, number, caller, offer.clone()),
            };
            let handle = match placed {
                Ok(mut call) => {
                    let tx = events_tx.clone();
                    tokio::spawn(async move {
                        while let Some(event) = call.events.recv().await {
                            if tx.send((branch, event)).is_err() {
                                break;
                            }
                        }
                    });
                    call.handle
                }
                Err(e) => {
                    self.note(format!("cannot call {extension} at {}: {e}", callee.peer()));
                    events_tx.send((branch, OutgoingEvent::Failed(None))).ok();
                    continue;
                }
            };
            phones.push(match callee {
                Callee::Phone {
                    extension,
                    registration,
                } => Phone {
                    handle,
                    extension: extension.clone(),
                    ip: Some(registration.source.ip()),
                    through_trunk: false,
                    answer: None,
                },
                Callee::Trunk { .. } => Phone {
                    handle,
                    extension: extension.clone(),
                    ip: None,
                    through_trunk: true,
                    answer: None,
                },
            });
        }
        self.note(format!("ringing {extension} on {} phone(s)", callees.len()));
        for rung in lines {
            self.services
                .sip
                .set_line_state(self.id.0, rung, LineState::Early)
                .await;
        }
        if let Some(caller) = &self.caller_line {
            self.services
                .sip
                .set_line_state(self.id.0, caller, LineState::Early)
                .await;
        }
        self.ringing = Some(Ringing {
            events,
            fork: Fork::new(phones.len()),
            phones,
            port: Some(port),
            extension,
        });
    }

    /// Stops ringing (the engine's `CancelRing`, or the caller gave up).
    pub(super) async fn stop_ringing(&mut self) {
        if let Some(ringing) = self.ringing.take() {
            for branch in ringing.fork.ringing() {
                if let Some(phone) = ringing.phones.get(branch) {
                    phone.handle.hang_up();
                }
            }
            self.lines_idle(&ringing).await;
        }
    }

    /// The lines the ring lit, dark again: every phone's extension but a connected one,
    /// and the caller's unless connected.
    async fn lines_idle(&self, ringing: &Ringing) {
        let connected = self.connected.as_ref().map(|c| c.extension.clone());
        let mut done: Vec<&str> = Vec::new();
        for phone in &ringing.phones {
            let ext = phone.extension.as_str();
            if Some(ext) != connected.as_deref() && !done.contains(&ext) {
                self.services
                    .sip
                    .set_line_state(self.id.0, ext, LineState::Idle)
                    .await;
                done.push(ext);
            }
        }
        if connected.is_none()
            && let Some(caller) = &self.caller_line
        {
            self.services
                .sip
                .set_line_state(self.id.0, caller, LineState::Idle)
                .await;
        }
    }

    /// What a rung phone did.
    pub(super) async fn on_phone(&mut self, branch: usize, event: OutgoingEvent) {
        let fork_event = match event {
            OutgoingEvent::Ringing => BranchEvent::Ringing(branch),
            OutgoingEvent::Answered { sdp } => match media::sdp::read_answer(&sdp) {
                Ok(_) => {
                    if let Some(phone) =
                        self.ringing.as_mut().and_then(|r| r.phones.get_mut(branch))
                    {
                        phone.answer = Some(sdp);
                    }
                    BranchEvent::Answered(branch)
                }
                // Not an answer we can bridge: that phone is hung up and counts as failed,
                // so the others ring on and, if none answers, the plan goes on.
                Err(e) => {
                    self.refuse_answer(branch, &sdp, &e);
                    BranchEvent::Failed(branch, None)
                }
            },
            OutgoingEvent::Hold | OutgoingEvent::Resume => {
                if self.connected.as_ref().is_some_and(|c| c.branch == branch) {
                    self.on_hold(Which::B, event == OutgoingEvent::Hold).await;
                }
                return;
            }
            OutgoingEvent::Failed(status) => {
                if let Some(phone) = self.ringing.as_ref().and_then(|r| r.phones.get(branch))
                    && phone.through_trunk
                {
                    // The stack reports an INVITE nobody answered as 408.
                    let why = match status {
                        Some(408) | None => "no answer from the provider".to_string(),
                        Some(code) => format!("the provider answered {code}"),
                    };
                    self.note(format!("{}: {why}", phone.extension));
                }
                BranchEvent::Failed(branch, status)
            }
            OutgoingEvent::Ended => {
                if self.connected.as_ref().is_some_and(|c| c.branch == branch) {
                    self.on_connected_ended();
                }
                return;
            }
        };
        let Some(ringing) = self.ringing.as_mut() else {
            return;
        };
        for action in ringing.fork.on(fork_event) {
            match action {
                ForkAction::TellRinging => {
                    if !self.answered && !self.sip_done {
                        let _ = self.leg.ringing().await;
                    }
                }
                ForkAction::HangUpLate(late) => {
                    if let Some(phone) = self.ringing.as_ref().and_then(|r| r.phones.get(late)) {
                        phone.handle.hang_up();
                    }
                }
                ForkAction::Connect { branch, cancel } => {
                    if let Some(ringing) = &self.ringing {
                        for b in cancel {
                            if let Some(phone) = ringing.phones.get(b) {
                                phone.handle.hang_up();
                            }
                        }
                    }
                    self.connect(branch).await;
                    return;
                }
                ForkAction::GiveUp(outcome) => {
                    let Some(ringing) = self.ringing.take() else {
                        return;
                    };
                    // Nobody will answer: the lamps the ring lit go dark.
                    self.lines_idle(&ringing).await;
                    let extension = ringing.extension;
                    let (why, far_end) = match outcome {
                        ForkOutcome::Busy => ("busy", FarEnd::Busy),
                        ForkOutcome::Failed => ("every phone refused the call", FarEnd::Failed),
                    };
                    self.note(format!("{extension}: {why}"));
                    self.pending.push_back(Event::FarEnd(far_end));
                    return;
                }
            }
        }
    }

    /// Joins the caller to the phone of `branch`, which answered.
    async fn connect(&mut self, branch: usize) {
        let Some(mut ringing) = self.ringing.take() else {
            return;
        };
        let Some(phone) = ringing.phones.get_mut(branch) else {
            return;
        };
        let handle = phone.handle.clone();
        let answer = phone.answer.take().unwrap_or_default();
        let negotiated = match media::sdp::read_answer(&answer) {
            Ok(n) => n,
            Err(e) => {
                self.note(format!(
                    "{} answered with an unusable SDP: {e}",
                    ringing.extension
                ));
                handle.hang_up();
                self.pending.push_back(Event::FarEnd(FarEnd::Failed));
                return;
            }
        };
        if !self.answered && !self.sip_done {
            self.answered = true;
            if self.leg.answer(self.answer_sdp.clone()).await.is_err() {
                self.sip_done = true;
                handle.hang_up();
                self.pending.push_back(Event::Hangup);
                return;
            }
            self.facts.answered();
        }
        let caller = match self.media.hand_over().await {
            Ok(side) => side,
            Err(e) => {
                self.note(format!("the caller's media ended before the bridge: {e}"));
                handle.hang_up();
                self.pending.push_back(Event::Hangup);
                return;
            }
        };
        let Some(BoundPort { socket, lease }) = ringing.port.take() else {
            return;
        };
        let callee = bridge::Side {
            socket,
            latch: Latch::new(
                negotiated.remote,
                Learning::for_peer(negotiated.remote, phone.ip),
            ),
            codec: negotiated.codec,
            dtmf_payload_type: negotiated.dtmf_payload_type,
            stream: OutgoingStream::random(),
        };
        self.note(format!("{} answered; connected", phone.extension));
        self.services
            .sip
            .set_line_state(self.id.0, &phone.extension, LineState::Confirmed)
            .await;
        if let Some(caller) = &self.caller_line {
            self.services
                .sip
                .set_line_state(self.id.0, caller, LineState::Confirmed)
                .await;
        }
        self.facts.answered_by = Some(phone.extension.clone());
        self.connected = Some(Connected {
            branch,
            bridge: bridge::start(caller, callee, self.services.media_watch.inactivity),
            phone: handle,
            extension: phone.extension.clone(),
            _lease: lease,
        });
        // Saying who answered lets a queue count the call and time the agent's wrap-up.
        self.pending
            .push_back(Event::AnsweredBy(phone.extension.clone()));
        self.ringing = Some(ringing); // keeps the connected branch's events coming
        if self.leg.is_held() {
            // The caller put the call on hold while it rang: the phone starts held.
            self.on_hold(Which::A, true).await;
        }
    }

    /// A rung phone answered with no SDP we can bridge to: hung up (the stack ACKed the
    /// 200, so a BYE), with the reason in the trace.
    fn refuse_answer(&self, branch: usize, sdp: &str, error: &media::SdpError) {
        let Some(phone) = self.ringing.as_ref().and_then(|r| r.phones.get(branch)) else {
            return;
        };
        let why = if sdp.trim().is_empty() {
            "answered without SDP, though our INVITE carried an offer (RFC 3261 \
             §13.2.1 wants the answer in the 200)"
                .to_string()
        } else {
            format!("answered with an SDP we cannot use ({error})")
        };
        self.note(format!(
            "{} at {} {why}: hung up on it; it counts as failed",
            phone.extension, phone.handle.target
        ));
        phone.handle.hang_up();
    }

    /// Both phones of the bridge went silent (no BYE will come): the call ends.
    pub(super) fn on_bridge_silent(&mut self) {
        self.note("no media from either phone for too long; ending the call".to_string());
        self.ended_by = Some("no media from either phone".into());
        self.pending.push_back(Event::Hangup);
    }

    /// The connected phone hung up: the call ends.
    fn on_connected_ended(&mut self) {
        if let Some(connected) = &self.connected {
            self.note(format!("{} hung up", connected.extension));
            self.ended_by = Some(format!("{} hung up", connected.extension));
            self.facts
                .hung_up(switchboard_core::store::HungUpBy::Callee);
            self.pending.push_back(Event::Hangup);
        }
    }

    /// Ends what ringing left: the bridge closed, the connected phone hung up, the
    /// phones still ringing cancelled.
    pub(super) async fn end_ringing(&mut self) {
        self.stop_ringing().await;
        if let Some(connected) = self.connected.take() {
            connected.phone.hang_up();
            connected.bridge.close().await;
            self.services
                .sip
                .set_line_state(self.id.0, &connected.extension, LineState::Idle)
                .await;
            if let Some(caller) = &self.caller_line {
                self.services
                    .sip
                    .set_line_state(self.id.0, caller, LineState::Idle)
                    .await;
            }
        }
    }
}

/// Who the caller is, as the phones rung for it show it.
pub(super) fn caller_id(
    from: &switchboard_core::call::Caller,
    plan: &switchboard_dsl::Plan,
) -> CallerId {
    match from {
        switchboard_core::call::Caller::Extension { number, .. } => CallerId {
            number: number.clone(),
            name: plan.extension(number).and_then(|e| e.name.clone()),
        },
        switchboard_core::call::Caller::Trunk { number, .. } => CallerId {
            number: number.clone(),
            name: None,
        },
    }
}
