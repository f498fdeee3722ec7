//! Task lists: tasks, blocks and static includes, with the keywords of
//! enclosing blocks and includes folded into every task they contain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use stockman_modules::spec;

use super::keywords::{self, Scope};
pub(super) use super::keywords::Inherited;
use super::load::{conditions, err, module_args, opt_string, scalar_string, string_list, vars_of, with_hint, LoadError};
use super::{did_you_mean, reuse, Action, Block, Handler, Loop, LoopKind, Meta, Role, Step, Task};
use crate::fallback::{Catalog, Resolved};
use crate::yaml::{self, Node, Yaml};

/// Read at load time, their tasks spliced in place.
const IMPORTS: &[&str] = &["import_tasks", "ansible.builtin.import_tasks"];
/// Removed from ansible-core 2.16: refused at load, as ansible-playbook 2.19 does.
const REMOVED_INCLUDE: &[&str] = &["include", "ansible.builtin.include"];
const IMPORT_ROLE: &[&str] = &["import_role", "ansible.builtin.import_role"];
/// Resolved while the play runs ([`Include`]).
const INCLUDE_TASKS: &[&str] = &["include_tasks", "ansible.builtin.include_tasks"];
const INCLUDE_ROLE: &[&str] = &["include_role", "ansible.builtin.include_role"];
const INCLUDE_VARS: &[&str] = &["include_vars", "ansible.builtin.include_vars"];
pub(super) const ROLE_OPTIONS: &[&str] = &["name", "tasks_from", "vars_from", "defaults_from", "handlers_from", "apply", "public", "allow_duplicates", "rolespec_validate"];
pub(super) const INCLUDE_VARS_OPTIONS: &[&str] = &["file", "dir", "name", "depth", "files_matching", "ignore_files", "extensions", "ignore_unknown_extensions", "hash_behaviour", "_raw_params"];
pub(super) const MAX_INCLUDE_DEPTH: usize = 32;

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
    /// The defaults and vars of the play's public roles (`roles:`, `import_role`).
    pub public_role_vars: PublicRoleVars,
    /// roles_path: searched after the playbook's roles/.
    pub roles_path: RolesPath,
    /// Where modules stockman does not ship are looked up.
    pub catalog: Arc<Catalog>,
    /// The play's and role's `collections:`, searched for short module names.
    pub collections: Vec<String>,
    /// Inside the `block:` of a block with a `rescue:`: a task's failure is handled.
    pub rescued: bool,
}

pub(super) type RolesPath = Arc<[PathBuf]>;

pub(super) type RolesSeen = Arc<std::sync::Mutex<Vec<(String, Map<String, Value>)>>>;

/// Where the play's public roles leave their defaults and vars (later roles winning).
pub(super) type PublicRoleVars = Arc<std::sync::Mutex<(Map<String, Value>, Map<String, Value>)>>;

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
            public_role_vars: PublicRoleVars::default(),
            roles_path,
            catalog: Catalog::shared(),
            collections: Vec::new(),
            rescued: false,
        }
    }

    /// The context inside a block, import, role entry or `apply` written as
    /// `node`: its keywords on top of these; its `collections:` searched
    /// for short module names instead of the enclosing ones.
    pub(super) fn inside(&self, node: &Node, scope: Scope) -> Result<Ctx, LoadError> {
        let mut inner = self.clone();
        inner.inherited = self.inherited.inside(node, scope)?;
        if let Some(collections) = node.get("collections") {
            inner.collections = string_list(Some(collections))?;
        }
        Ok(inner)
    }

    /// Adds a public role's defaults and vars to what the whole play sees.
    pub(super) fn expose_role_vars(&self, defaults: Map<String, Value>, exports: Map<String, Value>) {
        let mut sink = self.public_role_vars.lock().unwrap_or_else(|e| e.into_inner());
        sink.0.extend(defaults);
        sink.1.extend(exports);
    }

    /// The defaults and vars of the play's public roles, collected so far (emptied).
    pub(super) fn take_role_vars(&self) -> (Map<String, Value>, Map<String, Value>) {
        std::mem::take(&mut *self.public_role_vars.lock().unwrap_or_else(|e| e.into_inner()))
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
    keywords::check(map, Scope::BLOCK, &[], "block")?;
    for section in ["rescue", "always"] {
        if let Some(part) = node.get(section).filter(|n| !n.is_null()) {
            return Err(err(part, format!("`{section}` in a handler block is not supported by stockman yet")));
        }
    }
    steps_for_handlers(node.get("block"), &ctx.inside(node, Scope::BLOCK)?)
}

/// `import_tasks` among handlers: every task of the file is a handler.
fn handler_import(node: &Node, key: &Node, value: &Node, ctx: &Ctx) -> Result<Vec<Handler>, LoadError> {
    let (path, inner) = import_target(node, key, value, ctx)?;
    let doc = yaml::parse_file(&path)?;
    steps_for_handlers(Some(&doc), &inner)
}

fn block(node: &Node, map: &[(Node, Node)], ctx: &Ctx) -> Result<Block, LoadError> {
    keywords::check(map, Scope::BLOCK, &[], "block")?;
    let inner = ctx.inside(node, Scope::BLOCK)?;
    let rescued = node.get("rescue").is_some_and(|r| !r.is_null());
    let guarded = Ctx { rescued: inner.rescued || rescued, ..inner.clone() };
    Ok(Block {
        name: opt_string(node.get("name"))?,
        span: node.span.clone(),
        block: steps(node.get("block"), &guarded)?,
        rescue: steps(node.get("rescue"), &inner)?,
        always: steps(node.get("always"), &inner)?,
    })
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
    keywords::check(node.as_map().unwrap_or_default(), Scope::IMPORT, IMPORTS, "import")?;
    let path = resolve(&file, ctx).ok_or_else(|| {
        err(value, format!("could not find the task file `{file}` (looked in {} and {})", ctx.dir.display(), ctx.playbook_dir.display()))
    })?;
    let mut inner = ctx.inside(node, Scope::IMPORT)?;
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

/// Checks the options of a role include or `include_vars` (not keywords).
pub(super) fn check_options(map: &[(Node, Node)], allowed: &[&str], what: &str) -> Result<(), LoadError> {
    for (key, _) in map {
        let name = key.display_key();
        if !allowed.contains(&name.as_str()) {
            let hint = did_you_mean(&name, allowed.iter().copied()).map(|s| format!("did you mean `{s}`?"));
            return Err(with_hint(err(key, format!("`{name}` is not a valid attribute for a {what}")), hint));
        }
    }
    Ok(())
}

pub(super) fn task(node: &Node, map: &[(Node, Node)], ctx: &Ctx, handler: bool) -> Result<Task, LoadError> {
    let conditional = inherited_or_own_when(&ctx.inherited, node)?;
    let mut ctx = std::borrow::Cow::Borrowed(ctx);
    if let Some(collections) = node.get("collections") {
        ctx.to_mut().collections = string_list(Some(collections))?;
    }
    let ctx = ctx.as_ref();
    let (action, local) = action(node, map, handler, ctx, conditional)?;
    let r#async = background(node, &action)?;
    let inherited = &ctx.inherited;
    let mut when = inherited.when.clone();
    when.extend(conditions(node.get("when"))?);
    let mut vars = inherited.vars.clone();
    vars.extend(vars_of(node.get("vars"))?);
    let mut tags = inherited.tags.clone();
    tags.extend(string_list(node.get("tags"))?);
    let nearest = |key: &str| inherited.nearest(node, key);
    let flag = |key: &str| nearest(key).unwrap_or(Value::Bool(false));
    let delegate_to = match local {
        Some(at) if node.get("delegate_to").is_some() => return Err(err(at, "`local_action` and `delegate_to` are mutually exclusive")),
        Some(_) => Some(Value::String("localhost".into())),
        None => nearest("delegate_to"),
    };
    Ok(Task {
        name: opt_string(node.get("name"))?,
        action,
        span: node.span.clone(),
        when,
        register: opt_string(node.get("register"))?,
        notify: notify_of(node, inherited)?,
        listen: string_list(node.get("listen"))?,
        ignore_errors: flag("ignore_errors"),
        no_log: flag("no_log"),
        changed_when: conditions(node.get("changed_when"))?,
        failed_when: conditions(node.get("failed_when"))?,
        loop_: loop_of(node, map)?,
        until: conditions(node.get("until"))?,
        // Unset (null) differs from 3: without `until`, only a set `retries` retries.
        retries: node.get("retries").map(Node::to_json).unwrap_or(Value::Null),
        delay: node.get("delay").map(Node::to_json).unwrap_or(Value::from(5)),
        tags,
        run_once: flag("run_once"),
        check_mode: nearest("check_mode"),
        diff: nearest("diff"),
        r#become: nearest("become"),
        become_user: nearest("become_user"),
        become_method: nearest("become_method"),
        delegate_to,
        delegate_facts: flag("delegate_facts"),
        timeout: nearest("timeout"),
        throttle: nearest("throttle"),
        ignore_unreachable: flag("ignore_unreachable"),
        any_errors_fatal: nearest("any_errors_fatal"),
        connection: super::Connection {
            connection: nearest("connection"),
            remote_user: nearest("remote_user"),
            port: nearest("port"),
        },
        environment: inherited.extended(node, "environment"),
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

/// The task's one module (or meta action), validated against its spec with
/// the `module_defaults` that apply to it; a module stockman does not ship
/// is looked up in the controller's Ansible. The second value is the
/// `local_action` key, when the module was given that way.
fn action<'n>(node: &'n Node, map: &'n [(Node, Node)], handler: bool, ctx: &Ctx, conditional: bool) -> Result<(Action, Option<&'n Node>), LoadError> {
    let mut action = None;
    let mut local = None;
    for (key, value) in map {
        let name = key.display_key();
        let is_action = name == "action" || name == "local_action";
        if !is_action && (loop_keyword(&name).is_some() || keywords::task_keyword(&name, value, handler)?) {
            continue;
        }
        let (module_key, module, value) = match is_action {
            true => action_keyword(key, value)?,
            false => (key, name.clone(), std::borrow::Cow::Borrowed(value)),
        };
        if action.is_some() {
            return Err(err(key, format!("conflicting action statements: a task runs one module, and `{name}` is a second one")));
        }
        if name == "local_action" {
            local = Some(key);
        }
        action = Some(module_action(module_key, &module, &value, node, ctx, conditional)?);
    }
    let action = action.ok_or_else(|| with_hint(err(node, "no module/action detected in task"), Some("add a module such as `command: ...`".into())))?;
    Ok((action, local))
}

/// `action:`/`local_action:` as `module args...` or `{module: NAME, args...}`:
/// the module's name and its arguments as if written `NAME: args`.
fn action_keyword<'n>(key: &'n Node, value: &'n Node) -> Result<(&'n Node, String, std::borrow::Cow<'n, Node>), LoadError> {
    let keyword = key.display_key();
    let (module, rest) = match &value.value {
        Yaml::Str(text) => {
            let text = text.trim_start();
            // A templated name (`{{ pkg_mgr }} name=x`) ends after its `}}`.
            let from = if text.starts_with("{{") { text.find("}}").map_or(text.len(), |i| i + 2) } else { 0 };
            let (module, rest) = match text[from..].find(char::is_whitespace) {
                Some(i) => text.split_at(from + i),
                None => (text, ""),
            };
            let rest = rest.trim();
            let rest = if rest.is_empty() { Yaml::Null } else { Yaml::Str(rest.to_string()) };
            (module.to_string(), Node { value: rest, span: value.span.clone() })
        }
        Yaml::Map(entries) => {
            let module = value.get("module").ok_or_else(|| err(value, format!("`{keyword}` as a mapping needs `module: NAME`")))?;
            let others: Vec<(Node, Node)> = entries.iter().filter(|(k, _)| k.display_key() != "module").cloned().collect();
            (scalar_string(module)?, Node { value: if others.is_empty() { Yaml::Null } else { Yaml::Map(others) }, span: value.span.clone() })
        }
        _ => return Err(err(value, format!("`{keyword}` takes `module args...` or a mapping with `module:`, found {}", value.kind_name()))),
    };
    if module.is_empty() {
        return Err(err(value, format!("`{keyword}` names no module")));
    }
    Ok((value, module, std::borrow::Cow::Owned(rest)))
}

/// The module `name` with its arguments `value` (a meta action, a native
/// module, else the fallback), the task's `args:` and `module_defaults` below them.
fn module_action(key: &Node, name: &str, value: &Node, node: &Node, ctx: &Ctx, conditional: bool) -> Result<Action, LoadError> {
    if name.contains("{{") {
        let deferred = DeferredAction { key: key.clone(), value: value.clone(), node: node.clone(), ctx: ctx.clone() };
        return Ok(Action::Module { spec: &spec::FALLBACK, written_as: name.to_string(), args: Map::new(), python: None, deferred: Some(Box::new(deferred)) });
    }
    if let Some(meta) = meta_action(name, value)? {
        return Ok(Action::Meta(meta));
    }
    // A module of the role's or playbook's own `library/` wins, as in Ansible.
    if let Some(local) = local_module(name, ctx) {
        return fallback_module(local, key, value, node, name, ctx);
    }
    if let Some(spec) = spec::lookup(name) {
        let defaults = super::defaults::for_native(spec, &ctx.inherited.extended(node, "module_defaults"), ctx, key)?;
        let args = module_args(spec, value, node.get("args"), &defaults)?;
        if !failure_handled(node, ctx) {
            super::load::check_literal_args(spec, &args, value, node.get("args"))?;
        }
        return Ok(Action::Module { spec, written_as: name.to_string(), args, python: None, deferred: None });
    }
    if keywords::keyword(name).is_some() {
        return Err(err(key, format!("`{name}` is not a valid attribute for a task")));
    }
    fallback_action(key, value, node, name, ctx, conditional)
}

/// `action: "{{ ansible_facts.pkg_mgr }}"`: a module named by a template,
/// known per host. Everything needed to read it as a task would have been
/// read is kept, so it is checked as strictly, when its name is known.
#[derive(Debug, Clone)]
pub struct DeferredAction {
    key: Node,
    value: Node,
    node: Node,
    ctx: Ctx,
}

impl DeferredAction {
    /// The action once its module's name is rendered (`action: NAME` read then).
    pub fn resolve(&self, name: &str) -> Result<Action, LoadError> {
        if name.contains("{{") || name.trim().is_empty() {
            return Err(err(&self.key, format!("the module name rendered to `{name}`")));
        }
        module_action(&self.key, name.trim(), &self.value, &self.node, &self.ctx, false)
    }
}

/// The handlers a task notifies: its own `notify`, else the nearest block's or import's.
fn notify_of(node: &Node, inherited: &Inherited) -> Result<Vec<String>, LoadError> {
    if node.get("notify").is_some() {
        return string_list(node.get("notify"));
    }
    Ok(match inherited.nearest(node, "notify") {
        Some(Value::Array(items)) => items.iter().map(stockman_modules::args::value_to_string).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(one) => vec![stockman_modules::args::value_to_string(&one)],
    })
}

/// The task says it expects to fail (`ignore_errors: true` here or around it, a
/// `failed_when`, or a block's `rescue:` around it): a bad literal argument then
/// fails it on each host, as in Ansible, instead of refusing the playbook.
fn failure_handled(node: &Node, ctx: &Ctx) -> bool {
    let ignored = ctx.inherited.nearest(node, "ignore_errors").is_some_and(|v| v == Value::Bool(true) || v.as_str().is_some_and(|s| s.contains("{{")));
    ignored || node.get("failed_when").is_some() || ctx.rescued
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
            let candidates = spec::names().chain(keywords::names(Scope::TASK)).chain(["meta", "block", "import_tasks", "include_tasks", "import_role", "include_role", "include_vars"]);
            let suggestion = did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?"));
            return Err(with_hint(err(key, message.clone()), suggestion.or_else(|| hint.clone())));
        }
    }
    fallback_module(resolved, key, value, node, name, ctx)
}

/// The fallback module `resolved`, its arguments with the `module_defaults` for it below them.
fn fallback_module(resolved: Resolved, key: &Node, value: &Node, node: &Node, name: &str, ctx: &Ctx) -> Result<Action, LoadError> {
    let defaults = match &resolved {
        Resolved::Module(module) => super::defaults::for_fallback(&module.fqcn, name, &ctx.inherited.extended(node, "module_defaults"), ctx, key)?,
        Resolved::Unavailable { .. } => Map::new(),
    };
    let args = module_args(&spec::FALLBACK, value, node.get("args"), &defaults)?;
    Ok(Action::Module { spec: &spec::FALLBACK, written_as: name.to_string(), args, python: Some(resolved), deferred: None })
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
    let mut lp = Loop { items: value.to_json(), kind, loop_var: "item".into(), index_var: None, label: None, pause: 0.0, extended: false, extended_allitems: true };
    if let Some(control) = node.get("loop_control").filter(|c| !c.is_null()) {
        let entries = control.as_map().ok_or_else(|| err(control, "`loop_control` must be a mapping"))?;
        for (k, v) in entries {
            match k.display_key().as_str() {
                "loop_var" => lp.loop_var = scalar_string(v)?,
                "index_var" => lp.index_var = Some(scalar_string(v)?),
                "label" => lp.label = Some(v.to_json()),
                "pause" => lp.pause = v.to_json().as_f64().ok_or_else(|| err(v, "`pause` must be a number of seconds"))?,
                "extended" => lp.extended = matches!(v.value, Yaml::Bool(true)),
                "extended_allitems" => lp.extended_allitems = !matches!(v.value, Yaml::Bool(false)),
                other => {
                    let known = ["loop_var", "index_var", "label", "pause", "extended", "extended_allitems"];
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
    ctx.inside(entry, Scope::ROLE)
}
