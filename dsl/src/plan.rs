//! The checked plan: every table indexed, every pattern and script compiled.
//!
//! A `Plan` is immutable and shared by `Arc`: a call keeps the plan it started with while
//! a reload builds the next one beside it.

use crate::ast::{
    self, ChatRoute, Device, Extension, Flow, Inbound, Queue, Test, Trunk, TrunkTrust,
};
use crate::ir::Program;
use crate::route_table::RouteTable;
use crate::script::ScriptHost;
use crate::settings::Settings;
use crate::source::{Sources, Span};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::route_table::Route;

pub struct Plan {
    pub settings: Settings,
    pub extensions: Vec<Extension>,
    pub queues: Vec<Queue>,
    pub orbits: Vec<String>,
    pub devices: Vec<Device>,
    pub trunks: Vec<Trunk>,
    pub routes: Vec<Route>,
    /// The dial routes indexed by prefix, for finding a dialled number's routes fast.
    pub route_table: RouteTable,
    pub inbound: Vec<Inbound>,
    pub chats: Vec<ChatRoute>,
    pub flows: Vec<Flow>,
    pub scripts: Vec<Script>,
    pub tests: Vec<Test>,
    /// Back-quoted conditions and values, compiled, by the span of their code.
    pub expressions: HashMap<Span, rhai::AST>,
    pub host: Arc<ScriptHost>,
    pub sources: Arc<Sources>,
    /// The flows and route actions lowered for the call engine.
    pub program: Program,
    index: Index,
}

pub struct Script {
    pub script: ast::Script,
    pub ast: rhai::AST,
}

#[derive(Default)]
struct Index {
    extensions: HashMap<String, usize>,
    queues: HashMap<String, usize>,
    flows: HashMap<String, usize>,
    scripts: HashMap<String, usize>,
    trunks: HashMap<String, usize>,
}

/// The parts `check` hands over once it has validated them, and the program they were
/// lowered to.
pub struct Parts {
    pub settings: Settings,
    pub ast: ast::Ast,
    pub routes: Vec<Route>,
    pub scripts: Vec<Script>,
    pub expressions: HashMap<Span, rhai::AST>,
    pub host: Arc<ScriptHost>,
    pub sources: Arc<Sources>,
    pub program: Program,
}

impl Plan {
    pub fn new(p: Parts) -> Plan {
        let ast = p.ast;
        let mut index = Index::default();
        for (i, e) in ast.extensions.iter().enumerate() {
            index.extensions.entry(e.number.clone()).or_insert(i);
        }
        for (i, q) in ast.queues.iter().enumerate() {
            index.queues.entry(q.number.clone()).or_insert(i);
        }
        for (i, f) in ast.flows.iter().enumerate() {
            index.flows.entry(f.name.name.clone()).or_insert(i);
        }
        for (i, s) in p.scripts.iter().enumerate() {
            index.scripts.entry(s.script.name.name.clone()).or_insert(i);
        }
        for (i, t) in ast.trunks.iter().enumerate() {
            index.trunks.entry(t.name.name.clone()).or_insert(i);
        }
        Plan {
            settings: p.settings,
            extensions: ast.extensions,
            queues: ast.queues,
            orbits: ast.orbits.into_iter().map(|o| o.name).collect(),
            devices: ast.devices,
            trunks: ast.trunks,
            route_table: RouteTable::new(&p.routes),
            routes: p.routes,
            inbound: ast.inbound,
            chats: ast.chats,
            flows: ast.flows,
            scripts: p.scripts,
            tests: ast.tests,
            expressions: p.expressions,
            host: p.host,
            sources: p.sources,
            program: p.program,
            index,
        }
    }

    pub fn extension(&self, number: &str) -> Option<&Extension> {
        self.index
            .extensions
            .get(number)
            .map(|&i| &self.extensions[i])
    }

    /// Whether `user` may sign in to SIP: an extension's number, or a hot-desk device's
    /// MAC (in any case). Nobody else may, whatever passwords a store holds.
    pub fn is_sip_user(&self, user: &str) -> bool {
        self.extension(user).is_some()
            || self
                .devices
                .iter()
                .any(|d| d.mac.eq_ignore_ascii_case(user))
    }

    /// The trunk whose calls sign in as `user` (its `inbound_user`).
    pub fn trunk_of_user(&self, user: &str) -> Option<&Trunk> {
        self.trunks
            .iter()
            .find(|t| matches!(&t.trust, TrunkTrust::Digest { user: u } if u.name == user))
    }

    pub fn queue(&self, number: &str) -> Option<&Queue> {
        self.index.queues.get(number).map(|&i| &self.queues[i])
    }

    pub fn flow(&self, name: &str) -> Option<&Flow> {
        self.index.flows.get(name).map(|&i| &self.flows[i])
    }

    pub fn script(&self, name: &str) -> Option<&Script> {
        self.index.scripts.get(name).map(|&i| &self.scripts[i])
    }

    pub fn trunk(&self, name: &str) -> Option<&Trunk> {
        self.index.trunks.get(name).map(|&i| &self.trunks[i])
    }

    /// `path:line` of a span, for traces.
    pub fn location(&self, span: Span) -> String {
        self.sources.location(span)
    }
}
