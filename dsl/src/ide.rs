//! What an editor asks about a plan: what is at a place, what may be typed there, where a
//! name is defined, what a word means, and the outline of a file.
//!
//! Sans-IO, like the rest of `dsl`: the caller hands in the plan's sources (with the
//! editor's unsaved text already in them) and its prompt catalog, and gets back byte
//! spans; `position` converts them to the editor's lines and UTF-16 columns. It lives
//! here rather than in `editor/` because it is knowledge of the language, read off the
//! same reader and verb tables the checker uses, and both of its users — `switchboard
//! lsp` and the web editor — depend on `dsl` already, while the language server has no
//! use for the web app.

pub mod cursor;
pub mod position;
mod symbols;

pub use position::{Position, offset, position, range};
pub use symbols::{Symbol, SymbolKind};

use crate::ast::Ast;
use crate::check::BUILTIN_VARIABLES;
use crate::prompts::PromptCatalog;
use crate::read::{FLOW_VERBS, TEST_VERBS};
use crate::source::{FileId, Sources, Span};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The kinds of name a reference can be, told by the word before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Flow,
    Extension,
    Queue,
    Trunk,
    Prompt,
    Variable,
    /// A step's verb (`answer`, `goto`) or a test step's (`press`).
    StepWord,
}

/// One thing that may be typed at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: NameKind,
    /// For a step word, its usage line; for a name, what it is (`queue 800 "Sales"`).
    pub detail: Option<String>,
}

/// What the cursor is on, said in a sentence, and the span of the word it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub text: String,
    pub span: Span,
}

/// A plan read for an editor. Built afresh on every change: reading a plan is cheap next
/// to checking it, and a stale index would point at places that moved.
pub struct Analysis {
    sources: Arc<Sources>,
    ast: Ast,
    prompts: BTreeSet<String>,
}

impl Analysis {
    /// Reads every file; a file that does not parse still gives the items that do, so
    /// names stay known while the admin is typing a broken line.
    pub fn new(sources: Arc<Sources>, prompts: &PromptCatalog) -> Analysis {
        let mut ast = Ast::default();
        // The diagnostics are `compile`'s to report; here only the tree is wanted.
        let mut ignored = Vec::new();
        for (id, file) in sources.iter() {
            if file.invalid_utf8_at.is_some() {
                continue;
            }
            for piece in crate::syntax::parse_file(id, &file.text, &mut ignored, &mut ast.broken) {
                crate::read::read_piece(piece, id, &mut ast, &mut ignored);
            }
        }
        let prompts = prompts
            .languages
            .values()
            .flat_map(|names| names.iter().cloned())
            .collect();
        Analysis {
            sources,
            ast,
            prompts,
        }
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// What may be typed at `offset`: the names of the kind the word before asks for, or
    /// at the start of a step its verbs; elsewhere variables. Filtered by what is typed.
    pub fn completions(&self, file: FileId, offset: usize) -> Vec<Completion> {
        let text = &self.sources.get(file).text;
        let cur = cursor::at(text, offset);
        let typed = completion_prefix(&cur, offset);
        let mut out = match reference_kind(cur.previous(), self.in_test(file, offset)) {
            Some(kind) => self.names(kind),
            None if cur.at_step_start() => {
                let mut words = self.step_words(file, offset);
                words.extend(self.names(NameKind::Variable));
                words
            }
            None => self.names(NameKind::Variable),
        };
        out.retain(|c| c.label.starts_with(typed));
        out
    }

    /// Where what `completions` offers at `offset` starts: the completed word replaces
    /// the text from here to `offset`.
    pub fn completion_start(&self, file: FileId, offset: usize) -> usize {
        let text = &self.sources.get(file).text;
        let offset = cursor::floor(text, offset);
        offset - completion_prefix(&cursor::at(text, offset), offset).len()
    }

    /// Where the flow, extension, queue or trunk named at `offset` is defined.
    pub fn definition(&self, file: FileId, offset: usize) -> Option<Span> {
        let (kind, name, _) = self.name_at(file, offset)?;
        self.find(kind, name).map(|d| d.name_span)
    }

    /// A step word's usage line, or what a name refers to.
    pub fn hover(&self, file: FileId, offset: usize) -> Option<Hover> {
        let text = &self.sources.get(file).text;
        let cur = cursor::at(text, offset);
        let token = cur.token.clone()?;
        let span = Span::new(file, token.range.start, token.range.end);
        if cur.at_step_start() && !token.is_quoted() {
            let table = if self.in_test(file, offset) {
                TEST_VERBS
            } else {
                FLOW_VERBS
            };
            if let Some((verb, usage)) = table.iter().find(|(v, _)| *v == token.text) {
                return Some(Hover {
                    text: format!("`{verb}` step: {usage}"),
                    span,
                });
            }
        }
        let (kind, name, span) = self.name_at(file, offset)?;
        let def = self.find(kind, name)?;
        Some(Hover {
            text: format!(
                "{}, defined at {}",
                def.describe,
                self.sources.location(def.name_span)
            ),
            span,
        })
    }

    /// The flows, extensions, queues, trunks and tests of one file, in source order.
    pub fn symbols(&self, file: FileId) -> Vec<Symbol> {
        let mut out: Vec<Symbol> = symbols::all(&self.ast)
            .into_iter()
            .filter(|s| s.span.file == file)
            .collect();
        out.sort_by_key(|s| (s.span.start, s.name_span.start));
        out
    }

    /// The name at `offset` with its kind: told by the word before it, or else whichever
    /// kind of definition has that name.
    fn name_at(&self, file: FileId, offset: usize) -> Option<(NameKind, &str, Span)> {
        let text = &self.sources.get(file).text;
        let cur = cursor::at(text, offset);
        let token = cur.token.clone()?;
        let name = token.unquoted();
        let span = Span::new(file, token.range.start, token.range.end);
        let kinds = match reference_kind(cur.previous(), self.in_test(file, offset)) {
            Some(kind) => vec![kind],
            None => vec![
                NameKind::Flow,
                NameKind::Extension,
                NameKind::Queue,
                NameKind::Trunk,
            ],
        };
        let kind = kinds.into_iter().find(|&k| self.find(k, name).is_some())?;
        Some((kind, name, span))
    }

    fn find(&self, kind: NameKind, name: &str) -> Option<Symbol> {
        symbols::all(&self.ast)
            .into_iter()
            .find(|s| s.kind.names() == Some(kind) && s.names(name))
    }

    fn in_test(&self, file: FileId, offset: usize) -> bool {
        self.ast
            .tests
            .iter()
            .any(|t| t.span.file == file && t.span.range().contains(&offset))
    }

    fn step_words(&self, file: FileId, offset: usize) -> Vec<Completion> {
        let table = if self.in_test(file, offset) {
            TEST_VERBS
        } else {
            FLOW_VERBS
        };
        table
            .iter()
            .map(|(verb, usage)| Completion {
                label: verb.to_string(),
                kind: NameKind::StepWord,
                detail: Some(usage.to_string()),
            })
            .collect()
    }

    /// Every name of a kind the plan defines (or, for prompts, the catalog holds).
    fn names(&self, kind: NameKind) -> Vec<Completion> {
        let plain = |label: &str| Completion {
            label: label.to_string(),
            kind,
            detail: None,
        };
        let mut out: Vec<Completion> = match kind {
            NameKind::Prompt => self.prompts.iter().map(|p| plain(p)).collect(),
            NameKind::Variable => self.variables().iter().map(|v| plain(v)).collect(),
            NameKind::StepWord => Vec::new(),
            _ => symbols::all(&self.ast)
                .into_iter()
                .filter(|s| s.kind.names() == Some(kind))
                .map(|s| Completion {
                    label: s.reference,
                    kind,
                    detail: Some(s.describe),
                })
                .collect(),
        };
        out.sort_by(|a, b| a.label.cmp(&b.label));
        out.dedup_by(|a, b| a.label == b.label);
        out
    }

    /// The variables a step may read: the built-in ones, flow parameters, and every
    /// `set name` or `-> name` in the plan. Read off the text, so a variable set on a line
    /// that does not parse yet is offered too.
    fn variables(&self) -> BTreeSet<String> {
        let mut vars: BTreeSet<String> = BUILTIN_VARIABLES.iter().map(|v| v.to_string()).collect();
        for flow in &self.ast.flows {
            vars.extend(flow.params.iter().map(|p| p.name.clone()));
        }
        for (_, file) in self.sources.iter() {
            for line in file.text.lines() {
                let words: Vec<&str> = line
                    .split('#')
                    .next()
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect();
                for (i, pair) in words.windows(2).enumerate() {
                    // `-> name` ends a step that stores its result; `"1" -> queue 800` is
                    // a menu key's action, not a variable.
                    let defines = pair[0] == "set" || (pair[0] == "->" && i + 2 == words.len());
                    if defines && is_identifier(pair[1]) && !is_verb(pair[1]) {
                        vars.insert(pair[1].to_string());
                    }
                }
            }
        }
        vars
    }
}

/// What is typed of the word at the cursor, without an opening quote: what completion
/// filters on and replaces.
fn completion_prefix<'a>(cur: &cursor::Cursor<'a>, offset: usize) -> &'a str {
    cur.typed(offset).trim_start_matches('"')
}

/// The kind of name the word before the cursor asks for. In a test, `from` names the
/// calling extension and `call` does not name a flow.
fn reference_kind(previous: Option<&str>, in_test: bool) -> Option<NameKind> {
    Some(match previous? {
        "goto" | "flow" if !in_test => NameKind::Flow,
        "call" if !in_test => NameKind::Flow,
        "extension" | "voicemail" | "hot_desk_login" | "for" => NameKind::Extension,
        "from" if in_test => NameKind::Extension,
        "queue" | "queue_login" | "queue_logout" => NameKind::Queue,
        "trunk" => NameKind::Trunk,
        "play" | "menu" | "ask" => NameKind::Prompt,
        _ => return None,
    })
}

fn is_identifier(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn is_verb(word: &str) -> bool {
    FLOW_VERBS.iter().any(|(v, _)| *v == word)
}

#[cfg(test)]
mod tests;
