//! Files and images sent in chat: the bytes kept under the data folder, content-addressed
//! (`<data folder>/chat-files/<sha256>`), and the agents' sending and reading of them.
//!
//! Order matters for a crash: the bytes are written to a temporary file, synced, renamed
//! into place and the folder synced BEFORE the `chat_files` row and the message naming it
//! are committed (one transaction). A crash before the commit leaves at most a file no
//! row names (harmless: the same bytes uploaded again reuse it); never a message
//! pointing at nothing.

use super::actions::{event, offered_before, send, take_for};
use super::error::ChatError;
use super::event::ChatEventKind;
use super::file_types::{CheckedFile, FileRefusal, check_file};
use super::hub::{ChatHub, checked, now_ms};
use crate::sqlite_store::{ChatFileRow, ChatMessageRow};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use switchboard_core::chat::visibility::Action;
use switchboard_dsl::ast::Channel;

/// The folder, beside the office store's file, holding the chat files' bytes.
pub const FILES_FOLDER: &str = "chat-files";

/// Why sending a file failed; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum SendFileError {
    /// The file itself is refused (400, 413 or 415).
    #[error(transparent)]
    Refused(#[from] FileRefusal),
    /// The conversation refused it (404, 409, …).
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// The bytes could not be written (500); the words name the folder.
    #[error("{0}")]
    Disk(String),
}

/// The attachment of a message carrying file `f`, as stored in `chat_messages` and
/// shown to the agents: `{"id", "name", "type", "size"}`.
pub fn attachment_json(f: &ChatFileRow) -> serde_json::Value {
    serde_json::json!({"id": f.id, "name": f.name, "type": f.content_type, "size": f.size})
}

/// What a live-chat visitor is shown for a message: its text, or for a file an agent
/// sent (which the widget cannot fetch yet) a line naming it, never an empty bubble.
pub fn visitor_text(text: String, attachment: Option<&str>) -> String {
    if !text.is_empty() {
        return text;
    }
    let name = attachment
        .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
        .and_then(|a| a.get("name").and_then(|n| n.as_str()).map(String::from));
    match name {
        Some(name) => format!("The agent sent a file, {name}; ask them for it by email."),
        None => text,
    }
}

/// Where file `sha256`'s bytes are, under `dir` (the `chat-files` folder).
pub fn blob_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(sha256)
}

/// Writes `bytes` under `dir` named by their SHA-256 (lowercase hex), atomically and
/// durably: temp file, fsync, rename, fsync of the folder. Bytes already there are kept.
/// Blocking: call it off the async workers (`spawn_blocking`).
pub fn write_blob(dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    let sha256 = crate::hex::encode(&Sha256::digest(bytes));
    let target = blob_path(dir, &sha256);
    std::fs::create_dir_all(dir)?;
    if std::fs::metadata(&target).is_ok_and(|m| m.len() == bytes.len() as u64) {
        return Ok(sha256);
    }
    // A name nobody else writes: this process, this moment, created new (never reused).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let temp = dir.join(format!(
        ".upload-{sha256}-{}-{nanos}.tmp",
        std::process::id()
    ));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(sha256)
}

impl ChatHub {
    /// The `chat-files` folder: beside the office store's file, in the data folder.
    pub async fn files_dir(&self) -> Result<PathBuf, ChatError> {
        let store_file = self.store.run_sqlite(|s| s.path().to_path_buf()).await?;
        let data = store_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(data.join(FILES_FOLDER))
    }

    /// `actor` sends file `name` (`bytes`) in conversation `id`, like a reply: answering
    /// an unowned conversation takes it. Refused (nothing written, not even the bytes)
    /// when the file is not allowed or `actor` may not reply there.
    pub async fn send_file(
        &self,
        actor: &str,
        id: i64,
        name: &str,
        bytes: axum::body::Bytes,
    ) -> Result<ChatMessageRow, SendFileError> {
        let file = check_file(name, &bytes)?;
        // May they reply here at all? Asked before the bytes are written, so a refusal
        // leaves nothing on disk; asked again in the transaction that stores the message.
        let plan = self.plan();
        let who = actor.to_string();
        self.transaction("check a chat file's conversation", move |tx| {
            let (c, _) = checked(tx, &plan, id, &who, Action::Reply)?;
            // The providers' senders do not carry files yet (a reply would leave as empty
            // text): refuse here, before anything is written, rather than lose the file.
            if c.channel != Channel::LiveChat {
                return Err(ChatError::NotAllowed(format!(
                    "files cannot be sent to {} customers yet; put a link in a text reply \
                     instead (nothing was sent)",
                    channel_words(c.channel)
                )));
            }
            Ok(())
        })
        .await?;
        let dir = self.files_dir().await?;
        let size = bytes.len() as u64;
        let sha256 = {
            let into = dir.clone();
            tokio::task::spawn_blocking(move || write_blob(&into, &bytes))
                .await
                .map_err(|e| SendFileError::Disk(format!("the file could not be written: {e}")))?
                .map_err(|e| {
                    SendFileError::Disk(format!(
                        "the file could not be written to {}: {e}; check the data folder's \
                         space and permissions",
                        dir.display()
                    ))
                })?
        };
        let plan = self.plan();
        let actor = actor.to_string();
        let now = now_ms();
        let CheckedFile {
            name, content_type, ..
        } = file;
        let (message, event) = self
            .transaction("store a chat file", move |tx| {
                let (c, offered) = checked(tx, &plan, id, &actor, Action::Reply)?;
                let before = offered_before(&c, &offered);
                if c.owner.is_none() {
                    take_for(tx, &plan, &c, &actor, now)?;
                }
                let mut row = ChatFileRow {
                    id: 0,
                    sha256,
                    name,
                    content_type: content_type.to_string(),
                    size,
                    uploaded_by: actor.clone(),
                    at_ms: now,
                };
                row.id = tx.insert_file(&row)?;
                let attachment = attachment_json(&row).to_string();
                let message = send(tx, &c, &actor, "", Some(&attachment), now)?;
                let event = event(
                    ChatEventKind::Message,
                    &c,
                    Some(message.id),
                    &before,
                    vec![actor.clone()],
                );
                Ok((message, event))
            })
            .await?;
        self.announce(event);
        Ok(message)
    }

    /// File `file_id` and where its bytes are, when `actor` sees a conversation holding
    /// it; `NotVisible` otherwise (whether it exists is not told).
    pub async fn file_for_agent(
        &self,
        actor: &str,
        file_id: i64,
    ) -> Result<(ChatFileRow, PathBuf), ChatError> {
        let plan = self.plan();
        let actor = actor.to_string();
        let row = self
            .transaction("read a chat file", move |tx| {
                let Some(row) = tx.file(file_id)? else {
                    return Err(ChatError::NotVisible);
                };
                for conversation in tx.conversations_holding_file(file_id)? {
                    if checked(tx, &plan, conversation, &actor, Action::See).is_ok() {
                        return Ok(row);
                    }
                }
                Err(ChatError::NotVisible)
            })
            .await?;
        let path = blob_path(&self.files_dir().await?, &row.sha256);
        Ok((row, path))
    }

    /// File `file_id` and where its bytes are, when it was sent in live-chat visitor
    /// `visitor`'s conversation; `NotVisible` otherwise.
    pub async fn file_for_visitor(
        &self,
        visitor: &str,
        file_id: i64,
    ) -> Result<(ChatFileRow, PathBuf), ChatError> {
        let visitor = visitor.to_string();
        let row = self
            .transaction("read a chat file for a visitor", move |tx| {
                let Some(row) = tx.file(file_id)? else {
                    return Err(ChatError::NotVisible);
                };
                for id in tx.conversations_holding_file(file_id)? {
                    if tx
                        .conversation(id)?
                        .is_some_and(|c| c.channel == Channel::LiveChat && c.customer == visitor)
                    {
                        return Ok(row);
                    }
                }
                Err(ChatError::NotVisible)
            })
            .await?;
        let path = blob_path(&self.files_dir().await?, &row.sha256);
        Ok((row, path))
    }
}

/// A channel as the admin and agents name it.
fn channel_words(channel: Channel) -> &'static str {
    match channel {
        Channel::LiveChat => "live-chat",
        Channel::WhatsApp => "WhatsApp",
        Channel::Facebook => "Facebook",
        Channel::Sms => "SMS",
    }
}
