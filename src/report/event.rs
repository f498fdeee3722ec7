//! What happens during a run, as data.

use serde_json::{Map, Value};
use stockman_modules::FileDiff;

use super::Stats;
use crate::yaml::Span;

#[derive(Debug, Clone)]
pub enum Event {
    PlaybookStart { path: String },
    /// `span`: where the play is written (None when replayed from `--output json`).
    PlayStart { name: String, span: Option<Span> },
    /// A play keyword that cannot be evaluated (`hosts: "{{ undefined }}"`):
    /// ansible-playbook stops there, without a recap, exit code 4.
    PlayError { message: String, span: Span },
    /// The play's pattern matched no host.
    NoHostsMatched,
    TaskStart(TaskHeader),
    /// A host begins the current task (it got one of the `forks` slots).
    HostStart { host: String },
    /// Detail shown from a verbosity on: -vv commands, -vvv connections, -vvvv protocol.
    Detail { host: String, level: u8, text: String },
    HostResult(HostResult),
    /// A dynamic include gave these hosts a task file (or role) to run:
    /// ansible-playbook's `included: FILE for h1, h2 => (item=...)`.
    Included { file: String, hosts: Vec<String>, item: Option<String> },
    /// Every host of the play has failed or become unreachable.
    NoMoreHosts,
    Warning(String),
    /// A `[DEPRECATION WARNING]` (a module's, or its routing's).
    Deprecation(String),
    /// A line an action shows as it runs (`pause`: "Pausing for 2 seconds"), as Ansible's display does.
    Display(String),
    /// A banner line of its own (`--step`'s answered question), stars to the width.
    Banner(String),
    /// `until` did not hold yet: the task runs again.
    Retry { host: String, task: String, retries_left: u64 },
    Recap(Stats),
    /// `--shard I/N`: which shard this run is and its hosts (sent before the first play).
    Shard(crate::shard::Shard),
    /// The process is about to exit with this code (sent by [`super::Outputs::finish`]).
    Exit { code: i32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Task,
    Handler,
    GatherFacts,
}

#[derive(Debug, Clone)]
pub struct TaskHeader {
    pub name: String,
    pub kind: TaskKind,
    pub span: Option<Span>,
    /// How many hosts will report (for progress).
    pub hosts: usize,
    /// The module or action, short name (`debug`, `copy`); None for fact gathering.
    pub action: Option<String>,
    /// The task's arguments as written (`k=v, k=v`), for display_args_to_stdout;
    /// None when there are none to show (no_log, fact gathering, includes).
    pub args: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Changed,
    Skipped,
    Failed,
    Unreachable,
}

/// One host's result for one task.
#[derive(Debug, Clone)]
pub struct HostResult {
    pub host: String,
    pub status: Status,
    /// A failure that `ignore_errors` turned into "...ignoring".
    pub ignored: bool,
    /// The result as `register` sees it (changed, failed, msg, rc, stdout...).
    pub result: Map<String, Value>,
    pub diff: Vec<FileDiff>,
    /// Print the result even without -v (debug does this).
    pub verbose_always: bool,
    /// `no_log`: every output shows Ansible's censored text instead of the result.
    pub no_log: bool,
    /// For one item of a loop: the label shown as `(item=...)`.
    pub item: Option<String>,
    /// The whole of a looped task on a host: counted once, its items already shown.
    pub loop_summary: bool,
    /// The failure came from the module on the host (not from an action, `failed_when`...).
    pub module_failed: bool,
    /// The failure is an action's raised error: the `[ERROR]` line is its message alone.
    pub raised: bool,
    /// How long the task took on this host (None where nothing was timed).
    pub duration: Option<std::time::Duration>,
    /// `delegate_to`: where the action ran, shown as `[host -> delegate]`.
    pub delegated_to: Option<String>,
    /// `delegate_facts`: the hosts that take the facts this result returns
    /// instead of the task's host, one per loop item (None: the task's host);
    /// empty when no item delegated its facts.
    pub facts_to: Vec<Option<String>>,
    /// The host's connection is gone (`reboot`, or a `wait_for_connection`
    /// that got past a lost one): the next task opens a new one.
    pub reconnect: bool,
    /// A failure the executor made as a bare `failed`/`msg` result, as Ansible
    /// does for a loop label that cannot be rendered: no `[ERROR]` block and no
    /// traceback placeholder.
    pub bare_failure: bool,
}

impl HostResult {
    pub fn new(host: &str, status: Status, result: Map<String, Value>) -> Self {
        HostResult {
            host: host.to_string(),
            status,
            ignored: false,
            result,
            diff: Vec::new(),
            verbose_always: false,
            no_log: false,
            item: None,
            loop_summary: false,
            module_failed: false,
            raised: false,
            duration: None,
            delegated_to: None,
            facts_to: Vec::new(),
            reconnect: false,
            bare_failure: false,
        }
    }
}

/// What Ansible prints instead of a `no_log` result.
pub const CENSORED: &str = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// What Ansible shows for a loop item's label under `no_log`.
pub const CENSORED_ITEM: &str = "(censored due to no_log)";

impl HostResult {
    /// A loop item's label as outputs may show it: censored under `no_log`
    /// (the item is often the secret), as Ansible does.
    pub fn shown_item(&self) -> Option<&str> {
        self.item.as_deref().map(|label| if self.no_log { CENSORED_ITEM } else { label })
    }

    /// The result as outputs may show it: censored under `no_log`, keeping
    /// only whether it changed (and failed/skipped), as Ansible does.
    pub fn visible(&self) -> std::borrow::Cow<'_, Map<String, Value>> {
        if !self.no_log {
            return std::borrow::Cow::Borrowed(&self.result);
        }
        let mut shown = Map::new();
        shown.insert("censored".into(), CENSORED.into());
        for key in ["changed", "skipped", "unreachable"] {
            if let Some(v) = self.result.get(key) {
                shown.insert(key.into(), v.clone());
            }
        }
        std::borrow::Cow::Owned(shown)
    }
}
