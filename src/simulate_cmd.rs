//! `switchboard simulate --from EXT --dial NUMBER [--press KEYS]... [--wait 6s]...
//! [--far-end "extension 102 is busy"]...`: walk one call through the plan from the shell
//! and print its trace step by step.
//!
//! `--press`, `--wait` and `--far-end` happen in the order given. Prompts finish at once
//! and phones ring unanswered unless `--far-end` says otherwise, in the words of a test
//! step (`extension 102 answers after 5s`, `trunk main is busy`), as in `switchboard
//! test`; the office starts empty (the PINs written in the plan apply). The walk is
//! `switchboard_runtime::simulation`, the same the editor's simulator replays.

use clap::{ArgMatches, Args};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, render};
use switchboard_runtime::plan_files;
use switchboard_runtime::simulation::{self, Action, Simulation};

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
    let trunk = args.trunk.as_deref().map(|t| (t, args.number.as_str()));
    let Some(from) = simulation::caller(args.from.as_deref(), args.device.as_deref(), trunk) else {
        eprintln!("error: say who calls: --from EXT, --device MAC or --trunk NAME");
        return ExitCode::from(2);
    };
    let mut sim = Simulation::start(plan, time, from, &args.dial);
    let mut shown = print_new(&sim, 0);
    for a in &actions {
        println!("> {a}");
        if let Err(e) = sim.act(a) {
            println!("  (nothing happens: {e})");
        }
        shown = print_new(&sim, shown);
    }
    let call = sim.call();
    if !call.is_ended() {
        println!("(the call is waiting for {})", call.waiting_for());
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

fn print_new(sim: &Simulation, from: usize) -> usize {
    let trace = sim.trace();
    for e in &trace[from..] {
        println!("  {}", e.render(sim.plan()));
    }
    trace.len()
}

fn ordered_actions(args: &SimulateArgs, m: &ArgMatches) -> Result<Vec<Action>, String> {
    let mut at: Vec<(usize, Action)> = Vec::new();
    let press_at = m.indices_of("press").map(|i| i.collect::<Vec<_>>());
    for (n, keys) in args.press.iter().enumerate() {
        let action = Action::press(keys).map_err(|e| format!("--press {keys:?}: {e}"))?;
        let i = press_at
            .as_ref()
            .and_then(|v| v.get(n).copied())
            .unwrap_or(n);
        at.push((i, action));
    }
    let wait_at = m.indices_of("wait").map(|i| i.collect::<Vec<_>>());
    for (n, w) in args.wait.iter().enumerate() {
        let action = Action::wait(w).map_err(|e| format!("--wait: {e}"))?;
        let i = wait_at
            .as_ref()
            .and_then(|v| v.get(n).copied())
            .unwrap_or(usize::MAX);
        at.push((i, action));
    }
    let far_end_at = m.indices_of("far_end").map(|i| i.collect::<Vec<_>>());
    for (n, text) in args.far_end.iter().enumerate() {
        let action = Action::far_end(text).map_err(|e| format!("--far-end {text:?}: {e}"))?;
        let i = far_end_at
            .as_ref()
            .and_then(|v| v.get(n).copied())
            .unwrap_or(usize::MAX);
        at.push((i, action));
    }
    at.sort_by_key(|(i, _)| *i);
    Ok(at.into_iter().map(|(_, a)| a).collect())
}
