//! `PUT /api/me/password {current, new}`: a person changes their own web password.
//!
//! The new one meets the same policy as `switchboard user set-password`
//! (`password_policy`, 422 otherwise); the current one must be right (403 otherwise),
//! so a browser left signed in does not let a passer-by take the account, and a wrong
//! one counts against the address like a wrong sign-in (`throttle`). Only the web
//! password changes: the phone keeps its SIP password. The person's other sessions end
//! (someone else may know the old password); the one that made the change goes on.

use super::super::{AppError, AppState};
use super::SignedInPerson;
use super::session_cookie::Token;
use crate::password_policy;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Request, State};
use axum::http::StatusCode;
use axum::{Json, RequestExt};
use serde::Deserialize;

/// The body. No `Debug`: it holds passwords.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    current: String,
    new: String,
}

/// 204 once stored; 400 for a body that is not `{current, new}`, 422 for a new password
/// the policy refuses, 403 for a wrong current one, 429 while the address is locked.
/// Nothing is written on a refusal.
pub(super) async fn change(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    request: Request,
) -> Result<StatusCode, AppError> {
    let ip = super::client_ip(request.extensions());
    let token = Token::from_headers(request.headers(), state.auth.settings.tls);
    let body: Result<Json<Change>, JsonRejection> = request.extract().await;
    let Json(Change { current, new }) = body.map_err(|e| {
        AppError::BadRequest(format!(
            "the body must be JSON like {{\"current\": \"…\", \"new\": \"…\"}}: {}",
            e.body_text()
        ))
    })?;
    let extension = person.extension;
    password_policy::check(&extension, &new).map_err(|problem| {
        AppError::Unprocessable(format!("{problem} (the password was not changed)"))
    })?;
    let auth = state.auth.clone();
    let now = auth.settings.clock.now_ms();
    auth.begin_password_check(ip, now)?;
    let ext = extension.clone();
    let stored = state
        .store
        .run_sqlite(move |store| store.web_password_hash(&ext))
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // Both Argon2 steps on the blocking pool: the check of the current password and, when
    // it is right, the hash of the new one.
    let whose = format!("extension {extension}");
    let slot = auth.argon2_slot().await?;
    let new_hash = tokio::task::spawn_blocking(move || {
        if !crate::sqlite_store::verify_web_password(stored.as_deref(), &current) {
            return Ok(None);
        }
        crate::sqlite_store::hash_web_password(&whose, &new).map(Some)
    })
    .await
    .map_err(|e| AppError::Internal(format!("checking a password failed: {e}")))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    drop(slot);
    let Some(new_hash) = new_hash else {
        auth.password_wrong(ip, &crate::sqlite_store::SessionOwner::Person(extension));
        return Err(AppError::Forbidden(
            "the current password is wrong; the password was not changed".to_string(),
        ));
    };
    auth.password_right(ip);
    let keep = token.map(|t| t.digest());
    let ext = extension.clone();
    state
        .store
        .run_sqlite(move |store| {
            store.store_web_password_hash(&ext, &new_hash, now, keep.as_deref())
        })
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tracing::info!("extension {extension} changed its web password");
    Ok(StatusCode::NO_CONTENT)
}
