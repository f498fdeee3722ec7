//! A task's own `connection`, `remote_user` and `port` (or its blocks'):
//! when they reach the host differently from the play, the task runs over a
//! connection of its own, opened once per host and way of reaching it and
//! shared by later tasks that reach it the same way.
//!
//! As in Ansible, the inventory's `ansible_connection`, `ansible_user` and
//! `ansible_port` win over these keywords.

use serde_json::Value;

use super::host::HostState;
use super::{Executor, SharedConnection};
use crate::playbook::Task;
use crate::transport::{ConnectSpec, ConnectionKind};

impl Executor<'_> {
    /// The connection for `task` on `host` when its keywords change how the
    /// host is reached; None: the host's own connection.
    pub(super) async fn task_connection(&self, task: &Task, host: &HostState, ctx: &minijinja::Value) -> Result<Option<SharedConnection>, String> {
        if task.connection.is_empty() {
            return Ok(None);
        }
        let spec = self.task_spec(task, host, ctx)?;
        if (spec.kind, &spec.user, spec.port) == (host.spec.kind, &host.spec.user, host.spec.port) {
            return Ok(None);
        }
        let cell = self.connection_for(&super::connection_key(&spec));
        cell.get_or_try_init(|| self.open_spec(&host.name, &spec)).await.map_err(|e| e.to_string())?;
        Ok(Some(cell))
    }

    /// The host's connection spec with the task's keywords where the
    /// inventory does not decide.
    fn task_spec(&self, task: &Task, host: &HostState, ctx: &minijinja::Value) -> Result<ConnectSpec, String> {
        let keywords = &task.connection;
        let mut spec = host.spec.clone();
        if let Some(kind) = self.keyword_text(&keywords.connection, "connection", ctx)?.filter(|_| !is_set(host, ctx, &["ansible_connection"])) {
            spec.kind = match kind.as_str() {
                "local" => ConnectionKind::Local,
                "ssh" | "smart" | "paramiko" if host.spec.kind == ConnectionKind::Ssh => ConnectionKind::Ssh,
                "ssh" | "smart" | "paramiko" => return Err(format!("connection `{kind}` on a task of a play that reaches `{}` locally is not supported by stockman yet", host.name)),
                other => return Err(format!("unknown connection `{other}`: use ssh or local")),
            };
        }
        if let Some(user) = self.keyword_text(&keywords.remote_user, "remote_user", ctx)?.filter(|_| !is_set(host, ctx, &["ansible_user", "ansible_ssh_user"])) {
            spec.user = Some(user);
        }
        if let Some(port) = self.keyword_text(&keywords.port, "port", ctx)?.filter(|_| !is_set(host, ctx, &["ansible_port", "ansible_ssh_port"])) {
            spec.port = port.parse().map_err(|_| format!("port `{port}` is not a port number"))?;
        }
        Ok(spec)
    }

    /// A keyword's value rendered as text; None when not given or empty.
    fn keyword_text(&self, value: &Option<Value>, name: &str, ctx: &minijinja::Value) -> Result<Option<String>, String> {
        let Some(value) = value else { return Ok(None) };
        let rendered = self.templar.render_value(value, ctx).map_err(|e| format!("{name}: {}", e.message))?;
        Ok(Some(stockman_modules::args::value_to_string(&rendered)).filter(|s| !s.is_empty() && rendered != Value::Null))
    }
}

/// Whether the host has one of these variables (the inventory's, a play's, ...).
fn is_set(host: &HostState, ctx: &minijinja::Value, names: &[&str]) -> bool {
    names.iter().any(|n| ctx.get_attr(n).is_ok_and(|v| !v.is_undefined() && !v.is_none() && !host.is_connection_default(n, &v)))
}
