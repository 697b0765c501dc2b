//! `switchboard run`: the server. It opens the store, loads and watches the plan, and
//! starts SIP, media and the HTTP API; then every incoming call runs as its own task
//! (`call_runner`) until the server is told to stop.
//!
//! Stopping: new INVITEs get 503 at once, calls in progress are hung up (a message
//! being recorded is still finished and stored), and the server waits for them up to
//! the configured deadline before it closes SIP.

use crate::call_log::CallLog;
use crate::call_runner::{CallServices, run_call};
use crate::config::ServerConfig;
use crate::http::{self, AppState};
use crate::media::{PortPool, PromptLibrary};
use crate::reload::{self, PlanHolder};
use crate::sip::{CredentialStore, DigestAlgorithm, SipConfig, SipServer, TrunkPeer};
use crate::sqlite_store::SqliteStore;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use switchboard_core::store::Store;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
) -> Result<(), String> {
    let recordings = config.data_dir.join("recordings");
    std::fs::create_dir_all(&recordings).map_err(|e| {
        format!(
            "cannot create {}: {e}; set --data-dir",
            recordings.display()
        )
    })?;
    let mut store = SqliteStore::open(&store_path(&config.data_dir)).map_err(|e| e.to_string())?;
    store.clear_parked().map_err(|e| e.to_string())?;
    let store = Arc::new(Mutex::new(store));

    let plans = Arc::new(PlanHolder::load_initial(
        &config.dialplans,
        &config.prompts,
    )?);
    let _watch = reload::watch(plans.clone(), shutdown.clone().cancelled_owned())?;

    let prompts = Arc::new(PromptLibrary::new(config.prompts.clone()));
    let preloaded = prompts.preload().map_err(|e| e.to_string())?;
    tracing::info!(
        "{preloaded} prompts loaded from {}",
        config.prompts.display()
    );

    let media_ip = config
        .public_ip
        .unwrap_or_else(|| local_ip(config.sip_addr.ip()));
    let ports = PortPool::new(config.sip_addr.ip(), config.rtp_ports.clone())
        .map_err(|e| format!("{e}; set --rtp-ports"))?;

    // SIP outlives the calls: it must still send their BYEs while the server stops.
    let sip_stop = CancellationToken::new();
    let trunks = plans
        .plan()
        .trunks
        .iter()
        .filter_map(|t| {
            t.host.as_ref().map(|h| TrunkPeer {
                name: t.name.name.clone(),
                host: h.clone(),
            })
        })
        .collect();
    let sip_config = SipConfig {
        addr: config.sip_addr,
        public_ip: config.public_ip,
        realm: config.realm.clone(),
        digest_algorithms: config.digest_algorithms.clone(),
        trunks,
    };
    let credentials: Arc<dyn CredentialStore> = Arc::new(StoreCredentials(store.clone()));
    let (sip, mut incoming) = SipServer::start(sip_config, credentials, sip_stop.clone())
        .await
        .map_err(|e| format!("{e}; set --sip-addr"))?;
    let sip = Arc::new(sip);
    tokio::spawn(light_lamps_on_register(
        sip.clone(),
        sip.watch_registrations(),
        store.clone(),
        plans.clone(),
    ));

    let calls = Arc::new(CallLog::new());
    let listener = http::bind(config.http_addr).await?;
    let listening = Listening {
        sip: sip.local_addr(),
        http: listener.local_addr().map_err(|e| e.to_string())?,
    };
    let app = http::app(AppState {
        plans: plans.clone(),
        calls: calls.clone(),
    });
    let http_task = tokio::spawn(http::serve(
        listener,
        app,
        shutdown.clone().cancelled_owned(),
    ));
    tracing::info!(
        "Switchboard is listening: SIP {} (UDP and TCP), HTTP http://{}, plan version {}",
        listening.sip,
        listening.http,
        plans.version()
    );
    if let Some(ready) = ready {
        let _ = ready.send(listening);
    }

    let store: Arc<Mutex<dyn Store>> = store;
    let services = Arc::new(CallServices {
        plans,
        store,
        prompts,
        ports,
        recordings,
        media_ip,
        calls,
        sip,
        next_id: AtomicU64::new(1),
    });
    let tasks = TaskTracker::new();
    loop {
        tokio::select! {
            call = incoming.recv() => match call {
                Some(call) => {
                    tasks.spawn(run_call(services.clone(), call, shutdown.clone()));
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
    if tokio::time::timeout(config.shutdown_deadline, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "{} call(s) still running after {:?}; stopping anyway",
            tasks.len(),
            config.shutdown_deadline
        );
    }
    sip_stop.cancel();
    refuse.abort();
    let _ = http_task.await;
    tracing::info!("Switchboard stopped");
    Ok(())
}

/// A phone that registers (or refreshes its registration) hears its mailbox's counts at
/// once, so its message lamp is right after a reboot or a network outage, not only at
/// the next message.
async fn light_lamps_on_register(
    sip: Arc<SipServer>,
    mut registered: tokio::sync::mpsc::UnboundedReceiver<String>,
    store: Arc<Mutex<SqliteStore>>,
    plans: Arc<PlanHolder>,
) {
    while let Some(ext) = registered.recv().await {
        let has_mailbox = plans
            .plan()
            .extension(&ext)
            .is_some_and(|e| e.options.voicemail);
        if !has_mailbox {
            continue;
        }
        let counts = store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .message_counts(&ext);
        match counts {
            Ok((new, saved)) => sip.notify_message_waiting(&ext, new, saved).await,
            Err(e) => tracing::warn!("message counts of {ext}: {e}"),
        }
    }
}

/// The SIP registrar's view of the store: HA1 digests only.
struct StoreCredentials(Arc<Mutex<SqliteStore>>);

impl CredentialStore for StoreCredentials {
    fn ha1(&self, user: &str, realm: &str, algorithm: DigestAlgorithm) -> Option<String> {
        let store = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match store.ha1(user, realm, algorithm) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!("reading the credentials of {user} failed: {e}");
                None
            }
        }
    }
}

/// The address phones should send media to when none is configured: the bound address,
/// or for a wildcard bind the address of the interface the default route uses (found
/// without sending anything), else loopback.
fn local_ip(bound: IpAddr) -> IpAddr {
    if !bound.is_unspecified() {
        return bound;
    }
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| {
            s.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}
