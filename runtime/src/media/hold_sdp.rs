//! Hold in SDP (RFC 3264 §8.4, RFC 6337 §5.3): whether a phone's new offer puts the call
//! on hold, the direction we answer it with, and our own SDP restated with another
//! direction and a new version — for the answers to a phone's re-INVITEs and for the
//! re-INVITEs we send to pass a hold on. Pure text in, text out.
//!
//! A phone holds by offering `a=sendonly` (it still sends, say its own music) or
//! `a=inactive`, or in the old RFC 2543 way by a `c=` address of `0.0.0.0`; in each case we
//! must not send it media any more, and it takes the call off hold with `a=sendrecv` and
//! its real address.

use super::sdp::{self, Direction};
use std::fmt::Write as _;

/// What a new offer from a phone asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offered {
    /// The phone puts the call on hold: it does not want our media.
    pub holds: bool,
    /// The direction that mirrors it: what we do if we want everything it allows.
    pub mirrored: Direction,
}

/// Reads a phone's (re-)offer; `None` when it is no SDP we could answer.
pub fn read_offer(offer: &str) -> Option<Offered> {
    // Offer and answer name their directions alike: `read_answer` gives the direction
    // that matches the one the SDP asks for, from our side.
    let negotiated = sdp::read_answer(offer).ok()?;
    let zero_address = negotiated.remote.ip().is_unspecified();
    let mut mirrored = negotiated.direction;
    if zero_address {
        // Nowhere to send to: at most we receive.
        mirrored = both(mirrored, Direction::RecvOnly);
    }
    Some(Offered {
        holds: !mirrored.sends(),
        mirrored,
    })
}

/// The direction allowing only what both allow (each side's sending and receiving).
pub fn both(a: Direction, b: Direction) -> Direction {
    direction(a.sends() && b.sends(), receives(a) && receives(b))
}

/// Our SDP `ours` with `direction` as its only direction attribute and `version` as the
/// version of its `o=` line.
pub fn restate(ours: &str, direction: Direction, version: u64) -> String {
    let mut out = String::with_capacity(ours.len() + 16);
    // Without a direction of ours, a session-level one goes after `t=`: every stream
    // takes it.
    let mut placed = false;
    let mut place_after_time = !ours.lines().any(|l| is_direction(l.trim_end()));
    for line in ours.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if let Some(origin) = line.strip_prefix("o=") {
            // o=<user> <session id> <version> <net> <type> <address>
            let fields: Vec<&str> = origin.split(' ').collect();
            if fields.len() == 6 {
                let _ = write!(
                    out,
                    "o={} {} {version} {} {} {}\r\n",
                    fields[0], fields[1], fields[3], fields[4], fields[5]
                );
                continue;
            }
        }
        if is_direction(line) {
            if !placed {
                let _ = write!(out, "a={}\r\n", attribute(direction));
                placed = true;
            }
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
        if place_after_time && line.starts_with("t=") {
            let _ = write!(out, "a={}\r\n", attribute(direction));
            place_after_time = false;
        }
    }
    out
}

/// The version of an SDP's `o=` line.
pub fn version(sdp: &str) -> Option<u64> {
    let origin = sdp.lines().find_map(|l| l.trim_end().strip_prefix("o="))?;
    origin.split(' ').nth(2)?.parse().ok()
}

/// Our offer cut down to what the phone's answer kept: the codec it chose and
/// telephone-events if it took them, so a later offer of ours (a hold) or our answer to
/// its re-INVITE does not bring back a codec the call is not using.
pub fn narrowed(offer: &str, answer: &str) -> String {
    let Ok(chosen) = sdp::read_answer(answer) else {
        return offer.to_string();
    };
    let keep = |pt: u8| {
        pt == chosen.codec.payload_type()
            || (chosen.dtmf_payload_type.is_some() && pt == sdp::OFFERED_DTMF_PAYLOAD_TYPE)
    };
    let mut out = String::with_capacity(offer.len());
    for line in offer.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if let Some(m) = line.strip_prefix("m=audio ") {
            let mut words = m.split(' ');
            let (Some(port), Some(proto)) = (words.next(), words.next()) else {
                return offer.to_string();
            };
            let _ = write!(out, "m=audio {port} {proto}");
            for pt in words.filter(|w| w.parse().is_ok_and(keep)) {
                let _ = write!(out, " {pt}");
            }
            out.push_str("\r\n");
            continue;
        }
        let format_line = line
            .strip_prefix("a=rtpmap:")
            .or_else(|| line.strip_prefix("a=fmtp:"));
        if let Some(rest) = format_line
            && let Some(pt) = rest.split(' ').next().and_then(|p| p.parse().ok())
            && !keep(pt)
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

fn receives(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::RecvOnly)
}

fn direction(sends: bool, receives: bool) -> Direction {
    match (sends, receives) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}

fn attribute(d: Direction) -> &'static str {
    match d {
        Direction::SendRecv => "sendrecv",
        Direction::SendOnly => "sendonly",
        Direction::RecvOnly => "recvonly",
        Direction::Inactive => "inactive",
    }
}

fn is_direction(line: &str) -> bool {
    matches!(
        line,
        "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Codec;
    use std::net::{IpAddr, Ipv4Addr};

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));

    fn phone(direction: &str, address: &str) -> String {
        format!(
            "v=0\r\no=phone 7 8 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n{direction}"
        )
    }

    #[test]
    fn sendonly_inactive_and_a_zero_address_hold_sendrecv_resumes() {
        let read = |d, a| read_offer(&phone(d, a)).unwrap();
        assert_eq!(
            read("a=sendonly\r\n", "198.51.100.7"),
            Offered {
                holds: true,
                mirrored: Direction::RecvOnly
            }
        );
        assert_eq!(
            read("a=inactive\r\n", "198.51.100.7"),
            Offered {
                holds: true,
                mirrored: Direction::Inactive
            }
        );
        assert_eq!(
            read("", "0.0.0.0"),
            Offered {
                holds: true,
                mirrored: Direction::RecvOnly
            }
        );
        assert_eq!(
            read("a=sendrecv\r\n", "198.51.100.7"),
            Offered {
                holds: false,
                mirrored: Direction::SendRecv
            }
        );
        // A phone we hold answers recvonly: it still wants our media.
        assert!(!read("a=recvonly\r\n", "198.51.100.7").holds);
        assert_eq!(read_offer("not sdp"), None);
    }

    #[test]
    fn both_allows_what_each_allows() {
        use Direction::*;
        assert_eq!(both(SendRecv, RecvOnly), RecvOnly);
        assert_eq!(both(SendOnly, RecvOnly), Inactive);
        assert_eq!(both(SendOnly, SendRecv), SendOnly);
        assert_eq!(both(Inactive, SendRecv), Inactive);
    }

    #[test]
    fn our_sdp_restated_with_a_direction_and_a_version() {
        let (ours, _) = sdp::answer(&phone("", "198.51.100.7"), LOCAL, 20000, 42).unwrap();
        assert!(ours.contains("a=sendrecv\r\n"));
        let held = restate(&ours, Direction::SendOnly, 43);
        assert_eq!(
            held,
            ours.replace("a=sendrecv", "a=sendonly")
                .replace("o=switchboard 42 42", "o=switchboard 42 43")
        );
        assert_eq!(version(&held), Some(43));
        // An SDP with no direction gets a session-level one.
        let bare = "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
                    t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
        assert_eq!(
            restate(bare, Direction::RecvOnly, 2),
            "v=0\r\no=x 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
             t=0 0\r\na=recvonly\r\nm=audio 40000 RTP/AVP 0\r\n"
        );
    }

    #[test]
    fn an_offer_narrowed_to_what_the_answer_chose() {
        let offer = sdp::offer(LOCAL, 20000, 5);
        let answer = "v=0\r\no=p 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\n\
                      t=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
        let narrowed = narrowed(&offer, answer);
        assert!(
            narrowed.contains("m=audio 20000 RTP/AVP 8\r\n"),
            "{narrowed}"
        );
        assert!(!narrowed.contains("PCMU"), "{narrowed}");
        assert!(!narrowed.contains("telephone-event"), "{narrowed}");
        assert_eq!(sdp::read_answer(&narrowed).unwrap().codec, Codec::Pcma);
        let with_keys = narrowed_offer_with_keys(&offer);
        assert!(
            with_keys.contains("m=audio 20000 RTP/AVP 0 101\r\n"),
            "{with_keys}"
        );
        assert!(with_keys.contains("a=fmtp:101 0-16\r\n"), "{with_keys}");
    }

    fn narrowed_offer_with_keys(offer: &str) -> String {
        narrowed(offer, &phone("", "198.51.100.7"))
    }
}
