//! `module_defaults`: arguments a play, block, role entry or task gives every
//! module of a name (short, FQCN, or an action group `group/NAME`), below the
//! task's own arguments.
//!
//! As in Ansible, the layers (outermost first) are merged by module name, a
//! later layer's entry for a name replacing an earlier one's; a task then
//! gets its groups' defaults, then its module's, then its own arguments.
//! Values stay templates, rendered per host with the other arguments; names
//! are fixed, so stockman applies the defaults while loading and checks the
//! merged arguments against the module's spec there.

use serde_json::{Map, Value};
use stockman_modules::ModuleSpec;

use super::load::{err, LoadError};
use super::tasks::Ctx;
use crate::yaml::Node;

/// The defaults for native module `spec`. Ansible's `service` and `package`
/// actions pick a backend (`systemd`, `apt` on the hosts stockman supports)
/// and apply its defaults below their own.
pub(super) fn for_native(spec: &ModuleSpec, layers: &[Value], ctx: &Ctx, at: &Node) -> Result<Map<String, Value>, LoadError> {
    if layers.is_empty() {
        return Ok(Map::new());
    }
    let merged = merge(layers, at)?;
    let backends: &[&str] = match spec.name {
        "service" => &["systemd_service"],
        "package" => &["apt"],
        _ => &[],
    };
    let mut args = Map::new();
    for name in backends.iter().copied().chain([spec.name]) {
        let fqcn = format!("ansible.builtin.{}", canonical_native(name));
        add_for(&merged, &fqcn, &|key| same_native(key, name), ctx, at, &mut args)?;
    }
    Ok(args)
}

/// The defaults for a module run through the fallback, `fqcn` as resolved.
pub(super) fn for_fallback(fqcn: &str, written: &str, layers: &[Value], ctx: &Ctx, at: &Node) -> Result<Map<String, Value>, LoadError> {
    if layers.is_empty() {
        return Ok(Map::new());
    }
    let merged = merge(layers, at)?;
    let names = |key: &str| {
        key == written || key == fqcn || matches!(ctx.catalog.resolve(key, &ctx.collections), crate::fallback::Resolved::Module(m) if m.fqcn == fqcn)
    };
    let mut args = Map::new();
    add_for(&merged, fqcn, &names, ctx, at, &mut args)?;
    Ok(args)
}

/// One mapping of module names to arguments from the layers, outermost
/// first; each layer is a mapping or a list of them.
fn merge(layers: &[Value], at: &Node) -> Result<Map<String, Value>, LoadError> {
    let mut merged = Map::new();
    for layer in layers {
        let parts = match layer {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for part in parts {
            match part {
                Value::Object(entries) => merged.extend(entries),
                Value::Null => {}
                other => return Err(err(at, format!("`module_defaults` must map module names (or `group/NAME`) to their arguments, found {}", value_kind(&other)))),
            }
        }
    }
    Ok(merged)
}

/// The entries of `merged` for the module `fqcn` (`names` says whether a key
/// names it), its groups' first, added to `args`.
fn add_for(merged: &Map<String, Value>, fqcn: &str, names: &dyn Fn(&str) -> bool, ctx: &Ctx, at: &Node, args: &mut Map<String, Value>) -> Result<(), LoadError> {
    let groups = ctx.catalog.groups_of(fqcn);
    let in_group = |group: &str| {
        let candidates: Vec<String> = match group.contains('.') {
            true => vec![group.to_string()],
            false => ctx.collections.iter().map(String::as_str).chain(["ansible.builtin"]).map(|c| format!("{c}.{group}")).collect(),
        };
        candidates.iter().any(|c| groups.contains(c))
    };
    let of_groups = merged.iter().filter(|(k, _)| k.strip_prefix("group/").is_some_and(in_group));
    let own = merged.iter().filter(|(k, _)| !k.starts_with("group/") && names(k));
    for (key, value) in of_groups.chain(own) {
        match value {
            Value::Object(entries) => args.extend(entries.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Value::Null => {}
            other => return Err(err(at, format!("`module_defaults` for `{key}` must be a mapping of arguments, found {}", value_kind(other)))),
        }
    }
    Ok(())
}

/// The name ansible-core's routing gives a native module (`systemd` is
/// `systemd_service` there).
fn canonical_native(name: &str) -> &str {
    match name {
        "systemd" => "systemd_service",
        other => other,
    }
}

/// Whether a `module_defaults` key names the native module `name`.
fn same_native(key: &str, name: &str) -> bool {
    let short = key.strip_prefix("ansible.builtin.").or_else(|| key.strip_prefix("ansible.legacy.")).unwrap_or(key);
    canonical_native(short) == canonical_native(name)
}

/// A JSON value's kind, for messages.
pub fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Object(_) => "a mapping",
        Value::Null => "nothing",
    }
}
