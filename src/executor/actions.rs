//! Actions that run on the controller: `set_fact`, `assert`, `fail`.

use serde_json::{Map, Value};
use stockman_modules::{spec::ModuleKind, Args, ModuleResult};

use crate::template::Templar;

pub(super) fn run(kind: ModuleKind, args: &Args, templar: &Templar, ctx: &minijinja::Value) -> ModuleResult {
    match kind {
        ModuleKind::SetFact => set_fact(args),
        ModuleKind::Assert => assert(args, templar, ctx),
        _ => fail(args),
    }
}

/// The facts go under `ansible_facts`; the executor stores them on the host.
fn set_fact(args: &Args) -> ModuleResult {
    let facts: Map<String, Value> = args.0.iter().filter(|(k, _)| k.as_str() != "cacheable").map(|(k, v)| (k.clone(), v.clone())).collect();
    ModuleResult::ok().with("ansible_facts", Value::Object(facts))
}

/// Every `that` condition must hold; the first that doesn't fails the task.
fn assert(args: &Args, templar: &Templar, ctx: &minijinja::Value) -> ModuleResult {
    let conditions: Vec<String> = match args.get("that") {
        Some(Value::Array(items)) => items.iter().map(stockman_modules::args::value_to_string).collect(),
        Some(other) => vec![stockman_modules::args::value_to_string(other)],
        None => Vec::new(),
    };
    for condition in &conditions {
        let holds = match templar.eval_condition(condition, ctx) {
            Ok(holds) => holds,
            Err(e) => return ModuleResult::failed(format!("The conditional check '{condition}' failed. The error was: {}", e.message)),
        };
        if !holds {
            let msg = args.get("fail_msg").cloned().unwrap_or_else(|| "Assertion failed".into());
            let mut r = ModuleResult { failed: true, ..ModuleResult::default() };
            r.data.insert("msg".into(), msg);
            r.data.insert("assertion".into(), condition.clone().into());
            r.data.insert("evaluated_to".into(), false.into());
            return r;
        }
    }
    let msg = args.get("success_msg").cloned().unwrap_or_else(|| "All assertions passed".into());
    let mut r = ModuleResult::ok();
    r.data.insert("msg".into(), msg);
    r
}

fn fail(args: &Args) -> ModuleResult {
    let mut r = ModuleResult { failed: true, ..ModuleResult::default() };
    r.data.insert("msg".into(), args.get("msg").cloned().unwrap_or_else(|| "Failed as requested from task".into()));
    r
}
