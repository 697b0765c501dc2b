//! Attacks on the SIP server over real sockets on loopback, each shown to fail: a
//! flood of unauthenticated INVITEs, a flood from one address, forged lock-out
//! attempts, one account guessed from many addresses, and idle TCP connections. Sources are told apart by
//! address (all of 127/8 is loopback). Every wait has a deadline.

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use support::raw::{Call, Phone, Sip, branch, register, request};
use support::{Server, within};
use switchboard_runtime::sip::{
    DEFAULT_MESSAGES_PER_SECOND, FLOOD_WINDOW, TCP_FIRST_MESSAGE_DEADLINE,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const OFFER_SDP: &str = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\n\
                         c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

/// An INVITE without credentials, as a scanner sends it.
fn bare_invite(phone: &Phone, n: usize) -> (String, String) {
    let mut call = Call::new("101", "200", phone.server);
    call.call_id = format!("flood-{n}@test");
    let contact = format!("Contact: <sip:101@{}>", phone.addr());
    let text = request(
        "INVITE",
        &call,
        1,
        &branch(),
        phone.addr(),
        &[contact, "Content-Type: application/sdp".into()],
        OFFER_SDP,
    );
    (call.call_id, text)
}

/// Every message the server sends `phone` until `done` says enough, or the deadline.
async fn collect(phone: &Phone, mut done: impl FnMut(&[Sip]) -> bool) -> Vec<Sip> {
    let mut seen = Vec::new();
    within("the server's answers", async {
        let mut buffer = vec![0; 65_536];
        while !done(&seen) {
            let (len, _) = phone.socket.recv_from(&mut buffer).await.unwrap();
            seen.push(Sip(String::from_utf8_lossy(&buffer[..len]).into_owned()));
        }
    })
    .await;
    seen
}

#[tokio::test]
async fn unauthenticated_invites_are_challenged_without_keeping_a_transaction() {
    // The flood limit is lifted: this is about what each INVITE costs.
    let server = Server::start_allowing(1_000_000).await;
    let attacker = Phone::on("127.0.0.2", server.addr()).await;
    const INVITES: usize = 2_000;
    const BATCH: usize = 100;
    let mut answers = Vec::new();
    // In batches, each answered before the next, so no socket buffer overflows.
    for batch in 0..INVITES / BATCH {
        for n in batch * BATCH..(batch + 1) * BATCH {
            attacker.send(bare_invite(&attacker, n).1).await;
        }
        answers.extend(collect(&attacker, |seen| seen.len() >= BATCH).await);
    }
    let calls: HashSet<String> = answers.iter().map(|a| a.header("Call-ID")).collect();
    assert_eq!(calls.len(), INVITES);
    assert!(
        answers.iter().all(|a| a.status() == 407),
        "{}",
        answers[0].0
    );
    assert!(
        answers.iter().all(|a| a.header("To").contains(";tag=sb")),
        "{}",
        answers[0].0
    );
    assert_eq!(
        server.sip.transactions(),
        0,
        "a challenged INVITE leaves no transaction (and so nothing retransmitted)"
    );
    // Its ACK is absorbed without a transaction either.
    let first = &answers[0];
    let ack = format!(
        "ACK sip:200@{server} SIP/2.0\r\nVia: {via}\r\nFrom: {from}\r\nTo: {to}\r\n\
         Call-ID: {id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        server = server.addr(),
        via = first.header("Via"),
        from = first.header("From"),
        to = first.header("To"),
        id = first.header("Call-ID"),
    );
    attacker.send(ack).await;
    // A phone still calls: the challenge's nonce is good for the authenticated INVITE.
    let phone = Phone::new(server.addr()).await;
    assert_eq!(register(&phone, "101", "secret").await, 200);
    assert!(
        server.sip.transactions() <= 1,
        "{}",
        server.sip.transactions()
    );
}

#[tokio::test]
async fn a_flood_from_one_address_is_dropped_unanswered_and_others_keep_working() {
    let server = Server::start(vec![]).await;
    let attacker = Phone::on("127.0.0.3", server.addr()).await;
    const INVITES: usize = 3_000;
    for n in 0..INVITES {
        attacker.send(bare_invite(&attacker, n).1).await;
        if n % 100 == 99 {
            tokio::task::yield_now().await; // paced, so the kernel drops none of it
        }
    }
    // A phone at another address registers and calls at once.
    let phone = Phone::new(server.addr()).await;
    assert_eq!(register(&phone, "101", "secret").await, 200);
    // The server reads datagrams in order and answers a challenge as it reads it, so
    // by now every answer the flood will ever get has been sent: only what got through
    // before the address was blocked. The rest was never answered, so nothing was
    // reflected at whoever the source claims to be.
    let limit = DEFAULT_MESSAGES_PER_SECOND as usize * FLOOD_WINDOW.as_secs() as usize;
    let answered = drain(&attacker);
    assert!(
        (1..=limit).contains(&answered),
        "{answered} of {INVITES} answered"
    );
    // And the address is still ignored: an OPTIONS sent before the phone's next
    // REGISTER is not answered by the time that REGISTER is.
    let mut ping = Call::new("101", "101", server.addr());
    ping.call_id = "still-blocked@test".into();
    attacker
        .send(request(
            "OPTIONS",
            &ping,
            1,
            &branch(),
            attacker.addr(),
            &[],
            "",
        ))
        .await;
    assert_eq!(register(&phone, "101", "secret").await, 200);
    assert_eq!(drain(&attacker), 0, "a blocked address was answered");
}

/// How many datagrams wait on `phone`'s socket now, taking them.
fn drain(phone: &Phone) -> usize {
    let mut buffer = vec![0; 65_536];
    let mut n = 0;
    while phone.socket.try_recv_from(&mut buffer).is_ok() {
        n += 1;
    }
    n
}

#[tokio::test]
async fn forged_lock_out_attempts_lock_nobody_out() {
    let server = Server::start(vec![]).await;
    let forger = Phone::on("127.0.0.4", server.addr()).await;
    let uri = format!("sip:{}", server.addr());
    let forged = [
        // Malformed: no response, no nonce.
        "Authorization: Digest username=\"101\", realm=\"switchboard\"".to_string(),
        // A nonce this server never issued.
        format!(
            "Authorization: Digest username=\"101\", realm=\"switchboard\", nonce=\"0011\", \
             uri=\"{uri}\", response=\"00000000000000000000000000000000\""
        ),
        // Garbage.
        "Authorization: Digest ,,,=\"".to_string(),
    ];
    for n in 0..60 {
        let mut call = Call::new("101", "101", server.addr());
        call.uri = uri.clone();
        let response = forger
            .ask(
                "REGISTER",
                &call,
                1,
                &[forged[n % forged.len()].clone()],
                "",
            )
            .await;
        assert_eq!(
            response.status(),
            401,
            "forgery {n} was counted: {}",
            response.0
        );
    }
    // Neither the account nor the forger's address is locked: both sign in.
    assert_eq!(register(&forger, "101", "secret").await, 200);
    let phone = Phone::new(server.addr()).await;
    assert_eq!(register(&phone, "101", "secret").await, 200);
}

#[tokio::test]
async fn one_account_guessed_from_many_addresses_is_locked_for_strangers_only() {
    let server = Server::start(vec![]).await;
    let desk = Phone::new(server.addr()).await;
    assert_eq!(register(&desk, "101", "secret").await, 200);
    // Five wrong answers to real challenges, each from its own address: under the
    // per-address throttle, but they add up on the account.
    for n in 0..5 {
        let guesser = Phone::on(&format!("127.0.1.{}", n + 1), server.addr()).await;
        assert_eq!(register(&guesser, "101", "guess").await, 403);
    }
    // A sixth stranger is refused even with the right password: unchecked.
    let stranger = Phone::on("127.0.1.99", server.addr()).await;
    assert_eq!(register(&stranger, "101", "secret").await, 403);
    // The desk phone that signed in before keeps working.
    assert_eq!(register(&desk, "101", "secret").await, 200);
    // Other accounts are untouched.
    assert_eq!(register(&stranger, "102", "secret").await, 200);
}

/// A TCP connection from `ip`.
async fn connect_from(ip: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(ip.parse().unwrap(), 0))
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// Whether the server closes `stream` within `limit` (end of stream or a reset); the
/// stream comes back, so an open one stays open.
async fn closed_within(mut stream: TcpStream, limit: Duration) -> (bool, TcpStream) {
    let mut byte = [0u8; 1];
    let closed = matches!(
        tokio::time::timeout(limit, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    );
    (closed, stream)
}

#[tokio::test]
async fn idle_tcp_connections_are_bounded_and_closed_and_phones_keep_working() {
    let server = Server::start(vec![]).await;
    let limits = server.sip.tcp_limits();
    let extra = 50;
    let mut idle = Vec::new();
    for _ in 0..limits.per_address + extra {
        idle.push(connect_from("127.0.0.5", server.addr()).await);
    }
    // Past the limit, connections are closed as soon as they are accepted.
    let checks: Vec<_> = idle
        .into_iter()
        .map(|s| tokio::spawn(closed_within(s, Duration::from_secs(2))))
        .collect();
    let mut at_once = 0;
    let mut still_open = Vec::new();
    for check in checks {
        match check.await.unwrap() {
            (true, _) => at_once += 1,
            (false, stream) => still_open.push(stream),
        }
    }
    assert_eq!(at_once, extra, "closed at once");
    assert_eq!(server.sip.tcp_connections(), limits.per_address);

    // A phone registers over UDP, and another speaks over TCP from its own address.
    let phone = Phone::new(server.addr()).await;
    assert_eq!(register(&phone, "101", "secret").await, 200);
    let mut tcp_phone = connect_from("127.0.0.6", server.addr()).await;
    let local = tcp_phone.local_addr().unwrap();
    let call = Call::new("102", "102", server.addr());
    let options = request("OPTIONS", &call, 1, &branch(), local, &[], "")
        .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    tcp_phone.write_all(options.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = within("an answer over TCP", tcp_phone.read(&mut answer))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("SIP/2.0 200"));

    // The silent ones are closed after the first-message deadline; the phone's is not.
    let deadline = TCP_FIRST_MESSAGE_DEADLINE + Duration::from_secs(5);
    let start = std::time::Instant::now();
    while server.sip.tcp_connections() > 1 {
        assert!(
            start.elapsed() < deadline,
            "{} connections still open",
            server.sip.tcp_connections()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for stream in still_open {
        assert!(closed_within(stream, Duration::from_secs(1)).await.0);
    }
    tcp_phone.write_all(options.as_bytes()).await.unwrap();
    let n = within("a second answer over TCP", tcp_phone.read(&mut answer))
        .await
        .unwrap();
    assert!(n > 0, "the phone's connection was closed");
}
