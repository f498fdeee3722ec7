//! Changes plays make to the inventory while they run: `add_host`,
//! `group_by` and `meta: refresh_inventory`. Each returns a new inventory
//! (the old one stays valid for whoever still holds it).

use serde_json::{Map, Value};

use super::{Inventory, InventoryError};

impl Inventory {
    /// `add_host`: the host (new, or an existing one) joins `groups` (created
    /// when missing) and gets `vars` as host variables.
    pub fn with_added_host(&self, name: &str, groups: &[String], vars: &Map<String, Value>) -> Result<Inventory, InventoryError> {
        let mut model = self.model.clone();
        let host = model.add_host(name, None, None);
        for group in groups {
            let id = model.group_id(group).unwrap_or_else(|| model.add_group(group));
            model.add_host(name, Some(id), None);
        }
        for (key, value) in vars {
            model.set_host_var(host, key, value.clone());
        }
        Ok(self.rebuilt(model))
    }

    /// `group_by`: the host joins `group` (created when missing), which gets
    /// `parents` as parent groups (created too).
    pub fn with_host_in_group(&self, host: &str, group: &str, parents: &[String]) -> Result<Inventory, InventoryError> {
        let mut model = self.model.clone();
        let id = model.group_id(group).unwrap_or_else(|| model.add_group(group));
        model.add_host(host, Some(id), None);
        for parent in parents {
            let pid = model.group_id(parent).unwrap_or_else(|| model.add_group(parent));
            model.add_child(pid, id).map_err(InventoryError::Pattern)?;
        }
        Ok(self.rebuilt(model))
    }

    /// `meta: refresh_inventory`: the `-i` sources read again (scripts run
    /// again), with the same playbook group_vars/host_vars.
    pub fn reloaded(&self) -> Result<Inventory, InventoryError> {
        let fresh = Inventory::load(&self.sources)?;
        let mut inventory = Inventory::resolve(fresh.model, fresh.inventory_dirs, self.playbook_dirs.clone(), fresh.warnings, self.hash);
        inventory.secrets = fresh.secrets;
        inventory.sources = fresh.sources;
        Ok(inventory)
    }

    fn rebuilt(&self, mut model: super::model::Model) -> Inventory {
        model.reconcile();
        let mut inventory = Inventory::resolve(model, self.inventory_dirs.clone(), self.playbook_dirs.clone(), self.warnings.clone(), self.hash);
        inventory.secrets = self.secrets.clone();
        inventory.sources = self.sources.clone();
        inventory
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(text: &str) -> (tempfile::TempDir, Inventory) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts.ini");
        std::fs::write(&path, text).unwrap();
        let inv = Inventory::load(&[path]).unwrap();
        (dir, inv)
    }

    fn members(inv: &Inventory, group: &str) -> Vec<String> {
        inv.groups().iter().find(|(g, _)| g == group).map(|(_, m)| m.clone()).unwrap_or_default()
    }

    #[test]
    fn added_hosts_join_groups_with_vars() {
        let (_d, inv) = inventory("[web]\nw1\n");
        let vars = Map::from_iter([("color".to_string(), Value::from("red"))]);
        let inv = inv.with_added_host("new1", &["web".into(), "fresh".into()], &vars).unwrap();
        assert_eq!(members(&inv, "web"), ["w1", "new1"]);
        assert_eq!(members(&inv, "fresh"), ["new1"]);
        assert_eq!(inv.host("new1").unwrap().vars["color"], "red");
        assert!(inv.select("all", None).unwrap().hosts.iter().any(|h| h.name == "new1"));
    }

    #[test]
    fn group_by_creates_group_and_parents() {
        let (_d, inv) = inventory("w1\nw2\n");
        let inv = inv.with_host_in_group("w1", "os_debian", &["linux".into()]).unwrap();
        assert_eq!(members(&inv, "os_debian"), ["w1"]);
        assert_eq!(members(&inv, "linux"), ["w1"]);
        assert_eq!(inv.host("w1").unwrap().groups, ["linux", "os_debian"]);
        assert_eq!(members(&inv, "ungrouped"), ["w2"]);
    }

    #[test]
    fn reload_reads_the_sources_again() {
        let (dir, inv) = inventory("w1\n");
        std::fs::write(dir.path().join("hosts.ini"), "w1\n[late]\nw9\n").unwrap();
        let inv = inv.reloaded().unwrap();
        assert_eq!(members(&inv, "late"), ["w9"]);
    }
}
