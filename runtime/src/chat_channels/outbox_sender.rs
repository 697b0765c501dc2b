//! The task that delivers the agents' replies: it claims due rows of the hub's outbox,
//! sends each to its provider's API (`whatsapp`, `facebook`, `twilio_sms` build the
//! request), and marks it sent, dead or due again.
//!
//! What it guarantees:
//! - **Never lost.** A reply is a row in SQLite from the moment the agent's message is
//!   stored (same transaction) until the provider accepted it (2xx) or refused it for good
//!   (a 4xx other than 408 and 429: dead, the provider's words kept for the agent).
//!   Anything else (a refused connection, a timeout, 5xx, 429) is tried again after
//!   1 s, 2 s, 4 s, … up to 5 min between tries, for as long as it takes, restarts
//!   included.
//! - **Not sent twice by two senders.** Each claim takes rows under a fresh attempt id and
//!   a lease (`LEASE`); only that attempt may mark them, and a row is claimed again only
//!   when it is due again or its lease ran out (its sender died with the server). A row
//!   is sent only while at least `request_timeout` of its lease is left, so a live
//!   sender never overlaps one that re-claimed it.
//! - **The window that remains.** If the server dies after the provider accepted a
//!   request and before the row was marked sent (one store transaction, milliseconds),
//!   the row is sent again once its lease runs out: the providers' send APIs take no
//!   idempotency key, so that crash is the one way a customer gets a reply twice.
//! - **In order per customer.** The rows of one batch to one customer go one after the
//!   other; when one fails, the later ones wait for it.

use super::config::ChannelAccounts;
use super::provider_request::{Auth, Body, ProviderRequest};
use super::{facebook, twilio_sms, whatsapp};
use crate::chat::{ChatEventKind, ChatHub, OutboxRow};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchboard_dsl::ast::Channel;
use tokio_util::sync::CancellationToken;

/// How the sender paces itself; `Default` is what the server runs with.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    /// How long a claim holds its rows: a row whose sender died is sent again after it.
    pub lease: Duration,
    /// The longest one request to a provider may take, connecting included.
    pub request_timeout: Duration,
    /// The wait after the first failure; it doubles with each failure after that…
    pub first_retry: Duration,
    /// …up to this.
    pub longest_retry: Duration,
    /// Rows claimed at once.
    pub batch: u32,
    /// The longest the sender sleeps without looking at the outbox (a reply stored by
    /// another process, a clock jump).
    pub idle_check: Duration,
    /// The shortest time between two looks woken by the hub's announcements, so a flood
    /// of customers' messages (which are announced like replies) costs the store a few
    /// claims a second, not one per message.
    pub min_gap: Duration,
}

impl Default for SenderSettings {
    fn default() -> SenderSettings {
        SenderSettings {
            lease: Duration::from_secs(60),
            request_timeout: Duration::from_secs(20),
            first_retry: Duration::from_secs(1),
            longest_retry: Duration::from_secs(300),
            batch: 32,
            idle_check: Duration::from_secs(5),
            min_gap: Duration::from_millis(50),
        }
    }
}

/// What became of one try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Refused for good; the words are the agent's.
    Dead(String),
    /// Failed for now; the words say why, for the log and the agent.
    Retry(String),
}

/// Runs until `stop` is cancelled: claims due replies, sends them, marks them.
pub async fn run(
    hub: Arc<ChatHub>,
    accounts: Arc<ChannelAccounts>,
    settings: SenderSettings,
    stop: CancellationToken,
) {
    let client = match http_client(&settings) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("the chat reply sender cannot start its HTTP client: {e}");
            return;
        }
    };
    let sender = Sender {
        hub,
        accounts,
        settings,
        client,
        run_id: run_id(),
        claims: AtomicU64::new(0),
    };
    let mut events = sender.hub.subscribe();
    loop {
        let claimed = sender.pass().await;
        // A full batch: there may be more due at once.
        if claimed >= sender.settings.batch as usize {
            continue;
        }
        let wait = sender.until_next_due().await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
            woke = wait_for_reply(&mut events) => {
                if !woke {
                    return;
                }
                // Let the replies of a burst gather into one claim.
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(sender.settings.min_gap) => {}
                }
            }
        }
    }
}

/// The HTTP client every request goes through: rustls, no redirects (a provider that
/// moved is an `api-url` to fix, and a POST must not turn into a GET elsewhere).
fn http_client(settings: &SenderSettings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(settings.request_timeout)
        .connect_timeout(settings.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Returns when the hub announces a message (an agent's reply may have queued a row) or
/// a failed reply queued again; false when the hub is gone.
async fn wait_for_reply(
    events: &mut tokio::sync::broadcast::Receiver<crate::chat::ChatEvent>,
) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(e) if e.kind == ChatEventKind::Message && e.channel != Channel::LiveChat => {
                return true;
            }
            Ok(e) if e.kind == (ChatEventKind::Delivery { requeued: true }) => return true,
            Ok(_) => {}
            // Missed some: one of them may have been a reply.
            Err(RecvError::Lagged(_)) => return true,
            Err(RecvError::Closed) => return false,
        }
    }
}

struct Sender {
    hub: Arc<ChatHub>,
    accounts: Arc<ChannelAccounts>,
    settings: SenderSettings,
    client: reqwest::Client,
    /// This process's part of every attempt id, so no two runs share one.
    run_id: String,
    claims: AtomicU64,
}

impl Sender {
    /// One claim and its sends; how many rows it claimed.
    async fn pass(&self) -> usize {
        let attempt = format!(
            "{}-{}",
            self.run_id,
            self.claims.fetch_add(1, Ordering::Relaxed)
        );
        let claimed_at = now_ms();
        let rows = match self
            .hub
            .outbox_claim_due(
                claimed_at,
                millis(self.settings.lease),
                &attempt,
                self.settings.batch,
            )
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!("the chat outbox could not be read: {e}");
                return 0;
            }
        };
        let claimed = rows.len();
        // The last moment a request may start and still end inside the lease.
        let send_by = claimed_at + millis(self.settings.lease)
            - millis(self.settings.request_timeout).min(millis(self.settings.lease));
        let mut by_customer: BTreeMap<(String, String), Vec<OutboxRow>> = BTreeMap::new();
        for row in rows {
            let to = serde_json::from_str::<Reply>(&row.payload)
                .map(|r| r.to)
                .unwrap_or_default();
            by_customer
                .entry((row.channel.as_str().to_string(), to))
                .or_default()
                .push(row);
        }
        let sends = by_customer
            .into_values()
            .map(|rows| self.send_in_order(rows, send_by));
        futures_util::future::join_all(sends).await;
        claimed
    }

    /// Sends `rows` (one customer's) one after the other; after a failure the rest wait.
    async fn send_in_order(&self, rows: Vec<OutboxRow>, send_by: u64) {
        let mut held_back: Option<String> = None;
        for row in rows {
            let outcome = match &held_back {
                Some(why) => Outcome::Retry(why.clone()),
                None if now_ms() >= send_by => {
                    Outcome::Retry("the claim's lease ran short; sent on the next pass".into())
                }
                None => self.send(&row).await,
            };
            if let Outcome::Retry(_) = &outcome {
                held_back.get_or_insert_with(|| {
                    format!(
                        "waiting for an earlier reply to the same customer (row {})",
                        row.id
                    )
                });
            }
            self.mark(&row, outcome).await;
        }
    }

    async fn send(&self, row: &OutboxRow) -> Outcome {
        let request = match request_for(&self.accounts, row) {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let mut builder = self.client.post(&request.url);
        builder = match &request.auth {
            Auth::Bearer(token) => builder.bearer_auth(token.expose()),
            Auth::Basic { user, password } => builder.basic_auth(user, Some(password.expose())),
        };
        builder = match &request.body {
            Body::Json(json) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json.to_string()),
            Body::Form(pairs) => builder.form(pairs),
        };
        let provider = provider_name(row.channel);
        match builder.send().await {
            Err(e) => Outcome::Retry(format!(
                "{provider} could not be reached: {}",
                error_chain(&e)
            )),
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                classify(provider, status.as_u16(), &body)
            }
        }
    }

    async fn mark(&self, row: &OutboxRow, outcome: Outcome) {
        let marked = match &outcome {
            Outcome::Sent => {
                self.hub
                    .outbox_mark_sent(row.id, &row.attempt_id, now_ms())
                    .await
            }
            Outcome::Dead(error) => {
                tracing::warn!(row = row.id, "a chat reply was refused for good: {error}");
                self.hub
                    .outbox_mark_dead(row.id, &row.attempt_id, error)
                    .await
            }
            Outcome::Retry(error) => {
                let wait = backoff(&self.settings, row.attempts);
                tracing::info!(
                    row = row.id,
                    attempts = row.attempts,
                    "a chat reply is tried again in {wait:?}: {error}"
                );
                self.hub
                    .outbox_mark_retry(row.id, &row.attempt_id, now_ms() + millis(wait), error)
                    .await
            }
        };
        match marked {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                row = row.id,
                "a chat reply's claim was lost before it was marked ({outcome:?}); its next \
                 claim decides"
            ),
            Err(e) => tracing::warn!(row = row.id, "a chat reply could not be marked: {e}"),
        }
    }

    /// How long to sleep: until the next row is due, at most `idle_check`.
    async fn until_next_due(&self) -> Duration {
        let idle = self.settings.idle_check;
        match self.hub.outbox_next_due().await {
            Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now_ms())).min(idle),
            Ok(None) => idle,
            Err(e) => {
                tracing::warn!("the chat outbox could not be read: {e}");
                idle
            }
        }
    }
}

/// An outbox row's payload, as the hub writes it.
#[derive(serde::Deserialize)]
struct Reply {
    to: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    text: String,
}

/// The provider's request for `row`, or why there is none.
pub fn request_for(
    accounts: &ChannelAccounts,
    row: &OutboxRow,
) -> Result<ProviderRequest, Outcome> {
    let reply: Reply = serde_json::from_str(&row.payload).map_err(|e| {
        Outcome::Dead(format!(
            "the reply could not be read ({e}); it was not sent"
        ))
    })?;
    // The config is read at start: a channel added to it (and a restart) sends what
    // waited, so a missing account is a wait, not a refusal.
    let missing = |key: &str| {
        Outcome::Retry(format!(
            "`chat.{key}` is not in the config file, so the reply waits; add it and restart"
        ))
    };
    match row.channel {
        Channel::WhatsApp => {
            let account = accounts
                .whatsapp
                .as_ref()
                .ok_or_else(|| missing("whatsapp"))?;
            Ok(whatsapp::reply(account, &reply.to, &reply.text))
        }
        Channel::Facebook => {
            let account = accounts
                .facebook
                .as_ref()
                .ok_or_else(|| missing("facebook"))?;
            Ok(facebook::reply(account, &reply.to, &reply.text))
        }
        Channel::Sms => {
            let account = accounts.sms.as_ref().ok_or_else(|| missing("sms"))?;
            let from = reply.from.filter(|f| !f.is_empty()).ok_or_else(|| {
                Outcome::Dead("the SMS reply names no office number to send from".into())
            })?;
            Ok(twilio_sms::reply(account, &from, &reply.to, &reply.text))
        }
        Channel::LiveChat => Err(Outcome::Dead(
            "a live-chat reply goes to the visitor's socket, not through a provider".into(),
        )),
    }
}

/// A provider's answer as an outcome: 2xx sent; 408, 429 and 5xx (and anything else)
/// tried again; other 4xx dead, with the provider's own words when it gave some.
pub fn classify(provider: &str, status: u16, body: &str) -> Outcome {
    match status {
        200..=299 => Outcome::Sent,
        408 | 429 => Outcome::Retry(format!("{provider} answered {status}; trying again later")),
        400..=499 => Outcome::Dead(format!(
            "{provider} refused the reply ({status}): {}",
            provider_words(body)
        )),
        _ => Outcome::Retry(format!(
            "{provider} answered {status}: {}",
            provider_words(body)
        )),
    }
}

/// The provider's error message: Meta's `error.message`, Twilio's `message`, else the
/// start of the body.
fn provider_words(body: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let words = json.as_ref().and_then(|j| {
        j.pointer("/error/message")
            .or_else(|| j.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_string)
    });
    let words = words.unwrap_or_else(|| body.trim().to_string());
    let mut cut: String = words.chars().take(300).collect();
    if cut.is_empty() {
        cut = "no reason given".into();
    }
    cut
}

/// The wait before the next try after `attempts` tries: 1 s, 2 s, 4 s, … capped.
pub fn backoff(settings: &SenderSettings, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    settings
        .first_retry
        .saturating_mul(1u32 << doublings)
        .min(settings.longest_retry)
}

fn provider_name(channel: Channel) -> &'static str {
    match channel {
        Channel::WhatsApp => "WhatsApp",
        Channel::Facebook => "Messenger",
        Channel::Sms => "Twilio",
        Channel::LiveChat => "live chat",
    }
}

/// An error with its causes ("error sending request: connection refused"), never a URL's
/// query or a header.
fn error_chain(e: &reqwest::Error) -> String {
    let mut words = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        words.push_str(": ");
        words.push_str(&s.to_string());
        source = s.source();
    }
    words
}

fn run_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // The clock alone still tells this run from the last.
        bytes = now_ms().to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(millis)
        .unwrap_or(0)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_one_second_doubling_up_to_five_minutes() {
        let s = SenderSettings::default();
        let waits: Vec<u64> = (1..=11).map(|a| backoff(&s, a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(&s, u32::MAX).as_secs(), 300);
    }

    #[test]
    fn a_4xx_is_dead_with_the_providers_words_but_429_and_5xx_are_retried() {
        let meta = r#"{"error":{"message":"(#131030) Recipient phone number not in allowed list","type":"OAuthException","code":131030}}"#;
        assert_eq!(
            classify("WhatsApp", 400, meta),
            Outcome::Dead(
                "WhatsApp refused the reply (400): (#131030) Recipient phone number not in \
                 allowed list"
                    .into()
            )
        );
        let twilio = r#"{"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "status": 400}"#;
        assert!(
            matches!(classify("Twilio", 400, twilio), Outcome::Dead(w) if w.contains("not a valid phone number"))
        );
        assert!(matches!(classify("Twilio", 429, ""), Outcome::Retry(_)));
        assert!(matches!(
            classify("Twilio", 503, "<html>"),
            Outcome::Retry(_)
        ));
        assert_eq!(classify("Messenger", 200, "{}"), Outcome::Sent);
    }
}
