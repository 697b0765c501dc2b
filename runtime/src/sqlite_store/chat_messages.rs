//! Chat messages: what the customer wrote (`in`), what agents answered (`out`) and what
//! the office noted (`system`: taken, transferred, dealt with). A provider's message id
//! is unique per channel, so a retried webhook finds the message it already stored.

use super::chat::{ChatTx, ms, ms_from};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;

/// Who a message is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the customer.
    In,
    /// From an agent to the customer.
    Out,
    /// Noted by the office, for the agents; never sent to the customer.
    System,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::System => "system",
        }
    }

    fn parse(text: &str) -> Direction {
        // The table's CHECK allows these three only.
        match text {
            "in" => Direction::In,
            "out" => Direction::Out,
            _ => Direction::System,
        }
    }
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatMessageRow {
    pub id: i64,
    pub conversation_id: i64,
    pub direction: Direction,
    /// The agent's extension for `out` (and `system` notes an agent caused).
    pub author: Option<String>,
    pub text: String,
    /// JSON as the channel gave it (a file's name, type, size and where it is kept).
    pub attachment: Option<String>,
    pub provider_id: Option<String>,
    pub created_at_ms: u64,
}

/// A message to store.
#[derive(Clone, Debug)]
pub struct NewChatMessage<'a> {
    pub conversation_id: i64,
    pub channel: Channel,
    pub direction: Direction,
    pub author: Option<&'a str>,
    pub text: &'a str,
    pub attachment: Option<&'a str>,
    pub provider_id: Option<&'a str>,
    pub now_ms: u64,
}

impl ChatTx<'_> {
    /// Stores a message and moves its conversation's time on; the message's id.
    pub fn insert_message(&self, m: &NewChatMessage<'_>) -> Result<i64, StoreError> {
        let what = format!("store a message of chat conversation {}", m.conversation_id);
        let id = self
            .conn
            .prepare_cached(
                "INSERT INTO chat_messages (conversation_id, channel, direction, author, text,
                     attachment, provider_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.insert(params![
                    m.conversation_id,
                    m.channel.as_str(),
                    m.direction.as_str(),
                    m.author,
                    m.text,
                    m.attachment,
                    m.provider_id,
                    ms(m.now_ms)
                ])
            })
            .map_err(self.failed(&what))?;
        self.conn
            .prepare_cached(
                "UPDATE chat_conversations SET last_at = MAX(last_at, ?2) WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![m.conversation_id, ms(m.now_ms)]))
            .map_err(self.failed(&what))?;
        Ok(id)
    }

    /// The message a provider already delivered under `provider_id` on `channel`, as
    /// (conversation, message).
    pub fn message_by_provider_id(
        &self,
        channel: Channel,
        provider_id: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT conversation_id, id FROM chat_messages
                 WHERE channel = ?1 AND provider_id = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![channel.as_str(), provider_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(self.failed(&format!(
                "look for {} message {provider_id}",
                channel.as_str()
            )))
    }

    /// The messages of a conversation, oldest first.
    pub fn messages(&self, conversation_id: i64) -> Result<Vec<ChatMessageRow>, StoreError> {
        self.messages_after(conversation_id, 0)
    }

    /// The messages of a conversation after message `after` (0: all), oldest first.
    pub fn messages_after(
        &self,
        conversation_id: i64,
        after: i64,
    ) -> Result<Vec<ChatMessageRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id, conversation_id, direction, author, text, attachment, provider_id,
                     created_at
                 FROM chat_messages WHERE conversation_id = ?1 AND id > ?2 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([conversation_id, after], |r| {
                    let direction: String = r.get(2)?;
                    Ok(ChatMessageRow {
                        id: r.get(0)?,
                        conversation_id: r.get(1)?,
                        direction: Direction::parse(&direction),
                        author: r.get(3)?,
                        text: r.get(4)?,
                        attachment: r.get(5)?,
                        provider_id: r.get(6)?,
                        created_at_ms: ms_from(r.get(7)?),
                    })
                })?
                .collect()
            })
            .map_err(self.failed(&format!(
                "read the messages of chat conversation {conversation_id}"
            )))
    }

    /// The message `id` of conversation `conversation_id`, if both exist.
    pub fn message(
        &self,
        conversation_id: i64,
        id: i64,
    ) -> Result<Option<ChatMessageRow>, StoreError> {
        Ok(self
            .messages_after(conversation_id, id - 1)?
            .into_iter()
            .find(|m| m.id == id))
    }

    /// The conversation message `id` belongs to, if it exists.
    pub fn conversation_of_message(&self, id: i64) -> Result<Option<i64>, StoreError> {
        self.conn
            .prepare_cached("SELECT conversation_id FROM chat_messages WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(self.failed(&format!("read the conversation of chat message {id}")))
    }

    /// The latest message of a conversation, if any.
    pub fn last_message(&self, conversation_id: i64) -> Result<Option<ChatMessageRow>, StoreError> {
        let last: Option<i64> = self
            .conn
            .prepare_cached("SELECT MAX(id) FROM chat_messages WHERE conversation_id = ?1")
            .and_then(|mut s| s.query_row([conversation_id], |r| r.get(0)))
            .map_err(self.failed(&format!(
                "read the last message of chat conversation {conversation_id}"
            )))?;
        match last {
            Some(id) => self.message(conversation_id, id),
            None => Ok(None),
        }
    }

    /// The agents who wrote in a conversation, in the order they first did.
    pub fn authors(&self, conversation_id: i64) -> Result<Vec<String>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT author FROM chat_messages
                 WHERE conversation_id = ?1 AND direction = 'out' AND author IS NOT NULL
                 GROUP BY author ORDER BY MIN(id)",
            )
            .and_then(|mut s| s.query_map([conversation_id], |r| r.get(0))?.collect())
            .map_err(self.failed(&format!(
                "read who answered chat conversation {conversation_id}"
            )))
    }

    /// When `agent` last answered a chat, if ever: part of how long they have been idle.
    pub fn last_reply_at(&self, agent: &str) -> Result<Option<u64>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT MAX(created_at) FROM chat_messages
                 WHERE author = ?1 AND direction = 'out'",
            )
            .and_then(|mut s| s.query_row([agent], |r| r.get::<_, Option<i64>>(0)))
            .map(|at| at.map(ms_from))
            .map_err(self.failed(&format!("read when {agent} last answered a chat")))
    }
}
