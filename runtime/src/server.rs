//! `switchboard run`: the server. It opens the store, loads and watches the plan, and
//! starts SIP, media and the HTTP API; then every incoming call runs as its own task
//! (`call_runner`) until the server is told to stop.
//!
//! Stopping (SIGTERM, Ctrl-C): new INVITEs get 503 at once and calls in progress are
//! let end, as a PBX's graceful stop does, up to the configured deadline
//! (`shutdown_deadline`). Calls still running then are hung up (a message being
//! recorded is still finished and stored), and the server waits for them to finish
//! (`FINISH_AFTER_HANG_UP`) before it closes SIP, the HTTP API and the store.
//!
//! Who owns what: the store thread (`StoreThread`) owns the one SQLite connection; the
//! call tasks, the lamp task and the registrar hold handles and only await it. The
//! tokio workers never run SQLite or an fsync.

use crate::call_log::CallLog;
use crate::call_runner::{CallBack, CallServices, run_call};
use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::http::{self, AppState};
use crate::media::session::Watch;
use crate::media::{PortPool, PromptLibrary};
use crate::plan_users::PlanUsers;
use crate::private_files;
use crate::reload::{self, PlanHolder};
use crate::sip::{PeerTrust, SipConfig, SipServer, TrunkAccounts, TrunkPeer};
use crate::sqlite_store::StoreThread;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use switchboard_dsl::ast::TrunkTrust;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a stopping server waits for the registrar's last changes to be stored.
const KEEP_REGISTRATIONS: Duration = Duration::from_secs(5);

/// How long calls get to finish after they were hung up at the shutdown deadline: a
/// recording in progress is fsynced and its message stored in that time.
pub const FINISH_AFTER_HANG_UP: Duration = Duration::from_secs(10);

/// What `run` takes beyond the admin's configuration: for tests, which read the calls
/// after the server stopped.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// The record of calls to keep; a fresh one when `None`. The caller's clone outlives
    /// the server, so what each call did can be read after it stopped.
    pub call_log: Option<Arc<CallLog>>,
}

/// Where the store lives inside the data folder.
pub fn store_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("switchboard.db")
}

/// What a running server listens on, for tests and the start-up log.
#[derive(Clone, Copy, Debug)]
pub struct Listening {
    pub sip: SocketAddr,
    pub http: SocketAddr,
}

/// Runs the server until `shutdown` is cancelled. `ready` hears the bound addresses
/// once everything listens.
pub async fn run(
    config: ServerConfig,
    shutdown: CancellationToken,
    ready: Option<tokio::sync::oneshot::Sender<Listening>>,
) -> Result<(), ServerError> {
    run_with(config, RunOptions::default(), shutdown, ready).await
}

/// `run` with `options`.
pub async fn run_with(
    config: ServerConfig,
    options: RunOptions,
    shutdown: CancellationToken,
    ready: Option<tokio::sync::oneshot::Sender<Listening>>,
) -> Result<(), ServerError> {
    // The data folder holds people's voices and credential digests: owner only, and a
    // folder left looser (by an older version, or an admin's umask) is tightened.
    let recordings = config.data_dir.join("recordings");
    for dir in [&config.data_dir, &recordings] {
        let found = private_files::dir(dir).map_err(|source| ServerError::DataDir {
            path: dir.clone(),
            source,
        })?;
        private_files::log(dir, found);
    }
    let db = store_path(&config.data_dir);
    let store = StoreThread::open(&db)
        .await
        .map_err(|source| ServerError::Store { path: db, source })?;

    let plans = Arc::new(
        PlanHolder::load_initial(&config.dialplans, &config.prompts).map_err(ServerError::Plan)?,
    );
    let _watch = reload::watch(plans.clone(), shutdown.clone().cancelled_owned())
        .map_err(ServerError::Watch)?;

    let prompts = Arc::new(PromptLibrary::new(config.prompts.clone()));
    let preloaded = prompts.preload().map_err(ServerError::Prompts)?;
    tracing::info!(
        "{preloaded} prompts loaded from {}",
        config.prompts.display()
    );

    let ports = PortPool::new(config.sip_addr.ip(), config.rtp_ports.clone())
        .map_err(ServerError::Ports)?;

    // SIP outlives the calls: it must still send their BYEs while the server stops.
    let sip_stop = CancellationToken::new();
    let trunks = trunk_peers(&plans.plan());
    let plan_users = Arc::new(PlanUsers {
        store: store.credentials(),
        plans: plans.clone(),
    });
    // The phones registered before this start ring at once, not after their next
    // REGISTER, up to two hours away; each change is kept from now on
    // (`kept_registrations`).
    let kept_registrations = crate::kept_registrations::restorable(
        &store,
        &plans,
        plan_users.as_ref(),
        &config.realm,
        &config.digest_algorithms,
    )
    .await;
    let (registration_changes, changes) = tokio::sync::mpsc::unbounded_channel();
    let keeper = tokio::spawn(crate::kept_registrations::keep(store.clone(), changes));
    let sip_config = SipConfig {
        addr: config.sip_addr,
        public_ip: config.public_ip,
        realm: config.realm.clone(),
        digest_algorithms: config.digest_algorithms.clone(),
        trunks,
        messages_per_source: config.sip_messages_per_source,
        kept_registrations,
        registration_changes: Some(registration_changes),
    };
    let (sip, mut incoming) = SipServer::start(sip_config, plan_users, sip_stop.clone())
        .await
        .map_err(ServerError::Sip)?;
    let sip = Arc::new(sip);
    // One record of the office's changes: the store thread bumps it for every committed
    // login, message or password, the registrar for every registration, and the editor's
    // event stream (`/api/events`) reads it.
    let office_changes = store.office_changes();
    sip.report_office_changes(office_changes.clone());
    tokio::spawn(forget_phones_of_changed_passwords(
        sip.clone(),
        store.watch_password_changes(),
    ));
    // The lamps follow hot-desk logins from the start, not only from the next change.
    match store.run(|store| store.hot_desk_logins()).await {
        Ok(Ok(logins)) => {
            for (device, extension) in logins {
                sip.set_hot_desk(&device, Some(&extension)).await;
            }
        }
        Ok(Err(e)) | Err(e) => tracing::warn!("hot-desk logins not read: {e}"),
    }
    let trunk_accounts = Arc::new(trunk_accounts(&config, &plans.plan()));
    tokio::spawn(follow_trunks(
        sip.clone(),
        trunk_accounts.clone(),
        plans.clone(),
        sip_stop.clone(),
    ));
    let registrations = sip.register_trunks(trunk_accounts.clone());
    tokio::spawn(light_lamps_on_register(
        sip.clone(),
        sip.watch_registrations(),
        store.clone(),
        plans.clone(),
    ));
    // A person's web sessions end when a reload takes their extension away.
    tokio::spawn(http::auth::end_sessions_outside_the_plan(
        store.clone(),
        plans.clone(),
    ));

    let calls = options.call_log.clone().unwrap_or_default();
    // HTTPS with a certificate; without one, plain HTTP on loopback only (`http::tls`).
    let tls = match config.tls() {
        Some(files) => {
            Some(http::tls::acceptor(&files.cert, &files.key).map_err(ServerError::Tls)?)
        }
        None => None,
    };
    let http_addr = match &tls {
        Some(_) => config.http_addr,
        None => {
            let (addr, moved) = http::tls::plain_http_addr(config.http_addr);
            if moved {
                tracing::warn!(
                    "{}",
                    http::tls::loopback_only_warning(config.http_addr, addr)
                );
            }
            addr
        }
    };
    let listener = http::bind(http_addr).await?;
    let listening = Listening {
        sip: sip.local_addr(),
        http: listener.local_addr().map_err(|source| ServerError::Http {
            addr: http_addr,
            source,
        })?,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    // The chat service, and the task that sends its replies to the providers (it stops
    // with the HTTP API; what it had not sent stays in the outbox for the next start).
    let chat = Arc::new(crate::chat::ChatHub::new(store.clone(), plans.clone()));
    let chat_sender_stop = CancellationToken::new();
    // With it, the task that fetches the customers' files from their providers; both
    // stop together and leave what they had not done for the next start.
    let chat_sender = {
        let channels = Arc::new(config.chat.channels.clone());
        tokio::spawn(futures_util::future::join(
            crate::chat_channels::outbox_sender::run(
                chat.clone(),
                channels.clone(),
                Default::default(),
                chat_sender_stop.clone(),
            ),
            crate::chat_channels::media_fetcher::run(
                chat.clone(),
                channels,
                Default::default(),
                chat_sender_stop.clone(),
            ),
        ))
    };
    let services = Arc::new(CallServices {
        plans: plans.clone(),
        store: store.clone(),
        prompts,
        ports: ports.clone(),
        recordings,
        calls: calls.clone(),
        sip: sip.clone(),
        next_id: AtomicU64::new(1),
        media_watch: Watch {
            inactivity: (!config.media_timeout.is_zero()).then_some(config.media_timeout),
        },
        trunks: trunk_accounts.clone(),
    });
    // Fired at the shutdown deadline: the calls still running then hang up.
    let hang_up = CancellationToken::new();
    let tasks = TaskTracker::new();
    // Click-to-call from the people's web client: calls like the SIP side's, in the
    // same tracker, hung up at the same deadline.
    let call_back = Arc::new(CallBack::new(
        services.clone(),
        hang_up.clone(),
        tasks.clone(),
    ));
    let app = http::app(AppState {
        plans: plans.clone(),
        calls: calls.clone(),
        hosts: Arc::new(http::HostNames::new(listening.http, &http_names(&config))),
        store: store.clone(),
        live: Some(http::LiveParts {
            sip: sip.clone(),
            ports: ports.clone(),
            trunks: trunk_accounts.clone(),
            call_back,
        }),
        auth: Arc::new(http::auth::Auth::new(http::auth::AuthSettings {
            tls: tls.is_some(),
            ..Default::default()
        })),
        office_changes,
        chat_config: Arc::new(config.chat.clone()),
        chat: chat.clone(),
    });
    // The API stays up while calls in progress end, so an admin can watch them go.
    let http_stop = CancellationToken::new();
    let http_task = tokio::spawn(http::serve_tls(
        listener,
        app,
        tls,
        http_stop.clone().cancelled_owned(),
    ));
    tracing::info!(
        "Switchboard is listening: SIP {} (UDP and TCP), HTTP {scheme}://{}, plan version {}",
        listening.sip,
        listening.http,
        plans.version()
    );
    if let Some(ready) = ready {
        let _ = ready.send(listening);
    }

    loop {
        tokio::select! {
            call = incoming.recv() => match call {
                Some(call) => {
                    tasks.spawn(run_call(services.clone(), call, hang_up.clone()));
                }
                None => break,
            },
            _ = shutdown.cancelled() => break,
        }
    }
    // Stopping: refuse new calls while the ones in progress end.
    tasks.close();
    let refuse = tokio::spawn(async move {
        while let Some(call) = incoming.recv().await {
            let _ = call.leg.reject(503).await;
        }
    });
    if !tasks.is_empty() {
        tracing::info!(
            "stopping: {} call(s) in progress may go on for up to {:?}",
            tasks.len(),
            config.shutdown_deadline
        );
    }
    if tokio::time::timeout(config.shutdown_deadline, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "{} call(s) still running after {:?}; hanging them up",
            tasks.len(),
            config.shutdown_deadline
        );
        hang_up.cancel();
        if tokio::time::timeout(FINISH_AFTER_HANG_UP, tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("{} call(s) did not finish; stopping anyway", tasks.len());
        }
    }
    // The providers are told we are gone while SIP still runs.
    registrations.stop().await;
    sip_stop.cancel();
    // The registrar's last changes reach the store before the next start reads them.
    sip.stop_reporting_registrations();
    if tokio::time::timeout(KEEP_REGISTRATIONS, keeper)
        .await
        .is_err()
    {
        tracing::warn!("the last registration changes were not kept for the next start");
    }
    refuse.abort();
    http_stop.cancel();
    chat_sender_stop.cancel();
    let _ = http_task.await;
    let _ = chat_sender.await;
    // The last handle: the store thread closes the database once this is dropped.
    drop(services);
    tracing::info!("Switchboard stopped");
    Ok(())
}

/// Forgets the phones registered as a user whose SIP password changed or went, here or
/// through `switchboard user set-password` beside the server: a phone that knew only the
/// old password (a stolen one, say) is no longer rung, and rings again once it registers
/// with the new one.
async fn forget_phones_of_changed_passwords(
    sip: Arc<SipServer>,
    mut changed: tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    while let Some(user) = changed.recv().await {
        sip.forget_registrations(&user).await;
        tracing::info!(%user, "the SIP password changed: phones registered with the old one are forgotten");
    }
}

/// The names the HTTP API answers to besides its own: `http-names`, and the host of
/// `chat.public-url`, which the chat providers send as `Host` when they call a webhook.
fn http_names(config: &ServerConfig) -> Vec<http::HostName> {
    let mut names = config.http_names.clone();
    names.extend(config.chat.channels.public_host());
    names
}

/// The trunks a plan names with a host: what the SIP server trusts by source address.
fn trunk_peers(plan: &switchboard_dsl::Plan) -> Vec<TrunkPeer> {
    plan.trunks
        .iter()
        .filter_map(|t| {
            t.host.as_ref().map(|h| TrunkPeer {
                name: t.name.name.clone(),
                host: h.clone(),
                trust: match &t.trust {
                    TrunkTrust::Address => PeerTrust::Address,
                    TrunkTrust::AddressOverTcp => PeerTrust::AddressOverTcp,
                    TrunkTrust::Digest { user } => PeerTrust::Digest {
                        user: user.name.clone(),
                    },
                },
            })
        })
        .collect()
}

/// The configured trunk accounts, each registering at its host in the plan unless the
/// configuration names a registrar.
fn trunk_accounts(config: &ServerConfig, plan: &switchboard_dsl::Plan) -> TrunkAccounts {
    for account in &config.trunks {
        if plan.trunk(&account.name).is_none() {
            tracing::warn!(
                trunk = %account.name,
                "the config has an account for a trunk the plan does not name; it registers, but no call uses it"
            );
        }
    }
    TrunkAccounts::new(config.trunks.iter().cloned(), trunk_hosts(plan))
}

/// Each trunk's `host` in `plan`, by trunk name.
fn trunk_hosts(plan: &switchboard_dsl::Plan) -> std::collections::BTreeMap<String, String> {
    plan.trunks
        .iter()
        .filter_map(|t| Some((t.name.name.clone(), t.host.clone()?)))
        .collect()
}

/// Each new plan version hands its trunks to the SIP server, so a trunk moved in the
/// plan is trusted at its new address from the next INVITE on, and to the accounts, so
/// one with no `registrar` of its own registers there from its next REGISTER: no
/// restart either way.
async fn follow_trunks(
    sip: Arc<SipServer>,
    accounts: Arc<TrunkAccounts>,
    plans: Arc<PlanHolder>,
    stop: CancellationToken,
) {
    let mut versions = plans.versions();
    loop {
        tokio::select! {
            changed = versions.changed() => if changed.is_err() { return },
            () = stop.cancelled() => return,
        }
        let plan = plans.plan();
        sip.set_trunks(&trunk_peers(&plan)).await;
        accounts.set_plan_hosts(trunk_hosts(&plan));
    }
}

/// A phone that registers (or refreshes its registration) hears its mailbox's counts at
/// once, so its message lamp is right after a reboot or a network outage, not only at
/// the next message.
async fn light_lamps_on_register(
    sip: Arc<SipServer>,
    mut registered: tokio::sync::mpsc::UnboundedReceiver<String>,
    store: StoreThread,
    plans: Arc<PlanHolder>,
) {
    while let Some(user) = registered.recv().await {
        // A hot-desk phone shows the mailbox of whoever is logged in on it.
        let ext = sip.hot_desk_extension(&user).unwrap_or(user);
        let has_mailbox = plans
            .plan()
            .extension(&ext)
            .is_some_and(|e| e.options.voicemail);
        if !has_mailbox {
            continue;
        }
        let mailbox = ext.clone();
        let counts = store
            .run(move |store| store.message_counts(&mailbox))
            .await
            .and_then(|counts| counts);
        match counts {
            Ok((new, saved)) => sip.notify_message_waiting(&ext, new, saved).await,
            Err(e) => tracing::warn!("message counts of {ext}: {e}"),
        }
    }
}
