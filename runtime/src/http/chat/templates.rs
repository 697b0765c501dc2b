//! Quick-response templates: `GET /api/chat/templates?category=&language=&q=` for
//! every person; `POST`, `PUT /{id}` and `DELETE /{id}` for managers only (a plan
//! queue's `managers`; the chat guide: "only Managers … have the rights to manage chat
//! templates"), 403 for anyone else; a change or delete also 403 for a template of
//! another manager's queues only (`chat::templates` has the rule). The hub checks who
//! may; this layer reads the request and refuses an over-long text with 413 before
//! anything is stored.

use super::api_error::from_hub;
use super::{Agent, ChatApiError, ChatJson, ChatQuery, check_length};
use crate::chat::{ChatTemplate, TemplateFilter, TemplateText};
use crate::http::{AppState, time};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};

/// `GET /api/chat/templates`' query; every field left out matches every template.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub language: String,
    /// Words to find in the title or the text, whatever their case.
    #[serde(default)]
    pub q: String,
}

/// A template's words, to create one or replace one's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// The tab it is listed under ("Greetings", "Billing").
    pub category: String,
    /// The language it is written in ("en", "de").
    pub language: String,
    pub title: String,
    pub text: String,
}

/// A template as the routes show it.
#[derive(Serialize, Debug)]
pub struct TemplateView {
    pub id: i64,
    pub category: String,
    pub language: String,
    pub title: String,
    pub text: String,
    /// The manager who wrote it.
    pub created_by: String,
    pub updated_at: String,
}

/// What a create or a change answers.
#[derive(Serialize, Debug)]
pub struct Written {
    pub template: WrittenTemplate,
}

#[derive(Serialize, Debug)]
pub struct WrittenTemplate {
    pub id: i64,
    pub category: String,
    pub language: String,
    pub title: String,
    pub text: String,
}

/// `GET /api/chat/templates`.
pub async fn list(
    State(state): State<AppState>,
    _agent: Agent,
    ChatQuery(query): ChatQuery<ListQuery>,
) -> Result<Json<Vec<TemplateView>>, ChatApiError> {
    let filter = TemplateFilter {
        category: query.category.trim().to_string(),
        language: query.language.trim().to_string(),
        q: query.q.trim().to_string(),
    };
    let found = state.chat.templates(filter).await;
    let templates = found.map_err(|e| from_hub(e, &state.plans.plan(), None))?;
    Ok(Json(templates.into_iter().map(view).collect()))
}

/// `POST /api/chat/templates`: 201 with the template.
pub async fn create(
    State(state): State<AppState>,
    agent: Agent,
    ChatJson(body): ChatJson<TemplateBody>,
) -> Result<(StatusCode, Json<Written>), ChatApiError> {
    let text = words(&body)?;
    let created = state
        .chat
        .create_template(&agent.extension, text.clone())
        .await;
    let id = created.map_err(|e| from_hub(e, &state.plans.plan(), None))?;
    Ok((StatusCode::CREATED, Json(written(id, text))))
}

/// `PUT /api/chat/templates/{id}`: the template's new words.
pub async fn update(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
    ChatJson(body): ChatJson<TemplateBody>,
) -> Result<Json<Written>, ChatApiError> {
    let id = template_id(&raw)?;
    let text = words(&body)?;
    let changed = state
        .chat
        .update_template(&agent.extension, id, text.clone())
        .await;
    changed.map_err(|e| from_hub(e, &state.plans.plan(), None))?;
    Ok(Json(written(id, text)))
}

/// `DELETE /api/chat/templates/{id}`: 204.
pub async fn remove(
    State(state): State<AppState>,
    agent: Agent,
    Path(raw): Path<String>,
) -> Result<StatusCode, ChatApiError> {
    let id = template_id(&raw)?;
    let deleted = state.chat.delete_template(&agent.extension, id).await;
    deleted.map_err(|e| from_hub(e, &state.plans.plan(), None))?;
    Ok(StatusCode::NO_CONTENT)
}

fn template_id(raw: &str) -> Result<i64, ChatApiError> {
    raw.parse().map_err(|_| {
        ChatApiError::bad_request(format!(
            "`{raw}` is not a template id (a number); GET /api/chat/templates lists them \
             with their ids"
        ))
    })
}

/// The body's words, trimmed, with the text's length checked (413 when too long).
fn words(body: &TemplateBody) -> Result<TemplateText, ChatApiError> {
    check_length(&body.text)?;
    Ok(TemplateText {
        category: body.category.trim().to_string(),
        language: body.language.trim().to_string(),
        title: body.title.trim().to_string(),
        text: body.text.clone(),
    })
}

fn written(id: i64, t: TemplateText) -> Written {
    Written {
        template: WrittenTemplate {
            id,
            category: t.category,
            language: t.language,
            title: t.title,
            text: t.text,
        },
    }
}

fn view(t: ChatTemplate) -> TemplateView {
    TemplateView {
        id: t.id,
        category: t.category,
        language: t.language,
        title: t.title,
        text: t.text,
        created_by: t.created_by,
        updated_at: time::rfc3339(UNIX_EPOCH + Duration::from_millis(t.updated_at_ms)),
    }
}
