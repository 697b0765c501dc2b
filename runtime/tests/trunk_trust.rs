//! How a trunk's calls are told from forgeries, over real sockets on loopback: by a
//! digest answer as the trunk's user from any address, or by its address over TCP only,
//! where the handshake proves the address. A forged UDP INVITE from the carrier's address
//! is then only challenged. Every wait has a deadline.

mod support;

use std::net::SocketAddr;

use support::Server;
use support::raw::{Call, Phone, answer_challenge, branch, read_message, register, request};
use switchboard_runtime::sip::digest::DigestAlgorithm;
use switchboard_runtime::sip::{CallOrigin, PeerTrust, TrunkPeer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

const OFFER_SDP: &str = "v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\n\
                         c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

fn invite_headers(contact: SocketAddr) -> Vec<String> {
    vec![
        format!("Contact: <sip:+12605551234@{contact}>"),
        "Content-Type: application/sdp".into(),
    ]
}

#[tokio::test]
async fn a_tcp_only_trunk_is_trusted_over_tcp_and_a_forged_udp_invite_is_only_challenged() {
    let mut server = Server::start(vec![TrunkPeer {
        name: "carrier".into(),
        host: "127.0.0.8".into(),
        trust: PeerTrust::AddressOverTcp,
    }])
    .await;
    // A datagram claiming the carrier's address: anyone can send one.
    let forger = Phone::on("127.0.0.8", server.addr()).await;
    let call = Call::new("+12605551234", "+12605550100", server.addr());
    let answer = forger
        .ask(
            "INVITE",
            &call,
            1,
            &invite_headers(forger.addr()),
            OFFER_SDP,
        )
        .await;
    assert_eq!(answer.status(), 407, "{}", answer.0);

    // The same INVITE over TCP from the carrier's address is the trunk's.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.8:0".parse().unwrap()).unwrap();
    let mut stream = socket.connect(server.addr()).await.unwrap();
    let local = stream.local_addr().unwrap();
    let call = Call::new("+12605551234", "+12605550100", server.addr());
    let invite = request(
        "INVITE",
        &call,
        1,
        &branch(),
        local,
        &invite_headers(local),
        OFFER_SDP,
    )
    .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    stream.write_all(invite.as_bytes()).await.unwrap();
    let incoming = server.next_call().await;
    assert_eq!(
        incoming.origin,
        CallOrigin::Trunk {
            name: "carrier".into(),
            number: "+12605551234".into()
        }
    );
    assert_eq!(incoming.dialled, "+12605550100");
    let first = read_message(&mut stream).await;
    assert_eq!(first.status(), 100, "{}", first.0);
}

#[tokio::test]
async fn a_digest_trunk_is_known_by_its_user_from_any_address_and_cannot_register() {
    let mut server = Server::start(vec![TrunkPeer {
        name: "carrier".into(),
        host: "127.0.0.9".into(),
        trust: PeerTrust::Digest {
            user: "carrier-in".into(),
        },
    }])
    .await;
    // The carrier's address alone proves nothing.
    let carrier = Phone::on("127.0.0.10", server.addr()).await;
    let from_address = Phone::on("127.0.0.9", server.addr()).await;
    let call = Call::new("+12605551234", "+12605550100", server.addr());
    let answer = from_address
        .ask(
            "INVITE",
            &call,
            1,
            &invite_headers(from_address.addr()),
            OFFER_SDP,
        )
        .await;
    assert_eq!(answer.status(), 407, "{}", answer.0);

    // Its user's password does, from wherever the carrier sends.
    let call = Call::new("+12605551234", "+12605550100", server.addr());
    let challenge = carrier
        .ask(
            "INVITE",
            &call,
            1,
            &invite_headers(carrier.addr()),
            OFFER_SDP,
        )
        .await;
    assert_eq!(challenge.status(), 407);
    let auth = answer_challenge(
        &challenge,
        "Proxy-Authenticate",
        DigestAlgorithm::Md5,
        "INVITE",
        &call.uri,
        "carrier-in",
        "secret",
        1,
    );
    let mut headers = invite_headers(carrier.addr());
    headers.push(format!("Proxy-Authorization: {auth}"));
    carrier
        .send(request(
            "INVITE",
            &call,
            2,
            &branch(),
            carrier.addr(),
            &headers,
            OFFER_SDP,
        ))
        .await;
    let incoming = server.next_call().await;
    assert_eq!(
        incoming.origin,
        CallOrigin::Trunk {
            name: "carrier".into(),
            number: "+12605551234".into()
        }
    );

    // The trunk's user places calls; it cannot register as a phone.
    assert_eq!(register(&carrier, "carrier-in", "secret").await, 403);
    assert!(server.sip.registrations("carrier-in").is_empty());
}
