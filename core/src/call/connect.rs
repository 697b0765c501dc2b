//! Steps that reach other people or change the office: ringing an extension, a queue or
//! a trunk, park orbits, queue logins and hot desking.

use super::{AfterPrompt, Call, Caller, Wait, prompts};
use crate::command::{Command, HangupCause};
use crate::numbers::is_dialable;
use crate::office::{self, QueueSelection};
use crate::store::{ParkedCall, Store};
use crate::trace::Traced;
use switchboard_dsl::ir::{Addr, Op};

/// What is ringing, so a failure knows where to go next.
pub(super) enum Target {
    Extension(String),
    Queue(String),
    Trunk,
}

impl Call {
    pub(super) fn connect_step(&mut self, at: Addr, store: &mut dyn Store) {
        self.connect_op(at, store);
        if matches!(
            self.wait,
            Wait::Ringing { .. } | Wait::Queued(_) | Wait::Connected
        ) {
            // The call has left the menus (see `typeahead.rs`).
            self.forget_typeahead("the call rings someone or is connected");
        }
    }

    fn connect_op(&mut self, at: Addr, store: &mut dyn Store) {
        let plan = self.plan.clone();
        match plan.program.op(at) {
            Op::Extension { number, ring } => {
                let Some(n) = self.value_or_end(number, store) else {
                    return;
                };
                self.ring_extension(at, n, *ring, store);
            }
            Op::Queue(q) => {
                let Some(q) = self.value_or_end(q, store) else {
                    return;
                };
                self.ring_queue(at, q, store);
            }
            Op::Trunk { trunk, number } => {
                let Some(n) = self.value_or_end(number, store) else {
                    return;
                };
                if !is_dialable(&n) {
                    self.note(
                        self.here(),
                        Traced::Error(format!(
                            "{n:?} is not a number to dial out: E.164 (+1NXXNXXXXXX in the US) or a short service number"
                        )),
                    );
                    self.end(HangupCause::NotFound, "not a number a trunk can call");
                    return;
                }
                // A proper number, but perhaps a costly one: see `toll_fraud.rs`.
                if self.refuse_costly(trunk, &n) {
                    return;
                }
                self.step_note(at, "trunk", vec![trunk.clone(), n.clone()]);
                self.push(Command::DialTrunk {
                    trunk: trunk.clone(),
                    number: n,
                });
                self.wait = Wait::Ringing {
                    timer: None,
                    target: Target::Trunk,
                };
            }
            Op::Park(o) => {
                let Some(o) = self.value_or_end(o, store) else {
                    return;
                };
                self.park(at, o, store);
            }
            Op::Unpark(o) => {
                let Some(o) = self.value_or_end(o, store) else {
                    return;
                };
                self.unpark(at, o, store);
            }
            Op::ParkToggle(o) => {
                let Some(o) = self.value_or_end(o, store) else {
                    return;
                };
                match office::park_occupied(store, &o) {
                    Ok(true) => self.unpark(at, o, store),
                    Ok(false) => self.park(at, o, store),
                    Err(e) => self.fail(format!("the office store failed: {e}")),
                }
            }
            Op::QueueLogin {
                queue,
                agent,
                login,
            } => {
                let queue = match queue {
                    Some(q) => match self.value_or_end(q, store) {
                        Some(v) => Some(v),
                        None => return,
                    },
                    None => None,
                };
                let agent = match agent {
                    Some(a) => match self.value_or_end(a, store) {
                        Some(v) => Some(v),
                        None => return,
                    },
                    None => None,
                };
                self.queue_login(at, queue, agent, *login, store);
            }
            Op::HotDeskLogin(e) => {
                let Some(e) = self.value_or_end(e, store) else {
                    return;
                };
                self.hot_desk_login(at, e, store);
            }
            Op::HotDeskLogout => self.hot_desk_logout(at, store),
            _ => self.fail("a connection asked for by a step that does not connect".into()),
        }
    }

    pub(super) fn ring_extension(
        &mut self,
        at: Addr,
        n: String,
        ring: Option<std::time::Duration>,
        store: &mut dyn Store,
    ) {
        let plan = self.plan.clone();
        if plan.queue(&n).is_some() {
            return self.ring_queue(at, n, store);
        }
        let Some(ext) = plan.extension(&n) else {
            self.note(
                self.here(),
                Traced::Error(format!("there is no extension {n:?}")),
            );
            return self.end(HangupCause::NotFound, "no such extension");
        };
        let ring = ring.or(ext.options.ring).unwrap_or(plan.settings.ring);
        self.note(
            Some(plan.program.span(at)),
            Traced::Step {
                verb: "extension",
                args: vec![n.clone()],
            },
        );
        self.push(Command::Ring {
            extension: n.clone(),
        });
        let timer = Some(self.timer(ring));
        self.wait = Wait::Ringing {
            timer,
            target: Target::Extension(n),
        };
    }

    /// `queue`: see `queue.rs`.
    fn ring_queue(&mut self, at: Addr, q: String, store: &mut dyn Store) {
        self.enter_queue(at, q, store);
    }

    /// Nobody took the call: an extension's `no_answer` (else its voicemail), a queue's
    /// `then`, or the end of the call.
    pub(super) fn ring_failed(&mut self, why: &str, store: &mut dyn Store) {
        let Wait::Ringing { target, .. } = std::mem::replace(&mut self.wait, Wait::Nothing) else {
            return;
        };
        self.note(self.here(), Traced::Branch(why.to_string()));
        let plan = self.plan.clone();
        match target {
            Target::Extension(n) => {
                if let Some(&to) = plan.program.no_answer.get(&n) {
                    self.pc = to;
                    self.run(store);
                } else if office::has_voicemail(&plan, &n) {
                    self.leave_message(self.current, n, store);
                } else {
                    self.end(HangupCause::Normal, "nobody answered");
                }
            }
            Target::Queue(q) => {
                if let Some(&to) = plan.program.queue_then.get(&q) {
                    self.pc = to;
                    self.run(store);
                } else {
                    self.play_then(
                        prompts(["queue-full".to_string()]),
                        false,
                        AfterPrompt::Hangup(HangupCause::Normal),
                    );
                }
            }
            Target::Trunk => self.end(HangupCause::Normal, "the outside call did not connect"),
        }
    }

    fn park(&mut self, at: Addr, orbit: String, store: &mut dyn Store) {
        let parked = ParkedCall {
            call: self.id,
            from: self.variable("caller"),
        };
        match office::park(store, &orbit, parked) {
            Ok(true) => {
                self.step_note(at, "park", vec![orbit.clone()]);
                self.push(Command::Park { orbit });
                self.wait = Wait::Connected;
            }
            Ok(false) => {
                self.note(self.here(), Traced::Branch(format!("{orbit} is occupied")));
                self.end(HangupCause::Normal, "the orbit is occupied");
            }
            Err(e) => self.fail(format!("the office store failed: {e}")),
        }
    }

    fn unpark(&mut self, at: Addr, orbit: String, store: &mut dyn Store) {
        match office::unpark(store, &orbit) {
            Ok(Some(p)) => {
                self.step_note(at, "unpark", vec![orbit.clone()]);
                self.push(Command::Unpark {
                    orbit,
                    parked: p.call,
                });
                self.wait = Wait::Connected;
            }
            Ok(None) => {
                self.note(
                    self.here(),
                    Traced::Branch(format!("nobody is parked in {orbit}")),
                );
                self.play_then(
                    prompts(["park-empty".to_string()]),
                    false,
                    AfterPrompt::Hangup(HangupCause::Normal),
                );
            }
            Err(e) => self.fail(format!("the office store failed: {e}")),
        }
    }

    /// A parked caller who hangs up frees the orbit.
    pub(super) fn leave_park(&mut self, store: &mut dyn Store) {
        let plan = self.plan.clone();
        for orbit in &plan.orbits {
            if let Ok(Some(p)) = store.parked(orbit)
                && p.call == self.id
                && let Err(e) = store.set_parked(orbit, None)
            {
                self.note(None, Traced::Error(format!("the office store failed: {e}")));
            }
        }
    }

    fn queue_login(
        &mut self,
        at: Addr,
        queue: Option<String>,
        agent: Option<String>,
        login: bool,
        store: &mut dyn Store,
    ) {
        let Some(actor) = self.caller_extension().map(str::to_string) else {
            self.note(
                self.here(),
                Traced::Branch("only a desk phone can log in to queues".into()),
            );
            return self.play_then(
                prompts(["not-allowed".to_string()]),
                false,
                AfterPrompt::Continue,
            );
        };
        let agent = agent.unwrap_or_else(|| actor.clone());
        let which = match &queue {
            Some(q) => QueueSelection::One(q),
            None => QueueSelection::All,
        };
        let plan = self.plan.clone();
        let verb = if login { "queue_login" } else { "queue_logout" };
        match office::queue_login(&plan, store, &actor, &agent, which, login) {
            Ok(Ok(changed)) => {
                let mut args = vec![queue.clone().unwrap_or_else(|| "all".into())];
                if agent != actor {
                    args.extend(["for".to_string(), agent.clone()]);
                }
                self.step_note(at, verb, args);
                self.note(
                    self.here(),
                    Traced::Branch(format!("queues {}", changed.join(", "))),
                );
                let prompt = if login {
                    "queue-logged-in"
                } else {
                    "queue-logged-out"
                };
                self.play_then(prompts([prompt.to_string()]), false, AfterPrompt::Continue);
            }
            Ok(Err(refusal)) => {
                self.note(self.here(), Traced::Branch(format!("refused: {refusal:?}")));
                self.play_then(
                    prompts(["not-allowed".to_string()]),
                    false,
                    AfterPrompt::Continue,
                );
            }
            Err(e) => self.fail(format!("the office store failed: {e}")),
        }
    }

    fn device(&self) -> Option<String> {
        match &self.from {
            Caller::Extension { device, .. } => device.clone(),
            Caller::Trunk { .. } => None,
        }
    }

    fn hot_desk_login(&mut self, at: Addr, ext: String, store: &mut dyn Store) {
        let plan = self.plan.clone();
        let device = self.device();
        match office::hot_desk_login(&plan, store, device.as_deref(), &ext) {
            Ok(Ok(login)) => {
                let device = device.unwrap_or_default();
                self.step_note(at, "hot_desk_login", vec![ext.clone()]);
                if let Some(prev) = login.previous {
                    self.note(
                        self.here(),
                        Traced::Branch(format!("{prev} is logged out of this phone")),
                    );
                }
                if let Some(old) = login.moved_from {
                    self.note(
                        self.here(),
                        Traced::Branch(format!("{ext} is logged out of phone {old}")),
                    );
                    self.push(Command::HotDesk {
                        device: old,
                        extension: None,
                    });
                }
                self.push(Command::HotDesk {
                    device,
                    extension: Some(ext),
                });
                self.play_then(
                    prompts(["hotdesk-logged-in".to_string()]),
                    false,
                    AfterPrompt::Continue,
                );
            }
            Ok(Err(refusal)) => {
                self.note(self.here(), Traced::Branch(format!("refused: {refusal:?}")));
                self.play_then(
                    prompts(["hotdesk-not-allowed".to_string()]),
                    false,
                    AfterPrompt::Continue,
                );
            }
            Err(e) => self.fail(format!("the office store failed: {e}")),
        }
    }

    fn hot_desk_logout(&mut self, at: Addr, store: &mut dyn Store) {
        let Some(device) = self.device() else {
            self.note(self.here(), Traced::Branch("not a hot-desk phone".into()));
            return self.play_then(
                prompts(["hotdesk-not-allowed".to_string()]),
                false,
                AfterPrompt::Continue,
            );
        };
        match office::hot_desk_logout(store, &device) {
            Ok(who) => {
                self.step_note(at, "hot_desk_logout", vec![]);
                if let Some(ext) = who {
                    self.note(self.here(), Traced::Branch(format!("{ext} logged out")));
                    self.push(Command::HotDesk {
                        device,
                        extension: None,
                    });
                }
                self.play_then(
                    prompts(["hotdesk-logged-out".to_string()]),
                    false,
                    AfterPrompt::Continue,
                );
            }
            Err(e) => self.fail(format!("the office store failed: {e}")),
        }
    }
}
