//! The raw inventory as sources declare it: groups with their own variables,
//! children and hosts; hosts with their own variables. Merging happens later
//! (see `merge`), so that playbook-adjacent variables can be layered in.
//!
//! Mirrors the rules of Ansible's `InventoryData`: `all` and `ungrouped`
//! always exist, groups without a parent become children of `all`, hosts in
//! no other group are in `ungrouped`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

pub(crate) type GroupId = usize;
pub(crate) type HostId = usize;

pub(crate) const ALL: GroupId = 0;
pub(crate) const UNGROUPED: GroupId = 1;

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub name: String,
    pub vars: Map<String, Value>,
    /// `ansible_group_priority`: orders groups of the same depth (higher wins).
    pub priority: i64,
    pub children: Vec<GroupId>,
    pub parents: Vec<GroupId>,
    /// Hosts listed directly in this group, in the order they were added.
    pub hosts: Vec<HostId>,
}

#[derive(Debug, Clone)]
pub(crate) struct HostEntry {
    pub name: String,
    pub vars: Map<String, Value>,
    /// Groups that list this host directly.
    pub groups: Vec<GroupId>,
}

/// Where hosts being added come from, for `inventory_file` / `inventory_dir`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    pub file: Value,
    pub dir: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub groups: Vec<Group>,
    pub hosts: Vec<HostEntry>,
    group_index: HashMap<String, GroupId>,
    host_index: HashMap<String, HostId>,
    pub origin: Origin,
}

impl Default for Model {
    fn default() -> Self {
        let mut model = Model {
            groups: Vec::new(),
            hosts: Vec::new(),
            group_index: HashMap::new(),
            host_index: HashMap::new(),
            origin: Origin::default(),
        };
        model.add_group("all");
        model.add_group("ungrouped");
        model.groups[ALL].children.push(UNGROUPED);
        model.groups[UNGROUPED].parents.push(ALL);
        model
    }
}

impl Model {
    pub fn group_id(&self, name: &str) -> Option<GroupId> {
        self.group_index.get(name).copied()
    }

    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.host_index.get(name).copied()
    }

    /// The group called `name`, created if new.
    pub fn add_group(&mut self, name: &str) -> GroupId {
        if let Some(id) = self.group_id(name) {
            return id;
        }
        self.groups.push(Group {
            name: name.to_string(),
            vars: Map::new(),
            priority: 1,
            children: Vec::new(),
            parents: Vec::new(),
            hosts: Vec::new(),
        });
        self.group_index.insert(name.to_string(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Adds a host (if new) and puts it in `group`.
    ///
    /// Like Ansible, the port only applies when the host is first seen, and
    /// a new host gets `inventory_file` / `inventory_dir` from its source.
    pub fn add_host(&mut self, name: &str, group: Option<GroupId>, port: Option<u16>) -> HostId {
        let id = match self.host_id(name) {
            Some(id) => id,
            None => self.new_host(name, port),
        };
        if let Some(group) = group {
            if !self.groups[group].hosts.contains(&id) {
                self.groups[group].hosts.push(id);
                self.hosts[id].groups.push(group);
            }
        }
        id
    }

    fn new_host(&mut self, name: &str, port: Option<u16>) -> HostId {
        let mut vars = Map::new();
        if let Some(port) = port {
            vars.insert("ansible_port".into(), port.into());
        }
        vars.insert("inventory_file".into(), self.origin.file.clone());
        vars.insert("inventory_dir".into(), self.origin.dir.clone());
        self.hosts.push(HostEntry { name: name.to_string(), vars, groups: Vec::new() });
        self.host_index.insert(name.to_string(), self.hosts.len() - 1);
        self.hosts.len() - 1
    }

    /// Sets a group variable; `ansible_group_priority` sets the priority instead.
    pub fn set_group_var(&mut self, group: GroupId, key: &str, value: Value) -> Result<(), String> {
        if key == "ansible_group_priority" {
            self.groups[group].priority = priority_value(&value).ok_or_else(|| {
                format!("ansible_group_priority must be an integer, got {value}")
            })?;
        } else {
            self.groups[group].vars.insert(key.to_string(), value);
        }
        Ok(())
    }

    pub fn set_host_var(&mut self, host: HostId, key: &str, value: Value) {
        self.hosts[host].vars.insert(key.to_string(), value);
    }

    /// Makes `child` a child group of `parent`, refusing cycles.
    pub fn add_child(&mut self, parent: GroupId, child: GroupId) -> Result<(), String> {
        let (p, c) = (&self.groups[parent].name, &self.groups[child].name);
        if parent == child {
            return Err(format!("group `{p}` cannot be a child of itself"));
        }
        if self.ancestors(parent).contains(&child) {
            return Err(format!("adding group `{c}` as a child of `{p}` creates a dependency loop"));
        }
        if !self.groups[parent].children.contains(&child) {
            self.groups[parent].children.push(child);
            self.groups[child].parents.push(parent);
        }
        Ok(())
    }

    /// Every group above `group` (not itself).
    pub fn ancestors(&self, group: GroupId) -> HashSet<GroupId> {
        let mut seen = HashSet::new();
        let mut todo = self.groups[group].parents.clone();
        while let Some(g) = todo.pop() {
            if seen.insert(g) {
                todo.extend(&self.groups[g].parents);
            }
        }
        seen
    }

    /// Applies Ansible's invariants after a source is read: parentless groups
    /// go under `all`; `ungrouped` holds exactly the hosts in no other group.
    pub fn reconcile(&mut self) {
        for g in 0..self.groups.len() {
            if g != ALL && self.groups[g].parents.is_empty() {
                self.groups[ALL].children.push(g);
                self.groups[g].parents.push(ALL);
            }
        }
        for h in 0..self.hosts.len() {
            let grouped = self.hosts[h].groups.iter().any(|&g| g != ALL && g != UNGROUPED);
            let in_ungrouped = self.hosts[h].groups.contains(&UNGROUPED);
            if grouped && in_ungrouped {
                self.hosts[h].groups.retain(|&g| g != UNGROUPED);
                self.groups[UNGROUPED].hosts.retain(|&x| x != h);
            } else if !grouped && !in_ungrouped {
                self.add_host_to(h, UNGROUPED);
            }
        }
    }

    fn add_host_to(&mut self, host: HostId, group: GroupId) {
        self.groups[group].hosts.push(host);
        self.hosts[host].groups.push(group);
    }

    /// Depth of every group: the longest chain of parents up to `all` (0).
    pub fn depths(&self) -> Vec<usize> {
        let mut depth = vec![None; self.groups.len()];
        (0..self.groups.len()).map(|g| self.depth_of(g, &mut depth)).collect()
    }

    fn depth_of(&self, group: GroupId, memo: &mut Vec<Option<usize>>) -> usize {
        if let Some(d) = memo[group] {
            return d;
        }
        let parents = self.groups[group].parents.clone();
        let d = parents.into_iter().map(|p| self.depth_of(p, memo) + 1).max().unwrap_or(0);
        memo[group] = Some(d);
        d
    }

    /// Hosts of a group and its descendants, in Ansible's order: the group's
    /// own hosts, then its children's, level by level; each host once.
    pub fn group_hosts(&self, group: GroupId) -> Vec<HostId> {
        let mut order = vec![group];
        let mut seen: HashSet<GroupId> = HashSet::from([group]);
        let mut level = vec![group];
        while !level.is_empty() {
            let mut next = Vec::new();
            for g in level {
                for &child in &self.groups[g].children {
                    if seen.insert(child) {
                        order.push(child);
                        next.push(child);
                    }
                }
            }
            level = next;
        }
        let mut hosts = Vec::new();
        let mut seen_hosts = HashSet::new();
        for g in order {
            for &h in &self.groups[g].hosts {
                if seen_hosts.insert(h) {
                    hosts.push(h);
                }
            }
        }
        hosts
    }

    /// The groups a host is in, directly or through children, `all` included.
    pub fn host_groups(&self, host: HostId) -> HashSet<GroupId> {
        let mut groups = HashSet::new();
        for &g in &self.hosts[host].groups {
            groups.insert(g);
            groups.extend(self.ancestors(g));
        }
        groups
    }
}

fn priority_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ungrouped_holds_only_hosts_without_groups() {
        let mut m = Model::default();
        m.add_host("a", Some(UNGROUPED), None);
        m.add_host("b", Some(UNGROUPED), None);
        let web = m.add_group("web");
        m.add_host("b", Some(web), None);
        m.add_host("c", Some(ALL), None);
        m.reconcile();
        let names = |ids: Vec<HostId>| ids.into_iter().map(|h| m.hosts[h].name.clone()).collect::<Vec<_>>();
        assert_eq!(names(m.group_hosts(UNGROUPED)), ["a", "c"]);
        assert_eq!(names(m.group_hosts(web)), ["b"]);
        assert!(m.groups[ALL].children.contains(&web));
    }

    #[test]
    fn depth_is_the_longest_parent_chain() {
        let mut m = Model::default();
        let (a, b, c) = (m.add_group("a"), m.add_group("b"), m.add_group("c"));
        m.add_child(a, b).unwrap();
        m.add_child(b, c).unwrap();
        m.add_child(ALL, c).unwrap();
        m.reconcile();
        let d = m.depths();
        assert_eq!((d[ALL], d[a], d[b], d[c]), (0, 1, 2, 3));
    }

    #[test]
    fn cycles_are_refused() {
        let mut m = Model::default();
        let (a, b) = (m.add_group("a"), m.add_group("b"));
        m.add_child(a, b).unwrap();
        assert!(m.add_child(b, a).unwrap_err().contains("dependency loop"));
        assert!(m.add_child(a, a).unwrap_err().contains("itself"));
    }

    #[test]
    fn port_applies_when_the_host_is_first_seen() {
        let mut m = Model::default();
        let h = m.add_host("h", None, Some(2222));
        m.add_host("h", None, Some(22));
        assert_eq!(m.hosts[h].vars["ansible_port"], 2222);
    }

    #[test]
    fn group_priority_is_not_a_variable() {
        let mut m = Model::default();
        let g = m.add_group("g");
        m.set_group_var(g, "ansible_group_priority", "10".into()).unwrap();
        assert_eq!(m.groups[g].priority, 10);
        assert!(m.groups[g].vars.is_empty());
        assert!(m.set_group_var(g, "ansible_group_priority", "high".into()).is_err());
    }
}
