//! Scenario tests of the call engine's invariants: a plan, the events a runtime reports,
//! and exactly the commands the call must emit, all through `harness::check`.
//!
//! The call is driven directly with a `MemoryStore`, not through the simulated `World`:
//! here nothing finishes on its own, so the transcript decides when a prompt ends, a
//! timer fires or a recording is stored, and barge-in and timing become visible.

#[path = "scenarios/harness.rs"]
mod harness;

#[path = "scenarios/input.rs"]
mod input;

#[path = "scenarios/typeahead.rs"]
mod typeahead;

#[path = "scenarios/secrets.rs"]
mod secrets;

#[path = "scenarios/messages.rs"]
mod messages;

#[path = "scenarios/lifecycle.rs"]
mod lifecycle;

#[path = "scenarios/connect.rs"]
mod connect;

#[path = "scenarios/queues.rs"]
mod queues;

#[path = "scenarios/random.rs"]
mod random;

#[path = "scenarios/pin_lock.rs"]
mod pin_lock;

#[path = "scenarios/toll_fraud.rs"]
mod toll_fraud;
