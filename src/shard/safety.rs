//! What a sharded run would not do as one run does: found in the loaded
//! playbooks before anything runs, each with its file:line:col and why.
//!
//! Each shard runs every play on its own hosts only, so anything that counts,
//! picks or reads across the play's hosts sees one shard's share: `run_once`
//! runs once per shard, `serial` batches and `max_fail_percentage` count one
//! shard's hosts, `any_errors_fatal` stops one shard, a task delegated to
//! another host may run there from several shards at once, and another host's
//! facts or registered results (`hostvars[...]`) exist only in its own shard,
//! and hosts that `meta: refresh_inventory` brings in belong to no shard.
//! Dynamically included files (`include_tasks`, `include_role`) are read only
//! when they run, so they are not inspected here.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::playbook::{Action, Block, Handler, Meta, Play, Playbook, Step, Task};
use crate::yaml::Span;

/// One thing that does not split: where, what, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hazard {
    pub span: Span,
    /// `play `web`` or `task `pick leader``.
    pub place: String,
    pub reason: String,
}

impl std::fmt::Display for Hazard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.span, self.place, self.reason)
    }
}

/// Names of the controller itself: delegating there runs on the controller of each shard, which is safe.
const CONTROLLER: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Another host's variables (`hostvars['db1']`, `hostvars[item]`, `hostvars.db1`), but not the host's own.
static OTHER_HOSTVARS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"hostvars\s*(\[\s*[^\]\s][^\]]*\]|\.\w+)").expect("static regex"));
static OWN_HOSTVARS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"hostvars\s*\[\s*inventory_hostname\s*\]").expect("static regex"));
/// The play's host lists, which hold one shard's hosts.
static PLAY_HOSTS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(ansible_play_hosts_all|ansible_play_hosts|ansible_play_batch|play_hosts)\b").expect("static regex"));

/// Every hazard of the run's playbooks, in playbook and play order.
/// `errors_fatal_default`: ansible.cfg's any_errors_fatal.
pub fn hazards(playbooks: &[Playbook], errors_fatal_default: bool) -> Vec<Hazard> {
    let plays: Vec<&Play> = playbooks.iter().flat_map(|pb| &pb.plays).collect();
    let mut found = Vec::new();
    for (k, play) in plays.iter().enumerate() {
        let later_plays = k + 1 < plays.len();
        play_hazards(play, errors_fatal_default, &mut found);
        let mut scan = TaskScan { later_plays, found: &mut found };
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            scan.steps(section);
        }
        for handler in &play.handlers {
            if let Handler::Task(task) = handler {
                scan.task(task);
            }
        }
    }
    found
}

fn play_name(play: &Play) -> String {
    format!("play `{}`", play.name.as_deref().unwrap_or(&play.hosts))
}

fn play_hazards(play: &Play, errors_fatal_default: bool, found: &mut Vec<Hazard>) {
    let mut add = |reason: &str| found.push(Hazard { span: play.span.clone(), place: play_name(play), reason: reason.into() });
    if !play.serial.is_empty() || play.serial_template.is_some() {
        add("`serial` makes batches of one shard's hosts, not of the play's");
    }
    if play.max_fail_percentage.is_some() {
        add("`max_fail_percentage` counts the failures of one shard's hosts, not of the play's");
    }
    match play.any_errors_fatal {
        Some(true) => add("`any_errors_fatal` stops only the shard where a host failed; the other shards go on"),
        None if errors_fatal_default => add("ansible.cfg's `any_errors_fatal` stops only the shard where a host failed; the other shards go on"),
        _ => {}
    }
    if let Some(text) = strings(&Value::Object(play.vars.clone())).into_iter().find_map(|s| cross_host_read(&s)) {
        add(&format!("its vars {text}"));
    }
}

struct TaskScan<'a> {
    later_plays: bool,
    found: &'a mut Vec<Hazard>,
}

impl TaskScan<'_> {
    fn steps(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::Task(task) => self.task(task),
                Step::Block(Block { block, rescue, always, .. }) => {
                    for section in [block, rescue, always] {
                        self.steps(section);
                    }
                }
                Step::Include(_) => {}
            }
        }
    }

    fn task(&mut self, task: &Task) {
        let place = format!("task `{}`", task.display_name());
        let mut add = |reason: String| self.found.push(Hazard { span: task.span.clone(), place: place.clone(), reason });
        if crate::template::truthy(&task.run_once) {
            add("`run_once` runs once in every shard, not once per run".into());
        }
        if task.any_errors_fatal.as_ref().is_some_and(crate::template::truthy) {
            add("`any_errors_fatal` stops only the shard where a host failed; the other shards go on".into());
        }
        if let Some(target) = task.delegate_to.as_ref().filter(|d| !delegates_to_controller(d)) {
            add(format!("`delegate_to: {}` acts on another host, which other shards may act on at the same time", show(target)));
        }
        if matches!(task.action, Action::Meta(Meta::RefreshInventory)) {
            add("`meta: refresh_inventory` may bring hosts new to the inventory, which belong to no shard and would run in every one".into());
        }
        let module = task_module(task);
        if self.later_plays && matches!(module.as_str(), "add_host" | "group_by") {
            add(format!("`{module}` changes the inventory for later plays, and each shard sees only the hosts and groups it added itself"));
        }
        if let Some(text) = task_strings(task).iter().find_map(|s| cross_host_read(s)) {
            add(text);
        }
    }
}

/// The module's short name (`ansible.builtin.group_by` → `group_by`).
fn task_module(task: &Task) -> String {
    match &task.action {
        Action::Module { written_as, .. } => written_as.rsplit('.').next().unwrap_or(written_as).to_string(),
        Action::Meta(_) => "meta".into(),
    }
}

fn delegates_to_controller(target: &Value) -> bool {
    target.as_str().is_some_and(|t| CONTROLLER.contains(&t.trim()))
}

fn show(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

/// Every string a task templates: arguments, conditions, vars, loop items, delegate_to.
fn task_strings(task: &Task) -> Vec<String> {
    let mut all: Vec<String> = task.when.iter().chain(&task.changed_when).chain(&task.failed_when).chain(&task.until).cloned().collect();
    if let Action::Module { args, .. } = &task.action {
        all.extend(strings(&Value::Object(args.clone())));
    }
    all.extend(strings(&Value::Object(task.vars.clone())));
    if let Some(l) = &task.loop_ {
        all.extend(strings(&l.items));
    }
    if let Some(d) = &task.delegate_to {
        all.extend(strings(d));
    }
    all
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(map) => map.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Why reading this text's variables crosses shards, if it does.
fn cross_host_read(text: &str) -> Option<String> {
    let without_own = OWN_HOSTVARS.replace_all(text, "");
    if let Some(m) = OTHER_HOSTVARS.find(&without_own) {
        return Some(format!("reads `{}`: another host's facts and registered results exist only in that host's shard", m.as_str()));
    }
    PLAY_HOSTS.find(text).map(|m| format!("reads `{}`, which lists only this shard's hosts", m.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_hosts_variables_are_found_the_hosts_own_are_not() {
        assert!(cross_host_read("{{ hostvars['db1'].ansible_default_ipv4 }}").is_some());
        assert!(cross_host_read("{{ hostvars[item]['x'] }}").is_some());
        assert!(cross_host_read("{{ hostvars.db1.x }}").is_some());
        assert!(cross_host_read("{{ hostvars[inventory_hostname].x }}").is_none());
        assert!(cross_host_read("{{ groups['web'] | length }}").is_none());
        assert!(cross_host_read("{{ ansible_play_hosts | first }}").is_some());
    }
}
