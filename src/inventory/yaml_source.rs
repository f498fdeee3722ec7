//! YAML (and JSON) inventories, read as Ansible's `yaml` inventory plugin
//! reads them:
//!
//! ```yaml
//! all:
//!   vars: {ntp: ntp.example.com}
//!   children:
//!     web:
//!       hosts:
//!         web[01:02].example.com:
//!         db.example.com:2222: {role: db}
//! ```
//!
//! Top-level keys are groups; each group may have `hosts` (host pattern →
//! vars or nothing), `vars` and `children` (group name → the same structure).

use crate::yaml::{Node, Yaml};

use super::host_range;
use super::model::{GroupId, Model};
use super::InventoryError;

pub(crate) struct Reader<'a> {
    pub model: &'a mut Model,
    pub warnings: &'a mut Vec<String>,
}

fn error(node: &Node, message: impl Into<String>) -> InventoryError {
    InventoryError::Parse { location: node.span.to_string(), message: message.into() }
}

impl Reader<'_> {
    /// Adds the groups of a parsed YAML inventory document.
    pub fn read(&mut self, doc: &Node) -> Result<(), InventoryError> {
        let entries = match &doc.value {
            // An empty file is an empty inventory (Ansible's INI plugin accepts it).
            Yaml::Null => return Ok(()),
            Yaml::Map(entries) => entries,
            _ => {
                return Err(error(doc, format!(
                    "a YAML inventory must be a mapping of group names (such as `all:`), found {}",
                    doc.kind_name()
                )))
            }
        };
        if let Some(plugin) = doc.get("plugin") {
            return Err(error(plugin, "inventory plugin configuration files are not supported; list hosts under `all:` instead"));
        }
        for (name, data) in entries {
            self.group(name, data)?;
        }
        Ok(())
    }

    fn group(&mut self, name: &Node, data: &Node) -> Result<Option<GroupId>, InventoryError> {
        let group_name = name.display_key();
        let entries = match &data.value {
            Yaml::Null => return Ok(Some(self.model.add_group(&group_name))),
            Yaml::Map(entries) => entries,
            _ => {
                self.warnings.push(format!(
                    "{}: Skipping '{group_name}' as this is not a valid group definition (expected a mapping, found {})",
                    data.span, data.kind_name()
                ));
                return Ok(None);
            }
        };
        let group = self.model.add_group(&group_name);
        for (key, value) in entries {
            let key_name = key.display_key();
            let section = matches!(key_name.as_str(), "vars" | "children" | "hosts");
            match (&value.value, section) {
                (Yaml::Null, _) => {}
                (Yaml::Str(_), true) => self.section(group, &key_name, &[(value.clone(), null_at(value))])?,
                (Yaml::Map(items), true) => self.section(group, &key_name, items)?,
                (_, true) => {
                    return Err(error(value, format!(
                        "`{key_name}` of group `{group_name}` must be a mapping, found {}", value.kind_name()
                    )))
                }
                (Yaml::Map(_), false) => self.warnings.push(format!(
                    "{}: Skipping unexpected key ({key_name}) in group ({group_name}), only \"vars\", \"children\" and \"hosts\" are valid",
                    key.span
                )),
                (_, false) => self.warnings.push(format!(
                    "{}: Skipping key ({key_name}) in group ({group_name}) as it is not a mapping, it is {}",
                    key.span,
                    value.kind_name()
                )),
            }
        }
        Ok(Some(group))
    }

    fn section(&mut self, group: GroupId, section: &str, items: &[(Node, Node)]) -> Result<(), InventoryError> {
        for (key, value) in items {
            match section {
                "vars" => {
                    self.model.set_group_var(group, &key.display_key(), value.to_json()).map_err(|m| error(value, m))?;
                }
                "children" => {
                    if let Some(child) = self.group(key, value)? {
                        self.model.add_child(group, child).map_err(|m| error(key, m))?;
                    }
                }
                _ => self.hosts(group, key, value)?,
            }
        }
        Ok(())
    }

    fn hosts(&mut self, group: GroupId, pattern: &Node, vars: &Node) -> Result<(), InventoryError> {
        let Some(text) = pattern.as_str() else {
            return Err(error(pattern, format!(
                "host name {} must be a string: enclose numbers in quotation marks",
                pattern.display_key()
            )));
        };
        let vars = match &vars.value {
            Yaml::Null => Vec::new(),
            Yaml::Map(entries) => entries.iter().map(|(k, v)| (k.display_key(), v.to_json())).collect(),
            _ => {
                return Err(error(vars, format!(
                    "host `{text}` must map to its variables (or nothing), found {}", vars.kind_name()
                )))
            }
        };
        let (name, port) = host_range::split_port(text);
        for host in host_range::expand(&name).map_err(|m| error(pattern, m))? {
            let id = self.model.add_host(&host, Some(group), port);
            for (key, value) in &vars {
                self.model.set_host_var(id, key, value.clone());
            }
        }
        Ok(())
    }
}

/// Ansible accepts `hosts: web1` as `hosts: {web1: null}`.
fn null_at(at: &Node) -> Node {
    Node { value: Yaml::Null, span: at.span.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn load(text: &str) -> (Model, Vec<String>) {
        let mut model = Model::default();
        let mut warnings = Vec::new();
        let doc = crate::yaml::parse_str(text, "inv.yml".into()).unwrap();
        Reader { model: &mut model, warnings: &mut warnings }.read(&doc).unwrap();
        model.reconcile();
        (model, warnings)
    }

    fn error(text: &str) -> String {
        let doc = crate::yaml::parse_str(text, "inv.yml".into()).unwrap();
        let mut model = Model::default();
        Reader { model: &mut model, warnings: &mut Vec::new() }.read(&doc).unwrap_err().to_string()
    }

    fn members(model: &Model, group: &str) -> Vec<String> {
        model.group_hosts(model.group_id(group).unwrap()).into_iter().map(|h| model.hosts[h].name.clone()).collect()
    }

    #[test]
    fn nested_children_hosts_and_vars() {
        let (m, warnings) = load(concat!(
            "all:\n  vars: {ntp: ntp1}\n  hosts:\n    solo:\n  children:\n    prod:\n      children:\n",
            "        web:\n          hosts:\n            web[1:2]:\n              role: web\n",
            "            db.example.com:2222:\n          vars:\n            http_port: 80\n",
        ));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(members(&m, "prod"), ["web1", "web2", "db.example.com"]);
        assert_eq!(members(&m, "ungrouped"), ["solo"]);
        let db = &m.hosts[m.host_id("db.example.com").unwrap()];
        assert_eq!(db.vars["ansible_port"], 2222);
        assert_eq!(m.hosts[m.host_id("web2").unwrap()].vars["role"], "web");
        let web = &m.groups[m.group_id("web").unwrap()];
        assert_eq!(Value::Object(web.vars.clone()), json!({"http_port": 80}));
        assert_eq!(m.groups[0].vars["ntp"], "ntp1");
    }

    #[test]
    fn top_level_groups_and_string_shorthands() {
        let (m, _) = load("web:\n  hosts: w1\ndb:\n  hosts:\n    d1:\nprod:\n  children: web\n");
        assert_eq!(members(&m, "prod"), ["w1"]);
        assert_eq!(members(&m, "all"), ["d1", "w1"]);
    }

    #[test]
    fn odd_keys_are_warnings() {
        let (_, warnings) = load("all:\n  host:\n    x:\n  foo: bar\nweb: [a]\n");
        assert!(warnings[0].contains("inv.yml:2:3: Skipping unexpected key (host)"), "{warnings:?}");
        assert!(warnings[1].contains("Skipping key (foo) in group (all) as it is not a mapping, it is a string"), "{warnings:?}");
        assert!(warnings[2].contains("Skipping 'web'"), "{warnings:?}");
    }

    #[test]
    fn errors_carry_line_and_column() {
        assert_eq!(error("all:\n  hosts:\n    - a\n"), "inv.yml:3:5: `hosts` of group `all` must be a mapping, found a list");
        assert_eq!(error("all:\n  hosts:\n    a: 3\n"), "inv.yml:3:8: host `a` must map to its variables (or nothing), found an integer");
        assert!(error("all:\n  hosts:\n    1.5:\n").starts_with("inv.yml:3:5: host name 1.5 must be a string"));
        assert!(error("- a\n").contains("must be a mapping of group names"));
        assert!(error("plugin: aws_ec2\n").contains("not supported"));
        assert!(error("all:\n  hosts:\n    h[1:x]:\n").starts_with("inv.yml:3:5:"));
        assert!(error("all:\n  vars:\n    ansible_group_priority: high\n").contains("must be an integer"));
    }
}
