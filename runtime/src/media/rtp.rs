//! RTP packets (RFC 3550): the fixed header written and read, and the sequence number,
//! timestamp and SSRC of the stream we send.

use std::fmt;

/// The fixed header's length; we send no CSRCs and no extension.
pub const HEADER_LEN: usize = 12;

/// The RTP header fields a G.711 and telephone-event stream uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

impl RtpHeader {
    /// The 12-byte header (version 2, no padding, extension or CSRCs).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = 0x80;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7F);
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        out
    }
}

/// A received packet: its header and payload (CSRCs, extension and padding removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub header: RtpHeader,
    pub payload: &'a [u8],
}

/// Why a datagram is not an RTP packet we can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtpError {
    /// Shorter than its headers say.
    Truncated,
    /// Not RTP version 2.
    Version(u8),
    /// An RTCP packet (payload types 72-76 with the marker bit), as sent with rtcp-mux.
    Rtcp,
    /// The padding count is larger than the payload.
    Padding,
}

impl fmt::Display for RtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtpError::Truncated => write!(f, "truncated RTP packet"),
            RtpError::Version(v) => write!(f, "RTP version {v}, expected 2"),
            RtpError::Rtcp => write!(f, "an RTCP packet on the RTP port"),
            RtpError::Padding => write!(f, "RTP padding longer than the payload"),
        }
    }
}

impl std::error::Error for RtpError {}

/// Reads an RTP packet.
pub fn parse(data: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    if data.len() < HEADER_LEN {
        return Err(RtpError::Truncated);
    }
    let version = data[0] >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    // RTCP packet types 200-204 land in the marker and payload type bits as 0xC8-0xCC.
    if (200..=204).contains(&data[1]) {
        return Err(RtpError::Rtcp);
    }
    let padding = data[0] & 0x20 != 0;
    let extension = data[0] & 0x10 != 0;
    let csrc_count = (data[0] & 0x0F) as usize;
    let mut start = HEADER_LEN + 4 * csrc_count;
    if extension {
        let ext = data.get(start..start + 4).ok_or(RtpError::Truncated)?;
        let words = u16::from_be_bytes([ext[2], ext[3]]) as usize;
        start += 4 + 4 * words;
    }
    if start > data.len() {
        return Err(RtpError::Truncated);
    }
    let mut end = data.len();
    if padding {
        let count = data[end - 1] as usize;
        if count == 0 || count > end - start {
            return Err(RtpError::Padding);
        }
        end -= count;
    }
    Ok(RtpPacket {
        header: RtpHeader {
            marker: data[1] & 0x80 != 0,
            payload_type: data[1] & 0x7F,
            sequence: u16::from_be_bytes([data[2], data[3]]),
            timestamp: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            ssrc: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
        },
        payload: &data[start..end],
    })
}

/// Whether RTP timestamp `a` is later than `b`, allowing for wrap-around.
pub fn timestamp_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The stream we send: one SSRC, a sequence number that goes up by one per packet and a
/// timestamp that follows the 8 kHz sampling clock, all starting at random values
/// (RFC 3550 §5.1).
#[derive(Clone, Debug)]
pub struct OutgoingStream {
    pub ssrc: u32,
    sequence: u16,
    timestamp: u32,
}

impl OutgoingStream {
    /// A stream with a random SSRC, first sequence number and first timestamp.
    pub fn random() -> OutgoingStream {
        let mut b = [0u8; 10];
        if getrandom::fill(&mut b).is_err() {
            // Only when the OS has no randomness to give: the clock still differs per call.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            b.copy_from_slice(&now.to_le_bytes()[..10]);
        }
        OutgoingStream::new(
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u32::from_le_bytes([b[6], b[7], b[8], b[9]]),
        )
    }

    pub fn new(ssrc: u32, sequence: u16, timestamp: u32) -> OutgoingStream {
        OutgoingStream {
            ssrc,
            sequence,
            timestamp,
        }
    }

    /// The timestamp the next packet will carry.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// The header of the next packet, then moves the sequence number on by one.
    pub fn next_header(&mut self, payload_type: u8, marker: bool) -> RtpHeader {
        let header = RtpHeader {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        self.sequence = self.sequence.wrapping_add(1);
        header
    }

    /// Continues after `sent`, a packet of this stream carrying `samples`: the next
    /// packet follows it (for packets whose numbers were worked out elsewhere, as a
    /// bridge does).
    pub fn continue_after(&mut self, sent: &RtpHeader, samples: u32) {
        self.sequence = sent.sequence.wrapping_add(1);
        self.timestamp = sent.timestamp.wrapping_add(samples);
    }

    /// Moves the sampling clock on by `samples` (whether or not a packet was sent for them).
    pub fn advance(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse() {
        let header = RtpHeader {
            marker: true,
            payload_type: 101,
            sequence: 0xFFFF,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x0102_0304,
        };
        let mut packet = [0u8; HEADER_LEN + 4];
        packet[..HEADER_LEN].copy_from_slice(&header.to_bytes());
        packet[HEADER_LEN..].copy_from_slice(&[1, 0x8a, 0x08, 0xc0]);
        assert_eq!(&packet[..2], &[0x80, 0xE5]);
        let parsed = parse(&packet).unwrap();
        assert_eq!(parsed.header, header);
        assert_eq!(parsed.payload, &[1, 0x8a, 0x08, 0xc0]);
    }

    #[test]
    fn a_packet_from_sipp() {
        // The first packet of sipp's dtmf_2833_1.pcap.
        let p = [
            0x80, 0xe5, 0x1f, 0x30, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x00, 0x00,
        ];
        let parsed = parse(&p).unwrap();
        assert!(parsed.header.marker);
        assert_eq!(parsed.header.payload_type, 101);
        assert_eq!(parsed.header.sequence, 7984);
        assert_eq!(parsed.header.timestamp, 13280);
        assert_eq!(parsed.header.ssrc, 0x0e05_384e);
        assert_eq!(parsed.payload, &[1, 10, 0, 0]);
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        let mut p = vec![0xB1, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
        p.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 5, 5, 5, 5]); // a one-word extension
        p.extend_from_slice(&[0xFF, 0xFE]); // payload
        p.extend_from_slice(&[0, 0, 3]); // three bytes of padding
        let parsed = parse(&p).unwrap();
        assert_eq!(parsed.payload, &[0xFF, 0xFE]);
        assert_eq!(parsed.header.ssrc, 7);
    }

    #[test]
    fn rejects() {
        assert_eq!(parse(&[0x80, 0]), Err(RtpError::Truncated));
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::Version(1)));
        let mut rtcp = [0u8; 12];
        rtcp[0] = 0x80;
        rtcp[1] = 200;
        assert_eq!(parse(&rtcp), Err(RtpError::Rtcp));
        let mut p = [0u8; 13];
        p[0] = 0xA0;
        p[12] = 5;
        assert_eq!(parse(&p), Err(RtpError::Padding));
        let mut p = [0u8; 12];
        p[0] = 0x81; // one CSRC that is not there
        assert_eq!(parse(&p), Err(RtpError::Truncated));
    }

    #[test]
    fn outgoing_stream_counts_and_wraps() {
        let mut s = OutgoingStream::new(42, u16::MAX, u32::MAX - 100);
        let a = s.next_header(0, true);
        s.advance(160);
        let b = s.next_header(0, false);
        assert_eq!((a.sequence, a.timestamp), (u16::MAX, u32::MAX - 100));
        assert_eq!((b.sequence, b.timestamp), (0, 59));
        assert!(timestamp_after(b.timestamp, a.timestamp));
        assert!(!timestamp_after(a.timestamp, b.timestamp));
    }

    #[test]
    fn random_streams_differ() {
        let a = OutgoingStream::random();
        let b = OutgoingStream::random();
        assert_ne!(
            (a.ssrc, a.sequence, a.timestamp),
            (b.ssrc, b.sequence, b.timestamp)
        );
    }
}
