//! One play: pick the hosts, gather facts, run the sections in order and flush
//! handlers after each of them.

use serde_json::{Map, Value};

use super::host::{HostState, OMIT};
use super::Executor;
use crate::inventory::Host;
use crate::playbook::{Action, Block, Meta, Play, Playbook, Step};
use crate::report::{Event, TaskKind};

/// The hosts of a play and what they need to know about each other.
pub(super) struct PlayRun<'p> {
    pub playbook: &'p Playbook,
    pub play: &'p Play,
    pub hosts: Vec<HostState>,
    /// `meta: end_play` was reached.
    pub ended: bool,
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
            let go_on = self.run_steps(&mut run, section, false).await;
            // ansible-core 2.19 announces it only when any_errors_fatal ended the play.
            if play.any_errors_fatal && run.active().is_empty() && run.hosts.iter().any(|h| h.failed) {
                self.emit(Event::NoMoreHosts);
            }
            if !go_on {
                if play.force_handlers {
                    self.flush_handlers(&mut run).await;
                }
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
        let magic = std::sync::Arc::new(self.magic_vars(playbook, &hosts));
        let mut states = Vec::with_capacity(hosts.len());
        for host in &hosts {
            self.stats.touch(&host.name);
            let conn = self.connection_for(&host.name);
            match HostState::with_shared_magic(host, play, self.settings, &magic, conn, &self.templar) {
                Ok(state) => states.push(state),
                Err(message) => {
                    self.emit(Event::Warning(format!("host `{}` left out of the play: {message}", host.name)));
                    self.dead_hosts.insert(host.name.clone());
                }
            }
        }
        Some(PlayRun { playbook, play, hosts: states, ended: false })
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

    /// Runs a list of steps; false when the play must stop (no host left, `end_play`).
    async fn run_steps(&mut self, run: &mut PlayRun<'_>, steps: &[Step], rescuable: bool) -> bool {
        for step in steps {
            if run.ended || run.active().is_empty() {
                break;
            }
            match step {
                Step::Block(block) => {
                    if !Box::pin(self.run_block(run, block, rescuable)).await {
                        return false;
                    }
                }
                Step::Task(task) if !self.selected_by_tags(&task.tags) => {}
                Step::Task(task) => match &task.action {
                    Action::Meta(meta) => self.run_meta(run, *meta).await,
                    Action::Module { .. } => {
                        let targets = run.active();
                        self.run_task(run, task, TaskKind::Task, &targets, rescuable).await;
                    }
                },
            }
        }
        !run.ended && !run.active().is_empty()
    }

    /// `block`, then `rescue` for the hosts that failed in it (their failure
    /// counts as rescued), then `always` for every host that entered.
    async fn run_block(&mut self, run: &mut PlayRun<'_>, block: &Block, rescuable: bool) -> bool {
        let entering = run.active();
        let has_rescue = !block.rescue.is_empty();
        self.run_steps(run, &block.block, rescuable || has_rescue).await;
        let failed: Vec<usize> = entering.iter().copied().filter(|&h| run.hosts[h].failed).collect();
        if has_rescue && !failed.is_empty() {
            let others: Vec<usize> = entering.iter().copied().filter(|h| !failed.contains(h) && run.hosts[*h].active()).collect();
            for &h in &failed {
                run.hosts[h].failed = false;
            }
            for &h in &others {
                run.hosts[h].sitting_out = true;
            }
            self.run_steps(run, &block.rescue, rescuable).await;
            for &h in &others {
                run.hosts[h].sitting_out = false;
            }
        }
        if !block.always.is_empty() {
            let still_failed: Vec<usize> = entering.iter().copied().filter(|&h| run.hosts[h].failed).collect();
            for &h in &still_failed {
                run.hosts[h].failed = false;
            }
            self.run_steps(run, &block.always, rescuable).await;
            for &h in &still_failed {
                run.hosts[h].failed = true;
            }
        }
        !run.ended && !run.active().is_empty()
    }

    async fn run_meta(&mut self, run: &mut PlayRun<'_>, meta: Meta) {
        match meta {
            Meta::FlushHandlers => self.flush_handlers(run).await,
            Meta::Noop => {}
            Meta::EndPlay => run.ended = true,
            Meta::EndHost => {
                for h in run.active() {
                    run.hosts[h].ended = true;
                }
            }
            Meta::ClearHostErrors => {
                for host in run.hosts.iter_mut().filter(|h| h.failed) {
                    host.failed = false;
                }
            }
        }
    }

    /// `--tags`/`--skip-tags`, with Ansible's special tags `always`, `never`,
    /// `tagged`, `untagged` and `all`.
    fn selected_by_tags(&self, tags: &[String]) -> bool {
        let has = |t: &str| tags.iter().any(|x| x == t);
        let skip = &self.settings.skip_tags;
        if skip.iter().any(|s| has(s) || (s == "tagged" && !tags.is_empty()) || (s == "untagged" && tags.is_empty())) {
            return false;
        }
        let wanted = &self.settings.tags;
        if has("always") {
            return true;
        }
        if wanted.is_empty() || wanted.iter().any(|w| w == "all") {
            return !has("never");
        }
        wanted.iter().any(|w| has(w) || (w == "tagged" && !tags.is_empty()) || (w == "untagged" && tags.is_empty()))
    }

    /// Runs notified handlers in the order they are defined, each once per
    /// host; a handler notified by a later handler runs in a further pass.
    async fn flush_handlers(&mut self, run: &mut PlayRun<'_>) {
        let play = run.play;
        for _pass in 0..=play.handlers.len() {
            let mut ran = false;
            for (index, handler) in play.handlers.iter().enumerate() {
                let force = play.force_handlers;
                let eligible = |h: &HostState| h.active() || (force && h.failed && !h.unreachable);
                let targets: Vec<usize> = (0..run.hosts.len()).filter(|&h| eligible(&run.hosts[h]) && run.hosts[h].notified.remove(&index)).collect();
                if !targets.is_empty() {
                    self.run_task(run, handler, TaskKind::Handler, &targets, false).await;
                    ran = true;
                }
            }
            if !ran {
                break;
            }
        }
    }
}
