//! The chat service (issue 11), sans sockets: customers' messages in, the agents'
//! actions, the announcements, and the outbox the channel senders drain.
//!
//! `ChatHub` decides with the pure rules of `switchboard_core::chat` (routing by the
//! running plan, sticky ownership, who is offered, who may see and act) and stores with
//! `SqliteStore::chat`, one transaction per action on the store thread: a refused action
//! writes nothing, a message and its outbox row are stored together or not at all, and
//! of two agents taking one conversation exactly one wins. What happened is announced
//! (`ChatHub::subscribe`) only after it is committed.
//!
//! The sockets are elsewhere: the agents' HTTP API and event stream (`http/chat`), the
//! providers' webhooks and senders and the live-chat widget (the channels).

mod actions;
mod delivery;
mod error;
mod event;
pub mod file_links;
pub mod file_types;
pub mod files;
mod hub;
mod inbound;
mod outbox;
pub mod team;
mod templates;
mod views;

pub use crate::sqlite_store::{
    ChatContact, ChatConversation, ChatMessageRow, ChatTemplate, Delivery, Direction, OutboxRow,
    TemplateFilter, TemplateText,
};
pub use error::ChatError;
pub use event::{ChatEvent, ChatEventKind};
pub use hub::ChatHub;
pub use inbound::{Inbound, MAX_TEXT_CHARS, Received};
pub use switchboard_core::chat::placement::{Placement, RoutedTo};
pub use views::{
    ConversationDetail, ConversationSummary, HistoryEntry, Information, LastMessage, MessageView,
    contact_name,
};
