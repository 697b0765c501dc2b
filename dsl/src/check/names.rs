//! Definitions: the symbol table, duplicates, number lengths, MAC addresses, languages.

use crate::ast::visit::for_each_step;
use crate::ast::{Ast, TrunkTrust};
use crate::diagnostic::Diagnostic;
use crate::prompts::PromptCatalog;
use crate::settings::Settings;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Variables every call has.
/// `msg` is the chat message being routed (channel, from, to, text, language).
pub const BUILTIN_VARIABLES: &[&str] = &[
    "caller", "dialled", "operator", "mailbox", "language", "msg",
];

/// What the plan defines, by name, for resolving references.
#[derive(Default)]
pub struct Symbols {
    /// Extension numbers, with whether each has a mailbox.
    pub extensions: HashMap<String, bool>,
    pub queues: HashSet<String>,
    pub flows: HashMap<String, usize>,
    pub scripts: HashMap<String, usize>,
    pub trunks: HashSet<String>,
    pub orbits: HashSet<String>,
    /// Every variable any step, route capture or parameter defines.
    pub variables: HashSet<String>,
    /// Every prompt language the plan uses.
    pub languages: BTreeSet<String>,
}

impl Symbols {
    /// Extensions and queues: everything `extension NUMBER` can ring.
    pub fn is_dialable(&self, n: &str) -> bool {
        self.extensions.contains_key(n) || self.queues.contains(n)
    }
}

pub fn collect(
    ast: &Ast,
    settings: &Settings,
    prompts: &PromptCatalog,
    diags: &mut Vec<Diagnostic>,
) -> Symbols {
    let mut s = Symbols::default();
    let mut numbers: HashMap<&str, Span> = HashMap::new();
    let mut names: HashMap<String, Span> = HashMap::new();
    let dup = |kind: &str, what: &str, span: Span, first: Span, diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::error(
                "duplicate",
                span,
                format!("{kind} `{what}` is defined twice"),
            )
            .label("defined again here")
            .related(first, "first defined here")
            .help(format!(
                "give each {kind} its own {}",
                if kind.ends_with("name") {
                    "name"
                } else {
                    "number"
                }
            )),
        );
    };
    for e in &ast.extensions {
        if let Some(&first) = numbers.get(e.number.as_str()) {
            if first != e.number_span {
                dup("extension number", &e.number, e.number_span, first, diags);
            }
        } else {
            numbers.insert(&e.number, e.number_span);
        }
        s.extensions.insert(e.number.clone(), e.options.voicemail);
        if let (Some(name), Some(span)) = (&e.name, e.name_span) {
            let key = name.to_lowercase();
            match names.get(&key) {
                Some(&first) if first != span => dup("extension name", name, span, first, diags),
                Some(_) => {}
                None => {
                    names.insert(key, span);
                }
            }
        }
        if let Some(d) = settings.extension_digits
            && e.number.len() != d
        {
            diags.push(
                Diagnostic::error(
                    "extension-digits",
                    e.number_span,
                    format!(
                        "extension `{}` has {} digits, but settings say extensions have {d}",
                        e.number,
                        e.number.len()
                    ),
                )
                .label(format!("not {d} digits"))
                .help("change the number, or `extension_digits` in settings"),
            );
        }
        // A PIN under 4 digits is already refused where it is written.
        if let Some(pin) = &e.options.pin
            && (4..settings.pin_min_digits).contains(&pin.len())
        {
            diags.push(
                Diagnostic::error(
                    "bad-pin",
                    e.span,
                    format!(
                        "extension `{}` has a PIN shorter than {} digits",
                        e.number, settings.pin_min_digits
                    ),
                )
                .label("PIN too short")
                .help("lengthen the PIN, or lower `pin_min_digits` in settings"),
            );
        }
    }
    for q in &ast.queues {
        if let Some(&first) = numbers.get(q.number.as_str()) {
            dup("number", &q.number, q.number_span, first, diags);
        } else {
            numbers.insert(&q.number, q.number_span);
        }
        s.queues.insert(q.number.clone());
    }
    let mut seen = HashMap::new();
    for (i, f) in ast.flows.iter().enumerate() {
        if let Some(&first) = seen.get(f.name.name.as_str()) {
            dup("flow name", &f.name.name, f.name.span, first, diags);
        } else {
            seen.insert(f.name.name.as_str(), f.name.span);
            s.flows.insert(f.name.name.clone(), i);
        }
        s.variables.extend(f.params.iter().map(|p| p.name.clone()));
    }
    let mut seen = HashMap::new();
    for sc in &ast.scripts {
        if let Some(&first) = seen.get(sc.name.name.as_str()) {
            dup("script name", &sc.name.name, sc.name.span, first, diags);
        } else {
            seen.insert(sc.name.name.as_str(), sc.name.span);
            s.scripts.insert(sc.name.name.clone(), sc.params.len());
        }
    }
    let mut seen = HashMap::new();
    for t in &ast.trunks {
        if let Some(&first) = seen.get(t.name.name.as_str()) {
            dup("trunk name", &t.name.name, t.name.span, first, diags);
        } else {
            seen.insert(t.name.name.as_str(), t.name.span);
            s.trunks.insert(t.name.name.clone());
        }
    }
    check_trunk_users(ast, diags);
    let mut seen = HashMap::new();
    for o in &ast.orbits {
        if let Some(&first) = seen.get(o.name.as_str()) {
            dup("park orbit name", &o.name, o.span, first, diags);
        } else {
            seen.insert(o.name.as_str(), o.span);
            s.orbits.insert(o.name.clone());
        }
    }
    let mut seen = HashMap::new();
    for d in &ast.devices {
        check_mac(&d.mac, d.mac_span, diags);
        let key = d.mac.to_ascii_uppercase();
        if let Some(&first) = seen.get(&key) {
            dup("device MAC", &d.mac, d.mac_span, first, diags);
        } else {
            seen.insert(key, d.mac_span);
        }
    }
    s.languages = languages(ast, settings, prompts, diags);
    if let Some((op, span)) = &settings.operator
        && !s.is_dialable(op)
    {
        diags.push(
            Diagnostic::error(
                "unknown-extension",
                *span,
                format!("the operator `{op}` is not an extension"),
            )
            .label("no such extension")
            .help("define the extension, or set `operator` to one that exists"),
        );
    }
    s.variables
        .extend(BUILTIN_VARIABLES.iter().map(|v| v.to_string()));
    collect_variables(ast, &mut s.variables);
    s
}

/// A trunk's `inbound_user` signs in with a password of the store, like a phone: it must
/// be a name no phone has (or one phone's password would place the carrier's calls) and
/// belong to one trunk only.
fn check_trunk_users(ast: &Ast, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for t in &ast.trunks {
        let TrunkTrust::Digest { user } = &t.trust else {
            continue;
        };
        let name = user.name.as_str();
        let is_phone = ast.extensions.iter().any(|e| e.number == name)
            || ast.devices.iter().any(|d| d.mac.eq_ignore_ascii_case(name));
        let usable = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !name.chars().all(|c| c.is_ascii_digit());
        if is_phone || !usable {
            diags.push(
                Diagnostic::error(
                    "bad-trunk-user",
                    user.span,
                    format!("`{name}` cannot be the user a trunk signs in as"),
                )
                .label(if is_phone {
                    "a phone's user name"
                } else {
                    "not a user name"
                })
                .help(
                    "use a name of letters, digits, `-`, `_` or `.` that is not all digits \
                     and no extension or device has, like \"carrier-in\"",
                ),
            );
        } else if let Some(&first) = seen.get(name) {
            diags.push(
                Diagnostic::error(
                    "duplicate",
                    user.span,
                    format!("trunk user `{name}` belongs to two trunks"),
                )
                .label("used again here")
                .related(first, "first used here")
                .help("give each trunk its own `inbound_user`, so a call says which trunk it is"),
            );
        } else {
            seen.insert(name, user.span);
        }
    }
}

/// The prompt languages the plan uses that have prompts, reporting each one that has
/// none once, at its first use. A language without a `prompts/<lang>/` folder is one
/// mistake, so it is not also reported as every prompt missing in it.
fn languages(
    ast: &Ast,
    settings: &Settings,
    prompts: &PromptCatalog,
    diags: &mut Vec<Diagnostic>,
) -> BTreeSet<String> {
    // Every place a language is named, in source order.
    let mut uses: Vec<(Span, String)> = Vec::new();
    // A `language` setting that is not a language code is reported by the settings; the
    // office then keeps the default, which is not what that value says.
    if let Some(set) = ast.settings.iter().find(|x| x.key.name == "language")
        && set.value.literal().as_ref() == Some(&settings.language)
    {
        uses.push((set.value.span, settings.language.clone()));
    }
    for e in &ast.extensions {
        if let Some(lang) = &e.options.language {
            uses.push((lang.span, lang.name.clone()));
        }
    }
    for_each_step(ast, &mut |step| {
        if let crate::ast::StepKind::Language(l) = &step.kind {
            uses.push((l.span, l.name.clone()));
        }
    });
    // A range of extensions shares one span: that is one place, not one per number.
    uses.sort_by_key(|(span, _)| (span.file, span.start));
    uses.dedup();
    let mut used = BTreeSet::new();
    used.insert(settings.language.clone());
    let mut first: BTreeMap<&str, (Span, usize)> = BTreeMap::new();
    for (span, lang) in &uses {
        used.insert(lang.clone());
        first.entry(lang.as_str()).or_insert((*span, 0)).1 += 1;
    }
    let known: Vec<&str> = prompts.languages.keys().map(String::as_str).collect();
    for (lang, (span, count)) in &first {
        if prompts.has_language(lang) {
            continue;
        }
        let near = crate::suggest::did_you_mean(lang, known.iter().copied());
        let help = match (near, known.is_empty()) {
            (Some(n), _) => format!(
                "did you mean \"{n}\"? The prompt languages are: {}",
                known.join(", ")
            ),
            (None, true) => format!("record the prompts into prompts/{lang}/"),
            (None, false) => format!(
                "record the prompts into prompts/{lang}/, or use one of: {}",
                known.join(", ")
            ),
        };
        let more = match count - 1 {
            0 => String::new(),
            1 => " (used in 1 more place)".to_string(),
            n => format!(" (used in {n} more places)"),
        };
        diags.push(
            Diagnostic::error(
                "unknown-language",
                *span,
                format!("there are no `{lang}` prompts{more}"),
            )
            .label(format!("no prompts/{lang}/ folder"))
            .help(help),
        );
    }
    // The office language left at its default still needs prompts. Nothing names it, so
    // the finding goes to the plan's first step, the first thing that would play them.
    if !prompts.has_language(&settings.language)
        && !first.contains_key(settings.language.as_str())
        && let Some(span) = first_step(ast)
    {
        diags.push(
            Diagnostic::error(
                "unknown-language",
                span,
                format!(
                    "the plan's language is `{}` (the default), but there are no `{}` prompts",
                    settings.language, settings.language
                ),
            )
            .label("plays prompts in the office language")
            .help(format!(
                "set `language` in settings to one of: {}",
                known.join(", ")
            )),
        );
    }
    used.retain(|l| prompts.has_language(l));
    used
}

/// Where the plan's first step is, for a finding about the whole plan's prompts.
fn first_step(ast: &Ast) -> Option<Span> {
    let mut first: Option<Span> = None;
    for_each_step(ast, &mut |step| {
        if first.is_none_or(|f| (step.span.file, step.span.start) < (f.file, f.start)) {
            first = Some(step.span);
        }
    });
    first
}

/// A MAC is 12 hex digits with no separators, as the phone's label prints it.
fn check_mac(mac: &str, span: Span, diags: &mut Vec<Diagnostic>) {
    if mac.len() == 12 && mac.bytes().all(|b| b.is_ascii_hexdigit()) {
        return;
    }
    let cleaned: String = mac.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let help = if cleaned.len() == 12 {
        format!(
            "write it without separators: \"{}\"",
            cleaned.to_ascii_uppercase()
        )
    } else {
        "a MAC address is 12 hex digits (0-9, A-F) with no colons or dashes, like \"001565AABBCC\""
            .to_string()
    };
    diags.push(
        Diagnostic::error("bad-mac", span, format!("`{mac}` is not a MAC address"))
            .label("not 12 hex digits")
            .help(help),
    );
}

/// Variables defined anywhere: route captures, `ask ... -> x`, `set x = ...`, parameters.
fn collect_variables(ast: &Ast, vars: &mut HashSet<String>) {
    for r in &ast.routes {
        match crate::pattern::Pattern::parse(&r.pattern) {
            Ok(p) => vars.extend(p.captures.into_iter().map(|c| c.name)),
            // The pattern is reported already; still take its capture names, so its
            // action is not also blamed for using them.
            Err(_) => vars.extend(
                r.pattern
                    .split('{')
                    .skip(1)
                    .filter_map(|s| s.split_once(':').map(|(n, _)| n.to_string())),
            ),
        }
    }
    for_each_step(ast, &mut |step| match &step.kind {
        crate::ast::StepKind::Ask { into, .. } => {
            vars.insert(into.name.clone());
        }
        crate::ast::StepKind::Set { var, .. } => {
            vars.insert(var.name.clone());
        }
        _ => {}
    });
}
