//! The message-waiting indication (RFC 3842) a phone shows as its lamp.

/// The `Event` of a message-waiting NOTIFY.
pub const EVENT: &str = "message-summary";
/// The `Content-Type` of its body.
pub const CONTENT_TYPE: &str = "application/simple-message-summary";

/// The body of a message-waiting NOTIFY for a voice mailbox with `new` unheard
/// and `saved` heard messages (none of them urgent).
pub fn summary(new: u32, saved: u32) -> String {
    let waiting = if new > 0 { "yes" } else { "no" };
    format!("Messages-Waiting: {waiting}\r\nVoice-Message: {new}/{saved} (0/0)\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lamp_is_lit_only_for_new_messages() {
        assert_eq!(
            summary(2, 1),
            "Messages-Waiting: yes\r\nVoice-Message: 2/1 (0/0)\r\n"
        );
        assert_eq!(
            summary(0, 4),
            "Messages-Waiting: no\r\nVoice-Message: 0/4 (0/0)\r\n"
        );
    }
}
