//! Hosts, groups and their variables, read from Ansible INI or YAML inventories,
//! and host patterns (`-l`, a play's `hosts:`).
//!
//! Central types: [`Inventory`] (all hosts and groups), [`Host`].

use std::path::PathBuf;

use serde_json::{Map, Value};

/// One host with its variables merged as Ansible does for inventory sources:
/// group vars (all < parent < child, then alphabetical among siblings) < host vars.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub vars: Map<String, Value>,
    /// Groups the host belongs to, directly or through children, without `all`; sorted.
    pub groups: Vec<String>,
}

/// All hosts and groups, in the order they were first defined.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub hosts: Vec<Host>,
    /// Group name → host names (transitive through children), including `all` and `ungrouped`.
    pub groups: Vec<(String, Vec<String>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// file:line:col: message
    #[error("{location}: {message}")]
    Parse { location: String, message: String },
    #[error("cannot read inventory `{path}`: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{0}")]
    Pattern(String),
}

impl Inventory {
    pub fn load(_paths: &[PathBuf]) -> Result<Inventory, InventoryError> {
        todo!("inventory loading is being written on the wt-inventory branch")
    }
}
