//! `switchboard simulate --from EXT --dial NUMBER [--press KEYS]... [--wait 6s]...
//! [--far-end "extension 102 is busy"]...`: walk one call through the plan from the shell
//! and print its trace step by step.
//!
//! `--press`, `--wait` and `--far-end` happen in the order given. Prompts finish at once
//! and phones ring unanswered unless `--far-end` says otherwise, in the words of a test
//! step (`extension 102 answers after 5s`, `trunk main is busy`), as in `switchboard
//! test`; the office starts empty (the PINs written in the plan apply).

use clap::{ArgMatches, Args};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::call::Caller;
use switchboard_core::world::World;
use switchboard_dsl::ast::{FarEndDoes, FarEndParty};
use switchboard_dsl::duration;
use switchboard_dsl::read::{PhraseWord, far_end_phrase};
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, render};
use switchboard_runtime::plan_files;

#[derive(Args)]
pub struct SimulateArgs {
    /// The plan: a folder of .dial files (or one file).
    #[arg(long, default_value = "dialplans")]
    plan: PathBuf,
    /// The calling extension (a desk phone).
    #[arg(long, conflicts_with = "trunk")]
    from: Option<String>,
    /// A hot-desk phone's MAC address the call comes from (with --from, or alone).
    #[arg(long)]
    device: Option<String>,
    /// A call from outside arriving on this trunk.
    #[arg(long)]
    trunk: Option<String>,
    /// The outside caller's number, with --trunk.
    #[arg(long, default_value = "+15555550100")]
    number: String,
    /// The number dialled.
    #[arg(long)]
    dial: String,
    /// Keys the caller presses, like `1234#`; may be repeated.
    #[arg(long)]
    press: Vec<String>,
    /// Time passing with no key pressed, like `6s`; may be repeated.
    #[arg(long)]
    wait: Vec<String>,
    /// What a far end the call rings does, as a test says it: "extension 102 answers
    /// [after 5s]", "extension 102 is busy", "queue 800 never answers", "trunk main is
    /// unregistered"; may be repeated.
    #[arg(long = "far-end", value_name = "WHO DOES")]
    far_end: Vec<String>,
    /// Office time, like "2026-11-23 19:00" (default: Monday 2026-11-23 10:00).
    #[arg(long)]
    time: Option<String>,
    /// The prompts folder; by default the nearest `prompts/`.
    #[arg(long)]
    prompts: Option<PathBuf>,
}

/// The caller's actions in the order they were written on the command line.
enum Action {
    Press(String),
    Wait(Duration),
    FarEnd(FarEnd),
}

/// `--far-end "extension 102 is busy"`, read.
struct FarEnd {
    party: FarEndParty,
    name: String,
    does: FarEndDoes,
    written: String,
}

pub fn run(args: SimulateArgs, matches: &ArgMatches) -> ExitCode {
    let actions = match ordered_actions(&args, matches) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let time = match &args.time {
        None => WallTime::default(),
        Some(t) => match WallTime::parse(t) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: --time {t:?} is not like \"2026-11-23 19:00\": {e}");
                return ExitCode::from(2);
            }
        },
    };
    let Some(plan) = load(&args) else {
        return ExitCode::from(1);
    };
    let from = match (&args.trunk, &args.from, &args.device) {
        (Some(t), _, _) => Caller::Trunk {
            trunk: t.clone(),
            number: args.number.clone(),
        },
        (None, Some(e), device) => Caller::Extension {
            number: e.clone(),
            device: device.clone(),
        },
        (None, None, Some(d)) => Caller::Extension {
            number: String::new(),
            device: Some(d.clone()),
        },
        (None, None, None) => {
            eprintln!("error: say who calls: --from EXT, --device MAC or --trunk NAME");
            return ExitCode::from(2);
        }
    };
    let mut world = World::new(time);
    let call = world.call(plan.clone(), from, &args.dial);
    let mut shown = print_new(&world, call, &plan, 0);
    for a in actions {
        match a {
            Action::Press(keys) => {
                println!("> press {keys}");
                world.press(call, &keys);
            }
            Action::Wait(d) => {
                println!("> wait {}", humantime(d));
                world.wait(d);
            }
            Action::FarEnd(f) => {
                println!("> {}", f.written);
                if let Err(e) = world.far_end(call, f.party, &f.name, f.does) {
                    println!("  (nothing happens: {e})");
                }
            }
        }
        shown = print_new(&world, call, &plan, shown);
    }
    let c = &world.get(call).call;
    if !c.is_ended() {
        println!("(the call is waiting for {})", c.waiting_for());
    }
    ExitCode::SUCCESS
}

fn load(args: &SimulateArgs) -> Option<Arc<Plan>> {
    let plans = match plan_files::find_plans(std::slice::from_ref(&args.plan)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    let Some(files) = plans.first() else {
        eprintln!("error: no .dial files in {}", args.plan.display());
        return None;
    };
    let loaded = match plan_files::compile_plan(files, args.prompts.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    let compiled = loaded.compiled;
    if compiled.plan.is_none() {
        print!(
            "{}",
            render::human(&compiled.diagnostics, &compiled.sources, false)
        );
    }
    compiled.plan
}

fn print_new(world: &World, call: usize, plan: &Plan, from: usize) -> usize {
    let trace = &world.get(call).trace;
    for e in &trace[from..] {
        println!("  {}", e.render(plan));
    }
    trace.len()
}

fn ordered_actions(args: &SimulateArgs, m: &ArgMatches) -> Result<Vec<Action>, String> {
    let mut at: Vec<(usize, Action)> = Vec::new();
    let press_at = m.indices_of("press").map(|i| i.collect::<Vec<_>>());
    for (n, keys) in args.press.iter().enumerate() {
        if let Some(bad) = keys.chars().find(|c| !matches!(c, '0'..='9' | '*' | '#')) {
            return Err(format!("--press {keys:?}: {bad:?} is not a phone key"));
        }
        let i = press_at
            .as_ref()
            .and_then(|v| v.get(n).copied())
            .unwrap_or(n);
        at.push((i, Action::Press(keys.clone())));
    }
    let wait_at = m.indices_of("wait").map(|i| i.collect::<Vec<_>>());
    for (n, w) in args.wait.iter().enumerate() {
        let d = duration::parse(w).map_err(|e| format!("--wait: {e}"))?;
        let i = wait_at
            .as_ref()
            .and_then(|v| v.get(n).copied())
            .unwrap_or(usize::MAX);
        at.push((i, Action::Wait(d)));
    }
    let far_end_at = m.indices_of("far_end").map(|i| i.collect::<Vec<_>>());
    for (n, text) in args.far_end.iter().enumerate() {
        let f = far_end(text).map_err(|e| format!("--far-end {text:?}: {e}"))?;
        let i = far_end_at
            .as_ref()
            .and_then(|v| v.get(n).copied())
            .unwrap_or(usize::MAX);
        at.push((i, Action::FarEnd(f)));
    }
    at.sort_by_key(|(i, _)| *i);
    Ok(at.into_iter().map(|(_, a)| a).collect())
}

/// Reads `extension 102 is busy`, `trunk "main" answers after 5s`: whose far end, then
/// what it does in the words a test uses (`read::far_end_phrase`).
fn far_end(text: &str) -> Result<FarEnd, String> {
    let mut words = text.split_whitespace();
    let party = match words.next() {
        Some("extension") => FarEndParty::Extension,
        Some("queue") => FarEndParty::Queue,
        Some("trunk") => FarEndParty::Trunk,
        _ => {
            return Err(
                "start with whose far end it is: extension EXT, queue QUEUE or trunk NAME".into(),
            );
        }
    };
    let Some(name) = words.next() else {
        return Err("name the extension, queue or trunk".into());
    };
    let name = name.trim_matches('"').to_string();
    let phrase: Vec<PhraseWord> = words
        .map(|w| {
            if w.bytes().all(|b| b.is_ascii_digit()) {
                PhraseWord::Number(w.to_string())
            } else if w.starts_with(|c: char| c.is_ascii_digit()) {
                duration::parse(w).map_or(PhraseWord::Other, PhraseWord::Duration)
            } else {
                PhraseWord::Word(w.to_string())
            }
        })
        .collect();
    let does = far_end_phrase(&phrase).map_err(|e| match e.help {
        Some(help) => format!("{} ({help})", e.message),
        None => e.message,
    })?;
    Ok(FarEnd {
        party,
        name,
        does,
        written: text.to_string(),
    })
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
