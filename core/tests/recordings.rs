//! What becomes of recordings the office no longer keeps: a replaced greeting or name,
//! a deleted message. The engine says so with `DiscardRecording`, so the runtime can
//! remove the audio, and never for a recording still in use.

use std::sync::Arc;
use switchboard_core::call::Caller;
use switchboard_core::command::Command;
use switchboard_core::store::{Folder, Store};
use switchboard_core::world::World;
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, PromptCatalog, SourceFile, Sources, compile};

const PLAN: &str = r##"
extension 101 "Alice" { voicemail; pin "1234" }
dial "1" -> record greeting until "#"
dial "2" -> {
    mailbox open caller
    mailbox select new
    mailbox delete
}
"##;

fn plan() -> Arc<Plan> {
    let mut s = Sources::new();
    s.add(SourceFile::new("t.dial", PLAN));
    let c = compile(s, &PromptCatalog::unchecked());
    c.plan.expect("the plan compiles")
}

fn alice() -> Caller {
    Caller::Extension {
        number: "101".into(),
        device: None,
    }
}

fn discarded(world: &World, call: usize) -> Vec<String> {
    world
        .get(call)
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::DiscardRecording(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_greeting_discards_the_one_it_replaces() {
    let plan = plan();
    let mut world = World::new(WallTime::default());
    let first = world.call(plan.clone(), alice(), "1");
    world.press(first, "#");
    assert_eq!(
        world.store.greeting("101").unwrap().as_deref(),
        Some("rec-1")
    );
    assert_eq!(discarded(&world, first), Vec::<String>::new());
    let second = world.call(plan, alice(), "1");
    world.press(second, "#");
    assert_eq!(
        world.store.greeting("101").unwrap().as_deref(),
        Some("rec-2")
    );
    assert_eq!(discarded(&world, second), vec!["rec-1".to_string()]);
}

#[test]
fn a_deleted_message_discards_its_recording() {
    let plan = plan();
    let mut world = World::new(WallTime::default());
    world
        .store
        .add_message(
            "101",
            switchboard_core::store::NewMessage {
                recording: "msg-7".into(),
                from: "+15555550100".into(),
                duration_ms: 3000,
                received: "2026-11-23 09:00".into(),
            },
        )
        .unwrap();
    let call = world.call(plan, alice(), "2");
    assert_eq!(discarded(&world, call), vec!["msg-7".to_string()]);
    assert!(world.store.messages("101", Folder::New).unwrap().is_empty());
}

#[test]
fn the_default_greeting_speaks_the_mailbox_owners_language() {
    let mut s = Sources::new();
    s.add(SourceFile::new(
        "t.dial",
        "extension 101 \"Alice\" { voicemail }\n\
         extension 102 \"Bruno\" { voicemail; language \"de\" }\n\
         dial \"*4{ext:XXX}\" -> voicemail ext\n",
    ));
    let plan = compile(s, &PromptCatalog::unchecked()).plan.unwrap();
    let mut world = World::new(WallTime::default());
    let call = world.call(plan, alice(), "*4102");
    let greeting = world.get(call).commands.iter().find_map(|c| match c {
        Command::Play {
            media, language, ..
        } => Some((media.len(), language.clone())),
        _ => None,
    });
    // vm-unavailable, 1 0 2, vm-is-unavailable, beep: in Bruno's German, not Alice's English.
    assert_eq!(greeting, Some((6, "de".to_string())));
}
