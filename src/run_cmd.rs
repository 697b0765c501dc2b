//! `switchboard run`: the server on its embedded defaults, a YAML file (`--config`) and
//! flags overriding them in that order. SIGTERM or Ctrl-C stops it gracefully.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_runtime::config::{ConfigOverrides, ServerConfig};
use switchboard_runtime::server;
use tokio_util::sync::CancellationToken;

#[derive(Args)]
pub struct RunArgs {
    /// A YAML file of settings (keys like the flags: sip-addr, http-addr, rtp-ports, ...).
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    overrides: ConfigOverrides,
}

/// Where a command working on the server's data (`admin`, `user`) finds it: the same
/// `--config` file and flags as `run`, so it opens the store `run` uses.
#[derive(Args)]
pub struct Place {
    /// A YAML settings file, as for `run`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub flags: ConfigOverrides,
}

/// The configuration from defaults, file and flags, or the reason it was refused.
pub fn load_config(
    file: Option<&std::path::Path>,
    flags: &ConfigOverrides,
) -> Result<ServerConfig, String> {
    ServerConfig::load(file, flags).map_err(|e| e.to_string())
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
