//! `script` blocks: compiled with Rhai (errors placed in the `.dial` file) and, when they
//! take no parameters, run once on a sample call so an endless loop is caught at check
//! time instead of during a call.

use crate::ast::Ast;
use crate::diagnostic::Diagnostic;
use crate::plan::Script;
use crate::script::{CallView, ScriptHost};

pub fn compile_scripts(ast: &Ast, host: &ScriptHost, diags: &mut Vec<Diagnostic>) -> Vec<Script> {
    let mut out = Vec::new();
    for s in &ast.scripts {
        let params: Vec<String> = s.params.iter().map(|p| p.name.clone()).collect();
        match host.compile_script(&s.code, s.code_span, &params) {
            Ok(compiled) => {
                if params.is_empty()
                    && let Err(e) =
                        host.run(&compiled, &s.code, s.code_span, &[], &CallView::default())
                    && e.limit
                {
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
