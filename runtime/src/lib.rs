//! The runtime: everything that touches the outside world on the engine's behalf.
//!
//! Today it finds and reads plan folders and prompt folders from disk for `check`;
//! the SIP/RTP server, the SQLite store and the reload watcher join it next, all feeding
//! the one `switchboard_dsl::compile`.

pub mod plan_files;
