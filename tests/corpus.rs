//! Every shipped plan (`dialplans/` and each folder of `examples/`) compiles with no
//! error and no warning against the real `prompts/` folder.

use std::path::PathBuf;
use switchboard_dsl::{compile, render};
use switchboard_runtime::plan_files;

#[test]
fn every_shipped_plan_is_clean() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let plans = plan_files::find_plans(&[root.join("dialplans"), root.join("examples")]).unwrap();
    assert!(
        plans.len() >= 4,
        "dialplans and three examples, found {}",
        plans.len()
    );
    let catalog = plan_files::read_prompt_catalog(&root.join("prompts")).unwrap();
    assert!(catalog.languages.contains_key("en") && catalog.languages.contains_key("de"));
    for plan in &plans {
        let compiled = compile(plan_files::read_sources(plan).unwrap(), &catalog);
        assert!(
            compiled.diagnostics.is_empty(),
            "{} is not clean:\n{}",
            plan.root.display(),
            render::human(&compiled.diagnostics, &compiled.sources, false)
        );
        let p = compiled.plan.expect("a clean plan compiles");
        assert!(
            !p.routes.is_empty() || !p.inbound.is_empty(),
            "{} routes nothing",
            plan.root.display()
        );
        assert!(
            !p.tests.is_empty(),
            "{} ships no tests",
            plan.root.display()
        );
    }
}
