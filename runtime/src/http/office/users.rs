//! `PUT /api/office/users/{name}/password` and `DELETE /api/office/users/{name}`: the SIP
//! users, under the rules of `switchboard user set-password` and `remove`.
//!
//! Only a name the running plan defines may get a password (`plan_users::plan_user`,
//! with its "did you mean"), and only one `password_policy` accepts; a refused request
//! stores nothing. The store keeps digests only, and the registrar sees a change as soon
//! as the request is answered (the store thread loads the credentials again after the
//! commit). Removing a user also forgets the phones registered as it: they are no
//! longer rung, and cannot call (every INVITE is authenticated).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::http::{AppError, AppState};
use crate::password_policy;
use crate::plan_users::{plan_user, stored_name};

/// The body of `PUT /api/office/users/{name}/password`. No `Debug`: it is a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    password: String,
}

/// `PUT /api/office/users/{name}/password`: 204 once stored; 404 for a name the plan
/// does not define, 422 for a password the policy refuses.
pub async fn set_password(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    let Json(NewPassword { password }) = body.map_err(|e| {
        AppError::BadRequest(format!(
            "the body must be JSON like {{\"password\": \"…\"}}: {}",
            e.body_text()
        ))
    })?;
    let user = plan_user(&state.plans.plan(), &name).map_err(AppError::NotFound)?;
    password_policy::check(&user.name, &password).map_err(|problem| {
        AppError::Unprocessable(format!("{}: {problem} (nothing was stored)", user.name))
    })?;
    let realm = match &state.live {
        Some(live) => live.sip.realm().to_string(),
        // No SIP server here: the password is for the one a server with the default
        // settings would run.
        None => crate::config::ServerConfig::default().realm,
    };
    let who = user.name.clone();
    state
        .store
        .run_sqlite(move |store| store.set_password(&who, &realm, &password))
        .await
        .and_then(|set| set)
        .map_err(|e| AppError::Internal(format!("setting the password of {}: {e}", user.name)))?;
    tracing::info!(user = %user.name, "SIP password set by the admin");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/office/users/{name}`: 204 once the password is gone; 404 when the user
/// has none. A name the plan no longer defines may be removed too: that is how a stale
/// password is tidied away.
pub async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    let name = stored_name(&name);
    let who = name.clone();
    let removed = state
        .store
        .run_sqlite(move |store| store.remove_password(&who))
        .await
        .and_then(|removed| removed)
        .map_err(|e| AppError::Internal(format!("removing the password of {name}: {e}")))?;
    if !removed {
        return Err(AppError::NotFound(format!(
            "{name} has no SIP password; GET /api/office lists the users"
        )));
    }
    tracing::info!(user = %name, "SIP user removed by the admin");
    if let Some(live) = &state.live {
        live.sip.forget_registrations(&name).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
