//! Roles: `roles/NAME/{tasks,handlers,defaults,vars,templates,files,meta}/main.yml`,
//! found beside the playbook or in ANSIBLE_ROLES_PATH, dependencies first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::load::{err, scalar_string, vars_of, with_hint, LoadError};
use super::include::RoleInclude;
use super::tasks::{self, Ctx, RolesSeen};
use super::{Handler, Role, Step};
use crate::yaml::{self, Node};

/// A role ready to run: its tasks and handlers carry the role.
pub(super) struct LoadedRole {
    pub tasks: Vec<Step>,
    pub handlers: Vec<Handler>,
    /// defaults/ and vars/ (without the entry's parameters): what a role of
    /// the play's `roles:` shows every task of the play, as Ansible's public roles.
    pub defaults: Map<String, Value>,
    pub exports: Map<String, Value>,
}

const MAX_DEPENDENCY_DEPTH: usize = 16;

/// Every role of a play's `roles:`, each preceded by its dependencies; a role
/// already loaded with the same variables is not repeated, as in Ansible.
pub(super) fn load_all(node: Option<&Node>, base: &Ctx) -> Result<Vec<LoadedRole>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    let entries = node.as_seq().ok_or_else(|| err(node, "`roles` must be a list"))?;
    let mut out = Vec::new();
    for entry in entries {
        load_entry(entry, base, &base.roles_seen, &mut out, 0)?;
    }
    Ok(out)
}

fn load_entry(entry: &Node, base: &Ctx, seen: &RolesSeen, out: &mut Vec<LoadedRole>, depth: usize) -> Result<(), LoadError> {
    if depth > MAX_DEPENDENCY_DEPTH {
        return Err(err(entry, "role dependencies nested too deep (a dependency cycle?)"));
    }
    let (name, params, when, tags) = entry_parts(entry)?;
    let vars = vars_of(entry.get("vars"))?;
    let role_params: Map<String, Value> = params.iter().filter(|(k, _)| !vars.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.iter().any(|(n, p)| *n == name && *p == params) {
            return Ok(());
        }
        seen.push((name.clone(), params.clone()));
    }
    let opts = RoleInclude { name, ..RoleInclude::default() };
    let inner = tasks::with_entry_keywords(base, &wrapper_node(entry, when, tags))?;
    load_role(&opts, params, &role_params, entry, &inner, seen, out, depth)
}

/// `import_role`/`include_role`: the role's dependencies, then the role, as one
/// list of tasks and handlers; `base` carries the keywords of the include.
/// Dependencies that already ran in the play (`seen`) are not repeated, as in Ansible.
pub(super) fn load_included(opts: &RoleInclude, at: &Node, base: &Ctx, seen: &RolesSeen) -> Result<LoadedRole, LoadError> {
    let mut out = Vec::new();
    load_role(opts, Map::new(), &Map::new(), at, base, seen, &mut out, 0)?;
    let mut all = LoadedRole { tasks: Vec::new(), handlers: Vec::new(), defaults: Map::new(), exports: Map::new() };
    for role in out {
        all.tasks.extend(role.tasks);
        all.handlers.extend(role.handlers);
        all.defaults.extend(role.defaults);
        all.exports.extend(role.exports);
    }
    Ok(all)
}

/// One role and (first) its dependencies, with `params` above the role's vars;
/// `role_params` (the entry's own, without `vars:`) are what its argument spec checks.
#[allow(clippy::too_many_arguments)]
fn load_role(opts: &RoleInclude, params: Map<String, Value>, role_params: &Map<String, Value>, at: &Node, base: &Ctx, seen: &RolesSeen, out: &mut Vec<LoadedRole>, depth: usize) -> Result<(), LoadError> {
    let playbook_dir = base.playbook_dir.as_path();
    let name = &opts.name;
    let path = find_role(name, playbook_dir, &base.roles_path).ok_or_else(|| {
        err(at, format!("the role `{name}` was not found in {}/roles, roles_path (ANSIBLE_ROLES_PATH) or {}", playbook_dir.display(), playbook_dir.display()))
    })?;
    // A role searches its own `collections:` (meta/main.yml), not the play's, as in Ansible.
    let mut collections = Vec::new();
    if let Some(meta) = read_main(&path, "meta")? {
        if let Some(deps) = meta.get("dependencies").and_then(Node::as_seq) {
            for dep in deps {
                load_entry(dep, base, seen, out, depth + 1)?;
            }
        }
        collections = super::load::string_list(meta.get("collections"))?;
    }
    let exports = mapping(read_named(&path, "vars", opts.vars_from.as_deref(), at)?)?;
    let mut vars = exports.clone();
    vars.extend(params);
    let defaults = mapping(read_named(&path, "defaults", opts.defaults_from.as_deref(), at)?)?;
    let role = Arc::new(Role { name: name.clone(), path: path.clone(), defaults: defaults.clone(), vars });
    let mut ctx = base.clone();
    ctx.dir = path.join("tasks");
    ctx.role = Some(role);
    ctx.collections = collections;
    ctx.depth += 1;
    ctx.handlers = Default::default();
    if ctx.depth > tasks::MAX_INCLUDE_DEPTH {
        return Err(err(at, format!("roles and includes nested deeper than {} levels (a cycle?)", tasks::MAX_INCLUDE_DEPTH)));
    }
    let mut task_list = read_named(&path, "tasks", opts.tasks_from.as_deref(), at)?;
    if !opts.skip_argument_spec {
        let entry = opts.tasks_from.as_deref().unwrap_or("main");
        task_list = super::arg_specs::with_validation(&path, name, entry, role_params, task_list)?;
    }
    let tasks = tasks::steps(task_list.as_ref(), &ctx)?;
    let mut handlers = tasks::handlers(read_named(&path, "handlers", opts.handlers_from.as_deref(), at)?.as_ref(), &ctx)?;
    handlers.extend(ctx.take_handlers());
    out.push(LoadedRole { tasks, handlers, defaults, exports });
    Ok(())
}

/// A role entry: `name`, or `{role: name, vars: {...}, when: ..., tags: ..., other: params}`.
fn entry_parts(entry: &Node) -> Result<(String, Map<String, Value>, Option<Node>, Option<Node>), LoadError> {
    if let Some(name) = entry.as_str() {
        return Ok((name.to_string(), Map::new(), None, None));
    }
    let map = entry.as_map().ok_or_else(|| err(entry, "a role entry is a name or a mapping with `role:`"))?;
    let name_node = entry.get("role").or_else(|| entry.get("name")).ok_or_else(|| err(entry, "this role entry has no `role:`"))?;
    let mut params = vars_of(entry.get("vars"))?;
    for (k, v) in map {
        let key = k.display_key();
        if !["role", "name", "vars", "when", "tags"].contains(&key.as_str()) {
            params.insert(key, v.to_json());
        }
    }
    Ok((scalar_string(name_node)?, params, entry.get("when").cloned(), entry.get("tags").cloned()))
}

/// A synthetic mapping carrying the entry's `when`/`tags`, folded into the role's tasks.
fn wrapper_node(entry: &Node, when: Option<Node>, tags: Option<Node>) -> Node {
    let key = |k: &str| Node { value: crate::yaml::Yaml::Str(k.into()), span: entry.span.clone() };
    let mut entries = Vec::new();
    if let Some(w) = when {
        entries.push((key("when"), w));
    }
    if let Some(t) = tags {
        entries.push((key("tags"), t));
    }
    Node { value: crate::yaml::Yaml::Map(entries), span: entry.span.clone() }
}

fn find_role(name: &str, playbook_dir: &Path, roles_path: &[PathBuf]) -> Option<PathBuf> {
    if let Some(found) = collection_role(name, playbook_dir) {
        return Some(found);
    }
    let mut candidates = vec![playbook_dir.join("roles").join(name)];
    candidates.extend(roles_path.iter().map(|p| p.join(name)));
    candidates.push(playbook_dir.join(name));
    candidates.into_iter().find(|c| c.is_dir())
}

/// `NAMESPACE.COLLECTION.ROLE`: the role in a collection beside the playbook
/// (`collections/ansible_collections/...`), else in ANSIBLE_COLLECTIONS_PATH's
/// directories (by default ~/.ansible/collections, /usr/share/ansible/collections).
fn collection_role(name: &str, playbook_dir: &Path) -> Option<PathBuf> {
    let parts: Vec<&str> = name.split('.').collect();
    let [namespace, collection, role] = parts.as_slice() else { return None };
    let configured = std::env::var_os("ANSIBLE_COLLECTIONS_PATH").or_else(|| std::env::var_os("ANSIBLE_COLLECTIONS_PATHS"));
    let mut roots = vec![playbook_dir.join("collections")];
    match configured {
        Some(paths) => roots.extend(std::env::split_paths(&paths)),
        None => {
            roots.extend(std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ansible/collections")));
            roots.push(PathBuf::from("/usr/share/ansible/collections"));
        }
    }
    roots.into_iter().map(|root| root.join("ansible_collections").join(namespace).join(collection).join("roles").join(role)).find(|p| p.is_dir())
}

/// `DIR/main.yml` (or main.yaml, main) of a role, parsed; None when absent.
fn read_main(role: &Path, dir: &str) -> Result<Option<Node>, LoadError> {
    for file in ["main.yml", "main.yaml", "main"] {
        let path = role.join(dir).join(file);
        if path.is_file() {
            return Ok(Some(yaml::parse_file(&path)?));
        }
    }
    Ok(None)
}

/// `DIR/main.yml`, or the file `*_from` names (`alt`, `alt.yml`): absent main is
/// fine, an absent named file is an error.
fn read_named(role: &Path, dir: &str, from: Option<&str>, at: &Node) -> Result<Option<Node>, LoadError> {
    let Some(from) = from else { return read_main(role, dir) };
    let base = role.join(dir);
    confined(role, dir, from, at)?;
    let found = ["", ".yml", ".yaml", ".json"].iter().map(|ext| base.join(format!("{from}{ext}"))).find(|p| p.is_file());
    match found {
        Some(path) => Ok(Some(yaml::parse_file(&path)?)),
        None => Err(err(at, format!("could not find `{from}` in {} (tried {from}, {from}.yml, {from}.yaml, {from}.json)", base.display()))),
    }
}

/// The `*_from` files an include names, by the role directory each is read from.
fn named_files(opts: &RoleInclude) -> [(&'static str, Option<&str>); 4] {
    [
        ("tasks", opts.tasks_from.as_deref()),
        ("vars", opts.vars_from.as_deref()),
        ("defaults", opts.defaults_from.as_deref()),
        ("handlers", opts.handlers_from.as_deref()),
    ]
}

/// Whether a `*_from` name of `opts` leaves its role: such an `include_role`
/// is refused while the play runs (failing the task), as Ansible refuses it,
/// so it is not read ahead at load time.
pub(super) fn names_escape(opts: &RoleInclude, base: &Ctx) -> bool {
    let Some(path) = find_role(&opts.name, &base.playbook_dir, &base.roles_path) else { return false };
    named_files(opts).into_iter().any(|(dir, from)| from.is_some_and(|f| escape(&path, dir, f).is_some()))
}

/// A `*_from` name must stay in the role's `dir` (`../../x`, `/etc/passwd`
/// are refused before anything is read), as Ansible refuses it.
fn confined(role: &Path, dir: &str, from: &str, at: &Node) -> Result<(), LoadError> {
    let Some(outside) = escape(role, dir, from) else { return Ok(()) };
    let name = role.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let base = role.join(dir);
    let message = format!("Failed loading '{}' for role ({name}) as it is not inside the expected role path: '{}'", outside.display(), base.display());
    Err(with_hint(err(at, message), Some(format!("name a file under the role's {dir}/ directory"))))
}

/// Where `from` leads when it leaves the role's `dir`, lexically resolved.
fn escape(role: &Path, dir: &str, from: &str) -> Option<PathBuf> {
    let base = role.join(dir);
    let wanted = base.join(from);
    match super::inside(&base, &wanted) {
        Some(_) => None,
        None => Some(super::confine::normalize(&wanted).unwrap_or(wanted)),
    }
}

fn mapping(node: Option<Node>) -> Result<Map<String, Value>, LoadError> {
    match node {
        None => Ok(Map::new()),
        Some(n) => match n.to_json() {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(Map::new()),
            _ => Err(err(&n, format!("expected a mapping of variables, found {}", n.kind_name()))),
        },
    }
}
