//! Desk to desk through the whole server on loopback: 101 dials 102, 102's phone rings
//! and answers, and each hears the other — checked by content, a different byte each
//! way — through the server's bridge; then 102 hangs up and 101's phone is sent a BYE.
//! Both phones are raw UDP sockets speaking SIP and RTP, so every packet is the test's
//! to check. Every wait has a deadline.

mod live_server;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use live_server::Live;
use support::raw::{Call, Phone, Sip, answer_challenge, branch, register, request};
use switchboard_runtime::server::RunOptions;
use switchboard_runtime::sip::digest::DigestAlgorithm;
use tokio::net::UdpSocket;

const PLAN: &str = r#"
dial "{ext:XXX}" -> extension ext
"#;

/// What 101's audio carries (a μ-law byte), and 102's.
const CALLER_BYTE: u8 = 0x11;
const CALLEE_BYTE: u8 = 0x22;

fn sdp(rtp: SocketAddr) -> String {
    format!(
        "v=0\r\no=phone 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

/// Where an SDP asks for RTP.
fn rtp_target(sdp: &str) -> SocketAddr {
    let ip = sdp
        .lines()
        .find_map(|l| l.strip_prefix("c=IN IP4 "))
        .expect("a c= line")
        .trim();
    let port = sdp
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split_whitespace().next())
        .expect("an m= line");
    format!("{ip}:{port}").parse().unwrap()
}

fn with_body(response: String, contact: &str, body: &str) -> String {
    response.replacen(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Contact: <{contact}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        1,
    )
}

/// The next message of `method` (a request) to `phone`.
async fn next_request(phone: &Phone, method: &str) -> Sip {
    loop {
        let message = phone.next_any().await;
        if message.method() == method {
            return message;
        }
    }
}

/// RTP packets of 160 `byte`s, every 20 ms, from `socket` to `to`, until `count`.
async fn talk(socket: &UdpSocket, to: SocketAddr, byte: u8, count: u16) {
    for n in 0..count {
        let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        packet[2..4].copy_from_slice(&(1000 + n).to_be_bytes());
        packet[4..8].copy_from_slice(&(u32::from(n) * 160).to_be_bytes());
        packet.extend(std::iter::repeat_n(byte, 160));
        socket.send_to(&packet, to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many packets arriving on `socket` carry `byte` as their audio, counting until
/// `enough` of them came (or the deadline fails the test); a packet with the other
/// side's own byte fails it at once.
async fn hear(socket: &UdpSocket, byte: u8, not: u8, enough: usize) -> usize {
    live_server::within("the other side's audio", async {
        let mut buffer = [0u8; 2048];
        let mut heard = 0;
        while heard < enough {
            let (n, _) = socket.recv_from(&mut buffer).await.unwrap();
            let payload = &buffer[12..n];
            assert!(
                !payload.iter().all(|b| *b == not),
                "a phone heard its own audio back"
            );
            if n == 12 + 160 && payload.iter().all(|b| *b == byte) {
                heard += 1;
            }
        }
        heard
    })
    .await
}

#[tokio::test]
async fn desk_to_desk_each_hears_the_other_and_a_hang_up_ends_both_legs() {
    let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
    let server = live.listening.sip;

    // 102's phone registers.
    let callee = Phone::new(server).await;
    assert_eq!(register(&callee, "102", "secret").await, 200);
    let callee_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();

    // 101 calls 102, answering the server's challenge.
    let caller = Phone::new(server).await;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut call = Call::new("101", "102", server);
    let contact = format!("Contact: <sip:101@{}>", caller.addr());
    let offer = sdp(caller_rtp.local_addr().unwrap());
    let headers = vec![contact.clone(), "Content-Type: application/sdp".to_string()];
    let challenge = caller.ask("INVITE", &call, 1, &headers, &offer).await;
    assert_eq!(challenge.status(), 407, "{}", challenge.0);
    let auth = answer_challenge(
        &challenge,
        "Proxy-Authenticate",
        DigestAlgorithm::Md5,
        "INVITE",
        &call.uri,
        "101",
        "secret",
        1,
    );
    let mut authed = headers.clone();
    authed.push(format!("Proxy-Authorization: {auth}"));
    caller
        .send(request(
            "INVITE",
            &call,
            2,
            &branch(),
            caller.addr(),
            &authed,
            &offer,
        ))
        .await;

    // 102's phone rings, then answers with its own RTP address.
    let invite = next_request(&callee, "INVITE").await;
    assert!(invite.header("From").contains("sip:101@"), "{}", invite.0);
    let server_for_callee = rtp_target(invite.body());
    callee
        .send(invite.reply_tagged("180 Ringing", "callee"))
        .await;
    let ringing = caller.response(&call.call_id, "2 INVITE").await;
    assert_eq!(ringing.status(), 180, "the caller hears the ringing");
    let answer = sdp(callee_rtp.local_addr().unwrap());
    let contact_102 = format!("sip:102@{}", callee.addr());
    callee
        .send(with_body(
            invite.reply_tagged("200 OK", "callee"),
            &contact_102,
            &answer,
        ))
        .await;
    next_request(&callee, "ACK").await;

    // The caller is answered and acknowledges.
    let ok = loop {
        let r = caller.response(&call.call_id, "2 INVITE").await;
        if r.status() == 200 {
            break r;
        }
    };
    call.to_tag = Some(ok.to_tag());
    caller
        .send(request("ACK", &call, 2, &branch(), caller.addr(), &[], ""))
        .await;
    let server_for_caller = rtp_target(ok.body());

    // Both talk at once; each hears the other's byte and never its own.
    let caller_talks = talk(&caller_rtp, server_for_caller, CALLER_BYTE, 50);
    let callee_talks = talk(&callee_rtp, server_for_callee, CALLEE_BYTE, 50);
    let caller_hears = hear(&caller_rtp, CALLEE_BYTE, CALLER_BYTE, 20);
    let callee_hears = hear(&callee_rtp, CALLER_BYTE, CALLEE_BYTE, 20);
    let ((), (), heard_by_caller, heard_by_callee) =
        tokio::join!(caller_talks, callee_talks, caller_hears, callee_hears);
    assert_eq!((heard_by_caller, heard_by_callee), (20, 20));

    // 102 hangs up: 101's phone gets a BYE.
    let mut leg = Call::new("102", "101", server);
    leg.call_id = invite.header("Call-ID");
    leg.tag = "callee".into();
    leg.to_tag = Some(
        invite
            .header("From")
            .split(";tag=")
            .nth(1)
            .unwrap()
            .to_string(),
    );
    leg.from = "102".into();
    let bye_102 = request("BYE", &leg, 1, &branch(), callee.addr(), &[], "");
    callee.send(bye_102).await;
    let bye = next_request(&caller, "BYE").await;
    caller.send(bye.reply("200 OK")).await;
    let record = live.ended_call("102").await;
    let outcome = record.outcome.unwrap_or_default();
    assert!(outcome.contains("102 hung up"), "{outcome}");
}
