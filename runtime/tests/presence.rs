//! Presence (RFC 3856, PIDF bodies) and hot-desk phones' lamps on real sockets: a
//! phone watching a colleague hears "closed" while nothing answers for them, "open"
//! once a phone registers, "on the phone" during a call, and "closed" again when the
//! phone unregisters; a hot-desk phone's presence and message lamp follow whoever is
//! logged in on it. Every wait has a deadline.

mod support;

use support::raw::{Call, Phone, Sip, register, signed_in};
use support::{Server, within};
use switchboard_runtime::sip::LineState;

const MAC: &str = "001565AABBCC";

/// A subscription of `user` (password `secret`) from `phone` to `resource`'s `event`:
/// the dialog, with the 200's tag and the Contact requests in it go to.
async fn subscribe(phone: &Phone, user: &str, resource: &str, event: &str) -> Call {
    let mut call = Call::new(user, resource, phone.server);
    let headers = vec![
        format!("Event: {event}"),
        "Expires: 600".to_string(),
        format!("Contact: <sip:{user}@{}>", phone.addr()),
    ];
    let signed = signed_in(phone, "SUBSCRIBE", &call, &headers, "", user, "secret").await;
    let ok = phone.ask("SUBSCRIBE", &call, 2, &signed, "").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    call.to_tag = Some(ok.to_tag());
    call
}

/// The next NOTIFY in `call`'s dialog, answered 200.
async fn notify(phone: &Phone, call: &Call) -> Sip {
    loop {
        let message = phone.next(&call.call_id).await;
        if message.method() == "NOTIFY" {
            phone.send(message.reply("200 OK")).await;
            return message;
        }
    }
}

/// Unregisters every contact of `user` registered from `phone`.
async fn unregister(phone: &Phone, user: &str) {
    let mut call = Call::new(user, user, phone.server);
    call.uri = format!("sip:{}", phone.server);
    let headers = vec![
        format!("Contact: <sip:{user}@{}>", phone.addr()),
        "Expires: 0".to_string(),
    ];
    let signed = signed_in(phone, "REGISTER", &call, &headers, "", user, "secret").await;
    let ok = phone.ask("REGISTER", &call, 2, &signed, "").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
}

fn basic(notify: &Sip) -> &'static str {
    assert_eq!(notify.header("Event"), "presence");
    assert_eq!(notify.header("Content-Type"), "application/pidf+xml");
    let body = notify.body();
    if body.contains("<basic>open</basic>") {
        "open"
    } else if body.contains("<basic>closed</basic>") {
        "closed"
    } else {
        panic!("no basic status: {}", notify.0)
    }
}

#[tokio::test]
async fn a_watcher_hears_a_colleague_come_talk_and_go() {
    let server = Server::start(vec![]).await;
    let watcher = Phone::new(server.addr()).await;
    let colleague = Phone::new(server.addr()).await;

    let call = subscribe(&watcher, "101", "102", "presence").await;
    let first = notify(&watcher, &call).await;
    assert_eq!(basic(&first), "closed", "nothing answers for 102 yet");
    assert!(
        first.body().contains("entity=\"sip:102@"),
        "the body is about 102: {}",
        first.0
    );

    assert_eq!(register(&colleague, "102", "secret").await, 200);
    let registered = within("the NOTIFY after 102 registers", notify(&watcher, &call)).await;
    assert_eq!(basic(&registered), "open", "{}", registered.0);
    assert!(registered.body().contains("Available"), "{}", registered.0);

    server
        .sip
        .set_line_state(1, "102", LineState::Confirmed)
        .await;
    let talking = notify(&watcher, &call).await;
    assert!(
        talking.body().contains("<rpid:on-the-phone/>"),
        "{}",
        talking.0
    );
    server.sip.set_line_state(1, "102", LineState::Idle).await;
    let idle = notify(&watcher, &call).await;
    assert!(!idle.body().contains("on-the-phone"), "{}", idle.0);
    assert_eq!(basic(&idle), "open");

    unregister(&colleague, "102").await;
    let gone = notify(&watcher, &call).await;
    assert_eq!(basic(&gone), "closed", "{}", gone.0);
}

#[tokio::test]
async fn a_hot_desk_phone_answers_for_whoever_is_logged_in_on_it() {
    let server = Server::start(vec![]).await;
    let watcher = Phone::new(server.addr()).await;
    let desk = Phone::new(server.addr()).await;

    let presence = subscribe(&watcher, "102", "101", "presence").await;
    assert_eq!(basic(&notify(&watcher, &presence).await), "closed");

    // The desk phone registers under its MAC: nobody is logged in, 101 stays closed.
    assert_eq!(register(&desk, MAC, "secret").await, 200);
    let lamp = subscribe(&desk, MAC, MAC, "message-summary").await;
    let dark = notify(&desk, &lamp).await;
    assert!(!dark.body().contains("Messages-Waiting: yes"), "{}", dark.0);

    // 101 logs in on it: 101 is open, and the phone's lamp shows 101's mailbox.
    server.sip.set_hot_desk(MAC, Some("101")).await;
    let open = within("101's presence after the login", async {
        loop {
            let n = notify(&watcher, &presence).await;
            if basic(&n) == "open" {
                return n;
            }
        }
    })
    .await;
    assert_eq!(basic(&open), "open");
    server.sip.notify_message_waiting("101", 3, 1).await;
    let lit = within("the desk phone's lamp", async {
        loop {
            let n = notify(&desk, &lamp).await;
            if n.body().contains("Voice-Message: 3/1") {
                return n;
            }
        }
    })
    .await;
    assert!(lit.body().contains("Messages-Waiting: yes"), "{}", lit.0);

    // Logging out: 101 is closed again and the lamp goes dark.
    server.sip.set_hot_desk(MAC, None).await;
    let closed = notify(&watcher, &presence).await;
    assert_eq!(basic(&closed), "closed", "{}", closed.0);
    let out = notify(&desk, &lamp).await;
    assert!(out.body().contains("Messages-Waiting: no"), "{}", out.0);
    assert_eq!(server.sip.hot_desk_extension(MAC), None);
}
