//! The SQLite store against a real file in a fresh directory per test: every `Store`
//! behaviour `MemoryStore` has, what survives closing and reopening (and a killed process),
//! the SIP credentials, the schema, and the files it refuses.

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use switchboard_core::ids::{CallId, MessageId};
use switchboard_core::office;
use switchboard_core::store::conformance::{self, ids, message};
use switchboard_core::store::{Folder, NewMessage, ParkedCall, Store, StoreError};
use switchboard_runtime::sqlite_store::{
    DigestAlgorithm, SCHEMA_VERSION, SavedRegistration, SessionOwner, SqliteStore,
};
use tempfile::TempDir;

/// A fresh directory that holds one store file, removed when the test ends.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("office.db")
    }

    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.path()).expect("the store opens")
    }

    fn open_err(&self) -> String {
        SqliteStore::open(&self.path())
            .expect_err("the store must be refused")
            .to_string()
    }

    /// Every byte the store has on disk: the database and its `-wal` and `-shm` files.
    fn bytes_on_disk(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            all.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        all
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn plan(text: &str) -> Arc<switchboard_dsl::Plan> {
    let mut sources = switchboard_dsl::Sources::new();
    sources.add(switchboard_dsl::SourceFile::new("t.dial", text));
    let compiled = switchboard_dsl::compile(sources, &switchboard_dsl::PromptCatalog::unchecked());
    compiled.plan.expect("the test plan compiles")
}

// ---------------------------------------------------------------------------------------
// The `Store` behaviours every store has (`switchboard_core::store::conformance`), and
// what only this one does.

#[test]
fn pins_are_hashed_with_fresh_salts() {
    let fx = Fixture::new();
    let mut s = fx.open();
    conformance::pins_are_checked_per_mailbox(&mut s);
    // The same PIN in two mailboxes must not give the same stored text.
    s.set_pin("101", "1234").unwrap();
    let a = s.pin_hash("101").unwrap().unwrap().to_string();
    let b = s.pin_hash("102").unwrap().unwrap().to_string();
    assert_ne!(a, b);
    assert!(a.starts_with("sha256$") && !a.contains("1234"), "{a}");
    s.set_pin("101", "9999").unwrap();
    assert_ne!(s.pin_hash("101").unwrap().unwrap().to_string(), a);
}

#[test]
fn a_pin_is_kept_as_its_digest_text_only() {
    let fx = Fixture::new();
    let mut s = fx.open();
    s.set_pin("101", "86420975").unwrap();
    let stored = s.pin_hash("101").unwrap().unwrap().to_string();
    // The column holds exactly the digest's text form.
    let raw: String = Connection::open(fx.path())
        .unwrap()
        .query_row("SELECT pin FROM mailboxes WHERE mailbox = '101'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(raw, stored);
    drop(s);
    let disk = fx.bytes_on_disk();
    assert!(
        contains(&disk, &stored),
        "the search must find what is there"
    );
    assert!(!contains(&disk, "86420975"));
}

#[test]
fn an_unreadable_stored_pin_is_an_error_naming_the_mailbox() {
    let fx = Fixture::new();
    let mut s = fx.open();
    s.set_pin("101", "1234").unwrap();
    Connection::open(fx.path())
        .unwrap()
        .execute(
            "UPDATE mailboxes SET pin = 'md5$00$00' WHERE mailbox = '101'",
            [],
        )
        .unwrap();
    let err = s.check_pin("101", "1234").unwrap_err().to_string();
    assert!(err.contains("mailbox 101"), "{err}");
    assert!(err.contains("set the PIN again"), "{err}");
    // Setting it again is the fix.
    s.set_pin("101", "1234").unwrap();
    assert_eq!(s.check_pin("101", "1234").unwrap(), Some(true));
}

#[test]
fn messages_arrive_new_and_keep_their_order_across_folders() {
    conformance::messages_arrive_new_and_keep_their_order_across_folders(
        &mut Fixture::new().open(),
    );
}

#[test]
fn moving_or_deleting_needs_the_message_in_that_mailbox() {
    let fx = Fixture::new();
    let mut s = fx.open();
    conformance::moving_or_deleting_needs_the_message_in_that_mailbox(&mut s);
    // Not even after the newest was deleted and the store reopened.
    assert!(s.delete_message("101", MessageId(2)).unwrap());
    drop(s);
    let mut s = fx.open();
    assert_eq!(s.add_message("102", message(3)).unwrap(), MessageId(3));
}

#[test]
fn a_duration_sqlite_cannot_hold_is_refused_and_nothing_is_filed() {
    let fx = Fixture::new();
    let mut s = fx.open();
    let too_long = NewMessage {
        duration_ms: u64::MAX,
        ..message(1)
    };
    let err = s.add_message("101", too_long).unwrap_err().to_string();
    assert!(err.contains("save a message for 101"), "{err}");
    assert!(err.contains(&fx.path().display().to_string()), "{err}");
    assert_eq!(s.message_counts("101").unwrap(), (0, 0));
    // The failed write took no id.
    assert_eq!(s.add_message("101", message(1)).unwrap(), MessageId(1));
}

#[test]
fn greetings_and_names_are_per_mailbox_and_replaceable() {
    conformance::greetings_and_names_are_per_mailbox_and_replaceable(&mut Fixture::new().open());
}

#[test]
fn queue_logins_are_per_agent_and_queue() {
    conformance::queue_logins_are_per_agent_and_queue(&mut Fixture::new().open());
}

#[test]
fn hot_desks_map_both_ways_and_list_sorted() {
    conformance::hot_desks_map_both_ways_and_list_sorted(&mut Fixture::new().open());
}

#[test]
fn a_hot_desk_login_keeps_when_it_began_until_another_extension_takes_the_phone() {
    let fx = Fixture::new();
    let mut s = fx.open();
    let before = s.now_ms().unwrap();
    s.set_hot_desk("001565AABBCC", Some("101")).unwrap();
    let first = s.hot_desk_logins_since().unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].device, "001565AABBCC");
    assert_eq!(first[0].extension, "101");
    let began = first[0].since_ms.expect("a new login notes its start");
    assert!(began >= before, "{began} >= {before}");
    // The same extension logging in again keeps its start.
    Connection::open(fx.path())
        .unwrap()
        .execute_batch("UPDATE hot_desks SET since = 5")
        .unwrap();
    s.set_hot_desk("001565AABBCC", Some("101")).unwrap();
    assert_eq!(s.hot_desk_logins_since().unwrap()[0].since_ms, Some(5));
    // Another extension on the phone starts anew.
    s.set_hot_desk("001565AABBCC", Some("102")).unwrap();
    let taken = &s.hot_desk_logins_since().unwrap()[0];
    assert_eq!(taken.extension, "102");
    assert!(taken.since_ms.unwrap() >= before);
}

#[test]
fn a_version_4_store_keeps_its_hot_desk_logins_without_a_start() {
    let fx = Fixture::new();
    fx.open().set_hot_desk("001565AABBCC", Some("101")).unwrap();
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "{DROP_V5} {DROP_V15} {DROP_V14} {DROP_V12} {DROP_V11} {DROP_V10} {DROP_V9} {DROP_V8} {DROP_V7} {DROP_V6} PRAGMA user_version = 4;"
    ))
    .unwrap();
    drop(raw);
    let s = fx.open();
    let logins = s.hot_desk_logins_since().unwrap();
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].extension, "101");
    assert_eq!(logins[0].since_ms, None, "nobody noted when it began");
}

#[test]
fn an_extension_is_logged_in_on_one_phone_at_most() {
    let fx = Fixture::new();
    let mut s = fx.open();
    s.set_hot_desk("001565AABBCC", Some("101")).unwrap();
    // Logging in again on the same phone is fine.
    s.set_hot_desk("001565AABBCC", Some("101")).unwrap();
    let err = s
        .set_hot_desk("805EC0112233", Some("101"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("extension 101"), "{err}");
    assert!(err.contains("001565AABBCC"), "{err}");
    assert!(err.contains("log it out there first"), "{err}");
    // Nothing changed.
    assert_eq!(
        s.hot_desk_logins().unwrap(),
        [("001565AABBCC".to_string(), "101".to_string())]
    );

    // The office's rule moves the extension: it leaves the old phone first.
    let plan = plan(
        r#"
extension 101 "Alice" { voicemail; hot_desk }
device "001565AABBCC" { hot_desk }
device "805ec0112233" { hot_desk }
"#,
    );
    let moved = office::hot_desk_login(&plan, &mut s, Some("805ec0112233"), "101")
        .unwrap()
        .unwrap();
    assert_eq!(moved.moved_from.as_deref(), Some("001565AABBCC"));
    assert_eq!(
        s.hot_desk_logins().unwrap(),
        [("805EC0112233".to_string(), "101".to_string())]
    );
    assert_eq!(
        office::hot_desk_logout(&mut s, "805EC0112233").unwrap(),
        Some("101".to_string())
    );
    assert!(s.hot_desk_logins().unwrap().is_empty());
}

#[test]
fn orbits_hold_one_call_each() {
    conformance::orbits_hold_one_call_each(&mut Fixture::new().open());
}

#[test]
fn pin_attempts_are_kept_per_mailbox() {
    conformance::pin_attempts_are_kept_per_mailbox(&mut Fixture::new().open());
}

#[test]
fn a_pin_lock_holds_on_the_system_clock_across_a_reopen() {
    let plan = plan(r#"extension 101 "Alice Adams" { voicemail; pin "1234" }"#);
    let fx = Fixture::new();
    let mut store = fx.open();
    for _ in 1..office::MAX_FAILURES {
        assert_eq!(
            office::try_pin(&plan, &mut store, "101", "0000").unwrap(),
            office::PinCheck::Wrong
        );
    }
    let office::PinCheck::Locked { for_ms } =
        office::try_pin(&plan, &mut store, "101", "0000").unwrap()
    else {
        panic!("the fifth wrong PIN locks the mailbox");
    };
    assert_eq!(for_ms, office::FIRST_LOCK_MS);
    // The lock is stamped on the system clock and kept on disk: a restarted server
    // still refuses the right PIN within the minute.
    drop(store);
    let mut store = fx.open();
    assert!(matches!(
        office::try_pin(&plan, &mut store, "101", "1234").unwrap(),
        office::PinCheck::Locked { for_ms } if for_ms <= office::FIRST_LOCK_MS
    ));
}

#[test]
fn the_office_rules_run_against_the_sqlite_store() {
    let plan = plan(
        r#"
extension 100 "Front Desk" { voicemail }
extension 101 "Alice Adams" { voicemail; pin "1234" }
park SP1, SP2
"#,
    );
    let fx = Fixture::new();
    let mut store: Box<dyn Store> = Box::new(fx.open());
    assert!(office::pin_ok(&plan, store.as_ref(), "101", "1234").unwrap());
    assert!(!office::pin_ok(&plan, store.as_ref(), "100", "0000").unwrap());
    store.set_pin("101", "8642").unwrap();
    assert!(office::pin_ok(&plan, store.as_ref(), "101", "8642").unwrap());
    assert!(!office::pin_ok(&plan, store.as_ref(), "101", "1234").unwrap());

    let call = ParkedCall {
        call: CallId(1),
        from: "101".into(),
    };
    assert!(office::park(store.as_mut(), "SP1", call.clone()).unwrap());
    assert!(!office::park(store.as_mut(), "SP1", call.clone()).unwrap());
    assert_eq!(office::unpark(store.as_mut(), "SP1").unwrap(), Some(call));
    assert!(!office::park_occupied(store.as_ref(), "SP1").unwrap());
}

#[test]
fn the_store_is_send_for_the_thread_that_runs_calls() {
    fn assert_send<T: Send>(_: &T) {}
    let fx = Fixture::new();
    let store = fx.open();
    assert_send(&store);
    let handle = std::thread::spawn(move || store.message_counts("101").unwrap());
    assert_eq!(handle.join().unwrap(), (0, 0));
}

// ---------------------------------------------------------------------------------------
// Durability.

#[test]
fn all_state_but_parked_calls_survives_close_and_reopen() {
    let fx = Fixture::new();
    let mut s = fx.open();
    s.set_pin("101", "1234").unwrap();
    let kept = s.add_message("101", message(1)).unwrap();
    let saved = s.add_message("101", message(2)).unwrap();
    let gone = s.add_message("101", message(3)).unwrap();
    assert!(s.move_message("101", saved, Folder::Saved).unwrap());
    assert!(s.delete_message("101", gone).unwrap());
    s.set_greeting("101", "greeting-101.wav").unwrap();
    s.set_name_recording("101", "name-101.wav").unwrap();
    s.set_queue_logged_in("102", "800", true).unwrap();
    s.set_hot_desk("001565AABBCC", Some("103")).unwrap();
    s.set_password("104", "switchboard", "secret").unwrap();
    let call = ParkedCall {
        call: CallId(9),
        from: "101".into(),
    };
    s.set_parked("SP1", Some(call)).unwrap();
    let before = s.messages("101", Folder::New).unwrap();
    drop(s);

    let mut s = fx.open();
    // What the server does at start-up; a plain open keeps the orbits.
    assert!(s.parked("SP1").unwrap().is_some());
    s.clear_parked().unwrap();
    assert_eq!(s.check_pin("101", "1234").unwrap(), Some(true));
    assert_eq!(s.messages("101", Folder::New).unwrap(), before);
    assert_eq!(ids(&before), [kept.0]);
    assert_eq!(ids(&s.messages("101", Folder::Saved).unwrap()), [saved.0]);
    assert_eq!(s.message_counts("101").unwrap(), (1, 1));
    assert_eq!(
        s.greeting("101").unwrap().as_deref(),
        Some("greeting-101.wav")
    );
    assert_eq!(
        s.name_recording("101").unwrap().as_deref(),
        Some("name-101.wav")
    );
    assert!(s.queue_logged_in("102", "800").unwrap());
    assert_eq!(
        s.hot_desk_device("103").unwrap().as_deref(),
        Some("001565AABBCC")
    );
    assert!(s.has_password("104").unwrap());
    // A restart ends every call, so the orbits start empty.
    assert_eq!(s.parked("SP1").unwrap(), None);
}

#[test]
fn a_message_survives_drop_and_reopen() {
    let fx = Fixture::new();
    let mut s = fx.open();
    let id = s.add_message("101", message(1)).unwrap();
    drop(s);
    let s = fx.open();
    let found = s.messages("101", Folder::New).unwrap();
    assert_eq!(ids(&found), [id.0]);
    assert_eq!(found[0].recording, "msg-1.wav");
}

/// Set in the child process of the test below to the store it writes to.
const CHILD_STORE: &str = "SWITCHBOARD_TEST_CHILD_STORE";
/// The child's exit code once its write returned.
const CHILD_WROTE: i32 = 42;

#[test]
fn a_message_survives_the_process_exiting_without_closing_the_store() {
    if let Some(path) = std::env::var_os(CHILD_STORE) {
        // The child: write, then exit at once. No destructor runs, so the connection is
        // never closed and the log is never checkpointed into the database file.
        let mut s = SqliteStore::open(Path::new(&path)).unwrap();
        s.add_message("101", message(1)).unwrap();
        std::process::exit(CHILD_WROTE);
    }
    let fx = Fixture::new();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_message_survives_the_process_exiting_without_closing_the_store",
            "--test-threads=1",
        ])
        .env(CHILD_STORE, fx.path())
        .output()
        .unwrap();
    assert_eq!(
        child.status.code(),
        Some(CHILD_WROTE),
        "the child did not write:\n{}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    // The write sits in the log the child left behind.
    let wal = fx.dir.path().join("office.db-wal");
    assert!(
        std::fs::metadata(&wal)
            .map(|m| m.len() > 0)
            .unwrap_or(false)
    );

    let s = fx.open();
    let found = s.messages("101", Folder::New).unwrap();
    assert_eq!(ids(&found), [1]);
    assert_eq!(found[0].from, "+12605550001");
}

// ---------------------------------------------------------------------------------------
// SIP credentials.

// Computed independently:
// python3 -c "import hashlib;print(hashlib.md5(b'101:switchboard:secret').hexdigest())"
// and likewise with hashlib.sha256.
const HA1_MD5_101: &str = "de2d4e597b2a21c2cfc73ef3fa592357";
const HA1_SHA256_101: &str = "0e2b7f2e1c1fbe61a0ca79c54c48487d197bafb49ef8ce7e9a01c4f90538626c";
// The same for b'102:switchboard:correct horse' and b'101:other.example:secret'.
const HA1_MD5_102: &str = "9cf988669436f039b8776ee4101f65ed";
const HA1_SHA256_102: &str = "85cab7dd4d8b56acafec050a4e7e263cb5dd51e6988eba99b795039f877f3b46";
const HA1_MD5_101_OTHER: &str = "087ff057d6a8ed55da37236fcfc54c49";
const HA1_SHA256_101_OTHER: &str =
    "3f54cb6f061b99ac5008b2fa48ce66daa9d8d6e76c900dbccb039479379d343e";

#[test]
fn passwords_are_stored_as_their_ha1_values() {
    use DigestAlgorithm::{Md5, Sha256};
    let fx = Fixture::new();
    let mut s = fx.open();
    assert!(!s.has_password("101").unwrap());
    assert_eq!(s.ha1("101", "switchboard", Md5).unwrap(), None);

    s.set_password("101", "switchboard", "secret").unwrap();
    s.set_password("102", "switchboard", "correct horse")
        .unwrap();
    assert!(s.has_password("101").unwrap());
    assert!(!s.has_password("103").unwrap());
    let ha1 = |s: &SqliteStore, ext, realm, alg| s.ha1(ext, realm, alg).unwrap();
    assert_eq!(
        ha1(&s, "101", "switchboard", Md5).as_deref(),
        Some(HA1_MD5_101)
    );
    assert_eq!(
        ha1(&s, "101", "switchboard", Sha256).as_deref(),
        Some(HA1_SHA256_101)
    );
    assert_eq!(
        ha1(&s, "102", "switchboard", Md5).as_deref(),
        Some(HA1_MD5_102)
    );
    assert_eq!(
        ha1(&s, "102", "switchboard", Sha256).as_deref(),
        Some(HA1_SHA256_102)
    );
    // An HA1 is bound to its realm.
    assert_eq!(ha1(&s, "101", "other.example", Md5), None);

    // Setting it for another realm replaces it.
    s.set_password("101", "other.example", "secret").unwrap();
    assert_eq!(ha1(&s, "101", "switchboard", Sha256), None);
    assert_eq!(
        ha1(&s, "101", "other.example", Md5).as_deref(),
        Some(HA1_MD5_101_OTHER)
    );
    assert_eq!(
        ha1(&s, "101", "other.example", Sha256).as_deref(),
        Some(HA1_SHA256_101_OTHER)
    );

    assert!(s.remove_password("101").unwrap());
    assert!(!s.remove_password("101").unwrap());
    assert!(!s.has_password("101").unwrap());
    assert_eq!(ha1(&s, "101", "other.example", Md5), None);
    assert!(s.has_password("102").unwrap());
}

#[test]
fn the_password_never_reaches_the_disk() {
    let fx = Fixture::new();
    let mut s = fx.open();
    let password = "Zebra-Quartz-7731";
    s.set_password("101", "switchboard", password).unwrap();
    let sha = s
        .ha1("101", "switchboard", DigestAlgorithm::Sha256)
        .unwrap()
        .unwrap();
    // While open, the write sits in the log; after closing, in the database file.
    let open = fx.bytes_on_disk();
    assert!(contains(&open, &sha), "the search must find what is there");
    assert!(!contains(&open, password));
    drop(s);
    let closed = fx.bytes_on_disk();
    assert!(
        contains(&closed, &sha),
        "the search must find what is there"
    );
    assert!(!contains(&closed, password));
}

#[test]
fn an_empty_password_is_refused() {
    let fx = Fixture::new();
    let mut s = fx.open();
    let err = s.set_password("101", "switchboard", "").unwrap_err();
    assert!(err.to_string().contains("empty SIP password"), "{err}");
    assert!(!s.has_password("101").unwrap());
}

#[test]
fn digest_algorithms_go_by_their_challenge_names() {
    assert_eq!(DigestAlgorithm::Md5.name(), "MD5");
    assert_eq!(DigestAlgorithm::Sha256.name(), "SHA-256");
    assert_eq!(
        DigestAlgorithm::from_name("md5"),
        Some(DigestAlgorithm::Md5)
    );
    assert_eq!(
        DigestAlgorithm::from_name("SHA-256"),
        Some(DigestAlgorithm::Sha256)
    );
    assert_eq!(DigestAlgorithm::from_name("MD5-sess"), None);
    assert_eq!(DigestAlgorithm::from_name("SHA-512-256"), None);
}

// ---------------------------------------------------------------------------------------
// The phones' registrations, kept for the next start.

/// A user's kept contacts are replaced as a whole, survive reopening the file, and the
/// lapsed ones are forgotten when read.
#[test]
fn registrations_are_kept_per_user_until_they_lapse() {
    let fx = Fixture::new();
    let contact = |uri: &str, port: u16, expires_at_ms: u64| SavedRegistration {
        contact: uri.into(),
        source: std::net::SocketAddr::from(([192, 0, 2, 7], port)),
        expires_at_ms,
        user_agent: Some("Yealink SIP-T46U".into()),
    };
    let desk = contact("sip:102@192.0.2.7:5062", 5062, 10_000);
    let soft = contact("sip:102@192.0.2.8:5060", 5060, 4_000);
    let other = contact("sip:103@192.0.2.9:5060", 5060, 9_000);
    {
        let mut s = fx.open();
        s.save_registrations("102", &[desk.clone(), soft.clone()])
            .unwrap();
        s.save_registrations("103", std::slice::from_ref(&other))
            .unwrap();
        // 103 unregistered: nothing is kept for it.
        s.save_registrations("103", &[]).unwrap();
    }
    let mut s = fx.open();
    assert_eq!(
        s.saved_registrations(3_000).unwrap(),
        [("102".to_string(), desk.clone()), ("102".to_string(), soft)]
    );
    // At 5 s the soft phone has lapsed, and stays forgotten.
    assert_eq!(
        s.saved_registrations(5_000).unwrap(),
        [("102".to_string(), desk.clone())]
    );
    assert_eq!(
        s.saved_registrations(3_000).unwrap(),
        [("102".to_string(), desk)]
    );
    assert!(s.saved_registrations(10_000).unwrap().is_empty());
}

/// A phone that knew only the old password is not rung after the next restart: setting
/// or removing a password forgets the user's kept contacts, in the same transaction.
#[test]
fn a_new_password_forgets_the_kept_registrations() {
    let fx = Fixture::new();
    let mut s = fx.open();
    let kept = |user: &str| SavedRegistration {
        contact: format!("sip:{user}@192.0.2.7:5062"),
        source: std::net::SocketAddr::from(([192, 0, 2, 7], 5062)),
        expires_at_ms: 10_000,
        user_agent: None,
    };
    for user in ["101", "102", "103"] {
        s.set_password(user, "switchboard", "old secret").unwrap();
        s.save_registrations(user, &[kept(user)]).unwrap();
    }
    s.set_password("101", "switchboard", "new secret").unwrap();
    s.remove_password("102").unwrap();
    let users: Vec<String> = s
        .saved_registrations(0)
        .unwrap()
        .into_iter()
        .map(|(user, _)| user)
        .collect();
    assert_eq!(users, ["103"]);
    s.remove_phone_and_web_password("103").unwrap();
    assert!(s.saved_registrations(0).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// The file: schema, settings, and what is refused.

#[test]
fn a_new_store_has_the_current_schema_in_wal_mode() {
    let fx = Fixture::new();
    let s = fx.open();
    assert_eq!(SCHEMA_VERSION, 15);
    assert_eq!(s.path(), fx.path());
    let raw = Connection::open(fx.path()).unwrap();
    let version: u32 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let mut tables: Vec<String> = raw
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|t| t != "sqlite_sequence");
    assert_eq!(
        tables,
        [
            "admins",
            "call_details",
            "chat_blocked",
            "chat_contacts",
            "chat_conversations",
            "chat_files",
            "chat_media",
            "chat_messages",
            "chat_offers",
            "chat_outbox",
            "chat_reads",
            "chat_templates",
            "contacts",
            "hot_desks",
            "mailboxes",
            "messages",
            "parked",
            "pin_attempts",
            "queue_agents",
            "queue_answered",
            "queue_logins",
            "queue_turns",
            "sessions",
            "sip_credentials",
            "sip_registrations",
            "team_messages",
            "team_reads",
            "team_threads",
            "web_passwords"
        ]
    );
    // Reopening a current store changes nothing.
    drop(s);
    fx.open();
}

#[cfg(unix)]
#[test]
fn a_new_store_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let _s = fx.open();
    let mode = std::fs::metadata(fx.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn assert_names_path_and_fix(err: &str, path: &Path, fix: &str) {
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains(fix), "{err}");
}

#[test]
fn a_garbage_file_is_refused_and_left_alone() {
    let fx = Fixture::new();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(fx.path(), &garbage).unwrap();
    let err = fx.open_err();
    assert_names_path_and_fix(&err, &fx.path(), "is not an office store");
    assert!(err.contains("move this one aside"), "{err}");
    assert_eq!(std::fs::read(fx.path()).unwrap(), garbage);
}

#[test]
fn a_version_1_store_gains_pin_attempts_and_keeps_its_pins() {
    let fx = Fixture::new();
    {
        let mut s = fx.open();
        s.set_pin("101", "1234").unwrap();
    }
    // Back to what version 1 wrote: no `pin_attempts` (nor later) tables.
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "DROP TABLE pin_attempts; DROP TABLE call_details; {DROP_V4} {DROP_V5} {DROP_V15} {DROP_V14} {DROP_V12} {DROP_V11} {DROP_V10} {DROP_V9} {DROP_V8} {DROP_V7} {DROP_V6} PRAGMA user_version = 1;"
    ))
    .unwrap();
    drop(raw);
    let mut s = fx.open();
    assert_eq!(s.check_pin("101", "1234").unwrap(), Some(true));
    conformance::pin_attempts_are_kept_per_mailbox(&mut s);
    drop(s);
    let version: u32 = Connection::open(fx.path())
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_version_2_store_gains_call_details_and_keeps_what_it_had() {
    let fx = Fixture::new();
    {
        let mut s = fx.open();
        s.set_pin("101", "1234").unwrap();
    }
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "DROP TABLE call_details; {DROP_V4} {DROP_V5} {DROP_V15} {DROP_V14} {DROP_V12} {DROP_V11} {DROP_V10} {DROP_V9} {DROP_V8} {DROP_V7} {DROP_V6} PRAGMA user_version = 2;"
    ))
    .unwrap();
    drop(raw);
    let mut s = fx.open();
    assert_eq!(s.check_pin("101", "1234").unwrap(), Some(true));
    conformance::call_details_are_kept_and_listed_by_when_they_started(&mut s);
}

/// What version 5 added: when each hot-desk login began.
const DROP_V5: &str = "ALTER TABLE hot_desks DROP COLUMN since;";

/// What version 9 added: colleagues' chat.
const DROP_V11: &str = "DROP TABLE chat_reads;";
/// What version 14 added: the customers' files to fetch.
const DROP_V14: &str = "DROP TABLE chat_media;";
/// What version 15 added: the phones' registrations kept for the next start.
const DROP_V15: &str = "DROP TABLE sip_registrations;";
/// What version 12 added: the office's contacts.
const DROP_V12: &str = "DROP TABLE contacts;";
/// What version 10 added: files sent in chat.
const DROP_V10: &str = "DROP TABLE chat_files;";
const DROP_V9: &str = "DROP TABLE team_reads; DROP TABLE team_messages; DROP TABLE team_threads;";

/// What version 8 added: chat.
const DROP_V8: &str = "DROP TABLE chat_outbox; DROP TABLE chat_messages; DROP TABLE chat_offers; \
    DROP TABLE chat_conversations; DROP TABLE chat_contacts; DROP TABLE chat_blocked; \
    DROP TABLE chat_templates;";

/// A version 13 store's customer messages carrying a provider's media (an array of
/// references) from the last 30 days are queued for fetching by the upgrade, one row per
/// item; an older one becomes a note, and an agent's file (an object) and a live-chat
/// message are left alone.
#[test]
fn a_version_13_store_queues_the_media_its_customers_sent_for_fetching() {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let recent = now_ms - 29 * 86_400_000;
    let old = now_ms - 31 * 86_400_000;
    let fx = Fixture::new();
    drop(fx.open());
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "{DROP_V15} {DROP_V14} PRAGMA user_version = 13;
         INSERT INTO chat_conversations (id, channel, customer, office_address, routed_to,
             archived, created_at, last_at)
         VALUES (1, 'whatsapp', '+16505551234', '+15550783881', '', 0, 5, 5),
                (2, 'livechat', 'v-1', '', '', 0, 5, 5);
         INSERT INTO chat_messages (id, conversation_id, channel, direction, text, attachment,
             created_at)
         VALUES (10, 1, 'whatsapp', 'in', '',
                 '[{{\"id\":\"27548\",\"content_type\":\"image/jpeg\",\"filename\":null}},
                   {{\"id\":\"27549\",\"content_type\":\"application/pdf\",\"filename\":\"a.pdf\"}}]',
                 {recent}),
                (11, 1, 'whatsapp', 'out', '', '{{\"id\":1,\"name\":\"a.pdf\",\"type\":\"application/pdf\",\"size\":9}}', {recent}),
                (12, 2, 'livechat', 'in', '', '[{{\"url\":\"https://x.example/a.png\"}}]', {recent}),
                (13, 1, 'whatsapp', 'in', '', '[{{\"id\":\"1990\",\"content_type\":\"image/jpeg\"}}]', {old});"
    ))
    .unwrap();
    drop(raw);
    drop(fx.open());
    let raw = Connection::open(fx.path()).unwrap();
    let rows: Vec<(i64, i64, String, String, i64)> = raw
        .prepare(
            "SELECT message_id, item, channel, state, next_attempt_at FROM chat_media
             ORDER BY message_id, item",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (10, 0, "whatsapp".into(), "pending".into(), recent),
            (10, 1, "whatsapp".into(), "pending".into(), recent),
        ]
    );
    let reference: String = raw
        .query_row("SELECT reference FROM chat_media WHERE item = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let reference: serde_json::Value = serde_json::from_str(&reference).unwrap();
    assert_eq!(reference["id"], "27549");
    assert_eq!(reference["filename"], "a.pdf");
    // The older one is a note at once, not "being fetched" for ever.
    let older: String = raw
        .query_row(
            "SELECT attachment FROM chat_messages WHERE id = 13",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let older: serde_json::Value = serde_json::from_str(&older).unwrap();
    assert_eq!(
        older,
        serde_json::json!([{"note": "The customer sent a file more than 30 days before this \
            office kept customers' files; it was not fetched"}])
    );
}

#[test]
fn a_version_7_store_gains_chat_and_keeps_what_it_had() {
    let fx = Fixture::new();
    fx.open()
        .set_password("101", "switchboard", "secret")
        .unwrap();
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "{DROP_V15} {DROP_V14} {DROP_V12} {DROP_V11} {DROP_V10} {DROP_V9} {DROP_V8} PRAGMA user_version = 7;"
    ))
    .unwrap();
    drop(raw);
    let mut s = fx.open();
    assert!(s.has_password("101").unwrap());
    s.block_chat_address("203.0.113.9", "101", 1_000).unwrap();
    assert!(s.chat_blocked(&["203.0.113.9"]).unwrap());
}

/// What version 6 added: the web editor's admins and their sessions.
const DROP_V6: &str = "DROP TABLE sessions; DROP TABLE admins;";

#[test]
fn a_version_5_store_gains_admins_and_sessions_and_keeps_what_it_had() {
    let fx = Fixture::new();
    fx.open()
        .set_password("101", "switchboard", "secret")
        .unwrap();
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "{DROP_V15} {DROP_V14} {DROP_V12} {DROP_V11} {DROP_V10} {DROP_V9} {DROP_V8} {DROP_V7} {DROP_V6} PRAGMA user_version = 5;"
    ))
    .unwrap();
    drop(raw);
    let mut s = fx.open();
    assert!(s.has_password("101").unwrap());
    s.set_admin_password("admin", "amber-kettle-harbour", 1_000)
        .unwrap();
    let admin = SessionOwner::Admin("admin".to_string());
    s.create_session(&"ab".repeat(32), &admin, 1_000, 2_000)
        .unwrap();
    assert_eq!(
        s.session(&"ab".repeat(32), 1_500).unwrap().unwrap().owner,
        admin
    );
}

/// What version 7 added: the people's web passwords, and sessions of either kind (back
/// to version 6's admins-only table).
const DROP_V7: &str = "DROP TABLE sessions; DROP TABLE web_passwords;
    CREATE TABLE sessions (
        token_sha256 TEXT PRIMARY KEY NOT NULL,
        admin        TEXT NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
        created      INTEGER NOT NULL CHECK (created >= 0),
        expires      INTEGER NOT NULL CHECK (expires >= 0)
    ) STRICT;
    CREATE INDEX sessions_by_admin ON sessions (admin);";

#[test]
fn a_version_6_store_keeps_its_admin_sessions_and_gains_web_passwords() {
    let fx = Fixture::new();
    fx.open()
        .set_admin_password("admin", "amber-kettle-harbour", 1_000)
        .unwrap();
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "{DROP_V15} {DROP_V14} {DROP_V12} {DROP_V11} {DROP_V10} {DROP_V9} {DROP_V8} {DROP_V7} PRAGMA user_version = 6;"
    ))
    .unwrap();
    raw.execute(
        "INSERT INTO sessions (token_sha256, admin, created, expires) VALUES (?1, 'admin', 1000, 9000)",
        [&"cd".repeat(32)],
    )
    .unwrap();
    drop(raw);
    let mut s = fx.open();
    assert_eq!(
        s.session(&"cd".repeat(32), 1_500).unwrap().unwrap().owner,
        SessionOwner::Admin("admin".to_string()),
        "an admin signed in before the upgrade stays signed in"
    );
    s.set_web_password("101", "copper-lantern-meadow", 2_000)
        .unwrap();
    let person = SessionOwner::Person("101".to_string());
    s.create_session(&"ef".repeat(32), &person, 2_000, 9_000)
        .unwrap();
    assert_eq!(
        s.session(&"ef".repeat(32), 2_500).unwrap().unwrap().owner,
        person
    );
}

/// What version 4 added: the queues' memory of their agents.
const DROP_V4: &str = "DROP TABLE queue_agents; DROP TABLE queue_answered; DROP TABLE queue_turns;";

#[test]
fn a_version_3_store_gains_the_queues_agent_history_and_keeps_what_it_had() {
    let fx = Fixture::new();
    {
        let mut s = fx.open();
        s.set_queue_logged_in("102", "800", true).unwrap();
        s.record_call(&conformance::call_detail(1_000)).unwrap();
    }
    let raw = Connection::open(fx.path()).unwrap();
    raw.execute_batch(&format!(
        "{DROP_V4} {DROP_V5} {DROP_V15} {DROP_V14} {DROP_V12} {DROP_V11} {DROP_V10} {DROP_V9} {DROP_V8} {DROP_V7} {DROP_V6} PRAGMA user_version = 3;"
    ))
    .unwrap();
    drop(raw);
    let mut s = fx.open();
    assert!(s.queue_logged_in("102", "800").unwrap());
    assert_eq!(s.call_details(0, u64::MAX, 10).unwrap().len(), 1);
    s.set_queue_logged_in("102", "800", false).unwrap();
    conformance::queue_agent_history_is_kept_per_agent_and_queue(&mut s);
}

#[test]
fn queue_agent_history_is_kept_per_agent_and_queue() {
    conformance::queue_agent_history_is_kept_per_agent_and_queue(&mut Fixture::new().open());
}

#[test]
fn a_queues_turn_and_an_agents_last_call_outlive_a_restart() {
    let fx = Fixture::new();
    {
        let mut s = fx.open();
        s.set_queue_last_offered("800", "103").unwrap();
        s.set_agent_last_call_end("103", 42_000).unwrap();
        s.set_queue_calls_answered("103", "800", 7).unwrap();
    }
    let s = fx.open();
    assert_eq!(s.queue_last_offered("800").unwrap().as_deref(), Some("103"));
    assert_eq!(s.agent_last_call_end("103").unwrap(), Some(42_000));
    assert_eq!(s.queue_calls_answered("103", "800").unwrap(), 7);
}

#[test]
fn call_details_are_kept_and_listed_by_when_they_started() {
    conformance::call_details_are_kept_and_listed_by_when_they_started(&mut Fixture::new().open());
}

#[test]
fn pin_attempts_outlive_a_restart() {
    let fx = Fixture::new();
    let locked = switchboard_core::store::PinAttempts {
        failures: 0,
        since: 5,
        locks: 1,
        locked_until: 60_005,
    };
    fx.open().set_pin_attempts("101", locked).unwrap();
    assert_eq!(fx.open().pin_attempts("101").unwrap(), locked);
}

#[test]
fn a_store_from_a_newer_switchboard_is_refused() {
    let fx = Fixture::new();
    drop(fx.open());
    Connection::open(fx.path())
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = fx.open_err();
    assert_names_path_and_fix(&err, &fx.path(), "schema version 99");
    assert!(err.contains("run the Switchboard that wrote it"), "{err}");
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let fx = Fixture::new();
    Connection::open(fx.path())
        .unwrap()
        .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        .unwrap();
    let err = fx.open_err();
    assert_names_path_and_fix(&err, &fx.path(), "point the server at another file");
    let raw = Connection::open(fx.path()).unwrap();
    let tables: i64 = raw
        .query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn a_store_in_a_missing_folder_says_to_check_the_folder() {
    let fx = Fixture::new();
    let path = fx.dir.path().join("no-such-folder").join("office.db");
    let err: StoreError = SqliteStore::open(&path).unwrap_err();
    assert_names_path_and_fix(&err.to_string(), &path, "check that its folder exists");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn a_damaged_store_is_refused_at_open() {
    let fx = Fixture::new();
    let mut s = fx.open();
    for n in 0..50 {
        s.add_message("101", message(n)).unwrap();
    }
    drop(s);
    // Keep the header and the schema page, trash the pages holding the tables.
    let mut bytes = std::fs::read(fx.path()).unwrap();
    assert!(
        bytes.len() > 2 * 4096,
        "the store has more than the schema page"
    );
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i * 31 % 251) as u8;
    }
    std::fs::write(fx.path(), &bytes).unwrap();
    let err = fx.open_err();
    assert_names_path_and_fix(&err, &fx.path(), "restore it from a backup");
}

/// What `runtime/tests/store_thread.rs` relies on to catch a store call on a tokio
/// thread: such a call is counted.
#[test]
fn a_store_call_on_a_tokio_thread_is_counted() {
    let f = Fixture::new();
    let store = f.open();
    let before = switchboard_runtime::sqlite_store::calls_in_async_runtime();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        store.check_pin("101", "1234").unwrap();
    });
    assert!(switchboard_runtime::sqlite_store::calls_in_async_runtime() > before);
}
