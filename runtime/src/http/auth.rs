//! Admin sign-in: `POST /api/login`, `POST /api/logout`, `GET /api/session`; the session
//! cookie, the CSRF check on every change and the throttle on wrong passwords.
//!
//! An admin (`switchboard admin set-password`) signs in with a name and password; the
//! answer sets the `switchboard_session` cookie (`session_cookie`) and gives the page its
//! CSRF token. The session is kept in the store (as the SHA-256 of its token), so it
//! outlives a restart, and ends `SESSION_LIFETIME` after sign-in or at log-out, whichever
//! comes first; setting the admin's password again or removing the admin ends it too.
//!
//! `guard` stands in front of every route: `/api/*` (but `/api/login` and
//! `/api/session`) and `/status` need a session, and a request that changes anything
//! needs the CSRF token and, when the browser names its origin, our own origin.
//!
//! Wrong passwords are counted per address (`throttle`). A wrong name and a wrong
//! password get the same answer after the same work (`verify_admin_password`), so the
//! answer does not tell which admins exist.

mod clock;
mod guard;
mod session_cookie;
mod throttle;

pub use clock::Clock;
pub use guard::{SignedInAdmin, guard};
pub use session_cookie::COOKIE_NAME;
pub use throttle::{MAX_FAILURES, WINDOW as THROTTLE_WINDOW};

use super::{AppError, AppState, time};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use session_cookie::Token;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;
use throttle::Throttle;

/// How long a session lasts after sign-in: a working day and some, so an admin signs
/// in once a day, and a cookie left in a browser overnight no longer works.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// How sign-in behaves; `Default` is plain HTTP, the system clock, `SESSION_LIFETIME`.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// The server is reached over TLS: cookies are `Secure` and our origin is `https://`.
    pub tls: bool,
    pub session_lifetime: Duration,
    pub clock: Clock,
}

impl Default for AuthSettings {
    fn default() -> AuthSettings {
        AuthSettings {
            tls: false,
            session_lifetime: SESSION_LIFETIME,
            clock: Clock::system(),
        }
    }
}

/// Sessions and the sign-in throttle, shared by every request.
#[derive(Debug, Default)]
pub struct Auth {
    settings: AuthSettings,
    /// Wrong passwords per address, in memory: a restart forgets them, which costs a
    /// guesser a restart of the server per five guesses.
    throttle: Mutex<Throttle>,
}

impl Auth {
    pub fn new(settings: AuthSettings) -> Auth {
        Auth {
            settings,
            throttle: Mutex::default(),
        }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/session", get(session))
}

/// `POST /api/login`'s body.
#[derive(Deserialize)]
struct Credentials {
    user: String,
    password: String,
}

/// What `/api/login` and `/api/session` answer.
#[derive(Serialize)]
struct SessionView {
    user: String,
    /// The token to send back in `X-CSRF-Token` with every change.
    csrf: String,
    /// RFC 3339, UTC.
    expires_at: String,
}

fn session_view(user: String, token: &Token, expires_ms: u64) -> SessionView {
    SessionView {
        user,
        csrf: token.csrf(),
        expires_at: time::rfc3339(clock::from_millis(expires_ms)),
    }
}

/// The address a request came from: the socket's peer as `serve` records it. A request
/// with none (the router driven without a socket) counts as from 0.0.0.0.
fn client_ip(request_extensions: &axum::http::Extensions) -> IpAddr {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

async fn login(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    guard::check_origin(&parts.headers, state.auth.settings.tls)?;
    let bytes = axum::body::to_bytes(body, super::BODY_LIMIT as usize)
        .await
        .map_err(|e| AppError::BadRequest(format!("cannot read the sign-in request: {e}")))?;
    let Json(credentials) = Json::<Credentials>::from_bytes(&bytes).map_err(|e| {
        AppError::BadRequest(format!(
            "a sign-in is JSON like {{\"user\": \"admin\", \"password\": \"…\"}}: {}",
            e.body_text()
        ))
    })?;
    let ip = client_ip(&parts.extensions);
    let auth = state.auth.clone();
    let now = auth.settings.clock.now_ms();
    if let Err(locked) = auth.throttle().begin(ip, now) {
        return Err(AppError::TooManyRequests {
            message: format!(
                "too many wrong passwords from this address; try again in {} minutes",
                locked.retry_after_secs(now).div_ceil(60)
            ),
            retry_after_secs: locked.retry_after_secs(now),
        });
    }
    let Credentials { user, password } = credentials;
    let name = user.clone();
    let stored = state
        .store
        .run_sqlite(move |store| store.admin_password_hash(&name))
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // Argon2 takes tens of milliseconds of CPU on purpose: off the async workers, and off
    // the store thread, where calls' steps wait.
    let right = tokio::task::spawn_blocking(move || {
        crate::sqlite_store::verify_admin_password(stored.as_deref(), &password)
    })
    .await
    .map_err(|e| AppError::Internal(format!("checking a password failed: {e}")))?;
    if !right {
        let locked_now = auth.throttle().just_locked(ip);
        if locked_now {
            tracing::warn!(
                "admin sign-in from {ip} refused for {} minutes after {} wrong passwords",
                throttle::WINDOW.as_secs() / 60,
                MAX_FAILURES
            );
        }
        return Err(AppError::Unauthorized(
            "wrong user name or password; `switchboard admin set-password` on the server \
             sets one"
                .to_string(),
        ));
    }
    auth.throttle().succeeded(ip);
    let token = Token::fresh().map_err(|e| {
        AppError::Internal(format!("the operating system's random source failed: {e}"))
    })?;
    let lifetime_ms = u64::try_from(auth.settings.session_lifetime.as_millis()).unwrap_or(u64::MAX);
    let expires = now.saturating_add(lifetime_ms);
    let digest = token.digest();
    let admin = user.clone();
    state
        .store
        .run_sqlite(move |store| store.create_session(&digest, &admin, now, expires))
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tracing::info!("admin {user} signed in from {ip}");
    let cookie = token.set_cookie(auth.settings.session_lifetime.as_secs(), auth.settings.tls);
    Ok(with_cookie(
        Json(session_view(user, &token, expires)).into_response(),
        &cookie,
    ))
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    // The guard let this through, so the cookie holds a live session.
    if let Some(token) = Token::from_headers(&headers) {
        let digest = token.digest();
        state
            .store
            .run_sqlite(move |store| store.delete_session(&digest))
            .await
            .and_then(|r| r)
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let cookie = session_cookie::clear_cookie(state.auth.settings.tls);
    Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), &cookie))
}

async fn session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = Token::from_headers(&headers).ok_or_else(guard::not_signed_in)?;
    let found = guard::find_session(&state, &token)
        .await?
        .ok_or_else(guard::not_signed_in)?;
    Ok(Json(session_view(found.admin, &token, found.expires_ms)).into_response())
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    // A response that sets a session cookie is never kept by a cache.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
