//! Quick-response templates: every agent lists them; only managers (a plan queue's
//! `managers`) create, change and delete them, as the chat guide says ("only Managers,
//! Group Owners and System Owners have the rights to manage chat templates").
//!
//! A template belongs to the queues its writer manages, as the running plan says now:
//! a manager changes or deletes the templates they wrote and those of the other managers
//! of a queue they manage too, not those of a manager of other queues only (the guide's
//! managers manage their own group's templates). A template whose writer manages no
//! queue any more (left the office, or no longer a manager) is every manager's to tidy,
//! so none is left that nobody may change. Ownership is read from `created_by` and the
//! plan, so a change of managers in the plan moves the templates with them.

use super::error::ChatError;
use super::hub::ChatHub;
use crate::sqlite_store::{ChatTemplate, TemplateFilter, TemplateText};
use crate::wall_clock::now_ms;
use switchboard_core::office::is_manager;
use switchboard_dsl::Plan;
use switchboard_dsl::ast::Queue;

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
        let (plan, actor) = (self.plan(), actor.to_string());
        self.transaction("change a chat template", move |tx| {
            let template = tx.template(id)?.ok_or_else(|| no_such(id))?;
            may_change(&plan, &actor, &template)?;
            if tx.update_template(id, &t, now)? {
                Ok(())
            } else {
                Err(no_such(id))
            }
        })
        .await
    }

    /// Deletes template `id`, when `actor` may change it.
    pub async fn delete_template(&self, actor: &str, id: i64) -> Result<(), ChatError> {
        self.may_manage(actor)?;
        let (plan, actor) = (self.plan(), actor.to_string());
        self.transaction("delete a chat template", move |tx| {
            let template = tx.template(id)?.ok_or_else(|| no_such(id))?;
            may_change(&plan, &actor, &template)?;
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

/// The queues `extension` manages in `plan`, in plan order.
fn managed_by<'p>(plan: &'p Plan, extension: &str) -> Vec<&'p Queue> {
    plan.queues
        .iter()
        .filter(|q| {
            q.managers
                .iter()
                .any(|m| m.literal().as_deref() == Some(extension))
        })
        .collect()
}

/// Whether manager `actor` may change or delete `template`: see the module's rule.
fn may_change(plan: &Plan, actor: &str, template: &ChatTemplate) -> Result<(), ChatError> {
    let writer = template.created_by.as_str();
    if writer == actor {
        return Ok(());
    }
    let theirs = managed_by(plan, writer);
    if theirs.is_empty() {
        return Ok(());
    }
    let mine = managed_by(plan, actor);
    if theirs
        .iter()
        .any(|q| mine.iter().any(|m| m.number == q.number))
    {
        return Ok(());
    }
    let named = |queues: &[&Queue]| {
        queues
            .iter()
            .map(|q| match &q.name {
                Some(name) => format!("{name} ({})", q.number),
                None => q.number.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let writer_named = match plan.extension(writer).and_then(|e| e.name.as_deref()) {
        Some(name) => format!("{writer} ({name})"),
        None => writer.to_string(),
    };
    Err(ChatError::NotAllowed(format!(
        "chat template {} was written by {writer_named}, a manager of {}; you manage {}, \
         so it is not yours to change: a manager changes the templates of the queues they \
         manage. Ask {writer}, or an admin to list you in the `managers` of one of its \
         queues",
        template.id,
        named(&theirs),
        named(&mine),
    )))
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
