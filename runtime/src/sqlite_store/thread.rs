//! The store thread: while the server runs, the one thread that touches the office's
//! SQLite file, so that no tokio worker ever waits on SQLite or on an fsync.
//!
//! The engine's `Store` is synchronous (core is sans-IO), so a call cannot await a store
//! read in the middle of an engine step. Instead the whole step goes to the data: a call
//! task moves its `Call` into a job, the store thread runs the job against the one
//! connection and hands the `Call` back, and the task awaits the reply. The tokio workers
//! only ever await; the store thread only ever blocks.
//!
//! **Group commit.** The thread takes every job that is waiting (up to `MAX_BATCH`) and
//! runs them inside one `BEGIN IMMEDIATE … COMMIT`; each job's writes go into a savepoint
//! of their own (`SqliteStore::write`), so a write that fails undoes only itself. The
//! replies are sent after the `COMMIT` returned, so a call only acts on a step (plays
//! "message saved", lights a lamp) once what the step wrote is on disk (`synchronous =
//! FULL`). Under load many calls' writes share one fsync; when idle a job commits alone.
//! If the `COMMIT` fails, every job of the batch hears so, and its call ends with the
//! error: nothing is acknowledged that is not stored.
//!
//! **SIP credentials** are read by the registrar synchronously, on a worker. They are a
//! small table, kept in memory here (`Credentials`) and loaded again whenever another
//! process changed the file (`PRAGMA data_version`, checked after each batch and at least
//! every `POLL`), so `switchboard user set-password` beside a running server takes effect
//! within about a second. Its own writes (`set_password` through `run_sqlite`) are
//! loaded again right after their batch commits.
//!
//! **Office changes.** After each batch the thread bumps `OfficeChanges` if a job wrote
//! something the editor's office view shows (logins, messages, parked calls, SIP
//! users), or another process changed the file: every writer, a call's step or an
//! admin's request, is heard in this one place, once what it wrote is committed.

use super::SqliteStore;
use crate::office_changes::OfficeChanges;
use crate::sip::{CredentialStore, DigestAlgorithm};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use switchboard_core::store::{Store, StoreError};
use tokio::sync::oneshot;

/// How many waiting jobs share one transaction at most: enough to share an fsync among
/// a burst of calls, few enough that the first of them does not wait long for the last.
const MAX_BATCH: usize = 64;

/// How often an idle store thread looks for credentials changed by another process.
const POLL: Duration = Duration::from_secs(1);

/// Every job any store thread of this process has run.
static STEPS_RUN: AtomicU64 = AtomicU64::new(0);

/// How many jobs (engine steps and look-ups) the store threads of this process have run:
/// a call's cost on the store, for tests and measurements.
pub fn steps_run() -> u64 {
    STEPS_RUN.load(Ordering::Relaxed)
}

/// A job's work on the store; it returns what to do once the batch is committed (or not).
type Job = Box<dyn FnOnce(&mut SqliteStore) -> Reply + Send>;
/// Tells the job's caller how its batch ended.
type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// The handle to the store thread; clones share it. The thread ends, closing the store
/// (SQLite checkpoints its log into the file), when the last handle is dropped.
#[derive(Clone)]
pub struct StoreThread {
    /// Jobs for the thread. Every clone holds a sender; the thread's receive loop ends
    /// when the last one is dropped.
    jobs: mpsc::Sender<Job>,
    /// The SIP credentials as last read, shared with the thread that refreshes them.
    credentials: Arc<RwLock<Credentials>>,
    /// Bumped by the thread after a batch that changed the office; shared with whoever
    /// else sees changes (the SIP registrar) and the event stream.
    office_changes: Arc<OfficeChanges>,
    /// Told each user whose SIP password changed or went, once someone asked
    /// (`watch_password_changes`).
    password_changes: PasswordChanges,
}

/// Where the store thread tells of changed SIP passwords: by this process or another
/// (`switchboard user set-password` beside the running server).
type PasswordChanges = Arc<Mutex<Option<tokio::sync::mpsc::UnboundedSender<String>>>>;

/// The store thread stopped (a job panicked in a way that killed it, or it was never
/// started); no job can run.
fn gone() -> StoreError {
    StoreError::new("the office store's thread has stopped; restart the server")
}

impl StoreThread {
    /// Opens the store at `path` on a new thread, empties the park orbits (a restart
    /// ended every call) and keeps the thread serving jobs. Opening happens on that
    /// thread too, so even start-up does no SQLite on a tokio worker.
    pub async fn open(path: &Path) -> Result<StoreThread, StoreError> {
        let path = path.to_path_buf();
        let (opened, opened_rx) = oneshot::channel();
        let (jobs, jobs_rx) = mpsc::channel::<Job>();
        let credentials = Arc::new(RwLock::new(Credentials::default()));
        let shared = credentials.clone();
        let office_changes = Arc::new(OfficeChanges::default());
        let changes = office_changes.clone();
        let password_changes = PasswordChanges::default();
        let passwords = password_changes.clone();
        std::thread::Builder::new()
            .name("switchboard-store".into())
            .spawn(move || {
                let store = SqliteStore::open(&path).and_then(|mut store| {
                    store.clear_parked()?;
                    let loaded = Credentials::load(&store)?;
                    *shared.write().unwrap_or_else(|p| p.into_inner()) = loaded;
                    Ok(store)
                });
                match store {
                    Ok(store) => {
                        let _ = opened.send(Ok(()));
                        serve(store, jobs_rx, &shared, &changes, &passwords);
                    }
                    Err(e) => {
                        let _ = opened.send(Err(e));
                    }
                }
            })
            .map_err(|e| StoreError::with_source("cannot start the office store's thread", e))?;
        opened_rx.await.map_err(|_| gone())??;
        Ok(StoreThread {
            jobs,
            credentials,
            office_changes,
            password_changes,
        })
    }

    /// Tells the returned receiver of each user whose SIP password changes or goes from
    /// now on, set by this process or another: the registrar forgets the phones that
    /// registered with the old one.
    pub fn watch_password_changes(&self) -> tokio::sync::mpsc::UnboundedReceiver<String> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        *self
            .password_changes
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(tx);
        rx
    }

    /// What changes in the office: bumped after every batch that wrote to it.
    pub fn office_changes(&self) -> Arc<OfficeChanges> {
        self.office_changes.clone()
    }

    /// Runs `f` on the store thread inside the current batch and returns its result
    /// once the batch is committed. An error means the batch's `COMMIT` failed (what `f`
    /// wrote is not stored, and its result is dropped) or the thread has stopped.
    ///
    /// `f` must not block on anything but the store: every call waits behind it.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run_sqlite(move |store| f(store)).await
    }

    /// `run` for what only the SQLite store offers (SIP credentials, admins, when a
    /// hot-desk login began), with the same batch and commit.
    pub async fn run_sqlite<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut SqliteStore) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let out = f(store);
            Box::new(move |committed| {
                let _ = tx.send(match committed {
                    Ok(()) => Ok(out),
                    Err(e) => Err(StoreError::new(format!(
                        "the office store could not commit: {e}"
                    ))),
                });
            })
        });
        self.jobs.send(job).map_err(|_| gone())?;
        // A dropped reply is a job that panicked; the thread itself goes on.
        rx.await.map_err(|_| {
            StoreError::new("the step failed on the office store's thread (see the log)")
        })?
    }

    /// The registrar's view of the store: the credentials kept in memory.
    pub fn credentials(&self) -> Arc<dyn CredentialStore> {
        Arc::new(CredentialsView(self.credentials.clone()))
    }
}

/// The thread's loop: a batch per wake-up, until every handle is gone.
fn serve(
    mut store: SqliteStore,
    jobs: mpsc::Receiver<Job>,
    credentials: &RwLock<Credentials>,
    office_changes: &OfficeChanges,
    password_changes: &PasswordChanges,
) {
    let mut seen = store.data_version().ok();
    let announce = |store: &mut SqliteStore, seen: &mut Option<i64>| {
        announce_changes(store, seen, credentials, office_changes, password_changes);
    };
    loop {
        let first = match jobs.recv_timeout(POLL) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                announce(&mut store, &mut seen);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Should another process hold the write lock past the busy timeout, the jobs
        // still run, each write then in a transaction of its own.
        let in_batch = store.begin_batch().is_ok();
        let changes_before = store.conn.total_changes();
        STEPS_RUN.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let replies: Vec<Reply> = batch
            .into_iter()
            // A job that panics ends its own call (its reply is dropped, so the call
            // hears the store is gone for it); the thread and every other call go on.
            .filter_map(|job| catch_unwind(AssertUnwindSafe(|| job(&mut store))).ok())
            .collect();
        let committed = if in_batch {
            store.commit_batch()
        } else {
            Ok(())
        };
        if let Err(e) = &committed {
            tracing::error!(
                "the office store could not commit {} step(s): {e}",
                replies.len()
            );
        }
        // For measuring group commit (`RUST_LOG=switchboard_runtime::sqlite_store=debug`):
        // how many steps and changed rows shared this commit.
        tracing::debug!(
            steps = replies.len(),
            rows = store.conn.total_changes() - changes_before,
            "store batch committed"
        );
        // Loaded and announced before the replies: whoever hears "done" finds it so.
        announce(&mut store, &mut seen);
        for reply in replies {
            reply(committed.as_ref().map(|_| ()));
        }
    }
}

/// After a batch (or an idle `POLL`): tells the office view of a change, and loads the
/// credentials again when this thread's writes or another process changed them, telling
/// of each user whose password changed or went.
fn announce_changes(
    store: &mut SqliteStore,
    seen: &mut Option<i64>,
    credentials: &RwLock<Credentials>,
    office_changes: &OfficeChanges,
    password_changes: &PasswordChanges,
) {
    let changed = store.changed.take();
    let now = store.data_version().ok();
    let elsewhere = now != *seen;
    if changed.office || elsewhere {
        office_changes.bump();
    }
    if !changed.credentials && !elsewhere {
        return;
    }
    *seen = now;
    let loaded = match Credentials::load(store) {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!("reading the SIP credentials again failed: {e}");
            return;
        }
    };
    let before = std::mem::replace(
        &mut *credentials.write().unwrap_or_else(|p| p.into_inner()),
        loaded,
    );
    if let Some(tell) = &*password_changes.lock().unwrap_or_else(|p| p.into_inner()) {
        let now = credentials.read().unwrap_or_else(|p| p.into_inner());
        for user in before.changed_in(&now) {
            let _ = tell.send(user);
        }
    }
}

/// Every extension's digests: extension to (realm, MD5 HA1, SHA-256 HA1).
#[derive(Default)]
struct Credentials(HashMap<String, (String, String, String)>);

impl Credentials {
    /// The users whose digests (or realm) differ in `now`, or who are gone from it: whose
    /// password changed or was removed. A user new in `now` had no phone to forget.
    fn changed_in(&self, now: &Credentials) -> Vec<String> {
        let mut changed: Vec<String> = self
            .0
            .iter()
            .filter(|(user, digests)| now.0.get(*user) != Some(*digests))
            .map(|(user, _)| user.clone())
            .collect();
        changed.sort();
        changed
    }

    fn load(store: &SqliteStore) -> Result<Credentials, StoreError> {
        store
            .read("read the SIP credentials", |conn| {
                let mut statement = conn
                    .prepare("SELECT extension, realm, ha1_md5, ha1_sha256 FROM sip_credentials")?;
                let rows = statement.query_map([], |row| {
                    Ok((row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?)))
                })?;
                rows.collect()
            })
            .map(Credentials)
    }
}

struct CredentialsView(Arc<RwLock<Credentials>>);

impl CredentialStore for CredentialsView {
    fn ha1(&self, user: &str, realm: &str, algorithm: DigestAlgorithm) -> Option<String> {
        let all = self.0.read().unwrap_or_else(|p| p.into_inner());
        let (stored_realm, md5, sha256) = all.0.get(user)?;
        (stored_realm == realm).then(|| match algorithm {
            DigestAlgorithm::Md5 => md5.clone(),
            DigestAlgorithm::Sha256 => sha256.clone(),
        })
    }
}
