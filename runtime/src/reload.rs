//! The plan the server runs, and its hot reload.
//!
//! `PlanHolder` keeps the running plan with its version and the outcome of the last
//! attempt to load one. `watch` watches the plan folder — the folder, not the files, since
//! editors save by writing a temporary file and renaming it over the old one — waits for
//! the changes to settle, compiles, and swaps the plan in only when it has no errors. A
//! call holds the `Arc<Plan>` it started with, so a reload only affects new calls.
//!
//! Whoever keeps something derived from the plan follows its versions (`versions`): the
//! SIP server resolves the trunks' hosts again on each new version, so a trunk moved in
//! the plan is trusted at its new address from the next call on. The editor hears of
//! every attempt, loaded or refused (`attempts`), and shows an old call's trace against
//! the text its version ran on (`sources_of`, kept for the last `KEPT_VERSIONS`).

use crate::plan_files::{LoadedPlan, PlanFiles, compile_plan, find_plans};
use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{Event, EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use serde::Serialize;
use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};
use switchboard_dsl::render::{human, json_diagnostic};
use switchboard_dsl::{FileId, Plan, Sources};

/// How long the folder must be quiet before a change is compiled: an editor's save is a
/// burst of events (write a temporary file, rename it, change its mode).
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// The running plan, shared by every task that starts calls or answers the API.
pub struct PlanHolder {
    dialplans: PathBuf,
    prompts: PathBuf,
    /// The running version and the last attempt, replaced together. The lock is held only
    /// to clone or replace two `Arc`s, never while compiling, so readers never wait on a
    /// reload.
    state: RwLock<State>,
    /// Held for the whole of a reload, so two reloads never interleave and versions are
    /// handed out in the order the plans were compiled.
    reloading: Mutex<()>,
    /// The running version, for tasks that keep something derived from the plan (the
    /// SIP server's trunk addresses). Lives as long as the holder; receivers see the
    /// channel close when it is dropped.
    versions: tokio::sync::watch::Sender<u64>,
    /// How many reloads have been attempted, loaded or not, so the editor's event stream
    /// hears of a refused plan too.
    attempts: tokio::sync::watch::Sender<u64>,
}

/// How many plan versions keep their sources after they stop running, so a call's
/// trace can be shown against the text it ran on.
pub const KEPT_VERSIONS: usize = 20;

struct State {
    current: Arc<PlanVersion>,
    last: Arc<LastAttempt>,
    /// The sources of the last `KEPT_VERSIONS` versions, the running one first.
    kept: VecDeque<RanSources>,
}

/// The text one plan version ran on.
#[derive(Clone)]
pub struct RanSources {
    pub version: u64,
    /// The plan's file names, in `FileId` order.
    pub files: Vec<String>,
    pub sources: Arc<Sources>,
}

impl RanSources {
    fn of(current: &PlanVersion) -> RanSources {
        RanSources {
            version: current.version,
            files: current.files.clone(),
            sources: current.plan.sources.clone(),
        }
    }

    /// The text of the file named `name` (`office.dial`), if this version had it.
    pub fn text(&self, name: &str) -> Option<&str> {
        let i = self.files.iter().position(|f| f == name)?;
        Some(&self.sources.get(FileId(i as u32)).text)
    }
}

/// One loaded plan: what calls run on.
pub struct PlanVersion {
    pub plan: Arc<Plan>,
    /// 1 for the plan the server started with, one more for each reload that loaded.
    pub version: u64,
    pub loaded_at: SystemTime,
    /// The plan's file names, in the order they were compiled.
    pub files: Vec<String>,
    pub warnings: usize,
    /// False when no prompts folder was found and prompt names went unchecked.
    pub prompts_checked: bool,
}

/// What the last attempt to load a plan did, for `GET /api/plan`.
#[derive(Clone, Debug, Serialize)]
pub struct LastAttempt {
    /// True when the attempt loaded a plan.
    pub ok: bool,
    #[serde(serialize_with = "crate::http::time::serialize")]
    pub at: SystemTime,
    /// The version it loaded; `None` when it was refused.
    pub version: Option<u64>,
    pub errors: usize,
    pub warnings: usize,
    /// Every diagnostic, as `switchboard_dsl::render::json_diagnostic` writes it.
    pub diagnostics: Vec<serde_json::Value>,
    /// Why the plan could not even be compiled (the folder could not be read).
    pub error: Option<String>,
}

/// What one reload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The plan compiled without errors and is now the running one.
    Loaded { version: u64, warnings: usize },
    /// The plan has errors; the running plan stays.
    Refused { errors: usize, warnings: usize },
    /// The files could not be read; the running plan stays.
    Failed(String),
}

impl PlanHolder {
    /// Compiles the plan in `dialplans` against the prompts in `prompts`. A plan with
    /// errors is refused with its diagnostics rendered as `switchboard check` shows them.
    pub fn load_initial(dialplans: &Path, prompts: &Path) -> Result<PlanHolder, String> {
        let at = SystemTime::now();
        let attempt = compile_folder(dialplans, prompts)?;
        let Some(plan) = attempt.loaded.compiled.plan.clone() else {
            let compiled = &attempt.loaded.compiled;
            return Err(format!(
                "the plan in {} has {} and cannot be loaded:\n\n{}",
                dialplans.display(),
                count(compiled.errors(), "error"),
                human(&compiled.diagnostics, &compiled.sources, false).trim_end()
            ));
        };
        log_warnings(&attempt.loaded);
        let (current, last) = attempt.accepted(plan, 1, at);
        tracing::info!(
            version = 1,
            files = current.files.len(),
            warnings = current.warnings,
            "loaded the plan in {}",
            dialplans.display()
        );
        Ok(PlanHolder {
            dialplans: dialplans.to_path_buf(),
            prompts: prompts.to_path_buf(),
            state: RwLock::new(State {
                kept: VecDeque::from([RanSources::of(&current)]),
                current: Arc::new(current),
                last: Arc::new(last),
            }),
            reloading: Mutex::new(()),
            versions: tokio::sync::watch::Sender::new(1),
            attempts: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Compiles the folder again and swaps the new plan in when it has no errors; logs
    /// the diagnostics either way. Blocks while compiling: call it off the async threads.
    pub fn reload(&self) -> ReloadOutcome {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let at = SystemTime::now();
        let running = self.version();
        let attempt = match compile_folder(&self.dialplans, &self.prompts) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!("reload failed, version {running} stays: {e}");
                self.set_last(LastAttempt {
                    ok: false,
                    at,
                    version: None,
                    errors: 0,
                    warnings: 0,
                    diagnostics: Vec::new(),
                    error: Some(e.clone()),
                });
                self.attempted();
                return ReloadOutcome::Failed(e);
            }
        };
        let compiled = &attempt.loaded.compiled;
        let (errors, warnings) = (compiled.errors(), compiled.warnings());
        let Some(plan) = compiled.plan.clone() else {
            tracing::error!(
                "the plan in {} has {}; it was refused and version {running} stays:\n\n{}",
                self.dialplans.display(),
                count(errors, "error"),
                human(&compiled.diagnostics, &compiled.sources, false).trim_end()
            );
            self.set_last(LastAttempt {
                ok: false,
                at,
                version: None,
                errors,
                warnings,
                diagnostics: attempt.json_diagnostics(),
                error: None,
            });
            self.attempted();
            return ReloadOutcome::Refused { errors, warnings };
        };
        log_warnings(&attempt.loaded);
        let version = running + 1;
        let (current, last) = attempt.accepted(plan, version, at);
        {
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            state.kept.push_front(RanSources::of(&current));
            state.kept.truncate(KEPT_VERSIONS);
            state.current = Arc::new(current);
            state.last = Arc::new(last);
        }
        self.versions.send_replace(version);
        self.attempted();
        tracing::info!(
            version,
            warnings,
            "reloaded the plan in {}",
            self.dialplans.display()
        );
        ReloadOutcome::Loaded { version, warnings }
    }

    /// The running plan and its version, taken together.
    pub fn current(&self) -> Arc<PlanVersion> {
        self.read().current.clone()
    }

    /// The running plan, for a call about to start.
    pub fn plan(&self) -> Arc<Plan> {
        self.read().current.plan.clone()
    }

    /// Changes each time a new version is loaded; `borrow_and_update` gives the version.
    pub fn versions(&self) -> tokio::sync::watch::Receiver<u64> {
        self.versions.subscribe()
    }

    /// Changes after each reload attempt, whether it loaded a plan or not; the value
    /// counts the attempts.
    pub fn attempts(&self) -> tokio::sync::watch::Receiver<u64> {
        self.attempts.subscribe()
    }

    /// The text version `version` ran on, while it is one of the last `KEPT_VERSIONS`.
    pub fn sources_of(&self, version: u64) -> Option<RanSources> {
        self.read()
            .kept
            .iter()
            .find(|k| k.version == version)
            .cloned()
    }

    pub fn version(&self) -> u64 {
        self.read().current.version
    }

    pub fn last_attempt(&self) -> Arc<LastAttempt> {
        self.read().last.clone()
    }

    pub fn dialplans(&self) -> &Path {
        &self.dialplans
    }

    pub fn prompts(&self) -> &Path {
        &self.prompts
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn attempted(&self) {
        self.attempts.send_modify(|n| *n += 1);
    }

    fn set_last(&self, last: LastAttempt) {
        self.state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .last = Arc::new(last);
    }
}

/// The folder watcher; dropping it (or `stop`) stops watching.
pub struct WatchHandle {
    /// The task that waits for changes and reloads; it owns the file-system watcher, so
    /// the watch ends with the task.
    task: Option<tokio::task::JoinHandle<()>>,
}

impl WatchHandle {
    /// Stops watching now; a reload already compiling finishes on its blocking thread.
    pub fn stop(mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    /// Waits until the watcher ends (when the `cancel` future given to `watch` completes).
    pub async fn stopped(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Watches the holder's plan folder and reloads, `DEBOUNCE` after the last change to a
/// `.dial` file in it, until `cancel` completes. Must be called inside a tokio runtime.
///
/// The watch is not recursive: a plan is the `.dial` files directly in its folder.
pub fn watch(
    holder: Arc<PlanHolder>,
    cancel: impl Future<Output = ()> + Send + 'static,
) -> Result<WatchHandle, String> {
    let wake = Arc::new(tokio::sync::Notify::new());
    let waker = wake.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        match result {
            // `notify_one` keeps one permit, so changes made while a reload is compiling
            // cause exactly one more reload.
            Ok(events) if events.iter().any(|e| touches_plan(e)) => waker.notify_one(),
            Ok(_) => {}
            Err(errors) => {
                for e in errors {
                    tracing::warn!("watching the plan folder: {e}");
                }
            }
        }
    })
    .map_err(|e| format!("cannot watch {}: {e}", holder.dialplans.display()))?;
    debouncer
        .watch(&holder.dialplans, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", holder.dialplans.display()))?;
    tracing::info!("watching {} for changes", holder.dialplans.display());
    let task = tokio::spawn(async move {
        let _watching = debouncer;
        let mut cancel = std::pin::pin!(cancel);
        loop {
            tokio::select! {
                () = &mut cancel => break,
                () = wake.notified() => {}
            }
            let h = holder.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || h.reload()).await {
                tracing::error!("the reload task failed: {e}");
            }
        }
    });
    Ok(WatchHandle { task: Some(task) })
}

/// A change that can alter the plan: anything but reading, to a `.dial` file (a rename
/// names both the old and the new path), or an overflow that asks for a rescan.
fn touches_plan(event: &Event) -> bool {
    if event.need_rescan() {
        return true;
    }
    let reading = matches!(
        event.kind,
        EventKind::Access(kind) if kind != AccessKind::Close(AccessMode::Write)
    );
    !reading
        && event
            .paths
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "dial"))
}

/// One compile of the plan folder, before it is accepted or refused.
struct Attempt {
    loaded: LoadedPlan,
    files: Vec<String>,
}

impl Attempt {
    /// Every finding as `switchboard check --format json` writes it, with files named by
    /// their name in the plan folder (`office.dial`), as the editor names them.
    fn json_diagnostics(&self) -> Vec<serde_json::Value> {
        let c = &self.loaded.compiled;
        let in_folder = |path: &mut String| {
            if let Some(name) = Path::new(path.as_str()).file_name() {
                *path = name.to_string_lossy().into_owned();
            }
        };
        c.diagnostics
            .iter()
            .map(|d| {
                let mut json = json_diagnostic(d, &c.sources);
                in_folder(&mut json.place.file);
                for r in &mut json.related {
                    in_folder(&mut r.place.file);
                }
                serde_json::to_value(json).unwrap_or_default()
            })
            .collect()
    }

    fn accepted(self, plan: Arc<Plan>, version: u64, at: SystemTime) -> (PlanVersion, LastAttempt) {
        let c = &self.loaded.compiled;
        let last = LastAttempt {
            ok: true,
            at,
            version: Some(version),
            errors: 0,
            warnings: c.warnings(),
            diagnostics: self.json_diagnostics(),
            error: None,
        };
        let current = PlanVersion {
            plan,
            version,
            loaded_at: at,
            warnings: c.warnings(),
            prompts_checked: self.loaded.prompts_checked,
            files: self.files,
        };
        (current, last)
    }
}

fn compile_folder(dialplans: &Path, prompts: &Path) -> Result<Attempt, String> {
    if !dialplans.is_dir() {
        return Err(format!(
            "the plan folder {} does not exist or is not a folder; set --dialplans",
            dialplans.display()
        ));
    }
    if !prompts.is_dir() {
        return Err(format!(
            "the prompts folder {} does not exist or is not a folder; set --prompts",
            prompts.display()
        ));
    }
    let mut plans = find_plans(&[dialplans.to_path_buf()]).map_err(|e| e.to_string())?;
    let plan: PlanFiles = match plans.len() {
        1 if plans[0].root == dialplans => plans.remove(0),
        0 => return Err(format!("{} holds no .dial files", dialplans.display())),
        n => {
            return Err(format!(
                "{} holds no .dial files of its own but {n} plans in sub-folders; \
                 point --dialplans at one of them",
                dialplans.display()
            ));
        }
    };
    let files = plan
        .files
        .iter()
        .map(|f| {
            f.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let loaded = compile_plan(&plan, Some(prompts))?;
    Ok(Attempt { loaded, files })
}

fn log_warnings(loaded: &LoadedPlan) {
    let c = &loaded.compiled;
    if c.warnings() > 0 {
        tracing::warn!(
            "the plan has {}:\n\n{}",
            count(c.warnings(), "warning"),
            human(&c.diagnostics, &c.sources, false).trim_end()
        );
    }
    if !loaded.prompts_checked {
        tracing::warn!("no prompts folder was found: prompt names were not checked");
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
