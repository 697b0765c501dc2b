//! What chat customers told us about themselves, per channel and address: a live-chat
//! visitor's name and e-mail from the widget's form, a WhatsApp profile name, and the
//! network address a live-chat visitor last came from.

use super::chat::{ChatTx, ms};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;

/// A customer as known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChatContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub remote_address: Option<String>,
}

impl ChatTx<'_> {
    /// Keeps what the customer told us now; what they did not say this time stays.
    pub fn note_contact(
        &self,
        channel: Channel,
        address: &str,
        contact: &ChatContact,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO chat_contacts (channel, address, name, email, remote_address,
                     updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (channel, address) DO UPDATE SET
                     name = COALESCE(excluded.name, name),
                     email = COALESCE(excluded.email, email),
                     remote_address = COALESCE(excluded.remote_address, remote_address),
                     updated_at = excluded.updated_at",
            )
            .and_then(|mut s| {
                s.execute(params![
                    channel.as_str(),
                    address,
                    contact.name,
                    contact.email,
                    contact.remote_address,
                    ms(now_ms)
                ])
            })
            .map(drop)
            .map_err(self.failed(&format!("note the chat contact {address}")))
    }

    /// What is known of `address` on `channel`.
    pub fn contact(&self, channel: Channel, address: &str) -> Result<ChatContact, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT name, email, remote_address FROM chat_contacts
                 WHERE channel = ?1 AND address = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![channel.as_str(), address], |r| {
                    Ok(ChatContact {
                        name: r.get(0)?,
                        email: r.get(1)?,
                        remote_address: r.get(2)?,
                    })
                })
                .optional()
            })
            .map(Option::unwrap_or_default)
            .map_err(self.failed(&format!("read the chat contact {address}")))
    }
}
