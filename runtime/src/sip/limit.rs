//! A size limit on requests from stream transports. rsipstack's TCP framing
//! refuses a message only when 64 KiB arrive without its end, so a request of
//! up to about 128 KiB gets through; here anything over [`MAX_MESSAGE`] gets
//! 513 (sent by [`gate`](super::gate)) instead of reaching a handler. (UDP datagrams are already limited by
//! [`screen`](super::screen).)

use rsipstack::sip::{Request, Response, StatusCode};
use rsipstack::transaction::make_tag;

/// The largest request handled, in bytes (roughly: header names and values
/// and the body).
pub const MAX_MESSAGE: usize = 16 * 1024;

/// Whether `request` is over [`MAX_MESSAGE`].
pub fn is_too_large(request: &Request) -> bool {
    size(request) > MAX_MESSAGE
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
pub fn too_large(request: &Request) -> Option<Response> {
    super::stateless::response(request, StatusCode::MessageTooLarge, &make_tag(), vec![])
}
