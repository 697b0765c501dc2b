//! The closed sandbox scripts run in: which parts of Rhai a plan may use, and nothing else.
//!
//! The engine is built from `Engine::new_raw()` — no functions at all — plus the packages
//! a decision needs: arithmetic, comparisons and logic, text, maths, arrays, maps and
//! ranges. Rhai's language-core package is left out on purpose: it brings `sleep` (a
//! script that waits blocks the thread running every call), `exit`, `parse_json` and
//! reflection. The time package is left out too (and the crate is built with `no_time`):
//! `timestamp()` would make the same simulated call take different branches from run to
//! run. `print`, `debug`, `eval`, `import` and `export` are disabled as words, so a script
//! cannot print, evaluate text or load a module. Scripts see time only as the call's
//! `time` value, which whoever owns the clock hands in.

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage, BasicMathPackage,
    BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Engine, EvalAltResult, INT, ImmutableString, OptimizationLevel, Position};

type RhaiResultOf<T> = Result<T, Box<EvalAltResult>>;
use std::collections::BTreeSet;

/// Operations one script run may take: enough for any real decision, a few milliseconds.
pub const MAX_OPERATIONS: u64 = 100_000;

/// Words Rhai knows that the sandbox turns off, each with what to do instead.
pub const DISABLED_WORDS: &[(&str, &str)] = &[
    (
        "print",
        "scripts cannot print; return the value, and the call's trace shows the decision",
    ),
    (
        "debug",
        "scripts cannot print; return the value, and the call's trace shows the decision",
    ),
    (
        "eval",
        "scripts cannot evaluate text as code; write the expression itself",
    ),
    (
        "import",
        "scripts cannot load modules; put shared logic in a `script` block of the plan",
    ),
    (
        "export",
        "scripts cannot export; a `script` block returns its last value",
    ),
];

/// Functions of full Rhai that the sandbox leaves out, each with what to write instead.
/// They are unknown to the engine; naming them gets this help rather than a bare
/// "unknown function".
pub const LEFT_OUT_FUNCTIONS: &[(&str, &str)] = &[
    (
        "sleep",
        "scripts decide and never wait; to pause the call use the step `wait 2s`",
    ),
    (
        "timestamp",
        "scripts see office time only as `time` (time.hour, time.weekday, …), so tests and the simulator give the same answer every run",
    ),
    ("exit", "a script ends by returning its last value"),
    (
        "parse_json",
        "scripts work on the call's values, not on JSON text",
    ),
    (
        "print",
        "scripts cannot print; return the value, and the call's trace shows the decision",
    ),
    (
        "debug",
        "scripts cannot print; return the value, and the call's trace shows the decision",
    ),
];

/// The Rhai engine of the sandbox with every limit set.
pub fn engine() -> Engine {
    let mut engine = Engine::new_raw();
    ArithmeticPackage::new().register_into_engine(&mut engine);
    LogicPackage::new().register_into_engine(&mut engine);
    BasicStringPackage::new().register_into_engine(&mut engine);
    MoreStringPackage::new().register_into_engine(&mut engine);
    BasicMathPackage::new().register_into_engine(&mut engine);
    BasicArrayPackage::new().register_into_engine(&mut engine);
    BasicMapPackage::new().register_into_engine(&mut engine);
    BasicIteratorPackage::new().register_into_engine(&mut engine);
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
    // The names a script sees are declared as constants (with no value) when it is
    // compiled; an optimiser would fold those placeholders into the compiled script.
    engine.set_optimization_level(OptimizationLevel::None);
    refuse_mixed_comparisons(&mut engine);
    for (word, _) in DISABLED_WORDS {
        engine.disable_symbol(*word);
    }
    // Belt and braces: even if a package that prints were added, nothing reaches a stream.
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine
}

/// Rhai answers `false` when text is compared with a number (`dialled == 101`,
/// `time.hour > "8"`), so such a condition is silently never true. In the sandbox the
/// comparison fails instead — on every call, so the check's dry run reports it where it
/// is written. Registered functions win over Rhai's built-in fallback only with fast
/// operators off.
fn refuse_mixed_comparisons(engine: &mut Engine) {
    engine.set_fast_operators(false);
    for op in ["==", "!=", ">", ">=", "<", "<="] {
        engine.register_fn(
            op,
            move |_: INT, _: ImmutableString| -> RhaiResultOf<bool> {
                Err(mixed(op, "i64, String"))
            },
        );
        engine.register_fn(
            op,
            move |_: ImmutableString, _: INT| -> RhaiResultOf<bool> {
                Err(mixed(op, "String, i64"))
            },
        );
        engine.register_fn(
            op,
            move |_: bool, _: ImmutableString| -> RhaiResultOf<bool> {
                Err(mixed(op, "bool, String"))
            },
        );
        engine.register_fn(
            op,
            move |_: ImmutableString, _: bool| -> RhaiResultOf<bool> {
                Err(mixed(op, "String, bool"))
            },
        );
    }
}

/// The same error Rhai gives for an operator with no function for its operand types, so
/// the message and the check treat both alike.
fn mixed(op: &str, types: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorFunctionNotFound(format!("{op} ({types})"), Position::NONE).into()
}

/// Every function name a script may call, as the engine has them: what `docs/language.md`
/// lists, and the candidates for "did you mean".
pub fn function_names(engine: &Engine) -> BTreeSet<String> {
    engine
        .gen_fn_signatures(true)
        .iter()
        .filter_map(|signature| {
            let name = signature.split('(').next()?.trim();
            let name = name
                .strip_prefix("get$")
                .or_else(|| name.strip_prefix("set$"))
                .unwrap_or(name);
            // Operators and indexers are written as symbols, not called by name.
            let callable = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && !name.contains('$')
                // `print` and `debug` exist as functions (text conversion for printing),
                // but their words are disabled, so no script can call them.
                && !DISABLED_WORDS.iter().any(|(word, _)| *word == name);
            callable.then(|| name.to_string())
        })
        .collect()
}

/// What to write instead of a word or function the sandbox leaves out, if `name` is one.
pub fn left_out(name: &str) -> Option<&'static str> {
    LEFT_OUT_FUNCTIONS
        .iter()
        .chain(DISABLED_WORDS)
        .find(|(n, _)| *n == name)
        .map(|(_, help)| *help)
}
