//! One customer's replies reach them in the order the agents wrote them, over a real
//! SQLite file: a reply is not claimed while an earlier one to the same customer waits
//! for its next try or is in flight (a dead one holds nothing up), the sender sleeps until
//! the first reply of a customer is due rather than waking for the ones that must wait,
//! and a local receiver playing WhatsApp's send API on a real socket gets a reply written
//! during an earlier one's backoff only after it, each try of one reply under the same
//! `Idempotency-Key`. "Send again" queues a dead reply behind what already waits for the
//! customer. Schema version 13 fills in the customer of the rows already stored.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_dsl::ast::Channel;
use switchboard_runtime::chat::{ChatHub, Inbound};
use switchboard_runtime::chat_channels::config::{ChannelAccounts, WhatsAppAccount};
use switchboard_runtime::chat_channels::outbox_sender::{self, SenderSettings};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::secret::Secret;
use switchboard_runtime::sqlite_store::{SCHEMA_VERSION, StoreThread};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

const PLAN: &str = r#"
extension 101 "Alice"
chat whatsapp -> extension 101
"#;

const OFFICE: &str = "+15550783881";
const LEASE_MS: u64 = 60_000;

/// The store and the hub over a fresh office folder.
struct Office {
    dir: TempDir,
    store: StoreThread,
    hub: Arc<ChatHub>,
}

impl Office {
    async fn open() -> Office {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dialplans")).unwrap();
        std::fs::create_dir_all(dir.path().join("prompts/en")).unwrap();
        std::fs::write(dir.path().join("dialplans/office.dial"), PLAN).unwrap();
        let (store, hub) = Office::hub(&dir).await;
        Office { dir, store, hub }
    }

    async fn hub(dir: &TempDir) -> (StoreThread, Arc<ChatHub>) {
        let store = StoreThread::open(&dir.path().join("office.db"))
            .await
            .unwrap();
        let plans = Arc::new(
            PlanHolder::load_initial(&dir.path().join("dialplans"), &dir.path().join("prompts"))
                .unwrap(),
        );
        let hub = Arc::new(ChatHub::new(store.clone(), plans));
        (store, hub)
    }

    /// `customer` writes in on WhatsApp; their conversation.
    async fn customer(&self, customer: &str) -> i64 {
        let mut inbound = Inbound::new(Channel::WhatsApp, customer, "Hello?");
        inbound.office_address = Some(OFFICE.into());
        self.hub.receive(inbound).await.unwrap().conversation_id
    }

    /// Alice answers `conversation`; the reply's message id.
    async fn reply(&self, conversation: i64, text: &str) -> i64 {
        self.hub
            .reply("101", conversation, text, None)
            .await
            .unwrap()
            .id
    }

    /// Claims what is due at `now` for `attempt`; the message ids claimed, in order.
    async fn claim(&self, now: u64, attempt: &str) -> Vec<i64> {
        self.claim_rows(now, attempt)
            .await
            .iter()
            .map(|r| r.message_id.unwrap())
            .collect()
    }

    async fn claim_rows(
        &self,
        now: u64,
        attempt: &str,
    ) -> Vec<switchboard_runtime::chat::OutboxRow> {
        self.hub
            .outbox_claim_due(now, LEASE_MS, attempt, 32)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_reply_is_not_claimed_while_an_earlier_one_to_the_same_customer_waits() {
    let o = Office::open().await;
    let dana = o.customer("+16505551234").await;
    let eli = o.customer("+16505559876").await;

    // Reply A to Dana is tried and fails: due again in a minute.
    let a = o.reply(dana, "A: your order shipped").await;
    let now = unix_ms();
    let claimed = o.claim_rows(now, "run-1").await;
    assert_eq!(
        claimed
            .iter()
            .map(|r| r.message_id.unwrap())
            .collect::<Vec<_>>(),
        [a]
    );
    let retry_at = now + 60_000;
    assert!(
        o.hub
            .outbox_mark_retry(claimed[0].id, "run-1", retry_at, "WhatsApp answered 503")
            .await
            .unwrap()
    );

    // Reply B to Dana, written meanwhile, waits for A; Eli's reply does not.
    let b = o.reply(dana, "B: it arrives Tuesday").await;
    let e = o.reply(eli, "E: yes, we are open").await;
    let eli_rows = o.claim_rows(unix_ms(), "run-2").await;
    assert_eq!(
        eli_rows
            .iter()
            .map(|r| r.message_id.unwrap())
            .collect::<Vec<_>>(),
        [e],
        "B must wait for A"
    );
    assert!(
        o.hub
            .outbox_mark_sent(eli_rows[0].id, "run-2", unix_ms())
            .await
            .unwrap()
    );
    // The sender sleeps until A is due, not waking for B, which cannot go before it; the
    // agent reads that B is tried then.
    assert_eq!(o.hub.outbox_next_due().await.unwrap(), Some(retry_at));
    assert_eq!(delivery(&o, b).await.next_attempt_at_ms, retry_at);

    // When A is due again, A and B go in one claim, A first.
    let rows = o.claim_rows(retry_at, "run-3").await;
    assert_eq!(
        rows.iter()
            .map(|r| r.message_id.unwrap())
            .collect::<Vec<_>>(),
        [a, b]
    );
    // A fails again and B is held back with a shorter wait of its own: B is still not
    // due before A.
    let again = retry_at + 120_000;
    assert!(
        o.hub
            .outbox_mark_retry(rows[0].id, "run-3", again, "503")
            .await
            .unwrap()
    );
    assert!(
        o.hub
            .outbox_mark_retry(rows[1].id, "run-3", retry_at + 1_000, "waiting for A")
            .await
            .unwrap()
    );
    assert_eq!(delivery(&o, b).await.next_attempt_at_ms, again);
    assert!(o.claim(again - 1, "run-4").await.is_empty());
    assert_eq!(o.hub.outbox_next_due().await.unwrap(), Some(again));
    assert_eq!(o.claim(again, "run-5").await, [a, b]);
}

#[tokio::test]
async fn a_reply_in_flight_holds_the_later_ones_and_a_dead_one_holds_none() {
    let o = Office::open().await;
    let dana = o.customer("+16505551234").await;

    // A is in another sender's hands (its lease runs a minute): B waits for it.
    let a = o.reply(dana, "A").await;
    let now = unix_ms();
    let held = o.claim_rows(now, "run-1").await;
    assert_eq!(held.len(), 1);
    let b = o.reply(dana, "B").await;
    assert!(
        o.claim(unix_ms(), "run-2").await.is_empty(),
        "B must wait for A"
    );
    // Its lease runs out (its sender died): A and B go, A first.
    let rows = o.claim_rows(now + LEASE_MS, "run-3").await;
    assert_eq!(
        rows.iter()
            .map(|r| r.message_id.unwrap())
            .collect::<Vec<_>>(),
        [a, b]
    );

    // A is refused for good: the agent sees it failed, and C goes without it.
    assert!(
        o.hub
            .outbox_mark_dead(rows[0].id, "run-3", "refused")
            .await
            .unwrap()
    );
    assert!(
        o.hub
            .outbox_mark_sent(rows[1].id, "run-3", now + LEASE_MS)
            .await
            .unwrap()
    );
    let c = o.reply(dana, "C").await;
    assert_eq!(o.claim(unix_ms(), "run-4").await, [c]);
}

#[tokio::test]
async fn send_again_goes_after_the_replies_already_waiting_for_the_customer() {
    let o = Office::open().await;
    let dana = o.customer("+16505551234").await;
    // A is refused for good; B, written after it, fails for now: due in a minute.
    let a = o.reply(dana, "A").await;
    let b = o.reply(dana, "B").await;
    let now = unix_ms();
    let rows = o.claim_rows(now, "run-1").await;
    assert_eq!(rows.len(), 2);
    assert!(
        o.hub
            .outbox_mark_dead(rows[0].id, "run-1", "refused")
            .await
            .unwrap()
    );
    let retry_at = now + 60_000;
    assert!(
        o.hub
            .outbox_mark_retry(rows[1].id, "run-1", retry_at, "503")
            .await
            .unwrap()
    );
    // Alice sends A again: it waits behind B, and goes right after it.
    o.hub.resend("101", dana, a).await.unwrap();
    assert!(
        o.claim(unix_ms(), "run-2").await.is_empty(),
        "A must wait for B"
    );
    assert_eq!(delivery(&o, a).await.next_attempt_at_ms, retry_at);
    let rows = o.claim_rows(retry_at, "run-3").await;
    assert_eq!(
        rows.iter()
            .map(|r| r.message_id.unwrap())
            .collect::<Vec<_>>(),
        [b, a]
    );
    assert_eq!(rows[1].attempts, 1, "A's tries count from nought again");
}

#[tokio::test]
async fn version_13_names_the_customer_of_the_rows_already_stored() {
    let o = Office::open().await;
    let dana = o.customer("+16505551234").await;
    let a = o.reply(dana, "A").await;
    let Office { dir, store, hub } = o;
    drop(hub);
    drop(store);
    // The file as version 12 left it: no customer column, no index, and nothing a later
    // version added (version 14's `chat_media`).
    let path = dir.path().join("office.db");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        let stored: String = raw
            .query_row("SELECT recipient FROM chat_outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, "+16505551234", "a new row names its customer");
        raw.execute_batch(
            "DROP INDEX chat_outbox_unsent_by_recipient;
             DROP INDEX chat_outbox_unsent;
             ALTER TABLE chat_outbox DROP COLUMN recipient;
             DROP TABLE chat_media;
             DROP TABLE sip_registrations;
             PRAGMA user_version = 12;",
        )
        .unwrap();
    }
    let (store, hub) = Office::hub(&dir).await;
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        let version: u32 = raw
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            version, SCHEMA_VERSION,
            "upgraded through 13 to the current version"
        );
        let stored: String = raw
            .query_row("SELECT recipient FROM chat_outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, "+16505551234", "backfilled from the payload's `to`");
        let plan: Vec<String> = raw
            .prepare(
                "EXPLAIN QUERY PLAN SELECT 1 FROM chat_outbox e
                 WHERE e.channel = 'whatsapp' AND e.recipient = '+16505551234'
                   AND e.id < 10 AND e.state IN ('pending', 'sending')",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(
                |p| p.contains("USING COVERING INDEX chat_outbox_unsent_by_recipient")
                    || p.contains("USING INDEX chat_outbox_unsent_by_recipient")
            ),
            "the earlier-reply check is an index lookup: {plan:?}"
        );
    }
    let office = Office { dir, store, hub };
    let b = office.reply(dana, "B").await;
    let claimed = office.claim(unix_ms(), "run-1").await;
    assert_eq!(claimed, [a, b]);
}

/// What the receiver got, in order: (text, Idempotency-Key).
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, String)>>>);

/// WhatsApp's send API on a local port: records each request as it arrives; the first
/// is answered only after `hang` (longer than the sender waits: the answer is lost), the
/// others at once with 200.
async fn whatsapp_api(received: Received, hang: Duration, stop: CancellationToken) -> String {
    #[derive(Clone)]
    struct Api {
        received: Received,
        requests: Arc<AtomicUsize>,
        hang: Duration,
    }
    async fn send(State(api): State<Api>, headers: HeaderMap, body: String) -> StatusCode {
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = json["text"]["body"].as_str().unwrap_or("").to_string();
        api.received.0.lock().unwrap().push((text, key));
        if api.requests.fetch_add(1, Ordering::SeqCst) == 0 {
            tokio::time::sleep(api.hang).await;
        }
        StatusCode::OK
    }
    let api = Api {
        received,
        requests: Arc::default(),
        hang,
    };
    let app = Router::new().route("/{*rest}", post(send)).with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
            .unwrap();
    });
    url
}

#[tokio::test]
async fn a_reply_written_during_an_earlier_ones_backoff_reaches_the_customer_after_it() {
    let o = Office::open().await;
    let stop = CancellationToken::new();
    let received = Received::default();
    let api = whatsapp_api(received.clone(), Duration::from_secs(3), stop.clone()).await;
    let accounts = ChannelAccounts {
        public_url: None,
        whatsapp: Some(WhatsAppAccount {
            verify_token: Secret::new("verify"),
            app_secret: Secret::new("secret"),
            access_token: Secret::new("token"),
            phone_number_id: "106540352242922".into(),
            api_url: format!("{api}/v21.0"),
        }),
        facebook: None,
        sms: None,
    };
    // The first try times out; the next comes 600 ms later.
    let settings = SenderSettings {
        lease: Duration::from_secs(5),
        request_timeout: Duration::from_millis(300),
        first_retry: Duration::from_millis(600),
        longest_retry: Duration::from_millis(600),
        batch: 32,
        idle_check: Duration::from_millis(100),
        min_gap: Duration::from_millis(10),
    };
    let sender = tokio::spawn(outbox_sender::run(
        o.hub.clone(),
        Arc::new(accounts),
        settings,
        stop.clone(),
    ));
    let dana = o.customer("+16505551234").await;
    let a = o.reply(dana, "A: your order shipped").await;
    // A's request reached WhatsApp but its answer never came back: waiting to go again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = delivery(&o, a).await;
        if d.state == "pending" && d.last_error.is_some() {
            assert!(
                d.last_error.as_deref().unwrap().contains("timed out"),
                "{d:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "A was never tried: {d:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let b = o.reply(dana, "B: it arrives Tuesday").await;
    for id in [a, b] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while delivery(&o, id).await.state != "sent" {
            assert!(Instant::now() < deadline, "{id} was not sent");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop.cancel();
    sender.await.unwrap();

    let got = received.0.lock().unwrap().clone();
    let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "A: your order shipped",
            "A: your order shipped",
            "B: it arrives Tuesday"
        ],
        "B went before A was delivered"
    );
    // Both tries of A carry one key, the row's own; B's is another.
    let keys: Vec<&str> = got.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(keys[0], keys[1]);
    assert!(
        keys[0].starts_with("switchboard-outbox-") && keys[0].ends_with(&format!("-{a}")),
        "{keys:?}"
    );
    assert!(keys[2].ends_with(&format!("-{b}")), "{keys:?}");
    assert_ne!(keys[0], keys[2]);
}

async fn delivery(o: &Office, message_id: i64) -> switchboard_runtime::chat::Delivery {
    o.store
        .run_sqlite(move |s| {
            s.chat::<_, switchboard_core::store::StoreError>("read", |tx| tx.delivery(message_id))
        })
        .await
        .unwrap()
        .unwrap()
        .expect("the reply has an outbox row")
}

fn unix_ms() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(now.as_millis()).unwrap()
}
