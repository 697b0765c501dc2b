//! The live-chat socket's frames: JSON text, one object per WebSocket message, told apart
//! by `type`. What the widget sends (`ClientFrame`) is read here and only here, so a
//! frame the server cannot use gets one answer naming what it expected.

use serde::{Deserialize, Serialize};

/// What the widget sends.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientFrame {
    /// The first frame of every socket: who the visitor is (the token the server gave
    /// them before, kept in the tab's `sessionStorage`, or null for a new visitor).
    Hello {
        #[serde(default)]
        visitor: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
        /// The page's language (`navigator.language`), for the plan's chat routes.
        #[serde(default)]
        language: Option<String>,
        /// The script tag's `data-office`: the office address the chat is written to, so
        /// a `chat livechat "sales"` route can take one site's chats.
        #[serde(default)]
        office: Option<String>,
    },
    /// The visitor wrote something.
    Message { text: String },
    /// The offline form, when no agent is logged in.
    Offline {
        name: String,
        email: String,
        text: String,
    },
}

/// What the server sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to `hello`: the visitor's token (to keep), the office's name, whether
    /// an agent is there to answer, and the conversation so far.
    Welcome {
        visitor: String,
        office: String,
        online: bool,
        history: Vec<Line>,
    },
    /// One line of the conversation, the visitor's own included (so every tab of theirs
    /// shows the same, and a line is shown once it is stored).
    Message(Line),
    /// Whether an agent is there changed since `welcome` (an agent of the route's queue
    /// logged in or out): the widget shows the chat or the offline form.
    Status { online: bool },
    /// The offline form's message is stored.
    OfflineReceived,
    /// An agent ended the chat session; the socket closes after this frame.
    Ended,
    /// A refusal: nothing of the frame it answers was stored.
    Error { code: ErrorCode, error: String },
}

/// One line of the conversation as the visitor sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// The message's id, so a widget that reconnects shows each line once.
    pub id: i64,
    pub from: Author,
    pub text: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The agent's name as the plan spells it, on an agent's lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// The file an agent sent (the line's text is then empty): the widget shows an image
    /// inline and anything else as a download.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// A file on a line, as the widget fetches it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name: String,
    /// Its type, like `image/png` or `application/pdf`.
    #[serde(rename = "type")]
    pub content_type: String,
    /// In bytes.
    pub size: u64,
    /// A signed link on this server (`/chat/files/{id}?exp=…&sig=…`, a path: the widget
    /// resolves it against the server it was loaded from), good for 7 days and signed
    /// afresh each time the line is sent.
    pub url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    Visitor,
    Agent,
}

/// What kind of refusal an `error` frame is, for the widget to act on (stop reconnecting
/// when blocked, wait when too fast); `error` carries the words for the visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A message or form field over its length.
    TooLong,
    /// More than the visitor's messages per window.
    TooFast,
    /// More than the address's connections per minute; the socket closes.
    TooManyConnections,
    /// The address was blocked by an agent; the socket closes.
    Blocked,
    /// A frame that is not one of the widget's, or out of order.
    BadFrame,
    /// The server could not take the message (its store failed); try again.
    NotAvailable,
}

/// Reads one text frame from the widget.
pub fn parse(text: &str) -> Result<ClientFrame, String> {
    serde_json::from_str(text).map_err(|e| {
        format!(
            "a live-chat frame is JSON like {{\"type\":\"message\",\"text\":\"Hello\"}} \
             (types: hello, message, offline): {e}"
        )
    })
}

impl ServerFrame {
    pub fn error(code: ErrorCode, error: impl Into<String>) -> ServerFrame {
        ServerFrame::Error {
            code,
            error: error.into(),
        }
    }

    /// The frame's JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("frames are plain data and always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_read_by_type() {
        assert_eq!(
            parse(r#"{"type":"hello","visitor":null}"#),
            Ok(ClientFrame::Hello {
                visitor: None,
                name: None,
                email: None,
                language: None,
                office: None
            })
        );
        assert_eq!(
            parse(r#"{"type":"message","text":"Hi"}"#),
            Ok(ClientFrame::Message { text: "Hi".into() })
        );
        let offline = parse(r#"{"type":"offline","name":"A","email":"a@b.c","text":"x"}"#);
        assert!(matches!(offline, Ok(ClientFrame::Offline { .. })));
    }

    #[test]
    fn a_frame_that_is_not_ours_is_refused_with_the_expected_shape() {
        for bad in [
            "",
            "hi",
            r#"{"type":"shout"}"#,
            r#"{"type":"message"}"#,
            "[]",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("{\"type\":\"message\""), "{bad}: {e}");
        }
    }

    #[test]
    fn server_frames_are_tagged_json() {
        let line = Line {
            id: 7,
            from: Author::Agent,
            text: "Hello".into(),
            at: "2026-01-01T10:00:00Z".into(),
            agent_name: Some("Bruno".into()),
            attachment: None,
        };
        assert_eq!(
            ServerFrame::Message(line).to_json(),
            r#"{"type":"message","id":7,"from":"agent","text":"Hello","at":"2026-01-01T10:00:00Z","agent_name":"Bruno"}"#
        );
        let file = Line {
            id: 8,
            from: Author::Agent,
            text: String::new(),
            at: "2026-01-01T10:00:01Z".into(),
            agent_name: None,
            attachment: Some(Attachment {
                name: "form.pdf".into(),
                content_type: "application/pdf".into(),
                size: 1234,
                url: "/chat/files/3?exp=1&sig=ab".into(),
            }),
        };
        assert_eq!(
            ServerFrame::Message(file).to_json(),
            r#"{"type":"message","id":8,"from":"agent","text":"","at":"2026-01-01T10:00:01Z","attachment":{"name":"form.pdf","type":"application/pdf","size":1234,"url":"/chat/files/3?exp=1&sig=ab"}}"#
        );
        assert_eq!(ServerFrame::Ended.to_json(), r#"{"type":"ended"}"#);
        assert_eq!(
            ServerFrame::error(ErrorCode::TooFast, "slow down").to_json(),
            r#"{"type":"error","code":"too_fast","error":"slow down"}"#
        );
        assert_eq!(
            ServerFrame::OfflineReceived.to_json(),
            r#"{"type":"offline_received"}"#
        );
    }
}
