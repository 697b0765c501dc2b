//! References: every flow, extension, queue, trunk, prompt, script, orbit and variable a
//! step names must exist; menus must not repeat a key.
//!
//! This file walks the steps; `values` checks the values, variables, back-quoted code and
//! conditions in them, `targets` the prompts, extensions, queues, mailboxes and orbits
//! they name.

use super::names::Symbols;
use crate::ast::visit::blocks;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::prompts::PromptCatalog;
use crate::script::ScriptHost;
use crate::settings::Settings;
use crate::source::Span;
use crate::suggest::did_you_mean;
use std::collections::{BTreeSet, HashMap};

mod targets;
mod values;

struct Ctx<'a> {
    operator_set: bool,
    /// Each extension number and whether it may hot-desk.
    hot_desk: HashMap<&'a str, bool>,
    /// MAC addresses of the plan's devices, for `call from device` in tests.
    devices: Vec<&'a str>,
    broken: &'a std::collections::HashSet<String>,
    symbols: &'a Symbols,
    prompts: &'a PromptCatalog,
    languages: BTreeSet<String>,
    /// System prompts already reported missing, with their language.
    reported_system: std::collections::HashSet<(&'static str, String)>,
    host: &'a ScriptHost,
    flows: HashMap<&'a str, &'a Flow>,
    exprs: HashMap<Span, rhai::AST>,
    diags: &'a mut Vec<Diagnostic>,
}

pub fn check(
    ast: &Ast,
    symbols: &Symbols,
    settings: &Settings,
    prompts: &PromptCatalog,
    host: &ScriptHost,
    diags: &mut Vec<Diagnostic>,
) -> HashMap<Span, rhai::AST> {
    // Only languages that have prompts: one that has none is reported once, by `names`.
    let languages = symbols.languages.clone();
    let mut cx = Ctx {
        operator_set: settings.operator.is_some(),
        hot_desk: ast
            .extensions
            .iter()
            .map(|e| (e.number.as_str(), e.options.hot_desk))
            .collect(),
        devices: ast.devices.iter().map(|d| d.mac.as_str()).collect(),
        broken: &ast.broken,
        symbols,
        prompts,
        languages,
        reported_system: Default::default(),
        host,
        flows: ast
            .flows
            .iter()
            .map(|f| (f.name.name.as_str(), f))
            .collect(),
        exprs: HashMap::new(),
        diags,
    };
    for b in blocks(ast) {
        cx.block(b);
    }
    for r in &ast.routes {
        if let Some(c) = &r.condition {
            cx.condition(c);
        }
    }
    for r in &ast.inbound {
        if let (Some((to, span)), Some(trunk)) = (
            &r.to,
            ast.trunks.iter().find(|t| t.name.name == r.trunk.name),
        ) && !trunk.numbers.is_empty()
            && !trunk.numbers.contains(to)
        {
            cx.diags.push(
                Diagnostic::error(
                    "unknown-number",
                    *span,
                    format!("trunk `{}` does not deliver `{to}`", trunk.name.name),
                )
                .label("not one of the trunk's numbers")
                .related(trunk.span, "the trunk's numbers are listed here")
                .help(format!(
                    "add it to the trunk's `numbers`, or use one of: {}",
                    trunk.numbers.join(", ")
                )),
            );
        }
        if !symbols.trunks.contains(&r.trunk.name) {
            cx.unknown(
                "trunk",
                &r.trunk.name,
                r.trunk.span,
                symbols.trunks.iter().map(String::as_str),
            );
        }
        if let Some(c) = &r.condition {
            cx.condition(c);
        }
    }
    for c in &ast.chats {
        if let Some(cond) = &c.condition {
            cx.condition(cond);
        }
        match &c.target {
            ChatTarget::Queue { number, .. } => cx.queue(number),
            ChatTarget::Extension(v) => cx.extension(v),
        }
    }
    for q in &ast.queues {
        for a in q.agents.iter().chain(&q.managers) {
            match a.literal() {
                Some(n) if symbols.extensions.contains_key(&n) => {}
                Some(n) => cx.unknown(
                    "extension",
                    &n,
                    a.span,
                    symbols.extensions.keys().map(String::as_str),
                ),
                None => cx.diags.push(
                    Diagnostic::error(
                        "bad-option",
                        a.span,
                        "agents and managers are extension numbers",
                    )
                    .label("not an extension number"),
                ),
            }
        }
        if let Some(a) = &q.announce {
            cx.prompt(&a.prompt);
        }
    }
    cx.exprs
}

impl Ctx<'_> {
    fn unknown<'n>(
        &mut self,
        kind: &str,
        name: &str,
        span: Span,
        candidates: impl Iterator<Item = &'n str>,
    ) {
        if self.broken.contains(name) {
            return;
        }
        let candidates: Vec<&str> = candidates.collect();
        let help = match did_you_mean(name, candidates.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if candidates.is_empty() => format!("no {kind} is defined; define one first"),
            None => format!("define the {kind} `{name}`, or use one that exists"),
        };
        let code = match kind {
            "flow" => "unknown-flow",
            "extension" | "mailbox" => "unknown-extension",
            "queue" => "unknown-queue",
            "trunk" => "unknown-trunk",
            "prompt" => "unknown-prompt",
            "script" => "unknown-script",
            "park orbit" => "unknown-orbit",
            "variable" => "unknown-variable",
            _ => "unknown-name",
        };
        self.diags.push(
            Diagnostic::error(code, span, format!("unknown {kind} `{name}`"))
                .label(format!("no such {kind}"))
                .help(help),
        );
    }

    fn block(&mut self, b: &Block) {
        for s in &b.steps {
            self.step(s);
        }
    }

    fn flow_call(&mut self, flow: &Ident, args: &[Value]) {
        for a in args {
            self.value(a);
        }
        match self.flows.get(flow.name.as_str()) {
            Some(f) if f.params.len() != args.len() => self.diags.push(
                Diagnostic::error(
                    "wrong-arguments",
                    flow.span,
                    format!(
                        "flow `{}` takes {} argument{}, but {} {} given",
                        flow.name,
                        f.params.len(),
                        plural(f.params.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .label("wrong number of arguments")
                .related(f.name.span, "the flow is defined here"),
            ),
            Some(_) => {}
            None => {
                let names: Vec<&str> = self.flows.keys().copied().collect();
                self.unknown("flow", &flow.name, flow.span, names.into_iter())
            }
        }
    }

    fn step(&mut self, s: &Step) {
        self.system_prompts(s);
        self.step_refs(s);
    }

    /// The names a step uses; an `expect` only names a step, so it plays nothing.
    fn step_refs(&mut self, s: &Step) {
        match &s.kind {
            StepKind::Play { prompts, .. } => prompts.iter().for_each(|p| self.prompt(p)),
            StepKind::Ask { prompts, .. } => prompts.iter().for_each(|p| self.prompt(p)),
            StepKind::Say { value, .. } => self.value(value),
            StepKind::Menu(m) => {
                m.prompts.iter().for_each(|p| self.prompt(p));
                let mut seen: HashMap<char, Span> = HashMap::new();
                for k in &m.keys {
                    if let Some(&first) = seen.get(&k.key) {
                        self.diags.push(
                            Diagnostic::error(
                                "duplicate-menu-key",
                                k.span,
                                format!("key \"{}\" is used twice in this menu", k.key),
                            )
                            .label("used again here")
                            .related(first, "first used here")
                            .help("each key leads to one place; remove or change one of them"),
                        );
                    } else {
                        seen.insert(k.key, k.span);
                    }
                    self.block(&k.action);
                }
                for b in [&m.on_timeout, &m.on_invalid, &m.on_retries_exhausted]
                    .into_iter()
                    .flatten()
                {
                    self.block(b);
                }
            }
            StepKind::Record {
                mailbox: Some(m), ..
            } => self.mailbox(m),
            StepKind::Extension { number, .. } => self.extension(number),
            StepKind::Queue(v) => self.queue(v),
            StepKind::Trunk { trunk, number } => {
                if !self.symbols.trunks.contains(&trunk.name) {
                    self.unknown(
                        "trunk",
                        &trunk.name,
                        trunk.span,
                        self.symbols.trunks.iter().map(String::as_str),
                    );
                }
                self.value(number);
            }
            StepKind::Voicemail(v) => self.mailbox(v),
            StepKind::Goto { flow, args } | StepKind::Call { flow, args } => {
                self.flow_call(flow, args)
            }
            StepKind::If {
                branches,
                otherwise,
            } => {
                for (c, b) in branches {
                    self.condition(c);
                    self.block(b);
                }
                if let Some(b) = otherwise {
                    self.block(b);
                }
            }
            StepKind::Loop { body, .. } => self.block(body),
            StepKind::Set { value, .. } => self.value(value),
            StepKind::QueueLogin { queues, agent } | StepKind::QueueLogout { queues, agent } => {
                if let QueueSelect::One(q) = queues {
                    self.queue(q);
                }
                if let Some(a) = agent {
                    self.extension(a);
                }
            }
            StepKind::HotDeskLogin(v) => {
                self.extension(v);
                if let Some(n) = v.literal()
                    && self.hot_desk.get(n.as_str()) == Some(&false)
                {
                    self.diags.push(
                        Diagnostic::error(
                            "no-hot-desk",
                            v.span,
                            format!("extension `{n}` may not hot-desk"),
                        )
                        .label("not allowed to hot-desk")
                        .help(format!("add `hot_desk` to the options of extension {n}")),
                    );
                }
            }
            StepKind::Park(v) | StepKind::Unpark(v) | StepKind::ParkToggle(v) => self.orbit(v),
            StepKind::Mailbox(MailboxOp::Open(v)) => self.mailbox(v),
            StepKind::Mailbox(MailboxOp::SetPin(v)) => self.value(v),
            StepKind::TestCall { from, .. } => match from {
                TestCaller::Extension(n) => {
                    if !self.symbols.extensions.contains_key(n) {
                        self.unknown(
                            "extension",
                            n,
                            s.span,
                            self.symbols.extensions.keys().map(String::as_str),
                        );
                    }
                }
                TestCaller::Device { mac, span } => {
                    if !self.devices.iter().any(|d| d.eq_ignore_ascii_case(mac)) {
                        self.diags.push(
                            Diagnostic::error(
                                "unknown-device",
                                *span,
                                format!("there is no device {mac:?}"),
                            )
                            .label("no such phone")
                            .help("define it with `device \"MAC\" { hot_desk }`"),
                        );
                    }
                }
                TestCaller::Trunk { trunk, .. } => {
                    if !self.symbols.trunks.contains(&trunk.name) {
                        self.unknown(
                            "trunk",
                            &trunk.name,
                            trunk.span,
                            self.symbols.trunks.iter().map(String::as_str),
                        );
                    }
                }
            },
            StepKind::Given(
                Given::Pin { mailbox, .. }
                | Given::SelfId { mailbox }
                | Given::Messages { mailbox, .. },
            ) if !self.symbols.extensions.contains_key(mailbox) => {
                self.unknown(
                    "mailbox",
                    mailbox,
                    s.span,
                    self.symbols.extensions.keys().map(String::as_str),
                );
            }
            StepKind::Expect(inner) => self.step_refs(inner),
            StepKind::FarEnd { party, name, .. } => {
                let (kind, names): (&str, Vec<&str>) = match party {
                    FarEndParty::Extension => (
                        "extension",
                        self.symbols.extensions.keys().map(String::as_str).collect(),
                    ),
                    FarEndParty::Queue => (
                        "queue",
                        self.symbols.queues.iter().map(String::as_str).collect(),
                    ),
                    FarEndParty::Trunk => (
                        "trunk",
                        self.symbols.trunks.iter().map(String::as_str).collect(),
                    ),
                };
                if !names.contains(&name.name.as_str()) {
                    self.unknown(kind, &name.name, name.span, names.into_iter());
                }
            }
            _ => {}
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
