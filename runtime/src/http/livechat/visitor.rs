//! Who a live-chat visitor is: a random token the server gives their browser tab (kept
//! in its `sessionStorage`), and the visitor id derived from it that the conversation is
//! stored under.
//!
//! The token is a bearer secret: whoever holds it reads the conversation. So it is never
//! stored nor shown; the conversation's customer address is `v-` and the first 20 hex
//! digits (80 bits) of its SHA-256, which agents see and which says nothing of the token.

use sha2::{Digest, Sha256};

/// The token's length: 32 random bytes as lowercase hex.
const TOKEN_HEX: usize = 64;

/// A visitor's token as the widget holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct VisitorToken(String);

impl std::fmt::Debug for VisitorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorToken(…)")
    }
}

impl VisitorToken {
    /// A new visitor's token, from the operating system's random source.
    pub fn fresh() -> Result<VisitorToken, getrandom::Error> {
        let mut bytes = [0u8; TOKEN_HEX / 2];
        getrandom::fill(&mut bytes)?;
        Ok(VisitorToken(
            bytes.iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    /// The token the widget sent back, when it is one the server could have made (an
    /// altered or made-up one starts a new visitor rather than being stored under).
    pub fn parse(text: &str) -> Option<VisitorToken> {
        let ok = text.len() == TOKEN_HEX
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| VisitorToken(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The customer address the visitor's conversation is stored under.
    pub fn visitor_id(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
        format!("v-{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_token_reads_back_and_names_one_visitor() {
        let token = VisitorToken::fresh().unwrap();
        let again = VisitorToken::parse(token.as_str()).unwrap();
        assert_eq!(token, again);
        let id = token.visitor_id();
        assert!(id.starts_with("v-") && id.len() == 22, "{id}");
        assert!(!id.contains(&token.as_str()[..20]));
        assert_ne!(id, VisitorToken::fresh().unwrap().visitor_id());
        assert!(!format!("{token:?}").contains(token.as_str()));
    }

    #[test]
    fn a_token_the_server_could_not_have_made_is_refused() {
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            assert!(VisitorToken::parse(bad).is_none(), "{bad}");
        }
    }
}
