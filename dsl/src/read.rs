//! Reading: the parse tree of one piece of a file into the syntax tree (`ast.rs`).
//!
//! The files below depend on each other downward only, in this order:
//! `reader` (the shared context and its diagnostics) ← `values` (values, text with
//! `{vars}`, durations) ← `conditions` ← `words` (a step's verb and words, and the cursor
//! a verb reads them with) ← `steps` (flow verbs) ← `test_steps` (test verbs) ← `blocks`
//! (blocks, actions, `if`, `repeat`, menus) ← `options` ← `chat` ← `items` (one function
//! per top-level item kind).

mod blocks;
mod chat;
mod conditions;
mod items;
mod options;
mod reader;
mod steps;
mod test_steps;
mod values;
mod words;

pub use chat::is_us_e164;
pub use reader::Reader;
pub use steps::FLOW_VERBS;
pub use test_steps::{FAR_END_PHRASES, PhraseError, PhraseWord, TEST_VERBS, far_end_phrase};
pub use values::parse_duration;
pub use words::StepContext;

use crate::ast::Ast;
use crate::diagnostic::Diagnostic;
use crate::source::FileId;
use crate::syntax::Piece;

/// Adds the items of one parsed piece to `ast`.
pub fn read_piece(piece: Piece<'_>, file: FileId, ast: &mut Ast, diags: &mut Vec<Diagnostic>) {
    let mut r = Reader {
        file,
        offset: piece.offset,
        diags,
        broken: Vec::new(),
    };
    for item in piece.items {
        items::read_item(&mut r, item, ast);
    }
    ast.broken.extend(r.broken);
}
