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
use crate::media::bridge::{self, BridgeHandle};
use crate::media::latch::{Latch, Learning};
use crate::media::rtp::OutgoingStream;
use crate::media::{self, BoundPort, PortLease};
use crate::sip::{
    BranchEvent, CallerId, Fork, ForkAction, ForkOutcome, LineState, OutgoingEvent, OutgoingHandle,
};
use std::net::IpAddr;
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

/// One phone being rung.
struct Phone {
    handle: OutgoingHandle,
    /// The extension it rings for.
    extension: String,
    ip: IpAddr,
    /// Its answer's SDP, once it answered.
    answer: Option<String>,
}

/// A phone connected to the caller: the bridge between them and the phone's side.
pub(super) struct Connected {
    branch: usize,
    pub(super) bridge: BridgeHandle,
    phone: OutgoingHandle,
    extension: String,
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
        let port = match self.services.ports.bind() {
            Ok(port) => port,
            Err(e) => {
                self.note(format!("cannot ring {extension}: {e}"));
                self.pending.push_back(Event::FarEnd(FarEnd::Failed));
                return;
            }
        };
        let local_ip = self
            .services
            .sip
            .local_ip_for(registrations[0].1.source.ip());
        let offer = media::sdp::offer(local_ip, port.lease.port(), self.id.0);
        let (events_tx, events) = mpsc::unbounded_channel();
        let mut phones = Vec::new();
        for (branch, (callee, registration)) in registrations.iter().enumerate() {
            let placed =
                self.services
                    .sip
                    .call_phone(registration, callee, &self.caller_id, offer.clone());
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
                    self.note(format!(
                        "cannot call {extension} at {}: {e}",
                        registration.source
                    ));
                    events_tx.send((branch, OutgoingEvent::Failed(None))).ok();
                    continue;
                }
            };
            phones.push(Phone {
                handle,
                extension: callee.clone(),
                ip: registration.source.ip(),
                answer: None,
            });
        }
        self.note(format!(
            "ringing {extension} on {} phone(s)",
            registrations.len()
        ));
        for rung in &extensions {
            self.services
                .sip
                .set_line_state(rung, LineState::Early)
                .await;
        }
        if let Some(caller) = &self.caller_line {
            self.services
                .sip
                .set_line_state(caller, LineState::Early)
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
                self.services.sip.set_line_state(ext, LineState::Idle).await;
                done.push(ext);
            }
        }
        if connected.is_none()
            && let Some(caller) = &self.caller_line
        {
            self.services
                .sip
                .set_line_state(caller, LineState::Idle)
                .await;
        }
    }

    /// What a rung phone did.
    pub(super) async fn on_phone(&mut self, branch: usize, event: OutgoingEvent) {
        let fork_event = match event {
            OutgoingEvent::Ringing => BranchEvent::Ringing(branch),
            OutgoingEvent::Answered { sdp } => {
                if let Some(phone) = self.ringing.as_mut().and_then(|r| r.phones.get_mut(branch)) {
                    phone.answer = Some(sdp);
                }
                BranchEvent::Answered(branch)
            }
            OutgoingEvent::Failed(status) => BranchEvent::Failed(branch, status),
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
                    let extension = self.ringing.take().map(|r| r.extension).unwrap_or_default();
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
                Learning::for_peer(negotiated.remote, Some(phone.ip)),
            ),
            codec: negotiated.codec,
            dtmf_payload_type: negotiated.dtmf_payload_type,
            stream: OutgoingStream::random(),
        };
        self.note(format!("{} answered; connected", phone.extension));
        self.services
            .sip
            .set_line_state(&phone.extension, LineState::Confirmed)
            .await;
        if let Some(caller) = &self.caller_line {
            self.services
                .sip
                .set_line_state(caller, LineState::Confirmed)
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
        self.ringing = Some(ringing); // keeps the connected branch's events coming
        self.pending.push_back(Event::FarEnd(FarEnd::Answered));
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
                .set_line_state(&connected.extension, LineState::Idle)
                .await;
            if let Some(caller) = &self.caller_line {
                self.services
                    .sip
                    .set_line_state(caller, LineState::Idle)
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
