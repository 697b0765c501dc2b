//! Hot reload on a real folder: edits, saves by rename, broken plans refused and fixed.
//!
//! Watcher tests wait for a condition with a deadline (polled every 20 ms for up to 10 s),
//! never for a fixed time.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::reload::{PlanHolder, ReloadOutcome, WatchHandle, watch};
use tempfile::TempDir;

const TWO: &str = "extension 100 \"Front Desk\"\nextension 101 \"Alice\"\n";
const THREE: &str =
    "extension 100 \"Front Desk\"\nextension 101 \"Alice\"\nextension 102 \"Bruno\"\n";
const FOUR: &str = "extension 100 \"Front Desk\"\nextension 101 \"Alice\"\nextension 102 \"Bruno\"\nextension 103 \"Carla\"\n";
const BROKEN: &str = "extension 100 \"Front Desk\"\nextension 100 \"Alice\"\n";

/// A plan folder holding `office.dial`, and an empty prompts folder beside it.
struct Office {
    _dir: TempDir,
    plans: PathBuf,
    prompts: PathBuf,
}

impl Office {
    fn new(office_dial: &str) -> Office {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), office_dial).unwrap();
        Office {
            _dir: dir,
            plans,
            prompts,
        }
    }

    fn office(&self) -> PathBuf {
        self.plans.join("office.dial")
    }

    fn holder(&self) -> Arc<PlanHolder> {
        Arc::new(PlanHolder::load_initial(&self.plans, &self.prompts).unwrap())
    }

    /// A holder and a watcher on it; the watcher stops when the handle is dropped.
    fn watched(&self) -> (Arc<PlanHolder>, WatchHandle) {
        let holder = self.holder();
        let handle = watch(holder.clone(), std::future::pending()).unwrap();
        (holder, handle)
    }
}

/// Polls `cond` every 20 ms until it holds; fails after 10 s, saying what was awaited.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after 10 s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Saves as editors do: write a temporary file beside the target, then rename it over.
fn save_by_rename(target: &Path, text: &str) {
    let tmp = target.with_file_name(".office.dial.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, target).unwrap();
}

fn extensions(holder: &PlanHolder) -> usize {
    holder.plan().extensions.len()
}

#[test]
fn the_first_good_load_is_version_1() {
    let office = Office::new(TWO);
    let holder = office.holder();
    assert_eq!(holder.version(), 1);
    let current = holder.current();
    assert_eq!(current.version, 1);
    assert_eq!(current.files, vec!["office.dial".to_string()]);
    assert_eq!(current.plan.extensions.len(), 2);
    let last = holder.last_attempt();
    assert!(last.ok);
    assert_eq!(last.version, Some(1));
    assert_eq!(last.at, current.loaded_at);
    assert!(last.diagnostics.is_empty());
}

#[test]
fn a_broken_plan_at_start_up_is_an_error_showing_its_diagnostics() {
    let office = Office::new(BROKEN);
    let Err(e) = PlanHolder::load_initial(&office.plans, &office.prompts) else {
        panic!("a broken plan must not load");
    };
    assert!(e.contains("has 1 error and cannot be loaded"), "{e}");
    assert!(
        e.contains("error: extension number `100` is defined twice"),
        "{e}"
    );
    assert!(e.contains("office.dial:2:11"), "{e}");
}

#[test]
fn start_up_names_a_missing_or_empty_folder() {
    let office = Office::new(TWO);
    let missing = office.plans.join("nope");
    let e = PlanHolder::load_initial(&missing, &office.prompts)
        .err()
        .unwrap();
    assert!(
        e.contains("does not exist or is not a folder; set --dialplans"),
        "{e}"
    );
    let e = PlanHolder::load_initial(&office.plans, &missing)
        .err()
        .unwrap();
    assert!(e.contains("set --prompts"), "{e}");
    let empty = office.plans.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = PlanHolder::load_initial(&empty, &office.prompts)
        .err()
        .unwrap();
    assert!(e.ends_with("holds no .dial files"), "{e}");
}

#[test]
fn reload_swaps_only_a_plan_without_errors() {
    let office = Office::new(TWO);
    let holder = office.holder();
    let before = holder.plan();

    std::fs::write(office.office(), THREE).unwrap();
    assert_eq!(
        holder.reload(),
        ReloadOutcome::Loaded {
            version: 2,
            warnings: 0
        }
    );
    assert_eq!(extensions(&holder), 3);
    assert_eq!(
        before.extensions.len(),
        2,
        "a call keeps the plan it started on"
    );

    std::fs::write(office.office(), BROKEN).unwrap();
    assert_eq!(
        holder.reload(),
        ReloadOutcome::Refused {
            errors: 1,
            warnings: 0
        }
    );
    assert_eq!(holder.version(), 2);
    assert_eq!(extensions(&holder), 3, "the old plan stays");
    let last = holder.last_attempt();
    assert!(!last.ok);
    assert_eq!(last.version, None);
    assert_eq!(last.errors, 1);
    assert_eq!(last.diagnostics.len(), 1);
    let d = &last.diagnostics[0];
    assert_eq!(d["code"], "duplicate", "{d}");
    assert_eq!(d["severity"], "error", "{d}");
    assert_eq!(d["line"], 2, "{d}");
    assert!(d["file"].as_str().unwrap().ends_with("office.dial"), "{d}");

    std::fs::remove_file(office.office()).unwrap();
    let ReloadOutcome::Failed(e) = holder.reload() else {
        panic!("an empty folder cannot be compiled");
    };
    assert!(e.ends_with("holds no .dial files"), "{e}");
    assert_eq!(holder.last_attempt().error.as_deref(), Some(e.as_str()));
    assert_eq!(holder.version(), 2);
}

#[tokio::test]
async fn an_edit_is_picked_up_and_calls_keep_their_plan() {
    let office = Office::new(TWO);
    let (holder, _watching) = office.watched();
    let before = holder.plan();

    std::fs::write(office.office(), THREE).unwrap();
    wait_for("version 2", || holder.version() == 2).await;
    assert_eq!(extensions(&holder), 3);
    assert!(!Arc::ptr_eq(&before, &holder.plan()));
    assert_eq!(
        before.extensions.len(),
        2,
        "a call keeps the plan it started on"
    );
    assert!(holder.last_attempt().ok);
}

#[tokio::test]
async fn a_save_by_rename_is_picked_up() {
    let office = Office::new(TWO);
    let (holder, _watching) = office.watched();

    save_by_rename(&office.office(), THREE);
    wait_for("version 2", || holder.version() == 2).await;
    assert_eq!(extensions(&holder), 3);

    // A new file created by rename joins the plan too.
    save_by_rename(
        &office.plans.join("lobby.dial"),
        "extension 200 \"Lobby\"\n",
    );
    wait_for("version 3", || holder.version() == 3).await;
    assert_eq!(extensions(&holder), 4);
    assert_eq!(holder.current().files, ["lobby.dial", "office.dial"]);
}

#[tokio::test]
async fn a_broken_edit_is_refused_and_fixing_it_loads() {
    let office = Office::new(TWO);
    let (holder, _watching) = office.watched();

    std::fs::write(office.office(), BROKEN).unwrap();
    wait_for("the broken plan to be refused", || {
        !holder.last_attempt().ok
    })
    .await;
    assert_eq!(holder.version(), 1);
    assert_eq!(extensions(&holder), 2);
    let last = holder.last_attempt();
    assert_eq!(last.errors, 1);
    assert_eq!(last.diagnostics[0]["code"], "duplicate");

    std::fs::write(office.office(), THREE).unwrap();
    wait_for("version 2", || holder.version() == 2).await;
    assert_eq!(extensions(&holder), 3);
    let last = holder.last_attempt();
    assert!(last.ok);
    assert_eq!(last.version, Some(2));
    assert!(last.diagnostics.is_empty());
}

#[tokio::test]
async fn reading_the_plan_and_other_files_cause_no_reload() {
    let office = Office::new(TWO);
    let (holder, _watching) = office.watched();

    // A file that is not part of the plan changes nothing; then an edit that does.
    std::fs::write(office.plans.join("notes.txt"), "call Alice back").unwrap();
    std::fs::write(office.office(), THREE).unwrap();
    wait_for("version 2", || holder.version() == 2).await;
    assert_eq!(extensions(&holder), 3);

    // The reload read every .dial file; if reading counted as a change, the watcher would
    // reload again one debounce later, and again after that. This is a bounded look for
    // something that must not happen, not a wait for something that should.
    let _ = std::fs::read_to_string(office.office()).unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        holder.version(),
        2,
        "reading a plan file must not reload it"
    );

    std::fs::write(office.office(), FOUR).unwrap();
    wait_for("version 3", || holder.version() == 3).await;
    assert_eq!(extensions(&holder), 4);
}

#[tokio::test]
async fn the_watcher_stops_when_cancelled() {
    let office = Office::new(TWO);
    let holder = office.holder();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = watch(holder.clone(), async {
        let _ = stopped.await;
    })
    .unwrap();
    stop.send(()).unwrap();
    within_10s(handle.stopped()).await;
}

async fn within_10s(f: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("did not finish within 10 s");
}

/// Whoever keeps something derived from the plan (the SIP server's trunk addresses)
/// hears of each version that loads, and of no refused one.
#[test]
fn each_loaded_version_is_announced_and_a_refused_one_is_not() {
    let office = Office::new(TWO);
    let holder = office.holder();
    let mut versions = holder.versions();
    assert_eq!(*versions.borrow_and_update(), 1);
    assert!(!versions.has_changed().unwrap());

    std::fs::write(office.office(), THREE).unwrap();
    assert!(matches!(
        holder.reload(),
        ReloadOutcome::Loaded { version: 2, .. }
    ));
    assert!(versions.has_changed().unwrap());
    assert_eq!(*versions.borrow_and_update(), 2);

    std::fs::write(office.office(), "extension 1O1 \"Typo\"\n").unwrap();
    assert!(matches!(holder.reload(), ReloadOutcome::Refused { .. }));
    assert!(
        !versions.has_changed().unwrap(),
        "a refused plan is no new version"
    );
}
