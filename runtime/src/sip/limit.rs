//! A size limit on requests from stream transports. rsipstack's TCP framing
//! refuses a message only when 64 KiB arrive without its end, so a request of
//! up to about 128 KiB gets through; here anything over [`MAX_MESSAGE`] gets
//! 513 instead of reaching a handler. (UDP datagrams are already limited by
//! [`screen`](super::screen).)

use rsipstack::sip::{Header, HeadersExt, Method, Request, Response, SipMessage, StatusCode};
use rsipstack::transaction::endpoint::TransportEventInspector;
use rsipstack::transaction::make_tag;
use rsipstack::transport::TransportEvent;
use tracing::debug;

/// The largest request handled, in bytes (roughly: header names and values
/// and the body).
pub const MAX_MESSAGE: usize = 16 * 1024;

/// Answers requests over [`MAX_MESSAGE`] with 513 and drops them.
pub struct SizeLimit;

#[async_trait::async_trait]
impl TransportEventInspector for SizeLimit {
    async fn handle(&self, event: TransportEvent) -> Option<TransportEvent> {
        let TransportEvent::Incoming(SipMessage::Request(request), connection, from) = &event
        else {
            return Some(event);
        };
        if size(request) <= MAX_MESSAGE {
            return Some(event);
        }
        debug!(%from, size = size(request), "request too large");
        if request.method != Method::Ack
            && let Some(response) = too_large(request)
        {
            connection.send(response.into(), Some(from)).await.ok();
        }
        None
    }
}

fn size(request: &Request) -> usize {
    let headers: usize = request
        .headers
        .iter()
        .map(|h| h.name().len() + h.value().len() + 4)
        .sum();
    headers + request.body.len()
}

/// A 513 for `request`, if it has the headers a response needs.
fn too_large(request: &Request) -> Option<Response> {
    let mut headers = Vec::new();
    for header in request.headers.iter() {
        match header {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                headers.push(header.clone());
            }
            Header::To(to) if to.tag().ok()?.is_none() => {
                let tagged = format!("{};tag={}", to.value(), make_tag());
                headers.push(Header::To(tagged.into()));
            }
            Header::To(_) => headers.push(header.clone()),
            _ => {}
        }
    }
    request.call_id_header().ok()?;
    headers.push(Header::ContentLength("0".into()));
    Some(Response {
        status_code: StatusCode::MessageTooLarge,
        wire_reason: None,
        version: request.version,
        headers: headers.into(),
        body: Vec::new(),
    })
}
