//! Files the agents send reach every customer, over real sockets and a real SQLite file:
//! to WhatsApp, Messenger and SMS customers as a signed link on `chat.public-url` that a
//! local receiver playing the three providers' send APIs fetches from Switchboard's HTTP
//! port (the request's exact shape checked, and the bytes it fetched); to a live-chat
//! visitor as an `attachment` on the widget's frame whose link reads the file. A link
//! expired, tampered with or for another file is 404 like an unknown file; without
//! `chat.public-url` a file to a provider's customer is refused (409) with nothing stored.

mod livechat_office;
mod signed_in;

mod provider_accounts;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, Uri, header};
use provider_accounts::*;
use serde_json::{Value, json};
use signed_in::{HOST, PERSON_PASSWORD, Reply, SignedIn, call, office_state, signed_in_person};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::Inbound;
use switchboard_runtime::chat_channels::outbox_sender::{self, SenderSettings};
use switchboard_runtime::config::ChatConfig;
use switchboard_runtime::http::{AppState, HostNames, app};
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xb8, 0x60, 0x60, 0x00,
    0x00, 0x03, 0x04, 0x01, 0x31, 0x74, 0xbf, 0x75, 0x77, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A minimal PDF (the chat checks the `%PDF-` magic).
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// What the local provider got: the request, and what fetching its link gave.
#[derive(Debug)]
struct Seen {
    path: String,
    content_type: String,
    body: String,
    link: String,
    fetched_status: u16,
    fetched_type: String,
    fetched: Vec<u8>,
}

/// The three providers' send APIs on one local port. Like the real ones, each fetches
/// the file's link before it answers; the first `refuse` requests are answered 503.
#[derive(Clone)]
struct Provider {
    seen: mpsc::UnboundedSender<Seen>,
    refuse: Arc<AtomicUsize>,
    client: reqwest::Client,
}

impl Provider {
    async fn start(stop: CancellationToken) -> (Provider, mpsc::UnboundedReceiver<Seen>, String) {
        let (seen, heard) = mpsc::unbounded_channel();
        let provider = Provider {
            seen,
            refuse: Arc::default(),
            client: reqwest::Client::new(),
        };
        let app = Router::new()
            .route("/{*rest}", axum::routing::post(take))
            .with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .unwrap();
        });
        (provider, heard, url)
    }
}

async fn take(
    State(p): State<Provider>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let link = if content_type.starts_with("application/json") {
        let json: Value = serde_json::from_str(&text).unwrap();
        [
            "/image/link",
            "/document/link",
            "/message/attachment/payload/url",
        ]
        .iter()
        .find_map(|p| json.pointer(p).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
    } else {
        form_urlencoded::parse(text.as_bytes())
            .find(|(k, _)| k == "MediaUrl")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (fetched_status, fetched_type, fetched) = if link.is_empty() {
        (0, String::new(), Vec::new())
    } else {
        let r = p.client.get(&link).send().await.unwrap();
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, kind, r.bytes().await.unwrap().to_vec())
    };
    p.seen
        .send(Seen {
            path: uri.path().to_string(),
            content_type,
            body: text,
            link,
            fetched_status,
            fetched_type,
            fetched,
        })
        .unwrap();
    let refused = p
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refused {
        return (StatusCode::SERVICE_UNAVAILABLE, "overloaded".into());
    }
    let answer = if uri.path().contains("/Accounts/") {
        json!({"sid": "MM0123456789abcdef0123456789abcdef", "status": "queued"})
    } else if uri.path().ends_with("/me/messages") {
        json!({"recipient_id": "6783412098765432", "message_id": "m_SENT"})
    } else {
        json!({"messages": [{"id": "wamid.SENT"}]})
    };
    (StatusCode::OK, answer.to_string())
}

/// The office on a real HTTP port, with the outbox sender posting to `provider`;
/// `chat.public-url` is the HTTP port's address when `public` is set.
struct Office {
    dir: TempDir,
    state: AppState,
    app: Router,
    alice: SignedIn,
    http: SocketAddr,
    public_url: String,
}

impl Office {
    async fn start(provider: &str, public: bool, stop: &CancellationToken) -> Office {
        let dir = tempfile::tempdir().unwrap();
        let mut state = office_state(dir.path(), OFFICE).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = listener.local_addr().unwrap();
        let public_url = format!("http://{http}");
        let channels = accounts(public.then(|| public_url.clone()), provider);
        state.hosts = Arc::new(HostNames::new(http, &[]));
        state.chat_config = Arc::new(ChatConfig {
            channels: channels.clone(),
            ..ChatConfig::default()
        });
        let serve = switchboard_runtime::http::serve(
            listener,
            app(state.clone()),
            stop.clone().cancelled_owned(),
        );
        tokio::spawn(async move { serve.await.unwrap() });
        let settings = SenderSettings {
            first_retry: Duration::from_millis(1100),
            longest_retry: Duration::from_millis(1100),
            idle_check: Duration::from_millis(100),
            min_gap: Duration::from_millis(10),
            ..SenderSettings::default()
        };
        tokio::spawn(outbox_sender::run(
            state.chat.clone(),
            Arc::new(channels),
            settings,
            stop.clone(),
        ));
        let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
        Office {
            app: app(state.clone()),
            dir,
            state,
            alice,
            http,
            public_url,
        }
    }

    async fn customer_writes(&self, channel: Channel, customer: &str, office: &str) -> i64 {
        let mut inbound = Inbound::new(channel, customer, "Could you send me the form?");
        inbound.office_address = Some(office.to_string());
        self.state
            .chat
            .receive(inbound)
            .await
            .unwrap()
            .conversation_id
    }

    /// Alice sends `bytes` named `name` into conversation `id`, through the agents' API.
    async fn send_file(&self, id: i64, name: &str, bytes: &[u8]) -> Reply {
        let request = Request::builder()
            .method("POST")
            .uri(format!("/api/chat/conversations/{id}/files?name={name}"))
            .header(header::HOST, HOST)
            .header(header::COOKIE, &self.alice.cookie)
            .header("x-csrf-token", &self.alice.csrf)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes.to_vec()))
            .unwrap();
        call(&self.app, request).await
    }

    async fn messages(&self, id: i64) -> usize {
        self.state
            .chat
            .read("101", id)
            .await
            .unwrap()
            .messages
            .len()
    }

    /// `GET path` on the real HTTP port: status, headers, body.
    async fn fetch(&self, path: &str) -> (u16, HeaderMap, Vec<u8>) {
        let r = reqwest::get(format!("http://{}{path}", self.http))
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The next request the provider got, within 10 s.
async fn next(heard: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(Duration::from_secs(10), heard.recv())
        .await
        .expect("the provider got a request within 10 s")
        .unwrap()
}

/// Checks `link` is file `file_id`'s on the public URL, signed for a day from about
/// now; its expiry.
fn check_link(office: &Office, link: &str, file_id: i64) -> u64 {
    let prefix = format!("{}/chat/files/{file_id}?exp=", office.public_url);
    let rest = link
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{link} is not {prefix}…"));
    let (exp, sig) = rest.split_once("&sig=").unwrap();
    assert_eq!(sig.len(), 64, "{link}");
    assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
    let exp: u64 = exp.parse().unwrap();
    let day = now_s() + 24 * 3600;
    assert!(exp <= day && exp + 30 >= day, "{link} expires in a day");
    exp
}

#[tokio::test]
async fn a_pdf_and_a_png_reach_whatsapp_messenger_and_sms_customers_as_links_they_fetch() {
    let stop = CancellationToken::new();
    let (provider, mut heard, provider_url) = Provider::start(stop.clone()).await;
    let office = Office::start(&provider_url, true, &stop).await;
    let whatsapp = office
        .customer_writes(Channel::WhatsApp, "+16505551234", "+15550783881")
        .await;
    let messenger = office
        .customer_writes(Channel::Facebook, "6783412098765432", "1234567890")
        .await;
    let sms = office
        .customer_writes(Channel::Sms, "+16465550123", SALES)
        .await;

    // The first try of the first file is refused for now: the retry carries a link
    // signed when it is sent, not when the reply was queued.
    provider.refuse.store(1, Ordering::SeqCst);
    for (id, channel) in [
        (whatsapp, "whatsapp"),
        (messenger, "facebook"),
        (sms, "sms"),
    ] {
        for (name, bytes, kind) in [
            ("dot.png", PNG, "image/png"),
            ("form.pdf", PDF, "application/pdf"),
        ] {
            let sent = office.send_file(id, name, bytes).await;
            assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
            let file_id = sent.json()["message"]["attachment"]["id"].as_i64().unwrap();
            let mut seen = next(&mut heard).await;
            if channel == "whatsapp" && name == "dot.png" {
                let first = check_link(&office, &seen.link, file_id);
                seen = next(&mut heard).await;
                let again = check_link(&office, &seen.link, file_id);
                assert!(
                    again > first,
                    "the retry's link is signed afresh: {first} {again}"
                );
            }
            let exp = check_link(&office, &seen.link, file_id);
            let link = seen.link.clone();
            // The provider fetched the link: the same bytes, as the file's type.
            assert_eq!(seen.fetched_status, 200, "{channel} {name}");
            assert_eq!(seen.fetched_type, kind, "{channel} {name}");
            assert_eq!(seen.fetched, bytes, "{channel} {name}");
            match channel {
                "whatsapp" => {
                    assert_eq!(seen.path, format!("/v21.0/{PHONE_NUMBER_ID}/messages"));
                    assert_eq!(seen.content_type, "application/json");
                    let media = if kind == "image/png" {
                        ("image", json!({"link": link}))
                    } else {
                        ("document", json!({"link": link, "filename": "form.pdf"}))
                    };
                    let mut expected = json!({
                        "messaging_product": "whatsapp",
                        "recipient_type": "individual",
                        "to": "16505551234",
                        "type": media.0,
                    });
                    expected[media.0] = media.1;
                    assert_eq!(serde_json::from_str::<Value>(&seen.body).unwrap(), expected);
                }
                "facebook" => {
                    assert_eq!(seen.path, "/v21.0/me/messages");
                    let kind = if kind == "image/png" { "image" } else { "file" };
                    assert_eq!(
                        serde_json::from_str::<Value>(&seen.body).unwrap(),
                        json!({
                            "recipient": {"id": "6783412098765432"},
                            "messaging_type": "RESPONSE",
                            "message": {"attachment": {
                                "type": kind,
                                "payload": {"url": link, "is_reusable": false},
                            }},
                        })
                    );
                }
                _ => {
                    assert_eq!(
                        seen.path,
                        format!("/2010-04-01/Accounts/{TW_SID}/Messages.json")
                    );
                    assert_eq!(seen.content_type, "application/x-www-form-urlencoded");
                    let pairs: Vec<(String, String)> = form_urlencoded::parse(seen.body.as_bytes())
                        .into_owned()
                        .collect();
                    let expected: Vec<(String, String)> = [
                        ("To", "+16465550123"),
                        ("From", SALES),
                        ("Body", ""),
                        ("MediaUrl", link.as_str()),
                    ]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                    assert_eq!(pairs, expected);
                }
            }
            assert!(exp > now_s());
        }
    }
    stop.cancel();
}

#[tokio::test]
async fn a_link_expired_tampered_with_or_for_another_file_is_404_like_an_unknown_file() {
    let stop = CancellationToken::new();
    let (_provider, mut heard, provider_url) = Provider::start(stop.clone()).await;
    let office = Office::start(&provider_url, true, &stop).await;
    let id = office
        .customer_writes(Channel::WhatsApp, "+16505551234", "+15550783881")
        .await;
    let sent = office.send_file(id, "form.pdf", PDF).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let file_id = sent.json()["message"]["attachment"]["id"].as_i64().unwrap();
    next(&mut heard).await;

    let key = office.state.chat.link_key().await.unwrap();
    let good = key.link(file_id, now_s() + 60);
    let (status, headers, body) = office.fetch(&good).await;
    assert_eq!(status, 200);
    assert_eq!(body, PDF);
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"form.pdf\""),
        "{headers:?}"
    );

    let (_, _, unknown) = office.fetch(&key.link(file_id + 1000, now_s() + 60)).await;
    let sig = key.sign(file_id, now_s() + 60);
    let mut tampered = sig.clone().into_bytes();
    tampered[0] = if tampered[0] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [
        key.link(file_id, now_s() - 1),
        format!("/chat/files/{file_id}?exp={}&sig={tampered}", now_s() + 60),
        // A signature for one time does not stretch to a later one.
        format!("/chat/files/{file_id}?exp={}&sig={sig}", now_s() + 3600),
        format!("/chat/files/{file_id}"),
        format!("/chat/files/{file_id}?exp=soon&sig={sig}"),
        format!("/chat/files/x?exp={}&sig={sig}", now_s() + 60),
        key.link(file_id + 1000, now_s() + 60),
    ] {
        let (status, _, body) = office.fetch(&bad).await;
        assert_eq!(status, 404, "{bad}");
        assert_eq!(body, unknown, "{bad}: the same answer as an unknown file");
    }
    let words: Value = serde_json::from_slice(&unknown).unwrap();
    assert!(
        words["error"]
            .as_str()
            .unwrap()
            .contains("no such chat file")
    );

    // The key is 32 bytes in the data folder, the owner's alone, and a restarted server
    // (a new hub over the same store) signs and checks with the same one.
    let key_file = office.dir.path().join("chat-link.key");
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(meta.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let again = switchboard_runtime::chat::ChatHub::new(
        office.state.store.clone(),
        office.state.plans.clone(),
    );
    let exp = now_s() + 60;
    assert_eq!(
        again.link_key().await.unwrap().sign(file_id, exp),
        key.sign(file_id, exp)
    );
    stop.cancel();
}

#[tokio::test]
async fn without_a_public_url_a_file_to_a_providers_customer_is_409_and_nothing_is_stored() {
    let stop = CancellationToken::new();
    let (_provider, mut heard, provider_url) = Provider::start(stop.clone()).await;
    let office = Office::start(&provider_url, false, &stop).await;
    for (channel, customer, office_address, words) in [
        (
            Channel::WhatsApp,
            "+16505551234",
            "+15550783881",
            "WhatsApp",
        ),
        (
            Channel::Facebook,
            "6783412098765432",
            "1234567890",
            "Facebook",
        ),
        (Channel::Sms, "+16465550123", SALES, "SMS"),
    ] {
        let id = office
            .customer_writes(channel, customer, office_address)
            .await;
        let before = office.messages(id).await;
        let reply = office.send_file(id, "dot.png", PNG).await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
        let error = reply.json()["error"].as_str().unwrap().to_string();
        assert_eq!(
            error,
            format!(
                "files reach {words} customers as a link the provider fetches; set \
                 `chat.public-url` in the config file to the address providers reach this \
                 server at (nothing was sent)"
            )
        );
        assert_eq!(office.messages(id).await, before, "no message was stored");
    }
    let files = office.dir.path().join("chat-files");
    assert!(
        !files.exists() || std::fs::read_dir(&files).unwrap().next().is_none(),
        "no bytes were written to {}",
        files.display()
    );
    // And nothing went to a provider: a text reply sent after is the first request.
    let id = office
        .customer_writes(Channel::WhatsApp, "+16505551234", "+15550783881")
        .await;
    let reply = office
        .alice
        .send(
            &office.app,
            "POST",
            &format!("/api/chat/conversations/{id}/messages"),
            json!({"text": "Here you are"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let seen = next(&mut heard).await;
    assert!(seen.body.contains("Here you are"), "{}", seen.body);
    stop.cancel();
}

#[tokio::test]
async fn a_visitor_gets_the_agents_file_as_a_link_on_the_line_signed_afresh_on_reconnect() {
    let office = livechat_office::Office::start().await;
    let mut socket = office.visitor().await;
    socket.send(json!({"type": "hello", "visitor": null})).await;
    let welcome = socket.frame().await;
    let token = welcome["visitor"].as_str().unwrap().to_string();
    socket
        .send(json!({"type": "message", "text": "Could you send me the form?"}))
        .await;
    socket.frame().await;
    let id = office.only_conversation().await;
    // Live chat needs no public URL: the widget reads the link from the server it came from.
    office
        .hub()
        .send_file("101", id, "form.pdf", Bytes::from_static(PDF), None)
        .await
        .unwrap();
    let line = socket.frame().await;
    assert_eq!(line["type"], "message", "{line}");
    assert_eq!(line["from"], "agent");
    assert_eq!(line["text"], "", "no words stand in for the file: {line}");
    let attachment = &line["attachment"];
    assert_eq!(attachment["name"], "form.pdf");
    assert_eq!(attachment["type"], "application/pdf");
    assert_eq!(attachment["size"], PDF.len());
    let url = attachment["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/chat/files/"), "{url}");
    let answer = office.get(&url).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, PDF);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/pdf");
    let exp = |url: &str| -> u64 {
        let q = url.split_once("exp=").unwrap().1;
        q.split('&').next().unwrap().parse().unwrap()
    };
    let week = now_s() + 7 * 24 * 3600;
    assert!(
        exp(&url) <= week && exp(&url) + 30 >= week,
        "{url} lasts a week"
    );
    drop(socket);

    // Back a second later: the history's link is signed again, from now.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut again = office.visitor().await;
    again.send(json!({"type": "hello", "visitor": token})).await;
    let welcome = again.frame().await;
    let history = welcome["history"].as_array().unwrap();
    let file = history
        .iter()
        .find(|l| l.get("attachment").is_some())
        .unwrap_or_else(|| panic!("the file is in the history: {welcome}"));
    let renewed = file["attachment"]["url"].as_str().unwrap();
    assert!(exp(renewed) > exp(&url), "{renewed} after {url}");
    assert_eq!(office.get(renewed).await.body, PDF);
    // The visitor's own line carries no attachment.
    assert!(history[0].get("attachment").is_none(), "{welcome}");
}

#[tokio::test]
async fn without_a_readable_link_key_the_visitor_still_gets_every_line_the_file_unlinked() {
    // A damaged key file: links cannot be signed, and the server's log says why. The
    // visitor still reads the conversation: the file's line without a link, and what the
    // agent writes after it.
    let office = livechat_office::Office::start().await;
    let files = office.hub().files_dir().await.unwrap();
    let data = files.parent().unwrap();
    std::fs::write(data.join("chat-link.key"), b"short").unwrap();
    let mut socket = office.visitor().await;
    socket.send(json!({"type": "hello", "visitor": null})).await;
    assert_eq!(socket.frame().await["type"], "welcome");
    socket
        .send(json!({"type": "message", "text": "Could you send me the form?"}))
        .await;
    socket.frame().await;
    let id = office.only_conversation().await;
    office
        .hub()
        .send_file("101", id, "form.pdf", Bytes::from_static(PDF), None)
        .await
        .unwrap();
    let line = socket.frame().await;
    assert_eq!(line["from"], "agent", "{line}");
    assert!(line.get("attachment").is_none(), "no link to show: {line}");
    office
        .hub()
        .reply("101", id, "Did the form arrive?", None)
        .await
        .unwrap();
    let line = socket.frame().await;
    assert_eq!(line["text"], "Did the form arrive?", "{line}");
}

#[tokio::test]
async fn a_text_with_a_file_is_a_whatsapp_caption_an_mms_body_and_refused_for_messenger() {
    use switchboard_runtime::chat::OutboxRow;
    use switchboard_runtime::chat_channels::outbox_sender::{Outcome, request_for};
    use switchboard_runtime::chat_channels::provider_request::Body as Sent;
    // The agents' API sends a file without words; a payload holding both (another writer,
    // a later API) is still sent whole, or refused in words where the provider cannot.
    let stop = CancellationToken::new();
    let office = Office::start("http://127.0.0.1:9", true, &stop).await;
    let channels = accounts(Some(office.public_url.clone()), "http://127.0.0.1:9");
    let row = |channel: Channel, to: &str| OutboxRow {
        id: 1,
        message_id: Some(1),
        channel,
        payload: json!({
            "to": to,
            "from": SALES,
            "text": "The form, as promised",
            "attachment": {"id": 5, "name": "form.pdf", "type": "application/pdf", "size": 80},
        })
        .to_string(),
        attempts: 1,
        attempt_id: "a".into(),
    };
    let hub = &office.state.chat;
    let whatsapp = request_for(hub, &channels, &row(Channel::WhatsApp, "+16505551234"))
        .await
        .unwrap();
    let Sent::Json(body) = whatsapp.body else {
        panic!("WhatsApp takes JSON")
    };
    let link = body["document"]["link"].as_str().unwrap().to_string();
    check_link(&office, &link, 5);
    assert_eq!(
        body["document"],
        json!({"link": link, "filename": "form.pdf", "caption": "The form, as promised"})
    );
    let sms = request_for(hub, &channels, &row(Channel::Sms, "+16465550123"))
        .await
        .unwrap();
    let Sent::Form(pairs) = sms.body else {
        panic!("Twilio takes a form")
    };
    assert!(
        pairs.contains(&("Body".into(), "The form, as promised".into())),
        "{pairs:?}"
    );
    assert!(pairs.iter().any(|(k, _)| k == "MediaUrl"), "{pairs:?}");
    let messenger = request_for(hub, &channels, &row(Channel::Facebook, "6783412098765432")).await;
    assert!(
        matches!(&messenger, Err(Outcome::Dead(words)) if words.contains("not both")),
        "{messenger:?}"
    );
    stop.cancel();
}
