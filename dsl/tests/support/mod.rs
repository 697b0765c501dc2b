//! A generated office plan of any size, for the `compile` benchmark and the tests that
//! keep it honest.
//!
//! The plans are shaped like `dialplans/`, scaled up: per 10 extensions a dial route with
//! its own literal prefix and a small flow (ask, if/else, menu); per 100 extensions a
//! queue; per 1,000 extensions two scripts, a trunk with two inbound routes, two chat
//! routes and a test. Plus the fixed part every office has (settings, trunk, park orbits,
//! external and feature-code routes, the voicemail flows). About 1.6 lines per extension.

#![allow(dead_code)]

use std::fmt::Write;
use std::path::Path;
use switchboard_dsl::PromptCatalog;

/// Extension numbers are six digits: 100000, 100001, ...
const FIRST_EXTENSION: usize = 100_000;
/// Queue numbers: 900000, 900001, ...
const FIRST_QUEUE: usize = 900_000;

/// The office plan for `extensions` extensions (a multiple of 1,000), as one file.
pub fn office_plan(extensions: usize) -> String {
    assert!(extensions.is_multiple_of(1000) && extensions > 0);
    let mut s = String::with_capacity(extensions * 100);
    let ext = |i: usize| FIRST_EXTENSION + i;
    let queue = |q: usize| FIRST_QUEUE + q;

    // ---- the fixed part ------------------------------------------------------------------
    s.push_str(&format!(
        "# Generated office plan: {extensions} extensions.\n\n\
         settings {{\n    \
             extension_digits = 6\n    \
             operator         = {op}\n    \
             language         = \"en\"\n    \
             timezone         = \"America/Chicago\"\n    \
             ring             = 20s\n\
         }}\n\n\
         trunk \"main\" {{\n    \
             host      \"sip.carrier.example\"\n    \
             numbers   \"+12605550100\", \"+12605550101\"\n\
         }}\n\n\
         park SP1, SP2\n\n\
         dial \"{{ext:1XXXXX}}\"          -> extension ext\n\
         dial \"{{n:NXXNXXXXXX}}\"        -> trunk \"main\" to \"+1{{n}}\"\n\
         dial \"1{{n:NXXNXXXXXX}}\"       -> trunk \"main\" to \"+1{{n}}\"\n\
         dial \"+1{{n:NXXNXXXXXX}}\"      -> trunk \"main\" to \"+1{{n}}\"\n\
         dial \"{{n:NXXXXX.}}\"           -> play \"invalid-number\" then hangup\n\
         dial \"1{{n:X.}}\"               -> play \"invalid-number\" then hangup\n\
         dial \"+{{n:X.}}\"               -> play \"invalid-number\" then hangup\n\
         dial \"999\"                    -> flow voicemail_login\n\
         dial \"*4{{ext:1XXXXX}}\"        -> voicemail ext\n\
         dial \"*62\"                    -> flow queue_login_all\n\
         dial \"*63\"                    -> flow queue_logout_all\n\
         dial \"SP{{slot:[12]}}\"         -> park_toggle \"SP{{slot}}\"\n\
         dial \"411\"                    -> directory\n\n\
         flow queue_login_all {{\n    answer\n    queue_login all\n    hangup\n}}\n\n\
         flow queue_logout_all {{\n    answer\n    queue_logout all\n    hangup\n}}\n\n\
         flow voicemail_login {{\n    \
             answer\n    \
             repeat 3 times {{\n        \
                 ask \"vm-enter-pin\" digits 4..8 until \"#\" timeout 10s -> pin\n        \
                 if pin_ok(caller, pin) {{\n            \
                     mailbox open caller\n            \
                     goto voicemail_main\n        \
                 }}\n        \
                 play \"vm-bad-pin\"\n    \
             }}\n    \
             play \"goodbye\"\n    \
             hangup\n\
         }}\n\n\
         flow voicemail_main {{\n    \
             mailbox say_count new\n    \
             menu \"vm-main\" timeout 10s {{\n        \
                 \"1\" -> mailbox select new then mailbox play\n        \
                 \"#\" -> play \"goodbye\" then hangup\n        \
                 retries 3 -> play \"goodbye\" then hangup\n        \
                 invalid -> play \"invalid-option\" then repeat\n    \
             }}\n\
         }}\n\n",
        op = ext(0),
    ));

    // ---- per 1,000 extensions: scripts, a site trunk, inbound and chat routes, a test --------------
    for k in 0..extensions / 1000 {
        let first = ext(k * 1000);
        writeln!(
            s,
            "script closed_{k}() {{\n    \
                 // Office {k}: open 8:00 to 18:00 on weekdays.\n    \
                 time.weekday >= 6 || time.hour < 8 || time.hour >= 18\n\
             }}\n\n\
             script vip_{k}(number) {{\n    \
                 number.len() > 4 && number.sub_string(0, 4) == \"+120\"\n\
             }}\n\n\
             trunk \"site_{k}\" {{ host \"sip{k}.carrier.example\"; numbers \"+1260556{k:04}\" }}\n\
             inbound trunk \"site_{k}\" to \"+1260556{k:04}\" when closed_{k}() -> play \"after-hours\" then voicemail {first}\n\
             inbound trunk \"site_{k}\" to \"+1260556{k:04}\" -> flow ivr_{g}(\"0\")\n\
             chat sms \"+1260556{k:04}\" when vip_{k}(\"+12605550000\") -> extension {first}\n\
             chat sms \"+1260556{k:04}\" -> queue {q}\n\n\
             test \"office {k} answers its number\" {{\n    \
                 call from {first} dial \"{first}\"\n    \
                 expect extension {first}\n\
             }}\n",
            g = k * 100,
            q = queue(k * 10),
        )
        .unwrap();
    }

    // ---- per 100 extensions: a queue -------------------------------------------------------
    for q in 0..extensions / 100 {
        let a = ext(q * 100);
        writeln!(
            s,
            "queue {} \"Team {q}\" {{ agents {}, {}, {}; managers {a}; strategy ring_all; ring 20s; then -> voicemail {a} }}",
            queue(q),
            a,
            a + 1,
            a + 2,
        )
        .unwrap();
    }
    s.push('\n');

    // ---- per 10 extensions: ten extensions, a dial route and a small flow ------------------
    for g in 0..extensions / 10 {
        for i in g * 10..g * 10 + 10 {
            let n = ext(i);
            match i % 4 {
                // A PIN as a digest (of 1234): one in clear would be a warning.
                0 => writeln!(
                    s,
                    "extension {n} \"User {n}\" {{ voicemail; pin \"{PIN_DIGEST}\" }}"
                ),
                1 => writeln!(s, "extension {n} \"User {n}\" {{ voicemail; hot_desk }}"),
                2 => writeln!(s, "extension {n} \"User {n}\" {{ voicemail; ring 30s }}"),
                _ => writeln!(s, "extension {n} \"User {n}\""),
            }
            .unwrap();
        }
        // A distinct literal prefix per group; two lengths so both buckets fill.
        let pattern = if g % 2 == 0 {
            format!("8{g:05}{{d:X}}")
        } else {
            format!("7{g:05}{{d:XX}}")
        };
        writeln!(s, "dial \"{pattern}\" -> flow ivr_{g}(d)").unwrap();
        let (a, b) = (ext(g * 10), ext(g * 10 + 2));
        writeln!(
            s,
            "flow ivr_{g}(d) {{\n    \
                 ask \"ticket-enter\" digits 4 timeout 5s -> code\n    \
                 if code == \"{:04}\" or d == \"1\" {{ extension {a} }} else {{ play \"please-hold\" }}\n    \
                 menu \"main-greeting\" timeout 5s {{ \"1\" -> extension {a}; \"2\" -> voicemail {b}; \"3\" -> queue {q}; invalid -> play \"invalid-option\" then repeat }}\n\
             }}",
            g % 10_000,
            q = queue(g / 10),
        )
        .unwrap();
    }
    s
}

/// The office's recorded prompts: the repository's `prompts/en/`, so the check of prompt
/// names (the plan's and the engine's system prompts) runs as it does for a real office.
pub fn office_prompts() -> PromptCatalog {
    fn walk(dir: &Path, prefix: &str, c: &mut PromptCatalog) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read the prompts folder {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, &format!("{prefix}{name}/"), c);
            } else if let Some(stem) = name.strip_suffix(".wav") {
                c.add("en", &format!("{prefix}{stem}"));
            }
        }
    }
    let mut c = PromptCatalog::default();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts/en"),
        "",
        &mut c,
    );
    c
}

/// A first PIN as a plan writes it without a warning: the salted digest of 1234 (salt of
/// zeros), as `switchboard user set-pin --print` would print it.
pub const PIN_DIGEST: &str = "sha256$00000000000000000000000000000000$e4ae0c82639990744974cc3495a82432d8c5366e5e5f1796b2f9a36ad12664b5";
