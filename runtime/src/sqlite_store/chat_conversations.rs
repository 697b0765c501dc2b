//! Chat conversations: one customer on one channel writing to one office address, who
//! owns it, whether it is archived, and when it was dealt with.

use super::chat::{ChatTx, channel_from_sql, ms, ms_from};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;

/// A stored conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatConversation {
    pub id: i64,
    #[serde(serialize_with = "channel_name")]
    pub channel: Channel,
    /// The customer's address: an E.164 number, a Facebook PSID, a live-chat visitor id.
    pub customer: String,
    /// The office address written to; "" where the channel has none.
    pub office_address: String,
    pub contact_name: Option<String>,
    /// A live-chat visitor's network address, for blocking.
    pub remote_address: Option<String>,
    /// What routing chose ("queue 800", "extension 102"); "" when nothing took it.
    pub routed_to: String,
    pub owner: Option<String>,
    pub taken_at_ms: Option<u64>,
    pub archived: bool,
    pub dealt_with_at_ms: Option<u64>,
    pub created_at_ms: u64,
    pub last_at_ms: u64,
}

fn channel_name<S: serde::Serializer>(c: &Channel, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

/// What a new conversation starts with.
#[derive(Clone, Debug)]
pub struct NewChatConversation<'a> {
    pub channel: Channel,
    pub customer: &'a str,
    pub office_address: &'a str,
    pub contact_name: Option<&'a str>,
    pub remote_address: Option<&'a str>,
    pub now_ms: u64,
}

const COLUMNS: &str = "id, channel, customer, office_address, contact_name, remote_address, \
     routed_to, owner, taken_at, archived, dealt_with_at, created_at, last_at";

fn row(r: &Row) -> rusqlite::Result<ChatConversation> {
    let channel: String = r.get(1)?;
    Ok(ChatConversation {
        id: r.get(0)?,
        channel: channel_from_sql(&channel)?,
        customer: r.get(2)?,
        office_address: r.get(3)?,
        contact_name: r.get(4)?,
        remote_address: r.get(5)?,
        routed_to: r.get(6)?,
        owner: r.get(7)?,
        taken_at_ms: r.get::<_, Option<i64>>(8)?.map(ms_from),
        archived: r.get::<_, i64>(9)? != 0,
        dealt_with_at_ms: r.get::<_, Option<i64>>(10)?.map(ms_from),
        created_at_ms: ms_from(r.get(11)?),
        last_at_ms: ms_from(r.get(12)?),
    })
}

impl ChatTx<'_> {
    /// The conversation `id`, if it exists.
    pub fn conversation(&self, id: i64) -> Result<Option<ChatConversation>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM chat_conversations WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id], row).optional())
            .map_err(self.failed(&format!("read chat conversation {id}")))
    }

    /// The conversation of `customer` on `channel` to `office_address`, if any.
    pub fn find_conversation(
        &self,
        channel: Channel,
        customer: &str,
        office_address: &str,
    ) -> Result<Option<ChatConversation>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM chat_conversations
                 WHERE channel = ?1 AND customer = ?2 AND office_address = ?3"
            ))
            .and_then(|mut s| {
                s.query_row(params![channel.as_str(), customer, office_address], row)
                    .optional()
            })
            .map_err(self.failed(&format!("find the chat conversation of {customer}")))
    }

    /// Every conversation of `customer` (on any channel), newest first: the interaction
    /// history.
    pub fn conversations_of_customer(
        &self,
        customer: &str,
    ) -> Result<Vec<ChatConversation>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM chat_conversations WHERE customer = ?1
                 ORDER BY last_at DESC, id DESC"
            ))
            .and_then(|mut s| s.query_map([customer], row)?.collect())
            .map_err(self.failed(&format!("read the chat history of {customer}")))
    }

    /// The conversations `agent` sees (owned by them, or unowned and offered to them),
    /// archived or not, the latest first.
    pub fn conversations_visible_to(
        &self,
        agent: &str,
        archived: bool,
    ) -> Result<Vec<ChatConversation>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM chat_conversations c
                 WHERE c.archived = ?2 AND (c.owner = ?1 OR (c.owner IS NULL AND EXISTS (
                     SELECT 1 FROM chat_offers o
                     WHERE o.conversation_id = c.id AND o.extension = ?1)))
                 ORDER BY c.last_at DESC, c.id DESC"
            ))
            .and_then(|mut s| s.query_map(params![agent, archived], row)?.collect())
            .map_err(self.failed(&format!("list the chat conversations of {agent}")))
    }

    /// Stores a new conversation, unowned, routed nowhere yet; its id.
    pub fn insert_conversation(&self, new: &NewChatConversation<'_>) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_conversations (channel, customer, office_address,
                     contact_name, remote_address, routed_to, owner, taken_at, archived,
                     dealt_with_at, created_at, last_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, '', NULL, NULL, 0, NULL, ?6, ?6)",
            )
            .and_then(|mut s| {
                s.insert(params![
                    new.channel.as_str(),
                    new.customer,
                    new.office_address,
                    new.contact_name,
                    new.remote_address,
                    ms(new.now_ms)
                ])
            })
            .map_err(self.failed(&format!("store a chat conversation of {}", new.customer)))
    }

    /// A new message arrived at `now_ms`: its time, and what the customer last told us
    /// about themself (kept when they said nothing this time).
    pub fn touch_conversation(
        &self,
        id: i64,
        now_ms: u64,
        contact_name: Option<&str>,
        remote_address: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_conversations SET last_at = MAX(last_at, ?2),
                     contact_name = COALESCE(?3, contact_name),
                     remote_address = COALESCE(?4, remote_address)
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, ms(now_ms), contact_name, remote_address]))
            .map(drop)
            .map_err(self.failed(&format!("update chat conversation {id}")))
    }

    /// Routing placed it: unowned, in the recents, offered to whom `chat_offers` says.
    pub fn set_routed(&self, id: i64, routed_to: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_conversations SET routed_to = ?2, owner = NULL, taken_at = NULL,
                     archived = 0
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, routed_to]))
            .map(drop)
            .map_err(self.failed(&format!("route chat conversation {id}")))
    }

    /// Take: `agent` owns it if nobody does. Exactly one of two racing takes wins: the
    /// second finds `owner` set. Whether this one won.
    pub fn take_if_unowned(&self, id: i64, agent: &str, now_ms: u64) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_conversations SET owner = ?2, taken_at = ?3
                 WHERE id = ?1 AND owner IS NULL",
            )
            .and_then(|mut s| s.execute(params![id, agent, ms(now_ms)]))
            .map(|n| n == 1)
            .map_err(self.failed(&format!("take chat conversation {id} for {agent}")))
    }

    /// Transfer: `agent` owns it from `now_ms`, in their recents.
    pub fn set_owner(&self, id: i64, agent: &str, now_ms: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_conversations SET owner = ?2, taken_at = ?3, archived = 0
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, agent, ms(now_ms)]))
            .map(drop)
            .map_err(self.failed(&format!("give chat conversation {id} to {agent}")))
    }

    pub fn set_archived(&self, id: i64, archived: bool) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE chat_conversations SET archived = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, archived]))
            .map(drop)
            .map_err(self.failed(&format!("archive chat conversation {id}")))
    }

    /// Dealt with: nobody owns it, it is archived, and the next message is routed again.
    pub fn set_dealt_with(&self, id: i64, now_ms: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE chat_conversations SET owner = NULL, taken_at = NULL, archived = 1,
                     dealt_with_at = ?2
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, ms(now_ms)]))
            .map(drop)
            .map_err(self.failed(&format!("mark chat conversation {id} dealt with")))
    }

    /// Deletes it with its messages and offers; its replies still waiting in the outbox
    /// stay there (what an agent sent is delivered).
    pub fn delete_conversation(&self, id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM chat_conversations WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map(drop)
            .map_err(self.failed(&format!("delete chat conversation {id}")))
    }
}
