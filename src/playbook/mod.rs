//! The immutable model of a playbook: plays, tasks and handlers, each with the
//! file:line:column it came from.
//!
//! [`load`] reads and validates a whole playbook before any host is contacted:
//! unknown keywords, modules and module arguments are errors with a position and
//! a "did you mean" hint. Nothing in this model changes while the playbook runs;
//! per-host state lives in the executor.

use serde_json::{Map, Value};
use stockman_modules::ModuleSpec;

use crate::yaml::Span;

mod kv;
mod load;
mod suggest;

pub use kv::{parse_kv, split_args};
pub use load::{load, LoadError};
pub use suggest::did_you_mean;

#[derive(Debug)]
pub struct Playbook {
    /// The playbook file; its directory is `playbook_dir`.
    pub path: std::path::PathBuf,
    pub plays: Vec<Play>,
}

#[derive(Debug)]
pub struct Play {
    /// As written; the header shows it (or the host pattern when absent).
    pub name: Option<String>,
    pub hosts: String,
    pub span: Span,
    pub vars: Map<String, Value>,
    pub gather_facts: bool,
    /// `connection:` (ssh, local), overriding the inventory's.
    pub connection: Option<String>,
    pub remote_user: Option<String>,
    pub pre_tasks: Vec<Task>,
    pub tasks: Vec<Task>,
    pub post_tasks: Vec<Task>,
    pub handlers: Vec<Task>,
}

impl Play {
    /// The name `PLAY [..]` shows: the play's name, else its host pattern.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.hosts)
    }
}

/// A task or a handler.
#[derive(Debug)]
pub struct Task {
    pub name: Option<String>,
    pub action: Action,
    pub span: Span,
    /// Conditions, all of which must hold (`when:` as a string or a list).
    pub when: Vec<String>,
    pub register: Option<String>,
    pub notify: Vec<String>,
    /// Handlers only: topics this handler also answers to.
    pub listen: Vec<String>,
    /// A boolean or a template evaluated per host.
    pub ignore_errors: Value,
    /// A boolean or a template: hide this task's results in every output.
    pub no_log: Value,
    pub vars: Map<String, Value>,
}

impl Task {
    /// The name `TASK [..]` shows: the task's name, else the action as written.
    pub fn display_name(&self) -> &str {
        match (&self.name, &self.action) {
            (Some(name), _) => name,
            (None, Action::Module { written_as, .. }) => written_as,
            (None, Action::Meta(_)) => "meta",
        }
    }
}

#[derive(Debug)]
pub enum Action {
    Module {
        spec: &'static ModuleSpec,
        /// The module name as the user wrote it (`copy`, `ansible.builtin.copy`).
        written_as: String,
        /// Canonical argument names → values, still to be templated per host.
        args: Map<String, Value>,
    },
    Meta(Meta),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    FlushHandlers,
    Noop,
}
