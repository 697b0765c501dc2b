//! `POST /api/office/hot-desks/{device}/logout`: the admin ends a hot-desk login, as the
//! hot-desking manual says the admin can from the console.
//!
//! It takes the path a logout at the phone (`*77*5*`) takes: the office's rule
//! (`office::end_hot_desk_login`, the engine's `hot_desk_logout`) on the store thread,
//! then what the call runner does with the engine's `HotDesk` command, `set_hot_desk` on
//! the SIP server, so the phone's message lamp goes dark and the extension's presence
//! watchers hear it left. The store thread tells the office view.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use switchboard_core::office;

use crate::http::{AppError, AppState};
use crate::plan_users::is_mac;

/// `POST /api/office/hot-desks/{device}/logout`: 204 once the login is over; 404 when
/// nobody is logged in on the phone.
pub async fn logout(
    State(state): State<AppState>,
    Path(device): Path<String>,
) -> Result<StatusCode, AppError> {
    if !is_mac(&device) {
        return Err(AppError::BadRequest(format!(
            "`{device}` is not a hot-desk phone's MAC: 12 hex digits without separators, \
             like 001565AABBCC (GET /api/office lists the logins)"
        )));
    }
    let mac = device.to_ascii_uppercase();
    let phone = mac.clone();
    let who = state
        .store
        .run(move |store| office::end_hot_desk_login(store, &phone))
        .await
        .and_then(|ended| ended)
        .map_err(|e| AppError::Internal(format!("logging out hot-desk phone {mac}: {e}")))?;
    let Some(extension) = who else {
        return Err(AppError::NotFound(format!(
            "nobody is logged in on hot-desk phone {mac}; GET /api/office lists the logins"
        )));
    };
    tracing::info!(device = %mac, %extension, "hot-desk login ended by the admin");
    if let Some(live) = &state.live {
        live.sip.set_hot_desk(&mac, None).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
