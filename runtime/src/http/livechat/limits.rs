//! The live chat's limits: how long a message may be, how many messages one visitor and
//! one address may send, how many new visitors and new conversations one address may
//! start, and how many sockets it may open in a while. Pure: the time is handed in, so
//! the tests run them faster than real time.
//!
//! The three an address shares across all its visitors (messages a minute, new chats and
//! new visitors in ten minutes) are the admin's to set (`chat.livechat.per-network`,
//! `config/chat/livechat`): a site whose customers come through a mobile carrier's shared
//! addresses needs them far higher than a small office does. The constants here are their
//! defaults.
//!
//! Per visitor alone is not enough: a visitor token costs nothing (a `hello` without one
//! gets a fresh one), so a script that mints a token per message would get a fresh
//! allowance each time. So every limit on what is stored is counted per address too,
//! across all its visitors. An address counts as its source (`crate::ip_source`): an
//! IPv4 address, or an IPv6 address's whole /64, which one customer line holds.
//!
//! A refused message or connection is not counted: a visitor who keeps typing while
//! refused gets through again as soon as the window has room, and a flood costs the
//! server one refusal per frame, never a store write.
//!
//! The tables are bounded: at `MAX_KEYS` keys a window forgets the idle ones, then the
//! least recently seen, so an attacker with many addresses costs memory for `MAX_KEYS`
//! only (and evicts the quiet addresses first, not the one flooding now).

use crate::config::PerNetworkLimits;
use crate::ip_source::source_of;
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

/// How many messages one address may send per `ADDRESS_MESSAGE_WINDOW`, all its visitors
/// together, unless the config says otherwise. A person chatting writes a line every 5
/// to 10 seconds at most (6 to 12 a minute), so 30 lets two or three people behind one
/// office router chat at full speed at once; a script is held to one stored message
/// every 2 seconds however many visitor tokens it holds.
pub const MESSAGES_PER_ADDRESS: usize = 30;
pub const ADDRESS_MESSAGE_WINDOW: Duration = Duration::from_secs(60);

/// How many new conversations one address may start per `NEW_WINDOW`, unless the config
/// says otherwise. Each is a new line in every agent's list, and an office of a few
/// agents answers a chat in minutes: five new chats from one network in ten minutes is
/// already more than they take from anyone; a sixth waits (a visitor who already chats
/// goes on chatting).
pub const CONVERSATIONS_PER_ADDRESS: usize = 5;

/// How many new visitors (tokens the address has not said hello with lately) one address
/// may have per `NEW_WINDOW`, unless the config says otherwise. The widget asks for a
/// token the first time a browser tab opens the chat (a reload, a reconnect keep it), so
/// 20 is a busy office's or a family's tabs; a script making tokens in a loop is told to
/// wait.
pub const VISITORS_PER_ADDRESS: usize = 20;
pub const NEW_WINDOW: Duration = Duration::from_secs(10 * 60);

/// How many sockets one address may open per `CONNECTION_WINDOW`: a page that reloads
/// often stays well under it, a script opening sockets in a loop does not.
pub const CONNECTIONS_PER_WINDOW: usize = 30;
pub const CONNECTION_WINDOW: Duration = Duration::from_secs(60);

/// How many sockets one address may hold open at once. An upgraded socket leaves the
/// HTTP server's connection table (`http/connections`), so this bounds what an address
/// can hold at the rate above; many visitors behind one office NAT stay well under it.
pub const OPEN_PER_ADDRESS: usize = 50;

/// The most keys (visitors, addresses) one window remembers. 10,000 addresses of 30
/// times each (the defaults) is a few megabytes; an office that raises the per-network
/// limits raises this cost with them (at most 100,000 times per address).
pub const MAX_KEYS: usize = 10_000;

/// At most `max` events per `span` for each key, over a sliding window, remembering at
/// most `MAX_KEYS` keys.
#[derive(Debug)]
pub struct Window<K> {
    max: usize,
    span: Duration,
    /// Per key, its counted events less than `span` old (older ones are dropped when the
    /// key is next used), oldest first.
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

    /// How many events a key may have per span.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Counts an event of `key` at `now`, or refuses it (uncounted) with how long until
    /// the window has room again.
    pub fn admit(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        self.check(key, now)?;
        self.count(key, now);
        Ok(())
    }

    /// Whether an event of `key` at `now` would be admitted; counts nothing (so several
    /// windows can be asked before any counts).
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let Some(times) = self.seen.get(key) else {
            return Ok(());
        };
        let first_live = times.partition_point(|t| !self.in_window(*t, now));
        let live = times.len() - first_live;
        if live >= self.max {
            // Room comes when the event that makes the window full leaves it.
            let leaves = times[first_live + live - self.max];
            return Err(self.span - now.saturating_duration_since(leaves));
        }
        Ok(())
    }

    /// Counts an event of `key` at `now`, whatever the window holds (after `check`).
    pub fn count(&mut self, key: &K, now: Instant) {
        if !self.seen.contains_key(key) && self.seen.len() >= MAX_KEYS {
            self.make_room(now);
        }
        let span = self.span;
        let times = self.seen.entry(key.clone()).or_default();
        while times
            .front()
            .is_some_and(|first| now.saturating_duration_since(*first) >= span)
        {
            times.pop_front();
        }
        times.push_back(now);
    }

    fn in_window(&self, t: Instant, now: Instant) -> bool {
        now.saturating_duration_since(t) < self.span
    }

    /// Forgets the idle keys; when that is not enough, the eighth seen longest ago, so
    /// the next `MAX_KEYS / 8` new keys cost no sweep.
    fn make_room(&mut self, now: Instant) {
        let span = self.span;
        self.seen.retain(|_, times| {
            times
                .back()
                .is_some_and(|last| now.saturating_duration_since(*last) < span)
        });
        if self.seen.len() < MAX_KEYS {
            return;
        }
        let mut last_seen: Vec<Instant> = self
            .seen
            .values()
            .filter_map(|t| t.back().copied())
            .collect();
        let evict = self.seen.len() - MAX_KEYS * 7 / 8;
        let (_, cut, _) = last_seen.select_nth_unstable(evict - 1);
        let cut = *cut;
        let mut left = evict;
        self.seen.retain(|_, times| {
            let old = left > 0 && times.back().is_none_or(|last| *last <= cut);
            if old {
                left -= 1;
            }
            !old
        });
    }

    /// How many keys the window holds now (idle ones until room is next made).
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.seen.len()
    }
}

/// What one visitor's message is counted against: the visitor's window, their address's,
/// and when it starts a conversation, the address's new conversations.
#[derive(Debug)]
pub struct MessageLimits {
    per_visitor: Window<String>,
    per_address: Window<IpAddr>,
    new_conversations: Window<IpAddr>,
}

impl MessageLimits {
    /// The limits with an address's shares as the config sets them.
    pub fn new(per_network: &PerNetworkLimits) -> MessageLimits {
        MessageLimits {
            per_visitor: Window::new(MESSAGES_PER_WINDOW, MESSAGE_WINDOW),
            per_address: Window::new(per_network.messages_per_minute, ADDRESS_MESSAGE_WINDOW),
            new_conversations: Window::new(per_network.new_chats_per_10_minutes, NEW_WINDOW),
        }
    }

    /// Counts a message of `visitor_id` from `address` at `now` (one that would start a
    /// conversation when `starts_conversation`), or refuses it, counted nowhere, with the
    /// words for the visitor.
    pub fn admit(
        &mut self,
        visitor_id: &str,
        address: IpAddr,
        starts_conversation: bool,
        now: Instant,
    ) -> Result<(), String> {
        let visitor = visitor_id.to_string();
        let source = source_of(address);
        self.per_visitor.check(&visitor, now).map_err(too_fast)?;
        self.per_address
            .check(&source, now)
            .map_err(|wait| too_many_from_address(self.per_address.max(), wait))?;
        if starts_conversation {
            self.new_conversations
                .check(&source, now)
                .map_err(|wait| too_many_new_chats(self.new_conversations.max(), wait))?;
            self.new_conversations.count(&source, now);
        }
        self.per_visitor.count(&visitor, now);
        self.per_address.count(&source, now);
        Ok(())
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

/// The sockets opened from each address (counted by source).
pub fn connection_window() -> Window<IpAddr> {
    Window::new(CONNECTIONS_PER_WINDOW, CONNECTION_WINDOW)
}

/// The new visitors of each address (counted by source): a visitor token the address has
/// not said `hello` with within `NEW_WINDOW` is new, whoever made it. A token is 64 hex
/// digits the server cannot tell from one it minted, so counting only the tokens it
/// hands out would let a script make up its own and never be counted.
#[derive(Debug)]
pub struct NewVisitors {
    per_address: Window<IpAddr>,
    /// Each (source, visitor id) that said hello lately, once: bounded like every window,
    /// and at most the address's allowance of live ones per source, since more are
    /// refused.
    seen: Window<(IpAddr, String)>,
}

impl NewVisitors {
    /// The new visitors with an address's allowance as the config sets it.
    pub fn new(per_network: &PerNetworkLimits) -> NewVisitors {
        NewVisitors {
            per_address: Window::new(per_network.new_visitors_per_10_minutes, NEW_WINDOW),
            seen: Window::new(1, NEW_WINDOW),
        }
    }

    /// Admits visitor `visitor_id`'s hello from `address` at `now`: a visitor seen from
    /// there lately always (a reload, a reconnect), a new one while the address has room,
    /// else the words saying how long until it has (the refusal counted nowhere).
    pub fn admit(&mut self, address: IpAddr, visitor_id: &str, now: Instant) -> Result<(), String> {
        let source = source_of(address);
        let pair = (source, visitor_id.to_string());
        if self.seen.check(&pair, now).is_err() {
            return Ok(());
        }
        let max = self.per_address.max();
        self.per_address
            .admit(&source, now)
            .map_err(|wait| too_many_new_visitors(max, wait))?;
        self.seen.count(&pair, now);
        Ok(())
    }
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

/// The words for an address over its `max` messages per minute, all its visitors
/// together.
fn too_many_from_address(max: usize, wait: Duration) -> String {
    format!(
        "Too many messages from your network (at most {max} a minute); this one was not \
         sent. Wait {} seconds and send it again.",
        wait.as_secs().max(1)
    )
}

/// The words for an address over its `max` new conversations.
fn too_many_new_chats(max: usize, wait: Duration) -> String {
    format!(
        "Too many new chats from your network (at most {max} in {} minutes); this message \
         was not sent. Wait {} seconds and send it again.",
        NEW_WINDOW.as_secs() / 60,
        wait.as_secs().max(1)
    )
}

/// The words for an address given more than its `max` new visitor tokens.
fn too_many_new_visitors(max: usize, wait: Duration) -> String {
    format!(
        "Too many new chat visitors from your network (at most {max} in {} minutes); try \
         again in {} seconds.",
        NEW_WINDOW.as_secs() / 60,
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
    fn idle_keys_are_forgotten_once_the_table_is_full() {
        let start = Instant::now();
        let mut w = Window::new(1, Duration::from_secs(1));
        for i in 0..MAX_KEYS {
            w.admit(&i, start).unwrap();
        }
        assert_eq!(w.keys(), MAX_KEYS);
        w.admit(&usize::MAX, start + Duration::from_secs(2))
            .unwrap();
        assert_eq!(w.keys(), 1);
    }

    #[test]
    fn many_busy_addresses_cost_at_most_max_keys_and_the_quietest_go_first() {
        // An attacker with more addresses than the table holds, each of them still
        // within its window: the table stays bounded, the least recently seen go.
        let start = Instant::now();
        let mut w = Window::new(100, Duration::from_secs(600));
        let flooder: IpAddr = [198, 51, 100, 7].into();
        let n = 3 * MAX_KEYS as u32;
        let key = |i: u32| IpAddr::from(std::net::Ipv6Addr::from(u128::from(i) << 64));
        for i in 0..n {
            let at = start + Duration::from_millis(u64::from(i));
            w.admit(&key(i), at).unwrap();
            assert!(w.keys() <= MAX_KEYS, "{} keys after {i}", w.keys());
            // The address sending now is seen often, so it is never the oldest.
            if i % 1000 == 0 {
                w.admit(&flooder, at).unwrap();
            }
        }
        assert_eq!(
            w.seen.get(&flooder).map(VecDeque::len),
            Some(30),
            "its count was kept"
        );
        // The first addresses were forgotten, the last ones kept.
        assert!(!w.seen.contains_key(&key(0)));
        assert!(w.seen.contains_key(&key(n - 1)));
    }

    #[test]
    fn fresh_visitor_ids_from_one_address_share_its_allowance() {
        let start = Instant::now();
        let mut limits = MessageLimits::new(&PerNetworkLimits::default());
        let here: IpAddr = [192, 0, 2, 1].into();
        // A new visitor id for every message, each starting no conversation (they chat
        // on): 30 a minute, then "too many messages from your network".
        for i in 0..MESSAGES_PER_ADDRESS {
            let at = start + Duration::from_secs(i as u64);
            limits.admit(&format!("v-{i}"), here, false, at).unwrap();
        }
        let at = start + Duration::from_secs(40);
        let words = limits.admit("v-new", here, false, at).unwrap_err();
        assert!(
            words.contains("from your network") && words.contains("Wait 20 seconds"),
            "{words}"
        );
        // Another address is not affected; the refusal counted nowhere.
        limits
            .admit("v-new", [192, 0, 2, 2].into(), false, at)
            .unwrap();
        let at = start + Duration::from_secs(60);
        limits.admit("v-new", here, false, at).unwrap();
    }

    #[test]
    fn an_address_starts_five_conversations_in_ten_minutes_and_its_64_is_one_address() {
        let start = Instant::now();
        let mut limits = MessageLimits::new(&PerNetworkLimits::default());
        for i in 0..CONVERSATIONS_PER_ADDRESS {
            let ip: IpAddr = format!("2001:db8:1:2::{i}").parse().unwrap();
            let at = start + Duration::from_secs(60 * i as u64);
            limits.admit(&format!("v-{i}"), ip, true, at).unwrap();
        }
        let sibling: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let at = start + Duration::from_secs(300);
        let words = limits.admit("v-6", sibling, true, at).unwrap_err();
        assert!(
            words.contains("new chats from your network") && words.contains("300 seconds"),
            "{words}"
        );
        // Visitors who already chat go on; another /64 starts its own.
        limits.admit("v-0", sibling, false, at).unwrap();
        let neighbour: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        limits.admit("v-7", neighbour, true, at).unwrap();
        // The refused message counted nowhere.
        assert!(!limits.per_visitor.seen.contains_key("v-6"));
    }

    #[test]
    fn an_address_shares_are_the_configured_ones_and_the_words_name_them() {
        let start = Instant::now();
        let per_network = PerNetworkLimits {
            messages_per_minute: 3,
            new_chats_per_10_minutes: 2,
            new_visitors_per_10_minutes: 1,
        };
        let here: IpAddr = [192, 0, 2, 1].into();
        let mut limits = MessageLimits::new(&per_network);
        limits.admit("v-0", here, true, start).unwrap();
        limits.admit("v-1", here, true, start).unwrap();
        let words = limits.admit("v-2", here, true, start).unwrap_err();
        assert!(words.contains("(at most 2 in 10 minutes)"), "{words}");
        limits.admit("v-0", here, false, start).unwrap();
        let words = limits.admit("v-1", here, false, start).unwrap_err();
        assert!(words.contains("(at most 3 a minute)"), "{words}");
        let mut visitors = NewVisitors::new(&per_network);
        visitors.admit(here, "v-0", start).unwrap();
        let words = visitors.admit(here, "v-1", start).unwrap_err();
        assert!(words.contains("(at most 1 in 10 minutes)"), "{words}");
    }

    #[test]
    fn any_token_new_to_an_address_is_a_new_visitor_and_a_known_one_comes_back() {
        let start = Instant::now();
        let mut visitors = NewVisitors::new(&PerNetworkLimits::default());
        let here: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        for i in 0..VISITORS_PER_ADDRESS {
            visitors.admit(here, &format!("v-{i}"), start).unwrap();
        }
        // Another address of the same /64, a token never seen: refused, counted nowhere.
        let sibling: IpAddr = "2001:db8:1:2::9".parse().unwrap();
        let words = visitors.admit(sibling, "v-new", start).unwrap_err();
        assert!(
            words.contains("at most 20 in 10 minutes") && words.contains("600 seconds"),
            "{words}"
        );
        // A visitor seen from there comes back; the refused one is still new.
        visitors.admit(sibling, "v-3", start).unwrap();
        assert!(visitors.admit(here, "v-new", start).is_err());
        // Once the window has passed, room again.
        visitors.admit(here, "v-new", start + NEW_WINDOW).unwrap();
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
