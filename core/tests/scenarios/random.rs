//! Random events on the shipped plan: whatever arrives, in whatever order, the call never
//! panics, says nothing once it is over, and is over once the caller has hung up.

use crate::harness::{Ev, Session, Which, compile};
use proptest::prelude::*;
use proptest::sample::select;
use std::sync::{Arc, OnceLock};
use switchboard_core::call::Caller;
use switchboard_core::command::Command;
use switchboard_core::event::FarEnd;
use switchboard_core::store::{NewMessage, Store};
use switchboard_dsl::Plan;
use switchboard_dsl::script::WallTime;

/// The plan in `dialplans/`, read once.
fn shipped() -> Arc<Plan> {
    static PLAN: OnceLock<Arc<Plan>> = OnceLock::new();
    PLAN.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../dialplans");
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .expect("the dialplans folder")
            .map(|e| e.expect("a folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "dial"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                let text = std::fs::read_to_string(&p).expect("a plan file");
                (format!("dialplans/{name}"), text)
            })
            .collect();
        files.sort();
        compile(files)
    })
    .clone()
}

fn caller() -> impl Strategy<Value = Caller> {
    let desk = |n: &str, mac: Option<&str>| Caller::Extension {
        number: n.into(),
        device: mac.map(Into::into),
    };
    let trunk = |t: &str| Caller::Trunk {
        trunk: t.into(),
        number: "+15551230000".into(),
    };
    select(vec![
        desk("101", None),
        desk("102", None),
        desk("103", None),
        desk("105", None),
        desk("110", Some("001565AABBCC")),
        desk("", Some("805EC0112233")),
        desk("999", None),
        trunk("main"),
        trunk("nowhere"),
    ])
}

/// Numbers the shipped plan has routes for, and some it has not.
const NUMBERS: &str = "101 102 105 110 800 801 999 *4101 *4105 *62 *63 *77*101* *77*102* \
    *77*5* SP1 SP2 411 2605550123 12605550123 +12605550123 0441234 5551234 +12605550100 \
    +12605550101";

fn dialled() -> impl Strategy<Value = String> {
    let mut known: Vec<String> = NUMBERS.split_whitespace().map(String::from).collect();
    known.push(String::new());
    prop_oneof![3 => select(known), 1 => "[0-9*#+]{0,12}"]
}

/// A few events at once: one event, or keys that mean something to the shipped plan.
fn events() -> impl Strategy<Value = Vec<Ev>> {
    let keys = |k: &str| k.chars().map(Ev::Digit).collect::<Vec<_>>();
    let id = 0u32..8;
    prop_oneof![
        6 => select("0123456789*#x".chars().collect::<Vec<_>>()).prop_map(|d| vec![Ev::Digit(d)]),
        8 => Just(vec![Ev::Played(Which::Last)]),
        1 => id.clone().prop_map(|n| vec![Ev::Played(Which::Id(n))]),
        3 => Just(vec![Ev::Timer(Which::Last)]),
        1 => id.prop_map(|n| vec![Ev::Timer(Which::Id(n))]),
        1 => (0u64..200_000).prop_map(|ms| vec![Ev::Recorded {
            recording: format!("rec-{ms}"),
            duration_ms: ms,
        }]),
        2 => select(vec![FarEnd::Answered, FarEnd::Busy, FarEnd::NoAnswer, FarEnd::Failed])
            .prop_map(|f| vec![Ev::FarEnd(f)]),
        1 => Just(vec![Ev::Hangup]),
        3 => select(vec!["1234#", "1000#", "4567#", "25", "2"]).prop_map(keys),
    ]
}

/// How the office is when the call starts.
#[derive(Clone, Debug)]
struct Office {
    hour: u32,
    weekday: u32,
    agents_in: bool,
    messages: u32,
}

fn office() -> impl Strategy<Value = Office> {
    (0u32..24, 1u32..=7, any::<bool>(), 0u32..3).prop_map(|(hour, weekday, agents_in, messages)| {
        Office {
            hour,
            weekday,
            agents_in,
            messages,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_events_never_break_a_call_and_a_hangup_always_ends_it(
        office in office(),
        from in caller(),
        dialled in dialled(),
        chunks in prop::collection::vec(events(), 0..60),
    ) {
        let mut s = Session::new(vec![shipped()]);
        s.time = WallTime { hour: office.hour, weekday: office.weekday, ..WallTime::default() };
        if office.agents_in {
            for (agent, queue) in [("101", "800"), ("104", "801")] {
                s.store.set_queue_logged_in(agent, queue, true).unwrap();
            }
        }
        for i in 0..office.messages {
            let m = NewMessage {
                recording: format!("given-{i}"),
                from: "+15551230000".into(),
                duration_ms: 1000,
                received: "2026-11-23 09:00".into(),
            };
            s.store.add_message("101", m).unwrap();
        }
        let mut hangups_sent = 0;
        let mut events = vec![Ev::Call { from, dialled }];
        events.extend(chunks.into_iter().flatten());
        // The runtime's part at the end: the caller hangs up, and a recording cut short is
        // reported stored.
        events.push(Ev::Hangup);
        events.push(Ev::Recorded { recording: "rec-last".into(), duration_ms: 1 });
        for event in events {
            let was_over = !s.calls.is_empty() && s.calls[0].call.is_ended();
            let is_hangup = matches!(event, Ev::Hangup);
            let (_, out) = s.send(Some(0), event);
            let call = &s.calls[0].call;
            if was_over {
                prop_assert!(out.commands.is_empty(), "commands after the end: {:?}", out.commands);
            }
            if let Some(i) = out.commands.iter().position(|c| matches!(c, Command::Hangup { .. })) {
                hangups_sent += 1;
                prop_assert_eq!(i, out.commands.len() - 1, "a command after Hangup: {:?}", out.commands);
                prop_assert!(call.is_ended(), "sent Hangup but goes on");
            }
            if is_hangup {
                prop_assert!(
                    call.is_ended() || call.waiting_for() == "the end of a recording",
                    "still {} after the caller hung up", call.waiting_for()
                );
            }
        }
        prop_assert!(s.calls[0].call.is_ended(), "never ended: {}", s.calls[0].call.waiting_for());
        prop_assert!(hangups_sent <= 1, "{} Hangup commands", hangups_sent);
    }
}
