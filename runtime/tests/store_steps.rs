//! What one call costs the store thread, counted (`sqlite_store::steps_run`), in a test
//! binary of its own so that no other test's calls are counted with it.

mod live_server;

use live_server::{Live, read_store};
use std::time::Duration;
use switchboard_core::store::{Folder, Store};
use switchboard_runtime::server::{RunOptions, store_path};
use switchboard_runtime::sqlite_store::steps_run;

/// A caller who hangs up in the middle of a message: the message is stored, and the
/// call waits for its recording with a handful of engine steps. (It used to feed the
/// engine a hang-up on every turn of its loop, because the SIP leg's closed event
/// channel kept answering, until the recording's fsync was done: a spin on the store
/// thread, and with the old store mutex a spin on a tokio worker.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_hanging_up_mid_message_costs_a_few_steps_not_a_spin() {
    let plan = r#"
dial "7003" -> flow message
flow message {
    answer
    record message for 102 max 1m
    hangup
}
"#;
    let mut live = Live::start(plan, Duration::from_secs(5), RunOptions::default()).await;
    let before = steps_run();
    let call = live.sipp("talk_then_bye.xml", "7003");
    live.sipp_ok(call, "a message left, the caller hanging up")
        .await;
    let record = live.ended_call("7003").await;
    let steps = steps_run() - before;
    // Who is calling, the start, the beep played, the hang-up, the recording stored:
    // five, and one to spare.
    assert!(
        steps <= 6,
        "{steps} store steps for one message: {record:#?}"
    );
    live.stop.cancel();
    live.stopped().await;
    let messages = read_store(&store_path(&live.data()), |s| {
        s.messages("102", Folder::New).unwrap()
    });
    assert_eq!(messages.len(), 1, "{messages:#?}");
}
