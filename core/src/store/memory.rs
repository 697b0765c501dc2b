//! The store in memory: for tests, the `test` blocks of a plan and a server without a
//! database. It never fails.

use super::{CallDetail, Folder, Message, NewMessage, ParkedCall, PinAttempts, Store, StoreError};
use crate::ids::MessageId;
use crate::pin::PinHash;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Everything a store keeps in memory; see `Store` for what each part means.
#[derive(Debug)]
pub struct MemoryStore {
    mailboxes: HashMap<String, Mailbox>,
    /// (agent, queue) pairs that are logged in; absent means logged out.
    queue_logins: BTreeSet<(String, String)>,
    /// Hot-desk phone MAC to the extension logged in on it; a BTreeMap so that listing the
    /// logins comes out sorted without extra work.
    hot_desks: BTreeMap<String, String>,
    parked: HashMap<String, ParkedCall>,
    pin_attempts: HashMap<String, PinAttempts>,
    call_details: Vec<CallDetail>,
    /// Per agent: when their last queue call ended.
    agent_call_ends: HashMap<String, u64>,
    /// Per (agent, queue): calls answered since logging in.
    queue_answered: HashMap<(String, String), u32>,
    /// Per queue: the agent last offered a call.
    queue_turns: HashMap<String, String>,
    /// The virtual clock (`Store::now_ms`): it stands still until `advance` moves it, as
    /// the `World` does when its own clock moves.
    clock_ms: u64,
    /// The last message id handed out; ids start at 1 and are never reused.
    last_message: u64,
    salts: Salts,
}

#[derive(Debug, Default)]
struct Mailbox {
    pin: Option<PinHash>,
    /// In the order they arrived, which is also id order; moving keeps the place.
    messages: Vec<Message>,
    greeting: Option<String>,
    name: Option<String>,
}

/// Salts from a deterministic generator: SHA-256 of a seed and a counter.
///
/// `core` may not read the OS random source, and tests want repeatable runs. Salts need to
/// be distinct rather than secret, which a counter under a hash gives. The SQLite store
/// lives in the runtime and will draw its salts from the OS random source instead.
#[derive(Debug)]
struct Salts {
    seed: u64,
    counter: u64,
}

impl Salts {
    fn next(&mut self) -> [u8; 16] {
        self.counter += 1;
        let mut hasher = Sha256::new();
        hasher.update(b"switchboard memory-store salt");
        hasher.update(self.seed.to_le_bytes());
        hasher.update(self.counter.to_le_bytes());
        let digest: [u8; 32] = hasher.finalize().into();
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&digest[..16]);
        salt
    }
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::with_seed(0)
    }
}

impl MemoryStore {
    /// An empty store with the default salt seed.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store whose PIN salts derive from `seed`, so that two stores in one test
    /// can be told to salt differently.
    pub fn with_seed(seed: u64) -> MemoryStore {
        MemoryStore {
            mailboxes: HashMap::new(),
            queue_logins: BTreeSet::new(),
            hot_desks: BTreeMap::new(),
            parked: HashMap::new(),
            pin_attempts: HashMap::new(),
            call_details: Vec::new(),
            agent_call_ends: HashMap::new(),
            queue_answered: HashMap::new(),
            queue_turns: HashMap::new(),
            clock_ms: 0,
            last_message: 0,
            salts: Salts { seed, counter: 0 },
        }
    }

    /// The stored PIN hash, as the SQLite store would keep it; for tests and export.
    pub fn pin_hash(&self, mailbox: &str) -> Option<&PinHash> {
        self.mailboxes.get(mailbox)?.pin.as_ref()
    }

    /// Moves the virtual clock on by `ms`.
    pub fn advance(&mut self, ms: u64) {
        self.clock_ms = self.clock_ms.saturating_add(ms);
    }

    fn mailbox(&mut self, mailbox: &str) -> &mut Mailbox {
        self.mailboxes.entry(mailbox.to_string()).or_default()
    }
}

impl Store for MemoryStore {
    fn now_ms(&self) -> Result<u64, StoreError> {
        Ok(self.clock_ms)
    }

    fn record_call(&mut self, detail: &CallDetail) -> Result<(), StoreError> {
        self.call_details.push(detail.clone());
        Ok(())
    }

    fn call_details(
        &self,
        from_ms: u64,
        to_ms: u64,
        limit: usize,
    ) -> Result<Vec<CallDetail>, StoreError> {
        let mut found: Vec<CallDetail> = self
            .call_details
            .iter()
            .filter(|d| (from_ms..to_ms).contains(&d.started_ms))
            .cloned()
            .collect();
        found.sort_by_key(|d| d.started_ms);
        found.truncate(limit);
        Ok(found)
    }

    fn pin_attempts(&self, mailbox: &str) -> Result<PinAttempts, StoreError> {
        Ok(self.pin_attempts.get(mailbox).copied().unwrap_or_default())
    }

    fn set_pin_attempts(&mut self, mailbox: &str, attempts: PinAttempts) -> Result<(), StoreError> {
        if attempts == PinAttempts::default() {
            self.pin_attempts.remove(mailbox);
        } else {
            self.pin_attempts.insert(mailbox.to_string(), attempts);
        }
        Ok(())
    }

    fn check_pin(&self, mailbox: &str, pin: &str) -> Result<Option<bool>, StoreError> {
        Ok(self.pin_hash(mailbox).map(|hash| hash.verify(pin)))
    }

    fn set_pin(&mut self, mailbox: &str, pin: &str) -> Result<(), StoreError> {
        let hash = PinHash::new(pin, self.salts.next());
        self.mailbox(mailbox).pin = Some(hash);
        Ok(())
    }

    fn messages(&self, mailbox: &str, folder: Folder) -> Result<Vec<Message>, StoreError> {
        let Some(mailbox) = self.mailboxes.get(mailbox) else {
            return Ok(Vec::new());
        };
        Ok(mailbox
            .messages
            .iter()
            .filter(|m| m.folder == folder)
            .cloned()
            .collect())
    }

    fn message_counts(&self, mailbox: &str) -> Result<(u32, u32), StoreError> {
        let Some(mailbox) = self.mailboxes.get(mailbox) else {
            return Ok((0, 0));
        };
        let count = |folder| {
            let n = mailbox
                .messages
                .iter()
                .filter(|m| m.folder == folder)
                .count();
            u32::try_from(n).unwrap_or(u32::MAX)
        };
        Ok((count(Folder::New), count(Folder::Saved)))
    }

    fn add_message(&mut self, mailbox: &str, message: NewMessage) -> Result<MessageId, StoreError> {
        self.last_message += 1;
        let id = MessageId(self.last_message);
        self.mailbox(mailbox).messages.push(Message {
            id,
            folder: Folder::New,
            recording: message.recording,
            from: message.from,
            duration_ms: message.duration_ms,
            received: message.received,
        });
        Ok(id)
    }

    fn move_message(
        &mut self,
        mailbox: &str,
        id: MessageId,
        to: Folder,
    ) -> Result<bool, StoreError> {
        let found = self
            .mailboxes
            .get_mut(mailbox)
            .and_then(|m| m.messages.iter_mut().find(|m| m.id == id));
        Ok(match found {
            Some(message) => {
                message.folder = to;
                true
            }
            None => false,
        })
    }

    fn delete_message(&mut self, mailbox: &str, id: MessageId) -> Result<bool, StoreError> {
        let Some(mailbox) = self.mailboxes.get_mut(mailbox) else {
            return Ok(false);
        };
        let before = mailbox.messages.len();
        mailbox.messages.retain(|m| m.id != id);
        Ok(mailbox.messages.len() != before)
    }

    fn greeting(&self, mailbox: &str) -> Result<Option<String>, StoreError> {
        Ok(self.mailboxes.get(mailbox).and_then(|m| m.greeting.clone()))
    }

    fn set_greeting(&mut self, mailbox: &str, recording: &str) -> Result<(), StoreError> {
        self.mailbox(mailbox).greeting = Some(recording.to_string());
        Ok(())
    }

    fn name_recording(&self, mailbox: &str) -> Result<Option<String>, StoreError> {
        Ok(self.mailboxes.get(mailbox).and_then(|m| m.name.clone()))
    }

    fn set_name_recording(&mut self, mailbox: &str, recording: &str) -> Result<(), StoreError> {
        self.mailbox(mailbox).name = Some(recording.to_string());
        Ok(())
    }

    fn queue_logged_in(&self, agent: &str, queue: &str) -> Result<bool, StoreError> {
        let key = (agent.to_string(), queue.to_string());
        Ok(self.queue_logins.contains(&key))
    }

    fn set_queue_logged_in(
        &mut self,
        agent: &str,
        queue: &str,
        logged_in: bool,
    ) -> Result<(), StoreError> {
        let key = (agent.to_string(), queue.to_string());
        if logged_in {
            self.queue_logins.insert(key);
        } else {
            self.queue_logins.remove(&key);
        }
        Ok(())
    }

    fn agent_last_call_end(&self, agent: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.agent_call_ends.get(agent).copied())
    }

    fn set_agent_last_call_end(&mut self, agent: &str, at_ms: u64) -> Result<(), StoreError> {
        self.agent_call_ends.insert(agent.to_string(), at_ms);
        Ok(())
    }

    fn queue_calls_answered(&self, agent: &str, queue: &str) -> Result<u32, StoreError> {
        let key = (agent.to_string(), queue.to_string());
        Ok(self.queue_answered.get(&key).copied().unwrap_or(0))
    }

    fn set_queue_calls_answered(
        &mut self,
        agent: &str,
        queue: &str,
        answered: u32,
    ) -> Result<(), StoreError> {
        self.queue_answered
            .insert((agent.to_string(), queue.to_string()), answered);
        Ok(())
    }

    fn queue_last_offered(&self, queue: &str) -> Result<Option<String>, StoreError> {
        Ok(self.queue_turns.get(queue).cloned())
    }

    fn set_queue_last_offered(&mut self, queue: &str, agent: &str) -> Result<(), StoreError> {
        self.queue_turns
            .insert(queue.to_string(), agent.to_string());
        Ok(())
    }

    fn hot_desk_extension(&self, device_mac: &str) -> Result<Option<String>, StoreError> {
        Ok(self.hot_desks.get(device_mac).cloned())
    }

    fn hot_desk_device(&self, extension: &str) -> Result<Option<String>, StoreError> {
        // A scan is fine: an office has tens of hot-desk phones, not thousands.
        Ok(self
            .hot_desks
            .iter()
            .find(|(_, ext)| *ext == extension)
            .map(|(mac, _)| mac.clone()))
    }

    fn set_hot_desk(
        &mut self,
        device_mac: &str,
        extension: Option<&str>,
    ) -> Result<(), StoreError> {
        match extension {
            Some(ext) => self
                .hot_desks
                .insert(device_mac.to_string(), ext.to_string()),
            None => self.hot_desks.remove(device_mac),
        };
        Ok(())
    }

    fn hot_desk_logins(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .hot_desks
            .iter()
            .map(|(mac, ext)| (mac.clone(), ext.clone()))
            .collect())
    }

    fn parked(&self, orbit: &str) -> Result<Option<ParkedCall>, StoreError> {
        Ok(self.parked.get(orbit).cloned())
    }

    fn set_parked(&mut self, orbit: &str, parked: Option<ParkedCall>) -> Result<(), StoreError> {
        match parked {
            Some(call) => self.parked.insert(orbit.to_string(), call),
            None => self.parked.remove(orbit),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    #[test]
    fn pins_are_hashed_with_fresh_salts() {
        let mut s = MemoryStore::new();
        conformance::pins_are_checked_per_mailbox(&mut s);
        // The same PIN in two mailboxes must not give the same stored text.
        s.set_pin("101", "1234").unwrap();
        let (a, b) = (s.pin_hash("101").unwrap(), s.pin_hash("102").unwrap());
        assert_ne!(a.to_string(), b.to_string());
        assert!(!a.to_string().contains("1234"));
    }

    #[test]
    fn salts_are_repeatable_per_seed() {
        let salted = |seed| {
            let mut s = MemoryStore::with_seed(seed);
            s.set_pin("101", "1234").unwrap();
            s.pin_hash("101").unwrap().to_string()
        };
        assert_eq!(salted(1), salted(1));
        assert_ne!(salted(1), salted(2));
        assert_eq!(
            MemoryStore::new().salts.seed,
            MemoryStore::with_seed(0).salts.seed
        );
    }

    #[test]
    fn messages_arrive_new_and_keep_their_order_across_folders() {
        conformance::messages_arrive_new_and_keep_their_order_across_folders(
            &mut MemoryStore::new(),
        );
    }

    #[test]
    fn moving_or_deleting_needs_the_message_in_that_mailbox() {
        conformance::moving_or_deleting_needs_the_message_in_that_mailbox(&mut MemoryStore::new());
    }

    #[test]
    fn greetings_and_names_are_per_mailbox_and_replaceable() {
        conformance::greetings_and_names_are_per_mailbox_and_replaceable(&mut MemoryStore::new());
    }

    #[test]
    fn queue_logins_are_per_agent_and_queue() {
        conformance::queue_logins_are_per_agent_and_queue(&mut MemoryStore::new());
    }

    #[test]
    fn hot_desks_map_both_ways_and_list_sorted() {
        conformance::hot_desks_map_both_ways_and_list_sorted(&mut MemoryStore::new());
    }

    #[test]
    fn orbits_hold_one_call_each() {
        conformance::orbits_hold_one_call_each(&mut MemoryStore::new());
    }

    #[test]
    fn pin_attempts_are_kept_per_mailbox() {
        conformance::pin_attempts_are_kept_per_mailbox(&mut MemoryStore::new());
    }

    #[test]
    fn call_details_are_kept_and_listed_by_when_they_started() {
        conformance::call_details_are_kept_and_listed_by_when_they_started(&mut MemoryStore::new());
    }

    #[test]
    fn queue_agent_history_is_kept_per_agent_and_queue() {
        conformance::queue_agent_history_is_kept_per_agent_and_queue(&mut MemoryStore::new());
    }

    #[test]
    fn the_virtual_clock_moves_only_when_told() {
        let mut s = MemoryStore::new();
        assert_eq!(s.now_ms().unwrap(), 0);
        s.advance(60_000);
        s.advance(1);
        assert_eq!(s.now_ms().unwrap(), 60_001);
    }
}
