//! `stockman inventory` (Ansible's `ansible-inventory`): the inventory as
//! `--list` JSON (or `--yaml`), one host's variables (`--host`), or a
//! `--graph` of groups and hosts, over every source `-i` reads.

use std::collections::HashSet;
use std::path::PathBuf;

use clap::{ArgAction, Args};
use serde_json::{Map, Value};

use crate::inventory::Inventory;
use crate::report;
use crate::template::py;

pub(super) const EXAMPLES: &str = "\
Examples:
  stockman inventory -i hosts.ini --graph
  stockman inventory -i hosts.ini --graph web --vars
  stockman inventory -i terraform.tfstate --list
  stockman inventory -i hosts.yml --host web1
  stockman inventory -i hosts.ini --list --yaml --output inventory.yml";

#[derive(Args, Debug)]
pub(super) struct InventoryArgs {
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY", action = ArgAction::Append)]
    inventory: Vec<PathBuf>,
    /// Only these hosts (a pattern).
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    limit: Option<String>,
    /// Every group and host with the hosts' variables, as JSON (or YAML with --yaml).
    #[arg(long = "list")]
    list: bool,
    /// One host's variables.
    #[arg(long = "host", value_name = "HOST")]
    host: Option<String>,
    /// The groups and hosts as a tree, from `all` or GROUP.
    #[arg(long = "graph")]
    graph: bool,
    /// With --graph: the group to start from.
    #[arg(value_name = "GROUP", default_value = "all")]
    group: String,
    /// With --graph: show the variables of every group and host.
    #[arg(long = "vars")]
    vars: bool,
    /// YAML instead of JSON.
    #[arg(short = 'y', long = "yaml")]
    yaml: bool,
    /// Variables as written in the inventory (host's own, group's own), not merged per host.
    #[arg(long = "export")]
    export: bool,
    /// Write the result to FILE instead of stdout.
    #[arg(long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// group_vars/ and host_vars/ beside this directory are read too.
    #[arg(long = "playbook-dir", value_name = "DIR")]
    playbook_dir: Option<PathBuf>,
    #[command(flatten)]
    vault: crate::vault::command::VaultFlags,
}

pub(super) fn run(args: InventoryArgs) -> u8 {
    if !args.list && !args.graph && args.host.is_none() {
        return report::error::fatal("No action selected, at least one of --host, --graph or --list needs to be specified.", 5);
    }
    let config = match crate::config::load_reporting() {
        Ok(l) => l,
        Err(message) => return report::error::fatal(&message, 5),
    };
    // As ansible-inventory: ansible.cfg's inventory when no -i is given.
    let sources = match args.inventory.is_empty() {
        true => crate::config::Settings::from_config(&config).map(|s| s.inventories),
        false => Ok(args.inventory.clone()),
    };
    let loaded = sources
        .and_then(|inventories| {
            let secrets = args.vault.sources(&crate::config::vault_defaults(&config)).map_err(|e| e.to_string())?;
            crate::vault::install_for_run(&secrets).map_err(|e| e.to_string())?;
            Inventory::load(&inventories).map_err(|e| e.to_string())
        })
        // As ansible-inventory: the current directory stands for the playbook's.
        .and_then(|inv| inv.with_playbook_dir(args.playbook_dir.as_deref().unwrap_or(std::path::Path::new("."))).map_err(|e| e.to_string()));
    let inventory = match loaded {
        Ok(inv) => inv,
        Err(message) => return report::error::fatal(&message, 1),
    };
    for warning in inventory.warnings() {
        report::error::warning(warning);
    }
    let text = match render(&args, &inventory) {
        Ok(text) => text,
        Err(message) => return report::error::fatal(&message, 5),
    };
    match &args.output {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => 0,
            Err(e) => report::error::fatal(&format!("Unable to write to destination file '{}': {e}", path.display()), 1),
        },
        None => {
            report::error::note(&text);
            0
        }
    }
}

fn render(args: &InventoryArgs, inventory: &Inventory) -> Result<String, String> {
    if let Some(name) = &args.host {
        let selection = inventory.select(name, None).map_err(|e| e.to_string())?;
        let [host] = selection.hosts.as_slice() else {
            return Err("You must pass a single valid host to --host parameter".into());
        };
        let vars = inventory.host_vars_view(&host.name, args.export, args.playbook_dir.is_some()).unwrap_or_default();
        return Ok(dump(&sealed(Value::Object(vars)), args.yaml));
    }
    let available = available_hosts(inventory, args.limit.as_deref())?;
    if args.graph {
        let lister = Lister { inventory, available: &available, export: args.export, playbook_dir: args.playbook_dir.is_some() };
        if inventory.group_view(&args.group).is_none() {
            return Err("Pattern must be valid group name when using --graph".into());
        }
        let mut lines = Vec::new();
        lister.graph(&args.group, 0, args.vars, &mut lines);
        return Ok(lines.join("\n"));
    }
    let lister = Lister { inventory, available: &available, export: args.export, playbook_dir: args.playbook_dir.is_some() };
    let value = if args.yaml { lister.yaml_group("all", &mut HashSet::new(), &mut HashSet::new()) } else { lister.json_list() };
    Ok(dump(&sealed(value), args.yaml))
}

/// Inline `!vault` values as ansible-inventory's --list and --host show them:
/// `{"__ansible_vault": VAULT_TEXT}`, never the plaintext (--graph --vars shows it, as Ansible).
fn sealed(value: Value) -> Value {
    match value {
        Value::String(s) => match crate::vault::keyring::ciphertext_of(&s) {
            Some(vault_text) => serde_json::json!({"__ansible_vault": vault_text}),
            None => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(sealed).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, sealed(v))).collect()),
        other => other,
    }
}

fn available_hosts(inventory: &Inventory, limit: Option<&str>) -> Result<HashSet<String>, String> {
    let selection = inventory.select("all", limit).map_err(|e| e.to_string())?;
    Ok(selection.hosts.into_iter().map(|h| h.name).collect())
}

/// JSON as ansible-inventory writes it (keys sorted, 4-space indents), or YAML.
fn dump(value: &Value, yaml: bool) -> String {
    if yaml {
        // yaml.dump(default_flow_style=False); printed without the document's final newline.
        let layout = crate::template::yaml_emit::Layout::new(2, true);
        crate::template::yaml_emit::dump(value, layout).trim_end_matches('\n').to_string()
    } else {
        crate::report::pyjson::dumps(value, Some(4))
    }
}

struct Lister<'a> {
    inventory: &'a Inventory,
    available: &'a HashSet<String>,
    export: bool,
    /// `--playbook-dir` was given: its group_vars/ count for group vars and --export.
    playbook_dir: bool,
}

impl Lister<'_> {
    fn host_vars(&self, name: &str) -> Map<String, Value> {
        self.inventory.host_vars_view(name, self.export, self.playbook_dir).unwrap_or_default()
    }

    /// `--list`: every group reachable from `all` (hosts, children, with
    /// `--export` vars; empty keys and groups left out) and `_meta.hostvars`.
    fn json_list(&self) -> Value {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        self.json_group("all", &mut seen, &mut out);
        let mut hostvars = Map::new();
        let selection = self.inventory.select("all", None).map(|s| s.hosts).unwrap_or_default();
        for host in selection.iter().filter(|h| self.available.contains(&h.name)) {
            let vars = self.host_vars(&host.name);
            if !vars.is_empty() {
                hostvars.insert(host.name.clone(), Value::Object(vars));
            }
        }
        let meta = serde_json::json!({"hostvars": hostvars, "profile": "inventory_legacy"});
        out.insert("_meta".into(), meta);
        Value::Object(out)
    }

    fn json_group(&self, name: &str, seen: &mut HashSet<String>, out: &mut Map<String, Value>) {
        let Some(group) = self.inventory.group_view(name) else { return };
        let mut entry = Map::new();
        if name != "all" {
            let hosts: Vec<Value> = group.hosts.iter().filter(|h| self.available.contains(*h)).map(|h| Value::from(h.as_str())).collect();
            entry.insert("hosts".into(), Value::Array(hosts));
        }
        entry.insert("children".into(), Value::from(group.children.clone()));
        for child in &group.children {
            if seen.insert(child.clone()) {
                self.json_group(child, seen, out);
            }
        }
        if self.export {
            entry.insert("vars".into(), Value::Object(self.inventory.group_vars_view(name, self.playbook_dir)));
        }
        remove_empty(&mut entry);
        if entry.is_empty() {
            out.remove(name);
        } else {
            out.insert(name.to_string(), Value::Object(entry));
        }
    }

    /// `--list --yaml`: the YAML inventory layout, each host's vars under its first group.
    fn yaml_group(&self, name: &str, seen_hosts: &mut HashSet<String>, seen_groups: &mut HashSet<String>) -> Value {
        let mut out = Map::new();
        let Some(group) = self.inventory.group_view(name) else { return Value::Object(out) };
        let mut entry = Map::new();
        let mut children = Map::new();
        for child in group.children.iter().filter(|c| *c != "all") {
            if seen_groups.contains(child) {
                children.insert(child.clone(), Value::Object(Map::new()));
            } else {
                if let Value::Object(formatted) = self.yaml_group(child, seen_hosts, seen_groups) {
                    children.extend(formatted);
                }
                seen_groups.insert(child.clone());
            }
        }
        entry.insert("children".into(), Value::Object(children));
        let mut hosts = Map::new();
        if name != "all" {
            for host in group.hosts.iter().filter(|h| self.available.contains(*h)) {
                let vars = if seen_hosts.insert(host.clone()) { self.host_vars(host) } else { Map::new() };
                hosts.insert(host.clone(), Value::Object(vars));
            }
        }
        entry.insert("hosts".into(), Value::Object(hosts));
        if self.export {
            let vars = self.inventory.group_vars_view(name, self.playbook_dir);
            if !vars.is_empty() {
                entry.insert("vars".into(), Value::Object(vars));
            }
        }
        remove_empty(&mut entry);
        if !entry.is_empty() {
            out.insert(name.to_string(), Value::Object(entry));
        }
        Value::Object(out)
    }

    /// `--graph`: `@group:` lines, children then hosts, `  |--` per level.
    fn graph(&self, name: &str, depth: usize, show_vars: bool, lines: &mut Vec<String>) {
        let Some(group) = self.inventory.group_view(name) else { return };
        lines.push(graph_name(&format!("@{name}:"), depth));
        for child in &group.children {
            self.graph(child, depth + 1, show_vars, lines);
        }
        // ansible-inventory's graph shows every host, whatever --limit says.
        if name != "all" {
            for host in &group.hosts {
                lines.push(graph_name(host, depth + 1));
                if show_vars {
                    lines.extend(shown_vars(&self.host_vars(host), depth + 2));
                }
            }
        }
        if show_vars {
            lines.extend(shown_vars(&self.inventory.group_vars_view(name, self.playbook_dir), depth + 1));
        }
    }
}

fn remove_empty(entry: &mut Map<String, Value>) {
    let empty = |v: &Value| matches!(v, Value::Array(a) if a.is_empty()) || matches!(v, Value::Object(o) if o.is_empty());
    entry.retain(|_, v| !empty(v));
}

fn graph_name(name: &str, depth: usize) -> String {
    if depth == 0 { name.to_string() } else { format!("{}--{name}", "  |".repeat(depth)) }
}

/// `{name = value}` lines, sorted, values as Python's str() shows them.
fn shown_vars(vars: &Map<String, Value>, depth: usize) -> Vec<String> {
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    names.into_iter().map(|k| graph_name(&format!("{{{k} = {}}}", py::to_str(&vars[k])), depth)).collect()
}
