//! Phone numbers as people write them, made into the one form the office keeps and
//! dials: `+`, the country code and the number (E.164). The manuals' US forms are
//! understood: `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `1 555 123 4567`,
//! `+1 555 123 4567`; anything else must be written with `+` and its country code.

/// The E.164 form of `written`, or words saying what is wrong and how to write it.
pub fn normalise(written: &str) -> Result<String, String> {
    let trimmed = written.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::new();
    for c in trimmed.chars().skip(usize::from(plus)) {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(format!(
                    "the phone number {trimmed:?} has a {c:?}; write it as +<country code> \
                     and digits (+15551234567) or as a US number ((555) 123-4567)"
                ));
            }
        }
    }
    let us = |ten: &str| ten.len() == 10 && !ten.starts_with(['0', '1']);
    if plus {
        if (8..=15).contains(&digits.len()) && !digits.starts_with('0') {
            return Ok(format!("+{digits}"));
        }
    } else if us(&digits) {
        return Ok(format!("+1{digits}"));
    } else if digits.len() == 11 && digits.starts_with('1') && us(&digits[1..]) {
        return Ok(format!("+{digits}"));
    }
    Err(format!(
        "{trimmed:?} is not a phone number this office can dial: write it as +<country \
         code> and 8 to 15 digits (+15551234567) or as a US number of 10 digits \
         ((555) 123-4567)"
    ))
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn the_manuals_us_forms_and_e164_become_e164() {
        for written in [
            "(555) 123-4567",
            "555-123-4567",
            "555.123.4567",
            "5551234567",
            "1 555 123 4567",
            "+1 555 123 4567",
            "+15551234567",
        ] {
            assert_eq!(
                normalise(written).as_deref(),
                Ok("+15551234567"),
                "{written}"
            );
        }
        assert_eq!(
            normalise("+44 20 7946 0958").as_deref(),
            Ok("+442079460958")
        );
    }

    #[test]
    fn what_is_not_a_number_is_refused_with_the_forms_to_use() {
        for written in [
            "",
            "123",
            "0555123456",
            "+12",
            "555-CALL-NOW",
            "1 055 123 4567",
        ] {
            let error = normalise(written).unwrap_err();
            assert!(error.contains("+15551234567"), "{written}: {error}");
        }
    }
}
