//! The interpreter: runs instructions from `pc` until one has to wait.

use super::{AfterPrompt, Call, Wait, digit_prompts, prompts};
use crate::command::HangupCause;
use crate::store::Store;
use crate::trace::{Traced, masked};
use switchboard_dsl::ast::SayKind;
use switchboard_dsl::ir::{Addr, FlowId, Op, Operand};

impl Call {
    /// Runs until the plan waits or the call ends.
    ///
    /// Steps that finish at once (a queue with nobody logged in going to its `then`, an
    /// `ask` answered by typed-ahead keys) set `pc` and call `run` again; that inner call
    /// returns at once and this loop carries on, so the stack never grows with the plan
    /// and the step budget below counts every step of the event.
    pub(super) fn run(&mut self, store: &mut dyn Store) {
        if self.running {
            return;
        }
        self.running = true;
        self.wait = Wait::Nothing;
        let mut steps = 0;
        while matches!(self.wait, Wait::Nothing) {
            if steps == super::MAX_STEPS_PER_EVENT {
                self.fail(format!(
                    "the plan ran {} steps without waiting for the caller; is there a loop of gotos?",
                    super::MAX_STEPS_PER_EVENT
                ));
                break;
            }
            steps += 1;
            self.step(store);
        }
        self.running = false;
    }

    /// Runs one instruction; whether the call must now wait is left in `self.wait`.
    fn step(&mut self, store: &mut dyn Store) {
        let plan = self.plan.clone();
        let Some(op) = plan.program.code.get(self.pc.0 as usize) else {
            self.fail("the program ended unexpectedly".into());
            return;
        };
        let at = self.pc;
        self.current = at;
        self.pc = Addr(at.0 + 1);
        // Values are worked out before acting; a failing script ends the call here.
        match op {
            Op::Answer => {
                self.step_note(at, "answer", vec![]);
                self.ensure_answered();
            }
            Op::Hangup => {
                self.end(HangupCause::Normal, "the plan hung up");
            }
            Op::Play {
                prompts: ps,
                barge_in,
            } => {
                let mut names = Vec::with_capacity(ps.len());
                for p in ps {
                    let Some(v) = self.value_or_end(p, store) else {
                        return;
                    };
                    names.push(v);
                }
                self.play_then(prompts(names), *barge_in, AfterPrompt::Continue);
            }
            Op::Say {
                kind,
                value,
                secret,
            } => {
                let Some(v) = self.value_or_end(value, store) else {
                    return;
                };
                let names: Vec<String> = match kind {
                    // Only digit prompts are recorded, so a number is read digit by digit.
                    SayKind::Digits | SayKind::Number => digit_prompts(&v).collect(),
                };
                // A PIN said back is heard by the caller, never shown (lower/secrets.rs).
                let shown = if *secret { masked(&v) } else { v };
                self.step_note(at, "say", vec![shown]);
                if names.is_empty() {
                    return;
                }
                if *secret {
                    self.say_secret(prompts(names));
                } else {
                    self.play_then(prompts(names), false, AfterPrompt::Continue);
                }
            }
            Op::Ask { .. } | Op::Menu(_) | Op::Repeat(_) => {
                self.start_input(at, false, store);
            }
            Op::Record { .. } | Op::Confirm | Op::Voicemail(_) => self.record_step(at, store),
            Op::Extension { .. }
            | Op::Queue(_)
            | Op::Trunk { .. }
            | Op::Park(_)
            | Op::Unpark(_)
            | Op::ParkToggle(_)
            | Op::QueueLogin { .. }
            | Op::HotDeskLogin(_)
            | Op::HotDeskLogout => self.connect_step(at, store),
            Op::Directory => {
                self.step_note(at, "directory", vec![]);
                self.directory_start(store);
            }
            Op::Mailbox(m) => self.mailbox_step(at, m, store),
            Op::Goto { flow, args } | Op::Call { flow, args } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    let Some(v) = self.value_or_end(a, store) else {
                        return;
                    };
                    values.push(v);
                }
                let is_call = matches!(op, Op::Call { .. });
                if is_call {
                    if self.stack.len() >= MAX_CALL_DEPTH {
                        self.fail(format!("`call` nested more than {MAX_CALL_DEPTH} deep"));
                        return;
                    }
                    self.stack.push(self.pc);
                }
                self.enter_flow(at, *flow, values, if is_call { "call" } else { "goto" });
            }
            Op::Back | Op::End => match self.stack.pop() {
                Some(ret) => {
                    self.pc = ret;
                }
                None => {
                    self.end(HangupCause::Normal, "the plan came to its end");
                }
            },
            Op::Jump(to) => {
                self.pc = *to;
            }
            Op::JumpUnless { cond, to } => match self.condition(cond, store) {
                Ok(true) => self.note(
                    Some(plan.program.span(at)),
                    Traced::Branch("condition holds".into()),
                ),
                Ok(false) => {
                    self.note(
                        Some(plan.program.span(at)),
                        Traced::Branch("condition does not hold".into()),
                    );
                    self.pc = *to;
                }
                Err(e) => self.fail(e),
            },
            Op::LoopStart(id) => {
                self.loops[id.0 as usize] = 0;
            }
            Op::LoopNext { id, times, exit } => {
                let n = &mut self.loops[id.0 as usize];
                if *n >= *times {
                    self.pc = *exit;
                } else {
                    *n += 1;
                }
            }
            Op::Set { var, value, secret } => {
                let Some(v) = self.value_or_end(value, store) else {
                    return;
                };
                let shown = if *secret { masked(&v) } else { v.clone() };
                self.step_note(at, "set", vec![var.clone(), shown]);
                self.set_var(var, v);
            }
            Op::Language(l) => {
                self.step_note(at, "language", vec![l.clone()]);
                self.language = Some(l.clone());
            }
        }
    }

    pub(super) fn step_note(&mut self, at: Addr, verb: &'static str, args: Vec<String>) {
        let span = self.plan.program.span(at);
        self.note(Some(span), Traced::Step { verb, args });
    }

    fn enter_flow(&mut self, at: Addr, flow: FlowId, args: Vec<String>, verb: &'static str) {
        let plan = self.plan.clone();
        let entry = plan.program.flow(flow);
        self.step_note(at, verb, vec![entry.name.clone()]);
        for (p, v) in entry.params.iter().zip(args) {
            self.set_var(p, v);
        }
        self.pc = entry.entry;
    }

    pub(super) fn set_var(&mut self, name: &str, value: String) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.vars.push((name.to_string(), value)),
        }
    }

    pub(super) fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Works out the values of a list of operands.
    pub(super) fn values(
        &mut self,
        ops: &[Operand],
        store: &mut dyn Store,
    ) -> Result<Vec<String>, String> {
        ops.iter().map(|o| self.value(o, store)).collect()
    }
}

/// How deep `call` may nest: deeper is a plan calling itself by mistake.
const MAX_CALL_DEPTH: usize = 32;
