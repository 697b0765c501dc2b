//! The task that delivers the agents' replies: it claims due rows of the hub's outbox,
//! sends each to its provider's API (`whatsapp`, `facebook`, `twilio_sms` build the
//! request), and marks it sent, dead or due again.
//!
//! What it guarantees:
//! - **Never lost.** A reply is a row in SQLite from the moment the agent's message is
//!   stored (same transaction) until the provider accepted it (2xx) or refused it for good
//!   (a 4xx that is not a limit or a temporary fault: dead, the provider's words kept for
//!   the agent; see `classify`). Anything else (a refused connection, a timeout, 5xx, 408,
//!   429, Meta's rate-limit and temporary error codes, Twilio's 20429) is tried again after
//!   1 s, 2 s, 4 s, … up to 5 min between tries, for as long as it takes, restarts
//!   included. A refused access token waits the longest time between tries, with words
//!   for the admin (set a new token in the config file and restart); a sender's start
//!   makes every waiting reply due at once, so the restart sends what waited.
//! - **Not sent twice by two senders.** Each claim takes rows under a fresh attempt id and
//!   a lease (`LEASE`); only that attempt may mark them, and a row is claimed again only
//!   when it is due again or its lease ran out (its sender died with the server). A row
//!   is sent only while at least `request_timeout` of its lease is left, so a live
//!   sender never overlaps one that re-claimed it.
//! - **Where a customer can get a reply twice.** A request whose answer never came back
//!   (a timeout, a connection cut after the request went out) is tried again: the
//!   provider may have taken it, but a lost reply is worse than a duplicate. The same
//!   holds when the server dies after the provider accepted a request and before the row
//!   was marked sent (one store transaction, milliseconds): the row goes again once its
//!   lease runs out. Every request carries `Idempotency-Key: switchboard-outbox-<row
//!   id>-<message id>`, the same on every try of one row; WhatsApp's, Messenger's and
//!   Twilio's send APIs do not document honouring such a key (Twilio's
//!   `I-Twilio-Idempotency-Token` is a header of its webhooks, not of its API), so it
//!   prevents a duplicate only behind a gateway that honours it; elsewhere it is ignored.
//! - **In order per customer.** A reply is not claimed while an earlier one to the same
//!   customer is unsent and not dead (waiting for its next try, or in flight): the claim
//!   itself checks (`sqlite_store::chat_outbox`). The rows of one claim to one customer
//!   go one after the other; when one fails, the later ones wait for it.
//!
//! How it claims, sleeps, wakes and stops is the loop it shares with the media fetcher
//! (`leased_worker`); it wakes on the hub's announcement of a message (an agent's reply
//! may have queued a row) or of a failed reply queued again.

use super::config::ChannelAccounts;
use super::leased_worker::{self, LeasedWork, PassOnStop};
use super::provider_request::{Auth, Body, ProviderRequest};
use super::{facebook, twilio_sms, whatsapp};
use crate::chat::{ChatError, ChatEvent, ChatEventKind, ChatHub, OutboxRow};
use crate::wall_clock::now_ms;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
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
    /// Failed until an admin acts (the provider refused the access token): tried again
    /// only after the longest wait, so a fixed token and a restart send what waited
    /// without hammering the provider meanwhile. The words are the admin's to-do.
    WaitForAdmin(String),
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
    };
    // A pass finishes before `stop` is looked at: a reply being sent when the server stops
    // is marked sent (or due again) now, so it does not go to the customer a second time
    // once its lease runs out.
    leased_worker::run_until_stopped(
        &sender,
        &sender.hub,
        may_have_queued_a_reply,
        PassOnStop::Finish,
        &stop,
    )
    .await;
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

/// Whether the hub's event may have queued a reply: a provider conversation's message
/// (an agent's reply is announced like a customer's) or a failed reply queued again.
fn may_have_queued_a_reply(event: &ChatEvent) -> bool {
    (event.kind == ChatEventKind::Message && event.channel != Channel::LiveChat)
        || event.kind == (ChatEventKind::Delivery { requeued: true })
}

struct Sender {
    hub: Arc<ChatHub>,
    accounts: Arc<ChannelAccounts>,
    settings: SenderSettings,
    client: reqwest::Client,
}

impl LeasedWork for Sender {
    const TABLE: &'static str = "the chat outbox";
    const ROWS: &'static str = "chat replies";
    const ATTEMPT_TAG: &'static str = "";

    fn pacing(&self) -> &SenderSettings {
        &self.settings
    }

    async fn make_waiting_due_now(&self, now_ms: u64) -> Result<usize, ChatError> {
        self.hub.outbox_retry_waiting_now(now_ms).await
    }

    /// One claim and its sends; how many rows it claimed.
    async fn pass(&self, attempt: &str) -> usize {
        let claimed_at = now_ms();
        let rows = match self
            .hub
            .outbox_claim_due(
                claimed_at,
                millis(self.settings.lease),
                attempt,
                self.settings.batch,
            )
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!("{} could not be read: {e}", Self::TABLE);
                return 0;
            }
        };
        let claimed = rows.len();
        let send_by = leased_worker::latest_start(claimed_at, &self.settings);
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

    async fn next_due(&self) -> Result<Option<u64>, ChatError> {
        self.hub.outbox_next_due().await
    }
}

impl Sender {
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
            if let Outcome::Retry(_) | Outcome::WaitForAdmin(_) = &outcome {
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
        let request = match request_for(&self.hub, &self.accounts, row).await {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let mut builder = self
            .client
            .post(&request.url)
            .header("Idempotency-Key", idempotency_key(row));
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
            Outcome::WaitForAdmin(error) => {
                let wait = self.settings.longest_retry;
                tracing::warn!(
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
}

/// An outbox row's payload, as the hub writes it.
#[derive(serde::Deserialize)]
struct Reply {
    to: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    text: String,
    /// The file an agent sent (`chat::files::attachment_json`), if any.
    #[serde(default)]
    attachment: Option<crate::chat::files::StoredAttachment>,
}

/// The provider's request for `row`, or why there is none. A file goes as a link on
/// `chat.public-url` that the provider fetches, signed now for a day: signed when sent,
/// not when queued, so a reply that waited (a provider down, a restart) still carries a
/// link that works.
pub async fn request_for(
    hub: &ChatHub,
    accounts: &ChannelAccounts,
    row: &OutboxRow,
) -> Result<ProviderRequest, Outcome> {
    use crate::chat::file_links::{FileLink, PROVIDER_LINK_SECS};
    let reply: Reply = serde_json::from_str(&row.payload).map_err(|e| {
        Outcome::Dead(format!(
            "the reply could not be read ({e}); it was not sent"
        ))
    })?;
    let file = match &reply.attachment {
        None => None,
        Some(a) => {
            let public_url = accounts.public_url.as_deref().ok_or_else(|| {
                Outcome::Retry(
                    "`chat.public-url` is not in the config file, so the file waits (the \
                     provider fetches it from there); add it and restart"
                        .into(),
                )
            })?;
            let key = hub.link_key().await.map_err(Outcome::Retry)?;
            let expires = now_ms() / 1000 + PROVIDER_LINK_SECS;
            Some(FileLink {
                url: format!("{public_url}{}", key.link(a.id, expires)),
                name: a.name.clone(),
                content_type: a.content_type.clone(),
            })
        }
    };
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
            Ok(match &file {
                Some(file) => whatsapp::file_reply(account, &reply.to, &reply.text, file),
                None => whatsapp::reply(account, &reply.to, &reply.text),
            })
        }
        Channel::Facebook => {
            let account = accounts
                .facebook
                .as_ref()
                .ok_or_else(|| missing("facebook"))?;
            match &file {
                // Messenger takes a text or an attachment per message: the hub's files
                // carry no text, so this is a payload written otherwise; say so rather
                // than drop the words.
                Some(_) if !reply.text.is_empty() => Err(Outcome::Dead(
                    "Messenger sends a file or a text in one message, not both; send the \
                     text as a reply of its own"
                        .into(),
                )),
                Some(file) => Ok(facebook::file_reply(account, &reply.to, file)),
                None => Ok(facebook::reply(account, &reply.to, &reply.text)),
            }
        }
        Channel::Sms => {
            let account = accounts.sms.as_ref().ok_or_else(|| missing("sms"))?;
            let from = reply.from.filter(|f| !f.is_empty()).ok_or_else(|| {
                Outcome::Dead("the SMS reply names no office number to send from".into())
            })?;
            Ok(match &file {
                Some(file) => twilio_sms::file_reply(account, &from, &reply.to, &reply.text, file),
                None => twilio_sms::reply(account, &from, &reply.to, &reply.text),
            })
        }
        Channel::LiveChat => Err(Outcome::Dead(
            "a live-chat reply goes to the visitor's socket, not through a provider".into(),
        )),
    }
}

/// A provider's answer as an outcome: 2xx sent; a refused access token waits for the
/// admin; Meta's rate, spam and temporary errors, Twilio's 20429, 408, 429 and 5xx (and
/// anything else) tried again; other 4xx dead, with the provider's own words when it gave
/// some.
///
/// Meta answers most errors 400 whatever they mean, so its `error.code` decides, not the
/// status (the Graph API's error handling guide and the WhatsApp Cloud API's error codes):
/// 1 (API Unknown) and 2 (API Service) are temporary; 4 (too many calls), 80007 (the
/// business account's rate limit), 130429 (throughput), 131048 (spam rate limit) and
/// 131056 (the pair rate to one customer) are limits that pass; 190 is an access token
/// expired or revoked.
pub fn classify(provider: &str, status: u16, body: &str) -> Outcome {
    if (200..=299).contains(&status) {
        return Outcome::Sent;
    }
    let code = error_code(body);
    let meta = matches!(provider, "WhatsApp" | "Messenger");
    let words = || provider_words(body);
    match code {
        Some(190) if meta => {
            let (token, key) = if provider == "WhatsApp" {
                ("WhatsApp access token", "chat.whatsapp.access-token")
            } else {
                (
                    "Messenger page access token",
                    "chat.facebook.page-access-token",
                )
            };
            return Outcome::WaitForAdmin(format!(
                "the {token} was refused; set a new one in the config file and restart; the \
                 reply waits (`{key}`; {provider} answered {status}: {})",
                words()
            ));
        }
        Some(c) if meta && META_LIMITS.contains(&c) => {
            return Outcome::Retry(format!(
                "{provider} is limiting how fast it takes messages ({status}, code {c}): {}; \
                 trying again later",
                words()
            ));
        }
        Some(c) if meta && META_TEMPORARY.contains(&c) => {
            return Outcome::Retry(format!(
                "{provider} had a temporary problem ({status}, code {c}): {}; trying again later",
                words()
            ));
        }
        // Twilio's "Authenticate": the account SID and auth token do not match (a token
        // rotated in the console). Every reply would die of it; they wait for the admin.
        Some(TWILIO_AUTHENTICATE) if provider == "Twilio" => {
            return Outcome::WaitForAdmin(format!(
                "the Twilio auth token was refused; set the account's current one in the \
                 config file and restart; the reply waits (`chat.sms.auth-token`; Twilio \
                 answered {status}: {})",
                words()
            ));
        }
        Some(TWILIO_TOO_MANY_REQUESTS) if provider == "Twilio" => {
            return Outcome::Retry(format!(
                "{provider} is limiting how fast it takes messages ({status}, code \
                 {TWILIO_TOO_MANY_REQUESTS}): {}; trying again later",
                words()
            ));
        }
        _ => {}
    }
    match status {
        408 | 429 => Outcome::Retry(format!("{provider} answered {status}; trying again later")),
        400..=499 => Outcome::Dead(format!(
            "{provider} refused the reply ({status}): {}",
            words()
        )),
        _ => Outcome::Retry(format!("{provider} answered {status}: {}", words())),
    }
}

/// Meta's error codes for limits that pass with time.
const META_LIMITS: [i64; 5] = [4, 80007, 130429, 131048, 131056];
/// Meta's error codes for its own temporary trouble.
const META_TEMPORARY: [i64; 2] = [1, 2];
/// Twilio's "Too Many Requests".
const TWILIO_TOO_MANY_REQUESTS: i64 = 20429;
/// Twilio's "Authenticate": the request's account SID and auth token were refused.
const TWILIO_AUTHENTICATE: i64 = 20003;

/// The provider's error code: Meta's `error.code`, Twilio's `code` (a number, or a number
/// written as a string).
fn error_code(body: &str) -> Option<i64> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    let code = json.pointer("/error/code").or_else(|| json.get("code"))?;
    code.as_i64()
        .or_else(|| code.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The provider's error message: Meta's `error.message`, Twilio's `message`, else the
/// start of the body.
pub(crate) fn provider_words(body: &str) -> String {
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

/// The `Idempotency-Key` of every request for `row`: the same on each try of that row,
/// different for every other reply. None of the three providers documents honouring it on
/// its send API; it is there for a gateway in between that does (see the module's doc).
pub fn idempotency_key(row: &OutboxRow) -> String {
    format!(
        "switchboard-outbox-{}-{}",
        row.id,
        row.message_id.unwrap_or(0)
    )
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
pub(crate) fn error_chain(e: &reqwest::Error) -> String {
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

pub(crate) fn millis(d: Duration) -> u64 {
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

    /// Meta answers its limits 400 (sometimes 429): each code in the shape the Graph API
    /// sends it is tried again, with Meta's words.
    #[test]
    fn metas_rate_spam_and_temporary_errors_are_retried_whatever_the_status() {
        let bodies = [
            (
                400,
                r#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there were too many messages sent from this phone number in a short period of time"},"error_subcode":2494055,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#,
                "(#130429) Rate limit hit",
            ),
            (
                400,
                r#"{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","type":"OAuthException","code":131056,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."},"fbtrace_id":"AvHb1TqCQ7EoXn3Bns4sEz5"}}"#,
                "pair rate limit hit",
            ),
            (
                400,
                r#"{"error":{"message":"(#131048) Spam rate limit hit","type":"OAuthException","code":131048,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam."},"fbtrace_id":"A1pGk2b7rTqz0c9fPq3wXyZ"}}"#,
                "(#131048) Spam rate limit hit",
            ),
            (
                400,
                r#"{"error":{"message":"(#80007) There have been too many calls to this WhatsApp Business account. Wait a bit and try again.","type":"OAuthException","code":80007,"fbtrace_id":"AbCdEfGhIjKlMnOpQrStUvW"}}"#,
                "(#80007) There have been too many calls",
            ),
            (
                400,
                r#"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","is_transient":true,"code":4,"fbtrace_id":"H2qcJ4bQ0nV"}}"#,
                "(#4) Application request limit reached",
            ),
            (
                429,
                r#"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","is_transient":true,"code":4,"fbtrace_id":"H2qcJ4bQ0nV"}}"#,
                "(#4) Application request limit reached",
            ),
            (
                400,
                r#"{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"ADhq7c3sVbE"}}"#,
                "Please retry your request later",
            ),
            (
                400,
                r#"{"error":{"message":"An unknown error has occurred.","type":"OAuthException","code":1,"error_subcode":99,"fbtrace_id":"AyX3bQ9d0Ws"}}"#,
                "An unknown error has occurred.",
            ),
        ];
        for provider in ["WhatsApp", "Messenger"] {
            for (status, body, words) in bodies {
                match classify(provider, status, body) {
                    Outcome::Retry(w) => {
                        assert!(w.contains(words), "{provider} {status}: {w}");
                        assert!(w.contains("trying again later"), "{w}");
                    }
                    other => panic!("{provider} {status} {body}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_refused_access_token_waits_for_the_admin_with_words_saying_what_to_do() {
        let expired = r#"{"error":{"message":"Error validating access token: Session has expired on Tuesday, 12-Mar-24 10:00:00 PDT. The current time is Wednesday, 13-Mar-24 02:00:00 PDT.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbZx19q2LkE"}}"#;
        let invalid = r#"{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"Ag6RmBq0xQ1"}}"#;
        for (status, body) in [(401, expired), (400, invalid)] {
            let Outcome::WaitForAdmin(words) = classify("WhatsApp", status, body) else {
                panic!("{status}: {:?}", classify("WhatsApp", status, body));
            };
            assert!(
                words.starts_with(
                    "the WhatsApp access token was refused; set a new one in the config file \
                     and restart; the reply waits"
                ),
                "{words}"
            );
            assert!(words.contains("chat.whatsapp.access-token"), "{words}");
        }
        let Outcome::WaitForAdmin(words) = classify("Messenger", 400, invalid) else {
            panic!("Messenger's refused token is not a wait for the admin");
        };
        assert!(
            words.starts_with("the Messenger page access token was refused"),
            "{words}"
        );
        assert!(words.contains("Cannot parse access token"), "{words}");
    }

    #[test]
    fn twilios_too_many_requests_is_retried_and_its_other_refusals_are_not() {
        let too_many = r#"{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}"#;
        for status in [429, 400] {
            assert!(
                matches!(classify("Twilio", status, too_many), Outcome::Retry(w) if w.contains("20429")),
                "{status}"
            );
        }
        // Twilio's codes are its own: a Meta code number in a Twilio refusal means nothing.
        let refused = r#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}"#;
        assert!(matches!(
            classify("Twilio", 400, refused),
            Outcome::Dead(w) if w.contains("unsubscribed recipient")
        ));
    }

    #[test]
    fn twilios_refused_auth_token_waits_for_the_admin() {
        let refused = r#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#;
        let Outcome::WaitForAdmin(words) = classify("Twilio", 401, refused) else {
            panic!("{:?}", classify("Twilio", 401, refused));
        };
        assert!(
            words.starts_with("the Twilio auth token was refused")
                && words.contains("chat.sms.auth-token"),
            "{words}"
        );
    }

    #[test]
    fn the_idempotency_key_is_the_rows_own() {
        let row = |id, message_id| OutboxRow {
            id,
            message_id,
            channel: Channel::WhatsApp,
            payload: "{}".into(),
            attempts: 1,
            attempt_id: "a".into(),
        };
        assert_eq!(
            idempotency_key(&row(7, Some(42))),
            "switchboard-outbox-7-42"
        );
        assert_eq!(idempotency_key(&row(7, None)), "switchboard-outbox-7-0");
        assert_ne!(
            idempotency_key(&row(8, Some(42))),
            idempotency_key(&row(7, Some(42)))
        );
    }
}
