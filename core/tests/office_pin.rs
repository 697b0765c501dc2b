//! The shipped office plan's PIN change (999, 9, 7) shows no digit of either entry: its
//! second entry goes into a variable named `again`, which the compiler finds to be a PIN
//! because it is compared with the first (see `dsl/src/lower/secrets.rs`).

use std::sync::Arc;
use switchboard_core::call::Caller;
use switchboard_core::office;
use switchboard_core::store::Store;
use switchboard_core::world::World;
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, PromptCatalog, SourceFile, Sources, compile};

/// The plan in `dialplans/`, as `switchboard test dialplans` compiles it.
fn office() -> Arc<Plan> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../dialplans");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the dialplans folder")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "dial"))
        .collect();
    files.sort();
    let mut sources = Sources::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("a plan file");
        let name = format!("dialplans/{}", f.file_name().unwrap().to_string_lossy());
        sources.add(SourceFile::new(name, text));
    }
    compile(sources, &PromptCatalog::unchecked())
        .plan
        .expect("the office plan compiles")
}

#[test]
fn the_office_pin_change_shows_no_digit_of_either_entry() {
    let plan = office();
    let mut world = World::new(WallTime::default());
    world.store.set_pin("101", "2468").unwrap();
    let call = world.call(
        plan.clone(),
        Caller::Extension {
            number: "101".into(),
            device: None,
        },
        "999",
    );
    for keys in ["2468#", "9", "7", "5793#", "5793#"] {
        world.press(call, keys);
    }
    // The change happened ...
    assert!(office::pin_ok(&plan, &world.store, "101", "5793").unwrap());
    let trace: Vec<String> = world
        .get(call)
        .trace
        .iter()
        .map(|t| t.render(&plan))
        .collect();
    let all = trace.join("\n");
    assert!(all.contains("mailbox set_pin"), "{all}");
    // ... three PINs were typed (the old one, the new one twice) and each is masked ...
    assert_eq!(all.matches("digits \"****\"").count(), 3, "{all}");
    // ... and neither the old nor the new PIN shows, nor any run of their digits.
    for secret in ["2468", "5793", "246", "579", "793"] {
        assert!(!all.contains(secret), "{secret} shows in the trace:\n{all}");
    }
}

#[test]
fn the_office_plans_pin_variables_are_derived_not_named() {
    let plan = office();
    let secrets: Vec<&str> = plan.program.secrets.iter().map(String::as_str).collect();
    // `again` is not named like a PIN; it is one because it is compared with `new_pin`.
    assert!(secrets.contains(&"again"), "{secrets:?}");
    assert!(secrets.contains(&"new_pin"), "{secrets:?}");
    assert!(secrets.contains(&"pin"), "{secrets:?}");
}
