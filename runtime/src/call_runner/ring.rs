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
//!
//! Early media: a phone or provider whose 180/183 carries SDP will send audio before it
//! answers (ringback, an announcement). While the caller is unanswered (a queue's caller
//! was answered for its hold music and hears no early media), the caller's leg sends 183
//! with the caller's answer — the same SDP its 200 will carry — and the ring's socket
//! is lent to the caller's media session, which relays that audio into the caller's
//! stream (`MediaHandle::hear_early`). Lending rather than handing the caller over to a
//! bridge keeps the failure path as it is: if that branch fails, the session gives the
//! socket back and simply goes on (prompts, recording, keys), so the plan's next step
//! (voicemail, say) plays in the same stream. If it answers, the session gives the
//! socket back just before it hands itself over, and the bridge follows the 200's SDP.
//! The [`Fork`] picks whose early media is heard when several phones send it. A
//! click-to-call person, answered before the call began, hears early media the same way,
//! and otherwise the server's ringback, or its busy tone when a trunk refuses the number
//! (`progress_tones`).

use super::LiveCall;
use crate::media::bridge::{self, BridgeHandle, Which};
use crate::media::latch::{Latch, Learning};
use crate::media::rtp::OutgoingStream;
use crate::media::{self, PortLease};
use crate::sip::{
    BranchEvent, CallerId, Fork, ForkAction, ForkOutcome, LineState, OutgoingEvent, OutgoingHandle,
    Registration, TrunkDestination,
};
use std::net::{IpAddr, SocketAddr};
use switchboard_core::event::{Event, FarEnd};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// The phones being rung for one `Ring`, until one is connected or all failed.
pub(super) struct Ringing {
    pub(super) events: mpsc::UnboundedReceiver<(usize, OutgoingEvent)>,
    fork: Fork,
    phones: Vec<Phone>,
    /// The socket of the port offered to every phone; the one connected gets it. `None`
    /// while the caller's media session has it, relaying a phone's early media.
    socket: Option<UdpSocket>,
    /// The port itself, returned once its socket is closed.
    lease: Option<PortLease>,
    extension: String,
    /// The extensions whose lines this ring lit: exactly these go dark again, whether or
    /// not a phone of theirs could be called.
    lines: Vec<String>,
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
    /// The address its RTP may come from behind NAT: a phone's SIP address, a provider's
    /// next hop. A provider's media server is named in its SDP, and always heard from
    /// there; learning any other source from anywhere would let a stranger take the
    /// call's audio over after two silent seconds (a hold).
    ip: Option<IpAddr>,
    /// Whether it is a call out through a trunk, whose failures are traced with the
    /// provider's status.
    through_trunk: bool,
    /// Its answer's SDP, once it answered.
    answer: Option<String>,
    /// The SDP of its early media (a 180/183 with SDP), if it sent any.
    early: Option<String>,
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
                    early: None,
                },
                // The provider's media is heard from its SDP's address; another source is
                // learnt only from the address its signalling goes to, never from anywhere.
                Callee::Trunk { destination, .. } => Phone {
                    handle,
                    extension: extension.clone(),
                    ip: Some(destination.next_hop.ip()),
                    through_trunk: true,
                    answer: None,
                    early: None,
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
            socket: Some(port.socket),
            lease: Some(port.lease),
            extension,
            lines: lines.to_vec(),
        });
    }

    /// Stops ringing (the engine's `CancelRing`, or the caller gave up).
    pub(super) async fn stop_ringing(&mut self) {
        if let Some(ringing) = self.ringing.take() {
            self.end_ringback();
            if ringing.fork.heard().is_some() {
                // The session closes the lent socket before the port is returned.
                let _ = self.media.end_early().await;
            }
            for branch in ringing.fork.ringing() {
                if let Some(phone) = ringing.phones.get(branch) {
                    phone.handle.hang_up();
                }
            }
            self.lines_idle(&ringing).await;
        }
    }

    /// The lines the ring lit, dark again: every rung extension's but a connected one,
    /// and the caller's unless connected.
    async fn lines_idle(&self, ringing: &Ringing) {
        let connected = self.connected.as_ref().map(|c| c.extension.clone());
        for ext in &ringing.lines {
            if Some(ext) != connected.as_ref() {
                self.services
                    .sip
                    .set_line_state(self.id.0, ext, LineState::Idle)
                    .await;
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
            OutgoingEvent::EarlyMedia { sdp } => {
                // Only a caller not yet answered hears early media (or a click-to-call
                // person, answered before the call began: `progress_tones`): one in a
                // queue was answered for its hold music, and a plan that answered plays
                // its own.
                let hears = self.hears_early_media();
                match media::sdp::read_answer(&sdp) {
                    Ok(_) if hears => {
                        if let Some(phone) =
                            self.ringing.as_mut().and_then(|r| r.phones.get_mut(branch))
                        {
                            phone.early = Some(sdp);
                        }
                        BranchEvent::EarlyMedia(branch)
                    }
                    _ => BranchEvent::Ringing(branch),
                }
            }
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
                    self.ringback();
                }
                ForkAction::HearEarly(heard) => self.hear_early(heard).await,
                ForkAction::EndEarly => self.end_early().await,
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
                    self.end_ringback();
                    let extension = ringing.extension;
                    let (why, far_end) = match outcome {
                        ForkOutcome::Busy => ("busy", FarEnd::Busy),
                        ForkOutcome::Failed => ("every phone refused the call", FarEnd::Failed),
                    };
                    self.note(format!("{extension}: {why}"));
                    // A ring through a trunk lights no line; its failure ends the call.
                    if ringing.lines.is_empty() && self.tell_refused(&extension, far_end) {
                        return;
                    }
                    self.pending.push_back(Event::FarEnd(far_end));
                    return;
                }
            }
        }
    }

    /// Lets the caller hear the early media of the phone of `branch`: 183 with the
    /// caller's answer, and the ring's socket lent to the caller's session to relay it.
    async fn hear_early(&mut self, branch: usize) {
        let Some(ringing) = self.ringing.as_mut() else {
            return;
        };
        let Some(phone) = ringing.phones.get(branch) else {
            return;
        };
        let Some(Ok(early)) = phone.early.as_deref().map(media::sdp::read_answer) else {
            return;
        };
        // The answer the 200 will carry too (RFC 3264: one answer per offer). A caller
        // gone meanwhile is heard as its hang-up.
        if self
            .leg
            .session_progress(self.answer_sdp.clone())
            .await
            .is_err()
        {
            return;
        }
        let Some(socket) = ringing.socket.take() else {
            return;
        };
        let side = bridge::Side {
            socket,
            latch: Latch::new(early.remote, Learning::for_peer(early.remote, phone.ip)),
            codec: early.codec,
            dtmf_payload_type: early.dtmf_payload_type,
            stream: OutgoingStream::random(),
        };
        let extension = phone.extension.clone();
        // A session already ended drops the socket: the call is ending with it.
        if self.media.hear_early(side).is_ok() {
            self.note(format!(
                "{extension} sends early media: the caller hears it (183)"
            ));
        }
    }

    /// The phone whose early media the caller heard failed: the session gives the
    /// ring's socket back and goes on with its own packets, in the same stream.
    async fn end_early(&mut self) {
        if let Ok(Some(side)) = self.media.end_early().await
            && let Some(ringing) = self.ringing.as_mut()
        {
            ringing.socket = Some(side.socket);
        }
    }

    /// Joins the caller to the phone of `branch`, which answered.
    async fn connect(&mut self, branch: usize) {
        let Some(mut ringing) = self.ringing.take() else {
            return;
        };
        // Before the session's early media or hand-over: no tone after the answer.
        self.end_ringback();
        let Some(phone) = ringing.phones.get_mut(branch) else {
            return;
        };
        let handle = phone.handle.clone();
        let answer = phone.answer.take().unwrap_or_default();
        let heard = ringing.fork.heard();
        let negotiated = match media::sdp::read_answer(&answer) {
            Ok(n) => n,
            Err(e) => {
                self.note(format!(
                    "{} answered with an unusable SDP: {e}",
                    ringing.extension
                ));
                if heard.is_some() {
                    // The plan goes on with the caller's session, sending its own again.
                    let _ = self.media.end_early().await;
                }
                handle.hang_up();
                self.pending.push_back(Event::FarEnd(FarEnd::Failed));
                return;
            }
        };
        if !self.answered && !self.sip_done {
            self.answered = true;
            if self.leg.answer(self.answer_sdp.clone()).await.is_err() {
                self.sip_done = true;
                if heard.is_some() {
                    let _ = self.media.end_early().await;
                }
                handle.hang_up();
                self.pending.push_back(Event::Hangup);
                return;
            }
        }
        // Now, for a caller answered before the call began too (click-to-call): the
        // record's answer is the conversation's start. The first answer counts.
        self.facts.answered();
        // The socket the session relayed early media on comes back first (the packets
        // arriving meanwhile wait in it for the bridge), with what its latch learnt if
        // it was this phone's and the 200 names the same address as its 183.
        let early = match heard {
            Some(_) => self.media.end_early().await.ok().flatten(),
            None => None,
        };
        let caller = match self.media.hand_over().await {
            Ok(side) => side,
            Err(e) => {
                self.note(format!("the caller's media ended before the bridge: {e}"));
                handle.hang_up();
                self.pending.push_back(Event::Hangup);
                return;
            }
        };
        let early_remote = phone
            .early
            .as_deref()
            .and_then(|sdp| media::sdp::read_answer(sdp).ok())
            .map(|n| n.remote);
        let (socket, early_latch) = match early {
            Some(side) => (Some(side.socket), Some(side.latch)),
            None => (ringing.socket.take(), None),
        };
        let (Some(socket), Some(lease)) = (socket, ringing.lease.take()) else {
            return;
        };
        // The 200 may name another address (or codec) than the 183: the bridge follows
        // the 200.
        let latch = match early_latch {
            Some(latch) if heard == Some(branch) && early_remote == Some(negotiated.remote) => {
                latch
            }
            _ => Latch::new(
                negotiated.remote,
                Learning::for_peer(negotiated.remote, phone.ip),
            ),
        };
        let callee = bridge::Side {
            socket,
            latch,
            codec: negotiated.codec,
            dtmf_payload_type: negotiated.dtmf_payload_type,
            stream: OutgoingStream::random(),
        };
        self.note(format!("{} answered; connected", phone.extension));
        // A number through a trunk has no line here; a desk's lamp shows the call.
        if !phone.through_trunk {
            self.services
                .sip
                .set_line_state(self.id.0, &phone.extension, LineState::Confirmed)
                .await;
        }
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
        // The others rung are not ringing any more: their lamps go dark, and a queue may
        // offer them its next call.
        self.lines_idle(&ringing).await;
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
