//! The engines, sans-IO: a call as a state machine fed events that emits commands, chat
//! routing likewise, and the office's state behind a `Store` trait.
//!
//! Empty until the call-engine issue lands; the crate exists so the workspace already has
//! its final shape and `dsl` stays free of engine concerns.
