//! Opening the store's file: the connection settings, the versioned schema and its
//! migrations, and the errors that tell an admin what is wrong with the file and what to do.

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;
use switchboard_core::store::StoreError;

/// The schema version this build reads and writes; the file keeps its own in
/// `PRAGMA user_version` (0 for a file that has none yet).
pub const SCHEMA_VERSION: u32 = 15;

/// One function per version: `MIGRATIONS[n]` takes a store from version `n` to `n + 1`.
/// A released migration is never edited; a change to the schema is a new one.
const MIGRATIONS: [fn(&Transaction) -> rusqlite::Result<()>; SCHEMA_VERSION as usize] = [
    to_v1, to_v2, to_v3, to_v4, to_v5, to_v6, to_v7, to_v8, to_v9, to_v10, to_v11, to_v12, to_v13,
    to_v14, to_v15,
];

/// How long a statement waits for another process's lock before failing. Calls wait on the
/// store, so this is short; only a tool reading the file beside the server should contend.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens (creating if needed) the store at `path`, brings its schema up to date and empties
/// the park orbits.
pub(super) fn open(path: &Path) -> Result<Connection, StoreError> {
    create_private(path)?;
    // No URI flag: a file called `file:…` is a file, not a URI with options.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    configure(&conn).map_err(|e| open_error(path, e))?;
    check_integrity(&conn, path)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Creates a missing store file readable by its owner only: it holds SIP digests, which
/// are enough to register as an extension. SQLite gives its `-wal` and `-shm` files the
/// same permissions.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::with_source(
            format!(
                "cannot create the office store at {}: {e}; check that its folder exists and \
                 that the server may write to it",
                path.display()
            ),
            e,
        )),
    }
}

/// The connection's settings. `journal_mode` is the first statement to read the file, so
/// a file that is not a database fails here.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets a reader (an admin tool, a backup) read while the server writes.
    // `synchronous = FULL` syncs the log on every commit: a write that returned survives a
    // crash or a power cut, which a voicemail must.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Statement journals (one per savepoint-wrapped write) and temporary indexes stay in
    // memory: on disk each was a new temporary file, ~130 a second under chat load.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Refuses a damaged file at start-up rather than failing calls one by one later. The
/// store holds metadata only (recordings are files), so the check is quick.
fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    // At most a few findings: the first says enough, and a wrecked file has thousands.
    let findings = conn
        .prepare("PRAGMA quick_check(3)")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(|e| open_error(path, e))?;
    if findings.iter().all(|f| f == "ok") {
        return Ok(());
    }
    let findings = findings
        .iter()
        .flat_map(|f| f.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("***"))
        .collect::<Vec<_>>()
        .join("; ");
    Err(StoreError::new(format!(
        "the office store at {} is damaged ({findings}); restore it from a backup, or move \
         it aside to start with an empty store",
        path.display()
    )))
}

/// Runs each missing migration in its own transaction, recording the version with it, so
/// a crash mid-upgrade leaves the file at the last complete version.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    loop {
        // IMMEDIATE, and the version read inside: two servers started at once on a new
        // file do not both create the tables.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| open_error(path, e))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| open_error(path, e))?;
        let Some(version) = u32::try_from(version).ok().filter(|v| *v <= SCHEMA_VERSION) else {
            return Err(StoreError::new(format!(
                "the office store at {} has schema version {version}, which this Switchboard \
                 does not know (it writes version {SCHEMA_VERSION}); run the Switchboard \
                 that wrote it, or restore a backup from before the upgrade",
                path.display()
            )));
        };
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        if version == 0 && has_tables(&tx).map_err(|e| open_error(path, e))? {
            return Err(StoreError::new(format!(
                "{} is a SQLite database of something else (it has tables but no Switchboard \
                 schema version); point the server at another file",
                path.display()
            )));
        }
        let step = MIGRATIONS[version as usize];
        step(&tx)
            .and_then(|()| tx.pragma_update(None, "user_version", version + 1))
            .and_then(|()| tx.commit())
            .map_err(|e| {
                StoreError::with_source(
                    format!(
                        "could not upgrade the office store at {} to schema version {}: {e}",
                        path.display(),
                        version + 1
                    ),
                    e,
                )
            })?;
    }
}

fn has_tables(tx: &Transaction) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table')",
        [],
        |row| row.get(0),
    )
}

/// Version 1: mailboxes, messages, queue logins, hot desks, park orbits, SIP credentials.
fn to_v1(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        -- One row per mailbox that has anything stored. `pin` is a PinHash in its text
        -- form (`sha256$<salt>$<digest>`), never the PIN.
        CREATE TABLE mailboxes (
            mailbox        TEXT PRIMARY KEY NOT NULL,
            pin            TEXT,
            greeting       TEXT,
            name_recording TEXT
        ) STRICT;

        -- AUTOINCREMENT: an id is never handed out twice, even after the newest message
        -- is deleted, so a stale id cannot reach a newer message.
        CREATE TABLE messages (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox     TEXT NOT NULL REFERENCES mailboxes (mailbox),
            folder      TEXT NOT NULL CHECK (folder IN ('new', 'saved')),
            recording   TEXT NOT NULL,
            caller      TEXT NOT NULL,
            duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
            received    TEXT NOT NULL
        ) STRICT;
        CREATE INDEX messages_by_folder ON messages (mailbox, folder, id);

        -- A row is a login; no row is logged out.
        CREATE TABLE queue_logins (
            agent TEXT NOT NULL,
            queue TEXT NOT NULL,
            PRIMARY KEY (agent, queue)
        ) STRICT, WITHOUT ROWID;

        -- UNIQUE extension: an extension is logged in on at most one phone.
        CREATE TABLE hot_desks (
            device_mac TEXT PRIMARY KEY NOT NULL,
            extension  TEXT NOT NULL UNIQUE
        ) STRICT;

        -- Emptied on every open: a restart ends every call.
        CREATE TABLE parked (
            orbit   TEXT PRIMARY KEY NOT NULL,
            call_id INTEGER NOT NULL CHECK (call_id >= 0),
            caller  TEXT NOT NULL
        ) STRICT;

        -- Digest HA1 values, lowercase hex; never the password. One realm per extension:
        -- an HA1 is bound to its realm, so a new realm needs the password set again.
        CREATE TABLE sip_credentials (
            extension  TEXT PRIMARY KEY NOT NULL,
            realm      TEXT NOT NULL,
            ha1_md5    TEXT NOT NULL,
            ha1_sha256 TEXT NOT NULL
        ) STRICT;
        ",
    )
}

/// Version 2: the wrong PINs counted per mailbox and the locks they caused (see
/// `switchboard_core::office::try_pin`). A table of its own rather than columns of
/// `mailboxes`, whose rows are the owner's data: a guesser may count against any
/// mailbox, which must not create or touch the owner's row.
fn to_v2(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        -- Times are milliseconds since the Unix epoch; a row is deleted when the PIN
        -- opens the mailbox again.
        CREATE TABLE pin_attempts (
            mailbox      TEXT PRIMARY KEY NOT NULL,
            failures     INTEGER NOT NULL CHECK (failures >= 0),
            since        INTEGER NOT NULL CHECK (since >= 0),
            locks        INTEGER NOT NULL CHECK (locks >= 0),
            locked_until INTEGER NOT NULL CHECK (locked_until >= 0)
        ) STRICT;
        ",
    )
}

/// Version 3: the records of finished calls (`Store::record_call`). Times are
/// milliseconds since the Unix epoch; a row is never changed once written.
fn to_v3(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE call_details (
            id           INTEGER PRIMARY KEY,
            sip_call_id  TEXT NOT NULL,
            started      INTEGER NOT NULL CHECK (started >= 0),
            answered     INTEGER CHECK (answered >= 0),
            ended        INTEGER NOT NULL CHECK (ended >= 0),
            caller       TEXT NOT NULL,
            dialled      TEXT NOT NULL,
            answered_by  TEXT,
            outcome      TEXT NOT NULL,
            hung_up_by   TEXT NOT NULL CHECK (hung_up_by IN ('caller', 'callee', 'server')),
            plan_version INTEGER NOT NULL CHECK (plan_version >= 0)
        ) STRICT;
        CREATE INDEX call_details_by_start ON call_details (started);
        ",
    )
}

/// Version 4: what the queues remember of their agents (`queue_agents`), for wrap-up and
/// `longest_idle`; calls answered per agent and queue (`fewest_calls`); and each queue's
/// last offer (`round_robin`).
fn to_v4(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE queue_agents (
            agent         TEXT PRIMARY KEY,
            last_call_end INTEGER NOT NULL CHECK (last_call_end >= 0)
        ) STRICT;
        CREATE TABLE queue_answered (
            agent    TEXT NOT NULL,
            queue    TEXT NOT NULL,
            answered INTEGER NOT NULL CHECK (answered >= 0),
            PRIMARY KEY (agent, queue)
        ) STRICT;
        CREATE TABLE queue_turns (
            queue        TEXT PRIMARY KEY,
            last_offered TEXT NOT NULL
        ) STRICT;
        ",
    )
}

/// Version 5: when each hot-desk login began, for the admin's view of the office
/// (`GET /api/office`). Milliseconds since the Unix epoch; `NULL` for a login made
/// before this version, whose start nobody noted.
fn to_v5(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE hot_desks ADD COLUMN since INTEGER CHECK (since >= 0);")
}

/// Version 6: the web editor's admins (`admins`: an Argon2id hash of each password, a
/// PHC string, never the password) and their sign-in sessions (`sessions`: the SHA-256
/// of each session token, never the token). Times are milliseconds since the Unix epoch.
fn to_v6(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE admins (
            name          TEXT PRIMARY KEY NOT NULL,
            password_hash TEXT NOT NULL,
            password_set  INTEGER NOT NULL CHECK (password_set >= 0)
        ) STRICT;
        CREATE TABLE sessions (
            token_sha256 TEXT PRIMARY KEY NOT NULL,
            admin        TEXT NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
            created      INTEGER NOT NULL CHECK (created >= 0),
            expires      INTEGER NOT NULL CHECK (expires >= 0)
        ) STRICT;
        CREATE INDEX sessions_by_admin ON sessions (admin);
        ",
    )
}

/// Version 7: the people's web passwords (`web_passwords`: an Argon2id hash per
/// extension, beside its SIP digests, never the password), and sessions of either kind:
/// an admin's (`admin` set) or a person's (`extension` set), told apart by `kind`. The
/// v6 sessions, all admins', are kept. A person's sessions go with their web password.
fn to_v7(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE web_passwords (
            extension     TEXT PRIMARY KEY NOT NULL,
            password_hash TEXT NOT NULL,
            password_set  INTEGER NOT NULL CHECK (password_set >= 0)
        ) STRICT;
        ALTER TABLE sessions RENAME TO sessions_v6;
        DROP INDEX sessions_by_admin;
        CREATE TABLE sessions (
            token_sha256 TEXT PRIMARY KEY NOT NULL,
            kind         TEXT NOT NULL CHECK (kind IN ('admin', 'person')),
            admin        TEXT REFERENCES admins (name) ON DELETE CASCADE,
            extension    TEXT REFERENCES web_passwords (extension) ON DELETE CASCADE,
            created      INTEGER NOT NULL CHECK (created >= 0),
            expires      INTEGER NOT NULL CHECK (expires >= 0),
            CHECK ((kind = 'admin' AND admin IS NOT NULL AND extension IS NULL)
                OR (kind = 'person' AND extension IS NOT NULL AND admin IS NULL))
        ) STRICT;
        INSERT INTO sessions (token_sha256, kind, admin, extension, created, expires)
            SELECT token_sha256, 'admin', admin, NULL, created, expires FROM sessions_v6;
        DROP TABLE sessions_v6;
        CREATE INDEX sessions_by_admin ON sessions (admin);
        CREATE INDEX sessions_by_extension ON sessions (extension);
        ",
    )
}

/// Version 8: chat (issue 11; `chat*.rs`). A conversation is one customer on one channel
/// writing to one office address (`''` where the channel has none); its messages, whom it
/// is offered to, the replies waiting for their provider (`chat_outbox`, one row per
/// outgoing message, written in the same transaction as the message), blocked live-chat
/// addresses and the quick-response templates. Times are milliseconds since the Unix
/// epoch. A provider's retried webhook is stored once: `UNIQUE (channel, provider_id)`.
fn to_v8(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        -- What a customer told us about themself, per channel and address.
        CREATE TABLE chat_contacts (
            channel        TEXT NOT NULL
                           CHECK (channel IN ('livechat', 'whatsapp', 'facebook', 'sms')),
            address        TEXT NOT NULL,
            name           TEXT,
            email          TEXT,
            remote_address TEXT,
            updated_at     INTEGER NOT NULL CHECK (updated_at >= 0),
            PRIMARY KEY (channel, address)
        ) STRICT, WITHOUT ROWID;

        -- `owner` NULL: offered (see chat_offers). `routed_to` is what routing chose
        -- ('queue 800', 'extension 102'), '' when nothing took it.
        CREATE TABLE chat_conversations (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            channel        TEXT NOT NULL
                           CHECK (channel IN ('livechat', 'whatsapp', 'facebook', 'sms')),
            customer       TEXT NOT NULL,
            office_address TEXT NOT NULL,
            contact_name   TEXT,
            remote_address TEXT,
            routed_to      TEXT NOT NULL,
            owner          TEXT,
            taken_at       INTEGER CHECK (taken_at >= 0),
            archived       INTEGER NOT NULL CHECK (archived IN (0, 1)),
            dealt_with_at  INTEGER CHECK (dealt_with_at >= 0),
            created_at     INTEGER NOT NULL CHECK (created_at >= 0),
            last_at        INTEGER NOT NULL CHECK (last_at >= 0),
            UNIQUE (channel, customer, office_address)
        ) STRICT;
        CREATE INDEX chat_conversations_by_owner ON chat_conversations (owner);
        CREATE INDEX chat_conversations_by_customer ON chat_conversations (customer);

        -- Whom an unowned conversation is offered to; kept after someone takes it, so
        -- the others hear who did.
        CREATE TABLE chat_offers (
            conversation_id INTEGER NOT NULL
                            REFERENCES chat_conversations (id) ON DELETE CASCADE,
            extension       TEXT NOT NULL,
            PRIMARY KEY (conversation_id, extension)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX chat_offers_by_extension ON chat_offers (extension);

        CREATE TABLE chat_messages (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id INTEGER NOT NULL
                            REFERENCES chat_conversations (id) ON DELETE CASCADE,
            channel         TEXT NOT NULL,
            direction       TEXT NOT NULL CHECK (direction IN ('in', 'out', 'system')),
            author          TEXT,
            text            TEXT NOT NULL,
            attachment      TEXT,
            provider_id     TEXT,
            created_at      INTEGER NOT NULL CHECK (created_at >= 0),
            UNIQUE (channel, provider_id)
        ) STRICT;
        CREATE INDEX chat_messages_by_conversation ON chat_messages (conversation_id, id);
        CREATE INDEX chat_messages_by_author ON chat_messages (author, created_at)
            WHERE author IS NOT NULL;

        -- One row per reply for a provider. `sending` rows carry the `attempt_id` of the
        -- sender that claimed them, until `claimed_until` (then another may claim it);
        -- a row is marked only by the attempt that holds it.
        -- A deleted conversation keeps its replies' rows (message_id NULL): what an agent
        -- sent is delivered all the same.
        CREATE TABLE chat_outbox (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id      INTEGER UNIQUE REFERENCES chat_messages (id) ON DELETE SET NULL,
            channel         TEXT NOT NULL,
            payload         TEXT NOT NULL,
            attempts        INTEGER NOT NULL CHECK (attempts >= 0),
            next_attempt_at INTEGER NOT NULL CHECK (next_attempt_at >= 0),
            state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
            attempt_id      TEXT,
            claimed_until   INTEGER CHECK (claimed_until >= 0),
            last_error      TEXT,
            sent_at         INTEGER CHECK (sent_at >= 0),
            created_at      INTEGER NOT NULL CHECK (created_at >= 0)
        ) STRICT;
        CREATE INDEX chat_outbox_due ON chat_outbox (state, next_attempt_at);

        CREATE TABLE chat_blocked (
            address    TEXT PRIMARY KEY NOT NULL,
            blocked_by TEXT NOT NULL,
            at         INTEGER NOT NULL CHECK (at >= 0)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE chat_templates (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            category   TEXT NOT NULL,
            language   TEXT NOT NULL,
            title      TEXT NOT NULL,
            text       TEXT NOT NULL,
            created_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL CHECK (updated_at >= 0)
        ) STRICT;
        ",
    )
}

/// Version 9: colleagues' chat (issue 11; `team_chat*.rs`). A thread is `direct` between
/// two extensions (one per pair, `member_a < member_b`) or `group` for one plan queue. A
/// group's members are not stored: they are the queue's agents and managers in the running
/// plan, so a plan reload moves people in and out. `team_reads` keeps, per member, the last
/// message they have read. Times are milliseconds since the Unix epoch.
fn to_v9(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE team_threads (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            kind       TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
            member_a   TEXT,
            member_b   TEXT,
            queue      TEXT,
            created_at INTEGER NOT NULL CHECK (created_at >= 0),
            CHECK ((kind = 'direct' AND member_a < member_b AND queue IS NULL)
                OR (kind = 'group' AND member_a IS NULL AND member_b IS NULL
                    AND queue IS NOT NULL)),
            UNIQUE (member_a, member_b),
            UNIQUE (queue)
        ) STRICT;
        CREATE INDEX team_threads_by_b ON team_threads (member_b);

        CREATE TABLE team_messages (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            thread_id  INTEGER NOT NULL REFERENCES team_threads (id) ON DELETE CASCADE,
            author     TEXT NOT NULL,
            text       TEXT NOT NULL,
            attachment TEXT,
            created_at INTEGER NOT NULL CHECK (created_at >= 0)
        ) STRICT;
        CREATE INDEX team_messages_by_thread ON team_messages (thread_id, id);

        CREATE TABLE team_reads (
            thread_id    INTEGER NOT NULL REFERENCES team_threads (id) ON DELETE CASCADE,
            extension    TEXT NOT NULL,
            last_read_id INTEGER NOT NULL CHECK (last_read_id >= 0),
            PRIMARY KEY (thread_id, extension)
        ) STRICT, WITHOUT ROWID;
        ",
    )
}

/// Version 10: the files people send in chat. The bytes are a content-addressed file under
/// the data folder (`chat-files/<sha256>`), written and synced before this row (and the
/// message naming it) is committed, so no row ever points at nothing.
fn to_v10(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE chat_files (
            id           INTEGER PRIMARY KEY,
            sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
            name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            content_type TEXT NOT NULL,
            size         INTEGER NOT NULL CHECK (size > 0),
            uploaded_by  TEXT NOT NULL,
            at           INTEGER NOT NULL CHECK (at >= 0)
        ) STRICT;
        ",
    )
}

/// Version 11: how far each person has read each customer conversation (the newest
/// message id they saw), so `unread` is theirs: a conversation the agent has open and
/// reads shows nothing unread, while a colleague it is offered to still sees it new.
fn to_v11(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE chat_reads (
            conversation_id INTEGER NOT NULL
                            REFERENCES chat_conversations (id) ON DELETE CASCADE,
            extension       TEXT NOT NULL,
            message_id      INTEGER NOT NULL,
            PRIMARY KEY (conversation_id, extension)
        ) STRICT, WITHOUT ROWID;
        ",
    )
}

/// Version 12: the office's shared address book (`contacts.rs`), kept by its people.
/// `phones` is a JSON array of E.164 numbers; times are milliseconds since the epoch.
fn to_v12(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE contacts (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            phones     TEXT NOT NULL DEFAULT '[]',
            email      TEXT,
            company    TEXT,
            note       TEXT,
            updated_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL CHECK (updated_at >= 0)
        ) STRICT;
        CREATE INDEX contacts_by_email ON contacts (email COLLATE NOCASE);
        ",
    )
}

/// Version 13: each outbox row names its customer (`recipient`, the payload's `to`,
/// backfilled from it), so a claim can keep one customer's replies in order: a row waits
/// while an earlier unsent, not-dead row to the same customer is waiting or in flight.
/// The indexes cover only the unsent rows (sent ones pile up forever): the check looks
/// earlier rows up by customer, and a claim walks the unsent rows oldest first.
fn to_v13(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        ALTER TABLE chat_outbox ADD COLUMN recipient TEXT NOT NULL DEFAULT '';
        UPDATE chat_outbox SET recipient = COALESCE(json_extract(payload, '$.to'), '')
            WHERE json_valid(payload);
        CREATE INDEX chat_outbox_unsent_by_recipient
            ON chat_outbox (channel, recipient, id)
            WHERE state IN ('pending', 'sending');
        CREATE INDEX chat_outbox_unsent ON chat_outbox (id)
            WHERE state IN ('pending', 'sending');
        ",
    )
}

/// Version 14: the customers' files to fetch from their providers (`chat_media.rs`),
/// one row per item of an inbound message's `attachment` array, written with the
/// message. The messages already stored with a provider's media in the last 30 days are
/// queued too, so an upgraded office fetches what customers sent lately (what the
/// provider no longer has becomes a note saying so). Older ones become such a note at
/// once: WhatsApp's media ids last 30 days, and Twilio, which keeps media, would otherwise
/// have a first start download an office's whole history.
fn to_v14(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE chat_media (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id      INTEGER NOT NULL
                            REFERENCES chat_messages (id) ON DELETE CASCADE,
            item            INTEGER NOT NULL CHECK (item >= 0),
            channel         TEXT NOT NULL,
            reference       TEXT NOT NULL,
            attempts        INTEGER NOT NULL CHECK (attempts >= 0),
            next_attempt_at INTEGER NOT NULL CHECK (next_attempt_at >= 0),
            state           TEXT NOT NULL
                            CHECK (state IN ('pending', 'fetching', 'done', 'dead')),
            attempt_id      TEXT,
            claimed_until   INTEGER CHECK (claimed_until >= 0),
            last_error      TEXT,
            created_at      INTEGER NOT NULL CHECK (created_at >= 0),
            UNIQUE (message_id, item)
        ) STRICT;
        CREATE INDEX chat_media_unfetched ON chat_media (id)
            WHERE state IN ('pending', 'fetching');
        INSERT INTO chat_media (message_id, item, channel, reference, attempts,
            next_attempt_at, state, created_at)
        SELECT m.id, CAST(j.key AS INTEGER), m.channel, j.value, 0, m.created_at, 'pending',
            m.created_at
        FROM chat_messages m, json_each(m.attachment) j
        WHERE m.direction = 'in' AND m.channel != 'livechat' AND m.attachment IS NOT NULL
          AND m.created_at >= (unixepoch() - 30 * 86400) * 1000
          AND json_valid(m.attachment) AND json_type(m.attachment) = 'array'
          AND j.type = 'object';
        UPDATE chat_messages SET attachment = (
            SELECT json_group_array(CASE WHEN j.type = 'object'
                THEN json_object('note', 'The customer sent a file more than 30 days ' ||
                    'before this office kept customers'' files; it was not fetched')
                ELSE j.value END)
            FROM json_each(chat_messages.attachment) j)
        WHERE direction = 'in' AND channel != 'livechat' AND attachment IS NOT NULL
          AND created_at < (unixepoch() - 30 * 86400) * 1000
          AND json_valid(attachment) AND json_type(attachment) = 'array';
        ",
    )
}

/// Version 15: the phones' registrations, kept for the next start
/// (`sip_registrations.rs`): a user's UDP contacts, where each REGISTER came from, and
/// when each lapses on the wall clock.
fn to_v15(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
        CREATE TABLE sip_registrations (
            user        TEXT NOT NULL,
            contact     TEXT NOT NULL,
            source      TEXT NOT NULL,
            expires_at  INTEGER NOT NULL CHECK (expires_at >= 0),
            user_agent  TEXT,
            PRIMARY KEY (user, contact)
        ) STRICT;
        ",
    )
}

/// An error met while opening, in words that name the file and what to do about it.
fn open_error(path: &Path, err: rusqlite::Error) -> StoreError {
    let path = path.display();
    let message = match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => format!(
            "{path} is not an office store, or is damaged ({err}); if it is the store, \
             restore it from a backup; otherwise point the server at another file, or move \
             this one aside to start with an empty store"
        ),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "the office store at {path} is locked by another process ({err}); stop the other \
             server using it, or point this one at another file"
        ),
        Some(
            ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure,
        ) => format!(
            "cannot open the office store at {path} ({err}); check that the server may read \
             and write the file and its folder (SQLite keeps -wal and -shm files beside it)"
        ),
        _ => format!("cannot open the office store at {path}: {err}"),
    };
    StoreError::with_source(message, err)
}

#[cfg(test)]
mod tests {
    /// The store's own connection keeps temporary files in memory: `temp_store` is a
    /// connection setting, so only the connection `open` returns can show it.
    #[test]
    fn an_opened_store_keeps_its_temporary_files_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::open(&dir.path().join("office.db")).unwrap();
        let temp_store: i64 = conn
            .query_row("PRAGMA temp_store", [], |r| r.get(0))
            .unwrap();
        // 0 = the compile-time default (a file), 1 = file, 2 = memory.
        assert_eq!(temp_store, 2);
    }
}
