//! A call's life whatever happens: it keeps its plan across a reload, a failing script
//! or an endless plan ends it with an error, and events that make no sense change nothing.

use crate::harness::{check, check_reload};
use switchboard_core::call::MAX_STEPS_PER_EVENT;

// ---- reload -------------------------------------------------------------------------

#[test]
fn a_call_keeps_its_plan_across_a_reload_and_new_calls_get_the_new_one() {
    let a = r#"
flow f { answer; play "welcome-a"; play "bye-a"; hangup }
dial "500" -> flow f
"#;
    let b = r#"
flow f { answer; play "welcome-b"; play "bye-b"; hangup }
dial "500" -> flow f
"#;
    check_reload(
        &[a, b],
        r#"
> call from 101 dial 500
answer
play#0 welcome-a
@ plan 1
> reload
> [1] played
play#1 bye-a
@ plan 1
> call from 102 dial 500
answer
play#0 welcome-b
@ plan 2
> [1] played
hangup normal
@ ended
> [2] played
play#1 bye-b
"#,
    );
}

// ---- scripts and loops --------------------------------------------------------------

/// `spin` loops only for numbers none of the check's sample calls dials, so the check's
/// dry run does not meet its endless loop: the call does.
const SPIN: &str = r#"
script spin(n) {
    if dialled == "500" || dialled == "501" {
        loop { }
    }
    false
}
flow f {
    answer
    if spin(1) { play "never" }
    play "after"
}
dial "500" -> flow f
dial "501" when spin(1) -> play "vip" then hangup
dial "501" -> play "everyone" then hangup
"#;

#[test]
fn a_script_hitting_its_operation_limit_ends_the_call_with_an_error() {
    check(
        SPIN,
        r#"
> call from 101 dial 500
answer
hangup error
// The error names the step (the `if`) and the place in the script that looped.
~ t.dial:10:5 error: script at t.dial:4:14 hit a limit: it was stopped after 100000 operations
~ t.dial:10:5 ended: the plan could not go on
@ ended
"#,
    );
}

#[test]
fn a_route_whose_when_script_fails_is_skipped_for_the_next_route() {
    check(
        SPIN,
        r#"
> call from 101 dial 501
answer
play#0 everyone
~ error: script at t.dial:4:14 hit a limit: it was stopped after 100000 operations; the route is skipped
~ t.dial:15:6 route "501" matches 501
> played
hangup normal
"#,
    );
}

#[test]
fn a_plan_that_runs_too_long_without_waiting_ends_with_an_error() {
    // The check refuses circles of gotos that never wait; whatever it cannot see (here a
    // long loop that ends, but only after more steps than an event may take) the
    // engine's step limit stops.
    check(
        r#"
flow a {
    answer
    play "hello"
    repeat 100 times {
        repeat 100 times {
            set x = "1"
        }
    }
    hangup
}
dial "500" -> flow a
"#,
        &format!(
            r#"
> call from 101 dial 500
answer
play#0 hello
// The steps are counted per event: the call waited for the prompt, then looped.
> played
hangup error
~ error: the plan ran {MAX_STEPS_PER_EVENT} steps without waiting for the caller
@ ended
"#
        ),
    );
}

// ---- nonsense events ----------------------------------------------------------------

const ASK: &str = r#"
flow f {
    answer
    ask "enter-code" digits 2 -> code
    say digits code
    hangup
}
dial "500" -> flow f
"#;

#[test]
fn nonsense_while_asking_changes_nothing() {
    check(
        ASK,
        r#"
> call from 101 dial 500
answer
play#0 enter-code interruptible
// Not a key on a phone: it does not even stop an interruptible prompt.
> press x
~ ignored: a key that is not on a phone: 'x'
> played#7
~ ignored: the end of a prompt (7) that was never played
> recorded rec-9 1000ms
~ ignored: a recording (rec-9) nobody asked for
> far-end answered
~ ignored: Answered from a far end while not ringing
> timer#3
~ ignored: timer 3 that is no longer running
@ waiting for the caller's keys
> played
timer#0 5s
> press 1
cancel-timer#0
timer#1 5s
// The first timer was cancelled; its late firing is stale.
> timer#0
~ ignored: timer 0 that is no longer running
@ waiting for the caller's keys
> press 2
cancel-timer#1
play#1 digits/1 digits/2
"#,
    );
}

#[test]
fn nonsense_after_the_caller_hung_up_changes_nothing() {
    check(
        ASK,
        r#"
> call from 101 dial 500
answer
play#0 enter-code interruptible
> played
timer#0 5s
// The caller hung up: there is nobody to send a `Hangup` to.
> hangup
cancel-timer#0
@ ended
> press 1
~ ignored: a key while waiting for nothing: the call is over
> hangup
~ ignored: a hang-up after the call ended
> timer#0
~ ignored: timer 0 that is no longer running
// A prompt's end reported late is normal; one never played is not.
> played#0
> played#9
~ ignored: the end of a prompt (9) that was never played
> recorded rec-1 1000ms
~ ignored: a recording (rec-1) nobody asked for
> far-end busy
~ ignored: Busy from a far end while not ringing
> press x
~ ignored: a key that is not on a phone: 'x'
@ ended
"#,
    );
}

#[test]
fn nonsense_after_the_plan_hung_up_changes_nothing() {
    check(
        r#"dial "500" -> play "bye" then hangup"#,
        r#"
> call from 101 dial 500
answer
play#0 bye
> played
hangup normal
@ ended
> press 5
~ ignored: a key while waiting for nothing: the call is over
> played
> hangup
~ ignored: a hang-up after the call ended
> hangup
~ ignored: a hang-up after the call ended
@ ended
"#,
    );
}
