//! The web editor: edit, check, test and simulate a plan in the browser, through the same
//! `switchboard_dsl::compile` the server uses.
//!
//! Empty until the editor issue lands; the crate reserves its place in the workspace.
