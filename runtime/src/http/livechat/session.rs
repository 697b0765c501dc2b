//! One visitor's socket, from `hello` to close: the one place the live chat's frames meet
//! the WebSocket.
//!
//! At open: the address's connection limit and block are checked, then the widget has
//! `HELLO_DEADLINE` to say `hello` (a visitor new to the address counted against its new
//! visitors); the answer is `welcome` with the visitor's token, the office's name,
//! whether an agent is there, and the conversation so far. Then the socket
//! carries the visitor's messages to the hub (each checked against the limits first;
//! a refused one is answered with an `error` frame and never reaches the hub) and the
//! hub's news of the visitor's conversation back: new lines (the visitor's own
//! included, so every tab of theirs shows what was stored), the end of the session, a
//! block. The socket is pinged every `PING_EVERY` and closed when nothing was heard for
//! `SILENT_LIMIT` (a laptop closed mid-chat sends no close frame).

use super::LiveChat;
use super::desk::{Desk, Events, Happened, NotTaken, Visit};
use super::frames::{self, ClientFrame, ErrorCode, ServerFrame};
use super::hello::{Hello, read_hello};
use super::limits;
use super::visitor::VisitorToken;
use crate::ip_source::source_of;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long a new socket may take to say `hello`.
pub const HELLO_DEADLINE: Duration = Duration::from_secs(10);
/// How often the server pings an open socket.
pub const PING_EVERY: Duration = Duration::from_secs(30);
/// A socket nothing was heard from for this long is closed.
pub const SILENT_LIMIT: Duration = Duration::from_secs(75);

/// What a socket starts with.
pub struct Opened {
    pub desk: Desk,
    pub live: Arc<LiveChat>,
    pub address: IpAddr,
    /// Cancelled when the server stops.
    pub stop: CancellationToken,
}

/// Runs the socket until the visitor leaves, the session ends or the server stops.
pub async fn run(mut socket: WebSocket, opened: Opened) {
    let Opened {
        desk,
        live,
        address,
        stop,
    } = opened;
    // The limits count the address's source: an IPv6 visitor's whole /64.
    let source = source_of(address);
    if let Err(wait) = live.admit_connection(source, Instant::now()) {
        let words = limits::too_many_connections(wait);
        refuse(
            &mut socket,
            ErrorCode::TooManyConnections,
            words,
            close_code::AGAIN,
        )
        .await;
        return;
    }
    let Some(_open) = live.hold_open(source) else {
        let words = limits::too_many_open();
        let code = ErrorCode::TooManyConnections;
        refuse(&mut socket, code, words, close_code::AGAIN).await;
        return;
    };
    match desk.is_blocked(address, None).await {
        Ok(false) => {}
        Ok(true) => return refuse_blocked(&mut socket).await,
        Err(e) => return unavailable(&mut socket, &e).await,
    }
    // Subscribed before the history is read: a line stored in between is not lost; so is
    // a login between `welcome`'s answer and the socket's serving.
    let events = desk.events();
    let office = desk.office_changes();
    let hello = tokio::select! {
        () = stop.cancelled() => return,
        hello = tokio::time::timeout(HELLO_DEADLINE, socket.recv()) => hello,
    };
    let text = match hello {
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return,
        Ok(Some(Ok(_))) => {
            let words = "the first frame is {\"type\":\"hello\",\"visitor\":null}".to_string();
            return refuse(&mut socket, ErrorCode::BadFrame, words, close_code::POLICY).await;
        }
        Err(_) => {
            let words = format!(
                "no hello within {} seconds; the widget says hello as the socket opens",
                HELLO_DEADLINE.as_secs()
            );
            return refuse(&mut socket, ErrorCode::BadFrame, words, close_code::POLICY).await;
        }
    };
    let Hello { token, visit } = match read_hello(text.as_str(), address) {
        Ok(hello) => hello,
        Err((code, words)) => {
            return refuse(&mut socket, code, words, close_code::POLICY).await;
        }
    };
    // A new token is a new allowance per visitor: the address may only get so many. New
    // is any token the address has not used lately, minted here or made up by a script.
    if let Err(words) = live.admit_new_visitor(source, &visit.visitor_id, Instant::now()) {
        let code = ErrorCode::TooManyConnections;
        return refuse(&mut socket, code, words, close_code::AGAIN).await;
    }
    let mut session = Session {
        socket,
        desk,
        live,
        visit,
        conversation: None,
        last_shown: 0,
        online: false,
    };
    if session.welcome(&token).await {
        session.serve(events, office, stop).await;
    }
}

pub(super) fn try_again() -> String {
    "The chat cannot take messages right now; please try again in a moment.".to_string()
}

struct Session {
    socket: WebSocket,
    desk: Desk,
    live: Arc<LiveChat>,
    visit: Visit,
    /// The visitor's conversation, once they have one.
    conversation: Option<i64>,
    /// The id of the last line sent to this socket.
    last_shown: i64,
    /// Whether an agent was there, as this socket last told the widget.
    online: bool,
}

/// What woke the session up.
enum Woken {
    Stop,
    Frame(Option<Result<Message, axum::Error>>),
    Hub(Option<Happened>),
    /// The office changed (`false`: its announcer is gone, the server is stopping).
    Office(bool),
    Ping,
}

impl Session {
    /// Sends `welcome`; false when the socket should close.
    async fn welcome(&mut self, token: &VisitorToken) -> bool {
        // The visitor may come back from another address; Block refused them too.
        let visitor = Some(self.visit.visitor_id.as_str());
        match self.desk.is_blocked(self.visit.address, visitor).await {
            Ok(false) => {}
            Ok(true) => {
                refuse_blocked(&mut self.socket).await;
                return false;
            }
            Err(e) => {
                unavailable(&mut self.socket, &e).await;
                return false;
            }
        }
        let office = self.visit.office.as_deref();
        let language = self.visit.language.as_deref();
        let (found, online) = match tokio::join!(
            self.desk.conversation(&self.visit.visitor_id, office),
            self.desk.online(office, language)
        ) {
            (Ok(found), Ok(online)) => (found, online),
            (Err(e), _) | (_, Err(e)) => {
                unavailable(&mut self.socket, &e).await;
                return false;
            }
        };
        self.online = online;
        let history = match found {
            Some((conversation, lines)) => {
                self.conversation = Some(conversation);
                self.last_shown = lines.iter().map(|l| l.id).max().unwrap_or(0);
                lines
            }
            None => Vec::new(),
        };
        let welcome = ServerFrame::Welcome {
            visitor: token.as_str().to_string(),
            office: self.live.config.office_name.clone(),
            online,
            history,
        };
        self.send(&welcome).await
    }

    async fn serve(
        &mut self,
        mut events: Events,
        mut office: tokio::sync::watch::Receiver<u64>,
        stop: CancellationToken,
    ) {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await; // the first tick is now
        let mut heard = Instant::now();
        loop {
            let woken = tokio::select! {
                () = stop.cancelled() => Woken::Stop,
                frame = self.socket.recv() => Woken::Frame(frame),
                event = events.next() => Woken::Hub(event),
                changed = office.changed() => Woken::Office(changed.is_ok()),
                _ = ping.tick() => Woken::Ping,
            };
            let keep_open = match woken {
                Woken::Stop => {
                    close(
                        &mut self.socket,
                        close_code::AWAY,
                        "the server is restarting",
                    )
                    .await;
                    false
                }
                Woken::Frame(Some(Ok(message))) => {
                    heard = Instant::now();
                    self.on_message(message).await
                }
                Woken::Frame(Some(Err(_)) | None) => false,
                // The hub is gone: the server is stopping.
                Woken::Hub(None) => false,
                Woken::Hub(Some(happened)) => self.on_hub(happened).await,
                Woken::Office(false) => false,
                Woken::Office(true) => self.on_office().await,
                Woken::Ping => {
                    heard.elapsed() < SILENT_LIMIT
                        && self
                            .socket
                            .send(Message::Ping(Default::default()))
                            .await
                            .is_ok()
                }
            };
            if !keep_open {
                return;
            }
        }
    }

    /// The office changed: tells the widget when whether an agent is there changed (a
    /// registration or a voicemail changes the office too, and is not told).
    async fn on_office(&mut self) -> bool {
        let office = self.visit.office.as_deref();
        let language = self.visit.language.as_deref();
        match self.desk.online(office, language).await {
            Ok(online) if online != self.online => {
                self.online = online;
                self.send(&ServerFrame::Status { online }).await
            }
            Ok(_) => true,
            Err(e) => {
                tracing::warn!("a live-chat socket could not read whether an agent is there: {e}");
                true
            }
        }
    }

    async fn on_message(&mut self, message: Message) -> bool {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return false,
            Message::Ping(_) | Message::Pong(_) => return true,
            Message::Binary(_) => {
                let words = "frames are JSON text, like {\"type\":\"message\",\"text\":\"Hello\"}";
                return self.error(ErrorCode::BadFrame, words.to_string()).await;
            }
        };
        match frames::parse(text.as_str()) {
            Err(e) => self.error(ErrorCode::BadFrame, e).await,
            Ok(ClientFrame::Hello { .. }) => {
                let words = "hello is said once, as the socket opens".to_string();
                self.error(ErrorCode::BadFrame, words).await
            }
            Ok(ClientFrame::Message { text }) => self.on_text(text).await,
            Ok(ClientFrame::Offline { name, email, text }) => {
                self.on_offline(name, email, text).await
            }
        }
    }

    /// The visitor wrote: checked, then handed to the hub, then shown.
    async fn on_text(&mut self, text: String) -> bool {
        if let Err(words) = limits::check_message(&text) {
            return self.error(ErrorCode::TooLong, words).await;
        }
        if let Err(words) = self.admit_message() {
            return self.error(ErrorCode::TooFast, words).await;
        }
        let visit = self.visit.clone();
        self.hand_over(&visit, &text).await && self.catch_up().await
    }

    /// The offline form: a message like any other, with the visitor's name and email.
    async fn on_offline(&mut self, name: String, email: String, text: String) -> bool {
        let (name, email) = (name.trim().to_string(), email.trim().to_string());
        let checked = limits::check_message(&text)
            .and_then(|()| limits::check_field("name", &name))
            .and_then(|()| limits::check_field("email address", &email));
        if let Err(words) = checked {
            return self.error(ErrorCode::TooLong, words).await;
        }
        if name.is_empty() || !looks_like_email(&email) {
            let words = "Please give your name and an email address (like name@example.com), \
                         so the office can write back."
                .to_string();
            return self.error(ErrorCode::BadFrame, words).await;
        }
        if let Err(words) = self.admit_message() {
            return self.error(ErrorCode::TooFast, words).await;
        }
        // The visitor's name and email stay with this socket's later messages too.
        self.visit.name = Some(name);
        self.visit.email = Some(email);
        let visit = self.visit.clone();
        self.hand_over(&visit, &text).await
            && self.send(&ServerFrame::OfflineReceived).await
            && self.catch_up().await
    }

    /// The visitor's and the address's message limits; a visitor without a
    /// conversation yet starts one, counted against the address's new conversations.
    fn admit_message(&self) -> Result<(), String> {
        self.live.admit_message(
            &self.visit.visitor_id,
            self.visit.address,
            self.conversation.is_none(),
            Instant::now(),
        )
    }

    /// `receive` at the hub; false when the socket should close.
    async fn hand_over(&mut self, visit: &Visit, text: &str) -> bool {
        match self.desk.receive(visit, text).await {
            Ok(conversation) => {
                self.conversation = Some(conversation);
                true
            }
            Err(NotTaken::Blocked) => {
                refuse_blocked(&mut self.socket).await;
                false
            }
            Err(NotTaken::Failed(e)) => {
                tracing::error!("a live-chat message could not be stored: {e}");
                self.error(ErrorCode::NotAvailable, try_again()).await
            }
        }
    }

    async fn on_hub(&mut self, happened: Happened) -> bool {
        let mine = |c: i64| self.conversation == Some(c);
        match happened {
            Happened::Changed(c) if mine(c) => self.catch_up().await,
            Happened::Missed => self.catch_up().await,
            Happened::Ended(c) if mine(c) => {
                if self.catch_up().await && self.send(&ServerFrame::Ended).await {
                    close(&mut self.socket, close_code::NORMAL, "the chat has ended").await;
                }
                false
            }
            Happened::Blocked(c) if mine(c) => {
                refuse_blocked(&mut self.socket).await;
                false
            }
            _ => true,
        }
    }

    /// Sends the lines stored since the last one this socket showed.
    async fn catch_up(&mut self) -> bool {
        let Some(conversation) = self.conversation else {
            return true;
        };
        let lines = match self.desk.lines_after(conversation, self.last_shown).await {
            Ok(lines) => lines,
            Err(e) => {
                tracing::error!("reading a live chat's new lines failed: {e}");
                return true; // the next event tries again
            }
        };
        for line in lines {
            self.last_shown = self.last_shown.max(line.id);
            if !self.send(&ServerFrame::Message(line)).await {
                return false;
            }
        }
        true
    }

    async fn error(&mut self, code: ErrorCode, words: String) -> bool {
        self.send(&ServerFrame::error(code, words)).await
    }

    async fn send(&mut self, frame: &ServerFrame) -> bool {
        self.socket
            .send(Message::Text(frame.to_json().into()))
            .await
            .is_ok()
    }
}

/// `a@b.c`-shaped: the office writes back to it, so a typo should be caught here.
fn looks_like_email(text: &str) -> bool {
    let Some((user, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An `error` frame, then the socket closed with `code`.
async fn refuse(socket: &mut WebSocket, error: ErrorCode, words: String, code: u16) {
    let frame = ServerFrame::error(error, words);
    if socket
        .send(Message::Text(frame.to_json().into()))
        .await
        .is_ok()
    {
        close(socket, code, "refused").await;
    }
}

async fn refuse_blocked(socket: &mut WebSocket) {
    let words = "This chat is not available from your address.".to_string();
    refuse(socket, ErrorCode::Blocked, words, close_code::POLICY).await;
}

async fn unavailable(socket: &mut WebSocket, e: &str) {
    tracing::error!("a live-chat socket could not be served: {e}");
    refuse(
        socket,
        ErrorCode::NotAvailable,
        try_again(),
        close_code::AGAIN,
    )
    .await;
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_needs_a_user_and_a_dotted_domain() {
        assert!(looks_like_email("ann@example.com"));
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a nn@example.com",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
