//! The agents' chat API (`/api/chat/*`) through the router (`oneshot`, no socket) on a
//! real SQLite file, with two signed-in people, Alice (101) and Bruno (102), both agents
//! of queue 800, which the plan's SMS route offers every message to. Customers write
//! through the chat hub (`ChatHub::receive`), as the channels do.
//!
//! The manual's flow from offer to Dealt with and back to the queue; a Take race run a
//! hundred times; archive, unarchive, delete; templates for managers only; starting an
//! SMS chat; live-chat actions and Information; each person's event stream (only their
//! conversations, `gone` for one taken away, the end at sign-out and at server stop);
//! an admin refused; bad requests refused with nothing stored. Every wait has a
//! deadline.

mod signed_in;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde_json::{Value, json};
use signed_in::{HOST, PERSON_PASSWORD, Reply, SignedIn, signed_in, signed_in_person};
use std::time::Duration;
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::Inbound;
use switchboard_runtime::http::{AppState, app};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// Alice manages the queue; Bruno is an agent of it. WhatsApp goes to Alice alone, so
/// Bruno has conversations he must never hear of.
const PLAN: &str = r#"
settings {
    timezone = "America/Chicago"
}
extension 101 "Alice"
extension 102 "Bruno"
queue 800 "Sales" { agents 101, 102; managers 101 }
chat sms "+12605550100" -> queue 800 poll all
chat livechat           -> queue 800
chat whatsapp           -> extension 101
"#;

/// The office's SMS number, the one the route takes.
const OFFICE_SMS: &str = "+12605550100";

struct Office {
    _dir: TempDir,
    state: AppState,
    app: Router,
    alice: SignedIn,
    bruno: SignedIn,
}

impl Office {
    async fn new() -> Office {
        let dir = tempfile::tempdir().unwrap();
        let state = signed_in::office_state(dir.path(), PLAN).await;
        let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
        let bruno = signed_in_person(&state, "102", PERSON_PASSWORD).await;
        Office {
            _dir: dir,
            app: app(state.clone()),
            state,
            alice,
            bruno,
        }
    }

    /// A customer's SMS to the office number; the conversation's id.
    async fn texts(&self, customer: &str, text: &str) -> i64 {
        let mut inbound = Inbound::new(Channel::Sms, customer, text);
        inbound.office_address = Some(OFFICE_SMS.to_string());
        self.receive(inbound).await
    }

    async fn receive(&self, inbound: Inbound) -> i64 {
        let received = self.state.chat.receive(inbound).await.unwrap();
        assert!(!received.duplicate);
        received.conversation_id
    }

    async fn get(&self, who: &SignedIn, path: &str) -> Reply {
        who.get(&self.app, path).await
    }

    async fn post(&self, who: &SignedIn, path: &str, body: Value) -> Reply {
        who.send(&self.app, "POST", path, body).await
    }

    /// The ids in `who`'s recents (or archive).
    async fn listed(&self, who: &SignedIn, archived: bool) -> Vec<i64> {
        let path = format!("/api/chat/conversations?archived={}", u8::from(archived));
        let reply = self.get(who, &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        ids(&reply.json())
    }

    /// Conversation `id` as `who` reads it; panics unless 200.
    async fn read(&self, who: &SignedIn, id: i64) -> Value {
        let reply = self
            .get(who, &format!("/api/chat/conversations/{id}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()
    }

    /// The status of `who` reading conversation `id`.
    async fn read_status(&self, who: &SignedIn, id: i64) -> StatusCode {
        self.get(who, &format!("/api/chat/conversations/{id}"))
            .await
            .status
    }

    /// Every conversation Alice or Bruno has, archived or not, each once.
    async fn all_listed(&self) -> Vec<i64> {
        let mut all = Vec::new();
        for who in [&self.alice, &self.bruno] {
            for archived in [false, true] {
                all.extend(self.listed(who, archived).await);
            }
        }
        all.sort_unstable();
        all.dedup();
        all
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

fn error_of(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_manuals_flow_from_offer_to_dealt_with_and_back_to_the_queue() {
    let o = Office::new().await;
    let id = o
        .texts("+13125550123", "Hello, has my order shipped?")
        .await;

    // Offered to the queue: both agents see it, unowned, with the customer's words.
    for who in [&o.alice, &o.bruno] {
        let list = o.get(who, "/api/chat/conversations").await.json();
        assert_eq!(ids(&list), vec![id]);
        let c = &list[0];
        assert_eq!(c["channel"], "sms");
        assert_eq!(c["customer"], "+13125550123");
        assert_eq!(c["office_address"], OFFICE_SMS);
        assert_eq!(c["routed_to"], "queue 800");
        assert_eq!(c["owner"], Value::Null);
        assert_eq!(c["archived"], false);
        assert_eq!(c["unread"], 1);
        assert_eq!(c["last"]["text"], "Hello, has my order shipped?");
        assert_eq!(c["last"]["direction"], "in");
        assert!(c["last"]["at"].as_str().unwrap().ends_with('Z'));
        let read = o.read(who, id).await;
        assert_eq!(read["messages"][0]["text"], "Hello, has my order shipped?");
        assert_eq!(read["messages"][0]["direction"], "in");
    }

    // Alice answers: that takes it.
    let path = format!("/api/chat/conversations/{id}/messages");
    let reply = o
        .post(&o.alice, &path, json!({"text": "Let me look."}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let message = &reply.json()["message"];
    assert_eq!(message["direction"], "out");
    assert_eq!(message["author"], "101");
    assert_eq!(message["author_name"], "Alice");
    assert_eq!(message["text"], "Let me look.");
    assert_eq!(o.read(&o.alice, id).await["conversation"]["owner"], "101");

    // Bruno no longer sees it; answering it now tells him who took it.
    assert_eq!(o.read_status(&o.bruno, id).await, StatusCode::NOT_FOUND);
    assert!(o.listed(&o.bruno, false).await.is_empty());
    let reply = o.post(&o.bruno, &path, json!({"text": "Hi!"})).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    let words = error_of(&reply);
    assert!(
        words.starts_with("Alice (101) took this conversation at "),
        "{words}"
    );

    // Alice transfers it to Bruno: gone for her, his now.
    let transfer = format!("/api/chat/conversations/{id}/transfer");
    let reply = o.post(&o.alice, &transfer, json!({"to": "102"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["conversation"]["owner"], "102");
    assert_eq!(reply.json()["conversation"]["owner_name"], "Bruno");
    assert_eq!(o.read_status(&o.alice, id).await, StatusCode::NOT_FOUND);
    assert!(o.listed(&o.alice, false).await.is_empty());
    let read = o.read(&o.bruno, id).await;
    assert_eq!(read["conversation"]["owner"], "102");
    assert_eq!(o.listed(&o.bruno, false).await, vec![id]);

    // Bruno marks it dealt with: a system message, archived, his alone.
    let dealt = format!("/api/chat/conversations/{id}/dealt-with");
    let reply = o.post(&o.bruno, &dealt, Value::Null).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["conversation"]["archived"], true);
    assert!(reply.json()["conversation"]["dealt_with_at"].is_string());
    let read = o.read(&o.bruno, id).await;
    let last = read["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["direction"], "system");
    assert!(
        last["text"].as_str().unwrap().contains("dealt with"),
        "{last}"
    );
    assert!(o.listed(&o.bruno, false).await.is_empty());
    assert_eq!(o.listed(&o.bruno, true).await, vec![id]);

    // The customer writes again: routed anew, offered to both.
    let again = o.texts("+13125550123", "One more question").await;
    assert_eq!(
        again, id,
        "the same customer on the same number: one conversation"
    );
    for who in [&o.alice, &o.bruno] {
        assert_eq!(o.listed(who, false).await, vec![id]);
        let read = o.read(who, id).await;
        assert_eq!(read["conversation"]["owner"], Value::Null);
        assert_eq!(read["conversation"]["archived"], false);
    }
}

#[tokio::test]
async fn a_conversation_not_yours_is_answered_like_one_that_does_not_exist() {
    let o = Office::new().await;
    let mut whatsapp = Inbound::new(Channel::WhatsApp, "+13125550999", "Hi Alice");
    whatsapp.office_address = Some("+12605550100".to_string());
    let alices = o.receive(whatsapp).await;
    assert_eq!(o.listed(&o.alice, false).await, vec![alices]);
    assert!(o.listed(&o.bruno, false).await.is_empty());

    let missing = alices + 1000;
    for action in ["", "/information"] {
        let theirs = o
            .get(
                &o.bruno,
                &format!("/api/chat/conversations/{alices}{action}"),
            )
            .await;
        let none = o
            .get(
                &o.bruno,
                &format!("/api/chat/conversations/{missing}{action}"),
            )
            .await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert_eq!(none.status, StatusCode::NOT_FOUND);
        assert_eq!(
            error_of(&theirs).replace(&format!("conversation {alices};"), "conversation N;"),
            error_of(&none).replace(&format!("conversation {missing};"), "conversation N;"),
            "the same words for someone else's and for none"
        );
    }
    for action in [
        "take",
        "transfer",
        "dealt-with",
        "archive",
        "unarchive",
        "block",
    ] {
        let path = format!("/api/chat/conversations/{alices}/{action}");
        let body = if action == "transfer" {
            json!({"to": "101"})
        } else {
            Value::Null
        };
        let reply = o.post(&o.bruno, &path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{action}: {}",
            reply.text()
        );
    }
    let path = format!("/api/chat/conversations/{alices}");
    let reply = o.bruno.send(&o.app, "DELETE", &path, Value::Null).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Nothing happened to it.
    let read = o.read(&o.alice, alices).await;
    assert_eq!(read["conversation"]["owner"], Value::Null);
    assert_eq!(read["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_racing_to_take_one_conversation_have_exactly_one_winner_every_time() {
    let o = Office::new().await;
    let mut wins = [0u32; 2];
    for round in 0..100 {
        let id = o
            .texts(&format!("+1312555{round:04}"), "Anyone there?")
            .await;
        let path = format!("/api/chat/conversations/{id}/take");
        let (a, b) = tokio::join!(
            o.post(&o.alice, &path, Value::Null),
            o.post(&o.bruno, &path, Value::Null),
        );
        let (winner, loser, winner_ext) = match (a.status, b.status) {
            (StatusCode::OK, StatusCode::CONFLICT) => (&a, &b, "101"),
            (StatusCode::CONFLICT, StatusCode::OK) => (&b, &a, "102"),
            other => panic!(
                "round {round}: {other:?}, not one 200 and one 409: {} / {}",
                a.text(),
                b.text()
            ),
        };
        wins[usize::from(winner_ext == "102")] += 1;
        assert_eq!(winner.json()["conversation"]["owner"], winner_ext);
        let words = error_of(loser);
        let expected = if winner_ext == "101" {
            "Alice (101) took this conversation at "
        } else {
            "Bruno (102) took this conversation at "
        };
        assert!(words.starts_with(expected), "round {round}: {words}");
        let owner = o
            .read(
                if winner_ext == "101" {
                    &o.alice
                } else {
                    &o.bruno
                },
                id,
            )
            .await;
        assert_eq!(owner["conversation"]["owner"], winner_ext);
    }
    assert_eq!(wins[0] + wins[1], 100, "{wins:?}");
}

#[tokio::test]
async fn archive_unarchive_and_delete_change_only_the_owners_lists() {
    let o = Office::new().await;
    let id = o.texts("+13125550123", "Hello").await;

    // Offered to two agents: nobody may archive it for the other; take it first.
    let archive = format!("/api/chat/conversations/{id}/archive");
    let reply = o.post(&o.alice, &archive, Value::Null).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert!(
        error_of(&reply).contains("take it first"),
        "{}",
        reply.text()
    );
    assert_eq!(o.listed(&o.bruno, false).await, vec![id]);

    let take = format!("/api/chat/conversations/{id}/take");
    assert_eq!(o.post(&o.alice, &take, Value::Null).await.status, 200);
    let reply = o.post(&o.alice, &archive, Value::Null).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["conversation"]["archived"], true);
    assert!(o.listed(&o.alice, false).await.is_empty());
    assert_eq!(o.listed(&o.alice, true).await, vec![id]);
    assert!(o.listed(&o.bruno, true).await.is_empty());

    let unarchive = format!("/api/chat/conversations/{id}/unarchive");
    let reply = o.post(&o.alice, &unarchive, Value::Null).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["conversation"]["archived"], false);
    assert_eq!(o.listed(&o.alice, false).await, vec![id]);
    assert!(o.listed(&o.alice, true).await.is_empty());

    // An archived conversation can still be transferred, which re-opens it (the SMS
    // guide: "Archived chats can be re-opened by … Transferring the chat").
    assert_eq!(o.post(&o.alice, &archive, Value::Null).await.status, 200);
    let transfer = format!("/api/chat/conversations/{id}/transfer");
    let reply = o.post(&o.alice, &transfer, json!({"to": "102"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["conversation"]["archived"], false);
    assert_eq!(o.listed(&o.bruno, false).await, vec![id]);
    assert!(o.listed(&o.alice, true).await.is_empty());

    let path = format!("/api/chat/conversations/{id}");
    let reply = o.bruno.send(&o.app, "DELETE", &path, Value::Null).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(o.read_status(&o.bruno, id).await, StatusCode::NOT_FOUND);
    assert!(o.all_listed().await.is_empty());
}

#[tokio::test]
async fn managers_write_templates_agents_read_them_by_category_and_language() {
    let o = Office::new().await;
    let templates = [
        ("Greetings", "en", "Hello", "Hello, how can I help you?"),
        ("Greetings", "de", "Hallo", "Hallo, wie kann ich helfen?"),
        ("Billing", "en", "Invoice", "Your invoice is on its way."),
    ];
    let mut made = Vec::new();
    for (category, language, title, text) in templates {
        let body =
            json!({"category": category, "language": language, "title": title, "text": text});
        let reply = o.post(&o.alice, "/api/chat/templates", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        assert_eq!(reply.json()["template"]["title"], title);
        made.push(reply.json()["template"]["id"].as_i64().unwrap());
    }

    // Bruno is an agent, not a manager: he reads them and writes none.
    let body = json!({"category": "Greetings", "language": "en", "title": "Yo", "text": "Yo"});
    let reply = o.post(&o.bruno, "/api/chat/templates", body.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert!(error_of(&reply).contains("managers"), "{}", reply.text());
    let path = format!("/api/chat/templates/{}", made[0]);
    let reply = o.bruno.send(&o.app, "PUT", &path, body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    let reply = o.bruno.send(&o.app, "DELETE", &path, Value::Null).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());

    let titles = |reply: Reply| -> Vec<String> {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let mut t: Vec<String> = reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    let all = titles(o.get(&o.bruno, "/api/chat/templates").await);
    assert_eq!(
        all,
        ["Hallo", "Hello", "Invoice"],
        "nothing of Bruno's was stored"
    );
    let greetings = titles(
        o.get(&o.bruno, "/api/chat/templates?category=Greetings")
            .await,
    );
    assert_eq!(greetings, ["Hallo", "Hello"]);
    let german = "/api/chat/templates?category=Greetings&language=de";
    assert_eq!(titles(o.get(&o.bruno, german).await), ["Hallo"]);
    let english = titles(o.get(&o.bruno, "/api/chat/templates?language=en").await);
    assert_eq!(english, ["Hello", "Invoice"]);
    let found = titles(o.get(&o.bruno, "/api/chat/templates?q=INVOICE").await);
    assert_eq!(found, ["Invoice"]);

    // Alice changes one and deletes another.
    let changed = json!({"category": "Greetings", "language": "en", "title": "Hello", "text": "Hi! What can I do for you?"});
    let reply = o.alice.send(&o.app, "PUT", &path, changed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let list = o
        .get(
            &o.bruno,
            "/api/chat/templates?language=en&category=Greetings",
        )
        .await;
    assert_eq!(list.json()[0]["text"], "Hi! What can I do for you?");
    assert_eq!(list.json()[0]["created_by"], "101");
    let gone = format!("/api/chat/templates/{}", made[2]);
    let reply = o.alice.send(&o.app, "DELETE", &gone, Value::Null).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    let all = titles(o.get(&o.bruno, "/api/chat/templates").await);
    assert_eq!(all, ["Hallo", "Hello"]);

    // A template id that does not exist (the one just deleted) is not found, not a bad
    // request: 404 naming it, for a change and a delete alike.
    let reply = o.alice.send(&o.app, "DELETE", &gone, Value::Null).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
    assert!(
        error_of(&reply).contains(&format!("no chat template {}", made[2])),
        "{}",
        reply.text()
    );
    let again = json!({"category": "Billing", "language": "en", "title": "X", "text": "X"});
    let reply = o.alice.send(&o.app, "PUT", &gone, again).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());

    // A misspelt field is refused, not ignored; nothing stored.
    let typo = json!({"category": "Billing", "langauge": "en", "title": "X", "text": "X"});
    let reply = o.post(&o.alice, "/api/chat/templates", typo).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(error_of(&reply).contains("langauge"), "{}", reply.text());
    assert_eq!(
        titles(o.get(&o.bruno, "/api/chat/templates").await).len(),
        2
    );
}

#[tokio::test]
async fn an_sms_chat_starts_only_with_plus_one_and_ten_digits() {
    let o = Office::new().await;
    for (to, fix) in [
        ("2602058900", Some("+12602058900")),
        ("(260) 205-8900", Some("+12602058900")),
        ("+1 260 205 8900", Some("+12602058900")),
        ("+442071234567", None),
        ("+1260205890", None),
    ] {
        let reply = o
            .post(
                &o.alice,
                "/api/chat/sms",
                json!({"to": to, "text": "Hello"}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{to}: {}",
            reply.text()
        );
        let words = error_of(&reply);
        assert!(
            words.contains("+1 followed by the 10-digit number"),
            "{words}"
        );
        match fix {
            Some(fix) => assert!(
                words.ends_with(&format!("write this one as {fix}")),
                "{words}"
            ),
            None => assert!(!words.contains("this one"), "{words}"),
        }
    }
    assert!(o.all_listed().await.is_empty(), "nothing was stored");

    let body = json!({"to": "+12602058900", "text": "Your table is ready."});
    let reply = o.post(&o.alice, "/api/chat/sms", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let started = reply.json();
    let id = started["conversation"]["id"].as_i64().unwrap();
    assert_eq!(started["conversation"]["owner"], "101");
    assert_eq!(started["conversation"]["channel"], "sms");
    assert_eq!(started["conversation"]["customer"], "+12602058900");
    assert_eq!(started["conversation"]["office_address"], OFFICE_SMS);
    assert_eq!(started["message"]["text"], "Your table is ready.");
    assert_eq!(o.listed(&o.alice, false).await, vec![id]);
    assert!(o.listed(&o.bruno, false).await.is_empty());

    // The customer's answer is sticky: Alice's, not offered to the queue.
    assert_eq!(o.texts("+12602058900", "Thanks, on my way").await, id);
    assert!(o.listed(&o.bruno, false).await.is_empty());
    let read = o.read(&o.alice, id).await;
    assert_eq!(read["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn writing_out_never_hands_over_a_conversation_the_agent_could_not_open() {
    // A customer's SMS, offered to the queue; Alice takes it and deals with it, so it
    // sits in her archive, offered to her alone. Bruno starting an SMS chat with the same
    // number must not become its owner and so read its history.
    let o = Office::new().await;
    let id = o.texts("+12602058901", "Is my order ready?").await;
    let take = format!("/api/chat/conversations/{id}/take");
    assert_eq!(
        o.post(&o.alice, &take, Value::Null).await.status,
        StatusCode::OK
    );
    let dealt = format!("/api/chat/conversations/{id}/dealt-with");
    assert_eq!(
        o.post(&o.alice, &dealt, Value::Null).await.status,
        StatusCode::OK
    );
    let messages = o.read(&o.alice, id).await["messages"]
        .as_array()
        .unwrap()
        .len();

    let body = json!({"to": "+12602058901", "text": "Hi, Bruno here"});
    let reply = o.post(&o.bruno, "/api/chat/sms", body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert!(
        error_of(&reply).contains("another agent or queue of the office answers"),
        "{}",
        reply.text()
    );
    let path = format!("/api/chat/conversations/{id}");
    assert_eq!(
        o.bruno.get(&o.app, &path).await.status,
        StatusCode::NOT_FOUND
    );
    let after = o.read(&o.alice, id).await;
    assert_eq!(
        after["messages"].as_array().unwrap().len(),
        messages,
        "nothing was sent"
    );
    assert_eq!(after["conversation"]["owner"], Value::Null);
}

#[tokio::test]
async fn live_chat_can_be_ended_and_blocked_and_information_tells_the_history() {
    let o = Office::new().await;
    let mut visit = Inbound::new(Channel::LiveChat, "v-0123456789abcdef0123", "Hi there");
    visit.contact_name = Some("Dana".to_string());
    visit.contact_email = Some("dana@example.com".to_string());
    visit.address = Some("203.0.113.7".to_string());
    let live = o.receive(visit).await;
    let sms = o.texts("+13125550123", "Hello").await;

    // End chat session and Block are for live chat only.
    for action in ["end-session", "block"] {
        let path = format!("/api/chat/conversations/{sms}/{action}");
        let reply = o.post(&o.alice, &path, Value::Null).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
        assert!(error_of(&reply).contains("live chat"), "{}", reply.text());
    }

    let path = format!("/api/chat/conversations/{live}/messages");
    let reply = o.post(&o.alice, &path, json!({"text": "Hello Dana"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let info = o
        .get(
            &o.alice,
            &format!("/api/chat/conversations/{live}/information"),
        )
        .await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text());
    let info = info.json();
    assert_eq!(info["contact"]["channel"], "livechat");
    assert_eq!(info["contact"]["name"], "Dana");
    assert_eq!(info["contact"]["email"], "dana@example.com");
    assert_eq!(info["contact"]["address"], "203.0.113.7");
    assert_eq!(info["history"][0]["conversation_id"], live);
    assert_eq!(info["history"][0]["routed_to"], "queue 800");
    assert_eq!(
        info["history"][0]["agents"],
        json!([{"extension": "101", "name": "Alice"}])
    );

    let end = format!("/api/chat/conversations/{live}/end-session");
    let reply = o.post(&o.alice, &end, Value::Null).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let block = format!("/api/chat/conversations/{live}/block");
    let reply = o.post(&o.alice, &block, Value::Null).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let notes: Vec<String> = o.read(&o.alice, live).await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "system")
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert!(notes.iter().any(|n| n.contains("ended")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("blocked")), "{notes:?}");

    // From then on the visitor's address is refused, and nothing of it is stored.
    let mut again = Inbound::new(Channel::LiveChat, "v-ffffffffffffffffffff", "It's me again");
    again.address = Some("203.0.113.7".to_string());
    assert!(o.state.chat.receive(again).await.is_err());
    assert_eq!(o.all_listed().await, vec![live.min(sms), live.max(sms)]);
}

/// A person's `/api/chat/events` stream, read off the router's answer.
struct ChatEvents {
    body: axum::body::BodyDataStream,
    text: String,
}

impl ChatEvents {
    async fn open(o: &Office, who: &SignedIn) -> ChatEvents {
        let request = who.request("GET", "/api/chat/events", Value::Null);
        let response = o.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        ChatEvents {
            body: response.into_body().into_data_stream(),
            text: String::new(),
        }
    }

    /// The next `chat` event's data; fails after 10 s without one, or at the end.
    async fn next(&mut self) -> Value {
        self.next_or_end().await.expect("the event stream ended")
    }

    /// The next `chat` event's data, `None` when the stream ends; fails after 10 s
    /// without either.
    async fn next_or_end(&mut self) -> Option<Value> {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str::<Value>(d).unwrap());
                    }
                }
                if let (Some(name), Some(data)) = (name, data) {
                    assert_eq!(name, "chat");
                    return Some(data);
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("no chat event for 10 s")?
                .unwrap();
            self.text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test]
async fn each_persons_event_stream_tells_of_their_conversations_only() {
    let o = Office::new().await;
    let mut alices = ChatEvents::open(&o, &o.alice).await;
    let mut brunos = ChatEvents::open(&o, &o.bruno).await;

    let id = o.texts("+13125550123", "Hello").await;
    for events in [&mut alices, &mut brunos] {
        let offered = events.next().await;
        assert_eq!(offered["kind"], "offered");
        assert_eq!(offered["conversation_id"], id);
    }

    // Alice takes it: hers; gone for Bruno.
    let take = format!("/api/chat/conversations/{id}/take");
    assert_eq!(o.post(&o.alice, &take, Value::Null).await.status, 200);
    let taken = alices.next().await;
    assert_eq!(taken["kind"], "taken");
    assert_eq!(taken["conversation_id"], id);
    let gone = brunos.next().await;
    assert_eq!(gone, json!({"kind": "gone", "conversation_id": id}));

    // What happens to it now, and a WhatsApp chat routed to Alice alone: Bruno hears
    // nothing of either. The next thing he hears is the next conversation offered to
    // him, so nothing came before it.
    let path = format!("/api/chat/conversations/{id}/messages");
    let reply = o.post(&o.alice, &path, json!({"text": "Hi!"})).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let message = alices.next().await;
    assert_eq!(message["kind"], "message");
    assert_eq!(message["message_id"], reply.json()["message"]["id"]);
    let mut whatsapp = Inbound::new(Channel::WhatsApp, "+13125550999", "Hi Alice");
    whatsapp.office_address = Some(OFFICE_SMS.to_string());
    let alices_alone = o.receive(whatsapp).await;
    let offered = alices.next().await;
    assert_eq!(offered["kind"], "offered");
    assert_eq!(offered["conversation_id"], alices_alone);

    let next = o.texts("+13125550124", "Hello again").await;
    let heard = brunos.next().await;
    assert_eq!(heard["kind"], "offered");
    assert_eq!(
        heard["conversation_id"], next,
        "Bruno heard of another: {heard}"
    );

    // Transferred to Bruno: his now, gone for Alice.
    let transfer = format!("/api/chat/conversations/{id}/transfer");
    let reply = o.post(&o.alice, &transfer, json!({"to": "102"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let offered_next = alices.next().await;
    assert_eq!(offered_next["conversation_id"], next);
    assert_eq!(
        alices.next().await,
        json!({"kind": "gone", "conversation_id": id})
    );
    let transferred = brunos.next().await;
    assert_eq!(transferred["kind"], "transferred");
    assert_eq!(transferred["conversation_id"], id);
}

#[tokio::test]
async fn a_persons_event_stream_ends_when_they_sign_out() {
    let o = Office::new().await;
    let mut alices = ChatEvents::open(&o, &o.alice).await;
    let reply = o.post(&o.alice, "/api/logout", Value::Null).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());

    // The stream looks the session up again at least every second it has something to
    // tell; however many conversations are offered meanwhile, it ends within seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut told = 0;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream still told events 10 s after sign-out ({told} of them)"
        );
        o.texts(&format!("+1312555{:04}", told), "Hello").await;
        match alices.next_or_end().await {
            Some(_) => told += 1,
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_persons_event_stream_ends_when_the_server_stops() {
    let o = Office::new().await;
    let listener = switchboard_runtime::http::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(switchboard_runtime::http::serve(
        listener,
        o.app.clone(),
        stop.clone().cancelled_owned(),
    ));
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /api/chat/events HTTP/1.1\r\nHost: {HOST}\r\nAccept: text/event-stream\r\n\
         Cookie: {}\r\n\r\n",
        o.alice.cookie
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut buf = [0u8; 1024];
        let n = read_within(&mut socket, &mut buf).await;
        assert!(n > 0, "the server closed before answering");
        seen.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&seen).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");

    stop.cancel();
    let mut buf = [0u8; 1024];
    while read_within(&mut socket, &mut buf).await > 0 {}
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server did not stop within 10 s")
        .unwrap()
        .unwrap();
}

/// Reads what comes within 10 s; 0 at the end of the stream.
async fn read_within(socket: &mut tokio::net::TcpStream, buf: &mut [u8]) -> usize {
    tokio::time::timeout(Duration::from_secs(10), socket.read(buf))
        .await
        .expect("nothing from the server for 10 s")
        .unwrap_or(0)
}

#[tokio::test]
async fn an_admin_session_is_refused_the_chat() {
    let o = Office::new().await;
    let id = o.texts("+13125550123", "Hello").await;
    let admin = signed_in(&o.state).await;
    for (method, path) in [
        ("GET", "/api/chat/conversations".to_string()),
        ("GET", format!("/api/chat/conversations/{id}")),
        ("POST", format!("/api/chat/conversations/{id}/take")),
        ("GET", "/api/chat/templates".to_string()),
        ("GET", "/api/chat/events".to_string()),
    ] {
        let reply = admin.send(&o.app, method, &path, Value::Null).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert!(!error_of(&reply).is_empty(), "{method} {path}: words");
    }
    assert_eq!(
        o.read(&o.alice, id).await["conversation"]["owner"],
        Value::Null
    );
}

#[tokio::test]
async fn bad_requests_are_refused_with_words_and_nothing_is_stored() {
    let o = Office::new().await;
    let id = o.texts("+13125550123", "Hello").await;
    let path = format!("/api/chat/conversations/{id}/messages");

    let reply = o
        .post(&o.alice, &path, json!({"text": "Hi", "txet": "typo"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(error_of(&reply).contains("txet"), "{}", reply.text());

    let reply = o.post(&o.alice, &path, json!({"text": "   "})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());

    let long = "a".repeat(switchboard_runtime::chat::MAX_TEXT_CHARS + 1);
    let reply = o.post(&o.alice, &path, json!({"text": long})).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );
    assert!(error_of(&reply).contains("characters"), "{}", reply.text());

    // Over the body limit, declared or streamed without a length.
    let huge = json!({"text": "a".repeat(64 * 1024)}).to_string();
    let mut request = o
        .alice
        .request("POST", &path, serde_json::from_str(&huge).unwrap());
    request
        .headers_mut()
        .insert("content-length", axum::http::HeaderValue::from(huge.len()));
    let reply = signed_in::call(&o.app, request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let mut request = o.alice.request("POST", &path, Value::Null);
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(huge.clone())]);
    *request.body_mut() = Body::from_stream(chunks);
    request.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    let reply = signed_in::call(&o.app, request).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );

    let reply = o
        .post(&o.alice, &path, json!(["not", "an", "object"]))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let reply = o.get(&o.alice, "/api/chat/conversations/abc").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&reply).contains("not a conversation id"));
    let reply = o
        .get(&o.alice, "/api/chat/conversations?archived=maybe")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&reply).contains("archived=1"), "{}", reply.text());

    let transfer = format!("/api/chat/conversations/{id}/transfer");
    let reply = o.post(&o.alice, &transfer, json!({"to": "999"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(error_of(&reply).contains("999"), "{}", reply.text());

    // None of it touched the conversation: still offered to both, one message.
    for who in [&o.alice, &o.bruno] {
        let read = o.read(who, id).await;
        assert_eq!(read["conversation"]["owner"], Value::Null);
        assert_eq!(read["messages"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn unread_is_each_persons_own_and_reading_clears_it() {
    let o = Office::new().await;
    let id = o.texts("+13125550188", "Hi, is anyone there?").await;
    o.texts("+13125550188", "I need to move my appointment.")
        .await;
    let unread = |list: Value| list[0]["unread"].clone();
    assert_eq!(
        unread(o.get(&o.alice, "/api/chat/conversations").await.json()),
        2
    );

    // Alice has it open and reads both: nothing unread for her, both still for Bruno.
    let newest = o.read(&o.alice, id).await["messages"][1]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/chat/conversations/{id}/read");
    let reply = o.post(&o.alice, &path, json!({"message_id": newest})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(
        unread(o.get(&o.alice, "/api/chat/conversations").await.json()),
        0
    );
    assert_eq!(o.read(&o.alice, id).await["conversation"]["unread"], 0);
    assert_eq!(
        unread(o.get(&o.bruno, "/api/chat/conversations").await.json()),
        2
    );

    // A mark never moves back; the customer's next message is new for Alice again.
    let first = newest - 1;
    let reply = o.post(&o.alice, &path, json!({"message_id": first})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(
        unread(o.get(&o.alice, "/api/chat/conversations").await.json()),
        0
    );
    o.texts("+13125550188", "Thursday would be better.").await;
    assert_eq!(
        unread(o.get(&o.alice, "/api/chat/conversations").await.json()),
        1
    );
    assert_eq!(
        unread(o.get(&o.bruno, "/api/chat/conversations").await.json()),
        3
    );

    // A message of another conversation, a missing field, a conversation one may not
    // see: refused, nothing marked.
    let other = o.texts("+13125550199", "Other customer").await;
    let theirs = o.read(&o.alice, other).await["messages"][0]["id"]
        .as_i64()
        .unwrap();
    let reply = o.post(&o.alice, &path, json!({"message_id": theirs})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
    assert!(
        error_of(&reply).contains(&format!("no message {theirs}")),
        "{}",
        reply.text()
    );
    let reply = o.post(&o.alice, &path, json!({"message": newest})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    let mut whatsapp = Inbound::new(Channel::WhatsApp, "+16505550100", "For Alice only");
    whatsapp.office_address = Some("+15550783881".into());
    let alices = o.receive(whatsapp).await;
    let hers = o.read(&o.alice, alices).await["messages"][0]["id"]
        .as_i64()
        .unwrap();
    let reply = o
        .post(
            &o.bruno,
            &format!("/api/chat/conversations/{alices}/read"),
            json!({"message_id": hers}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
    assert_eq!(
        unread(o.get(&o.alice, "/api/chat/conversations").await.json()),
        1
    );
}

#[tokio::test]
async fn a_website_visitor_is_named_as_they_gave_it_or_by_their_short_id() {
    let o = Office::new().await;
    let anonymous = o
        .receive(Inbound::new(
            Channel::LiveChat,
            "v-3fa9c01b22d4e5f60718",
            "Do you take new patients?",
        ))
        .await;
    let named = o
        .receive(Inbound {
            contact_name: Some("Dana Whitfield".into()),
            ..Inbound::new(
                Channel::LiveChat,
                "v-77aa00bb11cc22dd33ee",
                "Hello from the form",
            )
        })
        .await;
    let name_in = |list: &Value, id: i64| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["contact_name"]
            .clone()
    };
    let list = o.get(&o.alice, "/api/chat/conversations").await.json();
    assert_eq!(name_in(&list, anonymous), "Website visitor 3fa9c0");
    assert_eq!(name_in(&list, named), "Dana Whitfield");
    // The same name in the conversation, in what an action answers, and in Information.
    let read = o.read(&o.alice, anonymous).await;
    assert_eq!(
        read["conversation"]["contact_name"],
        "Website visitor 3fa9c0"
    );
    let taken = o
        .post(
            &o.alice,
            &format!("/api/chat/conversations/{anonymous}/take"),
            Value::Null,
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text());
    assert_eq!(
        taken.json()["conversation"]["contact_name"],
        "Website visitor 3fa9c0"
    );
    let info = o
        .get(
            &o.alice,
            &format!("/api/chat/conversations/{anonymous}/information"),
        )
        .await;
    assert_eq!(
        info.json()["contact"]["name"],
        "Website visitor 3fa9c0",
        "{}",
        info.text()
    );
    // An SMS customer without a name stays unnamed: their number says who they are.
    let sms = o.texts("+13125550177", "Hi").await;
    let list = o.get(&o.alice, "/api/chat/conversations").await.json();
    assert_eq!(name_in(&list, sms), Value::Null);
}
