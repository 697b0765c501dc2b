//! Click-to-call (`POST /api/chat/call`) through the whole server on loopback: a person
//! signed in to the web client clicks a number; the server rings their own registered
//! phone (a raw UDP socket) showing that number; they answer; the server calls the
//! number through the plan's route and trunk, where a raw socket plays the provider and
//! answers; each hears the other through the bridge (checked by content); the person
//! hangs up, the provider is sent a BYE, and the server holds nothing afterwards.
//!
//! A number the extension may not call (premium rate) is refused as a desk call would
//! be: the person hears `not-allowed`, is hung up on, and nothing reaches the provider.
//! No phone registered is a 409; a number no route takes is a 400 saying so. Every wait
//! has a deadline.

mod bridged;
mod live_server;
mod support;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bridged::{
    CALLEE_BYTE, CALLER_BYTE, dialog_of, next_request, phone_of, pick_up, rtp_target, sdp,
    with_body,
};
use live_server::{Live, read_store, within};
use serde_json::{Value, json};
use support::raw::{Phone, branch, request};
use switchboard_runtime::server::{RunOptions, store_path};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;

/// 101's web password; it passes the password policy.
const WEB_PASSWORD: &str = "copper-lantern-meadow";

/// Trunk "main" at the provider's address; US numbers out through it, as the office's
/// phones dial them.
fn plan(provider: SocketAddr) -> String {
    format!(
        r#"
trunk "main" {{
    host    "{provider}"
    numbers "+12605550100"
}}
dial "{{ext:XXX}}"         -> extension ext
dial "{{n:NXXNXXXXXX}}"    -> trunk "main" to "+1{{n}}"
dial "+1{{n:NXXNXXXXXX}}"  -> trunk "main" to "+1{{n}}"
"#
    )
}

/// A server on `plan`, the provider's socket (nothing answers there unless the test
/// does), and 101 signed in to the web client.
async fn office() -> (Live, Phone, Session) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let live = Live::start(
        &plan(socket.local_addr().unwrap()),
        Duration::from_secs(5),
        RunOptions::default(),
    )
    .await;
    let provider = Phone {
        socket,
        server: live.listening.sip,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    read_store(&store_path(&live.data()), move |s| {
        s.set_web_password("101", WEB_PASSWORD, now).unwrap()
    });
    let session = Session::sign_in(&live, "101").await;
    (live, provider, session)
}

/// A person's web session over real HTTP.
struct Session {
    addr: SocketAddr,
    cookie: String,
    csrf: String,
}

impl Session {
    async fn sign_in(live: &Live, extension: &str) -> Session {
        let addr = live.listening.http;
        let body = json!({"extension": extension, "password": WEB_PASSWORD}).to_string();
        let (status, head, json) = http(addr, "POST", "/api/people/login", &[], &body).await;
        assert_eq!(status, 200, "{json}");
        let cookie = head
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_string();
        Session {
            addr,
            cookie,
            csrf: json["csrf"].as_str().unwrap().to_string(),
        }
    }

    /// `POST /api/chat/call {number}`: status and body.
    async fn call(&self, number: &str) -> (u16, Value) {
        let headers = [
            format!("Cookie: {}", self.cookie),
            format!("X-CSRF-Token: {}", self.csrf),
        ];
        let body = json!({ "number": number }).to_string();
        let (status, _, json) = http(self.addr, "POST", "/api/chat/call", &headers, &body).await;
        (status, json)
    }
}

/// One HTTP/1.1 request with a JSON body: status, head and body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[String],
    body: &str,
) -> (u16, String, Value) {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_string(), json)
}

/// RTP packets of 160 `byte`s, every 20 ms, from `socket` to `to`, `count` of them.
async fn talk(socket: &UdpSocket, to: SocketAddr, byte: u8, count: u16) {
    for n in 0..count {
        let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
        packet[2..4].copy_from_slice(&(500 + n).to_be_bytes());
        packet[4..8].copy_from_slice(&(u32::from(n) * 160).to_be_bytes());
        packet.extend(std::iter::repeat_n(byte, 160));
        socket.send_to(&packet, to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for `enough` packets carrying `byte` on `socket`.
async fn hear(socket: &UdpSocket, byte: u8, enough: usize) {
    within("the other side's audio", async {
        let mut buffer = [0u8; 2048];
        let mut heard = 0;
        while heard < enough {
            let (n, _) = socket.recv_from(&mut buffer).await.unwrap();
            if n == 12 + 160 && buffer[12..n].iter().all(|b| *b == byte) {
                heard += 1;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_persons_phone_rings_then_the_number_through_the_trunk_and_both_are_bridged() {
    let (live, provider, session) = office().await;
    let agent = phone_of(&live, "101").await;

    let (status, started) = session.call("(260) 555-9876").await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["number"], "+12605559876");
    assert!(started["call_id"].as_u64().is_some(), "{started}");

    // 101's phone rings, showing the number it is about to call, and answers.
    let invite = next_request(&agent, "INVITE").await;
    assert!(
        invite.header("From").contains("+12605559876"),
        "{}",
        invite.0
    );
    let server_for_agent = rtp_target(invite.body());
    agent
        .send(invite.reply_tagged("180 Ringing", "agent"))
        .await;
    let agent_rtp = pick_up(&agent, &invite, "101", "agent").await;
    next_request(&agent, "ACK").await;

    // Only then is the number called, through trunk "main", as 101 would dial it.
    let out = next_request(&provider, "INVITE").await;
    assert!(
        out.start_line().starts_with("INVITE sip:+12605559876@"),
        "{}",
        out.0
    );
    let server_for_carrier = rtp_target(out.body());
    let carrier_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let contact = format!("sip:+12605559876@{}", provider.addr());
    provider
        .send(with_body(
            out.reply_tagged("200 OK", "carrier"),
            &contact,
            &sdp(carrier_rtp.local_addr().unwrap()),
        ))
        .await;
    next_request(&provider, "ACK").await;

    // Each hears the other through the bridge.
    tokio::join!(
        talk(&agent_rtp, server_for_agent, CALLER_BYTE, 25),
        hear(&carrier_rtp, CALLER_BYTE, 5),
    );
    tokio::join!(
        talk(&carrier_rtp, server_for_carrier, CALLEE_BYTE, 25),
        hear(&agent_rtp, CALLEE_BYTE, 5),
    );

    // 101 hangs up: the provider is sent a BYE.
    let leg = dialog_of(&invite, "101", "agent", live.listening.sip);
    agent
        .send(request("BYE", &leg, 2, &branch(), agent.addr(), &[], ""))
        .await;
    let bye = next_request(&provider, "BYE").await;
    provider.send(bye.reply("200 OK")).await;

    let record = live.ended_call("+12605559876").await;
    let trace = record.trace.join("\n");
    for line in [
        "calling +12605559876 through trunk main",
        "+12605559876 through trunk main answered; connected",
    ] {
        assert!(trace.contains(line), "{line:?} missing:\n{trace}");
    }
    assert_eq!(record.caller, "101");
    live.nothing_held().await;
}

#[tokio::test]
async fn a_number_the_extension_may_not_call_is_refused_to_them_and_never_reaches_the_trunk() {
    let (live, provider, session) = office().await;
    let agent = phone_of(&live, "101").await;

    // A 1-900 number: the route takes it, the toll-fraud rules refuse it for 101.
    let (status, started) = session.call("+1 900 555 1234").await;
    assert_eq!(status, 202, "{started}");
    let invite = next_request(&agent, "INVITE").await;
    let _rtp = pick_up(&agent, &invite, "101", "agent").await;
    next_request(&agent, "ACK").await;

    // 101 hears why, then is hung up on.
    let bye = next_request(&agent, "BYE").await;
    agent.send(bye.reply("200 OK")).await;
    let record = live.ended_call("+19005551234").await;
    assert!(
        record
            .trace
            .iter()
            .any(|l| l.contains("refused") && l.contains("allow premium")),
        "{:#?}",
        record.trace
    );
    assert!(
        record.prompts.iter().any(|p| p == "not-allowed"),
        "{:#?}",
        record.prompts
    );
    // The call is over, so an INVITE of its would have been sent: none was.
    let mut buffer = vec![0u8; 65_536];
    let reached = provider.socket.try_recv_from(&mut buffer);
    assert!(
        reached.is_err(),
        "the provider got a message: {}",
        reached
            .map(|(n, _)| String::from_utf8_lossy(&buffer[..n]).into_owned())
            .unwrap_or_default()
    );
    live.nothing_held().await;
}

#[tokio::test]
async fn no_registered_phone_is_a_409_and_a_number_no_route_takes_a_400() {
    let (live, _provider, session) = office().await;
    let (status, refused) = session.call("(260) 555-9876").await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("your phone is not registered"),
        "{refused}"
    );

    let _agent = phone_of(&live, "101").await;
    let (status, refused) = session.call("+44 20 7946 0958").await;
    assert_eq!(status, 400, "{refused}");
    let words = refused["error"].as_str().unwrap();
    assert!(
        words.contains("no dial route") && words.contains("+442079460958"),
        "{words}"
    );
    let (status, refused) = session.call("not a number").await;
    assert_eq!(status, 400, "{refused}");
    live.nothing_held().await;
}

#[tokio::test]
async fn a_person_who_declines_on_their_phone_calls_nobody() {
    let (live, provider, session) = office().await;
    let agent = phone_of(&live, "101").await;
    let (status, started) = session.call("2605559876").await;
    assert_eq!(status, 202, "{started}");
    let invite = next_request(&agent, "INVITE").await;
    agent
        .send(invite.reply_tagged("486 Busy Here", "agent"))
        .await;
    next_request(&agent, "ACK").await;
    let record = live.ended_call("+12605559876").await;
    assert!(
        record
            .outcome
            .as_deref()
            .unwrap_or_default()
            .contains("101 did not answer"),
        "{record:#?}"
    );
    let mut buffer = vec![0u8; 65_536];
    assert!(provider.socket.try_recv_from(&mut buffer).is_err());
    live.nothing_held().await;
}
