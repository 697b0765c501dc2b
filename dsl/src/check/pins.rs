//! PINs written in clear in the plan: a plan file is read by whoever may read the folder
//! (it is meant to be shared, diffed and kept in version control), so a PIN in it is no
//! secret. The warning points to `switchboard user set-pin`, which keeps only a salted
//! digest in the office store, or to the digest form `pin "sha256$…"` for a plan that
//! must carry its first PINs (a demo, or the PINs its `test` blocks type).

use crate::ast::{Ast, is_pin_digest};
use crate::diagnostic::Diagnostic;
use std::collections::HashSet;

pub fn check(ast: &Ast, diags: &mut Vec<Diagnostic>) {
    // A range of extensions shares one `pin` option, and gets one warning.
    let mut seen = HashSet::new();
    for e in &ast.extensions {
        let (Some(pin), Some(span)) = (&e.options.pin, e.options.pin_span) else {
            continue;
        };
        // A digest is the way to write it; anything else but digits is already a
        // `bad-pin` error, which says enough.
        let in_clear = (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit());
        if !in_clear || is_pin_digest(pin) || !seen.insert(span) {
            continue;
        }
        diags.push(
            Diagnostic::warning(
                "pin-in-plan",
                span,
                format!("the PIN of extension `{}` is written in clear", e.number),
            )
            .label("anyone who can read the plan can open this mailbox")
            .help(format!(
                "remove it and run `switchboard user set-pin {}` (the PIN on standard \
                 input), or write the digest `switchboard user set-pin {} --print` prints",
                e.number, e.number
            )),
        );
    }
}
