//! What the hold and bridge edge-case tests share: a whole server with its RTP ports in a
//! range of the test's own (so a leaked port shows), 101 calling 102 through it with both
//! phones raw UDP sockets, RTP sent and heard by content, and the check every test ends
//! with: no call live and every RTP port free again. Every wait has a deadline.

#![allow(dead_code)] // each test binary uses its own part of this

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::live_server::{self, Live};
use crate::support::raw::{Call, Phone, Sip, branch, register, request, signed_in};
use switchboard_runtime::media::{Codec, PromptLibrary};
use switchboard_runtime::server::RunOptions;
use tokio::net::UdpSocket;

pub const PLAN: &str = r#"
dial "{ext:XXX}" -> extension ext
"#;

/// What 101's audio carries (a μ-law byte), and 102's.
pub const CALLER_BYTE: u8 = 0x11;
pub const CALLEE_BYTE: u8 = 0x22;

/// A server on `PLAN` whose RTP ports are `ports`: a range of 30000-30999, which no other
/// test, the benchmarks nor the kernel's ephemeral ports (32768 up) use.
pub async fn server(ports: RangeInclusive<u16>) -> Live {
    server_on(PLAN, ports).await
}

/// `server`, on `plan` (added to the office every test plan starts with).
pub async fn server_on(plan: &str, ports: RangeInclusive<u16>) -> Live {
    Live::start_configured(
        plan,
        Duration::from_secs(5),
        RunOptions::default(),
        move |config| config.rtp_ports = ports,
    )
    .await
}

/// An SDP for RTP at `rtp`, in `direction` (`sendrecv`, `sendonly`, ...).
pub fn sdp_with(rtp: SocketAddr, direction: &str) -> String {
    format!(
        "v=0\r\no=phone 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

pub fn sdp(rtp: SocketAddr) -> String {
    sdp_with(rtp, "sendrecv")
}

/// Where an SDP asks for RTP.
pub fn rtp_target(sdp: &str) -> SocketAddr {
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

/// The direction attribute of an SDP (`sendrecv` when it has none).
pub fn direction(sdp: &str) -> &str {
    sdp.lines()
        .map(str::trim)
        .find(|l| {
            matches!(
                *l,
                "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"
            )
        })
        .map_or("sendrecv", |l| &l[2..])
}

pub fn with_body(response: String, contact: &str, body: &str) -> String {
    response.replacen(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Contact: <{contact}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        1,
    )
}

/// The next request of `method` to `phone`, skipping anything else.
pub async fn next_request(phone: &Phone, method: &str) -> Sip {
    loop {
        let message = phone.next_any().await;
        if message.method() == method {
            return message;
        }
    }
}

/// 101's phone dials `to`, answering the server's challenge; returns the call (CSeq 2 is
/// the authenticated INVITE).
pub async fn dial(caller: &Phone, to: &str, rtp: SocketAddr) -> Call {
    dial_branch(caller, to, rtp).await.0
}

/// [`dial`], and the authenticated INVITE's branch (a CANCEL of it carries the same).
pub async fn dial_branch(caller: &Phone, to: &str, rtp: SocketAddr) -> (Call, String) {
    let call = Call::new("101", to, caller.server);
    let headers = vec![
        format!("Contact: <sip:101@{}>", caller.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    let offer = sdp(rtp);
    let authed = signed_in(caller, "INVITE", &call, &headers, &offer, "101", "secret").await;
    let invite_branch = branch();
    caller
        .send(request(
            "INVITE",
            &call,
            2,
            &invite_branch,
            caller.addr(),
            &authed,
            &offer,
        ))
        .await;
    (call, invite_branch)
}

/// The caller's final response to its INVITE (CSeq 2).
pub async fn final_response(caller: &Phone, call: &Call) -> Sip {
    loop {
        let r = caller.response(&call.call_id, "2 INVITE").await;
        if r.status() >= 200 {
            return r;
        }
    }
}

/// The caller's 200 for `call`'s INVITE, acknowledged; the call with its To tag.
pub async fn answered(caller: &Phone, mut call: Call) -> (Call, Sip) {
    let ok = final_response(caller, &call).await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    call.to_tag = Some(ok.to_tag());
    caller
        .send(request("ACK", &call, 2, &branch(), caller.addr(), &[], ""))
        .await;
    (call, ok)
}

/// A phone registered as `user`.
pub async fn phone_of(live: &Live, user: &str) -> Phone {
    let phone = Phone::new(live.listening.sip).await;
    assert_eq!(register(&phone, user, "secret").await, 200);
    phone
}

/// `phone` (registered as `user`) answers `invite` with 200 and an SDP of its own, its
/// dialog tag being `tag`; returns its RTP socket.
pub async fn pick_up(phone: &Phone, invite: &Sip, user: &str, tag: &str) -> UdpSocket {
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let contact = format!("sip:{user}@{}", phone.addr());
    let answer = sdp(rtp.local_addr().unwrap());
    phone
        .send(with_body(
            invite.reply_tagged("200 OK", tag),
            &contact,
            &answer,
        ))
        .await;
    rtp
}

/// The dialog a rung phone has with the server, as the phone sends in it: the INVITE's
/// Call-ID, the phone's tag as From and the server's as To.
pub fn dialog_of(invite: &Sip, user: &str, tag: &str, server: SocketAddr) -> Call {
    let mut leg = Call::new(user, "101", server);
    leg.call_id = invite.header("Call-ID");
    leg.tag = tag.into();
    leg.from = user.into();
    leg.to_tag = Some(
        invite
            .header("From")
            .split(";tag=")
            .nth(1)
            .unwrap()
            .to_string(),
    );
    leg
}

/// 101 calls 102 and 102's desk phone answers: everything a test needs of the call.
pub struct Bridged {
    pub caller: Phone,
    pub caller_rtp: Arc<UdpSocket>,
    /// The caller's dialog (its INVITE acknowledged).
    pub caller_call: Call,
    /// Where the caller sends its RTP: the server's port in its 200.
    pub to_server_from_caller: SocketAddr,
    pub desk: Phone,
    pub desk_rtp: Arc<UdpSocket>,
    /// The desk phone's dialog, as it sends in it.
    pub desk_call: Call,
    /// Where the desk sends its RTP: the server's port in the INVITE it got.
    pub to_server_from_desk: SocketAddr,
}

pub async fn bridged(live: &Live) -> Bridged {
    let desk = phone_of(live, "102").await;
    let caller = Phone::new(live.listening.sip).await;
    bridged_between(live, caller, desk).await
}

/// `bridged`, from the phone `caller` to `desk`, registered as 102 already.
pub async fn bridged_between(live: &Live, caller: Phone, desk: Phone) -> Bridged {
    let server = live.listening.sip;
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let call = dial(&caller, "102", caller_rtp.local_addr().unwrap()).await;
    let invite = next_request(&desk, "INVITE").await;
    let desk_rtp = pick_up(&desk, &invite, "102", "desk").await;
    next_request(&desk, "ACK").await;
    let (caller_call, ok) = answered(&caller, call).await;
    traced(live, "102", "answered").await;
    Bridged {
        to_server_from_caller: rtp_target(ok.body()),
        to_server_from_desk: rtp_target(invite.body()),
        desk_call: dialog_of(&invite, "102", "desk", server),
        caller,
        caller_rtp: Arc::new(caller_rtp),
        caller_call,
        desk,
        desk_rtp: Arc::new(desk_rtp),
    }
}

/// A phone talking: a packet of 160 `byte`s every 20 ms to `to`, until dropped.
pub struct Talker(Arc<AtomicBool>);

impl Drop for Talker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub fn talk(socket: Arc<UdpSocket>, to: SocketAddr, byte: u8) -> Talker {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut n: u16 = 0;
        while !stopped.load(Ordering::SeqCst) {
            tick.tick().await;
            let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
            packet[2..4].copy_from_slice(&(1000u16.wrapping_add(n)).to_be_bytes());
            packet[4..8].copy_from_slice(&(u32::from(n) * 160).to_be_bytes());
            packet.extend(std::iter::repeat_n(byte, 160));
            let _ = socket.send_to(&packet, to).await;
            n = n.wrapping_add(1);
        }
    });
    Talker(stop)
}

/// One RTP packet as a phone received it.
#[derive(Clone, Debug)]
pub struct Heard {
    pub ssrc: u32,
    pub sequence: u16,
    pub timestamp: u32,
    pub payload: Vec<u8>,
}

/// The next RTP packet arriving on `socket`.
pub async fn next_packet(socket: &UdpSocket) -> Heard {
    live_server::within("an RTP packet", async {
        let mut buffer = [0u8; 2048];
        loop {
            let (n, _) = socket.recv_from(&mut buffer).await.unwrap();
            if n < 12 {
                continue;
            }
            return Heard {
                sequence: u16::from_be_bytes([buffer[2], buffer[3]]),
                timestamp: u32::from_be_bytes([buffer[4], buffer[5], buffer[6], buffer[7]]),
                ssrc: u32::from_be_bytes([buffer[8], buffer[9], buffer[10], buffer[11]]),
                payload: buffer[12..n].to_vec(),
            };
        }
    })
    .await
}

/// Waits until `socket` hears `count` packets in a row that carry only `byte`; returns
/// the last. Packets before the run (another sound, in flight) are skipped.
pub async fn hear_run(socket: &UdpSocket, byte: u8, count: usize) -> Heard {
    let mut run = 0;
    loop {
        let packet = next_packet(socket).await;
        if packet.payload.len() == 160 && packet.payload.iter().all(|b| *b == byte) {
            run += 1;
            if run == count {
                return packet;
            }
        } else {
            run = 0;
        }
    }
}

/// Empties what `socket` has received so far.
pub fn drain(socket: &UdpSocket) {
    let mut buffer = [0u8; 2048];
    while socket.try_recv_from(&mut buffer).is_ok() {}
}

/// Waits until the finished or live call to `dialled` has a trace line with `needle`.
pub async fn traced(live: &Live, dialled: &str, needle: &str) {
    let found = async {
        loop {
            let list = live.calls.list();
            let found = list
                .live
                .iter()
                .chain(list.recent.iter())
                .filter(|c| c.dialled == dialled)
                .any(|c| c.trace.iter().any(|l| l.contains(needle)));
            if found {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(15), found)
        .await
        .is_err()
    {
        let list = live.calls.list();
        let traces: Vec<_> = list
            .live
            .iter()
            .chain(list.recent.iter())
            .map(|c| &c.trace)
            .collect();
        panic!("no {needle:?} in {traces:#?}");
    }
}

/// The check every test ends with: once the calls have ended, the server holds no call,
/// media port, call dialog or busy line (its `/api/debug/counts`), and every RTP port of
/// `ports` can be bound again: no session or bridge kept its socket past its call.
pub async fn nothing_left(live: &Live, ports: RangeInclusive<u16>) {
    live_server::within("every call to end", async {
        while !live.calls.list().live.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    live.nothing_held().await;
    // Each port must be seen free once: another program (a benchmark on this machine)
    // may take a port of the range for a moment, but not hold every one we used.
    let mut held: Vec<u16> = ports.filter(|p| p % 2 == 0).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !held.is_empty() && std::time::Instant::now() < deadline {
        held.retain(|p| std::net::UdpSocket::bind(("127.0.0.1", *p)).is_err());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        held.is_empty(),
        "RTP ports still bound after the calls ended: {held:?}"
    );
}

/// The hold music as a PCMU phone hears it: one 160-byte frame per 20 ms, from its start.
pub fn music_frames() -> Vec<Vec<u8>> {
    let prompts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
    let samples = PromptLibrary::new(prompts)
        .prompt("hold-music", "en", "en")
        .expect("the hold-music prompt");
    samples
        .chunks_exact(160)
        .map(|frame| {
            frame
                .iter()
                .map(|&s| Codec::Pcmu.encode_sample(s))
                .collect()
        })
        .collect()
}

/// `phone` sends a re-INVITE in `call` (CSeq `cseq`) offering RTP at `rtp` in
/// `direction`, and acknowledges the 200; returns the 200.
pub async fn re_invite(phone: &Phone, call: &Call, cseq: u32, offer: &str) -> Sip {
    let headers = vec![
        format!("Contact: <sip:{}@{}>", call.from, phone.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    let answer = phone.ask("INVITE", call, cseq, &headers, offer).await;
    assert_eq!(answer.status(), 200, "{}", answer.0);
    phone
        .send(request("ACK", call, cseq, &branch(), phone.addr(), &[], ""))
        .await;
    answer
}
