//! SIP signalling: the registrar, calls into the engine, and message-waiting
//! lamps.
//!
//! The `rsipstack` crate carries transport (UDP and TCP), transactions and
//! dialogs; only `server` (with `register`, `invite` and `subscribe`, its request
//! handlers), `leg`, `outgoing`, `reinvite` (re-INVITEs both ways: hold, 491),
//! `trunk_registration` and `trunk_call` (our side of a trunk: registering at the
//! provider, calls out), `udp` and `limit` touch it. `reach` asks the kernel which of
//! our addresses a phone reaches. The rest is sans-IO and
//! tested on its own: `digest` (hashes and header parameters), `nonce`
//! (time-limited HMAC nonces), `auth` (challenges and verification), `registrar`
//! (the location table), `throttle` (slowing and refusing failing addresses),
//! `rate` (a token bucket per address), `subscriptions` (message-waiting
//! subscriptions and their expiry), `screen` (what a datagram must look like before
//! the stack sees it), `mwi` (the message-summary body) and `trunk_schedule` (when a
//! trunk registers next).
//!
//! **Architecture invariant:** a request that failed authentication never
//! becomes an [`IncomingCall`]: only an INVITE from a configured trunk's address,
//! or one whose digest proves the From user's password, reaches the engine.

mod account_lock;
mod auth;
mod connections;
mod counts;
mod desk_phones;
mod dialog_info;
pub mod digest;
mod door;
mod flood;
mod fork;
mod gate;
mod invite;
mod leg;
mod limit;
mod lines;
mod mwi;
mod nonce;
mod office_watch;
mod outgoing;
mod presence;
mod presence_watch;
mod rate;
mod reach;
mod register;
mod registrar;
mod registration_copy;
mod reinvite;
mod screen;
mod server;
mod sign_in;
mod stateless;
mod subscribe;
mod subscriptions;
mod tcp;
mod throttle;
mod trunk_account;
mod trunk_call;
mod trunk_registration;
mod trunk_schedule;
mod trunk_status;
mod udp;

use std::fmt;
use std::net::{IpAddr, SocketAddr};

pub use connections::{ConnectionLimits, FIRST_MESSAGE_DEADLINE as TCP_FIRST_MESSAGE_DEADLINE};
pub use counts::SipCounts;
pub use dialog_info::LineState;
pub use digest::DigestAlgorithm;
pub use flood::{
    BLOCK as FLOOD_BLOCK, DEFAULT_PER_SECOND as DEFAULT_MESSAGES_PER_SECOND, WINDOW as FLOOD_WINDOW,
};
pub use fork::{BranchEvent, Fork, ForkAction, ForkOutcome};
pub use gate::MAX_TRANSACTIONS;
pub use leg::{CallLeg, LegEvent};
pub use outgoing::{OutgoingCall, OutgoingEvent, OutgoingHandle};
pub use rate::{BURST as SUBSCRIBE_BURST, PER_SECOND as SUBSCRIBES_PER_SECOND};
pub use registrar::{
    DEFAULT_EXPIRES, MAX_CONTACTS_PER_EXTENSION, MAX_EXPIRES, MIN_EXPIRES, Registration, Transport,
};
pub use registration_copy::RegistrationChange;
pub use server::SipServer;
pub use subscriptions::{
    DEFAULT_SUBSCRIBE_EXPIRES, MAX_SUBSCRIBE_EXPIRES, MAX_SUBSCRIPTIONS_PER_MAILBOX,
    MIN_SUBSCRIBE_EXPIRES,
};
pub use throttle::{
    DELAY_AFTER_FAILURES, FAILURE_DELAY, FAILURE_WINDOW, REFUSAL_PERIOD, REFUSE_AFTER_FAILURES,
};
pub use trunk_account::{DEFAULT_TRUNK_EXPIRES, Secret, TrunkAccount, TrunkAccounts};
pub use trunk_call::TrunkDestination;
pub use trunk_registration::{REGISTER_TIMEOUT, TrunkRegistrations};
pub use trunk_schedule::{FIRST_RETRY as TRUNK_FIRST_RETRY, MAX_RETRY as TRUNK_MAX_RETRY};
pub use trunk_status::{RegistrationState, TrunkStatus};

/// Where the server finds the digests of the extensions' passwords.
///
/// It stores `H(user:realm:password)` per algorithm (see [`digest::ha1`]), never
/// the password itself. Looked up once per authentication attempt, outside any
/// lock of the server.
pub trait CredentialStore: Send + Sync {
    /// The HA1 digest of `user` in `realm` for `algorithm`, lowercase hex; none
    /// for an unknown user.
    fn ha1(&self, user: &str, realm: &str, algorithm: DigestAlgorithm) -> Option<String>;
}

/// How the SIP server listens and whom it trusts.
#[derive(Clone, Debug)]
pub struct SipConfig {
    /// Bound for both UDP and TCP; port 0 picks a free port (the same for both).
    pub addr: SocketAddr,
    /// The address phones and trunks reach the server at, for Via, Contact and SDP:
    /// set for a server behind NAT. `None` advertises to each phone the local address
    /// its requests arrive on (see `reach`).
    pub public_ip: Option<IpAddr>,
    /// The digest realm.
    pub realm: String,
    /// The algorithms to challenge with, in this order; credentials made with any other
    /// are refused.
    pub digest_algorithms: Vec<DigestAlgorithm>,
    pub trunks: Vec<TrunkPeer>,
    /// Messages a second one address may send before it is ignored for a while
    /// ([`FLOOD_BLOCK`]); trunks' addresses are not limited.
    pub messages_per_source: u32,
    /// Contacts kept from the last run (`kept_registrations` in the runtime), put in the
    /// registrar before the first message is read, so no REGISTER can be undone by them.
    pub kept_registrations: Vec<(String, Registration)>,
    /// Told each user's contacts after every change, in the order applied, to keep them
    /// for the next start; `None` keeps nothing.
    pub registration_changes: Option<tokio::sync::mpsc::UnboundedSender<RegistrationChange>>,
}

/// A SIP trunk whose INVITEs are trusted without authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrunkPeer {
    pub name: String,
    /// An IP address or host name, with an optional `:port`: where the carrier is. A
    /// host name is resolved when the server starts and at each plan change.
    pub host: String,
    /// How an INVITE is known to be this trunk's.
    pub trust: PeerTrust,
}

/// How a trunk's INVITEs are told from forgeries.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum PeerTrust {
    /// From the host's address (and port, when given), over UDP or TCP. A UDP source can
    /// be forged by anyone who can send a datagram.
    #[default]
    Address,
    /// From the host's address over TCP only: the handshake proves the address.
    AddressOverTcp,
    /// By a digest answer to our challenge as `user`, from any address.
    Digest { user: String },
}

/// Who a call placed by the server is from: the calling extension's number and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerId {
    pub number: String,
    pub name: Option<String>,
}

/// A new call for the engine: an authenticated INVITE.
#[derive(Debug)]
pub struct IncomingCall {
    /// The INVITE's Call-ID.
    pub sip_call_id: String,
    pub origin: CallOrigin,
    /// The user part of the Request-URI.
    pub dialled: String,
    /// The user part of `To`: the number dialled when a provider sends its calls to the
    /// contact we registered (whose user is the account's, not the number).
    pub called: Option<String>,
    /// The INVITE's body (normally SDP); empty when it carried none.
    pub sdp_offer: String,
    pub leg: CallLeg,
}

/// Who placed a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOrigin {
    /// An extension, authenticated as the From user.
    Extension { number: String, source: SocketAddr },
    /// A trunk, recognised by its address; `number` is the From user (the
    /// caller's number as the carrier gave it).
    Trunk { name: String, number: String },
}

/// What can go wrong in SIP signalling.
#[derive(Debug)]
pub enum SipError {
    /// The UDP or TCP socket could not be bound or started.
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The SIP stack failed.
    Stack(String),
    /// The call has ended (the caller hung up or cancelled, or never sent the
    /// ACK).
    CallEnded,
    /// Not possible in the call's current state (answering twice, rejecting an
    /// answered call, a status code that is not a final failure).
    WrongState(&'static str),
}

impl fmt::Display for SipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SipError::Bind { addr, source } => {
                write!(f, "cannot listen for SIP on {addr}: {source}")
            }
            SipError::Stack(message) => write!(f, "SIP stack: {message}"),
            SipError::CallEnded => write!(f, "the call has ended"),
            SipError::WrongState(what) => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for SipError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SipError::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<rsipstack::Error> for SipError {
    fn from(e: rsipstack::Error) -> SipError {
        SipError::Stack(e.to_string())
    }
}

impl From<rsipstack::sip::Error> for SipError {
    fn from(e: rsipstack::sip::Error) -> SipError {
        SipError::Stack(e.to_string())
    }
}
