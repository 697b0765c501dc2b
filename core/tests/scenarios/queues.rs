//! Queues ringing their agents: each strategy's order, an offer moving on when an agent
//! is busy or rings out, the maximum wait ending in `then`, wrap-up, hold music with the
//! periodic announcement, and `*62` / `*63` changing the very next call.

use crate::harness::check;

const OFFICE: &str = r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
extension 103 "Carla" { voicemail }
extension 104 "Dora"
queue 800 "Hunt"    { agents 101, 102, 103; strategy hunt; ring 5s; then -> hangup }
queue 801 "Turns"   { agents 101, 102, 103; strategy round_robin; ring 5s; then -> hangup }
queue 802 "Idle"    { agents 101, 102, 103; strategy longest_idle; ring 5s; then -> hangup }
queue 803 "Fewest"  { agents 101, 102, 103; strategy fewest_calls; ring 5s; then -> hangup }
queue 804 "Patient" {
    agents 101, 102
    strategy hunt
    ring 5s
    max_wait 12s
    announce "queue-announce"
    announce_every 8s
    then -> voicemail 101
}
queue 805 "All"     { agents 101, 102, 103; ring 5s; wrap_up 30s; then -> hangup }
dial "*62" -> queue_login all
dial "*63" -> queue_logout all
dial "{ext:XXX}" -> extension ext
"#;

/// The transcript lines that log 101, 102 and 103 in to all their queues.
const ALL_LOGGED_IN: &str = r#"
> call from 101 dial *62
answer
play#0 queue-logged-in
> call from 102 dial *62
answer
play#0 queue-logged-in
> call from 103 dial *62
answer
play#0 queue-logged-in
"#;

fn check_logged_in(transcript: &str) {
    check(OFFICE, &format!("{ALL_LOGGED_IN}{transcript}"));
}

#[test]
fn hunt_offers_the_call_to_each_agent_in_order_then_takes_then() {
    check_logged_in(
        r#"
> call from 104 dial 800
answer
play-on-hold#0 hold-music
ring-queue 800 101
timer#0 5s
~ extension 101
> timer
cancel-ring
ring-queue 800 102
timer#1 5s
~ 101 did not answer in time
// 102 is on a call: the runtime answers the offer busy at once.
> far-end busy
cancel-timer#1
ring-queue 800 103
timer#2 5s
> timer
cancel-ring
stop-playing#0
hangup normal
~ nobody answered
@ ended
"#,
    );
}

#[test]
fn round_robin_starts_after_the_agent_offered_the_last_call() {
    check_logged_in(
        r#"
> call from 104 dial 801
answer
play-on-hold#0 hold-music
ring-queue 801 101
timer#0 5s
> answered-by 101
cancel-timer#0
stop-playing#0
~ 101 answered
> hangup
@ ended
// The next caller starts with 102, and goes round to 101 after 103.
> call from 104 dial 801
answer
play-on-hold#0 hold-music
ring-queue 801 102
timer#0 5s
> timer
cancel-ring
ring-queue 801 103
timer#1 5s
> timer
cancel-ring
ring-queue 801 101
timer#2 5s
> hangup
cancel-timer#2
cancel-ring
stop-playing#0
@ ended
// That caller was last offered to 101: the next starts with 102 again.
> call from 104 dial 801
answer
play-on-hold#0 hold-music
ring-queue 801 102
timer#0 5s
"#,
    );
}

#[test]
fn longest_idle_offers_the_call_to_whoever_has_waited_longest_never_called_first() {
    check_logged_in(
        r#"
// 102 takes a call, which ends; a minute later 103 takes one, which ends too.
> call from 104 dial 802
answer
play-on-hold#0 hold-music
ring-queue 802 101
timer#0 5s
> far-end busy
cancel-timer#0
ring-queue 802 102
timer#1 5s
> answered-by 102
cancel-timer#1
stop-playing#0
> hangup
> wait 60s
> call from 104 dial 802
answer
play-on-hold#0 hold-music
ring-queue 802 101
timer#0 5s
> far-end busy
cancel-timer#0
ring-queue 802 103
timer#1 5s
> answered-by 103
cancel-timer#1
stop-playing#0
> hangup
// 101 never had a queue call: first. Then 102, idle since longer than 103.
> call from 104 dial 802
answer
play-on-hold#0 hold-music
ring-queue 802 101
timer#0 5s
> far-end no-answer
cancel-timer#0
ring-queue 802 102
timer#1 5s
> far-end no-answer
cancel-timer#1
ring-queue 802 103
timer#2 5s
"#,
    );
}

#[test]
fn fewest_calls_offers_the_call_to_whoever_answered_fewest_since_logging_in() {
    check_logged_in(
        r#"
// 101 answers two calls, 102 one.
> call from 104 dial 803
answer
play-on-hold#0 hold-music
ring-queue 803 101
timer#0 5s
> answered-by 101
cancel-timer#0
stop-playing#0
> hangup
> call from 104 dial 803
answer
play-on-hold#0 hold-music
ring-queue 803 102
timer#0 5s
> answered-by 102
cancel-timer#0
stop-playing#0
> hangup
> call from 104 dial 803
answer
play-on-hold#0 hold-music
ring-queue 803 103
timer#0 5s
> answered-by 103
cancel-timer#0
stop-playing#0
> hangup
> call from 104 dial 803
answer
play-on-hold#0 hold-music
ring-queue 803 101
timer#0 5s
> answered-by 101
cancel-timer#0
stop-playing#0
> hangup
// Now 101 has 2, 102 and 103 one each: 102 first (plan order breaks the tie), 101 last.
> call from 104 dial 803
answer
play-on-hold#0 hold-music
ring-queue 803 102
timer#0 5s
> timer
cancel-ring
ring-queue 803 103
timer#1 5s
> timer
cancel-ring
ring-queue 803 101
timer#2 5s
"#,
    );
}

#[test]
fn ring_all_rings_every_free_agent_and_skips_one_in_wrap_up() {
    check_logged_in(
        r#"
> call from 104 dial 805
answer
play-on-hold#0 hold-music
ring-queue 805 101,102,103
timer#0 5s
> answered-by 102
cancel-timer#0
stop-playing#0
~ 102 answered
> hangup
// 102's wrap-up (30 s) has started: the next call rings the others only.
> wait 10s
> call from 104 dial 805
answer
play-on-hold#0 hold-music
ring-queue 805 101,103
timer#0 5s
~ 102 is in wrap-up
> hangup
cancel-timer#0
cancel-ring
stop-playing#0
// After the wrap-up, 102 rings again.
> wait 25s
> call from 104 dial 805
answer
play-on-hold#0 hold-music
ring-queue 805 101,102,103
timer#0 5s
"#,
    );
}

#[test]
fn the_maximum_wait_ends_in_then_with_announcements_between_the_music() {
    check_logged_in(
        r#"
> call from 104 dial 804
answer
play-on-hold#0 hold-music
timer#0 12s
timer#1 8s
ring-queue 804 101
timer#2 5s
> timer#2
cancel-ring
ring-queue 804 102
timer#3 5s
// Both rang out: with a maximum wait, the queue goes round again.
> timer#3
cancel-ring
ring-queue 804 101
timer#4 5s
~ trying the agents again
> timer#1
stop-playing#0
play#1 queue-announce
timer#5 8s
> played#1
play-on-hold#2 hold-music
> timer#0
cancel-timer#4
cancel-timer#5
cancel-ring
stop-playing#2
play#3 vm-unavailable digits/1 digits/0 digits/1 vm-is-unavailable beep
~ the queue's maximum wait has passed
"#,
    );
}

#[test]
fn a_queue_of_busy_agents_with_a_maximum_wait_retries_after_a_pause() {
    check_logged_in(
        r#"
> call from 104 dial 804
answer
play-on-hold#0 hold-music
timer#0 12s
timer#1 8s
ring-queue 804 101
timer#2 5s
> far-end busy
cancel-timer#2
ring-queue 804 102
timer#3 5s
> far-end busy
cancel-timer#3
timer#4 5s
~ no agent is free; trying again shortly
> timer#4
ring-queue 804 101
timer#5 5s
"#,
    );
}

#[test]
fn star_62_and_star_63_change_the_very_next_queue_call() {
    check(
        OFFICE,
        r#"
> call from 104 dial 800
hangup normal
~ no agent is logged in
> call from 102 dial *62
answer
play#0 queue-logged-in
> call from 104 dial 800
answer
play-on-hold#0 hold-music
ring-queue 800 102
timer#0 5s
> hangup
cancel-timer#0
cancel-ring
stop-playing#0
> call from 102 dial *63
answer
play#0 queue-logged-out
> call from 104 dial 800
hangup normal
~ no agent is logged in
"#,
    );
}
