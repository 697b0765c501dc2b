//! Sign-in for admins and for the office's people: `POST /api/login` (an admin),
//! `POST /api/people/login` (a person, as their extension), `POST /api/logout`,
//! `GET /api/session`, and a person's `PUT /api/me/password` (`own_password`); the
//! session cookie, the CSRF check on every change and the throttle on wrong passwords.
//!
//! An admin (`switchboard admin set-password`) signs in with a name and password, a
//! person (`switchboard user set-password`) with an extension the running plan defines
//! and its web password; both get the same `switchboard_session` cookie
//! (`session_cookie`) and CSRF token, under the same rules. The session is kept in the
//! store (as the SHA-256 of its token) with whose it is (`SessionOwner`), so it outlives a
//! restart, and ends `SESSION_LIFETIME` after sign-in or at log-out, whichever comes
//! first; setting or removing the password ends it too.
//!
//! `guard` stands in front of every route: `/api/*` (but the two sign-ins and
//! `/api/session`) and `/status` need a session, of the kind the path is for (an admin's
//! or a person's), and a request that changes anything needs the CSRF token and, when the
//! browser names its origin, our own origin.
//!
//! Wrong passwords are counted per address (`throttle`), one count for both sign-ins. A
//! wrong name and a wrong password get the same answer after the same work
//! (`verify_web_password`), so the answer does not tell which admins or which people
//! with a web password exist.

mod clock;
mod guard;
mod own_password;
mod plan_sessions;
mod session_cookie;
mod throttle;

pub use clock::Clock;
pub use guard::{SignedInAdmin, SignedInPerson, guard};
pub use plan_sessions::end_sessions_outside_the_plan;
pub use session_cookie::COOKIE_NAME;
pub use throttle::{MAX_FAILURES, WINDOW as THROTTLE_WINDOW};

use super::{AppError, AppState, time};
use crate::sqlite_store::SessionOwner;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use guard::Whose;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use session_cookie::Token;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;
use throttle::Throttle;
use tokio::sync::{Semaphore, SemaphorePermit};

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
#[derive(Debug)]
pub struct Auth {
    settings: AuthSettings,
    /// Wrong passwords per address, in memory: a restart forgets them, which costs a
    /// guesser a restart of the server per five guesses.
    throttle: Mutex<Throttle>,
    /// Argon2 runs that may go at once. Each takes 19 MiB and tens of milliseconds of a
    /// core on purpose; the throttle bounds them per address, this bounds them in all,
    /// so sign-ins from many addresses cannot take the machine's memory or the blocking
    /// pool the file routes share.
    argon2_slots: Semaphore,
}

/// How many Argon2 runs may go at once.
pub const ARGON2_SLOTS: usize = 4;

/// How long a sign-in waits for an Argon2 slot before it is told to try again.
const ARGON2_WAIT: Duration = Duration::from_secs(5);

impl Default for Auth {
    fn default() -> Auth {
        Auth::new(AuthSettings::default())
    }
}

impl Auth {
    pub fn new(settings: AuthSettings) -> Auth {
        Auth {
            settings,
            throttle: Mutex::default(),
            argon2_slots: Semaphore::new(ARGON2_SLOTS),
        }
    }

    /// A slot to run Argon2 in, waiting up to `ARGON2_WAIT`; 503 when none frees.
    async fn argon2_slot(&self) -> Result<SemaphorePermit<'_>, AppError> {
        self.argon2_slot_within(ARGON2_WAIT).await
    }

    async fn argon2_slot_within(&self, wait: Duration) -> Result<SemaphorePermit<'_>, AppError> {
        match tokio::time::timeout(wait, self.argon2_slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Unavailable(
                "too many sign-ins at once; try again in a few seconds".to_string(),
            )),
        }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a password check from `ip`, counted as a failure until `password_right`;
    /// refused with 429 while the address is locked.
    fn begin_password_check(&self, ip: IpAddr, now_ms: u64) -> Result<(), AppError> {
        self.throttle().begin(ip, now_ms).map_err(|locked| {
            let secs = locked.retry_after_secs(now_ms);
            AppError::TooManyRequests {
                message: format!(
                    "too many wrong passwords from this address; try again in {} minutes",
                    secs.div_ceil(60)
                ),
                retry_after_secs: secs,
            }
        })
    }

    /// The password checked from `ip` was right: its failures are forgiven.
    fn password_right(&self, ip: IpAddr) {
        self.throttle().succeeded(ip);
    }

    /// The password checked from `ip` for `whose` was wrong; says so in the log once
    /// the address is locked.
    fn password_wrong(&self, ip: IpAddr, whose: &SessionOwner) {
        if self.throttle().just_locked(ip) {
            tracing::warn!(
                "sign-in from {ip} refused for {} minutes after {} wrong passwords (the \
                 last for {whose})",
                throttle::WINDOW.as_secs() / 60,
                MAX_FAILURES
            );
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(admin_login))
        .route("/api/people/login", post(person_login))
        .route("/api/logout", post(logout))
        .route("/api/session", get(session))
        .route("/api/me/password", put(own_password::change))
}

/// `POST /api/login`'s body.
#[derive(Deserialize)]
struct AdminCredentials {
    user: String,
    password: String,
}

/// `POST /api/people/login`'s body.
#[derive(Deserialize)]
struct PersonCredentials {
    extension: String,
    password: String,
}

/// What the sign-ins and `/api/session` answer: `kind` says whose the session is; a
/// person's also carries their extension and name (`user` is then the extension).
#[derive(Serialize)]
struct SessionView {
    /// `admin` or `person`.
    kind: &'static str,
    user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// The token to send back in `X-CSRF-Token` with every change.
    csrf: String,
    /// RFC 3339, UTC.
    expires_at: String,
}

/// The answer that names whose the session under `token` is.
fn session_view(whose: Whose, token: &Token, expires_ms: u64) -> SessionView {
    let (kind, user, extension, name) = match whose {
        Whose::Admin(name) => ("admin", name, None, None),
        Whose::Person(person) => (
            "person",
            person.extension.clone(),
            Some(person.extension),
            Some(person.name),
        ),
    };
    SessionView {
        kind,
        user,
        extension,
        name,
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

/// A sign-in request's address and body, after the `Origin` check (a sign-in has no
/// session, so no CSRF token, yet: another site's page must not sign a browser in).
async fn read_sign_in<T: DeserializeOwned>(
    state: &AppState,
    request: Request,
    example: &str,
) -> Result<(IpAddr, T), AppError> {
    guard::check_origin(request.headers(), state.auth.settings.tls)?;
    let ip = client_ip(request.extensions());
    // Read within the router's body limit, which a body without a declared length
    // meets only here.
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge(format!(
                    "a sign-in is at most {} bytes: send only JSON like {example}",
                    super::BODY_LIMIT
                ))
            } else {
                AppError::BadRequest(format!("cannot read the sign-in request: {rejection}"))
            }
        })?;
    let Json(body) = Json::<T>::from_bytes(&bytes).map_err(|e| {
        AppError::BadRequest(format!(
            "a sign-in is JSON like {example}: {}",
            e.body_text()
        ))
    })?;
    Ok((ip, body))
}

async fn admin_login(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, AppError> {
    let (ip, AdminCredentials { user, password }) =
        read_sign_in(&state, request, r#"{"user": "admin", "password": "…"}"#).await?;
    sign_in(&state, ip, SessionOwner::Admin(user), password).await
}

async fn person_login(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, AppError> {
    let (
        ip,
        PersonCredentials {
            extension,
            password,
        },
    ) = read_sign_in(&state, request, r#"{"extension": "101", "password": "…"}"#).await?;
    sign_in(&state, ip, SessionOwner::Person(extension), password).await
}

/// Checks `password` for `owner` and, when right, starts their session and answers it
/// with the cookie. Every refusal of a wrong name or password reads the same.
async fn sign_in(
    state: &AppState,
    ip: IpAddr,
    owner: SessionOwner,
    password: String,
) -> Result<Response, AppError> {
    let auth = state.auth.clone();
    let now = auth.settings.clock.now_ms();
    auth.begin_password_check(ip, now)?;
    // A person counts only as an extension of the running plan: a password left in the
    // store for an extension since removed opens nothing, as for the phones
    // (`plan_users`). The password stays (an admin who takes an extension out and puts
    // it back does not make its person set a new one); it is checked all the same, so
    // that only whoever knows it learns the extension is out of the plan, and anyone
    // else gets the one answer every wrong guess gets.
    let whose = Whose::of(state, &owner);
    let stored = stored_hash(state, &owner).await?;
    let right = password_matches(&auth, stored, password).await?;
    if !right {
        auth.password_wrong(ip, &owner);
        return Err(wrong_password(&owner));
    }
    let Some(whose) = whose else {
        // The right password, still counted as a failure: it opens nothing.
        auth.password_wrong(ip, &owner);
        return Err(not_in_the_plan(&owner));
    };
    auth.password_right(ip);
    let token = Token::fresh().map_err(|e| {
        AppError::Internal(format!("the operating system's random source failed: {e}"))
    })?;
    let lifetime_ms = u64::try_from(auth.settings.session_lifetime.as_millis()).unwrap_or(u64::MAX);
    let expires = now.saturating_add(lifetime_ms);
    let digest = token.digest();
    let stored_owner = owner.clone();
    state
        .store
        .run_sqlite(move |store| store.create_session(&digest, &stored_owner, now, expires))
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tracing::info!("{owner} signed in from {ip}");
    let view = session_view(whose, &token, expires);
    let cookie = token.set_cookie(auth.settings.session_lifetime.as_secs(), auth.settings.tls);
    Ok(with_cookie(Json(view).into_response(), &cookie))
}

/// The stored hash of `owner`'s web password, if any.
async fn stored_hash(state: &AppState, owner: &SessionOwner) -> Result<Option<String>, AppError> {
    let owner = owner.clone();
    state
        .store
        .run_sqlite(move |store| match &owner {
            SessionOwner::Admin(name) => store.admin_password_hash(name),
            SessionOwner::Person(extension) => store.web_password_hash(extension),
        })
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Whether `password` matches `stored` (no hash: no). Argon2 takes tens of milliseconds
/// of CPU on purpose: off the async workers, and off the store thread, where calls'
/// steps wait.
async fn password_matches(
    auth: &Auth,
    stored: Option<String>,
    password: String,
) -> Result<bool, AppError> {
    let _slot = auth.argon2_slot().await?;
    tokio::task::spawn_blocking(move || {
        crate::sqlite_store::verify_web_password(stored.as_deref(), &password)
    })
    .await
    .map_err(|e| AppError::Internal(format!("checking a password failed: {e}")))
}

/// The one answer to a wrong name, a wrong password, or (for a person) an extension
/// without a web password or not in the plan.
fn wrong_password(owner: &SessionOwner) -> AppError {
    AppError::Unauthorized(match owner {
        SessionOwner::Admin(_) => "wrong user name or password; `switchboard admin \
                                   set-password` on the server sets one"
            .to_string(),
        SessionOwner::Person(_) => "wrong extension or password; an admin sets a web \
                                    password with `switchboard user set-password`"
            .to_string(),
    })
}

/// The refusal of a person who gave their right password but whose extension the
/// running plan does not define (taken out by a reload, or never there).
fn not_in_the_plan(owner: &SessionOwner) -> AppError {
    let extension = match owner {
        SessionOwner::Person(extension) | SessionOwner::Admin(extension) => extension,
    };
    AppError::Forbidden(format!(
        "{extension} is not an extension of the running plan; ask the admin to add it \
         back (your web password is kept and works again once it is)"
    ))
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    // The guard let this through, so the cookie holds a live session.
    if let Some(token) = Token::from_headers(&headers, state.auth.settings.tls) {
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
    let token = Token::from_headers(&headers, state.auth.settings.tls)
        .ok_or_else(guard::not_signed_in_anywhere)?;
    let found = guard::find_session(&state, &token)
        .await?
        .ok_or_else(guard::not_signed_in_anywhere)?;
    let whose = Whose::of(&state, &found.owner).ok_or_else(guard::not_signed_in_anywhere)?;
    Ok(Json(session_view(whose, &token, found.expires_ms)).into_response())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_more_than_the_slots_run_argon2_at_once_and_the_next_is_told_to_retry() {
        let auth = Auth::default();
        let mut held = Vec::new();
        for _ in 0..ARGON2_SLOTS {
            held.push(
                auth.argon2_slot_within(Duration::from_millis(50))
                    .await
                    .unwrap(),
            );
        }
        let refused = auth
            .argon2_slot_within(Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, AppError::Unavailable(m) if m.contains("try again")),
            "{refused:?}"
        );
        held.pop();
        assert!(
            auth.argon2_slot_within(Duration::from_millis(50))
                .await
                .is_ok()
        );
    }
}
