//! The number an agent may start an SMS chat with, sans-IO: "+1 followed by the full
//! number … You MUST prepend the area code + phone number with +1" (the SMS guide), so
//! `+1` and ten digits, as a North American number is written (`+1NXXNXXXXXX`: neither
//! the area code nor the exchange starts with 0 or 1).

/// `to` when it is `+1` and ten digits of a North American number; else the manual's rule
/// in words, naming what was given.
pub fn check_sms_number(to: &str) -> Result<&str, String> {
    let digits = to.strip_prefix("+1").unwrap_or("");
    let b = digits.as_bytes();
    let ok = b.len() == 10
        && b.iter().all(u8::is_ascii_digit)
        && (b'2'..=b'9').contains(&b[0])
        && (b'2'..=b'9').contains(&b[3]);
    if ok {
        Ok(to)
    } else {
        Err(format!(
            "`{to}` is not a number an SMS can be sent to: write +1 followed by the \
             10-digit number, area code first, with nothing between (e.g. +12602058900)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_one_and_ten_digits_only() {
        assert_eq!(check_sms_number("+12602058900"), Ok("+12602058900"));
        for bad in [
            "12602058900",
            "2602058900",
            "+1 260 205 8900",
            "+1260205890",
            "+126020589000",
            "+442071234567",
            "+11602058900",
            "+12601058900",
            "",
        ] {
            let e = check_sms_number(bad).unwrap_err();
            assert!(
                e.contains("+1 followed by the 10-digit number"),
                "{bad}: {e}"
            );
        }
    }
}
