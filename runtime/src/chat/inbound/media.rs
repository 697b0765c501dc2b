//! A customer's files sent through their provider (WhatsApp, Messenger, Twilio MMS) on
//! their way to being chat files: each item of the message's `attachment` array is
//! queued for fetching in the transaction that stores the message (`queue_fetches`), and
//! the hub's side of the fetcher (`chat_channels::media_fetcher`) claims, marks and
//! stores them here.
//!
//! A fetched file is stored like an agent's (`files::write_blob`, bytes durable first,
//! then one transaction): its `chat_files` row, its item of the message's attachment
//! replaced by `{id, name, type, size}`, the fetch marked done. A file that cannot be
//! kept (too large, a type the office does not accept, refused by the provider) becomes
//! an item `{"note": "…"}` instead, in words for the agent. Either way the agents who see
//! the conversation hear `attachment`, and their open pages read it again.

use super::super::error::ChatError;
use super::super::event::{ChatEvent, ChatEventKind};
use super::super::file_types::CheckedFile;
use super::super::files::{attachment_json, write_blob};
use super::super::hub::{ChatHub, visible_to};
use super::Inbound;
use crate::sqlite_store::chat_media::{MediaJob, MediaState};
use crate::sqlite_store::{ChatFileRow, ChatTx};
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;

/// Queues every item of `inbound`'s attachment array (a provider's media) for fetching,
/// inside the transaction storing message `message_id`.
pub(super) fn queue_fetches(
    tx: &ChatTx<'_>,
    inbound: &Inbound,
    message_id: i64,
    now: u64,
) -> Result<(), ChatError> {
    if inbound.channel == Channel::LiveChat {
        return Ok(());
    }
    let Some(json) = inbound.attachment.as_deref() else {
        return Ok(());
    };
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(json) else {
        return Ok(());
    };
    for (index, item) in items.iter().enumerate() {
        if item.is_object() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            tx.enqueue_media(message_id, index, inbound.channel, &item.to_string(), now)?;
        }
    }
    Ok(())
}

impl ChatHub {
    /// Claims up to `limit` customer files due by `now_ms` for `attempt_id`, for `lease_ms`.
    pub async fn media_claim_due(
        &self,
        now_ms: u64,
        lease_ms: u64,
        attempt_id: &str,
        limit: u32,
    ) -> Result<Vec<MediaJob>, ChatError> {
        let attempt_id = attempt_id.to_string();
        self.transaction("claim customer files to fetch", move |tx| {
            Ok(tx.claim_due_media(now_ms, lease_ms, &attempt_id, limit)?)
        })
        .await
    }

    /// When the next customer file is due, if any.
    pub async fn media_next_due(&self) -> Result<Option<u64>, ChatError> {
        self.transaction("read when the next customer file is due", |tx| {
            Ok(tx.next_media_due()?)
        })
        .await
    }

    /// Makes every customer file waiting for its next try due at `now_ms`; how many.
    pub async fn media_retry_waiting_now(&self, now_ms: u64) -> Result<usize, ChatError> {
        self.transaction("make the waiting customer files due", move |tx| {
            Ok(tx.retry_waiting_media_now(now_ms)?)
        })
        .await
    }

    /// `job` failed for now: due again at `retry_at_ms`. False when its claim was lost.
    pub async fn media_mark_retry(
        &self,
        job: &MediaJob,
        retry_at_ms: u64,
        error: &str,
    ) -> Result<bool, ChatError> {
        let (id, attempt, error) = (job.id, job.attempt_id.clone(), error.to_string());
        self.transaction("mark a customer file for another try", move |tx| {
            Ok(tx.mark_media_retry(id, &attempt, retry_at_ms, &error)?)
        })
        .await
    }

    /// `job`'s file will not be kept: its item becomes a note with `words` for the agent,
    /// and the agents who see the conversation are told. False when its claim was lost.
    pub async fn media_note(&self, job: &MediaJob, words: &str) -> Result<bool, ChatError> {
        let (id, attempt, words) = (job.id, job.attempt_id.clone(), words.to_string());
        let message_id = job.message_id;
        let done = self
            .transaction("note a customer file that is not kept", move |tx| {
                let item = serde_json::json!({"note": words}).to_string();
                if !tx.finish_media(id, &attempt, false, Some(&words), &item)? {
                    return Ok((false, None));
                }
                Ok((true, attachment_event(tx, message_id)?))
            })
            .await?;
        Ok(self.told(done))
    }

    /// Stores `bytes` (checked as `file`) as the chat file of `job`: the bytes written and
    /// synced first, then in one transaction its `chat_files` row (uploaded by
    /// `customer:<their address>`), its item of the message's attachment and the job
    /// marked done; the agents who see the conversation are told. False, with nothing
    /// recorded (the bytes may stay on disk, harmless: see `files`), when its claim was
    /// lost.
    pub async fn media_store_file(
        &self,
        job: &MediaJob,
        file: CheckedFile,
        bytes: Vec<u8>,
        now_ms: u64,
    ) -> Result<bool, ChatError> {
        let dir = self.files_dir().await?;
        let size = bytes.len() as u64;
        let sha256 = {
            let into = dir.clone();
            tokio::task::spawn_blocking(move || write_blob(&into, &bytes))
                .await
                .map_err(|e| {
                    ChatError::Store(StoreError::new(format!(
                        "a customer's file was not written: {e}"
                    )))
                })?
                .map_err(|e| {
                    ChatError::Store(StoreError::new(format!(
                        "a customer's file could not be written to {}: {e}; check the data \
                         folder's space and permissions",
                        dir.display()
                    )))
                })?
        };
        let (id, attempt, message_id) = (job.id, job.attempt_id.clone(), job.message_id);
        let done = self
            .transaction("store a customer's file", move |tx| {
                if !tx.holds_media(id, &attempt)? {
                    return Ok((false, None));
                }
                let customer = match tx.conversation_of_message(message_id)? {
                    Some(c) => tx.conversation(c)?.map(|c| c.customer).unwrap_or_default(),
                    None => String::new(),
                };
                let mut row = ChatFileRow {
                    id: 0,
                    sha256,
                    name: file.name,
                    content_type: file.content_type.to_string(),
                    size,
                    uploaded_by: format!("customer:{customer}"),
                    at_ms: now_ms,
                };
                row.id = tx.insert_file(&row)?;
                let item = attachment_json(&row).to_string();
                if !tx.finish_media(id, &attempt, true, None, &item)? {
                    return Err(ChatError::Store(StoreError::new(format!(
                        "customer file {id} was claimed away while it was stored"
                    ))));
                }
                Ok((true, attachment_event(tx, message_id)?))
            })
            .await?;
        Ok(self.told(done))
    }

    /// How message `message_id`'s files are being fetched, by item.
    pub async fn media_states(&self, message_id: i64) -> Result<Vec<MediaState>, ChatError> {
        self.transaction("read how a message's files are fetched", move |tx| {
            Ok(tx.media_states(message_id)?)
        })
        .await
    }

    /// Announces what a mark changed; whether it marked.
    fn told(&self, (marked, event): (bool, Option<ChatEvent>)) -> bool {
        if let Some(e) = event {
            self.announce(e);
        }
        marked
    }
}

/// The `attachment` event of message `message_id`, for whoever sees its conversation;
/// none when it is gone.
fn attachment_event(tx: &ChatTx<'_>, message_id: i64) -> Result<Option<ChatEvent>, ChatError> {
    let Some(conversation_id) = tx.conversation_of_message(message_id)? else {
        return Ok(None);
    };
    let Some(c) = tx.conversation(conversation_id)? else {
        return Ok(None);
    };
    let offered = tx.offered_to(c.id)?;
    Ok(Some(ChatEvent {
        kind: ChatEventKind::Attachment,
        conversation_id: c.id,
        message_id: Some(message_id),
        channel: c.channel,
        customer: c.customer.clone(),
        visible_to: visible_to(c.owner.as_deref(), &offered),
        gone_for: Vec::new(),
    }))
}
