//! The store thread (ARCHITECTURE.md: "no tokio worker waits on SQLite"): every `Store`
//! behaviour holds when each step runs through it, inside its batched transactions; and
//! a whole server taking real calls (a message left, a PIN-less mailbox looked up, a
//! phone's credentials checked) never calls the SQLite store on a tokio thread.

mod live_server;

use live_server::{Live, read_store};
use std::time::Duration;
use switchboard_core::store::conformance;
use switchboard_core::store::{Folder, Store};
use switchboard_runtime::server::{RunOptions, store_path};
use switchboard_runtime::sqlite_store::{StoreThread, calls_in_async_runtime};

/// One check of `core`'s conformance suite.
type Check = fn(&mut dyn Store);

/// Each conformance check, run as one job on the store thread of a fresh store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_store_behaviour_holds_through_the_store_thread() {
    let checks: [(&str, Check); 10] = [
        ("pins", conformance::pins_are_checked_per_mailbox),
        (
            "messages",
            conformance::messages_arrive_new_and_keep_their_order_across_folders,
        ),
        (
            "ownership",
            conformance::moving_or_deleting_needs_the_message_in_that_mailbox,
        ),
        (
            "greetings",
            conformance::greetings_and_names_are_per_mailbox_and_replaceable,
        ),
        ("queues", conformance::queue_logins_are_per_agent_and_queue),
        (
            "hot desks",
            conformance::hot_desks_map_both_ways_and_list_sorted,
        ),
        ("orbits", conformance::orbits_hold_one_call_each),
        (
            "PIN attempts",
            conformance::pin_attempts_are_kept_per_mailbox,
        ),
        (
            "call details",
            conformance::call_details_are_kept_and_listed_by_when_they_started,
        ),
        (
            "queue agent history",
            conformance::queue_agent_history_is_kept_per_agent_and_queue,
        ),
    ];
    for (name, check) in checks {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreThread::open(&dir.path().join("office.db"))
            .await
            .unwrap();
        store
            .run(check)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Many steps at once share batches; each sees the writes of the steps before it, and
/// all of them are on disk once answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_steps_share_commits_and_every_write_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("office.db");
    let store = StoreThread::open(&path).await.unwrap();
    let steps: Vec<_> = (1..=200)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .run(move |s| s.add_message("102", conformance::message(n)).unwrap())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for step in steps {
        ids.push(step.await.unwrap().0);
    }
    ids.sort();
    assert_eq!(ids, (1..=200).collect::<Vec<u64>>());
    // A failing write undoes only itself: the batch around it commits.
    let refused = store
        .run(|s| {
            s.set_hot_desk("001565AABBCC", Some("101")).unwrap();
            s.set_hot_desk("805EC0112233", Some("101")).is_err()
        })
        .await
        .unwrap();
    assert!(refused, "one extension on two phones is refused");
    drop(store);
    let (counts, desk) = read_store(&path, |s| {
        (
            s.message_counts("102").unwrap(),
            s.hot_desk_extension("001565AABBCC").unwrap(),
        )
    });
    assert_eq!(counts, (200, 0));
    assert_eq!(desk.as_deref(), Some("101"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_taking_calls_never_calls_the_store_on_a_tokio_thread() {
    let plan = r#"
dial "7003" -> flow message
flow message {
    answer
    record message for 102 max 3s
    hangup
}
"#;
    let mut live = Live::start(plan, Duration::from_secs(5), RunOptions::default()).await;
    let call = live.sipp("talk_until_bye.xml", "7003");
    live.sipp_ok(call, "a message left").await;
    live.ended_call("7003").await;
    live.stop.cancel();
    live.stopped().await;

    let messages = read_store(&store_path(&live.data()), |s| {
        s.messages("102", Folder::New).unwrap()
    });
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(
        calls_in_async_runtime(),
        0,
        "the office store was called on a tokio thread"
    );
}

/// The registrar reads credentials from memory; a password set by another process (as
/// `switchboard user set-password` beside a running server) reaches it, and so does a
/// removal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_set_beside_the_server_reaches_the_registrar() {
    use switchboard_runtime::sip::digest::{DigestAlgorithm, ha1};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("office.db");
    let store = StoreThread::open(&path).await.unwrap();
    let credentials = store.credentials();
    assert_eq!(
        credentials.ha1("103", "switchboard", DigestAlgorithm::Md5),
        None
    );

    read_store(&path, |s| {
        s.set_password("103", "switchboard", "secret").unwrap()
    });
    let expected = ha1(DigestAlgorithm::Md5, "103", "switchboard", "secret");
    live_server::within("the new password to reach the registrar", async {
        while credentials.ha1("103", "switchboard", DigestAlgorithm::Md5) != Some(expected.clone())
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        credentials.ha1("103", "elsewhere", DigestAlgorithm::Md5),
        None,
        "a digest is bound to its realm"
    );

    read_store(&path, |s| assert!(s.remove_password("103").unwrap()));
    live_server::within("the removal to reach the registrar", async {
        while credentials
            .ha1("103", "switchboard", DigestAlgorithm::Md5)
            .is_some()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
