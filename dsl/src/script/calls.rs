//! Every function a script calls must exist in the sandbox: checked on the compiled
//! script, before it ever runs, so a name on a branch the sample calls never take is still
//! caught where it is written.

use rhai::{AST, ASTNode, Expr, Position, Stmt};
use std::collections::BTreeSet;

/// A call to a function the sandbox does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCall {
    pub name: String,
    pub position: Position,
    /// Called as a method (`x.name()`), not as a function.
    pub method: bool,
}

/// The calls in `ast` to functions that are neither in `known` nor defined by the script
/// itself, in source order.
pub fn unknown_calls(ast: &AST, known: &BTreeSet<String>) -> Vec<UnknownCall> {
    let own: BTreeSet<&str> = ast.iter_functions().map(|f| f.name).collect();
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        let (call, position, method) = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) => (call, *pos, false),
            Some(ASTNode::Stmt(Stmt::FnCall(call, pos))) => (call, *pos, false),
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => (call, *pos, true),
            _ => return true,
        };
        let name = call.name.as_str();
        // Operators (`+`, `==`) and Rhai's own keywords (`type_of`, `Fn`, `is_def_var`)
        // are resolved by the engine itself, never by name lookup.
        let builtin = call.is_operator_call() || RHAI_KEYWORDS.contains(&name);
        if !builtin && !known.contains(name) && !own.contains(name) {
            found.push(UnknownCall {
                name: name.to_string(),
                position,
                method,
            });
        }
        true
    });
    found.sort_by_key(|c| (c.position.line(), c.position.position()));
    found
}

/// Function-like words the engine answers itself, whatever packages it has.
const RHAI_KEYWORDS: &[&str] = &[
    "type_of",
    "is_def_var",
    "is_def_fn",
    "is_shared",
    "Fn",
    "call",
    "curry",
    "this",
];
