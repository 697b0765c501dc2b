//! Keys typed ahead: pressed while no question collects digits, kept (at most 32) for the
//! next one, and forgotten where a caller would no longer mean them for it (see
//! `core/src/call/typeahead.rs`).

use crate::harness::check;

#[test]
fn a_key_during_a_plain_play_is_kept_for_the_next_question() {
    check(
        r##"
flow f {
    answer
    play "intro"
    ask "enter-code" digits 1 -> code
    say digits code
    hangup
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 intro
// A plain prompt is not stopped, and the key is not lost either.
> press 4
> played
play#1 digits/4
~ digits "4" (enough digits)
> played
hangup normal
"##,
    );
}

const LOGIN: &str = r##"
extension 101 "Alice" { voicemail; pin "1234" }
flow login {
    answer
    repeat 3 times {
        ask "vm-enter-pin" digits 4..8 until "#" timeout 10s -> pin
        if pin_ok(caller, pin) {
            mailbox open caller
            play "vm-main"
            hangup
        }
        play "vm-bad-pin"
    }
    play "goodbye"
    hangup
}
dial "999" -> flow login
"##;

#[test]
fn a_pin_typed_again_while_the_bad_pin_message_plays_is_the_next_attempt() {
    check(
        LOGIN,
        r##"
> call from 101 dial 999
answer
play#0 vm-enter-pin interruptible
> press 1111#
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
timer#3 5s
cancel-timer#3
play#1 vm-bad-pin
~ digits "****" (ended with the terminator)
// The caller does not wait for the message to end: the right PIN is typed over it.
> press 1234#
> played#0
> played
// The second attempt is answered from the keys typed ahead, without its prompt.
play#2 vm-main
~ digits "****" (ended with the terminator)
~ mailbox open 101
> played
hangup normal
@ trace without 1234
"##,
    );
}

#[test]
fn keys_during_the_engines_own_message_are_kept_too() {
    check(
        r##"
extension 101 "Alice" { voicemail; pin "1234" }
flow f {
    answer
    mailbox open caller
    mailbox set_pin "12"
    ask "vm-new-pin" digits 4..8 until "#" -> new_pin
    mailbox set_pin new_pin
    hangup
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 vm-bad-pin
~ a PIN must be 4 to 12 digits; unchanged
> press 5678#
> played
play#1 vm-pin-changed
~ digits "****" (ended with the terminator)
> played
hangup normal
@ trace without 5678
"##,
    );
}

#[test]
fn an_interruptible_prompt_is_skipped_when_keys_are_waiting_and_a_goto_keeps_them() {
    check(
        r##"
flow f {
    answer
    play "intro"
    goto g
}
flow g {
    play "more" interruptible
    menu "main-greeting" {
        "2" -> play "two" then hangup
    }
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 intro
> press 2
> played
play#1 two
~ -> keys typed ahead skip an interruptible prompt
~ -> key 2
> played
hangup normal
"##,
    );
}

#[test]
fn a_menu_refusing_a_key_forgets_the_keys_typed_after_it_but_not_those_typed_later() {
    check(
        r##"
flow f {
    answer
    play "intro"
    menu "main-greeting" {
        "1"     -> play "one" then hangup
        invalid -> play "invalid-option" then repeat
    }
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 intro
> press 71
> played
play#1 invalid-option
~ -> 1 key typed ahead forgotten: the menu refused a key
~ -> invalid key 7
// Typed while "invalid option" plays: the new choice.
> press 1
> played
play#2 one
~ -> key 1
"##,
    );
}

#[test]
fn the_terminator_pressed_after_a_full_answer_is_dropped_and_the_next_key_kept() {
    check(
        r##"
flow f {
    answer
    ask "enter-code" digits 4 until "#" -> code
    say digits code
    menu "main-greeting" {
        "#" -> play "goodbye" then hangup
        "1" -> play "one" then hangup
    }
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 enter-code interruptible
> played
timer#0 5s
> press 4321
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
timer#3 5s
cancel-timer#3
play#1 digits/4 digits/3 digits/2 digits/1
// `#` out of habit would otherwise choose "goodbye" in the menu that follows.
> press #1
~ -> the terminator pressed after a full answer is dropped
> played
play#2 one
~ -> key 1
"##,
    );
}

#[test]
fn at_most_32_keys_are_kept() {
    check(
        r##"
flow f {
    answer
    play "intro"
    ask "enter-code" digits 1..40 until "#" -> code
    hangup
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 intro
// 33 keys: the last one is dropped.
> press 111111111122222222223333333333449
~ ignored: a key typed ahead beyond the 32 kept
> played
timer#0 5s
> press #
cancel-timer#0
hangup normal
~ digits "11111111112222222222333333333344" (ended with the terminator)
"##,
    );
}

#[test]
fn keys_typed_ahead_are_forgotten_when_a_recording_starts() {
    check(
        r##"
extension 101 "Alice" { voicemail }
flow f {
    answer
    play "intro"
    record message for "101" until "#"
    menu "main-greeting" {
        "1" -> play "one" then hangup
    }
}
dial "500" -> flow f
"##,
        r##"
> call from 102 dial 500
answer
play#0 intro
> press 1
> played
play#1 beep
> played
record
timer#0 3m
~ -> 1 key typed ahead forgotten: a recording starts
> press #
cancel-timer#0
stop-recording
> recorded rec-1 4000ms
message-waiting 101 new=1 saved=0
play#2 main-greeting interruptible
"##,
    );
}

#[test]
fn keys_typed_ahead_are_forgotten_when_the_call_rings_someone() {
    check(
        r##"
extension 101 "Alice" { }
extension 102 "Bruno" { no_answer -> goto after }
flow f {
    answer
    play "intro"
    extension 102
}
flow after {
    menu "main-greeting" {
        "1" -> play "one" then hangup
    }
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 intro
> press 1
> played
ring 102
timer#0 20s
~ -> 1 key typed ahead forgotten: the call rings someone or is connected
> far-end no-answer
cancel-timer#0
play#1 main-greeting interruptible
"##,
    );
}
