//! Files and images in chat (`POST /api/chat/conversations/{id}/files`, `GET
//! /api/chat/files/{id}`) through the router on a real SQLite file and a real data
//! folder: every type the chat guide lists is accepted with a real minimal sample and
//! read back byte for byte; a file whose content is not what its name says, a type the
//! guide does not list, an empty file and one over 10 MB are refused in words with
//! nothing stored; nobody who cannot see the conversation can send into it or read
//! the file.

mod signed_in;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use sha2::{Digest, Sha256};
use signed_in::{HOST, PERSON_PASSWORD, Reply, SignedIn, call, signed_in_person};
use std::path::PathBuf;
use std::sync::Arc;
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::{ChatHub, Inbound};
use switchboard_runtime::http::{AppState, HostNames, app};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::sqlite_store::StoreThread;
use tempfile::TempDir;

/// SMS goes to queue 800 (Alice and Bruno); WhatsApp to Alice alone; Carol is in no queue.
const PLAN: &str = r#"
extension 101 "Alice"
extension 102 "Bruno"
extension 103 "Carol"
queue 800 "Sales" { agents 101, 102 }
chat sms "+12605550100" -> queue 800 poll all
chat livechat           -> queue 800 poll all
chat whatsapp           -> extension 101
"#;

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xb8, 0x60, 0x60, 0x00,
    0x00, 0x03, 0x04, 0x01, 0x31, 0x74, 0xbf, 0x75, 0x77, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

struct Office {
    dir: TempDir,
    state: AppState,
    app: Router,
    alice: SignedIn,
    bruno: SignedIn,
    carol: SignedIn,
}

impl Office {
    async fn new() -> Office {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreThread::open(&dir.path().join("switchboard.db"))
            .await
            .unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), PLAN).unwrap();
        let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
        let state = AppState {
            chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
            plans: plan_holder,
            calls: Default::default(),
            hosts: Arc::new(HostNames::new(HOST.parse().unwrap(), &[])),
            office_changes: store.office_changes(),
            chat_config: Default::default(),
            store,
            live: None,
            auth: Default::default(),
        };
        let alice = signed_in_person(&state, "101", PERSON_PASSWORD).await;
        let bruno = signed_in_person(&state, "102", PERSON_PASSWORD).await;
        let carol = signed_in_person(&state, "103", PERSON_PASSWORD).await;
        Office {
            app: app(state.clone()),
            dir,
            state,
            alice,
            bruno,
            carol,
        }
    }

    /// A customer writes on `channel`; the conversation's id.
    async fn customer_writes(&self, channel: Channel, customer: &str) -> i64 {
        let mut inbound = Inbound::new(channel, customer, "Here is my question");
        if channel == Channel::Sms {
            inbound.office_address = Some("+12605550100".to_string());
        }
        self.state
            .chat
            .receive(inbound)
            .await
            .unwrap()
            .conversation_id
    }

    /// `who` sends `bytes` named `name` into conversation `id`.
    async fn send_file(&self, who: &SignedIn, id: i64, name: &str, bytes: Vec<u8>) -> Reply {
        let request = Request::builder()
            .method("POST")
            .uri(format!("/api/chat/conversations/{id}/files?name={name}"))
            .header(header::HOST, HOST)
            .header(header::COOKIE, &who.cookie)
            .header("x-csrf-token", &who.csrf)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes))
            .unwrap();
        call(&self.app, request).await
    }

    /// How many messages conversation `id` has, as Alice (who sees them all) reads it.
    async fn messages(&self, who: &SignedIn, id: i64) -> usize {
        let reply = who
            .get(&self.app, &format!("/api/chat/conversations/{id}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()["messages"].as_array().unwrap().len()
    }

    fn files_dir(&self) -> PathBuf {
        self.dir.path().join("chat-files")
    }

    /// The files in the data folder's `chat-files` (none when it does not exist).
    fn files_on_disk(&self) -> Vec<String> {
        match std::fs::read_dir(self.files_dir()) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A real ZIP (stored, with its CRC) holding one entry per name.
fn zip(names: &[&str]) -> Vec<u8> {
    let data = b"<x/>";
    let crc = crc32(data);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for name in names {
        let offset = out.len() as u32;
        let header = |signature: &[u8], central_entry: bool| {
            let mut h = signature.to_vec();
            if central_entry {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&[0; 8]); // flags, method (stored), time, date
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central_entry {
                h.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
                h.extend_from_slice(&[0; 4]); // external attributes
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(b"PK\x03\x04", false));
        out.extend_from_slice(data);
        central.extend(header(b"PK\x01\x02", true));
    }
    let central_at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(names.len() as u16).to_le_bytes());
    out.extend_from_slice(&(names.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn with_tail(head: &[u8]) -> Vec<u8> {
    let mut v = head.to_vec();
    v.extend_from_slice(&[0u8; 24]);
    v
}

/// A website visitor, as the live chat names one.
const VISITOR: &str = "v-0123456789abcdef0123";

/// One real minimal sample of every type the chat guide lists, with its served type.
fn samples() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&26u32.to_le_bytes());
    webp.extend_from_slice(b"WEBPVP8L");
    webp.extend_from_slice(&[
        0x0d, 0, 0, 0, 0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88,
    ]);
    let mut heic = vec![0, 0, 0, 0x18];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    let mut heif = vec![0, 0, 0, 0x18];
    heif.extend_from_slice(b"ftypmif1\0\0\0\0mif1heic");
    vec![
        (
            "report.pdf",
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(),
            "application/pdf",
        ),
        ("letter.doc", with_tail(OLE), "application/msword"),
        ("sums.xls", with_tail(OLE), "application/vnd.ms-excel"),
        ("deck.ppt", with_tail(OLE), "application/vnd.ms-powerpoint"),
        (
            "letter.docx",
            zip(&["[Content_Types].xml", "word/document.xml"]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "sums.xlsx",
            zip(&["[Content_Types].xml", "xl/workbook.xml"]),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "deck.pptx",
            zip(&["[Content_Types].xml", "ppt/presentation.xml"]),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "notes.txt",
            "Grüße, see you at 10\n".as_bytes().to_vec(),
            "text/plain; charset=utf-8",
        ),
        (
            "memo.rtf",
            b"{\\rtf1\\ansi Hello}".to_vec(),
            "application/rtf",
        ),
        (
            "photo.jpg",
            with_tail(&[0xFF, 0xD8, 0xFF, 0xE0]),
            "image/jpeg",
        ),
        (
            "photo.JPEG",
            with_tail(&[0xFF, 0xD8, 0xFF, 0xDB]),
            "image/jpeg",
        ),
        ("dot.png", PNG.to_vec(), "image/png"),
        ("dot.gif", with_tail(b"GIF89a"), "image/gif"),
        ("old.gif", with_tail(b"GIF87a"), "image/gif"),
        ("dot.bmp", with_tail(b"BM"), "image/bmp"),
        ("dot.webp", webp, "image/webp"),
        ("scan.tiff", with_tail(b"II*\0"), "image/tiff"),
        ("scan.tif", with_tail(b"MM\0*"), "image/tiff"),
        ("phone.heic", heic, "image/heic"),
        ("phone.heif", heif, "image/heif"),
    ]
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn every_type_the_guide_lists_is_sent_stored_by_its_sha256_and_read_back() {
    let office = Office::new().await;
    let id = office.customer_writes(Channel::LiveChat, VISITOR).await;
    for (name, bytes, content_type) in samples() {
        let reply = office
            .send_file(&office.alice, id, name, bytes.clone())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{name}: {}",
            reply.text()
        );
        let message = &reply.json()["message"];
        let attachment = &message["attachment"];
        assert_eq!(attachment["name"], name);
        assert_eq!(attachment["type"], content_type, "{name}");
        assert_eq!(attachment["size"], bytes.len());
        assert_eq!(message["direction"], "out");

        // On disk under its SHA-256, the bytes exactly.
        let sha = sha256_hex(&bytes);
        let on_disk = std::fs::read(office.files_dir().join(&sha)).unwrap();
        assert_eq!(sha256_hex(&on_disk), sha, "{name}");

        let file_id = attachment["id"].as_i64().unwrap();
        let read = office
            .alice
            .get(&office.app, &format!("/api/chat/files/{file_id}"))
            .await;
        assert_eq!(read.status, StatusCode::OK, "{name}");
        assert_eq!(read.body, bytes, "{name}");
        assert_eq!(read.headers[header::CONTENT_TYPE], content_type);
        assert_eq!(read.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let disposition = read.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        let expected = if content_type.starts_with("image/") {
            "inline"
        } else {
            "attachment"
        };
        assert!(disposition.starts_with(expected), "{name}: {disposition}");
        assert!(disposition.contains(name), "{disposition}");
    }
    // Answering with a file took the conversation: Bruno no longer sees it or its files.
    let detail = office
        .alice
        .get(&office.app, &format!("/api/chat/conversations/{id}"))
        .await
        .json();
    assert_eq!(detail["conversation"]["owner"], "101");
    let bruno = office.bruno.get(&office.app, "/api/chat/files/1").await;
    assert_eq!(bruno.status, StatusCode::NOT_FOUND);
    // The same bytes twice are one file on disk (the OLE samples are alike, too).
    let again = office
        .send_file(&office.alice, id, "copy.png", PNG.to_vec())
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    let mut distinct: Vec<String> = samples().iter().map(|s| sha256_hex(&s.1)).collect();
    distinct.sort();
    distinct.dedup();
    let mut on_disk = office.files_on_disk();
    on_disk.sort();
    assert_eq!(on_disk, distinct);
}

#[tokio::test]
async fn a_refused_file_is_answered_in_words_and_nothing_is_stored() {
    let office = Office::new().await;
    let id = office.customer_writes(Channel::LiveChat, VISITOR).await;
    let before = office.messages(&office.alice, id).await;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "report.pdf",
            PNG.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the file's content is not a PDF, though its name ends .pdf",
        ),
        (
            "setup.exe",
            with_tail(b"MZ"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "files ending .exe cannot be sent in chat",
        ),
        (
            "letter.docx",
            zip(&["[Content_Types].xml", "xl/workbook.xml"]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not a Word document, though its name ends .docx",
        ),
        (
            "notes.txt",
            b"a\0b".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not a text file",
        ),
        // A customer's voice note or video is accepted from a provider, but agents send
        // what the guide lists: a real Ogg page and an MP4 start are refused by name.
        (
            "voice.ogg",
            with_tail(b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "files ending .ogg cannot be sent in chat",
        ),
        (
            "clip.mp4",
            with_tail(b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "files ending .mp4 cannot be sent in chat",
        ),
        (
            "empty.pdf",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "the file is empty",
        ),
        (
            "big.pdf",
            {
                let mut big = b"%PDF-".to_vec();
                big.resize(11 * 1024 * 1024, b' ');
                big
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
    ];
    for (name, bytes, status, words) in cases {
        let reply = office.send_file(&office.alice, id, name, bytes).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.text());
        assert!(reply.text().contains(words), "{name}: {}", reply.text());
    }
    assert_eq!(office.files_on_disk(), Vec::<String>::new());
    assert_eq!(office.messages(&office.alice, id).await, before);
    // Still offered to both: no refused file took it.
    assert_eq!(office.messages(&office.bruno, id).await, before);
}

#[tokio::test]
async fn nobody_sends_into_or_reads_from_a_conversation_they_cannot_see() {
    let office = Office::new().await;
    // WhatsApp is Alice's alone.
    let whatsapp = office
        .customer_writes(Channel::WhatsApp, "+13125550199")
        .await;
    for who in [&office.bruno, &office.carol] {
        let reply = office
            .send_file(who, whatsapp, "dot.png", PNG.to_vec())
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
    }
    assert_eq!(office.files_on_disk(), Vec::<String>::new());

    // A visitor's chat offered to the queue: Alice's file takes it, and from then on it,
    // and the file, are hers alone.
    let visitor = office.customer_writes(Channel::LiveChat, VISITOR).await;
    let sent = office
        .send_file(&office.alice, visitor, "dot.png", PNG.to_vec())
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let file_id = sent.json()["message"]["attachment"]["id"].as_i64().unwrap();
    let path = format!("/api/chat/files/{file_id}");
    assert_eq!(
        office.alice.get(&office.app, &path).await.status,
        StatusCode::OK
    );
    for who in [&office.bruno, &office.carol] {
        let reply = who.get(&office.app, &path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        // Exactly as for a file that never existed.
        let never = who.get(&office.app, "/api/chat/files/999").await;
        assert_eq!(reply.body, never.body);
    }
}

#[tokio::test]
async fn a_file_into_a_conversation_someone_else_took_is_409_and_not_stored() {
    let office = Office::new().await;
    let id = office.customer_writes(Channel::LiveChat, VISITOR).await;
    let taken = office
        .bruno
        .send(
            &office.app,
            "POST",
            &format!("/api/chat/conversations/{id}/take"),
            Value::Null,
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text());
    let reply = office
        .send_file(&office.alice, id, "dot.png", PNG.to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert!(reply.text().contains("Bruno (102) took this conversation"));
    assert_eq!(office.files_on_disk(), Vec::<String>::new());
}

#[tokio::test]
async fn a_file_to_a_customer_on_a_providers_channel_is_refused_without_a_public_url() {
    // A provider's customer gets a file as a link the provider fetches from
    // `chat.public-url`; this office has none, so it is refused before anything is written
    // (tests/chat_provider_files.rs sends them with one).
    let office = Office::new().await;
    let id = office.customer_writes(Channel::Sms, "+13125550123").await;
    let before = office.messages(&office.alice, id).await;
    let reply = office
        .send_file(&office.alice, id, "dot.png", PNG.to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert!(
        reply.text().contains("SMS customers") && reply.text().contains("chat.public-url"),
        "{}",
        reply.text()
    );
    assert_eq!(office.messages(&office.alice, id).await, before);
    let files = office.state.chat.files_dir().await.unwrap();
    assert!(
        !files.exists() || std::fs::read_dir(&files).unwrap().next().is_none(),
        "nothing was written to {}",
        files.display()
    );
}

#[tokio::test]
async fn a_photo_of_a_few_megabytes_is_taken_whole() {
    // Phones' photos run to megabytes: the API's 16 KiB body limit must not apply here.
    let office = Office::new().await;
    let id = office.customer_writes(Channel::LiveChat, VISITOR).await;
    let mut photo = PNG.to_vec();
    photo.resize(3 * 1024 * 1024, 0);
    let reply = office
        .send_file(&office.alice, id, "photo.png", photo.clone())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(
        reply.json()["message"]["attachment"]["size"],
        photo.len() as u64
    );
}
