//! The live chat's limits: how long a message may be, how many messages one visitor may
//! send and how many sockets one address may open in a while. Pure: the time is handed
//! in, so the tests run them faster than real time.
//!
//! A refused message or connection is not counted: a visitor who keeps typing while
//! refused gets through again as soon as the window has room, and a flood costs the
//! server one refusal per frame, never a store write.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The longest message (and offline form text), in characters as the visitor counts
/// them (Unicode scalar values), not bytes.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// The longest name or email address the offline form and `hello` take.
pub const MAX_FIELD_CHARS: usize = 200;

/// The largest WebSocket message the socket reads: a 2,000-character message of 4-byte
/// characters, JSON-escaped, fits; a bigger one closes the socket unread.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;

/// How many messages one visitor may send per `MESSAGE_WINDOW`.
pub const MESSAGES_PER_WINDOW: usize = 5;
pub const MESSAGE_WINDOW: Duration = Duration::from_secs(10);

/// How many sockets one address may open per `CONNECTION_WINDOW`: a page that reloads
/// often stays well under it, a script opening sockets in a loop does not.
pub const CONNECTIONS_PER_WINDOW: usize = 30;
pub const CONNECTION_WINDOW: Duration = Duration::from_secs(60);

/// How many sockets one address may hold open at once. An upgraded socket leaves the
/// HTTP server's connection table (`http/connections`), so this bounds what an address
/// can hold at the rate above; many visitors behind one office NAT stay well under it.
pub const OPEN_PER_ADDRESS: usize = 50;

/// How many keys a window forgets idle ones after: the tables stay small whoever calls.
const SWEEP_AT: usize = 4_096;

/// At most `max` events per `span` for each key, over a sliding window.
#[derive(Debug)]
pub struct Window<K> {
    max: usize,
    span: Duration,
    seen: HashMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq + Clone> Window<K> {
    pub fn new(max: usize, span: Duration) -> Window<K> {
        Window {
            max,
            span,
            seen: HashMap::new(),
        }
    }

    /// Counts an event of `key` at `now`, or refuses it (uncounted) with how long until
    /// the window has room again.
    pub fn admit(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.seen.len() >= SWEEP_AT {
            let span = self.span;
            self.seen.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.saturating_duration_since(*last) < span)
            });
        }
        let times = self.seen.entry(key.clone()).or_default();
        while times
            .front()
            .is_some_and(|first| now.saturating_duration_since(*first) >= self.span)
        {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = *times.front().expect("a full window holds events");
            return Err(self.span - now.saturating_duration_since(oldest));
        }
        times.push_back(now);
        Ok(())
    }

    /// How many keys the window holds now (idle ones until the next sweep).
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.seen.len()
    }
}

/// The sockets open now, per address.
#[derive(Debug, Default)]
pub struct OpenSockets {
    per_address: HashMap<IpAddr, usize>,
}

impl OpenSockets {
    /// Counts a socket of `address` as open, unless it already holds `OPEN_PER_ADDRESS`.
    pub fn open(&mut self, address: IpAddr) -> bool {
        let held = self.per_address.entry(address).or_default();
        if *held >= OPEN_PER_ADDRESS {
            return false;
        }
        *held += 1;
        true
    }

    /// One socket of `address` closed.
    pub fn close(&mut self, address: IpAddr) {
        if let Some(held) = self.per_address.get_mut(&address) {
            *held -= 1;
            if *held == 0 {
                self.per_address.remove(&address);
            }
        }
    }
}

/// The messages of each visitor (by visitor id).
pub fn message_window() -> Window<String> {
    Window::new(MESSAGES_PER_WINDOW, MESSAGE_WINDOW)
}

/// The sockets opened from each address.
pub fn connection_window() -> Window<IpAddr> {
    Window::new(CONNECTIONS_PER_WINDOW, CONNECTION_WINDOW)
}

/// Whether `text` is over `MAX_MESSAGE_CHARS`, and the words saying so.
pub fn check_message(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(format!(
            "Your message is {chars} characters long; a message may be at most \
             {MAX_MESSAGE_CHARS}. Please split it and send it again."
        ));
    }
    if text.trim().is_empty() {
        return Err("An empty message is not sent; write something first.".to_string());
    }
    Ok(())
}

/// Whether a name or email address (`what`) fits `MAX_FIELD_CHARS`.
pub fn check_field(what: &str, value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(format!(
            "The {what} may be at most {MAX_FIELD_CHARS} characters long."
        ));
    }
    Ok(())
}

/// The words for a visitor over the message limit.
pub fn too_fast(wait: Duration) -> String {
    format!(
        "You are sending messages too fast (at most {MESSAGES_PER_WINDOW} in {} seconds); \
         this one was not sent. Wait {} seconds and send it again.",
        MESSAGE_WINDOW.as_secs(),
        wait.as_secs().max(1)
    )
}

/// The words for an address holding too many sockets open.
pub fn too_many_open() -> String {
    format!(
        "Too many chat windows are open from your address (at most {OPEN_PER_ADDRESS}); \
         close one and try again."
    )
}

/// The words for an address over the connection limit.
pub fn too_many_connections(wait: Duration) -> String {
    format!(
        "Too many chat connections from your address (at most {CONNECTIONS_PER_WINDOW} a \
         minute); try again in {} seconds.",
        wait.as_secs().max(1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_max_then_refuses_until_the_oldest_leaves() {
        let start = Instant::now();
        let mut w = Window::new(5, Duration::from_secs(10));
        let key = "v".to_string();
        for i in 0..5 {
            assert!(w.admit(&key, start + Duration::from_secs(i)).is_ok(), "{i}");
        }
        let wait = w.admit(&key, start + Duration::from_secs(5)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(5));
        // The refusal was not counted: the first event leaving makes room for one.
        assert!(w.admit(&key, start + Duration::from_secs(10)).is_ok());
        assert!(w.admit(&key, start + Duration::from_secs(10)).is_err());
        // Another key has its own window.
        assert!(w.admit(&"other".to_string(), start).is_ok());
    }

    #[test]
    fn idle_keys_are_forgotten_once_the_table_is_large() {
        let start = Instant::now();
        let mut w = Window::new(1, Duration::from_secs(1));
        for i in 0..SWEEP_AT {
            w.admit(&i, start).unwrap();
        }
        assert_eq!(w.keys(), SWEEP_AT);
        w.admit(&usize::MAX, start + Duration::from_secs(2))
            .unwrap();
        assert_eq!(w.keys(), 1);
    }

    #[test]
    fn an_address_holds_at_most_its_share_of_open_sockets() {
        let mut open = OpenSockets::default();
        let a: IpAddr = [192, 0, 2, 1].into();
        let b: IpAddr = [192, 0, 2, 2].into();
        for _ in 0..OPEN_PER_ADDRESS {
            assert!(open.open(a));
        }
        assert!(!open.open(a));
        assert!(open.open(b));
        open.close(a);
        assert!(open.open(a));
        for _ in 0..OPEN_PER_ADDRESS {
            open.close(a);
        }
        open.close(b);
        assert!(
            open.per_address.is_empty(),
            "closed addresses are forgotten"
        );
    }

    #[test]
    fn messages_are_measured_in_characters() {
        assert!(check_message(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        let e = check_message(&"a".repeat(MAX_MESSAGE_CHARS + 1)).unwrap_err();
        assert!(
            e.contains("2001 characters") && e.contains("at most 2000"),
            "{e}"
        );
        assert!(check_message("  \n").is_err());
    }
}
