//! One play: pick the hosts, gather facts, run the sections in order and flush
//! handlers after each of them.

use serde_json::{Map, Value};

use super::host::{HostState, OMIT};
use super::Executor;
use crate::inventory::Host;
use crate::playbook::{Action, Meta, Play, Playbook, Task};
use crate::report::{Event, TaskKind};

/// The hosts of a play and what they need to know about each other.
pub(super) struct PlayRun<'p> {
    pub playbook: &'p Playbook,
    pub play: &'p Play,
    pub hosts: Vec<HostState>,
}

impl PlayRun<'_> {
    pub fn active(&self) -> Vec<usize> {
        (0..self.hosts.len()).filter(|&i| self.hosts[i].active()).collect()
    }
}

impl Executor<'_> {
    pub(super) async fn run_play(&mut self, playbook: &Playbook, play: &Play) {
        self.emit(Event::PlayStart { name: play.display_name().to_string() });
        let Some(mut run) = self.start_play(playbook, play) else { return };
        if play.gather_facts {
            self.gather_facts(&mut run).await;
        }
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            if !self.run_section(&mut run, section).await {
                break;
            }
            self.flush_handlers(&mut run).await;
        }
        for host in &run.hosts {
            if !host.active() {
                self.dead_hosts.insert(host.name.clone());
            }
        }
    }

    /// Resolves the play's hosts and their state; None when there are none.
    fn start_play<'p>(&mut self, playbook: &'p Playbook, play: &'p Play) -> Option<PlayRun<'p>> {
        let selection = match self.inventory.select(&play.hosts, self.settings.limit.as_deref()) {
            Ok(selection) => selection,
            Err(e) => {
                self.emit(Event::Warning(e.to_string()));
                crate::inventory::Selection { hosts: Vec::new(), warnings: Vec::new() }
            }
        };
        for w in selection.warnings {
            self.emit(Event::Warning(w));
        }
        let hosts: Vec<Host> = selection.hosts.into_iter().filter(|h| !self.dead_hosts.contains(&h.name)).collect();
        if hosts.is_empty() {
            self.emit(Event::NoHostsMatched);
            return None;
        }
        let magic = self.magic_vars(playbook, &hosts);
        let mut states = Vec::with_capacity(hosts.len());
        for host in &hosts {
            self.stats.touch(&host.name);
            let conn = self.connection_for(&host.name);
            match HostState::new(host, play, self.settings, &magic, conn, &self.templar) {
                Ok(state) => states.push(state),
                Err(message) => {
                    self.emit(Event::Warning(format!("host `{}` left out of the play: {message}", host.name)));
                    self.dead_hosts.insert(host.name.clone());
                }
            }
        }
        Some(PlayRun { playbook, play, hosts: states })
    }

    fn magic_vars(&self, playbook: &Playbook, hosts: &[Host]) -> Map<String, Value> {
        let names: Vec<Value> = hosts.iter().map(|h| Value::String(h.name.clone())).collect();
        let groups: Map<String, Value> = self.inventory.groups().iter().map(|(g, members)| (g.clone(), members.clone().into())).collect();
        let dir = playbook.path.parent().map(|p| p.display().to_string()).unwrap_or_default();
        let mut magic = Map::new();
        magic.insert("playbook_dir".into(), Value::String(if dir.is_empty() { ".".into() } else { dir }));
        magic.insert("groups".into(), Value::Object(groups));
        magic.insert("ansible_play_hosts".into(), Value::Array(names.clone()));
        magic.insert("ansible_play_hosts_all".into(), Value::Array(names.clone()));
        magic.insert("ansible_play_batch".into(), Value::Array(names));
        magic.insert("ansible_check_mode".into(), self.settings.check.into());
        magic.insert("ansible_diff_mode".into(), self.settings.diff.into());
        magic.insert("ansible_verbosity".into(), self.settings.verbosity.into());
        magic.insert("omit".into(), OMIT.into());
        magic
    }

    /// Runs a list of tasks; false when no host is left to run anything on.
    async fn run_section(&mut self, run: &mut PlayRun<'_>, tasks: &[Task]) -> bool {
        for task in tasks {
            if run.active().is_empty() {
                self.emit(Event::NoMoreHosts);
                return false;
            }
            match &task.action {
                Action::Meta(Meta::FlushHandlers) => self.flush_handlers(run).await,
                Action::Meta(Meta::Noop) => {}
                Action::Module { .. } => {
                    let targets = run.active();
                    self.run_task(run, task, TaskKind::Task, &targets).await;
                }
            }
        }
        if run.active().is_empty() {
            self.emit(Event::NoMoreHosts);
            return false;
        }
        true
    }

    /// Runs notified handlers in the order they are defined, each once per
    /// host; a handler notified by a later handler runs in a further pass.
    async fn flush_handlers(&mut self, run: &mut PlayRun<'_>) {
        let play = run.play;
        for _pass in 0..=play.handlers.len() {
            let mut ran = false;
            for (index, handler) in play.handlers.iter().enumerate() {
                let targets: Vec<usize> = run.active().into_iter().filter(|&h| run.hosts[h].notified.remove(&index)).collect();
                if !targets.is_empty() {
                    self.run_task(run, handler, TaskKind::Handler, &targets).await;
                    ran = true;
                }
            }
            if !ran {
                break;
            }
        }
    }
}
