//! `POST /api/chat/call {number}`: click-to-call from the web client. The server rings
//! the person's own phones (every phone their extension registered, showing `number`),
//! and when one answers it calls `number` exactly as if that extension had dialled it:
//! the plan's `dial` routes, toll-fraud rules and trunks (`call_runner::call_back`).
//!
//! The number is written as the client's links carry it or as people write it: E.164
//! (`+15551234567`) or the manual's US forms (`(555) 123-4567`, `1 555 123 4567`); it
//! is dialled in E.164. Answers: 202 `{call_id}` once the phones are being rung (the
//! call is then in `/api/calls/{call_id}`); 400 for a number that is not one, or that no
//! route of the running plan takes; 409 when no phone of the person's is registered
//! (the client then offers a `tel:` link); 503 when the server has no media port free,
//! is stopping, or runs without SIP. What the person hears once they answer (ringback,
//! the number's early media, the busy tone) and the record every such call leaves, the
//! declined and unanswered ones too, are `call_back`'s.

use super::{Agent, ChatApiError, ChatJson};
use crate::call_runner::CallBackRefused;
use crate::http::AppState;
use crate::http::contacts::phone;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    pub number: String,
}

#[derive(Serialize)]
pub struct CallStarted {
    /// The call's id in `/api/calls`.
    pub call_id: u64,
    /// The number being called, in E.164.
    pub number: String,
}

pub async fn call(
    State(state): State<AppState>,
    agent: Agent,
    ChatJson(request): ChatJson<CallRequest>,
) -> Result<(StatusCode, Json<CallStarted>), ChatApiError> {
    let number = phone::normalise(&request.number).map_err(ChatApiError::bad_request)?;
    let Some(live) = &state.live else {
        return Err(unavailable(
            "this server runs without SIP: it cannot place calls",
        ));
    };
    match live.call_back.start(&agent.extension, &number).await {
        Ok(call_id) => Ok((StatusCode::ACCEPTED, Json(CallStarted { call_id, number }))),
        Err(CallBackRefused::NotRegistered) => Err(ChatApiError::Conflict(format!(
            "your phone is not registered: no phone of extension {} is signed in to the \
             server, so it cannot ring you first; register a phone, or call {number} from \
             another one",
            agent.extension
        ))),
        Err(CallBackRefused::NoRoute(words)) => Err(ChatApiError::bad_request(words)),
        Err(CallBackRefused::Unavailable(words)) => Err(unavailable(&words)),
    }
}

fn unavailable(words: &str) -> ChatApiError {
    ChatApiError::App(crate::http::AppError::Unavailable(format!(
        "{words}; try again shortly, or call from your phone"
    )))
}
