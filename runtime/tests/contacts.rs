//! The office's contacts (`/api/contacts`) through the router (`oneshot`, no socket) on
//! a real SQLite file, with Alice (101) and Bruno (102) signed in: what one adds the
//! other finds, changes and removes; numbers kept in E.164 whatever way they were
//! written; a search by name, company and number; bad input refused with nothing stored;
//! an admin's session refused; and the chat's Information showing the contact whose
//! number (SMS) or e-mail (live chat) is the customer's.

mod signed_in;

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use signed_in::{PERSON_PASSWORD, SignedIn, signed_in, signed_in_person};
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::Inbound;
use switchboard_runtime::http::{AppState, app};
use tempfile::TempDir;

const PLAN: &str = r#"
extension 101 "Alice"
extension 102 "Bruno"
queue 800 "Sales" { agents 101, 102 }
chat sms "+12605550100" -> queue 800 poll all
chat livechat           -> queue 800
"#;

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

    /// `method path` as `who`: status and JSON body (null when empty).
    async fn ask(
        &self,
        who: &SignedIn,
        method: &str,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let reply = who.send(&self.app, method, path, body).await;
        let json = if reply.body.is_empty() {
            Value::Null
        } else {
            reply.json()
        };
        (reply.status, json)
    }

    async fn search(&self, who: &SignedIn, q: &str) -> Vec<String> {
        let (status, found) = self
            .ask(who, "GET", &format!("/api/contacts?q={q}"), Value::Null)
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    }
}

#[tokio::test]
async fn what_one_person_adds_another_finds_changes_and_removes() {
    let office = Office::new().await;
    let (status, added) = office
        .ask(
            &office.alice,
            "POST",
            "/api/contacts",
            json!({"name": " Dana Whitfield ", "phones": ["(260) 555-0142", "+44 20 7946 0958"],
                   "email": "dana@acme.example", "company": "Acme", "note": "prefers mornings"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["name"], "Dana Whitfield");
    assert_eq!(added["phones"], json!(["+12605550142", "+442079460958"]));
    assert_eq!(added["updated_by"], "101");
    let id = added["id"].as_i64().unwrap();
    office
        .ask(
            &office.alice,
            "POST",
            "/api/contacts",
            json!({"name": "Carl Bianchi", "company": "Zephyr"}),
        )
        .await;

    // Bruno finds her by name, company, e-mail and number, in any case.
    assert_eq!(
        office.search(&office.bruno, "").await,
        ["Carl Bianchi", "Dana Whitfield"]
    );
    assert_eq!(
        office.search(&office.bruno, "whit").await,
        ["Dana Whitfield"]
    );
    assert_eq!(
        office.search(&office.bruno, "ACME").await,
        ["Dana Whitfield"]
    );
    assert_eq!(
        office.search(&office.bruno, "2605550142").await,
        ["Dana Whitfield"]
    );
    assert_eq!(office.search(&office.bruno, "zeph").await, ["Carl Bianchi"]);
    assert!(office.search(&office.bruno, "nobody").await.is_empty());
    // `%` and `_` are letters in a search, not wildcards.
    assert!(office.search(&office.bruno, "%25").await.is_empty());

    // He changes her; the whole contact is replaced.
    let (status, changed) = office
        .ask(
            &office.bruno,
            "PUT",
            &format!("/api/contacts/{id}"),
            json!({"name": "Dana Whitfield", "phones": ["1 260 555 0143"], "company": "Acme Ltd"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["phones"], json!(["+12605550143"]));
    assert_eq!(changed["email"], Value::Null);
    assert_eq!(changed["updated_by"], "102");
    assert!(office.search(&office.alice, "2605550142").await.is_empty());

    // And removes her: gone for both, and a second removal is a 404.
    let (status, _) = office
        .ask(
            &office.bruno,
            "DELETE",
            &format!("/api/contacts/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(office.search(&office.alice, "").await, ["Carl Bianchi"]);
    let (status, missing) = office
        .ask(
            &office.bruno,
            "DELETE",
            &format!("/api/contacts/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("GET /api/contacts"),
        "{missing}"
    );
    let (status, _) = office
        .ask(
            &office.bruno,
            "PUT",
            &format!("/api/contacts/{id}"),
            json!({"name": "Back"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_contacts_are_refused_with_words_and_nothing_is_stored() {
    let office = Office::new().await;
    let long = "x".repeat(201);
    let note = "y".repeat(2001);
    for (body, words) in [
        (json!({"name": "  "}), "needs a name"),
        (json!({"name": long}), "needs a name"),
        (
            json!({"name": "Eve", "phones": ["555-CALL-NOW"]}),
            "+15551234567",
        ),
        (
            json!({"name": "Eve", "phones": ["123"]}),
            "not a phone number",
        ),
        (
            json!({"name": "Eve", "email": "eve at example"}),
            "not an e-mail address",
        ),
        (json!({"name": "Eve", "note": note}), "at most 2000"),
        (json!({"phones": []}), "a contact is JSON"),
        (json!({"name": 7}), "a contact is JSON"),
    ] {
        let (status, refused) = office
            .ask(&office.alice, "POST", "/api/contacts", body.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {refused}");
        let error = refused["error"].as_str().unwrap();
        assert!(error.contains(words), "{body}: {error}");
    }
    let (status, _) = office
        .ask(
            &office.alice,
            "PUT",
            "/api/contacts/abc",
            json!({"name": "Eve"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(office.search(&office.alice, "").await.is_empty());
}

#[tokio::test]
async fn an_admins_session_does_not_reach_the_contacts() {
    let office = Office::new().await;
    let admin = signed_in(&office.state).await;
    for (method, path, body) in [
        ("GET", "/api/contacts", Value::Null),
        ("POST", "/api/contacts", json!({"name": "Mallory"})),
        ("DELETE", "/api/contacts/1", Value::Null),
    ] {
        let (status, refused) = office.ask(&admin, method, path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {refused}");
        assert!(
            refused["error"].as_str().unwrap().contains("people"),
            "{refused}"
        );
    }
    assert!(office.search(&office.alice, "").await.is_empty());
}

#[tokio::test]
async fn the_chats_information_shows_the_contact_with_the_customers_number_never_a_typed_email() {
    let office = Office::new().await;
    office
        .ask(
            &office.alice,
            "POST",
            "/api/contacts",
            json!({"name": "Dana Whitfield", "phones": ["260-555-0142"], "company": "Acme"}),
        )
        .await;
    office
        .ask(
            &office.alice,
            "POST",
            "/api/contacts",
            json!({"name": "Vic Visitor", "email": "Vic@Example.com"}),
        )
        .await;

    let mut sms = Inbound::new(Channel::Sms, "+12605550142", "is my order in?");
    sms.office_address = Some("+12605550100".into());
    let known = office
        .state
        .chat
        .receive(sms)
        .await
        .unwrap()
        .conversation_id;
    let mut stranger = Inbound::new(Channel::Sms, "+12605550199", "hello");
    stranger.office_address = Some("+12605550100".into());
    let unknown = office
        .state
        .chat
        .receive(stranger)
        .await
        .unwrap()
        .conversation_id;
    let mut visitor = Inbound::new(Channel::LiveChat, "v-0123456789abcdef0123", "hi there");
    visitor.contact_email = Some("vic@example.com".into());
    let live = office
        .state
        .chat
        .receive(visitor)
        .await
        .unwrap()
        .conversation_id;

    let info = |id: i64| format!("/api/chat/conversations/{id}/information");
    let (status, shown) = office
        .ask(&office.bruno, "GET", &info(known), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["saved_contact"]["name"], "Dana Whitfield", "{shown}");
    assert_eq!(shown["saved_contact"]["company"], "Acme");
    let (_, shown) = office
        .ask(&office.bruno, "GET", &info(unknown), Value::Null)
        .await;
    assert_eq!(shown["saved_contact"], Value::Null, "{shown}");
    // A live-chat visitor typed Vic's address: anyone could. Not matched to Vic; the
    // agents see it as what the visitor said.
    let (_, shown) = office
        .ask(&office.bruno, "GET", &info(live), Value::Null)
        .await;
    assert_eq!(shown["saved_contact"], Value::Null, "{shown}");
    assert_eq!(shown["contact"]["email"], "vic@example.com", "{shown}");
    let (_, read) = office
        .ask(
            &office.bruno,
            "GET",
            &format!("/api/chat/conversations/{live}"),
            Value::Null,
        )
        .await;
    let notes: Vec<&str> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "system")
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        notes,
        ["The visitor said their email is vic@example.com (not verified)"],
        "{read}"
    );
}

#[tokio::test]
async fn click_to_call_refuses_what_is_not_a_number_before_anything_rings() {
    let office = Office::new().await;
    let (status, refused) = office
        .ask(
            &office.alice,
            "POST",
            "/api/chat/call",
            json!({"number": "call me"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("+15551234567"),
        "{refused}"
    );
    // A router without SIP (no running server) cannot place calls, and says so.
    let (status, refused) = office
        .ask(
            &office.alice,
            "POST",
            "/api/chat/call",
            json!({"number": "(260) 555-0142"}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("without SIP"),
        "{refused}"
    );
}
