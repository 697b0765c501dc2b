//! Two calls' media joined: the caller's RTP goes to the phone that answered and back,
//! through the server (so phones behind NAT reach each other and a call can later be
//! recorded or transferred).
//!
//! One task owns both sockets. Each packet is judged by the receiving side's [`Latch`]
//! (so a stranger is no more heard in a bridge than in an IVR), then sent on to the
//! other side: audio in the other side's codec (G.711 μ-law and A-law transcode sample
//! by sample when the phones chose differently), RFC 4733 events under the other side's
//! payload type, anything else dropped. Each direction keeps one SSRC and continues the
//! sequence numbers and timestamps the other side last heard from us, so a phone sees
//! one continuous stream from the first prompt through the conversation, even when the
//! far end restarts its own stream (a re-INVITE, a new SSRC).
//!
//! The task allocates nothing per packet: one receive buffer and one send buffer, and
//! the packet is rewritten into the send buffer.

use super::g711::Codec;
use super::latch::{Latch, Verdict};
use super::rtp::{self, HEADER_LEN, OutgoingStream, RtpHeader};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Samples per 20 ms packet, for the timestamp gap left when a far end's stream restarts.
const PACKET_SAMPLES: u32 = 160;

/// One side of a bridge: a call's socket and what was agreed with its phone.
pub struct Side {
    pub socket: UdpSocket,
    /// Whose packets are this side's, and where ours go.
    pub latch: Latch,
    pub codec: Codec,
    pub dtmf_payload_type: Option<u8>,
    /// The stream this side has heard from us so far (continued by the bridge).
    pub stream: OutgoingStream,
}

/// Stops a running bridge; dropping it stops the bridge too.
pub struct BridgeHandle {
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    /// Fires once when both phones have been silent for the watch's limit; taken (set
    /// to `None`) once it has been read.
    pub silent: Option<oneshot::Receiver<()>>,
}

impl BridgeHandle {
    /// Stops the bridge and waits until both sockets are closed.
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

/// Relays between `a` and `b` until closed, watching for both to go silent for
/// `inactivity` (`None` watches nothing).
pub fn start(a: Side, b: Side, inactivity: Option<Duration>) -> BridgeHandle {
    let (stop, stopped) = oneshot::channel();
    let (tell_silent, silent) = oneshot::channel();
    let done = tokio::spawn(relay(a, b, stopped, inactivity, tell_silent));
    BridgeHandle {
        stop: Some(stop),
        done: Some(done),
        silent: Some(silent),
    }
}

/// One direction's rewriting: what the far end sends, renumbered into our stream.
struct Rewrite {
    /// The far end's stream we are following, and the offsets that map it onto ours.
    following: Option<Following>,
}

#[derive(Clone, Copy)]
struct Following {
    ssrc: u32,
    sequence_offset: u16,
    timestamp_offset: u32,
}

impl Rewrite {
    /// Our header for a packet `h` the far end sent, continuing `stream` (which holds
    /// the next sequence number and timestamp of ours).
    fn header(
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

async fn relay(
    mut a: Side,
    mut b: Side,
    mut stopped: oneshot::Receiver<()>,
    inactivity: Option<Duration>,
    tell_silent: oneshot::Sender<()>,
) {
    let (mut from_a, mut from_b) = ([0u8; 2048], [0u8; 2048]);
    let mut outbound = [0u8; 2048];
    let (mut a_to_b, mut b_to_a) = (Rewrite { following: None }, Rewrite { following: None });
    let mut last_heard = Instant::now();
    let mut tell_silent = Some(tell_silent);
    let mut check = tokio::time::interval(SILENCE_CHECK);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            received = a.socket.recv_from(&mut from_a) => {
                if let Ok((n, from)) = received
                    && forward(&from_a[..n], from, &mut a, &mut b, &mut a_to_b, &mut outbound).await
                {
                    last_heard = Instant::now();
                }
            }
            received = b.socket.recv_from(&mut from_b) => {
                if let Ok((n, from)) = received
                    && forward(&from_b[..n], from, &mut b, &mut a, &mut b_to_a, &mut outbound).await
                {
                    last_heard = Instant::now();
                }
            }
            _ = check.tick(), if inactivity.is_some() && tell_silent.is_some() => {
                if inactivity.is_some_and(|limit| last_heard.elapsed() > limit)
                    && let Some(tell) = tell_silent.take()
                {
                    let _ = tell.send(());
                }
            }
        }
    }
}

/// How often the bridge looks at how long both phones have been silent.
const SILENCE_CHECK: Duration = Duration::from_millis(250);

/// Sends on to `to` what `from` received from `sender`, if it is `from`'s phone's;
/// whether it was (the phone is alive, whatever its packet carried).
async fn forward(
    data: &[u8],
    sender: SocketAddr,
    from: &mut Side,
    to: &mut Side,
    rewrite: &mut Rewrite,
    out: &mut [u8; 2048],
) -> bool {
    let Ok(packet) = rtp::parse(data) else {
        return false;
    };
    if from
        .latch
        .judge(sender, packet.header.sequence, Instant::now().into_std())
        == Verdict::Ignore
    {
        return false;
    }
    let pt = packet.header.payload_type;
    let (payload_type, transcode) = if pt == from.codec.payload_type() {
        (to.codec.payload_type(), from.codec != to.codec)
    } else if Some(pt) == from.dtmf_payload_type {
        match to.dtmf_payload_type {
            Some(theirs) => (theirs, false),
            None => return true, // the other phone takes no RFC 4733 keys
        }
    } else {
        return true; // comfort noise, video, anything the other side did not agree to
    };
    let len = HEADER_LEN + packet.payload.len();
    if len > out.len() {
        return true;
    }
    let header = rewrite.header(&packet.header, &mut to.stream, payload_type);
    out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    let body = &mut out[HEADER_LEN..len];
    if transcode {
        for (o, &i) in body.iter_mut().zip(packet.payload) {
            *o = to.codec.encode_sample(from.codec.decode_sample(i));
        }
    } else {
        body.copy_from_slice(packet.payload);
    }
    let destination = to.latch.send_to();
    if destination.port() != 0 && !destination.ip().is_unspecified() {
        let _ = to.socket.send_to(&out[..len], destination).await;
    }
    true
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

    fn side(socket: UdpSocket) -> Side {
        let nowhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
        Side {
            socket,
            latch: Latch::new(nowhere, crate::media::latch::Learning::Anywhere),
            codec: Codec::Pcmu,
            dtmf_payload_type: None,
            stream: OutgoingStream::new(1, 1, 1),
        }
    }

    #[tokio::test]
    async fn a_bridge_whose_phones_both_went_silent_says_so() {
        let a = side(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let b = side(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let limit = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let bridge = start(a, b, Some(limit));
        tokio::time::timeout(Duration::from_secs(5), bridge.silent.unwrap())
            .await
            .expect("the silence is reported")
            .unwrap();
        assert!(started.elapsed() >= limit);
    }

    #[test]
    fn a_far_end_stream_continues_ours_and_a_new_one_follows_on() {
        let mut ours = OutgoingStream::new(7, 100, 8000);
        let mut rewrite = Rewrite { following: None };
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
}
