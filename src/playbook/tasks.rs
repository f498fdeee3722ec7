//! Task lists: tasks, blocks and static includes, with the keywords of
//! enclosing blocks and includes folded into every task they contain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use stockman_modules::spec;

use super::load::{conditions, err, module_args, opt_string, scalar_string, string_list, vars_of, with_hint, LoadError};
use super::{did_you_mean, reuse, Action, Block, Handler, Loop, LoopKind, Meta, Role, Step, Task};
use crate::fallback::{Catalog, Resolved};
use crate::yaml::{self, Node, Yaml};

/// Keywords a task may carry besides its module.
const TASK_KEYWORDS: &[&str] = &[
    "name", "when", "register", "notify", "ignore_errors", "no_log", "vars", "args", "tags", "changed_when",
    "failed_when", "loop", "loop_control", "until", "retries", "delay", "run_once", "check_mode", "diff",
    "become", "become_user", "become_method", "delegate_to", "delegate_facts", "timeout",
    "throttle", "ignore_unreachable", "environment", "async", "poll",
];
const HANDLER_KEYWORDS: &[&str] = &["listen"];
const BLOCK_KEYWORDS: &[&str] = &[
    "name", "block", "rescue", "always", "when", "vars", "tags", "ignore_errors", "no_log", "check_mode", "diff",
    "run_once", "become", "become_user", "become_method", "environment", "ignore_unreachable", "throttle",
];
/// Ansible task keywords stockman does not implement yet: a clear error, not a typo hint.
const TASK_LATER: &[&str] = &[
    "action", "local_action", "any_errors_fatal", "become_exe", "become_flags", "collections", "connection", "debugger",
    "module_defaults", "port", "remote_user",
];
/// Read at load time, their tasks spliced in place.
const IMPORTS: &[&str] = &["import_tasks", "ansible.builtin.import_tasks"];
/// Removed from ansible-core 2.16: refused at load, as ansible-playbook 2.19 does.
const REMOVED_INCLUDE: &[&str] = &["include", "ansible.builtin.include"];
const IMPORT_ROLE: &[&str] = &["import_role", "ansible.builtin.import_role"];
/// Resolved while the play runs ([`Include`]).
const INCLUDE_TASKS: &[&str] = &["include_tasks", "ansible.builtin.include_tasks"];
const INCLUDE_ROLE: &[&str] = &["include_role", "ansible.builtin.include_role"];
const INCLUDE_VARS: &[&str] = &["include_vars", "ansible.builtin.include_vars"];
/// Keywords an include (or an import of a role) may carry besides its action.
pub(super) const INCLUDE_KEYWORDS: &[&str] = &[
    "name", "when", "vars", "tags", "args", "apply", "loop_control", "ignore_errors", "no_log", "register",
    "become", "become_user", "become_method", "check_mode", "diff", "run_once", "delegate_to", "timeout",
];
pub(super) const ROLE_OPTIONS: &[&str] = &["name", "tasks_from", "vars_from", "defaults_from", "handlers_from", "apply", "public", "allow_duplicates", "rolespec_validate"];
pub(super) const INCLUDE_VARS_OPTIONS: &[&str] = &["file", "dir", "name", "depth", "files_matching", "ignore_files", "extensions", "ignore_unknown_extensions", "hash_behaviour", "_raw_params"];
pub(super) const MAX_INCLUDE_DEPTH: usize = 32;

/// What enclosing blocks and includes pass down to each task.
#[derive(Debug, Clone, Default)]
pub(super) struct Inherited {
    pub(super) when: Vec<String>,
    pub(super) vars: Map<String, Value>,
    /// Parameters of the dynamic includes (`include_tasks`/`include_role`
    /// `vars:`, an include loop's item) around these tasks: above set_fact
    /// and the tasks' own vars, as in Ansible.
    pub(super) params: Map<String, Value>,
    pub(super) tags: Vec<String>,
    pub(super) ignore_errors: Option<Value>,
    pub(super) no_log: Option<Value>,
    check_mode: Option<Value>,
    diff: Option<Value>,
    run_once: Option<Value>,
    r#become: Option<Value>,
    become_user: Option<Value>,
    become_method: Option<Value>,
    environment: Vec<Value>,
    ignore_unreachable: Option<Value>,
    throttle: Option<Value>,
}

/// Where task lists are being read from.
#[derive(Debug, Clone)]
pub(super) struct Ctx {
    /// Directory relative includes are resolved against (the playbook's, or the role's tasks/).
    pub dir: PathBuf,
    pub playbook_dir: PathBuf,
    pub role: Option<Arc<Role>>,
    pub inherited: Inherited,
    pub depth: usize,
    /// Handlers of roles imported among these tasks: the play adds them to its own.
    pub handlers: HandlerSink,
    /// Roles (name, parameters) the play already has: dependencies run once.
    pub roles_seen: RolesSeen,
    /// roles_path: searched after the playbook's roles/.
    pub roles_path: RolesPath,
    /// Where modules stockman does not ship are looked up.
    pub catalog: Arc<Catalog>,
    /// The play's and role's `collections:`, searched for short module names.
    pub collections: Vec<String>,
}

pub(super) type RolesPath = Arc<[PathBuf]>;

pub(super) type RolesSeen = Arc<std::sync::Mutex<Vec<(String, Map<String, Value>)>>>;

/// Where `import_role` (and `include_role` of a role known at load time) leave their handlers.
pub(super) type HandlerSink = Arc<std::sync::Mutex<Vec<Handler>>>;

impl Ctx {
    pub fn new(playbook_dir: &Path, roles_path: RolesPath) -> Ctx {
        Ctx {
            dir: playbook_dir.to_path_buf(),
            playbook_dir: playbook_dir.to_path_buf(),
            role: None,
            inherited: Inherited::default(),
            depth: 0,
            handlers: HandlerSink::default(),
            roles_seen: RolesSeen::default(),
            roles_path,
            catalog: Catalog::shared(),
            collections: Vec::new(),
        }
    }

    /// The handlers collected so far (emptied).
    pub fn take_handlers(&self) -> Vec<Handler> {
        std::mem::take(&mut *self.handlers.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Adds handlers not already there: a role imported twice has its handlers once.
    pub(super) fn add_handlers(&self, handlers: Vec<Handler>) {
        let mut sink = self.handlers.lock().unwrap_or_else(|e| e.into_inner());
        for handler in handlers {
            if !sink.iter().any(|h| h.span() == handler.span()) {
                sink.push(handler);
            }
        }
    }
}

impl Inherited {
    /// Include parameters (with a loop item) every task below gets.
    pub(super) fn add_params(&mut self, params: &Map<String, Value>) {
        self.params.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// A list of tasks and blocks.
pub(super) fn steps(node: Option<&Node>, ctx: &Ctx) -> Result<Vec<Step>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    let items = node.as_seq().ok_or_else(|| err(node, format!("expected a list of tasks, found {}", node.kind_name())))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let map = item.as_map().ok_or_else(|| err(item, format!("a task must be a mapping, found {}", item.kind_name())))?;
        let has = |names: &[&str]| map.iter().find(|(k, _)| names.contains(&k.display_key().as_str()));
        if let Some((key, _)) = has(REMOVED_INCLUDE) {
            return Err(removed_include(key));
        } else if item.get("block").is_some() {
            out.push(Step::Block(block(item, map, ctx)?));
        } else if let Some((key, value)) = has(IMPORTS) {
            out.extend(include(item, key, value, ctx)?);
        } else if let Some((_, value)) = has(IMPORT_ROLE) {
            out.extend(reuse::import_role(item, value, ctx)?);
        } else if let Some((key, value)) = has(INCLUDE_TASKS).or(has(INCLUDE_ROLE)).or(has(INCLUDE_VARS)) {
            out.push(Step::Include(reuse::dynamic_include(item, key, value, ctx)?));
        } else {
            out.push(Step::Task(task(item, map, ctx, false)?));
        }
    }
    Ok(out)
}

/// A handler list: tasks, blocks of tasks, `import_tasks` and `include_tasks`.
pub(super) fn handlers(node: Option<&Node>, ctx: &Ctx) -> Result<Vec<Handler>, LoadError> {
    steps_for_handlers(node, ctx)
}

fn steps_for_handlers(node: Option<&Node>, ctx: &Ctx) -> Result<Vec<Handler>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    let items = node.as_seq().ok_or_else(|| err(node, format!("expected a list of handlers, found {}", node.kind_name())))?;
    let mut out = Vec::new();
    for item in items {
        let map = item.as_map().ok_or_else(|| err(item, format!("a handler must be a mapping, found {}", item.kind_name())))?;
        let has = |names: &[&str]| map.iter().find(|(k, _)| names.contains(&k.display_key().as_str()));
        if let Some((key, _)) = has(REMOVED_INCLUDE) {
            return Err(removed_include(key));
        } else if item.get("block").is_some() {
            out.extend(handler_block(item, map, ctx)?);
        } else if let Some((key, value)) = has(IMPORTS) {
            out.extend(handler_import(item, key, value, ctx)?);
        } else if let Some((key, value)) = has(INCLUDE_TASKS) {
            out.push(Handler::Include(reuse::handler_include(item, key, value, ctx)?));
        } else if let Some((key, _)) = has(INCLUDE_ROLE).or(has(IMPORT_ROLE)) {
            let hint = Some("list the handler's tasks, `import_tasks`, `include_tasks` or a `block` in handlers".into());
            return Err(with_hint(err(key, format!("`{}` in handlers is not supported by stockman yet", key.display_key())), hint));
        } else {
            out.push(Handler::Task(task(item, map, ctx, true)?));
        }
    }
    Ok(out)
}

/// `include:` names no file kind, so the hint offers both replacements.
fn removed_include(key: &Node) -> LoadError {
    let message = "The 'ansible.builtin.include' action plugin has been removed (ansible-core 2.16). Use include_tasks or import_tasks instead.";
    let hint = "`import_tasks: FILE` reads the file when the playbook loads (what `include:` of a fixed file did); `include_tasks: FILE` reads it while the play runs (for templated names, loops and `when` per host)";
    with_hint(err(key, message.to_string()), Some(hint.into()))
}

/// A block among handlers: each of its tasks is a handler, with the block's keywords.
fn handler_block(node: &Node, map: &[(Node, Node)], ctx: &Ctx) -> Result<Vec<Handler>, LoadError> {
    check_keys(map, BLOCK_KEYWORDS, &[], "block")?;
    for section in ["rescue", "always"] {
        if let Some(part) = node.get(section).filter(|n| !n.is_null()) {
            return Err(err(part, format!("`{section}` in a handler block is not supported by stockman yet")));
        }
    }
    let mut inner = ctx.clone();
    inner.inherited = inherit(&ctx.inherited, node)?;
    steps_for_handlers(node.get("block"), &inner)
}

/// `import_tasks` among handlers: every task of the file is a handler.
fn handler_import(node: &Node, key: &Node, value: &Node, ctx: &Ctx) -> Result<Vec<Handler>, LoadError> {
    let (path, inner) = import_target(node, key, value, ctx)?;
    let doc = yaml::parse_file(&path)?;
    steps_for_handlers(Some(&doc), &inner)
}

fn block(node: &Node, map: &[(Node, Node)], ctx: &Ctx) -> Result<Block, LoadError> {
    check_keys(map, BLOCK_KEYWORDS, &[], "block")?;
    let mut inner = ctx.clone();
    inner.inherited = inherit(&ctx.inherited, node)?;
    Ok(Block {
        name: opt_string(node.get("name"))?,
        span: node.span.clone(),
        block: steps(node.get("block"), &inner)?,
        rescue: steps(node.get("rescue"), &inner)?,
        always: steps(node.get("always"), &inner)?,
    })
}

/// The keywords of a block or include, on top of what encloses it.
pub(super) fn inherit(outer: &Inherited, node: &Node) -> Result<Inherited, LoadError> {
    let mut inner = outer.clone();
    inner.when.extend(conditions(node.get("when"))?);
    inner.vars.extend(vars_of(node.get("vars"))?);
    inner.tags.extend(string_list(node.get("tags"))?);
    let keep = |v: Option<&Node>, outer: &Option<Value>| v.map(Node::to_json).or_else(|| outer.clone());
    inner.ignore_errors = keep(node.get("ignore_errors"), &outer.ignore_errors);
    inner.no_log = keep(node.get("no_log"), &outer.no_log);
    inner.check_mode = keep(node.get("check_mode"), &outer.check_mode);
    inner.diff = keep(node.get("diff"), &outer.diff);
    inner.run_once = keep(node.get("run_once"), &outer.run_once);
    inner.r#become = keep(node.get("become"), &outer.r#become);
    inner.become_user = keep(node.get("become_user"), &outer.become_user);
    inner.become_method = keep(node.get("become_method"), &outer.become_method);
    inner.ignore_unreachable = keep(node.get("ignore_unreachable"), &outer.ignore_unreachable);
    inner.throttle = keep(node.get("throttle"), &outer.throttle);
    inner.environment.extend(node.get("environment").filter(|n| !n.is_null()).map(Node::to_json));
    Ok(inner)
}

/// `import_tasks`/`include_tasks`: read at load time; the include's `when`,
/// `vars` and `tags` apply to every task of the file.
fn include(node: &Node, key: &Node, value: &Node, ctx: &Ctx) -> Result<Vec<Step>, LoadError> {
    let (path, inner) = import_target(node, key, value, ctx)?;
    let doc = yaml::parse_file(&path)?;
    steps(Some(&doc), &inner)
}

/// The file an import names and the context its tasks are read in.
fn import_target(node: &Node, key: &Node, value: &Node, ctx: &Ctx) -> Result<(PathBuf, Ctx), LoadError> {
    let file = match value.get("file") {
        Some(f) => scalar_string(f)?,
        None => scalar_string(value)?,
    };
    if file.contains("{{") {
        return Err(err(value, format!("`{}` with a templated file name is not supported by stockman yet", key.display_key())));
    }
    if ctx.depth >= MAX_INCLUDE_DEPTH {
        return Err(err(value, format!("includes nested deeper than {MAX_INCLUDE_DEPTH} levels (an include cycle?)")));
    }
    let allowed: Vec<&str> = IMPORTS.iter().copied().chain(["name", "when", "vars", "tags", "args"]).collect();
    check_keys(node.as_map().unwrap_or_default(), &allowed, &[], "include")?;
    let path = resolve(&file, ctx).ok_or_else(|| {
        err(value, format!("could not find the task file `{file}` (looked in {} and {})", ctx.dir.display(), ctx.playbook_dir.display()))
    })?;
    let mut inner = ctx.clone();
    inner.inherited = inherit(&ctx.inherited, node)?;
    inner.depth += 1;
    if let Some(dir) = path.parent() {
        inner.dir = dir.to_path_buf();
    }
    Ok((path, inner))
}

/// A task file: absolute, else beside the including file, then beside the playbook.
pub(super) fn resolve(file: &str, ctx: &Ctx) -> Option<PathBuf> {
    let path = Path::new(file);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    [ctx.dir.join(path), ctx.playbook_dir.join(path)].into_iter().find(|p| p.is_file())
}

pub(super) fn check_keys(map: &[(Node, Node)], allowed: &[&str], later: &[&str], what: &str) -> Result<(), LoadError> {
    for (key, _) in map {
        let name = key.display_key();
        if allowed.contains(&name.as_str()) {
            continue;
        }
        if later.contains(&name.as_str()) || TASK_LATER.contains(&name.as_str()) {
            return Err(err(key, format!("the {what} keyword `{name}` is not supported by stockman yet")));
        }
        let hint = did_you_mean(&name, allowed.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        return Err(with_hint(err(key, format!("`{name}` is not a valid attribute for a {what}")), hint));
    }
    Ok(())
}

pub(super) fn task(node: &Node, map: &[(Node, Node)], ctx: &Ctx, handler: bool) -> Result<Task, LoadError> {
    let conditional = inherited_or_own_when(&ctx.inherited, node)?;
    let action = action(node, map, handler, ctx, conditional)?;
    let r#async = background(node, &action)?;
    let inherited = &ctx.inherited;
    let mut when = inherited.when.clone();
    when.extend(conditions(node.get("when"))?);
    let mut vars = inherited.vars.clone();
    vars.extend(vars_of(node.get("vars"))?);
    let mut tags = inherited.tags.clone();
    tags.extend(string_list(node.get("tags"))?);
    let value_or = |key: &str, outer: &Option<Value>, default: Value| {
        node.get(key).map(Node::to_json).or_else(|| outer.clone()).unwrap_or(default)
    };
    Ok(Task {
        name: opt_string(node.get("name"))?,
        action,
        span: node.span.clone(),
        when,
        register: opt_string(node.get("register"))?,
        notify: string_list(node.get("notify"))?,
        listen: string_list(node.get("listen"))?,
        ignore_errors: value_or("ignore_errors", &inherited.ignore_errors, Value::Bool(false)),
        no_log: value_or("no_log", &inherited.no_log, Value::Bool(false)),
        changed_when: conditions(node.get("changed_when"))?,
        failed_when: conditions(node.get("failed_when"))?,
        loop_: loop_of(node, map)?,
        until: conditions(node.get("until"))?,
        retries: node.get("retries").map(Node::to_json).unwrap_or(Value::from(3)),
        delay: node.get("delay").map(Node::to_json).unwrap_or(Value::from(5)),
        tags,
        run_once: value_or("run_once", &inherited.run_once, Value::Bool(false)),
        check_mode: node.get("check_mode").map(Node::to_json).or_else(|| inherited.check_mode.clone()),
        diff: node.get("diff").map(Node::to_json).or_else(|| inherited.diff.clone()),
        r#become: node.get("become").map(Node::to_json).or_else(|| inherited.r#become.clone()),
        become_user: node.get("become_user").map(Node::to_json).or_else(|| inherited.become_user.clone()),
        become_method: node.get("become_method").map(Node::to_json).or_else(|| inherited.become_method.clone()),
        delegate_to: node.get("delegate_to").map(Node::to_json),
        timeout: node.get("timeout").map(Node::to_json),
        throttle: node.get("throttle").map(Node::to_json).or_else(|| inherited.throttle.clone()),
        ignore_unreachable: value_or("ignore_unreachable", &inherited.ignore_unreachable, Value::Bool(false)),
        environment: inherited.environment.iter().cloned().chain(node.get("environment").filter(|n| !n.is_null()).map(Node::to_json)).collect(),
        r#async,
        poll: node.get("poll").filter(|n| !n.is_null()).map(Node::to_json),
        role: ctx.role.clone(),
        vars,
        params: inherited.params.clone(),
    })
}

/// `async:` seconds, for the modules stockman can run as a background job
/// (`command`, `shell`, fallback modules); any other module with `async` is refused rather than
/// quietly run in the foreground.
fn background(node: &Node, action: &Action) -> Result<Option<Value>, LoadError> {
    let Some(value) = node.get("async").filter(|n| !n.is_null()) else { return Ok(None) };
    let runs_commands = matches!(action, Action::Module { spec, .. } if matches!(spec.kind, spec::ModuleKind::Command | spec::ModuleKind::Shell))
        || matches!(action, Action::Module { python: Some(_), .. });
    if !runs_commands {
        let name = match action {
            Action::Module { written_as, .. } => written_as.as_str(),
            Action::Meta(_) => "meta",
        };
        let hint = Some("drop `async`/`poll` to run it in the foreground, or do the work with `shell` under `async`".to_string());
        let why = "stockman runs no Python on the target to keep its other native modules running in the background";
        return Err(with_hint(err(value, format!("`async` is supported for `command`, `shell` and modules run through the Ansible fallback, not `{name}`: {why}")), hint));
    }
    Ok(Some(value.to_json()))
}

/// Whether the task may not run: some `when:` (its own or inherited) that is
/// not literally true.
fn inherited_or_own_when(inherited: &Inherited, node: &Node) -> Result<bool, LoadError> {
    let own = conditions(node.get("when"))?;
    Ok(inherited.when.iter().chain(&own).any(|c| !matches!(c.trim(), "True" | "true" | "yes")))
}

/// The task's one module (or meta action), validated against its spec;
/// a module stockman does not ship is looked up in the controller's Ansible.
fn action(node: &Node, map: &[(Node, Node)], handler: bool, ctx: &Ctx, conditional: bool) -> Result<Action, LoadError> {
    let mut action = None;
    for (key, value) in map {
        let name = key.display_key();
        let is_loop = loop_keyword(&name).is_some();
        if TASK_KEYWORDS.contains(&name.as_str()) || is_loop || (handler && HANDLER_KEYWORDS.contains(&name.as_str())) {
            continue;
        }
        let found = if let Some(meta) = meta_action(&name, value)? {
            Action::Meta(meta)
        } else if let Some(local) = local_module(&name, ctx) {
            let args = module_args(&spec::FALLBACK, value, node.get("args"))?;
            Action::Module { spec: &spec::FALLBACK, written_as: name.clone(), args, python: Some(local) }
        } else if let Some(spec) = spec::lookup(&name) {
            Action::Module { spec, written_as: name.clone(), args: module_args(spec, value, node.get("args"))?, python: None }
        } else if TASK_LATER.contains(&name.as_str()) || name.starts_with("with_") {
            return Err(err(key, format!("the task keyword `{name}` is not supported by stockman yet")));
        } else {
            fallback_action(key, value, node, &name, ctx, conditional)?
        };
        if action.is_some() {
            return Err(err(key, format!("conflicting action statements: a task runs one module, and `{name}` is a second one")));
        }
        action = Some(found);
    }
    action.ok_or_else(|| with_hint(err(node, "no module/action detected in task"), Some("add a module such as `command: ...`".into())))
}

/// A module in the task's role's `library/` or the playbook's, with the
/// `module_utils/` beside them.
fn local_module(name: &str, ctx: &Ctx) -> Option<Resolved> {
    let bases: Vec<&Path> = ctx.role.iter().map(|r| r.path.as_path()).chain([ctx.playbook_dir.as_path()]).collect();
    let library: Vec<PathBuf> = bases.iter().map(|b| b.join("library")).filter(|d| d.is_dir()).collect();
    let module_utils: Vec<PathBuf> = bases.iter().map(|b| b.join("module_utils")).collect();
    ctx.catalog.resolve_local(name, &library, &module_utils)
}

/// A module from the controller's ansible-core or collections. One that
/// cannot run is a load error, unless the task may not run: then it fails
/// only on the hosts where it does (a RedHat-only `yum:` loads on Debian).
fn fallback_action(key: &Node, value: &Node, node: &Node, name: &str, ctx: &Ctx, conditional: bool) -> Result<Action, LoadError> {
    // A misspelt native module is far likelier than an unknown one that resolves.
    let resolved = ctx.catalog.resolve(name, &ctx.collections);
    if let Resolved::Unavailable { message, hint } = &resolved {
        if !conditional {
            let candidates = spec::names().chain(TASK_KEYWORDS.iter().copied()).chain(["meta", "block", "import_tasks", "include_tasks", "import_role", "include_role", "include_vars"]);
            let suggestion = did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?"));
            return Err(with_hint(err(key, message.clone()), suggestion.or_else(|| hint.clone())));
        }
    }
    let args = module_args(&spec::FALLBACK, value, node.get("args"))?;
    Ok(Action::Module { spec: &spec::FALLBACK, written_as: name.to_string(), args, python: Some(resolved) })
}

fn meta_action(name: &str, value: &Node) -> Result<Option<Meta>, LoadError> {
    if name != "meta" && name != "ansible.builtin.meta" {
        return Ok(None);
    }
    match value.as_str() {
        Some("flush_handlers") => Ok(Some(Meta::FlushHandlers)),
        Some("noop") => Ok(Some(Meta::Noop)),
        Some("end_play") => Ok(Some(Meta::EndPlay)),
        Some("end_host") => Ok(Some(Meta::EndHost)),
        Some("end_batch") => Ok(Some(Meta::EndBatch)),
        Some("clear_host_errors") => Ok(Some(Meta::ClearHostErrors)),
        Some("refresh_inventory") => Ok(Some(Meta::RefreshInventory)),
        Some("reset_connection") => Ok(Some(Meta::ResetConnection)),
        Some(other) => {
            let known = ["flush_handlers", "noop", "end_play", "end_host", "end_batch", "clear_host_errors", "refresh_inventory", "reset_connection"];
            let hint = did_you_mean(other, known).map(|s| format!("did you mean `{s}`?"));
            Err(with_hint(err(value, format!("meta `{other}` is not supported by stockman (supported: {})", known.join(", "))), hint))
        }
        None => Err(err(value, "meta takes the name of an action, e.g. `meta: flush_handlers`")),
    }
}

/// `loop` or `with_<lookup>` (any lookup name: checked in [`loop_of`]).
fn loop_keyword(name: &str) -> Option<LoopKind> {
    match name {
        "loop" => Some(LoopKind::List),
        _ => name.strip_prefix("with_").filter(|l| !l.is_empty()).map(|l| LoopKind::With(l.to_string())),
    }
}

pub(super) fn loop_of(node: &Node, map: &[(Node, Node)]) -> Result<Option<Loop>, LoadError> {
    let mut found = map.iter().filter_map(|(k, v)| loop_keyword(&k.display_key()).map(|kind| (k, v, kind)));
    let Some((key, value, kind)) = found.next() else {
        if let Some(control) = node.get("loop_control") {
            return Err(err(control, "`loop_control` without `loop` or `with_*`"));
        }
        return Ok(None);
    };
    if let Some((second, _, _)) = found.next() {
        return Err(err(second, format!("a task takes one loop, and `{}` comes after `{}`", second.display_key(), key.display_key())));
    }
    if let LoopKind::With(lookup) = &kind {
        let hint = did_you_mean(lookup, crate::template::lookup_names()).map(|n| format!("did you mean `with_{n}`?"));
        crate::template::lookup_available(lookup).map_err(|message| with_hint(err(key, message), hint))?;
    }
    let mut lp = Loop { items: value.to_json(), kind, loop_var: "item".into(), index_var: None, label: None, pause: 0.0, extended: false };
    if let Some(control) = node.get("loop_control").filter(|c| !c.is_null()) {
        let entries = control.as_map().ok_or_else(|| err(control, "`loop_control` must be a mapping"))?;
        for (k, v) in entries {
            match k.display_key().as_str() {
                "loop_var" => lp.loop_var = scalar_string(v)?,
                "index_var" => lp.index_var = Some(scalar_string(v)?),
                "label" => lp.label = Some(v.to_json()),
                "pause" => lp.pause = v.to_json().as_f64().ok_or_else(|| err(v, "`pause` must be a number of seconds"))?,
                "extended" => lp.extended = matches!(v.value, Yaml::Bool(true)),
                "extended_allitems" => {}
                other => {
                    let known = ["loop_var", "index_var", "label", "pause", "extended"];
                    let hint = did_you_mean(other, known).map(|s| format!("did you mean `{s}`?"));
                    return Err(with_hint(err(k, format!("`{other}` is not a valid loop_control option")), hint));
                }
            }
        }
    }
    Ok(Some(lp))
}

/// The context for a role's tasks with its `roles:` entry's `when`/`tags` folded in.
pub(super) fn with_entry_keywords(ctx: &Ctx, entry: &Node) -> Result<Ctx, LoadError> {
    let mut inner = ctx.clone();
    inner.inherited = inherit(&ctx.inherited, entry)?;
    Ok(inner)
}
