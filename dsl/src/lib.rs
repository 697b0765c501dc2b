//! The dialplan language: text in, a checked `Plan` and every diagnostic out.
//!
//! `compile` is the one way to a plan, for `switchboard check`, the server and the editor
//! alike. It never stops at the first mistake and never touches the file system: the
//! caller hands it the sources and the catalog of recorded prompts.

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod duration;
pub mod flow_graph;
pub mod ide;
pub mod ir;
pub mod lower;
pub mod pattern;
pub mod plan;
pub mod prompts;
pub mod read;
pub mod render;
pub mod route_table;
pub mod script;
pub mod settings;
pub mod source;
pub mod suggest;
pub mod syntax;

pub use diagnostic::{Diagnostic, Severity};
pub use plan::Plan;
pub use prompts::PromptCatalog;
pub use source::{FileId, SourceFile, Sources, Span};

use std::sync::Arc;

/// What `compile` produced: the plan when there were no errors, and every finding.
pub struct Compiled {
    pub plan: Option<Arc<Plan>>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Arc<Sources>,
}

impl Compiled {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Findings after which a whole file is missing from the plan.
const UNREADABLE_FILE: &[&str] = &["not-utf8", "file-too-large", "nesting-too-deep"];

/// Findings that are only true if every file was read: a name is unknown, the operator is
/// not set, a flow is unused. They are dropped when a file could not be read, because what
/// they miss may be in that file.
const DEPENDS_ON_EVERY_FILE: &[&str] = &[
    "unknown-flow",
    "unknown-extension",
    "unknown-queue",
    "unknown-trunk",
    "unknown-orbit",
    "unknown-script",
    "unknown-variable",
    "unknown-device",
    "unknown-name",
    "wrong-arguments",
    "no-operator",
    "unreachable-flow",
];

/// Parses, checks and indexes every file of a plan.
pub fn compile(sources: Sources, prompts: &PromptCatalog) -> Compiled {
    let sources = Arc::new(sources);
    let mut diags = Vec::new();
    let mut ast = ast::Ast::default();
    for (id, file) in sources.iter() {
        if let Some(at) = file.invalid_utf8_at {
            diags.push(
                Diagnostic::error(
                    "not-utf8",
                    Span::new(id, at, at + char::REPLACEMENT_CHARACTER.len_utf8()),
                    "this file is not UTF-8 text",
                )
                .label("the first byte that is not UTF-8")
                .help("save the file as UTF-8 in your editor"),
            );
            continue;
        }
        for piece in syntax::parse_file(id, &file.text, &mut diags, &mut ast.broken) {
            read::read_piece(piece, id, &mut ast, &mut diags);
        }
    }
    let unreadable = diags.iter().any(|d| UNREADABLE_FILE.contains(&d.code));
    let plan = check::check(ast, &sources, prompts, &mut diags);
    let mut all = diagnostic::Diagnostics::default();
    for d in diags {
        // Anything can be defined in a file that could not be read, so a name that looks
        // unknown may well be defined there: the one finding about the file is the cause.
        if unreadable && DEPENDS_ON_EVERY_FILE.contains(&d.code) {
            continue;
        }
        all.push(d);
    }
    let has_errors = all.has_errors();
    Compiled {
        plan: if has_errors {
            None
        } else {
            Some(Arc::new(plan))
        },
        diagnostics: all.into_sorted(),
        sources,
    }
}
