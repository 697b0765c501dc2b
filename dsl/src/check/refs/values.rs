//! References in values: variables, back-quoted code and script calls, and conditions.

use super::{Ctx, plural};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// Conditions the engine answers from the office's state, with their argument counts.
pub const BUILTIN_FUNCTIONS: &[(&str, usize)] = &[
    ("pin_ok", 2),
    ("is_extension", 1),
    ("has_voicemail", 1),
    ("hot_desk_allowed", 1),
    ("park_occupied", 1),
    ("has_message", 0),
    ("has_new_messages", 0),
    ("is_agent", 1),
    ("is_manager", 1),
];

impl Ctx<'_> {
    pub(super) fn variable(&mut self, name: &str, span: Span) {
        let head = name.split('.').next().unwrap_or(name);
        if head == "operator" && !self.operator_set {
            self.diags.push(
                Diagnostic::error(
                    "no-operator",
                    span,
                    "`operator` is used, but no operator is set",
                )
                .label("who is the operator?")
                .help("add `operator = 100` (an extension) to the settings block"),
            );
            return;
        }
        if !self.symbols.variables.contains(head) {
            let vars = self.symbols.variables.iter().map(String::as_str);
            self.unknown("variable", head, span, vars);
        }
    }

    pub(super) fn value(&mut self, v: &Value) {
        match &v.kind {
            ValueKind::Number(_) | ValueKind::Duration(_) => {}
            ValueKind::Text(parts) => {
                for p in parts {
                    if let TextPart::Var(name) = p {
                        self.variable(name, v.span);
                    }
                }
            }
            ValueKind::Var(path) => self.variable(&path[0], v.span),
            ValueKind::Script(code) => self.expression(code, v.span),
            ValueKind::Call { name, args } => {
                for a in args {
                    self.value(a);
                }
                let want = self.symbols.scripts.get(&name.name).copied().or_else(|| {
                    BUILTIN_FUNCTIONS
                        .iter()
                        .find(|(n, _)| *n == name.name)
                        .map(|(_, k)| *k)
                });
                match want {
                    Some(k) if k == args.len() => {}
                    Some(k) => self.diags.push(
                        Diagnostic::error(
                            "wrong-arguments",
                            v.span,
                            format!(
                                "`{}` takes {k} argument{}, but {} {} given",
                                name.name,
                                plural(k),
                                args.len(),
                                if args.len() == 1 { "was" } else { "were" }
                            ),
                        )
                        .label("wrong number of arguments"),
                    ),
                    None => {
                        let names: Vec<&str> = self
                            .symbols
                            .scripts
                            .keys()
                            .map(String::as_str)
                            .chain(BUILTIN_FUNCTIONS.iter().map(|(n, _)| *n))
                            .collect();
                        self.unknown("script", &name.name, name.span, names.into_iter());
                    }
                }
            }
        }
    }

    /// Compiles a back-quoted expression and tries it once on a sample call.
    pub(super) fn expression(&mut self, code: &str, span: Span) {
        let code_span = Span {
            start: span.start + 1,
            end: span.end.saturating_sub(1),
            ..span
        };
        match self.host.compile_expression(code, code_span) {
            Ok(ast) => {
                let unknown = self.host.unknown_functions(&ast, code, code_span);
                if !unknown.is_empty() {
                    for mut d in unknown {
                        let within = (d.span.start - code_span.start) as usize
                            ..(d.span.end - code_span.start) as usize;
                        let name = code.get(within).unwrap_or("");
                        if self.symbols.scripts.contains_key(name) {
                            d.help = Some(format!(
                                "to call the plan's script `{name}`, write it without back-quotes: {name}()"
                            ));
                        }
                        self.diags.push(d);
                    }
                } else if let Some(e) = self.host.dry_run(&ast, code, code_span, &[]) {
                    self.diags.push(e.to_diagnostic("this expression"));
                }
                self.exprs.insert(span, ast);
            }
            Err(d) => self.diags.push(*d),
        }
    }

    pub(super) fn condition(&mut self, c: &Condition) {
        match c {
            Condition::Or(cs) | Condition::And(cs) => cs.iter().for_each(|c| self.condition(c)),
            Condition::Not(c) => self.condition(c),
            Condition::Compare { left, right, .. } => {
                self.value(left);
                self.value(right);
            }
            Condition::Script(v) | Condition::Call(v) => self.value(v),
        }
    }
}
