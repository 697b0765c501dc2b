//! Quick-response templates: every agent lists them; only managers (a plan queue's
//! `managers`) create, change and delete them, as the chat guide says ("only Managers,
//! Group Owners and System Owners have the rights to manage chat templates").

use super::error::ChatError;
use super::hub::{ChatHub, now_ms};
use crate::sqlite_store::{ChatTemplate, TemplateFilter, TemplateText};
use switchboard_core::office::is_manager;

/// The longest template text, in characters: a reply's limit.
const MAX_TEMPLATE_CHARS: usize = super::inbound::MAX_TEXT_CHARS;

impl ChatHub {
    /// The templates `filter` selects.
    pub async fn templates(&self, filter: TemplateFilter) -> Result<Vec<ChatTemplate>, ChatError> {
        self.transaction("list chat templates", move |tx| Ok(tx.templates(&filter)?))
            .await
    }

    /// A new template by manager `actor`; its id.
    pub async fn create_template(&self, actor: &str, t: TemplateText) -> Result<i64, ChatError> {
        self.may_manage(actor)?;
        check(&t)?;
        let actor = actor.to_string();
        let now = now_ms();
        self.transaction("store a chat template", move |tx| {
            Ok(tx.insert_template(&t, &actor, now)?)
        })
        .await
    }

    /// Replaces template `id`'s words.
    pub async fn update_template(
        &self,
        actor: &str,
        id: i64,
        t: TemplateText,
    ) -> Result<(), ChatError> {
        self.may_manage(actor)?;
        check(&t)?;
        let now = now_ms();
        self.transaction("change a chat template", move |tx| {
            if tx.update_template(id, &t, now)? {
                Ok(())
            } else {
                Err(no_such(id))
            }
        })
        .await
    }

    pub async fn delete_template(&self, actor: &str, id: i64) -> Result<(), ChatError> {
        self.may_manage(actor)?;
        self.transaction("delete a chat template", move |tx| {
            if tx.delete_template(id)? {
                Ok(())
            } else {
                Err(no_such(id))
            }
        })
        .await
    }

    fn may_manage(&self, actor: &str) -> Result<(), ChatError> {
        if is_manager(&self.plan(), actor) {
            Ok(())
        } else {
            Err(ChatError::NotAllowed(
                "only a queue's managers may write chat templates; ask one of them, or an admin to list you in a queue's `managers`".into(),
            ))
        }
    }
}

fn no_such(id: i64) -> ChatError {
    ChatError::NotFound(format!(
        "there is no chat template {id}; GET /api/chat/templates lists them with their ids"
    ))
}

fn check(t: &TemplateText) -> Result<(), ChatError> {
    for (field, value) in [
        ("category", &t.category),
        ("language", &t.language),
        ("title", &t.title),
        ("text", &t.text),
    ] {
        if value.trim().is_empty() {
            return Err(ChatError::Invalid(format!(
                "a chat template needs a {field}"
            )));
        }
    }
    let chars = t.text.chars().count();
    if chars > MAX_TEMPLATE_CHARS {
        return Err(ChatError::Invalid(format!(
            "the template's text has {chars} characters; at most {MAX_TEMPLATE_CHARS} can be sent"
        )));
    }
    Ok(())
}
