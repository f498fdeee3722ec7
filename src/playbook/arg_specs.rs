//! Role argument validation: when a role has an argument spec for the entry
//! point it is entered by (`meta/argument_specs.yml`, else `argument_specs`
//! in `meta/main.yml`), the task ansible-playbook puts first in the role:
//! `validate_argument_spec` with the entry point's options, the role's
//! parameters and where they come from, tagged `always`.

use std::path::Path;

use serde_json::{Map, Value};

use super::load::{err, LoadError};
use crate::yaml::{self, Node, Span, Yaml};

/// The role's tasks (`tasks`, as read) with the validation task first, when
/// the spec of `entry` (`main`, or the `tasks_from` name) has one.
pub(super) fn with_validation(role_path: &Path, role_name: &str, entry: &str, params: &Map<String, Value>, tasks: Option<Node>) -> Result<Option<Node>, LoadError> {
    let Some((specs, span)) = read_specs(role_path)? else { return Ok(tasks) };
    let Some(spec) = specs.get(entry).filter(|s| !s.is_null() && s.as_map().is_none_or(|m| !m.is_empty())) else { return Ok(tasks) };
    if spec.as_map().is_none() {
        return Err(err(spec, format!("the argument spec `{entry}` must be a mapping, found {}", spec.kind_name())));
    }
    let task = validation_task(spec, role_path, role_name, entry, params);
    let mut items = vec![task];
    match tasks.filter(|t| !t.is_null()) {
        Some(Node { value: Yaml::Seq(rest), .. }) => items.extend(rest),
        // Not a list: left to the task loader's own error.
        Some(other) => return Ok(Some(other)),
        None => {}
    }
    Ok(Some(Node { value: Yaml::Seq(items), span }))
}

/// The mapping under `argument_specs`, from meta/argument_specs.{yml,yaml}
/// or else meta/main.yml (the files are not combined, as in Ansible).
fn read_specs(role_path: &Path) -> Result<Option<(Node, Span)>, LoadError> {
    let own = ["argument_specs.yml", "argument_specs.yaml"].into_iter().map(|f| role_path.join("meta").join(f)).find(|p| p.is_file());
    let file = match own {
        Some(path) => path,
        None => match ["main.yml", "main.yaml", "main"].into_iter().map(|f| role_path.join("meta").join(f)).find(|p| p.is_file()) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let doc = yaml::parse_file(&file)?;
    let span = doc.span.clone();
    let Some(specs) = doc.get("argument_specs").filter(|s| !s.is_null()).cloned() else { return Ok(None) };
    if specs.as_map().is_none() {
        return Err(err(&specs, format!("`argument_specs` must be a mapping of entry points, found {}", specs.kind_name())));
    }
    Ok(Some((specs, span)))
}

/// Ansible's inserted task: its name, `validate_argument_spec` with the
/// entry point's `options`, the role parameters and the context, `always`.
fn validation_task(spec: &Node, role_path: &Path, role_name: &str, entry: &str, params: &Map<String, Value>) -> Node {
    let at = &spec.span;
    let mut name = format!("Validating arguments against arg spec '{entry}'");
    if let Some(short) = spec.get("short_description") {
        name.push_str(&format!(" - {}", crate::template::py::to_str(&short.to_json())));
    }
    let path = std::path::absolute(role_path).unwrap_or_else(|_| role_path.to_path_buf());
    // A collection's role is `ns.coll.role` in banners, `role` here, as in Ansible.
    let short = role_name.rsplit('.').next().unwrap_or(role_name);
    let context = serde_json::json!({"type": "role", "name": short, "argument_spec_name": entry, "path": path.display().to_string()});
    let options = spec.get("options").cloned().unwrap_or_else(|| Node { value: Yaml::Map(Vec::new()), span: at.clone() });
    let args = map_node(at, vec![("argument_spec", options), ("provided_arguments", json_node(&Value::Object(params.clone()), at)), ("validate_args_context", json_node(&context, at))]);
    let tags = Node { value: Yaml::Seq(vec![str_node("always", at)]), span: at.clone() };
    map_node(at, vec![("name", str_node(&name, at)), ("ansible.builtin.validate_argument_spec", args), ("tags", tags)])
}

fn str_node(text: &str, at: &Span) -> Node {
    Node { value: Yaml::Str(text.to_string()), span: at.clone() }
}

fn map_node(at: &Span, entries: Vec<(&str, Node)>) -> Node {
    Node { value: Yaml::Map(entries.into_iter().map(|(k, v)| (str_node(k, at), v)).collect()), span: at.clone() }
}

/// Data (a role's parameters) as a YAML node placed at `at`.
fn json_node(value: &Value, at: &Span) -> Node {
    let value = match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Number(n) => n.as_i64().map(Yaml::Int).unwrap_or_else(|| Yaml::Float(n.as_f64().unwrap_or_default())),
        Value::String(s) => Yaml::Str(s.clone()),
        Value::Array(items) => Yaml::Seq(items.iter().map(|i| json_node(i, at)).collect()),
        Value::Object(map) => Yaml::Map(map.iter().map(|(k, v)| (str_node(k, at), json_node(v, at))).collect()),
    };
    Node { value, span: at.clone() }
}
