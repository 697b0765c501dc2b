//! Top-level items: one function per kind, each adding what it reads to the `Ast`.

use super::blocks::{read_action, read_block};
use super::chat;
use super::conditions::read_condition;
use super::options::*;
use super::reader::Reader;
use super::values::{read_value, string_contents, unquote};
use super::words::StepContext;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::syntax::Rule;
use pest::iterators::Pair;

/// Reads one top-level item into `ast`.
pub fn read_item(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    match item.as_rule() {
        Rule::settings => read_settings(r, item, ast),
        Rule::extension => read_extension(r, item, ast),
        Rule::extension_range => read_extension_range(r, item, ast),
        Rule::queue => read_queue(r, item, ast),
        Rule::park => read_park(r, item, ast),
        Rule::device => read_device(r, item, ast),
        Rule::trunk => read_trunk(r, item, ast),
        Rule::route => read_route(r, item, ast),
        Rule::inbound => read_inbound(r, item, ast),
        Rule::chat => read_chat(r, item, ast),
        Rule::flow => read_flow(r, item, ast),
        Rule::script => read_script(r, item, ast),
        Rule::test => read_test(r, item, ast),
        _ => {}
    }
}

/// `settings { key = value ... }`.
fn read_settings(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    for s in item.into_inner().filter(|p| p.as_rule() == Rule::setting) {
        let mut inner = s.into_inner();
        let key = r.ident(&inner.next().unwrap());
        let value = read_value(r, inner.next().unwrap());
        ast.settings.push(Setting { key, value });
    }
}

/// `extension NUMBER ["name"] { options }`.
fn read_extension(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let num = inner.next().unwrap();
    let number_span = r.span(&num);
    let (name, name_span, opts) = name_and_options(r, inner);
    let options = extension_options(r, opts);
    ast.extensions.push(Extension {
        number: num.as_str().to_string(),
        name,
        span,
        number_span,
        name_span,
        options,
    });
}

/// `extensions FIRST..LAST ["name {n}"] { options }`: one extension per number.
fn read_extension_range(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let first = inner.next().unwrap();
    let last = inner.next().unwrap();
    let number_span = r.span(&first).to(r.span(&last));
    let (name, name_span, opts) = name_and_options(r, inner);
    let options = extension_options(r, opts);
    let (a, b) = (first.as_str(), last.as_str());
    let (Ok(lo), Ok(hi)) = (a.parse::<u64>(), b.parse::<u64>()) else {
        r.error(
            Diagnostic::error("bad-range", number_span, "this range is too large")
                .label("numbers too long"),
        );
        return;
    };
    if lo > hi || a.len() != b.len() || hi - lo >= 100_000 {
        r.error(
            Diagnostic::error(
                "bad-range",
                number_span,
                format!("`{a}..{b}` is not a usable range of extensions"),
            )
            .label("range")
            .help(
                "write the lower number first, both with the same number of digits, \
                 at most 100000 numbers",
            ),
        );
        return;
    }
    for n in lo..=hi {
        let number = format!("{n:0width$}", width = a.len());
        let name = name.as_ref().map(|t| t.replace("{n}", &number));
        ast.extensions.push(Extension {
            number,
            name,
            span,
            number_span,
            name_span,
            options: options.clone(),
        });
    }
}

const QUEUE_OPTIONS: &[&str] = &[
    "agents",
    "managers",
    "strategy",
    "ring",
    "max_wait",
    "wrap_up",
    "announce",
    "announce_every",
    "then",
];

/// `queue NUMBER ["name"] { options }`.
fn read_queue(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let num = inner.next().unwrap();
    let number_span = r.span(&num);
    let (name, _, opts) = name_and_options(r, inner);
    let mut q = Queue {
        number: num.as_str().to_string(),
        name,
        span,
        number_span,
        agents: Vec::new(),
        managers: Vec::new(),
        strategy: Strategy::RingAll,
        ring: None,
        max_wait: None,
        wrap_up: None,
        announce: None,
        then: None,
    };
    let mut announce_every = None;
    for opt in opts {
        let (key, args, action) = option_parts(r, opt);
        match key.name.as_str() {
            "agents" => q.agents = args,
            "managers" => q.managers = args,
            "strategy" => q.strategy = strategy(r, &key, &args),
            "ring" => q.ring = one_duration(r, &key, &args),
            "max_wait" => q.max_wait = one_duration(r, &key, &args),
            "wrap_up" => q.wrap_up = one_duration(r, &key, &args),
            "announce" => {
                q.announce = one_arg(r, &key, &args, "a prompt in quotes").map(|p| Announce {
                    prompt: p.clone(),
                    every: None,
                })
            }
            "announce_every" => announce_every = Some((key.span, one_duration(r, &key, &args))),
            "then" => q.then = action_or_missing(r, &key, &args, action),
            _ => unknown_option(r, &key, "queue", QUEUE_OPTIONS),
        }
    }
    match (&mut q.announce, announce_every) {
        (Some(a), Some((_, every))) => a.every = every,
        (None, Some((span, _))) => r.error(
            Diagnostic::error("bad-option", span, "`announce_every` without `announce`")
                .label("nothing to announce")
                .help("add the prompt to play, like announce \"queue-announce\""),
        ),
        _ => {}
    }
    ast.queues.push(q);
}

/// `park ORBIT, ORBIT...`: the park orbits, which take no options.
fn read_park(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    for p in item.into_inner() {
        match p.as_rule() {
            Rule::orbit => ast.orbits.push(r.ident(&p)),
            Rule::option_block => {
                for opt in p.into_inner().filter(|o| o.as_rule() == Rule::option) {
                    let (key, _, _) = option_parts(r, opt);
                    unknown_option(r, &key, "park", &[]);
                }
            }
            _ => {}
        }
    }
}

/// `device "MAC" ["model"] { options }`.
fn read_device(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner().peekable();
    let mac = inner.next().unwrap();
    let mac_span = r.span(&mac);
    let mac = unquote(r, &mac).literal().unwrap_or_default();
    let mut model = None;
    if inner.peek().map(|p| p.as_rule()) == Some(Rule::string) {
        model = unquote(r, &inner.next().unwrap()).literal();
    }
    let mut hot_desk = false;
    for opt in options_of(inner) {
        let (key, _, _) = option_parts(r, opt);
        match key.name.as_str() {
            "hot_desk" => hot_desk = true,
            _ => unknown_option(r, &key, "device", &["hot_desk"]),
        }
    }
    ast.devices.push(Device {
        mac,
        mac_span,
        model,
        hot_desk,
        span,
    });
}

/// `trunk "name" { options }`.
fn read_trunk(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let name_pair = inner.next().unwrap();
    let name = Ident {
        name: unquote(r, &name_pair).literal().unwrap_or_default(),
        span: r.span(&name_pair),
    };
    let mut t = Trunk {
        name,
        host: None,
        numbers: Vec::new(),
        caller_id: None,
        trust: TrunkTrust::Address,
        allow: TollAllow::default(),
        span,
    };
    let (mut over_tcp, mut inbound_user) = (false, None);
    for opt in options_of(inner) {
        let (key, args, _) = option_parts(r, opt);
        match key.name.as_str() {
            "host" => t.host = one_text(r, &key, &args),
            "transport" => over_tcp = trunk_transport(r, &key, &args).unwrap_or(over_tcp),
            "inbound_user" => {
                if let Some(v) = one_arg(r, &key, &args, "a quoted user name") {
                    inbound_user = v.literal().map(|name| Ident { name, span: v.span });
                }
            }
            "caller_id" => t.caller_id = one_text(r, &key, &args),
            "numbers" => {
                t.numbers = args.iter().filter_map(Value::literal).collect();
            }
            "allow" => t.allow = toll_allow(r, &key, &args),
            _ => unknown_option(
                r,
                &key,
                "trunk",
                &[
                    "host",
                    "numbers",
                    "transport",
                    "inbound_user",
                    "caller_id",
                    "allow",
                ],
            ),
        }
    }
    // A digest proves more than a TCP handshake: with a user, calls are trusted by it alone.
    t.trust = match inbound_user {
        Some(user) => TrunkTrust::Digest { user },
        None if over_tcp => TrunkTrust::AddressOverTcp,
        None => TrunkTrust::Address,
    };
    ast.trunks.push(t);
}

/// `dial "PATTERN" [when COND] -> action`.
fn read_route(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let pat = inner.next().unwrap();
    let pattern_span = r.span(&pat);
    let pattern = string_contents(&pat).to_string();
    let (condition, action) = condition_and_action(r, inner, StepContext::Flow);
    ast.routes.push(Route {
        pattern,
        pattern_span,
        condition,
        action,
        span,
    });
}

/// `inbound trunk "name" [to "NUMBER"] [when COND] -> action`.
fn read_inbound(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner().peekable();
    let t = inner.next().unwrap();
    let trunk = Ident {
        name: string_contents(&t).to_string(),
        span: r.span(&t),
    };
    let mut to = None;
    if inner.peek().map(|p| p.as_rule()) == Some(Rule::inbound_to) {
        let p = inner.next().unwrap().into_inner().next().unwrap();
        to = Some((string_contents(&p).to_string(), r.span(&p)));
    }
    let (condition, action) = condition_and_action(r, inner, StepContext::Flow);
    ast.inbound.push(Inbound {
        trunk,
        to,
        condition,
        action,
        span,
    });
}

/// `chat CHANNEL ["NUMBER"] [when COND] -> target`.
fn read_chat(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    if let Some(c) = chat::read_chat(r, item, span) {
        ast.chats.push(c);
    }
}

/// `flow name[(params)] { steps }`.
fn read_flow(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let name = r.ident(&inner.next().unwrap());
    let mut params = Vec::new();
    let mut body = Block::default();
    for p in inner {
        match p.as_rule() {
            Rule::params => params = p.into_inner().map(|n| r.ident(&n)).collect(),
            Rule::block => body = read_block(r, p, StepContext::Flow),
            _ => {}
        }
    }
    ast.flows.push(Flow {
        name,
        params,
        body,
        span,
    });
}

/// `script name[(params)]` and its Rhai code.
fn read_script(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let name = r.ident(&inner.next().unwrap());
    let mut params = Vec::new();
    let mut code = String::new();
    let mut code_span = span;
    for p in inner {
        match p.as_rule() {
            Rule::params => params = p.into_inner().map(|n| r.ident(&n)).collect(),
            Rule::script_body => {
                let c = p.into_inner().next().unwrap();
                code_span = r.span(&c);
                code = c.as_str().to_string();
            }
            _ => {}
        }
    }
    ast.scripts.push(Script {
        name,
        params,
        code,
        code_span,
        span,
    });
}

/// `test "name" { test steps }`.
fn read_test(r: &mut Reader<'_>, item: Pair<'_, Rule>, ast: &mut Ast) {
    let span = r.span(&item);
    let mut inner = item.into_inner();
    let name = unquote(r, &inner.next().unwrap())
        .literal()
        .unwrap_or_default();
    let body = read_block(r, inner.next().unwrap(), StepContext::Test);
    ast.tests.push(Test { name, body, span });
}

/// The `when` condition and the action after `->` of a route or inbound route.
fn condition_and_action<'a>(
    r: &mut Reader<'_>,
    pairs: impl Iterator<Item = Pair<'a, Rule>>,
    ctx: StepContext,
) -> (Option<Condition>, Action) {
    let mut condition = None;
    let mut action = Block::default();
    for p in pairs {
        match p.as_rule() {
            Rule::when => condition = Some(read_condition(r, p.into_inner().next().unwrap())),
            Rule::action => action = read_action(r, p, ctx),
            _ => {}
        }
    }
    (condition, action)
}
