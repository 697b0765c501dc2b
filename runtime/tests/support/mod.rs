//! What the SIP tests share: a `SipServer` on 127.0.0.1:0 whose credential store knows
//! 101 and 102 (password `secret`), and waiting with a deadline.

#![allow(dead_code)] // each test binary uses its own part of this

pub mod raw;
pub mod sipp;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::sip::digest::{self, DigestAlgorithm};
use switchboard_runtime::sip::{CredentialStore, IncomingCall, SipConfig, SipServer, TrunkPeer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const REALM: &str = "switchboard";

/// How long any one thing may take before a test gives up.
pub const WAIT: Duration = Duration::from_secs(10);

/// The digests of the extensions' passwords, as a store keeps them: the passwords
/// themselves are gone once this is built.
pub struct Digests(HashMap<(String, DigestAlgorithm), String>);

impl Digests {
    pub fn new() -> Digests {
        let mut map = HashMap::new();
        // `carrier-in` is the user a trunk signs in as, in the trunk tests; the MAC is a
        // hot-desk phone's.
        for user in ["101", "102", "carrier-in", "001565AABBCC"] {
            for algorithm in DigestAlgorithm::ALL {
                let ha1 = digest::ha1(algorithm, user, REALM, "secret");
                map.insert((user.to_string(), algorithm), ha1);
            }
        }
        Digests(map)
    }
}

impl CredentialStore for Digests {
    fn ha1(&self, user: &str, realm: &str, algorithm: DigestAlgorithm) -> Option<String> {
        (realm == REALM)
            .then(|| self.0.get(&(user.to_string(), algorithm)).cloned())
            .flatten()
    }
}

/// A server on 127.0.0.1:0, stopped when dropped.
pub struct Server {
    pub sip: SipServer,
    pub calls: mpsc::Receiver<IncomingCall>,
    cancel: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Server {
    pub async fn start(trunks: Vec<TrunkPeer>) -> Server {
        Server::start_on("127.0.0.1:0".parse().unwrap(), None, trunks).await
    }

    /// A server bound to `addr` (port 0 for a free one) advertising `public_ip`.
    pub async fn start_on(
        addr: SocketAddr,
        public_ip: Option<IpAddr>,
        trunks: Vec<TrunkPeer>,
    ) -> Server {
        Server::start_with(
            addr,
            public_ip,
            trunks,
            switchboard_runtime::sip::DEFAULT_MESSAGES_PER_SECOND,
        )
        .await
    }

    /// A server on 127.0.0.1:0 that lets each address send `messages_per_source` a
    /// second: for tests that send more than a phone would from one address.
    pub async fn start_allowing(messages_per_source: u32) -> Server {
        Server::start_with(
            "127.0.0.1:0".parse().unwrap(),
            None,
            vec![],
            messages_per_source,
        )
        .await
    }

    async fn start_with(
        addr: SocketAddr,
        public_ip: Option<IpAddr>,
        trunks: Vec<TrunkPeer>,
        messages_per_source: u32,
    ) -> Server {
        let cancel = CancellationToken::new();
        let config = SipConfig {
            digest_algorithms: DigestAlgorithm::ALL.to_vec(),
            addr,
            public_ip,
            realm: REALM.to_string(),
            trunks,
            messages_per_source,
            kept_registrations: Vec::new(),
            registration_changes: None,
        };
        let (sip, calls) = SipServer::start(config, Arc::new(Digests::new()), cancel.clone())
            .await
            .expect("the SIP server starts");
        Server { sip, calls, cancel }
    }

    /// Where phones on this machine send to: the bound address, or loopback for a
    /// server bound to every interface.
    pub fn addr(&self) -> SocketAddr {
        let bound = self.sip.local_addr();
        if bound.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], bound.port()))
        } else {
            bound
        }
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub async fn next_call(&mut self) -> IncomingCall {
        within("an incoming call", self.calls.recv())
            .await
            .expect("the server is running")
    }
}

pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}
