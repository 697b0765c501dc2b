//! The task that brings a customer's photos, documents, voice notes and videos in: it claims the due rows of
//! `chat_media` (queued with the customer's message), fetches each file from its
//! provider, and stores it as a chat file the agents open like their own — or, when the
//! file cannot be kept, leaves a note in its place saying why.
//!
//! Where the bytes are:
//! - **WhatsApp Cloud API**: the webhook names a media id. `GET {api-url}/{id}` with the
//!   access token answers `{url, mime_type, sha256, file_size}`; `GET url` with the same
//!   token answers the bytes. The url lives minutes, so it is asked for on every try.
//! - **Messenger**: the webhook's https link, fetched without credentials.
//! - **Twilio MMS**: `MediaUrl`, fetched with the account's basic auth (SID, auth token)
//!   when it is on the account's `api-url` (never sent elsewhere); Twilio answers with a
//!   redirect to its storage.
//!
//! What it guarantees, like the outbox sender (`outbox_sender`), whose pacing
//! (`SenderSettings`, `backoff`) and loop (`leased_worker`: claim, sleep, wake on the
//! hub's announcement of a provider customer's message, stop) it shares:
//! - **Never lost.** A file to fetch is a row from the moment its message is stored
//!   until it is stored or noted. A refused connection, a timeout, 408, 429, 5xx and
//!   Meta's limits are tried again after 1 s, 2 s, 4 s, … up to `longest_retry`; a start
//!   makes every waiting row due at once (a restart applies a fixed config).
//! - **Stored once.** A claim holds its rows under a fresh attempt id and a lease; only
//!   that attempt may store or mark one, and a row is claimed again only when due again
//!   or when its lease ran out (its fetcher died with the server). A fetch starts only
//!   while at least `request_timeout` of the lease is left.
//! - **Bounded.** A body is read in chunks and dropped past `max_bytes` (the chat files'
//!   10 MB): the file becomes a note asking the agent to have the customer send it
//!   another way, never retried. A type the office does not accept, or content that is
//!   not what its name says (a program named `.pdf`), becomes a note too: the checks are
//!   the chat files' own for a customer (`chat::file_types::check_customer_file`: the
//!   guide's types plus voice notes and videos). A redirect is followed at most
//!   `MAX_REDIRECTS` times and only to https.
//! - **Never inward.** A link, a redirect or a name resolving to this machine or a
//!   private network is not fetched, unless its host is a configured `api-url`'s
//!   (`addresses`): the file becomes a note.
//! - **Refusals are the provider's words.** Another 4xx (a media id unknown, a link
//!   expired) ends the row with a note quoting the provider.

mod addresses;
mod names;

pub use names::{named_by_link, named_by_type};

use super::config::ChannelAccounts;
use super::leased_worker::{self, LeasedWork, PassOnStop};
use super::outbox_sender::{self, SenderSettings, backoff, error_chain, millis, provider_words};
use super::webhooks::is_https_link;
use crate::chat::file_types::{FileRefusal, MAX_FILE_BYTES, check_customer_file};
use crate::chat::{ChatError, ChatEvent, ChatEventKind, ChatHub};
use crate::secret::Secret;
use crate::sqlite_store::chat_media::MediaJob;
use crate::wall_clock::now_ms;
use addresses::{InternalAddress, PublicAddressesOnly, TrustedHosts, refused_as_internal};
use std::sync::Arc;
use std::time::Duration;
use switchboard_dsl::ast::Channel;
use tokio_util::sync::CancellationToken;

/// The most redirects one fetch follows (Twilio answers its media link with one).
pub const MAX_REDIRECTS: usize = 3;

/// How the fetcher paces itself; `Default` is what the server runs with.
#[derive(Clone, Debug)]
pub struct FetcherSettings {
    /// Lease, timeouts, retries, batch and sleeps, as the outbox sender's.
    pub pacing: SenderSettings,
    /// The largest file kept: the chat files' limit.
    pub max_bytes: usize,
    /// Certificates (PEM) trusted besides the public roots, for a test's provider. The
    /// server passes none: no config key sets them yet, so an office whose proxy
    /// re-signs HTTPS with its own authority cannot fetch (nor send replies) through it.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for FetcherSettings {
    fn default() -> FetcherSettings {
        FetcherSettings {
            pacing: SenderSettings {
                // A 10 MB file on a slow link takes longer than a reply's request.
                request_timeout: Duration::from_secs(60),
                lease: Duration::from_secs(180),
                batch: 8,
                ..SenderSettings::default()
            },
            max_bytes: MAX_FILE_BYTES,
            extra_roots: Vec::new(),
        }
    }
}

/// What became of one try.
#[derive(Debug)]
enum Outcome {
    /// The bytes, named and checked.
    File {
        file: crate::chat::file_types::CheckedFile,
        bytes: Vec<u8>,
    },
    /// Not kept, for good: the agent's note.
    Note(String),
    /// Failed for now; the words say why, for the log.
    Retry(String),
    /// Failed until an admin acts (a refused access token): tried after the longest wait.
    WaitForAdmin(String),
}

/// Runs until `stop` is cancelled: claims due files, fetches them, stores or notes them.
/// A fetch in flight when `stop` comes is dropped; its row is claimed again once its
/// lease runs out.
pub async fn run(
    hub: Arc<ChatHub>,
    accounts: Arc<ChannelAccounts>,
    settings: FetcherSettings,
    stop: CancellationToken,
) {
    let trusted = TrustedHosts::of(
        [
            accounts.whatsapp.as_ref().map(|a| a.api_url.as_str()),
            accounts.facebook.as_ref().map(|a| a.api_url.as_str()),
            accounts.sms.as_ref().map(|a| a.api_url.as_str()),
        ]
        .into_iter()
        .flatten(),
    );
    let client = match http_client(&settings, &trusted) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("the customers' file fetcher cannot start its HTTP client: {e}");
            return;
        }
    };
    let fetcher = Fetcher {
        hub,
        accounts,
        settings,
        client,
        trusted,
    };
    // A fetch may take a minute (10 MB on a slow link): `stop` drops it rather than hold
    // the shutdown. Nothing is lost: its row is simply claimed again once its lease runs
    // out, and fetching a file twice sends the customer nothing.
    leased_worker::run_until_stopped(
        &fetcher,
        &fetcher.hub,
        may_carry_files,
        PassOnStop::Drop,
        &stop,
    )
    .await;
}

/// The fetcher's own HTTP client: rustls, a redirect followed only to https, at most
/// `MAX_REDIRECTS` times and never inward (reqwest drops the credentials on a redirect to
/// another host); names resolved to public addresses only (`addresses`).
fn http_client(
    settings: &FetcherSettings,
    trusted: &TrustedHosts,
) -> Result<reqwest::Client, reqwest::Error> {
    let hosts = trusted.clone();
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if attempt.url().scheme() != "https" {
            attempt.error("a redirect to a link that is not https")
        } else if let Some(host) = hosts.refused_host(attempt.url()) {
            attempt.error(InternalAddress(host))
        } else {
            attempt.follow()
        }
    });
    let timeout = settings.pacing.request_timeout;
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(redirects)
        // A redirect would tell the next host the link before it (Twilio's media link
        // names the account, message and media).
        .referer(false)
        .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")));
    if !addresses::proxy_in_use() {
        builder = builder.dns_resolver(Arc::new(PublicAddressesOnly(trusted.clone())));
    }
    for pem in &settings.extra_roots {
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem)?);
    }
    builder.build()
}

/// Whether the hub's event is a provider customer's message (a new conversation's or a
/// later one), which may carry files.
fn may_carry_files(event: &ChatEvent) -> bool {
    matches!(event.kind, ChatEventKind::Offered | ChatEventKind::Message)
        && event.channel != Channel::LiveChat
}

struct Fetcher {
    hub: Arc<ChatHub>,
    accounts: Arc<ChannelAccounts>,
    settings: FetcherSettings,
    client: reqwest::Client,
    /// The configured providers' hosts, fetched from wherever they are.
    trusted: TrustedHosts,
}

impl LeasedWork for Fetcher {
    const TABLE: &'static str = "the customers' files to fetch";
    const ROWS: &'static str = "customer files";
    const ATTEMPT_TAG: &'static str = "-media";

    fn pacing(&self) -> &SenderSettings {
        &self.settings.pacing
    }

    async fn make_waiting_due_now(&self, now_ms: u64) -> Result<usize, ChatError> {
        self.hub.media_retry_waiting_now(now_ms).await
    }

    /// One claim and its fetches; how many rows it claimed.
    async fn pass(&self, attempt: &str) -> usize {
        let pacing = &self.settings.pacing;
        let claimed_at = now_ms();
        let jobs = match self
            .hub
            .media_claim_due(claimed_at, millis(pacing.lease), attempt, pacing.batch)
            .await
        {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!("{} could not be read: {e}", Self::TABLE);
                return 0;
            }
        };
        let fetch_by = leased_worker::latest_start(claimed_at, pacing);
        let fetches = jobs.iter().map(|job| async move {
            let outcome = if now_ms() >= fetch_by {
                Outcome::Retry("the claim's lease ran short; fetched on the next pass".into())
            } else {
                self.fetch(job).await
            };
            self.finish(job, outcome).await;
        });
        futures_util::future::join_all(fetches).await;
        jobs.len()
    }

    async fn next_due(&self) -> Result<Option<u64>, ChatError> {
        self.hub.media_next_due().await
    }
}

impl Fetcher {
    async fn fetch(&self, job: &MediaJob) -> Outcome {
        let reference: serde_json::Value = serde_json::from_str(&job.reference).unwrap_or_default();
        let text = |key: &str| {
            reference
                .get(key)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let missing = |key: &str| {
            Outcome::Retry(format!(
                "`chat.{key}` is not in the config file, so the customer's file waits; add \
                 it and restart"
            ))
        };
        match job.channel {
            Channel::WhatsApp => {
                let Some(account) = self.accounts.whatsapp.as_ref() else {
                    return missing("whatsapp");
                };
                // A media id is one word (digits, as WhatsApp gives them): one with a `/`,
                // `.` or `?` in it would send the token to another Graph path.
                let Some(id) = text("id").filter(|id| {
                    id.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                }) else {
                    return no_reference();
                };
                let token = Auth::Bearer(&account.access_token);
                let info = format!("{}/{}", account.api_url, id);
                let answer = match self.get("WhatsApp", &info, &token).await {
                    Ok(r) => r,
                    Err(outcome) => return outcome,
                };
                let body = answer.text().await.unwrap_or_default();
                let media: serde_json::Value = match serde_json::from_str(&body) {
                    Ok(m) => m,
                    Err(e) => {
                        return Outcome::Retry(format!(
                            "WhatsApp's answer about media {id} is not its JSON: {e}"
                        ));
                    }
                };
                let mime = media
                    .get("mime_type")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
                    .or_else(|| text("content_type"));
                let name = text("filename").unwrap_or_else(|| named_by_type(mime.as_deref()));
                // `file_size` comes as a number or as a number in a string.
                let size = media.get("file_size").and_then(|s| {
                    s.as_u64()
                        .or_else(|| s.as_str().and_then(|s| s.trim().parse().ok()))
                });
                if size.is_some_and(|s| s > self.settings.max_bytes as u64) {
                    return too_large(&name);
                }
                let Some(url) = media.get("url").and_then(|u| u.as_str()) else {
                    return Outcome::Note(format!(
                        "The customer's file ({name}) could not be fetched: WhatsApp gave no \
                         link for it"
                    ));
                };
                if !is_https_link(url) {
                    return Outcome::Note(format!(
                        "The customer's file ({name}) could not be fetched: WhatsApp's link \
                         for it is not https"
                    ));
                }
                self.download("WhatsApp", url, &token, name).await
            }
            Channel::Facebook => {
                let kind = text("kind").unwrap_or_default();
                if !MESSENGER_FILE_KINDS.contains(&kind.as_str()) {
                    return not_a_file(&kind, text("url"));
                }
                let Some(url) = text("url").filter(|u| is_https_link(u)) else {
                    return no_reference();
                };
                let name = named_by_link(&url);
                self.download("Messenger", &url, &Auth::None, name).await
            }
            Channel::Sms => {
                let Some(account) = self.accounts.sms.as_ref() else {
                    return missing("sms");
                };
                let Some(url) = text("url").filter(|u| is_https_link(u)) else {
                    return no_reference();
                };
                let name = named_by_type(text("content_type").as_deref());
                // The account's credentials go to Twilio's API only: a media link
                // elsewhere (public media) is fetched without them.
                let auth = if url.starts_with(&format!("{}/", account.api_url)) {
                    Auth::Basic(&account.account_sid, &account.auth_token)
                } else {
                    Auth::None
                };
                self.download("Twilio", &url, &auth, name).await
            }
            Channel::LiveChat => {
                Outcome::Note("a live-chat visitor's file is not fetched from a provider".into())
            }
        }
    }

    /// `GET url`: the response when it is 2xx, else the outcome its status means.
    async fn get(
        &self,
        provider: &str,
        url: &str,
        auth: &Auth<'_>,
    ) -> Result<reqwest::Response, Outcome> {
        let refused = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| self.trusted.refused_host(&u));
        if let Some(host) = refused {
            return Err(Outcome::Note(format!(
                "The customer's file could not be fetched: {}",
                InternalAddress(host)
            )));
        }
        let mut request = self.client.get(url);
        request = match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password.expose())),
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Err(request_failed(provider, &e)),
        };
        let status = response.status().as_u16();
        if (200..=299).contains(&status) {
            return Ok(response);
        }
        let body = start_of_body(response, MAX_ERROR_BODY_BYTES).await;
        Err(match outbox_sender::classify(provider, status, &body) {
            outbox_sender::Outcome::Dead(_) => Outcome::Note(format!(
                "The customer's file could not be fetched: {provider} answered {status}: {}",
                provider_words(&body)
            )),
            outbox_sender::Outcome::WaitForAdmin(words) => Outcome::WaitForAdmin(words),
            outbox_sender::Outcome::Retry(words) => Outcome::Retry(words),
            outbox_sender::Outcome::Sent => Outcome::Retry(format!(
                "{provider} answered {status} to a file's fetch; trying again later"
            )),
        })
    }

    /// Fetches `url`'s bytes, at most `max_bytes` of them, and checks them as `name`.
    async fn download(&self, provider: &str, url: &str, auth: &Auth<'_>, name: String) -> Outcome {
        let mut response = match self.get(provider, url, auth).await {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let max = self.settings.max_bytes;
        if response.content_length().is_some_and(|l| l > max as u64) {
            return too_large(&name);
        }
        // A name from a link may not say what the file is; the answer's type does.
        let name = match (name.rsplit_once('.'), content_type(&response)) {
            (None, Some(mime)) => named_by_type(Some(&mime)),
            _ => name,
        };
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > max {
                        return too_large(&name);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Outcome::Retry(format!(
                        "{provider}'s file was cut off: {}",
                        error_chain(&e)
                    ));
                }
            }
        }
        match check_customer_file(&name, &bytes) {
            Ok(file) => Outcome::File { file, bytes },
            Err(FileRefusal::TooLarge { .. }) => too_large(&name),
            Err(refusal) => Outcome::Note(format!(
                "The customer sent a file the office does not accept ({name}): {refusal}"
            )),
        }
    }

    async fn finish(&self, job: &MediaJob, outcome: Outcome) {
        let pacing = &self.settings.pacing;
        let marked = match outcome {
            Outcome::File { file, bytes } => {
                self.hub.media_store_file(job, file, bytes, now_ms()).await
            }
            Outcome::Note(words) => {
                tracing::info!(
                    message = job.message_id,
                    "a customer's file is not kept: {words}"
                );
                self.hub.media_note(job, &words).await
            }
            Outcome::Retry(error) => {
                let wait = backoff(pacing, job.attempts);
                tracing::info!(
                    message = job.message_id,
                    attempts = job.attempts,
                    "a customer's file is fetched again in {wait:?}: {error}"
                );
                self.hub
                    .media_mark_retry(job, now_ms() + millis(wait), &error)
                    .await
            }
            Outcome::WaitForAdmin(error) => {
                let wait = pacing.longest_retry;
                tracing::warn!(
                    message = job.message_id,
                    "a customer's file is fetched again in {wait:?}: {error}"
                );
                self.hub
                    .media_mark_retry(job, now_ms() + millis(wait), &error)
                    .await
            }
        };
        match marked {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                message = job.message_id,
                "a customer file's claim was lost before it was marked; its next claim decides"
            ),
            Err(e) => tracing::warn!(
                message = job.message_id,
                "a customer's file could not be stored or marked (it is fetched again once \
                 its claim runs out): {e}"
            ),
        }
    }
}

/// The credentials of one provider's fetch.
enum Auth<'a> {
    None,
    Bearer(&'a Secret),
    Basic(&'a str, &'a Secret),
}

/// What a request that got no answer means: a note when its host (or a redirect's) is
/// internal or the redirect is one this server does not follow, else another try.
fn request_failed(provider: &str, e: &reqwest::Error) -> Outcome {
    if let Some(internal) = refused_as_internal(e) {
        Outcome::Note(format!(
            "The customer's file could not be fetched: {internal}"
        ))
    } else if e.is_redirect() {
        Outcome::Note(format!(
            "The customer's file could not be fetched: {provider} sent it elsewhere in a way \
             this server does not follow ({})",
            error_chain(e)
        ))
    } else {
        Outcome::Retry(format!(
            "{provider} could not be reached: {}",
            error_chain(e)
        ))
    }
}

fn too_large(name: &str) -> Outcome {
    Outcome::Note(format!(
        "The customer sent a file over 10 MB ({name}); ask them to send it another way"
    ))
}

/// The kinds of Messenger attachment that are the customer's file, on Meta's servers.
/// Any other (`fallback`: a link the customer shared; a template, a reel) names a page
/// the customer chose, anywhere: fetching it would let anyone with Messenger make this
/// server read any address, its own network's included.
const MESSENGER_FILE_KINDS: [&str; 4] = ["image", "audio", "video", "file"];

/// The note for a Messenger attachment that is not a file: what it was, and its link as
/// text for the agent (the webhook kept only https links).
fn not_a_file(kind: &str, url: Option<String>) -> Outcome {
    let what = match kind {
        "fallback" => "a link".to_string(),
        "" => "something".to_string(),
        _ => format!("a Messenger `{kind}`"),
    };
    let link = url.map(|u| format!(": {u}")).unwrap_or_default();
    Outcome::Note(format!(
        "The customer shared {what}, not a file; it is not fetched{link}"
    ))
}

fn no_reference() -> Outcome {
    Outcome::Note(
        "The customer's file could not be fetched: the provider's message named no https \
         link or media id for it"
            .into(),
    )
}

/// The most of an error answer read for the provider's words (they are cut to 300
/// characters anyway): a link may name any host, whose error page may never end.
const MAX_ERROR_BODY_BYTES: usize = 16 * 1024;

/// The first `max` bytes of `response`'s body as text, the rest left unread; what came
/// before the body broke off, if it did.
async fn start_of_body(mut response: reqwest::Response, max: usize) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < max {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(max);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The answer's type without its parameters (`image/jpeg`).
fn content_type(response: &reqwest::Response) -> Option<String> {
    let value = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let mime = value.split(';').next()?.trim().to_ascii_lowercase();
    (!mime.is_empty()).then_some(mime)
}
