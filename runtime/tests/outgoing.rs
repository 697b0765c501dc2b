//! Calls the server places to a registered phone, over real sockets: sipp's built-in UAS
//! scenario plays the phone (it rings, answers with its SDP, and waits for our BYE).
//! Every wait has a deadline.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::raw::{Phone, register};
use support::{Server, within};
use switchboard_runtime::sip::{CallerId, OutgoingEvent};

const OFFER_SDP: &str = "v=0\r\no=switchboard 1 1 IN IP4 127.0.0.1\r\ns=-\r\n\
                         c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\n\
                         a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
                         a=rtpmap:101 telephone-event/8000\r\n";

/// sipp answering one call on `port` of 127.0.0.1 (its built-in `uas` scenario: 180,
/// 200 with an SDP, then it waits for the BYE).
fn sipp_phone(port: u16) -> Child {
    Command::new("/usr/bin/sipp")
        .args(["-sn", "uas", "-m", "1", "-nostdin", "-i", "127.0.0.1"])
        .args(["-p", &port.to_string()])
        .args(["-timeout", "20s", "-timeout_error"])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp is installed at /usr/bin/sipp")
}

async fn next(call: &mut switchboard_runtime::sip::OutgoingCall) -> OutgoingEvent {
    within("the phone's next move", call.events().recv())
        .await
        .expect("an event before the call's end")
}

#[tokio::test]
async fn a_registered_phone_rings_answers_with_its_sdp_and_our_bye_ends_the_call() {
    let server = Server::start(vec![]).await;
    // 102 registers from a port, which then becomes sipp's.
    let port = {
        let phone = Phone::new(server.addr()).await;
        assert_eq!(register(&phone, "102", "secret").await, 200);
        phone.addr().port()
    };
    let mut sipp = sipp_phone(port);
    let registration = server.sip.registrations("102").pop().unwrap();
    let caller = CallerId {
        number: "101".into(),
        name: Some("Alice Adams".into()),
    };
    // sipp needs a moment to bind; a first INVITE it misses is retransmitted.
    let mut call = server
        .sip
        .call_phone(&registration, "102", &caller, OFFER_SDP.into())
        .unwrap();
    assert_eq!(next(&mut call).await, OutgoingEvent::Ringing);
    let OutgoingEvent::Answered { sdp } = next(&mut call).await else {
        panic!("not answered")
    };
    assert!(sdp.contains("m=audio"), "{sdp}");
    call.hang_up();
    assert_eq!(next(&mut call).await, OutgoingEvent::Ended);
    let status = within("sipp to finish its call", async {
        loop {
            if let Some(status) = sipp.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(status.success(), "sipp saw the call go wrong: {status}");
}

#[tokio::test]
async fn a_ringing_phone_is_cancelled_by_our_hang_up() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    assert_eq!(register(&phone, "102", "secret").await, 200);
    let registration = server.sip.registrations("102").pop().unwrap();
    let caller = CallerId {
        number: "101".into(),
        name: None,
    };
    // The raw phone rings (180) but never answers; our hang-up is a CANCEL.
    let mut call = server
        .sip
        .call_phone(&registration, "102", &caller, OFFER_SDP.into())
        .unwrap();
    let invite = within("the INVITE", async {
        loop {
            let message = phone.next_any().await;
            if message.method() == "INVITE" {
                return message;
            }
        }
    })
    .await;
    assert!(invite.header("From").contains("sip:101@"), "{}", invite.0);
    phone
        .send(invite.reply_tagged("180 Ringing", "phone"))
        .await;
    assert_eq!(next(&mut call).await, OutgoingEvent::Ringing);
    call.hang_up();
    let cancel = within("the CANCEL", async {
        loop {
            let message = phone.next_any().await;
            if message.method() == "CANCEL" {
                return message;
            }
        }
    })
    .await;
    phone.send(cancel.reply("200 OK")).await;
    phone
        .send(invite.reply_tagged("487 Request Terminated", "phone"))
        .await;
    assert_eq!(next(&mut call).await, OutgoingEvent::Failed(Some(487)));
}
