//! Running a plan's `test` blocks in a simulated office (see `world.rs`).
//!
//! `expect STEP` looks forward through what the call did since the last expectation and
//! takes the first thing that matches, so a test names the behaviour it cares about and
//! not every prompt on the way. It fails when the call waits for the caller (or ends)
//! without having done it.

use crate::call::Caller;
use crate::chat::{ChatDestination, ChatMessage, route_chat};
use crate::store::Store;
use crate::trace::{self, TraceEntry, Traced};
use crate::world::{World, party_text};
use std::sync::Arc;
use switchboard_dsl::Plan;
use switchboard_dsl::ast::{self, Given, MailboxOp, StepKind, Test, TestCaller, Value};
use switchboard_dsl::script::WallTime;

/// How one test went.
pub struct TestOutcome {
    pub name: String,
    /// `file:line` of the test.
    pub place: String,
    pub failure: Option<Failure>,
}

pub struct Failure {
    /// `file:line` of the test step that failed.
    pub place: String,
    pub expected: String,
    /// What the call did instead, since the last expectation that held.
    pub instead: Vec<String>,
    /// The test step that failed, for the editor to link to its line.
    pub span: switchboard_dsl::Span,
    /// The whole trace of the call, each entry with its place in the plan (the editor
    /// links each to its line; `rendered_trace` writes them as lines).
    pub trace: Vec<TraceEntry>,
}

impl Failure {
    /// The trace as `switchboard test` prints it, one line per entry.
    pub fn rendered_trace(&self, plan: &Plan) -> Vec<String> {
        self.trace.iter().map(|e| e.render(plan)).collect()
    }
}

/// Runs every test of the plan, in source order.
pub fn run_tests(plan: &Arc<Plan>) -> Vec<TestOutcome> {
    plan.tests.iter().map(|t| run_test(plan, t)).collect()
}

pub fn run_test(plan: &Arc<Plan>, test: &Test) -> TestOutcome {
    let mut run = Run {
        plan: plan.clone(),
        world: World::new(WallTime::default()),
        current: None,
        chat: Vec::new(),
        seen: 0,
    };
    let failure = test
        .body
        .steps
        .iter()
        .find_map(|s| run.step(&s.kind, s.span).err())
        .map(|f| *f);
    TestOutcome {
        name: test.name.clone(),
        place: plan.location(test.span),
        failure,
    }
}

struct Run {
    plan: Arc<Plan>,
    world: World,
    /// The call the test's steps act on: the last one placed.
    current: Option<usize>,
    /// What the last chat did, as trace entries.
    chat: Vec<TraceEntry>,
    /// How much of the current trace expectations have consumed.
    seen: usize,
}

impl Run {
    // Failures are boxed: a passing step returns only `Ok`, and a failure is rare and big.
    fn step(&mut self, kind: &StepKind, span: switchboard_dsl::Span) -> Result<(), Box<Failure>> {
        match kind {
            StepKind::Given(g) => self.given(g),
            StepKind::TestCall { from, dial } => {
                let from = match from {
                    TestCaller::Extension(n) => Caller::Extension {
                        number: n.clone(),
                        device: None,
                    },
                    TestCaller::Device { mac, .. } => Caller::Extension {
                        number: self
                            .world
                            .store
                            .hot_desk_extension(mac)
                            .ok()
                            .flatten()
                            .unwrap_or_default(),
                        device: Some(mac.clone()),
                    },
                    TestCaller::Trunk { trunk, number } => Caller::Trunk {
                        trunk: trunk.name.clone(),
                        number: number.clone(),
                    },
                };
                self.current = Some(self.world.call(self.plan.clone(), from, dial));
                self.chat.clear();
                self.seen = 0;
            }
            StepKind::TestChat {
                channel,
                from,
                to,
                says,
            } => {
                let msg = ChatMessage {
                    channel: *channel,
                    from: from.clone(),
                    to: to.clone(),
                    text: says.clone(),
                    language: None,
                };
                let routing = route_chat(&self.plan, &msg, self.world.time);
                self.current = None;
                self.seen = 0;
                self.chat = chat_trace(routing);
            }
            StepKind::Press(keys) => {
                let call = self.need_call(span, "press keys")?;
                self.world.press(call, keys);
            }
            StepKind::Wait(d) => self.world.wait(*d),
            StepKind::TestHangup => {
                let call = self.need_call(span, "hang up")?;
                self.world.hangup(call);
            }
            StepKind::Expect(step) => return self.expect(&step.kind, span),
            StepKind::ExpectConnected => return self.expect_wanted(Expected::Connected, span),
            StepKind::FarEnd { party, name, does } => {
                let who = party_text(*party, &name.name);
                let failed = match self.current {
                    None => Some("no call was placed before this step".to_string()),
                    Some(call) => self.world.far_end(call, *party, &name.name, *does).err(),
                };
                if let Some(instead) = failed {
                    return Err(Box::new(Failure {
                        place: self.plan.location(span),
                        expected: format!("a call ringing {who}"),
                        instead: vec![instead],
                        span,
                        trace: self.trace().to_vec(),
                    }));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn given(&mut self, g: &Given) {
        let store = &mut self.world.store;
        // The store is in memory: these cannot fail.
        let _ = match g {
            Given::Pin { mailbox, pin } => store.set_pin(mailbox, pin),
            Given::SelfId { mailbox } => {
                store.set_name_recording(mailbox, &format!("name-{mailbox}"))
            }
            Given::Messages { mailbox, new } => {
                for i in 0..*new {
                    let _ = store.add_message(
                        mailbox,
                        crate::store::NewMessage {
                            recording: format!("given-{mailbox}-{}", i + 1),
                            from: "+15555550100".into(),
                            duration_ms: 5000,
                            received: "2026-11-23 09:00".into(),
                        },
                    );
                }
                Ok(())
            }
            Given::Time(t) => {
                self.world.time = *t;
                Ok(())
            }
            Given::QueueLoggedIn { agent, queue } => store.set_queue_logged_in(agent, queue, true),
        };
    }

    fn need_call(&self, span: switchboard_dsl::Span, what: &str) -> Result<usize, Box<Failure>> {
        self.current.ok_or_else(|| {
            Box::new(Failure {
                place: self.plan.location(span),
                expected: format!("a call to {what} in"),
                instead: vec!["no call was placed before this step".into()],
                span,
                trace: Vec::new(),
            })
        })
    }

    fn trace(&self) -> &[TraceEntry] {
        match self.current {
            Some(c) => &self.world.get(c).trace,
            None => &self.chat,
        }
    }

    fn expect(&mut self, kind: &StepKind, span: switchboard_dsl::Span) -> Result<(), Box<Failure>> {
        self.expect_wanted(Expected::from_step(kind), span)
    }

    fn expect_wanted(
        &mut self,
        want: Expected,
        span: switchboard_dsl::Span,
    ) -> Result<(), Box<Failure>> {
        let trace = self.trace();
        let found = trace[self.seen..]
            .iter()
            .position(|e| want.matches(&e.what));
        match found {
            Some(i) => {
                self.seen += i + 1;
                Ok(())
            }
            None => {
                let instead: Vec<String> = trace[self.seen..]
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.what,
                            Traced::Played(_)
                                | Traced::Step { .. }
                                | Traced::Ended(_)
                                | Traced::Error(_)
                        )
                    })
                    .map(|e| e.what.to_string())
                    .collect();
                Err(Box::new(Failure {
                    place: self.plan.location(span),
                    expected: want.to_string(),
                    instead,
                    span,
                    trace: trace.to_vec(),
                }))
            }
        }
    }
}

/// What an `expect` wants to see.
enum Expected {
    /// These prompts, one after the other, within one play.
    Played(Vec<String>),
    Step {
        verb: &'static str,
        args: Vec<String>,
    },
    /// `park_toggle`: either a park or a pick-up of that orbit.
    ParkOrUnpark(String),
    /// The plan ended the call on purpose (not after an error, not the caller).
    Hangup,
    /// Someone the call rang answered.
    Connected,
}

impl Expected {
    fn from_step(kind: &StepKind) -> Expected {
        let v = |v: &Value| text(v);
        let step = |verb: &'static str, args: Vec<String>| Expected::Step { verb, args };
        match kind {
            StepKind::Play { prompts, .. } => Expected::Played(prompts.iter().map(v).collect()),
            StepKind::Ask { prompts, .. } => Expected::Played(prompts.iter().map(v).collect()),
            StepKind::Menu(m) => Expected::Played(m.prompts.iter().map(v).collect()),
            StepKind::Hangup => Expected::Hangup,
            StepKind::Answer => step("answer", vec![]),
            StepKind::Say { value, .. } => step("say", vec![v(value)]),
            StepKind::Extension { number, .. } => step("extension", vec![v(number)]),
            StepKind::Queue(q) => step("queue", vec![v(q)]),
            StepKind::Trunk { trunk, number } => step("trunk", vec![trunk.name.clone(), v(number)]),
            StepKind::Voicemail(m) => step("voicemail", vec![v(m)]),
            StepKind::Goto { flow, .. } => step("goto", vec![flow.name.clone()]),
            StepKind::Call { flow, .. } => step("call", vec![flow.name.clone()]),
            StepKind::QueueLogin { queues, agent } | StepKind::QueueLogout { queues, agent } => {
                let mut args = vec![match queues {
                    ast::QueueSelect::All => "all".to_string(),
                    ast::QueueSelect::One(q) => v(q),
                }];
                if let Some(a) = agent {
                    args.extend(["for".to_string(), v(a)]);
                }
                let verb = if matches!(kind, StepKind::QueueLogin { .. }) {
                    "queue_login"
                } else {
                    "queue_logout"
                };
                step(verb, args)
            }
            StepKind::HotDeskLogin(e) => step("hot_desk_login", vec![v(e)]),
            StepKind::HotDeskLogout => step("hot_desk_logout", vec![]),
            StepKind::Park(o) => step("park", vec![v(o)]),
            StepKind::Unpark(o) => step("unpark", vec![v(o)]),
            StepKind::ParkToggle(o) => Expected::ParkOrUnpark(v(o)),
            StepKind::Directory => step("directory", vec![]),
            StepKind::Record { kind, mailbox, .. } => {
                let mut args = vec![
                    match kind {
                        ast::RecordKind::Name => "name",
                        ast::RecordKind::Greeting => "greeting",
                        ast::RecordKind::Message => "message",
                    }
                    .to_string(),
                ];
                args.extend(mailbox.as_ref().map(v));
                step("record", args)
            }
            StepKind::Confirm => step("confirm", vec![]),
            StepKind::Mailbox(op) => step(
                "mailbox",
                match op {
                    MailboxOp::Open(m) => vec!["open".into(), v(m)],
                    MailboxOp::Select { saved } => {
                        vec!["select".into(), if *saved { "saved" } else { "new" }.into()]
                    }
                    MailboxOp::Play => vec!["play".into()],
                    MailboxOp::Next => vec!["next".into()],
                    MailboxOp::Previous => vec!["previous".into()],
                    MailboxOp::Save => vec!["save".into()],
                    MailboxOp::Delete => vec!["delete".into()],
                    MailboxOp::SayCount { saved } => {
                        vec![
                            "say_count".into(),
                            if *saved { "saved" } else { "new" }.into(),
                        ]
                    }
                    MailboxOp::SetPin(_) => vec!["set_pin".into()],
                },
            ),
            StepKind::Set { var, value } => step("set", vec![var.name.clone(), v(value)]),
            StepKind::Language(l) => step("language", vec![l.name.clone()]),
            _ => step("(not a step)", vec![]),
        }
    }

    fn matches(&self, what: &Traced) -> bool {
        match (self, what) {
            (Expected::Played(want), Traced::Played(got)) => {
                want.is_empty() || got.windows(want.len()).any(|w| w == want.as_slice())
            }
            (Expected::Step { verb, args }, Traced::Step { verb: v, args: a }) => {
                verb == v && a.len() >= args.len() && a[..args.len()] == args[..]
            }
            (Expected::ParkOrUnpark(o), Traced::Step { verb, args }) => {
                (*verb == "park" || *verb == "unpark") && args.first() == Some(o)
            }
            (Expected::Hangup, Traced::Step { verb: "hangup", .. }) => true,
            (Expected::Connected, Traced::Branch(b)) => trace::is_answered(b),
            _ => false,
        }
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expected::Played(p) => write!(f, "play {}", p.join(" ")),
            Expected::Step { verb, args } => {
                write!(f, "{verb}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            Expected::ParkOrUnpark(o) => write!(f, "park or unpark {o}"),
            Expected::Hangup => write!(f, "hangup"),
            Expected::Connected => write!(f, "connected"),
        }
    }
}

/// A value in a test as text: tests use literals; `{name}` parts are kept as written.
fn text(v: &Value) -> String {
    match &v.kind {
        ast::ValueKind::Text(parts) => parts
            .iter()
            .map(|p| match p {
                ast::TextPart::Lit(s) => s.clone(),
                ast::TextPart::Var(n) => format!("{{{n}}}"),
            })
            .collect(),
        ast::ValueKind::Var(path) => path.join("."),
        _ => v.literal().unwrap_or_default(),
    }
}

fn chat_trace(r: crate::chat::ChatRouting) -> Vec<TraceEntry> {
    let mut out: Vec<TraceEntry> = r
        .notes
        .into_iter()
        .map(|n| TraceEntry {
            span: None,
            what: Traced::Error(n),
        })
        .collect();
    let (verb, arg) = match r.destination {
        Some(ChatDestination::Queue { queue, .. }) => ("queue", queue),
        Some(ChatDestination::Extension(e)) => ("extension", e),
        None => {
            out.push(TraceEntry {
                span: None,
                what: Traced::Ended("no chat route matches".into()),
            });
            return out;
        }
    };
    out.push(TraceEntry {
        span: r.route,
        what: Traced::Step {
            verb,
            args: vec![arg],
        },
    });
    out
}
