//! Files in colleagues' chat: a member sends one into a thread (`POST
//! /api/team/threads/{id}/files?name=`, the raw bytes as the body, like the customers'
//! chat) and the members of a thread holding it read it back (`GET /api/team/files/{id}`).
//! The checks, storage and download are the customers' chat's (`chat/file_types.rs`,
//! `chat/files.rs`, `http/chat/files.rs::serve`); a refused file stores nothing.

use super::{TeamApiError, refused};
use crate::chat::file_types::MAX_FILE_BYTES;
use crate::chat::team::{MessageView, NO_FILE, TeamError, TeamFileError};
use crate::http::auth::SignedInPerson;
use crate::http::{AppError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// `POST …/files`' query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    name: Option<String>,
}

/// `POST /api/team/threads/{id}/files?name=report.pdf` → 201 with the message, its
/// `attachment` `{id, name, type, size}`; 400 empty or unnamed, 413 over 10 MB, 415 a
/// type the chat guide does not list or content that is not what the name says; 404 a
/// thread the person is not in.
pub async fn send(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    Path(raw): Path<String>,
    query: Result<Query<Named>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<MessageView>), TeamApiError> {
    let id = super::threads::thread_id(&raw)?;
    let Ok(Query(Named { name })) = query else {
        return Err(AppError::BadRequest(
            "the only parameter is ?name=, the file's name (e.g. ?name=report.pdf)".into(),
        )
        .into());
    };
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            TeamApiError::Status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the file is over 10 MB; files up to 10 MB ({MAX_FILE_BYTES} bytes) can be \
                     sent"
                ),
            )
        } else {
            AppError::BadRequest(format!(
                "the file could not be read: {}",
                rejection.body_text()
            ))
            .into()
        }
    })?;
    let dir = state
        .chat
        .files_dir()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let name = name.unwrap_or_default();
    let sent = state
        .chat
        .team()
        .send_file(&person.extension, id, &name, bytes, &dir)
        .await;
    match sent {
        Ok(message) => Ok((StatusCode::CREATED, Json(message))),
        Err(TeamFileError::Refused(r)) => Err(TeamApiError::Status(r.status(), r.to_string())),
        Err(TeamFileError::Team(e)) => Err(refused(e)),
        Err(TeamFileError::Disk(words)) => Err(AppError::Internal(words).into()),
    }
}

/// `GET /api/team/files/{id}`: the bytes, for a member of a thread holding the file; 404
/// for anyone else, the same as for an id never used.
pub async fn read(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    Path(raw): Path<String>,
) -> Response {
    let not_found = || refused(TeamError::NotFound(NO_FILE.to_string())).into_response();
    let Ok(file_id) = raw.parse::<i64>() else {
        return not_found();
    };
    let dir = match state.chat.files_dir().await {
        Ok(dir) => dir,
        Err(e) => return TeamApiError::from(AppError::Internal(e.to_string())).into_response(),
    };
    match state
        .chat
        .team()
        .file_for_member(&person.extension, file_id, &dir)
        .await
    {
        Ok((row, path)) => {
            crate::http::chat::files::serve(&row.name, &row.content_type, path).await
        }
        Err(e) => refused(e).into_response(),
    }
}
