//! Facts kept across plays, and across runs with ansible.cfg's `fact_caching = jsonfile`.
//!
//! Each host's entry is what Ansible's fact cache holds: the gathered facts under their
//! `ansible_` names, `_ansible_facts_gathered` once gathered, and `set_fact ... cacheable`
//! facts. jsonfile writes one file per host in `fact_caching_connection`, in ansible-core
//! 2.19's layout (`s1_HOST`, after `fact_caching_prefix` if set, holding `{"__payload__": "<JSON text>"}`), so stockman and
//! ansible-playbook can share one cache directory; entries older than
//! `fact_caching_timeout` seconds (0: never) are not read.
//!
//! Variables from `set_fact` (not cacheable) and `register` last for the run only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::host::RunVars;
use crate::config::FactCaching;

/// The key that marks facts gathered by `gather_facts`/`setup` (Ansible's smart gathering reads it).
pub const GATHERED: &str = "_ansible_facts_gathered";

/// ansible-core 2.19's cache schema prefix for file names.
const SCHEMA_PREFIX: &str = "s1_";
const PAYLOAD: &str = "__payload__";

#[derive(Default)]
pub struct FactCache {
    backend: Backend,
    /// Facts per host as Ansible's cache holds them (read from disk at most once).
    facts: Mutex<HashMap<String, Arc<Map<String, Value>>>>,
    /// set_fact and registered variables: later plays of the run see them, as in Ansible.
    run_vars: Mutex<HashMap<String, RunVars>>,
}

#[derive(Default)]
enum Backend {
    #[default]
    Memory,
    JsonFile { dir: PathBuf, timeout: Duration, prefix: String },
}

impl FactCache {
    pub fn new(setting: &FactCaching) -> FactCache {
        let backend = match setting {
            FactCaching::Memory => Backend::Memory,
            FactCaching::JsonFile { dir, timeout_secs, prefix } => Backend::JsonFile { dir: dir.clone(), timeout: Duration::from_secs(*timeout_secs), prefix: prefix.clone() },
        };
        FactCache { backend, ..FactCache::default() }
    }

    /// The host's cached facts (empty when none, or when its file has expired or is unreadable).
    pub fn facts(&self, host: &str) -> Arc<Map<String, Value>> {
        let mut facts = self.facts.lock().unwrap_or_else(|e| e.into_inner());
        let entry = facts.entry(host.to_string()).or_insert_with(|| Arc::new(self.backend.load(host).unwrap_or_default()));
        Arc::clone(entry)
    }

    /// Whether `gather_facts` already ran for the host (in this run or, cached, in another).
    pub fn gathered(&self, host: &str) -> bool {
        self.facts(host).get(GATHERED) == Some(&Value::Bool(true))
    }

    /// New facts for the host join its entry (written through to the cache file).
    /// Returns a message when the file could not be written (the run goes on).
    pub fn update(&self, host: &str, new: &Map<String, Value>) -> Result<(), String> {
        let merged = {
            let mut facts = self.facts.lock().unwrap_or_else(|e| e.into_inner());
            let entry = facts.entry(host.to_string()).or_insert_with(|| Arc::new(self.backend.load(host).unwrap_or_default()));
            let mine = Arc::make_mut(entry);
            mine.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
            Arc::clone(entry)
        };
        self.backend.store(host, &merged)
    }

    /// Drops the host's entry, on disk too (--flush-cache).
    pub fn flush(&self, host: &str) -> Result<(), String> {
        self.facts.lock().unwrap_or_else(|e| e.into_inner()).remove(host);
        self.backend.remove(host)
    }

    pub fn run_vars(&self, host: &str) -> Option<RunVars> {
        self.run_vars.lock().unwrap_or_else(|e| e.into_inner()).get(host).cloned()
    }

    pub fn keep_run_vars(&self, host: &str, vars: RunVars) {
        self.run_vars.lock().unwrap_or_else(|e| e.into_inner()).insert(host.to_string(), vars);
    }
}

impl Backend {
    fn load(&self, host: &str) -> Option<Map<String, Value>> {
        let Backend::JsonFile { dir, timeout, prefix } = self else { return None };
        let path = file_for(dir, prefix, host);
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        let age = SystemTime::now().duration_since(modified).unwrap_or_default();
        if !timeout.is_zero() && age > *timeout {
            return None;
        }
        decode(&std::fs::read_to_string(&path).ok()?)
    }

    fn remove(&self, host: &str) -> Result<(), String> {
        let Backend::JsonFile { dir, prefix, .. } = self else { return Ok(()) };
        let path = file_for(dir, prefix, host);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("fact cache: cannot remove {}: {e}", path.display())),
            _ => Ok(()),
        }
    }

    fn store(&self, host: &str, facts: &Map<String, Value>) -> Result<(), String> {
        let Backend::JsonFile { dir, prefix, .. } = self else { return Ok(()) };
        let path = file_for(dir, prefix, host);
        crate::transport::write_atomically(&path, encode(facts).as_bytes()).map_err(|e| format!("fact cache: cannot write {}: {e}", path.display()))
    }
}

/// `DIR/PREFIXs1_HOST`, as ansible-core 2.19 names it; a `/` in the host name (never a
/// valid one) or in the prefix cannot leave the directory.
fn file_for(dir: &Path, prefix: &str, host: &str) -> PathBuf {
    dir.join(format!("{prefix}{SCHEMA_PREFIX}{host}").replace('/', "_"))
}

/// `{"__payload__": "<facts as JSON text>"}`, with Python's json.dumps spacing.
fn encode(facts: &Map<String, Value>) -> String {
    let payload = crate::report::pyjson::dumps(&Value::Object(facts.clone()), None);
    let mut outer = Map::new();
    outer.insert(PAYLOAD.into(), Value::String(payload));
    crate::report::pyjson::dumps(&Value::Object(outer), None)
}

/// The payload's facts, with Ansible's tagged values (`{"value": V, "tags": [...],
/// "__ansible_type": "_AnsibleTagged..."}`) read as their plain value.
fn decode(text: &str) -> Option<Map<String, Value>> {
    let outer: Value = serde_json::from_str(text).ok()?;
    let payload: Value = serde_json::from_str(outer.get(PAYLOAD)?.as_str()?).ok()?;
    match untagged(payload) {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn untagged(value: Value) -> Value {
    match value {
        Value::Object(mut map) => {
            let tagged = map.get("__ansible_type").and_then(Value::as_str).is_some_and(|t| t.starts_with("_AnsibleTagged"));
            if tagged {
                return untagged(map.remove("value").unwrap_or(Value::Null));
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, untagged(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(untagged).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ansible_payloads_are_read_with_their_tags_dropped() {
        let text = r#"{"__payload__": "{\"ansible_hostname\": \"vm\", \"_ansible_facts_gathered\": true, \"c\": {\"value\": 1, \"tags\": [{\"path\": \"/p.yml\", \"__ansible_type\": \"Origin\"}], \"__ansible_type\": \"_AnsibleTaggedInt\"}}"}"#;
        let facts = decode(text).unwrap();
        assert_eq!(Value::Object(facts.clone()), json!({"ansible_hostname": "vm", "_ansible_facts_gathered": true, "c": 1}));
        assert_eq!(decode(&encode(&facts)), Some(facts));
        assert_eq!(encode(&json!({"a": 1}).as_object().unwrap().clone()), r#"{"__payload__": "{\"a\": 1}"}"#);
    }

    #[test]
    fn expired_and_broken_files_count_as_no_facts() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FactCache::new(&FactCaching::JsonFile { dir: dir.path().into(), timeout_secs: 3600, prefix: String::new() });
        cache.update("h1", json!({"ansible_x": 1}).as_object().unwrap()).unwrap();
        assert!(dir.path().join("s1_h1").exists());
        let again = FactCache::new(&FactCaching::JsonFile { dir: dir.path().into(), timeout_secs: 3600, prefix: String::new() });
        assert_eq!(again.facts("h1").get("ansible_x"), Some(&json!(1)));
        let old = SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::options().write(true).open(dir.path().join("s1_h1")).unwrap().set_modified(old).unwrap();
        let expired = FactCache::new(&FactCaching::JsonFile { dir: dir.path().into(), timeout_secs: 3600, prefix: String::new() });
        assert!(expired.facts("h1").is_empty());
        std::fs::write(dir.path().join("s1_h2"), "not json").unwrap();
        assert!(expired.facts("h2").is_empty());
    }
}
