//! The middleware in front of every route: who needs a session, and what a request that
//! changes something must also carry.
//!
//! Needs a session: every `/api/…` path but `/api/login` and `/api/session` (which
//! answer for themselves), and the status page `/status`. Open: `/healthz` (for
//! monitoring), the editor app (`/`, `/assets/…`, which holds nothing but code and asks
//! for a sign-in), and anything else, which is a 404.
//!
//! A request that is not GET or HEAD, to a route that needs a session, must also carry
//! `X-CSRF-Token` equal to the session's (compared in constant time) and, when it names
//! an `Origin`, our own: the scheme we serve and the `Host` it was sent to (which the
//! `hosts` middleware has already checked is one of ours). A page of another site can
//! make a browser send the cookie, but cannot read the CSRF token to send with it.
//! `SameSite=Strict` already keeps the cookie off such requests in today's browsers;
//! the token does not depend on that.

use super::super::{AppError, AppState};
use super::session_cookie::Token;
use axum::extract::{Request, State};
use axum::http::header::{HOST, LOCATION, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

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

/// What a path needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Door {
    Open,
    /// An API route: refused with 401 and JSON.
    Api,
    /// A page for people: sent to the sign-in (the app at `/`).
    Page,
}

fn door(path: &str) -> Door {
    match path {
        "/api/login" | "/api/session" => Door::Open,
        "/status" => Door::Page,
        _ if path == "/api" || path.starts_with("/api/") => Door::Api,
        _ => Door::Open,
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
    let found = match Token::from_headers(request.headers()) {
        Some(token) => match find_session(&state, &token).await {
            Ok(found) => found.map(|session| (token, session)),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let Some((token, session)) = found else {
        return match door {
            Door::Page => (StatusCode::SEE_OTHER, [(LOCATION, "/")]).into_response(),
            _ => not_signed_in().into_response(),
        };
    };
    if changes && let Err(refused) = check_csrf(request.headers(), &token) {
        return refused.into_response();
    }
    request.extensions_mut().insert(SignedInAdmin {
        name: session.admin,
        expires_ms: session.expires_ms,
    });
    next.run(request).await
}

/// The 401 of a request without a live session.
pub(super) fn not_signed_in() -> AppError {
    AppError::Unauthorized(
        "sign in first: POST /api/login with {\"user\", \"password\"} (set one with \
         `switchboard admin set-password` on the server); a session ends 12 hours after \
         sign-in or at log-out"
            .to_string(),
    )
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
    fn which_paths_need_a_session() {
        for open in [
            "/",
            "/assets/app.js",
            "/healthz",
            "/api/login",
            "/api/session",
        ] {
            assert_eq!(door(open), Door::Open, "{open}");
        }
        for api in ["/api", "/api/plan", "/api/files/office.dial", "/api/logout"] {
            assert_eq!(door(api), Door::Api, "{api}");
        }
        assert_eq!(door("/status"), Door::Page);
        // Not a prefix match on the letters.
        assert_eq!(door("/apikeys"), Door::Open);
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
