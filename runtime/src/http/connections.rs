//! Where HTTP connections are accepted, and the limits that keep idle or slow ones from
//! starving the server of descriptors.
//!
//! `axum::serve` accepts without bound and sets no header deadline, so 20,000 idle
//! connections used to exhaust the process's descriptors. Here each accepted connection
//! must take a slot in a `ConnectionTable` (a cap in total and per source address) or is
//! closed at once, and hyper's HTTP/1 server closes a connection that has not sent a
//! whole request head within `header_read_timeout` — the first request and every later
//! one on a kept-alive connection alike, so an idle connection also ends.

// The source a connection counts against: an IPv4 address, or an IPv6 /64, since one
// IPv6 host can pick any address in its /64.
use crate::ip_source::source_of;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How many connections the API holds, and how long a request head may take.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections open at once, from everyone.
    pub max_connections: usize,
    /// Connections open at once from one IPv4 address or one IPv6 /64 (what one host or
    /// one customer line usually holds).
    pub max_per_source: usize,
    /// A connection that has not sent a whole request head for this long is closed
    /// (slowloris, and idle keep-alive connections).
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    /// An admin's browser opens about six connections; a few admins and a monitoring
    /// system stay far under these.
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            max_per_source: 32,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` within `limits` until `cancel` completes, then lets
/// requests in flight finish (idle connections close at once).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    cancel: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls_with(listener, app, limits, None, cancel).await
}

/// `serve_with`, over TLS when `tls` is given: each connection's handshake must finish
/// within `header_read_timeout`, like a request head. Every request carries its
/// connection's peer address (`ConnectInfo<SocketAddr>`), for the sign-in throttle.
pub async fn serve_tls_with(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    cancel: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let table = Arc::new(ConnectionTable::new(
        limits.max_connections,
        limits.max_per_source,
    ));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // Request heads are small; this bounds what one connection can make us buffer.
        .max_buf_size(64 * 1024);
    // Tells each connection's task to finish; the tracker waits for them to have done so.
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    let mut refusals = RefusalLog::default();
    tokio::pin!(cancel);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut cancel => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, most likely: wait a moment rather than spin,
                    // as axum::serve does.
                    refusals.accept_failed(&e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let slot = match table.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(why) => {
                refusals.refused(peer.ip(), why, &limits);
                continue; // `stream` is dropped: closed before any byte is read.
            }
        };
        let _ = stream.set_nodelay(true);
        let service = with_peer(app.clone(), peer);
        let stop = stop.clone();
        let builder = builder.clone();
        let tls = tls.clone();
        let handshake_deadline = limits.header_read_timeout;
        tasks.spawn(async move {
            let _slot = slot;
            let Some(tls) = tls else {
                serve_connection(&builder, stream, service, stop).await;
                return;
            };
            let handshake = tokio::time::timeout(handshake_deadline, tls.accept(stream));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    // A client that does not trust the certificate ends here, as does a
                    // port scanner; neither is the server's fault.
                    Ok(Err(e)) => {
                        tracing::debug!("TLS handshake with {peer} failed: {e}");
                        return;
                    }
                    Err(_) => return,
                },
                () = stop.cancelled() => return,
            };
            serve_connection(&builder, stream, service, stop).await;
        });
    }
    drop(listener);
    stop.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(())
}

/// Serves HTTP/1.1 on one accepted connection (plain or TLS) until it ends or `stop`,
/// when it finishes the request in flight.
async fn serve_connection<I, S>(
    builder: &http1::Builder,
    io: I,
    service: S,
    stop: CancellationToken,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        >,
    S::Future: Send + 'static,
{
    // With upgrades: the live chat's WebSockets (`http/livechat`) take the connection over.
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// `app` as hyper calls it, with the connection's peer address in every request.
fn with_peer(
    app: Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone {
    let app = TowerToHyperService::new(app);
    hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        hyper::service::Service::call(&app, request)
    })
}

/// Why a connection was closed unserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    Total,
    Source,
}

/// The connections open now, in total and per source. Pure bookkeeping: `admit` hands
/// out a `Slot`, and dropping the slot gives it back.
pub struct ConnectionTable {
    max_total: usize,
    max_per_source: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_source: HashMap<IpAddr, usize>,
}

impl ConnectionTable {
    pub fn new(max_total: usize, max_per_source: usize) -> ConnectionTable {
        ConnectionTable {
            max_total,
            max_per_source,
            open: Mutex::new(Open::default()),
        }
    }

    /// A slot for a connection from `ip`, or why there is none.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let source = source_of(ip);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(Refused::Total);
        }
        let n = open.per_source.entry(source).or_insert(0);
        if *n >= self.max_per_source {
            return Err(Refused::Source);
        }
        *n += 1;
        open.total += 1;
        Ok(Slot {
            table: self.clone(),
            source,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

/// One admitted connection; gives its place back when dropped.
pub struct Slot {
    table: Arc<ConnectionTable>,
    source: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(n) = open.per_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.per_source.remove(&self.source);
            }
        }
    }
}

/// Logs refused connections at most once a minute, with how many there were: an attacker
/// opening connections must not also be able to fill the disk with log lines.
#[derive(Default)]
struct RefusalLog {
    last: Option<Instant>,
    refused: u64,
    failed: u64,
}

const LOG_EVERY: Duration = Duration::from_secs(60);

impl RefusalLog {
    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return false;
        }
        self.last = Some(now);
        true
    }

    fn refused(&mut self, ip: IpAddr, why: Refused, limits: &Limits) {
        self.refused += 1;
        if self.due() {
            let limit = match why {
                Refused::Total => format!("{} connections in total", limits.max_connections),
                Refused::Source => format!("{} connections per address", limits.max_per_source),
            };
            tracing::warn!(
                "HTTP closed {} connection(s) unserved since the last such line: the limit \
                 of {limit} was reached (latest from {ip})",
                self.refused
            );
            self.refused = 0;
        }
    }

    fn accept_failed(&mut self, e: &std::io::Error) {
        self.failed += 1;
        if self.due() {
            tracing::warn!(
                "HTTP could not accept {} connection(s) since the last such line: {e}",
                self.failed
            );
            self.failed = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_source_gets_its_share_and_no_more_and_slots_come_back() {
        let table = Arc::new(ConnectionTable::new(10, 2));
        let a = table.admit(ip("10.0.0.1")).unwrap();
        let _b = table.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(table.admit(ip("10.0.0.1")).err(), Some(Refused::Source));
        assert!(table.admit(ip("10.0.0.2")).is_ok());
        drop(a);
        assert!(table.admit(ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn the_total_is_a_cap_across_sources() {
        let table = Arc::new(ConnectionTable::new(3, 2));
        let slots: Vec<Slot> = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
            .iter()
            .map(|s| table.admit(ip(s)).unwrap())
            .collect();
        assert_eq!(table.admit(ip("10.0.0.4")).err(), Some(Refused::Total));
        drop(slots);
        assert_eq!(table.open(), 0);
    }

    #[test]
    fn an_ipv6_host_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let table = Arc::new(ConnectionTable::new(10, 1));
        let _a = table.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            table.admit(ip("2001:db8:1:2::ffff")).err(),
            Some(Refused::Source)
        );
        assert!(table.admit(ip("2001:db8:1:3::1")).is_ok());
        let _v4 = table.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(
            table.admit(ip("::ffff:10.0.0.1")).err(),
            Some(Refused::Source)
        );
    }
}
