//! Files and images in colleagues' chat: a member sends one into a thread, and the members
//! of a thread holding it read it back.
//!
//! Nothing here is team-specific but who may: the checks are the customers' chat's
//! (`chat/file_types.rs`: the types the chat guide lists, 10 MB, content matching the
//! name), the bytes go where theirs go (`chat/files.rs::write_blob`, content-addressed
//! under `chat-files/`) and the facts into the same `chat_files` table. The message
//! carries the file as its attachment, `{"id", "name", "type", "size"}`, with no text.
//!
//! The crash order is theirs too: the membership is checked first (a refusal writes
//! nothing, not even the bytes), then the bytes are written and synced, then the file's
//! row and the message are committed in one transaction that checks membership again.
//! A crash in between leaves at most bytes no row names, never a message naming nothing.

use super::{MessageView, TeamChat, TeamError, member_thread, members, others, view};
use crate::chat::file_types::{CheckedFile, FileRefusal, check_file};
use crate::chat::files::{attachment_json, blob_path, write_blob};
use crate::sqlite_store::ChatFileRow;
use crate::wall_clock::now_ms;
use std::path::{Path, PathBuf};
use switchboard_core::store::StoreError;

/// The words for a file that does not exist or is in no thread of the asker's: the
/// same for both, so nobody learns which files the office has.
pub const NO_FILE: &str =
    "there is no such team file for you; files are read from a thread you are in";

/// Why sending a file into a team thread failed; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum TeamFileError {
    /// The file itself is refused (400, 413 or 415), in the customers' chat's words.
    #[error(transparent)]
    Refused(#[from] FileRefusal),
    /// Not a thread of the sender's (404), or the store failed.
    #[error("{0:?}")]
    Team(TeamError),
    /// The bytes could not be written (500); the words name the folder.
    #[error("{0}")]
    Disk(String),
}

impl From<TeamError> for TeamFileError {
    fn from(e: TeamError) -> TeamFileError {
        TeamFileError::Team(e)
    }
}

impl From<StoreError> for TeamFileError {
    fn from(e: StoreError) -> TeamFileError {
        TeamFileError::Team(TeamError::Store(e))
    }
}

impl TeamChat {
    /// `me` sends file `name` (`bytes`) into thread `id`, its bytes kept under `dir` (the
    /// chat's `chat-files` folder, `ChatHub::files_dir`); then the other members are told,
    /// as of a text message.
    pub async fn send_file(
        &self,
        me: &str,
        id: i64,
        name: &str,
        bytes: axum::body::Bytes,
        dir: &Path,
    ) -> Result<MessageView, TeamFileError> {
        let CheckedFile {
            name, content_type, ..
        } = check_file(name, &bytes)?;
        // A member? Asked before the bytes are written, so a refusal leaves nothing on
        // disk; asked again in the transaction that stores the message.
        let plan = self.plans.plan();
        let author = me.to_string();
        self.store
            .run_sqlite(move |s| {
                s.chat("check a team file's thread", |tx| {
                    member_thread(tx, &plan, &author, id).map(|_| ())
                })
            })
            .await??;

        let size = bytes.len() as u64;
        let into = dir.to_path_buf();
        let sha256 = tokio::task::spawn_blocking(move || write_blob(&into, &bytes))
            .await
            .map_err(|e| TeamFileError::Disk(format!("the file could not be written: {e}")))?
            .map_err(|e| {
                TeamFileError::Disk(format!(
                    "the file could not be written to {}: {e}; check the data folder's space \
                     and permissions",
                    dir.display()
                ))
            })?;

        let plan = self.plans.plan();
        let author = me.to_string();
        let now = now_ms();
        let (message, to) = self
            .store
            .run_sqlite(move |s| {
                s.chat("store a team file", |tx| {
                    let thread = member_thread(tx, &plan, &author, id)?;
                    let mut file = ChatFileRow {
                        id: 0,
                        sha256,
                        name,
                        content_type: content_type.to_string(),
                        size,
                        uploaded_by: author.clone(),
                        at_ms: now,
                    };
                    file.id = tx.insert_file(&file)?;
                    let attachment = attachment_json(&file);
                    let row = tx.team_post(id, &author, "", Some(&attachment), now)?;
                    Ok::<_, TeamError>((view(&plan, row), others(&plan, &thread, &author)))
                })
            })
            .await??;
        self.announce(id, &message, to);
        Ok(message)
    }

    /// File `file_id` and where its bytes are under `dir`, when `me` is a member of a
    /// thread holding it; not found otherwise, in the same words whether it exists or not.
    pub async fn file_for_member(
        &self,
        me: &str,
        file_id: i64,
        dir: &Path,
    ) -> Result<(ChatFileRow, PathBuf), TeamError> {
        let plan = self.plans.plan();
        let me = me.to_string();
        let row = self
            .store
            .run_sqlite(move |s| {
                s.chat("read a team file", |tx| {
                    if let Some(row) = tx.file(file_id)? {
                        for thread in tx.team_threads_holding_file(file_id)? {
                            if members(&plan, &thread.kind).contains(&me) {
                                return Ok(row);
                            }
                        }
                    }
                    Err(TeamError::NotFound(NO_FILE.to_string()))
                })
            })
            .await??;
        let path = blob_path(dir, &row.sha256);
        Ok((row, path))
    }
}
