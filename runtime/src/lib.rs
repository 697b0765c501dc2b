//! The runtime: everything that touches the outside world on the engine's behalf.
//!
//! Plan and prompt files on disk (`plan_files`), the SQLite store (`sqlite_store`), the
//! server's configuration (`config`), the plan watcher (`reload`), SIP signalling (`sip`),
//! RTP media (`media`), the HTTP API (`http`) and the record of live and recent calls
//! (`call_log`). All of them feed the one `switchboard_dsl::compile` and drive the
//! sans-IO `switchboard_core::call::Call`.

pub mod call_log;
pub mod call_runner;
pub mod chat;
pub mod chat_channels;
pub mod config;
pub mod error;
pub mod hex;
pub mod http;
pub mod ip_source;
pub mod kept_registrations;
pub mod log_budget;
pub mod media;
pub mod office_changes;
pub mod office_time;
pub mod password_policy;
pub mod plan_files;
pub mod plan_overlay;
pub mod plan_users;
pub mod private_files;
pub mod reload;
pub mod secret;
pub mod server;
pub mod simulation;
pub mod sip;
pub mod sqlite_store;
pub mod wall_clock;
