//! The probe packet: an RTP header and 20 ms of G.711 μ-law whose first bytes say which
//! phone sent it, its number, and when (both clocks), so the receiving phone can time it
//! and count it. The server copies a PCMU payload untouched between PCMU legs and
//! rewrites only the header (SSRC, sequence number, timestamp), so the probe survives.

/// 20 ms at 8 kHz, one byte a sample.
pub const PAYLOAD_LEN: usize = 160;
/// The fixed RTP header (RFC 3550 §5.1), with no CSRC and no extension.
pub const HEADER_LEN: usize = 12;
pub const PACKET_LEN: usize = HEADER_LEN + PAYLOAD_LEN;
/// Samples a packet advances the RTP timestamp by.
const SAMPLES: u32 = 160;
/// Marks a payload as ours: anything else the server sends (a prompt) is not counted.
const MAGIC: [u8; 4] = *b"SBRL";
/// μ-law silence, for the rest of the payload.
const SILENCE: u8 = 0xFF;

/// What a probe carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The sending phone (its index in the load tool's list of streams).
    pub stream: u32,
    /// The phone's own packet number, from 0; the server renumbers the RTP header's.
    pub sequence: u32,
    /// CLOCK_MONOTONIC just before the send.
    pub sent_mono_ns: u64,
    /// CLOCK_REALTIME just before the send: the clock of the kernel's receive timestamps.
    pub sent_real_ns: u64,
}

/// A packet buffer: silence, with the header and the probe written over it.
pub fn blank() -> [u8; PACKET_LEN] {
    let mut packet = [SILENCE; PACKET_LEN];
    packet[0] = 0x80; // version 2, no padding, no extension, no CSRC
    packet[1] = 0; // PCMU
    packet
}

/// Writes `probe` (and a header that goes with it) into `packet`.
pub fn write(packet: &mut [u8; PACKET_LEN], probe: &Probe) {
    packet[2..4].copy_from_slice(&(probe.sequence as u16).to_be_bytes());
    packet[4..8].copy_from_slice(&probe.sequence.wrapping_mul(SAMPLES).to_be_bytes());
    packet[8..12].copy_from_slice(&(probe.stream + 1).to_be_bytes());
    let body = &mut packet[HEADER_LEN..];
    body[0..4].copy_from_slice(&MAGIC);
    body[4..8].copy_from_slice(&probe.stream.to_be_bytes());
    body[8..12].copy_from_slice(&probe.sequence.to_be_bytes());
    body[12..20].copy_from_slice(&probe.sent_mono_ns.to_be_bytes());
    body[20..28].copy_from_slice(&probe.sent_real_ns.to_be_bytes());
}

/// The probe in an RTP packet the server relayed, if it carries one.
pub fn read(packet: &[u8]) -> Option<Probe> {
    let first = *packet.first()?;
    if first >> 6 != 2 {
        return None;
    }
    let mut offset = HEADER_LEN + 4 * usize::from(first & 0x0F);
    if first & 0x10 != 0 {
        let words = packet.get(offset + 2..offset + 4)?;
        offset += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    let body = packet.get(offset..offset + 28)?;
    if body[0..4] != MAGIC {
        return None;
    }
    let word = |at: usize| u32::from_be_bytes(body[at..at + 4].try_into().unwrap());
    let long = |at: usize| u64::from_be_bytes(body[at..at + 8].try_into().unwrap());
    Some(Probe {
        stream: word(4),
        sequence: word(8),
        sent_mono_ns: long(12),
        sent_real_ns: long(20),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_reads_back_after_the_server_rewrites_the_header() {
        let probe = Probe {
            stream: 1999,
            sequence: 70_000,
            sent_mono_ns: 123_456_789_012,
            sent_real_ns: 1_800_000_000_000_000_000,
        };
        let mut packet = blank();
        write(&mut packet, &probe);
        // The relay's own SSRC, sequence number and timestamp, and the marker bit.
        packet[1] = 0x80;
        packet[2..12].copy_from_slice(&[9; 10]);
        assert_eq!(read(&packet), Some(probe));
        assert_eq!(packet[PACKET_LEN - 1], SILENCE);
    }

    #[test]
    fn a_packet_without_a_probe_is_not_counted() {
        let mut prompt = blank();
        prompt[HEADER_LEN..].fill(0x7F);
        assert_eq!(read(&prompt), None);
        assert_eq!(read(&[0x80, 0, 1]), None);
    }
}
