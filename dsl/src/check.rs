//! Meaning checks over the whole plan, all reported in one run.
//!
//! Each concern lives in its own file: `names` (definitions, duplicates, MACs), `routes`
//! (patterns, overlaps, shadowing, feature codes), `captures` (the orbits and queues a
//! route's captures can name), `refs` (every name and prompt used in a
//! step), `scripts` (Rhai compile and dry run), `reach` (flows nothing leads to),
//! `busy_loops` (flows that can go round without waiting for the caller) and `pins`
//! (PINs written in clear).

mod busy_loops;
mod captures;
mod names;
mod pins;
mod reach;
mod refs;
mod routes;
mod scripts;

use crate::ast::Ast;
use crate::diagnostic::Diagnostic;
use crate::lower;
use crate::plan::{Parts, Plan};
use crate::prompts::PromptCatalog;
use crate::script::ScriptHost;
use crate::source::Sources;
use std::sync::Arc;

pub use names::{BUILTIN_VARIABLES, Symbols};

pub fn check(
    ast: Ast,
    sources: &Arc<Sources>,
    prompts: &PromptCatalog,
    diags: &mut Vec<Diagnostic>,
) -> Plan {
    let settings = crate::settings::read(&ast.settings, diags);
    let symbols = names::collect(&ast, &settings, prompts, diags);
    let routes = routes::check(&ast, &symbols, diags);
    captures::check(&ast, &symbols, diags);
    let host = Arc::new(ScriptHost::for_plan(symbols.variables.iter().cloned()));
    let scripts = scripts::compile_scripts(&ast, &host, diags);
    let expressions = refs::check(&ast, &symbols, &settings, prompts, &host, diags);
    reach::check(&ast, diags);
    busy_loops::check(&ast, diags);
    pins::check(&ast, diags);
    let program = lower::lower(&lower::Input::new(&ast, &routes, &scripts, sources));
    Plan::new(Parts {
        settings,
        ast,
        routes,
        scripts,
        expressions,
        host,
        sources: sources.clone(),
        program,
    })
}
