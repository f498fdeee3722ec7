//! One task on a set of hosts, in parallel up to `forks`; results are reported
//! as they arrive and applied to the hosts' state once all are in.

use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};
use stockman_modules::{spec::ModuleKind, Args, ModuleError, ModuleResult, RunMode};

use super::controller::TaskController;
use super::host::{HostState, OMIT};
use super::play::PlayRun;
use super::Executor;
use crate::playbook::{Action, Task};
use crate::report::{Event, HostResult, Status, TaskHeader, TaskKind};
use crate::template::{Templar, TemplateError};

/// What running a task on one host changes in that host's state.
pub(super) struct Outcome {
    pub host: usize,
    pub result: HostResult,
}

impl Executor<'_> {
    pub(super) async fn run_task(&mut self, run: &mut PlayRun<'_>, task: &Task, kind: TaskKind, targets: &[usize]) {
        self.emit(Event::TaskStart(TaskHeader {
            name: task.display_name().to_string(),
            kind,
            span: Some(task.span.clone()),
            hosts: targets.len(),
        }));
        let outcomes = {
            let this = &*self;
            let hosts = &run.hosts;
            let play = run.play;
            let playbook_dir = run.playbook.path.parent().unwrap_or(std::path::Path::new("."));
            let mut pending = stream::iter(targets.iter().copied())
                .map(|h| async move {
                    this.reporter.event(&Event::HostStart { host: hosts[h].name.clone() });
                    let started = std::time::Instant::now();
                    let mut result = this.run_on_host(task, &hosts[h], &play.vars, playbook_dir).await;
                    result.duration = Some(started.elapsed());
                    result.no_log = this.no_log(task, &hosts[h], &play.vars);
                    Outcome { host: h, result }
                })
                .buffer_unordered(self.settings.forks.max(1));
            let mut outcomes = Vec::with_capacity(targets.len());
            while let Some(outcome) = pending.next().await {
                this.reporter.event(&Event::HostResult(outcome.result.clone()));
                outcomes.push(outcome);
            }
            outcomes
        };
        for outcome in outcomes {
            self.stats.record(&outcome.result);
            apply(run, task, outcome);
        }
    }

    /// Whether `no_log` holds for this host; an unreadable value hides the output, to be safe.
    fn no_log(&self, task: &Task, host: &HostState, play_vars: &Map<String, Value>) -> bool {
        if task.no_log == Value::Bool(false) {
            return false;
        }
        let vars = host.vars(play_vars, &task.vars, &self.settings.extra_vars, &self.templar);
        self.templar.render_value(&task.no_log, &Templar::context(&vars)).map(|v| crate::template::truthy(&v)).unwrap_or(true)
    }

    async fn run_on_host(&self, task: &Task, host: &HostState, play_vars: &Map<String, Value>, playbook_dir: &std::path::Path) -> HostResult {
        let vars = host.vars(play_vars, &task.vars, &self.settings.extra_vars, &self.templar);
        let ctx = Templar::context(&vars);
        for condition in &task.when {
            match self.templar.eval_condition(condition, &ctx) {
                Ok(true) => {}
                Ok(false) => return skipped(host, condition),
                Err(e) => return failed(host, task_error(task, &e)),
            }
        }
        let Action::Module { spec, args, .. } = &task.action else { return failed(host, "meta tasks run no module".into()) };
        let args = match render_args(&self.templar, args, &ctx) {
            Ok(args) => args,
            Err(e) => return failed(host, task_error(task, &e)),
        };
        if spec.kind == ModuleKind::Debug && debug_is_quiet(&args, self.settings.verbosity) {
            return skipped_verbosity(host);
        }
        let controller = TaskController { templar: &self.templar, ctx: &ctx, playbook_dir };
        let mode = RunMode { check: self.settings.check, diff: self.settings.diff };
        let ignore_errors = self.templar.render_value(&task.ignore_errors, &ctx).map(|v| crate::template::truthy(&v)).unwrap_or(false);
        let outcome = if spec.kind == ModuleKind::Debug {
            stockman_modules::run(spec.kind, &args, &NoTarget, &controller, mode).await
        } else {
            match self.connect(host).await {
                Ok(conn) => stockman_modules::run(spec.kind, &args, conn, &controller, mode).await,
                Err(e) => return unreachable(host, e.to_string()),
            }
        };
        match outcome {
            Ok(result) => module_result(host, result, ignore_errors, spec.kind == ModuleKind::Debug),
            Err(ModuleError::BadArgs(msg)) => with_ignore(failed(host, msg), ignore_errors),
            Err(ModuleError::Unreachable(e)) => unreachable(host, e.to_string()),
        }
    }
}

/// Applies one host's result: registered variable, failure, notifications.
fn apply(run: &mut PlayRun<'_>, task: &Task, outcome: Outcome) {
    let play = run.play;
    let host = &mut run.hosts[outcome.host];
    let r = &outcome.result;
    if let Some(name) = &task.register {
        let mut registered = r.result.clone();
        registered.insert("failed".into(), (r.status == Status::Failed).into());
        if r.status == Status::Skipped {
            registered.insert("skipped".into(), true.into());
        }
        host.register(name, Value::Object(registered));
    }
    match r.status {
        Status::Failed if !r.ignored => host.failed = true,
        Status::Unreachable => host.unreachable = true,
        Status::Changed => {
            for topic in &task.notify {
                for (index, handler) in play.handlers.iter().enumerate() {
                    if handler.name.as_deref() == Some(topic) || handler.listen.iter().any(|l| l == topic) {
                        host.notified.insert(index);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Templates the arguments and drops those set to `omit`.
fn render_args(templar: &Templar, args: &Map<String, Value>, ctx: &minijinja::Value) -> Result<Args, TemplateError> {
    let mut rendered = Map::new();
    for (key, value) in args {
        let value = templar.render_value(value, ctx)?;
        if value != Value::String(OMIT.into()) {
            rendered.insert(key.clone(), value);
        }
    }
    Ok(Args::new(rendered))
}

fn task_error(task: &Task, e: &TemplateError) -> String {
    format!("task `{}` at {}: {}", task.display_name(), task.span, e.message)
}

fn debug_is_quiet(args: &Args, verbosity: u8) -> bool {
    let wanted = args.get("verbosity").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0);
    wanted > u64::from(verbosity)
}

fn base(host: &HostState, status: Status, result: Map<String, Value>) -> HostResult {
    HostResult { host: host.name.clone(), status, ignored: false, result, diff: Vec::new(), verbose_always: false, no_log: false, duration: None }
}

fn with_ignore(mut r: HostResult, ignore: bool) -> HostResult {
    r.ignored = ignore && r.status == Status::Failed;
    r
}

fn failed(host: &HostState, msg: String) -> HostResult {
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("msg".into(), msg.into());
    base(host, Status::Failed, m)
}

fn unreachable(host: &HostState, msg: String) -> HostResult {
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("msg".into(), msg.into());
    m.insert("unreachable".into(), true.into());
    base(host, Status::Unreachable, m)
}

fn skipped(host: &HostState, condition: &str) -> HostResult {
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("false_condition".into(), condition.into());
    m.insert("skip_reason".into(), "Conditional result was False".into());
    base(host, Status::Skipped, m)
}

fn skipped_verbosity(host: &HostState) -> HostResult {
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("skipped_reason".into(), "Verbosity threshold not met.".into());
    base(host, Status::Skipped, m)
}

fn module_result(host: &HostState, r: ModuleResult, ignore_errors: bool, debug: bool) -> HostResult {
    let mut m = Map::new();
    m.insert("changed".into(), r.changed.into());
    if let Some(msg) = r.msg {
        m.insert("msg".into(), msg.into());
    }
    m.extend(r.data);
    if r.skipped {
        m.insert("skipped".into(), true.into());
    }
    let status = if r.failed {
        Status::Failed
    } else if r.skipped {
        Status::Skipped
    } else if r.changed {
        Status::Changed
    } else {
        Status::Ok
    };
    let mut result = with_ignore(base(host, status, m), ignore_errors);
    result.diff = r.diff;
    result.verbose_always = debug;
    result
}

/// The target of controller-side modules (debug), which never run commands.
struct NoTarget;

impl stockman_modules::Target for NoTarget {
    async fn exec(&self, _: &str, _: Option<&[u8]>) -> Result<stockman_modules::ExecOutput, stockman_modules::TargetError> {
        Err(stockman_modules::TargetError("this module runs on the controller only".into()))
    }
}
