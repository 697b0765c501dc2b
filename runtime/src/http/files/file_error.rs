//! Every way a files request is refused, each answered as `{"error": "..."}` with its
//! status; a conflict also carries the text on disk, and a plan with errors its
//! diagnostics, so the editor can show them without asking again.

use crate::http::AppError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug)]
pub enum FileError {
    /// 400, 404 and 500, as every route answers them.
    App(AppError),
    /// 413: a text or a file over `MAX_FILE_BYTES`.
    TooLarge(String),
    /// 415: a file on disk that is not UTF-8 text.
    NotText(String),
    /// 409: the file on disk is not what the editor opened (or exists when creating);
    /// `current` is what is there now, `None` when nothing is.
    Conflict {
        error: String,
        current: Option<Current>,
    },
    /// 422: the plan with the change has errors and the admin did not insist.
    PlanHasErrors {
        error: String,
        diagnostics: Vec<serde_json::Value>,
    },
}

/// A file as it is on disk now: its text (bytes that are not UTF-8 shown replaced) and
/// the hash of its bytes, to save against.
#[derive(Clone, Debug, Serialize)]
pub struct Current {
    pub text: String,
    pub hash: String,
}

impl FileError {
    pub fn bad_request(message: impl Into<String>) -> FileError {
        FileError::App(AppError::BadRequest(message.into()))
    }

    pub fn not_found(message: impl Into<String>) -> FileError {
        FileError::App(AppError::NotFound(message.into()))
    }

    pub fn internal(message: impl Into<String>) -> FileError {
        FileError::App(AppError::Internal(message.into()))
    }
}

impl From<AppError> for FileError {
    fn from(e: AppError) -> FileError {
        FileError::App(e)
    }
}

#[derive(Serialize)]
struct Body {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<Option<Current>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostics: Option<Vec<serde_json::Value>>,
}

impl IntoResponse for FileError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            FileError::App(e) => return e.into_response(),
            FileError::TooLarge(error) => (StatusCode::PAYLOAD_TOO_LARGE, plain(error)),
            FileError::NotText(error) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, plain(error)),
            FileError::Conflict { error, current } => (
                StatusCode::CONFLICT,
                Body {
                    current: Some(current),
                    ..plain(error)
                },
            ),
            FileError::PlanHasErrors { error, diagnostics } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Body {
                    diagnostics: Some(diagnostics),
                    ..plain(error)
                },
            ),
        };
        (status, Json(body)).into_response()
    }
}

fn plain(error: String) -> Body {
    Body {
        error,
        current: None,
        diagnostics: None,
    }
}
