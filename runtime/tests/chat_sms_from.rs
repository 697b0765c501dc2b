//! `POST /api/chat/sms`'s `from`, through the router over a real SQLite file: an agent
//! writes only from an office SMS number whose texts the plan's `chat sms` routes send to
//! them or to a queue they are an agent of; any other number is 403 naming the ones they
//! may use, with nothing stored; left out, it is the first of their numbers.

mod signed_in;

use axum::http::StatusCode;
use serde_json::{Value, json};
use signed_in::{PERSON_PASSWORD, Reply, SignedIn, office_state, signed_in_person};
use switchboard_runtime::http::{AppState, app};
use tempfile::TempDir;

/// The Sales line goes to queue 800 (Alice and Bruno); Cleo answers her own line and the
/// after-hours line; Alice has a line of her own; Dana answers no text at all.
const PLAN: &str = r#"
extension 101 "Alice"
extension 102 "Bruno"
extension 103 "Cleo"
extension 104 "Dana"
queue 800 "Sales" { agents 101, 102; managers 104 }
chat sms "+12605550100" -> queue 800 poll all
chat sms "+12605550101" -> extension 103
chat sms "+12605550102" -> extension 101
chat sms "+12605550109" when `msg.language == "de"` -> extension 103
chat sms "+12605550109" -> queue 800
"#;

struct Office {
    dir: TempDir,
    state: AppState,
}

impl Office {
    async fn new() -> Office {
        let dir = tempfile::tempdir().unwrap();
        let state = office_state(dir.path(), PLAN).await;
        Office { dir, state }
    }

    async fn person(&self, extension: &str) -> SignedIn {
        signed_in_person(&self.state, extension, PERSON_PASSWORD).await
    }

    async fn start(&self, who: &SignedIn, body: Value) -> Reply {
        who.send(&app(self.state.clone()), "POST", "/api/chat/sms", body)
            .await
    }

    /// How many conversations and outbox rows the file holds.
    fn stored(&self) -> (u32, u32) {
        let raw = rusqlite::Connection::open(self.dir.path().join("office.db")).unwrap();
        let count = |table: &str| {
            raw.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        (count("chat_conversations"), count("chat_outbox"))
    }
}

fn error_of(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_agent_writes_from_the_numbers_routed_to_them_or_their_queue() {
    let o = Office::new().await;
    let alice = o.person("101").await;
    for (n, from) in ["+12605550100", "+12605550102", "+12605550109"]
        .into_iter()
        .enumerate()
    {
        let to = format!("+1260205890{n}");
        let reply = o
            .start(&alice, json!({"to": to, "from": from, "text": "Hello"}))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{from}: {}",
            reply.text()
        );
        assert_eq!(reply.json()["conversation"]["office_address"], from);
    }
    assert_eq!(o.stored(), (3, 3));
}

#[tokio::test]
async fn another_number_is_refused_naming_the_ones_the_agent_may_use() {
    let o = Office::new().await;
    let bruno = o.person("102").await;
    // Cleo's line, a line of nobody's, and Alice's own line.
    for from in ["+12605550101", "+13125550000", "+12605550102"] {
        let reply = o
            .start(
                &bruno,
                json!({"to": "+12602058900", "from": from, "text": "Hi"}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{from}: {}",
            reply.text()
        );
        let words = error_of(&reply);
        assert!(
            words.starts_with(&format!("you may not send from {from}")),
            "{words}"
        );
        assert!(
            words.contains("you may send from +12605550100, +12605550109;"),
            "{words}"
        );
        assert!(words.ends_with("nothing was sent"), "{words}");
    }
    assert_eq!(o.stored(), (0, 0), "nothing was stored");
}

#[tokio::test]
async fn left_out_the_number_is_the_agents_first_and_none_is_refused() {
    let o = Office::new().await;
    // Cleo answers +12605550101 first: not the plan's first SMS number, which she does
    // not answer.
    let cleo = o.person("103").await;
    let reply = o
        .start(
            &cleo,
            json!({"to": "+12602058900", "text": "Your order is in"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(
        reply.json()["conversation"]["office_address"],
        "+12605550101"
    );
    assert_eq!(o.stored(), (1, 1));

    // Dana manages the queue but is not one of its agents: its texts are not offered to
    // her, and no route sends her any.
    let dana = o.person("104").await;
    for body in [
        json!({"to": "+12602058901", "text": "Hi"}),
        json!({"to": "+12602058901", "from": "+12605550100", "text": "Hi"}),
    ] {
        let reply = o.start(&dana, body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
        let words = error_of(&reply);
        assert!(
            words.contains("no office SMS number is yours to send from"),
            "{words}"
        );
        assert!(words.contains("(extension 104)"), "{words}");
    }
    assert_eq!(o.stored(), (1, 1), "nothing more was stored");
}
