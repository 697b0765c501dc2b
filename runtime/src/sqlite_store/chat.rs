//! Chat in the office store (schema version 8): one transaction per chat action.
//!
//! `SqliteStore::chat` runs a chat action's statements, through a `ChatTx`, in one
//! `IMMEDIATE` transaction (a savepoint inside the store thread's batch) and commits only
//! when the action returns `Ok`: a refused action (someone else took the conversation,
//! the address is blocked) or a failed statement writes nothing, and a message and its
//! outbox row are stored together or not at all. The statements themselves, one concept
//! per file: `chat_conversations`, `chat_offers`, `chat_messages`, `chat_outbox`,
//! `chat_contacts`, `chat_blocked`, `chat_templates`.

use super::{SqliteStore, failure, note_caller_thread};
use rusqlite::Connection;
use std::path::Path;
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;

/// The statements of one chat action, inside its transaction.
pub struct ChatTx<'a> {
    pub(super) conn: &'a Connection,
    path: &'a Path,
}

impl ChatTx<'_> {
    /// A failed statement in words naming the store and what was being done.
    pub(super) fn failed(&self, what: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        let what = what.to_string();
        move |e| failure(self.path, &what, e)
    }
}

impl SqliteStore {
    /// Runs the chat action `f` in one transaction: committed when it returns `Ok`, undone
    /// when it returns `Err` (a refusal or a failed statement). `what` names the action
    /// for the error of a failed `COMMIT`.
    pub fn chat<T, E: From<StoreError>>(
        &mut self,
        what: &str,
        f: impl FnOnce(&ChatTx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        note_caller_thread();
        let path = self.path.clone();
        let fail = |e| E::from(failure(&path, what, e));
        if self.conn.is_autocommit() {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(fail)?;
            let out = f(&ChatTx {
                conn: &tx,
                path: &path,
            })?;
            tx.commit().map_err(fail)?;
            Ok(out)
        } else {
            let savepoint = self.conn.savepoint().map_err(fail)?;
            let out = f(&ChatTx {
                conn: &savepoint,
                path: &path,
            })?;
            savepoint.commit().map_err(fail)?;
            Ok(out)
        }
    }
}

/// A channel as stored (`livechat`, `whatsapp`, `facebook`, `sms`).
pub(super) fn channel_from_sql(text: &str) -> rusqlite::Result<Channel> {
    Channel::parse(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("`{text}` is not a chat channel").into(),
        )
    })
}

/// SQLite integers are signed: a time past `i64::MAX` ms is kept as that.
pub(super) fn ms(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

/// A stored time; a negative one (never written by us) reads as 0.
pub(super) fn ms_from(at: i64) -> u64 {
    u64::try_from(at).unwrap_or(0)
}

impl ChatTx<'_> {
    /// Whether `agent` is logged in to `queue` (the calls' queue logins: one login for
    /// calls and chats, as the manual's `*62`/`*63`).
    pub fn queue_logged_in(&self, agent: &str, queue: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM queue_logins WHERE agent = ?1 AND queue = ?2)",
            )
            .and_then(|mut s| s.query_row([agent, queue], |r| r.get(0)))
            .map_err(self.failed(&format!("read {agent}'s login to queue {queue}")))
    }

    /// Since when `agent` has been idle: the later of their last queue call's end and
    /// their last chat reply; `None` when neither ever happened.
    pub fn idle_since(&self, agent: &str) -> Result<Option<u64>, StoreError> {
        let call_end: Option<i64> = self
            .conn
            .prepare_cached("SELECT last_call_end FROM queue_agents WHERE agent = ?1")
            .and_then(|mut s| {
                rusqlite::OptionalExtension::optional(s.query_row([agent], |r| r.get(0)))
            })
            .map_err(self.failed(&format!("read when {agent}'s last queue call ended")))?;
        let reply = self.last_reply_at(agent)?;
        Ok(call_end.map(ms_from).max(reply))
    }
}
