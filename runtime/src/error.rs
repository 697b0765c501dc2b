//! Why the server could not start: one typed error at the runtime's boundary, each
//! variant naming what failed and the setting that fixes it. The binary prints it; tests
//! match on the variant.

use crate::media::ports::PortError;
use crate::media::prompts::PromptError;
use crate::sip::SipError;
use std::net::SocketAddr;
use std::path::PathBuf;
use switchboard_core::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot create {path}: {source}; set --data-dir")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store {path}: {source}")]
    Store {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    /// The plan could not be loaded: the message is the rendered report, every
    /// diagnostic with its file and line, as `switchboard check` shows it.
    #[error("{0}")]
    Plan(String),
    #[error("{0}")]
    Watch(String),
    #[error("cannot read the prompts: {0}; set --prompts")]
    Prompts(#[source] PromptError),
    #[error("{0}; set --rtp-ports")]
    Ports(#[source] PortError),
    #[error("{0}; set --sip-addr")]
    Sip(#[source] SipError),
    /// The HTTPS certificate or key could not be used; the message names the file.
    #[error("{0}")]
    Tls(#[source] crate::http::tls::TlsError),
    #[error("cannot listen for HTTP on {addr}: {source}; set --http-addr")]
    Http {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}
