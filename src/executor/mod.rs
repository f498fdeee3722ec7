//! Runs plays: hosts in parallel up to `forks`, tasks in order (Ansible's
//! linear strategy, or each host on its own with `strategy: free`), handlers
//! at flush points, results as events.
//!
//! The executor never prints: it emits [`crate::report::Event`]s. Per-host
//! state (variables, registered results, notified handlers, the connection)
//! lives here, never on the parsed playbook.
//!
//! Variables are layers held once per host and per play and looked up
//! through by name per task; their precedence is stated once, in
//! [`scope::Level`].

mod actions;
mod arg_spec;
mod async_job;
mod controller;
mod environment;
mod fact_cache;
mod facts;
mod free;
mod host;
mod hostvars;
mod include;
mod item;
mod loops;
mod pause;
pub mod prompt;
mod play;
mod reach;
mod reboot;
mod runtime;
mod scope;
mod step;
mod task;
mod trace;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::config::Settings;
use crate::inventory::Inventory;
use crate::playbook::Playbook;
use crate::report::{Event, Reporter, Stats};
use crate::template::Templar;
use crate::transport::{Connection, IdentitySources};

pub use host::HostState;
pub(crate) use play::PlayHeading;

/// A host's connection, opened on first use and shared by all later tasks and plays.
type SharedConnection = Arc<tokio::sync::OnceCell<Connection>>;

pub struct Executor<'a> {
    settings: &'a Settings,
    /// The inventory with the current playbook's group_vars/ and host_vars/ layered in
    /// (shared with `hostvars`; replaced, never changed in place, as plays add hosts).
    inventory: Arc<Inventory>,
    /// `-e` variables, shared by every host's `hostvars`.
    extra_vars: Arc<serde_json::Map<String, serde_json::Value>>,
    base_inventory: &'a Inventory,
    reporter: &'a dyn Reporter,
    templar: Templar,
    /// ssh-agent, default key files, whether a passphrase can be asked: read once per run.
    identities: IdentitySources,
    /// One connection per host name, shared by the host's own tasks and by
    /// tasks delegated to it; behind a lock because delegation adds to it mid-task.
    connections: std::sync::Mutex<HashMap<String, SharedConnection>>,
    /// Hosts that failed or became unreachable: later plays leave them out, as Ansible does.
    dead_hosts: HashSet<String>,
    stats: Stats,
    /// `--tags` / `--skip-tags`, the same rule `--list-tasks` applies.
    tag_filter: crate::playbook::TagFilter,
    /// `--step` still asks before each task (until answered "continue").
    stepping: bool,
    /// Facts across plays (and runs, with jsonfile), set_fact and registered variables across plays.
    facts: Arc<fact_cache::FactCache>,
    /// A play keyword could not be evaluated: the run stopped there, without
    /// a recap, with this exit code (ansible-playbook's 4).
    aborted: Option<i32>,
}

impl<'a> Executor<'a> {
    pub fn new(settings: &'a Settings, inventory: &'a Inventory, reporter: &'a dyn Reporter) -> Self {
        Executor {
            settings,
            inventory: Arc::new(inventory.clone()),
            extra_vars: Arc::new(settings.extra_vars.clone()),
            base_inventory: inventory,
            reporter,
            templar: Templar::new(),
            identities: IdentitySources::from_env(),
            connections: std::sync::Mutex::new(HashMap::new()),
            dead_hosts: HashSet::new(),
            stats: Stats::default(),
            stepping: settings.step,
            facts: Arc::new(fact_cache::FactCache::new(&settings.fact_caching)),
            tag_filter: crate::playbook::TagFilter { only: settings.tags.clone(), skip: settings.skip_tags.clone() },
            aborted: None,
        }
    }

    /// --flush-cache: every inventory host's cached facts are dropped, as
    /// ansible-playbook does before its first play.
    fn flush_fact_cache(&mut self) {
        let failures: Vec<String> = self.base_inventory.hosts().iter().filter_map(|h| self.facts.flush(&h.name).err()).collect();
        for message in failures {
            self.emit(Event::Warning(message));
        }
    }

    /// Runs every play of every playbook, prints the recap and returns
    /// ansible-playbook's exit code.
    pub async fn run(mut self, playbooks: &[Playbook]) -> i32 {
        for warning in self.base_inventory.warnings() {
            self.emit(Event::Warning(warning.clone()));
        }
        if self.settings.flush_cache {
            self.flush_fact_cache();
        }
        for playbook in playbooks {
            self.emit(Event::PlaybookStart { path: playbook.path.display().to_string() });
            let dir = playbook.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            match self.base_inventory.with_playbook_dir(dir) {
                Ok(inventory) => self.inventory = Arc::new(inventory),
                Err(e) => {
                    self.emit(Event::Warning(format!("group_vars/host_vars beside {} not used: {e}", playbook.path.display())));
                    self.inventory = Arc::new(self.base_inventory.clone());
                }
            }
            if !self.run_plays(playbook).await {
                break;
            }
        }
        if self.aborted.is_none() {
            self.emit(Event::Recap(self.stats.clone()));
        }
        let connections = std::mem::take(&mut *self.connections.lock().unwrap_or_else(|e| e.into_inner()));
        // All at once: each close is bounded, but a thousand in a row add up.
        let closing = connections.into_values().filter_map(|conn| Arc::try_unwrap(conn).ok().and_then(|c| c.into_inner())).map(|conn| conn.close());
        futures_util::future::join_all(closing).await;
        self.aborted.unwrap_or_else(|| self.stats.exit_code())
    }

    /// The plays of one playbook; false when the whole run must end.
    async fn run_plays(&mut self, playbook: &Playbook) -> bool {
        for play in &playbook.plays {
            if !self.run_play(playbook, play).await {
                return false;
            }
        }
        true
    }

    fn emit(&self, event: Event) {
        self.reporter.event(&event);
    }

    /// The host's connection, opening it on first use.
    async fn connect<'h>(&self, host: &'h HostState) -> Result<&'h Connection, crate::transport::TransportError> {
        host.conn.get_or_try_init(|| self.open(host)).await
    }

    /// Opens a connection, reporting it at -vvv.
    async fn open(&self, host: &HostState) -> Result<Connection, crate::transport::TransportError> {
        self.open_spec(&host.name, &host.spec).await
    }

    async fn open_spec(&self, name: &str, spec: &crate::transport::ConnectSpec) -> Result<Connection, crate::transport::TransportError> {
        let user = spec.user.clone().unwrap_or_else(crate::transport::controller_user);
        let text = match spec.kind {
            crate::transport::ConnectionKind::Local => format!("ESTABLISH LOCAL CONNECTION FOR USER: {user}"),
            crate::transport::ConnectionKind::Ssh => format!("ESTABLISH SSH CONNECTION FOR USER: {user} TO {}:{}", spec.address, spec.port),
        };
        self.emit(Event::Detail { host: name.to_string(), level: 3, text });
        let conn = Connection::open_with(spec, &self.identities).await;
        if let Err(e) = &conn {
            self.emit(Event::Detail { host: name.to_string(), level: 3, text: format!("connection failed: {e}") });
        }
        conn
    }

    /// The shared connection for one way of reaching a host ([`connection_key`]).
    fn connection_for(&self, key: &str) -> SharedConnection {
        self.connections.lock().unwrap_or_else(|e| e.into_inner()).entry(key.to_string()).or_default().clone()
    }
}

/// Connections are shared per host and per way of reaching it: a later play
/// whose variables log in as another user (or to another address or port)
/// gets its own, as Ansible would connect anew.
fn connection_key(spec: &crate::transport::ConnectSpec) -> String {
    format!("{}\u{1f}{:?}\u{1f}{}\u{1f}{}\u{1f}{}", spec.name, spec.kind, spec.user.as_deref().unwrap_or_default(), spec.address, spec.port)
}
