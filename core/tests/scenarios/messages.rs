//! A message shorter than `min_message` (1 s unless the plan says otherwise) is
//! discarded: never stored, never counted, no lamp.

use crate::harness::check;

const VOICEMAIL: &str = r##"
extension 101 "Alice" { voicemail }
dial "5" -> voicemail "101"
flow leave {
    answer
    record message for "101" until "#"
    confirm
    play "after"
    hangup
}
dial "6" -> flow leave
"##;

#[test]
fn a_caller_who_hangs_up_at_the_beep_leaves_no_message() {
    check(
        VOICEMAIL,
        r##"
> call from 102 dial 5
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
> played
record
timer#0 3m
> hangup
cancel-timer#0
stop-recording
// 0.4 s of audio: discarded, and no message-waiting for the mailbox.
> recorded rec-1 400ms
discard rec-1
~ -> a message of 400ms is shorter than min_message (1s): discarded
@ mailbox 101 new
@ ended
"##,
    );
}

#[test]
fn a_message_of_one_second_is_kept() {
    check(
        VOICEMAIL,
        r##"
> call from 102 dial 5
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
> played
record
timer#0 3m
> hangup
cancel-timer#0
stop-recording
> recorded rec-1 1000ms
message-waiting 101 new=1 saved=0
~ recorded rec-1 1000ms
@ mailbox 101 new rec-1 from 102
@ ended
"##,
    );
}

#[test]
fn a_caller_who_ends_the_message_at_once_is_not_told_it_was_saved() {
    check(
        VOICEMAIL,
        r##"
> call from 102 dial 5
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
> played
record
timer#0 3m
> press #
cancel-timer#0
stop-recording
> recorded rec-1 120ms
discard rec-1
hangup normal
~ ended: the message was too short to keep
@ mailbox 101 new
"##,
    );
}

#[test]
fn a_short_message_recorded_in_a_flow_has_nothing_to_confirm() {
    check(
        VOICEMAIL,
        r##"
> call from 102 dial 6
answer
play#0 beep
> played
record
timer#0 3m
> press #
cancel-timer#0
stop-recording
> recorded rec-1 300ms
discard rec-1
play#1 after
~ nothing recorded to confirm
@ mailbox 101 new
"##,
    );
}

#[test]
fn min_message_zero_keeps_every_message() {
    check(
        r##"
settings { min_message = 0s }
extension 101 "Alice" { voicemail }
dial "5" -> voicemail "101"
"##,
        r##"
> call from 102 dial 5
answer
play#0 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
> played
record
timer#0 3m
> hangup
cancel-timer#0
stop-recording
> recorded rec-1 0ms
message-waiting 101 new=1 saved=0
@ mailbox 101 new rec-1 from 102
"##,
    );
}

#[test]
fn a_short_greeting_is_still_a_greeting() {
    // `min_message` is about messages left for someone; a greeting is the owner's own.
    check(
        r##"
extension 101 "Alice" { voicemail }
dial "7" -> record greeting until "#"
"##,
        r##"
> call from 101 dial 7
answer
play#0 beep
> played
record
timer#0 3m
> press #
cancel-timer#0
stop-recording
> recorded rec-1 500ms
hangup normal
~ recorded rec-1 500ms
"##,
    );
}
