//! The office store on disk: the server's `Store`, in one SQLite file.
//!
//! Mailboxes (PIN digests, greetings, name recordings, message metadata), queue logins,
//! hot-desk logins, the SIP credentials (`credentials`), the people's web passwords
//! (`web_passwords`) and the web admins and sign-in sessions (`admins`, `sessions`) live
//! in one database, so they survive a restart and a
//! plan reload. Recordings themselves are files that the media side
//! writes (write, fsync, rename); the store keeps their references.
//!
//! Every write is one `IMMEDIATE` transaction, in WAL mode with `synchronous = FULL`: when
//! a write returns, it is on disk and survives a crash or a power cut, because a voicemail
//! must. Inside the server every store call runs on the store thread (`thread`), which
//! wraps the waiting calls' steps in one transaction (a savepoint each) and answers them
//! only after its `COMMIT`, so the promise holds there too, with one fsync per batch.
//!
//! The semantics are `MemoryStore`'s, with one addition: the database keeps an extension
//! on at most one hot-desk phone (a unique index), and refuses a login that would break
//! that instead of keeping both.
//!
//! Park orbits are the exception to durability: they hold the ids of live calls, and a
//! restart ends every call, so the server empties them at start-up (`clear_parked`).
//! Opening the store leaves them alone, so an admin command run beside a live server
//! (`switchboard user set-password`) does not disturb its parked calls.

mod admins;
mod call_details;
mod changes;
mod chat;
mod chat_blocked;
mod chat_contacts;
mod chat_conversations;
mod chat_files;
pub mod chat_media;
mod chat_messages;
mod chat_offers;
mod chat_outbox;
mod chat_reads;
mod chat_templates;
mod contacts;
mod credentials;
mod office_view;
mod password_hash;
mod pin_attempts;
mod queue_agents;
mod schema;
mod sessions;
mod sip_registrations;
mod team_chat;
mod thread;
mod web_passwords;

pub use admins::Admin;
pub use chat::ChatTx;
pub use chat_contacts::ChatContact;
pub use chat_conversations::{ChatConversation, NewChatConversation};
pub use chat_files::ChatFileRow;
pub use chat_messages::{ChatMessageRow, Direction, NewChatMessage};
pub use chat_outbox::{Delivery, OutboxRow};
pub use chat_templates::{ChatTemplate, TemplateFilter, TemplateText};
pub use contacts::{Contact, ContactText, MAX_CONTACTS_LISTED};
pub use credentials::DigestAlgorithm;
pub use office_view::HotDeskSince;
pub use password_hash::{hash_web_password, verify_web_password};
pub use schema::SCHEMA_VERSION;
pub use sessions::{Session, SessionOwner};
pub use sip_registrations::SavedRegistration;
pub use team_chat::{TeamMessageRow, TeamThreadKind, TeamThreadRow};
pub use thread::{StoreThread, steps_run};
pub use web_passwords::WebPasswordsRemoved;

use crate::private_files;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_core::ids::{CallId, MessageId};
use switchboard_core::pin::PinHash;
use switchboard_core::store::{
    CallDetail, Folder, Message, NewMessage, ParkedCall, PinAttempts, Store, StoreError,
};

/// The office's state in a SQLite file; see the module documentation.
#[derive(Debug)]
pub struct SqliteStore {
    /// The one connection, open from `open` until the store is dropped, when SQLite
    /// checkpoints the log into the file and closes it.
    conn: Connection,
    /// The database file, for error messages.
    path: PathBuf,
    /// What the writes since the store thread last looked changed, for it to tell once
    /// they are committed.
    changed: changes::Changed,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file (readable by its owner only) and its
    /// schema when missing and upgrading an older schema. Park orbits start empty.
    ///
    /// A file that cannot be opened, is not a store, is damaged or was written by a newer
    /// Switchboard is refused with an error that names the path and the fix.
    /// Empties the park orbits. The server calls it at start-up: orbits hold the ids of
    /// live calls, and a restart ended every call. Opening the store does not do it, so
    /// an admin command (`switchboard user set-password`) run beside a live server
    /// leaves its parked calls alone.
    pub fn clear_parked(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM parked", [])
            .map(|_| ())
            .map_err(|e| StoreError::new(format!("clearing the park orbits failed: {e}")))
    }

    /// Opens (or creates) the store at `path`. An existing file looser than `0600` (with
    /// its WAL and shared-memory files) is narrowed to that first: it holds SIP digests
    /// and PIN hashes.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        make_private(path)?;
        Ok(SqliteStore {
            conn: schema::open(path)?,
            path: path.to_path_buf(),
            changed: changes::Changed::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored PIN hash of a mailbox, as `MemoryStore::pin_hash` gives it; for tests
    /// and export.
    pub fn pin_hash(&self, mailbox: &str) -> Result<Option<PinHash>, StoreError> {
        let text: Option<String> = self.read(&format!("read the PIN of {mailbox}"), |conn| {
            conn.query_row(
                "SELECT pin FROM mailboxes WHERE mailbox = ?1",
                [mailbox],
                |row| row.get(0),
            )
            .optional()
            .map(Option::flatten)
        })?;
        let Some(text) = text else {
            return Ok(None);
        };
        text.parse().map(Some).map_err(|e| {
            StoreError::with_source(
                format!(
                    "the stored PIN of mailbox {mailbox} in {} is unreadable ({e}); set the \
                     PIN again",
                    self.path.display()
                ),
                e,
            )
        })
    }

    /// Runs `f` in one `IMMEDIATE` transaction and commits it; `what` says what was being
    /// done, for the error. Inside the store thread's batch (a transaction is open) it
    /// runs in a savepoint instead, so a failing write undoes only itself and the batch's
    /// `COMMIT` makes it durable.
    fn write<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        note_caller_thread();
        let path = &self.path;
        let run = || {
            if self.conn.is_autocommit() {
                let tx = self
                    .conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            } else {
                let savepoint = self.conn.savepoint()?;
                let out = f(&savepoint)?;
                savepoint.commit()?;
                Ok(out)
            }
        };
        run().map_err(|e| failure(path, what, e))
    }

    /// Runs a read; one statement needs no transaction of its own to be consistent.
    fn read<T>(
        &self,
        what: &str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        note_caller_thread();
        f(&self.conn).map_err(|e| failure(&self.path, what, e))
    }

    /// Opens the store thread's batch: one transaction that the steps' writes join.
    fn begin_batch(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| failure(&self.path, "start a transaction", e))
    }

    /// Commits the batch: one fsync for every step in it. On failure what is left of the
    /// transaction is rolled back, so the next batch starts clean.
    fn commit_batch(&mut self) -> Result<(), StoreError> {
        let committed = self.conn.execute_batch("COMMIT");
        if committed.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        committed.map_err(|e| failure(&self.path, "commit", e))
    }

    /// Changes whenever another connection (an admin command) committed to the file.
    fn data_version(&self) -> Result<i64, StoreError> {
        self.read("read the data version", |conn| {
            conn.pragma_query_value(None, "data_version", |row| row.get(0))
        })
    }

    fn set_mailbox_text(
        &mut self,
        mailbox: &str,
        column: MailboxText,
        value: &str,
    ) -> Result<(), StoreError> {
        let (sql, what) = match column {
            MailboxText::Pin => (
                "INSERT INTO mailboxes (mailbox, pin) VALUES (?1, ?2)
                 ON CONFLICT (mailbox) DO UPDATE SET pin = excluded.pin",
                "store the PIN",
            ),
            MailboxText::Greeting => (
                "INSERT INTO mailboxes (mailbox, greeting) VALUES (?1, ?2)
                 ON CONFLICT (mailbox) DO UPDATE SET greeting = excluded.greeting",
                "store the greeting",
            ),
            MailboxText::Name => (
                "INSERT INTO mailboxes (mailbox, name_recording) VALUES (?1, ?2)
                 ON CONFLICT (mailbox) DO UPDATE SET name_recording = excluded.name_recording",
                "store the name recording",
            ),
        };
        self.write(&format!("{what} of {mailbox}"), |tx| {
            tx.execute(sql, [mailbox, value]).map(drop)
        })
    }

    fn mailbox_text(&self, mailbox: &str, sql: &str) -> Result<Option<String>, StoreError> {
        self.read(&format!("read mailbox {mailbox}"), |conn| {
            conn.query_row(sql, [mailbox], |row| row.get(0))
                .optional()
                .map(Option::flatten)
        })
    }
}

/// How many store calls were made on a thread inside a tokio runtime (a worker or the
/// blocking pool) rather than on the store thread or a plain thread of a command. The
/// server keeps this at zero; `runtime/tests/store_thread.rs` checks it after real calls.
static CALLS_IN_ASYNC_RUNTIME: AtomicU64 = AtomicU64::new(0);

/// How many store calls ran inside a tokio runtime since the process started; see
/// ARCHITECTURE.md, "no tokio worker waits on SQLite".
pub fn calls_in_async_runtime() -> u64 {
    CALLS_IN_ASYNC_RUNTIME.load(Ordering::Relaxed)
}

fn note_caller_thread() {
    if tokio::runtime::Handle::try_current().is_ok()
        && CALLS_IN_ASYNC_RUNTIME.fetch_add(1, Ordering::Relaxed) == 0
    {
        tracing::error!(
            "the office store was called on a tokio thread; it belongs to the store thread"
        );
    }
}

/// The text columns of a mailbox that are set the same way.
#[derive(Clone, Copy)]
enum MailboxText {
    Pin,
    Greeting,
    Name,
}

/// A failed statement, in words that name the store, what was being done and, where
/// likely, the fix.
fn failure(path: &Path, what: &str, err: rusqlite::Error) -> StoreError {
    let hint = match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "; another process holds the database locked"
        }
        Some(ErrorCode::DiskFull) => "; the disk is full",
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            "; check that the server may write the file and its folder"
        }
        _ => "",
    };
    StoreError::with_source(
        format!(
            "could not {what} in the office store at {}: {err}{hint}",
            path.display()
        ),
        err,
    )
}

fn folder_text(folder: Folder) -> &'static str {
    match folder {
        Folder::New => "new",
        Folder::Saved => "saved",
    }
}

/// A row of `SELECT id, folder, recording, caller, duration_ms, received`.
fn message_row(row: &Row) -> rusqlite::Result<Message> {
    let folder: String = row.get(1)?;
    Ok(Message {
        id: MessageId(row.get(0)?),
        // The table's CHECK allows these two only.
        folder: if folder == "saved" {
            Folder::Saved
        } else {
            Folder::New
        },
        recording: row.get(2)?,
        from: row.get(3)?,
        duration_ms: row.get(4)?,
        received: row.get(5)?,
    })
}

/// The salted digest of `pin` as `set_pin` stores it, with a fresh random salt: for a
/// plan's `pin "sha256$…"` (`switchboard user set-pin --print`).
pub fn pin_digest(pin: &str) -> Result<PinHash, StoreError> {
    Ok(PinHash::new(pin, fresh_salt()?))
}

/// A random salt for a PIN: equal PINs must not have equal digests.
fn fresh_salt() -> Result<[u8; 16], StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| {
        StoreError::new(format!(
            "the operating system's random source failed ({e}); the PIN was not changed"
        ))
    })?;
    Ok(salt)
}

impl Store for SqliteStore {
    fn now_ms(&self) -> Result<u64, StoreError> {
        self.clock_ms()
    }

    fn agent_last_call_end(&self, agent: &str) -> Result<Option<u64>, StoreError> {
        self.read_agent_last_call_end(agent)
    }

    fn set_agent_last_call_end(&mut self, agent: &str, at_ms: u64) -> Result<(), StoreError> {
        self.write_agent_last_call_end(agent, at_ms)
    }

    fn queue_calls_answered(&self, agent: &str, queue: &str) -> Result<u32, StoreError> {
        self.read_queue_calls_answered(agent, queue)
    }

    fn set_queue_calls_answered(
        &mut self,
        agent: &str,
        queue: &str,
        answered: u32,
    ) -> Result<(), StoreError> {
        self.write_queue_calls_answered(agent, queue, answered)
    }

    fn queue_last_offered(&self, queue: &str) -> Result<Option<String>, StoreError> {
        self.read_queue_last_offered(queue)
    }

    fn set_queue_last_offered(&mut self, queue: &str, agent: &str) -> Result<(), StoreError> {
        self.write_queue_last_offered(queue, agent)
    }

    fn record_call(&mut self, detail: &CallDetail) -> Result<(), StoreError> {
        self.write_call_detail(detail)
    }

    fn call_details(
        &self,
        from_ms: u64,
        to_ms: u64,
        limit: usize,
    ) -> Result<Vec<CallDetail>, StoreError> {
        self.read_call_details(from_ms, to_ms, limit)
    }

    fn pin_attempts(&self, mailbox: &str) -> Result<PinAttempts, StoreError> {
        self.read_pin_attempts(mailbox)
    }

    fn set_pin_attempts(&mut self, mailbox: &str, attempts: PinAttempts) -> Result<(), StoreError> {
        self.write_pin_attempts(mailbox, attempts)
    }

    fn check_pin(&self, mailbox: &str, pin: &str) -> Result<Option<bool>, StoreError> {
        Ok(self.pin_hash(mailbox)?.map(|hash| hash.verify(pin)))
    }

    fn set_pin(&mut self, mailbox: &str, pin: &str) -> Result<(), StoreError> {
        let hash = pin_digest(pin)?;
        self.set_mailbox_text(mailbox, MailboxText::Pin, &hash.to_string())
    }

    fn messages(&self, mailbox: &str, folder: Folder) -> Result<Vec<Message>, StoreError> {
        self.read(&format!("read the messages of {mailbox}"), |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, folder, recording, caller, duration_ms, received FROM messages
                 WHERE mailbox = ?1 AND folder = ?2 ORDER BY id",
            )?;
            let rows = statement.query_map([mailbox, folder_text(folder)], message_row)?;
            rows.collect()
        })
    }

    fn message_counts(&self, mailbox: &str) -> Result<(u32, u32), StoreError> {
        let (new, saved): (i64, i64) =
            self.read(&format!("count the messages of {mailbox}"), |conn| {
                conn.query_row(
                    "SELECT COALESCE(SUM(folder = 'new'), 0), COALESCE(SUM(folder = 'saved'), 0)
                     FROM messages WHERE mailbox = ?1",
                    [mailbox],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
            })?;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok((count(new), count(saved)))
    }

    fn add_message(&mut self, mailbox: &str, message: NewMessage) -> Result<MessageId, StoreError> {
        self.changed.office = true;
        self.write(&format!("save a message for {mailbox}"), |tx| {
            tx.execute(
                "INSERT INTO mailboxes (mailbox) VALUES (?1) ON CONFLICT DO NOTHING",
                [mailbox],
            )?;
            let id = tx.query_row(
                "INSERT INTO messages (mailbox, folder, recording, caller, duration_ms, received)
                 VALUES (?1, 'new', ?2, ?3, ?4, ?5) RETURNING id",
                params![
                    mailbox,
                    message.recording,
                    message.from,
                    message.duration_ms,
                    message.received
                ],
                |row| row.get(0),
            )?;
            Ok(MessageId(id))
        })
    }

    fn move_message(
        &mut self,
        mailbox: &str,
        id: MessageId,
        to: Folder,
    ) -> Result<bool, StoreError> {
        // An id past SQLite's integers was never handed out.
        let Ok(id) = i64::try_from(id.0) else {
            return Ok(false);
        };
        self.changed.office = true;
        self.write(&format!("move message {id} of {mailbox}"), |tx| {
            let n = tx.execute(
                "UPDATE messages SET folder = ?3 WHERE id = ?1 AND mailbox = ?2",
                params![id, mailbox, folder_text(to)],
            )?;
            Ok(n > 0)
        })
    }

    fn delete_message(&mut self, mailbox: &str, id: MessageId) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id.0) else {
            return Ok(false);
        };
        self.changed.office = true;
        self.write(&format!("delete message {id} of {mailbox}"), |tx| {
            let n = tx.execute(
                "DELETE FROM messages WHERE id = ?1 AND mailbox = ?2",
                params![id, mailbox],
            )?;
            Ok(n > 0)
        })
    }

    fn greeting(&self, mailbox: &str) -> Result<Option<String>, StoreError> {
        self.mailbox_text(mailbox, "SELECT greeting FROM mailboxes WHERE mailbox = ?1")
    }

    fn set_greeting(&mut self, mailbox: &str, recording: &str) -> Result<(), StoreError> {
        self.set_mailbox_text(mailbox, MailboxText::Greeting, recording)
    }

    fn name_recording(&self, mailbox: &str) -> Result<Option<String>, StoreError> {
        self.mailbox_text(
            mailbox,
            "SELECT name_recording FROM mailboxes WHERE mailbox = ?1",
        )
    }

    fn set_name_recording(&mut self, mailbox: &str, recording: &str) -> Result<(), StoreError> {
        self.set_mailbox_text(mailbox, MailboxText::Name, recording)
    }

    fn queue_logged_in(&self, agent: &str, queue: &str) -> Result<bool, StoreError> {
        self.read(&format!("read the login of {agent} to {queue}"), |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM queue_logins WHERE agent = ?1 AND queue = ?2)",
                [agent, queue],
                |row| row.get(0),
            )
        })
    }

    fn set_queue_logged_in(
        &mut self,
        agent: &str,
        queue: &str,
        logged_in: bool,
    ) -> Result<(), StoreError> {
        let sql = if logged_in {
            "INSERT INTO queue_logins (agent, queue) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM queue_logins WHERE agent = ?1 AND queue = ?2"
        };
        self.changed.office = true;
        self.write(&format!("log {agent} in or out of {queue}"), |tx| {
            tx.execute(sql, [agent, queue]).map(drop)
        })
    }

    fn hot_desk_extension(&self, device_mac: &str) -> Result<Option<String>, StoreError> {
        self.read(&format!("read the login on phone {device_mac}"), |conn| {
            conn.query_row(
                "SELECT extension FROM hot_desks WHERE device_mac = ?1",
                [device_mac],
                |row| row.get(0),
            )
            .optional()
        })
    }

    fn hot_desk_device(&self, extension: &str) -> Result<Option<String>, StoreError> {
        self.read(&format!("read the hot-desk phone of {extension}"), |conn| {
            conn.query_row(
                "SELECT device_mac FROM hot_desks WHERE extension = ?1 ORDER BY device_mac",
                [extension],
                |row| row.get(0),
            )
            .optional()
        })
    }

    fn set_hot_desk(
        &mut self,
        device_mac: &str,
        extension: Option<&str>,
    ) -> Result<(), StoreError> {
        self.changed.office = true;
        let Some(extension) = extension else {
            return self.write(&format!("log out phone {device_mac}"), |tx| {
                tx.execute("DELETE FROM hot_desks WHERE device_mac = ?1", [device_mac])
                    .map(drop)
            });
        };
        // A login again by the one logged in keeps its start; another extension's starts now.
        let now = i64::try_from(self.clock_ms()?).unwrap_or(i64::MAX);
        let elsewhere: Option<String> =
            self.write(&format!("log {extension} in on {device_mac}"), |tx| {
                let elsewhere = tx
                    .query_row(
                        "SELECT device_mac FROM hot_desks WHERE extension = ?1 AND device_mac <> ?2",
                        [extension, device_mac],
                        |row| row.get(0),
                    )
                    .optional()?;
                if elsewhere.is_none() {
                    tx.execute(
                        "INSERT INTO hot_desks (device_mac, extension, since) VALUES (?1, ?2, ?3)
                         ON CONFLICT (device_mac) DO UPDATE SET
                             since = CASE WHEN extension = excluded.extension
                                     THEN since ELSE excluded.since END,
                             extension = excluded.extension",
                        params![device_mac, extension, now],
                    )?;
                }
                Ok(elsewhere)
            })?;
        match elsewhere {
            None => Ok(()),
            Some(other) => Err(StoreError::new(format!(
                "extension {extension} is already logged in on hot-desk phone {other}; log \
                 it out there first (office::hot_desk_login does)"
            ))),
        }
    }

    fn hot_desk_logins(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.read("list the hot-desk logins", |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT device_mac, extension FROM hot_desks ORDER BY device_mac, extension",
            )?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        })
    }

    fn parked(&self, orbit: &str) -> Result<Option<ParkedCall>, StoreError> {
        self.read(&format!("read park orbit {orbit}"), |conn| {
            conn.query_row(
                "SELECT call_id, caller FROM parked WHERE orbit = ?1",
                [orbit],
                |row| {
                    Ok(ParkedCall {
                        call: CallId(row.get(0)?),
                        from: row.get(1)?,
                    })
                },
            )
            .optional()
        })
    }

    fn set_parked(&mut self, orbit: &str, parked: Option<ParkedCall>) -> Result<(), StoreError> {
        self.changed.office = true;
        self.write(&format!("update park orbit {orbit}"), |tx| {
            match parked {
                Some(call) => tx.execute(
                    "INSERT INTO parked (orbit, call_id, caller) VALUES (?1, ?2, ?3)
                     ON CONFLICT (orbit) DO UPDATE SET
                         call_id = excluded.call_id, caller = excluded.caller",
                    params![orbit, call.call.0, call.from],
                ),
                None => tx.execute("DELETE FROM parked WHERE orbit = ?1", [orbit]),
            }
            .map(drop)
        })
    }
}

/// Tightens an existing database file and its `-wal` and `-shm` files to `0600` when
/// they are looser (made by an older version or an admin's tool); `schema::open` creates
/// a missing one `0600`, and SQLite gives the files beside it the main file's mode.
fn make_private(path: &Path) -> Result<(), StoreError> {
    let failed = |e: std::io::Error| StoreError::new(format!("{}: {e}", path.display()));
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = std::path::PathBuf::from(name);
        match private_files::tighten(&file, private_files::FILE_MODE) {
            Ok(found) => private_files::log(&file, found),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(failed(e)),
        }
    }
    Ok(())
}
