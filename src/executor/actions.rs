//! Actions that run on the controller: `set_fact`, `assert`, `fail`, and the
//! inventory changes `group_by` and `add_host` (described in their result as
//! Ansible does; the executor applies them).

use serde_json::{Map, Value};
use stockman_modules::{spec::ModuleKind, Args, ModuleResult};

use crate::template::Templar;

pub(super) fn run(kind: ModuleKind, args: &Args, templar: &Templar, ctx: &minijinja::Value) -> ModuleResult {
    match kind {
        ModuleKind::SetFact => set_fact(args),
        ModuleKind::Assert => assert(args, templar, ctx),
        ModuleKind::GroupBy => group_by(args),
        ModuleKind::AddHost => add_host(args),
        _ => fail(args),
    }
}

/// The result key that says set_fact's facts go to the fact cache too (Ansible's name).
pub(super) const CACHEABLE: &str = "_ansible_facts_cacheable";

/// The facts go under `ansible_facts`; the executor stores them on the host.
/// Names may come from templates, so they are checked here, as Ansible does.
fn set_fact(args: &Args) -> ModuleResult {
    let facts: Map<String, Value> = args.0.iter().filter(|(k, _)| k.as_str() != "cacheable").map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(bad) = facts.keys().find(|k| !is_variable_name(k)) {
        return ModuleResult::failed(format!("Task failed: Invalid variable name '{bad}'{}.", key_type(bad)));
    }
    let cacheable = args.get("cacheable").and_then(stockman_modules::args::parse_bool).unwrap_or(false);
    let result = ModuleResult::ok().with("ansible_facts", Value::Object(facts));
    if cacheable { result.with(CACHEABLE, true) } else { result }
}

/// Ansible's rule for a variable's name: an ASCII identifier that is not one
/// of the names Jinja reserves.
fn is_variable_name(name: &str) -> bool {
    const JINJA_RESERVED: [&str; 7] = ["true", "false", "none", "True", "False", "None", "not"];
    crate::playbook::is_identifier(name) && !JINJA_RESERVED.contains(&name)
}

/// Ansible names the type of a key that is not a string (a template such as
/// `{{ 1 }}` gives an int there); stockman's keys are text, so a number's
/// spelling says it.
fn key_type(key: &str) -> &'static str {
    if key.parse::<i64>().is_ok() {
        " of type 'int'"
    } else if key.parse::<f64>().is_ok_and(f64::is_finite) && key.contains('.') {
        " of type 'float'"
    } else {
        ""
    }
}

/// Every `that` condition must hold; the first that doesn't fails the task.
fn assert(args: &Args, templar: &Templar, ctx: &minijinja::Value) -> ModuleResult {
    let conditions: Vec<&Value> = match args.get("that") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    for written in conditions {
        let condition = stockman_modules::args::value_to_string(written);
        let holds = match templar.eval_condition(&condition, ctx) {
            Ok(holds) => holds,
            Err(e) => return ModuleResult::failed(format!("The conditional check '{condition}' failed. The error was: {}", e.message)),
        };
        if !holds {
            let msg = args.get("fail_msg").cloned().unwrap_or_else(|| "Assertion failed".into());
            let mut r = ModuleResult { failed: true, ..ModuleResult::default() };
            r.data.insert("msg".into(), msg);
            // As written: `that: [false]` reports the boolean, as Ansible's.
            r.data.insert("assertion".into(), written.clone());
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

/// `add_group` and `parent_groups`, spaces turned into dashes like Ansible.
fn group_by(args: &Args) -> ModuleResult {
    let name = |v: &Value| stockman_modules::args::value_to_string(v).trim().replace(' ', "-");
    let key = args.get("key").map(name).unwrap_or_default();
    if key.is_empty() {
        return ModuleResult::failed("the 'key' param is required when using group_by");
    }
    let parents: Vec<Value> = match args.get("parents") {
        None | Some(Value::Null) => vec!["all".into()],
        Some(Value::Array(items)) => items.iter().map(|v| name(v).into()).collect(),
        Some(one) => vec![name(one).into()],
    };
    ModuleResult::ok().with("add_group", Value::String(key)).with("parent_groups", Value::Array(parents))
}

/// `add_host: {host_name, groups, host_vars}`: every argument but the name and
/// groups is a host variable; `name: host:port` sets `ansible_ssh_port`.
fn add_host(args: &Args) -> ModuleResult {
    let Some(raw) = args.get("name").map(stockman_modules::args::value_to_string).filter(|n| !n.trim().is_empty()) else {
        return ModuleResult::failed("name, host or hostname needs to be provided");
    };
    let (name, port) = split_port(raw.trim());
    let groups: Vec<Value> = match args.get("groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(|v| stockman_modules::args::value_to_string(v).trim().to_string().into()).collect(),
        Some(text) => stockman_modules::args::value_to_string(text).split(',').map(|g| g.trim()).filter(|g| !g.is_empty()).map(Value::from).collect(),
    };
    let mut vars: Map<String, Value> = args.0.iter().filter(|(k, _)| !matches!(k.as_str(), "name" | "groups")).map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(port) = port {
        vars.insert("ansible_ssh_port".into(), port.into());
    }
    let entry = serde_json::json!({"host_name": name, "groups": groups, "host_vars": vars});
    ModuleResult::ok().with("add_host", entry)
}

/// `web1:2222` → (`web1`, 2222); a name without a port (or an IPv6 address) stays whole.
fn split_port(name: &str) -> (String, Option<u16>) {
    match name.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host.to_string(), Some(port)),
            Err(_) => (name.to_string(), None),
        },
        _ => (name.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        Args::new(v.as_object().cloned().unwrap())
    }

    #[test]
    fn add_host_splits_name_groups_and_vars() {
        let r = add_host(&args(json!({"name": "db1:2222", "groups": "a, b", "color": "red"})));
        assert_eq!(r.data["add_host"], json!({"host_name": "db1", "groups": ["a", "b"], "host_vars": {"color": "red", "ansible_ssh_port": 2222}}));
        assert!(add_host(&args(json!({"groups": "a"}))).failed);
    }

    #[test]
    fn group_by_dashes_spaces_and_defaults_parent_to_all() {
        let r = group_by(&args(json!({"key": "os Debian 12"})));
        assert_eq!(r.data["add_group"], "os-Debian-12");
        assert_eq!(r.data["parent_groups"], json!(["all"]));
    }
}
