//! One live call: the engine's `Call` driven by its SIP leg, its RTP session and its
//! timers. Engine commands become SIP and RTP here, and SIP and RTP become engine events.
//!
//! Each call is one tokio task. The office store is shared behind a mutex that is held
//! only while the engine handles one event, never across an `.await`.

use crate::call_log::{CallLog, NewCall};
use crate::media::{self, MediaEvent, MediaHandle, PortPool, PromptLibrary};
use crate::office_time::wall_time;
use crate::reload::PlanHolder;
use crate::sip::{CallLeg, CallOrigin, IncomingCall, LegEvent, SipServer};
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use switchboard_core::call::{Call, CallStart, Caller};
use switchboard_core::command::{Command, HangupCause, Media};
use switchboard_core::event::{Event, FarEnd};
use switchboard_core::ids::{CallId, PlayId, TimerId};
use switchboard_core::store::Store;
use switchboard_dsl::Plan;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What every call shares: the plans, the store, media and the record of calls.
pub struct CallServices {
    pub plans: Arc<PlanHolder>,
    /// The office's state; locked for one engine step at a time.
    pub store: Arc<Mutex<dyn Store>>,
    pub prompts: Arc<PromptLibrary>,
    pub ports: PortPool,
    /// Where recordings are written, one WAV per recording, named by the reference the
    /// store keeps (`<name>.wav`).
    pub recordings: PathBuf,
    /// The address written into our SDP.
    pub media_ip: IpAddr,
    pub calls: Arc<CallLog>,
    /// For message-waiting NOTIFYs.
    pub sip: Arc<SipServer>,
    pub next_id: AtomicU64,
}

/// Runs one incoming call to its end. `shutdown` hangs the call up (the server is
/// stopping); a recording in progress is still finished and stored.
pub async fn run_call(
    services: Arc<CallServices>,
    incoming: IncomingCall,
    shutdown: CancellationToken,
) {
    let id = CallId(services.next_id.fetch_add(1, Ordering::Relaxed));
    let version = services.plans.current();
    let plan = version.plan.clone();
    let IncomingCall {
        sip_call_id,
        origin,
        dialled,
        sdp_offer,
        leg,
    } = incoming;
    let from = {
        let store = services.store.lock().unwrap_or_else(|p| p.into_inner());
        caller_of(origin, &plan, &*store)
    };
    services.calls.start(NewCall {
        id,
        sip_call_id: sip_call_id.clone(),
        caller: match &from {
            Caller::Extension { number, .. } => number.clone(),
            Caller::Trunk { number, .. } => number.clone(),
        },
        dialled: dialled.clone(),
        plan_version: version.version,
    });
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
    let (media, media_events) = media::start(bound.socket, negotiated, services.recordings.clone());
    let start = CallStart {
        id,
        from,
        dialled,
        time: wall_time(&plan.settings.timezone, SystemTime::now()),
    };
    let call = {
        let mut store = services.store.lock().unwrap_or_else(|p| p.into_inner());
        Call::start(plan.clone(), start, &mut *store)
    };
    let mut live = LiveCall {
        services: services.clone(),
        plan,
        id,
        call,
        leg,
        media,
        answer_sdp,
        answered: false,
        sip_done: false,
        timers: BTreeMap::new(),
        pending: VecDeque::new(),
        recordings: 0,
    };
    let outcome = live.run(media_events, shutdown).await;
    live.media.close().ok();
    // The session finishes a recording in progress before it ends; wait for it, so the
    // port is only returned once the socket is closed.
    let _ = tokio::time::timeout(Duration::from_secs(5), live.media.closed()).await;
    drop(bound.lease);
    tracing::info!(call = %sip_call_id, %outcome, "call ended");
    services.calls.finish(id, outcome);
}

struct LiveCall {
    services: Arc<CallServices>,
    plan: Arc<Plan>,
    id: CallId,
    call: Call,
    leg: CallLeg,
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
}

impl LiveCall {
    /// Feeds events until the engine says the call is over; returns the outcome.
    async fn run(
        &mut self,
        mut media_events: tokio::sync::mpsc::Receiver<MediaEvent>,
        shutdown: CancellationToken,
    ) -> String {
        let mut outcome = String::from("ended");
        let mut shutting_down = false;
        loop {
            self.carry_out(&mut outcome).await;
            if let Some(e) = self.pending.pop_front() {
                self.handle(e);
                continue;
            }
            if self.call.is_ended() {
                break;
            }
            let next_timer = self.timers.keys().next().map(|(at, _)| *at);
            let event = tokio::select! {
                ev = media_events.recv() => match ev {
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
                    None => Event::Hangup,
                },
                ev = self.leg.events().recv() => match ev {
                    Some(LegEvent::Dtmf(d)) => Event::Digit(d),
                    Some(LegEvent::ReInvite) => continue,
                    Some(LegEvent::Hangup) | None => {
                        self.sip_done = true;
                        // The caller is gone: finish a recording now rather than on a timer.
                        Event::Hangup
                    }
                },
                _ = sleep_until(next_timer), if next_timer.is_some() => {
                    let (key, ()) = self.timers.pop_first().expect("a timer is due");
                    Event::TimerFired(key.1)
                },
                _ = shutdown.cancelled(), if !shutting_down => {
                    shutting_down = true;
                    outcome = "the server is shutting down".into();
                    Event::Hangup
                }
            };
            self.handle(event);
        }
        if !self.sip_done {
            let _ = self.leg.hangup().await;
        }
        outcome
    }

    fn handle(&mut self, event: Event) {
        let mut store = self
            .services
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        self.call.handle(event, &mut *store);
    }

    /// Carries out the engine's commands and records its trace.
    async fn carry_out(&mut self, outcome: &mut String) {
        let mut trace = Vec::new();
        while let Some(t) = self.call.poll_trace() {
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
        while let Some(c) = self.call.poll_command() {
            self.command(c).await;
        }
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Answer => {
                if !self.answered && !self.sip_done {
                    self.answered = true;
                    if self.leg.answer(self.answer_sdp.clone()).await.is_err() {
                        self.sip_done = true;
                        self.pending.push_back(Event::Hangup);
                    }
                }
            }
            Command::Play {
                id,
                media,
                language,
                ..
            } => {
                let audio = self.audio(&media, &language);
                if audio.is_empty() || self.media.play(id.0, audio).is_err() {
                    self.pending.push_back(Event::PlayFinished(id));
                }
            }
            Command::StopPlaying(id) => {
                let _ = self.media.stop_playing(id.0);
            }
            Command::Record => {
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
                let _ = self.media.start_recording(name);
            }
            Command::StopRecording => {
                let _ = self.media.stop_recording();
            }
            Command::StartTimer { id, after } => {
                self.timers.insert((Instant::now() + after, id), ());
            }
            Command::CancelTimer(id) => self.timers.retain(|(_, t), ()| *t != id),
            // Connecting people is the next milestone; until then nobody can answer, and
            // the plan's no-answer path (voicemail, a queue's `then`) runs at once.
            Command::Ring { .. } | Command::RingQueue { .. } => {
                self.pending.push_back(Event::FarEnd(FarEnd::NoAnswer));
            }
            Command::DialTrunk { trunk, number } => {
                tracing::info!(
                    call = self.id.0,
                    "outside calls come with trunks: {trunk} {number}"
                );
                self.pending.push_back(Event::FarEnd(FarEnd::Failed));
            }
            Command::CancelRing | Command::Park { .. } | Command::Unpark { .. } => {}
            Command::HotDesk { device, extension } => {
                tracing::info!(device, ?extension, "hot desk changed");
            }
            Command::DiscardRecording(name) => {
                let path = self.services.recordings.join(format!("{name}.wav"));
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
                }
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

    /// The samples of each item; a missing prompt is logged and skipped, so the caller
    /// hears the rest rather than nothing.
    fn audio(&self, items: &[Media], language: &str) -> Vec<Arc<[i16]>> {
        let default = &self.plan.settings.language;
        items
            .iter()
            .filter_map(|m| {
                let loaded = match m {
                    Media::Prompt(name) => self.services.prompts.prompt(name, language, default),
                    Media::Recording(r) => self
                        .services
                        .prompts
                        .recording(&self.services.recordings.join(format!("{r}.wav"))),
                };
                loaded
                    .map_err(|e| tracing::warn!(call = self.id.0, "cannot play {}: {e}", m.name()))
                    .ok()
            })
            .collect()
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
