//! Which passwords a person may choose, for SIP users now and the web login next: the
//! one rule both share, sans-IO, so `switchboard user set-password` and a web form
//! refuse the same passwords with the same words.
//!
//! The throttle in `sip/throttle.rs` bounds guessing *online*. It does nothing
//! *offline*: SIP over UDP sends every digest response in clear, so anyone on the path
//! of a REGISTER (a few a minute per phone) can try passwords against it at graphics
//! card speed, of the order of 10^10 MD5 guesses a second, and so can anyone who
//! copies the store (HA1 is MD5 of `user:realm:password`, salted by nothing secret).
//! So the policy refuses what such guessing finds first — the short, the user's own
//! number, the sequences and repetitions, and the well-known passwords, also with
//! digits or symbols added — and says how to choose instead. It does not measure
//! entropy: a person's choice is not random, and the rules say why a password was
//! refused in terms the person can act on.

use std::fmt;

/// The fewest characters (not bytes) a password may have. At 10^10 guesses a second,
/// 10 random lower-case letters and digits (36^10 ≈ 3.6×10^15) fall in about four
/// days; 12 (36^12 ≈ 4.7×10^18) take about fifteen years. A SIP password is typed into
/// a phone once and kept there, so two more characters cost nobody anything; three or
/// four unrelated words clear it easily.
pub const MIN_CHARS: usize = 12;

/// The most characters a password may have: more than any phone's field holds and
/// any person types, and a bound on what a web login will hash for an attacker.
pub const MAX_CHARS: usize = 128;

/// A name shorter than this is not looked for inside a password: an extension `7`
/// would forbid every password with a 7 in it, and what a guesser tries with a short
/// number (`7`, `77`, `7777777`) is refused as short or repetitive anyway.
const MIN_NAME_CHARS_TO_SEARCH: usize = 3;

/// The well-known weak passwords, one a line, lower case, `#` comments.
const WEAK_PASSWORDS: &str = include_str!("weak_passwords.txt");

/// Runs of keys or symbols that people type as a password, each read cyclically
/// (`1234567890` then `12`…) and backwards as well: digits, the alphabet, the rows of
/// QWERTY, QWERTZ and AZERTY keyboards, the whole QWERTY keyboard row after row, its
/// columns top to bottom, the zigzags between the digit row and the one below, and the
/// shifted digit row.
const SEQUENCES: &[&str] = &[
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "yxcvbnm",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "qwertyuiopasdfghjklzxcvbnm",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "!@#$%^&*()",
];

/// Why a password is refused. The message names the rule and what to choose instead;
/// it never contains the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    /// A tab, a line break inside, an escape or another control character.
    ControlCharacter,
    /// Fewer than [`MIN_CHARS`] characters.
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    TooLong,
    /// The user name (extension or MAC) is in it.
    ContainsUserName { user: String },
    /// The user name, backwards, is in it.
    ContainsUserNameReversed { user: String },
    /// One character or one piece over and over (`aaaaaaaaaaaa`, `abcabcabcabc`).
    Repeated,
    /// A run along the digits, the alphabet or the keyboard (`1234567890`, `qwertyuiop`).
    Sequence,
    /// On the built-in list of well-known passwords.
    WellKnown,
    /// A well-known password with digits or symbols before or after it (`Summer2024!`).
    WellKnownWithAdditions,
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CHOOSE: &str = "three or four unrelated words, like a line of a shopping \
                              list, are long, easy to type into a phone and hard to guess";
        match self {
            PasswordProblem::ControlCharacter => write!(
                f,
                "the password contains a control character (a tab, an escape…), which a \
                 phone's settings cannot hold; use printable characters only"
            ),
            PasswordProblem::TooShort => write!(
                f,
                "the password is shorter than {MIN_CHARS} characters; choose a longer one: \
                 {CHOOSE}"
            ),
            PasswordProblem::TooLong => write!(
                f,
                "the password is longer than {MAX_CHARS} characters, more than a phone holds; \
                 choose a shorter one"
            ),
            PasswordProblem::ContainsUserName { user } => write!(
                f,
                "the password contains the user name {user}, the first thing a guesser \
                 tries; choose one without it: {CHOOSE}"
            ),
            PasswordProblem::ContainsUserNameReversed { user } => write!(
                f,
                "the password contains the user name {user} backwards, which guessers try \
                 too; choose one without it: {CHOOSE}"
            ),
            PasswordProblem::Repeated => write!(
                f,
                "the password is one character or one short piece repeated, which is \
                 guessed at once; choose one that is not: {CHOOSE}"
            ),
            PasswordProblem::Sequence => write!(
                f,
                "the password is a run of digits, letters or keyboard keys (like \
                 1234567890 or qwertyuiop), which is guessed at once; choose another: \
                 {CHOOSE}"
            ),
            PasswordProblem::WellKnown => write!(
                f,
                "the password is on the list of well-known passwords that guessers try \
                 first (or is an example from Switchboard's docs); choose your own: {CHOOSE}"
            ),
            PasswordProblem::WellKnownWithAdditions => write!(
                f,
                "the password is a well-known one with digits or symbols added, which \
                 guessers try first; choose your own: {CHOOSE}"
            ),
        }
    }
}

impl std::error::Error for PasswordProblem {}

/// Whether `user` (an extension number or a device's MAC) may have `password`; the
/// first rule it breaks if not.
pub fn check(user: &str, password: &str) -> Result<(), PasswordProblem> {
    if password.chars().any(char::is_control) {
        return Err(PasswordProblem::ControlCharacter);
    }
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    let name = user.to_lowercase();
    if name.chars().count() >= MIN_NAME_CHARS_TO_SEARCH {
        if lower.contains(&name) {
            return Err(PasswordProblem::ContainsUserName {
                user: user.to_string(),
            });
        }
        let reversed: String = name.chars().rev().collect();
        if lower.contains(&reversed) {
            return Err(PasswordProblem::ContainsUserNameReversed {
                user: user.to_string(),
            });
        }
    }
    if is_repeated(&lower) {
        return Err(PasswordProblem::Repeated);
    }
    if is_sequence(&lower) {
        return Err(PasswordProblem::Sequence);
    }
    if is_well_known(&lower) {
        return Err(PasswordProblem::WellKnown);
    }
    // Guessers try each listed word with digits and symbols around it first.
    let stem = lower.trim_matches(|c: char| !c.is_alphabetic());
    if !stem.is_empty() && is_well_known(stem) {
        return Err(PasswordProblem::WellKnownWithAdditions);
    }
    Ok(())
}

/// Whether `text` is one piece, of any length up to half of it, written over and over.
fn is_repeated(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    (1..=chars.len() / 2)
        .filter(|piece| chars.len().is_multiple_of(*piece))
        .any(|piece| chars.chunks(piece).all(|chunk| chunk == &chars[..piece]))
}

/// Whether `text` runs along one of [`SEQUENCES`], forwards or backwards, wrapping
/// round as often as its length needs.
fn is_sequence(text: &str) -> bool {
    let length = text.chars().count();
    SEQUENCES.iter().any(|run| {
        let round = run.chars().count();
        // Enough turns that every starting point has `length` characters after it.
        let turns = length / round + 2;
        let forwards = run.repeat(turns);
        let backwards: String = forwards.chars().rev().collect();
        forwards.contains(text) || backwards.contains(text)
    })
}

/// Whether `lower` (already in lower case) is a line of the list.
fn is_well_known(lower: &str) -> bool {
    WEAK_PASSWORDS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .any(|line| line == lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A passphrase the policy must accept, for every user the tests use.
    const GOOD: &str = "tulip harbour lamp";

    #[test]
    fn a_passphrase_of_unrelated_words_is_accepted() {
        for user in ["101", "102", "7", "001565AABBCC"] {
            assert_eq!(check(user, GOOD), Ok(()), "{user}");
        }
        assert_eq!(check("101", "Correct-Horse-Battery"), Ok(()));
        // Exactly the minimum, counted in characters: twelve letters of 2 bytes each.
        assert_eq!(check("101", "ßüöäéèàçñøåœ"), Ok(()));
    }

    #[test]
    fn fewer_than_twelve_characters_are_refused_counted_as_characters() {
        assert_eq!(check("101", "1"), Err(PasswordProblem::TooShort));
        assert_eq!(check("101", "tulipharbou"), Err(PasswordProblem::TooShort));
        assert_eq!(check("101", "tulipharbour"), Ok(()));
        // Eleven characters that are 22 bytes are still eleven.
        let eleven = "ßüöäéèàçñøå";
        assert!(eleven.len() >= MIN_CHARS);
        assert_eq!(check("101", eleven), Err(PasswordProblem::TooShort));
    }

    #[test]
    fn more_than_the_maximum_is_refused() {
        let words = "tulip harbour lamp ";
        let long: String = words.repeat(MAX_CHARS).chars().take(MAX_CHARS).collect();
        assert_eq!(check("101", &long), Ok(()));
        let longer = format!("{long}x");
        assert_eq!(check("101", &longer), Err(PasswordProblem::TooLong));
    }

    #[test]
    fn the_user_name_inside_or_backwards_is_refused() {
        let contains = |user: &str| PasswordProblem::ContainsUserName {
            user: user.to_string(),
        };
        assert_eq!(check("101", "101101101101"), Err(contains("101")));
        assert_eq!(check("101", "tulip-harbour101"), Err(contains("101")));
        assert_eq!(check("4711", "my phone is 4711!"), Err(contains("4711")));
        assert_eq!(
            check("102", "lamp-201-harbour"),
            Err(PasswordProblem::ContainsUserNameReversed {
                user: "102".to_string()
            })
        );
        // A MAC, as stored in capitals, given in any case.
        assert_eq!(
            check("001565AABBCC", "001565aabbcc!"),
            Err(contains("001565AABBCC"))
        );
        assert_eq!(
            check("001565AABBCC", "CCBBAA565100"),
            Err(PasswordProblem::ContainsUserNameReversed {
                user: "001565AABBCC".to_string()
            })
        );
        // A one- or two-digit extension is not searched for: 7 is in too many passwords.
        assert_eq!(check("7", "tulip harbour 7"), Ok(()));
    }

    #[test]
    fn one_character_or_piece_repeated_is_refused() {
        for password in [
            "aaaaaaaaaaaa",
            "111111111111",
            "abcabcabcabc",
            "ab12ab12ab12",
            "TulipTulipTulip",
            &"x1y2z3".repeat(20),
        ] {
            assert_eq!(
                check("101", password),
                Err(PasswordProblem::Repeated),
                "{password}"
            );
        }
        // Pieces repeated in turn are not one piece repeated.
        assert_eq!(check("101", "tuliptuliplamplamp"), Ok(()));
    }

    #[test]
    fn runs_along_digits_letters_and_keyboards_are_refused() {
        for password in [
            "123456789012",
            "0987654321098",
            "abcdefghijkl",
            "ZYXWVUTSRQPO",
            "qwertyuiopas",
            "QWERTYUIOPqw",
            "poiuytrewqpoiu",
            "qwertzuiopqw",
            "azertyuiopaz",
            "1qaz2wsx3edc",
            "1q2w3e4r5t6y",
            "!@#$%^&*()!@",
            "asdfghjklasd",
        ] {
            assert_eq!(
                check("101", password),
                Err(PasswordProblem::Sequence),
                "{password}"
            );
        }
        // A run is refused only when it is the whole password.
        assert_eq!(check("101", "qwerty harbour"), Ok(()));
    }

    #[test]
    fn well_known_passwords_are_refused_in_any_case_and_with_additions() {
        for password in [
            "password1234",
            "PASSWORD1234",
            "qwerty123456",
            "administrator",
            "administrator1",
            "your own passphrase",
            "switchboard1234",
        ] {
            assert_eq!(
                check("101", password),
                Err(PasswordProblem::WellKnown),
                "{password}"
            );
        }
        for password in [
            "Summer2024!!",
            "!!Password99!!",
            "2025-sunshine-1",
            "Freepbx#2024",
        ] {
            assert_eq!(
                check("101", password),
                Err(PasswordProblem::WellKnownWithAdditions),
                "{password}"
            );
        }
        // A listed word among others is not the listed password.
        assert_eq!(check("101", "dragon tulip lamp"), Ok(()));
    }

    #[test]
    fn control_characters_are_refused() {
        for password in [
            "tulip\tharbour lamp",
            "tulip harbour\u{1b}lamp",
            "tulip\0harbour lamp",
        ] {
            assert_eq!(
                check("101", password),
                Err(PasswordProblem::ControlCharacter),
                "{password:?}"
            );
        }
    }

    #[test]
    fn no_message_shows_the_password_and_each_says_what_to_do() {
        // (A password like "1" would be found in "12 characters" by chance.)
        let cases = [
            ("101", "zqj"),
            ("101", "tulip\tharbour lamp"),
            ("101", "tulip-harbour101"),
            ("102", "lamp-201-harbour"),
            ("101", "aaaaaaaaaaaa"),
            ("101", "1234567890123"),
            ("101", "password1234"),
            ("101", "Summer2024!!"),
        ];
        for (user, password) in cases {
            let problem = check(user, password).unwrap_err();
            let message = problem.to_string();
            assert!(!message.contains(password), "{message}");
            let fix = if problem == PasswordProblem::ControlCharacter {
                "use printable characters only"
            } else {
                "choose"
            };
            assert!(message.contains(fix), "no fix in: {message}");
        }
        let long = "tulip harbour lamp ".repeat(10);
        let message = check("101", &long).unwrap_err().to_string();
        assert!(!message.contains(&long) && message.contains("shorter one"));
    }

    #[test]
    fn the_list_is_in_lower_case_without_blanks_or_stray_spaces() {
        let entries: Vec<&str> = WEAK_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(entries.len() >= 300, "{} entries", entries.len());
        for entry in entries {
            assert!(!entry.is_empty(), "a blank line");
            assert_eq!(entry, entry.trim(), "{entry:?}");
            assert_eq!(entry, entry.to_lowercase(), "{entry:?}");
        }
    }
}
