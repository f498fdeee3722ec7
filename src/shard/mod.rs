//! `--shard I/N`: one of N processes (a Kubernetes Indexed Job's pods, a
//! GitLab `parallel:` job's nodes, a GitHub Actions matrix's jobs) runs its
//! share of the inventory's hosts; `stockman merge` joins their results.
//!
//! - [`Slot`]: which shard this process is, from the flag and the engine's
//!   variables ([`Slot::resolve`]).
//! - [`Shard`]: the hosts this shard runs, chosen once over the whole
//!   inventory (round-robin in the inventory's host order), so a host is in
//!   the same shard for every play.
//! - [`safety`]: what in the playbooks a split run would not do as one run
//!   does (`run_once`, `serial`, other hosts' `hostvars`...), named before
//!   anything runs.

pub mod safety;

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::inventory::Inventory;

/// One engine's variables: the index (with its base) and, where the engine
/// gives it, the total.
struct Engine {
    name: &'static str,
    index: &'static str,
    /// The first index: 0, or 1 for GitLab.
    base: usize,
    total: Option<&'static str>,
}

/// Looked at in this order: the first whose index variable is set wins.
/// STOCKMAN_SHARD_* comes first so that it can override what an engine sets.
const ENGINES: [Engine; 3] = [
    Engine { name: "stockman (e.g. from a GitHub Actions matrix)", index: "STOCKMAN_SHARD_INDEX", base: 0, total: Some("STOCKMAN_SHARD_TOTAL") },
    Engine { name: "Kubernetes Indexed Job", index: "JOB_COMPLETION_INDEX", base: 0, total: None },
    Engine { name: "GitLab parallel", index: "CI_NODE_INDEX", base: 1, total: Some("CI_NODE_TOTAL") },
];

/// The total any engine may take when its own variable gives none (Kubernetes).
const FALLBACK_TOTAL: &str = "STOCKMAN_SHARD_TOTAL";

/// This process's shard: `index` of `total`, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub index: usize,
    pub total: usize,
}

impl Slot {
    /// `I/N`, `auto/N` or `auto`, reading the engines' variables through `env`.
    pub fn resolve(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Slot, String> {
        let (index, total) = match spec.split_once('/') {
            Some((i, n)) => (i.trim(), Some(n.trim())),
            None => (spec.trim(), None),
        };
        let total = total.map(|n| count(n, "--shard's N")).transpose()?;
        let slot = match (index, total) {
            ("auto", total) => from_engine(env, total)?,
            (_, None) => return Err(format!("--shard `{spec}`: write I/N (e.g. 0/3), auto/N or auto")),
            (i, Some(total)) => Slot { index: number(i, "--shard's I")?, total },
        };
        if slot.index >= slot.total {
            return Err(format!("--shard {}/{}: the index must be below the total (indexes are 0-based: 0 to {})", slot.index, slot.total, slot.total - 1));
        }
        Ok(slot)
    }
}

fn from_engine(env: &dyn Fn(&str) -> Option<String>, total: Option<usize>) -> Result<Slot, String> {
    let Some((engine, raw)) = ENGINES.iter().find_map(|e| env(e.index).map(|v| (e, v))) else {
        let names: Vec<&str> = ENGINES.iter().map(|e| e.index).collect();
        return Err(format!("--shard auto: none of {} is set; pass --shard I/N, or set STOCKMAN_SHARD_INDEX and STOCKMAN_SHARD_TOTAL", names.join(", ")));
    };
    let given = number(&raw, engine.index)?;
    let index = given.checked_sub(engine.base).ok_or_else(|| format!("{}={raw}: the {} counts from {}", engine.index, engine.name, engine.base))?;
    let total_var = engine.total.filter(|v| env(v).is_some()).or(Some(FALLBACK_TOTAL).filter(|v| env(v).is_some()));
    let from_env = total_var.map(|v| count(&env(v).unwrap_or_default(), v).map(|n| (v, n))).transpose()?;
    let total = match (total, from_env) {
        (Some(flag), Some((var, n))) if flag != n => return Err(format!("--shard auto/{flag}, but {var}={n}: the two totals disagree")),
        (Some(flag), _) => flag,
        (None, Some((_, n))) => n,
        (None, None) => {
            return Err(format!(
                "--shard auto: {} gives the index ({}) but not the total; pass --shard auto/N (N = the number of shards, a Job's `completions`) or set {FALLBACK_TOTAL}",
                engine.name, engine.index
            ))
        }
    };
    if index >= total {
        return Err(format!("{}={raw} is beyond {total} shards ({} counts from {})", engine.index, engine.name, engine.base));
    }
    Ok(Slot { index, total })
}

fn number(text: &str, what: &str) -> Result<usize, String> {
    text.trim().parse().map_err(|_| format!("{what} `{text}` is not a whole number"))
}

fn count(text: &str, what: &str) -> Result<usize, String> {
    match number(text, what)? {
        0 => Err(format!("{what} is 0: there must be at least one shard")),
        n => Ok(n),
    }
}

/// The hosts of one shard: the inventory's hosts in the order they were first
/// defined, host `k` going to shard `k mod N` (round-robin: shards differ by
/// at most one host). The implicit localhost (a play on `localhost` that the
/// inventory does not define) runs in shard 0 only.
#[derive(Debug, Clone)]
pub struct Shard {
    pub slot: Slot,
    /// This shard's inventory hosts, in inventory order.
    pub hosts: Vec<String>,
    /// How many hosts the whole inventory has.
    pub inventory_hosts: usize,
    /// Identifies the inventory's host list, so `stockman merge` can tell
    /// shards that saw different inventories.
    pub fingerprint: String,
    /// Hosts that belong to other shards. Hosts added while the run goes
    /// (`add_host`) belong to the shard that added them.
    others: HashSet<String>,
}

impl Shard {
    pub fn assign(slot: Slot, inventory: &Inventory) -> Shard {
        let all: Vec<&str> = inventory.hosts().iter().map(|h| h.name.as_str()).collect();
        let mut hosts = Vec::new();
        let mut others = HashSet::new();
        for (k, host) in all.iter().enumerate() {
            if k % slot.total == slot.index {
                hosts.push(host.to_string());
            } else {
                others.insert(host.to_string());
            }
        }
        if slot.index != 0 {
            others.extend(inventory.implicit_localhost_names().map(str::to_string));
        }
        Shard { slot, hosts, inventory_hosts: all.len(), fingerprint: fingerprint(&all), others }
    }

    /// Whether this shard runs tasks on `host`.
    pub fn admits(&self, host: &str) -> bool {
        !self.others.contains(host)
    }
}

/// The first 16 hex digits of SHA-256 over the host names in order.
fn fingerprint(hosts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for host in hosts {
        hash.update(host.as_bytes());
        hash.update(b"\n");
    }
    hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn explicit_and_engine_slots() {
        let none = env(&[]);
        assert_eq!(Slot::resolve("2/3", &none), Ok(Slot { index: 2, total: 3 }));
        assert!(Slot::resolve("3/3", &none).unwrap_err().contains("below the total"));
        assert!(Slot::resolve("0/0", &none).unwrap_err().contains("at least one"));
        assert!(Slot::resolve("auto", &none).unwrap_err().contains("JOB_COMPLETION_INDEX"));
        assert_eq!(Slot::resolve("auto", &env(&[("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "4")])), Ok(Slot { index: 0, total: 4 }));
        assert!(Slot::resolve("auto", &env(&[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "4")])).unwrap_err().contains("counts from 1"));
        assert_eq!(Slot::resolve("auto/5", &env(&[("JOB_COMPLETION_INDEX", "4")])), Ok(Slot { index: 4, total: 5 }));
        assert!(Slot::resolve("auto", &env(&[("JOB_COMPLETION_INDEX", "4")])).unwrap_err().contains("not the total"));
        assert!(Slot::resolve("auto/3", &env(&[("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "4")])).unwrap_err().contains("disagree"));
        assert_eq!(Slot::resolve("auto", &env(&[("STOCKMAN_SHARD_INDEX", "1"), ("STOCKMAN_SHARD_TOTAL", "2"), ("CI_NODE_INDEX", "1")])), Ok(Slot { index: 1, total: 2 }));
    }
}
