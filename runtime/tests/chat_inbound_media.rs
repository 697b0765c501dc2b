//! A customer's photos and documents reach the agent as files they open, over real
//! sockets and a real SQLite file: signed WhatsApp, Messenger and Twilio webhooks carry
//! the providers' media references in; the media fetcher gets the bytes from a local
//! HTTPS server playing the Graph API (media id → link → bytes, with the access token),
//! Messenger's CDN and Twilio (its media link answering 302 to its storage, with basic
//! auth); the agent reads the exact bytes from `GET /api/chat/files/{id}`. The provider
//! down then up, and Switchboard restarted mid-fetch, still end with each file stored
//! once; a file over 10 MB and a program dressed as a PDF end as notes, with nothing
//! stored. A WhatsApp voice note and an MMS video arrive as files the agent's page plays.
//! Nothing is fetched inward or beyond a file: a link a Messenger customer shares, a link
//! or a redirect to this machine (by address or by name) where no provider is configured,
//! a WhatsApp media id with a path in it; an endless error page is read only as far as
//! its words, and a redirect tells the next host nothing of the link before.

mod signed_in;

mod provider_accounts;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use provider_accounts::*;
use serde_json::{Value, json};
use signed_in::{PERSON_PASSWORD, SignedIn, office_state, signed_in_person};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_core::store::StoreError;
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::ChatMessageRow;
use switchboard_runtime::chat_channels::media_fetcher::{self, FetcherSettings};
use switchboard_runtime::chat_channels::outbox_sender::SenderSettings;
use switchboard_runtime::chat_channels::signature::{sign_meta, sign_twilio};
use switchboard_runtime::config::ChatConfig;
use switchboard_runtime::http::{AppState, HostNames, app, serve_tls, tls};
use switchboard_runtime::sqlite_store::chat_media::MediaState;
use tempfile::TempDir;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xb8, 0x60, 0x60, 0x00,
    0x00, 0x03, 0x04, 0x01, 0x31, 0x74, 0xbf, 0x75, 0x77, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The start of a JPEG (the chat checks its magic), then some bytes.
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00rest";

/// A minimal PDF (the chat checks the `%PDF-` magic).
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A real first Ogg page of a WhatsApp voice note: an Opus head (mono, 48 kHz), its
/// checksum computed as Ogg does (CRC-32, polynomial 0x04C11DB7, over the page with the
/// checksum field zero).
fn ogg_opus_page() -> Vec<u8> {
    let mut head = b"OpusHead\x01\x01".to_vec();
    head.extend_from_slice(&312u16.to_le_bytes()); // pre-skip
    head.extend_from_slice(&48_000u32.to_le_bytes()); // input sample rate
    head.extend_from_slice(&[0, 0, 0]); // gain, mapping family
    let mut page = b"OggS\x00\x02".to_vec(); // version 0, first page of the stream
    page.extend_from_slice(&0u64.to_le_bytes()); // granule position
    page.extend_from_slice(&0x2a12_359bu32.to_le_bytes()); // stream serial
    page.extend_from_slice(&0u32.to_le_bytes()); // page number
    page.extend_from_slice(&[0; 4]); // checksum, set below
    page.push(1); // one segment
    page.push(head.len() as u8);
    page.extend_from_slice(&head);
    let mut crc = 0u32;
    for &byte in &page {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// The start of a phone's MP4 video: its `ftyp` box (isom, with MP4 and H.264 brands),
/// then an empty `mdat`.
const MP4: &[u8] = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41\x00\x00\x00\x08mdat";

/// The WhatsApp media id whose bytes never end.
const ENDLESS: &str = "endless";

/// A Windows program's first bytes.
const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00This program";

/// The customers' media as the three providers hold it, served over HTTPS.
#[derive(Clone, Default)]
struct Provider {
    inner: Arc<ProviderState>,
}

/// A WhatsApp media: its mime type, the `file_size` Graph tells, its bytes.
type GraphMedia = (String, usize, Vec<u8>);

/// A file a test expects: its name, type and bytes.
type Expected<'a> = (&'a str, &'a str, &'a [u8]);

#[derive(Default)]
struct ProviderState {
    /// This server's own root, for the links it hands out (`https://127.0.0.1:port`).
    root: Mutex<String>,
    /// WhatsApp media id → its media.
    whatsapp: Mutex<HashMap<String, GraphMedia>>,
    /// Any other path (Messenger's CDN, Twilio's storage) → bytes.
    files: Mutex<HashMap<String, Vec<u8>>>,
    /// Paths asked for, in order.
    asked: Mutex<Vec<String>>,
    /// The `Referer` of each request that had one (a redirect's may name the link before).
    referers: Mutex<Vec<String>>,
    /// Requests answered 503 before the next ones are served.
    refuse: AtomicUsize,
    /// While set, a request for WhatsApp's bytes tells `held` and never answers.
    hold: AtomicBool,
    held: Notify,
}

impl Provider {
    /// Serves on `listener` over TLS until `stop`.
    fn serve(&self, listener: tokio::net::TcpListener, tls: &Tls, stop: &CancellationToken) {
        *self.inner.root.lock().unwrap() = format!("https://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/v21.0/{id}", get(graph_media))
            .route("/wa-bytes/{id}", get(whatsapp_bytes))
            .route(
                "/2010-04-01/Accounts/{sid}/Messages/{mm}/Media/{me}",
                get(twilio_media),
            )
            .route("/gone/{*rest}", get(endless_error))
            .route("/{*rest}", get(plain_file))
            .with_state(self.clone());
        let acceptor = tls::acceptor(&tls.cert, &tls.key).unwrap();
        tokio::spawn(serve_tls(
            listener,
            app,
            Some(acceptor),
            stop.clone().cancelled_owned(),
        ));
    }

    fn root(&self) -> String {
        self.inner.root.lock().unwrap().clone()
    }

    fn whatsapp_media(&self, id: &str, mime: &str, bytes: &[u8]) {
        self.inner
            .whatsapp
            .lock()
            .unwrap()
            .insert(id.into(), (mime.into(), bytes.len(), bytes.to_vec()));
    }

    fn file(&self, path: &str, bytes: &[u8]) {
        self.inner
            .files
            .lock()
            .unwrap()
            .insert(path.into(), bytes.to_vec());
    }

    fn asked(&self, path: &str) -> usize {
        let asked = self.inner.asked.lock().unwrap();
        asked.iter().filter(|p| *p == path).count()
    }

    /// Notes the path; a 503 while refusing.
    fn ask(&self, path: String) -> Option<Response> {
        self.inner.asked.lock().unwrap().push(path);
        let refused = self
            .inner
            .refuse
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        refused.then(|| (StatusCode::SERVICE_UNAVAILABLE, "overloaded").into_response())
    }
}

fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {token}"))
}

fn meta_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "OAuthException", "code": code}});
    (status, body.to_string()).into_response()
}

/// `GET /v21.0/{media id}`: the Graph API's media URL answer, only with the token.
async fn graph_media(
    State(p): State<Provider>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = p.ask(format!("/v21.0/{id}")) {
        return refused;
    }
    if !bearer_is(&headers, WA_TOKEN) {
        return meta_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token");
    }
    let Some((mime, size, _)) = p.inner.whatsapp.lock().unwrap().get(&id).cloned() else {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Unsupported get request. Object with ID does not exist",
        );
    };
    let body = json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/wa-bytes/{id}", p.root()),
        "mime_type": mime,
        "sha256": "unused",
        "file_size": size.to_string(),
        "id": id,
    });
    (StatusCode::OK, body.to_string()).into_response()
}

/// `GET /wa-bytes/{media id}`: the bytes, only with the token; streamed in chunks without
/// a length, as a large download may be.
async fn whatsapp_bytes(
    State(p): State<Provider>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = p.ask(format!("/wa-bytes/{id}")) {
        return refused;
    }
    if !bearer_is(&headers, WA_TOKEN) {
        return meta_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token");
    }
    if p.inner.hold.load(Ordering::SeqCst) {
        p.inner.held.notify_one();
        std::future::pending::<()>().await;
    }
    let Some((mime, _, bytes)) = p.inner.whatsapp.lock().unwrap().get(&id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if id == ENDLESS {
        // Its bytes, then the same again, for ever: only a reader that stops can finish.
        let again = std::iter::repeat(bytes).map(|b| Ok::<_, std::io::Error>(Bytes::from(b)));
        return (
            [(header::CONTENT_TYPE, mime)],
            Body::from_stream(futures_util::stream::iter(again)),
        )
            .into_response();
    }
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    (
        [(header::CONTENT_TYPE, mime)],
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
        .into_response()
}

/// Twilio's media link: with its basic auth, a 302 to its storage.
async fn twilio_media(
    State(p): State<Provider>,
    Path((sid, mm, me)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = p.ask(format!("/twilio/{me}")) {
        return refused;
    }
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TW_SID}:{TW_TOKEN}"))
    );
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(basic.as_str());
    if !authorized || sid != TW_SID || mm.is_empty() {
        let body = json!({"code": 20003, "message": "Authenticate", "status": 401});
        return (StatusCode::UNAUTHORIZED, body.to_string()).into_response();
    }
    let location = format!("{}/storage/{me}", p.root());
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Any other path: a stored file, 404 otherwise.
async fn plain_file(
    State(p): State<Provider>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    if let Some(referer) = headers.get(header::REFERER) {
        let referer = referer.to_str().unwrap_or_default().to_string();
        p.inner.referers.lock().unwrap().push(referer);
    }
    if let Some(refused) = p.ask(path.clone()) {
        return refused;
    }
    match p.inner.files.lock().unwrap().get(&path).cloned() {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => (StatusCode::NOT_FOUND, "no such media").into_response(),
    }
}

/// Under `/gone/`: 404, a line of words, then more bytes for ever, slowly (a host's error
/// page that never ends). Only a reader that stops at the words can finish before its
/// request's timeout.
async fn endless_error(State(p): State<Provider>, uri: axum::http::Uri) -> Response {
    use futures_util::StreamExt;
    p.inner.asked.lock().unwrap().push(uri.path().to_string());
    let first = format!("This media is gone.{}", " ".repeat(32 * 1024));
    let more = futures_util::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Some((
            Ok::<_, std::io::Error>(Bytes::from_static(&[b' '; 1024])),
            (),
        ))
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(first)) })
            .chain(more);
    (StatusCode::NOT_FOUND, Body::from_stream(body)).into_response()
}

/// A self-signed certificate for 127.0.0.1: the provider's, and the fetcher's only
/// extra root.
struct Tls {
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    pem: Vec<u8>,
}

fn certificate(dir: &std::path::Path) -> Tls {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".into()])
            .unwrap();
    let cert = dir.join("provider-cert.pem");
    let key = dir.join("provider-key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    Tls {
        cert,
        key,
        pem: made.cert.pem().into_bytes(),
    }
}

/// A fetcher that retries fast, so a test sees several tries in well under a second.
fn quick(pem: &[u8]) -> FetcherSettings {
    FetcherSettings {
        pacing: SenderSettings {
            lease: Duration::from_millis(1500),
            request_timeout: Duration::from_millis(1000),
            first_retry: Duration::from_millis(50),
            longest_retry: Duration::from_millis(200),
            batch: 32,
            idle_check: Duration::from_millis(100),
            min_gap: Duration::from_millis(10),
        },
        extra_roots: vec![pem.to_vec()],
        ..FetcherSettings::default()
    }
}

/// The office on a real HTTP port over the SQLite file in `dir`, with the media fetcher
/// fetching from `provider`; `stop` ends both.
struct Office {
    state: AppState,
    app: Router,
    alice: SignedIn,
    http: SocketAddr,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Office {
    async fn start(dir: &std::path::Path, provider: &str, settings: FetcherSettings) -> Office {
        let mut state = office_state(dir, OFFICE).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = listener.local_addr().unwrap();
        let channels = accounts(Some(format!("http://{http}")), provider);
        state.hosts = Arc::new(HostNames::new(http, &[]));
        state.chat_config = Arc::new(ChatConfig {
            channels: channels.clone(),
            ..ChatConfig::default()
        });
        let stop = CancellationToken::new();
        let serve = tokio::spawn({
            let (app, stop) = (app(state.clone()), stop.clone());
            async move {
                switchboard_runtime::http::serve(listener, app, stop.cancelled_owned())
                    .await
                    .unwrap();
            }
        });
        let fetch = tokio::spawn(media_fetcher::run(
            state.chat.clone(),
            Arc::new(channels),
            settings,
            stop.clone(),
        ));
        let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
        Office {
            app: app(state.clone()),
            state,
            alice,
            http,
            stop,
            tasks: vec![serve, fetch],
        }
    }

    /// Stops the API and the fetcher (a fetch in flight is dropped) and lets go of the
    /// store, as a server that stops does.
    async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            task.await.unwrap();
        }
    }

    async fn post(&self, path: &str, content_type: &str, body: String, sig: (&str, String)) {
        let response = reqwest::Client::new()
            .post(format!("http://{}{path}", self.http))
            .header("content-type", content_type)
            .header(sig.0, sig.1)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(status, 200, "{path}: {}", response.text().await.unwrap());
    }

    async fn whatsapp(&self, messages: Value) {
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881",
                             "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                "messages": messages
            }}]}]
        })
        .to_string();
        let sig = sign_meta(WA_SECRET, body.as_bytes());
        self.post(
            "/webhooks/whatsapp",
            "application/json",
            body,
            ("X-Hub-Signature-256", sig),
        )
        .await;
    }

    async fn messenger(&self, mid: &str, attachments: Value) {
        let body = json!({
            "object": "page",
            "entry": [{"id": "1234567890", "time": 1458692752478_u64, "messaging": [{
                "sender": {"id": "6783412098765432"}, "recipient": {"id": "1234567890"},
                "timestamp": 1458692752478_u64,
                "message": {"mid": mid, "attachments": attachments}
            }]}]
        })
        .to_string();
        let sig = sign_meta(FB_SECRET, body.as_bytes());
        self.post(
            "/webhooks/facebook",
            "application/json",
            body,
            ("X-Hub-Signature-256", sig),
        )
        .await;
    }

    /// Sends a Messenger message with `attachments` and waits for its one item to end,
    /// on the first try, as a note; the note.
    async fn messenger_note(&self, mid: &str, attachments: Value) -> String {
        self.messenger(mid, attachments).await;
        let message = self
            .customer_messages(Channel::Facebook, "6783412098765432")
            .await[0]
            .id;
        let states = self.finished(message).await;
        assert_eq!(states[0].state, "dead", "{states:?}");
        assert_eq!(states[0].attempts, 1, "never tried again: {states:?}");
        let items = self
            .items(Channel::Facebook, "6783412098765432", message)
            .await;
        let note = items[0]["note"].as_str();
        note.unwrap_or_else(|| panic!("{items:?}")).to_string()
    }

    /// An MMS from +16465550123 with `media` (link, type).
    async fn twilio(&self, sid: &str, media: &[(String, &str)]) {
        let mut pairs: Vec<(String, String)> = [
            ("MessageSid", sid),
            ("AccountSid", TW_SID),
            ("From", "+16465550123"),
            ("To", SALES),
            ("Body", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        pairs.push(("NumMedia".into(), media.len().to_string()));
        for (i, (url, kind)) in media.iter().enumerate() {
            pairs.push((format!("MediaUrl{i}"), url.clone()));
            pairs.push((format!("MediaContentType{i}"), kind.to_string()));
        }
        let url = format!("http://{}/webhooks/sms", self.http);
        let sig = sign_twilio(TW_TOKEN, &url, &pairs);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        self.post(
            "/webhooks/sms",
            "application/x-www-form-urlencoded",
            body,
            ("X-Twilio-Signature", sig),
        )
        .await;
    }

    /// The customer's messages (with attachments) of the conversation on `channel`.
    async fn customer_messages(&self, channel: Channel, customer: &str) -> Vec<ChatMessageRow> {
        let customer = customer.to_string();
        self.state
            .store
            .run_sqlite(move |s| {
                s.chat::<_, StoreError>("read", |tx| {
                    let office = match channel {
                        Channel::WhatsApp => "+15550783881",
                        Channel::Facebook => "1234567890",
                        _ => SALES,
                    };
                    let Some(c) = tx.find_conversation(channel, &customer, office)? else {
                        return Ok(Vec::new());
                    };
                    Ok(tx
                        .messages(c.id)?
                        .into_iter()
                        .filter(|m| m.attachment.is_some())
                        .collect())
                })
            })
            .await
            .unwrap()
            .unwrap()
    }

    async fn media(&self, message_id: i64) -> Vec<MediaState> {
        self.state.chat.media_states(message_id).await.unwrap()
    }

    /// Waits (up to 20 s) until every file of `message_id` is fetched or noted.
    async fn finished(&self, message_id: i64) -> Vec<MediaState> {
        until("the files are fetched", || async {
            let states = self.media(message_id).await;
            (!states.is_empty()
                && states
                    .iter()
                    .all(|s| s.state == "done" || s.state == "dead"))
            .then_some(states)
        })
        .await
    }

    /// The message's attachment items, as the agents' API shows them.
    async fn items(&self, channel: Channel, customer: &str, message_id: i64) -> Vec<Value> {
        let m = self
            .customer_messages(channel, customer)
            .await
            .into_iter()
            .find(|m| m.id == message_id)
            .unwrap();
        let json: Value = serde_json::from_str(m.attachment.as_deref().unwrap()).unwrap();
        json.as_array().expect("an array of items").clone()
    }

    /// What Alice reads at `GET /api/chat/files/{id}`: status and bytes.
    async fn open(&self, id: i64) -> (StatusCode, Vec<u8>, String) {
        let reply = self
            .alice
            .get(&self.app, &format!("/api/chat/files/{id}"))
            .await;
        let kind = reply
            .headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (reply.status, reply.body, kind)
    }

    /// Whether the store has chat file `id`.
    async fn has_file(&self, id: i64) -> bool {
        self.state
            .store
            .run_sqlite(move |s| s.chat::<_, StoreError>("read", |tx| tx.file(id)))
            .await
            .unwrap()
            .unwrap()
            .is_some()
    }
}

/// Polls `check` every 20 ms until it gives a value, failing after 20 s.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    check: impl Fn() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A provider on its own TLS port, and Switchboard's folder.
async fn provider_and_office(
    stop: &CancellationToken,
) -> (Provider, Tls, TempDir, String, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let tls = certificate(dir.path());
    let provider = Provider::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    provider.serve(listener, &tls, stop);
    let root = provider.root();
    (provider, tls, dir, root, addr)
}

fn wa_image(wamid: &str, id: &str) -> Value {
    json!({"from": "16505551234", "id": wamid, "timestamp": "1739321030", "type": "image",
           "image": {"caption": "This one", "mime_type": "image/jpeg", "sha256": "x", "id": id}})
}

fn wa_voice(wamid: &str, id: &str) -> Value {
    json!({"from": "16505551234", "id": wamid, "timestamp": "1739321032", "type": "audio",
           "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": id,
                     "voice": true}})
}

fn wa_document(wamid: &str, id: &str, filename: &str) -> Value {
    json!({"from": "16505551234", "id": wamid, "timestamp": "1739321031", "type": "document",
           "document": {"filename": filename, "mime_type": "application/pdf", "sha256": "x",
                        "id": id}})
}

#[tokio::test]
async fn a_customers_photos_and_documents_from_three_providers_open_as_the_exact_bytes() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, root, _) = provider_and_office(&stop).await;
    provider.whatsapp_media("2754859441498128", "image/jpeg", JPEG);
    provider.whatsapp_media("1004", "application/pdf", PDF);
    provider.file("/fb/cdn/photo.png", PNG);
    provider.file("/storage/ME1", PNG);
    provider.file("/storage/ME2", PDF);
    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    let mut events = office.state.chat.subscribe();

    office
        .whatsapp(json!([
            wa_image("wamid.IMAGE1", "2754859441498128"),
            wa_document("wamid.DOC1", "1004", "form.pdf"),
        ]))
        .await;
    office
        .messenger(
            "m_IMAGE",
            json!([{"type": "image", "payload": {"url": format!("{root}/fb/cdn/photo.png")}}]),
        )
        .await;
    let twilio_media =
        |me: &str| format!("{root}/2010-04-01/Accounts/{TW_SID}/Messages/MM1/Media/{me}");
    office
        .twilio(
            "MM1",
            &[
                (twilio_media("ME1"), "image/png"),
                (twilio_media("ME2"), "application/pdf"),
            ],
        )
        .await;

    // Name, type and bytes of every file, in the order the customers sent them.
    let expected: [(Channel, &str, Vec<Expected>); 4] = [
        (
            Channel::WhatsApp,
            "+16505551234",
            vec![("photo.jpg", "image/jpeg", JPEG)],
        ),
        (
            Channel::WhatsApp,
            "+16505551234",
            vec![("form.pdf", "application/pdf", PDF)],
        ),
        (
            Channel::Facebook,
            "6783412098765432",
            vec![("photo.png", "image/png", PNG)],
        ),
        (
            Channel::Sms,
            "+16465550123",
            vec![
                ("photo.png", "image/png", PNG),
                ("document.pdf", "application/pdf", PDF),
            ],
        ),
    ];
    let mut seen_files = Vec::new();
    let mut heard = std::collections::HashSet::new();
    let mut whatsapp_messages = office
        .customer_messages(Channel::WhatsApp, "+16505551234")
        .await
        .into_iter();
    for (channel, customer, files) in expected {
        let message = match channel {
            Channel::WhatsApp => whatsapp_messages.next().unwrap(),
            _ => office
                .customer_messages(channel, customer)
                .await
                .pop()
                .unwrap(),
        };
        let states = office.finished(message.id).await;
        assert!(states.iter().all(|s| s.state == "done"), "{states:?}");
        let items = office.items(channel, customer, message.id).await;
        assert_eq!(items.len(), files.len(), "{items:?}");
        for (item, (name, kind, bytes)) in items.iter().zip(files) {
            // Exactly what an agent's own file carries: {id, name, type, size}.
            let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["id", "name", "size", "type"], "{item}");
            assert_eq!(item["name"], name, "{item}");
            assert_eq!(item["type"], kind, "{item}");
            assert_eq!(item["size"], bytes.len(), "{item}");
            let id = item["id"].as_i64().unwrap();
            let (status, body, served_as) = office.open(id).await;
            assert_eq!(status, StatusCode::OK, "{channel:?} {name}");
            assert_eq!(body, bytes, "{channel:?} {name}: the exact bytes");
            assert!(served_as.starts_with(kind), "{served_as}");
            seen_files.push(id);
        }
        // The agents heard that this message's attachment changed.
        tokio::time::timeout(Duration::from_secs(10), async {
            while !heard.contains(&message.id) {
                let e = events.recv().await.unwrap();
                if e.kind.as_str() == "attachment" {
                    heard.extend(e.message_id);
                }
            }
        })
        .await
        .expect("the agents heard `attachment` for the message");
    }
    seen_files.sort_unstable();
    seen_files.dedup();
    assert_eq!(seen_files.len(), 5, "five files, each stored once");
    // The token went to Graph and to the bytes (they answer 401 without it), Twilio's
    // link was asked with basic auth and its redirect followed, once each.
    assert_eq!(provider.asked("/v21.0/2754859441498128"), 1);
    assert_eq!(provider.asked("/wa-bytes/2754859441498128"), 1);
    assert_eq!(provider.asked("/twilio/ME1"), 1);
    assert_eq!(provider.asked("/storage/ME1"), 1);
    // Twilio's storage is not told the account's media link it was sent from.
    assert_eq!(
        *provider.inner.referers.lock().unwrap(),
        Vec::<String>::new()
    );
    office.stop().await;
    stop.cancel();
}

#[tokio::test]
async fn a_provider_down_then_up_is_fetched_after_retries() {
    let stop = CancellationToken::new();
    let dir = tempfile::tempdir().unwrap();
    let tls = certificate(dir.path());
    // Graph is down: its port is held (no other program can take it before Graph comes
    // up on it) but nothing answers there, so each try times out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let office = Office::start(dir.path(), &format!("https://{addr}"), quick(&tls.pem)).await;
    office.whatsapp(json!([wa_image("wamid.DOWN", "77")])).await;
    let message = office
        .customer_messages(Channel::WhatsApp, "+16505551234")
        .await
        .pop()
        .unwrap();
    let waiting = until("two refused tries", || async {
        let states = office.media(message.id).await;
        states
            .first()
            .filter(|s| s.attempts >= 2 && s.state == "pending")
            .cloned()
    })
    .await;
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("could not be reached")),
        "{waiting:?}"
    );
    let items = office
        .items(Channel::WhatsApp, "+16505551234", message.id)
        .await;
    assert_eq!(
        items[0]["id"], "77",
        "the reference stays until it is fetched"
    );

    // Up, but overloaded for two more requests: 503 is tried again too.
    let provider = Provider::default();
    provider.whatsapp_media("77", "image/png", PNG);
    provider.inner.refuse.store(2, Ordering::SeqCst);
    provider.serve(listener, &tls, &stop);
    let states = office.finished(message.id).await;
    assert_eq!(states[0].state, "done", "{states:?}");
    assert!(states[0].attempts >= 4, "{states:?}");
    let items = office
        .items(Channel::WhatsApp, "+16505551234", message.id)
        .await;
    assert_eq!(items[0]["name"], "photo.png");
    let (status, body, _) = office.open(items[0]["id"].as_i64().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PNG);
    office.stop().await;
    stop.cancel();
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_fetch_stores_the_file_once() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, root, _) = provider_and_office(&stop).await;
    provider.whatsapp_media("88", "application/pdf", PDF);
    provider.inner.hold.store(true, Ordering::SeqCst);
    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    let held = provider.inner.held.notified();
    office
        .whatsapp(json!([wa_document("wamid.HELD", "88", "terms.pdf")]))
        .await;
    tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("the fetcher asked for the bytes");
    let message = office
        .customer_messages(Channel::WhatsApp, "+16505551234")
        .await
        .pop()
        .unwrap();
    // The server stops with the bytes on their way.
    office.stop().await;
    provider.inner.hold.store(false, Ordering::SeqCst);

    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    let states = office.finished(message.id).await;
    assert_eq!(states[0].state, "done", "{states:?}");
    assert_eq!(
        states[0].attempts, 2,
        "claimed again once the lease ran out"
    );
    let items = office
        .items(Channel::WhatsApp, "+16505551234", message.id)
        .await;
    assert_eq!(items[0]["name"], "terms.pdf");
    let id = items[0]["id"].as_i64().unwrap();
    assert_eq!(office.open(id).await.1, PDF);
    assert!(!office.has_file(id + 1).await, "one file stored, not two");
    assert_eq!(provider.asked("/wa-bytes/88"), 2);
    office.stop().await;
    stop.cancel();
}

#[tokio::test]
async fn a_file_over_10_mb_a_disguised_program_and_a_refused_id_become_notes_with_nothing_stored() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, root, _) = provider_and_office(&stop).await;
    let mut big = JPEG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    // Graph says it is small, and its bytes never end: a fetcher that read on would
    // time out and try again, never noting it on its first try.
    let mut chunk = JPEG.to_vec();
    chunk.resize(256 * 1024, b'x');
    provider
        .inner
        .whatsapp
        .lock()
        .unwrap()
        .insert(ENDLESS.into(), ("image/jpeg".into(), 2048, chunk));
    provider.whatsapp_media("exe", "application/pdf", EXE);
    provider.file("/fb/cdn/setup.exe", EXE);
    provider.file("/storage/ME9", &big);
    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    office
        .whatsapp(json!([
            wa_image("wamid.BIG", ENDLESS),
            wa_document("wamid.EXE", "exe", "invoice.pdf"),
            wa_image("wamid.GONE", "no-such-media"),
        ]))
        .await;
    office
        .messenger(
            "m_EXE",
            json!([{"type": "file", "payload": {"url": format!("{root}/fb/cdn/setup.exe")}}]),
        )
        .await;
    office
        .twilio(
            "MM9",
            &[(
                format!("{root}/2010-04-01/Accounts/{TW_SID}/Messages/MM9/Media/ME9"),
                "image/jpeg",
            )],
        )
        .await;

    let whatsapp = office
        .customer_messages(Channel::WhatsApp, "+16505551234")
        .await;
    let messenger = office
        .customer_messages(Channel::Facebook, "6783412098765432")
        .await;
    let sms = office.customer_messages(Channel::Sms, "+16465550123").await;
    let cases = [
        (
            Channel::WhatsApp,
            "+16505551234",
            whatsapp[0].id,
            "The customer sent a file over 10 MB (photo.jpg); ask them to send it another way",
        ),
        (
            Channel::WhatsApp,
            "+16505551234",
            whatsapp[1].id,
            "The customer sent a file the office does not accept (invoice.pdf): the file's \
             content is not a PDF, though its name ends .pdf",
        ),
        (
            Channel::WhatsApp,
            "+16505551234",
            whatsapp[2].id,
            "The customer's file could not be fetched: WhatsApp answered 400: (#100) \
             Unsupported get request. Object with ID does not exist",
        ),
        (
            Channel::Facebook,
            "6783412098765432",
            messenger[0].id,
            "The customer sent a file the office does not accept (setup.exe): files ending \
             .exe cannot be sent in chat",
        ),
        (
            Channel::Sms,
            "+16465550123",
            sms[0].id,
            "The customer sent a file over 10 MB (photo.jpg); ask them to send it another way",
        ),
    ];
    for (channel, customer, message_id, words) in cases {
        let states = office.finished(message_id).await;
        assert_eq!(states[0].state, "dead", "{states:?}");
        assert_eq!(states[0].attempts, 1, "never tried again: {states:?}");
        let items = office.items(channel, customer, message_id).await;
        let note = items[0]["note"]
            .as_str()
            .unwrap_or_else(|| panic!("{items:?}"));
        assert!(note.starts_with(words), "{note}");
    }
    assert!(!office.has_file(1).await, "no chat file recorded");
    let blobs = std::fs::read_dir(dir.path().join("chat-files"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(blobs, 0, "no bytes kept in chat-files");
    office.stop().await;
    stop.cancel();
}

#[tokio::test]
async fn a_whatsapp_voice_note_and_an_mms_video_open_inline_and_seek_by_range() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, root, _) = provider_and_office(&stop).await;
    let ogg = ogg_opus_page();
    provider.whatsapp_media("3010", "audio/ogg; codecs=opus", &ogg);
    provider.file("/storage/ME7", MP4);
    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    office
        .whatsapp(json!([wa_voice("wamid.VOICE", "3010")]))
        .await;
    office
        .twilio(
            "MM7",
            &[(
                format!("{root}/2010-04-01/Accounts/{TW_SID}/Messages/MM7/Media/ME7"),
                "video/mp4",
            )],
        )
        .await;
    let voice = office
        .customer_messages(Channel::WhatsApp, "+16505551234")
        .await[0]
        .id;
    let video = office.customer_messages(Channel::Sms, "+16465550123").await[0].id;
    for (channel, customer, message, name, kind, bytes) in [
        (
            Channel::WhatsApp,
            "+16505551234",
            voice,
            "voice.ogg",
            "audio/ogg",
            &ogg[..],
        ),
        (
            Channel::Sms,
            "+16465550123",
            video,
            "video.mp4",
            "video/mp4",
            MP4,
        ),
    ] {
        let states = office.finished(message).await;
        assert!(states.iter().all(|s| s.state == "done"), "{states:?}");
        let items = office.items(channel, customer, message).await;
        let keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "name", "size", "type"], "{items:?}");
        assert_eq!(items[0]["name"], name);
        assert_eq!(items[0]["type"], kind);
        assert_eq!(items[0]["size"], bytes.len());
        let id = items[0]["id"].as_i64().unwrap();
        // The whole file, inline (the page plays it), typed by its content, not sniffed.
        let whole = office
            .alice
            .get(&office.app, &format!("/api/chat/files/{id}"))
            .await;
        assert_eq!(whole.status, StatusCode::OK);
        assert_eq!(whole.body, bytes);
        let header = |name: header::HeaderName| {
            whole
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(header(header::CONTENT_TYPE).as_deref(), Some(kind));
        let disposition = header(header::CONTENT_DISPOSITION).unwrap();
        assert!(
            disposition.starts_with(&format!("inline; filename=\"{name}\"")),
            "{disposition}"
        );
        assert_eq!(
            header(header::X_CONTENT_TYPE_OPTIONS).as_deref(),
            Some("nosniff")
        );
        assert_eq!(header(header::ACCEPT_RANGES).as_deref(), Some("bytes"));
        // A player seeking: the bytes it asks for, 206; past the end, 416.
        let mut request =
            office
                .alice
                .request("GET", &format!("/api/chat/files/{id}"), Value::Null);
        request
            .headers_mut()
            .insert(header::RANGE, "bytes=4-11".parse().unwrap());
        let part = signed_in::call(&office.app, request).await;
        assert_eq!(part.status, StatusCode::PARTIAL_CONTENT, "{name}");
        assert_eq!(part.body, &bytes[4..12]);
        let range = format!("bytes 4-11/{}", bytes.len());
        assert_eq!(
            part.headers
                .get(header::CONTENT_RANGE)
                .unwrap()
                .to_str()
                .unwrap(),
            range
        );
        let mut request =
            office
                .alice
                .request("GET", &format!("/api/chat/files/{id}"), Value::Null);
        request.headers_mut().insert(
            header::RANGE,
            format!("bytes={}-", bytes.len()).parse().unwrap(),
        );
        let past = signed_in::call(&office.app, request).await;
        assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE, "{name}");
        assert!(
            past.json()["error"]
                .as_str()
                .unwrap()
                .contains("past the file's end")
        );
    }
    office.stop().await;
    stop.cancel();
}

/// A link a Messenger customer shares comes as an attachment of type `fallback`, naming a
/// page of their choice: it is never fetched (anyone could make the office's server read
/// its own network), and the agent reads the link in a note.
#[tokio::test]
async fn a_link_a_messenger_customer_shares_is_never_fetched() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, root, _) = provider_and_office(&stop).await;
    provider.file("/intranet/report.txt", b"the office's own page");
    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    let link = format!("{root}/intranet/report.txt");
    let note = office
        .messenger_note(
            "m_LINK",
            json!([{"type": "fallback", "payload": {"url": link}}]),
        )
        .await;
    assert_eq!(
        note,
        format!("The customer shared a link, not a file; it is not fetched: {link}")
    );
    assert_eq!(provider.asked("/intranet/report.txt"), 0, "never read");
    assert!(!office.has_file(1).await, "no chat file recorded");
    office.stop().await;
    stop.cancel();
}

/// A host answering an error with a body that never ends: its first words are quoted in
/// the note at once, and the rest is never read (the whole body would be read until the
/// request's timeout, growing without bound, and then quoted as nothing).
#[tokio::test]
async fn an_error_page_that_never_ends_is_read_only_as_far_as_its_words() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, root, _) = provider_and_office(&stop).await;
    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    let note = office
        .messenger_note(
            "m_GONE",
            json!([{"type": "image", "payload": {"url": format!("{root}/gone/photo.jpg")}}]),
        )
        .await;
    assert_eq!(
        note,
        "The customer's file could not be fetched: Messenger answered 404: This media is gone."
    );
    assert_eq!(provider.asked("/gone/photo.jpg"), 1);
    office.stop().await;
    stop.cancel();
}

/// A Messenger photo whose link names this machine, fetched by an office whose providers
/// are configured at `api_root`; the note it ends as, with nothing read or stored.
async fn inward_link_note(
    api_root: impl Fn(SocketAddr) -> String,
    link_root: impl Fn(SocketAddr) -> String,
) -> String {
    let stop = CancellationToken::new();
    let (provider, tls, dir, _, addr) = provider_and_office(&stop).await;
    provider.file("/fb/cdn/photo.png", PNG);
    let office = Office::start(dir.path(), &api_root(addr), quick(&tls.pem)).await;
    let link = format!("{}/fb/cdn/photo.png", link_root(addr));
    let note = office
        .messenger_note(
            "m_INWARD",
            json!([{"type": "image", "payload": {"url": link}}]),
        )
        .await;
    assert_eq!(provider.asked("/fb/cdn/photo.png"), 0, "never read");
    assert!(!office.has_file(1).await, "no chat file recorded");
    office.stop().await;
    stop.cancel();
    note
}

/// A link written with an address on this machine (`https://127.0.0.1:…`) is not
/// fetched when no provider is configured there (here they are at `localhost`).
#[tokio::test]
async fn a_link_to_an_address_on_this_machine_is_never_fetched() {
    let note = inward_link_note(
        |a| format!("https://localhost:{}", a.port()),
        |a| format!("https://{a}"),
    )
    .await;
    assert_eq!(
        note,
        "The customer's file could not be fetched: 127.0.0.1 is on this machine or a \
         private network, where a customer's file is never fetched from"
    );
}

/// A link whose name resolves to this machine (`localhost`) is not fetched either when
/// no provider is configured at that name (here they are at `127.0.0.1`).
#[tokio::test]
async fn a_link_to_a_name_resolving_to_this_machine_is_never_fetched() {
    let note = inward_link_note(
        |a| format!("https://{a}"),
        |a| format!("https://localhost:{}", a.port()),
    )
    .await;
    assert_eq!(
        note,
        "The customer's file could not be fetched: localhost is on this machine or a \
         private network, where a customer's file is never fetched from"
    );
}

/// A provider's redirect to an address on this machine is not followed when no provider
/// is configured there: Twilio (configured at `localhost`) is asked with its basic auth,
/// and its 302 to `127.0.0.1` ends as a note, the storage never asked.
#[tokio::test]
async fn a_redirect_to_an_address_on_this_machine_is_not_followed() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, _, addr) = provider_and_office(&stop).await;
    provider.file("/storage/ME5", PNG);
    let api_root = format!("https://localhost:{}", addr.port());
    let office = Office::start(dir.path(), &api_root, quick(&tls.pem)).await;
    office
        .twilio(
            "MM5",
            &[(
                format!("{api_root}/2010-04-01/Accounts/{TW_SID}/Messages/MM5/Media/ME5"),
                "image/png",
            )],
        )
        .await;
    let message = office.customer_messages(Channel::Sms, "+16465550123").await[0].id;
    let states = office.finished(message).await;
    assert_eq!(states[0].state, "dead", "{states:?}");
    let items = office.items(Channel::Sms, "+16465550123", message).await;
    assert_eq!(
        items[0]["note"],
        "The customer's file could not be fetched: 127.0.0.1 is on this machine or a \
         private network, where a customer's file is never fetched from"
    );
    assert_eq!(provider.asked("/twilio/ME5"), 1, "Twilio was asked");
    assert_eq!(
        provider.asked("/storage/ME5"),
        0,
        "its redirect was not followed"
    );
    assert!(!office.has_file(1).await, "no chat file recorded");
    office.stop().await;
    stop.cancel();
}

/// A WhatsApp media id is a word of letters and digits: one with a path in it (`../me`)
/// would have the access token sent to another path of the Graph API, so it is not asked
/// for at all.
#[tokio::test]
async fn a_whatsapp_media_id_with_a_path_in_it_is_not_asked_for() {
    let stop = CancellationToken::new();
    let (provider, tls, dir, root, _) = provider_and_office(&stop).await;
    let office = Office::start(dir.path(), &root, quick(&tls.pem)).await;
    office
        .whatsapp(json!([wa_image("wamid.PATH", "../me")]))
        .await;
    let message = office
        .customer_messages(Channel::WhatsApp, "+16505551234")
        .await[0]
        .id;
    let states = office.finished(message).await;
    assert_eq!(states[0].state, "dead", "{states:?}");
    let items = office
        .items(Channel::WhatsApp, "+16505551234", message)
        .await;
    assert_eq!(
        items[0]["note"],
        "The customer's file could not be fetched: the provider's message named no https \
         link or media id for it"
    );
    assert!(
        provider.inner.asked.lock().unwrap().is_empty(),
        "nothing asked"
    );
    office.stop().await;
    stop.cancel();
}
