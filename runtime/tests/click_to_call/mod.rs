//! What the click-to-call tests share: a server whose plan sends US numbers to trunk
//! "main" at a raw socket playing the provider, a person signed in to the web client
//! over real HTTP, RTP sent and heard by content, and the store's record of a call.
//! Every wait has a deadline.

#![allow(dead_code)] // each test binary uses its own part of this

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bridged::{next_request, phone_of, sdp, with_body};
use crate::live_server::{Live, read_store, within};
use crate::support::raw::{Phone, Sip};
use serde_json::{Value, json};
use switchboard_core::store::{CallDetail, Store};
use switchboard_runtime::media::Codec;
use switchboard_runtime::server::{RunOptions, store_path};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;

/// The web password of the person signed in; it passes the password policy.
pub const WEB_PASSWORD: &str = "copper-lantern-meadow";

/// Trunk "main" at the provider's address; US numbers out through it, as the office's
/// phones dial them.
pub fn plan(provider: SocketAddr) -> String {
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
pub async fn office() -> (Live, Phone, Session) {
    office_for("101", "").await
}

/// `office`, with `more` added to the plan and `extension` signed in.
pub async fn office_for(extension: &'static str, more: &str) -> (Live, Phone, Session) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let live = Live::start(
        &format!("{}\n{more}", plan(socket.local_addr().unwrap())),
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
        s.set_web_password(extension, WEB_PASSWORD, now).unwrap()
    });
    let session = Session::sign_in(&live, extension).await;
    (live, provider, session)
}

/// A person's web session over real HTTP.
pub struct Session {
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
    pub async fn call(&self, number: &str) -> (u16, Value) {
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
pub async fn http(
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
pub async fn talk(socket: &UdpSocket, to: SocketAddr, byte: u8, count: u16) {
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
pub async fn hear(socket: &UdpSocket, byte: u8, enough: usize) {
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

/// How long a sound the server plays at once may take to begin.
pub const SOON: Duration = Duration::from_secs(5);

pub async fn soon<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(SOON, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {SOON:?}"))
}

/// Waits for the store's record of the call to `dialled`.
pub async fn record_of(live: &Live, dialled: &str) -> CallDetail {
    let path = store_path(&live.data());
    within("the call's record", async {
        loop {
            let wanted = dialled.to_string();
            let found = read_store(&path, move |s| {
                s.call_details(0, u64::MAX, 10)
                    .unwrap()
                    .into_iter()
                    .find(|d| d.dialled == wanted)
            });
            if let Some(detail) = found {
                return detail;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// 101 clicks (260) 555-9876 and answers on their phone choosing `codec` of the two the
/// server offers; the provider is sent the call. Returns 101's phone, its INVITE and
/// its RTP socket, and the provider's INVITE.
pub async fn answered_by_101(
    live: &Live,
    provider: &Phone,
    session: &Session,
    codec: Codec,
) -> Answered {
    let agent = phone_of(live, "101").await;
    let (status, started) = session.call("(260) 555-9876").await;
    assert_eq!(status, 202, "{started}");
    let invite = next_request(&agent, "INVITE").await;
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let answer = sdp(rtp.local_addr().unwrap()).replace(
        "RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000",
        &format!(
            "RTP/AVP {pt} 101\r\na=rtpmap:{pt} {name}/8000",
            pt = codec.payload_type(),
            name = codec.name()
        ),
    );
    assert!(answer.contains(codec.name()), "{answer}");
    agent
        .send(with_body(
            invite.reply_tagged("200 OK", "agent"),
            &format!("sip:101@{}", agent.addr()),
            &answer,
        ))
        .await;
    next_request(&agent, "ACK").await;
    let out = next_request(provider, "INVITE").await;
    Answered {
        agent,
        invite,
        rtp,
        out,
    }
}

pub struct Answered {
    pub agent: Phone,
    pub invite: Sip,
    pub rtp: UdpSocket,
    pub out: Sip,
}
