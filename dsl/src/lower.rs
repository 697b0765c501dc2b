//! Lowering a checked plan to the flat program the call engine runs (see `ir.rs`).
//!
//! Blocks become straight runs of instructions; `if`, loops and menus become jumps. Names
//! were checked before lowering, so a name that does not resolve here can only belong to
//! a plan with errors, which never reaches the engine; such a step lowers to `Hangup` so
//! the lowering itself never fails.

use crate::ast::{
    self, Ast, Block, ChatRoute, Condition, Extension, Flow, Inbound, Queue, Step, StepKind, Value,
    ValueKind,
};
use crate::ir::{
    Addr, Builtin, ChatRouteProgram, ChatTargetOperand, Cond, FlowEntry, FlowId, LoopId, MailboxOp,
    Menu, MenuId, Op, Operand, Program,
};
use crate::plan::Script;
use crate::route_table::Route;
use crate::source::{Sources, Span};
use std::collections::HashMap;

mod secrets;

/// What lowering reads: the checked parts of a plan, before the `Plan` is built from them
/// and the program lowered here.
pub struct Input<'p> {
    pub flows: &'p [Flow],
    pub routes: &'p [Route],
    pub inbound: &'p [Inbound],
    pub chats: &'p [ChatRoute],
    pub extensions: &'p [Extension],
    pub queues: &'p [Queue],
    pub scripts: &'p [Script],
    pub sources: &'p Sources,
    /// Each flow's index by name; the first of a name wins, as in the `Plan`.
    flow_index: HashMap<&'p str, usize>,
}

impl<'p> Input<'p> {
    pub fn new(
        ast: &'p Ast,
        routes: &'p [Route],
        scripts: &'p [Script],
        sources: &'p Sources,
    ) -> Input<'p> {
        let mut flow_index = HashMap::new();
        for (i, f) in ast.flows.iter().enumerate() {
            flow_index.entry(f.name.name.as_str()).or_insert(i);
        }
        Input {
            flows: &ast.flows,
            routes,
            inbound: &ast.inbound,
            chats: &ast.chats,
            extensions: &ast.extensions,
            queues: &ast.queues,
            scripts,
            sources,
            flow_index,
        }
    }

    fn flow(&self, name: &str) -> Option<&'p Flow> {
        self.flow_index.get(name).map(|&i| &self.flows[i])
    }
}

/// Lowers every flow, route, inbound route, `no_answer` and queue `then` of the plan.
pub fn lower(plan: &Input<'_>) -> Program {
    let mut l = Lowering {
        plan,
        program: Program::default(),
        menus: Vec::new(),
    };
    // Flow entries first, so a `goto` can name a flow that is lowered later.
    for f in plan.flows {
        l.program.flows.push(FlowEntry {
            name: f.name.name.clone(),
            params: f.params.iter().map(|p| p.name.clone()).collect(),
            entry: Addr(0),
        });
    }
    for (i, f) in plan.flows.iter().enumerate() {
        let entry = l.here();
        l.program.flows[i].entry = entry;
        l.block(&f.body);
        l.emit(Op::End, f.span);
    }
    for r in plan.routes {
        let entry = l.action(&r.route.action, r.route.span);
        l.program.routes.push(entry);
        let when = r.route.condition.as_ref().map(|c| l.condition(c));
        l.program.route_when.push(when);
        let open = open_to_unassigned(plan, &r.route.action, &mut Vec::new());
        l.program.route_open_to_unassigned.push(open);
    }
    for r in plan.inbound {
        let entry = l.action(&r.action, r.span);
        l.program.inbound.push(entry);
        let when = r.condition.as_ref().map(|c| l.condition(c));
        l.program.inbound_when.push(when);
    }
    for c in plan.chats {
        let when = c.condition.as_ref().map(|w| l.condition(w));
        let target = match &c.target {
            ast::ChatTarget::Queue { number, poll } => ChatTargetOperand::Queue {
                number: l.operand(number),
                poll: *poll,
            },
            ast::ChatTarget::Extension(v) => ChatTargetOperand::Extension(l.operand(v)),
        };
        l.program.chats.push(ChatRouteProgram { when, target });
    }
    for e in plan.extensions {
        if let Some(a) = &e.options.no_answer {
            let entry = l.action(a, e.span);
            l.program.no_answer.insert(e.number.clone(), entry);
        }
    }
    for q in plan.queues {
        if let Some(a) = &q.then {
            let entry = l.action(a, q.span);
            l.program.queue_then.insert(q.number.clone(), entry);
        }
    }
    // Secrecy is a property of the whole program (a value may flow through several
    // flows before it reaches `mailbox set_pin`), so it is derived once everything is
    // lowered.
    secrets::mark(&mut l.program, plan);
    l.program
}

struct Lowering<'p> {
    plan: &'p Input<'p>,
    program: Program,
    /// The menus whose branches are being lowered, innermost last, for `repeat`.
    menus: Vec<MenuId>,
}

impl Lowering<'_> {
    fn here(&self) -> Addr {
        Addr(self.program.code.len() as u32)
    }

    fn emit(&mut self, op: Op, span: Span) -> Addr {
        let at = self.here();
        self.program.code.push(op);
        self.program.spans.push(span);
        at
    }

    /// Points the jump at `at` to `to`.
    fn patch(&mut self, at: Addr, to: Addr) {
        match &mut self.program.code[at.0 as usize] {
            Op::Jump(t) | Op::JumpUnless { to: t, .. } | Op::LoopNext { exit: t, .. } => *t = to,
            other => unreachable!("patching a non-jump {other:?}"),
        }
    }

    fn action(&mut self, block: &Block, span: Span) -> Addr {
        let entry = self.here();
        self.block(block);
        self.emit(Op::End, span);
        entry
    }

    fn block(&mut self, block: &Block) {
        for step in &block.steps {
            self.step(step);
        }
    }

    fn step(&mut self, step: &Step) {
        let span = step.span;
        let op = match &step.kind {
            StepKind::Answer => Op::Answer,
            StepKind::Hangup => Op::Hangup,
            StepKind::Play { prompts, barge_in } => Op::Play {
                prompts: self.operands(prompts),
                barge_in: *barge_in,
            },
            StepKind::Say { kind, value } => Op::Say {
                kind: *kind,
                value: self.operand(value),
                secret: false,
            },
            StepKind::Ask {
                prompts,
                min,
                max,
                terminator,
                timeout,
                into,
            } => Op::Ask {
                prompts: self.operands(prompts),
                min: *min,
                max: *max,
                terminator: *terminator,
                timeout: *timeout,
                into: into.name.clone(),
                secret: false,
            },
            StepKind::Menu(menu) => return self.menu(menu, span),
            StepKind::Record {
                kind,
                mailbox,
                terminator,
                max,
            } => Op::Record {
                kind: *kind,
                mailbox: mailbox.as_ref().map(|m| self.operand(m)),
                terminator: *terminator,
                max: *max,
            },
            StepKind::Confirm => Op::Confirm,
            StepKind::Extension { number, ring } => Op::Extension {
                number: self.operand(number),
                ring: *ring,
            },
            StepKind::Queue(q) => Op::Queue(self.operand(q)),
            StepKind::Trunk { trunk, number } => Op::Trunk {
                trunk: trunk.name.clone(),
                number: self.operand(number),
            },
            StepKind::Voicemail(m) => Op::Voicemail(self.operand(m)),
            StepKind::Goto { flow, args } | StepKind::Call { flow, args } => {
                let Some(id) = self.flow_id(&flow.name) else {
                    self.emit(Op::Hangup, span);
                    return;
                };
                let args = self.operands(args);
                if matches!(step.kind, StepKind::Goto { .. }) {
                    Op::Goto { flow: id, args }
                } else {
                    Op::Call { flow: id, args }
                }
            }
            StepKind::Back => Op::Back,
            StepKind::Repeat => match self.menus.last() {
                Some(&m) => Op::Repeat(m),
                None => Op::End,
            },
            StepKind::If {
                branches,
                otherwise,
            } => return self.if_chain(branches, otherwise.as_ref(), span),
            StepKind::Loop { times, body } => return self.repeat_times(*times, body, span),
            StepKind::Set { var, value } => Op::Set {
                var: var.name.clone(),
                value: self.operand(value),
                secret: false,
            },
            StepKind::QueueLogin { queues, agent } | StepKind::QueueLogout { queues, agent } => {
                Op::QueueLogin {
                    queue: match queues {
                        ast::QueueSelect::All => None,
                        ast::QueueSelect::One(q) => Some(self.operand(q)),
                    },
                    agent: agent.as_ref().map(|a| self.operand(a)),
                    login: matches!(step.kind, StepKind::QueueLogin { .. }),
                }
            }
            StepKind::HotDeskLogin(e) => Op::HotDeskLogin(self.operand(e)),
            StepKind::HotDeskLogout => Op::HotDeskLogout,
            StepKind::Park(o) => Op::Park(self.operand(o)),
            StepKind::Unpark(o) => Op::Unpark(self.operand(o)),
            StepKind::ParkToggle(o) => Op::ParkToggle(self.operand(o)),
            StepKind::Directory => Op::Directory,
            StepKind::Mailbox(m) => Op::Mailbox(match m {
                ast::MailboxOp::Open(v) => MailboxOp::Open(self.operand(v)),
                ast::MailboxOp::Select { saved } => MailboxOp::Select { saved: *saved },
                ast::MailboxOp::Play => MailboxOp::Play,
                ast::MailboxOp::Next => MailboxOp::Next,
                ast::MailboxOp::Previous => MailboxOp::Previous,
                ast::MailboxOp::Save => MailboxOp::Save,
                ast::MailboxOp::Delete => MailboxOp::Delete,
                ast::MailboxOp::SayCount { saved } => MailboxOp::SayCount { saved: *saved },
                ast::MailboxOp::SetPin(v) => MailboxOp::SetPin(self.operand(v)),
            }),
            StepKind::Language(l) => Op::Language(l.name.clone()),
            // Test steps never appear in flows; the check rejects them there.
            StepKind::TestCall { .. }
            | StepKind::TestChat { .. }
            | StepKind::Press(_)
            | StepKind::Wait(_)
            | StepKind::TestHangup
            | StepKind::Given(_)
            | StepKind::Expect(_)
            | StepKind::FarEnd { .. }
            | StepKind::ExpectConnected => Op::Hangup,
        };
        self.emit(op, span);
    }

    fn menu(&mut self, menu: &ast::Menu, span: Span) {
        let id = MenuId(self.program.menus.len() as u32);
        self.program.menus.push(Menu {
            prompts: self.operands(&menu.prompts),
            timeout: menu.timeout,
            retries: menu.retries.unwrap_or(DEFAULT_MENU_RETRIES),
            keys: Vec::new(),
            on_timeout: None,
            on_invalid: None,
            on_retries_exhausted: None,
            after: Addr(0),
        });
        self.emit(Op::Menu(id), span);
        self.menus.push(id);
        let mut ends = Vec::new();
        let mut branch = |l: &mut Self, block: &Block| {
            let entry = l.here();
            l.block(block);
            ends.push(l.emit(Op::Jump(Addr(0)), span));
            entry
        };
        let mut keys = Vec::new();
        for k in &menu.keys {
            keys.push((k.key, branch(self, &k.action)));
        }
        let on_timeout = menu.on_timeout.as_ref().map(|b| branch(self, b));
        let on_invalid = menu.on_invalid.as_ref().map(|b| branch(self, b));
        let on_exhausted = menu.on_retries_exhausted.as_ref().map(|b| branch(self, b));
        self.menus.pop();
        let after = self.here();
        for e in ends {
            self.patch(e, after);
        }
        let m = &mut self.program.menus[id.0 as usize];
        m.keys = keys;
        m.on_timeout = on_timeout;
        m.on_invalid = on_invalid;
        m.on_retries_exhausted = on_exhausted;
        m.after = after;
    }

    fn if_chain(&mut self, branches: &[(Condition, Block)], otherwise: Option<&Block>, span: Span) {
        let mut ends = Vec::new();
        for (cond, block) in branches {
            let cond = self.condition(cond);
            let skip = self.emit(Op::JumpUnless { cond, to: Addr(0) }, span);
            self.block(block);
            ends.push(self.emit(Op::Jump(Addr(0)), span));
            let next = self.here();
            self.patch(skip, next);
        }
        if let Some(b) = otherwise {
            self.block(b);
        }
        let end = self.here();
        for e in ends {
            self.patch(e, end);
        }
    }

    fn repeat_times(&mut self, times: u32, body: &Block, span: Span) {
        let id = LoopId(self.program.loops);
        self.program.loops += 1;
        self.emit(Op::LoopStart(id), span);
        let top = self.emit(
            Op::LoopNext {
                id,
                times,
                exit: Addr(0),
            },
            span,
        );
        self.block(body);
        self.emit(Op::Jump(top), span);
        let exit = self.here();
        self.patch(top, exit);
    }

    fn flow_id(&self, name: &str) -> Option<FlowId> {
        self.plan
            .flows
            .iter()
            .position(|f| f.name.name == name)
            .map(|i| FlowId(i as u32))
    }

    fn operands(&self, values: &[Value]) -> Vec<Operand> {
        values.iter().map(|v| self.operand(v)).collect()
    }

    fn operand(&self, v: &Value) -> Operand {
        match &v.kind {
            ValueKind::Number(n) => Operand::Lit(n.clone()),
            ValueKind::Duration(d) => Operand::Lit(format!("{}", d.as_millis())),
            ValueKind::Text(parts) => match v.literal() {
                Some(s) => Operand::Lit(s),
                None => Operand::Text(parts.clone()),
            },
            ValueKind::Var(path) => Operand::Var(path.join(".")),
            ValueKind::Script(_) => Operand::Expr(v.span),
            ValueKind::Call { name, args } => {
                let args = self.operands(args);
                if let Some(i) = self
                    .plan
                    .scripts
                    .iter()
                    .position(|s| s.script.name.name == name.name)
                {
                    Operand::Script {
                        script: i as u32,
                        args,
                    }
                } else if let Some(function) = Builtin::from_name(&name.name) {
                    Operand::Builtin { function, args }
                } else {
                    Operand::Lit(String::new())
                }
            }
        }
    }

    fn condition(&self, c: &Condition) -> Cond {
        match c {
            Condition::Or(cs) => Cond::Or(cs.iter().map(|c| self.condition(c)).collect()),
            Condition::And(cs) => Cond::And(cs.iter().map(|c| self.condition(c)).collect()),
            Condition::Not(c) => Cond::Not(Box::new(self.condition(c))),
            Condition::Compare { left, equal, right } => Cond::Compare {
                left: self.operand(left),
                equal: *equal,
                right: self.operand(right),
            },
            Condition::Script(v) | Condition::Call(v) => Cond::Truthy(self.operand(v)),
        }
    }
}

/// Whether an action logs a hot-desk phone in or out, or calls a short service number,
/// looking into the flows it goes to (each once).
fn open_to_unassigned<'p>(plan: &Input<'p>, block: &'p Block, seen: &mut Vec<&'p str>) -> bool {
    block.steps.iter().any(|s| match &s.kind {
        StepKind::HotDeskLogin(_) | StepKind::HotDeskLogout => true,
        StepKind::Trunk { number, .. } => number
            .literal()
            .is_some_and(|n| (2..=6).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())),
        StepKind::Goto { flow, .. } | StepKind::Call { flow, .. } => {
            let name = flow.name.as_str();
            if seen.contains(&name) {
                return false;
            }
            seen.push(name);
            plan.flow(name)
                .is_some_and(|f| open_to_unassigned(plan, &f.body, seen))
        }
        StepKind::If {
            branches,
            otherwise,
        } => {
            branches
                .iter()
                .any(|(_, b)| open_to_unassigned(plan, b, seen))
                || otherwise
                    .as_ref()
                    .is_some_and(|b| open_to_unassigned(plan, b, seen))
        }
        StepKind::Loop { body, .. } => open_to_unassigned(plan, body, seen),
        _ => false,
    })
}

/// How often a menu may start again when the plan does not say: three, as on most
/// phone systems.
pub const DEFAULT_MENU_RETRIES: u32 = 3;
