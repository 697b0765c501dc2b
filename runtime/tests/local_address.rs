//! The address of ours a phone is told about, on real sockets: a server bound to every
//! interface (`0.0.0.0`) tells a phone on loopback 127.0.0.1 — in the Contact of its
//! call, in the address its SDP answer must carry, and in the Contact of its lamp's
//! NOTIFY — not the address of the machine's default route; `public-ip` overrides
//! that for everyone. Every wait has a deadline.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use support::raw::{Call, Phone, answer_challenge};
use support::{Server, within};
use switchboard_runtime::sip::digest::DigestAlgorithm;

const OFFER_SDP: &str = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\n\
                         c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// An authenticated INVITE from 101 at `phone` to 200; returns the 200's Contact and
/// the leg's address for SDP.
async fn call_in(server: &mut Server, phone: &Phone) -> (String, IpAddr) {
    let call = Call::new("101", "200", server.addr());
    let contact = format!("Contact: <sip:101@{}>", phone.addr());
    let challenge = phone
        .ask(
            "INVITE",
            &call,
            1,
            std::slice::from_ref(&contact),
            OFFER_SDP,
        )
        .await;
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
    let headers = vec![contact, format!("Proxy-Authorization: {auth}")];
    let b = support::raw::branch();
    phone
        .send(support::raw::request(
            "INVITE",
            &call,
            2,
            &b,
            phone.addr(),
            &headers,
            OFFER_SDP,
        ))
        .await;
    let incoming = server.next_call().await;
    let local_ip = incoming.leg.local_ip();
    let answer = format!(
        "v=0\r\no=switchboard 1 1 IN IP4 {local_ip}\r\ns=-\r\nc=IN IP4 {local_ip}\r\n\
         t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
    );
    // The leg's answer waits for the ACK, which the phone sends once it has the 200.
    let answering = tokio::spawn(async move {
        incoming.leg.answer(answer).await.unwrap();
        incoming
    });
    let ok = phone.response(&call.call_id, "2 INVITE").await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    let mut dialog = call.clone();
    dialog.to_tag = Some(ok.to_tag());
    phone
        .send(support::raw::request(
            "ACK",
            &dialog,
            2,
            &support::raw::branch(),
            phone.addr(),
            &[],
            "",
        ))
        .await;
    within("the ACK", answering).await.unwrap();
    (ok.header("Contact"), local_ip)
}

#[tokio::test]
async fn a_loopback_phone_is_told_127_0_0_1_by_a_server_on_every_interface() {
    let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let mut server = Server::start_on(any, None, vec![]).await;
    assert!(server.sip.local_addr().ip().is_unspecified());
    let phone = Phone::new(server.addr()).await;

    let (contact, local_ip) = call_in(&mut server, &phone).await;
    assert_eq!(local_ip, LOOPBACK, "the SDP address");
    let port = server.addr().port();
    assert!(
        contact.contains(&format!("127.0.0.1:{port}")),
        "the dialog's Contact: {contact}"
    );

    // The unsolicited message-waiting NOTIFY to a registered phone says the same.
    let mut register = Call::new("102", "102", server.addr());
    register.uri = format!("sip:{}", server.addr());
    let contact = format!("Contact: <sip:102@{}>", phone.addr());
    let challenge = phone
        .ask("REGISTER", &register, 1, std::slice::from_ref(&contact), "")
        .await;
    let auth = answer_challenge(
        &challenge,
        "WWW-Authenticate",
        DigestAlgorithm::Md5,
        "REGISTER",
        &register.uri,
        "102",
        "secret",
        1,
    );
    let ok = phone
        .ask(
            "REGISTER",
            &register,
            2,
            &[contact, format!("Authorization: {auth}")],
            "",
        )
        .await;
    assert_eq!(ok.status(), 200, "{}", ok.0);
    server.sip.notify_message_waiting("102", 1, 0).await;
    let notify = within("the NOTIFY", async {
        let mut buffer = vec![0; 65_536];
        loop {
            let (len, _) = phone.socket.recv_from(&mut buffer).await.unwrap();
            let message = support::raw::Sip(String::from_utf8_lossy(&buffer[..len]).into_owned());
            if message.method() == "NOTIFY" {
                return message;
            }
        }
    })
    .await;
    assert!(
        notify
            .header("Contact")
            .contains(&format!("127.0.0.1:{port}")),
        "{}",
        notify.0
    );
    assert!(notify.header("Via").contains("127.0.0.1"), "{}", notify.0);
}

#[tokio::test]
async fn public_ip_is_what_every_phone_is_told() {
    let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let public: IpAddr = "203.0.113.7".parse().unwrap();
    let mut server = Server::start_on(any, Some(public), vec![]).await;
    let phone = Phone::new(server.addr()).await;
    let (contact, local_ip) = call_in(&mut server, &phone).await;
    assert_eq!(local_ip, public);
    assert!(contact.contains("203.0.113.7"), "{contact}");
}
