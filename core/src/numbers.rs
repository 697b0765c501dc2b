//! Phone numbers: when two are the same (a route's DID and the number called, however
//! the carrier wrote it), and what may go out on a trunk.

/// Whether a route's number and a message's `to` are the same: as US phone numbers when
/// both are phone numbers, else as written.
pub fn same_number(route: &str, to: &str) -> bool {
    match (phone_digits(route), phone_digits(to)) {
        (Some(a), Some(b)) => a == b,
        _ => route.trim() == to.trim(),
    }
}

/// A phone number as its digits with the US country code (`+12605550100`, `12605550100`
/// and `2605550100` all give `12605550100`); `None` for anything that is not a number.
pub fn phone_digits(n: &str) -> Option<String> {
    let n = n.trim();
    if !n
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'))
    {
        return None;
    }
    let d: String = n.chars().filter(char::is_ascii_digit).collect();
    match d.len() {
        0 => None,
        10 => Some(format!("1{d}")),
        _ => Some(d),
    }
}

/// E.164: `+`, a country code not starting with 0, 8 to 15 digits in all; a US or
/// Canadian number (+1) must be `+1NXXNXXXXXX`. Short service numbers of 2 to 6 digits
/// (911, 112, 110) also go out as they are: an emergency call must never be refused.
/// Nothing else goes out on a trunk.
pub fn is_dialable(n: &str) -> bool {
    let Some(digits) = n.strip_prefix('+') else {
        return (2..=6).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit());
    };
    let b = digits.as_bytes();
    if !(8..=15).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return false;
    }
    if b[0] == b'1' {
        return b.len() == 11 && b[1] >= b'2' && b[4] >= b'2';
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_numbers_compare_in_any_form() {
        assert!(same_number("+12605550100", "2605550100"));
        assert!(same_number("+1 (260) 555-0100", "12605550100"));
        assert!(!same_number("+12605550100", "+12605550101"));
        assert!(same_number("acme.page", "acme.page"));
        assert!(!same_number("acme.page", "2605550100"));
    }

    #[test]
    fn only_e164_and_service_numbers_go_out() {
        assert!(is_dialable("+18884564566"));
        assert!(is_dialable("+4930123456"));
        assert!(is_dialable("911"));
        assert!(
            !is_dialable("+11234567890"),
            "a US area code cannot start with 1"
        );
        assert!(!is_dialable("8884564566"), "not E.164");
        assert!(!is_dialable("+0123456789"));
    }
}
