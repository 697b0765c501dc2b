//! The SIP server over real sockets on 127.0.0.1: sipp (`tests/sipp/*.xml`) for
//! the exchanges a phone makes, raw datagrams for the broken and unusual ones.
//! Every wait has a deadline.

mod support;

use std::net::SocketAddr;
use std::time::Instant;
use support::raw::{Call, Phone, Sip, answer_challenge, branch, read_message, request};
use support::sipp::sipp;
use support::{Server, within};

use switchboard_runtime::sip::digest::DigestAlgorithm;
use switchboard_runtime::sip::{
    CallOrigin, FAILURE_DELAY, LegEvent, PeerTrust, REFUSE_AFTER_FAILURES, SipError, TrunkPeer,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
const ANSWER_SDP: &str = "v=0\r\no=switchboard 1 1 IN IP4 127.0.0.1\r\ns=-\r\n\
                          c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n\
                          a=rtpmap:0 PCMU/8000\r\n";
const OFFER_SDP: &str = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\n\
                         c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

// ---------------------------------------------------------------- sipp tests

#[tokio::test]
async fn sipp_registers_with_digest_and_its_source_is_recorded() {
    let server = Server::start(vec![]).await;
    let run = sipp(
        "register.xml",
        server.addr(),
        &["-au", "101", "-ap", "secret"],
    )
    .await;
    run.assert_success();
    let registrations = server.sip.registrations("101");
    assert_eq!(registrations.len(), 1, "{registrations:?}");
    let r = &registrations[0];
    assert_eq!(r.contact, format!("sip:101@{}", r.source));
    assert_eq!(r.source.ip().to_string(), "127.0.0.1");
    assert_eq!(r.user_agent.as_deref(), Some("sipp"));
}

#[tokio::test]
async fn sipp_with_a_wrong_password_is_refused() {
    let server = Server::start(vec![]).await;
    let run = sipp(
        "register_wrong_password.xml",
        server.addr(),
        &["-au", "101", "-ap", "not-the-password"],
    )
    .await;
    run.assert_success();
    assert!(server.sip.registrations("101").is_empty());
}

#[tokio::test]
async fn sipp_call_is_challenged_answered_and_hung_up() {
    let mut server = Server::start(vec![]).await;
    let caller = tokio::spawn(sipp(
        "invite.xml",
        server.addr(),
        &["-au", "101", "-ap", "secret", "-s", "200"],
    ));
    let mut call = server.next_call().await;
    match &call.origin {
        CallOrigin::Extension { number, source } => {
            assert_eq!(number, "101");
            assert_eq!(source.ip().to_string(), "127.0.0.1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(call.dialled, "200");
    assert!(call.sdp_offer.contains("m=audio"), "{}", call.sdp_offer);
    within("180", call.leg.ringing()).await.unwrap();
    within("the ACK", call.leg.answer(ANSWER_SDP.to_string()))
        .await
        .unwrap();
    let event = within("the hang-up", call.leg.events().recv()).await;
    assert_eq!(event, Some(LegEvent::Hangup));
    caller.await.unwrap().assert_success();
    assert!(
        server.calls.try_recv().is_err(),
        "the challenged INVITE made no call"
    );
}

#[tokio::test]
async fn sipp_options_is_answered() {
    let server = Server::start(vec![]).await;
    sipp("options.xml", server.addr(), &[])
        .await
        .assert_success();
}

// ---------------------------------------------------------------- registrar

#[tokio::test]
async fn sha256_and_md5_registrations_behind_nat_get_message_waiting_notifies() {
    let server = Server::start(vec![]).await;
    let desk = Phone::new(server.addr()).await;
    let mobile = Phone::new(server.addr()).await;
    let register_uri = format!("sip:{}", server.addr());

    // The desk phone advertises a private address, as phones behind NAT do.
    let mut call = Call::new("101", "101", server.addr());
    call.uri = register_uri.clone();
    let contact = "Contact: <sip:101@10.9.9.9:5060>".to_string();
    let challenge = desk
        .ask("REGISTER", &call, 1, std::slice::from_ref(&contact), "")
        .await;
    assert_eq!(challenge.status(), 401);
    let offered = challenge.all("WWW-Authenticate");
    assert_eq!(offered.len(), 2, "{offered:?}");
    assert!(offered[0].contains("algorithm=MD5") && offered[1].contains("algorithm=SHA-256"));
    assert!(offered.iter().all(|c| c.contains("qop=\"auth\"")));
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        DigestAlgorithm::Sha256,
        "REGISTER",
        &register_uri,
        "101",
        "secret",
        1,
    );
    let authorized = [contact, format!("Authorization: {auth}")];
    let ok = desk.ask("REGISTER", &call, 2, &authorized, "").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    assert_eq!(ok.all("Contact"), ["<sip:101@10.9.9.9:5060>;expires=3600"]);

    // The same credentials again (same nonce count): a replay, so stale.
    let replay = desk.ask("REGISTER", &call, 3, &authorized, "").await;
    assert_eq!(replay.status(), 401);
    assert!(replay.header("WWW-Authenticate").contains("stale=true"));

    // A second phone of the same extension, with MD5 and too long an expiry.
    let mut call2 = Call::new("101", "101", server.addr());
    call2.uri = register_uri.clone();
    let contact2 = "Contact: <sip:101@10.9.9.10:5060>".to_string();
    let challenge = mobile
        .ask("REGISTER", &call2, 1, std::slice::from_ref(&contact2), "")
        .await;
    let md5 = |expires: &str, nc: u32| {
        let auth = answer_challenge(
            &challenge,
            "WWW-Authenticate",
            DigestAlgorithm::Md5,
            "REGISTER",
            &register_uri,
            "101",
            "secret",
            nc,
        );
        vec![
            contact2.clone(),
            format!("Expires: {expires}"),
            format!("Authorization: {auth}"),
        ]
    };
    let ok = mobile
        .ask("REGISTER", &call2, 2, &md5("86400", 1), "")
        .await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    assert!(
        ok.all("Contact")
            .contains(&"<sip:101@10.9.9.10:5060>;expires=7200".to_string())
    );
    let brief = mobile.ask("REGISTER", &call2, 3, &md5("30", 2), "").await;
    assert_eq!(brief.status(), 423);
    assert_eq!(brief.header("Min-Expires"), "60");

    let registrations = server.sip.registrations("101");
    let sources: Vec<SocketAddr> = registrations.iter().map(|r| r.source).collect();
    assert_eq!(sources, [desk.addr(), mobile.addr()]);

    // The lamp: a NOTIFY to each contact, at the address it registered from.
    server.sip.notify_message_waiting("101", 2, 1).await;
    for (phone, contact) in [
        (&desk, "sip:101@10.9.9.9:5060"),
        (&mobile, "sip:101@10.9.9.10:5060"),
    ] {
        let notify = within("a NOTIFY", async {
            let mut buffer = vec![0; 65_536];
            let (len, _) = phone.socket.recv_from(&mut buffer).await.unwrap();
            Sip(String::from_utf8_lossy(&buffer[..len]).into_owned())
        })
        .await;
        assert_eq!(notify.start_line(), format!("NOTIFY {contact} SIP/2.0"));
        assert_eq!(notify.header("Event"), "message-summary");
        assert_eq!(
            notify.header("Content-Type"),
            "application/simple-message-summary"
        );
        assert_eq!(
            notify.body(),
            "Messages-Waiting: yes\r\nVoice-Message: 2/1 (0/0)\r\n"
        );
        phone.send(notify.reply("200 OK")).await;
    }

    // Expires: 0 removes one contact, `*` all of them.
    let gone = mobile.ask("REGISTER", &call2, 4, &md5("0", 3), "").await;
    assert_eq!(gone.status(), 200);
    assert_eq!(gone.all("Contact").len(), 1);
    let star = vec![
        "Contact: *".to_string(),
        "Expires: 0".to_string(),
        md5("0", 4).pop().unwrap(),
    ];
    let none = mobile.ask("REGISTER", &call2, 5, &star, "").await;
    assert_eq!(none.status(), 200, "{}", none.0);
    assert!(server.sip.registrations("101").is_empty());
}

#[tokio::test]
async fn repeated_failures_are_slowed_then_refused() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let uri = format!("sip:{}", server.addr());
    let mut call = Call::new("101", "101", server.addr());
    call.uri = uri.clone();
    let contact = format!("Contact: <sip:101@{}>", phone.addr());
    let challenge = phone
        .ask("REGISTER", &call, 1, std::slice::from_ref(&contact), "")
        .await;
    let attempt = |password: &str, nc: u32| {
        let auth = answer_challenge(
            &challenge,
            "WWW-Authenticate",
            DigestAlgorithm::Md5,
            "REGISTER",
            &uri,
            "101",
            password,
            nc,
        );
        vec![contact.clone(), format!("Authorization: {auth}")]
    };
    let mut cseq = 1;
    let mut timed = async |password: &str, nc: u32| {
        cseq += 1;
        let started = Instant::now();
        let response = phone
            .ask("REGISTER", &call, cseq, &attempt(password, nc), "")
            .await;
        (response.status(), started.elapsed())
    };
    for nc in 1..=5 {
        let (status, took) = timed("guess", nc).await;
        assert_eq!(status, 403);
        assert!(took < FAILURE_DELAY, "failure {nc} was not delayed");
    }
    for nc in 6..=u32::try_from(REFUSE_AFTER_FAILURES).unwrap() {
        let (status, took) = timed("guess", nc).await;
        assert_eq!(status, 403);
        assert!(took >= FAILURE_DELAY, "failure {nc} was delayed");
    }
    // Refused now, even with the right password, and at once.
    let (status, took) = timed("secret", 11).await;
    assert_eq!(status, 403);
    assert!(took < FAILURE_DELAY);
    assert!(server.sip.registrations("101").is_empty());
    // Requests that need no authentication are still served.
    let options = phone
        .ask("OPTIONS", &Call::new("x", "y", server.addr()), 1, &[], "")
        .await;
    assert_eq!(options.status(), 200);
}

/// A burst of guesses sent at once, while the address is already being slowed down:
/// the ones that wake after the address was refused are not evaluated, so even the
/// right password at the end of the burst is refused.
#[tokio::test]
async fn a_burst_of_guesses_gets_no_more_evaluated_than_the_limit() {
    // The flood limit would drop most of the burst unread; lifted, the throttle alone
    // must hold.
    let server = Server::start_allowing(1_000_000).await;
    let phone = Phone::new(server.addr()).await;
    let uri = format!("sip:{}", server.addr());
    let mut call = Call::new("101", "101", server.addr());
    call.uri = uri.clone();
    let contact = format!("Contact: <sip:101@{}>", phone.addr());
    let challenge = phone
        .ask("REGISTER", &call, 1, std::slice::from_ref(&contact), "")
        .await;
    let attempt = |password: &str, nc: u32| {
        let auth = answer_challenge(
            &challenge,
            "WWW-Authenticate",
            DigestAlgorithm::Md5,
            "REGISTER",
            &uri,
            "101",
            password,
            nc,
        );
        vec![contact.clone(), format!("Authorization: {auth}")]
    };
    // Five failures one by one: from now on the address is slowed down.
    for nc in 1..=5u32 {
        let response = phone
            .ask("REGISTER", &call, 1 + nc, &attempt("guess", nc), "")
            .await;
        assert_eq!(response.status(), 403);
    }
    // Then 999 guesses and the right password, all at once.
    let burst = 1_000u32;
    for i in 1..=burst {
        if i % 100 == 0 {
            tokio::task::yield_now().await; // so no socket buffer overflows
        }
        let password = if i == burst { "secret" } else { "guess" };
        let headers = attempt(password, 5 + i);
        phone
            .send(request(
                "REGISTER",
                &call,
                6 + i,
                &branch(),
                phone.addr(),
                &headers,
                "",
            ))
            .await;
    }
    let last = phone
        .response(&call.call_id, &format!("{} REGISTER", 6 + burst))
        .await;
    assert_eq!(
        last.status(),
        403,
        "the right password at the end of a burst was evaluated"
    );
    assert!(server.sip.registrations("101").is_empty());
}

// ---------------------------------------------------------------- calls

#[tokio::test]
async fn a_call_is_cancelled_then_another_answered_with_dtmf_reinvite_and_our_bye() {
    let mut server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let sdp = [
        format!("Contact: <sip:101@{}>", phone.addr()),
        "Content-Type: application/sdp".to_string(),
    ];

    // Challenged, then authenticated; the caller gives up while it rings.
    let call = Call::new("101", "200", server.addr());
    let first = branch();
    phone
        .send(request(
            "INVITE",
            &call,
            1,
            &first,
            phone.addr(),
            &sdp,
            OFFER_SDP,
        ))
        .await;
    let challenge = phone.response(&call.call_id, "1 INVITE").await;
    assert_eq!(challenge.status(), 407);
    assert_eq!(challenge.all("Proxy-Authenticate").len(), 2);
    let mut ack = call.clone();
    ack.to_tag = Some(challenge.to_tag());
    phone
        .send(request("ACK", &ack, 1, &first, phone.addr(), &[], ""))
        .await;
    let authorized = |nc: u32, call: &Call| {
        let auth = answer_challenge(
            &challenge,
            "Proxy-Authenticate",
            DigestAlgorithm::Md5,
            "INVITE",
            &call.uri,
            "101",
            "secret",
            nc,
        );
        let mut headers = sdp.to_vec();
        headers.push(format!("Proxy-Authorization: {auth}"));
        headers
    };
    let second = branch();
    phone
        .send(request(
            "INVITE",
            &call,
            2,
            &second,
            phone.addr(),
            &authorized(1, &call),
            OFFER_SDP,
        ))
        .await;
    let mut incoming = server.next_call().await;
    assert_eq!(incoming.sip_call_id, call.call_id);
    assert_eq!(
        incoming.origin,
        CallOrigin::Extension {
            number: "101".into(),
            source: phone.addr()
        }
    );
    assert_eq!(incoming.sdp_offer, OFFER_SDP);
    within("180", incoming.leg.ringing()).await.unwrap();
    let ringing = phone.response(&call.call_id, "2 INVITE").await;
    assert_eq!(ringing.status(), 180);
    phone
        .send(request("CANCEL", &call, 2, &second, phone.addr(), &[], ""))
        .await;
    let cancelled = phone.response(&call.call_id, "2 CANCEL").await;
    assert_eq!(cancelled.status(), 200);
    let terminated = phone.response(&call.call_id, "2 INVITE").await;
    assert_eq!(terminated.status(), 487);
    let mut ack = call.clone();
    ack.to_tag = Some(terminated.to_tag());
    phone
        .send(request("ACK", &ack, 2, &second, phone.addr(), &[], ""))
        .await;
    let event = within("the CANCEL", incoming.leg.events().recv()).await;
    assert_eq!(event, Some(LegEvent::Hangup));
    assert!(matches!(
        incoming.leg.answer(ANSWER_SDP.into()).await,
        Err(SipError::CallEnded)
    ));

    // A second call, answered.
    let call = Call::new("101", "*97", server.addr());
    phone
        .send(request(
            "INVITE",
            &call,
            1,
            &branch(),
            phone.addr(),
            &authorized(2, &call),
            OFFER_SDP,
        ))
        .await;
    let incoming = server.next_call().await;
    assert_eq!(incoming.dialled, "*97");
    let leg = incoming.leg;
    let (answered_tx, answered_rx) = tokio::sync::oneshot::channel();
    let answering = tokio::spawn(async move {
        let result = leg.answer(ANSWER_SDP.to_string()).await;
        answered_tx.send(result).ok();
        leg
    });
    let ok = phone.response(&call.call_id, "1 INVITE").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.body(), ANSWER_SDP);
    let mut dialog = call.clone();
    dialog.to_tag = Some(ok.to_tag());
    dialog.uri = ok.header("Contact").trim_matches(['<', '>']).to_string();
    phone
        .send(request("ACK", &dialog, 1, &branch(), phone.addr(), &[], ""))
        .await;
    within("answer()", answered_rx).await.unwrap().unwrap();
    let mut leg = answering.await.unwrap();

    // DTMF by INFO.
    let dtmf = ["Content-Type: application/dtmf-relay".to_string()];
    let info = phone
        .ask("INFO", &dialog, 2, &dtmf, "Signal=5\r\nDuration=160\r\n")
        .await;
    assert_eq!(info.status(), 200);
    assert_eq!(
        within("DTMF", leg.events().recv()).await,
        Some(LegEvent::Dtmf('5'))
    );

    // A re-INVITE putting the call on hold is answered with the call's SDP, now
    // receiving only, in a new version; the leg tells of the hold.
    let reinvite = phone
        .ask(
            "INVITE",
            &dialog,
            3,
            &sdp,
            &OFFER_SDP.replace("t=0 0", "t=0 0\r\na=sendonly"),
        )
        .await;
    assert_eq!(reinvite.status(), 200);
    assert_eq!(
        reinvite.body(),
        ANSWER_SDP
            .replace("o=switchboard 1 1 ", "o=switchboard 1 2 ")
            .replace("t=0 0\r\n", "t=0 0\r\na=recvonly\r\n")
    );
    phone
        .send(request("ACK", &dialog, 3, &branch(), phone.addr(), &[], ""))
        .await;
    assert_eq!(
        within("the re-INVITE", leg.events().recv()).await,
        Some(LegEvent::Hold)
    );

    // OPTIONS inside the dialog, and a request for a dialog that is not there.
    assert_eq!(
        phone.ask("OPTIONS", &dialog, 4, &[], "").await.status(),
        200
    );
    let mut stranger = dialog.clone();
    stranger.call_id = "no-such-call@test".into();
    assert_eq!(phone.ask("BYE", &stranger, 1, &[], "").await.status(), 481);

    // The engine hangs up: a BYE reaches the phone.
    let hanging_up = tokio::spawn(async move {
        let result = leg.hangup().await;
        (result, leg)
    });
    let bye = phone.next(&call.call_id).await;
    assert_eq!(bye.method(), "BYE");
    phone.send(bye.reply("200 OK")).await;
    let (result, mut leg) = within("hangup()", hanging_up).await.unwrap();
    result.unwrap();
    assert_eq!(
        within("the end of events", leg.events().recv()).await,
        None,
        "our own BYE is not a hang-up event"
    );
}

#[tokio::test]
async fn failed_authentication_never_reaches_the_engine_but_a_trunk_does() {
    let carrier = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let trunk = TrunkPeer {
        name: "carrier".into(),
        host: carrier.local_addr().unwrap().to_string(),
        trust: PeerTrust::Address,
    };
    let mut server = Server::start(vec![trunk]).await;
    let phone = Phone::new(server.addr()).await;
    let contact = format!("Contact: <sip:101@{}>", phone.addr());

    let call = Call::new("101", "15550001", server.addr());
    let challenge = phone
        .ask(
            "INVITE",
            &call,
            1,
            std::slice::from_ref(&contact),
            OFFER_SDP,
        )
        .await;
    assert_eq!(challenge.status(), 407);
    let attempt = |user: &str, password: &str, nc: u32, call: &Call| {
        let auth = answer_challenge(
            &challenge,
            "Proxy-Authenticate",
            DigestAlgorithm::Sha256,
            "INVITE",
            &call.uri,
            user,
            password,
            nc,
        );
        vec![contact.clone(), format!("Proxy-Authorization: {auth}")]
    };
    // A wrong password, and the right password of another extension than From.
    let wrong = phone
        .ask(
            "INVITE",
            &call,
            2,
            &attempt("101", "guess", 1, &call),
            OFFER_SDP,
        )
        .await;
    assert_eq!(wrong.status(), 403);
    let impostor = phone
        .ask(
            "INVITE",
            &call,
            3,
            &attempt("102", "secret", 2, &call),
            OFFER_SDP,
        )
        .await;
    assert_eq!(impostor.status(), 403);
    assert!(
        server.calls.try_recv().is_err(),
        "no failed INVITE became a call"
    );

    // The trunk's address needs no authentication.
    let from_carrier = Phone {
        socket: carrier,
        server: server.addr(),
    };
    let mut inbound = Call::new("+15551234567", "5551000", server.addr());
    inbound.tag = "carrier1".into();
    let no_contact = from_carrier
        .ask("INVITE", &inbound, 1, &[], OFFER_SDP)
        .await;
    assert_eq!(no_contact.status(), 400, "an INVITE must have a Contact");
    let contact = format!("Contact: <sip:+15551234567@{}>", from_carrier.addr());
    from_carrier
        .send(request(
            "INVITE",
            &inbound,
            2,
            &branch(),
            from_carrier.addr(),
            &[contact],
            OFFER_SDP,
        ))
        .await;
    let incoming = server.next_call().await;
    assert_eq!(
        incoming.origin,
        CallOrigin::Trunk {
            name: "carrier".into(),
            number: "+15551234567".into()
        }
    );
    assert_eq!(incoming.dialled, "5551000");
    incoming.leg.reject(486).await.unwrap();
    let busy = from_carrier.response(&inbound.call_id, "2 INVITE").await;
    assert_eq!(busy.status(), 486);

    // The same host from another port is not the trunk.
    let other = Phone::new(server.addr()).await;
    let spoof = Call::new("+15551234567", "5551000", server.addr());
    let contact = format!("Contact: <sip:+15551234567@{}>", other.addr());
    let challenged = other.ask("INVITE", &spoof, 1, &[contact], OFFER_SDP).await;
    assert_eq!(challenged.status(), 407);
}

/// A trunk moved in the plan is trusted at its new address from the next INVITE on, and
/// no longer at its old one.
#[tokio::test]
async fn trunks_handed_over_later_replace_the_ones_the_server_started_with() {
    let old = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let new = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let peer = |socket: &UdpSocket| TrunkPeer {
        name: "carrier".into(),
        host: socket.local_addr().unwrap().to_string(),
        trust: PeerTrust::Address,
    };
    let mut server = Server::start(vec![peer(&old)]).await;
    server.sip.set_trunks(&[peer(&new)]).await;

    let from_new = Phone {
        socket: new,
        server: server.addr(),
    };
    let inbound = Call::new("+15551234567", "5551000", server.addr());
    let contact = format!("Contact: <sip:+15551234567@{}>", from_new.addr());
    from_new
        .send(request(
            "INVITE",
            &inbound,
            1,
            &branch(),
            from_new.addr(),
            &[contact],
            OFFER_SDP,
        ))
        .await;
    let incoming = server.next_call().await;
    assert!(
        matches!(incoming.origin, CallOrigin::Trunk { ref name, .. } if name == "carrier"),
        "{:?}",
        incoming.origin
    );
    incoming.leg.reject(486).await.unwrap();

    let from_old = Phone {
        socket: old,
        server: server.addr(),
    };
    let spoof = Call::new("+15551234567", "5551000", server.addr());
    let contact = format!("Contact: <sip:+15551234567@{}>", from_old.addr());
    let challenged = from_old
        .ask("INVITE", &spoof, 1, &[contact], OFFER_SDP)
        .await;
    assert_eq!(
        challenged.status(),
        407,
        "the old address is no longer the trunk"
    );
}

// ---------------------------------------------------------------- robustness

#[tokio::test]
async fn malformed_datagrams_get_a_4xx_or_nothing_and_the_server_keeps_serving() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let options = |call: &Call| request("OPTIONS", call, 1, &branch(), phone.addr(), &[], "");

    // Garbage gets no answer: the next thing the phone hears is the OPTIONS 200.
    phone.send(b"\x00\xffhello, not SIP\r\n\r\n").await;
    phone.send(b"INVITE\r\n\r\n").await;
    let call = Call::new("monitor", "ping", server.addr());
    phone.send(options(&call)).await;
    let ok = within("the OPTIONS 200", async {
        let mut buffer = vec![0; 65_536];
        let (len, _) = phone.socket.recv_from(&mut buffer).await.unwrap();
        Sip(String::from_utf8_lossy(&buffer[..len]).into_owned())
    })
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.header("Call-ID"), call.call_id);

    type Datagram<'a> = Box<dyn Fn(&Call) -> Vec<u8> + 'a>;
    let cases: [(&str, Datagram, u16); 4] = [
        (
            "a truncated INVITE",
            Box::new(|call| {
                let full = request("INVITE", call, 1, &branch(), phone.addr(), &[], OFFER_SDP);
                full.as_bytes()[..full.find("Max-Forwards").unwrap()].to_vec()
            }),
            400,
        ),
        (
            "a 60 KB header",
            Box::new(|call| {
                let big = format!("X-Padding: {}", "a".repeat(60_000));
                request("OPTIONS", call, 1, &branch(), phone.addr(), &[big], "").into_bytes()
            }),
            513,
        ),
        (
            "a Content-Length longer than the body",
            Box::new(|call| {
                request("OPTIONS", call, 1, &branch(), phone.addr(), &[], "v=0\r\n")
                    .replace("Content-Length: 5", "Content-Length: 500")
                    .into_bytes()
            }),
            400,
        ),
        (
            "an unknown method",
            Box::new(|call| request("FOO", call, 1, &branch(), phone.addr(), &[], "").into_bytes()),
            501,
        ),
    ];
    for (what, make, expected) in cases {
        let call = Call::new("101", "200", server.addr());
        phone.send(make(&call)).await;
        let answer = phone.next(&call.call_id).await;
        assert_eq!(answer.status(), expected, "{what}: {}", answer.0);
    }

    let call = Call::new("monitor", "ping", server.addr());
    let still = phone.ask("OPTIONS", &call, 1, &[], "").await;
    assert_eq!(still.status(), 200);
}

#[tokio::test]
async fn compact_and_folded_headers_are_understood() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let addr = phone.addr();

    let compact = format!(
        "OPTIONS sip:{server} SIP/2.0\r\n\
         v: SIP/2.0/UDP {addr};branch=z9hG4bK-compact\r\n\
         f: <sip:monitor@127.0.0.1>;tag=c1\r\n\
         t: <sip:{server}>\r\n\
         i: compact-1@test\r\n\
         CSeq: 7 OPTIONS\r\n\
         m: <sip:monitor@{addr}>\r\n\
         l: 0\r\n\r\n",
        server = server.addr(),
    );
    phone.send(compact).await;
    let ok = phone.response("compact-1@test", "7 OPTIONS").await;
    assert_eq!(ok.status(), 200);
    assert!(ok.header("Via").contains("branch=z9hG4bK-compact"));
    assert!(ok.header("From").contains("tag=c1"));

    let folded = format!(
        "OPTIONS sip:{server} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {addr}\r\n\
         \x20;branch=z9hG4bK-folded\r\n\
         From: <sip:monitor@127.0.0.1>\r\n\
         \t;tag=f1\r\n\
         To:\r\n\
         \x20<sip:{server}>\r\n\
         Call-ID: folded-1@test\r\n\
         CSeq: 8\r\n\
         \x20OPTIONS\r\n\
         Subject: a subject\r\n\
         \x20on two lines\r\n\
         Content-Length: 0\r\n\r\n",
        server = server.addr(),
    );
    phone.send(folded).await;
    let ok = phone.response("folded-1@test", "8 OPTIONS").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    assert!(ok.header("Via").contains("branch=z9hG4bK-folded"));
    assert!(ok.header("From").contains("tag=f1"));
}

#[tokio::test]
async fn an_oversized_tcp_request_gets_513_and_the_connection_goes_on() {
    let server = Server::start(vec![]).await;
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let local = stream.local_addr().unwrap();
    let tcp = |call: &Call, extra: &[String]| {
        request("OPTIONS", call, 1, &branch(), local, extra, "")
            .replace("SIP/2.0/UDP", "SIP/2.0/TCP")
    };

    let call = Call::new("101", "200", server.addr());
    let big = format!("X-Padding: {}", "a".repeat(70_000));
    stream
        .write_all(tcp(&call, &[big]).as_bytes())
        .await
        .unwrap();
    let refused = read_message(&mut stream).await;
    assert_eq!(refused.status(), 513, "{}", refused.0);
    assert_eq!(refused.header("Call-ID"), call.call_id);

    let call = Call::new("monitor", "ping", server.addr());
    stream.write_all(tcp(&call, &[]).as_bytes()).await.unwrap();
    let ok = read_message(&mut stream).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.header("Call-ID"), call.call_id);
}

#[tokio::test]
async fn stopping_the_server_hangs_up_its_calls() {
    let carrier = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let trunk = TrunkPeer {
        name: "carrier".into(),
        host: carrier.local_addr().unwrap().to_string(),
        trust: PeerTrust::Address,
    };
    let mut server = Server::start(vec![trunk]).await;
    let carrier = Phone {
        socket: carrier,
        server: server.addr(),
    };
    let call = Call::new("+15551234567", "5551000", server.addr());
    let contact = format!("Contact: <sip:+15551234567@{}>", carrier.addr());
    carrier
        .send(request(
            "INVITE",
            &call,
            1,
            &branch(),
            carrier.addr(),
            &[contact],
            OFFER_SDP,
        ))
        .await;
    let mut incoming = server.next_call().await;
    server.cancel();
    assert_eq!(
        within("the hang-up", incoming.leg.events().recv()).await,
        Some(LegEvent::Hangup)
    );
}
