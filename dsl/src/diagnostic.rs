//! What the checker tells the admin: errors and warnings with a place, a label and a hint.

use crate::source::Span;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding. `code` is a stable kebab-case name (`unknown-flow`, `route-overlap`) that
/// tests and the editor can match on; `message` is the sentence the admin reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    pub label: String,
    /// Other places that explain this one (the first definition of a duplicate, say).
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            related: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The units the grammar's `duration` rule accepts, for every message about durations.
pub const DURATION_UNITS: &str =
    "a duration is a number with a unit: ms, s, m or h (500ms, 20s, 2m, 1h)";

/// Findings that arise in several places (options, steps, the grammar) and must read the
/// same wherever they do.
impl Diagnostic {
    /// An option or step the language reads but the engine does not carry out yet: refused,
    /// so a plan never says something happens that does not. `coming_with` names the work
    /// that will bring it, when there is one.
    pub fn not_supported(
        span: Span,
        message: String,
        coming_with: Option<&str>,
        instead: &str,
    ) -> Diagnostic {
        let label = match coming_with {
            Some(issue) => format!("not supported yet (coming with {issue})"),
            None => "not supported yet".to_string(),
        };
        Diagnostic::error("not-supported", span, message)
            .label(label)
            .help(instead.to_string())
    }

    /// A word that is not one of a closed set of values: did-you-mean, and always the list.
    pub fn not_one_of<'a>(
        span: Span,
        word: &str,
        what: &str,
        valid: impl Iterator<Item = &'a str> + Clone,
    ) -> Diagnostic {
        let list = valid.clone().collect::<Vec<_>>().join(", ");
        let help = match crate::suggest::did_you_mean(word, valid) {
            Some(s) => format!("did you mean `{s}`? (one of: {list})"),
            None => format!("write one of: {list}"),
        };
        Diagnostic::error("bad-option", span, format!("`{word}` is not a {what}"))
            .label(format!("not a {what}"))
            .help(help)
    }

    /// A bare number where a duration belongs: `ring 20`. Which unit was meant is a guess,
    /// so the help offers the likely ones written out with the admin's own number.
    pub fn no_unit(number: &str, span: Span, code: &'static str) -> Diagnostic {
        Diagnostic::error(code, span, format!("`{number}` has no unit"))
            .label("a duration needs a unit")
            .help(format!(
                "a duration needs a unit: {number}s, {number}m or {number}h (or {number}ms)"
            ))
    }
}

/// Collects diagnostics while compiling; compiling never stops at the first one.
#[derive(Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    /// Sorted by file and position, so output is stable whatever order checks ran in.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.list
            .sort_by_key(|d| (d.span.file, d.span.start, d.span.end, d.severity, d.code));
        self.list.dedup();
        self.list
    }
}
