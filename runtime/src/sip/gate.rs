//! What every SIP message passes before the stack keeps anything for it, in order:
//! the rate of its source address ([`flood`](super::flood); for UDP the socket asks
//! before parsing), the size limit ([`limit`](super::limit)), the challenge at the door
//! ([`door`](super::door)), and the bound on transactions in flight. Trunks' addresses
//! are not rate-limited: a carrier sends a whole office's calls from one address.
//!
//! It also keeps the count of SIP-over-TCP connections for the accept loop
//! ([`tcp`](super::tcp)): a close reaches it here, as the stack's `Closed` event, and a
//! complete message marks its connection as one that spoke.
//!
//! Lines an attacker could multiply (a flood starting, the server full) are written
//! under a [`LogBudget`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Instant;

use rsipstack::sip::{HeadersExt, Method, SipMessage};
use rsipstack::transaction::endpoint::{EndpointInner, TransportEventInspector};
use rsipstack::transport::{SipAddr, TransportEvent};
use tracing::{debug, warn};

use super::connections::{ConnectionLimits, ConnectionTable, Refusal};
use super::door::{Door, DoorVerdict};
use super::flood::{self, SourceRates, Verdict};
use super::limit::{is_too_large, too_large};
use super::server::Trunk;
use crate::log_budget::{LogBudget, Spend};

/// Transactions the stack may hold (running, and finished ones kept to absorb
/// retransmissions) before new requests outside a dialog are dropped. A bridged call
/// makes about six (each leg's INVITE and BYE, a challenge's) and a finished one is kept
/// 32 s over UDP, so 300 calls a second hold about 60,000: the bound leaves room for
/// that. Past it the stack's memory and its per-transaction work stop growing with
/// whatever arrives; unauthenticated requests never count, since the door answers them
/// without a transaction.
pub const MAX_TRANSACTIONS: usize = 100_000;

/// The trunks' resolved addresses, replaced whole when the plan changes them; the lock
/// is held to clone or swap the `Arc`, never across an await.
pub type TrunkTable = RwLock<Arc<Vec<Trunk>>>;

/// The checks shared by the UDP socket and the stack's inspector.
pub struct Gate {
    trunks: Arc<TrunkTable>,
    rates: Mutex<SourceRates>,
    door: Door,
    /// Zero of the nonce clock, shared with the authenticator.
    started: Instant,
    /// Set once the endpoint is built; weak, since the endpoint owns the inspector.
    endpoint: OnceLock<Weak<EndpointInner>>,
    flood_log: Mutex<LogBudget>,
    full_log: Mutex<LogBudget>,
    /// SIP-over-TCP connections open now.
    connections: Mutex<ConnectionTable>,
    tcp_log: Mutex<LogBudget>,
}

impl Gate {
    pub fn new(
        trunks: Arc<TrunkTable>,
        per_second: u32,
        door: Door,
        started: Instant,
        connection_limits: ConnectionLimits,
    ) -> Arc<Gate> {
        Arc::new(Gate {
            trunks,
            rates: Mutex::new(SourceRates::new(per_second)),
            door,
            started,
            endpoint: OnceLock::new(),
            flood_log: Mutex::new(LogBudget::new(10)),
            full_log: Mutex::new(LogBudget::new(1)),
            connections: Mutex::new(ConnectionTable::new(connection_limits)),
            tcp_log: Mutex::new(LogBudget::new(10)),
        })
    }

    /// Gives the gate the stack's endpoint, to read how many transactions it holds.
    pub fn watch(&self, endpoint: &Arc<EndpointInner>) {
        let _ = self.endpoint.set(Arc::downgrade(endpoint));
    }

    /// Counts a message from `source` over TCP (`tcp`) or UDP; false when it is to be
    /// dropped unread.
    pub fn admit(&self, source: SocketAddr, tcp: bool) -> bool {
        if self.trunks().iter().any(|t| t.is_carrier(source, tcp)) {
            return true;
        }
        let ip = source.ip();
        let now = Instant::now();
        let (verdict, limit) = {
            let mut rates = self.rates.lock().expect("rates lock");
            (rates.admit(ip, now), rates.limit())
        };
        match verdict {
            Verdict::Pass => true,
            Verdict::Drop => false,
            Verdict::Block => {
                if let Spend::Write { suppressed } =
                    self.flood_log.lock().expect("log lock").spend(now)
                {
                    warn!(
                        source = %ip,
                        limit,
                        window_secs = flood::WINDOW.as_secs(),
                        block_secs = flood::BLOCK.as_secs(),
                        other_sources_not_logged = suppressed,
                        "SIP flood: this address sent more messages than allowed and is ignored for a while"
                    );
                }
                false
            }
        }
    }

    fn trunks(&self) -> Arc<Vec<Trunk>> {
        self.trunks
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Counts a TCP connection the accept loop took, or says why to close it.
    pub fn open_connection(&self, remote: SocketAddr) -> Result<(), Refusal> {
        if self.trunks().iter().any(|t| t.is_carrier(remote, true)) {
            return Ok(()); // a carrier's connections are not counted against anyone
        }
        self.connections
            .lock()
            .expect("connections lock")
            .open(remote)
    }

    pub fn connection_closed(&self, remote: SocketAddr) {
        self.connections
            .lock()
            .expect("connections lock")
            .closed(remote);
    }

    /// Whether the TCP connection from `remote` is open and has sent no message yet.
    pub fn connection_is_silent(&self, remote: SocketAddr) -> bool {
        self.connections
            .lock()
            .expect("connections lock")
            .is_silent(remote)
    }

    /// The bounds on SIP-over-TCP connections.
    pub fn connection_limits(&self) -> ConnectionLimits {
        self.connections.lock().expect("connections lock").limits()
    }

    /// SIP-over-TCP connections open now, counted against the limits.
    pub fn open_connections(&self) -> usize {
        self.connections.lock().expect("connections lock").len()
    }

    /// One line of the TCP accept loop's log, under its budget.
    pub fn spend_tcp_log(&self) -> Spend {
        self.tcp_log.lock().expect("log lock").spend(Instant::now())
    }

    fn is_full(&self) -> bool {
        let Some(endpoint) = self.endpoint.get().and_then(Weak::upgrade) else {
            return false;
        };
        let stats = endpoint.get_stats();
        stats.running_transactions + stats.finished_transactions >= MAX_TRANSACTIONS
    }
}

/// The gate as the stack's transport inspector.
pub struct GateInspector(pub Arc<Gate>);

#[async_trait::async_trait]
impl TransportEventInspector for GateInspector {
    async fn handle(&self, event: TransportEvent) -> Option<TransportEvent> {
        let gate = &self.0;
        let (message, connection, from) = match &event {
            TransportEvent::Incoming(message, connection, from) => (message, connection, from),
            TransportEvent::Closed(connection) => {
                if let Some(Ok(remote)) = connection.get_remote_addr().map(SipAddr::get_socketaddr)
                {
                    gate.connection_closed(remote);
                }
                return Some(event);
            }
            TransportEvent::New(_) => return Some(event),
        };
        let Ok(source) = from.get_socketaddr() else {
            return None;
        };
        let is_udp = connection.transport() == rsipstack::sip::Transport::Udp;
        if !is_udp {
            gate.connections
                .lock()
                .expect("connections lock")
                .spoke(source);
        }
        let SipMessage::Request(request) = message else {
            return Some(event);
        };
        // UDP was counted by the socket before it was parsed.
        if !is_udp && !gate.admit(source, true) {
            return None;
        }
        if is_too_large(request) {
            debug!(%source, "request too large");
            if request.method != Method::Ack
                && let Some(response) = too_large(request)
            {
                connection.send(response.into(), Some(from)).await.ok();
            }
            return None;
        }
        let now = gate.started.elapsed().as_secs();
        match gate.door.decide(
            request,
            gate.trunks().iter().any(|t| t.trusts(source, !is_udp)),
            now,
        ) {
            DoorVerdict::Pass => {}
            DoorVerdict::Answer(response) => {
                connection.send((*response).into(), Some(from)).await.ok();
                return None;
            }
            DoorVerdict::Drop => return None,
        }
        if starts_something(request) && gate.is_full() {
            if let Spend::Write { suppressed } = gate
                .full_log
                .lock()
                .expect("log lock")
                .spend(Instant::now())
            {
                warn!(
                    max = MAX_TRANSACTIONS,
                    dropped_since_last_line = suppressed,
                    "SIP is at its bound of transactions in flight: new requests are dropped until some end"
                );
            }
            return None;
        }
        Some(event)
    }
}

/// A request outside any dialog that would start a transaction of its own: the ones
/// dropped when the stack is full. Requests in a dialog (BYE, ACK, re-INVITE) and
/// CANCEL go on, so calls in progress can still end.
fn starts_something(request: &rsipstack::sip::Request) -> bool {
    let in_dialog = request
        .to_header()
        .ok()
        .and_then(|to| to.tag().ok().flatten())
        .is_some();
    !in_dialog && !matches!(request.method, Method::Ack | Method::Cancel)
}
