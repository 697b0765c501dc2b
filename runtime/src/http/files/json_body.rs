//! A JSON request body whose refusals are answered in the API's words: `{"error": ...}`
//! saying what was wrong with it, rather than axum's plain-text rejections.

use super::FileError;
use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = FileError;

    async fn from_request(request: Request, state: &S) -> Result<Self, FileError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(FileError::TooLarge(format!(
                    "the request body is too large ({}); plan files are at most 1 MB each",
                    rejection.body_text()
                )))
            }
            Err(rejection) => Err(FileError::bad_request(format!(
                "the request body is not what this route takes: {}; send JSON with \
                 `Content-Type: application/json` as the API documentation shows",
                rejection.body_text()
            ))),
        }
    }
}
