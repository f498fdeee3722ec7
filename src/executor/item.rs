//! One task on one host: its loop, and for each item the `when` check, the
//! module (retried under `until`), then `changed_when` and `failed_when`.

use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};
use stockman_modules::{spec::ModuleKind, Args, ModuleError, ModuleResult, ModuleSpec, RunMode};

use super::async_job::{Background, JobTarget};
use super::controller::TaskController;
use super::host::{HostState, TaskVars, OMIT};
use super::play::PlayRun;
use super::trace::Traced;
use super::environment::{self, WithEnv};
use super::{actions, loops, Executor};
use crate::fallback::{self, Resolved};
use crate::playbook::{Action, Loop, Play, Task, VARIABLE_PARAMS};
use crate::report::{Event, HostResult, Status};
use crate::transport::{BecomeMethod, BecomeSpec, BecomeTarget, Connection, RefusalWatch, Secret};
use crate::template::{py, truthy, Templar, TemplateError};

impl Executor<'_> {
    pub(super) async fn run_on_host(&self, run: &PlayRun<'_>, task: &Task, host: &HostState, playbook_dir: &Path) -> HostResult {
        let mut vars = host.vars(&self.layers(run, task));
        let Some(lp) = &task.loop_ else {
            return self.run_item(run.play, task, host, &vars, playbook_dir).await;
        };
        let ctx = host.context(&vars);
        let named = loops::with_names(lp, &self.templar, &ctx).and_then(|named| Ok((loops::items(&named, &self.templar, &ctx, task.action.written_as())?, named)));
        let (items, lp) = match named {
            Ok(items) => items,
            // An undefined variable in the loop waits for `when`: a false one
            // skips the task, as in Ansible (`with_items: "{{ x }}"` guarded by `when: x is defined`).
            Err(e) => match self.false_when(task, &ctx).filter(|_| e.undefined) {
                Some(condition) => return skipped(host, condition),
                // Covered by ignore_errors, as in Ansible.
                None => return with_ignore(failed(host, task_error(task, &e.message)), self.flag(&task.ignore_errors, &ctx).unwrap_or(false)),
            },
        };
        let no_log = self.no_log(run, task, host);
        let lp: &Loop = &lp;
        let mut results = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if index > 0 && lp.pause > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(lp.pause)).await;
            }
            let item_vars = loops::item_vars(lp, &vars, &items, index);
            let mut r = self.run_item(run.play, task, host, &item_vars, playbook_dir).await;
            r = match self.item_label(host, lp, item, &item_vars, task, &r) {
                Ok(label) => HostResult { item: Some(label), ..r },
                // As in Ansible, a label that cannot be rendered fails the item (ignore_errors covers it).
                Err(e) => {
                    let ignore = self.flag(&task.ignore_errors, &host.context(&item_vars)).unwrap_or(false);
                    if r.status == Status::Skipped {
                        r.result.insert("skipped".into(), true.into());
                    }
                    let r = failed_like(r, format!("Failed to template loop_control.label: {}", e.message));
                    with_ignore(HostResult { item: Some(py::to_str(item)), bare_failure: true, ..r }, ignore)
                }
            };
            r.result.insert(lp.loop_var.clone(), item.clone());
            r.result.insert("ansible_loop_var".into(), lp.loop_var.clone().into());
            if let Some(index_var) = &lp.index_var {
                r.result.insert(index_var.clone(), index.into());
                r.result.insert("ansible_index_var".into(), index_var.clone().into());
            }
            r.no_log = no_log;
            self.reporter.event(&Event::HostResult(r.clone()));
            let outcome = ItemOutcome::from(r);
            carry_to_next_item(&mut vars, task, &outcome);
            results.push(outcome);
        }
        loop_summary(host, results)
    }

    /// The first of the task's `when` conditions that is false without a loop item.
    fn false_when<'t>(&self, task: &'t Task, ctx: &minijinja::Value) -> Option<&'t str> {
        task.when.iter().find(|condition| matches!(self.templar.eval_condition(condition, ctx), Ok(false))).map(String::as_str)
    }

    /// The item as its result line names it: `loop_control.label` rendered
    /// with this item's registered result bound, as in Ansible, or the item.
    fn item_label(&self, host: &HostState, lp: &Loop, item: &Value, item_vars: &TaskVars, task: &Task, r: &HostResult) -> Result<String, TemplateError> {
        let label = match &lp.label {
            Some(template) => {
                let vars = with_registered(item_vars, task, r);
                self.templar.render_value(template, &host.context(&vars))?
            }
            None => item.clone(),
        };
        Ok(py::to_str(&label))
    }

    /// One run of the task's action with these variables (one loop item, or the task).
    async fn run_item(&self, play: &Play, task: &Task, host: &HostState, vars: &TaskVars, playbook_dir: &Path) -> HostResult {
        let ctx = host.context(vars);
        // A `when` that cannot be evaluated is a failure ignore_errors covers, as in Ansible.
        let ignore = self.flag(&task.ignore_errors, &ctx).unwrap_or(false);
        for condition in &task.when {
            match self.templar.eval_condition(condition, &ctx) {
                Ok(true) => {}
                Ok(false) => return skipped(host, condition),
                Err(e) => return with_ignore(failed(host, task_error(task, &e.message)), ignore),
            }
        }
        let attempts = self.attempts(task, &ctx);
        let r = if attempts == 1 {
            let r = self.attempt(play, task, host, &ctx, playbook_dir).await;
            self.judge(task, host, r, vars)
        } else {
            self.retry_until(play, task, host, vars, playbook_dir, attempts).await
        };
        with_ignore(r, ignore)
    }

    /// The attempts Ansible makes: one plus `retries` (3 when only `until` is
    /// set); `retries: 0` is one attempt, where `until` is not even evaluated.
    fn attempts(&self, task: &Task, ctx: &minijinja::Value) -> u64 {
        match &task.retries {
            Value::Null if task.until.is_empty() => 1,
            Value::Null => 4,
            retries => 1 + self.whole_number(retries, ctx, 3).max(0) as u64,
        }
    }

    fn whole_number(&self, value: &Value, ctx: &minijinja::Value, default: i64) -> i64 {
        let rendered = self.templar.render_value(value, ctx).ok();
        rendered.and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())).unwrap_or(default)
    }

    /// Runs again, `delay` seconds apart, until the `until` conditions hold
    /// (without them, until the task succeeds) or `attempts` were made.
    async fn retry_until(&self, play: &Play, task: &Task, host: &HostState, vars: &TaskVars, playbook_dir: &Path, attempts: u64) -> HostResult {
        let ctx = host.context(vars);
        // Ansible's delay: 5 seconds unless set; a negative one is 1.
        let delay = match self.whole_number(&task.delay, &ctx, 5) {
            d if d < 0 => 1,
            d => d as u64,
        };
        let mut attempt = 1;
        loop {
            let mut r = self.attempt(play, task, host, &ctx, playbook_dir).await;
            // Set before changed_when and failed_when, which may read it.
            r.result.insert("attempts".into(), attempt.into());
            let r = self.judge(task, host, r, vars);
            let with_result = with_registered(vars, task, &r);
            let done = r.status == Status::Unreachable
                || match task.until.is_empty() {
                    true => r.status != Status::Failed,
                    false => self.all_hold(host, &task.until, &with_result).unwrap_or(false),
                };
            if done {
                return r;
            }
            if attempt >= attempts {
                // Ansible's accounting, kept for parity: out of attempts, it
                // reports one fewer than were made.
                let mut r = r;
                r.status = Status::Failed;
                r.result.insert("failed".into(), true.into());
                r.result.insert("attempts".into(), (attempts - 1).into());
                return r;
            }
            self.reporter.event(&Event::Retry { host: host.name.clone(), task: task.display_name(), retries_left: attempts - attempt });
            tokio::time::sleep(Duration::from_secs(delay)).await;
            attempt += 1;
        }
    }

    /// Runs the module (or controller action) once, within the task's `timeout:`.
    async fn attempt(&self, play: &Play, task: &Task, host: &HostState, ctx: &minijinja::Value, playbook_dir: &Path) -> HostResult {
        let limit = match task.timeout.as_ref().map(|v| self.timeout_secs(v, ctx)).transpose() {
            Ok(limit) => limit.or(self.settings.task_timeout).filter(|secs| *secs > 0),
            Err(message) => return failed(host, task_error(task, &message)),
        };
        let run = self.attempt_once(play, task, host, ctx, playbook_dir);
        let Some(secs) = limit else { return run.await };
        match tokio::time::timeout(Duration::from_secs(secs), run).await {
            Ok(r) => r,
            Err(_) => timed_out(host, secs),
        }
    }

    /// `timeout:` as whole seconds (a number, or a template giving one).
    fn timeout_secs(&self, value: &Value, ctx: &minijinja::Value) -> Result<u64, String> {
        let rendered = self.templar.render_value(value, ctx).map_err(|e| e.message)?;
        rendered
            .as_u64()
            .or_else(|| rendered.as_str()?.trim().parse().ok())
            .ok_or_else(|| format!("`timeout` must be a whole number of seconds, got {rendered}"))
    }

    async fn attempt_once(&self, play: &Play, task: &Task, host: &HostState, ctx: &minijinja::Value, playbook_dir: &Path) -> HostResult {
        if let Action::Module { deferred: Some(deferred), written_as, .. } = &task.action {
            return Box::pin(self.attempt_deferred(play, task, deferred, written_as, host, ctx, playbook_dir)).await;
        }
        let Action::Module { spec, args, .. } = &task.action else { return failed(host, "meta tasks run no module".into()) };
        let args = match render_args(&self.templar, spec, args, ctx) {
            Ok(args) => args,
            Err(e) => return failed(host, task_error(task, &e.message)),
        };
        // Values known only now (templated, or left to run time by a task that
        // expects to fail) checked against the spec; the module gets them converted.
        let args = match stockman_modules::validate::checked(spec, &args.0) {
            Ok(converted) => Args::new(converted),
            Err(bad) => {
                // Ansible's modules check their arguments themselves (a module's
                // failure); its action plugins raise the message as the task's error.
                let mut result = failed(host, bad.message(spec.name));
                let by_action = spec.kind.checked_by_action();
                result.module_failed = !by_action;
                result.raised = by_action;
                return result;
            }
        };
        let mode = RunMode {
            check: task.check_mode.as_ref().and_then(|v| self.flag(v, ctx)).unwrap_or(self.settings.check),
            diff: task.diff.as_ref().and_then(|v| self.flag(v, ctx)).unwrap_or(self.settings.diff),
        };
        let delegate = match &task.delegate_to {
            Some(v) => match self.templar.render_value(v, ctx) {
                Ok(v) => Some(stockman_modules::args::value_to_string(&v)).filter(|d| *d != host.name),
                Err(e) => return failed(host, task_error(task, &e.message)),
            },
            None => None,
        };
        let outcome = match spec.kind {
            ModuleKind::SetFact | ModuleKind::Assert | ModuleKind::Fail => Ok(actions::run(spec.kind, &args, &self.templar, ctx)),
            ModuleKind::ValidateArgumentSpec => Ok(super::arg_spec::run(&args, |name| self.variable(name, ctx))),
            ModuleKind::Pause => Ok(super::pause::run(&args, &task.display_name(), self.reporter).await),
            ModuleKind::GroupBy | ModuleKind::AddHost => Ok(self.inventory_change(host, actions::run(spec.kind, &args, &self.templar, ctx))),
            ModuleKind::Reboot | ModuleKind::WaitForConnection => return self.reconnecting_action(play, task, host, &args, ctx, mode.check).await,
            ModuleKind::Debug if debug_is_quiet(&args, self.settings.verbosity) => return skipped_verbosity(host),
            kind if kind.is_controller_side() => {
                let controller = TaskController { templar: &self.templar, ctx, playbook_dir, role: task.role.as_deref(), ansible_managed: &self.settings.ansible_managed };
                stockman_modules::run(kind, &args, &NoTarget, &controller, mode).await
            }
            kind => {
                let delegated;
                let own_way;
                let conn = match &delegate {
                    None => match self.task_connection(task, host, ctx).await {
                        Ok(Some(cell)) => {
                            own_way = cell;
                            own_way.get().expect("opened by task_connection")
                        }
                        Ok(None) => match self.connect(host).await {
                            Ok(conn) => conn,
                            Err(e) => return unreachable(host, e.to_string()),
                        },
                        Err(message) => return unreachable(host, message),
                    },
                    Some(name) => match self.delegate_connection(play, name).await {
                        Ok(cell) => {
                            delegated = cell;
                            delegated.get().expect("opened by delegate_connection")
                        }
                        Err(message) => return unreachable(host, message),
                    },
                };
                let mut r = self.run_module(conn, play, task, host, kind, &args, ctx, playbook_dir, mode).await;
                self.mark_delegated(&mut r, task, delegate, ctx);
                return r;
            }
        };
        let verbose_always = matches!(spec.kind, ModuleKind::Debug) || (spec.kind == ModuleKind::Assert && !quiet(&args));
        let mut r = self.to_result(host, outcome, verbose_always);
        // Actions on the controller are labelled with their delegate too, as in Ansible.
        self.mark_delegated(&mut r, task, delegate, ctx);
        r
    }

    /// Labels a delegated result with its delegate and, under `delegate_facts`,
    /// sends the facts it returns there.
    fn mark_delegated(&self, r: &mut HostResult, task: &Task, delegate: Option<String>, ctx: &minijinja::Value) {
        let Some(name) = delegate else { return };
        if self.flag(&task.delegate_facts, ctx).unwrap_or(false) {
            r.facts_to = vec![Some(name.clone())];
        }
        r.delegated_to = Some(self.delegate_label(name));
    }

    /// `action: "{{ ... }}"`: the module named for this host, read and
    /// checked as if written so, then run as the task.
    #[allow(clippy::too_many_arguments)]
    async fn attempt_deferred(&self, play: &Play, task: &Task, deferred: &crate::playbook::DeferredAction, template: &str, host: &HostState, ctx: &minijinja::Value, playbook_dir: &Path) -> HostResult {
        let name = match self.templar.render_str(template, ctx) {
            Ok(name) => stockman_modules::args::value_to_string(&name),
            Err(e) => return failed(host, task_error(task, &e.message)),
        };
        let action = match deferred.resolve(&name) {
            Ok(action) => action,
            Err(e) => return failed(host, task_error(task, &e.to_string())),
        };
        let concrete = Task { action, ..task.clone() };
        self.attempt_once(play, &concrete, host, ctx, playbook_dir).await
    }

    /// Runs a host-side module over `conn` (the host's own, or the delegate's).
    #[allow(clippy::too_many_arguments)]
    async fn run_module(&self, conn: &Connection, play: &Play, task: &Task, host: &HostState, kind: ModuleKind, args: &Args, ctx: &minijinja::Value, playbook_dir: &Path, mode: RunMode) -> HostResult {
        let controller = TaskController { templar: &self.templar, ctx, playbook_dir, role: task.role.as_deref(), ansible_managed: &self.settings.ansible_managed };
        // Commands of a task that may be no_log are never shown.
        let enabled = self.settings.verbosity >= 2 && task.no_log == Value::Bool(false);
        let env = match environment::task_environment(&self.templar, play, task, ctx) {
            Ok(env) => env,
            Err(message) => return failed(host, task_error(task, &message)),
        };
        let background = match Background::of(&self.templar, task, ctx, mode.check) {
            Ok(background) => background,
            Err(message) => return failed(host, task_error(task, &message)),
        };
        let outcome = match self.become_spec(play, task, ctx) {
            Ok(Some(spec)) => {
                let become_target = BecomeTarget { conn, spec: &spec };
                let watched = RefusalWatch::new(&become_target);
                let with_env = WithEnv { inner: &watched, vars: &env };
                let traced = Traced { inner: &with_env, host: &host.name, reporter: self.reporter, enabled };
                let outcome = self.run_maybe_in_background(background, task, host, kind, args, &traced, &controller, mode).await;
                // A refused become (wrong or missing password) fails the task, as in Ansible.
                if let Some(why) = watched.refusal() {
                    return failed(host, format!("Task failed: {why}"));
                }
                outcome
            }
            Ok(None) => {
                let with_env = WithEnv { inner: conn, vars: &env };
                let traced = Traced { inner: &with_env, host: &host.name, reporter: self.reporter, enabled };
                self.run_maybe_in_background(background, task, host, kind, args, &traced, &controller, mode).await
            }
            Err(message) => return failed(host, task_error(task, &message)),
        };
        let mut r = self.to_result(host, outcome, false);
        // raw is an action in Ansible: its failures read "Action failed".
        r.module_failed = r.status == Status::Failed && kind != ModuleKind::Raw && !r.raised;
        add_output_lines(&mut r.result);
        r
    }

    /// Runs the module, its command as a background job under `async:`.
    #[allow(clippy::too_many_arguments)]
    async fn run_maybe_in_background<T: stockman_modules::Target>(&self, background: Option<Background>, task: &Task, host: &HostState, kind: ModuleKind, args: &Args, target: &T, controller: &TaskController<'_>, mode: RunMode) -> Result<ModuleResult, ModuleError> {
        if kind == ModuleKind::AsyncStatus {
            return stockman_modules::run(kind, &super::async_job::status_args(args, controller.ctx), target, controller, mode).await;
        }
        if kind == ModuleKind::Setup {
            return super::facts::setup(args, target).await;
        }
        if let Action::Module { python: Some(resolved), .. } = &task.action {
            let Some(background) = background else {
                return self.run_fallback(resolved, task, host, args, target, controller.ctx, mode, false).await;
            };
            let name = match resolved {
                Resolved::Module(module) => module.fqcn.as_str(),
                Resolved::Unavailable { .. } => "",
            };
            let job = JobTarget::new(target, background, name, args, &host.name, self.reporter).python(mode.diff);
            let started = self.run_fallback(resolved, task, host, args, &job, controller.ctx, mode, true).await;
            let outcome = job.result(started).await;
            if let Ok(result) = &outcome {
                self.report_module_notices(result);
            }
            return outcome;
        }
        let (Some(background), Action::Module { spec, .. }) = (background, &task.action) else {
            let result = stockman_modules::run(kind, args, target, controller, mode).await?;
            // A native module's warnings (lineinfile's empty pattern) print as a fallback's do.
            for warning in result.data.get("warnings").and_then(Value::as_array).into_iter().flatten() {
                self.reporter.event(&Event::Warning(fallback::run::warning_text(warning)));
            }
            return Ok(result);
        };
        let job = JobTarget::new(target, background, spec.name, args, &host.name, self.reporter);
        let outcome = stockman_modules::run(kind, args, &job, controller, mode).await;
        job.result(outcome).await
    }

    /// A module from the controller's Ansible, run with the host's Python;
    /// its warnings are printed as Ansible prints them.
    #[allow(clippy::too_many_arguments)]
    async fn run_fallback<T: stockman_modules::Target>(&self, resolved: &Resolved, task: &Task, host: &HostState, args: &Args, target: &T, ctx: &minijinja::Value, mode: RunMode, background: bool) -> Result<ModuleResult, ModuleError> {
        let module = match resolved {
            Resolved::Module(module) => module,
            Resolved::Unavailable { message, hint } => {
                let msg = match hint {
                    Some(hint) => format!("{message}. {hint}"),
                    None => message.clone(),
                };
                return Ok(ModuleResult::failed(task_error(task, &msg)));
            }
        };
        let remote_tmp = ctx.get_attr("ansible_remote_tmp").ok().filter(|v| !v.is_undefined() && !v.is_none()).map(|v| v.to_string());
        let invocation = fallback::run::Invocation {
            module,
            args: &args.0,
            interpreter: fallback::run::configured_interpreter(ctx),
            check: mode.check,
            diff: mode.diff,
            no_log: self.flag(&task.no_log, ctx).unwrap_or(true),
            verbosity: self.settings.verbosity,
            remote_tmp: remote_tmp.unwrap_or_else(|| "~/.ansible/tmp".into()),
            host: &host.name,
            background,
        };
        for notice in module.take_deprecations() {
            self.reporter.event(&Event::Deprecation(notice.clone()));
        }
        let result = fallback::run::run(&invocation, target).await?;
        if !background {
            self.report_module_notices(&result);
        }
        Ok(result)
    }

    /// A fallback module's warnings and deprecations, printed as Ansible prints them.
    fn report_module_notices(&self, result: &ModuleResult) {
        for warning in result.data.get("warnings").and_then(Value::as_array).into_iter().flatten() {
            self.reporter.event(&Event::Warning(fallback::run::warning_text(warning)));
        }
        for deprecation in result.data.get("deprecations").and_then(Value::as_array).into_iter().flatten() {
            self.reporter.event(&Event::Deprecation(fallback::run::deprecation_text(deprecation)));
        }
    }

    /// `name`, or `name(address)` when its ansible_host differs, as Ansible labels delegation.
    pub(super) fn delegate_label(&self, name: String) -> String {
        let address = self.inventory.host(&name).and_then(|h| h.vars.get("ansible_host")).map(stockman_modules::args::value_to_string);
        match address {
            Some(a) if a != name => format!("{name}({a})"),
            _ => name,
        }
    }

    /// The connection to a `delegate_to` host: its inventory variables (or just
    /// its name as the address), opened once and shared like any host's.
    async fn delegate_connection(&self, play: &Play, name: &str) -> Result<super::SharedConnection, String> {
        let target = self.inventory.host(name).cloned().unwrap_or_else(|| crate::inventory::Host {
            name: name.to_string(),
            vars: Map::new(),
            groups: Vec::new(),
            implicit: false,
        });
        let mut state = HostState::new(&target, play, self.settings, &std::sync::Arc::default(), super::SharedConnection::default(), &self.templar, std::sync::Arc::default())?;
        state.conn = self.connection_for(&super::connection_key(&state.spec));
        if state.conn.get().is_none() {
            self.connect(&state).await.map_err(|e| e.to_string())?;
        }
        Ok(state.conn)
    }

    fn to_result(&self, host: &HostState, outcome: Result<ModuleResult, ModuleError>, verbose_always: bool) -> HostResult {
        match outcome {
            Ok(result) => module_result(host, result, verbose_always),
            Err(ModuleError::BadArgs(msg)) => failed(host, msg),
            Err(ModuleError::Unreachable(e)) => unreachable(host, e.to_string()),
        }
    }

    /// Applies `changed_when` and `failed_when` (the registered name already set to the result).
    fn judge(&self, task: &Task, host: &HostState, mut r: HostResult, vars: &TaskVars) -> HostResult {
        if r.status == Status::Unreachable || r.status == Status::Skipped || (task.changed_when.is_empty() && task.failed_when.is_empty()) {
            return r;
        }
        let with_result = with_registered(vars, task, &r);
        if !task.changed_when.is_empty() {
            match self.all_hold(host, &task.changed_when, &with_result) {
                Ok(changed) => {
                    r.result.insert("changed".into(), changed.into());
                    if r.status != Status::Failed {
                        r.status = if changed { Status::Changed } else { Status::Ok };
                    }
                }
                Err(e) => return failed_like(r, task_error(task, &e.message)),
            }
        }
        if !task.failed_when.is_empty() {
            match self.all_hold(host, &task.failed_when, &with_result) {
                Ok(fails) => {
                    r.result.insert("failed_when_result".into(), fails.into());
                    if !fails && r.status == Status::Failed {
                        r.result.insert("failed_when_suppressed_exception".into(), super::task::NO_TRACEBACK.into());
                    }
                    let changed = r.result.get("changed").and_then(Value::as_bool).unwrap_or(false);
                    r.module_failed &= fails;
                    r.status = match (fails, changed) {
                        (true, _) => Status::Failed,
                        (false, true) => Status::Changed,
                        (false, false) => Status::Ok,
                    };
                }
                Err(e) => return failed_like(r, task_error(task, &e.message)),
            }
        }
        r
    }

    fn all_hold(&self, host: &HostState, conditions: &[String], vars: &TaskVars) -> Result<bool, TemplateError> {
        let ctx = host.context(vars);
        for condition in conditions {
            if !self.templar.eval_condition(condition, &ctx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whom this task runs as: `ansible_become`, `ansible_become_user` and
    /// `ansible_become_method` when set (inventory, play or task vars), else the
    /// task's (or its blocks') `become*`, else the play's, else -b/--become-user/--become-method or [privilege_escalation]
    /// (also under a play's own `become: true`, as in Ansible); the password from
    /// `ansible_become_password` or -K.
    pub(super) fn become_spec(&self, play: &Play, task: &Task, ctx: &minijinja::Value) -> Result<Option<BecomeSpec>, String> {
        let play = Some(play);
        let pick = |task_value: &Option<Value>, play_value: Option<&Option<Value>>| task_value.clone().or_else(|| play_value.cloned().flatten());
        let default = self.settings.become_default.as_ref();
        // As in Ansible, the connection variables win over the keywords.
        let var = |name: &str| ctx.get_attr(name).ok().filter(|v| !v.is_undefined() && !v.is_none());
        let enabled = match (var("ansible_become"), pick(&task.r#become, play.map(|p| &p.r#become))) {
            (Some(v), _) => match v.as_str() {
                Some(text) => stockman_modules::args::parse_bool(&Value::String(text.to_string())).unwrap_or(false),
                None => v.is_true(),
            },
            (None, Some(v)) => self.flag(&v, ctx).unwrap_or(false),
            (None, None) => default.is_some(),
        };
        if !enabled {
            return Ok(None);
        }
        let text = |v: Option<Value>| -> Result<Option<String>, String> {
            v.map(|v| self.templar.render_value(&v, ctx).map(|v| stockman_modules::args::value_to_string(&v)).map_err(|e| e.message)).transpose()
        };
        let mut spec = default.cloned().unwrap_or_else(|| self.settings.become_base.clone());
        let keyword_or_var = |keyword: Option<Value>, name: &str| -> Result<Option<String>, String> {
            match var(name) {
                Some(v) => Ok(Some(v.to_string())),
                None => text(keyword),
            }
        };
        if let Some(user) = keyword_or_var(pick(&task.become_user, play.map(|p| &p.become_user)), "ansible_become_user")? {
            spec.user = user;
        }
        if let Some(method) = keyword_or_var(pick(&task.become_method, play.map(|p| &p.become_method)), "ansible_become_method")? {
            spec.method = BecomeMethod::parse(&method).ok_or_else(|| format!("become_method `{method}` is not supported (use sudo or su)"))?;
        }
        for name in ["ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"] {
            if let Ok(v) = ctx.get_attr(name) {
                if !v.is_undefined() && !v.is_none() {
                    spec.password = Some(Secret::new(v.to_string()));
                    break;
                }
            }
        }
        Ok(Some(spec))
    }

    /// The variable `name` as a task sees it (its templates rendered), if defined.
    fn variable(&self, name: &str, ctx: &minijinja::Value) -> Option<Value> {
        if !crate::playbook::is_identifier(name) || !self.templar.eval_condition(&format!("{name} is defined"), ctx).ok()? {
            return None;
        }
        self.templar.render_str(&format!("{{{{ {name} }}}}"), ctx).ok()
    }

    fn flag(&self, value: &Value, ctx: &minijinja::Value) -> Option<bool> {
        self.templar.render_value(value, ctx).ok().map(|v| truthy(&v))
    }
}

/// The variables with the task's registered name bound to this result, for
/// `changed_when`, `failed_when` and `until`.
fn with_registered(vars: &TaskVars, task: &Task, r: &HostResult) -> TaskVars {
    let mut vars = vars.clone();
    if let Some(name) = &task.register {
        vars.set(name, Value::Object(super::task::registered_form(r)));
    }
    vars
}

/// What an item leaves to the items after it, as Ansible's loop updates the
/// task's variables in place: its registered result, and set_fact's variables
/// (`acc: "{{ acc + [item] }}"` gathers every item). The host keeps them only
/// once the task is done.
fn carry_to_next_item(vars: &mut TaskVars, task: &Task, outcome: &ItemOutcome) {
    if let Some(name) = &task.register {
        vars.set(name, Value::Object(outcome.registered.clone()));
    }
    let is_set_fact = matches!(&task.action, Action::Module { spec, .. } if spec.kind == ModuleKind::SetFact);
    if !is_set_fact || outcome.facts_to.is_some() || outcome.status == Status::Failed {
        return;
    }
    if let Some(facts) = outcome.registered.get("ansible_facts").and_then(Value::as_object) {
        facts.iter().for_each(|(k, v)| vars.set(k, v.clone()));
    }
}

/// What a looped task keeps of each item once it has been reported: only what
/// its summary and `register` need (a million items are held at once).
struct ItemOutcome {
    status: Status,
    ignored: bool,
    /// The item's result as `results[i]` registers it.
    registered: Map<String, Value>,
    diff: Vec<stockman_modules::FileDiff>,
    /// `delegate_facts`: the host this item's facts go to.
    facts_to: Option<String>,
    /// The item lost the host's connection (a reboot): the next task opens a new one.
    reconnect: bool,
}

impl From<HostResult> for ItemOutcome {
    fn from(r: HostResult) -> Self {
        let registered = super::task::registered_form(&r);
        let facts_to = r.facts_to.into_iter().next().flatten();
        ItemOutcome { status: r.status, ignored: r.ignored, registered, diff: r.diff, facts_to, reconnect: r.reconnect }
    }
}

/// A looped task's result on a host: every item's result under `results`.
fn loop_summary(host: &HostState, results: Vec<ItemOutcome>) -> HostResult {
    let any = |s: Status| results.iter().any(|r| r.status == s);
    let failed_items = results.iter().filter(|r| r.status == Status::Failed).count();
    let ignored = failed_items > 0 && results.iter().filter(|r| r.status == Status::Failed).all(|r| r.ignored);
    let all_skipped = results.iter().all(|r| r.status == Status::Skipped);
    let reconnect = results.iter().any(|r| r.reconnect);
    let status = if any(Status::Unreachable) {
        Status::Unreachable
    } else if failed_items > 0 {
        Status::Failed
    } else if all_skipped {
        Status::Skipped
    } else if any(Status::Changed) {
        Status::Changed
    } else {
        Status::Ok
    };
    let mut map = Map::new();
    map.insert("changed".into(), any(Status::Changed).into());
    if results.is_empty() {
        map.insert("skipped_reason".into(), "No items in the list".into());
    } else {
        let msg = match (failed_items > 0, all_skipped) {
            (true, _) => "One or more items failed",
            (false, true) => "All items skipped",
            (false, false) => "All items completed",
        };
        map.insert("msg".into(), msg.into());
        map.insert("skipped".into(), all_skipped.into());
    }
    let mut items = Vec::with_capacity(results.len());
    let mut diff = Vec::new();
    let mut facts_to = Vec::new();
    for r in results {
        items.push(Value::Object(r.registered));
        diff.extend(r.diff);
        facts_to.push(r.facts_to);
    }
    map.insert("results".into(), Value::Array(items));
    let mut summary = HostResult::new(&host.name, status, map);
    if facts_to.iter().any(Option::is_some) {
        summary.facts_to = facts_to;
    }
    summary.ignored = ignored;
    summary.loop_summary = true;
    summary.reconnect = reconnect;
    summary.diff = diff;
    summary
}

/// Templates the arguments, their names too (`set_fact: {"{{ item.key }}": ...}`,
/// as Ansible templates mapping keys), and drops those set to `omit`.
fn render_args(templar: &Templar, spec: &ModuleSpec, args: &Map<String, Value>, ctx: &minijinja::Value) -> Result<Args, TemplateError> {
    let mut rendered = Map::new();
    for (key, value) in args.iter().filter(|(k, _)| *k != VARIABLE_PARAMS) {
        let value = templar.render_value(value, ctx)?;
        if value != Value::String(OMIT.into()) {
            let key = match templar.render_str(key, ctx)? {
                Value::String(text) => text,
                other => py::to_str(&other),
            };
            rendered.insert(key, value);
        }
    }
    if let Some(template) = args.get(VARIABLE_PARAMS) {
        add_variable_params(spec, templar.render_value(template, ctx)?, &mut rendered)?;
    }
    Ok(Args::new(rendered))
}

/// The mapping a `module: "{{ var }}"` template gave, under canonical names,
/// below the task's own `args:`; checked against the module's parameters.
fn add_variable_params(spec: &ModuleSpec, given: Value, args: &mut Map<String, Value>) -> Result<(), TemplateError> {
    let Value::Object(given) = given else {
        return Err(TemplateError { undefined: false, message: format!("the arguments of `{}` must be a mapping, but the template gave {given}", spec.name) });
    };
    for (name, value) in given {
        let canonical = match spec.canonical(&name) {
            Some(c) => c.to_string(),
            None if spec.any_params => name,
            None => return Err(TemplateError { undefined: false, message: format!("unsupported parameter `{name}` for module `{}`", spec.name) }),
        };
        args.entry(canonical).or_insert(value);
    }
    // Missing required ones are the validator's, as for any task.
    Ok(())
}

fn task_error(task: &Task, message: &str) -> String {
    format!("task `{}` at {}: {message}", task.display_name(), task.span)
}

fn debug_is_quiet(args: &Args, verbosity: u8) -> bool {
    let wanted = args.get("verbosity").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0);
    wanted > u64::from(verbosity)
}

fn quiet(args: &Args) -> bool {
    args.bool("quiet", false).unwrap_or(false)
}

fn with_ignore(mut r: HostResult, ignore: bool) -> HostResult {
    r.ignored = ignore && r.status == Status::Failed;
    r
}

fn failed_like(mut r: HostResult, msg: String) -> HostResult {
    r.status = Status::Failed;
    r.result.insert("msg".into(), msg.into());
    r
}

fn message(msg: String, extra: &[(&str, Value)]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("msg".into(), msg.into());
    for (k, v) in extra {
        m.insert((*k).into(), v.clone());
    }
    m
}

pub(super) fn failed(host: &HostState, msg: String) -> HostResult {
    HostResult::new(&host.name, Status::Failed, message(msg, &[]))
}

/// A task stopped by `timeout:` / task_timeout, reported as ansible-core 2.19 does.
fn timed_out(host: &HostState, secs: u64) -> HostResult {
    let detail = serde_json::json!({"frame": "Configure `DISPLAY_TRACEBACK` to see a traceback on timeout errors.", "period": secs});
    HostResult::new(&host.name, Status::Failed, message(format!("Task failed: Timed out after {secs} second(s)."), &[("timedout", detail)]))
}

pub(super) fn unreachable(host: &HostState, msg: String) -> HostResult {
    HostResult::new(&host.name, Status::Unreachable, message(format!("Task failed: {msg}"), &[("unreachable", true.into())]))
}

fn skipped(host: &HostState, condition: &str) -> HostResult {
    skipped_by(&host.name, condition)
}

/// A task or include skipped by its `when`: Ansible reports the condition
/// that was false as written (a YAML boolean stays one; conditions are kept as
/// text, where a boolean reads `True`/`False`).
pub(super) fn skipped_by(host: &str, condition: &str) -> HostResult {
    let written = match condition {
        "True" => Value::Bool(true),
        "False" => Value::Bool(false),
        text => text.into(),
    };
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("false_condition".into(), written);
    m.insert("skip_reason".into(), "Conditional result was False".into());
    HostResult::new(host, Status::Skipped, m)
}

fn skipped_verbosity(host: &HostState) -> HostResult {
    let mut m = Map::new();
    m.insert("changed".into(), false.into());
    m.insert("skipped_reason".into(), "Verbosity threshold not met.".into());
    HostResult::new(&host.name, Status::Skipped, m)
}

pub(super) fn module_result(host: &HostState, r: ModuleResult, verbose_always: bool) -> HostResult {
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
    let mut result = HostResult::new(&host.name, status, m);
    result.diff = r.diff;
    result.verbose_always = verbose_always;
    result.raised = r.raised;
    result
}

/// The target of controller-side modules (debug), which never run commands.
struct NoTarget;

impl stockman_modules::Target for NoTarget {
    async fn exec(&self, _: &str, _: Option<&[u8]>) -> Result<stockman_modules::ExecOutput, stockman_modules::TargetError> {
        Err(stockman_modules::TargetError("this module runs on the controller only".into()))
    }
}

/// As Ansible's action base does for every module: `stdout_lines` and
/// `stderr_lines` beside a returned `stdout`/`stderr` (apt's, git's, ...).
fn add_output_lines(result: &mut serde_json::Map<String, serde_json::Value>) {
    for (text, lines) in [("stdout", "stdout_lines"), ("stderr", "stderr_lines")] {
        if let (Some(serde_json::Value::String(s)), false) = (result.get(text), result.contains_key(lines)) {
            let split = stockman_modules::command::lines(s);
            result.insert(lines.into(), split);
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str) -> &'static ModuleSpec {
        stockman_modules::spec::lookup(name).unwrap()
    }

    #[test]
    fn variable_params_fill_in_below_explicit_args() {
        let mut args = Map::new();
        args.insert("quiet".into(), json!(true));
        add_variable_params(spec("assert"), json!({"that": ["1"], "quiet": false, "msg": "m"}), &mut args).unwrap();
        assert_eq!(Value::Object(args), json!({"quiet": true, "that": ["1"], "fail_msg": "m"}));
    }

    #[test]
    fn variable_params_must_be_a_known_mapping() {
        let e = add_variable_params(spec("debug"), json!("text"), &mut Map::new()).unwrap_err();
        assert_eq!(e.message, "the arguments of `debug` must be a mapping, but the template gave \"text\"");
        let e = add_variable_params(spec("debug"), json!({"msgg": 1}), &mut Map::new()).unwrap_err();
        assert_eq!(e.message, "unsupported parameter `msgg` for module `debug`");
        let mut args = Map::new();
        add_variable_params(spec("assert"), json!({}), &mut args).unwrap();
        let e = stockman_modules::validate::checked(spec("assert"), &args).unwrap_err();
        assert_eq!(e.message("assert"), "missing required arguments: that");
    }
}
