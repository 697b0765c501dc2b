//! The call engine on the shipped office plan (`dialplans/`): a whole voicemail session,
//! starting and routing a call, and the memory an idle call holds.
//!
//! The session and the extension call are timed through `World` (the simulated office of
//! `switchboard test` and `simulate`) and through `Call` directly with a minimal driver
//! that answers every `Play` with `PlayFinished` at once, so that the second figure is the
//! engine alone; the other starts run through `Call` only.
//! Before anything is timed, each case is run once and checked (prompts heard, state
//! reached), so a broken plan or engine cannot be measured silently.
//!
//! The memory figure comes from a counting global allocator: live heap bytes after
//! starting 1,000 idle calls, minus before, divided by 1,000, plus `size_of::<Call>()`.
//!
//! Run with `cargo bench -p switchboard-core --bench call`; see docs/performance.md.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use switchboard_core::call::{Call, CallStart, Caller};
use switchboard_core::command::Command;
use switchboard_core::event::Event;
use switchboard_core::ids::CallId;
use switchboard_core::store::{MemoryStore, NewMessage, Store};
use switchboard_core::trace::{TraceEntry, Traced};
use switchboard_core::world::World;
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, PromptCatalog, SourceFile, Sources, compile};

// ---- a counting allocator -------------------------------------------------------------

/// The system allocator, counting live bytes and allocations while `COUNTING` is on.
/// Off (the timed runs), it costs one relaxed load per call.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static FREES: AtomicU64 = AtomicU64::new(0);

fn counted(size: usize, allocations: u64) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE_BYTES.fetch_add(size as i64, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(allocations, Ordering::Relaxed);
    }
}

fn freed(size: usize, frees: u64) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE_BYTES.fetch_sub(size as i64, Ordering::Relaxed);
        FREES.fetch_add(frees, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the same arguments; the counters do not
// touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            counted(layout.size(), 1);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            counted(layout.size(), 1);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        freed(layout.size(), 1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            freed(layout.size(), 0);
            counted(new_size, 1);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// What the allocator saw while counting.
struct Counts {
    /// Bytes allocated minus bytes freed.
    live: i64,
    /// Allocations and reallocations made.
    allocations: u64,
    /// Blocks freed (reallocations not included).
    frees: u64,
}

/// Runs `f` with counting on.
///
/// Memory allocated before and freed inside the window would count negative; the cases
/// measured here free nothing older than the window.
fn count<T>(f: impl FnOnce() -> T) -> (T, Counts) {
    LIVE_BYTES.store(0, Ordering::SeqCst);
    ALLOCATIONS.store(0, Ordering::SeqCst);
    FREES.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let out = f();
    COUNTING.store(false, Ordering::SeqCst);
    let counts = Counts {
        live: LIVE_BYTES.load(Ordering::SeqCst),
        allocations: ALLOCATIONS.load(Ordering::SeqCst),
        frees: FREES.load(Ordering::SeqCst),
    };
    (out, counts)
}

// ---- the plan, the office, the callers --------------------------------------------------

/// The shipped office plan, read from `dialplans/` and compiled without checking prompt
/// files (`PromptCatalog::unchecked()`).
fn shipped_plan() -> Arc<Plan> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialplans");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "dial"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .dial files in {}", dir.display());
    let mut sources = Sources::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a readable plan file");
        let name = format!("dialplans/{}", path.file_name().unwrap().to_string_lossy());
        sources.add(SourceFile::new(name, text));
    }
    let compiled = compile(sources, &PromptCatalog::unchecked());
    assert_eq!(compiled.errors(), 0, "{:#?}", compiled.diagnostics);
    compiled.plan.expect("the shipped plan compiles")
}

/// The office for the voicemail session: two new messages in Alice's (101) mailbox. Her
/// PIN is the one the plan gives her (`pin "1234"`).
fn office() -> MemoryStore {
    let mut store = MemoryStore::new();
    for n in 1..=2 {
        store
            .add_message(
                "101",
                NewMessage {
                    recording: format!("msg-{n}.wav"),
                    from: format!("+1260555000{n}"),
                    duration_ms: 12_000,
                    received: "2026-11-23 09:00".into(),
                },
            )
            .expect("the memory store never fails");
    }
    store
}

fn alice() -> Caller {
    Caller::Extension {
        number: "101".into(),
        device: None,
    }
}

fn outside() -> Caller {
    Caller::Trunk {
        trunk: "main".into(),
        number: "+15555550100".into(),
    }
}

fn start(id: u64, from: Caller, dialled: &str) -> CallStart {
    CallStart {
        id: CallId(id),
        from,
        dialled: dialled.to_string(),
        time: WallTime::default(),
    }
}

/// Alice calls 999: PIN, 1 (hear the new messages), 9 (save the first; the second
/// plays), * (back to the voicemail menu), 9 (options), # (back), # (goodbye: the plan
/// hangs up).
const SESSION: [&str; 7] = ["1234#", "1", "9", "*", "9", "#", "#"];

/// What the caller hears in that session, one `Play` a line.
const SESSION_PROMPTS: [&str; 12] = [
    "vm-enter-pin",
    "vm-you-have digits/2 vm-messages",
    "vm-main",
    "vm-message recording:msg-1.wav",
    "vm-message-options",
    "vm-saved",
    "vm-message recording:msg-2.wav",
    "vm-message-options",
    "vm-you-have digits/1 vm-messages",
    "vm-main",
    "vm-options",
    "vm-you-have digits/1 vm-messages",
];

/// The end of the session: `vm-main` again, then goodbye.
const SESSION_END: [&str; 2] = ["vm-main", "goodbye"];

// ---- a minimal driver for `Call` ----------------------------------------------------------

/// Plays every prompt to its end at once, until the call waits for something else. Trace
/// entries go to `trace`; every other command is taken and dropped (timers never fire,
/// which none of these cases needs).
fn settle(call: &mut Call, store: &mut MemoryStore, trace: &mut impl FnMut(TraceEntry)) {
    loop {
        while let Some(t) = call.poll_trace() {
            trace(t);
        }
        let mut finished = None;
        while let Some(c) = call.poll_command() {
            if let Command::Play { id, .. } = c {
                finished = Some(id);
            }
        }
        match finished {
            Some(id) => call.handle(Event::PlayFinished(id), store),
            None => return,
        }
    }
}

fn press(call: &mut Call, store: &mut MemoryStore, keys: &str, trace: &mut impl FnMut(TraceEntry)) {
    for k in keys.chars() {
        call.handle(Event::Digit(k), store);
        settle(call, store, trace);
    }
}

/// The whole voicemail session on `Call`; returns the ended call.
fn session(plan: &Arc<Plan>, store: &mut MemoryStore, trace: &mut impl FnMut(TraceEntry)) -> Call {
    let mut call = Call::start(plan.clone(), start(1, alice(), "999"), store);
    settle(&mut call, store, trace);
    for keys in SESSION {
        press(&mut call, store, keys, trace);
    }
    call
}

/// A new call run until it waits: commands taken (prompts played to their end), trace
/// dropped.
fn idle_call(
    plan: &Arc<Plan>,
    store: &mut MemoryStore,
    id: u64,
    from: Caller,
    dialled: &str,
) -> Call {
    let mut call = Call::start(plan.clone(), start(id, from, dialled), store);
    settle(&mut call, store, &mut drop);
    call
}

fn played(entries: impl IntoIterator<Item = TraceEntry>) -> Vec<String> {
    entries
        .into_iter()
        .filter_map(|t| match t.what {
            Traced::Played(names) => Some(names.join(" ")),
            _ => None,
        })
        .collect()
}

fn expected_session() -> Vec<String> {
    SESSION_PROMPTS
        .iter()
        .chain(&SESSION_END)
        .map(|s| s.to_string())
        .collect()
}

// ---- checks made once, before timing -------------------------------------------------------

fn check_session(plan: &Arc<Plan>) {
    let expected = expected_session();

    // Through `Call`.
    let mut store = office();
    let mut trace = Vec::new();
    let call = session(plan, &mut store, &mut |t| trace.push(t));
    assert!(call.is_ended(), "the session must end: {trace:#?}");
    assert!(
        trace
            .iter()
            .any(|t| matches!(&t.what, Traced::Ended(why) if why == "the plan hung up")),
        "the plan must hang up after goodbye: {trace:#?}"
    );
    assert_eq!(played(trace), expected, "the session through Call");
    assert_eq!(store.message_counts("101").unwrap(), (1, 1), "one saved");

    // Through `World`.
    let mut world = World::new(WallTime::default());
    world.store = office();
    let c = world.call(plan.clone(), alice(), "999");
    for keys in SESSION {
        world.press(c, keys);
    }
    let sim = world.get(c);
    assert!(sim.call.is_ended(), "the session must end in World");
    assert_eq!(
        played(sim.trace.iter().cloned()),
        expected,
        "the session through World"
    );
    assert!(matches!(sim.commands.last(), Some(Command::Hangup { .. })));
    assert_eq!(world.store.message_counts("101").unwrap(), (1, 1));

    // One session, counted.
    let mut store = office();
    let (call, session_counts) = count(|| session(plan, &mut store, &mut drop));
    let ((), freed) = count(|| drop(call));
    println!(
        "voicemail session through Call: {} allocations (reallocations included), {} \
         frees; the ended call still holds {} heap bytes in {} blocks until dropped",
        session_counts.allocations, session_counts.frees, -freed.live, freed.frees
    );
}

/// A call started and run until it waits, with its trace and commands.
fn started(plan: &Arc<Plan>, from: Caller, dialled: &str) -> (Call, Vec<TraceEntry>, Vec<Command>) {
    let mut store = MemoryStore::new();
    let mut trace = Vec::new();
    let mut commands = Vec::new();
    let mut call = Call::start(plan.clone(), start(1, from, dialled), &mut store);
    loop {
        while let Some(t) = call.poll_trace() {
            trace.push(t);
        }
        let mut finished = None;
        while let Some(c) = call.poll_command() {
            if let Command::Play { id, .. } = &c {
                finished = Some(*id);
            }
            commands.push(c);
        }
        match finished {
            Some(id) => call.handle(Event::PlayFinished(id), &mut store),
            None => break,
        }
    }
    (call, trace, commands)
}

/// The calls the start cases and the memory figures use reach the state they are named
/// for.
fn check_starts(plan: &Arc<Plan>) {
    let (call, trace, _) = started(plan, outside(), "+12605550100");
    assert_eq!(played(trace), ["main-greeting"], "the main menu greets");
    assert_eq!(call.waiting_for(), "the caller's keys");
    let (call, trace, _) = started(plan, alice(), "999");
    assert_eq!(
        played(trace),
        ["vm-enter-pin"],
        "voicemail asks for the PIN"
    );
    assert_eq!(call.waiting_for(), "the caller's keys");
    let (call, _, commands) = started(plan, alice(), "102");
    let ring = Command::Ring {
        extension: "102".into(),
    };
    assert!(
        commands.contains(&ring),
        "101 dialling 102 rings 102: {commands:?}"
    );
    assert_eq!(call.waiting_for(), "someone to answer");
}

// ---- memory ------------------------------------------------------------------------------

const IDLE_CALLS: usize = 1_000;

fn idle_memory(plan: &Arc<Plan>) {
    let size = std::mem::size_of::<Call>();
    println!("size_of::<Call>() = {size} bytes");
    for (what, from, dialled) in [
        (
            "main menu (trunk call to +12605550100)",
            outside(),
            "+12605550100",
        ),
        ("voicemail PIN prompt (101 dials 999)", alice(), "999"),
    ] {
        let mut store = MemoryStore::new();
        let mut calls = Vec::with_capacity(IDLE_CALLS);
        let ((), started) = count(|| {
            for i in 0..IDLE_CALLS {
                let call = idle_call(plan, &mut store, i as u64 + 1, from.clone(), dialled);
                calls.push(call);
            }
        });
        assert!(calls.iter().all(|c| c.waiting_for() == "the caller's keys"));
        black_box(&calls);
        // Dropping the calls frees every block they hold, and nothing else.
        let ((), dropped) = count(|| calls.clear());
        assert_eq!(dropped.live, -started.live, "the calls free what they held");
        let n = IDLE_CALLS as f64;
        let heap = started.live as f64 / n;
        let total = size as f64 + heap;
        println!(
            "idle call, {what}: {total:.0} bytes = {size} inline + {heap:.0} heap in {:.1} \
             blocks ({:.1} allocations made while starting); target under 4096: {}",
            dropped.frees as f64 / n,
            started.allocations as f64 / n,
            if total < 4096.0 { "met" } else { "MISSED" }
        );
    }
}

// ---- timed cases ---------------------------------------------------------------------------

fn bench_call(c: &mut Criterion) {
    let plan = shipped_plan();
    check_session(&plan);
    check_starts(&plan);
    idle_memory(&plan);

    let mut group = c.benchmark_group("voicemail_session");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    // The engine: the call and a driver that plays prompts at once; dropping the ended
    // call is included, building the office is not.
    group.bench_function("call", |b| {
        b.iter_batched(
            office,
            |mut store| {
                let call = session(&plan, &mut store, &mut drop);
                drop(black_box(call));
                store
            },
            BatchSize::SmallInput,
        )
    });
    // The simulated office: the same session with `World` keeping every command and
    // trace entry and running the timers.
    group.bench_function("world", |b| {
        b.iter_batched(
            || {
                let mut world = World::new(WallTime::default());
                world.store = office();
                world
            },
            |mut world| {
                let c = world.call(plan.clone(), alice(), "999");
                for keys in SESSION {
                    world.press(c, keys);
                }
                world
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();

    let mut group = c.benchmark_group("start_and_route");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    // Until the call first waits, commands and trace taken, call dropped.
    for (name, from, dialled) in [
        ("extension_101_to_102", alice(), "102"),
        ("voicemail_101_to_999", alice(), "999"),
        ("trunk_to_main_menu", outside(), "+12605550100"),
    ] {
        let mut store = MemoryStore::new();
        group.bench_function(format!("call/{name}"), |b| {
            b.iter(|| idle_call(&plan, &mut store, 1, black_box(from.clone()), dialled))
        });
    }
    group.bench_function("world/extension_101_to_102", |b| {
        b.iter_batched(
            || World::new(WallTime::default()),
            |mut world| {
                world.call(plan.clone(), alice(), black_box("102"));
                world
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_call);
criterion_main!(benches);
