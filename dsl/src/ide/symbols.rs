//! The named things a plan defines, as an editor lists and finds them: flows, extensions,
//! queues, trunks and tests, each with the span of its name and of its whole item.

use super::NameKind;
use crate::ast::Ast;
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Flow,
    Extension,
    Queue,
    Trunk,
    Test,
}

impl SymbolKind {
    /// The kind of reference that names this symbol; a test is never referred to.
    pub fn names(self) -> Option<NameKind> {
        match self {
            SymbolKind::Flow => Some(NameKind::Flow),
            SymbolKind::Extension => Some(NameKind::Extension),
            SymbolKind::Queue => Some(NameKind::Queue),
            SymbolKind::Trunk => Some(NameKind::Trunk),
            SymbolKind::Test => None,
        }
    }
}

/// One definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub kind: SymbolKind,
    /// How an outline shows it: `main_menu`, `100 Front Desk`, `an external call…`.
    pub name: String,
    /// What a step writes to refer to it: the flow's name, the number, the trunk's name.
    pub reference: String,
    /// A phrase saying what it is, for hover and completion detail.
    pub describe: String,
    /// The whole item.
    pub span: Span,
    /// The name (or number) in its definition: where "go to definition" lands.
    pub name_span: Span,
}

impl Symbol {
    /// True if a reference written `name` means this symbol.
    pub fn names(&self, name: &str) -> bool {
        self.reference == name
    }
}

/// Every definition in the plan, in the AST's order (per kind, then source order).
pub fn all(ast: &Ast) -> Vec<Symbol> {
    let mut out = Vec::new();
    for f in &ast.flows {
        let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
        let signature = if params.is_empty() {
            f.name.name.clone()
        } else {
            format!("{}({})", f.name.name, params.join(", "))
        };
        out.push(Symbol {
            kind: SymbolKind::Flow,
            name: f.name.name.clone(),
            reference: f.name.name.clone(),
            describe: format!("flow {signature}"),
            span: f.span,
            name_span: f.name.span,
        });
    }
    for e in &ast.extensions {
        out.push(numbered(
            SymbolKind::Extension,
            "extension",
            &e.number,
            e.name.as_deref(),
            e.span,
            e.number_span,
        ));
    }
    for q in &ast.queues {
        out.push(numbered(
            SymbolKind::Queue,
            "queue",
            &q.number,
            q.name.as_deref(),
            q.span,
            q.number_span,
        ));
    }
    for t in &ast.trunks {
        let name = t.name.name.trim_matches('"').to_string();
        let host = t
            .host
            .as_deref()
            .map(|h| format!(" at {h}"))
            .unwrap_or_default();
        out.push(Symbol {
            kind: SymbolKind::Trunk,
            describe: format!("trunk \"{name}\"{host}"),
            reference: name.clone(),
            name,
            span: t.span,
            name_span: t.name.span,
        });
    }
    for t in &ast.tests {
        out.push(Symbol {
            kind: SymbolKind::Test,
            name: t.name.clone(),
            reference: t.name.clone(),
            describe: format!("test \"{}\"", t.name),
            span: t.span,
            name_span: t.span,
        });
    }
    out
}

fn numbered(
    kind: SymbolKind,
    word: &str,
    number: &str,
    name: Option<&str>,
    span: Span,
    number_span: Span,
) -> Symbol {
    let (shown, describe) = match name {
        Some(n) => (format!("{number} {n}"), format!("{word} {number} \"{n}\"")),
        None => (number.to_string(), format!("{word} {number}")),
    };
    Symbol {
        kind,
        name: shown,
        reference: number.to_string(),
        describe,
        span,
        name_span: number_span,
    }
}
