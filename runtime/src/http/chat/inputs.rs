//! A chat request's JSON body and query string, refused in the API's words: 413 when a
//! body is over the limit, 400 naming what is wrong (not JSON, a field missing, a field
//! this route does not take — every body and query type here denies unknown fields, so
//! a misspelt field is refused rather than quietly ignored).

use super::ChatApiError;
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body of type `T`.
pub struct ChatJson<T>(pub T);

impl<S, T> FromRequest<S> for ChatJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ChatApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ChatApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ChatJson(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ChatApiError::TooLarge(format!(
                    "the request body is over {} bytes; a chat message or template is at \
                     most {} characters",
                    crate::http::BODY_LIMIT,
                    crate::chat::MAX_TEXT_CHARS
                )))
            }
            Err(rejection) => Err(ChatApiError::bad_request(format!(
                "the request body is not what this route takes: {}; send JSON with \
                 `Content-Type: application/json` as the chat API documentation shows",
                rejection.body_text()
            ))),
        }
    }
}

/// A query string of type `T`.
pub struct ChatQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ChatQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ChatApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ChatApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ChatQuery(value)),
            Err(rejection) => Err(ChatApiError::bad_request(format!(
                "the query string is not what this route takes: {}",
                rejection.body_text()
            ))),
        }
    }
}
