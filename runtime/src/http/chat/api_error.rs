//! Every way a chat request is refused, each answered as `{"error": "..."}` with its
//! status. The one rule that shapes this file: a conversation the person may not see is
//! answered exactly like one that does not exist (404, the same words), so nobody learns
//! from the API which conversations the office has.

use crate::chat::ChatError;
use crate::http::AppError;
use crate::wall_clock::now_ms;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_dsl::Plan;

#[derive(Debug)]
pub enum ChatApiError {
    /// 400, 403, 404 and 500, as every route answers them.
    App(AppError),
    /// 409: the conversation is someone else's now (taken, transferred), or the action
    /// does not fit its state; the words say who and what to do.
    Conflict(String),
    /// 413: a message or a template over its limit.
    TooLarge(String),
}

impl ChatApiError {
    pub fn bad_request(message: impl Into<String>) -> ChatApiError {
        ChatApiError::App(AppError::BadRequest(message.into()))
    }

    pub fn forbidden(message: impl Into<String>) -> ChatApiError {
        ChatApiError::App(AppError::Forbidden(message.into()))
    }

    pub fn internal(message: impl Into<String>) -> ChatApiError {
        ChatApiError::App(AppError::Internal(message.into()))
    }

    /// The answer for a conversation that does not exist *or* is not the person's to
    /// see: the same status and words for both.
    pub fn no_conversation(id: i64) -> ChatApiError {
        ChatApiError::App(AppError::NotFound(format!(
            "you have no conversation {id}; GET /api/chat/conversations lists yours (and \
             ?archived=1 the archived ones)"
        )))
    }
}

/// The answer for the hub's refusal of an action (on conversation `conversation`, when
/// it was one): 404 for one the person may not see, 409 naming who took it and when
/// (in the office's time, `plan`'s timezone), 403 for an action their role or the
/// conversation's state does not allow, 400 for a wrong request, 500 for the store.
pub fn from_hub(error: ChatError, plan: &Plan, conversation: Option<i64>) -> ChatApiError {
    match error {
        ChatError::NotVisible => match conversation {
            Some(id) => ChatApiError::no_conversation(id),
            None => ChatApiError::App(AppError::NotFound(
                "there is no such conversation for you; GET /api/chat/conversations lists \
                 yours"
                    .to_string(),
            )),
        },
        ChatError::TakenBy {
            extension,
            name,
            at_ms,
        } => {
            let name = name.unwrap_or_default();
            let words = match at_ms {
                Some(at) => taken_words(&name, &extension, at, &plan.settings.timezone, now_ms()),
                None => format!("{} took this conversation", who(&name, &extension)),
            };
            ChatApiError::Conflict(words)
        }
        ChatError::NotAllowed(words) => ChatApiError::forbidden(words),
        ChatError::Invalid(words) => ChatApiError::bad_request(words),
        ChatError::NotFound(words) => ChatApiError::App(AppError::NotFound(words)),
        ChatError::Blocked => ChatApiError::forbidden(
            "this customer's address is blocked from chat; nothing was stored",
        ),
        ChatError::Store(e) => ChatApiError::internal(format!("chat store: {e}")),
    }
}

/// "Bruno (102)", or "102" for an extension without a name.
fn who(name: &str, extension: &str) -> String {
    if name.is_empty() || name == extension {
        extension.to_string()
    } else {
        format!("{name} ({extension})")
    }
}

/// The words of a 409 for a conversation someone else owns: "Bruno (102) took this
/// conversation at 10:02", the time in the office's `timezone` (the plan's), with the
/// date when it was not today there.
pub fn taken_words(name: &str, extension: &str, at_ms: u64, timezone: &str, now_ms: u64) -> String {
    let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let local = |ms: u64| {
        jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(tz.clone())
    };
    let (at, now) = (local(at_ms), local(now_ms));
    let who = who(name, extension);
    let when = if at.date() == now.date() {
        format!("at {}", at.strftime("%H:%M"))
    } else {
        format!("on {} at {}", at.strftime("%Y-%m-%d"), at.strftime("%H:%M"))
    };
    format!("{who} took this conversation {when}")
}

impl From<AppError> for ChatApiError {
    fn from(e: AppError) -> ChatApiError {
        ChatApiError::App(e)
    }
}

#[derive(Serialize)]
struct Body {
    error: String,
}

impl IntoResponse for ChatApiError {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            ChatApiError::App(e) => return e.into_response(),
            ChatApiError::Conflict(error) => (StatusCode::CONFLICT, error),
            ChatApiError::TooLarge(error) => (StatusCode::PAYLOAD_TOO_LARGE, error),
        };
        (status, Json(Body { error })).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23 16:02 UTC: 10:02 in Chicago.
    const AT: u64 = 1_795_449_720_000;

    #[test]
    fn a_take_is_told_by_name_number_and_office_time() {
        let later = AT + 3_600_000;
        assert_eq!(
            taken_words("Bruno", "102", AT, "America/Chicago", later),
            "Bruno (102) took this conversation at 10:02"
        );
        assert_eq!(
            taken_words("", "102", AT, "UTC", later),
            "102 took this conversation at 16:02"
        );
        let next_day = AT + 24 * 3_600_000;
        assert_eq!(
            taken_words("Bruno", "102", AT, "America/Chicago", next_day),
            "Bruno (102) took this conversation on 2026-11-23 at 10:02"
        );
    }
}
