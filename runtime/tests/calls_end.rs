//! Every call ends, and ends the way the admin was told, over real sockets with sipp as
//! the phone: a stopping server lets calls in progress finish (and refuses new ones with
//! 503) up to its deadline, then hangs up and still stores the message being recorded;
//! what the runtime cannot do yet (park, pick up) is said to the caller before
//! the call ends; a call out whose provider never answers ends when the INVITE times
//! out; and a far end that goes silent without a BYE is hung up.

mod live_server;

use live_server::{Live, read_store};
use std::time::Duration;
use switchboard_core::store::{Folder, Store};
use switchboard_runtime::server::RunOptions;

/// The outcome a call hung up at the shutdown deadline has.
const AT_DEADLINE: &str = "the server stopped; its deadline for calls in progress passed";

const PLAN: &str = r#"
park SP1

trunk "main" {
    host "127.0.0.1:9"
}

# Three seconds of beeps, then the plan hangs up.
dial "7001" -> flow beeps
flow beeps {
    answer
    play "beep" "beep" "beep" "beep" "beep" "beep" "beep" "beep" "beep" "beep" "beep" "beep"
    hangup
}

# Half a minute of prompts.
dial "7002" -> flow long
flow long {
    answer
    play "main-greeting" "main-greeting" "main-greeting"
    hangup
}

# A message for 102, as long as the caller talks (up to a minute).
dial "7003" -> flow message
flow message {
    answer
    record message for 102 max 1m
    hangup
}

dial "SP1" -> park_toggle "SP1"

dial "7004" -> flow outside
flow outside {
    answer
    play "please-hold"
    trunk "main" to "+12605550123"
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_lets_a_call_in_progress_end_and_refuses_new_ones() {
    let mut live = Live::start(PLAN, Duration::from_secs(40), RunOptions::default()).await;
    let call = live.sipp("await_bye.xml", "7001");
    live.live_call("the beeps to start", |c| !c.prompts.is_empty())
        .await;

    // SIGTERM.
    live.stop.cancel();
    let refused = live.sipp("refused_503.xml", "7002");
    live.sipp_ok(refused, "a new call refused with 503").await;

    // The call in progress hears all twelve beeps and the plan's own hang-up.
    live.sipp_ok(call, "the call in progress, ended by the plan")
        .await;
    live.stopped().await;
    let record = live.ended_call("7001").await;
    assert_eq!(record.prompts.len(), 12, "{record:#?}");
    assert_ne!(record.outcome.as_deref(), Some(AT_DEADLINE), "{record:#?}");
    assert!(
        live.calls.list().recent.iter().all(|c| c.dialled != "7002"),
        "the refused call never started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_deadline_a_call_is_hung_up_and_its_message_is_stored() {
    // Three seconds: the message must outlast the plan's `min_message` (1 s) to be kept.
    let mut live = Live::start(PLAN, Duration::from_secs(3), RunOptions::default()).await;
    let call = live.sipp("talk_until_bye.xml", "7003");
    live.live_call("the recording to start", |c| {
        c.trace.iter().any(|l| l.contains("record"))
    })
    .await;

    live.stop.cancel();
    live.sipp_ok(call, "the caller hung up by the server").await;
    live.stopped().await;
    let record = live.ended_call("7003").await;
    assert_eq!(record.outcome.as_deref(), Some(AT_DEADLINE), "{record:#?}");

    let messages = read_store(
        &switchboard_runtime::server::store_path(&live.data()),
        |s| s.messages("102", Folder::New).unwrap(),
    );
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].duration_ms > 0, "{messages:#?}");
    let wav = live
        .data()
        .join("recordings")
        .join(format!("{}.wav", messages[0].recording));
    let reader = hound::WavReader::open(&wav).expect("the message's WAV is stored");
    assert!(reader.len() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parking_is_not_carried_out_yet_so_the_caller_hears_why_and_the_call_ends() {
    let mut live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let call = live.sipp("await_bye.xml", "SP1");
    live.sipp_ok(call, "the parked caller hung up by the server")
        .await;
    let record = live.ended_call("SP1").await;
    assert!(
        record
            .trace
            .iter()
            .any(|l| l.contains("cannot park calls yet")),
        "{record:#?}"
    );
    live.stop.cancel();
    live.stopped().await;
    let parked = read_store(
        &switchboard_runtime::server::store_path(&live.data()),
        |s| s.parked("SP1").unwrap(),
    );
    assert_eq!(parked, None, "the orbit is free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_call_whose_provider_never_answers_ends_when_the_invite_times_out() {
    let mut live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    // Nothing answers at the trunk's host: the INVITE times out (32 s over UDP).
    let call = live.sipp("await_bye.xml", "7004");
    live.sipp_ok(call, "the caller hung up by the server").await;
    let record = live.ended_call("7004").await;
    assert!(
        record
            .trace
            .iter()
            .any(|l| l.contains("+12605550123 through trunk main: no answer from the provider")),
        "{record:#?}"
    );
    live.stop.cancel();
    live.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_goes_silent_without_a_bye_is_hung_up() {
    let mut live =
        Live::start_configured(PLAN, Duration::from_secs(5), RunOptions::default(), |c| {
            c.media_timeout = Duration::from_secs(1)
        })
        .await;
    // sipp sends no RTP at all, as a phone that lost its network would.
    let call = live.sipp("await_bye.xml", "7002");
    live.sipp_ok(call, "the silent caller hung up by the server")
        .await;
    let record = live.ended_call("7002").await;
    assert_eq!(
        record.outcome.as_deref(),
        Some("no media from the caller"),
        "{record:#?}"
    );
    live.stop.cancel();
    live.stopped().await;
}
