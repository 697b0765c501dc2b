//! `GET /api/debug/counts`: what the running server holds right now — live calls,
//! media ports, SIP dialogs, transactions, subscriptions, registrations, TCP
//! connections and the runtime's tasks. Nothing here is secret or per person; it is
//! how a test (or an admin chasing a leak) proves that calls which ended left nothing
//! behind.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::sync::Arc;

use super::{AppError, AppState};
use crate::media::PortPool;
use crate::sip::{SipCounts, SipServer};

/// The server's parts the counts come from; absent where the API is built without a
/// server (its own tests).
#[derive(Clone)]
pub struct LiveParts {
    pub sip: Arc<SipServer>,
    pub ports: PortPool,
    /// The trunks' accounts and how their registrations stand (`/api/trunks`).
    pub trunks: Arc<crate::sip::TrunkAccounts>,
    /// Click-to-call (`POST /api/chat/call`): rings a person's phones, then the number.
    pub call_back: Arc<crate::call_runner::CallBack>,
}

/// The answer of `GET /api/debug/counts`.
#[derive(Serialize)]
pub struct HeldCounts {
    pub calls: usize,
    pub media_ports: usize,
    pub sip: SipCounts,
    /// Tasks alive on the async runtime (every call, bridge and transaction has some).
    pub tasks: usize,
}

/// `GET /api/debug/counts`.
pub async fn counts(State(state): State<AppState>) -> Result<Json<HeldCounts>, AppError> {
    let Some(live) = &state.live else {
        return Err(AppError::NotFound(
            "this server runs no calls: there is nothing to count".into(),
        ));
    };
    Ok(Json(HeldCounts {
        calls: state.calls.live_count(),
        media_ports: live.ports.in_use(),
        sip: live.sip.counts(),
        tasks: tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
    }))
}
