//! No PIN digit is ever shown: what the compiler derives to be a PIN (see
//! `dsl/src/lower/secrets.rs`) is masked in every trace entry, whatever its name.

use crate::harness::check;

#[test]
fn both_entries_of_a_pin_change_are_masked_whatever_their_names() {
    // Neither name says PIN: `first` reaches `mailbox set_pin`, `again` is compared with it.
    check(
        r##"
extension 101 "Alice" { voicemail; pin "1234" }
flow change {
    answer
    mailbox open caller
    ask "vm-new-pin" digits 4..8 until "#" -> first
    ask "vm-repeat-pin" digits 4..8 until "#" -> again
    if first == again {
        mailbox set_pin first
    } else {
        play "vm-pin-mismatch"
    }
    hangup
}
dial "500" -> flow change
"##,
        r##"
> call from 101 dial 500
answer
play#0 vm-new-pin interruptible
> played
timer#0 5s
> press 5678#
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
timer#3 5s
cancel-timer#3
timer#4 5s
cancel-timer#4
play#1 vm-repeat-pin interruptible
~ digits "****" (ended with the terminator)
> press 5678#
stop-playing#1
timer#5 5s
cancel-timer#5
timer#6 5s
cancel-timer#6
timer#7 5s
cancel-timer#7
timer#8 5s
cancel-timer#8
play#2 vm-pin-changed
~ digits "****" (ended with the terminator)
~ mailbox set_pin
@ trace without 5678
@ trace without 8#
> played
hangup normal
@ trace without 5678
"##,
    );
}

#[test]
fn a_pin_copied_with_set_or_said_back_is_masked_but_heard() {
    check(
        r##"
extension 101 "Alice" { voicemail; pin "1234" }
flow f {
    answer
    ask "enter-code" digits 4 -> entered
    set copy = entered
    say digits copy
    if pin_ok(caller, entered) {
        play "ok"
    }
    hangup
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 enter-code interruptible
> press 1234
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
// The caller hears the digits; the trace shows how many, not which.
play#1 digits/1 digits/2 digits/3 digits/4
~ digits "****" (enough digits)
~ set copy ****
~ say ****
~ play digits/* digits/* digits/* digits/*
@ trace without 1234
"##,
    );
}

#[test]
fn an_answer_that_is_no_pin_is_shown() {
    check(
        r##"
extension 101 "Alice" { voicemail; pin "1234" }
flow f {
    answer
    ask "enter-code" digits 2 -> choice
    set shipping = choice
    say digits shipping
    hangup
}
dial "500" -> flow f
"##,
        r##"
> call from 101 dial 500
answer
play#0 enter-code interruptible
> press 42
stop-playing#0
timer#0 5s
cancel-timer#0
play#1 digits/4 digits/2
~ digits "42" (enough digits)
~ set shipping 42
~ say 42
"##,
    );
}
