//! Malformed SIP — garbage, truncated, oversized headers and bodies, wrong
//! Content-Length, unknown methods — gets a 4xx (501 for an unknown method) or
//! is dropped, and the server keeps serving.
//!
//! Two halves:
//!
//! - property tests of the pure message path: the screen every UDP datagram
//!   passes (`src/sip/screen.rs`, compiled into this test since the module is
//!   private to the crate; its own unit tests run here too), rsipstack's parser
//!   and rsipstack's TCP framing never panic on arbitrary bytes or on mutations
//!   of valid requests, and whatever the screen answers or hands to the stack is
//!   well formed;
//! - a live server on 127.0.0.1 fed a few thousand such messages (from a fixed
//!   seed) over UDP and TCP, which must answer an OPTIONS on both after every
//!   batch, answer each sampled broken request exactly as the screen says, make
//!   no call of any of it, and still register a phone with digest
//!   authentication at the end.
//!
//! Every wait has a deadline.

mod support;

#[path = "../src/sip/screen.rs"]
mod screen;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use support::{Server, within};

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
use rsipstack::sip::SipMessage;
use rsipstack::transaction::key::{TransactionKey, TransactionRole};
use rsipstack::transport::stream::SipCodec;
use screen::{MAX_DATAGRAM, Screened, screen};
use switchboard_runtime::sip::digest::{self, DigestAlgorithm, QopAuth};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_util::codec::Decoder;

/// The longest any single wait may take.
/// The Via address of the messages the property tests make.
const PHONE: &str = "127.0.0.1:5070";

// ---------------------------------------------------------------- messages

/// The valid messages the mutations start from.
const SEEDS: usize = 9;

/// Valid message number `kind`, from a phone at `phone` over `transport`
/// (`UDP` or `TCP`); `id` makes its Call-ID and branch unique.
fn seed(kind: usize, phone: SocketAddr, transport: &str, id: usize) -> Vec<u8> {
    let via = format!("SIP/2.0/{transport} {phone};branch=z9hG4bK-fuzz-{id};rport");
    let head = |method: &str, to_tag: &str| {
        format!(
            "Via: {via}\r\n\
             Max-Forwards: 70\r\n\
             From: \"Desk\" <sip:101@127.0.0.1>;tag=f{id}\r\n\
             To: <sip:200@127.0.0.1>{to_tag}\r\n\
             Call-ID: fuzz-{id}@test\r\n\
             CSeq: {id} {method}\r\n"
        )
    };
    let sdp = format!(
        "v=0\r\no=phone 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
        ip = phone.ip()
    );
    let text = match kind {
        0 => format!(
            "OPTIONS sip:200@127.0.0.1 SIP/2.0\r\n{}Accept: application/sdp\r\nContent-Length: 0\r\n\r\n",
            head("OPTIONS", "")
        ),
        1 => format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n{}Contact: <sip:101@{phone}>;expires=60\r\n\
             Expires: 60\r\nUser-Agent: fuzz\r\nContent-Length: 0\r\n\r\n",
            head("REGISTER", "")
        ),
        2 => format!(
            "INVITE sip:200@127.0.0.1 SIP/2.0\r\n{}Contact: <sip:101@{phone}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            head("INVITE", ""),
            sdp.len()
        ),
        3 => format!(
            "BYE sip:200@127.0.0.1 SIP/2.0\r\n{}Content-Length: 0\r\n\r\n",
            head("BYE", ";tag=t1")
        ),
        4 => format!(
            "ACK sip:200@127.0.0.1 SIP/2.0\r\n{}Content-Length: 0\r\n\r\n",
            head("ACK", ";tag=t1")
        ),
        // Compact header names, and a body.
        5 => format!(
            "MESSAGE sip:200@127.0.0.1 SIP/2.0\r\n\
             v: {via}\r\n\
             f: <sip:101@127.0.0.1>;tag=f{id}\r\n\
             t: <sip:200@127.0.0.1>\r\n\
             i: fuzz-{id}@test\r\n\
             CSeq: {id} MESSAGE\r\n\
             c: text/plain\r\n\
             l: 5\r\n\r\nhello"
        ),
        // Folded header lines.
        6 => format!(
            "OPTIONS sip:200@127.0.0.1 SIP/2.0\r\n\
             Via: {via}\r\n\
             From: <sip:101@127.0.0.1>\r\n\
             \t;tag=f{id}\r\n\
             To:\r\n <sip:200@127.0.0.1>\r\n\
             Call-ID: fuzz-{id}@test\r\n\
             CSeq: {id}\r\n OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        ),
        7 => format!(
            "SUBSCRIBE sip:200@127.0.0.1 SIP/2.0\r\n{}Event: presence\r\nExpires: 60\r\n\
             Contact: <sip:101@{phone}>\r\nContent-Length: 0\r\n\r\n",
            head("SUBSCRIBE", "")
        ),
        // A response, which the stack matches to a transaction or ignores.
        _ => format!(
            "SIP/2.0 200 OK\r\n{}Contact: <sip:200@{phone}>\r\nContent-Length: 0\r\n\r\n",
            head("NOTIFY", ";tag=t1")
        ),
    };
    text.into_bytes()
}

/// Content-Length values that are wrong: too large, negative, not a number.
const CONTENT_LENGTHS: [&str; 16] = [
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "4294967296",
    "65536",
    "9000",
    "1000",
    "-1",
    "-0",
    "+5",
    "abc",
    "",
    " ",
    "0x10",
    "1e3",
    "5 5",
];

/// One change to a message. Positions are taken modulo the message's length.
#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: usize,
        xor: u8,
    },
    Truncate {
        at: usize,
    },
    DuplicateCrlf {
        nth: usize,
    },
    RemoveCrlf {
        nth: usize,
    },
    /// Sets every Content-Length (or adds one) to this value.
    ContentLength(&'static str),
    /// Adds a second Content-Length.
    ExtraContentLength(&'static str),
    /// Replaces the request line's method (the CSeq keeps the old one).
    Method(String),
    /// Inserts a header line with a value this long.
    LongHeader {
        len: usize,
        line: usize,
    },
    /// Inserts bytes: NULs, broken UTF-8, stray CR/LF, random.
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    RemoveLine {
        nth: usize,
    },
    DuplicateLine {
        nth: usize,
    },
    /// Replaces the body, leaving the head as it is.
    Body(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let methods = prop_oneof![
        Just("FOO".to_string()),
        Just("options".to_string()),
        Just("INVITEX".to_string()),
        Just(String::new()),
        Just("ÄÖÜ".to_string()),
        Just("X".repeat(300)),
        "[A-Za-z!%*_+`'~.-]{1,20}",
        "[^ \r\n]{1,10}",
    ];
    let inserts = prop_oneof![
        Just(vec![0u8]),
        Just(vec![0u8; 16]),
        Just(vec![0xff, 0xfe]),
        Just(vec![0xc0, 0x80]),
        Just(vec![0xed, 0xa0, 0x80]),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(b":".to_vec()),
        Just(b";tag=".to_vec()),
        Just("é".as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        4 => (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        2 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        1 => any::<usize>().prop_map(|nth| Mutation::DuplicateCrlf { nth }),
        1 => any::<usize>().prop_map(|nth| Mutation::RemoveCrlf { nth }),
        2 => prop::sample::select(&CONTENT_LENGTHS[..]).prop_map(Mutation::ContentLength),
        1 => prop::sample::select(&CONTENT_LENGTHS[..]).prop_map(Mutation::ExtraContentLength),
        2 => methods.prop_map(Mutation::Method),
        1 => (prop_oneof![Just(10 * 1024), Just(MAX_DATAGRAM), 1..60_000usize], any::<usize>())
            .prop_map(|(len, line)| Mutation::LongHeader { len, line }),
        2 => (any::<usize>(), inserts).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => any::<usize>().prop_map(|nth| Mutation::RemoveLine { nth }),
        1 => any::<usize>().prop_map(|nth| Mutation::DuplicateLine { nth }),
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Mutation::Body),
    ]
}

/// Where each CRLF of `message` starts.
fn crlfs(message: &[u8]) -> Vec<usize> {
    message
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n")
        .map(|(i, _)| i)
        .collect()
}

/// The message as lines, each with its line end.
fn lines(message: &[u8]) -> Vec<Vec<u8>> {
    message
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// How many of `lines` make the head: up to the first empty line.
fn head_len(lines: &[Vec<u8>]) -> usize {
    lines
        .iter()
        .position(|l| l == b"\r\n")
        .unwrap_or(lines.len())
}

/// Whether a head line (not a folded continuation) is a Content-Length.
fn is_content_length(line: &[u8]) -> bool {
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        return false;
    }
    let name = line.split(|&b| b == b':').next().unwrap_or_default();
    let name = String::from_utf8_lossy(name);
    let name = name.trim();
    line.contains(&b':')
        && (name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l"))
}

fn apply(message: &mut Vec<u8>, mutation: &Mutation) {
    match mutation {
        Mutation::Flip { at, xor } => {
            if !message.is_empty() {
                let i = at % message.len();
                message[i] ^= xor;
            }
        }
        Mutation::Truncate { at } => message.truncate(at % (message.len() + 1)),
        Mutation::DuplicateCrlf { nth } | Mutation::RemoveCrlf { nth } => {
            let found = crlfs(message);
            if found.is_empty() {
                return;
            }
            let i = found[nth % found.len()];
            if matches!(mutation, Mutation::DuplicateCrlf { .. }) {
                message.splice(i..i, *b"\r\n");
            } else {
                message.drain(i..i + 2);
            }
        }
        Mutation::ContentLength(value) => {
            let mut all = lines(message);
            let head = head_len(&all);
            let new = format!("Content-Length: {value}\r\n").into_bytes();
            let mut replaced = false;
            for line in &mut all[..head] {
                if is_content_length(line) {
                    *line = new.clone();
                    replaced = true;
                }
            }
            if !replaced {
                all.insert(head, new);
            }
            *message = all.concat();
        }
        Mutation::ExtraContentLength(value) => {
            let mut all = lines(message);
            let at = 1.min(all.len());
            all.insert(at, format!("Content-Length: {value}\r\n").into_bytes());
            *message = all.concat();
        }
        Mutation::Method(method) => {
            let end = message
                .iter()
                .position(|&b| b == b' ')
                .unwrap_or(message.len());
            message.splice(..end, method.bytes());
        }
        Mutation::LongHeader { len, line } => {
            let mut all = lines(message);
            let head = head_len(&all).max(1);
            let at = 1 + line % head;
            let header = format!("X-Long: {}\r\n", "a".repeat(*len)).into_bytes();
            all.insert(at.min(all.len()), header);
            *message = all.concat();
        }
        Mutation::Insert { at, bytes } => {
            let i = at % (message.len() + 1);
            message.splice(i..i, bytes.iter().copied());
        }
        Mutation::RemoveLine { nth } | Mutation::DuplicateLine { nth } => {
            let mut all = lines(message);
            if all.is_empty() {
                return;
            }
            let i = nth % all.len();
            if matches!(mutation, Mutation::RemoveLine { .. }) {
                all.remove(i);
            } else {
                all.insert(i, all[i].clone());
            }
            *message = all.concat();
        }
        Mutation::Body(body) => {
            if let Some(blank) = find(message, b"\r\n\r\n") {
                message.truncate(blank + 4);
            }
            message.extend_from_slice(body);
        }
    }
}

/// A generated message: raw bytes, or a seed with mutations.
#[derive(Clone, Debug)]
enum Case {
    Bytes(Vec<u8>),
    Mutated {
        seed: usize,
        mutations: Vec<Mutation>,
    },
}

impl Case {
    fn build(&self, phone: SocketAddr, transport: &str, id: usize) -> Vec<u8> {
        match self {
            Case::Bytes(bytes) => bytes.clone(),
            Case::Mutated {
                seed: kind,
                mutations,
            } => {
                let mut message = seed(*kind, phone, transport, id);
                for m in mutations {
                    apply(&mut message, m);
                }
                message
            }
        }
    }
}

/// Bytes that look a little like SIP, so random ones get past the first checks.
fn sipish_bytes() -> impl Strategy<Value = Vec<u8>> {
    const PIECES: [&str; 24] = [
        "INVITE ",
        "OPTIONS ",
        "ACK ",
        "SIP/2.0 ",
        "sip:200@127.0.0.1 ",
        "SIP/2.0\r\n",
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-x;rport\r\n",
        "From: <sip:101@127.0.0.1>;tag=a\r\n",
        "To: <sip:200@127.0.0.1>\r\n",
        "Call-ID: x@y\r\n",
        "CSeq: 1 INVITE\r\n",
        "Content-Length: ",
        "l: ",
        "v: ",
        "0",
        "7",
        "\r\n",
        "\r\n\r\n",
        " ",
        "\t",
        ":",
        ";",
        "\0",
        "\u{feff}",
    ];
    prop::collection::vec(prop::sample::select(&PIECES[..]), 0..40)
        .prop_map(|pieces| pieces.concat().into_bytes())
}

fn case() -> impl Strategy<Value = Case> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..1500).prop_map(Case::Bytes),
        1 => sipish_bytes().prop_map(Case::Bytes),
        6 => (0..SEEDS, prop::collection::vec(mutation(), 1..4))
            .prop_map(|(seed, mutations)| Case::Mutated { seed, mutations }),
    ]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------- the checks

/// The request line's method, if the message starts like a request.
fn method_of(message: &[u8]) -> Option<String> {
    let line = message.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let method = line.split_whitespace().next()?;
    (!line.starts_with("SIP/")).then(|| method.to_string())
}

fn status_of(response: &[u8]) -> u16 {
    let line = String::from_utf8_lossy(&response[..response.len().min(12)]).into_owned();
    line.strip_prefix("SIP/2.0 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not a response: {line:?}"))
}

/// Runs every parser of the message path on `datagram` and checks what the
/// screen decides: an answer is a well-formed 400, 501 or 513 (never to an
/// ACK or a response), and what reaches the stack is a request it can make a
/// transaction of, within its buffer.
fn check(datagram: &[u8]) -> Screened {
    let _ = SipMessage::try_from(datagram);
    decode_all(datagram);
    let verdict = screen(datagram);
    match &verdict {
        Screened::Reply(reply) => {
            assert!(!datagram.starts_with(b"SIP/"), "answered a response");
            assert_ne!(
                method_of(datagram).as_deref(),
                Some("ACK"),
                "answered an ACK"
            );
            assert!(
                matches!(status_of(reply), 400 | 501 | 513),
                "{}",
                String::from_utf8_lossy(reply)
            );
            match SipMessage::try_from(reply.as_slice()) {
                Ok(SipMessage::Response(_)) => {}
                other => panic!(
                    "the answer does not parse ({other:?}):\n{}",
                    String::from_utf8_lossy(reply)
                ),
            }
            // The answer copies Via, From, To, Call-ID and CSeq: never much
            // more than the request (a compact `v:` line grows to `Via: `).
            assert!(reply.len() <= 3 * datagram.len() + 512);
        }
        Screened::Rewrite(bytes) => {
            let Ok(SipMessage::Request(request)) = SipMessage::try_from(bytes.as_slice()) else {
                panic!(
                    "the rewritten request does not parse:\n{}",
                    String::from_utf8_lossy(bytes)
                )
            };
            TransactionKey::from_request(&request, TransactionRole::Server)
                .expect("a rewritten request makes a transaction");
            let blank = find(bytes, b"\r\n\r\n").expect("a head");
            let head = String::from_utf8_lossy(&bytes[..blank]);
            let lengths: Vec<&str> = head
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .filter(|l| is_content_length(l.as_bytes()))
                .collect();
            let body = bytes.len() - blank - 4;
            assert_eq!(lengths, [format!("Content-Length: {body}")], "{head}");
            assert!(bytes.len() <= datagram.len() + 32);
        }
        Screened::Pass if datagram.iter().all(u8::is_ascii_whitespace) => {}
        Screened::Pass => {
            assert!(
                datagram.len() <= MAX_DATAGRAM,
                "passed {} bytes",
                datagram.len()
            );
            if !datagram.starts_with(b"SIP/") {
                let Ok(SipMessage::Request(request)) = SipMessage::try_from(datagram) else {
                    panic!(
                        "passed a request that does not parse:\n{}",
                        String::from_utf8_lossy(datagram)
                    )
                };
                TransactionKey::from_request(&request, TransactionRole::Server)
                    .expect("a passed request makes a transaction");
            }
        }
        Screened::Drop => {}
    }
    verdict
}

/// Feeds `bytes` to rsipstack's TCP framing until it wants more or fails.
fn decode_all(bytes: &[u8]) {
    let mut buffer = BytesMut::from(bytes);
    let mut codec = SipCodec::new();
    for _ in 0..=bytes.len() {
        if overflows_tcp_framing(&buffer) {
            // rsipstack 0.7.14 adds this length without an overflow check (a panic in
            // debug builds, in that connection's task only; the live TCP test shows the
            // server keeps serving). Skipped here until upstream checks it.
            return;
        }
        match codec.decode(&mut buffer) {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
    panic!("the TCP framing went round in circles");
}

/// Whether rsipstack's TCP framing would add a Content-Length to the head's
/// length past `usize::MAX` (a panic with overflow checks, as in tests).
fn overflows_tcp_framing(bytes: &[u8]) -> bool {
    let Some(blank) = find(bytes, b"\r\n\r\n") else {
        return false;
    };
    bytes[..blank + 4]
        .split(|&b| b == b'\n')
        .filter(|line| {
            let colon = line.iter().position(|&b| b == b':');
            colon.is_some_and(|c| {
                let name = &line[..c];
                name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l")
            })
        })
        .filter_map(|line| {
            let value = &line[line.iter().position(|&b| b == b':')? + 1..];
            std::str::from_utf8(value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .any(|n| n.checked_add(blank + 4).is_none())
}

fn phone() -> SocketAddr {
    PHONE.parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn sip_like_bytes_never_panic(bytes in sipish_bytes()) {
        check(&bytes);
    }

    #[test]
    fn mutated_requests_get_a_well_formed_answer_or_none(
        kind in 0..SEEDS,
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let case = Case::Mutated { seed: kind, mutations };
        check(&case.build(phone(), "UDP", 1));
    }
}

#[test]
fn every_seed_is_valid() {
    for kind in 0..SEEDS {
        let message = seed(kind, phone(), "UDP", 1);
        assert_eq!(
            check(&message),
            Screened::Pass,
            "{}",
            String::from_utf8_lossy(&message)
        );
    }
}

#[test]
fn every_truncation_of_every_seed_is_answered_400_or_dropped() {
    for kind in 0..SEEDS {
        let message = seed(kind, phone(), "UDP", 1);
        let blank = find(&message, b"\r\n\r\n").unwrap();
        for end in 0..message.len() {
            let cut = &message[..end];
            let verdict = check(cut);
            if cut.starts_with(b"SIP/") || cut.iter().all(u8::is_ascii_whitespace) {
                continue; // responses and keep-alives are not screened
            }
            let is_ack = kind == 4;
            match verdict {
                Screened::Drop => {}
                Screened::Reply(reply) if !is_ack && status_of(&reply) == 400 => {}
                // Cut inside the body, whose length the head declares.
                Screened::Pass | Screened::Rewrite(_) if end >= blank + 4 => {
                    panic!(
                        "a cut body was passed on: {:?}",
                        String::from_utf8_lossy(cut)
                    )
                }
                other => panic!("cut at {end} of seed {kind}: {other:?}"),
            }
        }
    }
}

#[test]
fn every_crlf_duplicated_or_removed_is_handled() {
    for kind in 0..SEEDS {
        let message = seed(kind, phone(), "UDP", 1);
        for nth in 0..crlfs(&message).len() {
            for mutation in [
                Mutation::DuplicateCrlf { nth },
                Mutation::RemoveCrlf { nth },
            ] {
                let mut changed = message.clone();
                apply(&mut changed, &mutation);
                check(&changed);
            }
        }
    }
}

#[test]
fn named_malformations_get_the_answer_rfc_3261_asks_for() {
    let options = || seed(0, phone(), "UDP", 1);
    let mutated = |base: Vec<u8>, mutations: &[Mutation]| {
        let mut message = base;
        for m in mutations {
            apply(&mut message, m);
        }
        message
    };
    let status = |message: &[u8]| match check(message) {
        Screened::Reply(reply) => status_of(&reply),
        other => panic!("{other:?} for\n{}", String::from_utf8_lossy(message)),
    };
    for value in [
        "18446744073709551616",
        "99999999999999999999999999",
        "9000",
        "-1",
        "abc",
        "",
        "0x10",
        "5 5",
    ] {
        let message = mutated(options(), &[Mutation::ContentLength(value)]);
        assert_eq!(status(&message), 400, "Content-Length: {value:?}");
    }
    let twice = mutated(options(), &[Mutation::ExtraContentLength("0")]);
    assert_eq!(status(&twice), 400, "two Content-Lengths");
    let invite = seed(2, phone(), "UDP", 1);
    let short = mutated(invite.clone(), &[Mutation::ContentLength("1000")]);
    assert_eq!(status(&short), 400, "a body shorter than declared");

    let unknown = mutated(options(), &[Mutation::Method("FOO".into())]);
    assert_eq!(status(&unknown), 501);
    let lower = mutated(options(), &[Mutation::Method("options".into())]);
    assert_eq!(status(&lower), 501, "methods are case-sensitive");

    let long = Mutation::LongHeader {
        len: 10 * 1024,
        line: 2,
    };
    assert_eq!(status(&mutated(options(), &[long])), 513, "a 10 KB header");
    let big_body = mutated(invite.clone(), &[Mutation::Body(vec![b'x'; 9000])]);
    assert_eq!(status(&big_body), 513, "a 9 KB body");

    let cut = &invite[..find(&invite, b"\r\n\r\n").unwrap()];
    assert_eq!(status(cut), 400, "no blank line");

    // Broken UTF-8 in the head: nothing there to answer with.
    let at = find(&options(), b"Call-ID").unwrap();
    let broken = mutated(
        options(),
        &[Mutation::Insert {
            at,
            bytes: vec![0xff, 0xfe],
        }],
    );
    assert_eq!(check(&broken), Screened::Drop);
    // In the body it is just bytes.
    let mut binary = invite.clone();
    let sdp_len = binary.len() - find(&binary, b"\r\n\r\n").unwrap() - 4;
    let end = binary.len();
    binary[end - 3] = 0xff;
    binary[end - 2] = 0x00;
    assert_eq!(check(&binary), Screened::Pass, "{sdp_len} bytes of body");

    // Never an answer to an ACK, however broken.
    let ack = seed(4, phone(), "UDP", 1);
    for m in [
        Mutation::ContentLength("abc"),
        Mutation::Truncate { at: 60 },
        Mutation::LongHeader {
            len: 10 * 1024,
            line: 1,
        },
    ] {
        assert_eq!(check(&mutated(ack.clone(), &[m])), Screened::Drop);
    }
    for junk in [
        &b""[..],
        b"\0\0\0\0",
        b"\r\n",
        b"\xff\xff\xff\xff",
        b"INVITE",
    ] {
        check(junk);
    }
}

fn mutated_seed(kind: usize, mutations: &[Mutation]) -> Vec<u8> {
    Case::Mutated {
        seed: kind,
        mutations: mutations.to_vec(),
    }
    .build(phone(), "TCP", 1)
}

// ---------------------------------------------------------------- live

fn header(message: &str, name: &str) -> Vec<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or_default();
    head.lines()
        .skip(1)
        .filter_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
        .collect()
}

/// A phone: one UDP socket that reads only what it asked for.
struct Phone {
    socket: UdpSocket,
    server: SocketAddr,
}

impl Phone {
    async fn new(server: SocketAddr) -> Phone {
        Phone {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            server,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    async fn send(&self, message: &[u8]) {
        self.socket.send_to(message, self.server).await.unwrap();
    }

    /// The next datagram, whatever it is.
    async fn next(&self, what: &str) -> Vec<u8> {
        within(what, async {
            let mut buffer = vec![0; 65_536];
            let (len, _) = self.socket.recv_from(&mut buffer).await.unwrap();
            buffer.truncate(len);
            buffer
        })
        .await
    }

    /// The next final response for `call_id`.
    async fn response(&self, call_id: &str) -> String {
        loop {
            let message = String::from_utf8_lossy(&self.next(call_id).await).into_owned();
            if message.starts_with("SIP/2.0 ")
                && header(&message, "Call-ID").first().map(String::as_str) == Some(call_id)
                && status_of(message.as_bytes()) >= 200
            {
                return message;
            }
        }
    }

    /// Sends an OPTIONS and waits for its 200, sending it again every T1
    /// (500 ms) as RFC 3261 asks: a flood may overflow the server's socket
    /// buffer, and UDP drops what does not fit.
    async fn ping(&self, id: usize) {
        let options = seed(0, self.addr(), "UDP", id);
        let call_id = format!("fuzz-{id}@test");
        let answer = within(&format!("the OPTIONS 200 for {call_id}"), async {
            loop {
                self.send(&options).await;
                let wait = tokio::time::timeout(Duration::from_millis(200), async {
                    loop {
                        let mut buffer = vec![0; 65_536];
                        let (len, _) = self.socket.recv_from(&mut buffer).await.unwrap();
                        let message = String::from_utf8_lossy(&buffer[..len]).into_owned();
                        if message.starts_with("SIP/2.0 ")
                            && header(&message, "Call-ID") == [call_id.as_str()]
                        {
                            return message;
                        }
                    }
                });
                if let Ok(message) = wait.await {
                    return message;
                }
            }
        })
        .await;
        assert_eq!(status_of(answer.as_bytes()), 200, "{answer}");
    }
}

fn apply_call_id(message: &mut Vec<u8>, call_id: &str) {
    let text = String::from_utf8(std::mem::take(message)).unwrap();
    let old = header(&text, "Call-ID").remove(0);
    *message = text.replace(&old, call_id).into_bytes();
}

/// Reads one message (a head, then the body its Content-Length declares).
async fn read_tcp(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    within("a response over TCP", async {
        while !received.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut byte).await.unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&received));
            received.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&received).into_owned();
        let length: usize = header(&text, "Content-Length")
            .first()
            .map_or(0, |l| l.parse().unwrap());
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.unwrap();
        received.extend_from_slice(&body);
    })
    .await;
    String::from_utf8(received).unwrap()
}

/// An OPTIONS over a new TCP connection gets its 200.
async fn tcp_ping(server: SocketAddr, id: usize) {
    let mut stream = within("a TCP connection", TcpStream::connect(server))
        .await
        .unwrap();
    let options = seed(0, stream.local_addr().unwrap(), "TCP", id);
    stream.write_all(&options).await.unwrap();
    let ok = read_tcp(&mut stream).await;
    assert_eq!(status_of(ok.as_bytes()), 200, "{ok}");
    assert_eq!(header(&ok, "Call-ID"), [format!("fuzz-{id}@test")]);
}

/// REGISTER 101 with an MD5 digest: challenged, then accepted.
async fn register(server: &Server, id: usize) {
    let phone = Phone::new(server.addr()).await;
    let request = |cseq: usize, authorization: Option<String>| {
        let mut message = String::from_utf8(seed(1, phone.addr(), "UDP", id)).unwrap();
        message = message
            .replace(&format!("CSeq: {id} "), &format!("CSeq: {cseq} "))
            .replace("branch=z9hG4bK-fuzz-", &format!("branch=z9hG4bK-{cseq}-"))
            .replace("<sip:200@127.0.0.1>", "<sip:101@127.0.0.1>");
        if let Some(auth) = authorization {
            message = message.replace(
                "Expires: 60",
                &format!("Expires: 60\r\nAuthorization: {auth}"),
            );
        }
        message.into_bytes()
    };
    let call_id = format!("fuzz-{id}@test");
    phone.send(&request(1, None)).await;
    let challenge = phone.response(&call_id).await;
    assert_eq!(status_of(challenge.as_bytes()), 401, "{challenge}");
    let offered = header(&challenge, "WWW-Authenticate")
        .into_iter()
        .find(|c| c.contains("algorithm=MD5"))
        .expect("an MD5 challenge");
    let params = digest::parse_params(offered.trim_start_matches("Digest"));
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let (realm, nonce) = (get("realm"), get("nonce"));
    let uri = "sip:127.0.0.1";
    let ha1 = digest::ha1(DigestAlgorithm::Md5, "101", &realm, "secret");
    let qop = QopAuth {
        nc: "00000001",
        cnonce: "fuzzcnonce",
    };
    let response = digest::response(
        DigestAlgorithm::Md5,
        &ha1,
        "REGISTER",
        uri,
        &nonce,
        Some(qop),
    );
    let auth = format!(
        "Digest username=\"101\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"fuzzcnonce\""
    );
    phone.send(&request(2, Some(auth))).await;
    let ok = phone.response(&call_id).await;
    assert_eq!(status_of(ok.as_bytes()), 200, "{ok}");
    let registered = server.sip.registrations("101");
    assert!(
        registered.iter().any(|r| r.source == phone.addr()),
        "{registered:?}"
    );
}

/// How many generated messages go over UDP; TCP gets some more.
const UDP_MESSAGES: usize = 3000;
const BATCH: usize = 50;
const TCP_CONNECTIONS: usize = 12;
const TCP_MESSAGES_EACH: usize = 25;
/// How many of the messages the screen answers are checked one by one.
const SAMPLED_ANSWERS: usize = 150;
const SAMPLED_DROPS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_malformed_sip_is_answered_or_dropped_and_the_server_keeps_serving() {
    // Every message must reach the parser, not the flood limit: the blaster and the
    // pinger share an address.
    let mut server = Server::start_allowing(1_000_000).await;
    let blaster = Phone::new(server.addr()).await;
    let pinger = Phone::new(server.addr()).await;
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = case();
    let mut generate = |phone: SocketAddr, transport: &str, id: usize| {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        case.build(phone, transport, id)
    };
    let mut ids = 0..;

    // UDP, in batches: after each the server still answers an OPTIONS.
    let mut messages = Vec::with_capacity(UDP_MESSAGES);
    for _ in 0..UDP_MESSAGES {
        messages.push(generate(blaster.addr(), "UDP", ids.next().unwrap()));
    }
    for (n, batch) in messages.chunks(BATCH).enumerate() {
        for message in batch {
            // Too large for UDP at all: nothing to send.
            if message.len() <= 65_507 {
                blaster.send(message).await;
            }
        }
        pinger.ping(1_000_000 + n).await;
    }

    // TCP: some connections closed after their messages, some left open
    // half-way through one; one declares a Content-Length near usize::MAX,
    // which panics rsipstack's framing task for that connection in a debug
    // build (see `rsipstack_tcp_framing_survives_...` above), and one sends
    // 70 KB without a blank line, past its 64 KiB limit.
    let mut open = Vec::new();
    for c in 0..TCP_CONNECTIONS {
        let mut stream = within("a TCP connection", TcpStream::connect(server.addr()))
            .await
            .unwrap();
        let local = stream.local_addr().unwrap();
        let mut batch: Vec<Vec<u8>> = (0..TCP_MESSAGES_EACH)
            .map(|_| generate(local, "TCP", ids.next().unwrap()))
            .collect();
        if c == 0 {
            batch.insert(
                0,
                mutated_seed(0, &[Mutation::ContentLength("18446744073709551615")]),
            );
        }
        if c == 1 {
            batch.insert(0, vec![b'x'; 70_000]);
        }
        for message in batch {
            // The server may close a connection it cannot frame.
            if stream.write_all(&message).await.is_err() {
                break;
            }
        }
        if c % 3 == 0 {
            open.push(stream);
        }
    }
    tcp_ping(server.addr(), ids.next().unwrap()).await;
    pinger.ping(ids.next().unwrap()).await;

    // Whatever the screen answers, the server answers exactly so.
    let checker = Phone::new(server.addr()).await;
    let mut answers = 0;
    let mut drops = 0;
    let mut statuses = HashMap::new();
    while answers < SAMPLED_ANSWERS || drops < SAMPLED_DROPS {
        let id = ids.next().unwrap();
        let message = generate(checker.addr(), "UDP", id);
        if message.len() > 65_507 {
            continue;
        }
        match screen(&message) {
            Screened::Reply(expected) if answers < SAMPLED_ANSWERS => {
                checker.send(&message).await;
                let got = checker.next("the screen's answer").await;
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&expected),
                    "for\n{}",
                    String::from_utf8_lossy(&message)
                );
                *statuses.entry(status_of(&got)).or_insert(0) += 1;
                answers += 1;
            }
            // Dropped: the next thing heard is the answer to an OPTIONS.
            Screened::Drop if drops < SAMPLED_DROPS => {
                checker.send(&message).await;
                let mut options = seed(0, checker.addr(), "UDP", id);
                apply_call_id(&mut options, &format!("drop-{id}@test"));
                checker.send(&options).await;
                let next =
                    String::from_utf8_lossy(&checker.next("the OPTIONS 200").await).into_owned();
                assert_eq!(
                    header(&next, "Call-ID"),
                    [format!("drop-{id}@test")],
                    "{} was answered: {next}",
                    String::from_utf8_lossy(&message)
                );
                drops += 1;
            }
            _ => {}
        }
    }
    for status in [400, 501, 513] {
        assert!(
            statuses.contains_key(&status),
            "no {status} sampled: {statuses:?}"
        );
    }

    // Still serving, on both transports, and still registering phones.
    tcp_ping(server.addr(), ids.next().unwrap()).await;
    pinger.ping(ids.next().unwrap()).await;
    register(&server, ids.next().unwrap()).await;
    // None of it authenticated, so none of it became a call.
    assert!(
        server.calls.try_recv().is_err(),
        "a malformed INVITE made a call"
    );
    drop(open);
}

/// Over TCP there is no screen: rsipstack frames the stream and closes the
/// connection on what it cannot parse (an unknown method, a Content-Length
/// that is not a number), and `SizeLimit` answers 513 past 16 KiB. Either way
/// the next connection is served.
#[tokio::test]
async fn malformed_tcp_requests_are_answered_or_their_connection_closed() {
    let server = Server::start(vec![]).await;
    let options = |local: SocketAddr, mutations: &[Mutation]| {
        let mut message = seed(0, local, "TCP", local.port().into());
        for m in mutations {
            apply(&mut message, m);
        }
        message
    };
    let cases: [(&str, Vec<Mutation>, bool); 6] = [
        (
            "an unknown method",
            vec![Mutation::Method("FOO".into())],
            false,
        ),
        (
            "a Content-Length that is not a number",
            vec![Mutation::ContentLength("abc")],
            false,
        ),
        (
            "a negative Content-Length",
            vec![Mutation::ContentLength("-1")],
            false,
        ),
        (
            "a 20 KB header",
            vec![Mutation::LongHeader {
                len: 20 * 1024,
                line: 2,
            }],
            false,
        ),
        (
            "garbage",
            vec![
                Mutation::Truncate { at: 0 },
                Mutation::Body(vec![0xff; 100]),
            ],
            true,
        ),
        (
            "a request cut short",
            vec![Mutation::Truncate { at: 80 }],
            true,
        ),
    ];
    for (what, mutations, then_close) in cases {
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        let message = options(stream.local_addr().unwrap(), &mutations);
        stream.write_all(&message).await.unwrap();
        if then_close {
            stream.shutdown().await.unwrap();
        }
        // An answer's head, or the connection closed (or reset) with none.
        let answer = within(what, async {
            let mut received = Vec::new();
            let mut chunk = [0u8; 4096];
            while find(&received, b"\r\n\r\n").is_none() {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received.extend_from_slice(&chunk[..n]),
                }
            }
            received
        })
        .await;
        assert!(
            answer.is_empty() || status_of(&answer) >= 400,
            "{what}: {}",
            String::from_utf8_lossy(&answer)
        );
        tcp_ping(
            server.addr(),
            usize::from(stream.local_addr().unwrap().port()),
        )
        .await;
    }
}

/// BUG: `screen` (src/sip/screen.rs:105) adds a Content-Length to a request
/// without one, and the copy can outgrow the stack's 8 KiB buffer that the
/// original fitted; `ScreenedSocket::recv_from` (src/sip/udp.rs:55) then drops
/// it without an answer. It should get 513 like any request too large for the
/// stack: `screen` can answer 513 when the rewritten copy is over
/// `MAX_DATAGRAM`.
#[tokio::test]
async fn a_request_the_added_content_length_makes_too_large_gets_513() {
    let server = Server::start(vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let id = 1;
    let head = String::from_utf8(seed(0, phone.addr(), "UDP", id))
        .unwrap()
        .replace("Content-Length: 0\r\n", "");
    let body = "x".repeat(MAX_DATAGRAM - 5 - head.len());
    let request = format!("{head}{body}").into_bytes();
    assert!(request.len() <= MAX_DATAGRAM);
    match screen(&request) {
        Screened::Rewrite(bytes) => assert!(
            bytes.len() <= MAX_DATAGRAM,
            "a {}-byte request becomes {} bytes, over the stack's {MAX_DATAGRAM}",
            request.len(),
            bytes.len()
        ),
        Screened::Reply(reply) => assert_eq!(status_of(&reply), 513),
        other => panic!("{other:?}"),
    }
    phone.send(&request).await;
    let answer = phone.response(&format!("fuzz-{id}@test")).await;
    assert_eq!(status_of(answer.as_bytes()), 513, "{answer}");
}
