//! One task on a set of hosts, in parallel up to `forks`; results are reported
//! as they arrive and applied to the hosts' state once all are in.

use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};
use stockman_modules::spec::ModuleKind;

use super::actions;
use super::host::{HostState, Layers};
use super::play::PlayRun;
use super::Executor;
use crate::playbook::{Action, Task};
use crate::report::{Event, HostResult, Status, TaskHeader, TaskKind};
use crate::template::truthy;

/// One host's result for the task, to be applied to that host's state.
pub(super) struct Outcome {
    pub host: usize,
    pub result: HostResult,
}

impl Executor<'_> {
    pub(super) async fn run_task(&mut self, run: &mut PlayRun<'_>, task: &Task, kind: TaskKind, targets: &[usize], rescuable: bool) {
        self.emit(Event::TaskStart(TaskHeader {
            name: self.banner_name(run, task, targets),
            kind,
            span: Some(task.span.clone()),
            hosts: targets.len(),
            action: Some(task.action.module_name()),
            args: banner_args(task),
        }));
        let run_once = self.is_run_once(run, task, targets);
        // `pause` runs once, on the first host only (Ansible's BYPASS_HOST_LOOP: the others get no result).
        let bypass = matches!(&task.action, Action::Module { spec, .. } if spec.kind == stockman_modules::spec::ModuleKind::Pause);
        let runners: Vec<usize> = if run_once || bypass { targets.iter().copied().take(1).collect() } else { targets.to_vec() };
        let outcomes = self.run_on_hosts(run, task, &runners).await;
        let stale: Vec<usize> = outcomes.iter().filter(|o| o.result.reconnect).map(|o| o.host).collect();
        if !stale.is_empty() {
            self.reset_connections(run, &stale).await;
        }
        self.apply_inventory_changes(run, &outcomes.iter().map(|o| &o.result).collect::<Vec<_>>());
        let mut fatal = false;
        for outcome in outcomes {
            let rescued = rescuable && outcome.result.status == Status::Failed && !outcome.result.ignored;
            if rescued {
                self.stats.record_rescued(&outcome.result.host);
            } else if outcome.result.status == Status::Unreachable && outcome.result.ignored {
                // `ignore_unreachable`: Ansible counts it ok and ignored, not unreachable.
                let mut counted = outcome.result.clone();
                counted.status = Status::Failed;
                counted.result.insert("changed".into(), false.into());
                self.stats.record(&counted);
            } else {
                self.stats.record(&outcome.result);
            }
            fatal |= outcome.result.status == Status::Failed && !outcome.result.ignored && !rescued;
            let shared_with: Vec<usize> = if run_once { targets.to_vec() } else { vec![outcome.host] };
            let failed_task = rescued.then(|| self.failed_task(run, task, outcome.host));
            let applied = apply(run, task, &outcome, &shared_with, failed_task);
            for (name, facts) in &applied.delegated {
                self.deliver_facts(run, name, facts, FactKind::of(task, &outcome.result));
            }
            for warning in applied.warnings {
                self.emit(Event::Warning(warning));
            }
        }
        if fatal && self.task_any_errors_fatal(run, task, targets) {
            for h in run.active() {
                run.hosts[h].failed = true;
            }
        }
        if fatal && run.too_many_failed() {
            for h in run.active() {
                run.hosts[h].failed = true;
            }
            // ansible-core announces it twice here: for the percentage, then
            // because every host left has now failed.
            self.emit(Event::NoMoreHosts);
            self.emit(Event::NoMoreHosts);
            run.ended = true;
        }
    }

    /// `any_errors_fatal` of the task or its blocks (with the first host's
    /// variables), else the play's, else ansible.cfg's.
    fn task_any_errors_fatal(&self, run: &PlayRun<'_>, task: &Task, targets: &[usize]) -> bool {
        match (&task.any_errors_fatal, targets.first()) {
            (Some(value), Some(&first)) => self.task_flag(run, task, &run.hosts[first], value),
            _ => self.any_errors_fatal(run.play),
        }
    }

    /// `run_once`, decided with the first host's variables.
    fn is_run_once(&self, run: &PlayRun<'_>, task: &Task, targets: &[usize]) -> bool {
        if targets.is_empty() {
            return false;
        }
        if matches!(&task.action, Action::Module { spec, .. } if spec.kind.bypasses_host_loop()) {
            return true;
        }
        if task.run_once == Value::Bool(false) {
            return false;
        }
        let host = &run.hosts[targets[0]];
        let vars = host.vars(&self.layers(run, task));
        self.templar.render_value(&task.run_once, &host.context(&vars)).map(|v| truthy(&v)).unwrap_or(false)
    }

    /// The name the banner shows: templated with the first host's variables,
    /// as ansible-core 2.19's strategy does before announcing the task; what
    /// cannot be templated is marked in place and warned about once.
    pub(super) fn banner_name(&self, run: &PlayRun<'_>, task: &Task, targets: &[usize]) -> String {
        let (Some(name), Some(&first)) = (task.name.as_deref(), targets.first()) else { return task.display_name() };
        if !name.contains("{{") && !name.contains("{%") {
            return task.display_name();
        }
        let host = &run.hosts[first];
        let vars = host.vars(&self.layers(run, task));
        let (rendered, errors) = self.templar.render_name(name, &host.context(&vars));
        if let Some(warning) = crate::template::name_errors_warning(&errors, &task.span) {
            self.emit(Event::Warning(warning));
        }
        task.display_name_as(&rendered)
    }

    /// The task's layers (the play's are the host's own, resolved once per play).
    pub(super) fn layers<'r>(&'r self, _run: &'r PlayRun<'_>, task: &'r Task) -> Layers<'r> {
        Layers { role: task.role.as_ref(), task_vars: &task.vars, params: &task.params, extra: &self.extra_vars, task_file: Some(&task.span.file) }
    }

    async fn run_on_hosts(&self, run: &PlayRun<'_>, task: &Task, runners: &[usize]) -> Vec<Outcome> {
        let playbook_dir = run.playbook.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        let mut pending = stream::iter(runners.iter().copied())
            .map(|h| async move {
                let host = &run.hosts[h];
                self.reporter.event(&Event::HostStart { host: host.name.clone() });
                let started = std::time::Instant::now();
                let mut result = self.run_on_host(run, task, host, playbook_dir).await;
                result.duration = Some(started.elapsed());
                result.no_log = self.no_log(run, task, host);
                if result.status == Status::Unreachable && self.task_flag(run, task, host, &task.ignore_unreachable) {
                    result.ignored = true;
                }
                Outcome { host: h, result }
            })
            .buffer_unordered(self.parallel_hosts(run, task, runners));
        let mut outcomes = Vec::with_capacity(runners.len());
        while let Some(outcome) = pending.next().await {
            self.reporter.event(&Event::HostResult(outcome.result.clone()));
            outcomes.push(outcome);
        }
        outcomes
    }

    /// How many hosts run the task at once: `--forks`, lowered by the task's `throttle`.
    fn parallel_hosts(&self, run: &PlayRun<'_>, task: &Task, runners: &[usize]) -> usize {
        let forks = self.settings.forks.max(1);
        let (Some(throttle), Some(&first)) = (&task.throttle, runners.first()) else { return forks };
        let host = &run.hosts[first];
        let vars = host.vars(&self.layers(run, task));
        let limit = self.templar.render_value(throttle, &host.context(&vars)).ok().and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()));
        match limit {
            Some(n) if n > 0 => forks.min(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => forks,
        }
    }

    /// A boolean task keyword (a literal or a template) for this host.
    fn task_flag(&self, run: &PlayRun<'_>, task: &Task, host: &HostState, value: &Value) -> bool {
        match value {
            Value::Bool(b) => *b,
            _ => {
                let vars = host.vars(&self.layers(run, task));
                self.templar.render_value(value, &host.context(&vars)).map(|v| truthy(&v)).unwrap_or(false)
            }
        }
    }

    /// `ansible_failed_task` for a rescue: as Ansible's, the task's own name
    /// templated for the host (no role prefix; empty when it has none).
    fn failed_task(&self, run: &PlayRun<'_>, task: &Task, host: usize) -> Value {
        let host = &run.hosts[host];
        let name = task.name.as_deref().unwrap_or_default();
        let vars = host.vars(&self.layers(run, task));
        let name = match self.templar.render_str(name, &host.context(&vars)) {
            Ok(Value::String(rendered)) => rendered,
            _ => name.to_string(),
        };
        serde_json::json!({"name": name, "action": action_name(task)})
    }

    /// Whether `no_log` holds for this host; an unreadable value hides the output, to be safe.
    pub(super) fn no_log(&self, run: &PlayRun<'_>, task: &Task, host: &HostState) -> bool {
        if task.no_log == Value::Bool(false) {
            return false;
        }
        let vars = host.vars(&self.layers(run, task));
        self.templar.render_value(&task.no_log, &host.context(&vars)).map(|v| truthy(&v)).unwrap_or(true)
    }
}


/// Applies one result: registered variable, facts, failure, notifications.
/// `shared_with` are the hosts that take the result (all of them under `run_once`).
/// `failed_task` is set when a rescue takes the failure. Returns the warnings
/// of facts that could not be cached, and the facts `delegate_facts` sends to
/// other hosts.
fn apply(run: &mut PlayRun<'_>, task: &Task, outcome: &Outcome, shared_with: &[usize], failed_task: Option<Value>) -> Applied {
    let mut applied = Applied::default();
    let play = run.play;
    let r = &outcome.result;
    let facts = match &task.action {
        Action::Module { .. } if r.status != Status::Failed => returned_facts(r),
        _ => Vec::new(),
    };
    let kind = FactKind::of(task, r);
    for &h in shared_with {
        if let Some(name) = &task.register {
            run.hosts[h].register(name, registered_value(r));
        }
    }
    for (to, f) in facts {
        // Ansible's strategy: delegated facts go to the delegate alone, even under run_once.
        match to {
            None => shared_with.iter().for_each(|&h| applied.warnings.extend(kind.give(&mut run.hosts[h], f))),
            Some(name) => applied.delegated.push((name.to_string(), f.clone())),
        }
    }
    let host = &mut run.hosts[outcome.host];
    match r.status {
        Status::Failed if r.ignored => {}
        Status::Failed => {
            host.failed = true;
            if let Some(task_info) = failed_task {
                host.register("ansible_failed_result", registered_value(r));
                host.register("ansible_failed_task", task_info);
            }
        }
        Status::Unreachable if r.ignored => {}
        Status::Unreachable => host.unreachable = true,
        Status::Changed => {
            for topic in &task.notify {
                for (index, handler) in play.handlers.iter().enumerate() {
                    if handler.answers(topic) {
                        host.notified.insert(index);
                    }
                }
            }
        }
        _ => {}
    }
    applied
}

/// What [`apply`] leaves to the executor.
#[derive(Default)]
struct Applied {
    warnings: Vec<String>,
    /// `delegate_facts`: the host's name and the facts it takes.
    delegated: Vec<(String, Map<String, Value>)>,
}

/// How a host keeps the facts a task returned.
#[derive(Clone, Copy)]
pub(super) enum FactKind {
    /// set_fact's "facts" are variables at its own precedence; `cacheable`
    /// ones are facts in the cache too.
    SetFact { cacheable: bool },
    /// Any other module's (setup, getent, a fallback module's) join the host's facts.
    Module,
    /// include_vars': the user's own values at set_fact's level.
    IncludeVars,
}

impl FactKind {
    fn of(task: &Task, r: &HostResult) -> FactKind {
        match &task.action {
            Action::Module { spec, .. } if spec.kind == ModuleKind::SetFact => FactKind::SetFact { cacheable: r.result.get(actions::CACHEABLE) == Some(&Value::Bool(true)) },
            _ => FactKind::Module,
        }
    }

    /// Stores `facts` on `host`; a warning when they could not be cached.
    pub(super) fn give(self, host: &mut HostState, facts: &Map<String, Value>) -> Option<String> {
        match self {
            FactKind::SetFact { cacheable } => {
                facts.iter().for_each(|(k, v)| host.register(k, v.clone()));
                cacheable.then(|| host.merge_module_facts(facts).err()).flatten()
            }
            FactKind::Module => host.merge_module_facts(facts).err(),
            FactKind::IncludeVars => {
                facts.iter().for_each(|(k, v)| host.include_var(k, v.clone()));
                None
            }
        }
    }
}

/// The `ansible_facts` a result returns (set_fact, getent), which the host
/// keeps: a loop's, item by item in order, as Ansible applies them; each with
/// the host `delegate_facts` sends it to (None: the task's host).
fn returned_facts(r: &HostResult) -> Vec<(Option<&str>, &Map<String, Value>)> {
    let to = |i: usize| r.facts_to.get(i).and_then(Option::as_deref);
    if !r.loop_summary {
        return r.result.get("ansible_facts").and_then(Value::as_object).map(|f| (to(0), f)).into_iter().collect();
    }
    let items = r.result.get("results").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    items.iter().enumerate().filter_map(|(i, item)| Some((to(i), item.get("ansible_facts")?.as_object()?))).collect()
}

/// The value `register:` stores: the result with `failed` (and `skipped`) set.
fn registered_value(r: &HostResult) -> Value {
    Value::Object(registered_form(r))
}

/// A result as `register:`, a loop's `results` and `failed_when` see it, as
/// Ansible keeps it: `failed` set (but on what the executor itself skipped, a
/// false `when` or a loop with nothing run), `skipped` on a skip, and a
/// failure's placeholder for the Python traceback it would carry.
pub(super) fn registered_form(r: &HostResult) -> Map<String, Value> {
    let mut registered: Map<String, Value> = r.result.clone();
    // A module's `invocation` is for display only, as in Ansible's strategy.
    registered.remove("invocation");
    registered.remove(actions::CACHEABLE);
    if r.status == Status::Skipped {
        registered.insert("skipped".into(), true.into());
        // A module's own skip (check mode unsupported) went through Ansible's
        // module result handling, which sets `failed`; the executor's did not.
        if r.loop_summary || registered.contains_key("false_condition") {
            return registered;
        }
    }
    registered.insert("failed".into(), (r.status == Status::Failed).into());
    if r.status == Status::Failed && !r.loop_summary && !r.bare_failure {
        registered.entry("exception").or_insert_with(|| NO_TRACEBACK.into());
    }
    registered
}

/// What Ansible puts where a failure's traceback would be.
pub(super) const NO_TRACEBACK: &str = "(traceback unavailable)";

fn action_name(task: &Task) -> String {
    match &task.action {
        Action::Module { written_as, .. } => written_as.clone(),
        Action::Meta(_) => "meta".into(),
    }
}

/// The task's arguments as Ansible's banner shows them with display_args_to_stdout:
/// `name=value` joined by `, `, values as Python's `str()` prints them, templates as
/// written; none for a no_log task (unless its no_log is plainly false).
fn banner_args(task: &Task) -> Option<String> {
    let Action::Module { args, .. } = &task.action else { return None };
    if !matches!(task.no_log, Value::Null | Value::Bool(false)) || args.is_empty() {
        return None;
    }
    let shown: Vec<String> = args.iter().map(|(k, v)| format!("{k}={}", crate::template::py::to_str(v))).collect();
    Some(shown.join(", "))
}
