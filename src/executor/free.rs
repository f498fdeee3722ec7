//! `strategy: free`: every host runs through the play (facts, sections,
//! handlers at their flush points) on its own, never waiting for the others
//! at a task.
//!
//! Each host gets a child [`Executor`] running the linear machinery on a
//! one-host batch; the children run concurrently, at most `forks` of them at
//! a time (a slot per host for its whole run, not per task as in Ansible).
//! Their counters, connections and inventory changes are folded back into
//! the parent afterwards. Output follows Ansible's free strategy: a task's
//! banner is printed when a result arrives for a task other than the one
//! whose banner was printed last ([`BannerOnResult`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};

use super::play::PlayRun;
use crate::playbook::Step;
use super::Executor;
use crate::report::{Event, Reporter, TaskHeader};
use crate::template::Templar;

/// Which task's banner was printed last, shared by all hosts of the play.
#[derive(Default)]
struct LastBanner(Mutex<Option<BannerId>>);

/// A task as a banner names it: kind, name and where it was written.
#[derive(Debug, Clone, PartialEq)]
struct BannerId {
    name: String,
    kind: crate::report::TaskKind,
    span: Option<String>,
}

impl BannerId {
    fn of(header: &TaskHeader) -> Self {
        BannerId { name: header.name.clone(), kind: header.kind, span: header.span.as_ref().map(ToString::to_string) }
    }
}

/// One host's reporter under the free strategy: holds back the host's task
/// start and prints the banner with its first result, unless the banner of
/// that very task was the last one printed. "No more hosts" is the linear
/// strategy's notice, never sent here.
struct BannerOnResult<'a> {
    inner: &'a dyn Reporter,
    last: &'a LastBanner,
    pending: Mutex<Option<TaskHeader>>,
}

impl Reporter for BannerOnResult<'_> {
    fn event(&self, event: &Event) {
        match event {
            Event::TaskStart(header) => *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(header.clone()),
            Event::NoMoreHosts => {}
            Event::HostResult(_) | Event::Included { .. } => {
                // One lock around the banner check and the result keeps them together.
                let mut last = self.last.0.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(header) = self.pending.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                    let id = BannerId::of(&header);
                    if last.as_ref() != Some(&id) {
                        self.inner.event(&Event::TaskStart(TaskHeader { hosts: 1, ..header }));
                        *last = Some(id);
                    }
                }
                self.inner.event(event);
            }
            other => self.inner.event(other),
        }
    }
}

impl<'a> Executor<'a> {
    /// Runs a batch with the free strategy (see the module's doc).
    pub(super) async fn run_batch_free(&mut self, run: &mut PlayRun<'_>) {
        let play = run.play;
        if [&play.pre_tasks, &play.tasks, &play.post_tasks].into_iter().any(|steps| has_run_once(steps)) {
            self.emit(Event::Warning("Using run_once with the free strategy is not currently supported. This task will still be executed for every host in the inventory list.".into()));
        }
        if self.any_errors_fatal(play) {
            // Ansible's words; each host's failure then stops only that host.
            self.emit(Event::Warning("Using any_errors_fatal with the free strategy is not supported, as tasks are executed independently on each host".into()));
        }
        let last = LastBanner::default();
        let hosts = std::mem::take(&mut run.hosts);
        let reporters: Vec<BannerOnResult<'_>> = hosts.iter().map(|_| BannerOnResult { inner: self.reporter, last: &last, pending: Mutex::new(None) }).collect();
        let (playbook, play, hostvars) = (run.playbook, run.play, &run.hostvars);
        let this = &*self;
        // Children are made as slots free up, so only `forks` of them (each
        // with its own template environment) exist at a time.
        let mut finished: Vec<(usize, PlayRun<'_>, Leftovers)> = stream::iter(hosts.into_iter().zip(&reporters).enumerate())
            .map(|(index, (host, reporter))| async move {
                let mut child = this.child(reporter);
                // No play_hosts: one host's run must not republish the batch's shared
                // lists (they keep every host of the batch under free).
                let mut single = PlayRun { playbook, play, hosts: vec![host], hostvars: hostvars.clone(), ended: false, play_hosts: Vec::new(), removed: Vec::new(), in_handlers: false, outsiders: Vec::new() };
                child.run_batch(&mut single).await;
                (index, single, Leftovers::of(child))
            })
            .buffer_unordered(self.settings.forks.max(1))
            .collect()
            .await;
        finished.sort_by_key(|(index, _, _)| *index);
        for (_, single, leftovers) in finished {
            self.absorb(leftovers);
            run.hosts.extend(single.hosts);
        }
    }

    /// An executor for one host's run, sharing this one's settings,
    /// inventory and connections, with its own counters.
    fn child<'c>(&self, reporter: &'c dyn Reporter) -> Executor<'c>
    where
        'a: 'c,
    {
        let connections: HashMap<_, _> = self.connections.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Executor {
            settings: self.settings,
            inventory: self.inventory.clone(),
            extra_vars: self.extra_vars.clone(),
            base_inventory: self.base_inventory,
            reporter,
            templar: Templar::new(),
            identities: self.identities.clone(),
            connections: Mutex::new(connections),
            dead_hosts: self.dead_hosts.clone(),
            stats: crate::report::Stats::default(),
            tag_filter: self.tag_filter.clone(),
            stepping: self.stepping,
            facts: Arc::clone(&self.facts),
            aborted: None,
        }
    }

    /// Folds what a child left into this executor: counters, connections, inventory changes.
    fn absorb(&mut self, child: Leftovers) {
        for (host, s) in child.stats.hosts {
            let mine = self.stats.hosts.entry(host).or_default();
            mine.ok += s.ok;
            mine.changed += s.changed;
            mine.unreachable += s.unreachable;
            mine.failed += s.failed;
            mine.skipped += s.skipped;
            mine.rescued += s.rescued;
            mine.ignored += s.ignored;
        }
        let mut mine = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        for (name, cell) in child.connections {
            // A new delegate's connection, or one `reset_connection` replaced.
            if !mine.get(&name).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                mine.insert(name, cell);
            }
        }
        drop(mine);
        // add_host/group_by in this host's run: its inventory carries them
        // (when several hosts change it, the last one's wins).
        if !Arc::ptr_eq(&child.inventory, &self.inventory) {
            self.inventory = child.inventory;
        }
    }
}

/// What a child executor leaves to fold back into its parent.
struct Leftovers {
    stats: crate::report::Stats,
    connections: HashMap<String, super::SharedConnection>,
    inventory: Arc<crate::inventory::Inventory>,
}

impl Leftovers {
    fn of(child: Executor<'_>) -> Self {
        Leftovers { stats: child.stats, connections: child.connections.into_inner().unwrap_or_else(|e| e.into_inner()), inventory: child.inventory }
    }
}

/// Whether a task in `steps` (blocks included, dynamic includes not) has `run_once`.
fn has_run_once(steps: &[Step]) -> bool {
    steps.iter().any(|step| match step {
        Step::Task(task) => task.run_once != serde_json::Value::Bool(false),
        Step::Block(block) => [&block.block, &block.rescue, &block.always].into_iter().any(|s| has_run_once(s)),
        Step::Include(_) => false,
    })
}
