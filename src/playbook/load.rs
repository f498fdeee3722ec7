//! YAML nodes → the playbook model, validating everything that can be checked
//! before any host is contacted.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use stockman_modules::spec::{ModuleSpec, ParamType};
use stockman_modules::validate::Violation;

use super::keywords::{self, Scope};
use super::{did_you_mean, parse_kv, roles, tasks, BatchSize, Handler, HostOrder, Play, Playbook, Step, Strategy, Task};
use crate::yaml::{self, Node, Span, Yaml};

/// A playbook that cannot be run, with where and (when known) how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{span}: {message}{}", hint.as_ref().map(|h| format!(". {h}")).unwrap_or_default())]
pub struct LoadError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

impl From<yaml::YamlError> for LoadError {
    fn from(e: yaml::YamlError) -> Self {
        LoadError { span: e.span, message: e.message, hint: None }
    }
}

pub(super) fn err(node: &Node, message: impl Into<String>) -> LoadError {
    LoadError { span: node.span.clone(), message: message.into(), hint: None }
}

pub(super) fn with_hint(mut e: LoadError, hint: Option<String>) -> LoadError {
    e.hint = hint;
    e
}

const IMPORT_PLAYBOOK: &[&str] = &["import_playbook", "ansible.builtin.import_playbook"];
const MAX_PLAYBOOK_DEPTH: usize = 16;

/// Loads and validates a playbook file (roles from its roles/ only).
pub fn load(path: &Path) -> Result<Playbook, LoadError> {
    load_with_roles_path(path, &[])
}

/// Loads and validates a playbook file; roles are also looked for in `roles_path`
/// (roles_path / ANSIBLE_ROLES_PATH), after the playbook's roles/.
pub fn load_with_roles_path(path: &Path, roles_path: &[PathBuf]) -> Result<Playbook, LoadError> {
    let mut plays = Vec::new();
    let roles_path: tasks::RolesPath = roles_path.to_vec().into();
    load_plays(path, &tasks::Inherited::default(), &roles_path, 0, &mut plays)?;
    Ok(Playbook { path: path.to_path_buf(), plays })
}

/// The plays of a playbook file, `import_playbook` entries expanded in place
/// (relative to the importing file; its `when`/`tags`/`vars` on every play).
fn load_plays(path: &Path, outer: &tasks::Inherited, roles_path: &tasks::RolesPath, depth: usize, plays: &mut Vec<Play>) -> Result<(), LoadError> {
    let root = yaml::parse_file(path)?;
    plays_of(&root, path, outer, roles_path, depth, plays)
}

/// A playbook built in memory (an ad-hoc run's one-task play), validated as a
/// file would be; `path` stands for the file: its directory is the playbook's.
pub fn load_node(root: &Node, path: &Path, roles_path: &[PathBuf]) -> Result<Playbook, LoadError> {
    let mut plays = Vec::new();
    let roles_path: tasks::RolesPath = roles_path.to_vec().into();
    plays_of(root, path, &tasks::Inherited::default(), &roles_path, 0, &mut plays)?;
    Ok(Playbook { path: path.to_path_buf(), plays })
}

fn plays_of(root: &Node, path: &Path, outer: &tasks::Inherited, roles_path: &tasks::RolesPath, depth: usize, plays: &mut Vec<Play>) -> Result<(), LoadError> {
    let items = root
        .as_seq()
        .ok_or_else(|| err(&root, format!("a playbook must be a list of plays, found {}", root.kind_name())))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    for item in items {
        match item.as_map().and_then(|m| m.iter().find(|(k, _)| IMPORT_PLAYBOOK.contains(&k.display_key().as_str()))) {
            Some((_, value)) => import_playbook(item, value, dir, outer, roles_path, depth, plays)?,
            None => plays.push(load_play(item, dir, outer, roles_path)?),
        }
    }
    Ok(())
}

fn import_playbook(node: &Node, value: &Node, dir: &Path, outer: &tasks::Inherited, roles_path: &tasks::RolesPath, depth: usize, plays: &mut Vec<Play>) -> Result<(), LoadError> {
    keywords::check(node.as_map().unwrap_or_default(), Scope::IMPORT_PLAYBOOK, IMPORT_PLAYBOOK, "import_playbook")?;
    let file = scalar_string(value)?;
    if file.contains("{{") {
        return Err(with_hint(err(value, "`import_playbook` needs a fixed file name"), Some("it is read before any host is contacted".into())));
    }
    if depth >= MAX_PLAYBOOK_DEPTH {
        return Err(err(value, format!("`import_playbook` nested deeper than {MAX_PLAYBOOK_DEPTH} levels (an import cycle?)")));
    }
    let path = if Path::new(&file).is_absolute() { Path::new(&file).to_path_buf() } else { dir.join(&file) };
    if !path.is_file() {
        return Err(err(value, format!("the playbook `{file}` to import was not found (looked for {})", path.display())));
    }
    let inner = outer.inside(node, Scope::IMPORT_PLAYBOOK)?;
    load_plays(&path, &inner, roles_path, depth + 1, plays)
}

fn load_play(node: &Node, dir: &Path, outer: &tasks::Inherited, roles_path: &tasks::RolesPath) -> Result<Play, LoadError> {
    let map = node.as_map().ok_or_else(|| err(node, format!("a play must be a mapping, found {}", node.kind_name())))?;
    keywords::check(map, Scope::PLAY, &[], "play")?;
    let hosts = node.get("hosts").ok_or_else(|| {
        with_hint(err(node, "this play has no `hosts:`"), Some("add e.g. `hosts: all`".into()))
    })?;
    // The play's tags (and its import_playbook's) apply to all its tasks.
    let play_tags: Vec<String> = outer.tags.iter().cloned().chain(string_list(node.get("tags"))?).collect();
    let mut ctx = tasks::Ctx::new(dir, roles_path.clone());
    ctx.inherited = outer.from_play(node)?;
    ctx.inherited.tags = play_tags.clone();
    ctx.collections = string_list(node.get("collections"))?;
    let roles = roles::load_all(node.get("roles"), &ctx)?;
    let mut role_tasks = Vec::new();
    let mut role_handlers = Vec::new();
    for role in roles {
        role_tasks.extend(role.tasks);
        role_handlers.extend(role.handlers);
        ctx.expose_role_vars(role.defaults, role.exports);
    }
    let pre_tasks = tasks::steps(node.get("pre_tasks"), &ctx)?;
    role_tasks.extend(tasks::steps(node.get("tasks"), &ctx)?);
    let post_tasks = tasks::steps(node.get("post_tasks"), &ctx)?;
    let mut handlers = tasks::handlers(node.get("handlers"), &ctx)?;
    for handler in role_handlers.into_iter().chain(ctx.take_handlers()) {
        if !handlers.iter().any(|h| h.span() == handler.span()) {
            handlers.push(handler);
        }
    }
    let (role_defaults, role_exports) = ctx.take_role_vars();
    let mut play = Play {
        role_defaults,
        role_exports,
        name: opt_string(node.get("name"))?,
        hosts: host_pattern(hosts)?,
        span: node.span.clone(),
        tags: play_tags,
        vars: vars_of(node.get("vars"))?,
        vars_files: vars_files(node.get("vars_files"), dir)?,
        vars_prompt: super::vars_prompt::load(node.get("vars_prompt"))?,
        gather_facts: opt_bool(node.get("gather_facts"))?,
        gather_args: gather_args(node)?,
        connection: opt_string(node.get("connection"))?,
        remote_user: opt_string(node.get("remote_user"))?,
        port: node.get("port").filter(|n| !n.is_null()).map(Node::to_json),
        pre_tasks,
        tasks: role_tasks,
        post_tasks,
        handlers,
        any_errors_fatal: opt_bool(node.get("any_errors_fatal"))?,
        force_handlers: opt_bool(node.get("force_handlers"))?,
        r#become: node.get("become").map(Node::to_json),
        become_user: node.get("become_user").map(Node::to_json),
        become_method: node.get("become_method").map(Node::to_json),
        serial: serial(node.get("serial"))?,
        serial_template: serial_template(node.get("serial")),
        max_fail_percentage: max_fail_percentage(node.get("max_fail_percentage"))?,
        order: host_order(node.get("order"))?,
        strategy: strategy(node.get("strategy"))?,
        environment: node.get("environment").filter(|n| !n.is_null()).map(Node::to_json),
    };
    if let Some(conn) = &play.connection {
        if !["ssh", "local", "smart", "paramiko"].contains(&conn.as_str()) {
            return Err(err(node.get("connection").unwrap_or(node), format!("unknown connection `{conn}`: use ssh or local")));
        }
        if conn == "smart" || conn == "paramiko" {
            play.connection = Some("ssh".into());
        }
    }
    check_notify_targets(&play)?;
    Ok(play)
}

/// `serial:` a number, a percentage, or a list of them; a template is read
/// when the play starts (see [`Play::serial_template`]).
fn serial(node: Option<&Node>) -> Result<Vec<BatchSize>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    let value = node.to_json();
    if crate::template::has_template(&value) {
        return Ok(Vec::new());
    }
    batch_sizes(&value).map_err(|message| with_hint(err(node, message), Some(SERIAL_HINT.into())))
}

const SERIAL_HINT: &str = "write e.g. `serial: 2` or `serial: \"30%\"`";

fn serial_template(node: Option<&Node>) -> Option<Value> {
    node.map(Node::to_json).filter(crate::template::has_template)
}

/// `serial:` values (from the playbook or a rendered template) as batch sizes.
pub fn batch_sizes(value: &Value) -> Result<Vec<BatchSize>, String> {
    let one = |v: &Value| -> Result<BatchSize, String> {
        let bad = || format!("`serial` takes a number of hosts or a percentage, found `{v}`");
        match v {
            Value::Number(num) => num.as_u64().map(BatchSize::Count).ok_or_else(bad),
            Value::String(s) => match s.trim().strip_suffix('%') {
                Some(pct) => pct.trim().parse::<f64>().ok().filter(|p| *p >= 0.0).map(BatchSize::Percent).ok_or_else(bad),
                None => s.trim().parse().map(BatchSize::Count).map_err(|_| bad()),
            },
            _ => Err(bad()),
        }
    };
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn max_fail_percentage(node: Option<&Node>) -> Result<Option<f64>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(None) };
    let value = node.to_json();
    let pct = value.as_f64().or_else(|| value.as_str()?.trim().trim_end_matches('%').parse().ok());
    pct.map(Some).ok_or_else(|| err(node, format!("`max_fail_percentage` must be a number from 0 to 100, found `{value}`")))
}

fn host_order(node: Option<&Node>) -> Result<HostOrder, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(HostOrder::Inventory) };
    const NAMES: [&str; 5] = ["inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle"];
    match scalar_string(node)?.as_str() {
        "inventory" => Ok(HostOrder::Inventory),
        "reverse_inventory" => Ok(HostOrder::ReverseInventory),
        "sorted" => Ok(HostOrder::Sorted),
        "reverse_sorted" => Ok(HostOrder::ReverseSorted),
        "shuffle" => Ok(HostOrder::Shuffle),
        other => {
            let hint = did_you_mean(other, NAMES).map(|s| format!("did you mean `{s}`?"));
            Err(with_hint(err(node, format!("invalid `order` `{other}` (use one of: {})", NAMES.join(", "))), hint))
        }
    }
}

fn strategy(node: Option<&Node>) -> Result<Strategy, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Strategy::Linear) };
    match scalar_string(node)?.as_str() {
        "linear" | "ansible.builtin.linear" => Ok(Strategy::Linear),
        "free" | "ansible.builtin.free" => Ok(Strategy::Free),
        other => Err(err(node, format!("strategy `{other}` is not supported by stockman (use linear or free)"))),
    }
}

/// `vars_files:` read now, relative to the playbook; later files win.
fn vars_files(node: Option<&Node>, dir: &Path) -> Result<Map<String, Value>, LoadError> {
    let mut vars = Map::new();
    for name_node in string_nodes(node)? {
        let name = scalar_string(name_node)?;
        if name.contains("{{") {
            return Err(err(name_node, "`vars_files` with a templated file name is not supported by stockman yet"));
        }
        let path = dir.join(&name);
        if !path.is_file() {
            return Err(err(name_node, format!("vars file `{name}` not found (looked for {})", path.display())));
        }
        let doc = yaml::parse_file(&path)?;
        match doc.to_json() {
            Value::Object(map) => vars.extend(map),
            Value::Null => {}
            _ => return Err(err(&doc, format!("vars file `{name}` must hold a mapping, found {}", doc.kind_name()))),
        }
    }
    Ok(vars)
}

fn string_nodes(node: Option<&Node>) -> Result<Vec<&Node>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    Ok(match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    })
}

fn host_pattern(node: &Node) -> Result<String, LoadError> {
    match &node.value {
        Yaml::Str(s) => Ok(s.clone()),
        Yaml::Seq(items) => {
            let names: Result<Vec<String>, _> = items.iter().map(scalar_string).collect();
            Ok(names?.join(","))
        }
        _ => scalar_string(node),
    }
}

/// Module arguments from a mapping, a `key=value` string or nothing, merged with
/// the task's `args:` and its `module_defaults`; every name is checked against the module's spec.
pub(super) fn module_args(spec: &'static ModuleSpec, value: &Node, extra: Option<&Node>, defaults: &Map<String, Value>) -> Result<Map<String, Value>, LoadError> {
    let mut args = Map::new();
    // `module_defaults` first: anything the task gives wins.
    for (name, v) in defaults {
        args.insert(canonical_arg(spec, name, value)?, v.clone());
    }
    if let Some(extra) = extra.filter(|n| !n.is_null()) {
        let entries = extra.as_map().ok_or_else(|| err(extra, "`args` must be a mapping"))?;
        add_mapping_args(spec, entries, &mut args)?;
    }
    match &value.value {
        Yaml::Null => {}
        Yaml::Map(entries) => add_mapping_args(spec, entries, &mut args)?,
        // `assert: "{{ item }}"`: the arguments are a mapping a template gives,
        // known per host (Ansible's variable params); `args:` entries win.
        Yaml::Str(text) if !spec.free_form && is_lone_expression(text) => {
            args.insert(VARIABLE_PARAMS.into(), Value::String(text.clone()));
            return Ok(args);
        }
        Yaml::Str(text) => {
            let parsed = parse_kv(text, spec.free_form, |k| k != "_raw_params" && (!spec.free_form || spec.any_params || spec.canonical(k).is_some()))
                .map_err(|m| err(value, m))?;
            for (name, v) in parsed {
                let canonical = canonical_arg(spec, &name, value)?;
                args.insert(canonical, v);
            }
        }
        _ if spec.free_form => {
            args.insert("_raw_params".into(), Value::String(crate::yaml::Node::to_json(value).to_string()));
        }
        _ => return Err(err(value, format!("arguments of `{}` must be a mapping or key=value string, found {}", spec.name, value.kind_name()))),
    }
    Ok(args)
}

/// The argument holding a template that gives a module's whole arguments.
pub const VARIABLE_PARAMS: &str = "_variable_params";

/// `{{ ... }}` and nothing else (around it only spaces).
fn is_lone_expression(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("{{") && t.ends_with("}}") && t[2..].find("{{").is_none() && t.find("}}") == Some(t.len() - 2)
}

fn add_mapping_args(spec: &ModuleSpec, entries: &[(Node, Node)], args: &mut Map<String, Value>) -> Result<(), LoadError> {
    for (key, v) in entries {
        let canonical = canonical_arg(spec, &key.display_key(), key)?;
        if canonical.ends_with("mode") {
            check_decimal_mode(&canonical, v)?;
        }
        args.insert(canonical, v.to_json());
    }
    Ok(())
}

/// `mode: 644` is the decimal number 644 (octal 1204) to YAML, and so to
/// Ansible, which applies it as is. Refused, with the fix: a deliberate
/// improvement on Ansible (see the README).
fn check_decimal_mode(name: &str, v: &Node) -> Result<(), LoadError> {
    let Yaml::Int(n) = v.value else { return Ok(()) };
    let digits = n.to_string();
    if n < 8 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Ok(());
    }
    let message = format!("`{name}: {n}` is the decimal number {n} (octal {n:o}) to YAML, not the permissions {digits}");
    let hint = format!("write `{name}: \"0{digits}\"` (a string) or `{name}: 0{digits}` (octal)");
    Err(with_hint(err(v, message), Some(hint)))
}

fn canonical_arg(spec: &ModuleSpec, name: &str, at: &Node) -> Result<String, LoadError> {
    if spec.any_params {
        return Ok(spec.canonical(name).unwrap_or(name).to_string());
    }
    spec.canonical(name).map(str::to_string).ok_or_else(|| {
        let hint = did_you_mean(name, spec.spellings()).map(|s| format!("did you mean `{s}`?"));
        let mut accepted: Vec<&str> = spec.spellings().filter(|s| !s.starts_with('_')).collect();
        accepted.sort_unstable();
        let message = format!("unsupported parameter `{name}` for module `{}` (accepted: {})", spec.name, accepted.join(", "));
        with_hint(err(at, message), hint)
    })
}

/// What the literal arguments already break (`state: runing`, `force: maybe`,
/// a missing `src:`) is refused at load, at the value (else the module's
/// arguments), with a hint; templated values are checked per host when the
/// task runs, and count as given here.
pub(super) fn check_literal_args(spec: &ModuleSpec, args: &Map<String, Value>, value: &Node, extra: Option<&Node>) -> Result<(), LoadError> {
    if args.contains_key(VARIABLE_PARAMS) {
        // The arguments are a template's mapping: all known only per host.
        return Ok(());
    }
    let found = stockman_modules::validate::validate_known(spec, args, &crate::template::has_template);
    let Some(bad) = found.into_iter().next() else { return Ok(()) };
    let at = bad.argument().and_then(|name| value_node(spec, name, value).or_else(|| extra.and_then(|e| value_node(spec, name, e)))).unwrap_or(value);
    let hint = bad.hint().or_else(|| load_hint(&bad));
    Err(with_hint(err(at, format!("`{}`: {}", spec.name, bad.message(spec.name))), hint))
}

/// How to fix a violation that has no spelling to suggest.
fn load_hint(bad: &Violation) -> Option<String> {
    match bad {
        Violation::Missing { names } => Some(format!("add {} to the task's arguments", names.iter().map(|n| format!("`{n}:`")).collect::<Vec<_>>().join(", "))),
        Violation::RequiredOneOf { names } => Some(format!("give one of {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))),
        Violation::Type { ty: ParamType::Bool, .. } => Some("write true or false (yes/no also work)".into()),
        Violation::Type { ty: ParamType::Int, .. } => Some("write a whole number".into()),
        _ => None,
    }
}

/// The node of argument `name` (or an alias of it) in a mapping of arguments.
fn value_node<'n>(spec: &ModuleSpec, name: &str, args: &'n Node) -> Option<&'n Node> {
    args.as_map()?.iter().find(|(k, _)| spec.canonical(&k.display_key()) == Some(name)).map(|(_, v)| v)
}

/// Checks every `notify` names a handler or a `listen` topic, as Ansible does at load time.
fn check_notify_targets(play: &Play) -> Result<(), LoadError> {
    let known = |name: &str| play.handlers.iter().any(|h| h.answers(name));
    let mut all: Vec<&Task> = play.handlers.iter().filter_map(|h| match h {
        Handler::Task(t) => Some(t),
        Handler::Include(_) => None,
    }).collect();
    for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
        collect_tasks(section, &mut all);
    }
    for task in all {
        for target in &task.notify {
            if !known(target) {
                let names = play.handlers.iter().filter_map(Handler::name);
                let hint = did_you_mean(target, names).map(|s| format!("did you mean `{s}`?"));
                let message = format!("the task `{}` notifies `{target}`, but no handler has that name or listens to it", task.display_name());
                return Err(LoadError { span: task.span.clone(), message, hint });
            }
        }
    }
    Ok(())
}

fn collect_tasks<'a>(steps: &'a [Step], out: &mut Vec<&'a Task>) {
    for step in steps {
        match step {
            Step::Task(t) => out.push(t),
            Step::Block(b) => {
                for part in [&b.block, &b.rescue, &b.always] {
                    collect_tasks(part, out);
                }
            }
            // Loaded while the play runs; notify targets are checked then.
            Step::Include(_) => {}
        }
    }
}

/// The play's `gather_subset`, `gather_timeout` and `fact_path`, as setup's
/// arguments for its fact gathering (checked when facts are gathered).
fn gather_args(node: &Node) -> Result<Map<String, Value>, LoadError> {
    let mut args = Map::new();
    for key in ["gather_subset", "gather_timeout", "fact_path"] {
        if let Some(value) = node.get(key).filter(|n| !n.is_null()) {
            args.insert(key.to_string(), value.to_json());
        }
    }
    Ok(args)
}

pub(super) fn vars_of(node: Option<&Node>) -> Result<Map<String, Value>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Map::new()) };
    match node.to_json() {
        Value::Object(map) => Ok(map),
        _ => Err(err(node, format!("`vars` must be a mapping, found {}", node.kind_name()))),
    }
}

pub(super) fn conditions(node: Option<&Node>) -> Result<Vec<String>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    let one = |n: &Node| match &n.value {
        Yaml::Bool(b) => Ok(if *b { "True" } else { "False" }.to_string()),
        Yaml::Seq(_) | Yaml::Map(_) => Err(err(n, "a condition must be an expression string")),
        _ => scalar_string(n),
    };
    match node.as_seq() {
        Some(items) => items.iter().map(one).collect(),
        None => Ok(vec![one(node)?]),
    }
}

pub(super) fn string_list(node: Option<&Node>) -> Result<Vec<String>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    match node.as_seq() {
        Some(items) => items.iter().map(scalar_string).collect(),
        None => Ok(vec![scalar_string(node)?]),
    }
}

pub(super) fn scalar_string(node: &Node) -> Result<String, LoadError> {
    match &node.value {
        Yaml::Str(s) => Ok(s.clone()),
        Yaml::Int(_) | Yaml::OctalInt(_) | Yaml::Float(_) | Yaml::Bool(_) => Ok(node.to_json().to_string()),
        _ => Err(err(node, format!("expected a string, found {}", node.kind_name()))),
    }
}

pub(super) fn opt_string(node: Option<&Node>) -> Result<Option<String>, LoadError> {
    node.filter(|n| !n.is_null()).map(scalar_string).transpose()
}

fn opt_bool(node: Option<&Node>) -> Result<Option<bool>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(None) };
    stockman_modules::args::parse_bool(&node.to_json())
        .map(Some)
        .ok_or_else(|| err(node, format!("expected a boolean, found {}", node.kind_name())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::Action;
    use std::io::Write;

    fn load_str(text: &str) -> Result<Playbook, LoadError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        load(f.path())
    }

    #[test]
    fn loads_tasks_handlers_and_kv_args() {
        let pb = load_str(
            "- hosts: all\n  tasks:\n    - name: c\n      copy: content=hi dest=/tmp/x\n      notify: h\n  handlers:\n    - name: h\n      command: echo hi creates=/tmp/y\n",
        )
        .unwrap();
        let play = &pb.plays[0];
        let Step::Task(task) = &play.tasks[0] else { panic!() };
        let Action::Module { spec, args, .. } = &task.action else { panic!() };
        assert_eq!(spec.name, "copy");
        assert_eq!(args["dest"], "/tmp/x");
        let Handler::Task(handler) = &play.handlers[0] else { panic!() };
        let Action::Module { args, .. } = &handler.action else { panic!() };
        assert_eq!(args["_raw_params"], "echo hi");
        assert_eq!(args["creates"], "/tmp/y");
    }

    #[test]
    fn misspelled_module_points_at_line_and_suggests() {
        let e = load_str("- hosts: all\n  tasks:\n    - name: x\n      cpoy:\n        dest: /tmp/x\n").unwrap_err();
        assert_eq!((e.span.line, e.span.col), (4, 7));
        assert_eq!(e.hint.as_deref(), Some("did you mean `copy`?"));
    }

    #[test]
    fn unknown_argument_is_an_error_with_hint() {
        let e = load_str("- hosts: all\n  tasks:\n    - copy:\n        dset: /tmp/x\n        content: a\n").unwrap_err();
        assert_eq!((e.span.line, e.span.col), (4, 9));
        assert!(e.message.contains("unsupported parameter `dset`"), "{}", e.message);
        assert_eq!(e.hint.as_deref(), Some("did you mean `dest`?"));
    }

    #[test]
    fn decimal_modes_are_refused_with_the_fix() {
        let e = load_str("- hosts: all\n  tasks:\n    - file:\n        path: /tmp/x\n        mode: 644\n").unwrap_err();
        assert_eq!((e.span.line, e.span.col), (5, 15));
        assert!(e.message.contains("decimal number 644 (octal 1204)"), "{}", e.message);
        assert_eq!(e.hint.as_deref(), Some("write `mode: \"0644\"` (a string) or `mode: 0644` (octal)"));
        for ok in ["0644", "'644'", "\"0755\"", "u=rw,g=r", "0o600"] {
            load_str(&format!("- hosts: all\n  tasks:\n    - file:\n        path: /tmp/x\n        mode: {ok}\n")).unwrap();
        }
    }

    #[test]
    fn notify_of_missing_handler_is_an_error() {
        let e = load_str("- hosts: all\n  tasks:\n    - command: 'true'\n      notify: restart web\n  handlers:\n    - name: restart webs\n      command: 'true'\n").unwrap_err();
        assert_eq!(e.span.line, 3);
        assert_eq!(e.hint.as_deref(), Some("did you mean `restart webs`?"));
    }

    #[test]
    fn serial_order_and_max_fail_percentage_are_read_and_checked() {
        use crate::playbook::{BatchSize, HostOrder};
        let pb = load_str("- hosts: all\n  serial: [1, \"30%\", 5]\n  order: reverse_sorted\n  max_fail_percentage: 25\n  tasks: []\n").unwrap();
        let play = &pb.plays[0];
        assert_eq!(play.serial, [BatchSize::Count(1), BatchSize::Percent(30.0), BatchSize::Count(5)]);
        assert_eq!(play.order, HostOrder::ReverseSorted);
        assert_eq!(play.max_fail_percentage, Some(25.0));
        let e = load_str("- hosts: all\n  serial: lots\n").unwrap_err();
        assert!(e.message.contains("`serial` takes a number of hosts or a percentage"), "{}", e.message);
        let e = load_str("- hosts: all\n  order: sortd\n").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `sorted`?"));
        assert_eq!(load_str("- hosts: all\n  strategy: free\n").unwrap().plays[0].strategy, crate::playbook::Strategy::Free);
        let e = load_str("- hosts: all\n  strategy: host_pinned\n").unwrap_err();
        assert!(e.message.contains("strategy `host_pinned` is not supported by stockman (use linear or free)"), "{}", e.message);
        let e = load_str("- hosts: all\n  tasks:\n    - meta: end_bach\n").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `end_batch`?"));
    }

    #[test]
    fn environment_is_layered_from_blocks_to_tasks() {
        let pb = load_str("- hosts: all\n  tasks:\n    - block:\n        - command: 'true'\n          environment: {A: task}\n          throttle: 2\n      environment: {A: block, B: b}\n      ignore_unreachable: true\n").unwrap();
        let Step::Block(block) = &pb.plays[0].tasks[0] else { panic!() };
        let Step::Task(task) = &block.block[0] else { panic!() };
        assert_eq!(task.environment, [serde_json::json!({"A": "block", "B": "b"}), serde_json::json!({"A": "task"})]);
        assert_eq!(task.throttle, Some(serde_json::json!(2)));
        assert_eq!(task.ignore_unreachable, serde_json::json!(true));
    }

    #[test]
    fn play_fact_keywords_reach_the_gathering() {
        let pb = load_str("- hosts: all\n  fact_path: /etc/facts\n  gather_subset: ['!all']\n  tasks: []\n").unwrap();
        let args = &pb.plays[0].gather_args;
        assert_eq!(args.get("fact_path"), Some(&serde_json::json!("/etc/facts")));
        assert_eq!(args.get("gather_subset"), Some(&serde_json::json!(["!all"])));
    }
}
