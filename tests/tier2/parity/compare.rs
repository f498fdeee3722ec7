//! Differences between the Ansible side and the stockman side, keyed so that one
//! line says what differs: `copy path /srv/parity/copy/plain.txt`,
//! `apt recap run 2`, `user registered run 1 r_user_alice.uid`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// One thing that is not the same on both sides (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub key: String,
    pub ansible: Option<String>,
    pub stockman: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".to_string());
        write!(f, "{}\n    - ansible:  {}\n    + stockman: {}", self.key, side(&self.ansible), side(&self.stockman))
    }
}

/// Registered fields: what Ansible returns must come back the same; a field only
/// stockman returns is allowed (extra information breaks no playbook).
pub fn diff_registered(prefix: &str, ansible: &BTreeMap<String, String>, stockman: &BTreeMap<String, String>) -> Vec<Difference> {
    let only_ansible_keys: BTreeMap<String, String> =
        stockman.iter().filter(|(k, _)| ansible.contains_key(*k) || !k.contains('.')).map(|(k, v)| (k.clone(), v.clone())).collect();
    diff_maps(prefix, ansible, &only_ansible_keys)
}

/// Every key whose value differs or that only one side has, in key order.
pub fn diff_maps(prefix: &str, ansible: &BTreeMap<String, String>, stockman: &BTreeMap<String, String>) -> Vec<Difference> {
    let keys: BTreeSet<&String> = ansible.keys().chain(stockman.keys()).collect();
    keys.into_iter()
        .filter(|k| ansible.get(*k) != stockman.get(*k))
        .map(|k| Difference { key: format!("{prefix} {k}"), ansible: ansible.get(k).cloned(), stockman: stockman.get(k).cloned() })
        .collect()
}

/// The registered-result fields compared (issue 4's lists, plus the status flags);
/// dotted names reach into objects.
pub const FIELDS: &[&str] = &[
    "changed", "failed", "skipped", "dest", "checksum", "md5sum", "size", "mode", "owner", "group", "uid", "gid",
    "backup_file", "before", "after", "remote_url_changed", "name", "groups", "home", "shell", "state", "createhome",
    "system", "comment", "enabled", "status.ActiveState", "status.SubState", "status.UnitFileState", "cache_updated",
];

/// For every registered variable of one scenario host: `VAR.FIELD → value`, as JSON text.
pub fn registered_fields(vars: &BTreeMap<(String, String), Value>, host: &str, extra: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for ((h, var), value) in vars {
        if h != host {
            continue;
        }
        out.insert(var.clone(), "(registered)".to_string());
        for field in FIELDS.iter().chain(extra) {
            if let Some(v) = field.split('.').try_fold(value, |v, part| v.get(part)) {
                out.insert(format!("{var}.{field}"), normalise_value(field, v));
            }
        }
    }
    out
}

/// Backup names carry a timestamp; everything else is compared as printed.
fn normalise_value(field: &str, v: &Value) -> String {
    let text = v.to_string();
    if field == "backup_file" {
        let stamp = regex::Regex::new(r"\.[0-9]+\.[0-9]{4}-[0-9]{2}-[0-9]{2}@[0-9]{2}:[0-9]{2}:[0-9]{2}~").unwrap();
        // cron's backups are temporary files, random by name.
        let crontab = regex::Regex::new(r#"^"/tmp/crontab[A-Za-z0-9_]{8}"$"#).unwrap();
        return crontab.replace(&stamp.replace(&text, ".(backup)~"), "\"/tmp/crontab(random)\"").into_owned();
    }
    text
}

/// A difference that is known and accepted for now, with the reason.
#[derive(Clone)]
pub struct Expected {
    /// The whole difference key, `*` matching any run of characters
    /// (`copy path /srv/parity/copy/contents*`, `file registered run * r_file_x.*`).
    pub key: &'static str,
    pub reason: &'static str,
}

/// Splits `found` into differences nobody expected and expected ones that no
/// longer occur (their entry should go).
pub fn against_expected<'a>(found: &'a [Difference], expected: &'a [Expected]) -> (Vec<&'a Difference>, Vec<&'a Expected>) {
    let unexpected = found.iter().filter(|d| !expected.iter().any(|e| glob(e.key, &d.key))).collect();
    let stale = expected.iter().filter(|e| !found.iter().any(|d| glob(e.key, &d.key))).collect();
    (unexpected, stale)
}

/// Whether `text` matches `pattern` as a whole, `*` standing for any characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else { return false };
            (0..=rest.len()).filter(|&i| rest.is_char_boundary(i)).any(|i| glob(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_and_expectations() {
        let a = BTreeMap::from([("x".to_string(), "1".to_string()), ("y".to_string(), "2".to_string())]);
        let b = BTreeMap::from([("x".to_string(), "1".to_string()), ("z".to_string(), "3".to_string())]);
        let found = diff_maps("s", &a, &b);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0], Difference { key: "s y".into(), ansible: Some("2".into()), stockman: None });
        let expected = [Expected { key: "s z", reason: "r" }, Expected { key: "s w*", reason: "gone" }];
        let (unexpected, stale) = against_expected(&found, &expected);
        assert_eq!(unexpected, vec![&found[0]]);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].key, "s w*");
        assert!(glob("a * b.*", "a run 1 b.x") && glob("p /x*", "p /x") && !glob("p /x", "p /x/y") && !glob("a*c", "abd"));
        let b = BTreeMap::from([("r.x".to_string(), "1".to_string()), ("r".to_string(), "(registered)".to_string())]);
        assert_eq!(diff_registered("p", &BTreeMap::new(), &b).len(), 1, "a whole variable only stockman has counts");
    }

    #[test]
    fn registered_fields_reach_into_status() {
        let vars = BTreeMap::from([(
            ("systemd".to_string(), "r".to_string()),
            serde_json::json!({"changed": true, "status": {"ActiveState": "active"}, "backup_file": "/a.12.2024-01-01@10:00:00~"}),
        )]);
        let fields = registered_fields(&vars, "systemd", &[]);
        assert_eq!(fields["r.changed"], "true");
        assert_eq!(fields["r.status.ActiveState"], "\"active\"");
        assert_eq!(fields["r.backup_file"], "\"/a.(backup)~\"");
        assert!(registered_fields(&vars, "apt", &[]).is_empty());
    }
}
