//! One live call: the engine's `Call` driven by its SIP leg, its RTP session and its
//! timers. Engine commands become SIP and RTP here, and SIP and RTP become engine events.
//!
//! Each call is one tokio task, wrapped in a `tracing` span carrying its ids. The task
//! never touches the office store itself: each engine step (`Call::start`, `handle`)
//! runs on the store thread (`StoreThread::run`), which hands the `Call` back once what
//! the step wrote is committed; the task only awaits. Files (a recording to play, one
//! to delete) are read and removed on the blocking pool.
//!
//! Ringing an extension calls its registered phones and connects the one that answers
//! (`ring`), and so does ringing a queue's logged-in agents; a call out through a trunk
//! is one such ring to the provider (`dial_trunk`). A call may also begin with a call we
//! placed to a person's own phone and they answered (click-to-call, `call_back`): that
//! answered leg stands where a phone's INVITE stands (`caller_leg`), and the engine runs
//! the call as if their extension had dialled the number; no SIP tells that person the
//! number rings or is busy, so the server plays them the tones (`progress_tones`). What
//! the runtime cannot do yet (park, pick up a parked call) is said to the caller
//! (`feature-unavailable`) and the call ends. A far end that goes silent without a BYE
//! ends the call after the media's inactivity limit.

mod call_back;
mod caller_leg;
mod detail;
mod dial_trunk;
mod hold;
mod progress_tones;
mod queue;
mod ring;

use crate::call_log::{CallLog, NewCall};
use crate::media::{self, MediaEvent, MediaHandle, PortPool, PromptLibrary};
use crate::office_time::wall_time;
use crate::reload::PlanHolder;
use crate::sip::{CallOrigin, IncomingCall, LegEvent, SipServer};
use crate::sqlite_store::StoreThread;
pub use call_back::{CallBack, CallBackRefused};
use caller_leg::CallerLeg;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use switchboard_core::call::{Call, CallStart, Caller};
use switchboard_core::command::{Command, HangupCause, Media};
use switchboard_core::event::Event;
use switchboard_core::ids::{CallId, PlayId, TimerId};
use switchboard_core::store::{HungUpBy, Store};
use switchboard_dsl::Plan;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// What the caller hears before a call ends on something the runtime cannot do yet.
pub const UNAVAILABLE_PROMPT: &str = "feature-unavailable";

/// The id of the runner's own `UNAVAILABLE_PROMPT` play; the engine's plays count up
/// from 1, so they never reach it.
const UNAVAILABLE_PLAY: u32 = u32::MAX;

/// What every call shares: the plans, the store, media and the record of calls.
pub struct CallServices {
    pub plans: Arc<PlanHolder>,
    /// The office's state: a handle to the store thread, which runs every engine step.
    /// Cloned into nothing else; the thread lives until the server drops its services.
    pub store: StoreThread,
    pub prompts: Arc<PromptLibrary>,
    pub ports: PortPool,
    /// Where recordings are written, one WAV per recording, named by the reference the
    /// store keeps (`<name>.wav`).
    pub recordings: PathBuf,
    pub calls: Arc<CallLog>,
    /// For message-waiting NOTIFYs.
    pub sip: Arc<SipServer>,
    pub next_id: AtomicU64,
    /// How each call's media watches the far end (how long it may stay silent).
    pub media_watch: media::session::Watch,
    /// The trunks' accounts at their providers, for calls out.
    pub trunks: Arc<crate::sip::TrunkAccounts>,
}

/// Runs one incoming call to its end, inside a span carrying its ids. `hang_up` ends
/// the call (the server stopped and its deadline for calls in progress passed); a
/// recording in progress is still finished and stored.
pub async fn run_call(
    services: Arc<CallServices>,
    mut incoming: IncomingCall,
    hang_up: CancellationToken,
) {
    if let CallOrigin::Trunk { name, .. } = &incoming.origin {
        incoming.dialled =
            services
                .trunks
                .dialled(name, &incoming.dialled, incoming.called.as_deref());
    }
    let id = CallId(services.next_id.fetch_add(1, Ordering::Relaxed));
    let version = services.plans.current();
    let from_user = match &incoming.origin {
        CallOrigin::Extension { number, .. } => number.clone(),
        CallOrigin::Trunk { name, number } => format!("{number} via {name}"),
    };
    let span = tracing::info_span!(
        "call",
        id = id.0,
        sip_call_id = %incoming.sip_call_id,
        caller = %from_user,
        dialled = %incoming.dialled,
        plan_version = version.version,
    );
    run_call_in_span(services, incoming, hang_up, id, version)
        .instrument(span)
        .await
}

async fn run_call_in_span(
    services: Arc<CallServices>,
    incoming: IncomingCall,
    hang_up: CancellationToken,
    id: CallId,
    version: Arc<crate::reload::PlanVersion>,
) {
    let plan = version.plan.clone();
    let IncomingCall {
        sip_call_id,
        origin,
        dialled,
        sdp_offer,
        leg,
        ..
    } = incoming;
    // Where the caller's SIP came from: its RTP, if it is behind NAT, comes through the
    // same NAT. A trunk's media may come from another host than its SIP.
    let signalled_from = match &origin {
        CallOrigin::Extension { source, .. } => Some(source.ip()),
        CallOrigin::Trunk { .. } => None,
    };
    let for_store = plan.clone();
    let from = match services
        .store
        .run(move |store| caller_of(origin, &for_store, &*store))
        .await
    {
        Ok(from) => from,
        Err(e) => {
            tracing::error!("the office store failed: {e}");
            let _ = leg.reject(500).await;
            return;
        }
    };
    let started = SystemTime::now();
    let caller = match &from {
        Caller::Extension { number, .. } => number.clone(),
        Caller::Trunk { number, .. } => number.clone(),
    };
    services.calls.start(NewCall {
        id,
        sip_call_id: sip_call_id.clone(),
        caller: caller.clone(),
        dialled: dialled.clone(),
        plan_version: version.version,
    });
    let record = detail::Ended {
        sip_call_id: sip_call_id.clone(),
        started,
        caller,
        dialled: dialled.clone(),
        outcome: String::new(),
        plan_version: version.version,
    };
    let bound = match services.ports.bind() {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(call = %sip_call_id, "no RTP port: {e}");
            let _ = leg.reject(503).await;
            services.calls.finish(id, format!("refused: {e}"));
            return;
        }
    };
    let (answer_sdp, negotiated) =
        match media::sdp::answer(&sdp_offer, leg.local_ip(), bound.lease.port(), id.0) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(call = %sip_call_id, "unusable SDP offer: {e}");
                let _ = leg.reject(488).await;
                services.calls.finish(id, format!("refused: {e}"));
                return;
            }
        };
    // Until the caller's ACK (or its first packet) shows the SDP's address wants this
    // call's media, only a second of packets goes there: an INVITE may name anyone.
    let trust = media::session::FarEndTrust {
        learning: media::latch::Learning::for_peer(negotiated.remote, signalled_from),
        gate: media::send_gate::SendGate::until_confirmed(media::send_gate::UNCONFIRMED_PACKETS),
    };
    let (media, media_events) = media::session::start_watched(
        bound.socket,
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
            from,
            dialled,
            leg: CallerLeg::Incoming(leg),
            answered: false,
            media,
            media_events,
            answer_sdp,
            lease: bound.lease,
            record,
        },
    )
    .await
}

/// A call whose caller's leg and media session are up: what the engine needs to run it.
struct Ready {
    id: CallId,
    version: Arc<crate::reload::PlanVersion>,
    from: Caller,
    dialled: String,
    leg: CallerLeg,
    /// Whether the caller's leg is answered already (a call we placed to their phone).
    answered: bool,
    media: MediaHandle,
    media_events: tokio::sync::mpsc::Receiver<MediaEvent>,
    /// The SDP our answer to the caller carries (our offer, for a placed leg).
    answer_sdp: String,
    /// The caller's media port, returned once its session is closed.
    lease: media::PortLease,
    record: detail::Ended,
}

/// Runs the engine's call over a caller's leg and media to its end, and keeps its record.
async fn drive(services: Arc<CallServices>, hang_up: CancellationToken, ready: Ready) {
    let Ready {
        id,
        version,
        from,
        dialled,
        leg,
        answered,
        media,
        media_events,
        answer_sdp,
        lease,
        record,
    } = ready;
    let plan = version.plan.clone();
    let caller_id = ring::caller_id(&from, &plan);
    let caller_line = match &from {
        Caller::Extension { number, .. } => Some(number.clone()),
        Caller::Trunk { .. } => None,
    };
    let start = CallStart {
        id,
        from,
        dialled,
        time: wall_time(&plan.settings.timezone, SystemTime::now()),
    };
    let for_store = plan.clone();
    let call = services
        .store
        .run(move |store| Call::start(for_store, start, store))
        .await;
    let (call, ended_by) = match call {
        Ok(call) => (Some(call), None),
        Err(e) => {
            tracing::error!("the office store failed: {e}");
            services
                .calls
                .append_lines(id, [format!("error: the office store failed: {e}")]);
            (None, Some(format!("the office store failed: {e}")))
        }
    };
    let mut live = LiveCall {
        services: services.clone(),
        plan,
        id,
        call,
        leg,
        media,
        answer_sdp,
        answered,
        sip_done: false,
        timers: BTreeMap::new(),
        pending: VecDeque::new(),
        recordings: 0,
        unavailable: None,
        ended_by,
        caller_id,
        ringing: None,
        connected: None,
        facts: detail::Facts::default(),
        caller_line,
    };
    let outcome = live.run(media_events, hang_up).await;
    live.media.close().ok();
    // The session finishes a recording in progress before it ends; wait for it, so the
    // port is only returned once the socket is closed.
    let _ = tokio::time::timeout(Duration::from_secs(5), live.media.closed()).await;
    drop(lease);
    tracing::info!(%outcome, "call ended");
    let detail = detail::Ended {
        outcome: outcome.clone(),
        ..record
    }
    .detail(std::mem::take(&mut live.facts));
    services.calls.finish(id, outcome);
    if let Err(e) = services.store.run(move |s| s.record_call(&detail)).await {
        tracing::error!("the call's record could not be kept: {e}");
    }
}

struct LiveCall {
    services: Arc<CallServices>,
    plan: Arc<Plan>,
    id: CallId,
    /// The engine's call; `None` while a step runs on the store thread, and for good
    /// once the store failed (the call then ends).
    call: Option<Call>,
    leg: CallerLeg,
    media: MediaHandle,
    answer_sdp: String,
    answered: bool,
    /// The SIP dialog is over (our BYE or final response sent, or the caller's BYE).
    sip_done: bool,
    /// Running timers by deadline.
    timers: BTreeMap<(Instant, TimerId), ()>,
    /// Events the runner produces itself (a prompt with no audio, a ring nobody can
    /// answer yet), fed to the engine before waiting for the outside world.
    pending: VecDeque<Event>,
    recordings: u32,
    /// What the engine hears once the caller has heard `UNAVAILABLE_PROMPT`.
    unavailable: Option<Event>,
    /// Why the runtime itself ended the call (the shutdown deadline, a silent far end,
    /// the store); wins over the engine's "the caller hung up" that follows.
    ended_by: Option<String>,
    /// Who the caller is, as phones rung for it show it.
    caller_id: crate::sip::CallerId,
    /// The phones being rung for the engine's `Ring`.
    ringing: Option<ring::Ringing>,
    /// The phone connected to the caller, through a bridge.
    connected: Option<ring::Connected>,
    /// What the call's record will say.
    facts: detail::Facts,
    /// The caller's extension, whose busy lamp the call lights; none from a trunk.
    caller_line: Option<String>,
}

impl LiveCall {
    /// Feeds events until the engine says the call is over; returns the outcome.
    async fn run(
        &mut self,
        mut media_events: tokio::sync::mpsc::Receiver<MediaEvent>,
        hang_up: CancellationToken,
    ) -> String {
        let mut outcome = String::from("ended");
        let mut hanging_up = false;
        // A closed channel answers every poll at once: each source is heard until it
        // closes, and then never again, or the loop would feed the engine a hang-up per
        // turn while it waits for a recording to be stored.
        let mut media_open = true;
        loop {
            self.carry_out(&mut outcome).await;
            if let Some(e) = self.pending.pop_front() {
                self.handle(e).await;
                continue;
            }
            if self.call.as_ref().is_none_or(Call::is_ended) {
                break;
            }
            let next_timer = self.timers.keys().next().map(|(at, _)| *at);
            let event = tokio::select! {
                ev = media_events.recv(), if media_open => match ev {
                    Some(MediaEvent::PlayFinished(UNAVAILABLE_PLAY)) => match self.unavailable.take() {
                        Some(event) => event,
                        None => continue,
                    },
                    // The runner's own ringback, stopped: nothing the engine played.
                    Some(MediaEvent::PlayFinished(progress_tones::RINGBACK_PLAY)) => continue,
                    Some(MediaEvent::Digit(d)) => Event::Digit(d),
                    Some(MediaEvent::PlayFinished(p)) => Event::PlayFinished(PlayId(p)),
                    Some(MediaEvent::RecordingFinished { path, duration_ms }) => Event::RecordingFinished {
                        recording: recording_name(&path),
                        duration_ms,
                    },
                    Some(MediaEvent::RecordingFailed(e)) => {
                        tracing::error!(call = self.id.0, "recording failed: {e}");
                        self.services.calls.append_lines(self.id, [format!("error: recording failed: {e}")]);
                        Event::Hangup
                    }
                    Some(MediaEvent::Inactive) => {
                        tracing::warn!("no media from the caller; ending the call");
                        self.services.calls.append_lines(self.id, ["runtime: no media from the caller for too long; ending the call".to_string()]);
                        self.ended_by = Some("no media from the caller".into());
                        Event::Hangup
                    }
                    None => {
                        media_open = false;
                        // Handed over to a bridge: the call goes on without the session.
                        if self.connected.is_some() {
                            continue;
                        }
                        Event::Hangup
                    }
                },
                Some((branch, ev)) = recv_ringing(&mut self.ringing), if self.ringing.is_some() => {
                    self.on_phone(branch, ev).await;
                    continue;
                },
                true = bridge_silent(&mut self.connected),
                    if self.connected.as_ref().is_some_and(|c| c.bridge.silent.is_some()) => {
                    self.on_bridge_silent();
                    continue;
                },
                // Once the dialog is over (the caller's BYE, or our own), nothing more
                // comes from it.
                ev = self.leg.events().recv(), if !self.sip_done => match ev {
                    Some(LegEvent::Dtmf(d)) => Event::Digit(d),
                    Some(LegEvent::ReInvite) => {
                        // It may put the call on hold (and stop the caller's media).
                        let _ = self.media.send(media::MediaCommand::Unwatch);
                        continue;
                    }
                    Some(LegEvent::Hold) => {
                        // The caller's media may stop; once bridged, the phone is held.
                        let _ = self.media.send(media::MediaCommand::Unwatch);
                        self.on_hold(media::bridge::Which::A, true).await;
                        continue;
                    }
                    Some(LegEvent::Resume) => {
                        // The caller's media flows again: a caller who then vanishes
                        // without a BYE is noticed, as before the hold.
                        let _ = self.media.send(media::MediaCommand::Watch);
                        self.on_hold(media::bridge::Which::A, false).await;
                        continue;
                    }
                    Some(LegEvent::Hangup) | None => {
                        self.sip_done = true;
                        self.facts.hung_up(HungUpBy::Caller);
                        // The caller is gone: finish a recording now rather than on a timer.
                        Event::Hangup
                    }
                },
                _ = sleep_until(next_timer), if next_timer.is_some() => {
                    let (key, ()) = self.timers.pop_first().expect("a timer is due");
                    Event::TimerFired(key.1)
                },
                _ = hang_up.cancelled(), if !hanging_up => {
                    hanging_up = true;
                    self.ended_by = Some("the server stopped; its deadline for calls in progress passed".into());
                    Event::Hangup
                }
                // Nothing left that could move the call on.
                else => break,
            };
            self.handle(event).await;
        }
        self.end_ringing().await;
        // Whatever line this call still holds (a path that forgot one) goes dark with it.
        self.services.sip.release_lines(self.id.0).await;
        if !self.sip_done {
            let _ = self.leg.hangup().await;
        }
        self.ended_by.take().unwrap_or(outcome)
    }

    /// One engine step, on the store thread. If the store cannot commit what the step
    /// wrote, the step's commands are never carried out and the call ends.
    async fn handle(&mut self, event: Event) {
        let Some(mut call) = self.call.take() else {
            return;
        };
        let stepped = self
            .services
            .store
            .run(move |store| {
                call.handle(event, store);
                call
            })
            .await;
        match stepped {
            Ok(call) => self.call = Some(call),
            Err(e) => {
                tracing::error!("the office store failed: {e}");
                self.services
                    .calls
                    .append_lines(self.id, [format!("error: the office store failed: {e}")]);
                self.ended_by = Some(format!("the office store failed: {e}"));
            }
        }
    }

    /// Carries out the engine's commands and records its trace.
    async fn carry_out(&mut self, outcome: &mut String) {
        let Some(call) = &mut self.call else {
            return;
        };
        let mut trace = Vec::new();
        while let Some(t) = call.poll_trace() {
            if let switchboard_core::trace::Traced::Ended(why) = &t.what {
                *outcome = why.clone();
            }
            trace.push(t);
        }
        if !trace.is_empty() {
            self.services
                .calls
                .append_trace(self.id, &self.plan, &trace);
        }
        while let Some(c) = self.call.as_mut().and_then(Call::poll_command) {
            self.command(c).await;
        }
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Answer => {
                if !self.answered && !self.sip_done {
                    self.answered = true;
                    // Returns once the ACK came, or the stack gave up waiting for it.
                    if self.leg.answer(self.answer_sdp.clone()).await.is_err() {
                        self.sip_done = true;
                        self.pending.push_back(Event::Hangup);
                    } else {
                        self.facts.answered();
                        let _ = self.media.send(media::MediaCommand::Confirmed);
                    }
                }
            }
            Command::Play {
                id,
                media,
                language,
                ..
            } => {
                let audio = self.audio(media, language).await;
                if audio.is_empty() || self.media.play(id.0, audio).is_err() {
                    self.pending.push_back(Event::PlayFinished(id));
                }
            }
            Command::StopPlaying(id) => {
                let _ = self.media.stop_playing(id.0);
            }
            Command::PlayOnHold {
                id,
                prompt,
                language,
            } => self.play_on_hold(id, prompt, language).await,
            Command::Record { max } => {
                self.recordings += 1;
                let name = format!(
                    "msg-{}-{}-{}",
                    SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default(),
                    self.id.0,
                    self.recordings
                );
                let _ = self.media.start_recording(name, max);
            }
            Command::StopRecording => {
                let _ = self.media.stop_recording();
            }
            Command::StartTimer { id, after } => {
                self.timers.insert((Instant::now() + after, id), ());
            }
            Command::CancelTimer(id) => self.timers.retain(|(_, t), ()| *t != id),
            Command::Ring { extension } => self.ring(extension.clone(), vec![extension]).await,
            Command::RingQueue { queue, agents } => self.ring_queue(queue, agents).await,
            Command::DialTrunk { trunk, number } => self.dial_trunk(trunk, number).await,
            // A parked call would wait for a pick-up that cannot come, an unparking one
            // for a connection: both hear why and end (the engine empties the orbit).
            Command::Park { orbit } => {
                self.unavailable(
                    format!("cannot park calls yet (orbit {orbit})"),
                    Event::Hangup,
                )
                .await;
            }
            Command::Unpark { orbit, .. } => {
                self.unavailable(
                    format!("cannot pick up parked calls yet (orbit {orbit})"),
                    Event::Hangup,
                )
                .await;
            }
            Command::CancelRing => self.stop_ringing().await,
            Command::HotDesk { device, extension } => {
                tracing::info!(device, ?extension, "hot desk changed");
                self.services
                    .sip
                    .set_hot_desk(&device, extension.as_deref())
                    .await;
            }
            Command::DiscardRecording(name) => {
                let path = self.services.recordings.join(format!("{name}.wav"));
                // Nothing waits for it: the engine has already forgotten the recording.
                tokio::task::spawn_blocking(move || match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
                });
            }
            Command::MessageWaiting {
                mailbox,
                new,
                saved,
            } => {
                self.services
                    .sip
                    .notify_message_waiting(&mailbox, new, saved)
                    .await;
            }
            Command::Hangup { cause } => {
                if !self.sip_done {
                    self.sip_done = true;
                    let _ = if self.answered {
                        self.leg.hangup().await
                    } else {
                        self.leg
                            .reject(match cause {
                                HangupCause::NotFound => 404,
                                HangupCause::Error => 500,
                                HangupCause::Normal => 480,
                            })
                            .await
                    };
                }
            }
        }
    }

    /// A line of the runtime's own in the call's record and the log.
    fn note(&self, line: String) {
        tracing::info!("{line}");
        self.services
            .calls
            .append_lines(self.id, [format!("runtime: {line}")]);
    }

    /// Something the plan asked that the runtime cannot do yet: the caller is answered
    /// if need be and hears `UNAVAILABLE_PROMPT`, then the engine hears `then`.
    async fn unavailable(&mut self, what: String, then: Event) {
        self.note(format!("{what}; telling the caller and ending the call"));
        if !self.answered && !self.sip_done {
            Box::pin(self.command(Command::Answer)).await;
        }
        if self.answered && !self.sip_done {
            let language = self
                .call
                .as_ref()
                .map(|c| c.plan().settings.language.clone())
                .unwrap_or_default();
            let audio = self
                .audio(vec![Media::Prompt(UNAVAILABLE_PROMPT.into())], language)
                .await;
            if !audio.is_empty() && self.media.play(UNAVAILABLE_PLAY, audio).is_ok() {
                self.unavailable = Some(then);
                return;
            }
        }
        self.pending.push_back(then);
    }

    /// The samples of each item; a missing prompt is logged and skipped, so the caller
    /// hears the rest rather than nothing. Prompts come from memory; a recording is a
    /// file, read on the blocking pool.
    async fn audio(&self, items: Vec<Media>, language: String) -> Vec<Arc<[i16]>> {
        let prompts = self.services.prompts.clone();
        let recordings = self.services.recordings.clone();
        let default = self.plan.settings.language.clone();
        let reads_files = items.iter().any(|m| matches!(m, Media::Recording(_)));
        let load = move || {
            items
                .iter()
                .filter_map(|m| {
                    let loaded = match m {
                        Media::Prompt(name) => prompts.prompt(name, &language, &default),
                        Media::Recording(r) => {
                            prompts.recording(&recordings.join(format!("{r}.wav")))
                        }
                    };
                    loaded
                        .map_err(|e| tracing::warn!("cannot play {}: {e}", m.name()))
                        .ok()
                })
                .collect::<Vec<_>>()
        };
        if reads_files {
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || span.in_scope(load))
                .await
                .unwrap_or_default()
        } else {
            load()
        }
    }
}

/// Who the engine sees calling. A hot-desk phone registers with its MAC address as its
/// SIP user (`switchboard user set-password 001565AABBCC`); it calls as whoever is
/// logged in on it, or as nobody, which lets it only log in, log out and call 911.
pub fn caller_of(origin: CallOrigin, plan: &Plan, store: &dyn Store) -> Caller {
    match origin {
        CallOrigin::Extension { number, .. } => {
            let device = plan
                .devices
                .iter()
                .find(|d| d.mac.eq_ignore_ascii_case(&number))
                .map(|d| d.mac.to_ascii_uppercase());
            match device {
                Some(mac) => Caller::Extension {
                    number: store
                        .hot_desk_extension(&mac)
                        .ok()
                        .flatten()
                        .unwrap_or_default(),
                    device: Some(mac),
                },
                None => Caller::Extension {
                    number,
                    device: None,
                },
            }
        }
        CallOrigin::Trunk { name, number } => Caller::Trunk {
            trunk: name,
            number,
        },
    }
}

/// The reference the store keeps for a recording: its file name without `.wav`.
fn recording_name(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The next thing a rung phone did; pending while nothing rings.
async fn recv_ringing(
    ringing: &mut Option<ring::Ringing>,
) -> Option<(usize, crate::sip::OutgoingEvent)> {
    match ringing {
        Some(r) => r.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Whether a bridge's phones both went silent (false when the bridge ended without
/// that); read once, then pending like a call with no bridge.
async fn bridge_silent(connected: &mut Option<ring::Connected>) -> bool {
    let Some(silent) = connected.as_mut().and_then(|c| c.bridge.silent.as_mut()) else {
        return std::future::pending().await;
    };
    let fired = silent.await.is_ok();
    if let Some(c) = connected.as_mut() {
        c.bridge.silent = None;
    }
    fired
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::store::memory::MemoryStore;
    use switchboard_dsl::{PromptCatalog, SourceFile, Sources, compile};

    fn plan() -> Arc<Plan> {
        let mut s = Sources::new();
        s.add(SourceFile::new(
            "t.dial",
            "extension 101 \"Alice\" { voicemail; hot_desk; pin \"1234\" }\n\
             device \"001565AABBCC\" { hot_desk }\n",
        ));
        compile(s, &PromptCatalog::unchecked()).plan.unwrap()
    }

    fn from(user: &str) -> CallOrigin {
        CallOrigin::Extension {
            number: user.into(),
            source: "127.0.0.1:5062".parse().unwrap(),
        }
    }

    #[test]
    fn a_hot_desk_phone_calls_as_whoever_is_logged_in_on_it() {
        let plan = plan();
        let mut store = MemoryStore::new();
        let nobody = caller_of(from("001565aabbcc"), &plan, &store);
        assert_eq!(
            nobody,
            Caller::Extension {
                number: String::new(),
                device: Some("001565AABBCC".into())
            }
        );
        store.set_hot_desk("001565AABBCC", Some("101")).unwrap();
        let alice = caller_of(from("001565AABBCC"), &plan, &store);
        assert_eq!(
            alice,
            Caller::Extension {
                number: "101".into(),
                device: Some("001565AABBCC".into())
            }
        );
        let desk = caller_of(from("101"), &plan, &store);
        assert_eq!(
            desk,
            Caller::Extension {
                number: "101".into(),
                device: None
            }
        );
    }
}
