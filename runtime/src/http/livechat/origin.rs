//! Which web pages may open the live-chat socket: those whose origin the config lists
//! under `chat.livechat.allowed-origins`.
//!
//! A browser names the page's origin in every WebSocket handshake and a page cannot
//! change it, so another site cannot embed the office's chat (or drive it from a
//! visitor's browser). A handshake without `Origin` does not come from a browser page
//! and is refused too: the socket is the widget's.

use axum::http::HeaderMap;
use axum::http::header::ORIGIN;

/// Accepts the handshake when its `Origin` is one of `allowed` (as the config reads
/// them: lowercase `scheme://host[:port]`); else the words for the 403.
pub fn check(headers: &HeaderMap, allowed: &[String]) -> Result<(), String> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Err(
            "the live-chat socket is opened by the widget on a web page; this request names \
             no Origin"
                .to_string(),
        );
    };
    let origin = origin.to_str().unwrap_or_default();
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return Ok(());
    }
    if allowed.is_empty() {
        return Err(format!(
            "the live chat is not open to any web page (Origin {origin:?}); the admin lists \
             the sites that embed the widget under chat.livechat.allowed-origins in the \
             server's config file"
        ));
    }
    Err(format!(
        "the live chat is not open to {origin:?}; the admin adds it to \
         chat.livechat.allowed-origins in the server's config file"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ORIGIN, origin.parse().unwrap());
        h
    }

    #[test]
    fn only_a_listed_origin_passes() {
        let allowed = vec!["https://www.shop.example".to_string()];
        assert!(check(&with_origin("https://www.shop.example"), &allowed).is_ok());
        assert!(check(&with_origin("https://WWW.shop.example"), &allowed).is_ok());
        for foreign in [
            "http://www.shop.example",
            "https://www.shop.example:8443",
            "https://www.shop.example.attacker.example",
            "null",
        ] {
            let e = check(&with_origin(foreign), &allowed).unwrap_err();
            assert!(e.contains("allowed-origins"), "{foreign}: {e}");
        }
        assert!(check(&HeaderMap::new(), &allowed).is_err());
        assert!(check(&with_origin("https://www.shop.example"), &[]).is_err());
    }
}
