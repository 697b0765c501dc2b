//! Keys pressed, as RFC 4733 telephone-events.
//!
//! A sender repeats each event every 50 ms or so while the key is down, all packets of one
//! press sharing the RTP timestamp of its start, and ends it with three packets carrying
//! the end bit. The receiver reports a key once, at the first packet of a new timestamp,
//! so a barge-in stops a prompt without waiting for the key to be released; the repeats,
//! the end packets and late packets of an earlier press are ignored.

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// 0-9, 10 = `*`, 11 = `#`, 12-15 = A-D, 16 = flash.
    pub event: u8,
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// In timestamp units since the event's start.
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let p = payload.get(..4)?;
        Some(TelephoneEvent {
            event: p[0],
            end: p[1] & 0x80 != 0,
            volume: p[1] & 0x3F,
            duration: u16::from_be_bytes([p[2], p[3]]),
        })
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }
}

/// The key an event stands for, for the keys a call understands (`0`-`9`, `*`, `#`).
pub fn event_key(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        _ => None,
    }
}

/// The event number of a key, for sending.
pub fn key_event(key: char) -> Option<u8> {
    match key {
        '0'..='9' => Some(key as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        _ => None,
    }
}

/// Turns a stream of telephone-event packets into keys, each reported once.
#[derive(Clone, Debug, Default)]
pub struct DtmfReceiver {
    current: Option<Current>,
}

#[derive(Clone, Copy, Debug)]
struct Current {
    timestamp: u32,
    event: u8,
    ended: bool,
}

impl DtmfReceiver {
    pub fn new() -> DtmfReceiver {
        DtmfReceiver::default()
    }

    /// Takes one telephone-event packet's marker bit, RTP timestamp and payload; returns
    /// the key when this packet starts a new press.
    pub fn receive(&mut self, marker: bool, timestamp: u32, payload: &[u8]) -> Option<char> {
        let ev = TelephoneEvent::parse(payload)?;
        if let Some(cur) = &mut self.current {
            if cur.timestamp == timestamp {
                cur.ended |= ev.end;
                return None;
            }
            if !marker && !super::rtp::timestamp_after(timestamp, cur.timestamp) {
                // A late packet of an earlier press. A marked packet always starts a new
                // press (RFC 4733 §2.5.1.2), even when its timestamp went backwards, as it
                // does when a sender restarts its clock or replays recorded events.
                return None;
            }
            if !marker && !cur.ended && cur.event == ev.event {
                // A long press goes on in a new segment with a new timestamp (§2.5.1.3).
                cur.timestamp = timestamp;
                cur.ended = ev.end;
                return None;
            }
        }
        self.current = Some(Current {
            timestamp,
            event: ev.event,
            ended: ev.end,
        });
        event_key(ev.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packets a phone sends for one press: a start with the marker, progress every
    /// 20 ms and the end three times, all with the same timestamp.
    fn press(event: u8, timestamp: u32) -> Vec<(bool, u32, [u8; 4])> {
        let mut packets = Vec::new();
        for i in 0..8u16 {
            let ev = TelephoneEvent {
                event,
                end: i == 7,
                volume: 10,
                duration: i * 320,
            };
            let repeats = if i == 7 { 3 } else { 1 };
            for _ in 0..repeats {
                packets.push((i == 0, timestamp, ev.to_bytes()));
            }
        }
        packets
    }

    fn keys(packets: &[(bool, u32, [u8; 4])]) -> String {
        let mut rx = DtmfReceiver::new();
        packets
            .iter()
            .filter_map(|(m, ts, p)| rx.receive(*m, *ts, p))
            .collect()
    }

    #[test]
    fn each_press_is_reported_once() {
        let mut packets = press(1, 1000);
        packets.extend(press(1, 3000));
        packets.extend(press(11, 5000));
        packets.extend(press(10, 7000));
        packets.extend(press(0, 9000));
        assert_eq!(keys(&packets), "11#*0");
    }

    #[test]
    fn a_lost_start_packet_still_reports_the_key() {
        let mut packets = press(5, 1000);
        packets.remove(0);
        assert_eq!(keys(&packets), "5");
    }

    #[test]
    fn late_packets_of_an_earlier_press_are_ignored() {
        let mut packets = press(4, 1000);
        packets.extend(press(6, 2000));
        packets.push((false, 1000, press(4, 1000)[9].2));
        assert_eq!(keys(&packets), "46");
    }

    #[test]
    fn a_marked_press_with_an_earlier_timestamp_is_a_new_key() {
        // sipp replays captured presses with their original timestamps: 5 at 43200,
        // then 1 at 13280.
        let mut packets = press(5, 43_200);
        packets.extend(press(1, 13_280));
        assert_eq!(keys(&packets), "51");
    }

    #[test]
    fn a_long_press_in_segments_is_one_key() {
        let mut packets = press(8, u32::MAX - 10);
        // The end packets did not come yet: the press goes on past 0xFFFF in a new segment.
        packets.truncate(7);
        let segment = TelephoneEvent {
            event: 8,
            end: false,
            volume: 10,
            duration: 100,
        };
        packets.push((
            false,
            (u32::MAX - 10).wrapping_add(0xFFFF),
            segment.to_bytes(),
        ));
        packets.extend(press(8, 200_000));
        assert_eq!(keys(&packets), "88");
    }

    #[test]
    fn keys_and_events() {
        for key in "0123456789*#".chars() {
            assert_eq!(event_key(key_event(key).unwrap()), Some(key));
        }
        assert_eq!(event_key(12), None);
        assert_eq!(key_event('A'), None);
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), None);
    }

    /// The RTP payloads (marker, timestamp, payload) of a classic-format pcap of
    /// Ethernet/IPv4/UDP packets, as sipp ships.
    fn pcap_rtp(path: &str) -> Vec<(bool, u32, Vec<u8>)> {
        let data = std::fs::read(path).unwrap_or_else(|e| {
            panic!("{path}: {e} (sipp's pcaps come with `apt-get install sip-tester`)")
        });
        assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "{path}: not a pcap");
        let mut out = Vec::new();
        let mut at = 24;
        while at + 16 <= data.len() {
            let len = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
            let frame = &data[at + 16..at + 16 + len];
            at += 16 + len;
            let ip = &frame[14..];
            let udp = &ip[((ip[0] & 0x0F) as usize) * 4..];
            let rtp = super::super::rtp::parse(&udp[8..]).unwrap();
            out.push((
                rtp.header.marker,
                rtp.header.timestamp,
                rtp.payload.to_vec(),
            ));
        }
        out
    }

    #[test]
    fn sipp_dtmf_pcaps() {
        for (name, key) in [
            ("0", '0'),
            ("1", '1'),
            ("2", '2'),
            ("3", '3'),
            ("4", '4'),
            ("5", '5'),
            ("6", '6'),
            ("7", '7'),
            ("8", '8'),
            ("9", '9'),
            ("star", '*'),
            ("pound", '#'),
        ] {
            let path = format!("/usr/share/sip-tester/dtmf_2833_{name}.pcap");
            let packets = pcap_rtp(&path);
            assert_eq!(packets.len(), 10, "{path}");
            let mut rx = DtmfReceiver::new();
            let got: Vec<char> = packets
                .iter()
                .filter_map(|(m, ts, p)| rx.receive(*m, *ts, p))
                .collect();
            assert_eq!(got, vec![key], "{path}");
        }
    }
}
