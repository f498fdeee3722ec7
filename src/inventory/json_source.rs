//! Ansible's JSON inventory protocol, as dynamic inventory scripts print it
//! (`--list`) and as `ansible-inventory --list` writes it:
//!
//! ```json
//! {
//!   "web": {"hosts": ["web1", "web2"], "vars": {"http_port": 80}, "children": ["canary"]},
//!   "db": ["db1"],
//!   "_meta": {"hostvars": {"web1": {"ansible_host": "10.0.0.1"}}}
//! }
//! ```
//!
//! Read as Ansible's `script` plugin reads it: a group is a list of hosts or
//! a mapping with `hosts`, `vars` and `children`; a mapping with none of
//! those keys is a host named after the group with those variables. For
//! convenience the YAML inventory's shapes are accepted too (`hosts` and
//! `children` as mappings), so the same reader serves Terraform outputs.

use serde_json::{Map, Value};

use super::model::{GroupId, Model};

/// What a document held besides its groups.
#[derive(Debug)]
pub(crate) struct Read {
    /// `_meta.hostvars` was present (even empty): no `--host` calls needed.
    pub has_hostvars: bool,
}

/// An error without location: the caller names the source.
pub(crate) type ReadError = String;

pub(crate) fn read(doc: &Value, model: &mut Model) -> Result<Read, ReadError> {
    let Value::Object(groups) = doc else {
        return Err(format!("expected a JSON object of groups, found {}", kind(doc)));
    };
    for (name, data) in groups.iter().filter(|(name, _)| *name != "_meta") {
        group(name, data, model)?;
    }
    let meta = groups.get("_meta");
    let hostvars = meta.and_then(|m| m.get("hostvars"));
    if let Some(hostvars) = hostvars {
        let Value::Object(hosts) = hostvars else {
            return Err(format!("`_meta.hostvars` must be an object of host names, found {}", kind(hostvars)));
        };
        for (host, vars) in hosts {
            host_vars(model, host, vars)?;
        }
    }
    Ok(Read { has_hostvars: hostvars.is_some() })
}

/// Sets the variables of `host` (creating it in no group if new), as the
/// answer to `--host` or an entry of `_meta.hostvars`.
pub(crate) fn host_vars(model: &mut Model, host: &str, vars: &Value) -> Result<(), ReadError> {
    let vars = match vars {
        Value::Object(vars) => vars,
        Value::Null => return Ok(()),
        other => return Err(format!("the variables of host `{host}` must be an object, found {}", kind(other))),
    };
    let id = model.add_host(host, None, None);
    for (key, value) in vars {
        model.set_host_var(id, key, value.clone());
    }
    Ok(())
}

fn group(name: &str, data: &Value, model: &mut Model) -> Result<GroupId, ReadError> {
    let id = model.add_group(name);
    let fields = match data {
        Value::Object(fields) if ["hosts", "vars", "children"].iter().any(|k| fields.contains_key(*k)) => fields,
        // The script plugin's shorthand: a host named after the group.
        Value::Object(vars) => {
            let host = model.add_host(name, Some(id), None);
            vars.iter().for_each(|(k, v)| model.set_host_var(host, k, v.clone()));
            return Ok(id);
        }
        Value::Null => return Ok(id),
        hosts => {
            add_hosts(id, name, hosts, model)?;
            return Ok(id);
        }
    };
    if let Some(hosts) = fields.get("hosts") {
        add_hosts(id, name, hosts, model)?;
    }
    match fields.get("vars") {
        None | Some(Value::Null) => {}
        Some(Value::Object(vars)) => {
            for (key, value) in vars {
                model.set_group_var(id, key, value.clone()).map_err(|m| format!("group `{name}`: {m}"))?;
            }
        }
        Some(other) => return Err(format!("`vars` of group `{name}` must be an object, found {}", kind(other))),
    }
    match fields.get("children") {
        None | Some(Value::Null) => {}
        Some(Value::Array(children)) => {
            for child in children {
                let Value::String(child) = child else {
                    return Err(format!("`children` of group `{name}` must list group names, found {}", kind(child)));
                };
                let child = model.add_group(child);
                model.add_child(id, child).map_err(|m| format!("group `{name}`: {m}"))?;
            }
        }
        Some(Value::Object(children)) => {
            for (child_name, child_data) in children {
                let child = group(child_name, child_data, model)?;
                model.add_child(id, child).map_err(|m| format!("group `{name}`: {m}"))?;
            }
        }
        Some(other) => return Err(format!("`children` of group `{name}` must be a list, found {}", kind(other))),
    }
    Ok(id)
}

/// `["h1", "h2"]`, a single `"h1"`, or (YAML shape) `{"h1": {vars}}`.
fn add_hosts(group: GroupId, group_name: &str, hosts: &Value, model: &mut Model) -> Result<(), ReadError> {
    match hosts {
        Value::String(host) => {
            model.add_host(host, Some(group), None);
        }
        Value::Array(hosts) => {
            for host in hosts {
                let Value::String(host) = host else {
                    return Err(format!("hosts of group `{group_name}` must be names (strings), found {}", kind(host)));
                };
                model.add_host(host, Some(group), None);
            }
        }
        Value::Object(hosts) => {
            for (host, vars) in hosts {
                model.add_host(host, Some(group), None);
                host_vars(model, host, vars)?;
            }
        }
        other => return Err(format!("hosts of group `{group_name}` must be a list of names, found {}", kind(other))),
    }
    Ok(())
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether a JSON document is in this protocol rather than the YAML
/// inventory's structure: it has `_meta`, or a group lists its hosts.
pub(crate) fn is_script_shape(doc: &Map<String, Value>) -> bool {
    doc.contains_key("_meta")
        || doc.values().any(|g| g.is_array() || g.get("hosts").is_some_and(Value::is_array) || g.get("children").is_some_and(Value::is_array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(doc: Value) -> (Model, Read) {
        let mut model = Model::default();
        let read = read(&doc, &mut model).unwrap();
        model.reconcile();
        (model, read)
    }

    fn members(model: &Model, group: &str) -> Vec<String> {
        model.group_hosts(model.group_id(group).unwrap()).into_iter().map(|h| model.hosts[h].name.clone()).collect()
    }

    #[test]
    fn groups_children_vars_and_meta() {
        let (m, read) = load(json!({
            "web": {"hosts": ["w1", "w2"], "vars": {"port": 80}, "children": ["canary"]},
            "canary": ["c1"],
            "db": "d1",
            "solo": {"ansible_host": "10.0.0.9"},
            "_meta": {"hostvars": {"w1": {"ansible_host": "10.0.0.1"}}}
        }));
        assert!(read.has_hostvars);
        assert_eq!(members(&m, "web"), ["w1", "w2", "c1"]);
        assert_eq!(members(&m, "db"), ["d1"]);
        assert_eq!(m.groups[m.group_id("web").unwrap()].vars["port"], 80);
        assert_eq!(m.hosts[m.host_id("w1").unwrap()].vars["ansible_host"], "10.0.0.1");
        assert_eq!(m.hosts[m.host_id("solo").unwrap()].vars["ansible_host"], "10.0.0.9");
        assert_eq!(members(&m, "solo"), ["solo"]);
    }

    #[test]
    fn yaml_shapes_are_accepted() {
        let (m, read) = load(json!({"all": {"children": {"web": {"hosts": {"w1": {"x": 1}, "w2": null}}}}}));
        assert!(!read.has_hostvars);
        assert_eq!(members(&m, "all"), ["w1", "w2"]);
        assert_eq!(m.hosts[m.host_id("w1").unwrap()].vars["x"], 1);
    }

    #[test]
    fn wrong_shapes_are_errors_naming_the_group() {
        let mut m = Model::default();
        assert_eq!(read(&json!([1]), &mut m).unwrap_err(), "expected a JSON object of groups, found a list");
        assert!(read(&json!({"web": {"hosts": [1]}}), &mut m).unwrap_err().contains("hosts of group `web` must be names"));
        assert!(read(&json!({"web": {"vars": []}}), &mut m).unwrap_err().contains("`vars` of group `web`"));
        assert!(read(&json!({"_meta": {"hostvars": []}}), &mut m).unwrap_err().contains("_meta.hostvars"));
        assert!(read(&json!({"a": {"children": ["a"]}}), &mut m).unwrap_err().contains("itself"));
    }

    #[test]
    fn shape_detection() {
        let doc = |v: Value| v.as_object().unwrap().clone();
        assert!(is_script_shape(&doc(json!({"_meta": {}}))));
        assert!(is_script_shape(&doc(json!({"web": ["a"]}))));
        assert!(!is_script_shape(&doc(json!({"all": {"hosts": {"a": null}}}))));
    }
}
