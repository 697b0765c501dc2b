//! Durations, read one way everywhere: in the language (`ring 20s`), in the server's flags
//! and YAML file (`--shutdown-deadline 10s`), and in `simulate --wait 6s`.
//!
//! A duration is a whole number and a unit: `ms`, `s`, `m` or `h`. A bare number is
//! refused rather than guessed at, because `ring 20` could as well mean milliseconds.

use std::time::Duration;

/// What to write instead, for every message about a duration.
pub const HOW_TO_WRITE: &str = "a duration is a number and a unit: 500ms, 20s, 2m or 1h";

/// Reads `500ms`, `20s`, `2m` or `1h`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(format!("`{text}` is not a duration; {HOW_TO_WRITE}"));
    }
    let Ok(n) = number.parse::<u64>() else {
        return Err(format!("`{text}` is too long a duration"));
    };
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        "" => Err(format!("`{text}` needs a unit; {HOW_TO_WRITE}")),
        _ => Err(format!("`{text}` is not a duration; {HOW_TO_WRITE}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit_and_refuses_a_bare_number() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse(" 2m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse("20").unwrap_err().contains("needs a unit"));
        assert!(parse("s").unwrap_err().contains("500ms, 20s, 2m or 1h"));
        assert!(parse("2 weeks").is_err());
        assert!(parse("99999999999999999999s").is_err());
    }
}
