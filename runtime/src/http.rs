//! The server's HTTP side: the editor app (`/`), a status page for people (`/status`),
//! and the API: health, the running plan, live and recent calls, and the editor's.
//!
//! `app` builds the router from the shared state, so tests drive it with `oneshot` and no
//! socket; `bind` and `serve` put it on a TCP port until the shutdown future completes.
//! Every error goes through `AppError`, which answers JSON and keeps internals in the log.
//!
//! Around the routes: `auth::guard` asks for a signed-in admin or person, whichever the
//! path is for (see `auth`), `hosts` refuses a `Host` that is not one of ours (DNS
//! rebinding), `headers` adds the security headers to every answer, and `connections`
//! bounds how many connections are held and how long a request head may take.

mod assets;
pub mod auth;
mod cdr;
mod chat;
mod chat_file_link;
mod connections;
pub(crate) mod contacts;
mod debug_counts;
mod error_json;
mod events;
mod files;
mod flow;
mod headers;
mod hosts;
mod ide;
pub(crate) mod livechat;
mod office;
mod people;
mod plan_tests;
mod prompt_audio;
mod simulate;
mod status_page;
mod team;
pub mod time;
pub mod tls;
mod trunks;

pub use connections::{ConnectionTable, Limits, Refused, Slot, serve_tls_with, serve_with};
pub use debug_counts::{HeldCounts, LiveParts};
pub use headers::BODY_LIMIT;
pub use hosts::{HostName, HostNames};
pub use trunks::{TrunkList, TrunkView};

use crate::call_log::{CallList, CallLog, CallRecord};
use crate::reload::{LastAttempt, PlanHolder};
use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use switchboard_core::ids::CallId;
use tokio::net::TcpListener;

/// What the handlers share; cloned per request (two `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub plans: Arc<PlanHolder>,
    pub calls: Arc<CallLog>,
    /// The names a request's `Host` must be one of.
    pub hosts: Arc<HostNames>,
    /// The office store, for the call records (`/api/cdr`); read on its own thread.
    pub store: crate::sqlite_store::StoreThread,
    /// The running server's SIP side and media ports; `None` where the API is built
    /// without a server.
    pub live: Option<LiveParts>,
    /// Admin sign-in: sessions, CSRF tokens, the throttle on wrong passwords.
    pub auth: Arc<auth::Auth>,
    /// Bumped whenever the office's state changes (registrations, hot desks, queue
    /// logins, mailboxes, users), so `/api/events` can tell the editor without polling.
    pub office_changes: Arc<crate::office_changes::OfficeChanges>,
    /// The `chat:` settings: the providers' accounts the webhooks check signatures with,
    /// the live chat's. Nothing configured by default.
    pub chat_config: Arc<crate::config::ChatConfig>,
    /// The chat service: conversations, the agents' actions, the announcements.
    pub chat: Arc<crate::chat::ChatHub>,
}

/// The API's routes over `state`, behind the `Host` check and the security headers.
pub fn app(state: AppState) -> Router {
    let hosts = state.hosts.clone();
    let tls = state.auth.settings().tls;
    let app = Router::new()
        .route("/status", get(status_page::page))
        .route("/healthz", get(healthz))
        .route("/api/plan", get(plan))
        .route("/api/calls", get(calls))
        .route("/api/calls/{id}", get(call))
        .route("/api/cdr", get(cdr::cdr))
        .route("/api/trunks", get(trunks::trunks))
        .route("/api/debug/counts", get(debug_counts::counts))
        .merge(assets::routes())
        .merge(auth::routes())
        .merge(events::routes())
        .merge(files::routes())
        .merge(ide::routes())
        .merge(plan_tests::routes())
        .merge(simulate::routes())
        .merge(flow::routes())
        .merge(prompt_audio::routes())
        .merge(office::routes())
        .merge(livechat::routes(&state))
        .merge(chat_file_link::routes())
        .merge(crate::chat_channels::webhooks::routes())
        .merge(people::routes())
        .merge(chat::routes())
        .merge(team::routes())
        .merge(contacts::routes())
        .fallback(not_found)
        // Inside the `Host` check, so the origin it compares against is one of ours.
        .layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT as usize))
        .layer(middleware::from_fn_with_state(hosts, hosts::check_host))
        // Any refusal answered in plain text (axum's own) becomes `{"error": "..."}`.
        .layer(middleware::from_fn(error_json::errors_as_json))
        // Outermost, so a refused `Host` gets the headers too.
        .layer(middleware::from_fn(headers::security_headers));
    if tls {
        app.layer(middleware::map_response(headers::strict_transport_security))
    } else {
        app
    }
}

/// Listens on `addr`, with an error that names the address and the flag to change it.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, crate::error::ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| crate::error::ServerError::Http { addr, source })
}

/// Serves `app` on `listener` within the default `Limits` until `cancel` completes, then
/// lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    cancel: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls(listener, app, None, cancel).await
}

/// `serve`, over TLS with `tls` (HTTPS with the configured certificate) when given.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    cancel: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!("HTTP API on {scheme}://{addr}");
    }
    // Open event streams never end by themselves; they end when the server stops.
    let (app, cancel) = events::end_streams_on(app, cancel);
    serve_tls_with(listener, app, Limits::default(), tls, cancel).await
}

/// Every way a request can fail. The message of `Internal` goes to the log only.
#[derive(Debug)]
pub enum AppError {
    NotFound(String),
    BadRequest(String),
    /// Understood, but refused by a rule (a weak password): 422, nothing changed.
    Unprocessable(String),
    /// No session, or a wrong password (401).
    Unauthorized(String),
    /// Signed in, but the request is refused: no CSRF token, another site's origin (403).
    Forbidden(String),
    /// Too many tries; answered with `Retry-After` (429).
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// Busy for a moment (every Argon2 slot taken): 503, try again shortly.
    Unavailable(String),
    /// A body over its route's limit (413); the words name the limit.
    TooLarge(String),
    Internal(String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AppError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
            AppError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            AppError::TooManyRequests {
                message,
                retry_after_secs,
            } => {
                let retry_after = [(axum::http::header::RETRY_AFTER, retry_after_secs)];
                let body = Json(ErrorBody { error: message });
                return (StatusCode::TOO_MANY_REQUESTS, retry_after, body).into_response();
            }
            AppError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            AppError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m),
            AppError::Internal(m) => {
                tracing::error!("internal error answering an HTTP request: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".to_string(),
                )
            }
        };
        (status, Json(ErrorBody { error: message })).into_response()
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

/// `GET /api/plan`.
#[derive(Serialize)]
pub struct PlanStatus {
    pub version: u64,
    /// RFC 3339, UTC.
    pub loaded_at: String,
    pub loaded_at_unix: i64,
    /// The plan folder.
    pub root: String,
    pub prompts: String,
    pub prompts_checked: bool,
    pub files: Vec<String>,
    pub warnings: usize,
    pub counts: PlanCounts,
    pub last_attempt: LastAttempt,
}

#[derive(Serialize)]
pub struct PlanCounts {
    pub extensions: usize,
    pub queues: usize,
    pub routes: usize,
    pub inbound: usize,
    pub flows: usize,
    pub trunks: usize,
    pub devices: usize,
    pub chats: usize,
    pub scripts: usize,
    pub tests: usize,
}

/// The status `GET /api/plan` answers, for other front ends (the CLI, the editor).
pub fn plan_status(plans: &PlanHolder) -> PlanStatus {
    let current = plans.current();
    let p = &current.plan;
    PlanStatus {
        version: current.version,
        loaded_at: time::rfc3339(current.loaded_at),
        loaded_at_unix: time::unix_seconds(current.loaded_at),
        root: plans.dialplans().display().to_string(),
        prompts: plans.prompts().display().to_string(),
        prompts_checked: current.prompts_checked,
        files: current.files.clone(),
        warnings: current.warnings,
        counts: PlanCounts {
            extensions: p.extensions.len(),
            queues: p.queues.len(),
            routes: p.routes.len(),
            inbound: p.inbound.len(),
            flows: p.flows.len(),
            trunks: p.trunks.len(),
            devices: p.devices.len(),
            chats: p.chats.len(),
            scripts: p.scripts.len(),
            tests: p.tests.len(),
        },
        last_attempt: (*plans.last_attempt()).clone(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn plan(State(state): State<AppState>) -> Json<PlanStatus> {
    Json(plan_status(&state.plans))
}

async fn calls(State(state): State<AppState>) -> Json<CallList> {
    Json(state.calls.list())
}

async fn call(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CallRecord>, AppError> {
    let n: u64 = id
        .parse()
        .map_err(|_| AppError::BadRequest(format!("`{id}` is not a call id (a number)")))?;
    state
        .calls
        .get(CallId(n))
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no live or recent call {n}")))
}

async fn not_found(uri: Uri) -> AppError {
    AppError::NotFound(format!("no such page: {}", uri.path()))
}
