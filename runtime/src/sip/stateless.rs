//! Responses sent without a transaction (RFC 3261 section 8.2.7, a stateless UAS):
//! for requests the server turns away before the stack keeps anything for them — too
//! large, or not yet authenticated. A retransmitted request simply gets the same answer
//! again, so nothing needs remembering.

use rsipstack::sip::{Header, HeadersExt, Request, Response, StatusCode};

/// A response to `request` with `status`, the request's Via, From, Call-ID and CSeq,
/// its To with `to_tag` added when it had none, and `extra` headers; `None` when the
/// request lacks a header a response needs.
pub fn response(
    request: &Request,
    status: StatusCode,
    to_tag: &str,
    extra: Vec<Header>,
) -> Option<Response> {
    request.call_id_header().ok()?;
    request.cseq_header().ok()?;
    let mut headers = Vec::new();
    for header in request.headers.iter() {
        match header {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                headers.push(header.clone());
            }
            Header::To(to) if to.tag().ok()?.is_none() => {
                let tagged = format!("{};tag={to_tag}", to.value());
                headers.push(Header::To(tagged.into()));
            }
            Header::To(_) => headers.push(header.clone()),
            _ => {}
        }
    }
    headers.extend(extra);
    headers.push(Header::ContentLength("0".into()));
    Some(Response {
        status_code: status,
        wire_reason: None,
        version: request.version,
        headers: headers.into(),
        body: Vec::new(),
    })
}
