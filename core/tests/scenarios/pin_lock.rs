//! Wrong PINs count across calls per mailbox: five, from calls in parallel, lock the
//! mailbox; the right PIN is refused while it is locked (the caller hears `vm-locked` and
//! the call ends), and opens it once the lock has run out, when the owner hears
//! `vm-pin-was-locked`.

use crate::harness::check;

/// One PIN try per call, so that every try is a call of its own.
const PLAN: &str = r##"
extension 101 "Alice" { voicemail; pin "1234" }
extension 102 "Bruno" { voicemail; pin "2345" }
flow login(box) {
    answer
    ask "vm-enter-pin" digits 4 timeout 10s -> pin
    if pin_ok(box, pin) {
        play "vm-main"
        hangup
    }
    play "vm-bad-pin"
    hangup
}
dial "901" -> flow login("101")
"##;

#[test]
fn five_wrong_pins_in_parallel_calls_lock_out_the_right_one_until_the_lock_ends() {
    check(
        PLAN,
        r##"
// Five callers at once, one wrong PIN each: the mailbox counts them all.
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> [1] press 0000
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-bad-pin
~ condition does not hold
> [2] press 0001
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-bad-pin
~ condition does not hold
> [3] press 0002
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-bad-pin
~ condition does not hold
> [4] press 0003
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-bad-pin
~ condition does not hold
// The fifth wrong PIN locks the mailbox: that caller is told, and the call ends.
> [5] press 0004
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-locked
~ mailbox 101 refuses PIN entry for 1 min after too many wrong PINs
> played
hangup normal
// The right PIN, the sixth attempt, is refused while the lock lasts.
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> press 1234
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-locked
~ refuses PIN entry for 1 min
> played
hangup normal
> wait 59s
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> press 1234
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-locked
> played
hangup normal
// Once the minute is over the PIN opens the mailbox, and its owner hears of the lock.
> wait 1s
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> press 1234
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-pin-was-locked
~ condition holds
> played
play#2 vm-main
> played
hangup normal
// Told once: the next login is a plain one.
> call from 102 dial 901
answer
play#0 vm-enter-pin interruptible
> press 1234
stop-playing#0
timer#0 5s
cancel-timer#0
timer#1 5s
cancel-timer#1
timer#2 5s
cancel-timer#2
play#1 vm-main
"##,
    );
}
