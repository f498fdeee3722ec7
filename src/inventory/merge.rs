//! The variables of one host, merged in Ansible's default order
//! (`VARIABLE_PRECEDENCE` and the host layers after it), lowest first:
//!
//! 1. `all` group vars from the inventory sources
//! 2. other group vars from the inventory sources, groups sorted by
//!    (depth, `ansible_group_priority`, name): parents before children
//! 3. `group_vars/all` beside each inventory source, in source order
//! 4. `group_vars/all` beside the playbook
//! 5. `group_vars/<group>` beside each inventory source (sources outer,
//!    groups sorted as in 2 inner)
//! 6. `group_vars/<group>` beside the playbook
//! 7. host vars from the inventory sources
//! 8. `host_vars/<host>` beside each inventory source
//! 9. `host_vars/<host>` beside the playbook
//!
//! Each layer replaces top-level keys of the ones below (hash_behaviour=replace),
//! or merges dictionaries into them (hash_behaviour=merge, see [`crate::combine`]).

use serde_json::{Map, Value};

use crate::combine::HashBehaviour;

use super::model::{GroupId, Model, ALL};
use super::vars_dirs::VarsDir;

/// Where the file-based layers come from.
pub(crate) struct Layers<'a> {
    pub inventory_dirs: &'a [VarsDir],
    pub playbook_dirs: &'a [VarsDir],
    pub hash: HashBehaviour,
}

/// Groups in merge order: (depth, priority, name), `all` excluded.
pub(crate) fn sorted_groups(model: &Model, groups: impl IntoIterator<Item = GroupId>, depths: &[usize]) -> Vec<GroupId> {
    let mut groups: Vec<GroupId> = groups.into_iter().filter(|&g| g != ALL).collect();
    groups.sort_by(|&a, &b| {
        let key = |g: GroupId| (depths[g], model.groups[g].priority, &model.groups[g].name);
        key(a).cmp(&key(b))
    });
    groups
}

/// Merges the layers for a host called `name` with inventory vars
/// `host_vars`, member of `groups` (already sorted, without `all`).
pub(crate) fn host_vars(
    model: &Model,
    name: &str,
    own_vars: &Map<String, Value>,
    groups: &[GroupId],
    layers: &Layers<'_>,
) -> Map<String, Value> {
    let mut vars = model.groups[ALL].vars.clone();
    for &g in groups {
        overlay(layers.hash, &mut vars, Some(&model.groups[g].vars));
    }
    let all_name = &model.groups[ALL].name;
    for dirs in [layers.inventory_dirs, layers.playbook_dirs] {
        for dir in dirs {
            overlay(layers.hash, &mut vars, dir.group(all_name));
        }
    }
    for dirs in [layers.inventory_dirs, layers.playbook_dirs] {
        for dir in dirs {
            for &g in groups {
                overlay(layers.hash, &mut vars, dir.group(&model.groups[g].name));
            }
        }
    }
    overlay(layers.hash, &mut vars, Some(own_vars));
    for dirs in [layers.inventory_dirs, layers.playbook_dirs] {
        for dir in dirs {
            overlay(layers.hash, &mut vars, dir.host(name));
        }
    }
    vars
}

fn overlay(hash: HashBehaviour, vars: &mut Map<String, Value>, layer: Option<&Map<String, Value>>) {
    if let Some(layer) = layer {
        hash.overlay(vars, layer);
    }
}
