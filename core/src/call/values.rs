//! Working out values and conditions: variables, text with `{variables}`, scripts (under
//! every Rhai limit, on a read-only view of the call) and the office's built-ins.

use super::{Call, Caller};
use crate::office;
use crate::store::Store;
use switchboard_dsl::ast::TextPart;
use switchboard_dsl::ir::{Builtin, Cond, Operand};
use switchboard_dsl::script::CallView;

impl Call {
    /// A value, or `None` once the call was ended because working it out failed (a
    /// script error or limit): the step that wanted it must stop there.
    pub(super) fn value_or_end(&mut self, op: &Operand, store: &mut dyn Store) -> Option<String> {
        match self.value(op, store) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    pub(super) fn value(&mut self, op: &Operand, store: &mut dyn Store) -> Result<String, String> {
        match op {
            Operand::Lit(s) => Ok(s.clone()),
            Operand::Var(name) => Ok(self.variable(name)),
            Operand::Text(parts) => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        TextPart::Lit(s) => out.push_str(s),
                        TextPart::Var(v) => out.push_str(&self.variable(v)),
                    }
                }
                Ok(out)
            }
            Operand::Expr(span) => {
                let plan = self.plan.clone();
                let Some(ast) = plan.expressions.get(span) else {
                    return Err("an expression was not compiled".into());
                };
                let code = &plan.sources.get(span.file).text[span.range()];
                let code = code.trim_start_matches('`').trim_end_matches('`');
                let code_span = switchboard_dsl::Span::new(
                    span.file,
                    span.start as usize + 1,
                    span.end as usize - 1,
                );
                let view = self.view();
                plan.host
                    .run(ast, code, code_span, &[], &view)
                    .map(|d| dynamic_text(&d))
                    .map_err(|e| self.script_failed(e))
            }
            Operand::Script { script, args } => {
                let args = self.values(args, store)?;
                let plan = self.plan.clone();
                let s = &plan.scripts[*script as usize];
                let params: Vec<(String, rhai::Dynamic)> = s
                    .script
                    .params
                    .iter()
                    .zip(args)
                    .map(|(p, a)| (p.name.clone(), a.into()))
                    .collect();
                let view = self.view();
                plan.host
                    .run(&s.ast, &s.script.code, s.script.code_span, &params, &view)
                    .map(|d| dynamic_text(&d))
                    .map_err(|e| self.script_failed(e))
            }
            Operand::Builtin { function, args } => {
                let args = self.values(args, store)?;
                self.builtin(*function, &args, store).map(|b| b.to_string())
            }
        }
    }

    pub(super) fn condition(&mut self, c: &Cond, store: &mut dyn Store) -> Result<bool, String> {
        Ok(match c {
            Cond::Or(cs) => {
                for c in cs {
                    if self.condition(c, store)? {
                        return Ok(true);
                    }
                }
                false
            }
            Cond::And(cs) => {
                for c in cs {
                    if !self.condition(c, store)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Not(c) => !self.condition(c, store)?,
            Cond::Compare { left, equal, right } => {
                (self.value(left, store)? == self.value(right, store)?) == *equal
            }
            Cond::Truthy(op) => truthy(&self.value(op, store)?),
        })
    }

    /// A variable's value; the built-ins are answered from the call, an unset variable
    /// is empty (the check already rejected names nothing defines).
    pub(super) fn variable(&self, name: &str) -> String {
        if let Some(v) = self.var(name) {
            return v.to_string();
        }
        match name {
            "caller" => match &self.from {
                Caller::Extension { number, .. } => number.clone(),
                Caller::Trunk { number, .. } => number.clone(),
            },
            "dialled" => self.dialled.clone(),
            "operator" => self
                .plan
                .settings
                .operator
                .as_ref()
                .map(|(o, _)| o.clone())
                .unwrap_or_default(),
            "mailbox" => self
                .mailbox
                .as_ref()
                .map(|m| m.mailbox.clone())
                .unwrap_or_default(),
            "language" => self.language(),
            _ => String::new(),
        }
    }

    fn builtin(
        &mut self,
        f: Builtin,
        args: &[String],
        store: &mut dyn Store,
    ) -> Result<bool, String> {
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
        let plan = self.plan.clone();
        let store_err = |e: crate::store::StoreError| format!("the office store failed: {e}");
        Ok(match f {
            Builtin::PinOk => office::pin_ok(&plan, store, arg(0), arg(1)).map_err(store_err)?,
            Builtin::IsExtension => office::is_extension(&plan, arg(0)),
            Builtin::HasVoicemail => office::has_voicemail(&plan, arg(0)),
            Builtin::HotDeskAllowed => office::hot_desk_allowed(&plan, arg(0)),
            Builtin::ParkOccupied => office::park_occupied(store, arg(0)).map_err(store_err)?,
            Builtin::HasMessage => self.mailbox.as_ref().is_some_and(|m| m.current().is_some()),
            Builtin::HasNewMessages => match &self.mailbox {
                Some(m) => store.message_counts(&m.mailbox).map_err(store_err)?.0 > 0,
                None => false,
            },
            Builtin::IsAgent => office::is_agent(&plan, arg(0)),
            Builtin::IsManager => office::is_manager(&plan, arg(0)),
        })
    }

    /// The read-only view scripts see.
    fn view(&self) -> CallView {
        let (ext, number, name) = match &self.from {
            Caller::Extension { number, .. } => (
                number.clone(),
                number.clone(),
                self.plan
                    .extension(number)
                    .and_then(|e| e.name.clone())
                    .unwrap_or_default(),
            ),
            Caller::Trunk { number, .. } => (String::new(), number.clone(), String::new()),
        };
        CallView {
            caller_extension: ext,
            caller_number: number,
            caller_name: name,
            dialled: self.dialled.clone(),
            time: self.time,
            vars: self.vars.iter().cloned().collect(),
            msg: Default::default(),
        }
    }

    fn script_failed(&self, e: switchboard_dsl::script::ScriptError) -> String {
        let place = self.plan.location(e.span);
        if e.limit {
            format!("script at {place} hit a limit: {}", e.message)
        } else {
            format!("script at {place} failed: {}", e.message)
        }
    }
}

/// A script's result as text: strings as they are, `()` as empty.
fn dynamic_text(d: &rhai::Dynamic) -> String {
    if d.is_unit() {
        String::new()
    } else if let Some(s) = d.clone().try_cast::<String>() {
        s
    } else {
        d.to_string()
    }
}

/// The same truth rule as scripts: `true`, non-zero numbers and non-empty text hold.
fn truthy(s: &str) -> bool {
    !matches!(s, "" | "false" | "0")
}
