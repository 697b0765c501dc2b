//! The one helper every scenario goes through: `check(plan, transcript)`.
//!
//! A transcript is what a runtime would see of a call, one line each, blank lines and
//! `//` comments skipped:
//!
//! ```text
//! > call from 101 dial 500        an event the runtime reports (see `parse_event`)
//! answer                          the exact commands the call emits for it, in order
//! play#0 main-greeting interruptible
//! ~ ignored: a key                some trace entry of that event contains this text
//! @ ended                         the call's state now (see `Session::state`)
//! @ trace without 5678            no trace entry of the call so far contains `5678`
//! ```
//!
//! The helper runs the events through `Call` with a `MemoryStore`, renders what came out
//! the same way, and compares the two transcripts whole; a mismatch prints both, and the
//! call's trace, so a failing scenario reads like a bug report. Nothing finishes on its
//! own: prompts, timers and recordings end only when the transcript says so.
//!
//! Plays and timers carry the ids the call gave them (`play#0`, `timer#2`), and events
//! name them back: `> played` ends the last play, `> played#0` play 0; `> timer` fires the
//! last timer started, `> timer#2` timer 2 (whether or not it still runs).

use std::sync::Arc;
use std::time::Duration;
use switchboard_core::call::{Call, CallStart, Caller};
use switchboard_core::command::{Command, HangupCause, Media};
use switchboard_core::event::{Event, FarEnd};
use switchboard_core::ids::{CallId, PlayId, TimerId};
use switchboard_core::store::{Folder, MemoryStore, Store};
use switchboard_core::trace::TraceEntry;
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, PromptCatalog, SourceFile, Sources};

/// Runs `transcript` against one plan; see the module comment.
pub fn check(plan: &str, transcript: &str) {
    check_reload(&[plan], transcript);
}

/// Like `check`, with a plan per version: `> reload` makes new calls start on the next.
pub fn check_reload(plans: &[&str], transcript: &str) {
    let plans = plans
        .iter()
        .map(|p| compile(vec![("t.dial".into(), p.to_string())]))
        .collect();
    let mut s = Session::new(plans);
    let mut expected = Vec::new();
    let mut actual = Vec::new();
    let mut log = Vec::new();
    // The call the last event went to, and the trace it left.
    let mut last: Option<(usize, Vec<TraceEntry>)> = None;
    for line in transcript.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        expected.push(line.to_string());
        if let Some(event) = line.strip_prefix('>') {
            actual.push(line.to_string());
            log.push(line.to_string());
            let (target, events) = parse_event(event.trim());
            let mut out = Out::default();
            let mut idx = 0;
            for e in events {
                let (i, o) = s.send(target, e);
                idx = i;
                out.commands.extend(o.commands);
                out.trace.extend(o.trace);
            }
            let plan = s.plans[0].clone();
            let plan = s.calls.get(idx).map_or(plan, |d| d.call.plan().clone());
            log.extend(
                out.trace
                    .iter()
                    .map(|t| format!("    · {}", t.render(&plan))),
            );
            for c in &out.commands {
                actual.push(render(c));
                log.push(render(c));
            }
            last = Some((idx, out.trace));
        } else if let Some(want) = line.strip_prefix('~') {
            let (idx, trace) = last.as_ref().expect("`~` follows an event");
            let plan = s.calls[*idx].call.plan();
            // Runs of spaces count as one, so a place and what happened there can be
            // written as one line: `~ t.dial:7:5 error: ...`.
            let want = squeeze(want);
            if trace
                .iter()
                .any(|t| squeeze(&t.render(plan)).contains(&want))
            {
                actual.push(line.to_string());
            } else {
                actual.push(format!(
                    "~ (no trace entry of this event contains {want:?})"
                ));
            }
        } else if let Some(what) = line.strip_prefix('@') {
            let idx = last.as_ref().expect("`@` follows an event").0;
            actual.push(format!("@ {}", s.state(idx, what.trim())));
        }
    }
    if expected != actual {
        let width = expected.iter().map(String::len).max().unwrap_or(0);
        let mut table = String::new();
        for i in 0..expected.len().max(actual.len()) {
            let e = expected.get(i).map_or("", String::as_str);
            let a = actual.get(i).map_or("", String::as_str);
            let mark = if e == a { "  " } else { "!!" };
            table.push_str(&format!("{mark} {e:<width$} | {a}\n"));
        }
        panic!(
            "the call did not go as the transcript says\n\n{mark:2} {:<width$} | actual\n{table}\nwhat happened, with the trace:\n{}\n",
            "expected",
            log.join("\n"),
            mark = "",
        );
    }
}

/// Runs the closure in a process of its own (this test binary again, filtered to the
/// test the macro is written in): a scenario that overflows the stack aborts its process,
/// and must fail alone rather than take every other scenario down with it.
macro_rules! isolated {
    ($f:expr) => {{
        fn here() {}
        let here = std::any::type_name_of_val(&here);
        $crate::harness::run_isolated(here.trim_end_matches("::here"), $f)
    }};
}
pub(crate) use isolated;

/// See `isolated!`; `test` is the test's path, `crate::module::name`.
pub fn run_isolated(test: &str, f: impl FnOnce()) {
    const CHILD: &str = "SWITCHBOARD_SCENARIO_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return f();
    }
    // Test names leave out the crate's own name.
    let name = test.split_once("::").map_or(test, |(_, rest)| rest);
    let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("running 1 test"),
        "no test named {name:?}:\n{stdout}"
    );
    assert!(
        out.status.success(),
        "the scenario failed in its own process ({}):\n{stderr}",
        out.status
    );
}

/// Compiles `(path, text)` files into a plan, or fails the test with the diagnostics.
pub fn compile(files: Vec<(String, String)>) -> Arc<Plan> {
    let mut sources = Sources::new();
    for (path, text) in files {
        sources.add(SourceFile::new(path, text));
    }
    let compiled = switchboard_dsl::compile(sources, &PromptCatalog::unchecked());
    match compiled.plan {
        Some(plan) => plan,
        None => panic!(
            "the plan does not compile:\n{}",
            switchboard_dsl::render::human(&compiled.diagnostics, &compiled.sources, false)
        ),
    }
}

/// What the runtime reports, with plays and timers named relative to the call.
#[derive(Clone, Debug)]
pub enum Ev {
    Call {
        from: Caller,
        dialled: String,
    },
    Digit(char),
    Played(Which),
    Timer(Which),
    Recorded {
        recording: String,
        duration_ms: u64,
    },
    FarEnd(FarEnd),
    /// A queue's agent answered: `answered-by 102`.
    AnsweredBy(String),
    Hangup,
    /// New calls start on the next plan; calls in progress keep theirs.
    Reload,
    /// The store's clock moves on (PIN locks); no timer fires on its own.
    Wait(Duration),
}

/// A play or timer: the last one the call started, or the one with this id.
#[derive(Clone, Copy, Debug)]
pub enum Which {
    Last,
    Id(u32),
}

/// What one event made a call do.
#[derive(Default)]
pub struct Out {
    pub commands: Vec<Command>,
    pub trace: Vec<TraceEntry>,
}

/// Calls on a plan (or several, across reloads) sharing one store.
pub struct Session {
    pub plans: Vec<Arc<Plan>>,
    current_plan: usize,
    pub store: MemoryStore,
    /// The office's wall time every call starts at.
    pub time: WallTime,
    pub calls: Vec<Driven>,
}

/// A call and the ids it handed out so far, so events can name them back.
pub struct Driven {
    pub call: Call,
    plays: Vec<PlayId>,
    timers: Vec<TimerId>,
    /// Every trace entry so far, rendered as an admin sees it.
    trace: Vec<String>,
}

impl Session {
    pub fn new(plans: Vec<Arc<Plan>>) -> Session {
        Session {
            plans,
            current_plan: 0,
            store: MemoryStore::new(),
            time: WallTime::default(),
            calls: Vec::new(),
        }
    }

    /// Delivers an event to call `target` (0-based), or to the last call started; a
    /// `Call` event starts a new one. Returns the call's index and what it did.
    pub fn send(&mut self, target: Option<usize>, event: Ev) -> (usize, Out) {
        let (idx, event) = match event {
            Ev::Call { from, dialled } => {
                let start = CallStart {
                    id: CallId(self.calls.len() as u64 + 1),
                    from,
                    dialled,
                    time: self.time,
                };
                let plan = self.plans[self.current_plan].clone();
                let call = Call::start(plan, start, &mut self.store);
                self.calls.push(Driven {
                    call,
                    plays: Vec::new(),
                    timers: Vec::new(),
                    trace: Vec::new(),
                });
                (self.calls.len() - 1, None)
            }
            Ev::Reload => {
                self.current_plan += 1;
                assert!(self.current_plan < self.plans.len(), "no plan to reload to");
                (self.calls.len().saturating_sub(1), None)
            }
            Ev::Wait(d) => {
                self.store.advance(d.as_millis() as u64);
                (self.calls.len().saturating_sub(1), None)
            }
            other => {
                let idx = target.unwrap_or_else(|| self.calls.len() - 1);
                (idx, Some(self.calls[idx].resolve(other)))
            }
        };
        let Some(d) = self.calls.get_mut(idx) else {
            return (idx, Out::default());
        };
        if let Some(e) = event {
            d.call.handle(e, &mut self.store);
        }
        let mut out = Out::default();
        while let Some(c) = d.call.poll_command() {
            match &c {
                Command::Play { id, .. } => d.plays.push(*id),
                Command::StartTimer { id, .. } => d.timers.push(*id),
                _ => {}
            }
            out.commands.push(c);
        }
        while let Some(t) = d.call.poll_trace() {
            d.trace.push(t.render(d.call.plan()));
            out.trace.push(t);
        }
        (idx, out)
    }

    /// The state an `@` line asks about, rendered so that it equals the line when it holds:
    /// `ended` or `waiting for …`, `plan N` (1-based), `mailbox 101 new rec-1 rec-2`,
    /// `trace without TEXT`.
    fn state(&self, idx: usize, what: &str) -> String {
        let call = &self.calls[idx].call;
        let words: Vec<&str> = what.split_whitespace().collect();
        match words.as_slice() {
            ["trace", "without", text] => match self.calls[idx]
                .trace
                .iter()
                .find(|line| line.contains(text))
            {
                None => format!("trace without {text}"),
                Some(line) => format!("trace shows {text}: {line}"),
            },
            ["plan", ..] => match self.plans.iter().position(|p| Arc::ptr_eq(p, call.plan())) {
                Some(i) => format!("plan {}", i + 1),
                None => "plan (none of the session's)".into(),
            },
            ["mailbox", mailbox, folder, ..] => {
                let f = if *folder == "saved" {
                    Folder::Saved
                } else {
                    Folder::New
                };
                let messages = self.store.messages(mailbox, f).expect("memory store");
                let mut s = format!("mailbox {mailbox} {folder}");
                for m in messages {
                    s.push_str(&format!(" {} from {}", m.recording, m.from));
                }
                s
            }
            _ if call.is_ended() => "ended".into(),
            _ => format!("waiting for {}", call.waiting_for()),
        }
    }
}

impl Driven {
    fn resolve(&self, e: Ev) -> Event {
        // An id nothing was started with, for "the last one" when there is none.
        const NONE: u32 = u32::MAX;
        match e {
            Ev::Digit(d) => Event::Digit(d),
            Ev::Played(w) => Event::PlayFinished(match w {
                Which::Last => self.plays.last().copied().unwrap_or(PlayId(NONE)),
                Which::Id(n) => PlayId(n),
            }),
            Ev::Timer(w) => Event::TimerFired(match w {
                Which::Last => self.timers.last().copied().unwrap_or(TimerId(NONE)),
                Which::Id(n) => TimerId(n),
            }),
            Ev::Recorded {
                recording,
                duration_ms,
            } => Event::RecordingFinished {
                recording,
                duration_ms,
            },
            Ev::FarEnd(f) => Event::FarEnd(f),
            Ev::AnsweredBy(who) => Event::AnsweredBy(who),
            Ev::Hangup => Event::Hangup,
            Ev::Call { .. } | Ev::Reload | Ev::Wait(_) => {
                unreachable!("handled by the session")
            }
        }
    }
}

/// One `>` line, after an optional `[N]` naming the call (1-based; default the last):
///
/// - `call from 101 dial 500`, `call from 101@001565AABBCC dial *77*5*` (a hot-desk
///   phone), `call from trunk main +15551230000 dial +12605550100`
/// - `press 12#` (one `Digit` per character, phone key or not), `hangup`, `reload`
/// - `played`, `played#3`, `timer`, `timer#0`
/// - `recorded rec-1 4000ms`, `far-end answered|busy|no-answer|failed`, `answered-by 102`
/// - `wait 60s`: the store's clock moves on (what PIN locks are stamped with); timers
///   still fire only when a line says so
///
/// `press` with several keys is sent as one event per key; their commands are joined.
fn parse_event(line: &str) -> (Option<usize>, Vec<Ev>) {
    let (target, line) = match line.strip_prefix('[') {
        Some(rest) => {
            let (n, rest) = rest.split_once(']').expect("`[N]` names a call");
            let n: usize = n.parse().expect("a call number");
            (Some(n - 1), rest.trim())
        }
        None => (None, line),
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let which = |w: &str| match w.split_once('#') {
        Some((_, n)) => Which::Id(n.parse().expect("an id after `#`")),
        None => Which::Last,
    };
    let ev = match words.as_slice() {
        ["call", "from", "trunk", trunk, number, "dial", dialled] => Ev::Call {
            from: Caller::Trunk {
                trunk: trunk.to_string(),
                number: number.to_string(),
            },
            dialled: dialled.to_string(),
        },
        ["call", "from", ext, "dial", dialled] => {
            let (number, device) = match ext.split_once('@') {
                Some((n, mac)) => (n, Some(mac.to_string())),
                None => (*ext, None),
            };
            Ev::Call {
                from: Caller::Extension {
                    number: number.to_string(),
                    device,
                },
                dialled: dialled.to_string(),
            }
        }
        ["press", keys] => return (target, keys.chars().map(Ev::Digit).collect()),
        [w] if w.starts_with("played") => Ev::Played(which(w)),
        [w] if w.starts_with("timer") => Ev::Timer(which(w)),
        ["recorded", recording, ms] => Ev::Recorded {
            recording: recording.to_string(),
            duration_ms: ms.trim_end_matches("ms").parse().expect("a duration in ms"),
        },
        ["far-end", f] => Ev::FarEnd(match *f {
            "answered" => FarEnd::Answered,
            "busy" => FarEnd::Busy,
            "no-answer" => FarEnd::NoAnswer,
            "failed" => FarEnd::Failed,
            other => panic!("unknown far end {other:?}"),
        }),
        ["answered-by", who] => Ev::AnsweredBy(who.to_string()),
        ["hangup"] => Ev::Hangup,
        ["reload"] => Ev::Reload,
        ["wait", secs] => Ev::Wait(Duration::from_secs(
            secs.trim_end_matches('s').parse().expect("a duration in s"),
        )),
        _ => panic!("not an event: {line:?}"),
    };
    (target, vec![ev])
}

/// A command as one transcript line.
pub fn render(c: &Command) -> String {
    match c {
        Command::Answer => "answer".into(),
        Command::Play {
            id,
            media,
            language,
            barge_in,
        } => {
            let mut s = format!("play#{}", id.0);
            for m in media {
                match m {
                    Media::Prompt(p) => s.push_str(&format!(" {p}")),
                    Media::Recording(r) => s.push_str(&format!(" recording:{r}")),
                }
            }
            if *barge_in {
                s.push_str(" interruptible");
            }
            if language != "en" {
                s.push_str(&format!(" [{language}]"));
            }
            s
        }
        Command::StopPlaying(id) => format!("stop-playing#{}", id.0),
        Command::PlayOnHold { id, prompt, .. } => format!("play-on-hold#{} {prompt}", id.0),
        Command::Record { .. } => "record".into(),
        Command::StopRecording => "stop-recording".into(),
        Command::StartTimer { id, after } => format!("timer#{} {}", id.0, duration(*after)),
        Command::CancelTimer(id) => format!("cancel-timer#{}", id.0),
        Command::Ring { extension } => format!("ring {extension}"),
        Command::RingQueue { queue, agents } => format!("ring-queue {queue} {}", agents.join(",")),
        Command::DialTrunk { trunk, number } => format!("dial-trunk {trunk} {number}"),
        Command::CancelRing => "cancel-ring".into(),
        Command::Park { orbit } => format!("park {orbit}"),
        Command::Unpark { orbit, parked } => format!("unpark {orbit} {parked}"),
        Command::HotDesk { device, extension } => {
            format!(
                "hot-desk {device} {}",
                extension.as_deref().unwrap_or("nobody")
            )
        }
        Command::DiscardRecording(r) => format!("discard {r}"),
        Command::MessageWaiting {
            mailbox,
            new,
            saved,
        } => {
            format!("message-waiting {mailbox} new={new} saved={saved}")
        }
        Command::Hangup { cause } => format!(
            "hangup {}",
            match cause {
                HangupCause::Normal => "normal",
                HangupCause::NotFound => "not-found",
                HangupCause::Error => "error",
            }
        ),
    }
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `500ms`, `5s`, `3m`.
fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}
