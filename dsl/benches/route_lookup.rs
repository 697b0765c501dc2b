//! `RouteTable::lookup` on plans of 100, 1k, 10k and 100k extensions with one dial route
//! per 10 extensions, and `RouteTable::new` on the same routes.
//!
//! Each plan has the extension pattern `{ext:1XXXXX}`, the external routes (`9` + ten
//! digits, once with a `when`, `91` + ten digits, `9011` + anything) and, to make up one
//! route per 10 extensions, in turn a literal feature code (`*60042`), a fixed-length
//! prefix pattern (`80043{d:X}`, as long as an extension number) and a variable-length one
//! (`70044{d:X.}`). Every plan is compiled, so the routes are the ones a real plan has.
//!
//! `RouteTable::new` is also measured on the routes of the `compile` benchmark's office plan
//! of 10k extensions, to put its share of `compile` in numbers.
//!
//! Run with `cargo bench -p switchboard-dsl --bench route_lookup`; see docs/performance.md.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;
use switchboard_dsl::route_table::RouteTable;
use switchboard_dsl::{Plan, PromptCatalog, SourceFile, Sources, compile};

/// The routes every plan has, before the generated ones.
const FIXED_ROUTES: usize = 5;

/// A plan of `extensions` extensions and `extensions / 10` dial routes.
fn plan_text(extensions: usize) -> String {
    let mut s = String::with_capacity(extensions * 40);
    s.push_str(
        "settings {\n    extension_digits = 6\n}\n\n\
         trunk \"main\" { host \"sip.carrier.example\" }\n\n\
         dial \"{ext:1XXXXX}\"        -> extension ext\n\
         dial \"9{n:NXXNXXXXXX}\"     -> trunk \"main\" to \"+1{n}\"\n\
         dial \"9{n:NXXNXXXXXX}\" when `caller.extension == \"100005\"` -> hangup\n\
         dial \"91{n:NXXNXXXXXX}\"    -> trunk \"main\" to \"+1{n}\"\n\
         dial \"9011{n:X.}\"          -> trunk \"main\" to \"+{n}\"\n",
    );
    for i in 0..extensions / 10 - FIXED_ROUTES {
        match i % 3 {
            0 => writeln!(s, "dial \"*6{i:04}\" -> hangup"),
            1 => writeln!(s, "dial \"8{i:04}{{d:X}}\" -> hangup"),
            _ => writeln!(s, "dial \"7{i:04}{{d:X.}}\" -> hangup"),
        }
        .unwrap();
    }
    for i in 0..extensions {
        writeln!(s, "extension {} \"User {i}\"", 100_000 + i).unwrap();
    }
    s
}

fn compile_plan(text: String, prompts: &PromptCatalog) -> std::sync::Arc<Plan> {
    let mut sources = Sources::new();
    sources.add(SourceFile::new("plan.dial", text));
    let compiled = compile(sources, prompts);
    for d in compiled.diagnostics.iter().take(10) {
        eprintln!(
            "{}: {:?} {}: {}",
            compiled.sources.location(d.span),
            d.severity,
            d.code,
            d.message
        );
    }
    assert!(
        compiled.diagnostics.is_empty(),
        "the generated plan must check clean"
    );
    compiled.plan.expect("a clean plan compiles")
}

fn bench_lookup(c: &mut Criterion) {
    let mut lookup = c.benchmark_group("route_lookup");
    lookup
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800));
    let mut plans = Vec::new();
    for extensions in [100, 1_000, 10_000, 100_000] {
        let plan = compile_plan(plan_text(extensions), &PromptCatalog::unchecked());
        let generated = extensions / 10 - FIXED_ROUTES;
        // A feature code from the middle of the generated routes.
        let code = generated / 2 / 3 * 3;
        let numbers = [
            ("extension", format!("{}", 100_000 + extensions / 2), 1),
            ("feature_code", format!("*6{code:04}"), 1),
            ("external", "92605550123".to_string(), 2),
            ("no_match", "5555".to_string(), 0),
        ];
        let mut out = Vec::new();
        for (kind, number, expected) in &numbers {
            // The lookup must find what the plan routes, or the timing means nothing.
            plan.route_table.lookup(&plan.routes, number, &mut out);
            assert_eq!(out.len(), *expected, "{kind} {number} in {extensions}");
            lookup.bench_with_input(
                BenchmarkId::new(*kind, extensions),
                number.as_str(),
                |b, number| {
                    b.iter(|| {
                        plan.route_table
                            .lookup(&plan.routes, black_box(number), &mut out);
                        out.first().copied()
                    })
                },
            );
        }
        plans.push((format!("{extensions}"), plan));
    }
    lookup.finish();

    let mut build = c.benchmark_group("route_table_new");
    build
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let office = compile_plan(support::office_plan(10_000), &support::office_prompts());
    plans.push(("office_10000".to_string(), office));
    for (extensions, plan) in &plans {
        build.bench_with_input(
            BenchmarkId::new("extensions", extensions),
            &plan.routes,
            |b, routes| b.iter(|| RouteTable::new(black_box(routes))),
        );
    }
    build.finish();
}

criterion_group!(benches, bench_lookup);
criterion_main!(benches);
