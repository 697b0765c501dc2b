//! The middleware in front of every route: who needs a session, of which kind, and what
//! a request that changes something must also carry.
//!
//! Which paths are whose is decided here, by prefix, in one place (`door`), so a route
//! added under a prefix is covered without being listed:
//! - open: `/api/login`, `/api/people/login` and `/api/session` (which answer for
//!   themselves), `/healthz` (for monitoring), the apps (`/`, `/assets/…`, `/client/…`,
//!   which hold nothing but code and ask for a sign-in), the webhooks, the chat widget
//!   and the signed chat file links `/chat/files/…` (outside `/api`, with checks of their
//!   own), and anything else, which is a 404;
//! - the office's people (a session from `/api/people/login`): `/api/me…`,
//!   `/api/chat/…`, `/api/people…`, `/api/team/…`, `/api/contacts…` — what a person does
//!   as themself;
//! - either kind: `/api/logout`;
//! - admins: every other `/api/…` path, and the status page `/status`. An admin is not
//!   an agent: an admin session does not reach the chat, and a person's does not reach
//!   the editor's API; either gets 403 with words saying whose the page is.
//!
//! A request that is not GET or HEAD, to a route that needs a session, must also carry
//! `X-CSRF-Token` equal to the session's (compared in constant time) and, when it names
//! an `Origin`, our own: the scheme we serve and the `Host` it was sent to (which the
//! `hosts` middleware has already checked is one of ours). A page of another site can
//! make a browser send the cookie, but cannot read the CSRF token to send with it.
//! `SameSite=Strict` already keeps the cookie off such requests in today's browsers;
//! the token does not depend on that.

use super::super::events::LiveSession;
use super::super::{AppError, AppState};
use super::session_cookie::Token;
use crate::sqlite_store::SessionOwner;
use axum::extract::{Request, State};
use axum::http::header::{HOST, LOCATION, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use switchboard_dsl::Plan;

/// The header a change carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The admin a request was signed in as; the guard puts it in the request's extensions
/// for the handlers behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedInAdmin {
    pub name: String,
    /// When the session ends, milliseconds since the Unix epoch.
    pub expires_ms: u64,
}

/// The person a request was signed in as, as the running plan names them; the guard
/// puts it in the request's extensions for the handlers behind it
/// (`Extension<SignedInPerson>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedInPerson {
    /// Their extension, like `101`.
    pub extension: String,
    /// The plan's name of the extension, or its number when the plan gives none.
    pub name: String,
}

impl SignedInPerson {
    /// The person `extension` is in `plan`; `None` when the plan does not define it.
    pub fn in_plan(plan: &Plan, extension: &str) -> Option<SignedInPerson> {
        let found = plan.extension(extension)?;
        Some(SignedInPerson {
            extension: found.number.clone(),
            name: found.name.clone().unwrap_or_else(|| found.number.clone()),
        })
    }
}

/// Whose a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Door {
    Open,
    /// An API route for admins: refused with 401 and JSON without a session.
    Admins,
    /// An API route for the office's people.
    People,
    /// An API route for either.
    Anyone,
    /// A page for admins: a browser without a session is sent to the sign-in (the app
    /// at `/`).
    AdminPage,
}

/// The prefixes of the people's API: a path is theirs when it is one of these or lies
/// below one (`/api/me/password`, not `/api/messages`).
const PEOPLE: [&str; 5] = [
    "/api/me",
    "/api/chat",
    "/api/people",
    "/api/contacts",
    "/api/team",
];

fn door(path: &str) -> Door {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    match path {
        "/api/login" | "/api/people/login" | "/api/session" => Door::Open,
        "/api/logout" => Door::Anyone,
        "/status" => Door::AdminPage,
        _ if PEOPLE.iter().any(|prefix| under(prefix)) => Door::People,
        _ if under("/api") => Door::Admins,
        _ => Door::Open,
    }
}

/// Whose a live session is, as the handlers and answers name them: an admin, or a
/// person of the running plan.
pub(super) enum Whose {
    Admin(String),
    Person(SignedInPerson),
}

impl Whose {
    /// Who `owner` is in the running plan; `None` for a person it does not define (any
    /// more: a reload may have taken the extension away).
    pub(super) fn of(state: &AppState, owner: &SessionOwner) -> Option<Whose> {
        match owner {
            SessionOwner::Admin(name) => Some(Whose::Admin(name.clone())),
            SessionOwner::Person(extension) => {
                SignedInPerson::in_plan(&state.plans.plan(), extension).map(Whose::Person)
            }
        }
    }
}

/// The middleware; see the module documentation.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let door = door(request.uri().path());
    if door == Door::Open {
        return next.run(request).await;
    }
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    let tls = state.auth.settings.tls;
    if changes && let Err(refused) = check_origin(request.headers(), tls) {
        return refused.into_response();
    }
    let found = match Token::from_headers(request.headers(), tls) {
        Some(token) => match find_session(&state, &token).await {
            Ok(found) => found.map(|session| (token, session)),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let Some((token, session)) = found else {
        return match door {
            Door::AdminPage => (StatusCode::SEE_OTHER, [(LOCATION, "/")]).into_response(),
            Door::People => not_signed_in_as_a_person().into_response(),
            Door::Anyone => not_signed_in_anywhere().into_response(),
            _ => not_signed_in().into_response(),
        };
    };
    // For streams that must end with the session (`events`): the session as found now.
    let live = LiveSession {
        token_sha256: token.digest(),
        expires_ms: session.expires_ms,
        person: match &session.owner {
            SessionOwner::Person(extension) => Some(extension.clone()),
            SessionOwner::Admin(_) => None,
        },
    };
    match (&session.owner, door) {
        (SessionOwner::Admin(_), Door::Admins | Door::AdminPage | Door::Anyone)
        | (SessionOwner::Person(_), Door::People | Door::Anyone) => {}
        (SessionOwner::Person(extension), _) => {
            return AppError::Forbidden(format!(
                "this page is for admins; you are signed in as extension {extension}, one of \
                 the office's people (an admin signs in with POST /api/login)"
            ))
            .into_response();
        }
        (SessionOwner::Admin(name), _) => {
            return AppError::Forbidden(format!(
                "this page is for the office's people, signed in as their extension with \
                 POST /api/people/login; you are signed in as admin {name}, and an admin \
                 is not an agent"
            ))
            .into_response();
        }
    }
    let Some(whose) = Whose::of(&state, &session.owner) else {
        return no_longer_in_the_plan(&session.owner).into_response();
    };
    if changes && let Err(refused) = check_csrf(request.headers(), &token) {
        return refused.into_response();
    }
    request.extensions_mut().insert(live);
    match whose {
        Whose::Admin(name) => {
            request.extensions_mut().insert(SignedInAdmin {
                name,
                expires_ms: session.expires_ms,
            });
        }
        Whose::Person(person) => {
            request.extensions_mut().insert(person);
        }
    }
    next.run(request).await
}

/// The 401 of a request to an admin's route without a live session.
pub(super) fn not_signed_in() -> AppError {
    AppError::Unauthorized(
        "sign in first: POST /api/login with {\"user\", \"password\"} (set one with \
         `switchboard admin set-password` on the server); a session ends 12 hours after \
         sign-in or at log-out"
            .to_string(),
    )
}

/// The 401 of a request to a person's route without a live session.
pub(super) fn not_signed_in_as_a_person() -> AppError {
    AppError::Unauthorized(
        "sign in first: POST /api/people/login with {\"extension\", \"password\"} (an \
         admin sets the web password with `switchboard user set-password`); a session ends \
         12 hours after sign-in or at log-out"
            .to_string(),
    )
}

/// The 401 of a request that either kind of session would do for.
pub(super) fn not_signed_in_anywhere() -> AppError {
    AppError::Unauthorized(
        "sign in first: an admin with POST /api/login {\"user\", \"password\"}, one of \
         the office's people with POST /api/people/login {\"extension\", \"password\"}; \
         a session ends 12 hours after sign-in or at log-out"
            .to_string(),
    )
}

/// The 401 of a person whose extension a reload took out of the plan: the session
/// opens nothing until the plan defines it again.
fn no_longer_in_the_plan(owner: &SessionOwner) -> AppError {
    AppError::Unauthorized(format!(
        "{owner} is no longer in the office's plan, so its sign-in opens nothing; ask an \
         admin"
    ))
}

/// The live session `token` opens, looked up on the store thread.
pub(super) async fn find_session(
    state: &AppState,
    token: &Token,
) -> Result<Option<crate::sqlite_store::Session>, AppError> {
    let digest = token.digest();
    let now = state.auth.settings.clock.now_ms();
    state
        .store
        .run_sqlite(move |store| store.session(&digest, now))
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Refuses an `Origin` that is not ours: the scheme we serve and the request's `Host`.
/// A request without `Origin` (not from a browser's cross-site form or script, or from
/// an older browser's same-origin GET) passes: the CSRF token still guards it.
pub(super) fn check_origin(headers: &HeaderMap, tls: bool) -> Result<(), AppError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let scheme = if tls { "https" } else { "http" };
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let ours = format!("{scheme}://{host}");
    let theirs = origin.to_str().unwrap_or_default();
    if !host.is_empty() && theirs.eq_ignore_ascii_case(&ours) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "refused a request from another site (Origin {theirs:?}, this server is {ours:?}); \
         use the editor at {ours}/"
    )))
}

fn check_csrf(headers: &HeaderMap, token: &Token) -> Result<(), AppError> {
    let sent = headers
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let expected = token.csrf();
    if bool::from(sent.ct_eq(expected.as_bytes())) {
        return Ok(());
    }
    Err(AppError::Forbidden(if sent.is_empty() {
        "a change needs the X-CSRF-Token header, with the `csrf` that POST /api/login or \
         GET /api/session answered"
            .to_string()
    } else {
        "the X-CSRF-Token header is not this session's; read it again from GET /api/session"
            .to_string()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_paths_need_a_session_and_whose() {
        for open in [
            "/",
            "/assets/app.js",
            "/client/",
            "/healthz",
            "/api/login",
            "/api/people/login",
            "/api/session",
            "/webhooks/sms",
            "/chat/widget.js",
            // A signed file link: the signature is its permission (`http/chat_file_link`).
            "/chat/files/7",
        ] {
            assert_eq!(door(open), Door::Open, "{open}");
        }
        for admins in ["/api", "/api/plan", "/api/files/office.dial", "/api/office"] {
            assert_eq!(door(admins), Door::Admins, "{admins}");
        }
        for people in [
            "/api/me",
            "/api/me/password",
            "/api/chat/conversations/7/take",
            "/api/chat",
            "/api/people",
        ] {
            assert_eq!(door(people), Door::People, "{people}");
        }
        assert_eq!(door("/api/logout"), Door::Anyone);
        assert_eq!(door("/status"), Door::AdminPage);
        // Not a prefix match on the letters.
        assert_eq!(door("/apikeys"), Door::Open);
        assert_eq!(door("/api/messages"), Door::Admins);
        assert_eq!(door("/api/chatter"), Door::Admins);
        assert_eq!(door("/api/peoples"), Door::Admins);
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn an_origin_passes_only_when_it_is_our_scheme_and_host() {
        let host = ("host", "PBX.office.example:8443");
        assert!(check_origin(&headers(&[host]), true).is_ok(), "no Origin");
        let ours = headers(&[host, ("origin", "https://pbx.office.example:8443")]);
        assert!(check_origin(&ours, true).is_ok());
        assert!(check_origin(&ours, false).is_err(), "http is not https");
        for foreign in [
            "https://attacker.example",
            "https://pbx.office.example:8444",
            "https://pbx.office.example:8443.attacker.example",
            "null",
        ] {
            let refused = headers(&[host, ("origin", foreign)]);
            assert!(check_origin(&refused, true).is_err(), "{foreign}");
        }
        // Without a Host there is no origin of ours to compare with.
        let no_host = headers(&[("origin", "https://pbx.office.example")]);
        assert!(check_origin(&no_host, true).is_err());
    }
}
