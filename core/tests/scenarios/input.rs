//! Keys: barge-in, the timeouts that end digit collection, and menu retries.

use crate::harness::check;

// ---- barge-in -----------------------------------------------------------------------

#[test]
fn a_key_during_an_interruptible_play_stops_it_and_answers_the_next_ask() {
    check(
        r#"
flow f {
    answer
    play "intro" interruptible
    ask "enter-code" digits 2 -> code
    say digits code
    hangup
}
dial "500" -> flow f
"#,
        r#"
> call from 101 dial 500
answer
play#0 intro interruptible
> press 4
stop-playing#0
~ -> a key stops the prompt
// The prompt reports its end; the key typed ahead answers the ask, whose own prompt is
// skipped, and the next key is waited for.
> played
timer#0 5s
> press 2
cancel-timer#0
play#1 digits/4 digits/2
~ digits "42" (enough digits)
> played
hangup normal
@ ended
"#,
    );
}

#[test]
fn more_keys_during_an_interruptible_play_are_typed_ahead_without_stopping_it_again() {
    check(
        r#"
flow f {
    answer
    play "intro" interruptible
    menu "main-greeting" {
        "1" -> play "one"
    }
    ask "enter-code" digits 1 -> code
    say digits code
    hangup
}
dial "500" -> flow f
"#,
        r#"
> call from 101 dial 500
answer
play#0 intro interruptible
> press 1
stop-playing#0
// The prompt is already being stopped: one `StopPlaying`, one `PlayFinished`.
> press 2
> played
play#1 one
~ -> key 1
// The key the menu did not take answers the next question.
> played
play#2 digits/2
"#,
    );
}

#[test]
fn keys_typed_ahead_answer_several_questions_at_once() {
    check(
        r#"
flow f {
    answer
    play "intro" interruptible
    ask "first" digits 2 -> a
    ask "second" digits 1 -> b
    say digits "{a}{b}"
    hangup
}
dial "500" -> flow f
"#,
        r#"
> call from 101 dial 500
answer
play#0 intro interruptible
> press 1
stop-playing#0
> press 23
// Every question is answered from the keys already typed: no prompt starts only to be
// stopped, no timer starts only to be cancelled.
> played
play#1 digits/1 digits/2 digits/3
~ digits "12" (enough digits)
~ digits "3" (enough digits)
"#,
    );
}

#[test]
fn a_key_during_a_menu_prompt_stops_it_and_selects_the_entry() {
    check(
        r#"
flow f {
    answer
    menu "main-greeting" {
        "1" -> play "one" then hangup
        "2" -> play "two" then hangup
    }
}
dial "500" -> flow f
"#,
        r#"
> call from 101 dial 500
answer
play#0 main-greeting interruptible
> press 2
stop-playing#0
play#1 two
~ -> key 2
> played#0
> played
hangup normal
"#,
    );
}

// ---- timeouts -----------------------------------------------------------------------

const ASK: &str = r##"
settings { digit_timeout = 3s }
flow f {
    answer
    ask "enter-code" digits 4 timeout 10s -> code
    say digits code
    play "done"
    hangup
}
flow t {
    answer
    ask "enter-code" digits 1..6 until "#" -> code
    say digits code
    hangup
}
flow m {
    answer
    ask "enter-code" digits 3 until "#" -> code
    say digits code
    hangup
}
dial "500" -> flow f
dial "501" -> flow t
dial "502" -> flow m
"##;

#[test]
fn an_ask_with_no_first_digit_times_out_on_its_own_timeout() {
    check(
        ASK,
        r#"
> call from 101 dial 500
answer
play#0 enter-code interruptible
> played
timer#0 10s
> timer
// Nothing was typed: `say` has nothing to say and the flow goes on.
play#1 done
~ digits "" (timed out)
~ -> fewer than 4 digits
> played
hangup normal
"#,
    );
}

#[test]
fn between_digits_an_ask_waits_the_digit_timeout_setting() {
    check(
        ASK,
        r#"
> call from 101 dial 500
answer
play#0 enter-code interruptible
> played
timer#0 10s
> press 1
cancel-timer#0
timer#1 3s
> press 2
cancel-timer#1
timer#2 3s
> timer
play#1 digits/1 digits/2
~ digits "12" (timed out)
"#,
    );
}

#[test]
fn the_terminator_ends_an_ask_and_is_not_kept() {
    check(
        ASK,
        r#"
> call from 101 dial 501
answer
play#0 enter-code interruptible
> press 1
stop-playing#0
timer#0 3s
> press 2
cancel-timer#0
timer#1 3s
> press #
cancel-timer#1
play#1 digits/1 digits/2
~ digits "12" (ended with the terminator)
"#,
    );
}

#[test]
fn the_maximum_number_of_digits_ends_an_ask_without_the_terminator() {
    check(
        ASK,
        r#"
> call from 101 dial 502
answer
play#0 enter-code interruptible
> played
timer#0 3s
> press 123
cancel-timer#0
timer#1 3s
cancel-timer#1
timer#2 3s
cancel-timer#2
play#1 digits/1 digits/2 digits/3
~ digits "123" (enough digits)
// The terminator typed out of habit after a full answer ends nothing and is not kept
// for the next question either.
> press #
~ -> the terminator pressed after a full answer is dropped
> played
hangup normal
"#,
    );
}

#[test]
fn a_menu_that_hears_no_key_takes_its_timeout_entry() {
    check(
        r#"
flow f {
    answer
    menu "main-greeting" timeout 4s {
        "1"     -> play "one" then hangup
        timeout -> play "too-slow" then repeat
        retries 1 -> play "goodbye" then hangup
    }
}
dial "500" -> flow f
"#,
        r#"
> call from 101 dial 500
answer
play#0 main-greeting interruptible
> played
timer#0 4s
> timer
play#1 too-slow
~ -> timeout
> played
play#2 main-greeting interruptible
> played
timer#1 4s
> timer
play#3 goodbye
~ -> timeout; retries exhausted (1)
> played
hangup normal
"#,
    );
}

// ---- retries ------------------------------------------------------------------------

#[test]
fn invalid_keys_take_the_invalid_entry_until_the_retries_run_out() {
    check(
        r#"
flow f {
    answer
    menu "main-greeting" {
        "1"       -> play "one" then hangup
        invalid   -> play "invalid-option" then repeat
        retries 2 -> play "goodbye" then hangup
    }
}
dial "500" -> flow f
"#,
        r#"
> call from 101 dial 500
answer
play#0 main-greeting interruptible
> press 7
stop-playing#0
play#1 invalid-option
~ -> invalid key 7
> played
play#2 main-greeting interruptible
> press 8
stop-playing#2
play#3 invalid-option
> played
play#4 main-greeting interruptible
// `retries 2`: the menu started again twice; the third failure is one too many.
> press 9
stop-playing#4
play#5 goodbye
~ -> invalid key 9; retries exhausted (2)
> played
hangup normal
@ ended
"#,
    );
}

#[test]
fn a_valid_key_resets_the_menu_retry_count() {
    check(
        r#"
flow f {
    answer
    menu "main-greeting" {
        "1"       -> play "one" then repeat
        invalid   -> play "invalid-option" then repeat
        retries 1 -> play "goodbye" then hangup
    }
}
dial "500" -> flow f
"#,
        r#"
> call from 101 dial 500
answer
play#0 main-greeting interruptible
> press 7
stop-playing#0
play#1 invalid-option
> played
play#2 main-greeting interruptible
> press 1
stop-playing#2
play#3 one
> played
play#4 main-greeting interruptible
// Had the count not been reset by 1, this would be the second failure of one retry.
> press 7
stop-playing#4
play#5 invalid-option
~ -> invalid key 7
> played
play#6 main-greeting interruptible
> press 7
stop-playing#6
play#7 goodbye
~ -> invalid key 7; retries exhausted (1)
"#,
    );
}
