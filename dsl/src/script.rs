//! Rhai, the language of computed decisions, held on a short leash.
//!
//! Scripts decide; they never play, wait, dial or touch files. Each one sees a read-only
//! view of the call (`caller`, `dialled`, `time`, `vars`, and `msg` for chats) and runs
//! under limits on operations, call depth, expression depth, string, array and map sizes,
//! variables and functions, so an endless loop ends in a diagnostic, never a hung call.

use crate::diagnostic::Diagnostic;
use crate::source::Span;
use rhai::{AST, Dynamic, Engine, EvalAltResult, Map, Position, Scope};
use std::collections::BTreeMap;

/// Operations one script run may take: enough for any real decision, a few milliseconds.
pub const MAX_OPERATIONS: u64 = 100_000;

/// The names a script can read besides its own parameters.
pub const VIEW_NAMES: &[&str] = &["caller", "dialled", "time", "vars", "msg"];

/// The Rhai engine with every limit set, shared by all scripts of a plan.
pub struct ScriptHost {
    engine: Engine,
}

impl Default for ScriptHost {
    fn default() -> ScriptHost {
        ScriptHost::new()
    }
}

/// What a script can see of a call: the view is built by the engine, never by the script.
#[derive(Clone, Debug, Default)]
pub struct CallView {
    pub caller_extension: String,
    pub caller_number: String,
    pub caller_name: String,
    pub dialled: String,
    pub time: WallTime,
    pub vars: BTreeMap<String, String>,
    /// For chat routing: channel, from, to, text, language.
    pub msg: BTreeMap<String, String>,
}

/// Office-local wall-clock time, handed in by whoever owns the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: u32,
}

impl Default for WallTime {
    /// Monday 2026-11-23, 10:00: a plain office morning, for checks and tests.
    fn default() -> WallTime {
        WallTime {
            year: 2026,
            month: 11,
            day: 23,
            hour: 10,
            minute: 0,
            weekday: 1,
        }
    }
}

impl WallTime {
    /// `"2026-11-23 19:00"`, as tests and `simulate --time` write office time.
    pub fn parse(text: &str) -> Result<WallTime, String> {
        // jiff explains from the outside in; the innermost part names the field.
        let dt: jiff::civil::DateTime = text.trim().parse().map_err(|e: jiff::Error| {
            let e = e.to_string();
            e.rsplit(": ").next().unwrap_or(&e).to_string()
        })?;
        Ok(WallTime::from_civil(dt))
    }

    /// The fields scripts see of a calendar date and time.
    pub fn from_civil(dt: jiff::civil::DateTime) -> WallTime {
        WallTime {
            year: i32::from(dt.year()),
            month: dt.month() as u32,
            day: dt.day() as u32,
            hour: dt.hour() as u32,
            minute: dt.minute() as u32,
            weekday: dt.weekday().to_monday_one_offset() as u32,
        }
    }
}

/// A script that failed while running, placed in the `.dial` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub message: String,
    pub span: Span,
    /// The run hit a limit (operations, depth, size) rather than a plain error.
    pub limit: bool,
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
                "a script must return a value for every call; check the names it uses".to_string()
            })
    }
}

impl ScriptHost {
    pub fn new() -> ScriptHost {
        let mut engine = Engine::new();
        engine
            .set_max_operations(MAX_OPERATIONS)
            .set_max_call_levels(16)
            .set_max_expr_depths(32, 16)
            .set_max_string_size(4096)
            .set_max_array_size(1024)
            .set_max_map_size(256)
            .set_max_variables(64)
            .set_max_functions(32)
            .set_max_modules(0)
            .set_max_strings_interned(256)
            .set_strict_variables(true)
            .set_fail_on_invalid_map_property(true);
        engine.disable_symbol("eval");
        engine.on_print(|_| {});
        engine.on_debug(|_, _, _| {});
        ScriptHost { engine }
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
        scope.push_constant("vars", string_map(&view.vars));
        scope.push_constant("msg", string_map(&view.msg));
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
                    other => strip_position(other.to_string()),
                };
                ScriptError {
                    message,
                    span: place(code, code_span, e.position()),
                    limit,
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

fn view_caller(view: &CallView) -> Dynamic {
    let mut m = Map::new();
    m.insert("extension".into(), view.caller_extension.clone().into());
    m.insert("number".into(), view.caller_number.clone().into());
    m.insert("name".into(), view.caller_name.clone().into());
    m.into()
}

fn view_time(t: &WallTime) -> Dynamic {
    let mut m = Map::new();
    m.insert("year".into(), (t.year as i64).into());
    m.insert("month".into(), (t.month as i64).into());
    m.insert("day".into(), (t.day as i64).into());
    m.insert("hour".into(), (t.hour as i64).into());
    m.insert("minute".into(), (t.minute as i64).into());
    m.insert("weekday".into(), (t.weekday as i64).into());
    m.into()
}

fn string_map(vars: &BTreeMap<String, String>) -> Dynamic {
    let m: Map = vars
        .iter()
        .map(|(k, v)| (k.as_str().into(), v.clone().into()))
        .collect();
    m.into()
}

/// Rhai appends " (line 2, position 5)" to messages; the diagnostic shows the place instead.
fn strip_position(mut s: String) -> String {
    if let Some(i) = s.rfind(" (line ") {
        s.truncate(i);
    }
    s
}

fn parse_diagnostic(
    code: &str,
    code_span: Span,
    pos: Position,
    message: String,
) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(
            "script-syntax",
            place(code, code_span, pos),
            format!("Rhai: {}", strip_position(message)),
        )
        .label("here")
        .help("this is Rhai code; see docs/language.md, section Scripts"),
    )
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
