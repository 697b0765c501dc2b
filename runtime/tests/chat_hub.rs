//! The chat hub on a real SQLite file through the store thread: sticky ownership, Dealt
//! with routing the next message again, a two-agent Take race (200 times, exactly one
//! winner each time), transfer, a blocked address refused, a provider's retried message
//! stored once, a reply and its outbox row stored together, poll top N by idle time,
//! templates for managers only, and everything still there after the store is reopened.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::{
    ChatError, ChatEventKind, ChatHub, Direction, Inbound, Placement, RoutedTo, TemplateFilter,
    TemplateText,
};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::sqlite_store::StoreThread;
use tempfile::TempDir;

const OFFICE: &str = r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
extension 103 "Carla" { voicemail }
extension 104 "David" { voicemail }
queue 800 "Sales" {
    agents   101, 102, 103
    managers 104
}
chat sms "+12605550100" -> queue 800 poll all
chat whatsapp           -> queue 800 poll top 1
chat livechat           -> queue 800
chat facebook           -> extension 104
"#;

const SALES: &str = "+12605550100";

struct Office {
    dir: TempDir,
    store: StoreThread,
    plans: Arc<PlanHolder>,
    hub: ChatHub,
}

impl Office {
    /// A new office with 101, 102 and 103 logged in to queue 800.
    async fn new() -> Office {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dialplans")).unwrap();
        std::fs::create_dir_all(dir.path().join("prompts/en")).unwrap();
        std::fs::write(dir.path().join("dialplans/office.dial"), OFFICE).unwrap();
        let (store, plans, hub) = open(dir.path()).await;
        for agent in ["101", "102", "103"] {
            store
                .run(move |s| s.set_queue_logged_in(agent, "800", true))
                .await
                .unwrap()
                .unwrap();
        }
        Office {
            dir,
            store,
            plans,
            hub,
        }
    }

    /// Closes the store and opens it again, as a restarted server does.
    async fn restart(self) -> Office {
        let Office {
            dir, store, hub, ..
        } = self;
        drop(hub);
        drop(store);
        let (store, plans, hub) = open(dir.path()).await;
        Office {
            dir,
            store,
            plans,
            hub,
        }
    }

    async fn outbox_rows(&self, conversation: i64) -> u32 {
        self.store
            .run_sqlite(move |s| {
                s.chat::<_, StoreError>("count", |tx| tx.outbox_rows_of(conversation))
            })
            .await
            .unwrap()
            .unwrap()
    }

    async fn message_count(&self, conversation: i64) -> usize {
        self.store
            .run_sqlite(move |s| s.chat::<_, StoreError>("count", |tx| tx.messages(conversation)))
            .await
            .unwrap()
            .unwrap()
            .len()
    }
}

async fn open(dir: &Path) -> (StoreThread, Arc<PlanHolder>, ChatHub) {
    let db: PathBuf = dir.join("office.db");
    let store = StoreThread::open(&db).await.unwrap();
    let plans =
        Arc::new(PlanHolder::load_initial(&dir.join("dialplans"), &dir.join("prompts")).unwrap());
    let hub = ChatHub::new(store.clone(), plans.clone());
    (store, plans, hub)
}

/// An hour from now: every reply queued so far is due.
fn later() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(now.as_millis()).unwrap() + 3_600_000
}

fn sms(from: &str, text: &str) -> Inbound {
    Inbound {
        office_address: Some(SALES.into()),
        ..Inbound::new(Channel::Sms, from, text)
    }
}

fn offered_to(p: &Option<Placement>) -> Vec<String> {
    match p {
        Some(Placement::Offered { offered_to, .. }) => offered_to.clone(),
        other => panic!("not offered: {other:?}"),
    }
}

#[tokio::test]
async fn an_owned_conversation_sticks_to_its_owner_even_archived() {
    let o = Office::new().await;
    let first = o.hub.receive(sms("+13125550001", "hello")).await.unwrap();
    assert_eq!(offered_to(&first.placed), ["101", "102", "103"]);
    for agent in ["101", "102", "103"] {
        assert_eq!(o.hub.list(agent, false).await.unwrap().len(), 1, "{agent}");
    }
    let id = first.conversation_id;
    o.hub.take("102", id).await.unwrap();
    // Only the owner sees it now; to the others it does not exist.
    assert!(o.hub.list("101", false).await.unwrap().is_empty());
    assert!(matches!(
        o.hub.read("101", id).await,
        Err(ChatError::NotVisible)
    ));
    o.hub.archive("102", id).await.unwrap();
    assert!(o.hub.list("102", false).await.unwrap().is_empty());

    let again = o
        .hub
        .receive(sms("+13125550001", "me again"))
        .await
        .unwrap();
    assert_eq!(again.conversation_id, id);
    assert_eq!(
        again.placed,
        Some(Placement::Sticky {
            owner: "102".into(),
            unarchive: true
        })
    );
    let recents = o.hub.list("102", false).await.unwrap();
    assert_eq!(recents.len(), 1, "back in the owner's recents");
    assert_eq!(recents[0].unread, 2);
    assert!(o.hub.list("101", false).await.unwrap().is_empty());
    assert!(o.hub.list("103", true).await.unwrap().is_empty());
}

#[tokio::test]
async fn dealt_with_posts_a_note_archives_and_routes_the_next_message_again() {
    let o = Office::new().await;
    let mut events = o.hub.subscribe();
    let id = o
        .hub
        .receive(sms("+13125550002", "my order?"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.reply("101", id, "On its way.", None).await.unwrap();
    let done = o.hub.dealt_with("101", id).await.unwrap();
    assert_eq!(done.owner, None);
    assert!(done.archived);
    assert!(done.dealt_with_at_ms.is_some());
    let detail = o.hub.read("101", id).await.unwrap();
    let note = detail.messages.last().unwrap();
    assert_eq!(note.direction, Direction::System);
    assert!(
        note.text
            .contains("Alice (101) marked this conversation as dealt with"),
        "{}",
        note.text
    );
    // In the archive of the agent who dealt with it, nowhere else.
    assert_eq!(o.hub.list("101", true).await.unwrap().len(), 1);
    assert!(o.hub.list("101", false).await.unwrap().is_empty());
    assert!(o.hub.list("102", true).await.unwrap().is_empty());

    let next = o
        .hub
        .receive(sms("+13125550002", "one more thing"))
        .await
        .unwrap();
    assert_eq!(next.conversation_id, id);
    assert_eq!(offered_to(&next.placed), ["101", "102", "103"]);
    for agent in ["101", "102", "103"] {
        let recents = o.hub.list(agent, false).await.unwrap();
        assert_eq!(recents.len(), 1, "{agent}");
        assert_eq!(recents[0].owner, None);
    }
    // What the agents heard, in order.
    let mut kinds = Vec::new();
    while let Ok(e) = events.try_recv() {
        assert_eq!(e.conversation_id, id);
        kinds.push((e.kind, e.visible_to, e.gone_for));
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        kinds,
        [
            (ChatEventKind::Offered, s(&["101", "102", "103"]), s(&[])),
            (ChatEventKind::Message, s(&["101"]), s(&["102", "103"])),
            (ChatEventKind::DealtWith, s(&["101"]), s(&[])),
            (ChatEventKind::Offered, s(&["101", "102", "103"]), s(&[])),
        ]
    );
}

#[tokio::test]
async fn of_two_agents_taking_at_once_exactly_one_wins_every_time() {
    let o = Office::new().await;
    let hub = Arc::new(o.hub);
    let mut wins = [0u32; 2];
    for round in 0..200 {
        let id = hub
            .receive(sms(&format!("+1312555{round:04}"), "who's first?"))
            .await
            .unwrap()
            .conversation_id;
        let (a, b) = (hub.clone(), hub.clone());
        let (ta, tb) = tokio::join!(
            tokio::spawn(async move { a.take("101", id).await }),
            tokio::spawn(async move { b.take("102", id).await })
        );
        let (ta, tb) = (ta.unwrap(), tb.unwrap());
        let (winner, loser) = match (&ta, &tb) {
            (Ok(c), Err(e)) => {
                wins[0] += 1;
                (c, e)
            }
            (Err(e), Ok(c)) => {
                wins[1] += 1;
                (c, e)
            }
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        };
        let owner = winner.owner.clone().unwrap();
        match loser {
            ChatError::TakenBy {
                extension,
                name,
                at_ms,
            } => {
                assert_eq!(extension, &owner, "round {round}");
                assert_eq!(
                    name.as_deref(),
                    Some(if owner == "101" { "Alice" } else { "Bruno" })
                );
                assert_eq!(*at_ms, winner.taken_at_ms);
                let words = loser.to_string();
                assert!(
                    words.contains(&format!("({owner}) took this conversation")),
                    "{words}"
                );
            }
            other => panic!("round {round}: the loser heard {other:?}"),
        }
        // One system note "took", by the winner alone.
        let notes: Vec<_> = hub
            .read(&owner, id)
            .await
            .unwrap()
            .messages
            .into_iter()
            .filter(|m| m.direction == Direction::System)
            .collect();
        assert_eq!(notes.len(), 1, "round {round}");
    }
    assert_eq!(wins[0] + wins[1], 200);
}

#[tokio::test]
async fn a_transfer_gives_it_to_the_target_and_takes_it_from_the_sender() {
    let o = Office::new().await;
    let mut events = o.hub.subscribe();
    let id = o
        .hub
        .receive(sms("+13125550003", "hi"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.take("101", id).await.unwrap();
    // A wrong target changes nothing.
    assert!(
        matches!(o.hub.transfer("101", id, "999").await, Err(ChatError::Invalid(w)) if w.contains("`999` is not an extension"))
    );
    assert!(matches!(
        o.hub.transfer("101", id, "101").await,
        Err(ChatError::Invalid(_))
    ));
    // Someone who does not see it cannot move it.
    assert!(matches!(
        o.hub.transfer("102", id, "103").await,
        Err(ChatError::NotVisible)
    ));
    let moved = o.hub.transfer("101", id, "104").await.unwrap();
    assert_eq!(moved.owner.as_deref(), Some("104"));
    assert!(matches!(
        o.hub.read("101", id).await,
        Err(ChatError::NotVisible)
    ));
    assert_eq!(o.hub.list("104", false).await.unwrap()[0].id, id);
    let last = events.try_iter_last();
    assert_eq!(last.kind, ChatEventKind::Transferred);
    assert_eq!(last.visible_to, ["104"]);
    assert_eq!(last.gone_for, ["101"]);
    // The customer's next message goes to the new owner.
    let next = o
        .hub
        .receive(sms("+13125550003", "still there?"))
        .await
        .unwrap();
    assert_eq!(
        next.placed,
        Some(Placement::Sticky {
            owner: "104".into(),
            unarchive: false
        })
    );
}

/// `try_recv` until empty; the last event.
trait LastEvent {
    fn try_iter_last(&mut self) -> switchboard_runtime::chat::ChatEvent;
}

impl LastEvent for tokio::sync::broadcast::Receiver<switchboard_runtime::chat::ChatEvent> {
    fn try_iter_last(&mut self) -> switchboard_runtime::chat::ChatEvent {
        let mut last = None;
        while let Ok(e) = self.try_recv() {
            last = Some(e);
        }
        last.expect("an event")
    }
}

#[tokio::test]
async fn a_blocked_visitor_is_refused_and_nothing_is_stored() {
    let o = Office::new().await;
    let visit = |visitor: &str, address: &str| Inbound {
        address: Some(address.into()),
        ..Inbound::new(Channel::LiveChat, visitor, "hello")
    };
    let id = o
        .hub
        .receive(visit("v-1", "203.0.113.7"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.take("103", id).await.unwrap();
    // Only for live chat.
    let sms_id = o
        .hub
        .receive(sms("+13125550004", "hi"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.take("103", sms_id).await.unwrap();
    assert!(
        matches!(o.hub.block("103", sms_id).await, Err(ChatError::NotAllowed(w)) if w.contains("only for website live chat"))
    );

    let mut events = o.hub.subscribe();
    o.hub.block("103", id).await.unwrap();
    assert_eq!(events.try_iter_last().kind, ChatEventKind::Blocked);
    let before = o.message_count(id).await;
    // The same visitor, and another visitor id from the same address: refused.
    for (visitor, address) in [("v-1", "198.51.100.1"), ("v-2", "203.0.113.7")] {
        assert!(matches!(
            o.hub.receive(visit(visitor, address)).await,
            Err(ChatError::Blocked)
        ));
    }
    assert_eq!(o.message_count(id).await, before);
    assert!(o.hub.is_blocked(&["203.0.113.7"]).await.unwrap());
    assert!(!o.hub.is_blocked(&["198.51.100.1"]).await.unwrap());
    // Someone else is still welcome.
    o.hub.receive(visit("v-3", "198.51.100.9")).await.unwrap();
}

#[tokio::test]
async fn a_providers_retried_message_is_stored_once() {
    let o = Office::new().await;
    let message = Inbound {
        provider_id: Some("wamid.HBgL".into()),
        contact_name: Some("Dana".into()),
        ..Inbound::new(Channel::WhatsApp, "+4915112345678", "Hallo")
    };
    let first = o.hub.receive(message.clone()).await.unwrap();
    assert!(!first.duplicate);
    let mut events = o.hub.subscribe();
    let retry = o.hub.receive(message.clone()).await.unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.conversation_id, first.conversation_id);
    assert_eq!(retry.message_id, first.message_id);
    assert_eq!(retry.placed, None);
    assert!(events.try_recv().is_err(), "a duplicate is not announced");
    assert_eq!(o.message_count(first.conversation_id).await, 1);
    // The same id on another channel is another message.
    let sms_twin = Inbound {
        provider_id: Some("wamid.HBgL".into()),
        ..sms("+13125550005", "hi")
    };
    assert!(!o.hub.receive(sms_twin).await.unwrap().duplicate);
}

#[tokio::test]
async fn a_reply_and_its_outbox_row_are_stored_together() {
    let o = Office::new().await;
    let id = o
        .hub
        .receive(sms("+13125550006", "price?"))
        .await
        .unwrap()
        .conversation_id;
    // A refused reply stores neither.
    o.hub.take("102", id).await.unwrap();
    assert!(matches!(
        o.hub.reply("101", id, "mine!", None).await,
        Err(ChatError::TakenBy { .. })
    ));
    assert_eq!(o.outbox_rows(id).await, 0);
    assert_eq!(
        o.message_count(id).await,
        2,
        "the message and the take note"
    );

    let reply = o.hub.reply("102", id, "It is $5.", None).await.unwrap();
    assert_eq!(o.outbox_rows(id).await, 1);
    let rows = o
        .hub
        .outbox_claim_due(later(), 60_000, "attempt-1", 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].message_id, Some(reply.id));
    let payload: serde_json::Value = serde_json::from_str(&rows[0].payload).unwrap();
    assert_eq!(payload["to"], "+13125550006");
    assert_eq!(payload["from"], SALES);
    assert_eq!(payload["text"], "It is $5.");
    // Claimed: nobody else gets it; only its attempt marks it.
    assert!(
        o.hub
            .outbox_claim_due(later(), 60_000, "attempt-2", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !o.hub
            .outbox_mark_sent(rows[0].id, "attempt-2", 1)
            .await
            .unwrap()
    );
    assert!(
        o.hub
            .outbox_mark_dead(rows[0].id, "attempt-1", "400: invalid number")
            .await
            .unwrap()
    );
    let detail = o.hub.read("102", id).await.unwrap();
    let shown = detail.messages.iter().find(|m| m.id == reply.id).unwrap();
    let delivery = shown.delivery.as_ref().unwrap();
    assert_eq!(delivery.state, "dead");
    assert_eq!(delivery.last_error.as_deref(), Some("400: invalid number"));

    // Live chat replies go to the visitor's socket: no outbox row.
    let chat = o
        .hub
        .receive(Inbound::new(Channel::LiveChat, "v-9", "hi"))
        .await
        .unwrap();
    o.hub
        .reply("101", chat.conversation_id, "Hello!", None)
        .await
        .unwrap();
    assert_eq!(o.outbox_rows(chat.conversation_id).await, 0);
}

#[tokio::test]
async fn poll_top_one_offers_the_longest_idle_agent() {
    let o = Office::new().await;
    // 101 and 102 answered chats (102 last); 103 never did: 103 idles longest.
    for (agent, customer) in [("101", "+13125550007"), ("102", "+13125550008")] {
        let id = o
            .hub
            .receive(sms(customer, "hi"))
            .await
            .unwrap()
            .conversation_id;
        o.hub.reply(agent, id, "hello", None).await.unwrap();
    }
    let wa = o
        .hub
        .receive(Inbound::new(Channel::WhatsApp, "+13125550009", "hi"))
        .await
        .unwrap();
    assert_eq!(offered_to(&wa.placed), ["103"]);
    // 103 logs out: of 101 and 102, 101 answered longest ago.
    o.store
        .run(|s| s.set_queue_logged_in("103", "800", false))
        .await
        .unwrap()
        .unwrap();
    let wa = o
        .hub
        .receive(Inbound::new(Channel::WhatsApp, "+13125550010", "hi"))
        .await
        .unwrap();
    assert_eq!(offered_to(&wa.placed), ["101"]);
    // An extension target: that extension alone.
    let fb = o
        .hub
        .receive(Inbound::new(Channel::Facebook, "psid-1", "hi"))
        .await
        .unwrap();
    match fb.placed {
        Some(Placement::Offered {
            routed_to,
            offered_to,
        }) => {
            assert_eq!(routed_to, RoutedTo::Extension("104".into()));
            assert_eq!(offered_to, ["104"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn only_managers_write_templates_and_everyone_finds_them() {
    let o = Office::new().await;
    let t = |title: &str, language: &str| TemplateText {
        category: "Orders".into(),
        language: language.into(),
        title: title.into(),
        text: format!("{title}: thank you"),
    };
    assert!(
        matches!(o.hub.create_template("101", t("Shipping", "en")).await, Err(ChatError::NotAllowed(w)) if w.contains("managers"))
    );
    let id = o
        .hub
        .create_template("104", t("Shipping", "en"))
        .await
        .unwrap();
    o.hub
        .create_template("104", t("Versand", "de"))
        .await
        .unwrap();
    let de = o
        .hub
        .templates(TemplateFilter {
            language: "de".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(de.len(), 1);
    assert_eq!(de[0].title, "Versand");
    let found = o
        .hub
        .templates(TemplateFilter {
            q: "SHIP".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(matches!(
        o.hub.delete_template("102", id).await,
        Err(ChatError::NotAllowed(_))
    ));
    o.hub
        .update_template("104", id, t("Delivery", "en"))
        .await
        .unwrap();
    o.hub.delete_template("104", id).await.unwrap();
    assert!(matches!(
        o.hub.delete_template("104", id).await,
        Err(ChatError::NotFound(_))
    ));
}

#[tokio::test]
async fn an_sms_chat_starts_only_with_plus_one_and_ten_digits() {
    let o = Office::new().await;
    match o.hub.start_sms("101", "2602058900", None, "hi").await {
        Err(ChatError::Invalid(w)) => {
            assert!(w.contains("+1 followed by the 10-digit number"), "{w}")
        }
        other => panic!("{other:?}"),
    }
    let (c, m) = o
        .hub
        .start_sms("101", "+12602058900", None, "Your table is ready")
        .await
        .unwrap();
    assert_eq!(c.owner.as_deref(), Some("101"));
    assert_eq!(c.office_address, SALES);
    assert_eq!(m.direction, Direction::Out);
    assert_eq!(o.outbox_rows(c.id).await, 1);
    // Another agent writing to the same number meets 101's conversation, and is not
    // told whose it is: it was never offered to them.
    match o.hub.start_sms("102", "+12602058900", None, "hello?").await {
        Err(ChatError::NotAllowed(w)) => {
            assert!(w.contains("another agent or queue"), "{w}");
            assert!(!w.contains("101"), "{w}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(o.message_count(c.id).await, 1, "nothing stored");
    // The customer's answer comes back to 101.
    let answer = o.hub.receive(sms("+12602058900", "thanks")).await.unwrap();
    assert_eq!(answer.conversation_id, c.id);
    assert!(matches!(answer.placed, Some(Placement::Sticky { ref owner, .. }) if owner == "101"));
}

#[tokio::test]
async fn a_restart_keeps_conversations_owners_messages_and_the_outbox() {
    let o = Office::new().await;
    let id = o
        .hub
        .receive(sms("+13125550011", "hello"))
        .await
        .unwrap()
        .conversation_id;
    o.hub
        .reply("103", id, "Hi, Carla here.", None)
        .await
        .unwrap();
    let archived = o
        .hub
        .receive(sms("+13125550012", "bye"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.take("101", archived).await.unwrap();
    o.hub.archive("101", archived).await.unwrap();
    let block = o
        .hub
        .receive(Inbound {
            address: Some("192.0.2.5".into()),
            ..Inbound::new(Channel::LiveChat, "v-7", "x")
        })
        .await
        .unwrap()
        .conversation_id;
    o.hub.take("102", block).await.unwrap();
    o.hub.block("102", block).await.unwrap();
    let before = o.hub.read("103", id).await.unwrap();

    let o = o.restart().await;
    assert_eq!(o.hub.read("103", id).await.unwrap(), before);
    assert_eq!(o.hub.list("101", true).await.unwrap()[0].id, archived);
    assert_eq!(o.outbox_rows(id).await, 1);
    assert_eq!(
        o.hub
            .outbox_claim_due(later(), 1_000, "after-restart", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        o.hub
            .receive(Inbound::new(Channel::LiveChat, "v-8", "x").with_address("192.0.2.5"))
            .await,
        Err(ChatError::Blocked)
    ));
    let next = o
        .hub
        .receive(sms("+13125550011", "still me"))
        .await
        .unwrap();
    assert!(matches!(next.placed, Some(Placement::Sticky { ref owner, .. }) if owner == "103"));
}

trait WithAddress {
    fn with_address(self, address: &str) -> Inbound;
}

impl WithAddress for Inbound {
    fn with_address(self, address: &str) -> Inbound {
        Inbound {
            address: Some(address.into()),
            ..self
        }
    }
}

#[tokio::test]
async fn online_means_the_route_has_someone_logged_in() {
    let o = Office::new().await;
    assert!(o.hub.online(Channel::LiveChat, None, None).await.unwrap());
    // An SMS to a number no route takes reaches nobody.
    assert!(
        !o.hub
            .online(Channel::Sms, Some("+12605550199"), None)
            .await
            .unwrap()
    );
    for agent in ["101", "102", "103"] {
        o.store
            .run(move |s| s.set_queue_logged_in(agent, "800", false))
            .await
            .unwrap()
            .unwrap();
    }
    assert!(!o.hub.online(Channel::LiveChat, None, None).await.unwrap());
    // An extension target counts as online.
    assert!(o.hub.online(Channel::Facebook, None, None).await.unwrap());
}

#[tokio::test]
async fn a_reply_whose_outbox_row_fails_leaves_no_message_and_no_take() {
    let o = Office::new().await;
    let id = o
        .hub
        .receive(sms("+13125550013", "hi"))
        .await
        .unwrap()
        .conversation_id;
    // The payload is built after the message is stored; an attachment that is not JSON
    // fails there, and the whole action is undone: no message, no row, not taken.
    let refused = o.hub.reply("101", id, "see file", Some("{not json")).await;
    assert!(matches!(refused, Err(ChatError::Invalid(w)) if w.contains("not JSON")));
    assert_eq!(o.message_count(id).await, 1);
    assert_eq!(o.outbox_rows(id).await, 0);
    assert_eq!(o.hub.list("102", false).await.unwrap()[0].owner, None);
}

#[tokio::test]
async fn deleting_a_conversation_keeps_its_undelivered_replies() {
    let o = Office::new().await;
    let id = o
        .hub
        .receive(sms("+13125550014", "hi"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.reply("101", id, "On my way", None).await.unwrap();
    // Offered to three: deleting needs taking first. 101 owns it after replying.
    o.hub.delete("101", id).await.unwrap();
    assert!(matches!(
        o.hub.read("101", id).await,
        Err(ChatError::NotVisible)
    ));
    let rows = o
        .hub
        .outbox_claim_due(later(), 1_000, "a", 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].message_id, None);
    assert!(rows[0].payload.contains("On my way"));
    // The customer's next message starts a new conversation, routed.
    let next = o.hub.receive(sms("+13125550014", "hello?")).await.unwrap();
    assert_ne!(next.conversation_id, id);
    assert_eq!(offered_to(&next.placed), ["101", "102", "103"]);
}

#[tokio::test]
async fn information_shows_the_contact_and_their_history_with_every_agent() {
    let o = Office::new().await;
    let wa = Inbound {
        contact_name: Some("Dana".into()),
        ..Inbound::new(Channel::WhatsApp, "+13125550015", "hi on WhatsApp")
    };
    let first = o.hub.receive(wa).await.unwrap().conversation_id;
    // Poll top 1: nobody answered yet, so the first of the queue, 101.
    o.hub.reply("101", first, "hello Dana", None).await.unwrap();
    o.hub.dealt_with("101", first).await.unwrap();
    let second = o
        .hub
        .receive(sms("+13125550015", "now by SMS"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.reply("102", second, "hi again", None).await.unwrap();
    let info = o.hub.information("102", second).await.unwrap();
    assert_eq!(info.channel, "sms");
    assert_eq!(info.customer, "+13125550015");
    let history: Vec<_> = info
        .history
        .iter()
        .map(|h| {
            (
                h.conversation_id,
                h.channel,
                h.agents.clone(),
                h.dealt_with_at_ms.is_some(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (second, "sms", vec!["102".to_string()], false),
            (first, "whatsapp", vec!["101".to_string()], true),
        ]
    );
    // Information is for whoever sees the conversation.
    assert!(matches!(
        o.hub.information("101", second).await,
        Err(ChatError::NotVisible)
    ));
}

#[tokio::test]
async fn an_owner_the_plan_no_longer_has_gets_no_sticky_message() {
    let o = Office::new().await;
    let id = o
        .hub
        .receive(sms("+13125550016", "hi"))
        .await
        .unwrap()
        .conversation_id;
    o.hub.take("102", id).await.unwrap();
    // Bruno leaves: the plan is reloaded without 102.
    let without = OFFICE
        .replace("extension 102 \"Bruno\" { voicemail }\n", "")
        .replace("101, 102, 103", "101, 103");
    std::fs::write(o.dir.path().join("dialplans/office.dial"), without).unwrap();
    assert!(
        matches!(
            o.plans.reload(),
            switchboard_runtime::reload::ReloadOutcome::Loaded { .. }
        ),
        "the plan without 102 loads"
    );
    let next = o.hub.receive(sms("+13125550016", "anyone?")).await.unwrap();
    assert_eq!(offered_to(&next.placed), ["101", "103"]);
}
