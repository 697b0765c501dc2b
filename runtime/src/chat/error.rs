//! Why a chat action was refused or failed. Nothing was written.

use switchboard_core::store::StoreError;

/// A refused or failed chat action; the agent API answers each with its own status.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The acting agent may not see the conversation, or it does not exist: the same
    /// answer (404), so existence is never told.
    #[error("no such conversation")]
    NotVisible,
    /// Someone else took it (409).
    #[error("{} took this conversation", name_and_number(name, extension))]
    TakenBy {
        extension: String,
        /// The plan's name of that extension, if it has one.
        name: Option<String>,
        /// When they took it (ms since the epoch).
        at_ms: Option<u64>,
    },
    /// The agent sees it but may not do this (403); the words say why.
    #[error("{0}")]
    NotAllowed(String),
    /// The request is wrong (400); the words name the thing and the fix.
    #[error("{0}")]
    Invalid(String),
    /// A thing the request names (a template) does not exist (404); the words name it
    /// and how to find the right one.
    #[error("{0}")]
    NotFound(String),
    /// The customer's address is blocked; nothing was stored.
    #[error("this address is blocked from chat")]
    Blocked,
    /// The store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// "Bruno (102)", or "102" for an extension without a name.
pub fn name_and_number(name: &Option<String>, extension: &str) -> String {
    match name {
        Some(n) => format!("{n} ({extension})"),
        None => extension.to_string(),
    }
}
