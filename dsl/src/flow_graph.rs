//! A flow drawn as a graph for the editor's diagram: its steps, menus with an edge per
//! key, `if` branches, loops, and the targets it hands the call to, every node at its
//! place in the source so a click goes back to the line.
//!
//! Built from the checked flows the `Plan` keeps (the syntax tree, which still has the
//! `if`s and menus the admin wrote; the lowered program has only jumps). Sans-IO: the
//! caller turns spans into files and lines.
//!
//! Following the engine: an `extension`, `queue`, `trunk`, `voicemail`, `directory`,
//! park step or `goto` hands the call over, so nothing after it in the flow follows from
//! it; an extension that is busy or does not answer takes its `no_answer` (else its
//! voicemail), a queue nobody answers its `then`, drawn as edges from the target.
//! `call` comes back, so the flow goes on after it. A menu branch that ends carries on
//! after the menu; `repeat` goes back to the menu.

use crate::ast::{Block, Condition, Flow, Step, StepKind, Value, ValueKind};
use crate::plan::Plan;
use crate::source::{FileId, Span};
use std::collections::HashMap;

/// One flow as nodes and edges.
#[derive(Clone, Debug)]
pub struct FlowGraph {
    pub flow: String,
    /// The flow's name where it is defined.
    pub span: Span,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// A node of one graph: its index in `FlowGraph::nodes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub id: NodeId,
    pub kind: NodeKind,
    /// What the box says: the step as written (`play "goodbye"`), `if pin_ok(caller, pin)`,
    /// `flow voicemail_main`.
    pub label: String,
    /// Where it is written.
    pub span: Span,
    /// For a `goto` or `call` target: the flow it leads to, so the diagram can open it.
    pub flow: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// The flow's entry.
    Start,
    /// A step the flow goes on from.
    Step,
    Menu,
    /// One condition of an `if` (or `else if`): edges `yes` and `no`.
    Branch,
    /// `repeat N times`: an edge into its body, one out `after N`.
    Loop,
    /// Where the flow hands the call over: another flow, an extension, a queue, a
    /// mailbox, a trunk, the directory, a park orbit.
    Target,
    /// `hangup`, `back`, or the end of the flow.
    End,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Start => "start",
            NodeKind::Step => "step",
            NodeKind::Menu => "menu",
            NodeKind::Branch => "branch",
            NodeKind::Loop => "loop",
            NodeKind::Target => "target",
            NodeKind::End => "end",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    /// A menu key (`1`), `timeout`, `invalid`, `retries 3`, `yes`/`no`, `repeat`,
    /// `busy or no answer`, ...; `None` for plain "then".
    pub label: Option<String>,
}

/// The graph of the flow named `name`, if the plan has it.
pub fn flow_graph(plan: &Plan, name: &str) -> Option<FlowGraph> {
    plan.flow(name).map(|f| build(plan, f))
}

/// The flow whose definition spans `line` (1-based) of `file`.
pub fn flow_at(plan: &Plan, file: FileId, line: u32) -> Option<&Flow> {
    let source = plan.sources.get(file);
    plan.flows.iter().find(|f| {
        f.span.file == file
            && source.line_col(f.span.start as usize).line <= line
            && line <= source.line_col(f.span.end as usize).line
    })
}

/// The graph of one of the plan's flows.
pub fn build(plan: &Plan, flow: &Flow) -> FlowGraph {
    let mut b = Builder {
        plan,
        nodes: Vec::new(),
        edges: Vec::new(),
        targets: HashMap::new(),
        menus: Vec::new(),
        finished: Vec::new(),
    };
    let mut label = format!("flow {}", flow.name.name);
    if !flow.params.is_empty() {
        let params: Vec<&str> = flow.params.iter().map(|p| p.name.as_str()).collect();
        label = format!("{label}({})", params.join(", "));
    }
    let start = b.node(NodeKind::Start, label, flow.name.span, None);
    let mut ends = b.block(&flow.body, vec![(start, None)]);
    ends.append(&mut b.finished);
    if !ends.is_empty() {
        // Running off the end of a flow hangs up (or returns from a `call`).
        let close = Span::new(
            flow.span.file,
            (flow.span.end as usize).saturating_sub(1),
            flow.span.end as usize,
        );
        let end = b.node(NodeKind::End, "end".into(), close, None);
        b.connect(ends, end);
    }
    FlowGraph {
        flow: flow.name.name.clone(),
        span: flow.name.span,
        nodes: b.nodes,
        edges: b.edges,
    }
}

/// Nodes waiting for what comes next, each with the label of the edge that will leave it.
type Ends = Vec<(NodeId, Option<String>)>;

struct Builder<'p> {
    plan: &'p Plan,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    /// Targets drawn so far, by label: two menu keys leading to `queue 800` meet there.
    targets: HashMap<String, NodeId>,
    /// The menus the steps being drawn sit in, innermost last, for `repeat`.
    menus: Vec<NodeId>,
    /// Ends of actions that run elsewhere and end the call when they end (an extension's
    /// `no_answer`), joined to the flow's end.
    finished: Ends,
}

impl Builder<'_> {
    fn node(&mut self, kind: NodeKind, label: String, span: Span, flow: Option<String>) -> NodeId {
        let id = NodeId(self.nodes.len());
        self.nodes.push(Node {
            id,
            kind,
            label,
            span,
            flow,
        });
        id
    }

    fn connect(&mut self, ends: Ends, to: NodeId) {
        for (from, label) in ends {
            self.edges.push(Edge { from, to, label });
        }
    }

    fn block(&mut self, block: &Block, mut ends: Ends) -> Ends {
        for step in &block.steps {
            ends = self.step(step, ends);
        }
        ends
    }

    fn step(&mut self, step: &Step, ends: Ends) -> Ends {
        let written = self.first_line(step.span);
        match &step.kind {
            StepKind::Menu(menu) => {
                let id = self.node(NodeKind::Menu, written, step.span, None);
                self.connect(ends, id);
                self.menus.push(id);
                let mut out = Vec::new();
                for key in &menu.keys {
                    out.extend(self.block(&key.action, vec![(id, Some(key.key.to_string()))]));
                }
                let retries = match menu.retries {
                    Some(n) => format!("retries {n}"),
                    None => "retries".to_string(),
                };
                for (action, label) in [
                    (&menu.on_timeout, "timeout".to_string()),
                    (&menu.on_invalid, "invalid".to_string()),
                    (&menu.on_retries_exhausted, retries),
                ] {
                    if let Some(action) = action {
                        out.extend(self.block(action, vec![(id, Some(label))]));
                    }
                }
                self.menus.pop();
                out
            }
            StepKind::If {
                branches,
                otherwise,
            } => {
                let mut out = Vec::new();
                let mut pending = ends;
                for (i, (condition, body)) in branches.iter().enumerate() {
                    let at = match (i, condition_span(condition)) {
                        (0, _) | (_, None) => step.span,
                        (_, Some(s)) => s,
                    };
                    let label = self.condition_line(at);
                    let id = self.node(NodeKind::Branch, label, at, None);
                    self.connect(pending, id);
                    out.extend(self.block(body, vec![(id, Some("yes".into()))]));
                    pending = vec![(id, Some("no".into()))];
                }
                match otherwise {
                    Some(block) => out.extend(self.block(block, pending)),
                    None => out.extend(pending),
                }
                out
            }
            StepKind::Loop { times, body } => {
                let id = self.node(NodeKind::Loop, written, step.span, None);
                self.connect(ends, id);
                let back = self.block(body, vec![(id, Some("each round".into()))]);
                self.connect(back, id);
                vec![(id, Some(format!("after {times}")))]
            }
            StepKind::Repeat => {
                if let Some(&menu) = self.menus.last() {
                    let ends = ends
                        .into_iter()
                        .map(|(from, label)| (from, label.or_else(|| Some("repeat".into()))))
                        .collect();
                    self.connect(ends, menu);
                }
                Vec::new()
            }
            StepKind::Hangup | StepKind::Back => {
                let id = self.node(NodeKind::End, written, step.span, None);
                self.connect(ends, id);
                Vec::new()
            }
            StepKind::Goto { flow, .. } => {
                let label = format!("flow {}", flow.name);
                self.target(label, step.span, Some(flow.name.clone()), ends);
                Vec::new()
            }
            StepKind::Call { flow, .. } => {
                // Comes back: a node of its own, so each call site goes on to its own next step.
                let label = format!("call {}", flow.name);
                let id = self.node(NodeKind::Target, label, step.span, Some(flow.name.clone()));
                self.connect(ends, id);
                vec![(id, None)]
            }
            StepKind::Extension { number, .. } => {
                let label = format!("extension {}", self.text(number.span));
                if let Some(id) = self.target(label, step.span, None, ends) {
                    self.after_extension(id, number);
                }
                Vec::new()
            }
            StepKind::Queue(number) => {
                let label = format!("queue {}", self.text(number.span));
                if let Some(id) = self.target(label, step.span, None, ends)
                    && let Some(queue) = number.literal().and_then(|n| self.plan.queue(&n))
                    && let Some(then) = &queue.then
                {
                    let ends = self.outside_menus(|graph| {
                        graph.block(then, vec![(id, Some("nobody answers".into()))])
                    });
                    self.finished.extend(ends);
                }
                Vec::new()
            }
            StepKind::Voicemail(mailbox) => {
                let label = format!("voicemail {}", self.text(mailbox.span));
                self.target(label, step.span, None, ends);
                Vec::new()
            }
            StepKind::Trunk { .. }
            | StepKind::Directory
            | StepKind::Park(_)
            | StepKind::Unpark(_)
            | StepKind::ParkToggle(_) => {
                self.target(written, step.span, None, ends);
                Vec::new()
            }
            _ => {
                let id = self.node(NodeKind::Step, written, step.span, None);
                self.connect(ends, id);
                vec![(id, None)]
            }
        }
    }

    /// Joins `ends` to the target labelled `label`, drawing it at `span` the first time.
    /// Returns the target when it is new (so what follows it is drawn once).
    fn target(
        &mut self,
        label: String,
        span: Span,
        flow: Option<String>,
        ends: Ends,
    ) -> Option<NodeId> {
        if let Some(&id) = self.targets.get(&label) {
            self.connect(ends, id);
            return None;
        }
        let id = self.node(NodeKind::Target, label.clone(), span, flow);
        self.targets.insert(label, id);
        self.connect(ends, id);
        Some(id)
    }

    /// What a rung extension leads to when it is busy or does not answer: its
    /// `no_answer`, else its voicemail, else the call ends (nothing drawn).
    fn after_extension(&mut self, target: NodeId, number: &Value) {
        let number = match &number.kind {
            ValueKind::Var(path) if path.len() == 1 && path[0] == "operator" => {
                self.plan.settings.operator.as_ref().map(|(n, _)| n.clone())
            }
            _ => number.literal(),
        };
        let Some(extension) = number.and_then(|n| self.plan.extension(&n)) else {
            return;
        };
        let label = Some("busy or no answer".to_string());
        if let Some(action) = &extension.options.no_answer {
            let ends = self.outside_menus(|graph| graph.block(action, vec![(target, label)]));
            self.finished.extend(ends);
        } else if extension.options.voicemail {
            let mailbox = format!("voicemail {}", extension.number);
            self.target(mailbox, extension.span, None, vec![(target, label)]);
        }
    }

    /// Draws a block written outside this flow (an extension's `no_answer`, a queue's
    /// `then`): a `repeat` there belongs to no menu of the flow, so none is open while it
    /// is drawn.
    fn outside_menus<T>(&mut self, draw: impl FnOnce(&mut Self) -> T) -> T {
        let menus = std::mem::take(&mut self.menus);
        let drawn = draw(self);
        self.menus = menus;
        drawn
    }

    /// The source text of a span.
    fn text(&self, span: Span) -> String {
        self.plan.sources.get(span.file).text[span.range()].to_string()
    }

    /// The first line of a step as written, without the `{` that opens its block.
    fn first_line(&self, span: Span) -> String {
        let text = self.text(span);
        let line = text.lines().next().unwrap_or_default().trim();
        line.trim_end_matches('{').trim_end().to_string()
    }

    /// An `if`'s or `else if`'s line as `if CONDITION`.
    fn condition_line(&self, at: Span) -> String {
        let source = self.plan.sources.get(at.file);
        let line = source.line_text(source.line_col(at.start as usize).line);
        let line = line.trim().trim_start_matches('}').trim_start();
        let line = line.strip_prefix("else").map_or(line, str::trim_start);
        // A trailing comment is not part of the condition.
        let line = without_comment(line).trim_end();
        line.trim_end_matches('{').trim_end().to_string()
    }
}

/// `line` up to its `#` comment, if any: a `#` inside a string (`"…"`, where `\"` does
/// not end it) or a back-quoted expression is text, not a comment.
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '`' => quote = Some(c),
            None if c == '#' => return &line[..i],
            None => {}
        }
    }
    line
}

/// Where a condition is written: from its first value to its last.
fn condition_span(c: &Condition) -> Option<Span> {
    match c {
        Condition::Or(cs) | Condition::And(cs) => {
            cs.iter().filter_map(condition_span).reduce(|a, b| a.to(b))
        }
        Condition::Not(c) => condition_span(c),
        Condition::Compare { left, right, .. } => Some(left.span.to(right.span)),
        Condition::Script(v) | Condition::Call(v) => Some(v.span),
    }
}

#[cfg(test)]
mod tests;
