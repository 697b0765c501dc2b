//! Toll-fraud defence: a number that costs the office a lot — international, premium
//! rate — goes out on a trunk only when the plan allows it for whoever is calling.
//!
//! Fraud on a phone system is someone else's calls to expensive numbers on the office's
//! bill: a phone's stolen password, or an outside caller who finds a path through the plan
//! to a trunk. Routes are written by people, and a route that is too wide (`+{n:X.}`) or a
//! flow that dials a number the caller typed is easy to write. So the engine checks every
//! number just before it becomes a `DialTrunk`, whatever route or flow produced it: the
//! refusal holds even where the plan did not think of it.
//!
//! Who may call such numbers:
//! - a desk phone, when its extension says `allow international` / `allow premium`;
//! - a call that came in on a trunk, only when that trunk says so. An outside caller is
//!   nobody the office vouches for: a menu that forwards to a number typed by the caller,
//!   or a follow-me to a number in a variable, would otherwise let anyone who can ring the
//!   office call abroad on its account. A trunk to a trusted branch office can be allowed;
//! - a hot-desk phone nobody is logged in to: never (it is nobody's extension).
//!
//! Emergency numbers always pass.
//!
//! International means outside the country of the trunk the call goes out on: the country
//! of the trunk's own `numbers` (its DIDs), or the US and Canada (+1) when it lists none.
//! So `+49 89…` is a national call on a German office's trunk and an international one on
//! an American's. Premium rate is known for North America only (area codes 900 and 976).

use super::{AfterPrompt, Call, Caller, prompts};
use crate::command::HangupCause;
use crate::trace::Traced;
use switchboard_dsl::ast::TollAllow;

/// What a number going out costs, as far as fraud goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TollClass {
    /// 911 and 112: always dialled.
    Emergency,
    /// `+` and a country code other than the home one, or in North America a `+1`
    /// area code of another country (`+1 809`, `+1 876`…).
    International,
    /// North American premium rate: `+1 900…`, `+1 976…`.
    Premium,
    /// Everything else: US and Canadian numbers, short service numbers.
    Ordinary,
}

/// The country code of North America, the home country when a trunk names no numbers.
pub const NORTH_AMERICA: &str = "1";

/// Area codes of the North American Numbering Plan that belong to other countries (the
/// Caribbean and the Atlantic): a `+1` number, but a call abroad, priced as one, and the
/// classic destination of "one ring" callback fraud (809 and its like). US territories
/// (Puerto Rico, the Virgin Islands, Guam…) and Canada are not in it.
const OTHER_NANP_COUNTRIES: &[&str] = &[
    "242", "246", "264", "268", "284", "345", "441", "473", "649", "658", "664", "721", "758",
    "767", "784", "809", "829", "849", "868", "869", "876",
];

/// Which class a number about to be dialled out is in, for a trunk whose home country
/// code is `home` (`"1"`, `"49"`: see `home_country`). Only E.164 numbers and short
/// service numbers (2 to 6 digits) ever reach a trunk (`numbers::is_dialable` refuses
/// anything else first), so a number without `+` is a local service number.
pub fn classify(number: &str, home: &str) -> TollClass {
    if matches!(number, "911" | "112") {
        return TollClass::Emergency;
    }
    let Some(digits) = number.strip_prefix('+') else {
        return TollClass::Ordinary;
    };
    if country_code(digits) != home {
        return TollClass::International;
    }
    if home == NORTH_AMERICA {
        let area = digits.get(1..4).unwrap_or_default();
        if OTHER_NANP_COUNTRIES.contains(&area) {
            return TollClass::International;
        }
        if matches!(area, "900" | "976") {
            return TollClass::Premium;
        }
    }
    TollClass::Ordinary
}

/// The country code of a trunk: that of its first `+` number, else North America's.
pub fn home_country<'a>(numbers: impl IntoIterator<Item = &'a str>) -> &'a str {
    numbers
        .into_iter()
        .find_map(|n| n.strip_prefix('+'))
        .map_or(NORTH_AMERICA, country_code)
}

/// The country code an E.164 number (its digits after `+`) starts with. Country codes
/// are prefix-free (ITU-T E.164): 1 and 7 have one digit, the ones listed two, every
/// other three.
pub fn country_code(digits: &str) -> &str {
    const TWO_DIGITS: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    let len = match digits.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ if digits.get(..2).is_some_and(|two| TWO_DIGITS.contains(&two)) => 2,
        _ => 3,
    };
    digits.get(..len).unwrap_or(digits)
}

impl Call {
    /// Refuses `number` when it is international or premium rate and the caller is not
    /// allowed it: the caller hears `not-allowed` and the call ends. Says whether it did.
    pub(super) fn refuse_costly(&mut self, trunk: &str, number: &str) -> bool {
        let home = self.plan.trunk(trunk).map_or(NORTH_AMERICA, |t| {
            home_country(t.numbers.iter().map(String::as_str))
        });
        let (option, what) = match classify(number, home) {
            TollClass::International => ("international", "an international"),
            TollClass::Premium => ("premium", "a premium-rate"),
            TollClass::Emergency | TollClass::Ordinary => return false,
        };
        let (allow, who) = self.toll_allowance();
        let allowed = match option {
            "international" => allow.international,
            _ => allow.premium,
        };
        if allowed {
            self.note(
                self.here(),
                Traced::Branch(format!(
                    "{number} is {what} number: {who} has `allow {option}`"
                )),
            );
            return false;
        }
        let fix = match &self.from {
            Caller::Extension { number: e, .. } if e.is_empty() => {
                "log in to the phone first".to_string()
            }
            _ => format!("`allow {option}` on {who} would let it through"),
        };
        self.note(
            self.here(),
            Traced::Branch(format!(
                "refused: {number} is {what} number and {who} may not call it on trunk \
                 {trunk:?} ({fix})"
            )),
        );
        self.play_then(
            prompts(["not-allowed".to_string()]),
            false,
            AfterPrompt::Hangup(HangupCause::Normal),
        );
        true
    }

    /// What the caller is allowed, and who the caller is, in words.
    fn toll_allowance(&self) -> (TollAllow, String) {
        match &self.from {
            Caller::Extension { number, .. } if number.is_empty() => (
                TollAllow::default(),
                "a hot-desk phone nobody is logged in to".to_string(),
            ),
            Caller::Extension { number, .. } => (
                self.plan
                    .extension(number)
                    .map(|e| e.options.allow)
                    .unwrap_or_default(),
                format!("extension {number}"),
            ),
            Caller::Trunk { trunk, .. } => (
                self.plan.trunk(trunk).map(|t| t.allow).unwrap_or_default(),
                format!("trunk {trunk:?}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{TollClass::*, country_code, home_country};

    /// For a trunk in North America, as the office has.
    fn classify(n: &str) -> super::TollClass {
        super::classify(n, "1")
    }

    #[test]
    fn emergency_numbers_are_their_own_class() {
        assert_eq!(classify("911"), Emergency);
        assert_eq!(classify("112"), Emergency);
        assert_eq!(
            classify("411"),
            Ordinary,
            "directory help is not an emergency"
        );
    }

    #[test]
    fn international_is_a_country_code_other_than_1_or_a_caribbean_area_code() {
        assert_eq!(classify("+442071234567"), International);
        assert_eq!(classify("+4930123456"), International);
        assert_eq!(classify("+861012345678"), International);
        // +1, and still abroad: the Dominican Republic, Jamaica, the Caymans, Bermuda.
        for n in [
            "+18095551234",
            "+18295551234",
            "+18765551234",
            "+13455551234",
            "+14415551234",
        ] {
            assert_eq!(classify(n), International, "{n}");
        }
        // US territories and Canada are not.
        assert_eq!(classify("+17875551234"), Ordinary, "Puerto Rico");
        assert_eq!(classify("+14165551234"), Ordinary, "Toronto");
        assert_eq!(classify("+12605550100"), Ordinary);
        assert_eq!(
            classify("+18884564566"),
            Ordinary,
            "toll free is not premium"
        );
    }

    #[test]
    fn premium_is_area_code_900_or_976() {
        assert_eq!(classify("+19005551234"), Premium);
        assert_eq!(classify("+19765551234"), Premium);
        // 900 or 976 elsewhere in the number is an ordinary number.
        assert_eq!(classify("+12609005551"), Ordinary);
        assert_eq!(classify("+12659765551"), Ordinary);
        assert_eq!(classify("9005"), Ordinary, "a short service number");
    }

    #[test]
    fn country_codes_are_read_as_the_itu_assigns_them() {
        assert_eq!(country_code("12605550100"), "1");
        assert_eq!(country_code("74951234567"), "7");
        assert_eq!(country_code("442071234567"), "44");
        assert_eq!(country_code("49891234999"), "49");
        assert_eq!(country_code("353112345678"), "353", "Ireland: three digits");
        assert_eq!(country_code("8525551234"), "852", "Hong Kong: three digits");
        assert_eq!(country_code("4"), "4", "too short: what there is");
    }

    #[test]
    fn a_trunks_home_is_the_country_of_its_numbers_or_north_america() {
        assert_eq!(home_country(["+49891234560", "+49891234561"]), "49");
        assert_eq!(home_country(["+12605550100"]), "1");
        assert_eq!(home_country([]), "1");
    }

    #[test]
    fn abroad_depends_on_the_trunks_home_country() {
        // A German office: +49 is national, +44 and +1 are abroad.
        assert_eq!(super::classify("+49891234999", "49"), Ordinary);
        assert_eq!(super::classify("+442071234567", "49"), International);
        assert_eq!(super::classify("+12605550100", "49"), International);
        assert_eq!(super::classify("112", "49"), Emergency);
        // North American premium ranges mean nothing there.
        assert_eq!(super::classify("+499005551234", "49"), Ordinary);
    }
}
