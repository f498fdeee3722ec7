//! Hosts, groups and their variables, read from Ansible INI, YAML or JSON
//! inventories, dynamic inventory scripts and Terraform state or outputs,
//! and host patterns (`-l`, a play's `hosts:`).
//!
//! Central types: [`Inventory`] (all hosts and groups), [`Host`], [`Selection`].
//!
//! ```no_run
//! # use std::path::PathBuf;
//! # use stockman::inventory::Inventory;
//! let inventory = Inventory::load(&[PathBuf::from("hosts.ini")])?;
//! let play_inventory = inventory.with_playbook_dir("site".as_ref())?;
//! let selection = play_inventory.select("web:&prod:!web3", Some("web*"))?;
//! for host in &selection.hosts {
//!     let _port = host.vars.get("ansible_port");
//! }
//! # Ok::<(), stockman::inventory::InventoryError>(())
//! ```
//!
//! # Sources
//! Each `-i` argument is read in order into one inventory: a file (`.yml`,
//! `.yaml`, `.json`, or an extensionless file that parses as a YAML mapping,
//! is a YAML inventory; anything else is INI), a directory (its files in name
//! order, recursively, skipping hidden files, `group_vars`, `host_vars` and
//! Ansible's ignored extensions such as `.md`, `.txt`, `.cfg`, `.retry`), or a
//! host list (`web1,web2:2222,`: contains a comma and is not a path).
//!
//! Some files are recognised by content, whatever their name: an executable
//! starting with `#!` (or an ELF program) is a dynamic inventory script, run
//! with `--list` (see `script`); a JSON object with `terraform_version` and
//! `resources` is a Terraform state, one of `{value, type, sensitive}` objects
//! a saved `terraform output -json` (see `terraform` for the hosts, groups and
//! the `terraform` / `terraform_outputs` variables they give); a JSON object
//! with `_meta` or groups listing their hosts is Ansible's script protocol
//! (`ansible-inventory --list` output). Inside directories, Terraform's own
//! files (`.tf`, `.tfvars`, `.hcl`, `.tfstate.backup`) are skipped.
//!
//! # Variable precedence (lowest first), as Ansible's defaults
//! 1. inventory `all` group vars; 2. other inventory group vars, groups
//!    ordered by (depth, `ansible_group_priority`, name) so children override
//!    parents; 3. `group_vars/all` beside each inventory source; 4.
//!    `group_vars/all` beside the playbook; 5. `group_vars/<group>` beside
//!    each inventory source; 6. `group_vars/<group>` beside the playbook; 7.
//!    inventory host vars (including `ansible_port` from `host:port`); 8.
//!    `host_vars/<host>` beside each inventory source; 9. `host_vars/<host>`
//!    beside the playbook. Layers replace top-level keys; dictionaries are not
//!    merged. Layers 4, 6 and 9 are present only in the inventory returned by
//!    [`Inventory::with_playbook_dir`]. The engine layers play vars, facts,
//!    `set_fact`, extra vars etc. above all of these.
//!
//! # Order
//! [`Inventory::hosts`] lists hosts in the order they were first defined.
//! [`Inventory::select`] returns hosts in Ansible's order: term by term, each
//! group's own hosts before its children's.

mod host_range;
mod ini;
mod json_source;
mod merge;
mod model;
mod pattern;
mod pyliteral;
mod runtime;
mod script;
mod sources;
mod terraform;
mod vars_dirs;
mod view;
mod yaml_source;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::combine::HashBehaviour;
use merge::Layers;
use model::{HostId, Model, ALL};
use pattern::{Target, LOCALHOST_NAMES};
pub use view::GroupView;
use vars_dirs::VarsDir;

/// One host with its variables merged (see the module doc for the order).
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub vars: Map<String, Value>,
    /// Groups the host belongs to, directly or through children, without
    /// `all`; sorted (Ansible's `group_names`).
    pub groups: Vec<String>,
    /// Ansible's implicit localhost: named by a pattern, absent from the
    /// inventory, `ansible_connection=local`, not a member of `all`.
    pub implicit: bool,
}

/// Hosts chosen by a pattern (and limit), with the warnings Ansible would print.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub hosts: Vec<Host>,
    /// e.g. "Could not match supplied host pattern, ignoring: web9"
    pub warnings: Vec<String>,
}

/// All hosts and groups, with every host's variables merged.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    model: Model,
    inventory_dirs: Vec<VarsDir>,
    playbook_dirs: Vec<VarsDir>,
    hosts: Vec<Host>,
    implicit_localhosts: Vec<Host>,
    groups: Vec<(String, Vec<String>)>,
    warnings: Vec<String>,
    secrets: Vec<String>,
    /// The `-i` sources, read again by `meta: refresh_inventory`.
    sources: Vec<PathBuf>,
    /// hash_behaviour: how the variable layers combine.
    hash: HashBehaviour,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// file:line:col: message
    #[error("{location}: {message}")]
    Parse { location: String, message: String },
    #[error("cannot read inventory `{}`: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("{0}")]
    Pattern(String),
}

pub(crate) fn yaml_error(e: crate::yaml::YamlError) -> InventoryError {
    InventoryError::Parse { location: e.span.to_string(), message: e.message }
}

impl Inventory {
    /// Reads the `-i` sources in order into one inventory (see the module doc).
    /// No sources give an empty inventory (only the implicit localhost).
    pub fn load(sources: &[PathBuf]) -> Result<Inventory, InventoryError> {
        let loaded = sources::load(sources)?;
        let mut warnings = loaded.warnings;
        let mut inventory_dirs = Vec::new();
        for dir in &loaded.vars_dirs {
            inventory_dirs.push(load_vars_dir(&loaded.model, dir, &mut warnings)?);
        }
        warnings.extend(name_clashes(&loaded.model));
        let mut inventory = Inventory::resolve(loaded.model, inventory_dirs, Vec::new(), warnings, HashBehaviour::Replace);
        inventory.secrets = loaded.secrets;
        inventory.sources = sources.to_vec();
        Ok(inventory)
    }

    /// This inventory with `group_vars/` and `host_vars/` of a playbook's
    /// directory layered in at Ansible's playbook levels (4, 6, 9 of the
    /// module doc). Call once per playbook directory.
    pub fn with_playbook_dir(&self, dir: &Path) -> Result<Inventory, InventoryError> {
        let mut warnings = self.warnings.clone();
        let mut playbook_dirs = self.playbook_dirs.clone();
        playbook_dirs.push(load_vars_dir(&self.model, dir, &mut warnings)?);
        let mut inventory = Inventory::resolve(self.model.clone(), self.inventory_dirs.clone(), playbook_dirs, warnings, self.hash);
        inventory.secrets = self.secrets.clone();
        inventory.sources = self.sources.clone();
        Ok(inventory)
    }

    /// This inventory with its variable layers combined as `hash` says
    /// (ansible.cfg's hash_behaviour; [`Inventory::load`] replaces).
    pub fn with_hash_behaviour(&self, hash: HashBehaviour) -> Inventory {
        let mut inventory = Inventory::resolve(self.model.clone(), self.inventory_dirs.clone(), self.playbook_dirs.clone(), self.warnings.clone(), hash);
        inventory.secrets = self.secrets.clone();
        inventory.sources = self.sources.clone();
        inventory
    }

    pub fn hash_behaviour(&self) -> HashBehaviour {
        self.hash
    }

    /// Every inventory host, in the order first defined (no implicit localhost).
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// A host by name, including the implicit localhost for `localhost`,
    /// `127.0.0.1` and `::1` when the inventory does not define them.
    pub fn host(&self, name: &str) -> Option<&Host> {
        match self.model.host_id(name) {
            Some(id) => Some(&self.hosts[id]),
            None => self.implicit_localhosts.iter().find(|h| h.name == name),
        }
    }

    /// The implicit localhost's names the inventory does not define itself
    /// (`localhost`, `127.0.0.1`, `::1`).
    pub fn implicit_localhost_names(&self) -> impl Iterator<Item = &str> {
        self.implicit_localhosts.iter().map(|h| h.name.as_str())
    }

    /// Group name → host names, for the `groups` magic variable; includes
    /// `all` and `ungrouped`, in the order groups were defined.
    pub fn groups(&self) -> &[(String, Vec<String>)] {
        &self.groups
    }

    /// [`Inventory::groups`] as a JSON object.
    pub fn groups_value(&self) -> Value {
        let map = self.groups.iter().map(|(g, hosts)| (g.clone(), Value::from(hosts.clone())));
        Value::Object(map.collect())
    }

    /// Warnings found while loading (skipped YAML keys, name clashes, …).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Values taken from sensitive Terraform outputs (addresses, variables):
    /// whatever prints output or errors should mask them.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// The hosts matching `pattern` (a play's `hosts:`; join a list with `,`),
    /// restricted to those matching `limit` (`--limit`, `@file` allowed).
    pub fn select(&self, pattern: &str, limit: Option<&str>) -> Result<Selection, InventoryError> {
        let mut warnings = Vec::new();
        let mut targets = pattern::evaluate(&self.model, &pattern::split(pattern), &mut warnings)?;
        if let Some(limit) = limit {
            let allowed: HashSet<Target> = pattern::evaluate(&self.model, &pattern::limit_terms(limit)?, &mut warnings)?.into_iter().collect();
            targets.retain(|t| allowed.contains(t));
        }
        let mut unique = Vec::new();
        for w in warnings {
            if !unique.contains(&w) {
                unique.push(w);
            }
        }
        let hosts = targets.into_iter().map(|t| self.target_host(t)).collect();
        Ok(Selection { hosts, warnings: unique })
    }

    fn target_host(&self, target: Target) -> Host {
        match target {
            Target::Host(id) => self.hosts[id].clone(),
            Target::ImplicitLocalhost(name) => {
                self.implicit_localhosts.iter().find(|h| h.name == name).cloned().unwrap_or_else(|| implicit_host(&name, Map::new()))
            }
        }
    }

    fn resolve(model: Model, inventory_dirs: Vec<VarsDir>, playbook_dirs: Vec<VarsDir>, warnings: Vec<String>, hash: HashBehaviour) -> Inventory {
        let layers = Layers { inventory_dirs: &inventory_dirs, playbook_dirs: &playbook_dirs, hash };
        let depths = model.depths();
        let hosts = (0..model.hosts.len()).map(|id| resolve_host(&model, id, &depths, &layers)).collect();
        let implicit_localhosts = LOCALHOST_NAMES
            .iter()
            .filter(|name| model.host_id(name).is_none())
            .map(|name| {
                let own = Map::from_iter([("ansible_connection".to_string(), Value::from("local"))]);
                implicit_host(name, merge::host_vars(&model, name, &own, &[], &layers))
            })
            .collect();
        let groups = model
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| (group.name.clone(), model.group_hosts(g).into_iter().map(|h| model.hosts[h].name.clone()).collect()))
            .collect();
        Inventory { model, inventory_dirs, playbook_dirs, hosts, implicit_localhosts, groups, warnings, secrets: Vec::new(), sources: Vec::new(), hash }
    }
}

fn implicit_host(name: &str, vars: Map<String, Value>) -> Host {
    Host { name: name.to_string(), vars, groups: Vec::new(), implicit: true }
}

fn resolve_host(model: &Model, id: HostId, depths: &[usize], layers: &Layers<'_>) -> Host {
    let entry = &model.hosts[id];
    let member_of = model.host_groups(id);
    let merge_order = merge::sorted_groups(model, member_of.iter().copied(), depths);
    let vars = merge::host_vars(model, &entry.name, &entry.vars, &merge_order, layers);
    let mut groups: Vec<String> = member_of.into_iter().filter(|&g| g != ALL).map(|g| model.groups[g].name.clone()).collect();
    groups.sort();
    Host { name: entry.name.clone(), vars, groups, implicit: false }
}

fn load_vars_dir(model: &Model, dir: &Path, warnings: &mut Vec<String>) -> Result<VarsDir, InventoryError> {
    let groups = model.groups.iter().map(|g| g.name.as_str());
    let hosts = model.hosts.iter().map(|h| h.name.as_str()).chain(LOCALHOST_NAMES);
    VarsDir::load(dir, groups, hosts, warnings)
}

fn name_clashes(model: &Model) -> Vec<String> {
    model
        .groups
        .iter()
        .filter(|g| model.host_id(&g.name).is_some())
        .map(|g| format!("Found both group and host with same name: {}", g.name))
        .collect()
}

#[cfg(test)]
mod tests;
