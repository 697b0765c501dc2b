//! The engines, sans-IO: a call is a state machine fed events that emits commands, and the
//! office's state (mailboxes, queue logins, hot desks, park orbits) lives behind a `Store`
//! trait.
//!
//! Nothing here touches a socket, a file or the clock: time arrives as timer events, and
//! every effect leaves as a command for the runtime (or the test runner) to carry out.

pub mod call;
pub mod chat;
pub mod command;
pub mod evaluate;
pub mod event;
pub mod ids;
pub mod numbers;
pub mod office;
pub mod pin;
pub mod store;
pub mod test_run;
pub mod trace;
pub mod world;
