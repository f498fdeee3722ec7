//! One play: pick the hosts, gather facts, run the sections in order and flush
//! handlers after each of them.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::host::{HostState, OMIT};
use super::hostvars::HostVarsTable;
use super::task::FactKind;
use super::Executor;
use crate::inventory::Host;
use crate::playbook::{Action, BatchSize, Block, Handler, HostOrder, Meta, Play, Playbook, Step, Strategy, Task};
use crate::report::{Event, TaskKind};

/// The hosts of a play (of one `serial` batch) and what they need to know about each other.
pub(super) struct PlayRun<'p> {
    pub playbook: &'p Playbook,
    pub play: &'p Play,
    pub hosts: Vec<HostState>,
    /// The play's `hostvars`, shared by its batches.
    pub hostvars: Arc<HostVarsTable>,
    /// `meta: end_play`, or `max_fail_percentage` exceeded: no further batch runs.
    pub ended: bool,
    /// `ansible_play_hosts` at the start of the batch, and the hosts counted
    /// out of it and of `ansible_play_batch` when last published.
    pub play_hosts: Vec<String>,
    pub removed: Vec<usize>,
    /// Running handlers: tasks an `include_tasks` handler brings in are
    /// handlers too (`RUNNING HANDLER`).
    pub in_handlers: bool,
    /// Inventory hosts outside the batch that `delegate_facts` gave facts to:
    /// their variables, shown in `hostvars` and kept for later plays.
    pub outsiders: Vec<HostState>,
}

impl PlayRun<'_> {
    /// How a task's banner reads: `TASK` or, among handlers, `RUNNING HANDLER`.
    pub fn task_kind(&self) -> TaskKind {
        if self.in_handlers {
            TaskKind::Handler
        } else {
            TaskKind::Task
        }
    }

    pub fn active(&self) -> Vec<usize> {
        (0..self.hosts.len()).filter(|&i| self.hosts[i].active()).collect()
    }

    /// `max_fail_percentage`: more than that share of this batch failed
    /// (Ansible's "greater than": 50 with 1 of 2 failed goes on).
    pub fn too_many_failed(&self) -> bool {
        let Some(pct) = self.play.max_fail_percentage else { return false };
        let failed = self.hosts.iter().filter(|h| h.failed).count();
        !self.hosts.is_empty() && failed as f64 / self.hosts.len() as f64 > pct / 100.0
    }

    /// Publishes `ansible_play_hosts`/`ansible_play_batch` without the hosts
    /// failed or unreachable so far, when that set changed (a rescue brings a
    /// host back, as in Ansible).
    pub fn sync_play_hosts(&mut self) {
        if self.play_hosts.is_empty() {
            return; // a free-strategy host's own run
        }
        let removed: Vec<usize> = (0..self.hosts.len()).filter(|&h| self.hosts[h].failed || self.hosts[h].unreachable).collect();
        if removed != self.removed {
            self.removed = removed;
            self.publish_play_hosts();
        }
    }

    fn publish_play_hosts(&self) {
        let out: std::collections::HashSet<&str> = self.removed.iter().map(|&h| self.hosts[h].name.as_str()).collect();
        let keep = |names: &mut dyn Iterator<Item = &String>| minijinja::Value::from(names.filter(|n| !out.contains(n.as_str())).cloned().collect::<Vec<_>>());
        let play = keep(&mut self.play_hosts.iter());
        let batch = keep(&mut self.hosts.iter().map(|h| &h.name));
        self.hostvars.set_play_hosts(super::hostvars::PlayHostLists { play, batch });
    }
}

impl Executor<'_> {
    /// Runs a play: its hosts in `serial` batches, each batch the whole play
    /// (facts, sections, handlers), as ansible-playbook does. False when the
    /// whole run must end: every host of a batch failed or became unreachable
    /// in it, or `max_fail_percentage` was exceeded (Ansible's break_play).
    pub(super) async fn run_play(&mut self, playbook: &Playbook, play: &Play) -> bool {
        let answers = self.answer_prompts(play);
        let heading = match PlayHeading::of(&self.templar, play, &answers, &self.settings.extra_vars) {
            Ok(heading) => heading,
            Err(message) => {
                self.emit(Event::PlayError { message, span: play.span.clone() });
                self.aborted = Some(4);
                return false;
            }
        };
        if let Some(warning) = crate::template::name_errors_warning(&heading.name_errors, &play.span) {
            self.emit(Event::Warning(warning));
        }
        let (pattern, name) = (heading.pattern, heading.name);
        let hosts = self.play_hosts(play, &pattern);
        if hosts.iter().all(|h| self.dead_hosts.contains(&h.name)) {
            self.emit(Event::PlayStart { name, span: Some(play.span.clone()) });
            self.emit(Event::NoHostsMatched);
            return true;
        }
        let serial = match self.play_serial(play, &answers) {
            Ok(serial) => serial,
            Err(message) => {
                self.refuse_play(play, &hosts, &message);
                return false;
            }
        };
        let all: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
        let table = Arc::new(HostVarsTable::new(self.inventory.clone(), self.extra_vars.clone()));
        for batch in batches(&serial, hosts) {
            self.emit(Event::PlayStart { name: name.clone(), span: Some(play.span.clone()) });
            // Hosts failed in earlier plays still make up batches, as in
            // Ansible; a batch of only such hosts shows just its banner.
            let size = batch.len();
            let live: Vec<Host> = batch.into_iter().filter(|h| !self.dead_hosts.contains(&h.name)).collect();
            let Some(mut run) = self.start_batch(playbook, play, &live, &all, &table, &answers, &name) else { continue };
            match play.strategy {
                Strategy::Linear => self.run_batch(&mut run).await,
                Strategy::Free => self.run_batch_free(&mut run).await,
            }
            for host in &run.hosts {
                self.facts.keep_run_vars(&host.name, host.run_vars());
            }
            let failed = run.hosts.iter().filter(|h| h.failed || h.unreachable).count();
            for host in run.hosts.iter().filter(|h| h.failed || h.unreachable) {
                self.dead_hosts.insert(host.name.clone());
            }
            if failed == size || run.too_many_failed() {
                return false;
            }
            if run.ended {
                break;
            }
        }
        true
    }

    /// `serial:`, rendered first when written as a template (with the play's
    /// vars, its `vars_prompt` answers and extra vars, as Ansible's play
    /// post-validation does).
    fn play_serial(&self, play: &Play, answers: &Map<String, Value>) -> Result<Vec<BatchSize>, String> {
        let Some(template) = &play.serial_template else { return Ok(play.serial.clone()) };
        let ctx = crate::template::Templar::context(&play_level_vars(play, answers, &self.settings.extra_vars));
        let rendered = self.templar.render_value(template, &ctx).map_err(|e| e.message)?;
        crate::playbook::batch_sizes(&rendered)
    }


    /// A play that cannot start: said, counted as failed for its hosts (the
    /// run then ends, exit code 2), as Ansible stops on a play error.
    fn refuse_play(&mut self, play: &Play, hosts: &[Host], message: &str) {
        self.emit(Event::PlayStart { name: play.display_name().to_string(), span: Some(play.span.clone()) });
        self.emit(Event::Warning(format!("play `{}` at {}: `serial`: {message}; the run stops here", play.display_name(), play.span)));
        for host in hosts {
            let result = crate::report::HostResult::new(&host.name, crate::report::Status::Failed, Map::new());
            self.stats.record(&result);
        }
    }

    /// The play's `gather_facts`, else ansible.cfg's `gathering` (smart: as implicit; hosts
    /// whose facts are cached are left out in `gather_facts`).
    fn gathers_facts(&self, play: &Play) -> bool {
        play.gather_facts.unwrap_or(self.settings.gathering != crate::config::Gathering::Explicit)
    }

    /// The play's `any_errors_fatal`, else ansible.cfg's.
    pub(super) fn any_errors_fatal(&self, play: &Play) -> bool {
        play.any_errors_fatal.unwrap_or(self.settings.any_errors_fatal)
    }

    /// The play's `force_handlers`, else --force-handlers / ansible.cfg's.
    fn force_handlers(&self, play: &Play) -> bool {
        play.force_handlers.unwrap_or(self.settings.force_handlers)
    }

    /// One batch: facts, the three sections, handlers after each.
    pub(super) async fn run_batch(&mut self, run: &mut PlayRun<'_>) {
        let play = run.play;
        if self.gathers_facts(play) {
            self.gather_facts(run).await;
        }
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            let go_on = self.run_steps(run, section, false).await;
            // ansible-core 2.19 announces it only when any_errors_fatal ended the play.
            // (A block's any_errors_fatal ends it without the announcement.)
            if self.any_errors_fatal(play) && run.active().is_empty() && run.hosts.iter().any(|h| h.failed) {
                self.emit(Event::NoMoreHosts);
            }
            if !go_on {
                if self.force_handlers(play) {
                    self.flush_handlers(run).await;
                }
                break;
            }
            self.flush_handlers(run).await;
        }
    }

    /// The play's hosts, in its `order:`, with those failed in earlier plays.
    fn play_hosts(&mut self, play: &Play, pattern: &str) -> Vec<Host> {
        let selection = match self.inventory.select(pattern, self.settings.limit.as_deref()) {
            Ok(selection) => selection,
            Err(e) => {
                self.emit(Event::Warning(e.to_string()));
                crate::inventory::Selection { hosts: Vec::new(), warnings: Vec::new() }
            }
        };
        for w in selection.warnings {
            self.emit(Event::Warning(w));
        }
        let mut hosts = selection.hosts;
        // --shard: the other shards' hosts are theirs (groups and hostvars still hold them).
        hosts.retain(|h| self.settings.runs_on(&h.name));
        order_hosts(&mut hosts, play.order);
        hosts
    }

    /// The state of a batch's hosts; None when none of them can take part.
    /// `answers`: the play's `vars_prompt` variables.
    fn start_batch<'p>(
        &mut self,
        playbook: &'p Playbook,
        play: &'p Play,
        batch: &[Host],
        all: &[String],
        table: &Arc<HostVarsTable>,
        answers: &Map<String, Value>,
        play_name: &str,
    ) -> Option<PlayRun<'p>> {
        let play_hosts: Vec<&String> = all.iter().filter(|h| !self.dead_hosts.contains(*h)).collect();
        let mut magic = self.magic_vars(playbook, batch, &play_hosts, all);
        magic.insert("ansible_play_name".into(), play_name.into());
        magic.extend(answers.clone());
        let magic = Arc::new(magic);
        let mut states = Vec::with_capacity(batch.len());
        for host in batch {
            self.stats.touch(&host.name);
            match HostState::new(host, play, self.settings, &magic, super::SharedConnection::default(), &self.templar, table.clone()) {
                Ok(mut state) => {
                    state.conn = self.connection_for(&super::connection_key(&state.spec));
                    state.resume(&self.facts);
                    states.push(state);
                }
                Err(message) => {
                    self.emit(Event::Warning(format!("host `{}` left out of the play: {message}", host.name)));
                    self.dead_hosts.insert(host.name.clone());
                }
            }
        }
        let play_hosts = play_hosts.into_iter().cloned().collect();
        let run = PlayRun { playbook, play, hosts: states, hostvars: table.clone(), ended: false, play_hosts, removed: Vec::new(), in_handlers: false, outsiders: Vec::new() };
        // Each batch starts from its own lists (the table outlives batches).
        run.publish_play_hosts();
        (!run.hosts.is_empty()).then_some(run)
    }

    /// `delegate_facts`: `facts` stored on the host `name` (of the batch or
    /// not), as that host's own.
    pub(super) fn deliver_facts(&self, run: &mut PlayRun<'_>, name: &str, facts: &Map<String, Value>, kind: FactKind) {
        let warning = match run.hosts.iter().position(|h| h.name == name) {
            Some(h) => kind.give(&mut run.hosts[h], facts),
            None => return self.facts_outside_batch(run, name, facts, kind),
        };
        if let Some(warning) = warning {
            self.emit(Event::Warning(warning));
        }
    }

    /// `delegate_facts` to `name`, an inventory host outside the batch: stored
    /// on its state as on a host of the play, and kept for later plays at once.
    /// A name outside the inventory takes nothing: Ansible keeps such facts
    /// where no `hostvars` shows them.
    fn facts_outside_batch(&self, run: &mut PlayRun<'_>, name: &str, facts: &Map<String, Value>, kind: FactKind) {
        let index = match run.outsiders.iter().position(|h| h.name == name) {
            Some(index) => index,
            None => {
                let Some(host) = self.inventory.host(name).cloned() else { return };
                match HostState::new(&host, run.play, self.settings, &Arc::default(), super::SharedConnection::default(), &self.templar, run.hostvars.clone()) {
                    Ok(mut state) => {
                        state.resume(&self.facts);
                        run.outsiders.push(state);
                        run.outsiders.len() - 1
                    }
                    Err(message) => {
                        self.emit(Event::Warning(format!("facts delegated to `{name}` are lost: {message}")));
                        return;
                    }
                }
            }
        };
        let state = &mut run.outsiders[index];
        if let Some(warning) = kind.give(state, facts) {
            self.emit(Event::Warning(warning));
        }
        self.facts.keep_run_vars(name, state.run_vars());
    }

    fn magic_vars(&self, playbook: &Playbook, batch: &[Host], play_hosts: &[&String], all: &[String]) -> Map<String, Value> {
        let names = |hosts: &mut dyn Iterator<Item = &String>| Value::Array(hosts.map(|h| Value::String(h.clone())).collect());
        let groups: Map<String, Value> = self.inventory.groups().iter().map(|(g, members)| (g.clone(), members.clone().into())).collect();
        let dir = playbook.path.parent().map(|p| p.display().to_string()).unwrap_or_default();
        let mut magic = Map::new();
        magic.insert("playbook_dir".into(), Value::String(if dir.is_empty() { ".".into() } else { dir }));
        magic.insert("groups".into(), Value::Object(groups));
        magic.insert("ansible_play_hosts".into(), names(&mut play_hosts.iter().copied()));
        magic.insert("ansible_play_hosts_all".into(), names(&mut all.iter()));
        magic.insert("ansible_play_batch".into(), names(&mut batch.iter().map(|h| &h.name)));
        magic.insert("ansible_check_mode".into(), self.settings.check.into());
        magic.insert("ansible_diff_mode".into(), self.settings.diff.into());
        magic.insert("ansible_verbosity".into(), self.settings.verbosity.into());
        magic.insert("ansible_version".into(), crate::compat::ansible_version());
        let run_tags = if self.settings.tags.is_empty() { vec!["all".to_string()] } else { self.settings.tags.clone() };
        magic.insert("ansible_run_tags".into(), run_tags.into());
        magic.insert("ansible_skip_tags".into(), self.settings.skip_tags.clone().into());
        let config_file = self.settings.config_file.as_ref().map(|p| crate::template::unfrack(p).display().to_string());
        magic.insert("ansible_config_file".into(), config_file.map_or(Value::Null, Value::from));
        magic.insert("omit".into(), OMIT.into());
        magic
    }

    /// Runs a list of steps; false when the play must stop (no host left, `end_play`).
    pub(super) async fn run_steps(&mut self, run: &mut PlayRun<'_>, steps: &[Step], rescuable: bool) -> bool {
        for step in steps {
            if run.ended || run.active().is_empty() {
                break;
            }
            run.sync_play_hosts();
            match step {
                Step::Block(block) => {
                    if !Box::pin(self.run_block(run, block, rescuable)).await {
                        return false;
                    }
                }
                Step::Include(include) => {
                    if !Box::pin(self.run_include(run, include, rescuable)).await {
                        return false;
                    }
                }
                Step::Task(task) if !self.selected_by_tags(&task.tags) => {}
                Step::Task(task) => match &task.action {
                    Action::Meta(meta) => {
                        let hosts = self.meta_hosts(run, task);
                        self.run_meta(run, *meta, &hosts).await;
                    }
                    Action::Module { .. } if !self.take_step(task) => {}
                    Action::Module { .. } => {
                        let targets = run.active();
                        self.run_task(run, task, run.task_kind(), &targets, rescuable).await;
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

    /// The active hosts for which a meta task's `when` holds (all without one).
    fn meta_hosts(&self, run: &PlayRun<'_>, task: &Task) -> Vec<usize> {
        let holds = |h: usize| {
            let host = &run.hosts[h];
            let vars = host.vars(&self.layers(run, task));
            let ctx = host.context(&vars);
            task.when.iter().all(|c| self.templar.eval_condition(c, &ctx).unwrap_or(false))
        };
        run.active().into_iter().filter(|&h| task.when.is_empty() || holds(h)).collect()
    }

    /// A meta action for `hosts` (those whose `when` held). Per-host actions
    /// apply to each of them; play-wide ones follow the first active host, as
    /// Ansible evaluates them once.
    async fn run_meta(&mut self, run: &mut PlayRun<'_>, meta: Meta, hosts: &[usize]) {
        let decided = run.active().first().is_some_and(|first| hosts.contains(first));
        match meta {
            Meta::FlushHandlers => self.flush_handlers(run).await,
            Meta::Noop => {}
            Meta::EndHost => {
                for &h in hosts {
                    run.hosts[h].ended = true;
                }
            }
            Meta::ResetConnection => self.reset_connections(run, hosts).await,
            _ if !decided => {}
            Meta::EndPlay => run.ended = true,
            // Without `serial` the batch is the play, as in Ansible.
            Meta::EndBatch => {
                for host in &mut run.hosts {
                    host.ended = true;
                }
            }
            Meta::RefreshInventory => self.refresh_inventory(run),
            // As in Ansible, failed and unreachable hosts alike are forgiven,
            // those of earlier plays too: they take part in the rest of this
            // batch and in the plays that follow.
            Meta::ClearHostErrors => {
                for host in &mut run.hosts {
                    host.failed = false;
                    host.unreachable = false;
                }
                // The play's pattern selected its hosts before: it cannot fail now.
                let selection = self.inventory.select(&run.play.hosts, self.settings.limit.as_deref());
                for host in selection.map(|s| s.hosts).unwrap_or_default() {
                    self.dead_hosts.remove(&host.name);
                }
            }
        }
    }

    /// `--tags`/`--skip-tags`, with Ansible's special tags `always`, `never`,
    /// `tagged`, `untagged` and `all`.
    pub(super) fn selected_by_tags(&self, tags: &[String]) -> bool {
        crate::playbook::tags_selected(tags, &self.tag_filter)
    }

    /// Runs notified handlers in the order they are defined, each once per
    /// host; a handler notified by a later handler runs in a further pass.
    async fn flush_handlers(&mut self, run: &mut PlayRun<'_>) {
        let play = run.play;
        for _pass in 0..=play.handlers.len() {
            let mut ran = false;
            for (index, handler) in play.handlers.iter().enumerate() {
                let force = self.force_handlers(play);
                let eligible = |h: &HostState| h.active() || (force && h.failed && !h.unreachable);
                let targets: Vec<usize> = (0..run.hosts.len()).filter(|&h| eligible(&run.hosts[h]) && run.hosts[h].notified.remove(&index)).collect();
                if !targets.is_empty() {
                    run.sync_play_hosts();
                    match handler {
                        Handler::Task(task) => self.run_task(run, task, TaskKind::Handler, &targets, false).await,
                        Handler::Include(include) => self.run_handler_include(run, include, &targets).await,
                    }
                    ran = true;
                }
            }
            if !ran {
                break;
            }
        }
    }
}

impl Executor<'_> {
    /// An `include_tasks` handler, for the notified `targets` only: the other
    /// hosts sit it out, and a failed host that `force_handlers` lets in runs
    /// it and stays failed.
    async fn run_handler_include(&mut self, run: &mut PlayRun<'_>, include: &crate::playbook::Include, targets: &[usize]) {
        let others: Vec<usize> = run.active().into_iter().filter(|h| !targets.contains(h)).collect();
        let forced: Vec<usize> = targets.iter().copied().filter(|&h| run.hosts[h].failed).collect();
        for &h in &others {
            run.hosts[h].sitting_out = true;
        }
        for &h in &forced {
            run.hosts[h].failed = false;
        }
        let outer = std::mem::replace(&mut run.in_handlers, true);
        Box::pin(self.run_include(run, include, false)).await;
        run.in_handlers = outer;
        for &h in &forced {
            run.hosts[h].failed = true;
        }
        for &h in &others {
            run.hosts[h].sitting_out = false;
        }
    }
}

/// Splits the hosts into `serial` batches: each entry is a count or a share
/// of all the play's hosts (at least one), the last entry repeated; 0 or
/// nothing means one batch of all.
fn batches(serial: &[BatchSize], mut hosts: Vec<Host>) -> Vec<Vec<Host>> {
    let total = hosts.len();
    let mut out = Vec::new();
    let mut index = 0;
    while !hosts.is_empty() {
        let size = match serial.get(index.min(serial.len().saturating_sub(1))) {
            None => 0,
            Some(BatchSize::Count(n)) => usize::try_from(*n).unwrap_or(usize::MAX),
            // Python's int(pct / 100.0 * total) or 1.
            Some(BatchSize::Percent(pct)) => ((pct / 100.0 * total as f64) as usize).max(1),
        };
        if size == 0 || size >= hosts.len() {
            out.push(std::mem::take(&mut hosts));
            break;
        }
        let rest = hosts.split_off(size);
        out.push(std::mem::replace(&mut hosts, rest));
        index += 1;
    }
    out
}

fn order_hosts(hosts: &mut [Host], order: HostOrder) {
    match order {
        HostOrder::Inventory => {}
        HostOrder::ReverseInventory => hosts.reverse(),
        HostOrder::Sorted => hosts.sort_by(|a, b| a.name.cmp(&b.name)),
        HostOrder::ReverseSorted => hosts.sort_by(|a, b| b.name.cmp(&a.name)),
        HostOrder::Shuffle => rand::seq::SliceRandom::shuffle(hosts, &mut rand::rng()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(n: usize) -> Vec<Host> {
        (1..=n).map(|i| Host { name: format!("h{i}"), vars: Map::new(), groups: Vec::new(), implicit: false }).collect()
    }

    fn sizes(serial: &[BatchSize], n: usize) -> Vec<usize> {
        batches(serial, hosts(n)).iter().map(Vec::len).collect()
    }

    #[test]
    fn batches_like_ansible() {
        use BatchSize::{Count, Percent};
        assert_eq!(sizes(&[], 5), [5]);
        assert_eq!(sizes(&[Count(2)], 5), [2, 2, 1]);
        assert_eq!(sizes(&[Count(0)], 3), [3]);
        assert_eq!(sizes(&[Percent(30.0)], 10), [3, 3, 3, 1]);
        assert_eq!(sizes(&[Percent(10.0)], 3), [1, 1, 1]);
        assert_eq!(sizes(&[Count(1), Count(2), Percent(50.0)], 8), [1, 2, 4, 1]);
    }

    #[test]
    fn orders_hosts() {
        let mut h = vec![hosts(3)[1].clone(), hosts(3)[2].clone(), hosts(3)[0].clone()];
        order_hosts(&mut h, HostOrder::ReverseSorted);
        assert_eq!(h.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["h3", "h2", "h1"]);
        order_hosts(&mut h, HostOrder::ReverseInventory);
        assert_eq!(h[0].name, "h1");
    }
}

/// What a play's own keywords are templated with before any host: its vars,
/// vars_files, vars_prompt answers and extra vars, in that precedence.
fn play_level_vars(play: &Play, answers: &Map<String, Value>, extra: &Map<String, Value>) -> Map<String, Value> {
    let mut vars = play.vars.clone();
    for layer in [&play.vars_files, answers, extra] {
        vars.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    vars
}

/// A play's pattern and banner name as Ansible's play post-validation makes
/// them, before any host: templated with the play-level variables.
pub(crate) struct PlayHeading {
    pub pattern: String,
    pub name: String,
    /// What the name's templates could not render (marked in it, warned about).
    pub name_errors: Vec<String>,
}

impl PlayHeading {
    /// Err: Ansible's error for a `hosts:` that cannot be templated.
    pub(crate) fn of(templar: &crate::template::Templar, play: &Play, answers: &Map<String, Value>, extra: &Map<String, Value>) -> Result<PlayHeading, String> {
        let is_template = |s: &str| s.contains("{{") || s.contains("{%");
        let templated = is_template(&play.hosts) || play.name.as_deref().is_some_and(is_template);
        let vars = if templated { play_level_vars(play, answers, extra) } else { Map::new() };
        let ctx = crate::template::Templar::context(&vars);
        let (pattern, unnamed) = if is_template(&play.hosts) {
            match templar.render_str(&play.hosts, &ctx) {
                Ok(Value::Array(items)) => (items.iter().map(crate::template::py::to_str).collect::<Vec<_>>().join(","), crate::template::py::repr(&Value::Array(items))),
                Ok(other) => {
                    let text = crate::template::py::to_str(&other);
                    (text.clone(), text)
                }
                Err(e) => return Err(format!("Error processing keyword 'name': {}", e.message.split(" (in `").next().unwrap_or_default())),
            }
        } else {
            (play.hosts.clone(), play.hosts.clone())
        };
        let (name, name_errors) = match play.name.as_deref() {
            Some(name) if is_template(name) => templar.render_name(name, &ctx),
            Some(name) => (name.to_string(), Vec::new()),
            None => (unnamed, Vec::new()),
        };
        Ok(PlayHeading { pattern, name, name_errors })
    }
}
