//! Toll-fraud defence: international and premium-rate numbers never become a `DialTrunk`
//! unless the plan allows them for whoever calls — a desk by its extension's `allow`, a
//! call from outside by its trunk's — and emergency numbers always go out.

use crate::harness::check;

const OFFICE: &str = r#"
extension 101 "Alice"
extension 102 "Bruno" { allow premium }
extension 103 "Carla" { allow international }
trunk "main" { host "sip.carrier.example" }
trunk "branch" { host "branch.example"; allow international }
# A route wider than it should be: the engine refuses what it must not dial anyway.
dial "9{n:X.}"   -> trunk "main" to "+{n}"
dial "8{n:X.}"   -> trunk "main" to n
dial "911"       -> trunk "main" to "911"
# Outside callers who reach a flow that dials out (a DISA, a forward to a typed number).
inbound trunk "main"   -> trunk "main" to "+442071234567"
inbound trunk "branch" -> trunk "main" to "+442071234567"
"#;

#[test]
fn a_premium_number_from_a_desk_not_allowed_it_is_refused_and_never_dialled() {
    check(
        OFFICE,
        r#"
> call from 101 dial 919005551234
answer
play#0 not-allowed
~ refused: +19005551234 is a premium-rate number and extension 101 may not call it
~ `allow premium` on extension 101 would let it through
> played
hangup normal
@ ended
"#,
    );
}

#[test]
fn the_plain_forms_of_a_costly_number_never_reach_a_trunk_even_when_allowed() {
    // Not E.164: refused as no number at all, before anyone's allowance is looked at.
    check(
        OFFICE,
        r#"
> call from 102 dial 819765551234
hangup not-found
~ error: "19765551234" is not a number to dial out
> call from 103 dial 8011442071234567
hangup not-found
~ error: "011442071234567" is not a number to dial out
"#,
    );
}

#[test]
fn a_desk_allowed_premium_may_call_it_and_the_trace_says_why() {
    check(
        OFFICE,
        r#"
> call from 102 dial 919005551234
dial-trunk main +19005551234
~ +19005551234 is a premium-rate number: extension 102 has `allow premium`
"#,
    );
}

#[test]
fn international_is_refused_unless_allowed_and_premium_allows_only_premium() {
    check(
        OFFICE,
        r#"
> call from 102 dial 9442071234567
answer
play#0 not-allowed
~ refused: +442071234567 is an international number and extension 102 may not call it
> call from 103 dial 9442071234567
dial-trunk main +442071234567
"#,
    );
}

#[test]
fn a_call_from_outside_may_not_go_abroad_unless_its_trunk_allows_it() {
    check(
        OFFICE,
        r#"
> call from trunk main +15551230000 dial +12605550100
answer
play#0 not-allowed
~ refused: +442071234567 is an international number and trunk "main" may not call it
> call from trunk branch +15551230000 dial +12605550100
dial-trunk main +442071234567
~ trunk "branch" has `allow international`
"#,
    );
}

#[test]
fn emergency_calls_always_go_out() {
    check(
        OFFICE,
        r#"
> call from 101 dial 911
dial-trunk main 911
// Even from a hot-desk phone nobody is logged in to.
> call from @001565AABBCC dial 911
dial-trunk main 911
"#,
    );
}
