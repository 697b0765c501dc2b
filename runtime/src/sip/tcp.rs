//! SIP over TCP: the server's own accept loop, in place of rsipstack's, so that every
//! connection is counted in the [`ConnectionTable`] before the stack serves it.
//!
//! rsipstack's loop accepts without limit and, when descriptors run out, logs a warning
//! per failed accept in a tight loop (8 GB of log in 2.5 minutes under 20,000 idle
//! connections). Here a connection over the limits is closed at once, a failed accept
//! waits a moment before the next, and both are logged under a budget. The stack still
//! reads, frames and answers each connection; it reports the close through the
//! transport inspector, which gives the connection's place back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transport::{SipAddr, SipConnection, tcp::TcpConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::connections::{FIRST_MESSAGE_DEADLINE, Refusal};
use super::gate::Gate;
use crate::log_budget::Spend;

/// How long the loop rests after a failed accept (out of descriptors, say), so that it
/// does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` until `cancel` fires and hands each the stack may
/// keep to `endpoint`.
pub async fn serve(
    listener: TcpListener,
    endpoint: EndpointInnerRef,
    gate: Arc<Gate>,
    cancel: CancellationToken,
) {
    let Ok(local) = listener.local_addr() else {
        return;
    };
    let local = SipAddr::new(rsipstack::sip::Transport::Tcp, local.into());
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                if let Spend::Write { suppressed } = gate.spend_tcp_log() {
                    warn!(%error, failed_accepts_not_logged = suppressed, "SIP over TCP cannot accept a connection");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if let Err(refusal) = gate.open_connection(remote) {
            if let Spend::Write { suppressed } = gate.spend_tcp_log() {
                let why = match refusal {
                    Refusal::TooManyFromAddress => "too many connections from this address",
                    Refusal::TooMany => "too many connections in all",
                };
                warn!(%remote, refused_not_logged = suppressed, "SIP over TCP: closed a new connection: {why}");
            }
            continue; // dropping the stream closes it
        }
        match hand_over(stream, remote, &local, &endpoint, &cancel) {
            Ok(closer) => {
                tokio::spawn(close_if_silent(gate.clone(), remote, closer));
            }
            Err(e) => {
                debug!(%remote, error = %e, "a TCP connection could not be served");
                gate.connection_closed(remote);
            }
        }
    }
    debug!("SIP over TCP stopped accepting");
}

/// Gives the connection to the stack; returns a second handle on its socket, the only
/// way left to close it once the stack owns it.
fn hand_over(
    stream: TcpStream,
    remote: SocketAddr,
    local: &SipAddr,
    endpoint: &EndpointInnerRef,
    cancel: &CancellationToken,
) -> std::io::Result<std::net::TcpStream> {
    let std_stream = stream.into_std()?;
    let closer = std_stream.try_clone()?;
    let stream = TcpStream::from_std(std_stream)?;
    let connection = TcpConnection::from_stream(stream, local.clone(), Some(cancel.child_token()))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    debug!(%remote, "SIP over TCP: new connection");
    endpoint
        .transport_layer
        .add_connection(SipConnection::Tcp(connection));
    Ok(closer)
}

/// Closes the connection from `remote` if it has sent no complete message by the
/// deadline: the stack then sees the end of the stream and lets it go.
async fn close_if_silent(gate: Arc<Gate>, remote: SocketAddr, closer: std::net::TcpStream) {
    let opened = Instant::now();
    tokio::time::sleep(FIRST_MESSAGE_DEADLINE).await;
    if gate.connection_is_silent(remote) {
        debug!(%remote, after = ?opened.elapsed(), "SIP over TCP: closed a connection that sent nothing");
        let _ = closer.shutdown(std::net::Shutdown::Both);
    }
}

/// The process's limit on open descriptors (its soft `RLIMIT_NOFILE`), which the
/// connection limits are cut from.
pub fn descriptor_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer and reads nothing.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if ok { limit.rlim_cur } else { 1024 }
}
