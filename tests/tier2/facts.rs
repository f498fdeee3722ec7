//! The fact differential: `setup` under stockman and under ansible-playbook
//! on the same host, compared key by key. Every difference allowed is listed
//! here (and in README "Where stockman deliberately differs").

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::fleet::Fleet;
use crate::playbook::{ansible_command, ANSIBLE_PLAYBOOK};

const H: &str = "fleet01";

/// Facts Ansible gathers and stockman does not (README says why).
const NOT_GATHERED: &[&str] = &["devices", "device_links", "locally_reachable_ips", "selinux_python_present", "system_capabilities", "system_capabilities_enforced"];
/// Facts whose values change between two gatherings seconds apart.
const VOLATILE: &[&str] = &["date_time", "loadavg", "memfree_mb", "memory_mb", "uptime_seconds"];
/// Environment variables that belong to the session: Ansible's runs on a pty with LANG set.
const SESSION_ENV: &[&str] = &["SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "TERM", "LANG", "_", "SHLVL", "PWD"];
/// Mount sizes that move while the host runs.
const MOUNT_VOLATILE: &[&str] = &["size_available", "block_available", "block_used", "inode_available", "inode_used"];

const LOCAL_FACTS: &str = "mkdir -p /etc/ansible/facts.d && printf '{\"role\": \"web\", \"n\": 3}' > /etc/ansible/facts.d/app.fact \
&& printf '[general]\\nName=demo\\npct=50%%%%\\n' > /etc/ansible/facts.d/ini.fact \
&& printf '#!/bin/sh\\necho \"{\\\\\"script\\\\\": true}\"\\n' > /etc/ansible/facts.d/run.fact && chmod +x /etc/ansible/facts.d/run.fact";

fn dump_playbook(dir: &std::path::Path, tool: &str, setup_args: &str) -> std::path::PathBuf {
    let play = format!(
        "- hosts: {H}\n  gather_facts: false\n  tasks:\n    - setup: {setup_args}\n      register: r\n    - copy:\n        content: \"{{{{ r.ansible_facts | to_json }}}}\"\n        dest: /root/facts-{tool}.json\n"
    );
    let path = dir.join(format!("facts-{tool}.yml"));
    std::fs::write(&path, play).unwrap();
    path
}

/// Both tools' `setup` results (their `ansible_facts`) with `setup_args`.
fn both(fleet: &Fleet, setup_args: &str) -> (Map<String, Value>, Map<String, Value>) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home/.ssh");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::copy(fleet.known_hosts_path(), home.join("known_hosts")).unwrap();
    let home = dir.path().join("home");
    let mut results = Vec::new();
    for tool in ["ansible", "stockman"] {
        let playbook = dump_playbook(dir.path(), tool, setup_args);
        let mut cmd = if tool == "ansible" {
            ansible_command(ANSIBLE_PLAYBOOK, &home)
        } else {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_stockman"));
            c.arg("playbook").env("HOME", &home).env_remove("SSH_AUTH_SOCK");
            c
        };
        let out = cmd.arg("-i").arg(fleet.inventory_path()).arg(&playbook).current_dir(dir.path()).output().unwrap();
        assert!(out.status.success(), "{tool} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let text = fleet.sh(H, &format!("cat /root/facts-{tool}.json"));
        match serde_json::from_str(&text).unwrap() {
            Value::Object(m) => results.push(m),
            other => panic!("{tool}: not an object: {other}"),
        }
    }
    let stockman = results.pop().unwrap();
    (results.pop().unwrap(), stockman)
}

/// Every difference between the trees not allowed above, one line each.
fn differences(ansible: &Map<String, Value>, stockman: &Map<String, Value>) -> Vec<String> {
    let mut diffs = Vec::new();
    let names = |m: &Map<String, Value>| -> BTreeSet<String> { m.get("ansible_interfaces").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(|s| s.replace('-', "_"))).collect()).unwrap_or_default() };
    // Interfaces on the fleet's shared /sys come and go with other fleets: only those both saw are compared.
    let (ours, theirs) = (names(stockman), names(ansible));
    let seen_by_one: BTreeSet<String> = ours.symmetric_difference(&theirs).map(|n| format!("ansible_{n}")).collect();
    for (key, value) in ansible {
        let short = key.strip_prefix("ansible_").unwrap_or(key);
        if NOT_GATHERED.contains(&short) || VOLATILE.contains(&short) || seen_by_one.contains(key) || key == "ansible_interfaces" {
            continue;
        }
        let Some(mine) = stockman.get(key) else {
            diffs.push(format!("missing `{key}` (Ansible: {value})"));
            continue;
        };
        let (theirs, mine) = (normalise(short, value), normalise(short, mine));
        if theirs != mine {
            diffs.push(format!("`{key}`: Ansible {theirs} / stockman {mine}"));
        }
    }
    for key in stockman.keys().filter(|k| !ansible.contains_key(*k) && !seen_by_one.contains(*k)) {
        diffs.push(format!("extra `{key}`"));
    }
    diffs
}

/// A value with its allowed differences taken out: session variables, volatile
/// mount sizes, orders Ansible takes from the directory listing.
fn normalise(key: &str, value: &Value) -> Value {
    let mut v = value.clone();
    match (key, &mut v) {
        ("env", Value::Object(env)) => env.retain(|k, _| !SESSION_ENV.contains(&k.as_str())),
        ("mounts", Value::Array(list)) => {
            for m in list.iter_mut().filter_map(Value::as_object_mut) {
                m.retain(|k, _| !MOUNT_VOLATILE.contains(&k.as_str()));
            }
            list.sort_by_key(|m| m["mount"].to_string());
        }
        ("virtualization_tech_guest" | "virtualization_tech_host", Value::Array(list)) => list.sort_by_key(|t| t.to_string()),
        (_, Value::Object(iface)) => {
            if let Some(Value::Array(members)) = iface.get_mut("interfaces") {
                members.sort_by_key(|t| t.to_string());
            }
        }
        _ => {}
    }
    v
}

#[test]
fn setup_facts_match_ansible_key_by_key() {
    let fleet = Fleet::up(1);
    fleet.sh(H, LOCAL_FACTS);
    let (ansible, stockman) = both(&fleet, "{}");
    let diffs = differences(&ansible, &stockman);
    assert!(diffs.is_empty(), "{} difference(s) from Ansible's setup:\n{}", diffs.len(), diffs.join("\n"));
    assert_eq!(stockman["ansible_local"]["app"]["role"], "web");
    assert_eq!(stockman["ansible_local"]["ini"]["general"]["name"], "demo");
    assert_eq!(stockman["ansible_local"]["run"]["script"], true);
    assert!(stockman["ansible_mounts"].as_array().is_some_and(|m| m.iter().all(|m| m.get("size_total").is_some())), "{}", stockman["ansible_mounts"]);
}

#[test]
fn setup_subsets_and_filters_match_ansible() {
    let fleet = Fleet::up(1);
    for args in ["{gather_subset: ['!all', 'network']}", "{gather_subset: ['!all', '!min', 'distribution']}", "{filter: ['ansible_distribution*', 'ansible_os_family']}", "{gather_subset: min, filter: '*local*'}"] {
        let (ansible, stockman) = both(&fleet, args);
        let keys = |m: &Map<String, Value>| m.keys().filter(|k| !NOT_GATHERED.contains(&k.trim_start_matches("ansible_"))).cloned().collect::<BTreeSet<_>>();
        let names = |m: &Map<String, Value>| -> BTreeSet<String> { m.get("ansible_interfaces").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(|s| format!("ansible_{}", s.replace('-', "_")))).collect()).unwrap_or_default() };
        let drop = names(&ansible).symmetric_difference(&names(&stockman)).cloned().collect::<BTreeSet<_>>();
        let (a, s) = (&keys(&ansible) - &drop, &keys(&stockman) - &drop);
        assert_eq!(a, s, "setup {args}: the fact names differ");
    }
}
