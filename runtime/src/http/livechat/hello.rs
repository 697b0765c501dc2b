//! The `hello` frame: who the visitor is (their token, or a new one), and what the
//! widget says about them (name, email, the page's language, the office address its
//! script tag names), checked before anything of it is used.

use super::desk::Visit;
use super::frames::{self, ClientFrame, ErrorCode};
use super::limits;
use super::visitor::VisitorToken;
use std::net::IpAddr;

/// The longest `data-office` and language tag taken from `hello`.
const MAX_OFFICE_CHARS: usize = 64;
const MAX_LANGUAGE_CHARS: usize = 35;

/// What `hello` said.
#[derive(Debug)]
pub struct Hello {
    /// The visitor's token: theirs, or a new one (whether the address counts them as a
    /// new visitor is `limits::NewVisitors`' to say: a token may be made up).
    pub token: VisitorToken,
    pub visit: Visit,
}

/// The visitor's token (theirs, or a new one) and who they are, from `hello`.
pub fn read_hello(text: &str, address: IpAddr) -> Result<Hello, (ErrorCode, String)> {
    let frame = frames::parse(text).map_err(|e| (ErrorCode::BadFrame, e))?;
    let ClientFrame::Hello {
        visitor,
        name,
        email,
        language,
        office,
    } = frame
    else {
        return Err((
            ErrorCode::BadFrame,
            "the first frame is {\"type\":\"hello\",\"visitor\":null}".to_string(),
        ));
    };
    for (what, value) in [("name", &name), ("email address", &email)] {
        if let Some(v) = value {
            limits::check_field(what, v).map_err(|e| (ErrorCode::TooLong, e))?;
        }
    }
    let office = office.filter(|o| !o.trim().is_empty());
    if let Some(o) = &office
        && (o.chars().count() > MAX_OFFICE_CHARS || o.chars().any(char::is_control))
    {
        return Err((
            ErrorCode::BadFrame,
            format!(
                "data-office is the office address the chat is written to, at most \
                 {MAX_OFFICE_CHARS} characters on one line"
            ),
        ));
    }
    let token = match visitor.as_deref().and_then(VisitorToken::parse) {
        Some(token) => token,
        None => VisitorToken::fresh().map_err(|e| {
            tracing::error!("the operating system's random source failed: {e}");
            (ErrorCode::NotAvailable, super::session::try_again())
        })?,
    };
    let visit = Visit {
        visitor_id: token.visitor_id(),
        office,
        language: language.as_deref().and_then(primary_language),
        name: name.filter(|n| !n.trim().is_empty()),
        email: email.filter(|e| !e.trim().is_empty()),
        address,
    };
    Ok(Hello { token, visit })
}

/// `de-DE` → `de`: the plan's chat routes compare the language as `"de"`.
fn primary_language(tag: &str) -> Option<String> {
    if tag.len() > MAX_LANGUAGE_CHARS {
        return None;
    }
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    let ok = (2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    ok.then_some(primary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_its_primary_subtag() {
        assert_eq!(primary_language("de-DE").as_deref(), Some("de"));
        assert_eq!(primary_language("EN_us").as_deref(), Some("en"));
        assert_eq!(primary_language("x"), None);
        assert_eq!(primary_language("d3"), None);
    }

    #[test]
    fn hello_mints_a_token_or_keeps_a_good_one() {
        let here: IpAddr = [192, 0, 2, 1].into();
        let new = read_hello(r#"{"type":"hello","visitor":null}"#, here).unwrap();
        assert_eq!(new.visit.visitor_id, new.token.visitor_id());
        let again = format!(r#"{{"type":"hello","visitor":"{}"}}"#, new.token.as_str());
        let same = read_hello(&again, here).unwrap();
        assert_eq!(same.token, new.token);
        let other = read_hello(r#"{"type":"hello","visitor":"guess"}"#, here).unwrap();
        assert_ne!(other.token, new.token);
        let (code, _) = read_hello(r#"{"type":"message","text":"hi"}"#, here).unwrap_err();
        assert_eq!(code, ErrorCode::BadFrame);
    }
}
