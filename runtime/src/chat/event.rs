//! What the hub announces after each committed change, for the agents' event streams and
//! the live-chat sockets.

use switchboard_dsl::ast::Channel;

/// One change to one conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatEvent {
    pub kind: ChatEventKind,
    pub conversation_id: i64,
    /// The message it stored, for `offered` and `message` (and the system note of
    /// `taken`, `transferred`, `dealt_with`, `ended`, `blocked`).
    pub message_id: Option<i64>,
    pub channel: Channel,
    /// The customer's address (a live-chat visitor id, a phone number, a PSID).
    pub customer: String,
    /// Who may see the conversation after the change (for `deleted`: who saw it before).
    pub visible_to: Vec<String>,
    /// Who saw it before and no longer does (taken, transferred away from them).
    pub gone_for: Vec<String>,
}

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatEventKind {
    /// A customer's message was routed and offered (or the conversation started).
    Offered,
    /// A message was added: the customer's to an owned conversation, or an agent's reply.
    Message,
    Taken,
    Transferred,
    DealtWith,
    Archived,
    Unarchived,
    Deleted,
    /// An agent ended the live-chat session: the visitor is told, the socket closed.
    Ended,
    /// An agent blocked the live-chat visitor: the socket is closed with `blocked`.
    Blocked,
    /// A reply's delivery through its provider changed (sent, failed, tried again), or
    /// its owner queued a failed one again (`requeued`: the outbox sender wakes for it).
    Delivery {
        requeued: bool,
    },
    /// A customer's file was fetched from their provider, or could not be: an item of
    /// the message's attachment is now a chat file, or a note saying why not.
    Attachment,
}

impl ChatEventKind {
    /// The name the event streams use.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatEventKind::Offered => "offered",
            ChatEventKind::Message => "message",
            ChatEventKind::Taken => "taken",
            ChatEventKind::Transferred => "transferred",
            ChatEventKind::DealtWith => "dealt_with",
            ChatEventKind::Archived => "archived",
            ChatEventKind::Unarchived => "unarchived",
            ChatEventKind::Deleted => "deleted",
            ChatEventKind::Ended => "ended",
            ChatEventKind::Blocked => "blocked",
            ChatEventKind::Delivery { .. } => "delivery",
            ChatEventKind::Attachment => "attachment",
        }
    }
}
