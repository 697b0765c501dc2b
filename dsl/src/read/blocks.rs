//! Blocks: a block's statements, the action after `->`, `if`, `repeat N` and menus.

use super::conditions::read_condition;
use super::reader::Reader;
use super::steps::read_flow_step;
use super::test_steps::read_test_step;
use super::values::{parse_duration, read_value, string_contents};
use super::words::{StepContext, read_words};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::syntax::Rule;
use pest::iterators::Pair;

pub fn read_block(r: &mut Reader<'_>, pair: Pair<'_, Rule>, ctx: StepContext) -> Block {
    let mut steps = Vec::new();
    for p in pair.into_inner() {
        if let Some(s) = read_statement(r, p, ctx) {
            steps.push(s);
        }
    }
    Block { steps }
}

/// An action after `->`: a block, or steps joined by `then`.
pub fn read_action(r: &mut Reader<'_>, pair: Pair<'_, Rule>, ctx: StepContext) -> Block {
    let mut steps = Vec::new();
    for p in pair.into_inner() {
        if p.as_rule() == Rule::block {
            return read_block(r, p, ctx);
        }
        if let Some(s) = read_statement(r, p, ctx) {
            steps.push(s);
        }
    }
    Block { steps }
}

fn read_statement(r: &mut Reader<'_>, p: Pair<'_, Rule>, ctx: StepContext) -> Option<Step> {
    let mut span = r.span(&p);
    // pest lets a step's span run over a trailing comment; end it at its last word.
    if p.as_rule() == Rule::step
        && let Some(last) = p.clone().into_inner().last()
    {
        span.end = r.span(&last).end;
    }
    let kind = match p.as_rule() {
        Rule::step => read_step(r, p, ctx)?,
        Rule::if_step => {
            let mut branches = Vec::new();
            let mut otherwise = None;
            let mut cond = None;
            for part in p.into_inner() {
                match part.as_rule() {
                    Rule::condition => cond = Some(read_condition(r, part)),
                    Rule::block => {
                        let c = cond.take().expect("a block follows its condition");
                        branches.push((c, read_block(r, part, ctx)));
                    }
                    Rule::else_block => {
                        otherwise = Some(read_block(r, part.into_inner().next().unwrap(), ctx))
                    }
                    _ => {}
                }
            }
            StepKind::If {
                branches,
                otherwise,
            }
        }
        Rule::repeat_step => {
            let mut inner = p.into_inner();
            let n = inner.next().unwrap();
            let times = match n.as_str().parse::<u32>() {
                Ok(t) if (1..=100).contains(&t) => t,
                _ => {
                    r.error(
                        Diagnostic::error("bad-step", r.span(&n), "repeat 1 to 100 times")
                            .label("too many"),
                    );
                    1
                }
            };
            let body = read_block(r, inner.next().unwrap(), ctx);
            StepKind::Loop { times, body }
        }
        Rule::menu => StepKind::Menu(Box::new(read_menu(r, p, ctx))),
        _ => return None,
    };
    Some(Step { kind, span })
}

fn read_menu(r: &mut Reader<'_>, p: Pair<'_, Rule>, ctx: StepContext) -> Menu {
    let branch_ctx = if ctx == StepContext::Test {
        ctx
    } else {
        StepContext::Menu
    };
    let mut menu = Menu {
        prompts: Vec::new(),
        keys: Vec::new(),
        timeout: None,
        retries: None,
        on_timeout: None,
        on_invalid: None,
        on_retries_exhausted: None,
    };
    for part in p.into_inner() {
        match part.as_rule() {
            Rule::value_list => {
                menu.prompts = part.into_inner().map(|v| read_value(r, v)).collect()
            }
            Rule::menu_opts => {
                for opt in part.into_inner().flat_map(|o| o.into_inner()) {
                    read_menu_opt(r, opt, &mut menu);
                }
            }
            Rule::menu_entry => {
                let e = part.into_inner().next().unwrap();
                match e.as_rule() {
                    Rule::menu_key => {
                        let mut inner = e.into_inner();
                        let key = inner.next().unwrap();
                        let key_span = r.span(&key);
                        let text = string_contents(&key);
                        let action = read_action(r, inner.nth(1).unwrap(), branch_ctx);
                        let mut chars = text.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => {
                                menu.keys.push(MenuKey {
                                    key: c,
                                    span: key_span,
                                    action,
                                })
                            }
                            _ => r.error(
                                Diagnostic::error(
                                    "bad-menu-key",
                                    key_span,
                                    format!("`\"{text}\"` is not a key on a phone"),
                                )
                                .label("not one key")
                                .help("a menu key is one of \"0\" to \"9\", \"*\" or \"#\""),
                            ),
                        }
                    }
                    Rule::menu_timeout => {
                        for x in e.into_inner() {
                            match x.as_rule() {
                                Rule::duration => menu.timeout = Some(parse_duration(x.as_str())),
                                Rule::retries_opt => read_menu_opt(r, x, &mut menu),
                                Rule::action => {
                                    menu.on_timeout = Some(read_action(r, x, branch_ctx))
                                }
                                _ => {}
                            }
                        }
                    }
                    Rule::menu_invalid => {
                        let a = e
                            .into_inner()
                            .find(|x| x.as_rule() == Rule::action)
                            .unwrap();
                        menu.on_invalid = Some(read_action(r, a, branch_ctx));
                    }
                    Rule::menu_retries => {
                        for x in e.into_inner() {
                            match x.as_rule() {
                                Rule::retries_opt => read_menu_opt(r, x, &mut menu),
                                Rule::action => {
                                    menu.on_retries_exhausted = Some(read_action(r, x, branch_ctx))
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    menu
}

fn read_menu_opt(r: &mut Reader<'_>, opt: Pair<'_, Rule>, menu: &mut Menu) {
    let rule = opt.as_rule();
    let Some(v) = opt.into_inner().next() else {
        return;
    };
    match rule {
        Rule::timeout_opt => menu.timeout = Some(parse_duration(v.as_str())),
        Rule::retries_opt => match v.as_str().parse::<u32>() {
            Ok(n) if n <= 20 => menu.retries = Some(n),
            _ => r.error(
                Diagnostic::error("bad-menu", r.span(&v), "a menu retries at most 20 times")
                    .label("too many retries")
                    .help("write a smaller number, like `retries 3`; a caller who needs more is sent on by `retries N -> ...`"),
            ),
        },
        _ => {}
    }
}

/// One `verb words... [-> var]` step, read by the verbs of its block.
fn read_step(r: &mut Reader<'_>, p: Pair<'_, Rule>, ctx: StepContext) -> Option<StepKind> {
    let (verb, words, into) = read_words(r, p);
    if ctx == StepContext::Test {
        read_test_step(r, verb, words, into)
    } else {
        read_flow_step(r, verb, words, into, ctx)
    }
}
