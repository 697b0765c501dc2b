//! Conditions: `or`, `and`, `not`, comparisons, back-quoted code and calls.

use super::reader::Reader;
use super::values::read_value;
use crate::ast::*;
use crate::syntax::Rule;
use pest::iterators::Pair;

pub fn read_condition(r: &mut Reader<'_>, pair: Pair<'_, Rule>) -> Condition {
    match pair.as_rule() {
        Rule::condition => {
            let mut parts: Vec<Condition> =
                pair.into_inner().map(|p| read_condition(r, p)).collect();
            if parts.len() == 1 {
                parts.pop().unwrap()
            } else {
                Condition::Or(parts)
            }
        }
        Rule::disjunct => {
            let mut parts: Vec<Condition> =
                pair.into_inner().map(|p| read_condition(r, p)).collect();
            if parts.len() == 1 {
                parts.pop().unwrap()
            } else {
                Condition::And(parts)
            }
        }
        Rule::negation => {
            let mut nots = 0;
            let mut atom = None;
            for p in pair.into_inner() {
                match p.as_rule() {
                    Rule::not_op => nots += 1,
                    _ => atom = Some(read_condition(r, p)),
                }
            }
            let c = atom.expect("a negation always ends in an atom");
            // `not not x` is `x`: keeping only the parity bounds the tree's depth.
            if nots % 2 == 1 {
                Condition::Not(Box::new(c))
            } else {
                c
            }
        }
        Rule::cond_atom => read_condition(r, pair.into_inner().next().unwrap()),
        Rule::comparison => {
            let mut inner = pair.into_inner();
            let left = read_value(r, inner.next().unwrap());
            let equal = inner.next().unwrap().as_str() == "==";
            let right = read_value(r, inner.next().unwrap());
            Condition::Compare { left, equal, right }
        }
        Rule::script_expr => Condition::Script(read_value(r, pair)),
        _ => Condition::Call(read_value(r, pair)),
    }
}
