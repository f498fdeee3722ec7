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

mod arg_specs;
mod confine;
mod defaults;
mod include;
mod include_vars;
mod keywords;
mod kv;
mod listing;
mod load;
mod reuse;
mod roles;
mod tasks;
mod vars_prompt;

pub use confine::inside;
pub use defaults::value_kind;
pub use include::{Include, IncludeKind, IncludeSource, RoleInclude};
pub use include_vars::IncludedVars;
pub use kv::{is_identifier, parse_kv, split_args};
pub use listing::{list_play, module_uses, start_at_task, tags_selected, ModuleUse, PlayListing, TagFilter};
pub use load::{batch_sizes, load, load_node, load_with_roles_path, LoadError, VARIABLE_PARAMS};
pub use stockman_modules::suggest::did_you_mean;
pub use tasks::DeferredAction;
pub use vars_prompt::VarPrompt;

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
    /// The play's own `tags:` (already folded into every task's tags).
    pub tags: Vec<String>,
    pub vars: Map<String, Value>,
    /// `gather_facts:` as written; None: ansible.cfg's `gathering` decides.
    pub gather_facts: Option<bool>,
    /// `gather_subset`, `gather_timeout`, `fact_path` as written: setup's arguments for the play's fact gathering.
    pub gather_args: Map<String, Value>,
    /// `connection:` (ssh, local), overriding the inventory's.
    pub connection: Option<String>,
    pub remote_user: Option<String>,
    /// `port:` (a number or a template), below the inventory's `ansible_port`.
    pub port: Option<Value>,
    /// `vars_files`, read at load time, in order (later files win).
    pub vars_files: Map<String, Value>,
    /// The defaults and the vars of every role of `roles:` (dependencies
    /// first, later roles winning): Ansible shows them to every task of the
    /// play, below the inventory and above vars_files respectively.
    pub role_defaults: Map<String, Value>,
    pub role_exports: Map<String, Value>,
    /// `vars_prompt:` entries, asked for just before the play runs.
    pub vars_prompt: Vec<VarPrompt>,
    pub pre_tasks: Vec<Step>,
    /// The roles' tasks, then the play's `tasks`.
    pub tasks: Vec<Step>,
    pub post_tasks: Vec<Step>,
    /// The play's handlers, then its roles' handlers.
    pub handlers: Vec<Handler>,
    /// `any_errors_fatal:` as written; None: ansible.cfg's `any_errors_fatal` decides.
    pub any_errors_fatal: Option<bool>,
    /// `force_handlers:` as written; None: --force-handlers / ansible.cfg decides.
    pub force_handlers: Option<bool>,
    pub r#become: Option<Value>,
    pub become_user: Option<Value>,
    pub become_method: Option<Value>,
    /// `serial:` batch sizes, the last one repeated; empty: all hosts in one batch.
    pub serial: Vec<BatchSize>,
    /// `serial:` written as a template (`"{{ batch }}"`): rendered with the
    /// play's vars and extra vars when the play starts, then read as `serial`.
    pub serial_template: Option<Value>,
    /// `max_fail_percentage:` the play stops when more than this share of a batch failed.
    pub max_fail_percentage: Option<f64>,
    pub order: HostOrder,
    pub strategy: Strategy,
    /// The play's `environment:` (a mapping, or a template giving one); tasks' own win.
    pub environment: Option<Value>,
}

/// One `serial:` entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchSize {
    Count(u64),
    /// `"30%"`: that share of the play's hosts, rounded down, at least one.
    Percent(f64),
}

/// `order:` the order hosts are taken in (and batched by `serial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostOrder {
    #[default]
    Inventory,
    ReverseInventory,
    Sorted,
    ReverseSorted,
    Shuffle,
}

/// `strategy:` linear (every host finishes a task before the next starts) or free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    Linear,
    Free,
}

/// One entry of a task list: a task, a block of them, or a dynamic include
/// (`include_tasks`, `include_role`, `include_vars`) resolved while the play runs.
#[derive(Debug)]
pub enum Step {
    Task(Task),
    Block(Block),
    Include(Include),
}

/// `block:` with its `rescue:` and `always:` sections. Block keywords (when,
/// vars, tags, ...) are already folded into every task inside at load time.
#[derive(Debug)]
pub struct Block {
    pub name: Option<String>,
    pub span: Span,
    pub block: Vec<Step>,
    pub rescue: Vec<Step>,
    pub always: Vec<Step>,
}

/// A role a task came from: its name, directory and variables.
#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub path: std::path::PathBuf,
    /// `defaults/main.yml`: the lowest precedence of all.
    pub defaults: Map<String, Value>,
    /// `vars/main.yml` and the `roles:` entry's vars: above play vars.
    pub vars: Map<String, Value>,
}

/// `loop:` / `with_*:` and `loop_control:`.
#[derive(Debug, Clone)]
pub struct Loop {
    /// The list, or a template giving it (not yet flattened for `with_items`).
    pub items: Value,
    pub kind: LoopKind,
    pub loop_var: String,
    pub index_var: Option<String>,
    pub label: Option<Value>,
    pub pause: f64,
    pub extended: bool,
    /// `extended_allitems: false` leaves `ansible_loop.allitems` out (a long list copied per item).
    pub extended_allitems: bool,
}

/// Where a loop's items come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopKind {
    /// `loop:`: the list as it is.
    List,
    /// `with_<lookup>:`: the lookup's results (`with_items`, `with_dict`, ...,
    /// `with_first_found`: every lookup of [`crate::template::lookup_names`]).
    With(String),
}

impl Play {
    /// The name `PLAY [..]` shows: the play's name, else its host pattern.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.hosts)
    }
}

/// A handler: a task, or an `include_tasks` whose tasks run, when it is
/// notified, for the notified hosts (as handlers).
#[derive(Debug)]
pub enum Handler {
    Task(Task),
    Include(Include),
}

impl Handler {
    pub fn name(&self) -> Option<&str> {
        match self {
            Handler::Task(t) => t.name.as_deref(),
            Handler::Include(i) => i.name.as_deref(),
        }
    }

    /// Topics it answers to besides its name.
    pub fn listen(&self) -> &[String] {
        match self {
            Handler::Task(t) => &t.listen,
            Handler::Include(i) => &i.listen,
        }
    }

    pub fn span(&self) -> &Span {
        match self {
            Handler::Task(t) => &t.span,
            Handler::Include(i) => &i.span,
        }
    }

    /// Whether a `notify` of `topic` reaches it.
    pub fn answers(&self, topic: &str) -> bool {
        self.name() == Some(topic) || self.listen().iter().any(|l| l == topic)
    }
}

/// How a task reaches its host, when it or its blocks say so: each a value
/// or a template; the inventory's `ansible_connection`, `ansible_user` and
/// `ansible_port` still win, as in Ansible.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Connection {
    pub connection: Option<Value>,
    pub remote_user: Option<Value>,
    pub port: Option<Value>,
}

impl Connection {
    pub fn is_empty(&self) -> bool {
        *self == Connection::default()
    }
}

/// A task or a handler.
#[derive(Debug, Clone)]
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
    /// Conditions that, when any holds, make the result changed (empty: the module decides).
    pub changed_when: Vec<String>,
    /// Conditions that, when any holds, make the result failed (empty: the module decides).
    pub failed_when: Vec<String>,
    pub loop_: Option<Loop>,
    /// `until:` conditions retried up to `retries` times, `delay` seconds apart.
    pub until: Vec<String>,
    pub retries: Value,
    pub delay: Value,
    pub tags: Vec<String>,
    pub run_once: Value,
    /// `check_mode:` / `diff:` overriding the command line for this task.
    pub check_mode: Option<Value>,
    pub diff: Option<Value>,
    pub role: Option<std::sync::Arc<Role>>,
    /// `become`, `become_user`, `become_method` of the task or its blocks
    /// (None: the play's, then the command line's).
    pub r#become: Option<Value>,
    pub become_user: Option<Value>,
    pub become_method: Option<Value>,
    /// `delegate_to`: run the action on this host, with the task's host's variables.
    pub delegate_to: Option<Value>,
    /// `delegate_facts:` (a boolean or a template): facts the task returns go
    /// to the `delegate_to` host instead of the task's host.
    pub delegate_facts: Value,
    /// A boolean or a template: hide this task's results in every output.
    pub no_log: Value,
    /// `timeout:` seconds (a number or a template) after which the action is
    /// abandoned and the task fails; None or 0: no limit.
    pub timeout: Option<Value>,
    /// `throttle:` at most this many hosts run the task at once (a number or template).
    pub throttle: Option<Value>,
    /// `ignore_unreachable:` an unreachable host stays in the play (boolean or template).
    pub ignore_unreachable: Value,
    /// `any_errors_fatal:` of the task or its blocks (None: the play's, then ansible.cfg's).
    pub any_errors_fatal: Option<Value>,
    /// `connection`, `remote_user`, `port` of the task or its blocks (None: the play's).
    pub connection: Connection,
    /// `environment:` of the enclosing blocks, then the task's, outermost first
    /// (each a mapping or a template giving one); later ones win per name.
    pub environment: Vec<Value>,
    /// `async:` seconds (a number or a template): run the command as a
    /// background job on the host, killed after that long (command/shell only).
    pub r#async: Option<Value>,
    /// `poll:` seconds between checks on an `async` job (default 15); 0: don't wait.
    pub poll: Option<Value>,
    pub vars: Map<String, Value>,
    /// Parameters of the dynamic includes the task came through (see
    /// `Layers::params`).
    pub params: Map<String, Value>,
}

impl Task {
    /// The name `TASK [..]` shows: the task's name, else the action as written.
    pub fn display_name(&self) -> String {
        let base = match (&self.name, &self.action) {
            (Some(name), _) => name.as_str(),
            (None, Action::Module { written_as, .. }) => written_as.as_str(),
            (None, Action::Meta(_)) => "meta",
        };
        self.display_name_as(base)
    }

    /// [`Task::display_name`] for a name already templated.
    pub fn display_name_as(&self, base: &str) -> String {
        match &self.role {
            Some(role) => format!("{} : {base}", role.name),
            None => base.to_string(),
        }
    }
}

impl Action {
    /// The action as written (`with_first_found` picks its directory from it).
    pub fn written_as(&self) -> &str {
        match self {
            Action::Module { written_as, .. } => written_as,
            Action::Meta(_) => "meta",
        }
    }

    /// The module's name for events and `ansible_failed_task`: the native
    /// module's, a fallback module's FQCN, or `meta`.
    pub fn module_name(&self) -> String {
        match self {
            Action::Module { python: Some(crate::fallback::Resolved::Module(m)), .. } => m.fqcn.clone(),
            Action::Module { python: Some(_), written_as, .. } => written_as.clone(),
            Action::Module { spec, .. } => spec.name.to_string(),
            Action::Meta(_) => "meta".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    Module {
        spec: &'static ModuleSpec,
        /// The module name as the user wrote it (`copy`, `ansible.builtin.copy`).
        written_as: String,
        /// Canonical argument names → values, still to be templated per host.
        args: Map<String, Value>,
        /// Not native ([`stockman_modules::spec::FALLBACK`]): the Ansible
        /// module found on the controller, or why it cannot run (a task in a
        /// branch that may not run loads, and fails only where it runs).
        python: Option<crate::fallback::Resolved>,
        /// The module is named by a template (`action: "{{ ... }}"`):
        /// resolved per host when the task runs.
        deferred: Option<Box<tasks::DeferredAction>>,
    },
    Meta(Meta),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    FlushHandlers,
    Noop,
    EndPlay,
    EndHost,
    EndBatch,
    ClearHostErrors,
    RefreshInventory,
    ResetConnection,
}
