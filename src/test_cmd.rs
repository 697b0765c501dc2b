//! `switchboard test [PATH...]`: run every `test` block of each plan, in a simulated
//! office with no network and no real clock.
//!
//! One line per test (`ok` or `FAILED`); for a failure, the step that failed, what the
//! call did instead and its whole trace with file and line. Exit code 1 on any failure
//! (or a plan that does not compile), 2 when the paths cannot be read.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_core::test_run::{TestOutcome, run_tests};
use switchboard_dsl::render;
use switchboard_runtime::plan_files;

#[derive(Args)]
pub struct TestArgs {
    /// Plan folders or files; a folder of folders holds one plan per sub-folder.
    #[arg(default_value = "dialplans")]
    paths: Vec<PathBuf>,
    /// Only run tests whose name contains this text.
    #[arg(long)]
    name: Option<String>,
    /// The prompts folder; by default the nearest `prompts/` beside or above each plan.
    #[arg(long)]
    prompts: Option<PathBuf>,
}

pub fn run(args: TestArgs) -> ExitCode {
    let plans = match plan_files::find_plans(&args.paths) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            eprintln!("error: no .dial files found");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for files in &plans {
        let loaded = match plan_files::compile_plan(files, args.prompts.as_deref()) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let compiled = loaded.compiled;
        let Some(plan) = compiled.plan.clone() else {
            print!(
                "{}",
                render::human(&compiled.diagnostics, &compiled.sources, false)
            );
            println!(
                "{}: does not compile; its tests did not run",
                files.root.display()
            );
            broken += 1;
            continue;
        };
        let outcomes: Vec<TestOutcome> = run_tests(&plan)
            .into_iter()
            .filter(|o| {
                args.name
                    .as_ref()
                    .is_none_or(|n| o.name.contains(n.as_str()))
            })
            .collect();
        for o in outcomes {
            match &o.failure {
                None => {
                    passed += 1;
                    println!("ok      {}", o.name);
                }
                Some(f) => {
                    failed += 1;
                    println!("FAILED  {}  ({})", o.name, o.place);
                    println!("    at {}: expected {}", f.place, f.expected);
                    if f.instead.is_empty() {
                        println!("    but the call did nothing more");
                    } else {
                        println!("    but the call did: {}", f.instead.join("; "));
                    }
                    if !f.trace.is_empty() {
                        println!("    trace:");
                        for line in f.rendered_trace(&plan) {
                            println!("      {line}");
                        }
                    }
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if broken > 0 {
        println!("{broken} plan(s) did not compile");
    }
    if failed > 0 || broken > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
