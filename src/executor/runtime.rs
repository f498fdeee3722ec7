//! Inventory and connection changes made while a play runs: `add_host`,
//! `group_by`, `meta: refresh_inventory` and `meta: reset_connection`.

use std::sync::Arc;

use serde_json::Value;
use stockman_modules::ModuleResult;

use super::host::HostState;
use super::play::PlayRun;
use super::{Executor, SharedConnection};
use crate::report::{Event, HostResult, Status};

impl Executor<'_> {
    /// Marks an `add_host`/`group_by` result changed when it would change the
    /// inventory, as Ansible reports them.
    pub(super) fn inventory_change(&self, host: &HostState, mut r: ModuleResult) -> ModuleResult {
        if r.failed {
            return r;
        }
        let in_group = |name: &str, group: &str| self.inventory.groups().iter().any(|(g, members)| g == group && members.iter().any(|m| m == name));
        if let Some(entry) = r.data.get("add_host") {
            let name = entry["host_name"].as_str().unwrap_or_default();
            let groups = entry["groups"].as_array().cloned().unwrap_or_default();
            r.changed = self.inventory.host(name).is_none_or(|h| h.implicit) || groups.iter().filter_map(Value::as_str).any(|g| !in_group(name, g));
        } else if let Some(group) = r.data.get("add_group").and_then(Value::as_str) {
            r.changed = !in_group(&host.name, group);
        }
        r
    }

    /// Applies the inventory changes of a task's results, in the order the hosts finished.
    pub(super) fn apply_inventory_changes(&mut self, run: &PlayRun<'_>, results: &[&HostResult]) {
        let mut changed = false;
        for r in results.iter().filter(|r| r.status != Status::Failed) {
            let next = if let Some(entry) = r.result.get("add_host") {
                let name = entry["host_name"].as_str().unwrap_or_default();
                let groups: Vec<String> = entry["groups"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
                let vars = entry["host_vars"].as_object().cloned().unwrap_or_default();
                self.inventory.with_added_host(name, &groups, &vars)
            } else if let Some(group) = r.result.get("add_group").and_then(Value::as_str) {
                let parents: Vec<String> = r.result.get("parent_groups").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
                self.inventory.with_host_in_group(&r.host, group, &parents)
            } else {
                continue;
            };
            match next {
                Ok(inventory) => {
                    self.inventory = Arc::new(inventory);
                    changed = true;
                }
                Err(e) => self.emit(Event::Warning(format!("inventory not changed for `{}`: {e}", r.host))),
            }
        }
        if changed {
            run.hostvars.set_inventory(self.inventory.clone());
        }
    }

    /// `meta: refresh_inventory`: the sources read again; a failure keeps the old inventory.
    pub(super) fn refresh_inventory(&mut self, run: &PlayRun<'_>) {
        match self.inventory.reloaded() {
            Ok(fresh) => {
                self.inventory = Arc::new(fresh);
                run.hostvars.set_inventory(self.inventory.clone());
            }
            Err(e) => self.emit(Event::Warning(format!("refresh_inventory: {e}"))),
        }
    }

    /// `meta: reset_connection`: closes the hosts' connections; the next task opens new ones.
    pub(super) async fn reset_connections(&self, run: &mut PlayRun<'_>, hosts: &[usize]) {
        for &h in hosts {
            let host = &mut run.hosts[h];
            let fresh = SharedConnection::default();
            let old = std::mem::replace(&mut host.conn, fresh.clone());
            self.connections.lock().unwrap_or_else(|e| e.into_inner()).insert(super::connection_key(&host.spec), fresh);
            if let Some(conn) = Arc::try_unwrap(old).ok().and_then(|cell| cell.into_inner()) {
                conn.close().await;
            }
            self.emit(Event::Detail { host: host.name.clone(), level: 3, text: "reset connection".into() });
        }
    }
}

