//! The UDP socket under the SIP stack: every datagram's source is counted by the
//! [`Gate`] and then the datagram goes through [`screen`](super::screen::screen), and the answers to broken requests
//! leave from here without the stack seeing them.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::Mutex;
use tracing::debug;

use super::gate::Gate;
use super::screen::{Screened, screen};

/// Largest UDP payload.
const MAX_UDP_PAYLOAD: usize = 65_535;

/// A UDP socket that screens what it receives.
pub struct ScreenedSocket {
    socket: UdpSocket,
    /// Asked about each datagram's source before anything else is done with it.
    gate: Arc<Gate>,
    /// The receive buffer; only the stack's one receive loop takes it, for
    /// the time of one datagram.
    buffer: Mutex<Vec<u8>>,
}

impl ScreenedSocket {
    pub fn new(socket: UdpSocket, gate: Arc<Gate>) -> ScreenedSocket {
        ScreenedSocket {
            socket,
            gate,
            buffer: Mutex::new(vec![0; MAX_UDP_PAYLOAD]),
        }
    }
}

#[async_trait::async_trait]
impl rsipstack::platform::net::UdpSocket for ScreenedSocket {
    async fn recv_from(&self, out: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        let mut buffer = self.buffer.lock().await;
        loop {
            let (len, from) = self.socket.recv_from(&mut buffer).await?;
            if !self.gate.admit(from, false) {
                continue; // a flood: not even parsed, and never answered
            }
            let datagram = &buffer[..len];
            let bytes = match screen(datagram) {
                Screened::Pass => datagram.to_vec(),
                Screened::Rewrite(bytes) => bytes,
                Screened::Reply(response) => {
                    debug!(%from, len, "answered a malformed SIP request");
                    if let Err(e) = self.socket.send_to(&response, from).await {
                        debug!(%from, error = %e, "could not answer a malformed SIP request");
                    }
                    continue;
                }
                Screened::Drop => {
                    debug!(%from, len, "dropped a datagram that is not SIP");
                    continue;
                }
            };
            if bytes.len() > out.len() {
                debug!(%from, len = bytes.len(), "dropped a datagram too large for the stack");
                continue;
            }
            out[..bytes.len()].copy_from_slice(&bytes);
            return Ok((bytes.len(), from));
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}
