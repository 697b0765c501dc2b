//! The behaviour every `Store` must have, stated once. Each implementation's tests run
//! these on a fresh, empty store (the in-memory one here, the SQLite one in `runtime`),
//! so the two cannot drift apart; what only one of them does is tested beside it.

use super::{CallDetail, Folder, HungUpBy, Message, NewMessage, ParkedCall, PinAttempts, Store};
use crate::ids::{CallId, MessageId};

/// Message `n` as the checks file it: recording `msg-n.wav`, n seconds long.
pub fn message(n: u32) -> NewMessage {
    NewMessage {
        recording: format!("msg-{n}.wav"),
        from: format!("+1260555{n:04}"),
        duration_ms: 1000 * u64::from(n),
        received: format!("2026-11-23 10:{n:02}"),
    }
}

/// The ids of `messages`, in order.
pub fn ids(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.id.0).collect()
}

/// A PIN is checked against what was set, per mailbox; no PIN is `None`.
pub fn pins_are_checked_per_mailbox(s: &mut dyn Store) {
    assert_eq!(s.check_pin("101", "1234").unwrap(), None);
    s.set_pin("101", "1234").unwrap();
    s.set_pin("102", "1234").unwrap();
    assert_eq!(s.check_pin("101", "1234").unwrap(), Some(true));
    assert_eq!(s.check_pin("101", "4321").unwrap(), Some(false));
    assert_eq!(s.check_pin("103", "1234").unwrap(), None);
    s.set_pin("101", "9999").unwrap();
    assert_eq!(s.check_pin("101", "1234").unwrap(), Some(false));
    assert_eq!(s.check_pin("101", "9999").unwrap(), Some(true));
    assert_eq!(s.check_pin("102", "1234").unwrap(), Some(true));
}

/// Messages arrive new, ids count up across mailboxes, and each folder lists oldest
/// first whatever order they moved in.
pub fn messages_arrive_new_and_keep_their_order_across_folders(s: &mut dyn Store) {
    let first = s.add_message("101", message(1)).unwrap();
    let second = s.add_message("101", message(2)).unwrap();
    let elsewhere = s.add_message("102", message(3)).unwrap();
    let third = s.add_message("101", message(4)).unwrap();
    assert_eq!((first.0, second.0, elsewhere.0, third.0), (1, 2, 3, 4));

    let new = s.messages("101", Folder::New).unwrap();
    assert_eq!(ids(&new), [1, 2, 4]);
    assert_eq!(
        new[1],
        Message {
            id: second,
            folder: Folder::New,
            recording: "msg-2.wav".into(),
            from: "+12605550002".into(),
            duration_ms: 2000,
            received: "2026-11-23 10:02".into(),
        }
    );
    assert_eq!(s.message_counts("101").unwrap(), (3, 0));

    // Saving the newest, then the oldest: Saved still lists oldest first.
    assert!(s.move_message("101", third, Folder::Saved).unwrap());
    assert!(s.move_message("101", first, Folder::Saved).unwrap());
    let saved = s.messages("101", Folder::Saved).unwrap();
    assert_eq!(ids(&saved), [1, 4]);
    assert!(saved.iter().all(|m| m.folder == Folder::Saved));
    assert_eq!(ids(&s.messages("101", Folder::New).unwrap()), [2]);
    assert_eq!(s.message_counts("101").unwrap(), (1, 2));
    assert_eq!(s.message_counts("102").unwrap(), (1, 0));
    assert_eq!(s.message_counts("999").unwrap(), (0, 0));
    assert!(s.messages("999", Folder::New).unwrap().is_empty());
    // And back again.
    assert!(s.move_message("101", first, Folder::New).unwrap());
    assert_eq!(ids(&s.messages("101", Folder::New).unwrap()), [1, 2]);
}

/// Another mailbox cannot touch a message by guessing its id, and ids are not reused.
pub fn moving_or_deleting_needs_the_message_in_that_mailbox(s: &mut dyn Store) {
    let id = s.add_message("101", message(1)).unwrap();
    assert!(!s.move_message("102", id, Folder::Saved).unwrap());
    assert!(!s.delete_message("102", id).unwrap());
    assert!(!s.move_message("101", MessageId(77), Folder::Saved).unwrap());
    assert!(
        !s.move_message("101", MessageId(u64::MAX), Folder::Saved)
            .unwrap()
    );
    assert!(!s.delete_message("101", MessageId(u64::MAX)).unwrap());
    assert_eq!(s.message_counts("101").unwrap(), (1, 0));

    assert!(s.delete_message("101", id).unwrap());
    assert!(!s.delete_message("101", id).unwrap());
    assert_eq!(s.message_counts("101").unwrap(), (0, 0));
    // Ids are never reused, so a stale id cannot hit a newer message.
    assert_eq!(s.add_message("101", message(2)).unwrap(), MessageId(2));
}

pub fn greetings_and_names_are_per_mailbox_and_replaceable(s: &mut dyn Store) {
    assert_eq!(s.greeting("101").unwrap(), None);
    assert_eq!(s.name_recording("101").unwrap(), None);
    s.set_greeting("101", "g1.wav").unwrap();
    s.set_greeting("101", "g2.wav").unwrap();
    s.set_name_recording("102", "n.wav").unwrap();
    assert_eq!(s.greeting("101").unwrap().as_deref(), Some("g2.wav"));
    assert_eq!(s.name_recording("101").unwrap(), None);
    assert_eq!(s.greeting("102").unwrap(), None);
    assert_eq!(s.name_recording("102").unwrap().as_deref(), Some("n.wav"));
    // Setting one keeps the others of the same mailbox.
    s.set_pin("102", "1234").unwrap();
    s.set_greeting("102", "g.wav").unwrap();
    assert_eq!(s.name_recording("102").unwrap().as_deref(), Some("n.wav"));
    assert_eq!(s.check_pin("102", "1234").unwrap(), Some(true));
}

pub fn queue_logins_are_per_agent_and_queue(s: &mut dyn Store) {
    assert!(!s.queue_logged_in("101", "800").unwrap());
    s.set_queue_logged_in("101", "800", true).unwrap();
    s.set_queue_logged_in("101", "800", true).unwrap();
    assert!(s.queue_logged_in("101", "800").unwrap());
    assert!(!s.queue_logged_in("101", "801").unwrap());
    assert!(!s.queue_logged_in("102", "800").unwrap());
    s.set_queue_logged_in("101", "800", false).unwrap();
    assert!(!s.queue_logged_in("101", "800").unwrap());
    // Logging out someone who was not logged in is not an error.
    s.set_queue_logged_in("102", "800", false).unwrap();
    assert!(!s.queue_logged_in("102", "800").unwrap());
}

pub fn hot_desks_map_both_ways_and_list_sorted(s: &mut dyn Store) {
    s.set_hot_desk("805EC0112233", Some("102")).unwrap();
    s.set_hot_desk("001565AABBCC", Some("101")).unwrap();
    assert_eq!(
        s.hot_desk_extension("001565AABBCC").unwrap().as_deref(),
        Some("101")
    );
    assert_eq!(
        s.hot_desk_device("102").unwrap().as_deref(),
        Some("805EC0112233")
    );
    assert_eq!(s.hot_desk_device("103").unwrap(), None);
    assert_eq!(
        s.hot_desk_logins().unwrap(),
        [
            ("001565AABBCC".to_string(), "101".to_string()),
            ("805EC0112233".to_string(), "102".to_string()),
        ]
    );
    // Keys are compared exactly: the office hands MACs over in upper case.
    assert_eq!(s.hot_desk_extension("001565aabbcc").unwrap(), None);
    s.set_hot_desk("001565AABBCC", Some("103")).unwrap();
    assert_eq!(s.hot_desk_device("101").unwrap(), None);
    assert_eq!(
        s.hot_desk_device("103").unwrap().as_deref(),
        Some("001565AABBCC")
    );
    s.set_hot_desk("001565AABBCC", None).unwrap();
    assert_eq!(s.hot_desk_extension("001565AABBCC").unwrap(), None);
    assert_eq!(s.hot_desk_logins().unwrap().len(), 1);
    // Logging out an empty phone is not an error.
    s.set_hot_desk("001565AABBCC", None).unwrap();
}

pub fn orbits_hold_one_call_each(s: &mut dyn Store) {
    let call = ParkedCall {
        call: CallId(7),
        from: "101".into(),
    };
    assert_eq!(s.parked("SP1").unwrap(), None);
    s.set_parked("SP1", Some(call.clone())).unwrap();
    assert_eq!(s.parked("SP1").unwrap(), Some(call));
    assert_eq!(s.parked("SP2").unwrap(), None);
    let other = ParkedCall {
        call: CallId(8),
        from: "+12605550001".into(),
    };
    s.set_parked("SP1", Some(other.clone())).unwrap();
    assert_eq!(s.parked("SP1").unwrap(), Some(other));
    s.set_parked("SP1", None).unwrap();
    assert_eq!(s.parked("SP1").unwrap(), None);
}

/// Failed PIN attempts are kept per mailbox, replaced whole, and forgotten by the
/// default; the clock does not run backwards.
pub fn pin_attempts_are_kept_per_mailbox(s: &mut dyn Store) {
    assert_eq!(s.pin_attempts("101").unwrap(), PinAttempts::default());
    let counted = PinAttempts {
        failures: 3,
        since: 1_795_000_000_000,
        locks: 0,
        locked_until: 0,
    };
    s.set_pin_attempts("101", counted).unwrap();
    assert_eq!(s.pin_attempts("101").unwrap(), counted);
    assert_eq!(s.pin_attempts("102").unwrap(), PinAttempts::default());
    let locked = PinAttempts {
        failures: 0,
        since: 1_795_000_000_000,
        locks: 2,
        // The largest value a store must keep: a lock stamped near the end of time.
        locked_until: i64::MAX as u64,
    };
    s.set_pin_attempts("101", locked).unwrap();
    assert_eq!(s.pin_attempts("101").unwrap(), locked);
    // The attempts live beside the mailbox's PIN without touching it.
    s.set_pin("101", "1234").unwrap();
    assert_eq!(s.pin_attempts("101").unwrap(), locked);
    assert_eq!(s.check_pin("101", "1234").unwrap(), Some(true));
    s.set_pin_attempts("101", PinAttempts::default()).unwrap();
    assert_eq!(s.pin_attempts("101").unwrap(), PinAttempts::default());
    let (a, b) = (s.now_ms().unwrap(), s.now_ms().unwrap());
    assert!(b >= a, "the clock ran backwards: {a} then {b}");
}

/// A call record to keep: started at `started_ms`, answered by 102 a second later.
pub fn call_detail(started_ms: u64) -> CallDetail {
    CallDetail {
        sip_call_id: format!("call-{started_ms}@test"),
        started_ms,
        answered_ms: Some(started_ms + 1_000),
        ended_ms: started_ms + 61_000,
        caller: "101".into(),
        dialled: "102".into(),
        answered_by: Some("102".into()),
        outcome: "102 hung up".into(),
        hung_up_by: HungUpBy::Callee,
        plan_version: 3,
    }
}

pub fn call_details_are_kept_and_listed_by_when_they_started(s: &mut dyn Store) {
    let unanswered = CallDetail {
        answered_ms: None,
        answered_by: None,
        outcome: "the caller hung up".into(),
        hung_up_by: HungUpBy::Caller,
        ..call_detail(5_000)
    };
    for detail in [call_detail(9_000), unanswered.clone(), call_detail(1_000)] {
        s.record_call(&detail).unwrap();
    }
    let all = s.call_details(0, u64::MAX, 100).unwrap();
    let started: Vec<u64> = all.iter().map(|d| d.started_ms).collect();
    assert_eq!(started, [1_000, 5_000, 9_000], "oldest first");
    assert_eq!(all[1], unanswered, "kept whole");
    // From inclusive, to exclusive, and at most the limit.
    let window = s.call_details(5_000, 9_000, 100).unwrap();
    assert_eq!(window, [unanswered]);
    assert_eq!(s.call_details(0, u64::MAX, 2).unwrap().len(), 2);
    assert!(s.call_details(10_000, 20_000, 100).unwrap().is_empty());
}

/// What the queues remember of their agents: when each one's last queue call ended
/// (across queues), their answered calls per queue, and each queue's last offer.
pub fn queue_agent_history_is_kept_per_agent_and_queue(s: &mut dyn Store) {
    assert_eq!(s.agent_last_call_end("101").unwrap(), None);
    assert_eq!(s.queue_calls_answered("101", "800").unwrap(), 0);
    assert_eq!(s.queue_last_offered("800").unwrap(), None);

    s.set_agent_last_call_end("101", 1_795_000_000_000).unwrap();
    s.set_agent_last_call_end("101", 1_795_000_060_000).unwrap();
    assert_eq!(
        s.agent_last_call_end("101").unwrap(),
        Some(1_795_000_060_000),
        "the latest end replaces the one before"
    );
    assert_eq!(s.agent_last_call_end("102").unwrap(), None);
    // The largest time a store must keep.
    s.set_agent_last_call_end("103", i64::MAX as u64).unwrap();
    assert_eq!(s.agent_last_call_end("103").unwrap(), Some(i64::MAX as u64));

    s.set_queue_calls_answered("101", "800", 3).unwrap();
    s.set_queue_calls_answered("101", "801", 1).unwrap();
    assert_eq!(s.queue_calls_answered("101", "800").unwrap(), 3);
    assert_eq!(s.queue_calls_answered("101", "801").unwrap(), 1);
    assert_eq!(s.queue_calls_answered("102", "800").unwrap(), 0);
    s.set_queue_calls_answered("101", "800", 0).unwrap();
    assert_eq!(s.queue_calls_answered("101", "800").unwrap(), 0);

    s.set_queue_last_offered("800", "102").unwrap();
    s.set_queue_last_offered("800", "103").unwrap();
    s.set_queue_last_offered("801", "101").unwrap();
    assert_eq!(s.queue_last_offered("800").unwrap().as_deref(), Some("103"));
    assert_eq!(s.queue_last_offered("801").unwrap().as_deref(), Some("101"));
    assert_eq!(s.queue_last_offered("802").unwrap(), None);
    // None of it touches the logins.
    assert!(!s.queue_logged_in("101", "800").unwrap());
}
