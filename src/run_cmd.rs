//! `switchboard run`: the server on its embedded defaults, a YAML file (`--config`) and
//! flags overriding them in that order. SIGTERM or Ctrl-C stops it gracefully.

use clap::Args;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use switchboard_runtime::config::{
    ConfigOverrides, ServerConfig, parse_digest_algorithms, parse_duration, parse_port_range,
};
use switchboard_runtime::server;
use switchboard_runtime::sip::DigestAlgorithm;
use tokio_util::sync::CancellationToken;

#[derive(Args)]
pub struct RunArgs {
    /// A YAML file of settings (keys like the flags: sip-addr, http-addr, rtp-ports, ...).
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    overrides: ServerFlags,
}

/// The flags `run` and `user` share with the config file.
#[derive(Args)]
pub struct ServerFlags {
    /// SIP on UDP and TCP [default: 0.0.0.0:5060].
    #[arg(long)]
    sip_addr: Option<SocketAddr>,
    /// The HTTP API [default: 127.0.0.1:8080].
    #[arg(long)]
    http_addr: Option<SocketAddr>,
    /// RTP ports, like 10000-20000 [default: 10000-20000].
    #[arg(long, value_parser = parse_port_range)]
    rtp_ports: Option<RangeInclusive<u16>>,
    /// The SQLite store and recordings [default: var].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The plan folder [default: dialplans].
    #[arg(long)]
    dialplans: Option<PathBuf>,
    /// The prompts folder [default: prompts].
    #[arg(long)]
    prompts: Option<PathBuf>,
    /// The SIP digest realm [default: switchboard].
    #[arg(long)]
    realm: Option<String>,
    /// Digest algorithms to challenge with, like sha-256,md5 [default: md5].
    #[arg(long, value_parser = algorithms)]
    digest_algorithms: Option<Algorithms>,
    /// The address phones reach the server at, written into SDP and Contact.
    #[arg(long)]
    public_ip: Option<IpAddr>,
    /// How long calls in progress may take to end when stopping [default: 10s].
    #[arg(long, value_parser = parse_duration)]
    shutdown_deadline: Option<Duration>,
}

/// A list of digest algorithms as one flag value (clap would read a `Vec` as repeats).
#[derive(Clone)]
struct Algorithms(Vec<DigestAlgorithm>);

fn algorithms(text: &str) -> Result<Algorithms, String> {
    parse_digest_algorithms(text).map(Algorithms)
}

impl ServerFlags {
    fn overrides(&self) -> ConfigOverrides {
        ConfigOverrides {
            sip_addr: self.sip_addr,
            http_addr: self.http_addr,
            rtp_ports: self.rtp_ports.clone(),
            data_dir: self.data_dir.clone(),
            dialplans: self.dialplans.clone(),
            prompts: self.prompts.clone(),
            realm: self.realm.clone(),
            digest_algorithms: self.digest_algorithms.clone().map(|a| a.0),
            public_ip: self.public_ip,
            shutdown_deadline: self.shutdown_deadline,
        }
    }
}

/// The configuration from defaults, file and flags, or the reason it was refused.
pub fn load_config(
    file: Option<&std::path::Path>,
    flags: &ServerFlags,
) -> Result<ServerConfig, String> {
    ServerConfig::load(file, &flags.overrides()).map_err(|e| e.to_string())
}

pub fn run(args: RunArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // rsipstack logs every datagram at `info`; its warnings are what matter.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rsipstack=warn")),
        )
        .init();
    let config = match load_config(args.config.as_deref(), &args.overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        tokio::spawn(stop_on_signal(shutdown.clone()));
        match server::run(config, shutdown, None).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Cancels `shutdown` on SIGTERM or Ctrl-C (SIGINT).
async fn stop_on_signal(shutdown: CancellationToken) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            shutdown.cancel();
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
    }
    shutdown.cancel();
}
