//! INI inventories, read as Ansible's `ini` inventory plugin reads them.
//!
//! ```ini
//! bastion.example.com            # ungrouped: before any section
//! [web]
//! web[01:03].example.com ansible_user=deploy
//! db-a:2222 motd="hello world"   # host:port sets ansible_port
//! [web:vars]
//! http_port=8080
//! [prod:children]
//! web
//! ```
//!
//! Values (inline and in `:vars`) go through [`pyliteral::parse_value`]:
//! Python literals become data, anything else stays text.

use serde_json::Value;

use super::host_range;
use super::model::{GroupId, Model, UNGROUPED};
use super::pyliteral::parse_value;
use stockman_modules::shlex;
use super::InventoryError;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    Hosts,
    Vars,
    Children,
}

/// A `[group:vars]` or a child group waiting for its group to be declared.
struct Pending {
    name: String,
    line: usize,
    kind: Section,
    parents: Vec<GroupId>,
}

struct Reader<'a> {
    file: &'a str,
    model: &'a mut Model,
    group: GroupId,
    section: Section,
    pending: Vec<Pending>,
    line: usize,
    indent: usize,
}

/// Adds the hosts and groups of INI `text` (named `file` in errors) to `model`.
pub(crate) fn parse(text: &str, file: &str, model: &mut Model) -> Result<(), InventoryError> {
    let mut reader = Reader { file, model, group: UNGROUPED, section: Section::Hosts, pending: Vec::new(), line: 0, indent: 0 };
    for (index, raw) in text.lines().enumerate() {
        reader.line = index + 1;
        reader.indent = raw.chars().count() - raw.trim_start().chars().count();
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        reader.read_line(line)?;
    }
    reader.check_pending()
}

impl Reader<'_> {
    fn error(&self, col: usize, message: impl Into<String>) -> InventoryError {
        InventoryError::Parse { location: format!("{}:{}:{}", self.file, self.line, self.indent + col + 1), message: message.into() }
    }

    fn read_line(&mut self, line: &str) -> Result<(), InventoryError> {
        if let Some((name, kind)) = section_header(line) {
            return self.start_section(name, kind, line);
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(self.error(0, format!(
                "invalid section header `{line}`: expected [group], [group:vars] or [group:children] \
                 without spaces or other characters in the name"
            )));
        }
        match self.section {
            Section::Hosts => self.host_line(line),
            Section::Vars => self.vars_line(line),
            Section::Children => self.child_line(line),
        }
    }

    fn start_section(&mut self, name: &str, kind: Option<&str>, line: &str) -> Result<(), InventoryError> {
        self.section = match kind {
            None => Section::Hosts,
            Some("vars") => Section::Vars,
            Some("children") => Section::Children,
            Some(other) => {
                return Err(self.error(0, format!(
                    "section `{line}` has unknown type `{other}`: use [{name}], [{name}:vars] or [{name}:children]"
                )))
            }
        };
        if self.model.group_id(name).is_none() && self.section == Section::Vars && self.pending_index(name).is_none() {
            self.pending.push(Pending { name: name.into(), line: self.line, kind: Section::Vars, parents: Vec::new() });
        }
        self.group = self.model.add_group(name);
        if self.section != Section::Vars {
            self.declare(name)?;
        }
        Ok(())
    }

    fn pending_index(&self, name: &str) -> Option<usize> {
        self.pending.iter().position(|p| p.name == name)
    }

    /// `name` now has a [name] or [name:children] section: settle what waited for it.
    fn declare(&mut self, name: &str) -> Result<(), InventoryError> {
        let Some(index) = self.pending_index(name) else { return Ok(()) };
        let pending = self.pending.remove(index);
        if pending.kind == Section::Children {
            let child = self.model.add_group(name);
            for parent in pending.parents {
                self.model.add_child(parent, child).map_err(|m| self.error(0, m))?;
                let parent_name = self.model.groups[parent].name.clone();
                if self.pending_index(&parent_name).is_some_and(|i| self.pending[i].kind == Section::Children) {
                    self.declare(&parent_name)?;
                }
            }
        }
        Ok(())
    }

    fn host_line(&mut self, line: &str) -> Result<(), InventoryError> {
        let words = shlex::split_words(line, true).map_err(|e| self.error(0, format!("cannot split host line `{line}`: {e}")))?;
        let Some((first, rest)) = words.split_first() else { return Ok(()) };
        let names = self.host_names(&first.text, first.start)?;
        let mut vars = Vec::new();
        for word in rest {
            let Some((key, value)) = word.text.split_once('=') else {
                return Err(self.error(word.start, format!(
                    "expected key=value after the host name, got `{}` (quote values that contain spaces: key=\"a b\")",
                    word.text
                )));
            };
            if key.is_empty() {
                return Err(self.error(word.start, format!("missing variable name before `=` in `{}`", word.text)));
            }
            vars.push((key.to_string(), parse_value(value)));
        }
        let (names, port) = names;
        for name in names {
            let host = self.model.add_host(&name, Some(self.group), port);
            for (key, value) in &vars {
                self.model.set_host_var(host, key, value.clone());
            }
        }
        Ok(())
    }

    fn host_names(&self, pattern: &str, col: usize) -> Result<(Vec<String>, Option<u16>), InventoryError> {
        let (name, port) = host_range::split_port(pattern);
        if pattern.trim().ends_with(':') && port.is_none() {
            return Err(self.error(col, format!(
                "invalid host `{pattern}`: a trailing `:` is reserved for a port number (host:2222)"
            )));
        }
        if name.trim() == "---" {
            return Err(self.error(col, "found `---`, which starts a YAML document: name YAML inventories *.yml"));
        }
        if name.is_empty() {
            return Err(self.error(col, "empty host name"));
        }
        let names = host_range::expand(&name).map_err(|m| self.error(col, m))?;
        Ok((names, port))
    }

    fn vars_line(&mut self, line: &str) -> Result<(), InventoryError> {
        let Some((key, value)) = line.split_once('=') else {
            return Err(self.error(0, format!("expected key=value in a [group:vars] section, got `{line}`")));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(self.error(0, format!("missing variable name before `=` in `{line}`")));
        }
        let value: Value = parse_value(value.trim());
        self.model.set_group_var(self.group, key, value).map_err(|m| self.error(0, m))
    }

    fn child_line(&mut self, line: &str) -> Result<(), InventoryError> {
        let name = group_name_line(line).ok_or_else(|| {
            self.error(0, format!("expected a group name in a [group:children] section, got `{line}`"))
        })?;
        if self.model.group_id(name).is_some() {
            let child = self.model.add_group(name);
            return self.model.add_child(self.group, child).map_err(|m| self.error(0, m));
        }
        match self.pending_index(name) {
            Some(i) => self.pending[i].parents.push(self.group),
            None => self.pending.push(Pending { name: name.into(), line: self.line, kind: Section::Children, parents: vec![self.group] }),
        }
        Ok(())
    }

    /// Groups named but never declared are errors, as in Ansible.
    fn check_pending(&mut self) -> Result<(), InventoryError> {
        let Some(first) = self.pending.first() else { return Ok(()) };
        self.line = first.line;
        self.indent = 0;
        let name = &first.name;
        let message = match first.kind {
            Section::Vars => format!(
                "section [{name}:vars] is for group `{name}`, which is never declared: add a [{name}] section (it may be empty)"
            ),
            _ => {
                let parent = first.parents.last().map(|&p| self.model.groups[p].name.as_str()).unwrap_or("?");
                format!(
                    "section [{parent}:children] includes undefined group `{name}`: add a [{name}] section (it may be empty)"
                )
            }
        };
        Err(self.error(0, message))
    }
}

/// `[name]` or `[name:kind]`, optionally followed by a `#` comment.
fn section_header(line: &str) -> Option<(&str, Option<&str>)> {
    let inner = line.strip_prefix('[')?;
    let close = inner.find(']')?;
    let after = inner[close + 1..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let head = &inner[..close];
    let (name, kind) = match head.split_once(':') {
        Some((name, kind)) => (name, Some(kind)),
        None => (head, None),
    };
    let name_ok = !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == ']');
    let kind_ok = kind.is_none_or(|k| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'));
    (name_ok && kind_ok).then_some((name, kind))
}

/// A child group line: one name, optionally followed by a `#` comment.
fn group_name_line(line: &str) -> Option<&str> {
    let end = line.find(|c: char| c.is_whitespace() || c == '#').unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let ok = !name.is_empty() && !name.contains([':', ']']) && (rest.is_empty() || rest.starts_with('#'));
    ok.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::model::ALL;
    use serde_json::json;

    fn load(text: &str) -> Model {
        let mut model = Model::default();
        parse(text, "hosts.ini", &mut model).unwrap();
        model.reconcile();
        model
    }

    fn error(text: &str) -> String {
        parse(text, "hosts.ini", &mut Model::default()).unwrap_err().to_string()
    }

    fn host_vars(model: &Model, name: &str) -> Value {
        let mut vars = model.hosts[model.host_id(name).unwrap()].vars.clone();
        vars.remove("inventory_file");
        vars.remove("inventory_dir");
        Value::Object(vars)
    }

    fn members(model: &Model, group: &str) -> Vec<String> {
        model.group_hosts(model.group_id(group).unwrap()).into_iter().map(|h| model.hosts[h].name.clone()).collect()
    }

    #[test]
    fn sections_hosts_and_ungrouped() {
        let m = load("lonely\n# comment\n; another\n\n[web]\nweb1\nweb2 # trailing\n[db]\ndb1\n");
        assert_eq!(members(&m, "ungrouped"), ["lonely"]);
        assert_eq!(members(&m, "web"), ["web1", "web2"]);
        assert_eq!(members(&m, "all"), ["lonely", "web1", "web2", "db1"]);
    }

    #[test]
    fn inline_values_follow_python_literal_rules() {
        let m = load(concat!(
            "[web]\n",
            "h1 port=8080 ratio=1.5 on=True off=false text=\"a b\" q=\"'1'\" list=\"[1, 'x']\" ",
            "mode=0755 dq=\"1\" empty= dict=\"{'k': None}\"\n",
        ));
        assert_eq!(host_vars(&m, "h1"), json!({
            "port": 8080, "ratio": 1.5, "on": true, "off": "false", "text": "a b", "q": "1",
            "list": [1, "x"], "mode": "0755", "dq": 1, "empty": "", "dict": {"k": null}
        }));
    }

    #[test]
    fn group_vars_and_children() {
        let m = load("[web]\nw1\n[web:vars]\nhttp_port = 80\nname=hello world\n[prod:children]\nweb\ndb\n[db]\nd1\n");
        let web = &m.groups[m.group_id("web").unwrap()];
        assert_eq!(Value::Object(web.vars.clone()), json!({"http_port": 80, "name": "hello world"}));
        assert_eq!(members(&m, "prod"), ["w1", "d1"]);
        assert!(m.groups[ALL].children.contains(&m.group_id("prod").unwrap()));
    }

    #[test]
    fn ports_and_ranges() {
        let m = load("[web]\nweb[01:03].example.com:2222 role=web\ndb-[a:c]\nn[1:10:4]\n");
        assert_eq!(members(&m, "web"), [
            "web01.example.com", "web02.example.com", "web03.example.com", "db-a", "db-b", "db-c", "n1", "n5", "n9"
        ]);
        assert_eq!(host_vars(&m, "web02.example.com"), json!({"ansible_port": 2222, "role": "web"}));
    }

    #[test]
    fn a_host_in_several_groups_keeps_all_its_vars() {
        let m = load("[a]\nh x=1 y=1\n[b]\nh y=2\n");
        assert_eq!(host_vars(&m, "h"), json!({"x": 1, "y": 2}));
        assert_eq!(members(&m, "a"), ["h"]);
        assert_eq!(members(&m, "b"), ["h"]);
    }

    #[test]
    fn errors_name_the_line_column_and_text() {
        assert_eq!(error("[web]\nweb1 ansible_user\n"), "hosts.ini:2:6: expected key=value after the host name, got `ansible_user` (quote values that contain spaces: key=\"a b\")");
        assert!(error("[web]\n  web1 x='open\n").starts_with("hosts.ini:2:3: cannot split host line"));
        assert!(error("[web:child]\n").contains("unknown type `child`"));
        assert!(error("[web server]\n").starts_with("hosts.ini:1:1: invalid section header"));
        assert!(error("[web]\nh[1:x]\n").contains("numbers or single letters"));
        assert!(error("[web]\nhost:\n").contains("trailing `:`"));
        assert!(error("[web:vars]\nnovalue\n").starts_with("hosts.ini:2:1: expected key=value"));
        assert!(error("---\nall:\n").contains("YAML"));
        assert!(error("[a:children]\nb c\n").contains("expected a group name"));
    }

    #[test]
    fn undeclared_groups_are_errors() {
        assert_eq!(
            error("[web]\nw\n[db:vars]\nx=1\n"),
            "hosts.ini:3:1: section [db:vars] is for group `db`, which is never declared: add a [db] section (it may be empty)"
        );
        assert!(error("[prod:children]\nweb\n").starts_with("hosts.ini:2:1: section [prod:children] includes undefined group `web`"));
        // Declared later is fine, for both.
        let m = load("[db:vars]\nx=1\n[prod:children]\nweb\n[web]\nw\n[db]\n");
        assert_eq!(members(&m, "prod"), ["w"]);
    }

    #[test]
    fn child_cycles_are_errors() {
        assert!(error("[a:children]\nb\n[b:children]\na\n").contains("dependency loop"));
    }
}
