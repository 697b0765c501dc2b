//! Rhai, the language of computed decisions, held on a short leash.
//!
//! Scripts decide; they never play, wait, dial or touch files. Each one sees a read-only
//! view of the call (`caller`, `dialled`, `time`, `vars`, and `msg` for chats) and runs in
//! a closed sandbox (`sandbox`: no clock, no sleep, no printing, no modules) under limits
//! on operations, call depth, expression depth, string, array and map sizes, variables and
//! functions, so an endless loop ends in a diagnostic, never a hung call.
//!
//! The checker's promise — what passes `check` does not fail at run time because of the
//! plan — rests on three things here: every function a script calls is known before it
//! runs (`calls`), every script is tried on sample calls that cover every kind of value it
//! can see (`samples`), and Rhai's own words are turned into the admin's (`messages`).

mod calls;
mod messages;
pub mod samples;
pub mod sandbox;
mod view;

pub use sandbox::MAX_OPERATIONS;
pub use view::{CallView, WallTime};

use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::suggest::did_you_mean;
use rhai::{AST, Dynamic, Engine, EvalAltResult, Position, Scope};
use std::collections::BTreeSet;
use view::{string_map, view_caller, view_time};

/// The names a script can read besides its own parameters.
pub const VIEW_NAMES: &[&str] = &["caller", "dialled", "time", "vars", "msg"];

/// The sandboxed Rhai engine, shared by all scripts of a plan.
pub struct ScriptHost {
    engine: Engine,
    /// Every function a script may call, for the static check and "did you mean".
    functions: BTreeSet<String>,
    /// Every variable the plan defines: `vars` always holds each of them (empty until
    /// set), so `vars.x` for a variable of the plan never fails on a path that did not
    /// set it, while a misspelt one fails on every call — and so in the check.
    variables: Vec<String>,
}

impl Default for ScriptHost {
    fn default() -> ScriptHost {
        ScriptHost::new()
    }
}

/// A script that failed while running, placed in the `.dial` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub message: String,
    pub span: Span,
    /// The run hit a limit (operations, depth, size) rather than a plain error.
    pub limit: bool,
    /// The failure comes from the script's own text whatever the call (a type error, an
    /// unknown property), not from one call's data (a division by zero, say).
    pub by_the_script: bool,
}

impl ScriptError {
    pub fn to_diagnostic(&self, what: &str) -> Diagnostic {
        Diagnostic::error("script-error", self.span, format!("{what} failed: {}", self.message))
            .label(if self.limit { "stopped here" } else { "failed here" })
            .help(if self.limit {
                format!(
                    "a script may take at most {MAX_OPERATIONS} operations; look for a loop that never ends"
                )
            } else {
                messages::run_help(&self.message)
            })
    }
}

impl ScriptHost {
    /// A host for scripts that see no plan variables (tests, tools).
    pub fn new() -> ScriptHost {
        ScriptHost::for_plan(std::iter::empty::<String>())
    }

    /// The host of a plan that defines `variables`.
    pub fn for_plan(variables: impl IntoIterator<Item = impl Into<String>>) -> ScriptHost {
        let engine = sandbox::engine();
        let functions = sandbox::function_names(&engine);
        let mut variables: Vec<String> = variables.into_iter().map(Into::into).collect();
        variables.sort();
        variables.dedup();
        ScriptHost {
            engine,
            functions,
            variables,
        }
    }

    /// The plan variables every script's `vars` holds.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Tries compiled code on every sample call (`samples::calls`), its parameters given
    /// each sample value in turn. Returns the failure that the check must report: the
    /// first that comes from the script's own text, or one that happens on every sample.
    pub fn dry_run(
        &self,
        ast: &AST,
        code: &str,
        code_span: Span,
        params: &[String],
    ) -> Option<ScriptError> {
        let samples = samples::calls(self.variables.iter().map(String::as_str));
        let mut first_failure = None;
        let mut failures = 0;
        for (i, view) in samples.iter().enumerate() {
            let value = samples::PARAMETER_SAMPLES[i % samples::PARAMETER_SAMPLES.len()];
            let bound: Vec<(String, Dynamic)> = params
                .iter()
                .map(|p| (p.clone(), Dynamic::from(value.to_string())))
                .collect();
            if let Err(e) = self.run(ast, code, code_span, &bound, view) {
                if e.limit || e.by_the_script {
                    return Some(e);
                }
                failures += 1;
                first_failure.get_or_insert(e);
            }
        }
        if failures == samples.len() {
            first_failure
        } else {
            None
        }
    }

    /// Every function a script may call, by name.
    pub fn functions(&self) -> &BTreeSet<String> {
        &self.functions
    }

    /// One diagnostic per call in `ast` to a function the sandbox does not have, placed
    /// where it is written, with what to write instead.
    pub fn unknown_functions(&self, ast: &AST, code: &str, code_span: Span) -> Vec<Diagnostic> {
        calls::unknown_calls(ast, &self.functions)
            .into_iter()
            .map(|call| {
                let span = place(code, code_span, call.position);
                let span = Span {
                    end: span.start + call.name.len() as u32,
                    ..span
                };
                let help = match sandbox::left_out(&call.name) {
                    Some(help) => help.to_string(),
                    None => match did_you_mean(&call.name, self.functions.iter().map(String::as_str))
                    {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => "scripts can call Rhai's text, number, array and map functions; see docs/language.md, section Scripts".to_string(),
                    },
                };
                let message = match sandbox::left_out(&call.name) {
                    Some(_) => format!("`{}` is not available in scripts", call.name),
                    None if call.method => format!("Rhai has no method `{}`", call.name),
                    None => format!("Rhai has no function `{}`", call.name),
                };
                Diagnostic::error("script-error", span, message)
                    .label("unknown function")
                    .help(help)
            })
            .collect()
    }

    fn compile_scope(params: &[String]) -> Scope<'static> {
        let mut scope = Scope::new();
        for name in VIEW_NAMES {
            scope.push_constant(*name, Dynamic::UNIT);
        }
        for p in params {
            scope.push(p.clone(), Dynamic::UNIT);
        }
        scope
    }

    /// Compiles a `script` block's body; `code_span` is where the body starts in its file.
    pub fn compile_script(
        &self,
        code: &str,
        code_span: Span,
        params: &[String],
    ) -> Result<AST, Box<Diagnostic>> {
        let scope = Self::compile_scope(params);
        self.engine
            .compile_with_scope(&scope, code)
            .map_err(|e| parse_diagnostic(code, code_span, e.position(), e.0.to_string()))
    }

    /// Compiles a back-quoted expression; `code_span` covers the text between the quotes.
    pub fn compile_expression(&self, code: &str, code_span: Span) -> Result<AST, Box<Diagnostic>> {
        let scope = Self::compile_scope(&[]);
        self.engine
            .compile_expression_with_scope(&scope, code)
            .map_err(|e| parse_diagnostic(code, code_span, e.position(), e.0.to_string()))
    }

    /// Runs compiled code against a call's view, with parameters bound by name.
    pub fn run(
        &self,
        ast: &AST,
        code: &str,
        code_span: Span,
        params: &[(String, Dynamic)],
        view: &CallView,
    ) -> Result<Dynamic, ScriptError> {
        let mut scope = Scope::new();
        scope.push_constant("caller", view_caller(view));
        scope.push_constant("dialled", view.dialled.clone());
        scope.push_constant("time", view_time(&view.time));
        let vars = self
            .variables
            .iter()
            .map(|v| (v.as_str(), ""))
            .chain(view.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        scope.push_constant("vars", string_map(vars));
        let msg = samples::MSG_FIELDS
            .iter()
            .map(|k| (*k, ""))
            .chain(view.msg.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        scope.push_constant("msg", string_map(msg));
        for (name, value) in params {
            scope.push(name.clone(), value.clone());
        }
        self.engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, ast)
            .map_err(|e| {
                let limit = matches!(
                    *e,
                    EvalAltResult::ErrorTooManyOperations(_)
                        | EvalAltResult::ErrorStackOverflow(_)
                        | EvalAltResult::ErrorDataTooLarge(..)
                        | EvalAltResult::ErrorTooManyVariables(_)
                        | EvalAltResult::ErrorTooManyModules(_)
                );
                let message = match &*e {
                    EvalAltResult::ErrorTooManyOperations(_) => {
                        format!("it was stopped after {MAX_OPERATIONS} operations")
                    }
                    other => messages::run_message(other),
                };
                ScriptError {
                    message,
                    span: place(code, code_span, e.position()),
                    limit,
                    by_the_script: messages::is_the_scripts_own(&e),
                }
            })
    }

    /// Whether a run's result counts as true: booleans as they are, numbers non-zero,
    /// strings non-empty; anything else is false.
    pub fn truthy(value: &Dynamic) -> bool {
        if let Some(b) = value.clone().try_cast::<bool>() {
            b
        } else if let Ok(i) = value.as_int() {
            i != 0
        } else if let Some(s) = value.clone().try_cast::<String>() {
            !s.is_empty()
        } else {
            false
        }
    }
}

fn parse_diagnostic(
    code: &str,
    code_span: Span,
    pos: Position,
    message: String,
) -> Box<Diagnostic> {
    Box::new({
        let span = place(code, code_span, pos);
        let (message, help) = messages::syntax(code, span.start - code_span.start, &message);
        Diagnostic::error("script-syntax", span, message)
            .label("here")
            .help(help)
    })
}

/// Maps Rhai's 1-based line and column inside `code` to a span in the `.dial` file.
fn place(code: &str, code_span: Span, pos: Position) -> Span {
    let (Some(line), col) = (pos.line(), pos.position().unwrap_or(1)) else {
        return Span {
            end: code_span.start,
            ..code_span
        };
    };
    let mut offset = 0;
    for (i, l) in code.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            let start = offset + within;
            let len = l[within.min(l.len())..]
                .chars()
                .next()
                .filter(|c| *c != '\n')
                .map_or(0, char::len_utf8);
            return Span::new(
                code_span.file,
                code_span.start as usize + start,
                code_span.start as usize + start + len,
            );
        }
        offset += l.len();
    }
    Span::new(
        code_span.file,
        code_span.start as usize + code.len(),
        code_span.start as usize + code.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn span(start: usize, len: usize) -> Span {
        Span::new(FileId(0), start, start + len)
    }

    /// Compiles `code` as a script and returns what the sandbox says about it: the syntax
    /// error, or the unknown functions, or the dry run's failure.
    fn refused(code: &str) -> Vec<Diagnostic> {
        let host = ScriptHost::new();
        let span = span(0, code.len());
        match host.compile_script(code, span, &[]) {
            Err(d) => vec![*d],
            Ok(ast) => {
                let unknown = host.unknown_functions(&ast, code, span);
                if !unknown.is_empty() {
                    return unknown;
                }
                host.dry_run(&ast, code, span, &[])
                    .map(|e| vec![e.to_diagnostic("script")])
                    .unwrap_or_default()
            }
        }
    }

    #[test]
    fn no_clock_sleep_printing_or_module_loading_is_reachable() {
        for (code, says) in [
            ("sleep(2); true", "wait 2s"),
            ("sleep(0.5); true", "wait 2s"),
            ("timestamp() > 0", "time.hour"),
            ("exit(); true", "returning"),
            ("parse_json(\"{}\")", "JSON"),
            ("print(\"hi\"); true", "cannot print"),
            ("debug(\"hi\"); true", "cannot print"),
            ("eval(\"1\")", "evaluate"),
            ("import \"x\" as x; true", "modules"),
        ] {
            let found = refused(code);
            assert_eq!(found.len(), 1, "{code}: {found:?}");
            let help = found[0].help.clone().unwrap_or_default();
            assert!(
                help.contains(says) || found[0].message.contains(says),
                "{code}: {found:?}"
            );
        }
        let names = ScriptHost::new().functions().clone();
        for gone in [
            "sleep",
            "timestamp",
            "print",
            "debug",
            "exit",
            "parse_json",
            "eval",
        ] {
            assert!(!names.contains(gone), "`{gone}` is reachable");
        }
        for kept in [
            "len",
            "contains",
            "starts_with",
            "to_upper",
            "abs",
            "parse_int",
            "keys",
        ] {
            assert!(names.contains(kept), "`{kept}` should be there");
        }
    }

    #[test]
    fn an_unknown_function_on_a_branch_no_sample_takes_is_still_found() {
        let found = refused("if time.year == 1999 { lenght(dialled) > 3 } else { true }");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("lenght"), "{found:?}");
    }

    #[test]
    fn a_type_error_is_found_by_the_dry_run() {
        let found = refused("time.hour > \"8\"");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "script failed: `>` cannot take a number and text"
        );
        let found = refused("caller.extention == \"101\"");
        assert!(found[0].message.contains("extention"), "{found:?}");
    }

    #[test]
    fn a_failure_that_depends_on_the_call_is_not_an_error_of_the_plan() {
        assert!(
            refused("parse_int(dialled) > 100").is_empty(),
            "{:?}",
            refused("parse_int(dialled) > 100")
        );
        assert!(refused("10 / (time.weekday - 1) > 1").is_empty());
    }

    #[test]
    fn the_dial_languages_habits_get_rhais_spelling() {
        let hash = refused("time.hour > 8 # office opens at 8");
        assert!(hash[0].help.as_deref().unwrap().contains("//"), "{hash:?}");
        let or = refused("time.hour < 8 or time.hour > 17");
        assert!(or[0].help.as_deref().unwrap().contains("`||`"), "{or:?}");
        let and = refused("time.hour > 8 and time.hour < 17");
        assert!(and[0].help.as_deref().unwrap().contains("`&&`"), "{and:?}");
    }

    #[test]
    fn an_endless_loop_is_stopped_by_the_operation_limit() {
        let host = ScriptHost::new();
        let code = "let n = 0;\nloop { n += 1; }";
        let ast = host
            .compile_script(code, span(100, code.len()), &[])
            .unwrap();
        let err = host
            .run(&ast, code, span(100, code.len()), &[], &CallView::default())
            .unwrap_err();
        assert!(err.limit);
        assert!(err.message.contains("100000 operations"), "{}", err.message);
        assert!(err.span.start >= 100);
    }

    #[test]
    fn unknown_variables_are_caught_when_compiling() {
        let host = ScriptHost::new();
        let code = "callr.extension == \"101\"";
        let d = host
            .compile_expression(code, span(10, code.len()))
            .unwrap_err();
        assert_eq!(d.span.start, 10);
        assert!(d.message.contains("callr"), "{}", d.message);
    }

    #[test]
    fn wall_time_knows_the_weekday() {
        let t = WallTime::parse("2026-11-23 19:05").unwrap();
        assert_eq!((t.weekday, t.hour, t.minute), (1, 19, 5));
        assert_eq!(WallTime::parse("2026-11-28 10:00").unwrap().weekday, 6);
        assert_eq!(WallTime::parse("2024-02-29 00:00").unwrap().weekday, 4);
        assert!(WallTime::parse("2026-13-01 10:00").is_err());
        assert!(WallTime::parse("2026-11-23 25:00").is_err());
    }

    #[test]
    fn scripts_read_the_view() {
        let host = ScriptHost::new();
        let code = "time.weekday >= 6 || time.hour < 8 || time.hour >= 18";
        let ast = host.compile_expression(code, span(0, code.len())).unwrap();
        let mut view = CallView::default();
        let run = |v: &CallView| {
            ScriptHost::truthy(&host.run(&ast, code, span(0, code.len()), &[], v).unwrap())
        };
        assert!(!run(&view));
        view.time.hour = 19;
        assert!(run(&view));
    }
}
