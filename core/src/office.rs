//! The office's rules: who has a mailbox and which PIN opens it, who may log whom in to a
//! queue, who may sit at a hot desk, what a park orbit holds and who dial-by-name finds.
//!
//! These are plain functions over the immutable `Plan` and the mutable `Store`, so the call
//! engine, the admin page and the plan's `test` blocks all apply the same rules. The plan
//! says what is allowed; the store remembers what happened.

mod directory;
mod hot_desk;
mod pin_lock;
mod queues;

pub use directory::directory_matches;
pub use hot_desk::{
    HotDeskLogin, HotDeskRefusal, end_hot_desk_login, hot_desk_login, hot_desk_logins,
    hot_desk_logout,
};
pub use pin_lock::{
    FIRST_LOCK_MS, MAX_FAILURES, MAX_LOCK_MS, PinCheck, WINDOW_MS, lock_length, try_pin,
};
pub use queues::{
    QueueRefusal, QueueSelection, agent_answered, agent_call_ended, agent_queues, in_wrap_up,
    is_agent, is_manager, logged_in_agents, manages, offer_order, queue_login,
};

use crate::pin::PinHash;
use crate::store::{ParkedCall, Store, StoreError};
use switchboard_dsl::Plan;

/// Whether `ext` is an extension of the plan.
pub fn is_extension(plan: &Plan, ext: &str) -> bool {
    plan.extension(ext).is_some()
}

/// Whether `ext` is an extension with a mailbox (the `voicemail` option).
pub fn has_voicemail(plan: &Plan, ext: &str) -> bool {
    plan.extension(ext).is_some_and(|e| e.options.voicemail)
}

/// Whether `ext` may log in on hot-desk phones (the `hot_desk` option).
pub fn hot_desk_allowed(plan: &Plan, ext: &str) -> bool {
    plan.extension(ext).is_some_and(|e| e.options.hot_desk)
}

/// Whether `pin` opens `mailbox`, without counting the attempt or minding a lock: calls
/// go through `try_pin`, which does both and then asks this.
///
/// A PIN the owner set (kept in the store) wins over the plan's `pin` option, which is only
/// the first PIN. An extension without voicemail has no mailbox to open, and a mailbox
/// with no PIN at all stays shut rather than open to anyone; an empty PIN never matches,
/// so a caller who just presses `#` is not let in.
pub fn pin_ok(
    plan: &Plan,
    store: &dyn Store,
    mailbox: &str,
    pin: &str,
) -> Result<bool, StoreError> {
    if pin.is_empty() || !has_voicemail(plan, mailbox) {
        return Ok(false);
    }
    if let Some(stored) = store.check_pin(mailbox, pin)? {
        return Ok(stored);
    }
    let Some(initial) = plan
        .extension(mailbox)
        .and_then(|e| e.options.pin.as_deref())
    else {
        return Ok(false);
    };
    // The plan may hold the PIN as a salted digest (`pin "sha256$…"`); the check accepted
    // only digests of the right shape, so one that does not parse opens nothing.
    if switchboard_dsl::ast::is_pin_digest(initial) {
        return Ok(initial
            .parse::<PinHash>()
            .is_ok_and(|digest| digest.verify(pin)));
    }
    // Going through a digest gives the plan's PIN the same constant-time comparison as a
    // stored one; the salt does not matter for a value that is never kept.
    Ok(!initial.is_empty() && PinHash::new(initial, [0; 16]).verify(pin))
}

/// Parks a call in an orbit; false, and nothing changes, when the orbit is occupied.
pub fn park(store: &mut dyn Store, orbit: &str, call: ParkedCall) -> Result<bool, StoreError> {
    if store.parked(orbit)?.is_some() {
        return Ok(false);
    }
    store.set_parked(orbit, Some(call))?;
    Ok(true)
}

/// Takes the call out of an orbit, leaving it free; `None` when nothing was parked there.
pub fn unpark(store: &mut dyn Store, orbit: &str) -> Result<Option<ParkedCall>, StoreError> {
    let parked = store.parked(orbit)?;
    if parked.is_some() {
        store.set_parked(orbit, None)?;
    }
    Ok(parked)
}

/// Whether a call waits in the orbit (what `park_toggle` decides on).
pub fn park_occupied(store: &dyn Store, orbit: &str) -> Result<bool, StoreError> {
    Ok(store.parked(orbit)?.is_some())
}

/// Compiles a dialplan for the tests of this module and its children, showing every
/// diagnostic if it does not compile, so a broken fixture says why.
#[cfg(test)]
fn test_plan(text: &str) -> std::sync::Arc<Plan> {
    let mut sources = switchboard_dsl::Sources::new();
    sources.add(switchboard_dsl::SourceFile::new("t.dial", text));
    let compiled = switchboard_dsl::compile(sources, &switchboard_dsl::PromptCatalog::unchecked());
    match compiled.plan {
        Some(plan) => plan,
        None => panic!(
            "the test plan does not compile:\n{}",
            switchboard_dsl::render::human(&compiled.diagnostics, &compiled.sources, false)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CallId;
    use crate::store::MemoryStore;

    const PLAN: &str = r#"
extension 100 "Front Desk" { voicemail }
extension 101 "Alice Adams" { voicemail; hot_desk; pin "1234" }
extension 102 "Bruno Braun" { pin "2345" }
park SP1, SP2
"#;

    #[test]
    fn extension_predicates_follow_the_plan_options() {
        let plan = test_plan(PLAN);
        assert!(is_extension(&plan, "100"));
        assert!(!is_extension(&plan, "199"));
        assert!(has_voicemail(&plan, "101"));
        assert!(!has_voicemail(&plan, "102"));
        assert!(!has_voicemail(&plan, "199"));
        assert!(hot_desk_allowed(&plan, "101"));
        assert!(!hot_desk_allowed(&plan, "100"));
        assert!(!hot_desk_allowed(&plan, "199"));
    }

    #[test]
    fn the_plan_pin_opens_the_mailbox_until_the_owner_sets_one() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        assert!(pin_ok(&plan, &store, "101", "1234").unwrap());
        assert!(!pin_ok(&plan, &store, "101", "123").unwrap());
        assert!(!pin_ok(&plan, &store, "101", "12345").unwrap());

        store.set_pin("101", "8642").unwrap();
        assert!(pin_ok(&plan, &store, "101", "8642").unwrap());
        // Once changed, the plan's first PIN no longer works.
        assert!(!pin_ok(&plan, &store, "101", "1234").unwrap());
    }

    #[test]
    fn a_digest_in_the_plan_opens_with_its_pin_only() {
        let digest = PinHash::new("2468", [9; 16]).to_string();
        assert!(switchboard_dsl::ast::is_pin_digest(&digest));
        let plan = test_plan(&format!(
            "extension 105 \"Eve\" {{ voicemail; pin \"{digest}\" }}\n"
        ));
        let store = MemoryStore::new();
        assert!(pin_ok(&plan, &store, "105", "2468").unwrap());
        assert!(!pin_ok(&plan, &store, "105", "2469").unwrap());
        // The digest text itself is no PIN.
        assert!(!pin_ok(&plan, &store, "105", &digest).unwrap());
    }

    #[test]
    fn no_mailbox_no_pin_or_an_empty_pin_never_opens() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        // 100 has voicemail but no PIN anywhere: it stays shut.
        assert!(!pin_ok(&plan, &store, "100", "").unwrap());
        assert!(!pin_ok(&plan, &store, "100", "0000").unwrap());
        // 102 has a PIN but no voicemail, so there is no mailbox to open.
        assert!(!pin_ok(&plan, &store, "102", "2345").unwrap());
        store.set_pin("102", "2345").unwrap();
        assert!(!pin_ok(&plan, &store, "102", "2345").unwrap());
        // Unknown extensions and empty PINs are refused, even against an empty plan PIN.
        assert!(!pin_ok(&plan, &store, "199", "1234").unwrap());
        store.set_pin("101", "").unwrap();
        assert!(!pin_ok(&plan, &store, "101", "").unwrap());
    }

    #[test]
    fn an_orbit_holds_one_call_until_it_is_picked_up() {
        let mut store = MemoryStore::new();
        let first = ParkedCall {
            call: CallId(1),
            from: "101".into(),
        };
        let second = ParkedCall {
            call: CallId(2),
            from: "102".into(),
        };
        assert!(!park_occupied(&store, "SP1").unwrap());
        assert!(park(&mut store, "SP1", first.clone()).unwrap());
        assert!(park_occupied(&store, "SP1").unwrap());
        // A second call may not push out the first.
        assert!(!park(&mut store, "SP1", second.clone()).unwrap());
        assert!(park(&mut store, "SP2", second.clone()).unwrap());

        assert_eq!(unpark(&mut store, "SP1").unwrap(), Some(first));
        assert!(!park_occupied(&store, "SP1").unwrap());
        assert_eq!(unpark(&mut store, "SP1").unwrap(), None);
        assert_eq!(store.parked("SP2").unwrap(), Some(second));
    }
}
