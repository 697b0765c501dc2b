//! A reply's delivery as the agent sees it, over a real SQLite file, the agents' API
//! through the router, and the outbox sender posting to a local receiver that plays
//! WhatsApp's send API on a real socket: `pending` with the provider's words and the
//! next try's time while it fails for now, `failed` when the provider refuses it for
//! good, a `delivery` event at each change, and the owner's "Send again" delivering it
//! once when the provider takes it (every try under one `Idempotency-Key`, "Send again"
//! under a new one); a refused access token keeps the reply waiting the longest time
//! between tries, with words telling the admin what to do, until a restart with a new
//! token sends it.

mod signed_in;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use signed_in::{HOST, PERSON_PASSWORD, SignedIn, signed_in_person};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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

/// Meta's answer to an expired access token.
const TOKEN_EXPIRED: &str = r#"{"error":{"message":"Error validating access token: Session has expired on Tuesday, 12-Mar-24 10:00:00 PDT. The current time is Wednesday, 13-Mar-24 02:00:00 PDT.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbZx19q2LkE"}}"#;

/// WhatsApp's send API on a local port: answers every request with `status` (as it is
/// when the request arrives) and counts the requests and the accepted ones; once it
/// `takes_only` a token, a request with another is refused as an expired one.
#[derive(Clone)]
struct Provider {
    status: Arc<AtomicU16>,
    requests: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    token: Arc<Mutex<Option<String>>>,
    /// Each request's `Idempotency-Key`, in order.
    keys: Arc<Mutex<Vec<String>>>,
}

impl Provider {
    async fn start(stop: CancellationToken) -> (Provider, String) {
        async fn answer(State(p): State<Provider>, headers: HeaderMap) -> (StatusCode, String) {
            p.requests.fetch_add(1, Ordering::SeqCst);
            let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
            p.keys.lock().unwrap().push(key.unwrap_or("").to_string());
            let mut status = StatusCode::from_u16(p.status.load(Ordering::SeqCst)).unwrap();
            if let Some(token) = p.token.lock().unwrap().as_deref() {
                let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
                if sent != Some(&format!("Bearer {token}")) {
                    status = StatusCode::UNAUTHORIZED;
                }
            }
            if status.is_success() {
                p.accepted.fetch_add(1, Ordering::SeqCst);
                (status, r#"{"messages":[{"id":"wamid.SENT"}]}"#.to_string())
            } else if status == StatusCode::BAD_REQUEST {
                (status, REFUSAL.to_string())
            } else if status == StatusCode::UNAUTHORIZED {
                (status, TOKEN_EXPIRED.to_string())
            } else {
                (status, "upstream overloaded".to_string())
            }
        }
        let provider = Provider {
            status: Arc::new(AtomicU16::new(503)),
            requests: Arc::default(),
            accepted: Arc::default(),
            token: Arc::default(),
            keys: Arc::default(),
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

    fn takes_only(&self, token: &str) {
        *self.token.lock().unwrap() = Some(token.to_string());
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

/// The office under test: the store, the hub, the agents' API, Alice and Bruno signed
/// in, and the outbox sender posting to `Provider`, with `settings`.
struct Office {
    _dir: tempfile::TempDir,
    hub: Arc<ChatHub>,
    app: Router,
    alice: SignedIn,
    bruno: SignedIn,
    provider: Provider,
    provider_url: String,
    settings: SenderSettings,
    /// Stops the provider's API.
    stop: CancellationToken,
    /// Stops the sender alone, as a server that stops does.
    sender_stop: CancellationToken,
    sender: tokio::task::JoinHandle<()>,
}

impl Office {
    async fn start(settings: SenderSettings) -> Office {
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
        let sender_stop = CancellationToken::new();
        let sender = tokio::spawn(outbox_sender::run(
            hub.clone(),
            Arc::new(accounts(&provider_url, "token")),
            settings.clone(),
            sender_stop.clone(),
        ));
        let app = app(state.clone());
        let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
        let bruno = signed_in_person(&state, "102", PERSON_PASSWORD).await;
        Office {
            _dir: dir,
            hub,
            app,
            alice,
            bruno,
            provider,
            provider_url,
            settings,
            stop,
            sender_stop,
            sender,
        }
    }

    /// Stops the sender and starts another with the WhatsApp access token `token`, as an
    /// admin's restart with a new config does.
    async fn restart_sender(&mut self, token: &str) {
        self.sender_stop.cancel();
        (&mut self.sender).await.unwrap();
        self.sender_stop = CancellationToken::new();
        self.sender = tokio::spawn(outbox_sender::run(
            self.hub.clone(),
            Arc::new(accounts(&self.provider_url, token)),
            self.settings.clone(),
            self.sender_stop.clone(),
        ));
    }

    /// A WhatsApp customer writes in; the conversation.
    async fn customer_writes(&self) -> i64 {
        let mut inbound = Inbound::new(Channel::WhatsApp, "+16505551234", "Is my order ready?");
        inbound.office_address = Some("+15550783881".into());
        self.hub.receive(inbound).await.unwrap().conversation_id
    }

    /// Alice answers conversation `id`; the reply's message id.
    async fn alice_replies(&self, id: i64) -> i64 {
        let reply = self
            .alice
            .send(
                &self.app,
                "POST",
                &format!("/api/chat/conversations/{id}/messages"),
                json!({"text": "Yes, come by after 3."}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        reply.json()["message"]["id"].as_i64().unwrap()
    }

    async fn stop(self) {
        self.sender_stop.cancel();
        self.sender.await.unwrap();
        self.stop.cancel();
    }
}

/// The WhatsApp account, sending to the provider at `provider_url` with `token`.
fn accounts(provider_url: &str, token: &str) -> ChannelAccounts {
    ChannelAccounts {
        public_url: None,
        whatsapp: Some(WhatsAppAccount {
            verify_token: Secret::new("verify"),
            app_secret: Secret::new("secret"),
            access_token: Secret::new(token),
            phone_number_id: "106540352242922".into(),
            api_url: format!("{provider_url}/v21.0"),
        }),
        facebook: None,
        sms: None,
    }
}

#[tokio::test]
async fn a_failed_reply_shows_the_providers_words_and_goes_once_when_sent_again() {
    // A second between tries: long enough to read the waiting state, short for a test.
    let o = Office::start(SenderSettings {
        first_retry: Duration::from_secs(1),
        longest_retry: Duration::from_secs(1),
        idle_check: Duration::from_millis(200),
        ..SenderSettings::default()
    })
    .await;
    let (app, alice, bruno, provider) = (&o.app, &o.alice, &o.bruno, &o.provider);
    let id = o.customer_writes().await;
    let mut events = o.hub.subscribe();
    let message = o.alice_replies(id).await;

    // The provider is overloaded: still on its way, with its words and the next try.
    let waiting = delivery_until(app, alice, id, message, |d| d["last_error"].is_string()).await;
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
    let failed = delivery_until(app, alice, id, message, |d| d["state"] != "pending").await;
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
    let refused = bruno.send(app, "POST", &again, Value::Null).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    let missing = format!(
        "/api/chat/conversations/{id}/messages/{}/resend",
        message + 100
    );
    let refused = alice.send(app, "POST", &missing, Value::Null).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    assert_eq!(
        provider.requests.load(Ordering::SeqCst),
        tried,
        "nothing was queued"
    );

    // The provider takes it now; Alice sends it again: sent, delivered once.
    provider.answer_with(200);
    let resent = alice.send(app, "POST", &again, Value::Null).await;
    assert_eq!(resent.status, StatusCode::NO_CONTENT, "{}", resent.text());
    let sent = delivery_until(app, alice, id, message, |d| d["state"] == "sent").await;
    assert!(sent["sent_at"].is_string(), "{sent}");
    assert_eq!(provider.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(provider.requests.load(Ordering::SeqCst), tried + 1);
    // Every try of the reply carried one key; "Send again" is a new send, with another.
    let keys = provider.keys.lock().unwrap().clone();
    assert!(tried >= 2, "tried {tried} times");
    assert!(keys[0].starts_with("switchboard-outbox-"), "{keys:?}");
    assert!(keys[0].ends_with(&format!("-{message}")), "{keys:?}");
    assert!(keys[..tried].iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_ne!(keys[tried], keys[0], "{keys:?}");
    assert!(keys[tried].ends_with(&format!("-{message}")), "{keys:?}");
    // A delivered reply cannot be sent again.
    let twice = alice.send(app, "POST", &again, Value::Null).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{}", twice.text());
    assert!(twice.text().contains("has not failed"), "{}", twice.text());

    assert_eq!(provider.accepted.load(Ordering::SeqCst), 1, "sent once");
    o.stop().await;
}

#[tokio::test]
async fn a_refused_access_token_keeps_the_reply_waiting_until_a_restart_with_a_new_one() {
    // Tries a tenth of a second apart, but never closer than a minute after a refused
    // token.
    let mut o = Office::start(SenderSettings {
        first_retry: Duration::from_millis(100),
        longest_retry: Duration::from_secs(60),
        idle_check: Duration::from_millis(100),
        ..SenderSettings::default()
    })
    .await;
    // WhatsApp takes only the new token; the config still has the old one.
    o.provider.answer_with(200);
    o.provider.takes_only("new-token");
    let id = o.customer_writes().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let message = o.alice_replies(id).await;
    let waiting = delivery_until(&o.app, &o.alice, id, message, |d| {
        d["last_error"].is_string()
    })
    .await;
    assert_eq!(waiting["state"], "pending", "{waiting}");
    let words = waiting["last_error"].as_str().unwrap();
    assert!(
        words.starts_with(
            "the WhatsApp access token was refused; set a new one in the config file and \
             restart; the reply waits"
        ),
        "{words}"
    );
    assert!(words.contains("Session has expired"), "{words}");
    let next = waiting["next_attempt_at_ms"].as_u64().unwrap();
    assert!(
        next >= before + 60_000,
        "the next try is {} ms after the reply, not the longest wait",
        next - before
    );

    // The admin sets the new token and restarts: the reply goes at once (within
    // `delivery_until`'s 10 s), not a minute later.
    o.restart_sender("new-token").await;
    let sent = delivery_until(&o.app, &o.alice, id, message, |d| d["state"] == "sent").await;
    assert!(sent["sent_at"].is_string(), "{sent}");
    assert_eq!(o.provider.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(
        o.provider.requests.load(Ordering::SeqCst),
        2,
        "one refused, one sent"
    );
    o.stop().await;
}
