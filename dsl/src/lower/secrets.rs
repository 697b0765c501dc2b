//! Which variables hold a PIN, so that nothing the engine shows (traces, the call list,
//! the status page) ever contains one.
//!
//! Secrecy is derived from what the plan does with a value, not only from what the admin
//! called it. A variable is secret when
//!
//! - it is named like one (`pin`, `new_pin`, `pin2`, `newPin`, `passcode`), or
//! - its value reaches something that takes a PIN: `mailbox set_pin`, or the PIN argument
//!   of `pin_ok(mailbox, pin)` (which is also how a hot-desk login checks its PIN), or
//! - it is linked to a secret variable by the value they share: `set a = b` in either
//!   direction (both hold the same digits), a comparison `a == b` or `a != b` (the
//!   confirmation of a new PIN is compared with the first entry), or a flow parameter
//!   given a secret argument. A value built from a secret (`set a = "{pin}#"`, a script
//!   given one) is secret too, but the parts it was built from are not made secret by it:
//!   `set code = "{caller}{pin}"` must not hide the caller's number.
//!
//! The answer of a built-in (`pin_ok(...)` is yes or no) is never secret. The engine's
//! own variables (`caller`, `dialled`, ...) never are either: they are facts of the call.
//! The rule errs on the side of hiding: a value that might hold a PIN is masked.

use super::Input;
use crate::ir::{Builtin, Cond, MailboxOp, Op, Operand, Program};
use std::collections::BTreeSet;

/// Works out `program.secrets` and marks the instructions that would show a secret.
pub(super) fn mark(program: &mut Program, plan: &Input<'_>) {
    let mut facts = Facts::new(plan);
    for op in &program.code {
        facts.op(op, program);
    }
    for c in program
        .route_when
        .iter()
        .chain(&program.inbound_when)
        .flatten()
    {
        facts.cond(c);
    }
    let secrets = facts.solve();
    for op in &mut program.code {
        match op {
            Op::Ask { into, secret, .. } => *secret = secrets.contains(into),
            Op::Set { var, secret, .. } => *secret = secrets.contains(var),
            Op::Say { value, secret, .. } => {
                *secret = mentions(value, plan).iter().any(|v| secrets.contains(v))
            }
            _ => {}
        }
    }
    program.secrets = secrets;
}

/// Whether a variable's name says it holds a PIN: one of its words (split at `_`, `.`,
/// digits and lower-to-upper case changes) is `pin`, `pincode`, `passcode` or
/// `password`. Whole words, so `shipping` is not a PIN.
pub fn named_like_a_pin(name: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        let boundary = !c.is_ascii_alphabetic() || (c.is_ascii_uppercase() && prev_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphabetic() {
            word.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_ascii_lowercase();
    }
    words.push(word);
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "pin" | "pins" | "pincode" | "passcode" | "password"
        )
    })
}

/// The engine's own variables (see `core/src/call/values.rs`): facts of the call, never
/// a PIN the caller typed.
const BUILT_IN: &[&str] = &["caller", "dialled", "operator", "mailbox", "language"];

/// What the program does with values, as far as secrecy goes.
struct Facts<'p> {
    plan: &'p Input<'p>,
    /// Every variable the plan stores into.
    names: BTreeSet<String>,
    /// Variables whose value reaches something that takes a PIN.
    sinks: BTreeSet<String>,
    /// `(from, to)`: when any of `from` holds a PIN, so does `to`.
    flows: Vec<(Vec<String>, String)>,
}

impl<'p> Facts<'p> {
    fn new(plan: &'p Input<'p>) -> Facts<'p> {
        Facts {
            plan,
            names: BTreeSet::new(),
            sinks: BTreeSet::new(),
            flows: Vec::new(),
        }
    }

    fn op(&mut self, op: &Op, program: &Program) {
        match op {
            Op::Ask { into, prompts, .. } => {
                self.names.insert(into.clone());
                self.visit_all(prompts);
            }
            Op::Set { var, value, .. } => {
                self.names.insert(var.clone());
                self.assign(var, value);
            }
            Op::Goto { flow, args } | Op::Call { flow, args } => {
                for (param, arg) in program.flow(*flow).params.iter().zip(args) {
                    self.names.insert(param.clone());
                    self.assign(param, arg);
                }
            }
            Op::JumpUnless { cond, .. } => self.cond(cond),
            Op::Mailbox(MailboxOp::SetPin(v)) => {
                self.sinks.extend(mentions(v, self.plan));
                self.visit(v);
            }
            Op::Mailbox(MailboxOp::Open(v))
            | Op::Say { value: v, .. }
            | Op::Queue(v)
            | Op::Voicemail(v)
            | Op::Trunk { number: v, .. }
            | Op::Extension { number: v, .. }
            | Op::HotDeskLogin(v)
            | Op::Park(v)
            | Op::Unpark(v)
            | Op::ParkToggle(v) => self.visit(v),
            Op::Play { prompts, .. } => self.visit_all(prompts),
            Op::Record { mailbox, .. } => self.visit_all(mailbox.iter()),
            Op::QueueLogin { queue, agent, .. } => {
                self.visit_all(queue.iter().chain(agent.iter()));
            }
            Op::Menu(_) | Op::Repeat(_) => {}
            Op::Answer
            | Op::Hangup
            | Op::Confirm
            | Op::Back
            | Op::Jump(_)
            | Op::LoopStart(_)
            | Op::LoopNext { .. }
            | Op::HotDeskLogout
            | Op::Directory
            | Op::Mailbox(_)
            | Op::Language(_)
            | Op::End => {}
        }
    }

    /// `var` takes `value`: secret when the value is, and a plain variable copied into a
    /// secret one holds the same digits, so it is secret too.
    fn assign(&mut self, var: &str, value: &Operand) {
        self.flows
            .push((mentions(value, self.plan), var.to_string()));
        if let Operand::Var(from) = value {
            self.flows.push((vec![var.to_string()], from.clone()));
        }
        self.visit(value);
    }

    fn cond(&mut self, c: &Cond) {
        match c {
            Cond::Or(cs) | Cond::And(cs) => cs.iter().for_each(|c| self.cond(c)),
            Cond::Not(c) => self.cond(c),
            Cond::Compare { left, right, .. } => {
                // Compared with a PIN, a variable holds one (or a mistyped one).
                for (a, b) in [(left, right), (right, left)] {
                    if let Operand::Var(v) = b {
                        self.flows.push((mentions(a, self.plan), v.clone()));
                    }
                }
                self.visit(left);
                self.visit(right);
            }
            Cond::Truthy(v) => self.visit(v),
        }
    }

    fn visit_all<'o>(&mut self, ops: impl IntoIterator<Item = &'o Operand>) {
        for o in ops {
            self.visit(o);
        }
    }

    /// Finds the PIN arguments of `pin_ok` wherever it is used.
    fn visit(&mut self, op: &Operand) {
        match op {
            Operand::Builtin { function, args } => {
                if *function == Builtin::PinOk
                    && let Some(pin) = args.get(1)
                {
                    self.sinks.extend(mentions(pin, self.plan));
                }
                self.visit_all(args);
            }
            Operand::Script { args, .. } => self.visit_all(args),
            Operand::Lit(_) | Operand::Text(_) | Operand::Var(_) | Operand::Expr(_) => {}
        }
    }

    /// The secret variables: those named like a PIN or reaching one, and everything a
    /// secret flows to, until nothing changes.
    fn solve(self) -> BTreeSet<String> {
        let allowed = |n: &String| !BUILT_IN.contains(&n.as_str());
        let mut secret: BTreeSet<String> = self
            .names
            .iter()
            .chain(self.flows.iter().flat_map(|(from, _)| from))
            .filter(|n| named_like_a_pin(n))
            .chain(&self.sinks)
            .filter(|n| allowed(n))
            .cloned()
            .collect();
        loop {
            let mut changed = false;
            for (from, to) in &self.flows {
                if allowed(to) && !secret.contains(to) && from.iter().any(|f| secret.contains(f)) {
                    secret.insert(to.clone());
                    changed = true;
                }
            }
            if !changed {
                return secret;
            }
        }
    }
}

/// The variables a value is made from. A built-in's answer is yes or no from the office,
/// so its arguments do not flow into it; a script's answer may be made of anything it
/// was given or reads from `vars`.
fn mentions(op: &Operand, plan: &Input<'_>) -> Vec<String> {
    let mut out = Vec::new();
    collect(op, plan, &mut out);
    out
}

fn collect(op: &Operand, plan: &Input<'_>, out: &mut Vec<String>) {
    match op {
        Operand::Lit(_) | Operand::Builtin { .. } => {}
        Operand::Var(v) => out.push(v.clone()),
        Operand::Text(parts) => out.extend(parts.iter().filter_map(|p| match p {
            crate::ast::TextPart::Var(v) => Some(v.clone()),
            crate::ast::TextPart::Lit(_) => None,
        })),
        Operand::Expr(span) => {
            let text = &plan.sources.get(span.file).text;
            let code = text.get(span.range()).unwrap_or("");
            out.extend(vars_read(code));
        }
        Operand::Script { script, args } => {
            if let Some(s) = plan.scripts.get(*script as usize) {
                out.extend(vars_read(&s.script.code));
            }
            for a in args {
                collect(a, plan, out);
            }
        }
    }
}

/// The `vars.NAME` a piece of Rhai reads.
fn vars_read(code: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (i, _) in code.match_indices("vars.") {
        if code[..i].ends_with(ident) {
            continue;
        }
        let rest = &code[i + "vars.".len()..];
        let end = rest.find(|c: char| !ident(c)).unwrap_or(rest.len());
        if end > 0 {
            out.push(rest[..end].to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::named_like_a_pin;
    use crate::{PromptCatalog, SourceFile, Sources, compile};

    #[test]
    fn names_are_read_as_words() {
        for yes in [
            "pin",
            "PIN",
            "new_pin",
            "pin2",
            "newPin",
            "old_pincode",
            "passcode",
        ] {
            assert!(named_like_a_pin(yes), "{yes}");
        }
        for no in ["shipping", "spin", "again", "pinnacle", "ext"] {
            assert!(!named_like_a_pin(no), "{no}");
        }
    }

    /// The secret variables of a plan, as the compiler derives them.
    fn secrets(plan: &str) -> Vec<String> {
        let mut sources = Sources::new();
        sources.add(SourceFile::new("t.dial", plan));
        let compiled = compile(sources, &PromptCatalog::unchecked());
        let plan = compiled.plan.expect("the plan compiles");
        plan.program.secrets.iter().cloned().collect()
    }

    #[test]
    fn what_reaches_a_pin_or_is_compared_with_one_is_secret() {
        let found = secrets(
            r##"
extension 101 "Alice" { voicemail; pin "1234" }
flow change {
    answer
    mailbox open caller
    ask "vm-new-pin" digits 4..8 until "#" -> first
    ask "vm-repeat-pin" digits 4..8 until "#" -> again
    if first == again {
        set chosen = first
        mailbox set_pin chosen
    }
    hangup
}
flow login(ext) {
    ask "vm-enter-pin" digits 4 -> entry
    set ok = pin_ok(ext, entry)
    set shown = "{caller}-{entry}"
    set code = `vars.entry + "#"`
    call check(entry)
    ask "menu" digits 1 -> choice
    hangup
}
flow check(value) {
    hangup
}
dial "1" -> flow change
dial "2" -> flow login("101")
"##,
        );
        // `chosen` reaches set_pin, `first` is copied into it, `again` compared with it;
        // `entry` reaches pin_ok; what is built from it is secret, its answer is not;
        // `caller` stays shown although a secret was built with it.
        assert_eq!(
            found,
            [
                "again", "chosen", "code", "entry", "first", "shown", "value"
            ]
        );
    }
}
