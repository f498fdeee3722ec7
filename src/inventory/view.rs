//! The inventory as `ansible-inventory` shows it: groups with their own
//! hosts and children in definition order, and the variables of a group
//! (its own and `group_vars/` beside the inventory) or of a host.

use serde_json::{Map, Value};

use super::Inventory;

/// Variables Ansible sets itself and ansible-inventory leaves out (its INTERNAL_STATIC_VARS).
const INTERNAL: &[&str] = &[
    "ansible_async_path", "ansible_collection_name", "ansible_config_file", "ansible_dependent_role_names",
    "ansible_diff_mode", "ansible_facts", "ansible_forks", "ansible_inventory_sources",
    "ansible_limit", "ansible_play_batch", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_role_names",
    "ansible_playbook_python", "ansible_role_name", "ansible_role_names", "ansible_run_tags", "ansible_skip_tags",
    "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file", "inventory_hostname",
    "inventory_hostname_short", "groups", "group_names", "omit", "hostvars", "playbook_dir", "play_hosts",
    "role_names", "ungrouped",
];

/// One group: its direct hosts and child groups, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub name: String,
    pub hosts: Vec<String>,
    pub children: Vec<String>,
}

impl Inventory {
    /// A group by name with its direct hosts and children, in definition order.
    pub fn group_view(&self, name: &str) -> Option<GroupView> {
        let id = self.model.group_id(name)?;
        let group = &self.model.groups[id];
        Some(GroupView {
            name: group.name.clone(),
            hosts: group.hosts.iter().map(|&h| self.model.hosts[h].name.clone()).collect(),
            children: group.children.iter().map(|&g| self.model.groups[g].name.clone()).collect(),
        })
    }

    /// A group's variables as ansible-inventory shows them (`--graph --vars`,
    /// `--export`): its own, then `group_vars/` beside the inventory sources,
    /// and beside the playbook directory when `playbook_dir` (given explicitly).
    pub fn group_vars_view(&self, name: &str, playbook_dir: bool) -> Map<String, Value> {
        let Some(id) = self.model.group_id(name) else { return Map::new() };
        let group = &self.model.groups[id];
        let mut vars = group.vars.clone();
        for dir in self.inventory_dirs.iter().chain(self.playbook_dirs.iter().filter(|_| playbook_dir)) {
            if let Some(layer) = dir.group(name) {
                vars.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        if group.priority != 1 {
            vars.insert("ansible_group_priority".into(), Value::from(group.priority));
        }
        without_internal(vars)
    }

    /// A host's variables without the ones Ansible sets itself: all layers
    /// merged, or with `export` only the host's own and `host_vars/` (beside
    /// the playbook directory too when `playbook_dir`, given explicitly).
    pub fn host_vars_view(&self, name: &str, export: bool, playbook_dir: bool) -> Option<Map<String, Value>> {
        let host = self.host(name)?;
        if !export {
            return Some(without_internal(host.vars.clone()));
        }
        let mut vars = self.model.host_id(name).map(|id| self.model.hosts[id].vars.clone()).unwrap_or_default();
        for dir in self.inventory_dirs.iter().chain(self.playbook_dirs.iter().filter(|_| playbook_dir)) {
            if let Some(layer) = dir.host(name) {
                vars.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        Some(without_internal(vars))
    }
}

fn without_internal(mut vars: Map<String, Value>) -> Map<String, Value> {
    vars.retain(|k, _| !INTERNAL.contains(&k.as_str()));
    vars
}
