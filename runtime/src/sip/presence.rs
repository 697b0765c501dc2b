//! The presence event package (RFC 3856) as a phone's contact list needs it, sans-IO:
//! whether an extension can be reached, and whether it is on the phone, in the PIDF
//! body (RFC 3863) that says so.
//!
//! `open` means a phone answers for the extension: one of its own registered, or a
//! hot-desk phone it is logged in on. "On the phone" is the RPID activity (RFC 4480)
//! phones show as a busy icon, taken from the same line state as the busy lamp. A body
//! always carries the whole state, so a phone that missed a NOTIFY is right again at the
//! next one.

use super::dialog_info::{LineState, escape};

/// The `Event` of the package.
pub const EVENT: &str = "presence";
/// The `Content-Type` of its NOTIFY bodies.
pub const CONTENT_TYPE: &str = "application/pidf+xml";

/// What a watcher is told about an extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Presence {
    /// A phone answers for the extension.
    pub reachable: bool,
    pub line: LineState,
}

impl Presence {
    /// `open` while reachable, and while in a call even if the phone's registration
    /// lapsed mid-call (it is plainly there).
    pub fn is_open(&self) -> bool {
        self.reachable || self.line != LineState::Idle
    }
}

/// The PIDF body about `entity` (the watched extension's URI).
pub fn body(entity: &str, presence: Presence) -> String {
    let entity = escape(entity);
    let basic = if presence.is_open() { "open" } else { "closed" };
    let activity = match presence.line {
        LineState::Idle if presence.is_open() => {
            "<rpid:activities><rpid:unknown/></rpid:activities>"
        }
        LineState::Idle => "<rpid:activities><rpid:away/></rpid:activities>",
        LineState::Early | LineState::Confirmed => {
            "<rpid:activities><rpid:on-the-phone/></rpid:activities>"
        }
    };
    let note = match (presence.is_open(), presence.line) {
        (_, LineState::Confirmed) => "On the phone",
        (_, LineState::Early) => "Ringing",
        (true, LineState::Idle) => "Available",
        (false, LineState::Idle) => "Offline",
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
         xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" \
         xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"{entity}\">\r\n\
         \x20 <tuple id=\"line\">\r\n\
         \x20   <status><basic>{basic}</basic></status>\r\n\
         \x20   <note>{note}</note>\r\n\
         \x20 </tuple>\r\n\
         \x20 <dm:person id=\"person\">{activity}</dm:person>\r\n\
         </presence>\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(reachable: bool, line: LineState) -> Presence {
        Presence { reachable, line }
    }

    #[test]
    fn a_registered_idle_extension_is_open_and_available() {
        let b = body("sip:102@pbx", presence(true, LineState::Idle));
        assert!(b.contains("<basic>open</basic>"), "{b}");
        assert!(b.contains("<note>Available</note>"), "{b}");
        assert!(!b.contains("on-the-phone"), "{b}");
        assert!(b.contains("entity=\"sip:102@pbx\""), "{b}");
    }

    #[test]
    fn an_unregistered_extension_is_closed() {
        let b = body("sip:102@pbx", presence(false, LineState::Idle));
        assert!(b.contains("<basic>closed</basic>"), "{b}");
        assert!(b.contains("<rpid:away/>"), "{b}");
    }

    #[test]
    fn an_extension_in_a_call_is_on_the_phone_even_if_its_registration_lapsed() {
        let b = body("sip:102@pbx", presence(false, LineState::Confirmed));
        assert!(b.contains("<basic>open</basic>"), "{b}");
        assert!(b.contains("<rpid:on-the-phone/>"), "{b}");
        assert!(b.contains("<note>On the phone</note>"), "{b}");
        let ringing = body("sip:102@pbx", presence(true, LineState::Early));
        assert!(ringing.contains("<note>Ringing</note>"), "{ringing}");
    }

    #[test]
    fn the_entity_cannot_break_out_of_its_attribute() {
        let b = body("sip:\"><x/>@pbx", presence(true, LineState::Idle));
        assert!(b.contains("entity=\"sip:&quot;&gt;&lt;x/&gt;@pbx\""), "{b}");
    }
}
