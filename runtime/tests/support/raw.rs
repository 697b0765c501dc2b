//! Raw SIP over UDP for tests: a phone as one socket, requests built by hand, the
//! messages it receives, and digest answers to the server's challenges.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use switchboard_runtime::sip::digest::{self, DigestAlgorithm, QopAuth};
use tokio::net::UdpSocket;

use super::within;

/// One received SIP message.
#[derive(Clone, Debug)]
pub struct Sip(pub String);

impl Sip {
    pub fn start_line(&self) -> &str {
        self.0.lines().next().unwrap_or("")
    }

    /// The status code of a response; 0 for a request.
    pub fn status(&self) -> u16 {
        let line = self.start_line();
        match line.strip_prefix("SIP/2.0 ") {
            Some(rest) => rest[..3].parse().unwrap(),
            None => 0,
        }
    }

    pub fn method(&self) -> &str {
        self.start_line().split(' ').next().unwrap_or("")
    }

    pub fn head(&self) -> &str {
        self.0.split("\r\n\r\n").next().unwrap()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.head()
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
            .collect()
    }

    pub fn header(&self, name: &str) -> String {
        self.all(name)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {name} in\n{}", self.0))
    }

    pub fn body(&self) -> &str {
        self.0.split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }

    pub fn to_tag(&self) -> String {
        let to = self.header("To");
        to.split(";tag=").nth(1).expect("a To tag").to_string()
    }

    /// A response to this request from a phone whose dialog tag is `tag` (added to To
    /// when the request had none).
    pub fn reply_tagged(&self, status: &str, tag: &str) -> String {
        let to = self.header("To");
        let tagged = if to.contains(";tag=") {
            to.clone()
        } else {
            format!("{to};tag={tag}")
        };
        self.reply(status)
            .replacen(&format!("To: {to}\r\n"), &format!("To: {tagged}\r\n"), 1)
    }

    /// A response to this request, echoing what it must.
    pub fn reply(&self, status: &str) -> String {
        let mut out = format!("SIP/2.0 {status}\r\n");
        for via in self.all("Via") {
            out.push_str(&format!("Via: {via}\r\n"));
        }
        for name in ["From", "To", "Call-ID", "CSeq"] {
            out.push_str(&format!("{name}: {}\r\n", self.header(name)));
        }
        out.push_str("Content-Length: 0\r\n\r\n");
        out
    }
}

pub fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn branch() -> String {
    format!("z9hG4bK-test-{}", unique())
}

/// The identity of one dialog (or would-be dialog) as the phone sees it.
#[derive(Clone)]
pub struct Call {
    pub call_id: String,
    pub from: String,
    pub to: String,
    pub tag: String,
    pub to_tag: Option<String>,
    pub uri: String,
}

impl Call {
    pub fn new(from: &str, to: &str, server: SocketAddr) -> Call {
        let n = unique();
        Call {
            call_id: format!("call-{n}@test"),
            from: from.to_string(),
            to: to.to_string(),
            tag: format!("tag{n}"),
            to_tag: None,
            uri: format!("sip:{to}@{server}"),
        }
    }
}

/// A request of `call` from a phone at `phone`.
pub fn request(
    method: &str,
    call: &Call,
    cseq: u32,
    branch: &str,
    phone: SocketAddr,
    extra: &[String],
    body: &str,
) -> String {
    let to_tag = call
        .to_tag
        .as_ref()
        .map(|t| format!(";tag={t}"))
        .unwrap_or_default();
    let mut out = format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {phone};branch={branch};rport\r\n\
         From: <sip:{from}@127.0.0.1>;tag={tag}\r\n\
         To: <sip:{to}@127.0.0.1>{to_tag}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         Max-Forwards: 70\r\n",
        uri = call.uri,
        from = call.from,
        tag = call.tag,
        to = call.to,
        call_id = call.call_id,
    );
    for header in extra {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out
}

/// A phone: one UDP socket.
pub struct Phone {
    pub socket: UdpSocket,
    pub server: SocketAddr,
}

impl Phone {
    pub async fn new(server: SocketAddr) -> Phone {
        Phone::on("127.0.0.1", server).await
    }

    /// A phone at another address of this machine (`127.0.0.2`, …: all of 127/8 is
    /// loopback), for tests that tell sources apart by address.
    pub async fn on(ip: &str, server: SocketAddr) -> Phone {
        Phone {
            socket: UdpSocket::bind((ip, 0)).await.unwrap(),
            server,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    pub async fn send(&self, message: impl AsRef<[u8]>) {
        self.socket
            .send_to(message.as_ref(), self.server)
            .await
            .unwrap();
    }

    /// The next message from the server, whatever it is.
    pub async fn next_any(&self) -> Sip {
        let mut buffer = vec![0; 65_536];
        let (len, _) = within("a message", self.socket.recv_from(&mut buffer))
            .await
            .unwrap();
        Sip(String::from_utf8_lossy(&buffer[..len]).into_owned())
    }

    /// The next message from the server for this Call-ID.
    pub async fn next(&self, call_id: &str) -> Sip {
        within(&format!("a message for {call_id}"), async {
            let mut buffer = vec![0; 65_536];
            loop {
                let (len, _) = self.socket.recv_from(&mut buffer).await.unwrap();
                let message = Sip(String::from_utf8_lossy(&buffer[..len]).into_owned());
                if message.all("Call-ID").first().map(String::as_str) == Some(call_id) {
                    return message;
                }
            }
        })
        .await
    }

    /// The next final (or 180/183) response for this Call-ID and CSeq.
    pub async fn response(&self, call_id: &str, cseq: &str) -> Sip {
        loop {
            let message = self.next(call_id).await;
            if message.status() > 100 && message.header("CSeq") == cseq {
                return message;
            }
        }
    }

    /// Sends a request and returns its first response past 100 Trying.
    pub async fn ask(
        &self,
        method: &str,
        call: &Call,
        cseq: u32,
        extra: &[String],
        body: &str,
    ) -> Sip {
        let b = branch();
        self.send(request(method, call, cseq, &b, self.addr(), extra, body))
            .await;
        self.response(&call.call_id, &format!("{cseq} {method}"))
            .await
    }
}

/// The value of an `Authorization`-style header answering the challenge for
/// `algorithm` in `challenge`'s `header`.
#[allow(clippy::too_many_arguments)]
pub fn answer_challenge(
    challenge: &Sip,
    header: &str,
    algorithm: DigestAlgorithm,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
    nc: u32,
) -> String {
    let offered = challenge
        .all(header)
        .into_iter()
        .find(|c| c.contains(&format!("algorithm={}", algorithm.name())))
        .unwrap_or_else(|| panic!("no {} challenge in\n{}", algorithm.name(), challenge.0));
    let params = digest::parse_params(offered.trim_start_matches("Digest"));
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let (realm, nonce) = (get("realm"), get("nonce"));
    assert_eq!(get("qop"), "auth");
    let nc = format!("{nc:08x}");
    let ha1 = digest::ha1(algorithm, user, &realm, password);
    let response = digest::response(
        algorithm,
        &ha1,
        method,
        uri,
        &nonce,
        Some(QopAuth {
            nc: &nc,
            cnonce: "0a4f113b",
        }),
    );
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{response}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"0a4f113b\"",
        algorithm.name()
    )
}

/// Registers `user` from `phone` with `password`, answering the challenge with MD5; the
/// final status.
pub async fn register(phone: &Phone, user: &str, password: &str) -> u16 {
    send_register(phone, user, password, &[]).await
}

/// Takes back `phone`'s registration as `user` (`Expires: 0` on its contact), answering
/// the challenge with MD5; the final status.
pub async fn unregister(phone: &Phone, user: &str, password: &str) -> u16 {
    send_register(phone, user, password, &["Expires: 0".to_string()]).await
}

/// A REGISTER of `phone`'s address as `user`, with `extra` headers, answering the
/// challenge with MD5; the final status.
async fn send_register(phone: &Phone, user: &str, password: &str, extra: &[String]) -> u16 {
    let mut call = Call::new(user, user, phone.server);
    call.uri = format!("sip:{}", phone.server);
    let mut headers = vec![format!("Contact: <sip:{user}@{}>", phone.addr())];
    headers.extend_from_slice(extra);
    let signed = signed_in(phone, "REGISTER", &call, &headers, "", user, password).await;
    phone.ask("REGISTER", &call, 2, &signed, "").await.status()
}

/// Sends `method` of `call` with `headers` and `body` (CSeq 1), expects the server's
/// challenge (401 for REGISTER and SUBSCRIBE, 407 for INVITE) and answers it as `user`
/// with `password`: the headers to send the request again with (CSeq 2).
pub async fn signed_in(
    phone: &Phone,
    method: &str,
    call: &Call,
    headers: &[String],
    body: &str,
    user: &str,
    password: &str,
) -> Vec<String> {
    let challenge = phone.ask(method, call, 1, headers, body).await;
    let (challenge_header, credentials_header) = match challenge.status() {
        401 => ("WWW-Authenticate", "Authorization"),
        407 => ("Proxy-Authenticate", "Proxy-Authorization"),
        _ => panic!("{method} was not challenged: {}", challenge.0),
    };
    let auth = answer_challenge(
        &challenge,
        challenge_header,
        DigestAlgorithm::Md5,
        method,
        &call.uri,
        user,
        password,
        1,
    );
    let mut signed = headers.to_vec();
    signed.push(format!("{credentials_header}: {auth}"));
    signed
}

/// Reads one SIP message head (no body expected) from a stream.
pub async fn read_message(stream: &mut tokio::net::TcpStream) -> Sip {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    within("a message over TCP", async {
        while !received.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut byte).await.unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&received));
            received.push(byte[0]);
        }
    })
    .await;
    Sip(String::from_utf8(received).unwrap())
}
