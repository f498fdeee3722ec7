//! The counters behind the PLAY RECAP.

use std::collections::BTreeMap;

use super::{HostResult, Status};

/// Per-host counters, named as in Ansible's recap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

/// Counters for every host that took part, sorted by host name like Ansible's recap.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub hosts: BTreeMap<String, HostStats>,
}

impl Stats {
    /// Each host's counters as a JSON object; `failed_key` names the failure
    /// counter (`failed` in stockman's event stream, `failures` in Ansible's
    /// json callback, as `stats.summarize` names it).
    pub fn per_host_json(&self, failed_key: &str) -> serde_json::Map<String, serde_json::Value> {
        let counters = |s: &HostStats| {
            serde_json::json!({
                "ok": s.ok, "changed": s.changed, "unreachable": s.unreachable, failed_key: s.failed,
                "skipped": s.skipped, "rescued": s.rescued, "ignored": s.ignored,
            })
        };
        self.hosts.iter().map(|(host, s)| (host.clone(), counters(s))).collect()
    }

    /// Counts one result as Ansible's strategy does: a changed result counts in
    /// both ok and changed; an ignored failure counts as ok and ignored (and
    /// changed when it changed something).
    pub fn record(&mut self, r: &HostResult) {
        let s = self.hosts.entry(r.host.clone()).or_default();
        match r.status {
            Status::Ok => s.ok += 1,
            Status::Changed => {
                s.ok += 1;
                s.changed += 1;
            }
            Status::Skipped => s.skipped += 1,
            Status::Failed if r.ignored => {
                s.ok += 1;
                s.ignored += 1;
                s.changed += u32::from(r.result.get("changed").and_then(|c| c.as_bool()).unwrap_or(false));
            }
            Status::Failed => s.failed += 1,
            Status::Unreachable => s.unreachable += 1,
        }
    }

    /// A failure inside a block whose `rescue` handles it: counted as rescued, not failed.
    pub fn record_rescued(&mut self, host: &str) {
        self.hosts.entry(host.to_string()).or_default().rescued += 1;
    }

    /// Makes a host appear in the recap even if it reported nothing.
    pub fn touch(&mut self, host: &str) {
        self.hosts.entry(host.to_string()).or_default();
    }

    /// ansible-playbook's exit code: 4 if a host was unreachable, else 2 if one failed, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.hosts.values().any(|s| s.unreachable > 0) {
            4
        } else if self.hosts.values().any(|s| s.failed > 0) {
            2
        } else {
            0
        }
    }
}
