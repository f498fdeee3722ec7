//! Dynamic includes while the play runs: `include_tasks` and `include_role`
//! decide per host (and per loop item) which file or role to run, announce it
//! as ansible-playbook does (`included: FILE for h1, h2`), then run its tasks
//! for those hosts only; `include_vars` reads variables for each host.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::host::{HostState, Layers, TaskVars};
use super::item::failed;
use crate::combine::HashBehaviour;
use crate::template::py;
use super::play::PlayRun;
use super::task::FactKind;
use super::{loops, Executor};
use crate::playbook::{Include, IncludeKind, Loop, RoleInclude, Step};
use crate::report::{Event, HostResult, Status, TaskHeader};
use crate::template::{truthy, Templar};

/// What an include resolved to for one host and item.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    File(PathBuf),
    Role(RoleInclude),
}

/// One file or role to run for some hosts, with the variables its tasks get.
struct Inclusion {
    target: Target,
    params: Map<String, Value>,
    item: Option<String>,
    hosts: Vec<usize>,
}

/// One loop item of an include on a host (or the include itself, without a loop).
struct ItemScope {
    vars: TaskVars,
    params: Map<String, Value>,
    label: Option<String>,
}

impl Executor<'_> {
    /// Runs an include on the play's active hosts; false when the play must stop.
    pub(super) async fn run_include(&mut self, run: &mut PlayRun<'_>, inc: &Include, rescuable: bool) -> bool {
        if !self.selected_by_tags(&inc.tags) {
            return true;
        }
        let targets = run.active();
        self.emit(Event::TaskStart(TaskHeader {
            name: self.include_banner_name(run, inc, &targets),
            kind: run.task_kind(),
            span: Some(inc.span.clone()),
            hosts: targets.len(),
            action: Some(inc.action().to_string()),
            args: None,
        }));
        let mut inclusions: Vec<Inclusion> = Vec::new();
        for h in targets {
            let added = match self.host_scopes(run, inc, h) {
                // Skipped by `when`: already reported, whatever the action.
                Ok(None) => Ok(()),
                Ok(Some(scopes)) if matches!(inc.kind, IncludeKind::Vars { .. }) => {
                    self.include_vars(run, inc, h, scopes, rescuable);
                    Ok(())
                }
                Ok(Some(scopes)) => self.add_inclusions(inc, &run.hosts[h], h, scopes, &mut inclusions),
                Err(message) => Err(message),
            };
            if let Err(message) = added {
                let r = failed(&run.hosts[h], message);
                self.settle(run, h, r, rescuable);
            }
        }
        for inclusion in &inclusions {
            self.announce(run, inclusion);
        }
        for inclusion in inclusions {
            self.run_inclusion(run, inc, inclusion, rescuable).await;
            if run.ended {
                break;
            }
        }
        !run.ended && !run.active().is_empty()
    }

    /// [`Executor::banner_name`] for an include.
    fn include_banner_name(&self, run: &PlayRun<'_>, inc: &Include, targets: &[usize]) -> String {
        let (Some(name), Some(&first)) = (inc.name.as_deref(), targets.first()) else { return inc.display_name() };
        if !name.contains("{{") && !name.contains("{%") {
            return inc.display_name();
        }
        let host = &run.hosts[first];
        let vars = host.vars(&self.include_layers(run, inc));
        let (rendered, errors) = self.templar.render_name(name, &host.context(&vars));
        if let Some(warning) = crate::template::name_errors_warning(&errors, &inc.span) {
            self.emit(Event::Warning(warning));
        }
        inc.display_name_as(&rendered)
    }

    fn include_layers<'r>(&'r self, run: &'r PlayRun<'_>, inc: &'r Include) -> Layers<'r> {
        let _ = run;
        Layers { role: inc.role.as_ref(), task_vars: &inc.vars, params: &inc.params, extra: &self.extra_vars, task_file: Some(&inc.span.file) }
    }

    /// The include's `when` and loop on one host: one scope per item (none
    /// for an empty loop), None when skipped (the skip is reported and
    /// registered here); Err is the failure message.
    fn host_scopes(&mut self, run: &mut PlayRun<'_>, inc: &Include, h: usize) -> Result<Option<Vec<ItemScope>>, String> {
        let host = &run.hosts[h];
        let vars = host.vars(&self.include_layers(run, inc));
        let ctx = host.context(&vars);
        for condition in &inc.when {
            match self.templar.eval_condition(condition, &ctx) {
                Ok(true) => {}
                Ok(false) => {
                    let r = super::item::skipped_by(&host.name, condition);
                    self.register(run, inc, h, &r);
                    self.settle(run, h, r, false);
                    return Ok(None);
                }
                Err(e) => return Err(include_error(inc, &e.message)),
            }
        }
        let Some(lp) = &inc.loop_ else {
            return Ok(Some(vec![ItemScope { vars, params: Map::new(), label: None }]));
        };
        let lp = loops::with_names(lp, &self.templar, &ctx).map_err(|e| include_error(inc, &e.message))?;
        let items = loops::items(&lp, &self.templar, &ctx, inc.action()).map_err(|e| include_error(inc, &e.message))?;
        let mut scopes: Vec<ItemScope> = (0..items.len()).map(|i| self.item_scope(&lp, &vars, &items, i)).collect();
        // `included: ... => (item=...)` would show the item: under no_log it is censored, as in Ansible.
        if self.include_flag(&inc.no_log, &ctx).unwrap_or(true) {
            scopes.iter_mut().for_each(|s| s.label = Some(crate::report::CENSORED_ITEM.into()));
        }
        Ok(Some(scopes))
    }

    fn item_scope(&self, lp: &Loop, vars: &TaskVars, items: &[Value], index: usize) -> ItemScope {
        let item_vars = loops::item_vars(lp, vars, items, index);
        let params: Map<String, Value> = item_vars.bound().iter().filter(|(k, v)| vars.get(k).as_deref() != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let label = match &lp.label {
            Some(template) => self.templar.render_value(template, &Templar::context(&item_vars.to_map())).unwrap_or_else(|_| items[index].clone()),
            None => items[index].clone(),
        };
        ItemScope { vars: item_vars, params, label: Some(py::to_str(&label)) }
    }

    /// Resolves the file (or role) of each scope and files the host under it;
    /// the name may use `hostvars` and `groups`, as in Ansible.
    fn add_inclusions(&self, inc: &Include, host: &HostState, h: usize, scopes: Vec<ItemScope>, inclusions: &mut Vec<Inclusion>) -> Result<(), String> {
        for scope in scopes {
            let ctx = host.context(&scope.vars);
            let render = |v: &Value| self.templar.render_value(v, &ctx).map(|v| stockman_modules::args::value_to_string(&v)).map_err(|e| include_error(inc, &e.message));
            let target = match &inc.kind {
                IncludeKind::Tasks { file } => {
                    let name = render(file)?;
                    let path = inc.source.task_file(&name).ok_or_else(|| not_found(inc, &name))?;
                    Target::File(path)
                }
                IncludeKind::Role(role) => Target::Role(RoleInclude { name: render(&Value::String(role.name.clone()))?, ..role.clone() }),
                IncludeKind::Vars { .. } => unreachable!("include_vars has no inclusion"),
            };
            let same = |i: &&mut Inclusion| i.target == target && i.params == scope.params && i.item == scope.label;
            match inclusions.iter_mut().find(|i| same(i)) {
                Some(existing) => existing.hosts.push(h),
                None => inclusions.push(Inclusion { target, params: scope.params, item: scope.label, hosts: vec![h] }),
            }
        }
        Ok(())
    }

    /// `included: FILE for h1, h2`, counted as ok for each host, as Ansible does.
    fn announce(&mut self, run: &PlayRun<'_>, inclusion: &Inclusion) {
        let hosts: Vec<String> = inclusion.hosts.iter().map(|&h| run.hosts[h].name.clone()).collect();
        let file = match &inclusion.target {
            Target::File(path) => absolute(path).display().to_string(),
            Target::Role(role) => role.name.clone(),
        };
        self.emit(Event::Included { file, hosts: hosts.clone(), item: inclusion.item.clone() });
        for host in hosts {
            self.stats.record(&HostResult::new(&host, Status::Ok, Map::new()));
        }
    }

    /// Loads the included tasks and runs them for the inclusion's hosts only.
    async fn run_inclusion(&mut self, run: &mut PlayRun<'_>, inc: &Include, inclusion: Inclusion, rescuable: bool) {
        let mut params = inc.params.clone();
        params.extend(inclusion.params);
        let loaded = match &inclusion.target {
            Target::File(path) => inc.source.load_tasks(path, &params),
            Target::Role(role) => inc.source.load_role(role, &params, &inc.span),
        };
        let steps: Vec<Step> = match loaded {
            Ok(steps) => steps,
            Err(e) => {
                for h in inclusion.hosts {
                    let r = failed(&run.hosts[h], e.to_string());
                    self.settle(run, h, r, rescuable);
                }
                return;
            }
        };
        let others: Vec<usize> = run.active().into_iter().filter(|h| !inclusion.hosts.contains(h)).collect();
        for &h in &others {
            run.hosts[h].sitting_out = true;
        }
        Box::pin(self.run_steps(run, &steps, rescuable)).await;
        for &h in &others {
            run.hosts[h].sitting_out = false;
        }
    }

    /// `include_vars` on one host: each scope's files read and stored on the host.
    fn include_vars(&mut self, run: &mut PlayRun<'_>, inc: &Include, h: usize, scopes: Vec<ItemScope>, rescuable: bool) {
        let IncludeKind::Vars { args, delegate_to, delegate_facts } = &inc.kind else { return };
        let looped = inc.loop_.is_some();
        let mut items = Vec::new();
        for scope in scopes {
            let host = &run.hosts[h];
            let ctx = host.context(&scope.vars);
            let mut r = match self.templar.render_value(&Value::Object(args.clone()), &ctx) {
                Ok(Value::Object(rendered)) => vars_result(&host.name, inc.source.include_vars(&rendered)),
                Ok(_) => failed(host, include_error(inc, "arguments must be a mapping")),
                Err(e) => failed(host, include_error(inc, &e.message)),
            };
            let delegate = match delegate_to.as_ref().map(|d| self.templar.render_value(d, &ctx)) {
                Some(Ok(d)) => Some(stockman_modules::args::value_to_string(&d)).filter(|d| *d != host.name),
                Some(Err(e)) => {
                    r = failed(host, include_error(inc, &e.message));
                    None
                }
                None => None,
            };
            let facts_to = delegate.clone().filter(|_| self.include_flag(delegate_facts, &ctx).unwrap_or(false));
            r.delegated_to = delegate.map(|d| self.delegate_label(d));
            r.no_log = self.include_flag(&inc.no_log, &ctx).unwrap_or(true);
            r.ignored = r.status == Status::Failed && self.include_flag(&inc.ignore_errors, &ctx).unwrap_or(false);
            if r.status != Status::Failed {
                let facts = r.result.get("ansible_facts").and_then(Value::as_object).cloned().unwrap_or_default();
                let facts = self.with_own_hash_behaviour(args, &scope.vars, facts);
                match facts_to {
                    Some(name) => self.deliver_facts(run, &name, &facts, FactKind::IncludeVars),
                    None => facts.iter().for_each(|(k, v)| run.hosts[h].include_var(k, v.clone())),
                }
            }
            if looped {
                r.item = scope.label;
                self.emit(Event::HostResult(r.clone()));
            }
            items.push(r);
        }
        // Without a loop there is exactly one scope, so one result.
        let r = match items.pop() {
            Some(single) if !looped => single,
            last => loop_result(&run.hosts[h].name, items.into_iter().chain(last).collect()),
        };
        self.register(run, inc, h, &r);
        self.settle(run, h, r, rescuable);
    }

    /// include_vars' own `hash_behaviour: merge` (under hash_behaviour=replace):
    /// dictionaries read are merged into the values the task sees, as Ansible's
    /// action does. (`replace` under merge needs nothing: the layers merge anyway.)
    fn with_own_hash_behaviour(&self, args: &Map<String, Value>, vars: &TaskVars, read: Map<String, Value>) -> Map<String, Value> {
        let own = args.get("hash_behaviour").and_then(Value::as_str).and_then(HashBehaviour::parse);
        if own != Some(HashBehaviour::Merge) || self.settings.hash_behaviour == HashBehaviour::Merge {
            return read;
        }
        let mut merged: Map<String, Value> = read.keys().filter_map(|k| Some((k.clone(), vars.get(k)?.into_owned()))).collect();
        HashBehaviour::Merge.overlay(&mut merged, &read);
        merged
    }

    /// The include's `register:`: its result with `failed`, or with
    /// `skipped` alone when skipped, as Ansible registers them.
    fn register(&self, run: &mut PlayRun<'_>, inc: &Include, h: usize, r: &HostResult) {
        if let Some(name) = &inc.register {
            let mut value = r.result.clone();
            match r.status {
                Status::Skipped => value.insert("skipped".into(), true.into()),
                status => value.insert("failed".into(), (status == Status::Failed).into()),
            };
            run.hosts[h].register(name, Value::Object(value));
        }
    }

    fn include_flag(&self, value: &Value, ctx: &minijinja::Value) -> Option<bool> {
        if *value == Value::Bool(false) {
            return Some(false);
        }
        self.templar.render_value(value, ctx).ok().map(|v| truthy(&v))
    }

    /// Reports a host's result for the include and applies it to the host.
    fn settle(&mut self, run: &mut PlayRun<'_>, h: usize, r: HostResult, rescuable: bool) {
        self.emit(Event::HostResult(r.clone()));
        let fails = r.status == Status::Failed && !r.ignored;
        if fails && rescuable {
            self.stats.record_rescued(&r.host);
        } else {
            self.stats.record(&r);
        }
        if fails {
            run.hosts[h].failed = true;
        }
    }
}

fn vars_result(host: &str, read: Result<crate::playbook::IncludedVars, String>) -> HostResult {
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    match read {
        Ok(included) => {
            m.insert("ansible_facts".into(), Value::Object(included.vars));
            m.insert("ansible_included_var_files".into(), included.files.into());
            HostResult::new(host, Status::Ok, m)
        }
        Err(message) => {
            m.insert("ansible_facts".into(), Value::Object(Map::new()));
            m.insert("ansible_included_var_files".into(), Value::Array(Vec::new()));
            m.insert("message".into(), message.into());
            // Ansible's action sets `message` only; 2.19 adds this `msg`.
            m.insert("msg".into(), "Task failed: Action failed: Unknown error.".into());
            HostResult::new(host, Status::Failed, m)
        }
    }
}

/// A looped `include_vars` on a host: its items under `results`.
fn loop_result(host: &str, items: Vec<HostResult>) -> HostResult {
    let failed_any = items.iter().any(|r| r.status == Status::Failed && !r.ignored);
    let ignored = !failed_any && items.iter().any(|r| r.status == Status::Failed);
    let results: Vec<Value> = items.iter().map(|r| Value::Object(r.result.clone())).collect();
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("msg".into(), if failed_any || ignored { "One or more items failed" } else { "All items completed" }.into());
    // An empty loop skips the task, as a module task's does.
    if results.is_empty() {
        m.insert("skipped_reason".into(), "No items in the list".into());
    }
    m.insert("results".into(), results.into());
    let status = if failed_any || ignored { Status::Failed } else if items.is_empty() { Status::Skipped } else { Status::Ok };
    let mut r = HostResult::new(host, status, m);
    r.ignored = ignored;
    r.loop_summary = true;
    r
}

fn include_error(inc: &Include, message: &str) -> String {
    format!("task `{}` at {}: {message}", inc.display_name(), inc.span)
}

fn not_found(inc: &Include, name: &str) -> String {
    let dirs: Vec<String> = inc.source.search_dirs().iter().map(|d| d.display().to_string()).collect();
    include_error(inc, &format!("could not find the task file `{name}` (looked in {})", dirs.join(" and ")))
}

/// Ansible shows the included file's absolute path.
fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
