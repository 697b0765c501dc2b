//! Message-waiting subscriptions (RFC 3842 `message-summary` over RFC 6665) on real
//! sockets: a phone subscribes to its own mailbox with a digest, hears the counts at
//! once and on every change in the subscription's dialog, refreshes and unsubscribes;
//! other packages, other people's mailboxes, too short expiries and floods are turned
//! away in ways that do not invite a retry storm. Every wait has a deadline.

mod support;

use std::time::Duration;
use support::raw::{Call, Phone, Sip, answer_challenge};
use support::{Server, within};
use switchboard_runtime::sip::MIN_SUBSCRIBE_EXPIRES;
use switchboard_runtime::sip::digest::DigestAlgorithm;

/// The headers of a SUBSCRIBE from `phone` for `event`, expiring in `expires`.
fn subscribe_headers(phone: &Phone, call: &Call, event: &str, expires: u32) -> Vec<String> {
    vec![
        format!("Event: {event}"),
        format!("Expires: {expires}"),
        format!("Contact: <sip:{}@{}>", call.from, phone.addr()),
        "Accept: application/simple-message-summary".to_string(),
    ]
}

/// SUBSCRIBE, answering the 401 with `user`'s password `secret`; the final response.
async fn subscribe(
    phone: &Phone,
    call: &Call,
    cseq: &mut u32,
    event: &str,
    expires: u32,
    user: &str,
) -> Sip {
    let mut headers = subscribe_headers(phone, call, event, expires);
    let first = phone.ask("SUBSCRIBE", call, *cseq, &headers, "").await;
    *cseq += 1;
    if first.status() != 401 {
        return first;
    }
    let auth = answer_challenge(
        &first,
        "WWW-Authenticate",
        DigestAlgorithm::Md5,
        "SUBSCRIBE",
        &call.uri,
        user,
        "secret",
        1,
    );
    headers.push(format!("Authorization: {auth}"));
    let answer = phone.ask("SUBSCRIBE", call, *cseq, &headers, "").await;
    *cseq += 1;
    answer
}

/// The next NOTIFY in `call`'s dialog, answered 200.
async fn notify(phone: &Phone, call_id: &str) -> Sip {
    loop {
        let message = phone.next(call_id).await;
        if message.method() == "NOTIFY" {
            phone.send(message.reply("200 OK")).await;
            return message;
        }
    }
}

fn cseq_number(message: &Sip) -> u32 {
    let cseq = message.header("CSeq");
    cseq.split_whitespace().next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_phone_subscribes_to_its_mailbox_hears_changes_refreshes_and_unsubscribes() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let mut call = Call::new("102", "102", server.addr());
    let mut cseq = 1;

    let ok = subscribe(&phone, &call, &mut cseq, "message-summary", 600, "102").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    assert_eq!(ok.header("Expires"), "600");
    let contact = ok.header("Contact");
    assert!(contact.contains("127.0.0.1"), "{contact}");
    call.to_tag = Some(ok.to_tag());
    // Requests in the dialog go to our Contact, which names no mailbox (as baresip's
    // refresh and unsubscribe do).
    call.uri = contact
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();

    // At once: the state, in the new dialog (no counts known yet: no body).
    let first = notify(&phone, &call.call_id).await;
    assert_eq!(first.header("Event"), "message-summary");
    let state = first.header("Subscription-State");
    assert!(state.starts_with("active;expires="), "{state}");
    let left: u32 = state.trim_start_matches("active;expires=").parse().unwrap();
    assert!((590..=600).contains(&left), "{state}");
    assert!(first.header("To").contains(&format!("tag={}", call.tag)));
    assert!(
        first
            .header("From")
            .contains(&format!("tag={}", ok.to_tag()))
    );

    // A message arrives: the lamp lights, in the same dialog, with the next CSeq.
    server.sip.notify_message_waiting("102", 2, 1).await;
    let lit = notify(&phone, &call.call_id).await;
    assert_eq!(
        lit.header("Content-Type"),
        "application/simple-message-summary"
    );
    assert!(lit.body().contains("Messages-Waiting: yes"), "{}", lit.0);
    assert!(lit.body().contains("Voice-Message: 2/1"), "{}", lit.0);
    assert!(cseq_number(&lit) > cseq_number(&first));

    // Someone else's mailbox changing tells this phone nothing.
    server.sip.notify_message_waiting("101", 5, 0).await;

    // A refresh in the dialog (its credentials proven again) is granted and
    // answered with the state.
    let refreshed = subscribe(&phone, &call, &mut cseq, "message-summary", 900, "102").await;
    assert_eq!(refreshed.status(), 200, "{}", refreshed.0);
    assert_eq!(refreshed.header("Expires"), "900");
    let after_refresh = notify(&phone, &call.call_id).await;
    assert!(
        after_refresh.body().contains("Voice-Message: 2/1"),
        "the refresh's NOTIFY is about 102 only: {}",
        after_refresh.0
    );
    let state = after_refresh.header("Subscription-State");
    let left: u32 = state.trim_start_matches("active;expires=").parse().unwrap();
    assert!((890..=900).contains(&left), "{state}");

    // Unsubscribing: 200 with Expires: 0, then a last NOTIFY that ends the dialog.
    let bye = subscribe(&phone, &call, &mut cseq, "message-summary", 0, "102").await;
    assert_eq!(bye.status(), 200, "{}", bye.0);
    assert_eq!(bye.header("Expires"), "0");
    let last = notify(&phone, &call.call_id).await;
    assert!(
        last.header("Subscription-State").starts_with("terminated"),
        "{}",
        last.0
    );

    // The dialog is gone: a refresh in it is refused, and changes are not sent.
    let gone = subscribe(&phone, &call, &mut cseq, "message-summary", 600, "102").await;
    assert_eq!(gone.status(), 481, "{}", gone.0);
    server.sip.notify_message_waiting("102", 3, 1).await;
    let quiet = tokio::time::timeout(Duration::from_millis(500), phone.next(&call.call_id)).await;
    assert!(quiet.is_err(), "a NOTIFY after unsubscribing: {quiet:?}");
}

#[tokio::test]
async fn other_packages_mailboxes_and_short_expiries_are_refused_without_inviting_retries() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;

    // Another event package: 489 naming the ones there are, before any challenge.
    let call = Call::new("102", "102", server.addr());
    let conference = phone
        .ask(
            "SUBSCRIBE",
            &call,
            1,
            &subscribe_headers(&phone, &call, "conference", 600),
            "",
        )
        .await;
    assert_eq!(conference.status(), 489, "{}", conference.0);
    assert_eq!(
        conference.header("Allow-Events"),
        "message-summary, dialog, presence"
    );

    // Without credentials: a challenge, like REGISTER.
    let challenged = phone
        .ask(
            "SUBSCRIBE",
            &call,
            2,
            &subscribe_headers(&phone, &call, "message-summary", 600),
            "",
        )
        .await;
    assert_eq!(challenged.status(), 401, "{}", challenged.0);
    assert!(challenged.header("WWW-Authenticate").contains("Digest"));

    // 101 proving its own password still cannot watch 102's mailbox.
    let mut snoop = Call::new("101", "102", server.addr());
    snoop.from = "101".into();
    let mut cseq = 1;
    let refused = subscribe(&phone, &snoop, &mut cseq, "message-summary", 600, "101").await;
    assert_eq!(refused.status(), 403, "{}", refused.0);
    assert!(refused.all("Retry-After").len() == 1, "{}", refused.0);

    // A wrong password: 403, with Retry-After.
    let call = Call::new("102", "102", server.addr());
    let mut cseq = 1;
    let wrong = subscribe(
        &phone,
        &call,
        &mut cseq,
        "message-summary",
        600,
        "102-wrong",
    )
    .await;
    assert_eq!(wrong.status(), 403, "{}", wrong.0);

    // Too short: 423 with Min-Expires.
    let call = Call::new("102", "102", server.addr());
    let mut cseq = 1;
    let brief = subscribe(&phone, &call, &mut cseq, "message-summary", 5, "102").await;
    assert_eq!(brief.status(), 423, "{}", brief.0);
    assert_eq!(
        brief.header("Min-Expires"),
        MIN_SUBSCRIBE_EXPIRES.to_string()
    );

    // Too long: shortened to the most the server grants.
    let call = Call::new("102", "102", server.addr());
    let mut cseq = 1;
    let long = subscribe(&phone, &call, &mut cseq, "message-summary", 86_400, "102").await;
    assert_eq!(long.status(), 200, "{}", long.0);
    assert_eq!(
        long.header("Expires"),
        switchboard_runtime::sip::MAX_SUBSCRIBE_EXPIRES.to_string()
    );
}

#[tokio::test]
async fn a_subscribe_storm_is_answered_503_with_retry_after() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let mut calls = Vec::new();
    // Far past the burst, as fast as the socket goes: the buggy phone of the issue.
    for _ in 0..200 {
        let call = Call::new("102", "102", server.addr());
        let headers = subscribe_headers(&phone, &call, "conference", 600);
        phone
            .send(support::raw::request(
                "SUBSCRIBE",
                &call,
                1,
                &support::raw::branch(),
                phone.addr(),
                &headers,
                "",
            ))
            .await;
        calls.push(call);
    }
    // Answers arrive in any order: read them, whichever call each is for, until all
    // came or the deadline (a flood on UDP may lose some datagrams on the way in).
    let mut statuses = std::collections::HashMap::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = vec![0; 65_536];
        while statuses.len() < calls.len() {
            let (len, _) = phone.socket.recv_from(&mut buffer).await.unwrap();
            let answer = Sip(String::from_utf8_lossy(&buffer[..len]).into_owned());
            if answer.status() == 503 {
                let after: u64 = answer.header("Retry-After").parse().unwrap();
                assert!(after >= 1, "{}", answer.0);
            }
            statuses.insert(answer.header("Call-ID"), answer.status());
        }
    })
    .await;
    let refused = statuses.values().filter(|s| **s == 503).count();
    let answered = statuses.values().filter(|s| **s == 489).count();
    assert_eq!(refused + answered, statuses.len(), "{statuses:?}");
    assert!(
        refused >= 100,
        "only {refused} of 200 refused: {statuses:?}"
    );
    // The burst, and what the rate let through while the flood was read.
    let most = (switchboard_runtime::sip::SUBSCRIBE_BURST
        + 5 * switchboard_runtime::sip::SUBSCRIBES_PER_SECOND) as usize;
    assert!(
        (1..=most).contains(&answered),
        "{answered} served: {statuses:?}"
    );
    // Another address is not held back by this one.
    let other = Phone {
        socket: tokio::net::UdpSocket::bind("127.0.0.2:0").await.unwrap(),
        server: server.addr(),
    };
    let call = Call::new("102", "102", server.addr());
    let answer = within(
        "a SUBSCRIBE from elsewhere",
        other.ask(
            "SUBSCRIBE",
            &call,
            1,
            &subscribe_headers(&other, &call, "conference", 600),
            "",
        ),
    )
    .await;
    assert_eq!(answer.status(), 489, "{}", answer.0);
}

#[tokio::test]
async fn a_subscription_nobody_refreshes_ends_with_a_last_notify() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let mut call = Call::new("102", "102", server.addr());
    let mut cseq = 1;
    let ok = subscribe(&phone, &call, &mut cseq, "message-summary", 120, "102").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    call.to_tag = Some(ok.to_tag());
    notify(&phone, &call.call_id).await;

    // Not yet expired: nothing happens.
    let now = std::time::Instant::now();
    server.sip.end_expired_subscriptions(now).await;
    server.sip.notify_message_waiting("102", 1, 0).await;
    let still = notify(&phone, &call.call_id).await;
    assert!(still.header("Subscription-State").starts_with("active"));

    // Past its expiry, unrefreshed: a last NOTIFY saying why, then silence.
    server
        .sip
        .end_expired_subscriptions(now + Duration::from_secs(121))
        .await;
    let last = notify(&phone, &call.call_id).await;
    assert_eq!(
        last.header("Subscription-State"),
        "terminated;reason=timeout",
        "{}",
        last.0
    );
    server.sip.notify_message_waiting("102", 2, 0).await;
    let quiet = tokio::time::timeout(Duration::from_millis(500), phone.next(&call.call_id)).await;
    assert!(
        quiet.is_err(),
        "a NOTIFY after the subscription ended: {quiet:?}"
    );
}
