//! SDP offer/answer (RFC 3264) for one G.711 audio stream and telephone-events.
//!
//! Only what a phone call needs is read: the connection address (session or media level),
//! the `m=` lines, `a=rtpmap` and the direction attributes. Anything else in an offer is
//! ignored, so odd but harmless lines from real phones never fail a call.

use super::g711::Codec;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

/// The outcome of offer/answer: where to send, in which codec, and how keys arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Where the far end wants our RTP (until its own packets show otherwise).
    pub remote: SocketAddr,
    pub codec: Codec,
    /// The telephone-event payload type, when the far end sends keys by RFC 4733.
    pub dtmf_payload_type: Option<u8>,
    /// What we do: `SendRecv` normally, `RecvOnly` when the far end put us on hold.
    pub direction: Direction,
}

/// An `a=sendrecv`-style attribute, from one side's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The direction the other side takes to match this one.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }

    /// Whether this side sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn parse(attribute: &str) -> Option<Direction> {
        Some(match attribute {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }
}

/// Why an offer (or answer) cannot be used; the SIP layer answers 488.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdpError {
    /// No `m=audio` line with a port over RTP/AVP.
    NoAudio,
    /// The audio stream offers neither PCMU nor PCMA; `offered` lists what it does offer.
    NoCommonCodec { offered: Vec<String> },
    /// No `c=` line for the audio stream, at media or session level.
    NoConnection,
    /// A line we need could not be read.
    BadLine { line: String, reason: &'static str },
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpError::NoAudio => write!(f, "the SDP has no audio stream over RTP/AVP"),
            SdpError::NoCommonCodec { offered } => write!(
                f,
                "the audio stream offers neither PCMU nor PCMA (it offers {})",
                offered.join(", ")
            ),
            SdpError::NoConnection => write!(f, "the SDP has no c= address for its audio"),
            SdpError::BadLine { line, reason } => write!(f, "SDP line `{line}`: {reason}"),
        }
    }
}

impl std::error::Error for SdpError {}

/// The payload type we offer for telephone-events.
pub const OFFERED_DTMF_PAYLOAD_TYPE: u8 = 101;

/// Answers an offer: the first of PCMU and PCMA in the offerer's order, telephone-events
/// when offered, one stream accepted and every other `m=` line refused with port 0.
pub fn answer(
    offer: &str,
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
) -> Result<(String, Negotiated), SdpError> {
    let parsed = parse(offer)?;
    let (index, negotiated) = negotiate(&parsed)?;
    let mut sdp = header(local_ip, session_id);
    for (i, m) in parsed.media.iter().enumerate() {
        if i == index {
            audio_lines(
                &mut sdp,
                local_port,
                m.proto,
                negotiated.codec,
                negotiated.dtmf_payload_type,
                negotiated.direction,
            );
        } else {
            let _ = write!(sdp, "m={} 0 {}", m.kind, m.proto);
            for f in &m.formats {
                let _ = write!(sdp, " {f}");
            }
            sdp.push_str("\r\n");
        }
    }
    Ok((sdp, negotiated))
}

/// An offer for an outgoing call: PCMU, then PCMA, and telephone-events.
pub fn offer(local_ip: IpAddr, local_port: u16, session_id: u64) -> String {
    let mut sdp = header(local_ip, session_id);
    let _ = write!(
        sdp,
        "m=audio {local_port} RTP/AVP 0 8 {dtmf}\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:{dtmf} telephone-event/8000\r\n\
         a=fmtp:{dtmf} 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n",
        dtmf = OFFERED_DTMF_PAYLOAD_TYPE
    );
    sdp
}

/// Reads the far end's answer to our `offer`.
pub fn read_answer(answer: &str) -> Result<Negotiated, SdpError> {
    Ok(negotiate(&parse(answer)?)?.1)
}

/// What the SDP says that we use.
struct Description<'a> {
    session_address: Option<IpAddr>,
    session_direction: Option<Direction>,
    media: Vec<Media<'a>>,
}

struct Media<'a> {
    kind: &'a str,
    port: u16,
    proto: &'a str,
    formats: Vec<&'a str>,
    address: Option<IpAddr>,
    /// (payload type, encoding name, clock rate) from `a=rtpmap`.
    rtpmaps: Vec<(u8, &'a str, u32)>,
    direction: Option<Direction>,
}

impl Media<'_> {
    /// The encoding name and clock rate of a payload type, from its `a=rtpmap` or, for
    /// the common static types, from RFC 3551.
    fn encoding(&self, pt: u8) -> Option<(&str, u32)> {
        if let Some(&(_, name, rate)) = self.rtpmaps.iter().find(|r| r.0 == pt) {
            return Some((name, rate));
        }
        let name = match pt {
            0 => "PCMU",
            3 => "GSM",
            4 => "G723",
            8 => "PCMA",
            9 => "G722",
            18 => "G729",
            _ => return None,
        };
        Some((name, 8000))
    }
}

fn parse(sdp: &str) -> Result<Description<'_>, SdpError> {
    let mut d = Description {
        session_address: None,
        session_direction: None,
        media: Vec::new(),
    };
    for line in sdp.lines() {
        let line = line.trim();
        let Some((kind, value)) = line.split_once('=') else {
            continue;
        };
        let media = d.media.last_mut();
        match (kind, media) {
            ("m", _) => d.media.push(parse_media(line, value)?),
            ("c", None) => d.session_address = Some(parse_connection(line, value)?),
            ("c", Some(m)) => m.address = Some(parse_connection(line, value)?),
            ("a", m) => {
                let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                if let Some(dir) = Direction::parse(name) {
                    match m {
                        Some(m) => m.direction = Some(dir),
                        None => d.session_direction = Some(dir),
                    }
                } else if let ("rtpmap", Some(m)) = (name, m)
                    && let Some(map) = parse_rtpmap(arg)
                {
                    m.rtpmaps.push(map);
                }
            }
            _ => {}
        }
    }
    Ok(d)
}

fn parse_media<'a>(line: &str, value: &'a str) -> Result<Media<'a>, SdpError> {
    let bad = |reason| SdpError::BadLine {
        line: line.to_string(),
        reason,
    };
    let mut words = value.split_whitespace();
    let kind = words.next().ok_or(bad("no media type"))?;
    let port = words.next().ok_or(bad("no port"))?;
    // A port may carry a count of ports ("49170/2"); the first one is ours.
    let port = port
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or(bad("the port is not a number"))?;
    let proto = words.next().ok_or(bad("no transport"))?;
    Ok(Media {
        kind,
        port,
        proto,
        formats: words.collect(),
        address: None,
        rtpmaps: Vec::new(),
        direction: None,
    })
}

fn parse_connection(line: &str, value: &str) -> Result<IpAddr, SdpError> {
    let bad = |reason| SdpError::BadLine {
        line: line.to_string(),
        reason,
    };
    let mut words = value.split_whitespace();
    if words.next() != Some("IN") {
        return Err(bad("the network type is not IN"));
    }
    let family = words.next().ok_or(bad("no address type"))?;
    let address = words.next().ok_or(bad("no address"))?;
    // A multicast address may carry a TTL and a count ("224.2.1.1/127/3").
    let address = address.split('/').next().unwrap_or(address);
    let ip: IpAddr = address
        .parse()
        .map_err(|_| bad("the address is not an IP address"))?;
    match (family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Ok(ip),
        _ => Err(bad("the address does not match its type")),
    }
}

/// `101 telephone-event/8000` or `0 PCMU/8000/1`.
fn parse_rtpmap(arg: &str) -> Option<(u8, &str, u32)> {
    let (pt, encoding) = arg.trim().split_once(char::is_whitespace)?;
    let mut parts = encoding.trim().split('/');
    let name = parts.next()?;
    let rate = parts.next()?.parse().ok()?;
    Some((pt.parse().ok()?, name, rate))
}

/// The index of the `m=` line we take and what it gives.
fn negotiate(d: &Description<'_>) -> Result<(usize, Negotiated), SdpError> {
    let (index, m) = d
        .media
        .iter()
        .enumerate()
        .find(|(_, m)| m.kind == "audio" && m.port != 0 && m.proto.starts_with("RTP/AVP"))
        .ok_or(SdpError::NoAudio)?;
    let mut codec = None;
    let mut dtmf = None;
    for f in &m.formats {
        let Ok(pt) = f.parse::<u8>() else { continue };
        let Some((name, rate)) = m.encoding(pt) else {
            continue;
        };
        if rate != 8000 {
            continue;
        }
        if codec.is_none()
            && let Some(c) = Codec::from_payload_type(pt)
            && name.eq_ignore_ascii_case(c.name())
        {
            codec = Some(c);
        }
        if dtmf.is_none() && pt >= 96 && name.eq_ignore_ascii_case("telephone-event") {
            dtmf = Some(pt);
        }
    }
    let Some(codec) = codec else {
        let offered = m
            .formats
            .iter()
            .map(|f| match f.parse().ok().and_then(|pt| m.encoding(pt)) {
                Some((name, rate)) => format!("{name}/{rate}"),
                None => format!("payload type {f}"),
            })
            .collect();
        return Err(SdpError::NoCommonCodec { offered });
    };
    let ip = m
        .address
        .or(d.session_address)
        .ok_or(SdpError::NoConnection)?;
    let theirs = m.direction.or(d.session_direction).unwrap_or_default();
    Ok((
        index,
        Negotiated {
            remote: SocketAddr::new(ip, m.port),
            codec,
            dtmf_payload_type: dtmf,
            direction: theirs.reverse(),
        },
    ))
}

fn header(local_ip: IpAddr, session_id: u64) -> String {
    let family = if local_ip.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\n\
         o=switchboard {session_id} {session_id} IN {family} {local_ip}\r\n\
         s=switchboard\r\n\
         c=IN {family} {local_ip}\r\n\
         t=0 0\r\n"
    )
}

fn audio_lines(
    sdp: &mut String,
    port: u16,
    proto: &str,
    codec: Codec,
    dtmf: Option<u8>,
    direction: Direction,
) {
    let pt = codec.payload_type();
    let _ = write!(sdp, "m=audio {port} {proto} {pt}");
    if let Some(d) = dtmf {
        let _ = write!(sdp, " {d}");
    }
    let _ = write!(sdp, "\r\na=rtpmap:{pt} {}/8000\r\n", codec.name());
    if let Some(d) = dtmf {
        let _ = write!(
            sdp,
            "a=rtpmap:{d} telephone-event/8000\r\na=fmtp:{d} 0-16\r\n"
        );
    }
    let _ = write!(sdp, "a=ptime:20\r\na={}\r\n", direction.attribute());
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));

    fn ok(offer: &str) -> (String, Negotiated) {
        answer(&offer.replace('\n', "\r\n"), LOCAL, 20000, 42).unwrap()
    }

    /// sipp's built-in `uac_pcap` scenario, as sent.
    const SIPP_UAC_PCAP: &str = "v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11,16
";

    /// A linphone offer: wide-band codecs first and telephone-events at three rates.
    const LINPHONE: &str = "v=0
o=alice 2890 3217 IN IP4 192.168.1.20
s=Talk
c=IN IP4 192.168.1.20
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp-fb:* trr-int 1000
";

    /// A baresip-like offer: IPv6 at session level, IPv4 for the audio, PCMA before
    /// PCMU, and a video stream.
    const BARESIP: &str = "v=0
o=- 1234 5678 IN IP6 2001:db8::1
s=-
c=IN IP6 2001:db8::1
t=0 0
m=audio 10000 RTP/AVP 9 8 0 101
c=IN IP4 203.0.113.5
b=AS:64
a=rtpmap:9 G722/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=ssrc:12345 cname:foo
m=video 10002 RTP/AVP 96
a=rtpmap:96 H264/90000
";

    #[test]
    fn sipp_uac_pcap() {
        let (sdp, n) = ok(SIPP_UAC_PCAP);
        assert_eq!(
            n,
            Negotiated {
                remote: "127.0.0.1:6000".parse().unwrap(),
                codec: Codec::Pcma,
                dtmf_payload_type: Some(101),
                direction: Direction::SendRecv,
            }
        );
        assert_eq!(
            sdp,
            "v=0\r\n\
             o=switchboard 42 42 IN IP4 192.0.2.10\r\n\
             s=switchboard\r\n\
             c=IN IP4 192.0.2.10\r\n\
             t=0 0\r\n\
             m=audio 20000 RTP/AVP 8 101\r\n\
             a=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-16\r\n\
             a=ptime:20\r\n\
             a=sendrecv\r\n"
        );
    }

    #[test]
    fn sipp_default_uac_without_rtpmap_or_dtmf() {
        let (sdp, n) = ok("v=0
o=user1 1 1 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
");
        assert_eq!(n.codec, Codec::Pcmu);
        assert_eq!(n.dtmf_payload_type, None);
        assert!(sdp.contains("m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"));
        assert!(!sdp.contains("telephone-event"));
    }

    #[test]
    fn linphone_picks_g711_and_the_8khz_telephone_event() {
        let (sdp, n) = ok(LINPHONE);
        assert_eq!(n.codec, Codec::Pcmu);
        assert_eq!(n.dtmf_payload_type, Some(100));
        assert_eq!(n.remote, "192.168.1.20:7078".parse().unwrap());
        assert!(sdp.contains("m=audio 20000 RTP/AVP 0 100\r\n"));
    }

    #[test]
    fn baresip_media_level_address_offerer_order_and_refused_video() {
        let (sdp, n) = ok(BARESIP);
        assert_eq!(n.codec, Codec::Pcma);
        assert_eq!(n.remote, "203.0.113.5:10000".parse().unwrap());
        assert!(sdp.contains("m=audio 20000 RTP/AVP 8 101\r\n"));
        assert!(sdp.ends_with("m=video 0 RTP/AVP 96\r\n"), "{sdp}");
    }

    #[test]
    fn hold_and_directions() {
        for (theirs, ours) in [
            ("sendonly", Direction::RecvOnly),
            ("recvonly", Direction::SendOnly),
            ("inactive", Direction::Inactive),
        ] {
            let offer = format!("{SIPP_UAC_PCAP}a={theirs}\n");
            let (sdp, n) = ok(&offer);
            assert_eq!(n.direction, ours);
            assert!(sdp.contains(&format!("a={}\r\n", ours.attribute())));
        }
        // At session level, before the m= line.
        let offer = SIPP_UAC_PCAP.replace("t=0 0\n", "t=0 0\na=sendonly\n");
        assert_eq!(ok(&offer).1.direction, Direction::RecvOnly);
        assert!(!Direction::RecvOnly.sends());
    }

    #[test]
    fn a_refused_stream_is_skipped_and_ipv6_works() {
        let (sdp, n) = answer(
            "v=0\nc=IN IP6 2001:db8::2\nm=audio 0 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\n",
            "2001:db8::1".parse().unwrap(),
            5000,
            1,
        )
        .unwrap();
        assert_eq!(n.remote, "[2001:db8::2]:4000".parse().unwrap());
        assert!(sdp.contains("c=IN IP6 2001:db8::1\r\n"));
        assert!(sdp.contains("m=audio 0 RTP/AVP 0\r\nm=audio 5000 RTP/AVP 0\r\n"));
    }

    #[test]
    fn rejections_say_why() {
        let err = |offer: &str| answer(offer, LOCAL, 1, 1).unwrap_err().to_string();
        assert_eq!(
            err("v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 96 9 120\na=rtpmap:96 opus/48000/2\n"),
            "the audio stream offers neither PCMU nor PCMA (it offers opus/48000, G722/8000, payload type 120)"
        );
        assert_eq!(
            err("v=0\nc=IN IP4 1.2.3.4\nm=video 4000 RTP/AVP 96\n"),
            "the SDP has no audio stream over RTP/AVP"
        );
        assert_eq!(
            err("v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/SAVP 0\n"),
            "the SDP has no audio stream over RTP/AVP"
        );
        assert_eq!(
            err("v=0\nm=audio 4000 RTP/AVP 0\n"),
            "the SDP has no c= address for its audio"
        );
        assert_eq!(
            err("v=0\nc=IN IP4 pbx.example.com\nm=audio 4000 RTP/AVP 0\n"),
            "SDP line `c=IN IP4 pbx.example.com`: the address is not an IP address"
        );
        assert_eq!(
            err("v=0\nc=IN IP4 1.2.3.4\nm=audio x RTP/AVP 0\n"),
            "SDP line `m=audio x RTP/AVP 0`: the port is not a number"
        );
    }

    #[test]
    fn our_offer_and_an_answer_to_it() {
        let sdp = offer(LOCAL, 30000, 7);
        assert!(sdp.contains("m=audio 30000 RTP/AVP 0 8 101\r\n"));
        // We can answer our own offer, and read that answer back.
        let (ans, n) = answer(&sdp, "192.0.2.20".parse().unwrap(), 40000, 8).unwrap();
        assert_eq!(n.remote, "192.0.2.10:30000".parse().unwrap());
        assert_eq!(n.codec, Codec::Pcmu);
        let back = read_answer(&ans).unwrap();
        assert_eq!(back.remote, "192.0.2.20:40000".parse().unwrap());
        assert_eq!(back.dtmf_payload_type, Some(101));
    }
}
