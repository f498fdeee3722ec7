//! Terraform as an inventory: a state file (format version 4, `terraform.tfstate`)
//! or a saved `terraform output -json`. Recognised by content, whatever the
//! file is called.
//!
//! # State
//! Every instance of a managed resource of a known compute type (see
//! [`COMPUTE_TYPES`]) becomes a host:
//! - name: the `Name` (or `name`) tag/label, else the `name` attribute, else the
//!   resource address (`module.app.aws_instance.web[0]`); a name already taken
//!   falls back to the address too;
//! - `ansible_host`: the first public address, else the first private one;
//! - groups: the resource type (`aws_instance`), the resource name (`web`), the
//!   values of tags/labels named Role, Group, Groups, ansible_group or
//!   ansible_groups (comma-separated), and each entry of list-style tags
//!   (DigitalOcean, OpenStack and GCE network tags); all sanitised as Ansible
//!   sanitises group names (anything but `[A-Za-z0-9_]` becomes `_`);
//! - variable `terraform`: `{address, mode, type, name, module, index,
//!   provider, attributes}`, `attributes` being the instance's attributes minus
//!   those the state marks sensitive.
//!
//! An output named `ansible_inventory` or `stockman_inventory` in the state is
//! read as in an outputs file.
//!
//! # Outputs (`terraform output -json > outputs.json`)
//! - `ansible_inventory` / `stockman_inventory`: Ansible's JSON inventory, used as is;
//! - a list of addresses: a group named after the output, one host per address;
//! - a map of name → address: hosts with `ansible_host`, in a group named after the output;
//! - anything else is left alone; every non-sensitive output is in the `all`
//!   group's variable `terraform_outputs`.
//!
//! A sensitive output's value is never printed: it is not in `terraform_outputs`,
//! hosts made from it are named `<output>_<index>` (its addresses only in
//! `ansible_host`), errors about it don't quote it, and its strings are handed
//! back as secrets for the reporter to mask.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::json_source::{self, kind};
use super::model::{GroupId, Model, ALL};

/// Which Terraform document a JSON value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Document {
    State,
    Outputs,
}

/// Recognises a state (`terraform_version` and `resources`) or the output of
/// `terraform output -json` (an object of `{value, type, sensitive}` objects).
pub(crate) fn recognise(doc: &Value) -> Option<Document> {
    let doc = doc.as_object()?;
    if doc.contains_key("terraform_version") && doc.contains_key("resources") {
        return Some(Document::State);
    }
    let is_output = |v: &Value| v.as_object().is_some_and(|o| o.contains_key("value") && o.contains_key("sensitive"));
    (!doc.is_empty() && doc.values().all(is_output)).then_some(Document::Outputs)
}

/// What reading added besides hosts and groups.
#[derive(Debug, Default)]
pub(crate) struct Extras {
    pub warnings: Vec<String>,
    /// Strings from sensitive outputs that ended up in variables.
    pub secrets: Vec<String>,
}

/// One known compute resource type: where its name, addresses and tags live.
/// A path goes through lists (blocks) element by element.
pub(crate) struct ComputeType {
    pub type_name: &'static str,
    pub public: &'static [&'static [&'static str]],
    pub private: &'static [&'static [&'static str]],
    /// Attributes holding key → value tags or labels.
    pub tag_maps: &'static [&'static str],
    /// Attributes holding a list of plain tags.
    pub tag_lists: &'static [&'static str],
}

/// The resource types whose instances are hosts, with their providers' attribute names.
pub(crate) const COMPUTE_TYPES: &[ComputeType] = &[
    ComputeType {
        type_name: "aws_instance",
        public: &[&["public_ip"], &["ipv6_addresses"]],
        private: &[&["private_ip"]],
        tag_maps: &["tags", "tags_all"],
        tag_lists: &[],
    },
    ComputeType {
        type_name: "google_compute_instance",
        public: &[&["network_interface", "access_config", "nat_ip"], &["network_interface", "ipv6_access_config", "external_ipv6"]],
        private: &[&["network_interface", "network_ip"]],
        tag_maps: &["labels"],
        tag_lists: &["tags"],
    },
    ComputeType {
        type_name: "azurerm_linux_virtual_machine",
        public: &[&["public_ip_address"], &["public_ip_addresses"]],
        private: &[&["private_ip_address"], &["private_ip_addresses"]],
        tag_maps: &["tags"],
        tag_lists: &[],
    },
    ComputeType {
        type_name: "openstack_compute_instance_v2",
        public: &[&["network", "floating_ip"]],
        private: &[&["access_ip_v4"], &["network", "fixed_ip_v4"], &["access_ip_v6"], &["network", "fixed_ip_v6"]],
        tag_maps: &["metadata"],
        tag_lists: &["tags"],
    },
    ComputeType {
        type_name: "hcloud_server",
        public: &[&["ipv4_address"], &["ipv6_address"]],
        private: &[&["network", "ip"]],
        tag_maps: &["labels"],
        tag_lists: &[],
    },
    ComputeType {
        type_name: "digitalocean_droplet",
        public: &[&["ipv4_address"], &["ipv6_address"]],
        private: &[&["ipv4_address_private"]],
        tag_maps: &[],
        tag_lists: &["tags"],
    },
    ComputeType {
        type_name: "libvirt_domain",
        public: &[],
        private: &[&["network_interface", "addresses"]],
        tag_maps: &[],
        tag_lists: &[],
    },
    ComputeType {
        type_name: "vsphere_virtual_machine",
        public: &[],
        private: &[&["default_ip_address"], &["guest_ip_addresses"]],
        tag_maps: &[],
        tag_lists: &[],
    },
];

/// Tag/label keys (compared without case) whose values name groups.
const GROUP_TAGS: [&str; 5] = ["role", "group", "groups", "ansible_group", "ansible_groups"];
/// Output names whose value is an Ansible JSON inventory.
const INVENTORY_OUTPUTS: [&str; 2] = ["ansible_inventory", "stockman_inventory"];

/// Reads a state (version 4) into `model`.
pub(crate) fn read_state(doc: &Value, model: &mut Model) -> Result<Extras, String> {
    let mut extras = Extras::default();
    match doc.get("version").and_then(Value::as_u64) {
        Some(4) => {}
        Some(v) => return Err(format!("Terraform state format version {v} is not supported (only 4, written by Terraform 0.12 and later)")),
        None => return Err("a Terraform state without a `version`".into()),
    }
    let Some(resources) = doc.get("resources").and_then(Value::as_array) else {
        return Err("`resources` of the Terraform state must be a list".into());
    };
    for resource in resources {
        read_resource(resource, model, &mut extras)?;
    }
    if let Some(Value::Object(outputs)) = doc.get("outputs") {
        for (name, output) in outputs.iter().filter(|(n, _)| INVENTORY_OUTPUTS.contains(&n.as_str())) {
            read_output(name, output, model, &mut extras)?;
        }
    }
    Ok(extras)
}

/// Reads a saved `terraform output -json` into `model`.
pub(crate) fn read_outputs(doc: &Value, model: &mut Model) -> Result<Extras, String> {
    let mut extras = Extras::default();
    let Value::Object(outputs) = doc else {
        return Err(format!("expected an object of outputs, found {}", kind(doc)));
    };
    let mut visible = Map::new();
    for (name, output) in outputs {
        read_output(name, output, model, &mut extras)?;
        if !is_sensitive(output) {
            visible.insert(name.clone(), output.get("value").cloned().unwrap_or(Value::Null));
        }
    }
    model.set_group_var(ALL, "terraform_outputs", Value::Object(visible))?;
    Ok(extras)
}

fn is_sensitive(output: &Value) -> bool {
    output.get("sensitive").and_then(Value::as_bool).unwrap_or(false)
}

fn read_output(name: &str, output: &Value, model: &mut Model, extras: &mut Extras) -> Result<(), String> {
    let sensitive = is_sensitive(output);
    let value = output.get("value").unwrap_or(&Value::Null);
    if INVENTORY_OUTPUTS.contains(&name) {
        return match json_source::read(value, model) {
            Ok(_) if sensitive => {
                collect_strings(value, &mut extras.secrets);
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(_) if sensitive => Err(format!("the sensitive output `{name}` is not an Ansible JSON inventory (its value is not shown)")),
            Err(m) => Err(format!("output `{name}` is not an Ansible JSON inventory: {m}")),
        };
    }
    let entries: Vec<(Option<&str>, &str)> = match value {
        Value::Array(items) => items.iter().map(|v| (None, v.as_str().unwrap_or(""))).collect(),
        Value::Object(map) => map.iter().map(|(k, v)| (Some(k.as_str()), v.as_str().unwrap_or(""))).collect(),
        _ => return Ok(()),
    };
    let addresses = entries.iter().filter(|(_, a)| is_address(a)).count();
    if addresses == 0 {
        return Ok(());
    }
    if addresses < entries.len() {
        extras.warnings.push(format!("Skipping Terraform output `{name}`: only some of its entries are addresses"));
        return Ok(());
    }
    let group = model.add_group(&group_name(name));
    for (index, (key, address)) in entries.into_iter().enumerate() {
        let host_name = match key {
            _ if sensitive => format!("{}_{index}", group_name(name)),
            Some(key) => key.to_string(),
            None => address.to_string(),
        };
        let id = model.add_host(&host_name, Some(group), None);
        if host_name != address {
            model.set_host_var(id, "ansible_host", address.into());
        }
        if sensitive {
            extras.secrets.push(address.to_string());
        }
    }
    Ok(())
}

/// An IP address or a dotted DNS name: what an output of hosts holds.
fn is_address(text: &str) -> bool {
    if text.parse::<IpAddr>().is_ok() {
        return true;
    }
    let labels_ok = text.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    text.contains('.') && text.len() <= 253 && labels_ok && !text.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn collect_strings(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(s) if !s.is_empty() => into.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, into)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, into)),
        _ => {}
    }
}

fn read_resource(resource: &Value, model: &mut Model, extras: &mut Extras) -> Result<(), String> {
    let text = |key: &str| resource.get(key).and_then(Value::as_str).unwrap_or("");
    let (mode, type_name, name) = (text("mode"), text("type"), text("name"));
    let Some(compute) = COMPUTE_TYPES.iter().find(|c| c.type_name == type_name) else {
        return Ok(());
    };
    if mode != "managed" {
        return Ok(());
    }
    let Some(instances) = resource.get("instances").and_then(Value::as_array) else {
        return Err(format!("resource `{type_name}.{name}` has no `instances` list"));
    };
    for instance in instances {
        let address = instance_address(resource, instance);
        let Some(attributes) = instance.get("attributes").and_then(Value::as_object) else {
            extras.warnings.push(format!("Skipping Terraform resource `{address}`: it has no attributes"));
            continue;
        };
        add_instance(Instance { resource, instance, compute, attributes, address }, model, extras)?;
    }
    Ok(())
}

struct Instance<'a> {
    resource: &'a Value,
    instance: &'a Value,
    compute: &'a ComputeType,
    attributes: &'a Map<String, Value>,
    address: String,
}

fn add_instance(i: Instance<'_>, model: &mut Model, extras: &mut Extras) -> Result<(), String> {
    let tags = tag_map(i.attributes, i.compute);
    let preferred = tags.get("Name").or(tags.get("name")).or(i.attributes.get("name")).and_then(Value::as_str).filter(|n| !n.is_empty());
    let host_name = match preferred {
        Some(n) if model.host_id(n).is_none() => n.to_string(),
        Some(n) => {
            extras.warnings.push(format!("Terraform resource `{}` is named `{n}` like another host; using its address as its name", i.address));
            i.address.clone()
        }
        None => i.address.clone(),
    };
    let resource_type = i.compute.type_name;
    let resource_name = i.resource.get("name").and_then(Value::as_str).unwrap_or(resource_type);
    let id = model.add_host(&host_name, None, None);
    let mut groups = vec![resource_type.to_string(), group_name(resource_name)];
    groups.extend(tag_groups(&tags, i.attributes, i.compute));
    for group in groups {
        let g: GroupId = model.add_group(&group);
        model.add_host(&host_name, Some(g), None);
    }
    match first_address(i.attributes, i.compute.public).or_else(|| first_address(i.attributes, i.compute.private)) {
        Some(address) => model.set_host_var(id, "ansible_host", address.into()),
        None => extras.warnings.push(format!("Terraform resource `{}` has no address: connecting to `{host_name}` by name", i.address)),
    }
    model.set_host_var(id, "terraform", terraform_var(&i));
    Ok(())
}

fn terraform_var(i: &Instance<'_>) -> Value {
    let mut var = Map::new();
    var.insert("address".into(), i.address.clone().into());
    for key in ["mode", "type", "name", "module", "provider"] {
        if let Some(v) = i.resource.get(key) {
            var.insert(key.into(), v.clone());
        }
    }
    if let Some(index) = i.instance.get("index_key") {
        var.insert("index".into(), index.clone());
    }
    let mut attributes = Value::Object(i.attributes.clone());
    if let Some(Value::Array(paths)) = i.instance.get("sensitive_attributes") {
        paths.iter().for_each(|path| remove_path(&mut attributes, path));
    }
    var.insert("attributes".into(), attributes);
    Value::Object(var)
}

/// Removes the attribute at a state path (`[{"type": "get_attr", "value": "password"}]`).
fn remove_path(root: &mut Value, path: &Value) {
    let Some(steps) = path.as_array().filter(|s| !s.is_empty()) else { return };
    let mut node = root;
    for (n, step) in steps.iter().enumerate() {
        let last = n + 1 == steps.len();
        let key = step.get("value");
        let next = match (node, key) {
            (Value::Object(map), Some(Value::String(k))) if last => {
                map.remove(k);
                return;
            }
            (Value::Object(map), Some(Value::String(k))) => map.get_mut(k),
            // Index steps hold `{"value": 0, "type": "number"}`.
            (Value::Array(items), Some(index)) => {
                let Some(i) = index.get("value").and_then(Value::as_u64).and_then(|i| usize::try_from(i).ok()) else { return };
                if last && i < items.len() {
                    items[i] = Value::Null;
                    return;
                }
                items.get_mut(i)
            }
            _ => None,
        };
        let Some(next) = next else { return };
        node = next;
    }
}

/// `module.app.aws_instance.web[0]` or `aws_instance.web["blue"]`.
fn instance_address(resource: &Value, instance: &Value) -> String {
    let text = |key: &str| resource.get(key).and_then(Value::as_str).unwrap_or("");
    let mut address = String::new();
    if !text("module").is_empty() {
        address.push_str(text("module"));
        address.push('.');
    }
    if text("mode") == "data" {
        address.push_str("data.");
    }
    address.push_str(&format!("{}.{}", text("type"), text("name")));
    match instance.get("index_key") {
        Some(Value::Number(n)) => address.push_str(&format!("[{n}]")),
        Some(Value::String(s)) => address.push_str(&format!("[{}]", Value::String(s.clone()))),
        _ => {}
    }
    address
}

/// The type's tag/label maps merged (`tags_all` includes provider default tags).
fn tag_map(attributes: &Map<String, Value>, compute: &ComputeType) -> Map<String, Value> {
    let mut tags = Map::new();
    for attr in compute.tag_maps {
        if let Some(Value::Object(map)) = attributes.get(*attr) {
            for (k, v) in map {
                tags.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    tags
}

fn tag_groups(tags: &Map<String, Value>, attributes: &Map<String, Value>, compute: &ComputeType) -> Vec<String> {
    let mut groups = Vec::new();
    for (key, value) in tags {
        if GROUP_TAGS.contains(&key.to_ascii_lowercase().as_str()) {
            let names = value.as_str().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty());
            groups.extend(names.map(group_name));
        }
    }
    for attr in compute.tag_lists {
        if let Some(Value::Array(list)) = attributes.get(*attr) {
            groups.extend(list.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(group_name));
        }
    }
    groups
}

fn first_address(attributes: &Map<String, Value>, paths: &[&[&str]]) -> Option<String> {
    for path in paths {
        let Some((first, rest)) = path.split_first() else { continue };
        let mut found = Vec::new();
        if let Some(value) = attributes.get(*first) {
            strings_at(value, rest, &mut found);
        }
        if let Some(address) = found.into_iter().find(|s| !s.is_empty()) {
            return Some(address);
        }
    }
    None
}

/// Strings at `path`, going into every element of lists on the way (and at the end).
fn strings_at(value: &Value, path: &[&str], found: &mut Vec<String>) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|v| strings_at(v, path, found)),
        (Value::Object(map), Some((key, rest))) => {
            if let Some(v) = map.get(*key) {
                strings_at(v, rest, found);
            }
        }
        (Value::String(s), None) => found.push(s.clone()),
        _ => {}
    }
}

/// Ansible's `to_safe_group_name`: every character but `[A-Za-z0-9_]` becomes `_`.
pub(crate) fn group_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests;
