//! Reading `import_role`, `include_tasks`, `include_role` and `include_vars`
//! entries of a task list.

use serde_json::{Map, Value};

use super::include::{Include, IncludeKind, IncludeSource, RoleInclude};
use super::load::{conditions, err, opt_string, scalar_string, string_list, vars_of, LoadError};
use super::keywords::{self, Scope};
use super::tasks::{self, Ctx, INCLUDE_VARS_OPTIONS, ROLE_OPTIONS};
use super::{parse_kv, roles, Step};
use crate::yaml::{Node, Yaml};

/// `loop` and `with_<lookup>` (the lookup is checked by [`tasks::loop_of`]).
fn is_loop_key(key: &str) -> bool {
    key == "loop" || key.starts_with("with_")
}

/// `import_role`: the role's tasks spliced in now, with the import's `when`,
/// `tags` and `vars` on each; its handlers join the play's.
pub(super) fn import_role(node: &Node, value: &Node, ctx: &Ctx) -> Result<Vec<Step>, LoadError> {
    let map = node.as_map().unwrap_or_default();
    if let Some((key, _)) = map.iter().find(|(k, _)| is_loop_key(&k.display_key())) {
        return Err(super::load::with_hint(err(key, "`import_role` cannot loop: it is read before the play runs"), Some("use `include_role` to loop over a role".into())));
    }
    let action = node.as_map().unwrap_or_default().iter().map(|(k, _)| k.display_key()).find(|k| k.ends_with("import_role")).unwrap_or_default();
    keywords::check(&without_loops(node), Scope::IMPORT, &[&action], "import_role")?;
    let opts = role_options(value, true)?;
    if opts.name.contains("{{") {
        return Err(super::load::with_hint(err(value, "`import_role` needs a fixed role name"), Some("use `include_role` for a templated name".into())));
    }
    let inner = ctx.inside(node, Scope::IMPORT)?;
    let loaded = roles::load_included(&opts, value, &inner, &ctx.roles_seen)?;
    ctx.add_handlers(loaded.handlers);
    if opts.public {
        ctx.expose_role_vars(loaded.defaults, loaded.exports);
    }
    Ok(loaded.tasks)
}

/// `include_tasks`, `include_role` or `include_vars`: kept as an [`Include`]
/// for the executor to resolve per host.
pub(super) fn dynamic_include(node: &Node, key: &Node, value: &Node, ctx: &Ctx) -> Result<Include, LoadError> {
    include_with(node, key, value, ctx, false)
}

/// `include_tasks` among handlers: may also `listen`.
pub(super) fn handler_include(node: &Node, key: &Node, value: &Node, ctx: &Ctx) -> Result<Include, LoadError> {
    include_with(node, key, value, ctx, true)
}

fn include_with(node: &Node, key: &Node, value: &Node, ctx: &Ctx, handler: bool) -> Result<Include, LoadError> {
    let action = key.display_key();
    let short = action.trim_start_matches("ansible.builtin.");
    check_include_keys(node, &action, handler)?;
    let mut apply = node.get("apply").cloned();
    let kind = match short {
        "include_tasks" => {
            let file = match value.get("file").or_else(|| value.get("_raw_params")) {
                Some(f) => f,
                None if value.as_map().is_some() => return Err(err(value, "`include_tasks` needs a file: `include_tasks: FILE` or `file: FILE`")),
                None => value,
            };
            scalar_string(file)?;
            if let Some(a) = value.get("apply") {
                apply = Some(a.clone());
            }
            IncludeKind::Tasks { file: file.to_json() }
        }
        "include_role" => {
            let opts = role_options(value, false)?;
            if let Some(a) = value.get("apply") {
                apply = Some(a.clone());
            }
            IncludeKind::Role(opts)
        }
        _ => IncludeKind::Vars {
            args: include_vars_args(value, node.get("args"))?,
            delegate_to: ctx.inherited.nearest(node, "delegate_to"),
            delegate_facts: ctx.inherited.nearest(node, "delegate_facts").unwrap_or(Value::Bool(false)),
        },
    };
    if let Some(a) = &apply {
        a.as_map().ok_or_else(|| err(a, "`apply` must be a mapping of task keywords"))?;
    }
    let mut when = ctx.inherited.when.clone();
    when.extend(conditions(node.get("when"))?);
    let mut tags = ctx.inherited.tags.clone();
    tags.extend(string_list(node.get("tags"))?);
    let mut params = ctx.inherited.params.clone();
    params.extend(vars_of(node.get("vars"))?);
    let keep = |key: &str| ctx.inherited.nearest(node, key).unwrap_or(Value::Bool(false));
    let include = Include {
        name: opt_string(node.get("name"))?,
        span: node.span.clone(),
        when,
        tags,
        vars: ctx.inherited.vars.clone(),
        params,
        loop_: tasks::loop_of(node, node.as_map().unwrap_or_default())?,
        ignore_errors: keep("ignore_errors"),
        no_log: keep("no_log"),
        register: opt_string(node.get("register"))?,
        listen: if handler { string_list(node.get("listen"))? } else { Vec::new() },
        role: ctx.role.clone(),
        source: IncludeSource { ctx: ctx.clone(), apply },
        kind,
    };
    if let IncludeKind::Role(opts) = &include.kind {
        ctx.add_handlers(include.source.preload_handlers(opts, value)?);
    }
    Ok(include)
}

/// An include's keys but its loop (`loop`, `with_<lookup>`), checked by [`tasks::loop_of`].
fn without_loops(node: &Node) -> Vec<(Node, Node)> {
    node.as_map().unwrap_or_default().iter().filter(|(k, _)| !is_loop_key(&k.display_key())).cloned().collect()
}

/// Ansible's short list of keywords for `include_tasks`/`include_role`
/// (`listen` too among handlers); any other is an error, as there.
fn check_include_keys(node: &Node, action: &str, handler: bool) -> Result<(), LoadError> {
    let listen: &[&str] = if handler { &["listen"] } else { &[] };
    // include_vars is a task to Ansible: these few stockman has long accepted there.
    let vars_extra: &[&str] = if action.ends_with("include_vars") { &["become", "become_user", "become_method", "check_mode", "diff", "delegate_to", "delegate_facts"] } else { &[] };
    let extra: Vec<&str> = listen.iter().chain(vars_extra).copied().chain([action]).collect();
    let what = if action.ends_with("include_role") { "IncludeRole" } else { "TaskInclude" };
    keywords::check(&without_loops(node), Scope::INCLUDE, &extra, what)
}

/// `name:` (or `role:`) and the `*_from` options of `import_role`/`include_role`;
/// `public` defaults to true for an import, as Ansible's (DEFAULT_PRIVATE_ROLE_VARS off).
fn role_options(value: &Node, import: bool) -> Result<RoleInclude, LoadError> {
    if let Some(name) = value.as_str() {
        return Ok(RoleInclude { name: name.to_string(), public: import, ..RoleInclude::default() });
    }
    let map = value.as_map().ok_or_else(|| err(value, "expected `name: ROLE` and options"))?;
    tasks::check_options(map, &[ROLE_OPTIONS, &["role"]].concat(), "role include")?;
    let name = value.get("name").or_else(|| value.get("role")).ok_or_else(|| err(value, "the role to include has no `name:`"))?;
    let public = flag_option(value, "public", import)?;
    if public && !import {
        let at = value.get("public").unwrap_or(value);
        let hint = Some("pass what later tasks need with `set_fact` inside the role".into());
        return Err(super::load::with_hint(err(at, "`public: true` (role variables visible after the role) is not supported by stockman yet"), hint));
    }
    Ok(RoleInclude {
        name: scalar_string(name)?,
        tasks_from: opt_string(value.get("tasks_from"))?,
        vars_from: opt_string(value.get("vars_from"))?,
        defaults_from: opt_string(value.get("defaults_from"))?,
        handlers_from: opt_string(value.get("handlers_from"))?,
        public,
        skip_argument_spec: !flag_option(value, "rolespec_validate", true)?,
    })
}

/// A boolean option of a role include (`public`, `rolespec_validate`).
fn flag_option(value: &Node, name: &str, default: bool) -> Result<bool, LoadError> {
    match value.get(name) {
        None => Ok(default),
        Some(node) => stockman_modules::args::parse_bool(&node.to_json()).ok_or_else(|| err(node, format!("`{name}` must be a boolean"))),
    }
}

/// `include_vars: FILE`, `include_vars: file=F name=N`, or a mapping of options.
fn include_vars_args(value: &Node, extra: Option<&Node>) -> Result<Map<String, Value>, LoadError> {
    let mut args = Map::new();
    if let Some(extra) = extra.filter(|n| !n.is_null()) {
        args.extend(vars_of(Some(extra))?);
    }
    match &value.value {
        Yaml::Map(_) => {
            tasks::check_options(value.as_map().unwrap_or_default(), INCLUDE_VARS_OPTIONS, "include_vars option")?;
            args.extend(vars_of(Some(value))?);
        }
        Yaml::Str(text) => {
            let parsed = parse_kv(text, true, |k| INCLUDE_VARS_OPTIONS.contains(&k) && k != "_raw_params").map_err(|m| err(value, m))?;
            args.extend(parsed);
        }
        Yaml::Null => {}
        _ => return Err(err(value, format!("`include_vars` takes a file name or options, found {}", value.kind_name()))),
    }
    if !["file", "dir", "_raw_params"].iter().any(|k| args.contains_key(*k)) {
        return Err(err(value, "`include_vars` needs a file or `dir:`"));
    }
    Ok(args)
}
