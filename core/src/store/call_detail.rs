//! A finished call as the office keeps it (a call detail record): who called what, who
//! answered, how and when it ended. The runtime writes one when a call ends; the store
//! keeps them for the admin's reports.

/// Which side ended a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HungUpBy {
    /// The caller hung up (or gave up before an answer).
    Caller,
    /// The phone that answered hung up.
    Callee,
    /// The server ended it: the plan hung up, it could not go on, or the server stopped.
    Server,
}

impl HungUpBy {
    /// The word stored and shown for it.
    pub fn as_str(self) -> &'static str {
        match self {
            HungUpBy::Caller => "caller",
            HungUpBy::Callee => "callee",
            HungUpBy::Server => "server",
        }
    }

    /// The side a stored word names.
    pub fn parse(word: &str) -> Option<HungUpBy> {
        match word {
            "caller" => Some(HungUpBy::Caller),
            "callee" => Some(HungUpBy::Callee),
            "server" => Some(HungUpBy::Server),
            _ => None,
        }
    }
}

/// One finished call. Times are milliseconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallDetail {
    /// The SIP Call-ID of the caller's leg.
    pub sip_call_id: String,
    pub started_ms: u64,
    /// When the caller was answered (by a phone, or by the server for a menu or a
    /// mailbox); `None` for a call never answered.
    pub answered_ms: Option<u64>,
    pub ended_ms: u64,
    /// The calling extension, or the outside number a trunk gave.
    pub caller: String,
    pub dialled: String,
    /// The extension (or queue agent) whose phone answered; `None` when no phone did.
    pub answered_by: Option<String>,
    /// How the call ended, in the trace's words (`the caller hung up`, `102 hung up`, …).
    pub outcome: String,
    pub hung_up_by: HungUpBy,
    /// The plan version the call ran on.
    pub plan_version: u64,
}
