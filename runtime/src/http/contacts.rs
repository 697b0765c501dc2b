//! The office's shared address book for its people: `GET /api/contacts?q=` (search by
//! name, company, e-mail, note or number), `POST /api/contacts`, `PUT /api/contacts/{id}`
//! and `DELETE /api/contacts/{id}`. Every signed-in person reads and edits the same
//! contacts (the guard lets only a person's session here); the chat's Information shows
//! the one whose number or e-mail is the customer's.
//!
//! A contact is checked whole before anything is stored: a name, numbers that are phone
//! numbers (kept in E.164, see `phone`), an e-mail that looks like one, and bounded text.

pub mod phone;

use super::auth::SignedInPerson;
use super::{AppError, AppState};
use crate::sqlite_store::{Contact, ContactText};
use crate::wall_clock::now_ms;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

/// The longest name or company, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// The most phone numbers one contact keeps.
pub const MAX_PHONES: usize = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/contacts", get(search).post(create))
        .route("/api/contacts/{id}", put(update).delete(remove))
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    Query(search): Query<Search>,
) -> Result<Json<Vec<Contact>>, AppError> {
    let q = search.q;
    let found = state
        .store
        .run_sqlite(move |store| store.contacts(&q))
        .await;
    Ok(Json(found.and_then(|r| r).map_err(store_failed)?))
}

async fn create(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    body: Result<Json<ContactText>, JsonRejection>,
) -> Result<(StatusCode, Json<Contact>), AppError> {
    let text = checked(body)?;
    let stored = state
        .store
        .run_sqlite(move |store| {
            let id = store.create_contact(&text, &person.extension, now_ms())?;
            store.contact(id)
        })
        .await
        .and_then(|r| r)
        .map_err(store_failed)?;
    let contact =
        stored.ok_or_else(|| AppError::Internal("the new contact was not stored".into()))?;
    Ok((StatusCode::CREATED, Json(contact)))
}

async fn update(
    State(state): State<AppState>,
    Extension(person): Extension<SignedInPerson>,
    Path(raw): Path<String>,
    body: Result<Json<ContactText>, JsonRejection>,
) -> Result<Json<Contact>, AppError> {
    let id = contact_id(&raw)?;
    let text = checked(body)?;
    let stored = state
        .store
        .run_sqlite(move |store| {
            if store.update_contact(id, &text, &person.extension, now_ms())? {
                store.contact(id)
            } else {
                Ok(None)
            }
        })
        .await
        .and_then(|r| r)
        .map_err(store_failed)?;
    stored.map(Json).ok_or_else(|| no_contact(id))
}

async fn remove(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<StatusCode, AppError> {
    let id = contact_id(&raw)?;
    let removed = state
        .store
        .run_sqlite(move |store| store.delete_contact(id))
        .await
        .and_then(|r| r)
        .map_err(store_failed)?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_contact(id))
    }
}

fn contact_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        AppError::BadRequest(format!(
            "{raw:?} is not a contact id; GET /api/contacts lists the contacts with their ids"
        ))
    })
}

fn no_contact(id: i64) -> AppError {
    AppError::NotFound(format!(
        "there is no contact {id}; GET /api/contacts lists the contacts with their ids"
    ))
}

fn store_failed(e: switchboard_core::store::StoreError) -> AppError {
    AppError::Internal(e.to_string())
}

/// The contact as it will be stored: trimmed, numbers in E.164, empty fields as none;
/// or the first thing wrong with it, in words.
fn checked(body: Result<Json<ContactText>, JsonRejection>) -> Result<ContactText, AppError> {
    let Json(text) = body.map_err(|e| {
        AppError::BadRequest(format!(
            "a contact is JSON {{\"name\", \"phones\": [..], \"email\", \"company\", \
             \"note\"}}: {}",
            e.body_text()
        ))
    })?;
    let name = text.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadRequest(format!(
            "a contact needs a name of 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if text.phones.len() > MAX_PHONES {
        return Err(AppError::BadRequest(format!(
            "a contact keeps at most {MAX_PHONES} phone numbers"
        )));
    }
    let mut phones = Vec::new();
    for written in &text.phones {
        let number = phone::normalise(written).map_err(AppError::BadRequest)?;
        if !phones.contains(&number) {
            phones.push(number);
        }
    }
    let optional = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let email = optional(text.email);
    if let Some(email) = &email {
        let looks_like_one = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
        if !looks_like_one {
            return Err(AppError::BadRequest(format!(
                "{email:?} is not an e-mail address; write it as name@example.com"
            )));
        }
    }
    let company = optional(text.company);
    if company
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_NAME_CHARS)
    {
        return Err(AppError::BadRequest(format!(
            "a company name is at most {MAX_NAME_CHARS} characters"
        )));
    }
    let note = optional(text.note);
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(AppError::BadRequest(format!(
            "a note is at most {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(ContactText {
        name,
        phones,
        email,
        company,
        note,
    })
}
