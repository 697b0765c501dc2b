//! `switchboard check [PATH...]`: compile each plan and show every diagnostic.
//!
//! Exit codes: 0 clean (warnings allowed unless `--deny-warnings`), 1 errors, 2 the
//! paths themselves could not be read.

use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard_dsl::render;
use switchboard_runtime::plan_files;

#[derive(Args)]
pub struct CheckArgs {
    /// Plan folders or files; a folder of folders holds one plan per sub-folder.
    #[arg(default_value = "dialplans")]
    paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// The prompts folder; by default the nearest `prompts/` beside or above each plan.
    #[arg(long)]
    prompts: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

#[derive(serde::Serialize)]
struct JsonReport {
    plans: Vec<JsonPlan>,
    errors: usize,
    warnings: usize,
}

#[derive(serde::Serialize)]
struct JsonPlan {
    root: String,
    files: usize,
    diagnostics: Vec<render::JsonDiagnostic>,
}

pub fn run(args: CheckArgs) -> ExitCode {
    let plans = match plan_files::find_plans(&args.paths) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if plans.is_empty() {
        eprintln!(
            "error: no .dial files found in {}",
            display_paths(&args.paths)
        );
        return ExitCode::from(2);
    }
    let color = args.format == Format::Human && std::io::stdout().is_terminal();
    let (mut errors, mut warnings) = (0, 0);
    let mut report = JsonReport {
        plans: Vec::new(),
        errors: 0,
        warnings: 0,
    };
    for plan in &plans {
        let loaded = match plan_files::compile_plan(plan, args.prompts.as_deref()) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        if !loaded.prompts_checked && args.format == Format::Human {
            eprintln!(
                "warning: no prompts/ folder found for {}; prompts are not checked",
                plan.root.display()
            );
        }
        let compiled = loaded.compiled;
        errors += compiled.errors();
        warnings += compiled.warnings();
        match args.format {
            Format::Human => {
                print!(
                    "{}",
                    render::human(&compiled.diagnostics, &compiled.sources, color)
                );
                if compiled.diagnostics.is_empty() {
                    println!("{}: ok ({})", plan.root.display(), summary(&compiled));
                }
            }
            Format::Json => report.plans.push(JsonPlan {
                root: plan.root.display().to_string(),
                files: plan.files.len(),
                diagnostics: compiled
                    .diagnostics
                    .iter()
                    .map(|d| render::json_diagnostic(d, &compiled.sources))
                    .collect(),
            }),
        }
    }
    match args.format {
        Format::Human => {
            if errors + warnings > 0 {
                println!(
                    "{} {}, {} {} in {} plan{}",
                    errors,
                    if errors == 1 { "error" } else { "errors" },
                    warnings,
                    if warnings == 1 { "warning" } else { "warnings" },
                    plans.len(),
                    if plans.len() == 1 { "" } else { "s" }
                );
            }
        }
        Format::Json => {
            report.errors = errors;
            report.warnings = warnings;
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("diagnostics serialize")
            );
        }
    }
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn summary(c: &switchboard_dsl::Compiled) -> String {
    match &c.plan {
        Some(p) => format!(
            "{} files, {} extensions, {} queues, {} routes, {} flows, {} chat routes, {} tests",
            c.sources.len(),
            p.extensions.len(),
            p.queues.len(),
            p.routes.len() + p.inbound.len(),
            p.flows.len(),
            p.chats.len(),
            p.tests.len()
        ),
        None => String::new(),
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
