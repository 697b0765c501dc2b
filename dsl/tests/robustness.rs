//! Bad input never panics or hangs `compile`: empty and comment-only files, bytes that are
//! not UTF-8, 10 MB files, nesting 10,000 deep, a script that never ends, and random bytes
//! and random mixtures of dialplan tokens. Every diagnostic must point inside its file, on
//! character boundaries, and render.

mod support;

use proptest::prelude::*;
use std::time::{Duration, Instant};
use switchboard_dsl::script::MAX_OPERATIONS;
use switchboard_dsl::syntax::{MAX_FILE_BYTES, MAX_NESTING};
use switchboard_dsl::{Compiled, Diagnostic, PromptCatalog, SourceFile, Sources, Span, compile};

fn compile_file(file: SourceFile) -> Compiled {
    let mut sources = Sources::new();
    sources.add(file);
    let compiled = compile(sources, &PromptCatalog::unchecked());
    assert_spans_valid(&compiled);
    compiled
}

fn compile_text(text: &str) -> Compiled {
    compile_file(SourceFile::new("plan.dial", text))
}

/// Every span (main and related) lies inside its file and on character boundaries, and
/// the human rendering, which slices the text by those spans, does not panic.
fn assert_spans_valid(compiled: &Compiled) {
    let check = |span: Span, d: &Diagnostic| {
        let text = &compiled.sources.get(span.file).text;
        let (start, end) = (span.start as usize, span.end as usize);
        assert!(
            start <= end && end <= text.len(),
            "span {start}..{end} outside a file of {} bytes: {d:?}",
            text.len()
        );
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "span {start}..{end} not on character boundaries: {d:?}"
        );
    };
    for d in &compiled.diagnostics {
        check(d.span, d);
        for (span, _) in &d.related {
            check(*span, d);
        }
    }
    let _ = switchboard_dsl::render::human(&compiled.diagnostics, &compiled.sources, false);
}

fn codes(compiled: &Compiled) -> Vec<&'static str> {
    compiled.diagnostics.iter().map(|d| d.code).collect()
}

/// The one diagnostic with `code`, or a failure listing what there was.
fn only<'a>(compiled: &'a Compiled, code: &str) -> &'a Diagnostic {
    let found: Vec<&Diagnostic> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one `{code}` diagnostic, got {:?}",
        codes(compiled)
    );
    found[0]
}

/// A small deterministic generator, so the big inputs are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

// ---- empty and near-empty -------------------------------------------------------------------

#[test]
fn an_empty_file_compiles() {
    let c = compile_text("");
    assert_eq!(c.errors(), 0, "{:?}", codes(&c));
}

#[test]
fn a_file_of_only_comments_and_blank_lines_compiles() {
    let c =
        compile_text("# nothing here yet\n\n   # indented comment\r\n\t\n# last line, no newline");
    assert_eq!(c.errors(), 0, "{:?}", codes(&c));
}

#[test]
fn no_files_at_all_compile() {
    let c = compile(Sources::new(), &PromptCatalog::unchecked());
    assert_eq!(c.errors(), 0);
}

// ---- not UTF-8 --------------------------------------------------------------------------------

#[test]
fn bytes_that_are_not_utf8_are_reported_at_their_line_and_column() {
    // Line 3; before the bad byte are `flow f { play "`, a two-byte `é` (one column) and
    // `-h`: 18 characters, so column 19.
    let mut bytes = b"# menu\ndial \"1\" -> hangup\nflow f { play \"\xc3\xa9-h".to_vec();
    let bad_at = bytes.len();
    bytes.extend_from_slice(b"\xe9llo\" }\n");
    let c = compile_file(SourceFile::from_bytes("bad.dial", bytes));
    let d = only(&c, "not-utf8");
    assert!(d.is_error());
    assert_eq!(d.span.start as usize, bad_at);
    let file = c.sources.get(d.span.file);
    let lc = file.line_col(d.span.start as usize);
    assert_eq!((lc.line, lc.column), (3, 19));
    assert_eq!(c.sources.location(d.span), "bad.dial:3:19");
    // A file that is not UTF-8 is not parsed: no other findings.
    assert_eq!(c.diagnostics.len(), 1, "{:?}", codes(&c));
    assert!(c.plan.is_none());
}

#[test]
fn not_utf8_on_the_first_line_after_multibyte_text() {
    // `é` (2 bytes) then a lone continuation byte: column 3 in characters.
    let c = compile_file(SourceFile::from_bytes(
        "x.dial",
        b"\xc3\xa9 \x80 rest\n".to_vec(),
    ));
    let d = only(&c, "not-utf8");
    let lc = c.sources.get(d.span.file).line_col(d.span.start as usize);
    assert_eq!((lc.line, lc.column), (1, 3));
}

#[test]
fn a_truncated_multibyte_character_at_the_end_of_the_file() {
    let c = compile_file(SourceFile::from_bytes("x.dial", b"# ok\n\xe2\x82".to_vec()));
    let d = only(&c, "not-utf8");
    let lc = c.sources.get(d.span.file).line_col(d.span.start as usize);
    assert_eq!((lc.line, lc.column), (2, 1));
}

#[test]
fn one_bad_file_does_not_hide_the_others() {
    let mut sources = Sources::new();
    sources.add(SourceFile::from_bytes("bad.dial", vec![0xff, 0xfe, b'\n']));
    sources.add(SourceFile::new(
        "good.dial",
        "dial \"1\" -> flow nowhere\ndevice \"00:15\"\n",
    ));
    let c = compile(sources, &PromptCatalog::unchecked());
    assert_spans_valid(&c);
    // The good file's own mistake is reported; a name it uses is not called unknown, since
    // the file that could not be read may define it.
    assert_eq!(codes(&c), ["not-utf8", "bad-mac"]);
}

// ---- 10 MB files ------------------------------------------------------------------------------

const TEN_MB: usize = 10 * 1000 * 1000;

#[test]
fn ten_megabytes_of_printable_garbage_is_reported_not_fatal() {
    let mut rng = Lcg(7);
    let mut text = String::with_capacity(TEN_MB + 200);
    while text.len() < TEN_MB {
        // Lines of printable ASCII, some starting with a top-level keyword so the
        // recovery parse cuts the file into many pieces.
        if rng.next().is_multiple_of(8) {
            text.push_str(
                ["dial ", "flow ", "extension ", "script ", "queue "][rng.next() as usize % 5],
            );
        }
        let len = rng.next() % 120;
        for _ in 0..len {
            text.push(char::from(b' ' + (rng.next() % 95) as u8));
        }
        text.push('\n');
    }
    assert!(text.len() < MAX_FILE_BYTES);
    let started = Instant::now();
    let c = compile_text(&text);
    assert!(c.errors() > 0);
    assert!(c.plan.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn ten_megabytes_of_garbage_without_brackets_reaches_the_parser() {
    // Without brackets the nesting guard has nothing to refuse, so pest and the
    // item-by-item recovery parse see all of it.
    let mut rng = Lcg(11);
    let alphabet: Vec<char> = (b' '..=b'~')
        .map(char::from)
        .filter(|c| !"{}()[]".contains(*c))
        .collect();
    let mut text = String::with_capacity(TEN_MB + 200);
    while text.len() < TEN_MB {
        if rng.next().is_multiple_of(4) {
            text.push_str(
                ["dial ", "flow ", "extension ", "inbound ", "chat "][rng.next() as usize % 5],
            );
        }
        for _ in 0..rng.next() % 80 {
            text.push(alphabet[rng.next() as usize % alphabet.len()]);
        }
        text.push('\n');
    }
    let c = compile_text(&text);
    assert!(codes(&c).contains(&"syntax"));
    assert!(c.plan.is_none());
}

#[test]
fn ten_megabytes_of_valid_extensions_compile() {
    // 10 MB is below the 16 MiB limit, so it is a plan like any other.
    let mut text = String::with_capacity(TEN_MB + 100);
    let mut n = 1_000_000u32;
    while text.len() < TEN_MB {
        // A PIN in clear would be a `pin-in-plan` warning; the digest form is clean.
        text.push_str(&format!(
            "extension {n} \"Desk {n}\" {{ voicemail; pin \"{}\" }}\n",
            support::PIN_DIGEST
        ));
        n += 1;
    }
    assert!(text.len() >= TEN_MB && text.len() < MAX_FILE_BYTES);
    let c = compile_text(&text);
    let found = codes(&c);
    assert!(found.is_empty(), "{:?}", &found[..found.len().min(5)]);
    assert!(c.plan.is_some(), "a clean plan is built");
}

#[test]
fn a_file_over_the_limit_is_refused_cleanly() {
    let line = "extension 100 \"Desk\"\n";
    let text = line.repeat(MAX_FILE_BYTES / line.len() + 1);
    let c = compile_text(&text);
    let d = only(&c, "file-too-large");
    assert_eq!((d.span.start, d.span.end), (0, 0));
    assert_eq!(c.diagnostics.len(), 1);
}

// ---- deep nesting -----------------------------------------------------------------------------

const DEEP: usize = 10_000;

/// The nesting diagnostic, at the first bracket past the limit.
fn assert_too_deep(text: &str, first_open: usize) {
    let c = compile_text(text);
    let d = only(&c, "nesting-too-deep");
    assert!(d.is_error());
    let at = d.span.start as usize;
    assert!(at >= first_open, "points before the nesting: {at}");
    assert!(
        "{([".contains(&text[at..at + 1]),
        "points at {:?}, not a bracket",
        &text[at..at + 1]
    );
    let depth = text[first_open..=at]
        .bytes()
        .filter(|b| b"{([".contains(b))
        .count();
    assert_eq!(
        depth,
        MAX_NESTING + 1,
        "points at the first bracket too deep"
    );
}

#[test]
fn ten_thousand_nested_ifs_are_refused() {
    let mut text = String::from("dial \"1\" -> flow f\nflow f {\n");
    let first_open = text.len() - 2;
    for _ in 0..DEEP {
        text.push_str("if caller == \"100\" {\n");
    }
    text.push_str("hangup\n");
    for _ in 0..DEEP {
        text.push_str("}\n");
    }
    text.push_str("}\n");
    assert_too_deep(&text, first_open);
}

#[test]
fn ten_thousand_parentheses_in_a_condition_are_refused() {
    let mut text = String::from("dial \"1\" when ");
    let first_open = text.len();
    text.push_str(&"(".repeat(DEEP));
    text.push_str("caller == \"100\"");
    text.push_str(&")".repeat(DEEP));
    text.push_str(" -> hangup\n");
    assert_too_deep(&text, first_open);
}

#[test]
fn ten_thousand_braces_in_a_script_are_refused() {
    let mut text = String::from("script deep() ");
    let first_open = text.len();
    text.push('{');
    text.push_str(&"{".repeat(DEEP));
    text.push_str(" 1 ");
    text.push_str(&"}".repeat(DEEP));
    text.push_str("}\n");
    assert_too_deep(&text, first_open);
}

#[test]
fn ten_thousand_unclosed_brackets_are_refused() {
    for open in ["{", "(", "["] {
        let text = format!("flow f {}", open.repeat(DEEP));
        assert_too_deep(&text, 7);
    }
}

#[test]
fn brackets_after_a_backslash_in_back_quotes_are_counted() {
    // In back-quotes `\` escapes nothing: "`\`" is closed, so the parentheses after it
    // are a condition nested 10,000 deep and must be refused, not read recursively.
    let mut text = String::from("dial \"1\" when `\\` and ");
    let first_open = text.len();
    text.push_str(&"(".repeat(DEEP));
    text.push_str("caller == \"100\"");
    text.push_str(&")".repeat(DEEP));
    text.push_str(" -> hangup\n");
    assert_too_deep(&text, first_open);
}

#[test]
fn braces_hidden_from_the_nesting_guard_in_a_script_do_not_crash() {
    // Inside a script body `#` and back-quotes are Rhai's, not comments or expressions,
    // so the guard skips what follows them on the line; the parser's own stack guard
    // must then stop the recursion.
    for hide in ["# ", "` "] {
        let text = format!(
            "script s() {{ {hide}{}1{}\n}}\n",
            "{".repeat(DEEP),
            "}".repeat(DEEP)
        );
        let c = compile_text(&text);
        assert!(c.errors() > 0, "{hide:?}: {:?}", codes(&c));
    }
}

#[test]
fn a_hundred_thousand_nots_do_not_overflow_the_stack() {
    let text = format!(
        "dial \"1\" when {}caller == \"1\" -> hangup\n",
        "not ".repeat(100_000)
    );
    let c = compile_text(&text);
    let _ = c;
}

#[test]
fn long_flat_chains_compile() {
    // `then`, `else if` and `and` chains are repetition, not nesting: no limit applies.
    let n = 20_000;
    let thens = format!("dial \"1\" -> answer{}\n", " then answer".repeat(n));
    assert_eq!(compile_text(&thens).errors(), 0);
    let ands = format!(
        "dial \"1\" when caller == \"1\"{} -> hangup\n",
        " and caller == \"2\"".repeat(n)
    );
    assert_eq!(compile_text(&ands).errors(), 0);
    let else_ifs = format!(
        "dial \"1\" -> flow f\nflow f {{\n    if caller == \"1\" {{ answer }}{}\n}}\n",
        " else if caller == \"2\" { answer }".repeat(n)
    );
    assert_eq!(compile_text(&else_ifs).errors(), 0);
}

#[test]
fn deep_nesting_just_inside_the_limit_compiles() {
    // MAX_NESTING levels in all: the flow's block and the `if` blocks inside it.
    let mut text = String::from("dial \"1\" -> flow f\nflow f {\n");
    for _ in 0..MAX_NESTING - 1 {
        text.push_str("if caller == \"100\" {\n");
    }
    text.push_str("hangup\n");
    for _ in 0..MAX_NESTING {
        text.push_str("}\n");
    }
    let c = compile_text(&text);
    assert_eq!(c.errors(), 0, "{:?}", codes(&c));
}

// ---- scripts that never end -------------------------------------------------------------------

#[test]
fn an_endless_script_is_stopped_by_the_operation_limit() {
    let text = "script forever() { loop { } }\n\ndial \"5\" when forever() -> hangup\n";
    let started = Instant::now();
    let c = compile_text(text);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let body_start = text.find("{ loop").unwrap() + 1;
    let body_end = text.find("\n\n").unwrap() - 1;
    let d = c
        .diagnostics
        .iter()
        .find(|d| {
            d.message.contains("operations")
                || d.help.as_deref().is_some_and(|h| h.contains("operations"))
        })
        .unwrap_or_else(|| panic!("no operation-limit diagnostic: {:?}", c.diagnostics));
    assert!(d.is_error());
    assert!(
        d.message.contains(&MAX_OPERATIONS.to_string()),
        "the message names the limit: {}",
        d.message
    );
    assert!(
        (body_start..=body_end).contains(&(d.span.start as usize)),
        "points into the script body {body_start}..{body_end}: {:?} `{}`",
        d.span,
        &text[d.span.range()]
    );
    assert!(c.plan.is_none());
}

// ---- random input -----------------------------------------------------------------------------

/// Every piece: the top-level words the parser knows, then the rest.
fn tokens() -> Vec<&'static str> {
    switchboard_dsl::syntax::TOP_LEVEL
        .iter()
        .chain(STEP_TOKENS)
        .copied()
        .collect()
}

/// Pieces a dialplan is made of besides the top-level words, to be shuffled into
/// near-misses of real plans.
const STEP_TOKENS: &[&str] = &[
    "if",
    "else",
    "repeat",
    "times",
    "menu",
    "when",
    "then",
    "not",
    "and",
    "or",
    "to",
    "timeout",
    "retries",
    "invalid",
    "answer",
    "hangup",
    "play",
    "ask",
    "digits",
    "goto",
    "call",
    "set",
    "voicemail",
    "livechat",
    "sms",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "->",
    "..",
    "=",
    "==",
    "!=",
    ",",
    ";",
    "\n",
    "\r\n",
    "\\\n",
    "\"",
    "`",
    "#",
    " ",
    "\t",
    "\"999\"",
    "\"{ext:XXX}\"",
    "\"*77*{e:XXX}*\"",
    "\"{n:NXX.}\"",
    "\"[1-\"",
    "\"{\"",
    "\"\\",
    "`caller.number == \"1\"`",
    "`loop {}`",
    "100",
    "5s",
    "3..8",
    "f",
    "x",
    "caller",
    "SP1",
    "\"main\"",
    "\"é\"",
    "ü",
    "🙂",
    "\u{0}",
    "\u{feff}",
    "loop { }",
    "fn f() { f() }",
    "while true {}",
    "{ext}",
    "0..0",
    "99999999999999999999",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(tokens()), 0..80).prop_map(|tokens| {
        let mut s = String::new();
        for t in tokens {
            s.push_str(t);
            s.push(' ');
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        compile_file(SourceFile::from_bytes("random.dial", bytes));
    }

    #[test]
    fn random_printable_text_never_panics(text in "[ -~\n]{0,400}") {
        compile_text(&text);
    }

    #[test]
    fn random_token_soup_never_panics(text in token_soup()) {
        compile_text(&text);
    }

    #[test]
    fn token_soup_after_a_valid_plan_never_panics(text in token_soup()) {
        let plan = "extension 100 \"A\" { voicemail }\ndial \"{ext:XXX}\" -> extension ext\n\
                    flow f {\n    answer\n}\n";
        compile_text(&format!("{plan}{text}\n{plan}"));
    }
}

// ---- the benchmark's plan ---------------------------------------------------------------------

/// The generated plan of `benches/compile.rs` must keep checking clean as checks are
/// added, or the benchmark would measure the error path.
#[test]
fn the_benchmark_plan_checks_clean() {
    let mut sources = Sources::new();
    sources.add(SourceFile::new("office.dial", support::office_plan(1000)));
    let c = compile(sources, &support::office_prompts());
    let shown: Vec<String> = c
        .diagnostics
        .iter()
        .take(5)
        .map(|d| format!("{} {}: {}", c.sources.location(d.span), d.code, d.message))
        .collect();
    assert!(c.diagnostics.is_empty(), "{shown:#?}");
}
