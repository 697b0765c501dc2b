//! The check every UDP datagram passes before the SIP stack sees it, sans-IO.
//!
//! rsipstack drops what it cannot parse without a word, truncates what does not
//! fit its 8 KiB buffer, has no name for methods it does not know, and takes a
//! missing `Content-Length` as zero. Here a broken request gets the answer RFC
//! 3261 asks for when it says enough to be answered (400, 501, 513), and is
//! dropped otherwise; a request without `Content-Length` gets one, since on UDP
//! its body runs to the end of the datagram (RFC 3261 section 18.3).

use std::hash::{DefaultHasher, Hash, Hasher};

use rsipstack::sip::SipMessage;
use rsipstack::transaction::key::{TransactionKey, TransactionRole};

/// The largest datagram handed to the stack (its receive buffer).
pub const MAX_DATAGRAM: usize = 8192;

/// The methods the stack can represent; any other gets 501.
pub const KNOWN_METHODS: [&str; 14] = [
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];

/// The methods this server answers, for `Allow`.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER, SUBSCRIBE";

/// What to do with one datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screened {
    /// Hand it to the stack as it is.
    Pass,
    /// Hand the stack this corrected copy instead.
    Rewrite(Vec<u8>),
    /// Send this response back to the sender; the stack never sees the request.
    Reply(Vec<u8>),
    /// Ignore it.
    Drop,
}

/// Decides what to do with a datagram.
pub fn screen(datagram: &[u8]) -> Screened {
    if datagram.iter().all(u8::is_ascii_whitespace) {
        return Screened::Pass; // keep-alive, which the stack answers
    }
    if datagram.starts_with(b"SIP/") {
        // A response: the stack matches it to a transaction or ignores it.
        return if datagram.len() > MAX_DATAGRAM {
            Screened::Drop
        } else {
            Screened::Pass
        };
    }
    let blank = find(datagram, b"\r\n\r\n");
    let head = &datagram[..blank.unwrap_or(datagram.len())];
    let Ok(head) = std::str::from_utf8(head) else {
        return Screened::Drop;
    };
    let mut lines = unfold(head).into_iter();
    let Some(request_line) = lines.next() else {
        return Screened::Drop;
    };
    let parts: Vec<&str> = request_line.split_whitespace().collect();
    let [method, _uri, version] = parts[..] else {
        return Screened::Drop;
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") || !method.bytes().all(is_token_byte) {
        return Screened::Drop;
    }
    let headers: Vec<(&'static str, String)> = lines.filter_map(|l| header(&l)).collect();
    let reply = |code: u16, reason: &str| {
        if method == "ACK" {
            return Screened::Drop; // an ACK is never answered
        }
        match response(&headers, code, reason) {
            Some(bytes) => Screened::Reply(bytes),
            None => Screened::Drop,
        }
    };

    if datagram.len() > MAX_DATAGRAM {
        return reply(513, "Message Too Large");
    }
    let Some(blank) = blank else {
        return reply(400, "Bad Request (truncated)");
    };
    if !KNOWN_METHODS.contains(&method) {
        return reply(501, "Not Implemented");
    }
    let body = &datagram[blank + 4..];
    let lengths: Vec<&str> = values(&headers, "Content-Length").collect();
    let rewritten = match lengths[..] {
        [] if body.is_empty() => None,
        [] => Some(with_content_length(datagram, blank, body.len())),
        [declared] => match declared.trim().parse::<usize>() {
            Ok(n) if n <= body.len() => None,
            _ => return reply(400, "Bad Request (Content-Length)"),
        },
        _ => return reply(400, "Bad Request (Content-Length)"),
    };
    let cseq_ok = values(&headers, "CSeq").next().is_some_and(|cseq| {
        let mut words = cseq.split_whitespace();
        words.next().is_some_and(|n| n.parse::<u32>().is_ok())
            && words.next() == Some(method)
            && words.next().is_none()
    });
    if !cseq_ok {
        return reply(400, "Bad Request (CSeq)");
    }
    let checked = rewritten.as_deref().unwrap_or(datagram);
    let parsed = match SipMessage::try_from(checked) {
        Ok(SipMessage::Request(request)) => request,
        _ => return reply(400, "Bad Request"),
    };
    if TransactionKey::from_request(&parsed, TransactionRole::Server).is_err() {
        return reply(400, "Bad Request (Via, From tag, Call-ID or CSeq)");
    }
    match rewritten {
        // The added Content-Length can push a request that fitted over the stack's
        // buffer, which would then drop it unanswered.
        Some(bytes) if bytes.len() > MAX_DATAGRAM => reply(513, "Message Too Large"),
        Some(bytes) => Screened::Rewrite(bytes),
        None => Screened::Pass,
    }
}

/// The header lines of a message head after the start line, folded lines
/// joined (RFC 3261 section 7.3.1).
fn unfold(head: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let continues = line.starts_with([' ', '\t']) && lines.len() > 1;
        match lines.last_mut() {
            Some(last) if continues => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => lines.push(line.to_string()),
        }
    }
    lines
}

/// A header line as its full name (compact forms expanded) and value; only the
/// headers this module reads.
fn header(line: &str) -> Option<(&'static str, String)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    const NAMES: [(&str, &str); 6] = [
        ("Via", "v"),
        ("From", "f"),
        ("To", "t"),
        ("Call-ID", "i"),
        ("CSeq", ""),
        ("Content-Length", "l"),
    ];
    NAMES
        .into_iter()
        .find(|(full, short)| {
            name.eq_ignore_ascii_case(full)
                || (!short.is_empty() && name.eq_ignore_ascii_case(short))
        })
        .map(|(full, _)| (full, value.trim().to_string()))
}

fn values<'a>(
    headers: &'a [(&'static str, String)],
    name: &'static str,
) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// A stateless response to a request, when it has the headers one needs.
fn response(headers: &[(&'static str, String)], code: u16, reason: &str) -> Option<Vec<u8>> {
    let one = |name| values(headers, name).next();
    let (from, to, call_id, cseq) = (one("From")?, one("To")?, one("Call-ID")?, one("CSeq")?);
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    let mut vias = values(headers, "Via").peekable();
    vias.peek()?;
    for via in vias {
        out.push_str(&format!("Via: {via}\r\n"));
    }
    out.push_str(&format!("From: {from}\r\n"));
    if to.to_ascii_lowercase().contains(";tag=") {
        out.push_str(&format!("To: {to}\r\n"));
    } else {
        let mut hasher = DefaultHasher::new();
        call_id.hash(&mut hasher);
        out.push_str(&format!("To: {to};tag=sb{:x}\r\n", hasher.finish()));
    }
    out.push_str(&format!("Call-ID: {call_id}\r\nCSeq: {cseq}\r\n"));
    if code == 501 {
        out.push_str(&format!("Allow: {ALLOW}\r\n"));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

fn with_content_length(datagram: &[u8], blank: usize, length: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(datagram.len() + 24);
    out.extend_from_slice(&datagram[..blank]);
    out.extend_from_slice(format!("\r\nContent-Length: {length}").as_bytes());
    out.extend_from_slice(&datagram[blank..]);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// RFC 3261 `token` characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, extra: &str, body: &str) -> Vec<u8> {
        format!(
            "{method} sip:200@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n\
             From: <sip:101@127.0.0.1>;tag=a\r\n\
             To: <sip:200@127.0.0.1>\r\n\
             Call-ID: c1\r\n\
             CSeq: 1 {method}\r\n\
             {extra}\r\n{body}"
        )
        .into_bytes()
    }

    fn reply_status(s: Screened) -> String {
        match s {
            Screened::Reply(bytes) => {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.contains("Call-ID: c1\r\n"), "{text}");
                assert!(text.contains(";tag="), "{text}");
                text.lines().next().unwrap().to_string()
            }
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_passes() {
        assert_eq!(
            screen(&request("OPTIONS", "Content-Length: 0\r\n", "")),
            Screened::Pass
        );
        assert_eq!(screen(b"\r\n\r\n"), Screened::Pass);
    }

    #[test]
    fn an_unknown_method_gets_501_with_allow() {
        let s = screen(&request("FOO", "Content-Length: 0\r\n", ""));
        let Screened::Reply(bytes) = s.clone() else {
            panic!("{s:?}")
        };
        assert!(String::from_utf8(bytes).unwrap().contains("Allow: INVITE"));
        assert_eq!(reply_status(s), "SIP/2.0 501 Not Implemented");
    }

    #[test]
    fn a_short_body_or_a_bad_length_gets_400() {
        let s = screen(&request("OPTIONS", "Content-Length: 50\r\n", "v=0\r\n"));
        assert!(reply_status(s).starts_with("SIP/2.0 400"));
        let s = screen(&request("OPTIONS", "Content-Length: many\r\n", ""));
        assert!(reply_status(s).starts_with("SIP/2.0 400"));
        // A longer body than declared is cut by the stack, as RFC 3261 allows.
        assert_eq!(
            screen(&request("OPTIONS", "Content-Length: 2\r\n", "v=0\r\n")),
            Screened::Pass
        );
    }

    #[test]
    fn a_missing_length_is_added_for_the_stack() {
        let Screened::Rewrite(bytes) = screen(&request("INVITE", "", "v=0\r\n")) else {
            panic!()
        };
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("\r\nContent-Length: 5\r\n\r\nv=0\r\n"),
            "{text}"
        );
    }

    #[test]
    fn truncated_and_oversized_requests_get_400_and_513() {
        let mut truncated = request("INVITE", "Content-Length: 0\r\n", "");
        truncated.truncate(truncated.len() - 2);
        assert!(reply_status(screen(&truncated)).starts_with("SIP/2.0 400"));
        let big = format!("X-Big: {}\r\n", "a".repeat(MAX_DATAGRAM));
        let s = screen(&request("OPTIONS", &big, ""));
        assert_eq!(reply_status(s), "SIP/2.0 513 Message Too Large");
    }

    #[test]
    fn compact_and_folded_headers_are_understood() {
        let msg = "OPTIONS sip:200@127.0.0.1 SIP/2.0\r\n\
                   v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2\r\n\
                   f: <sip:101@127.0.0.1>\r\n\
                   \t;tag=a\r\n\
                   t: <sip:200@127.0.0.1>\r\n\
                   i: c1\r\n\
                   CSeq: 1 FOO\r\n\
                   l: 0\r\n\r\n";
        let s = screen(msg.as_bytes());
        let Screened::Reply(bytes) = s.clone() else {
            panic!("{s:?}")
        };
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("From: <sip:101@127.0.0.1> ;tag=a\r\n"),
            "{text}"
        );
        assert!(
            reply_status(s).starts_with("SIP/2.0 400"),
            "CSeq method differs"
        );
        let good = msg.replace("1 FOO", "1 OPTIONS");
        assert_eq!(screen(good.as_bytes()), Screened::Pass);
    }

    #[test]
    fn garbage_and_unanswerable_requests_are_dropped() {
        for junk in [
            &b"hello"[..],
            b"\xff\xfe\x00\x01garbage\r\n\r\n",
            b"INVITE\r\n\r\n",
            b"INVITE sip:a SIP/2.0\r\n\r\n",
            b"IN(VITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n",
        ] {
            assert_eq!(screen(junk), Screened::Drop, "{junk:?}");
        }
        // Never answer an ACK, even a broken one.
        assert_eq!(
            screen(&request("ACK", "Content-Length: 9\r\n", "")),
            Screened::Drop
        );
        // No From tag: the stack could not make a transaction of it.
        let untagged = String::from_utf8(request("OPTIONS", "", ""))
            .unwrap()
            .replace(";tag=a", "");
        assert!(reply_status(screen(untagged.as_bytes())).starts_with("SIP/2.0 400"));
    }
}
