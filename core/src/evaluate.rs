//! The one evaluator of the plan's values and conditions, for calls and chats alike.
//!
//! Both run the lowered program form (`ir::Operand`, `ir::Cond`); what differs is only
//! what a name means and which built-ins can be answered, so each user hands in its
//! `Facts`: a call answers from its variables, its mailbox and the office store; a chat
//! from its message and the plan alone.

use switchboard_dsl::Plan;
use switchboard_dsl::ast::TextPart;
use switchboard_dsl::ir::{Builtin, Cond, Operand};
use switchboard_dsl::script::{CallView, ScriptError};

/// What a value's names and built-ins mean where it is worked out.
pub trait Facts {
    /// A variable's value (`caller`, `pin`, `msg.text`), or why it has none here.
    fn variable(&self, name: &str) -> Result<String, String>;
    /// The read-only view scripts see.
    fn view(&self) -> CallView;
    /// A built-in condition (`pin_ok`, `is_agent`, ...), or why it cannot be answered here.
    fn builtin(&mut self, function: Builtin, args: &[String]) -> Result<bool, String>;
}

/// A value as text.
pub fn value(plan: &Plan, op: &Operand, facts: &mut dyn Facts) -> Result<String, String> {
    match op {
        Operand::Lit(s) => Ok(s.clone()),
        Operand::Var(name) => facts.variable(name),
        Operand::Text(parts) => {
            let mut out = String::new();
            for p in parts {
                match p {
                    TextPart::Lit(s) => out.push_str(s),
                    TextPart::Var(v) => out.push_str(&facts.variable(v)?),
                }
            }
            Ok(out)
        }
        Operand::Expr(span) => {
            let Some(ast) = plan.expressions.get(span) else {
                return Err(format!(
                    "the expression at {} was not compiled",
                    plan.location(*span)
                ));
            };
            let code = &plan.sources.get(span.file).text[span.range()];
            let code = code.trim_start_matches('`').trim_end_matches('`');
            let code_span = switchboard_dsl::Span::new(
                span.file,
                span.start as usize + 1,
                (span.end as usize)
                    .saturating_sub(1)
                    .max(span.start as usize + 1),
            );
            plan.host
                .run(ast, code, code_span, &[], &facts.view())
                .map(|d| dynamic_text(&d))
                .map_err(|e| script_failed(plan, e))
        }
        Operand::Script { script, args } => {
            let args = values(plan, args, facts)?;
            let s = &plan.scripts[*script as usize];
            let params: Vec<(String, rhai::Dynamic)> = s
                .script
                .params
                .iter()
                .zip(args)
                .map(|(p, a)| (p.name.clone(), a.into()))
                .collect();
            plan.host
                .run(
                    &s.ast,
                    &s.script.code,
                    s.script.code_span,
                    &params,
                    &facts.view(),
                )
                .map(|d| dynamic_text(&d))
                .map_err(|e| script_failed(plan, e))
        }
        Operand::Builtin { function, args } => {
            let args = values(plan, args, facts)?;
            facts.builtin(*function, &args).map(|b| b.to_string())
        }
    }
}

/// Several values, stopping at the first that fails.
pub fn values(plan: &Plan, ops: &[Operand], facts: &mut dyn Facts) -> Result<Vec<String>, String> {
    ops.iter().map(|op| value(plan, op, facts)).collect()
}

/// A condition. `or` and `and` stop at the first part that decides.
pub fn condition(plan: &Plan, c: &Cond, facts: &mut dyn Facts) -> Result<bool, String> {
    Ok(match c {
        Cond::Or(cs) => {
            for c in cs {
                if condition(plan, c, facts)? {
                    return Ok(true);
                }
            }
            false
        }
        Cond::And(cs) => {
            for c in cs {
                if !condition(plan, c, facts)? {
                    return Ok(false);
                }
            }
            true
        }
        Cond::Not(c) => !condition(plan, c, facts)?,
        Cond::Compare { left, equal, right } => {
            (value(plan, left, facts)? == value(plan, right, facts)?) == *equal
        }
        Cond::Truthy(op) => truthy(&value(plan, op, facts)?),
    })
}

/// The same truth rule as scripts: `true`, non-zero numbers and non-empty text hold.
fn truthy(s: &str) -> bool {
    !matches!(s, "" | "false" | "0")
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

fn script_failed(plan: &Plan, e: ScriptError) -> String {
    let place = plan.location(e.span);
    if e.limit {
        format!("script at {place} hit a limit: {}", e.message)
    } else {
        format!("script at {place} failed: {}", e.message)
    }
}
