//! `async:` and `poll:`: a `command`/`shell` task's command (or a fallback
//! module's Python) runs as a background job on the host (see `stockman_modules::async_status`); with
//! `poll: 0` the task only starts it, otherwise the controller checks on it
//! every `poll` seconds until it finishes or `async` seconds have passed (then
//! the job is killed and the task fails, as in Ansible).

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use stockman_modules::async_status::{self, Finished, Job};
use stockman_modules::{Args, ExecOutput, ModuleError, ModuleResult, Target, TargetError};

use crate::report::{Event, Reporter};
use crate::template::Templar;

/// Ansible's default `poll:` interval.
const DEFAULT_POLL: u64 = 15;

/// How a task runs in the background: the time limit and the poll interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Background {
    pub limit: u64,
    /// 0: start the job and go on (`ansible_job_id` registered).
    pub poll: u64,
    /// Where jobs live on the host ([`jobs_dir`]).
    pub dir: String,
    /// Check mode: the module only plans, and the job records that plan.
    pub check: bool,
}

impl Background {
    /// The task's `async`/`poll` for this host; None when it runs in the
    /// foreground (no `async`, or `async: 0`).
    pub fn of(templar: &Templar, task: &crate::playbook::Task, ctx: &minijinja::Value, check: bool) -> Result<Option<Self>, String> {
        let Some(value) = &task.r#async else { return Ok(None) };
        let limit = seconds(templar, value, ctx, "async")?;
        let poll = match &task.poll {
            Some(v) => seconds(templar, v, ctx, "poll")?,
            None => DEFAULT_POLL,
        };
        Ok((limit > 0).then(|| Background { limit, poll, dir: jobs_dir(ctx), check }))
    }
}

/// `ansible_async_dir` for this host, else `~/.ansible_async`.
pub(super) fn jobs_dir(ctx: &minijinja::Value) -> String {
    match ctx.get_attr("ansible_async_dir") {
        Ok(v) if !v.is_undefined() && !v.is_none() => v.to_string(),
        _ => async_status::DEFAULT_DIR.to_string(),
    }
}

/// `async_status` arguments with the host's jobs directory (`_async_dir`), as Ansible's action passes it.
pub(super) fn status_args(args: &Args, ctx: &minijinja::Value) -> Args {
    let mut args = args.clone();
    args.0.entry("_async_dir").or_insert_with(|| jobs_dir(ctx).into());
    args
}

fn seconds(templar: &Templar, value: &Value, ctx: &minijinja::Value, keyword: &str) -> Result<u64, String> {
    let rendered = templar.render_value(value, ctx).map_err(|e| e.message)?;
    rendered
        .as_u64()
        .or_else(|| rendered.as_str()?.trim().parse().ok())
        .ok_or_else(|| format!("`{keyword}` must be a whole number of seconds, got {rendered}"))
}

/// A new job id in Ansible's shape: `j`, 12 random digits, `.`, our pid.
fn new_jid() -> String {
    let n: u64 = rand::random_range(0..1_000_000_000_000);
    format!("j{n}.{}", std::process::id())
}

/// What became of the job the module's command was turned into.
enum Outcome {
    Started { dir: String },
    Finished(Finished),
    TimedOut { dir: String },
    NotStarted(String),
}

/// A target that runs the task's command as job `jid` (every other command,
/// such as a `creates` probe, runs as usual).
pub(super) struct JobTarget<'a, T> {
    inner: &'a T,
    background: Background,
    jid: String,
    /// `{"module": ..., "args": ...}`, kept with the job for `async_status`.
    request: Value,
    host: &'a str,
    reporter: &'a dyn Reporter,
    outcome: Mutex<Option<Outcome>>,
}

impl<'a, T: Target> JobTarget<'a, T> {
    pub fn new(inner: &'a T, background: Background, module: &str, args: &Args, host: &'a str, reporter: &'a dyn Reporter) -> Self {
        JobTarget {
            inner,
            jid: new_jid(),
            request: json!({"module": module, "args": Value::Object(args.0.clone()), "check": background.check}),
            background,
            host,
            reporter,
            outcome: Mutex::new(None),
        }
    }

    /// A module of the engine's fallback: `async_status` reads the JSON it
    /// prints (and shows its diff when `diff`).
    pub fn python(mut self, diff: bool) -> Self {
        self.request["python"] = true.into();
        self.request["diff"] = diff.into();
        self
    }

    /// The task's result: the module's (when its command never ran), the
    /// job's start, its finished result, or Ansible's timeout failure.
    pub async fn result(&self, module: Result<ModuleResult, ModuleError>) -> Result<ModuleResult, ModuleError> {
        let outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
        let jid = &self.jid;
        let limit = self.background.limit;
        match outcome {
            None if self.background.check => self.planned(module).await,
            None => module,
            Some(Outcome::NotStarted(message)) => Ok(ModuleResult::failed(message)),
            Some(Outcome::Started { dir }) => Ok(async_status::started_result(jid, &dir)),
            Some(Outcome::Finished(job)) => {
                let result = async_status::finished_result(jid, &job).await;
                self.note(format!("ASYNC {} on {}: jid={jid}", if result.failed { "FAILED" } else { "OK" }, self.host));
                Ok(result)
            }
            Some(Outcome::TimedOut { dir }) => {
                self.note(format!("ASYNC FAILED on {}: jid={jid}", self.host));
                let unfinished = async_status::unfinished_result(jid, &dir);
                let mut r = ModuleResult::failed(format!("async task did not complete within the requested time - {limit}s"));
                r.data.insert("async_result".into(), Value::Object(unfinished.data));
                Ok(r)
            }
        }
    }

    /// Check mode, where the command only plans: as in Ansible, a job still
    /// starts (doing nothing) and records the plan, so `async_status` finds it.
    async fn planned(&self, module: Result<ModuleResult, ModuleError>) -> Result<ModuleResult, ModuleError> {
        let mut planned = module?;
        let Background { limit, poll, .. } = self.background;
        let dir = match async_status::launch(self.inner, &self.background.dir, &self.jid, limit, ":", None, &self.request).await {
            Ok(dir) => dir,
            Err(ModuleError::BadArgs(message)) => return Ok(ModuleResult::failed(message)),
            Err(e) => return Err(e),
        };
        if poll == 0 {
            self.settle().await?;
            return Ok(async_status::started_result(&self.jid, &dir));
        }
        async_status::cleanup(self.inner, &self.background.dir, &self.jid).await?;
        self.note(format!("ASYNC OK on {}: jid={}", self.host, self.jid));
        let fields = async_status::started_result(&self.jid, &dir).data;
        planned.data.extend(fields);
        planned.data.insert("finished".into(), true.into());
        Ok(planned)
    }

    /// Waits (briefly) for a job that does nothing to be done, so that an
    /// `async_status` right after finds it finished, as Ansible's would.
    async fn settle(&self) -> Result<(), ModuleError> {
        for _ in 0..20 {
            if let Job::Finished(_) = async_status::read(self.inner, &self.background.dir, &self.jid).await? {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Ansible's `ASYNC POLL/OK/FAILED on HOST` lines, shown at every verbosity.
    fn note(&self, text: String) {
        self.reporter.event(&Event::Display(text));
    }

    fn set(&self, outcome: Outcome) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    }

    /// Starts the job; with `poll` > 0 waits for it as Ansible does: sleep,
    /// check, and give up (killing it) once `async` seconds are used up.
    async fn start_and_wait(&self, command: &str, stdin: Option<&[u8]>) -> Result<Outcome, ModuleError> {
        let Background { limit, poll, .. } = self.background;
        let base = &self.background.dir;
        let dir = async_status::launch(self.inner, base, &self.jid, limit, command, stdin, &self.request).await?;
        if poll == 0 {
            return Ok(Outcome::Started { dir });
        }
        let mut time_left = i128::from(limit);
        while time_left > 0 {
            tokio::time::sleep(Duration::from_secs(poll)).await;
            match async_status::read(self.inner, base, &self.jid).await? {
                Job::Finished(job) if !job.timed_out => {
                    async_status::cleanup(self.inner, base, &self.jid).await?;
                    return Ok(Outcome::Finished(job));
                }
                Job::Missing { dir } => return Ok(Outcome::NotStarted(format!("the async job's directory {dir} disappeared"))),
                _ => {}
            }
            time_left -= i128::from(poll);
            self.note(format!("ASYNC POLL on {}: jid={} started=True finished=False", self.host, self.jid));
        }
        async_status::kill(self.inner, base, &self.jid).await?;
        Ok(Outcome::TimedOut { dir })
    }
}

impl<T: Target> Target for JobTarget<'_, T> {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        self.inner.exec(command, stdin).await
    }

    async fn exec_file_stdin(&self, command: &str, source: &std::path::Path) -> Result<Option<ExecOutput>, TargetError> {
        self.inner.exec_file_stdin(command, source).await
    }

    /// The module sees an empty success; [`JobTarget::result`] replaces its result.
    async fn exec_task_command(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        let outcome = match self.start_and_wait(command, stdin).await {
            Ok(outcome) => outcome,
            Err(ModuleError::Unreachable(e)) => return Err(e),
            Err(ModuleError::BadArgs(message)) => Outcome::NotStarted(message),
        };
        self.set(outcome);
        Ok(ExecOutput::default())
    }
}
