//! `script` blocks: compiled with Rhai (errors placed in the `.dial` file), every function
//! they call looked up in the sandbox, and run on the sample calls, so a type error, an
//! unknown function or an endless loop is caught at check time instead of during a call.

use crate::ast::Ast;
use crate::diagnostic::Diagnostic;
use crate::plan::Script;
use crate::script::ScriptHost;

pub fn compile_scripts(ast: &Ast, host: &ScriptHost, diags: &mut Vec<Diagnostic>) -> Vec<Script> {
    let mut out = Vec::new();
    for s in &ast.scripts {
        let params: Vec<String> = s.params.iter().map(|p| p.name.clone()).collect();
        match host.compile_script(&s.code, s.code_span, &params) {
            Ok(compiled) => {
                let unknown = host.unknown_functions(&compiled, &s.code, s.code_span);
                if !unknown.is_empty() {
                    diags.extend(unknown);
                } else if let Some(e) = host.dry_run(&compiled, &s.code, s.code_span, &params) {
                    diags.push(
                        e.to_diagnostic(&format!("script `{}`", s.name.name))
                            .related(s.name.span, "in this script, run on a sample call"),
                    );
                }
                out.push(Script {
                    script: s.clone(),
                    ast: compiled,
                });
            }
            Err(d) => diags.push(*d),
        }
    }
    out
}
