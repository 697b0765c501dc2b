//! `compile` end to end (parse and every check) on generated office plans of 1k, 10k and
//! 100k extensions; `tests/support/mod.rs` describes the plans.
//!
//! Run with `cargo bench -p switchboard-dsl --bench compile`; see docs/performance.md.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use support::{office_plan, office_prompts};
use switchboard_dsl::{SourceFile, Sources, compile};

fn sources(text: &str) -> Sources {
    let mut s = Sources::new();
    s.add(SourceFile::new("office.dial", text.to_string()));
    s
}

fn bench_compile(c: &mut Criterion) {
    let prompts = office_prompts();
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for extensions in [1_000, 10_000, 100_000] {
        let text = office_plan(extensions);
        // Measure the real path: the plan must check clean, with a plan built.
        let compiled = compile(sources(&text), &prompts);
        if !compiled.diagnostics.is_empty() {
            for d in compiled.diagnostics.iter().take(10) {
                eprintln!(
                    "{}: {:?} {}: {}",
                    compiled.sources.location(d.span),
                    d.severity,
                    d.code,
                    d.message
                );
            }
        }
        assert_eq!(compiled.errors(), 0, "the generated plan must compile");
        assert_eq!(
            compiled.warnings(),
            0,
            "the generated plan must check clean"
        );
        assert!(compiled.plan.is_some());
        let lines = text.lines().count();
        println!(
            "plan of {extensions} extensions: {lines} lines, {} bytes",
            text.len()
        );
        group.throughput(Throughput::Elements(lines as u64));
        group.bench_with_input(
            BenchmarkId::new("extensions", extensions),
            &text,
            |b, text| {
                // Building `Sources` (a copy and a line index) is part of every real check.
                b.iter(|| compile(sources(black_box(text)), &prompts))
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_compile);
criterion_main!(benches);
