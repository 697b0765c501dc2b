//! Only the running plan's extensions and devices sign in: a password the store still
//! holds for a number the plan no longer defines opens nothing, from the moment the plan
//! is saved.

mod live_server;

use live_server::{Live, WAIT, wait_child};
use std::time::{Duration, Instant};
use switchboard_runtime::server::RunOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extension_taken_out_of_the_plan_cannot_sign_in_although_its_password_is_stored() {
    let live = Live::start("", Duration::from_secs(5), RunOptions::default()).await;
    live.sipp_ok(live.sipp("register.xml", "101"), "101 registers")
        .await;

    // The admin removes 101 from the plan; the store keeps its password.
    let plan = live.dir.path().join("plan/office.dial");
    std::fs::write(
        &plan,
        "settings {\n    extension_digits = 3\n    language = \"en\"\n}\n\
         extension 102 \"Mailbox\" { voicemail }\n",
    )
    .unwrap();

    // Once the reload is in, the right password is refused like a wrong one.
    let deadline = Instant::now() + WAIT;
    loop {
        let mut child = live.sipp("register_wrong_password.xml", "101");
        if wait_child(&mut child, "101 refused").await.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "101 could still sign in a minute after it left the plan"
        );
    }
}
