//! The engine actions that wait for a host over new connections: `reboot`
//! (reboot it, wait until its boot time changed and the test command
//! passes) and `wait_for_connection` (connect until a round trip works).
//! Their arguments and commands are in `stockman_modules::{reboot,
//! wait_for_connection}`; the waiting is here because only the engine opens
//! connections. Every wait is bounded by the task's own timeouts; a result
//! marked `reconnect` makes the next task open a new connection
//! (`run_task` replaces the host's, as `meta: reset_connection` does).

use std::time::{Duration, Instant};

use stockman_modules::reboot::{self, Plan as RebootPlan};
use stockman_modules::wait_for_connection::{self, Plan as WaitPlan};
use stockman_modules::{Args, ExecOutput, ModuleResult, Target, TargetError};

use super::host::HostState;
use super::item::{failed, module_result, unreachable};
use super::trace::Traced;
use super::Executor;
use crate::playbook::{Action, Play, Task};
use crate::report::{Event, HostResult};
use crate::transport::{BecomeSpec, BecomeTarget, Connection, ConnectionKind};

/// Ansible's backoff between attempts: 1, 2, 4, 8, then 12 seconds.
const MAX_BACKOFF: Duration = Duration::from_secs(12);

/// How a reboot action runs its commands: as the task's become user, traced at -vv.
struct HostCommands<'a> {
    host: &'a HostState,
    become_spec: Option<BecomeSpec>,
    traced: bool,
}

impl Executor<'_> {
    /// Runs `reboot` or `wait_for_connection` on the host's connection, as the task's become user.
    pub(super) async fn reconnecting_action(&self, play: &Play, task: &Task, host: &HostState, args: &Args, ctx: &minijinja::Value, check: bool) -> HostResult {
        let Action::Module { spec, written_as, .. } = &task.action else { return failed(host, "meta tasks run no module".into()) };
        let become_spec = match self.become_spec(play, task, ctx) {
            Ok(spec) => spec,
            Err(message) => return failed(host, message),
        };
        // Commands of a task that may be no_log are never shown.
        let traced = self.settings.verbosity >= 2 && task.no_log == serde_json::Value::Bool(false);
        let how = HostCommands { host, become_spec, traced };
        if spec.kind == stockman_modules::ModuleKind::Reboot {
            self.reboot(written_as, &how, args, check).await
        } else {
            self.wait_for_connection(&how, args, check).await
        }
    }

    /// `reboot`: one probe (the shutdown program and the boot time), the
    /// reboot, then the two bounded waits over new connections.
    async fn reboot(&self, action: &str, how: &HostCommands<'_>, args: &Args, check: bool) -> HostResult {
        let host = how.host;
        if host.spec.kind == ConnectionKind::Local {
            let msg = format!("Running {action} with local connection would reboot the control node.");
            return module_result(host, ModuleResult::failed(msg).with("elapsed", 0).with("rebooted", false), false);
        }
        if check {
            return module_result(host, ModuleResult::changed(true).with("elapsed", 0).with("rebooted", true), false);
        }
        let plan = match RebootPlan::from_args(args) {
            Ok(plan) => plan,
            Err(e) => return failed(host, e.to_string()),
        };
        let conn = match self.connect(host).await {
            Ok(conn) => conn,
            Err(e) => return unreachable(host, e.to_string()),
        };
        let probe = match self.run_as(how, conn, plan.probe().as_str()).await {
            Ok(out) => out,
            Err(e) => return unreachable(host, e.to_string()),
        };
        let (program, output) = plan.read_probe(&probe.stdout_str());
        if probe.rc != 0 {
            // Ansible's message, its outputs as they came (its `reboot` key too).
            let msg = format!("{action}: failed to get host boot time info, rc: {}, stdout: {output}, stderr: {}", probe.rc, probe.stderr_str());
            return module_result(host, ModuleResult::failed(msg).with("reboot", false), false);
        }
        let before = output.trim();
        // Ansible raises this one (an error of the task, not the action's result).
        let Some(program) = program else { return module_result(host, ModuleResult::raised(format!("Task failed: {}", plan.not_found())), false) };
        self.detail(host, format!("{action}: rebooting server..."));
        // The connection may drop before the command answers: that is the reboot.
        let answer = self.run_as(how, conn, &plan.reboot_command(&program)).await;
        let start = Instant::now();
        let elapsed = || start.elapsed().as_secs();
        if let Ok(out) = &answer {
            if out.rc != 0 {
                let msg = format!("Reboot command failed. Error was: '{}, {}'", out.stdout_str().trim(), out.stderr_str().trim());
                return module_result(host, ModuleResult::failed(msg).with("rebooted", false).with("elapsed", elapsed()), false);
            }
        }
        tokio::time::sleep(plan.post_reboot_delay).await;
        let outcome = match self.wait_for_new_boot(action, how, &plan, before).await {
            Ok(conn) => self.wait_for_test_command(action, how, &plan, conn).await,
            Err(e) => Err(e),
        };
        let r = match outcome {
            Ok(()) => ModuleResult::changed(true).with("rebooted", true),
            Err(msg) => ModuleResult::failed(msg).with("rebooted", true),
        };
        let mut r = module_result(host, r.with("elapsed", elapsed()), false);
        r.reconnect = true;
        r
    }

    /// Until the boot time differs from `before`, each attempt on a new
    /// connection; that connection is returned for the test command.
    async fn wait_for_new_boot(&self, action: &str, how: &HostCommands<'_>, plan: &RebootPlan, before: &str) -> Result<Connection, String> {
        let what = "last boot time check";
        let mut wait = Backoff::new(plan.reboot_timeout);
        while let Some(left) = wait.left() {
            let attempt = async {
                let conn = self.fresh_connection(how.host, plan.connect_timeout).await?;
                match self.run_as(how, &conn, plan.boot_time().as_str()).await {
                    Ok(out) if out.rc == 0 && reboot::rebooted(before, out.stdout_str().trim()) => Ok(conn),
                    Ok(_) => {
                        conn.close().await;
                        Err("boot time has not changed".to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            match tokio::time::timeout(left, attempt).await {
                Ok(Ok(conn)) => return Ok(conn),
                Ok(Err(why)) => self.retrying(how.host, action, what, &why, &wait),
                Err(_) => self.retrying(how.host, action, what, "timed out", &wait),
            }
            wait.pause().await;
        }
        Err(timed_out(what, plan.reboot_timeout))
    }

    /// Until the test command succeeds: on `conn` first, then on new
    /// connections when one is lost (the host may have rebooted again).
    async fn wait_for_test_command(&self, action: &str, how: &HostCommands<'_>, plan: &RebootPlan, conn: Connection) -> Result<(), String> {
        let what = "post-reboot test command";
        let mut wait = Backoff::new(plan.reboot_timeout);
        let mut conn = Some(conn);
        let outcome = loop {
            let Some(left) = wait.left() else { break Err(timed_out(what, plan.reboot_timeout)) };
            let attempt = async {
                if conn.is_none() {
                    conn = Some(self.fresh_connection(how.host, plan.connect_timeout).await?);
                }
                let open = conn.as_ref().expect("opened above");
                match self.run_as(how, open, plan.test().as_str()).await {
                    Ok(out) if out.rc == 0 => Ok(()),
                    Ok(out) => Err(format!("Test command failed: {} {}", out.stderr_str(), out.stdout_str())),
                    Err(e) => {
                        conn.take();
                        Err(e.to_string())
                    }
                }
            };
            match tokio::time::timeout(left, attempt).await {
                Ok(Ok(())) => break Ok(()),
                Ok(Err(why)) => self.retrying(how.host, action, what, &why, &wait),
                Err(_) => self.retrying(how.host, action, what, "timed out", &wait),
            }
            wait.pause().await;
        };
        if let Some(conn) = conn {
            conn.close().await;
        }
        outcome
    }

    /// `wait_for_connection`: after `delay`, a round trip (ping's command)
    /// until one works or `timeout` passes, `sleep` apart. As Ansible resets
    /// the connection before each attempt, each attempt opens a new one: a
    /// session opened before a reboot can outlive sshd's listener for a
    /// while, so a round trip on it proves nothing about the host.
    async fn wait_for_connection(&self, how: &HostCommands<'_>, args: &Args, check: bool) -> HostResult {
        let host = how.host;
        if check {
            self.detail(host, "wait_for_connection: skipping for check_mode".into());
            return module_result(host, ModuleResult { skipped: true, ..ModuleResult::default() }, false);
        }
        let plan = match WaitPlan::from_args(args) {
            Ok(plan) => plan,
            Err(e) => return failed(host, e.to_string()),
        };
        let start = Instant::now();
        tokio::time::sleep(plan.delay).await;
        let mut last_error = String::new();
        let deadline = Instant::now() + plan.timeout;
        let outcome = loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
                break Err(wait_for_connection::timed_out(&last_error));
            };
            let attempt = async {
                let conn = self.fresh_connection(host, Some(plan.connect_timeout)).await?;
                let answer = self.ping(how, &conn).await;
                conn.close().await;
                answer
            };
            match tokio::time::timeout(left, attempt).await {
                Ok(Ok(())) => break Ok(()),
                Ok(Err(why)) => last_error = why,
                Err(_) => last_error = format!("no answer within {}s", plan.timeout.as_secs()),
            }
            self.detail(host, format!("wait_for_connection: ping module test fail (expected), retrying in {} seconds...", plan.sleep.as_secs()));
            tokio::time::sleep(plan.sleep.min(deadline.saturating_duration_since(Instant::now()))).await;
        };
        let r = match outcome {
            Ok(()) => ModuleResult::ok(),
            Err(msg) => ModuleResult::failed(msg),
        };
        let mut r = module_result(host, r.with("elapsed", start.elapsed().as_secs()), false);
        // The host's old connection may be a session of the system that went down: the next task opens another.
        r.reconnect = true;
        r
    }

    /// One round trip: what `ping` runs.
    async fn ping(&self, how: &HostCommands<'_>, conn: &Connection) -> Result<(), String> {
        match self.run_as(how, conn, "true").await {
            Ok(out) if out.rc == 0 => Ok(()),
            Ok(out) => Err(format!("the host's shell could not run `true` (rc={}): {}", out.rc, out.stderr_str().trim())),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A new connection to the host, its connect timeout replaced when given,
    /// tried once (the callers retry on their own schedule).
    async fn fresh_connection(&self, host: &HostState, connect_timeout: Option<Duration>) -> Result<Connection, String> {
        self.open_spec(&host.name, &with_timeout(&host.spec, connect_timeout)).await.map_err(|e| e.to_string())
    }

    async fn run_as(&self, how: &HostCommands<'_>, conn: &Connection, command: &str) -> Result<ExecOutput, TargetError> {
        let host = how.host.name.as_str();
        match &how.become_spec {
            Some(spec) => {
                let target = BecomeTarget { conn, spec };
                Traced { inner: &target, host, reporter: self.reporter, enabled: how.traced }.exec(command, None).await
            }
            None => Traced { inner: conn, host, reporter: self.reporter, enabled: how.traced }.exec(command, None).await,
        }
    }

    fn retrying(&self, host: &HostState, action: &str, what: &str, why: &str, wait: &Backoff) {
        let error = why.lines().last().unwrap_or(why);
        self.detail(host, format!("{action}: {what} fail '{error}', retrying in {:.4} seconds...", wait.next().as_secs_f64()));
    }

    /// Ansible prints these at -vvv.
    fn detail(&self, host: &HostState, text: String) {
        self.emit(Event::Detail { host: host.name.clone(), level: 3, text });
    }
}

/// The host's connect spec with `connect_timeout` (when given) and no retries.
fn with_timeout(spec: &crate::transport::ConnectSpec, connect_timeout: Option<Duration>) -> crate::transport::ConnectSpec {
    let mut spec = spec.clone();
    spec.retries = 0;
    if let Some(timeout) = connect_timeout {
        spec.connect_timeout = timeout;
    }
    spec
}

fn timed_out(what: &str, timeout: Duration) -> String {
    format!("Timed out waiting for {what} (timeout={})", timeout.as_secs())
}

/// A deadline and the growing pause between attempts.
struct Backoff {
    deadline: Instant,
    failures: u32,
}

impl Backoff {
    fn new(timeout: Duration) -> Self {
        Backoff { deadline: Instant::now() + timeout, failures: 0 }
    }

    /// The time left, None once it is up.
    fn left(&self) -> Option<Duration> {
        self.deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    fn next(&self) -> Duration {
        Duration::from_secs(1u64 << self.failures.min(4)).min(MAX_BACKOFF)
    }

    /// Sleeps the next pause (never past the deadline).
    async fn pause(&mut self) {
        let pause = self.next().min(self.left().unwrap_or_default());
        self.failures += 1;
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_twelve_seconds() {
        let mut b = Backoff::new(Duration::from_secs(600));
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(b.next().as_secs());
            b.failures += 1;
        }
        assert_eq!(seen, [1, 2, 4, 8, 12, 12]);
        assert!(Backoff::new(Duration::ZERO).left().is_none());
    }
}
