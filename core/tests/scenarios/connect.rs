//! Reaching people: an extension that does not answer or is busy sends the caller to its
//! voicemail, a message survives the caller hanging up mid-recording, an empty queue
//! takes its `then`, and a trunk never dials what is not a proper number.

use crate::harness::{check, isolated};

const OFFICE: &str = r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno"
queue 800 "Sales" { agents 101; then -> play "sorry" then hangup }
trunk "main" { host "sip.carrier.example" }
dial "{ext:XXX}" -> extension ext
dial "9{n:X.}"   -> trunk "main" to "+{n}"
dial "8{n:X.}"   -> trunk "main" to n
"#;

#[test]
fn an_extension_that_rings_out_sends_the_caller_to_its_voicemail() {
    check(
        OFFICE,
        r#"
> call from 102 dial 101
ring 101
timer#0 20s
> timer
cancel-ring
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
~ -> nobody answered in time
> played
record
timer#1 3m
> press #
cancel-timer#1
stop-recording
> recorded rec-1 4000ms
message-waiting 101 new=1 saved=0
play#1 vm-saved
@ mailbox 101 new rec-1 from 102
> played
hangup normal
@ ended
"#,
    );
}

#[test]
fn a_busy_extension_sends_the_caller_to_its_voicemail() {
    check(
        OFFICE,
        r#"
> call from 102 dial 101
ring 101
timer#0 20s
> far-end busy
cancel-timer#0
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
~ -> busy
// The ring timer was cancelled: its late firing is stale.
> timer#0
~ ignored: timer 0 that is no longer running
"#,
    );
}

#[test]
fn a_caller_who_hangs_up_while_it_rings_stops_the_ringing() {
    check(
        OFFICE,
        r#"
> call from 102 dial 101
ring 101
timer#0 20s
> hangup
cancel-timer#0
cancel-ring
@ ended
> far-end answered
~ ignored: Answered from a far end while not ringing
"#,
    );
}

#[test]
fn the_longest_message_stops_the_recording_and_is_stored() {
    check(
        r#"
settings { max_recording = 1m }
extension 101 "Alice" { voicemail }
dial "*4{ext:XXX}" -> voicemail ext
"#,
        r#"
> call from 102 dial *4101
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
> played
record
timer#0 1m
// The timer that ran out is not running any more: nothing to cancel.
> timer
stop-recording
~ -> the longest recording
> recorded rec-1 60000ms
message-waiting 101 new=1 saved=0
play#1 vm-saved
@ mailbox 101 new rec-1 from 102
"#,
    );
}

#[test]
fn hanging_up_while_leaving_a_message_still_stores_it() {
    check(
        OFFICE,
        r#"
> call from 102 dial 101
ring 101
timer#0 20s
> far-end no-answer
cancel-timer#0
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
> played
record
timer#1 3m
> hangup
cancel-timer#1
stop-recording
~ -> the caller hung up while recording
@ waiting for the end of a recording
@ mailbox 101 new
> recorded rec-1 2500ms
message-waiting 101 new=1 saved=0
@ ended
@ mailbox 101 new rec-1 from 102
"#,
    );
}

#[test]
fn a_queue_with_nobody_logged_in_takes_its_then() {
    check(
        OFFICE,
        r#"
> call from 102 dial 800
answer
play#0 sorry
~ -> no agent is logged in
> played
hangup normal
"#,
    );
}

#[test]
fn queues_that_escalate_to_each_other_with_nobody_logged_in_end_the_call_with_an_error() {
    // Nobody answers either queue, at once, so each `then` leads to the other without
    // waiting for anything: the call must end like any plan that never waits, not take
    // the process down.
    isolated!(|| {
        check(
            r#"
extension 101 "Alice"
queue 700 "Tier 1" { agents 101; then -> queue 701 }
queue 701 "Tier 2" { agents 101; then -> queue 700 }
dial "{ext:XXX}" -> extension ext
"#,
            r#"
> call from 101 dial 700
hangup error
~ error:
@ ended
"#,
        )
    });
}

#[test]
fn a_trunk_never_dials_a_number_that_is_not_e164() {
    check(
        OFFICE,
        r#"
// +0...: a country code never starts with 0.
> call from 102 dial 90441234567
hangup not-found
~ error: "+0441234567" is not a number to dial out
// +1 and 6 digits: too short.
> call from 102 dial 91555123
hangup not-found
// +1 then 1: a US area code never starts with 0 or 1.
> call from 102 dial 911234567890
hangup not-found
// Neither E.164 nor a short service number.
> call from 102 dial 85551234
hangup not-found
~ error: "5551234" is not a number to dial out
// A proper number goes out.
> call from 102 dial 912605550123
dial-trunk main +12605550123
"#,
    );
}
