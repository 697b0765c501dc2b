//! The chat channels over real sockets: the providers' webhooks posted to Switchboard's
//! HTTP port (signatures right, wrong and missing for WhatsApp, Messenger and Twilio; the
//! verification handshake; a retried webhook stored once; malformed bodies and unknown
//! channels refused with nothing stored; a customer's media link kept only when it is
//! https), and the outbox sender delivering the agents'
//! replies to a local receiver playing the three providers' APIs — down, then up,
//! across a restart of Switchboard on the same SQLite file — each exactly once.

mod provider_accounts;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use provider_accounts::*;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::{ChatHub, Delivery, Inbound};
use switchboard_runtime::chat_channels::outbox_sender::{self, SenderSettings};
use switchboard_runtime::chat_channels::signature::{sign_meta, sign_twilio};
use switchboard_runtime::config::ChatConfig;
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::sqlite_store::StoreThread;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A sender that retries fast, so the test sees several tries in well under a second.
fn quick_sender() -> SenderSettings {
    SenderSettings {
        lease: Duration::from_millis(1500),
        request_timeout: Duration::from_millis(500),
        first_retry: Duration::from_millis(50),
        longest_retry: Duration::from_millis(200),
        batch: 32,
        idle_check: Duration::from_millis(100),
        min_gap: Duration::from_millis(10),
    }
}

/// Switchboard's parts over one SQLite file: the store, the hub, the HTTP API on a real
/// port and the outbox sender, all stopped together.
struct Office {
    store: StoreThread,
    hub: Arc<ChatHub>,
    http: SocketAddr,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Office {
    /// Opens the store in `dir` and starts the API and the sender, the providers' APIs
    /// at `provider` (`http://127.0.0.1:port`).
    async fn start(dir: &std::path::Path, provider: &str, sender: SenderSettings) -> Office {
        let store = StoreThread::open(&dir.join("office.db")).await.unwrap();
        let plans = Arc::new(
            PlanHolder::load_initial(&dir.join("dialplans"), &dir.join("prompts")).unwrap(),
        );
        let hub = Arc::new(ChatHub::new(store.clone(), plans.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = listener.local_addr().unwrap();
        let channels = accounts(Some(format!("http://{http}")), provider);
        let state = AppState {
            plans,
            calls: Default::default(),
            hosts: Arc::new(HostNames::new(http, &[])),
            store: store.clone(),
            live: None,
            auth: Default::default(),
            office_changes: store.office_changes(),
            chat_config: Arc::new(ChatConfig {
                channels: channels.clone(),
                ..Default::default()
            }),
            chat: hub.clone(),
        };
        let stop = CancellationToken::new();
        let serve = tokio::spawn({
            let stop = stop.clone();
            async move {
                switchboard_runtime::http::serve(listener, app(state), stop.cancelled_owned())
                    .await
                    .unwrap();
            }
        });
        let send = tokio::spawn(outbox_sender::run(
            hub.clone(),
            Arc::new(channels),
            sender,
            stop.clone(),
        ));
        Office {
            store,
            hub,
            http,
            stop,
            tasks: vec![serve, send],
        }
    }

    /// Stops everything and lets go of the store, as a server that stops does.
    async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            task.await.unwrap();
        }
        drop(self.hub);
        drop(self.store);
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// The messages stored from `customer` on `channel` to `office`.
    async fn messages(&self, channel: Channel, customer: &str, office: &str) -> usize {
        let (customer, office) = (customer.to_string(), office.to_string());
        self.store
            .run_sqlite(move |s| {
                s.chat::<_, StoreError>("count", |tx| {
                    match tx.find_conversation(channel, &customer, &office)? {
                        Some(c) => Ok(tx.messages(c.id)?.len()),
                        None => Ok(0),
                    }
                })
            })
            .await
            .unwrap()
            .unwrap()
    }

    async fn conversation(&self, channel: Channel, customer: &str, office: &str) -> i64 {
        let (customer, office) = (customer.to_string(), office.to_string());
        self.store
            .run_sqlite(move |s| {
                s.chat::<_, StoreError>("find", |tx| {
                    tx.find_conversation(channel, &customer, &office)
                })
            })
            .await
            .unwrap()
            .unwrap()
            .expect("the conversation was stored")
            .id
    }

    async fn delivery(&self, message_id: i64) -> Delivery {
        self.store
            .run_sqlite(move |s| s.chat::<_, StoreError>("read", |tx| tx.delivery(message_id)))
            .await
            .unwrap()
            .unwrap()
            .expect("the reply has an outbox row")
    }

    /// Waits (up to 10 s) until `message_id`'s delivery satisfies `done`.
    async fn delivery_until(&self, message_id: i64, done: impl Fn(&Delivery) -> bool) -> Delivery {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let d = self.delivery(message_id).await;
            if done(&d) {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "delivery of {message_id} stuck at {d:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn office_dir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dialplans")).unwrap();
    std::fs::create_dir_all(dir.path().join("prompts/en")).unwrap();
    std::fs::write(dir.path().join("dialplans/office.dial"), OFFICE).unwrap();
    dir
}

// The providers' webhooks, shaped as their references show them.

fn whatsapp_text(wamid: &str, from: &str, text: &str) -> String {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1739321024",
                          "type": "text", "text": {"body": text}}]
        }}]}]
    })
    .to_string()
}

fn messenger_text(mid: &str, psid: &str, text: &str) -> String {
    serde_json::json!({
        "object": "page",
        "entry": [{"id": "1234567890", "time": 1458692752478_u64, "messaging": [{
            "sender": {"id": psid}, "recipient": {"id": "1234567890"},
            "timestamp": 1458692752478_u64,
            "message": {"mid": mid, "text": text}
        }]}]
    })
    .to_string()
}

fn twilio_sms(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", SALES),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", TW_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn form(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn post_meta(
    office: &Office,
    channel: &str,
    body: &str,
    signature: Option<String>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(office.url(&format!("/webhooks/{channel}")))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = signature {
        request = request.header("X-Hub-Signature-256", s);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post_twilio(office: &Office, body: &str, signature: Option<String>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(office.url("/webhooks/sms"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some(s) = signature {
        request = request.header("X-Twilio-Signature", s);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A port nothing listens on (yet): the provider is down.
async fn free_port() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

#[tokio::test]
async fn meta_webhooks_are_stored_only_with_the_right_signature() {
    let dir = office_dir();
    let provider = free_port().await;
    let office = Office::start(dir.path(), &format!("http://{provider}"), quick_sender()).await;
    for (channel, secret, body, customer, to) in [
        (
            "whatsapp",
            WA_SECRET,
            whatsapp_text("wamid.ONE", "16505551234", "Is the shop open on Sunday?"),
            "+16505551234",
            "+15550783881",
        ),
        (
            "facebook",
            FB_SECRET,
            messenger_text("m_ONE", "6783412098765432", "Do you ship to Canada?"),
            "6783412098765432",
            "1234567890",
        ),
    ] {
        let ch = Channel::parse(channel).unwrap();
        // Missing: 401, nothing stored.
        let (status, text) = post_meta(&office, channel, &body, None).await;
        assert_eq!(status, 401, "{channel}: {text}");
        assert!(
            text.contains("X-Hub-Signature-256 header is missing"),
            "{text}"
        );
        // Wrong: signed with another secret, or over another body.
        let (status, text) = post_meta(
            &office,
            channel,
            &body,
            Some(sign_meta("not-the-secret", body.as_bytes())),
        )
        .await;
        assert_eq!(status, 401, "{channel}: {text}");
        let (status, _) = post_meta(&office, channel, &body, Some(sign_meta(secret, b"{}"))).await;
        assert_eq!(status, 401);
        assert_eq!(office.messages(ch, customer, to).await, 0, "{channel}");
        // Right: stored once, however often the provider retries it.
        let signed = Some(sign_meta(secret, body.as_bytes()));
        let (status, text) = post_meta(&office, channel, &body, signed.clone()).await;
        assert_eq!(status, 200, "{channel}: {text}");
        let first: serde_json::Value = serde_json::from_str(&text).unwrap();
        let conversation = office.conversation(ch, customer, to).await;
        assert_eq!(
            first,
            serde_json::json!({"stored": 1, "duplicates": 0, "conversations": [conversation]})
        );
        let (status, text) = post_meta(&office, channel, &body, signed).await;
        assert_eq!(status, 200, "{channel}: {text}");
        let again: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            again,
            serde_json::json!({"stored": 0, "duplicates": 1, "conversations": [conversation]})
        );
        assert_eq!(office.messages(ch, customer, to).await, 1, "{channel}");
    }
    office.stop().await;
}

#[tokio::test]
async fn twilio_webhooks_are_stored_only_with_the_right_signature() {
    let dir = office_dir();
    let provider = free_port().await;
    let office = Office::start(dir.path(), &format!("http://{provider}"), quick_sender()).await;
    let customer = "+16465550123";
    let pairs = twilio_sms(
        "SM1f0e8b3b5c0c4e0f9a2b3c4d5e6f7a8b",
        customer,
        "Can I move my appointment?",
    );
    let body = form(&pairs);
    // Twilio signs the URL it called: the public URL and the path.
    let url = office.url("/webhooks/sms");
    let (status, text) = post_twilio(&office, &body, None).await;
    assert_eq!(status, 401, "{text}");
    assert!(
        text.contains("X-Twilio-Signature header is missing"),
        "{text}"
    );
    let (status, _) = post_twilio(
        &office,
        &body,
        Some(sign_twilio("other-token", &url, &pairs)),
    )
    .await;
    assert_eq!(status, 401);
    // Signed for another path (a replay against a different webhook).
    let elsewhere = office.url("/webhooks/sms-old");
    let (status, _) = post_twilio(
        &office,
        &body,
        Some(sign_twilio(TW_TOKEN, &elsewhere, &pairs)),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(office.messages(Channel::Sms, customer, SALES).await, 0);
    let signed = Some(sign_twilio(TW_TOKEN, &url, &pairs));
    let (status, text) = post_twilio(&office, &body, signed.clone()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("<Response/>"), "{text}");
    let (status, _) = post_twilio(&office, &body, signed).await;
    assert_eq!(status, 200);
    assert_eq!(office.messages(Channel::Sms, customer, SALES).await, 1);
    office.stop().await;
}

#[tokio::test]
async fn the_verification_handshake_echoes_the_challenge_only_for_the_right_token() {
    let dir = office_dir();
    let provider = free_port().await;
    let office = Office::start(dir.path(), &format!("http://{provider}"), quick_sender()).await;
    let client = reqwest::Client::new();
    for (channel, token) in [("whatsapp", WA_VERIFY), ("facebook", FB_VERIFY)] {
        let get = |token: &str, mode: &str| {
            client
                .get(office.url(&format!(
                    "/webhooks/{channel}?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444"
                )))
                .send()
        };
        let ok = get(token, "subscribe").await.unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.text().await.unwrap(), "1158201444");
        let wrong = get("guess", "subscribe").await.unwrap();
        assert_eq!(wrong.status(), 403);
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains(&format!("chat.{channel}.verify-token"))
        );
        assert_eq!(get(token, "unsubscribe").await.unwrap().status(), 403);
    }
    office.stop().await;
}

#[tokio::test]
async fn malformed_bodies_unknown_channels_and_oversized_webhooks_store_nothing() {
    let dir = office_dir();
    let provider = free_port().await;
    let office = Office::start(dir.path(), &format!("http://{provider}"), quick_sender()).await;
    // Signed correctly, but not the provider's JSON.
    for (channel, secret, body) in [
        (
            "whatsapp",
            WA_SECRET,
            r#"{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1"#,
        ),
        ("whatsapp", WA_SECRET, r#"{"object": "page", "entry": []}"#),
        (
            "facebook",
            FB_SECRET,
            r#"{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "recipient": {"id": "2"}, "message": {"text": "no mid"}}]}]}"#,
        ),
    ] {
        let (status, text) = post_meta(
            &office,
            channel,
            body,
            Some(sign_meta(secret, body.as_bytes())),
        )
        .await;
        assert_eq!(status, 400, "{channel} {body}: {text}");
        assert!(text.contains("nothing was stored"), "{text}");
    }
    // A signed form that is not a messaging webhook.
    let pairs: Vec<(String, String)> = vec![
        ("From".into(), "+16465550123".into()),
        ("Body".into(), "hi".into()),
    ];
    let url = office.url("/webhooks/sms");
    let (status, text) = post_twilio(
        &office,
        &form(&pairs),
        Some(sign_twilio(TW_TOKEN, &url, &pairs)),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("MessageSid"), "{text}");
    assert_eq!(
        office.messages(Channel::Sms, "+16465550123", SALES).await,
        0
    );
    // A text over the hub's limit, in a batch with a good one: neither is stored.
    let long = "x".repeat(4097);
    let body = whatsapp_text("wamid.LONG", "16505559999", &long);
    let (status, text) = post_meta(
        &office,
        "whatsapp",
        &body,
        Some(sign_meta(WA_SECRET, body.as_bytes())),
    )
    .await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(
        office
            .messages(Channel::WhatsApp, "+16505559999", "+15550783881")
            .await,
        0
    );
    // A body over the webhooks' limit.
    let huge = "x".repeat(1024 * 1024 + 1);
    let (status, _) = post_meta(
        &office,
        "whatsapp",
        &huge,
        Some(sign_meta(WA_SECRET, huge.as_bytes())),
    )
    .await;
    assert_eq!(status, 413);
    // Unknown channels.
    let (status, text) = post_meta(&office, "telegram", "{}", None).await;
    assert_eq!(status, 404);
    assert!(text.contains("/webhooks/whatsapp"), "{text}");
    let (status, _) = post_meta(&office, "livechat", "{}", None).await;
    assert_eq!(status, 404);
    office.stop().await;
}

#[tokio::test]
async fn a_channel_missing_from_the_config_answers_404_naming_its_key() {
    use tower::ServiceExt;
    let dir = office_dir();
    let store = StoreThread::open(&dir.path().join("office.db"))
        .await
        .unwrap();
    let plans = Arc::new(
        PlanHolder::load_initial(&dir.path().join("dialplans"), &dir.path().join("prompts"))
            .unwrap(),
    );
    let state = AppState {
        chat: Arc::new(ChatHub::new(store.clone(), plans.clone())),
        plans,
        calls: Default::default(),
        hosts: Arc::new(HostNames::new("127.0.0.1:8080".parse().unwrap(), &[])),
        office_changes: store.office_changes(),
        chat_config: Default::default(),
        store,
        live: None,
        auth: Default::default(),
    };
    for (method, path, key) in [
        ("POST", "/webhooks/whatsapp", "chat.whatsapp"),
        (
            "GET",
            "/webhooks/facebook?hub.mode=subscribe",
            "chat.facebook",
        ),
        ("POST", "/webhooks/sms", "chat.sms"),
    ] {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:8080")
            .body(axum::body::Body::from("{}"))
            .unwrap();
        let response = app(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains(&format!("add `{key}` to the config file")),
            "{text}"
        );
    }
}

/// The stored messages of `customer` on `channel` to `office`, as (text, attachment).
async fn stored(
    office: &Office,
    channel: Channel,
    customer: &str,
    to: &str,
) -> Vec<(String, Option<serde_json::Value>)> {
    let id = office.conversation(channel, customer, to).await;
    office
        .store
        .run_sqlite(move |s| s.chat::<_, StoreError>("read", |tx| tx.messages(id)))
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|m| {
            let attachment = m.attachment.map(|a| serde_json::from_str(&a).unwrap());
            (m.text, attachment)
        })
        .collect()
}

const NOT_HTTPS: &str = "(a file the provider sent with a link that is not https: not shown)";

#[tokio::test]
async fn a_customers_media_link_is_kept_only_when_it_is_https() {
    let dir = office_dir();
    let office = Office::start(dir.path(), "http://127.0.0.1:9", quick_sender()).await;
    // Messenger: a photo behind https, one behind plain http, one behind `javascript:`.
    let fb = serde_json::json!({
        "object": "page",
        "entry": [{"id": "1234567890", "time": 1458692752478_u64, "messaging": [{
            "sender": {"id": "6783412098765432"}, "recipient": {"id": "1234567890"},
            "timestamp": 1458692752478_u64,
            "message": {"mid": "m_MEDIA1", "text": "Photos of the damage", "attachments": [
                {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg"}},
                {"type": "image", "payload": {"url": "http://scontent.xx.fbcdn.net/v/t1.15752-9/b.jpg"}},
                {"type": "file", "payload": {"url": "javascript:alert(document.cookie)"}}
            ]}
        }]}]
    })
    .to_string();
    let signed = sign_meta(FB_SECRET, fb.as_bytes());
    assert_eq!(
        post_meta(&office, "facebook", &fb, Some(signed)).await.0,
        200
    );
    let messages = stored(&office, Channel::Facebook, "6783412098765432", "1234567890").await;
    assert_eq!(
        messages,
        [(
            format!("Photos of the damage\n{NOT_HTTPS}\n{NOT_HTTPS}"),
            Some(serde_json::json!([
                {"kind": "image", "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg"}
            ]))
        )]
    );

    // Twilio: an MMS with no words and its only picture behind plain http.
    let mut pairs = twilio_sms("MMMEDIA1", "+16465550123", "");
    pairs.retain(|(k, _)| k != "NumMedia");
    pairs.extend([
        ("NumMedia".to_string(), "1".to_string()),
        ("MediaContentType0".to_string(), "image/jpeg".to_string()),
        (
            "MediaUrl0".to_string(),
            format!(
                "http://api.twilio.com/2010-04-01/Accounts/{TW_SID}/Messages/MMMEDIA1/Media/ME1"
            ),
        ),
    ]);
    let signed = sign_twilio(TW_TOKEN, &office.url("/webhooks/sms"), &pairs);
    assert_eq!(
        post_twilio(&office, &form(&pairs), Some(signed)).await.0,
        200
    );
    let messages = stored(&office, Channel::Sms, "+16465550123", SALES).await;
    assert_eq!(messages, [(NOT_HTTPS.to_string(), None)]);
    office.stop().await;
}

/// What the local receiver got: one entry per request, as (path, authorization, body).
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, String, String)>>>);

impl Received {
    fn all(&self) -> Vec<(String, String, String)> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self, path_part: &str) -> usize {
        self.all()
            .iter()
            .filter(|(p, _, _)| p.contains(path_part))
            .count()
    }
}

/// The three providers' send APIs on `addr`: 200 for every request, except a WhatsApp
/// message to `+15550000000`, refused for good as Meta refuses a number outside the
/// test allow-list.
async fn provider_up(addr: SocketAddr, received: Received) -> (CancellationToken, JoinHandle<()>) {
    async fn record(
        State(received): State<Received>,
        Path(rest): Path<String>,
        headers: HeaderMap,
        body: String,
    ) -> (StatusCode, String) {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let refused = body.contains("\"to\":\"15550000000\"");
        received
            .0
            .lock()
            .unwrap()
            .push((format!("/{rest}"), auth, body));
        if refused {
            let error = r#"{"error":{"message":"(#131030) Recipient phone number not in allowed list","type":"OAuthException","code":131030}}"#;
            (StatusCode::BAD_REQUEST, error.to_string())
        } else {
            (
                StatusCode::OK,
                r#"{"messages":[{"id":"wamid.SENT"}]}"#.to_string(),
            )
        }
    }
    let app = Router::new()
        .route("/{*rest}", post(record))
        .with_state(received);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let stop = stop.clone();
        async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .unwrap();
        }
    });
    (stop, task)
}

/// Waits (up to 10 s) until `done` holds for what the receiver got.
async fn received_until(received: &Received, done: impl Fn(&Received) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(received) {
        assert!(
            Instant::now() < deadline,
            "the receiver got {:?}",
            received.all()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn replies_reach_a_provider_that_was_down_exactly_once_across_a_restart() {
    let dir = office_dir();
    let provider_addr = free_port().await;
    let provider = format!("http://{provider_addr}");
    let office = Office::start(dir.path(), &provider, quick_sender()).await;
    // A customer on each channel writes in.
    let wa = whatsapp_text("wamid.IN1", "16505551234", "Is the shop open on Sunday?");
    assert_eq!(
        post_meta(
            &office,
            "whatsapp",
            &wa,
            Some(sign_meta(WA_SECRET, wa.as_bytes()))
        )
        .await
        .0,
        200
    );
    let fb = messenger_text("m_IN1", "6783412098765432", "Do you ship to Canada?");
    assert_eq!(
        post_meta(
            &office,
            "facebook",
            &fb,
            Some(sign_meta(FB_SECRET, fb.as_bytes()))
        )
        .await
        .0,
        200
    );
    let pairs = twilio_sms("SMIN1", "+16465550123", "Can I move my appointment?");
    let signed = sign_twilio(TW_TOKEN, &office.url("/webhooks/sms"), &pairs);
    assert_eq!(
        post_twilio(&office, &form(&pairs), Some(signed)).await.0,
        200
    );
    // Alice answers each while the providers are down.
    let mut replies = Vec::new();
    for (channel, customer, to, text) in [
        (
            Channel::WhatsApp,
            "+16505551234",
            "+15550783881",
            "Yes, 10 to 4.",
        ),
        (
            Channel::Facebook,
            "6783412098765432",
            "1234567890",
            "We do.",
        ),
        (Channel::Sms, "+16465550123", SALES, "Thursday at 3 works."),
    ] {
        let conversation = office.conversation(channel, customer, to).await;
        let reply = office
            .hub
            .reply("101", conversation, text, None)
            .await
            .unwrap();
        replies.push(reply.id);
    }
    // Each is tried, refused at the door, and kept for later.
    for id in &replies {
        let d = office
            .delivery_until(*id, |d| d.attempts >= 2 && d.state == "pending")
            .await;
        assert!(
            d.last_error
                .as_deref()
                .unwrap_or("")
                .contains("could not be reached"),
            "{d:?}"
        );
    }
    // Switchboard stops with every reply unsent; the provider comes up; Switchboard
    // starts again on the same file.
    office.stop().await;
    let received = Received::default();
    let (provider_stop, provider_task) = provider_up(provider_addr, received.clone()).await;
    let office = Office::start(dir.path(), &provider, quick_sender()).await;
    for id in &replies {
        let d = office.delivery_until(*id, |d| d.state == "sent").await;
        assert!(d.sent_at_ms.is_some(), "{d:?}");
    }
    // One more reply after the three are marked sent: once it has arrived, the sender
    // has made its passes over the outbox since, and sent nothing twice.
    let conversation = office
        .conversation(Channel::Sms, "+16465550123", SALES)
        .await;
    let last = office
        .hub
        .reply("101", conversation, "See you then.", None)
        .await
        .unwrap();
    office.delivery_until(last.id, |d| d.state == "sent").await;
    received_until(&received, |r| r.all().len() >= 4).await;
    let all = received.all();
    assert_eq!(all.len(), 4, "{all:#?}");
    assert_eq!(
        received.count(&format!("/v21.0/{PHONE_NUMBER_ID}/messages")),
        1
    );
    assert_eq!(received.count("/v21.0/me/messages"), 1);
    assert_eq!(
        received.count(&format!("/2010-04-01/Accounts/{TW_SID}/Messages.json")),
        2
    );
    // Each as its provider takes it.
    let (_, auth, body) = &all.iter().find(|r| r.0.contains(PHONE_NUMBER_ID)).unwrap();
    assert_eq!(auth, "Bearer wa-access-token");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (json["to"].as_str(), json["text"]["body"].as_str()),
        (Some("16505551234"), Some("Yes, 10 to 4."))
    );
    let (_, auth, body) = &all.iter().find(|r| r.0.contains("/me/messages")).unwrap();
    assert_eq!(auth, "Bearer fb-page-token");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["recipient"]["id"], "6783412098765432");
    let sms: Vec<_> = all
        .iter()
        .filter(|r| r.0.contains("Messages.json"))
        .collect();
    assert!(sms[0].1.starts_with("Basic "), "{:?}", sms[0]);
    assert_eq!(
        sms[0].2,
        "To=%2B16465550123&From=%2B12605550100&Body=Thursday+at+3+works."
    );
    assert_eq!(
        sms[1].2,
        "To=%2B16465550123&From=%2B12605550100&Body=See+you+then."
    );
    office.stop().await;
    provider_stop.cancel();
    provider_task.await.unwrap();
}

#[tokio::test]
async fn a_refused_reply_is_dead_with_the_providers_words_and_not_retried() {
    let dir = office_dir();
    let provider_addr = free_port().await;
    let received = Received::default();
    let (provider_stop, provider_task) = provider_up(provider_addr, received.clone()).await;
    let office = Office::start(
        dir.path(),
        &format!("http://{provider_addr}"),
        quick_sender(),
    )
    .await;
    let wa = whatsapp_text("wamid.IN2", "15550000000", "Hello?");
    assert_eq!(
        post_meta(
            &office,
            "whatsapp",
            &wa,
            Some(sign_meta(WA_SECRET, wa.as_bytes()))
        )
        .await
        .0,
        200
    );
    let conversation = office
        .conversation(Channel::WhatsApp, "+15550000000", "+15550783881")
        .await;
    let reply = office
        .hub
        .reply("101", conversation, "Hello!", None)
        .await
        .unwrap();
    let d = office
        .delivery_until(reply.id, |d| d.state != "pending" && d.state != "sending")
        .await;
    assert_eq!(d.state, "dead", "{d:?}");
    assert_eq!(
        d.last_error.as_deref(),
        Some(
            "WhatsApp refused the reply (400): (#131030) Recipient phone number not in allowed list"
        )
    );
    // A later reply to another customer goes out; the dead one was not tried again.
    let fb = messenger_text("m_IN2", "6783412098765432", "Hi");
    assert_eq!(
        post_meta(
            &office,
            "facebook",
            &fb,
            Some(sign_meta(FB_SECRET, fb.as_bytes()))
        )
        .await
        .0,
        200
    );
    let conversation = office
        .conversation(Channel::Facebook, "6783412098765432", "1234567890")
        .await;
    let next = office
        .hub
        .reply("101", conversation, "Hi there", None)
        .await
        .unwrap();
    office.delivery_until(next.id, |d| d.state == "sent").await;
    assert_eq!(received.count(PHONE_NUMBER_ID), 1);
    assert_eq!(office.delivery(reply.id).await.attempts, 1);
    office.stop().await;
    provider_stop.cancel();
    provider_task.await.unwrap();
}

#[tokio::test]
async fn a_reply_claimed_by_a_crashed_sender_waits_for_its_lease_then_goes_once() {
    let dir = office_dir();
    let provider_addr = free_port().await;
    let received = Received::default();
    let (provider_stop, provider_task) = provider_up(provider_addr, received.clone()).await;
    // The run that crashes: a customer's SMS, Alice's reply, and a sender that claims
    // the reply and dies before it sends or marks anything.
    let store = StoreThread::open(&dir.path().join("office.db"))
        .await
        .unwrap();
    let plans = Arc::new(
        PlanHolder::load_initial(&dir.path().join("dialplans"), &dir.path().join("prompts"))
            .unwrap(),
    );
    let hub = ChatHub::new(store.clone(), plans);
    let inbound = Inbound {
        office_address: Some(SALES.into()),
        provider_id: Some("SMIN3".into()),
        ..Inbound::new(Channel::Sms, "+16465550123", "Are you open?")
    };
    let conversation = hub.receive(inbound).await.unwrap().conversation_id;
    let reply = hub
        .reply("101", conversation, "Until 6.", None)
        .await
        .unwrap();
    let lease = Duration::from_millis(1500);
    let claimed_at = Instant::now();
    let claimed = hub
        .outbox_claim_due(unix_ms(), lease.as_millis() as u64, "crashed-run-0", 32)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    drop(hub);
    drop(store);
    // The restart: a sender starts while the dead one's lease still holds the row.
    let office = Office::start(
        dir.path(),
        &format!("http://{provider_addr}"),
        quick_sender(),
    )
    .await;
    let d = office.delivery_until(reply.id, |d| d.state == "sent").await;
    assert!(
        claimed_at.elapsed() >= lease,
        "sent {:?} after the claim, inside its lease of {lease:?}",
        claimed_at.elapsed()
    );
    assert_eq!(d.attempts, 2, "{d:?}");
    assert_eq!(received.count("Messages.json"), 1);
    office.stop().await;
    provider_stop.cancel();
    provider_task.await.unwrap();
}

fn unix_ms() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(now.as_millis()).unwrap()
}
