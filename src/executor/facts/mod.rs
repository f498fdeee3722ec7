//! Facts: `gather_facts` and the `setup` module. One probe command per host
//! (built in [`probe`] from the collectors `gather_subset` asks for), its
//! output parsed on the controller into Ansible's fact names ([`system`],
//! [`hardware`], [`network`], [`local`]).

mod hardware;
mod local;
mod network;
mod probe;
mod subset;
mod system;

use std::collections::BTreeSet;

use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};
use stockman_modules::{Args, ModuleError, ModuleResult, Target};

use super::play::PlayRun;
use super::Executor;
use crate::report::{Event, HostResult, Status, TaskHeader, TaskKind};
use subset::Collector;

/// Ansible's defaults for `fact_path` and `gather_timeout`.
const DEFAULT_FACT_PATH: &str = "/etc/ansible/facts.d";
const DEFAULT_GATHER_TIMEOUT: u64 = 10;

/// `setup`'s arguments (or a play's `gather_subset`/`fact_path`/`gather_timeout`), validated.
#[derive(Debug, Clone)]
pub struct FactOptions {
    pub subset: Vec<String>,
    pub collectors: BTreeSet<Collector>,
    pub filter: Vec<String>,
    pub fact_path: String,
    pub timeout: u64,
}

impl FactOptions {
    pub fn from_args(args: &Map<String, Value>) -> Result<Self, String> {
        let subset = string_list(args.get("gather_subset"), "gather_subset")?;
        let subset = if subset.is_empty() { vec!["all".to_string()] } else { subset };
        let collectors = subset::resolve(&subset)?;
        let timeout = match args.get("gather_timeout") {
            None | Some(Value::Null) => DEFAULT_GATHER_TIMEOUT,
            Some(v) => stockman_modules::args::value_to_string(v).trim().parse().map_err(|_| format!("`gather_timeout` must be a number of seconds, got {v}"))?,
        };
        let fact_path = match args.get("fact_path") {
            None | Some(Value::Null) => DEFAULT_FACT_PATH.to_string(),
            Some(v) => stockman_modules::args::value_to_string(v),
        };
        Ok(FactOptions { subset, collectors, filter: string_list(args.get("filter"), "filter")?, fact_path, timeout })
    }
}

/// A string (comma-separated) or a list of strings, as Ansible's `type: list`.
fn string_list(value: Option<&Value>, name: &str) -> Result<Vec<String>, String> {
    Ok(match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        Some(Value::Array(items)) => items.iter().map(stockman_modules::args::value_to_string).collect(),
        Some(other) => return Err(format!("`{name}` must be a string or a list of strings, got {other}")),
    })
}

/// Runs the probe through `target` and returns setup's result: the facts
/// under `ansible_facts` with Ansible's `ansible_` names.
pub async fn gather<T: Target + ?Sized>(options: &FactOptions, target: &T) -> Result<ModuleResult, ModuleError> {
    let probe = probe::build(&probe::ProbeRequest { collectors: &options.collectors, fact_path: &options.fact_path, timeout_seconds: options.timeout });
    let out = target.exec(&probe.script, None).await?;
    let parsed = probe::split(&out.stdout_str(), &out.stderr_str(), &probe.nonce);
    if !parsed.complete {
        return Ok(ModuleResult::failed(format!("fact probe failed (rc={}): {}", out.rc, out.stderr_str().trim())));
    }
    let (facts, warnings) = assemble(&parsed, options);
    let mut result = ModuleResult::ok().with("ansible_facts", Value::Object(facts));
    if !warnings.is_empty() {
        result = result.with("warnings", warnings);
    }
    Ok(result)
}

/// The probe's output as setup's `ansible_facts` (prefixed, filtered, with
/// `gather_subset` and `module_setup`), and warnings.
fn assemble(out: &probe::Output, options: &FactOptions) -> (Map<String, Value>, Vec<String>) {
    let has = |c: Collector| options.collectors.contains(&c);
    let mut facts = Map::new();
    system::collect(out, &has, &mut facts);
    hardware::collect(out, &has, &mut facts);
    if has(Collector::Network) {
        network::collect(out, &mut facts);
    }
    if has(Collector::Chroot) {
        facts.insert("is_chroot".into(), false.into());
    }
    let mut warnings = Vec::new();
    if has(Collector::Local) {
        let (local, failed) = local::collect(out);
        facts.insert("local".into(), local);
        warnings = failed;
    }
    let mut result: Map<String, Value> = facts.into_iter().map(|(k, v)| (format!("ansible_{k}"), v)).collect();
    result.insert("gather_subset".into(), options.subset.iter().map(|s| Value::String(s.clone())).collect::<Vec<_>>().into());
    result.insert("module_setup".into(), true.into());
    // `filter` narrows every key, the two above included, as Ansible's does.
    if !options.filter.is_empty() {
        let filters: Vec<regex::Regex> = options.filter.iter().flat_map(|f| filter_patterns(f)).collect();
        result.retain(|k, _| filters.iter().any(|re| re.is_match(k)));
    }
    (result, warnings)
}

/// What one `filter` pattern matches, as Ansible's: an empty one everything;
/// one without a known prefix also with `ansible_` before it
/// (`date_time` finds `ansible_date_time`). A pattern that is not a valid set
/// matches nothing.
fn filter_patterns(pattern: &str) -> Vec<regex::Regex> {
    let mut patterns = vec![if pattern.is_empty() { "*".to_string() } else { pattern.to_string() }];
    if !pattern.is_empty() && !["ansible_", "facter", "ohai"].iter().any(|p| pattern.starts_with(p)) {
        patterns.push(format!("ansible_{pattern}"));
    }
    patterns.iter().filter_map(|p| stockman_modules::fnmatch::regex(p).ok()).collect()
}

impl Executor<'_> {
    pub(super) async fn gather_facts(&mut self, run: &mut PlayRun<'_>) {
        let mut targets = run.active();
        // gathering = smart: hosts with facts gathered before (this run, or cached) are not asked
        // again; with none left there is no task at all, as in Ansible.
        if self.settings.gathering == crate::config::Gathering::Smart {
            targets.retain(|&h| !self.facts.gathered(&run.hosts[h].name));
            if targets.is_empty() {
                return;
            }
        }
        self.emit(Event::TaskStart(TaskHeader { name: "Gathering Facts".into(), kind: TaskKind::GatherFacts, span: None, hosts: targets.len(), action: None, args: None }));
        let options = self.play_fact_args(run.play).and_then(|args| FactOptions::from_args(&args));
        let results: Vec<(usize, HostResult, Option<Map<String, Value>>)> = {
            let hosts = &run.hosts;
            let this = &*self;
            let options = &options;
            let mut pending = stream::iter(targets)
                .map(|h| async move {
                    let host = &hosts[h];
                    this.reporter.event(&Event::HostStart { host: host.name.clone() });
                    let started = std::time::Instant::now();
                    let probe = async {
                        let options = options.as_ref().map_err(|e| (false, e.clone()))?;
                        let conn = this.connect(host).await.map_err(|e| (true, e.to_string()))?;
                        gather(options, conn).await.map_err(|e| (matches!(e, ModuleError::Unreachable(_)), e.to_string()))
                    };
                    let (status, result, facts) = match probe.await {
                        Ok(r) if !r.failed => {
                            let mut data = r.data;
                            let facts = match data.get("ansible_facts") {
                                Some(Value::Object(f)) => f.clone(),
                                _ => Map::new(),
                            };
                            data.insert("changed".into(), false.into());
                            (Status::Ok, data, Some(facts))
                        }
                        Ok(r) => (Status::Failed, failure(r.msg.unwrap_or_default()), None),
                        Err((true, msg)) => {
                            let mut r = failure(msg);
                            r.insert("unreachable".into(), true.into());
                            (Status::Unreachable, r, None)
                        }
                        Err((false, msg)) => (Status::Failed, failure(msg), None),
                    };
                    let mut result = HostResult::new(&host.name, status, result);
                    result.duration = Some(started.elapsed());
                    this.reporter.event(&Event::HostResult(result.clone()));
                    (h, result, facts)
                })
                .buffer_unordered(self.settings.forks.max(1));
            let mut all = Vec::new();
            while let Some(r) = pending.next().await {
                all.push(r);
            }
            all
        };
        for (h, result, facts) in results {
            self.stats.record(&result);
            let host = &mut run.hosts[h];
            match (result.status, facts) {
                (_, Some(mut facts)) => {
                    facts.insert("_ansible_facts_gathered".into(), true.into());
                    if let Err(message) = host.merge_module_facts(&facts) {
                        self.emit(Event::Warning(message));
                    }
                }
                (Status::Unreachable, _) => host.unreachable = true,
                _ => host.failed = true,
            }
        }
    }
}

impl Executor<'_> {
    /// The play's `gather_subset`/`gather_timeout`/`fact_path`, rendered with
    /// the play's vars and extra vars (as Ansible templates play keywords).
    fn play_fact_args(&self, play: &crate::playbook::Play) -> Result<Map<String, Value>, String> {
        if play.gather_args.is_empty() {
            return Ok(Map::new());
        }
        let mut vars = play.vars.clone();
        for layer in [&play.vars_files, &self.settings.extra_vars] {
            vars.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let ctx = crate::template::Templar::context(&vars);
        match self.templar.render_value(&Value::Object(play.gather_args.clone()), &ctx).map_err(|e| e.message)? {
            Value::Object(args) => Ok(args),
            _ => Ok(Map::new()),
        }
    }
}

/// The `setup` module (and `gather_facts` as a task), through the task's
/// target so `become` and `environment` apply.
pub(super) async fn setup<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let options = FactOptions::from_args(&args.0).map_err(ModuleError::BadArgs)?;
    gather(&options, target).await
}

fn failure(msg: String) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), false.into());
    r.insert("msg".into(), msg.into());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole probe, every collector, through this machine's /bin/sh and
    /// /bin/dash: it parses, runs to its end and yields the core facts.
    #[test]
    fn the_probe_runs_to_its_end_under_posix_shells() {
        let args: Map<String, Value> = serde_json::from_str(r#"{"fact_path": "/nonexistent/it's here"}"#).unwrap();
        let options = FactOptions::from_args(&args).unwrap();
        let probe = probe::build(&probe::ProbeRequest { collectors: &options.collectors, fact_path: &options.fact_path, timeout_seconds: 5 });
        for shell in ["/bin/sh", "/bin/dash", "/bin/bash"].into_iter().filter(|s| std::path::Path::new(s).exists()) {
            let out = std::process::Command::new(shell).arg("-c").arg(&probe.script).output().unwrap();
            let parsed = probe::split(&String::from_utf8_lossy(&out.stdout), &String::from_utf8_lossy(&out.stderr), &probe.nonce);
            assert!(parsed.complete, "{shell}: the probe stopped early: {}", String::from_utf8_lossy(&out.stderr));
            let (facts, _) = assemble(&parsed, &options);
            for key in ["ansible_system", "ansible_kernel", "ansible_machine", "ansible_user_id", "ansible_env", "ansible_date_time", "ansible_mounts", "ansible_interfaces", "ansible_processor_vcpus", "ansible_memtotal_mb"] {
                assert!(facts.contains_key(key), "{shell}: no `{key}` in {:?}", facts.keys().collect::<Vec<_>>());
            }
            assert_eq!(facts["ansible_local"], serde_json::json!({}));
        }
    }
}
