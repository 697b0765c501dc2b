//! The reader: where in which file a piece sits, and the diagnostics reading it finds.

use crate::ast::Ident;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use crate::syntax::{Rule, span_of};
use pest::iterators::Pair;

/// Reads pest pairs into the AST, reporting wrong words with their fix.
pub struct Reader<'d> {
    pub file: FileId,
    pub offset: usize,
    pub diags: &'d mut Vec<Diagnostic>,
    /// Variables that steps written wrong would have defined (`ask ... -> pin` with a bad
    /// word): added to `Ast::broken`, so their uses are not each reported as unknown.
    pub broken: Vec<String>,
}

impl Reader<'_> {
    pub fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        span_of(self.file, self.offset, pair)
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }
}
