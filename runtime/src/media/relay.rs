//! One relayed packet: what a far end sent, renumbered into the stream the other phone
//! hears from us and re-encoded for it. Shared by the bridge (both ways, once a phone
//! answered) and the caller's session (one way, a rung phone's or provider's early
//! media before the answer), so both number the caller's stream the same way and it
//! stays one continuous stream from the first ringback to the conversation.
//!
//! Allocation-free: the packet is rewritten into a buffer the caller owns.

use super::g711::Codec;
use super::rtp::{HEADER_LEN, OutgoingStream, RtpHeader, RtpPacket};

/// Samples per 20 ms packet, for the timestamp gap left when a far end's stream restarts.
pub const PACKET_SAMPLES: u32 = 160;

/// What one side agreed to receive: its audio codec and its RFC 4733 payload type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreed {
    pub codec: Codec,
    pub dtmf_payload_type: Option<u8>,
}

/// One direction's rewriting: what the far end sends, renumbered into our stream.
#[derive(Default)]
pub struct Rewrite {
    /// The far end's stream we are following, and the offsets that map it onto ours;
    /// `None` makes the next packet start a new run of ours.
    pub following: Option<Following>,
}

#[derive(Clone, Copy)]
pub struct Following {
    ssrc: u32,
    sequence_offset: u16,
    timestamp_offset: u32,
}

impl Rewrite {
    /// Our header for a packet `h` the far end sent, continuing `stream` (which holds
    /// the next sequence number and timestamp of ours).
    pub fn header(
        &mut self,
        h: &RtpHeader,
        stream: &mut OutgoingStream,
        payload_type: u8,
    ) -> RtpHeader {
        let header = match self.following {
            Some(f) if f.ssrc == h.ssrc => RtpHeader {
                marker: h.marker,
                payload_type,
                sequence: h.sequence.wrapping_add(f.sequence_offset),
                timestamp: h.timestamp.wrapping_add(f.timestamp_offset),
                ssrc: stream.ssrc,
            },
            _ => {
                // A new far-end stream: ours goes on from where it stands.
                let next = stream.next_header(payload_type, true);
                self.following = Some(Following {
                    ssrc: h.ssrc,
                    sequence_offset: next.sequence.wrapping_sub(h.sequence),
                    timestamp_offset: next.timestamp.wrapping_sub(h.timestamp),
                });
                next
            }
        };
        stream.continue_after(&header, PACKET_SAMPLES);
        header
    }
}

/// Writes into `out` the packet `to` hears for `packet`, which came from a phone that
/// agreed to `from`: audio in `to`'s codec (μ-law and A-law transcode sample by
/// sample), RFC 4733 events under `to`'s payload type, numbered on in `stream` (the one
/// `to` hears). Returns the length written, or `None` for a packet `to` did not agree
/// to receive (comfort noise, video, events it takes no RFC 4733 for) or one too long.
pub fn translate(
    packet: &RtpPacket<'_>,
    from: Agreed,
    to: Agreed,
    rewrite: &mut Rewrite,
    stream: &mut OutgoingStream,
    out: &mut [u8; 2048],
) -> Option<usize> {
    let pt = packet.header.payload_type;
    let (payload_type, transcode) = if pt == from.codec.payload_type() {
        (to.codec.payload_type(), from.codec != to.codec)
    } else if Some(pt) == from.dtmf_payload_type {
        (to.dtmf_payload_type?, false)
    } else {
        return None;
    };
    let len = HEADER_LEN + packet.payload.len();
    if len > out.len() {
        return None;
    }
    let header = rewrite.header(&packet.header, stream, payload_type);
    out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    let body = &mut out[HEADER_LEN..len];
    if transcode {
        for (o, &i) in body.iter_mut().zip(packet.payload) {
            *o = to.codec.encode_sample(from.codec.decode_sample(i));
        }
    } else {
        body.copy_from_slice(packet.payload);
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ssrc: u32, sequence: u16, timestamp: u32) -> RtpHeader {
        RtpHeader {
            marker: false,
            payload_type: 0,
            sequence,
            timestamp,
            ssrc,
        }
    }

    #[test]
    fn a_far_end_stream_continues_ours_and_a_new_one_follows_on() {
        let mut ours = OutgoingStream::new(7, 100, 8000);
        let mut rewrite = Rewrite::default();
        let first = rewrite.header(&header(1, 5000, 90_000), &mut ours, 0);
        assert_eq!(
            (first.ssrc, first.sequence, first.timestamp),
            (7, 100, 8000)
        );
        assert!(first.marker, "a new stream starts with a marker");
        let next = rewrite.header(&header(1, 5001, 90_160), &mut ours, 0);
        assert_eq!((next.ssrc, next.sequence, next.timestamp), (7, 101, 8160));
        // The far end restarts (a new SSRC, new numbers): ours goes on.
        let restarted = rewrite.header(&header(2, 10, 3), &mut ours, 0);
        assert_eq!(
            (restarted.ssrc, restarted.sequence, restarted.timestamp),
            (7, 102, 8320),
            "the packet after the last one sent"
        );
        let after = rewrite.header(&header(2, 11, 163), &mut ours, 0);
        assert_eq!((after.sequence, after.timestamp), (103, 8480));
    }

    #[test]
    fn audio_is_transcoded_and_events_take_the_other_sides_payload_type() {
        let pcmu = Agreed {
            codec: Codec::Pcmu,
            dtmf_payload_type: Some(101),
        };
        let pcma = Agreed {
            codec: Codec::Pcma,
            dtmf_payload_type: Some(96),
        };
        let mut stream = OutgoingStream::new(9, 1, 0);
        let mut rewrite = Rewrite::default();
        let mut out = [0u8; 2048];
        let payload = [Codec::Pcmu.encode_sample(1000); 160];
        let audio = RtpPacket {
            header: header(3, 1, 0),
            payload: &payload,
        };
        let len = translate(&audio, pcmu, pcma, &mut rewrite, &mut stream, &mut out).unwrap();
        assert_eq!(len, HEADER_LEN + 160);
        assert_eq!(out[1] & 0x7F, Codec::Pcma.payload_type());
        let expected = Codec::Pcma.encode_sample(Codec::Pcmu.decode_sample(payload[0]));
        assert!(out[HEADER_LEN..len].iter().all(|b| *b == expected));
        let mut key = header(3, 2, 160);
        key.payload_type = 101;
        let event = RtpPacket {
            header: key,
            payload: &[1, 10, 0, 160],
        };
        let len = translate(&event, pcmu, pcma, &mut rewrite, &mut stream, &mut out).unwrap();
        assert_eq!((out[1] & 0x7F, len), (96, HEADER_LEN + 4));
        let no_events = Agreed {
            dtmf_payload_type: None,
            ..pcma
        };
        assert_eq!(
            translate(&event, pcmu, no_events, &mut rewrite, &mut stream, &mut out),
            None
        );
    }
}
