//! A reply's delivery as the agent sees it, over a real SQLite file, the agents' API
//! through the router, and the outbox sender posting to a local receiver that plays
//! WhatsApp's send API on a real socket: `pending` with the provider's words and the
//! next try's time while it fails for now, `failed` when the provider refuses it for
//! good, a `delivery` event at each change, and the owner's "Send again" delivering it
//! once when the provider takes it.

mod signed_in;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use signed_in::{HOST, PERSON_PASSWORD, SignedIn, signed_in_person};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::{ChatEvent, ChatEventKind, ChatHub, Inbound};
use switchboard_runtime::chat_channels::config::{ChannelAccounts, WhatsAppAccount};
use switchboard_runtime::chat_channels::outbox_sender::{self, SenderSettings};
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::secret::Secret;
use switchboard_runtime::sqlite_store::StoreThread;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// WhatsApp goes to Alice alone; Bruno sees none of it.
const PLAN: &str = r#"
extension 101 "Alice"
extension 102 "Bruno"
chat whatsapp -> extension 101
"#;

const REFUSAL: &str = r#"{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026}}"#;

/// WhatsApp's send API on a local port: answers every request with `status` (as it is
/// when the request arrives) and counts the requests and the accepted ones.
#[derive(Clone)]
struct Provider {
    status: Arc<AtomicU16>,
    requests: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
}

impl Provider {
    async fn start(stop: CancellationToken) -> (Provider, String) {
        async fn answer(State(p): State<Provider>) -> (StatusCode, String) {
            p.requests.fetch_add(1, Ordering::SeqCst);
            let status = StatusCode::from_u16(p.status.load(Ordering::SeqCst)).unwrap();
            if status.is_success() {
                p.accepted.fetch_add(1, Ordering::SeqCst);
                (status, r#"{"messages":[{"id":"wamid.SENT"}]}"#.to_string())
            } else if status == StatusCode::BAD_REQUEST {
                (status, REFUSAL.to_string())
            } else {
                (status, "upstream overloaded".to_string())
            }
        }
        let provider = Provider {
            status: Arc::new(AtomicU16::new(503)),
            requests: Arc::default(),
            accepted: Arc::default(),
        };
        let app = Router::new()
            .route("/{*rest}", post(answer))
            .with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .unwrap();
        });
        (provider, url)
    }

    fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// Waits (up to 10 s) for the `delivery` event of `message` and checks who hears it.
async fn delivery_event(events: &mut broadcast::Receiver<ChatEvent>, message: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline.into(), events.recv())
            .await
            .expect("a delivery event within 10 s")
            .unwrap();
        if matches!(event.kind, ChatEventKind::Delivery { .. }) && event.message_id == Some(message)
        {
            assert_eq!(event.kind.as_str(), "delivery");
            assert_eq!(
                event.visible_to,
                ["101"],
                "only the owner sees the conversation"
            );
            return;
        }
    }
}

/// Reads reply `message` of conversation `id` as `who` until `done` holds for its
/// `delivery` (up to 10 s); the delivery.
async fn delivery_until(
    app: &Router,
    who: &SignedIn,
    id: i64,
    message: i64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = who.get(app, &format!("/api/chat/conversations/{id}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let messages = reply.json()["messages"].as_array().unwrap().clone();
        let m = messages
            .iter()
            .find(|m| m["id"] == message)
            .expect("the reply is listed");
        let delivery = m["delivery"].clone();
        if done(&delivery) {
            return delivery;
        }
        assert!(Instant::now() < deadline, "delivery stuck at {delivery}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_failed_reply_shows_the_providers_words_and_goes_once_when_sent_again() {
    let stop = CancellationToken::new();
    let (provider, provider_url) = Provider::start(stop.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = StoreThread::open(&dir.path().join("office.db"))
        .await
        .unwrap();
    let plans = dir.path().join("dialplans");
    let prompts = dir.path().join("prompts");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::create_dir_all(prompts.join("en")).unwrap();
    std::fs::write(plans.join("office.dial"), PLAN).unwrap();
    let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
    let hub = Arc::new(ChatHub::new(store.clone(), plan_holder.clone()));
    let state = AppState {
        chat: hub.clone(),
        plans: plan_holder,
        calls: Default::default(),
        hosts: Arc::new(HostNames::new(HOST.parse().unwrap(), &[])),
        office_changes: store.office_changes(),
        chat_config: Default::default(),
        store,
        live: None,
        auth: Default::default(),
    };
    let accounts = ChannelAccounts {
        public_url: None,
        whatsapp: Some(WhatsAppAccount {
            verify_token: Secret::new("verify"),
            app_secret: Secret::new("secret"),
            access_token: Secret::new("token"),
            phone_number_id: "106540352242922".into(),
            api_url: format!("{provider_url}/v21.0"),
        }),
        facebook: None,
        sms: None,
    };
    // A second between tries: long enough to read the waiting state, short for a test.
    let settings = SenderSettings {
        first_retry: Duration::from_secs(1),
        longest_retry: Duration::from_secs(1),
        idle_check: Duration::from_millis(200),
        ..SenderSettings::default()
    };
    let sender = tokio::spawn(outbox_sender::run(
        hub.clone(),
        Arc::new(accounts),
        settings,
        stop.clone(),
    ));
    let app = app(state.clone());
    let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
    let bruno = signed_in_person(&state, "102", PERSON_PASSWORD).await;

    let mut inbound = Inbound::new(Channel::WhatsApp, "+16505551234", "Is my order ready?");
    inbound.office_address = Some("+15550783881".into());
    let id = hub.receive(inbound).await.unwrap().conversation_id;
    let mut events = hub.subscribe();
    let reply = alice
        .send(
            &app,
            "POST",
            &format!("/api/chat/conversations/{id}/messages"),
            json!({"text": "Yes, come by after 3."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let message = reply.json()["message"]["id"].as_i64().unwrap();

    // The provider is overloaded: still on its way, with its words and the next try.
    let waiting = delivery_until(&app, &alice, id, message, |d| d["last_error"].is_string()).await;
    assert_eq!(waiting["state"], "pending", "{waiting}");
    assert!(
        waiting["last_error"].as_str().unwrap().contains("503"),
        "{waiting}"
    );
    assert!(
        waiting["next_attempt_at_ms"].as_u64().is_some(),
        "{waiting}"
    );
    assert!(waiting["next_attempt_at"].is_string(), "{waiting}");
    delivery_event(&mut events, message).await;

    // Then it refuses the reply for good: failed, in the provider's words.
    provider.answer_with(400);
    let failed = delivery_until(&app, &alice, id, message, |d| d["state"] != "pending").await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .contains("(#131026) Message undeliverable"),
        "{failed}"
    );
    assert!(failed.get("next_attempt_at_ms").is_none(), "{failed}");
    delivery_event(&mut events, message).await;
    let tried = provider.requests.load(Ordering::SeqCst);

    // Only the owner may send it again: Bruno does not even see the conversation.
    let again = format!("/api/chat/conversations/{id}/messages/{message}/resend");
    let refused = bruno.send(&app, "POST", &again, Value::Null).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    let missing = format!(
        "/api/chat/conversations/{id}/messages/{}/resend",
        message + 100
    );
    let refused = alice.send(&app, "POST", &missing, Value::Null).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    assert_eq!(
        provider.requests.load(Ordering::SeqCst),
        tried,
        "nothing was queued"
    );

    // The provider takes it now; Alice sends it again: sent, delivered once.
    provider.answer_with(200);
    let resent = alice.send(&app, "POST", &again, Value::Null).await;
    assert_eq!(resent.status, StatusCode::NO_CONTENT, "{}", resent.text());
    let sent = delivery_until(&app, &alice, id, message, |d| d["state"] == "sent").await;
    assert!(sent["sent_at"].is_string(), "{sent}");
    assert_eq!(provider.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(provider.requests.load(Ordering::SeqCst), tried + 1);
    // A delivered reply cannot be sent again.
    let twice = alice.send(&app, "POST", &again, Value::Null).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{}", twice.text());
    assert!(twice.text().contains("has not failed"), "{}", twice.text());

    stop.cancel();
    sender.await.unwrap();
    assert_eq!(provider.accepted.load(Ordering::SeqCst), 1, "sent once");
}
