//! Whose quick-response templates are whose (`/api/chat/templates`), through the router
//! on a real SQLite file: a template belongs to the queues its writer manages, so a
//! manager changes and deletes their own and those of their queues' other managers, not
//! a manager of other queues'; a template whose writer manages nothing any more is every
//! manager's to tidy. Who may write at all (managers, not agents) is `chat_api.rs`'s.

mod signed_in;

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use signed_in::{PERSON_PASSWORD, Reply, SignedIn, signed_in_person};
use switchboard_runtime::http::{AppState, app};
use tempfile::TempDir;

/// Alice and Dave manage Sales; Carla manages Support alone; Bruno is an agent.
const PLAN: &str = r#"
extension 101 "Alice"
extension 102 "Bruno"
extension 103 "Carla"
extension 104 "Dave"
queue 800 "Sales" { agents 101, 102; managers 101, 104 }
queue 801 "Support" { agents 102; managers 103 }
"#;

struct Office {
    dir: TempDir,
    state: AppState,
    app: Router,
    alice: SignedIn,
    carla: SignedIn,
    dave: SignedIn,
}

impl Office {
    async fn new() -> Office {
        let dir = tempfile::tempdir().unwrap();
        let state = signed_in::office_state(dir.path(), PLAN).await;
        let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
        let carla = signed_in_person(&state, "103", PERSON_PASSWORD).await;
        let dave = signed_in_person(&state, "104", PERSON_PASSWORD).await;
        Office {
            dir,
            app: app(state.clone()),
            state,
            alice,
            carla,
            dave,
        }
    }

    /// A template by `who`; its id.
    async fn write(&self, who: &SignedIn, title: &str) -> i64 {
        let body = json!({"category": "Greetings", "language": "en", "title": title,
                          "text": format!("{title}, how can I help?")});
        let reply = who
            .send(&self.app, "POST", "/api/chat/templates", body)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        reply.json()["template"]["id"].as_i64().unwrap()
    }

    async fn change(&self, who: &SignedIn, id: i64, text: &str) -> Reply {
        let body = json!({"category": "Greetings", "language": "en", "title": "Hello",
                          "text": text});
        let path = format!("/api/chat/templates/{id}");
        who.send(&self.app, "PUT", &path, body).await
    }

    async fn delete(&self, who: &SignedIn, id: i64) -> Reply {
        let path = format!("/api/chat/templates/{id}");
        who.send(&self.app, "DELETE", &path, Value::Null).await
    }

    /// Every template's (id, text), as an agent lists them.
    async fn texts(&self) -> Vec<(i64, String)> {
        let reply = self.alice.get(&self.app, "/api/chat/templates").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let mut all: Vec<(i64, String)> = reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["id"].as_i64().unwrap(),
                    t["text"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        all.sort();
        all
    }

    /// Replaces the plan and reloads it, as a saved edit does.
    fn reload_plan(&self, plan: &str) {
        let version = self.state.plans.version();
        std::fs::write(self.dir.path().join("dialplans/office.dial"), plan).unwrap();
        self.state.plans.reload();
        assert_eq!(self.state.plans.version(), version + 1, "the plan reloaded");
    }
}

fn error_of(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn managers_of_the_same_queue_change_and_delete_each_others_templates() {
    let o = Office::new().await;
    let alices = o.write(&o.alice, "Hello").await;
    let daves = o.write(&o.dave, "Hi").await;

    let reply = o.change(&o.dave, alices, "Dave's better words").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = o.delete(&o.alice, daves).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(
        o.texts().await,
        [(alices, "Dave's better words".to_string())]
    );
}

#[tokio::test]
async fn a_manager_of_other_queues_only_cannot_touch_a_template_and_is_told_whose_it_is() {
    let o = Office::new().await;
    let alices = o.write(&o.alice, "Hello").await;
    let carlas = o.write(&o.carla, "Howdy").await;
    let before = o.texts().await;

    for reply in [
        o.change(&o.carla, alices, "Carla's words").await,
        o.delete(&o.carla, alices).await,
    ] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
        let words = error_of(&reply);
        assert!(
            words.contains(&format!(
                "chat template {alices} was written by 101 (Alice)"
            )) && words.contains("a manager of Sales (800)")
                && words.contains("you manage Support (801)")
                && words.contains("`managers`"),
            "{words}"
        );
    }
    // Nor may Alice and Dave touch Carla's.
    assert_eq!(
        o.change(&o.dave, carlas, "Dave's words").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        o.delete(&o.alice, carlas).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(o.texts().await, before, "nothing changed");

    // Her own she changes.
    let reply = o.change(&o.carla, carlas, "Carla's words").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn a_template_follows_the_plans_managers_and_one_whose_writer_manages_nothing_is_anyones() {
    let o = Office::new().await;
    let alices = o.write(&o.alice, "Hello").await;
    assert_eq!(
        o.change(&o.carla, alices, "Carla's words").await.status,
        StatusCode::FORBIDDEN
    );

    // Carla becomes a manager of Sales too: Alice's template is hers to change.
    o.reload_plan(&PLAN.replace("managers 101, 104", "managers 101, 103, 104"));
    let reply = o.change(&o.carla, alices, "Carla's words").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    // Back as it was, then Alice manages no queue any more: nobody would be left to
    // change her template, so any manager may.
    o.reload_plan(PLAN);
    assert_eq!(
        o.change(&o.carla, alices, "Carla again").await.status,
        StatusCode::FORBIDDEN
    );
    o.reload_plan(&PLAN.replace("managers 101, 104", "managers 104"));
    let reply = o.delete(&o.carla, alices).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert!(o.texts().await.is_empty());
}
