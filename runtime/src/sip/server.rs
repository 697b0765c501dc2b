//! The SIP server: rsipstack's endpoint on one UDP and one TCP port, and the
//! handling of each request it hands over (REGISTER, INVITE, OPTIONS, and
//! in-dialog requests, which go to their dialog).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::typed::{Contact, From as FromHeader, To as ToHeader};
use rsipstack::sip::{Header, HeadersExt, Method, Param, Scheme, StatusCode, StatusCodeKind, Uri};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transaction::key::{TransactionKey, TransactionRole};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transaction::{TransactionReceiver, make_tag};
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, TransportLayer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::account_lock::{AccountLocks, LockStarted};
use super::auth::{AuthVerdict, Authenticator, find_credentials};
use super::connections::ConnectionLimits;
use super::door::Door;
use super::door::header_values;
use super::gate::{Gate, GateInspector, TrunkTable};
use super::rate::RateLimit;
use super::reach::Reach;
use super::registrar::{Registrar, Registration, Transport};
use super::screen::ALLOW;
use super::subscriptions::Subscriptions;
use super::throttle::{Admission, Throttle};
use super::udp::ScreenedSocket;
use super::{CredentialStore, IncomingCall, PeerTrust, SipConfig, SipError, TrunkPeer, mwi};

/// Calls waiting for the engine to take them; past this new INVITEs get 503.
const CALL_QUEUE: usize = 64;
/// How often expired message-waiting subscriptions are ended: a subscription outlives
/// its expiry by at most this long.
const SUBSCRIPTION_SWEEP: Duration = Duration::from_secs(10);
const USER_AGENT: &str = concat!("Switchboard/", env!("CARGO_PKG_VERSION"));

/// The running SIP server. Dropping it does not stop it: cancel the token
/// given to [`SipServer::start`].
pub struct SipServer {
    pub(super) shared: Arc<Shared>,
}

/// What every request handler shares.
pub(super) struct Shared {
    pub(super) realm: String,
    /// The bound address.
    pub(super) local_addr: SocketAddr,
    /// Which of our addresses each phone is told about.
    pub(super) reach: Reach,
    pub(super) credentials: Arc<dyn CredentialStore>,
    /// The trunks' resolved addresses, shared with the [`Gate`].
    pub(super) trunks: Arc<TrunkTable>,
    /// The users trunks sign in as, each with its trunk's name; swapped whole with the
    /// plan, like `trunks`.
    pub(super) trunk_users: std::sync::RwLock<Arc<HashMap<String, String>>>,
    /// Locks below are held only for a table look-up, never across an await.
    pub(super) auth: Mutex<Authenticator>,
    pub(super) throttle: Mutex<Throttle>,
    /// The checks before the stack (rates, the door, connections).
    pub(super) gate: Arc<Gate>,
    /// Held across an authentication check (see [`Shared::authenticate`]).
    pub(super) accounts: Mutex<AccountLocks>,
    pub(super) registrar: Mutex<Registrar>,
    pub(super) subscriptions: Mutex<Subscriptions>,
    /// SUBSCRIBEs per source address.
    pub(super) rate: Mutex<RateLimit>,
    /// Each mailbox's last counts (new, saved) the server was told, for the NOTIFY
    /// that answers a new subscription at once.
    pub(super) counts: Mutex<HashMap<String, (u32, u32)>>,
    /// What each extension's line is doing, for busy lamps, presence and queues.
    pub(super) lines: Mutex<super::lines::Lines>,
    /// Which extension each hot-desk phone (by its MAC, upper case) is logged in as.
    pub(super) desks: Mutex<super::desk_phones::DeskPhones>,
    /// The presence each watched extension's watchers were last told, so a phone whose
    /// registration lapsed (no request says so) is noticed by the sweep.
    pub(super) presence_told: Mutex<HashMap<String, super::presence::Presence>>,
    pub(super) endpoint: EndpointInnerRef,
    pub(super) dialogs: Arc<DialogLayer>,
    /// New calls for the engine; the receiver is the engine's.
    pub(super) calls: mpsc::Sender<IncomingCall>,
    /// Zero for nonce timestamps.
    pub(super) started: Instant,
    /// The server's stop signal.
    pub(super) stop: CancellationToken,
    pub(super) salt: AtomicU64,
    /// Told the user of every successful registration, once someone asked
    /// ([`SipServer::watch_registrations`]).
    pub(super) registered: Mutex<Option<mpsc::UnboundedSender<String>>>,
    /// Told each user's contacts after every change (`SipConfig::registration_changes`),
    /// to keep them for the next start; emptied when the server stops reporting.
    pub(super) kept: Mutex<Option<mpsc::UnboundedSender<super::RegistrationChange>>>,
    /// The editor's office view, told of registrations coming, going and lapsing.
    pub(super) office: super::office_watch::OfficeWatch,
}

/// A trunk with its host resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Trunk {
    pub(super) name: String,
    pub(super) ip: IpAddr,
    pub(super) port: Option<u16>,
    pub(super) trust: PeerTrust,
}

impl Trunk {
    fn is_at(&self, source: SocketAddr) -> bool {
        self.ip == source.ip() && self.port.is_none_or(|p| p == source.port())
    }

    /// Whether an INVITE from `source` over TCP (`tcp`) or UDP is this trunk's by its
    /// address alone.
    pub(super) fn trusts(&self, source: SocketAddr, tcp: bool) -> bool {
        self.is_at(source)
            && match self.trust {
                PeerTrust::Address => true,
                PeerTrust::AddressOverTcp => tcp,
                PeerTrust::Digest { .. } => false,
            }
    }

    /// Whether messages from `source` are the carrier's, so not held to one address's
    /// rate: its address, on a transport that cannot be forged when the trunk asks for
    /// that.
    pub(super) fn is_carrier(&self, source: SocketAddr, tcp: bool) -> bool {
        self.is_at(source) && (tcp || self.trust != PeerTrust::AddressOverTcp)
    }
}

impl SipServer {
    /// Trusts `peers` from now on in place of the trunks it had: their hosts are resolved
    /// again (off the request path: INVITEs keep using the old list until the new one is
    /// ready). Called with each new plan version.
    pub async fn set_trunks(&self, peers: &[TrunkPeer]) {
        *self
            .shared
            .trunk_users
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(trunk_users(peers));
        let trunks = resolve_trunks(peers).await;
        let mut slot = self
            .shared
            .trunks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if **slot != trunks {
            info!(
                trunks = ?trunks.iter().map(|t| format!("{} {}", t.name, t.ip)).collect::<Vec<_>>(),
                "trunk addresses changed with the plan"
            );
            *slot = Arc::new(trunks);
        }
    }

    /// Binds UDP and TCP on `config.addr` and serves until `cancel` fires. New
    /// calls come out of the returned receiver.
    pub async fn start(
        config: SipConfig,
        credentials: Arc<dyn CredentialStore>,
        cancel: CancellationToken,
    ) -> Result<(SipServer, mpsc::Receiver<IncomingCall>), SipError> {
        let (udp, tcp) = bind(config.addr).await?;
        let registrar = super::registration_copy::registrar_with(config.kept_registrations);
        let local_addr = udp.local_addr().map_err(|source| SipError::Bind {
            addr: config.addr,
            source,
        })?;
        let trunks = resolve_trunks(&config.trunks).await;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| SipError::Stack(format!("no randomness: {e}")))?;
        let reach = Reach::new(config.public_ip, local_addr.ip());
        let trunks = Arc::new(std::sync::RwLock::new(Arc::new(trunks)));
        let started = Instant::now();
        let gate = Gate::new(
            trunks.clone(),
            config.messages_per_source,
            Door::new(config.realm.clone(), &config.digest_algorithms, secret),
            started,
            ConnectionLimits::for_descriptors(super::tcp::descriptor_limit()),
        );
        // The stack's own Via headers and Call-IDs, made before any phone is in view,
        // carry the default address; Contact and SDP carry each phone's.
        let public_addr = SocketAddr::new(reach.default_ip(), local_addr.port());

        let transport_layer = TransportLayer::new(cancel.child_token());
        let udp = UdpConnection::from_socket(
            Arc::new(ScreenedSocket::new(udp, gate.clone())),
            Some(public_addr),
            Some(cancel.child_token()),
        )
        .await?;
        transport_layer.add_transport(udp.into());
        // Call-IDs we make (NOTIFYs, BYEs of new dialogs) end in our own address, not the
        // stack's default domain.
        let option = rsipstack::transaction::endpoint::EndpointOption {
            callid_suffix: Some(public_addr.ip().to_string()),
            ..Default::default()
        };
        let endpoint = EndpointBuilder::new()
            .with_option(option)
            .with_user_agent(USER_AGENT)
            .with_transport_layer(transport_layer)
            .with_cancel_token(cancel.child_token())
            .with_transport_inspector(Box::new(GateInspector(gate.clone())))
            .build();
        gate.watch(&endpoint.inner);
        let incoming = endpoint.incoming_transactions()?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (calls, calls_rx) = mpsc::channel(CALL_QUEUE);
        let shared = Arc::new(Shared {
            realm: config.realm.clone(),
            local_addr,
            reach,
            credentials,
            trunks,
            trunk_users: std::sync::RwLock::new(Arc::new(trunk_users(&config.trunks))),
            auth: Mutex::new(
                Authenticator::new(config.realm, secret).with_algorithms(&config.digest_algorithms),
            ),
            throttle: Mutex::new(Throttle::new()),
            accounts: Mutex::new(AccountLocks::new()),
            gate: gate.clone(),
            registrar: Mutex::new(registrar),
            subscriptions: Mutex::new(Subscriptions::new()),
            rate: Mutex::new(RateLimit::default()),
            counts: Mutex::new(HashMap::new()),
            lines: Mutex::new(super::lines::Lines::default()),
            desks: Mutex::new(super::desk_phones::DeskPhones::default()),
            presence_told: Mutex::new(HashMap::new()),
            endpoint: endpoint.inner.clone(),
            dialogs,
            calls,
            started,
            salt: AtomicU64::new(0),
            stop: cancel.clone(),
            registered: Mutex::new(None),
            kept: Mutex::new(config.registration_changes),
            office: Default::default(),
        });
        let inner = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = inner.serve().await {
                warn!(error = %e, "SIP endpoint stopped");
            }
        });
        tokio::spawn(end_expired_subscriptions(shared.clone(), cancel.clone()));
        tokio::spawn(super::tcp::serve(
            tcp,
            endpoint.inner.clone(),
            gate.clone(),
            cancel.child_token(),
        ));
        tokio::spawn(dispatch(shared.clone(), incoming, cancel));
        info!(%local_addr, %public_addr, "SIP server listening on UDP and TCP");
        Ok((SipServer { shared }, calls_rx))
    }

    /// Our address as a phone at `peer` reaches it: what an SDP offer to it carries.
    pub fn local_ip_for(&self, peer: IpAddr) -> IpAddr {
        self.shared.reach.for_peer(peer)
    }

    /// Calls the phone registered as `registration` (one of the extension `callee`'s
    /// contacts) from `caller`, offering `sdp`: see [`OutgoingCall`].
    pub fn call_phone(
        &self,
        registration: &Registration,
        callee: &str,
        caller: &super::CallerId,
        sdp: String,
    ) -> Result<super::OutgoingCall, SipError> {
        self.shared.place_call(registration, callee, caller, sdp)
    }

    /// Transactions the stack holds now, running or finished and kept to absorb
    /// retransmissions: what a flood would make grow.
    pub fn transactions(&self) -> usize {
        let stats = self.shared.endpoint.get_stats();
        stats.running_transactions + stats.finished_transactions
    }

    /// The bounds on SIP-over-TCP connections, cut from the process's descriptor limit.
    pub fn tcp_limits(&self) -> super::ConnectionLimits {
        self.shared.gate.connection_limits()
    }

    /// SIP-over-TCP connections open now from phones (counted against the limits).
    pub fn tcp_connections(&self) -> usize {
        self.shared.gate.open_connections()
    }

    /// The bound address (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// The user of every successful REGISTER (a new contact or a refresh) and
    /// message-waiting SUBSCRIBE from now on, so the server can tell a phone what it
    /// missed, like its message lamp, through [`SipServer::notify_message_waiting`].
    pub fn watch_registrations(&self) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.shared.registered.lock().expect("registered lock") = Some(tx);
        rx
    }

    /// What `extension`'s line does now, as calls last set it: a queue skips an agent
    /// whose line is not idle (on a call, or ringing).
    pub fn line_state(&self, extension: &str) -> super::LineState {
        self.shared
            .lines
            .lock()
            .expect("lines lock")
            .state(extension)
    }

    /// Call `call` has ended: every line it still holds goes dark, and the lamps and
    /// presence watching the lines that changed are told.
    pub async fn release_lines(&self, call: u64) {
        let changed = self.shared.lines.lock().expect("lines lock").release(call);
        for extension in changed {
            self.shared
                .notify_subscribers(super::subscriptions::Package::Dialog, &extension)
                .await;
            self.shared
                .notify_subscribers(super::subscriptions::Package::Presence, &extension)
                .await;
        }
    }

    /// Call `call` now holds `extension`'s line in `state` (`Idle` lets it go); the
    /// busy lamps and presence watching it hear when what the line shows changed.
    pub async fn set_line_state(&self, call: u64, extension: &str, state: super::LineState) {
        let changed = self
            .shared
            .lines
            .lock()
            .expect("lines lock")
            .set(call, extension, state);
        if changed {
            self.shared
                .notify_subscribers(super::subscriptions::Package::Dialog, extension)
                .await;
            self.shared
                .notify_subscribers(super::subscriptions::Package::Presence, extension)
                .await;
        }
    }

    /// Ends, each with a last NOTIFY, the message-waiting subscriptions expired at `now`.
    /// The server does this on its own every few seconds; a test passes a later `now`
    /// instead of waiting a subscription's minute out.
    pub async fn end_expired_subscriptions(&self, now: Instant) {
        self.shared.end_expired(now).await;
    }

    /// The live contacts of an extension.
    pub fn registrations(&self, extension: &str) -> Vec<Registration> {
        let now = Instant::now();
        let mut registrar = self.shared.registrar.lock().expect("registrar lock");
        registrar.purge(now);
        registrar.live(extension, now)
    }

    /// Sends a message-waiting NOTIFY (RFC 3842) with these counts in every
    /// subscription to the extension's mailbox, and an unsolicited one to each of its
    /// contacts that has not subscribed (phones that never do), at the address each
    /// registered from. Returns once they are sent; their answers are not awaited.
    pub async fn notify_message_waiting(&self, extension: &str, new: u32, saved: u32) {
        self.shared
            .counts
            .lock()
            .expect("counts lock")
            .insert(extension.to_string(), (new, saved));
        self.shared
            .notify_subscribers(super::subscriptions::Package::MessageSummary, extension)
            .await;
        // A hot-desk phone logged in as the extension shows its lamp too.
        let desks = self.shared.desks_of(extension);
        for desk in &desks {
            self.shared
                .notify_subscribers(super::subscriptions::Package::MessageSummary, desk)
                .await;
        }
        let now = Instant::now();
        let phones = std::iter::once(extension)
            .chain(desks.iter().map(String::as_str))
            .flat_map(|user| self.registrations(user).into_iter().map(move |r| (user, r)))
            .collect::<Vec<_>>();
        for (user, registration) in phones {
            let subscribed = self
                .shared
                .subscriptions
                .lock()
                .expect("subscriptions lock")
                .covers(user, registration.source, now);
            if subscribed {
                continue;
            }
            if let Err(e) = self.shared.notify(user, &registration, new, saved).await {
                warn!(extension, contact = %registration.contact, error = %e, "message-waiting NOTIFY not sent");
            }
        }
    }
}

/// Binds UDP and TCP on `addr`, to the same port.
async fn bind(addr: SocketAddr) -> Result<(tokio::net::UdpSocket, TcpListener), SipError> {
    let tries = if addr.port() == 0 { 20 } else { 1 };
    let mut last = None;
    for _ in 0..tries {
        let udp = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(|source| SipError::Bind { addr, source })?;
        let local = udp
            .local_addr()
            .map_err(|source| SipError::Bind { addr, source })?;
        match TcpListener::bind(local).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(source) => {
                last = Some(SipError::Bind {
                    addr: local,
                    source,
                })
            }
        }
    }
    Err(last.expect("at least one try"))
}

/// The trunks' addresses. A carrier's host that does not resolve right now must not keep
/// the office's phones down: that trunk is left out (its calls are not trusted) with a
/// warning, and everything else starts.
async fn resolve_trunks(peers: &[TrunkPeer]) -> Vec<Trunk> {
    let mut trunks = Vec::new();
    for peer in peers {
        let ips: Vec<IpAddr> = match split_host_port(&peer.host) {
            None => Vec::new(),
            Some((host, port)) => match host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => tokio::net::lookup_host((host, port.unwrap_or(5060)))
                    .await
                    .map(|addrs| addrs.map(|a| a.ip()).collect())
                    .unwrap_or_default(),
            },
        };
        if ips.is_empty() {
            warn!(
                trunk = %peer.name,
                host = %peer.host,
                "cannot resolve the trunk's host; its calls are refused until it resolves at the next plan reload or restart"
            );
        }
        let port = split_host_port(&peer.host).and_then(|(_, p)| p);
        trunks.extend(ips.into_iter().map(|ip| Trunk {
            name: peer.name.clone(),
            ip,
            port,
            trust: peer.trust.clone(),
        }));
    }
    trunks
}

/// The users trunks sign in as, each with its trunk's name.
fn trunk_users(peers: &[TrunkPeer]) -> HashMap<String, String> {
    peers
        .iter()
        .filter_map(|peer| match &peer.trust {
            PeerTrust::Digest { user } => Some((user.clone(), peer.name.clone())),
            _ => None,
        })
        .collect()
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
pub(super) fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host, Some(port.parse().ok()?))),
        _ if s.is_empty() => None,
        _ => Some((s, None)),
    }
}

/// Every [`SUBSCRIPTION_SWEEP`], ends the subscriptions nobody refreshed, until the
/// server stops.
async fn end_expired_subscriptions(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(SUBSCRIPTION_SWEEP);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {
                shared.end_expired(Instant::now()).await;
                shared.tell_lapsed_presence().await;
                shared.tell_lapsed_registrations(Instant::now());
            }
        }
    }
}

/// Hands every new server transaction to its own task.
async fn dispatch(
    shared: Arc<Shared>,
    mut incoming: TransactionReceiver,
    cancel: CancellationToken,
) {
    loop {
        let tx = tokio::select! {
            _ = cancel.cancelled() => break,
            tx = incoming.recv() => match tx {
                Some(tx) => tx,
                None => break,
            },
        };
        tokio::spawn(handle(shared.clone(), tx));
    }
    debug!("SIP dispatch stopped");
}

async fn handle(shared: Arc<Shared>, mut tx: Transaction) {
    let in_dialog = tx
        .original
        .to_header()
        .ok()
        .and_then(|to| to.tag().ok().flatten())
        .is_some();
    let method = tx.original.method;
    let result = match method {
        Method::Register => shared.register(&mut tx).await,
        // In a subscription's dialog or not: subscriptions are not rsipstack dialogs.
        Method::Subscribe => shared.subscribe(&mut tx).await,
        Method::Invite if !in_dialog => shared.invite(tx).await,
        Method::Options if !in_dialog => reply(&mut tx, StatusCode::OK, options_headers()).await,
        Method::Ack => Ok(()),
        _ if in_dialog => match shared.dialogs.match_dialog(&tx) {
            Some(mut dialog) => dialog.handle(&mut tx).await.map_err(SipError::from),
            None => reply(&mut tx, StatusCode::CallTransactionDoesNotExist, vec![]).await,
        },
        _ => reply(&mut tx, StatusCode::MethodNotAllowed, vec![allow()]).await,
    };
    if let Err(e) = result {
        debug!(%method, error = %e, "SIP request failed");
    }
}

impl Shared {
    /// The trunk that signs in as `user`, if one does.
    pub(super) fn trunk_of_user(&self, user: &str) -> Option<String> {
        self.trunk_users
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(user)
            .cloned()
    }

    pub(super) fn now_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Challenge header values: one per algorithm, with a fresh nonce.
    pub(super) fn challenges(&self, stale: bool) -> Vec<String> {
        let salt = self.salt.fetch_add(1, Ordering::Relaxed);
        let auth = self.auth.lock().expect("auth lock");
        auth.challenges(self.now_secs(), salt, stale)
    }

    /// Checks the credentials in the headers named `names` (the first name
    /// that is present wins), and counts the outcome.
    ///
    /// A well-formed wrong answer counts against its address ([`Throttle`]) and, for an
    /// account that exists, against the account ([`AccountLocks`]); an address or an
    /// account that is refused now is refused unchecked (an account only for addresses
    /// it has not signed in from lately). The locks are held from the look-up to the
    /// count (throttle, then accounts, then the authenticator), so every attempt is
    /// counted before the next one is checked, however many arrive at once.
    pub(super) fn authenticate(&self, tx: &Transaction, names: &[&str]) -> AuthVerdict {
        let found = find_credentials(&self.realm, &header_values(&tx.original, names));
        let stored = match &found {
            Ok(Some(c)) => self.credentials.ha1(&c.username, &self.realm, c.algorithm),
            _ => None,
        };
        let account = match (&found, &stored) {
            (Ok(Some(c)), Some(_)) => Some(c.username.clone()),
            _ => None, // an unknown user has no account to protect
        };
        let method = tx.original.method.to_string();
        let now = self.now_secs();
        let at = Instant::now();
        let Some((source, _)) = source(tx) else {
            return AuthVerdict::Refused;
        };
        let mut throttle = self.throttle.lock().expect("throttle lock");
        if throttle.admit(source.ip(), at) == Admission::Refuse {
            debug!(user = ?account, %source, "sign-in refused unchecked: too many failures from this address");
            return AuthVerdict::Refused;
        }
        let mut accounts = self.accounts.lock().expect("accounts lock");
        if let Some(user) = &account
            && accounts.is_locked(user, source.ip(), at)
        {
            debug!(%user, %source, "sign-in refused unchecked: the account is locked for this address");
            // Still a failed attempt of this address: one that keeps at a locked account
            // is refused itself soon after.
            count_source_failure(&mut throttle, source.ip(), at);
            return AuthVerdict::Refused;
        }
        let verdict =
            self.auth
                .lock()
                .expect("auth lock")
                .check(&method, found, stored.as_deref(), now);
        match (&verdict, &account) {
            (AuthVerdict::Authenticated { .. }, Some(user)) => {
                accounts.succeeded(user, source.ip(), at)
            }
            (AuthVerdict::Rejected, _) => {
                if let Some(user) = &account
                    && let Some(LockStarted(lock)) = accounts.failed(user, source.ip(), at)
                {
                    warn!(
                        %user,
                        minutes = lock.as_secs().div_ceil(60),
                        "too many wrong passwords for this account: it is locked for addresses it has not signed in from lately"
                    );
                }
                count_source_failure(&mut throttle, source.ip(), at);
            }
            _ => {}
        }
        verdict
    }

    /// The user name in the credentials of a request, for the log: never the response
    /// or anything else derived from the password.
    pub(super) fn claimed_user(&self, tx: &Transaction, names: &[&str]) -> Option<String> {
        find_credentials(&self.realm, &header_values(&tx.original, names))
            .ok()
            .flatten()
            .map(|c| c.username)
    }

    /// Whether to go on with a request needing authentication from `ip`,
    /// after the delay the throttle asks for.
    pub(super) async fn admit(&self, ip: IpAddr) -> bool {
        let admission = self
            .throttle
            .lock()
            .expect("throttle lock")
            .admit(ip, Instant::now());
        match admission {
            Admission::Allow => true,
            // Asked again after the wait: the guesses that failed meanwhile may have
            // turned this address away, and then this one is not evaluated either.
            Admission::Delay(delay) => {
                tokio::time::sleep(delay).await;
                let again = self
                    .throttle
                    .lock()
                    .expect("throttle lock")
                    .admit(ip, Instant::now());
                again != Admission::Refuse
            }
            Admission::Refuse => false,
        }
    }

    /// Our address (with the SIP port) as the phone at `peer` reaches it.
    pub(super) fn addr_for(&self, peer: IpAddr) -> SocketAddr {
        SocketAddr::new(self.reach.for_peer(peer), self.local_addr.port())
    }

    /// Our Contact for dialogs with the phone at `peer` on `transport`.
    pub(super) fn contact(&self, transport: Transport, peer: IpAddr) -> Uri {
        let params = match transport {
            Transport::Udp => vec![],
            Transport::Tcp => vec![Param::Transport(rsipstack::sip::Transport::Tcp)],
        };
        Uri {
            scheme: Some(Scheme::Sip),
            host_with_port: self.addr_for(peer).into(),
            params,
            ..Default::default()
        }
    }

    async fn notify(
        &self,
        extension: &str,
        registration: &Registration,
        new: u32,
        saved: u32,
    ) -> Result<(), SipError> {
        let transport = match registration.transport {
            Transport::Udp => rsipstack::sip::Transport::Udp,
            Transport::Tcp => rsipstack::sip::Transport::Tcp,
        };
        let target = Uri::try_from(registration.contact.as_str())?;
        let peer = registration.source.ip();
        let ours = SipAddr::new(transport, self.addr_for(peer).into());
        let via = self.endpoint.get_via(Some(ours), None)?;
        let mut aor = self.contact(Transport::Udp, peer);
        aor.auth = Some(rsipstack::sip::Auth {
            user: extension.to_string(),
            password: None,
        });
        let from = FromHeader {
            display_name: None,
            uri: aor.clone(),
            params: vec![Param::Tag(make_tag())],
        };
        let to = ToHeader {
            display_name: None,
            uri: aor,
            params: vec![],
        };
        let request = self
            .endpoint
            .make_request(Method::Notify, target, via, from, to, 1, None);
        let body = mwi::summary(new, saved).into_bytes();
        let contact = self.contact(registration.transport, peer);
        let destination = SipAddr::new(transport, registration.source.into());
        let mut tx = self
            .send_notify_request(
                request,
                mwi::EVENT.into(),
                mwi::CONTENT_TYPE,
                "active",
                contact,
                body,
                destination,
            )
            .await?;
        tokio::spawn(async move {
            while let Some(message) = tx.receive().await {
                if let rsipstack::sip::SipMessage::Response(response) = message
                    && response.status_code.kind() != StatusCodeKind::Provisional
                {
                    debug!(status = %response.status_code, "message-waiting NOTIFY answered");
                    break;
                }
            }
        });
        Ok(())
    }

    /// Sends a NOTIFY: `request` carries its dialog (Via, From, To, Call-ID, CSeq); this
    /// adds the event, the subscription state, our Contact and the `body` of
    /// `content_type` (none for a final NOTIFY that only ends a subscription). The
    /// caller reads the answer from the returned transaction.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send_notify_request(
        &self,
        mut request: rsipstack::sip::Request,
        event: String,
        content_type: &str,
        state: &str,
        contact: Uri,
        body: Vec<u8>,
        destination: SipAddr,
    ) -> Result<Transaction, SipError> {
        request.headers.push(Header::Event(event.into()));
        request
            .headers
            .push(Header::SubscriptionState(state.into()));
        request.headers.push(Contact::from(contact).into());
        if !body.is_empty() {
            request
                .headers
                .push(Header::ContentType(content_type.into()));
        }
        request
            .headers
            .push(Header::ContentLength(body.len().to_string().into()));
        request.body = body;
        let key = TransactionKey::from_request(&request, TransactionRole::Client)?;
        let mut tx = Transaction::new_client(key, request, self.endpoint.clone(), None);
        tx.destination = Some(destination);
        tx.send().await?;
        Ok(tx)
    }
}

/// Counts a failed sign-in of `ip`. The start of a refusal is logged once; the requests
/// refused during it are not, so a guesser cannot grow the log by a line per guess.
fn count_source_failure(throttle: &mut Throttle, ip: IpAddr, at: Instant) {
    if let Some(period) = throttle.record_failure(ip, at) {
        warn!(
            source = %ip,
            minutes = period.as_secs() / 60,
            "too many failed sign-ins: this address is refused for a while"
        );
    }
}

/// Where a request came from, and on which transport.
pub(super) fn source(tx: &Transaction) -> Option<(SocketAddr, Transport)> {
    let connection = tx.connection.as_ref()?;
    let addr = connection.get_remote_addr()?.get_socketaddr().ok()?;
    let transport = match connection.transport() {
        rsipstack::sip::Transport::Udp => Transport::Udp,
        _ => Transport::Tcp,
    };
    Some((addr, transport))
}

pub(super) fn user_of(uri: &Uri) -> Option<String> {
    uri.auth.as_ref().map(|a| a.user.clone())
}

fn allow() -> Header {
    Header::Allow(ALLOW.into())
}

fn options_headers() -> Vec<Header> {
    vec![
        allow(),
        Header::Accept("application/sdp".into()),
        Header::Other("Allow-Events".into(), super::subscribe::ALLOW_EVENTS.into()),
    ]
}

pub(super) async fn reply(
    tx: &mut Transaction,
    status: StatusCode,
    headers: Vec<Header>,
) -> Result<(), SipError> {
    tx.reply_with(status, headers, None).await?;
    Ok(())
}

/// Answers an INVITE with a failure and keeps its transaction until the ACK,
/// so the answer is retransmitted until then.
pub(super) async fn refuse(
    mut tx: Transaction,
    status: StatusCode,
    headers: Vec<Header>,
) -> Result<(), SipError> {
    tx.reply_with(status, headers, None).await?;
    while let Some(message) = tx.receive().await {
        if matches!(&message, rsipstack::sip::SipMessage::Request(r) if r.method == Method::Ack) {
            break;
        }
    }
    Ok(())
}
