//! The dialog event package (RFC 4235) as a busy lamp needs it, sans-IO: what an
//! extension's line is doing, and the `application/dialog-info+xml` body that says so.
//!
//! A lamp shows one line, not every call: the body carries one dialog, the state of the
//! line: `early` while it rings or dials, `confirmed` while it talks, `terminated` when
//! it is idle (which phones show as a dark lamp). `version` counts up per subscription (RFC 4235 section 4.1),
//! so a phone can tell a late NOTIFY from a new one.

/// The `Event` of the package.
pub const EVENT: &str = "dialog";
/// The `Content-Type` of its NOTIFY bodies.
pub const CONTENT_TYPE: &str = "application/dialog-info+xml";

/// What an extension's line is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineState {
    #[default]
    Idle,
    /// Ringing, or calling someone whose phone rings.
    Early,
    /// In a call.
    Confirmed,
}

/// The body of a NOTIFY about `entity` (the watched extension's URI), the
/// subscription's `version`-th, with the line in `state`.
pub fn body(entity: &str, version: u32, state: LineState) -> String {
    let entity = escape(entity);
    let dialog = dialog_element(match state {
        LineState::Idle => "terminated",
        LineState::Early => "early",
        LineState::Confirmed => "confirmed",
    });
    format!(
        "<?xml version=\"1.0\"?>\r\n\
         <dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"{version}\" \
         state=\"full\" entity=\"{entity}\">\r\n{dialog}</dialog-info>\r\n"
    )
}

fn dialog_element(state: &str) -> String {
    format!("  <dialog id=\"line\">\r\n    <state>{state}</state>\r\n  </dialog>\r\n")
}

/// `entity` comes from a request: it must not break out of its attribute (presence
/// bodies use this too).
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_state_is_its_dialogs_state() {
        let idle = body("sip:102@pbx", 0, LineState::Idle);
        assert!(idle.contains("version=\"0\" state=\"full\" entity=\"sip:102@pbx\""));
        assert!(idle.contains("<state>terminated</state>"), "{idle}");
        let ringing = body("sip:102@pbx", 1, LineState::Early);
        assert!(ringing.contains("<state>early</state>"), "{ringing}");
        let talking = body("sip:102@pbx", 2, LineState::Confirmed);
        assert!(talking.contains("<state>confirmed</state>"), "{talking}");
    }

    #[test]
    fn the_entity_cannot_break_out_of_its_attribute() {
        let b = body("sip:\"><x/>@pbx", 0, LineState::Idle);
        assert!(b.contains("entity=\"sip:&quot;&gt;&lt;x/&gt;@pbx\""), "{b}");
    }
}
