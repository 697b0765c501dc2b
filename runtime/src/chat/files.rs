//! Files and images sent in chat: the bytes kept under the data folder, content-addressed
//! (`<data folder>/chat-files/<sha256>`), and the agents' sending and reading of them.
//!
//! Whoever holds a signed link (`file_links`) reads a file without a session: the
//! live-chat visitor's widget, and the providers that fetch what an agent sent to a
//! WhatsApp, Facebook or SMS customer. The links' key is `<data folder>/chat-link.key`.
//!
//! Order matters for a crash: the bytes are written to a temporary file, synced, renamed
//! into place and the folder synced BEFORE the `chat_files` row and the message naming it
//! are committed (one transaction). A crash before the commit leaves at most a file no
//! row names (harmless: the same bytes uploaded again reuse it); never a message
//! pointing at nothing.

use super::actions::{event, offered_before, send, take_for};
use super::error::ChatError;
use super::event::ChatEventKind;
use super::file_links::{KEY_BYTES, LinkKey};
use super::file_types::{CheckedFile, FileRefusal, check_file};
use super::hub::{ChatHub, checked};
use crate::sqlite_store::{ChatFileRow, ChatMessageRow};
use crate::wall_clock::now_ms;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use switchboard_core::chat::visibility::Action;
use switchboard_dsl::ast::Channel;

/// The folder, beside the office store's file, holding the chat files' bytes.
pub const FILES_FOLDER: &str = "chat-files";

/// The file, beside the office store's file, holding the key of the public file links:
/// 32 random bytes, made (mode 0600) the first time a link is signed.
pub const LINK_KEY_FILE: &str = "chat-link.key";

/// Why sending a file failed; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum SendFileError {
    /// The file itself is refused (400, 413 or 415).
    #[error(transparent)]
    Refused(#[from] FileRefusal),
    /// The conversation refused it (404, 409, …).
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// A provider's customer, and no `chat.public-url` for the provider to fetch the file
    /// from (409); the words name the key.
    #[error("{0}")]
    NoPublicUrl(String),
    /// The bytes could not be written (500); the words name the folder.
    #[error("{0}")]
    Disk(String),
}

/// The attachment of a message carrying file `f`, as stored in `chat_messages` and
/// shown to the agents: `{"id", "name", "type", "size"}`.
pub fn attachment_json(f: &ChatFileRow) -> serde_json::Value {
    serde_json::json!({"id": f.id, "name": f.name, "type": f.content_type, "size": f.size})
}

/// A message's attachment as stored (`attachment_json`), read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct StoredAttachment {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub content_type: String,
    pub size: u64,
}

impl StoredAttachment {
    /// The attachment of a message, from its stored JSON; `None` for none, or for one
    /// that is not a file the office sent (a customer's media: provider URLs).
    pub fn parse(json: &str) -> Option<StoredAttachment> {
        serde_json::from_str(json).ok()
    }
}

/// Reads the link key in `data` (the data folder), making it the first time: 32 random
/// bytes written to a temporary file (0600), synced, and linked into place only if no
/// other process made one meanwhile (so two never hand out links under different keys).
/// Blocking: call it off the async workers.
pub fn load_or_create_link_key(data: &Path) -> Result<LinkKey, String> {
    let path = data.join(LINK_KEY_FILE);
    let read = |path: &Path| -> Result<Option<LinkKey>, String> {
        match std::fs::read(path) {
            Ok(bytes) => LinkKey::from_bytes(&bytes).map(Some).ok_or_else(|| {
                format!(
                    "{} is not a chat link key ({} bytes, not {KEY_BYTES}); delete it and a new \
                     one is made (links handed out before stop working)",
                    path.display(),
                    bytes.len()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "the chat link key {} cannot be read: {e}; check the data folder's permissions",
                path.display()
            )),
        }
    };
    if let Some(key) = read(&path)? {
        return Ok(key);
    }
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| format!("no random bytes for the chat link key: {e}"))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let temp = data.join(format!(
        ".{LINK_KEY_FILE}-{}-{nanos}.tmp",
        std::process::id()
    ));
    let made = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::hard_link(&temp, &path)
    })();
    let _ = std::fs::remove_file(&temp);
    match made {
        Ok(()) => {
            std::fs::File::open(data)
                .and_then(|d| d.sync_all())
                .map_err(|e| format!("the data folder {} cannot be synced: {e}", data.display()))?;
            Ok(LinkKey::from_bytes(&bytes).expect("KEY_BYTES bytes"))
        }
        // Another process made it first: theirs is the key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(&path)?.ok_or_else(|| format!("the chat link key {} vanished", path.display()))
        }
        Err(e) => Err(format!(
            "the chat link key {} cannot be written: {e}; check the data folder's space and \
             permissions",
            path.display()
        )),
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
        Ok(self.data_dir().await?.join(FILES_FOLDER))
    }

    /// The data folder: the office store file's.
    async fn data_dir(&self) -> Result<PathBuf, ChatError> {
        let store_file = self.store.run_sqlite(|s| s.path().to_path_buf()).await?;
        // A store named without a folder (`switchboard.db`) is in the working folder.
        Ok(store_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf))
    }

    /// The key of the public file links: read (or made) once, on first use, then kept.
    /// The words of an error name the file and the fix.
    pub async fn link_key(&self) -> Result<&LinkKey, String> {
        self.link_key
            .get_or_try_init(|| async {
                let data = self.data_dir().await.map_err(|e| e.to_string())?;
                tokio::task::spawn_blocking(move || load_or_create_link_key(&data))
                    .await
                    .map_err(|e| format!("the chat link key could not be read: {e}"))?
            })
            .await
    }

    /// `actor` sends file `name` (`bytes`) in conversation `id`, like a reply: answering
    /// an unowned conversation takes it. Refused (nothing written, not even the bytes)
    /// when the file is not allowed or `actor` may not reply there, or when the customer
    /// is a provider's and there is no `public_url` (`chat.public-url`) for the provider
    /// to fetch the file from: a provider is handed a link, never the bytes.
    pub async fn send_file(
        &self,
        actor: &str,
        id: i64,
        name: &str,
        bytes: axum::body::Bytes,
        public_url: Option<&str>,
    ) -> Result<ChatMessageRow, SendFileError> {
        let file = check_file(name, &bytes)?;
        // May they reply here at all? Asked before the bytes are written, so a refusal
        // leaves nothing on disk; asked again in the transaction that stores the message.
        let plan = self.plan();
        let who = actor.to_string();
        let channel = self
            .transaction("check a chat file's conversation", move |tx| {
                let (c, _) = checked(tx, &plan, id, &who, Action::Reply)?;
                Ok(c.channel)
            })
            .await?;
        if channel != Channel::LiveChat && public_url.is_none() {
            return Err(SendFileError::NoPublicUrl(format!(
                "files reach {} customers as a link the provider fetches; set \
                 `chat.public-url` in the config file to the address providers reach this \
                 server at (nothing was sent)",
                channel_words(channel)
            )));
        }
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

    /// File `file_id` and where its bytes are, for a signed link (`file_links`): the link
    /// is the permission, so no one's visibility is asked. `NotVisible` for no such file.
    pub async fn file_for_link(&self, file_id: i64) -> Result<(ChatFileRow, PathBuf), ChatError> {
        let row = self
            .transaction("read a chat file for a link", move |tx| {
                tx.file(file_id)?.ok_or(ChatError::NotVisible)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_key_is_made_once_and_a_damaged_one_is_named_with_its_fix() {
        let dir = tempfile::tempdir().unwrap();
        let made = load_or_create_link_key(dir.path()).unwrap();
        let again = load_or_create_link_key(dir.path()).unwrap();
        assert_eq!(
            made.sign(1, 2),
            again.sign(1, 2),
            "the same key is read back"
        );

        std::fs::write(dir.path().join(LINK_KEY_FILE), b"short").unwrap();
        let words = load_or_create_link_key(dir.path()).unwrap_err();
        assert!(
            words.contains(LINK_KEY_FILE)
                && words.contains("(5 bytes, not 32); delete it and a new one is made"),
            "{words}"
        );
        // Words as a person reads them: no run of blanks from a broken line join.
        assert!(!words.contains("  "), "{words:?}");
    }
}
