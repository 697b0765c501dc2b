//! Keeping each trunk registered at its provider: one task per account that asks for it
//! REGISTERs at start (answering the provider's 401/407 with the account's credentials,
//! through rsipstack's `Registration`), refreshes before the granted lifetime runs out,
//! backs off while it fails ([`Schedule`]), writes how it stands into
//! [`TrunkStatus`](super::trunk_status::TrunkStatus), and takes the registration back
//! (`Expires: 0`) when the server stops.
//!
//! The provider's host is resolved at each attempt, so a provider that moves is
//! followed; the request goes to the resolved next hop (its outbound proxy, else its
//! registrar) while the headers keep the registrar's name.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::Registration;
use rsipstack::sip::{StatusCodeKind, Uri};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::registrar::Transport;
use super::server::{Shared, SipServer, split_host_port};
use super::trunk_account::{TrunkAccount, TrunkAccounts};
use super::trunk_schedule::Schedule;
use super::trunk_status::RegistrationState;

/// How long a REGISTER may go unanswered before the attempt counts as failed (UDP
/// retransmits it meanwhile). Shorter than the stack's 32 s, so a silent provider shows
/// as failing while an admin looks.
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(5);
/// Why a trunk cannot register at all.
const NO_REGISTRAR: &str =
    "no registrar: the trunk has no host in the plan and no `registrar` in the config";
/// How long the un-REGISTER at shutdown may take.
const UNREGISTER_TIMEOUT: Duration = Duration::from_secs(2);

/// The registration tasks; [`TrunkRegistrations::stop`] ends them, each taking its
/// registration back.
pub struct TrunkRegistrations {
    tasks: JoinSet<()>,
    stop: CancellationToken,
}

impl TrunkRegistrations {
    /// Stops every task and waits (boundedly) for their un-REGISTERs.
    pub async fn stop(mut self) {
        self.stop.cancel();
        let all = async { while self.tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(UNREGISTER_TIMEOUT + Duration::from_secs(1), all).await;
    }
}

impl SipServer {
    /// Starts registering every account of `trunks` that asks for it; the others are
    /// marked disabled. Runs until [`TrunkRegistrations::stop`] or the server stops.
    pub fn register_trunks(&self, trunks: Arc<TrunkAccounts>) -> TrunkRegistrations {
        let stop = self.shared.stop.child_token();
        let mut tasks = JoinSet::new();
        for account in trunks.iter() {
            if !account.register {
                trunks
                    .status
                    .set(&account.name, RegistrationState::Disabled);
                continue;
            }
            trunks
                .status
                .set(&account.name, RegistrationState::Registering);
            tasks.spawn(keep_registered(
                self.shared.clone(),
                account.clone(),
                trunks.clone(),
                stop.clone(),
            ));
        }
        TrunkRegistrations { tasks, stop }
    }
}

/// Resolves `host[:port]` (port 5060 when none is given) to one address.
pub(super) async fn resolve(host_port: &str) -> Result<SocketAddr, String> {
    let (host, port) =
        split_host_port(host_port).ok_or_else(|| format!("`{host_port}` is not a host"))?;
    let port = port.unwrap_or(5060);
    if let Ok(ip) = host.parse() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))
}

/// One account's registration, until `stop`.
async fn keep_registered(
    shared: Arc<Shared>,
    account: TrunkAccount,
    trunks: Arc<TrunkAccounts>,
    stop: CancellationToken,
) {
    let name = account.name.clone();
    let mut schedule = Schedule::default();
    let fresh_registration = || {
        Registration::new(
            shared.endpoint.clone(),
            Some(Credential {
                username: account.username.clone(),
                password: account.password.expose().to_string(),
                realm: None,
                auth_username: None,
            }),
        )
    };
    let mut registration = fresh_registration();
    // Whether the provider holds a registration of ours, to take back at the end.
    let mut registered = false;
    // Where the last REGISTER went: the plan may move the trunk under us.
    let mut registrar = trunks.registrar(&account);
    loop {
        let now_at = trunks.registrar(&account);
        if now_at != registrar {
            info!(trunk = %name, from = ?registrar, to = ?now_at, "the trunk moved in the plan: registering at its new host");
            // A new dialog with the new registrar, its Contact learnt afresh.
            registration = fresh_registration();
            registrar = now_at;
        }
        let attempt = tokio::select! {
            _ = stop.cancelled() => break,
            a = register_once(&shared, &account, registrar.as_deref(), &mut registration) => a,
        };
        // A 200 granting no lifetime holds no registration: a failure, retried later.
        let attempt = attempt.and_then(|granted| {
            if granted.is_zero() {
                Err((Some(200), "the provider granted no lifetime".to_string()))
            } else {
                Ok(granted)
            }
        });
        let now = SystemTime::now();
        let wait = match attempt {
            Ok(granted) => {
                if !registered {
                    info!(trunk = %name, expires_secs = granted.as_secs(), "trunk registered at its provider");
                }
                trunks.status.registered(&name, granted, now);
                registered = true;
                schedule.registered(granted)
            }
            Err((status, reason)) => {
                let wait = schedule.failed();
                // The 1st, 2nd, 4th, 8th… failure in a row: a provider that stays down
                // does not fill the log.
                if schedule.failures().is_power_of_two() {
                    warn!(trunk = %name, %reason, retry_secs = wait.as_secs(), failures = schedule.failures(), "trunk registration failed");
                }
                trunks.status.failed(&name, status, reason, now, wait);
                registered = false;
                wait
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    if registered
        && let Some(registrar) = &registrar
        && let Ok(uri) = registration_uri(&account, registrar)
    {
        let taken_back =
            tokio::time::timeout(UNREGISTER_TIMEOUT, registration.register(uri, Some(0))).await;
        if !matches!(taken_back, Ok(Ok(ref r)) if r.status_code.kind() == StatusCodeKind::Successful)
        {
            info!(trunk = %name, "the provider did not confirm the un-registration");
        }
        trunks.status.set(&name, RegistrationState::Unregistered);
    }
}

/// One REGISTER (and its answer to a challenge): the lifetime granted, or the failure's
/// status (if the provider answered) and a reason for the admin.
async fn register_once(
    shared: &Shared,
    account: &TrunkAccount,
    registrar: Option<&str>,
    registration: &mut Registration,
) -> Result<Duration, (Option<u16>, String)> {
    let registrar = registrar.ok_or_else(|| (None, NO_REGISTRAR.to_string()))?;
    let uri = registration_uri(account, registrar).map_err(|e| (None, e))?;
    // Where requests go: the outbound proxy, else the registrar.
    let hop = account.outbound_proxy.as_deref().unwrap_or(registrar);
    let next_hop = resolve(hop).await.map_err(|e| (None, e))?;
    registration.outbound_proxy = Some(next_hop);
    // Set once: when a challenge shows the provider sees us at another address (NAT, or
    // our TCP connection's own port), rsipstack moves the Contact there, and every
    // REGISTER after keeps that one binding.
    if registration.contact.is_none() {
        let mut contact = shared.contact(account.transport, next_hop.ip());
        contact.auth = Some(rsipstack::sip::Auth {
            user: account.username.clone(),
            password: None,
        });
        registration.contact = Some(rsipstack::sip::typed::Contact {
            display_name: None,
            uri: contact,
            params: vec![],
        });
    }
    let expires = u32::try_from(account.expires.as_secs()).unwrap_or(u32::MAX);
    let answer =
        match tokio::time::timeout(REGISTER_TIMEOUT, registration.register(uri, Some(expires)))
            .await
        {
            Err(_) => {
                return Err((
                    None,
                    format!(
                        "no answer from {next_hop} within {}s",
                        REGISTER_TIMEOUT.as_secs()
                    ),
                ));
            }
            Ok(Err(e)) => return Err((None, format!("cannot reach {next_hop}: {e}"))),
            Ok(Ok(answer)) => answer,
        };
    let code = answer.status_code.code();
    if answer.status_code.kind() == StatusCodeKind::Successful {
        return Ok(Duration::from_secs(registration.expires().into()));
    }
    let reason = match code {
        401 | 407 => format!(
            "{} (the provider refused the username or password)",
            answer.status_code
        ),
        _ => answer.status_code.to_string(),
    };
    Err((Some(code), reason))
}

/// `sip:registrar[;transport=tcp]`: the REGISTER's Request-URI.
fn registration_uri(account: &TrunkAccount, registrar: &str) -> Result<Uri, String> {
    let transport = match account.transport {
        Transport::Udp => "",
        Transport::Tcp => ";transport=tcp",
    };
    Uri::try_from(format!("sip:{registrar}{transport}").as_str())
        .map_err(|e| format!("`{registrar}` is not a registrar address: {e}"))
}
