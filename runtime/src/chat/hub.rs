//! The chat hub: the store thread, the running plan and the announcements, shared by
//! every chat action.

use super::error::ChatError;
use super::event::ChatEvent;
use crate::reload::PlanHolder;
use crate::sqlite_store::{ChatConversation, ChatTx, StoreThread};
use std::sync::Arc;
use switchboard_core::chat::visibility::{self, Action, Refusal};
use switchboard_dsl::Plan;
use tokio::sync::broadcast;

/// How many announcements a slow listener may fall behind before it misses some (it
/// then hears it lagged and reloads; see `http/chat/events.rs`).
const EVENTS_BUFFERED: usize = 4096;

/// The chat service; one per server, in `AppState` as `chat`.
pub struct ChatHub {
    /// The office store's thread; every chat action is one job (one transaction) on it.
    pub(super) store: StoreThread,
    /// The running plan: routing, the queues' agents and managers, the names.
    pub(super) plans: Arc<PlanHolder>,
    /// Every committed change, to whoever listens; lives as long as the hub.
    events: broadcast::Sender<ChatEvent>,
    /// Colleagues' chat (`chat::team`), over the same store and plan.
    team: super::team::TeamChat,
    /// The key of the public file links (`chat::file_links`), read from the data folder
    /// on first use and kept for the hub's life (`ChatHub::link_key`).
    pub(super) link_key: tokio::sync::OnceCell<super::file_links::LinkKey>,
}

impl ChatHub {
    /// The hub over `store` and the running plan.
    pub fn new(store: StoreThread, plans: Arc<PlanHolder>) -> ChatHub {
        ChatHub {
            team: super::team::TeamChat::new(store.clone(), plans.clone()),
            store,
            plans,
            events: broadcast::channel(EVENTS_BUFFERED).0,
            link_key: tokio::sync::OnceCell::new(),
        }
    }

    /// Colleagues' chat.
    pub fn team(&self) -> &super::team::TeamChat {
        &self.team
    }

    /// Every change from now on, after it is committed.
    pub fn subscribe(&self) -> broadcast::Receiver<ChatEvent> {
        self.events.subscribe()
    }

    /// Runs `f` as one transaction on the store thread: committed when it returns `Ok`,
    /// nothing written when it returns `Err`.
    pub(super) async fn transaction<T: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnOnce(&ChatTx<'_>) -> Result<T, ChatError> + Send + 'static,
    ) -> Result<T, ChatError> {
        self.store.run_sqlite(move |s| s.chat(what, f)).await?
    }

    /// Tells the listeners (none listening is fine).
    pub(super) fn announce(&self, event: ChatEvent) {
        let _ = self.events.send(event);
    }

    pub(super) fn plan(&self) -> Arc<Plan> {
        self.plans.plan()
    }
}

/// The plan's name of extension `ext`, if it has one.
pub(super) fn name_of(plan: &Plan, ext: &str) -> Option<String> {
    plan.extension(ext).and_then(|e| e.name.clone())
}

/// Who sees a conversation owned by `owner` and offered to `offered`.
pub(super) fn visible_to(owner: Option<&str>, offered: &[String]) -> Vec<String> {
    match owner {
        Some(o) => vec![o.to_string()],
        None => offered.to_vec(),
    }
}

/// Conversation `id` and whom it is offered to, when `actor` may do `action` on it.
pub(super) fn checked(
    tx: &ChatTx<'_>,
    plan: &Plan,
    id: i64,
    actor: &str,
    action: Action,
) -> Result<(ChatConversation, Vec<String>), ChatError> {
    let Some(conversation) = tx.conversation(id)? else {
        return Err(ChatError::NotVisible);
    };
    let offered = tx.offered_to(id)?;
    let facts = visibility::Conversation {
        channel: conversation.channel,
        owner: conversation.owner.clone(),
        taken_at_ms: conversation.taken_at_ms,
        offered_to: offered.clone(),
    };
    match visibility::may(&facts, actor, action) {
        Ok(()) => Ok((conversation, offered)),
        Err(Refusal::NotVisible) => Err(ChatError::NotVisible),
        Err(Refusal::TakenBy { owner, at_ms }) => Err(ChatError::TakenBy {
            name: name_of(plan, &owner),
            extension: owner,
            at_ms,
        }),
        Err(Refusal::NotAllowed(words)) => Err(ChatError::NotAllowed(words)),
    }
}
