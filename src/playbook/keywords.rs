//! Every playbook keyword, declared once: where it may be written, how the
//! scopes inside inherit it, and its type.
//!
//! The load-time checks (an unknown keyword with a "did you mean", a keyword
//! written where it does not belong, one stockman does not implement yet)
//! and the inheritance from plays, blocks, imports and role entries down to
//! each task are derived from [`KEYWORDS`]; nothing else lists keywords.

use serde_json::{Map, Value};

use super::did_you_mean;
use super::load::{err, with_hint, LoadError};
use crate::yaml::Node;

/// Where a keyword may be written (a set of places).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scope(u16);

impl Scope {
    pub const PLAY: Scope = Scope(1);
    pub const BLOCK: Scope = Scope(1 << 1);
    pub const TASK: Scope = Scope(1 << 2);
    /// A handler: a task's keywords and `listen`.
    pub const HANDLER: Scope = Scope(1 << 3);
    /// `include_tasks`/`include_role`: Ansible's short list for dynamic includes.
    pub const INCLUDE: Scope = Scope(1 << 4);
    /// `import_tasks`/`import_role`: every keyword their tasks inherit.
    pub const IMPORT: Scope = Scope(1 << 5);
    /// An entry of a play's `roles:` (its other keys are role parameters).
    pub const ROLE: Scope = Scope(1 << 6);
    pub const IMPORT_PLAYBOOK: Scope = Scope(1 << 7);

    const fn or(self, other: Scope) -> Scope {
        Scope(self.0 | other.0)
    }

    fn has(self, other: Scope) -> bool {
        self.0 & other.0 != 0
    }
}

/// Ansible's `Base` attributes: plays, blocks, tasks, imports and role entries.
const BASE: Scope = Scope::PLAY.or(Scope::BLOCK).or(Scope::TASK).or(Scope::HANDLER).or(Scope::IMPORT).or(Scope::ROLE);
/// Everything inside a play that runs: blocks, tasks, imports, role entries.
const INNER: Scope = Scope::BLOCK.or(Scope::TASK).or(Scope::HANDLER).or(Scope::IMPORT).or(Scope::ROLE);
const TASKS: Scope = Scope::TASK.or(Scope::HANDLER);

/// How the scopes inside see a keyword set outside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inherit {
    /// Only where it is written (`name`, `register`, `loop`, ...).
    Own,
    /// The innermost value wins (`become`, `check_mode`, `delegate_to`, ...).
    Nearest,
    /// Lists joined, outermost first (`when`, `tags`, `environment`, `module_defaults`).
    Extend,
    /// Mappings merged, inner names win (`vars`).
    Merge,
}

/// What a keyword's value is (before templating: any value may be a template).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    Int,
    Str,
    List,
    Map,
    /// Task lists, loops, plays' hosts: read by their own code.
    Other,
}

/// Whether stockman does what Ansible does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Support {
    Yes,
    /// Accepted and without effect (README says why).
    Ignored,
    /// Ansible's keyword that stockman refuses for now, with a clear error.
    Later,
}

#[derive(Debug)]
pub(super) struct Keyword {
    pub name: &'static str,
    pub scopes: Scope,
    pub inherit: Inherit,
    pub kind: Kind,
    pub support: Support,
    /// Set on a play: passed down to its tasks at load time. Otherwise the
    /// executor reads it from the play itself (`become`, `connection`, ...).
    pub from_play: bool,
}

const fn kw(name: &'static str, scopes: Scope, inherit: Inherit, kind: Kind) -> Keyword {
    Keyword { name, scopes, inherit, kind, support: Support::Yes, from_play: false }
}

impl Keyword {
    const fn passed_from_play(mut self) -> Keyword {
        self.from_play = true;
        self
    }

    const fn ignored(mut self) -> Keyword {
        self.support = Support::Ignored;
        self
    }

    // No keyword needs it today; kept so the next one refused "for now" is one word.
    #[allow(dead_code)]
    const fn later(mut self) -> Keyword {
        self.support = Support::Later;
        self
    }
}

use Inherit::{Extend, Merge, Nearest, Own};

/// Ansible 2.19's keywords (playbook/base.py, block.py, task.py, play.py,
/// task_include.py), as stockman reads them.
pub(super) const KEYWORDS: &[Keyword] = &[
    kw("name", BASE.or(Scope::INCLUDE).or(Scope::IMPORT_PLAYBOOK), Own, Kind::Str),
    kw("connection", BASE, Nearest, Kind::Str),
    kw("port", BASE, Nearest, Kind::Int),
    kw("remote_user", BASE, Nearest, Kind::Str),
    kw("vars", BASE.or(Scope::INCLUDE).or(Scope::IMPORT_PLAYBOOK), Merge, Kind::Map),
    kw("module_defaults", BASE, Extend, Kind::List).passed_from_play(),
    kw("environment", BASE, Extend, Kind::List),
    kw("no_log", BASE.or(Scope::INCLUDE), Nearest, Kind::Bool).passed_from_play(),
    kw("run_once", BASE.or(Scope::INCLUDE), Nearest, Kind::Bool).passed_from_play(),
    kw("ignore_errors", BASE.or(Scope::INCLUDE), Nearest, Kind::Bool).passed_from_play(),
    kw("ignore_unreachable", BASE, Nearest, Kind::Bool).passed_from_play(),
    kw("check_mode", BASE, Nearest, Kind::Bool).passed_from_play(),
    kw("diff", BASE, Nearest, Kind::Bool).passed_from_play(),
    kw("any_errors_fatal", BASE, Nearest, Kind::Bool),
    kw("throttle", BASE, Nearest, Kind::Int).passed_from_play(),
    kw("timeout", BASE.or(Scope::INCLUDE), Nearest, Kind::Int).passed_from_play(),
    kw("debugger", BASE.or(Scope::INCLUDE), Nearest, Kind::Str).ignored(),
    kw("become", BASE, Nearest, Kind::Bool),
    kw("become_user", BASE, Nearest, Kind::Str),
    kw("become_method", BASE, Nearest, Kind::Str),
    kw("become_flags", BASE, Nearest, Kind::Str).ignored(),
    kw("become_exe", BASE, Nearest, Kind::Str).ignored(),
    kw("when", INNER.or(Scope::INCLUDE).or(Scope::IMPORT_PLAYBOOK), Extend, Kind::List),
    kw("tags", BASE.or(Scope::INCLUDE).or(Scope::IMPORT_PLAYBOOK), Extend, Kind::List),
    kw("collections", BASE.or(Scope::INCLUDE), Nearest, Kind::List),
    kw("delegate_to", Scope::BLOCK.or(TASKS).or(Scope::IMPORT), Nearest, Kind::Str),
    kw("delegate_facts", Scope::BLOCK.or(TASKS).or(Scope::IMPORT), Nearest, Kind::Bool),
    // Ansible's Block and Task are both Notifiable: a task without its own takes its block's.
    kw("notify", Scope::BLOCK.or(TASKS).or(Scope::IMPORT), Nearest, Kind::List),
    kw("listen", Scope::HANDLER, Own, Kind::List),
    // Blocks.
    kw("block", Scope::BLOCK, Own, Kind::Other),
    kw("rescue", Scope::BLOCK, Own, Kind::Other),
    kw("always", Scope::BLOCK, Own, Kind::Other),
    // Tasks.
    kw("action", TASKS, Own, Kind::Other),
    kw("local_action", TASKS, Own, Kind::Other),
    kw("args", TASKS.or(Scope::INCLUDE), Own, Kind::Map),
    kw("async", TASKS, Own, Kind::Int),
    kw("poll", TASKS, Own, Kind::Int),
    kw("changed_when", TASKS, Own, Kind::List),
    kw("failed_when", TASKS, Own, Kind::List),
    kw("until", TASKS, Own, Kind::List),
    kw("retries", TASKS, Own, Kind::Int),
    kw("delay", TASKS, Own, Kind::Int),
    kw("register", TASKS.or(Scope::INCLUDE), Own, Kind::Str),
    kw("loop", TASKS.or(Scope::INCLUDE), Own, Kind::Other),
    kw("loop_control", TASKS.or(Scope::INCLUDE), Own, Kind::Map),
    kw("apply", Scope::INCLUDE, Own, Kind::Map),
    // Plays.
    kw("hosts", Scope::PLAY, Own, Kind::Other),
    kw("gather_facts", Scope::PLAY, Own, Kind::Bool),
    kw("gather_subset", Scope::PLAY, Own, Kind::List),
    kw("gather_timeout", Scope::PLAY, Own, Kind::Int),
    kw("fact_path", Scope::PLAY, Own, Kind::Str),
    kw("vars_files", Scope::PLAY, Own, Kind::List),
    kw("vars_prompt", Scope::PLAY, Own, Kind::List),
    kw("roles", Scope::PLAY, Own, Kind::Other),
    kw("pre_tasks", Scope::PLAY, Own, Kind::Other),
    kw("tasks", Scope::PLAY, Own, Kind::Other),
    kw("post_tasks", Scope::PLAY, Own, Kind::Other),
    kw("handlers", Scope::PLAY, Own, Kind::Other),
    kw("force_handlers", Scope::PLAY, Own, Kind::Bool),
    kw("max_fail_percentage", Scope::PLAY, Own, Kind::Other),
    kw("serial", Scope::PLAY, Own, Kind::Other),
    kw("strategy", Scope::PLAY, Own, Kind::Str),
    kw("order", Scope::PLAY, Own, Kind::Str),
];

/// The keyword of that name, if Ansible has one.
pub(super) fn keyword(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == name)
}

/// Whether the key `name` of a task (a handler with `listen`) is one of its
/// keywords, checked against the keyword's type; any other key names its module.
pub(super) fn task_keyword(name: &str, value: &Node, handler: bool) -> Result<bool, LoadError> {
    let scope = if handler { Scope::HANDLER } else { Scope::TASK };
    match keyword(name).filter(|k| k.scopes.has(scope)) {
        Some(k) => check_kind(k, value).map(|()| true),
        None => Ok(false),
    }
}

/// The names valid in `scope`, for "did you mean" hints.
pub(super) fn names<'a>(scope: Scope) -> impl Iterator<Item = &'a str> {
    KEYWORDS.iter().filter(move |k| k.scopes.has(scope)).map(|k| k.name)
}

/// Checks the keys of a mapping written at `scope`; `extra` are the other
/// names allowed there (the action of an import, a role's options).
/// `what` names the place in messages, as Ansible does (`a block`, `a play`).
pub(super) fn check<'a>(map: &[(Node, Node)], scope: Scope, extra: &[&'a str], what: &str) -> Result<(), LoadError> {
    for (key, value) in map {
        let name = key.display_key();
        if extra.contains(&name.as_str()) {
            continue;
        }
        match keyword(&name) {
            Some(k) if k.scopes.has(scope) && k.support == Support::Later => {
                return Err(err(key, format!("the {what} keyword `{name}` is not supported by stockman yet")));
            }
            Some(k) if k.scopes.has(scope) => check_kind(k, value)?,
            found => {
                let hint = match found {
                    Some(_) if scope == Scope::INCLUDE => Some(format!("give it to the included tasks with `apply: {{{name}: ...}}`, or put it on a block around the include")),
                    _ => {
                        let candidates: Vec<&str> = names(scope).chain(extra.iter().copied()).collect();
                        did_you_mean(&name, candidates).map(|s| format!("did you mean `{s}`?"))
                    }
                };
                return Err(with_hint(err(key, format!("`{name}` is not a valid attribute for a {what}")), hint));
            }
        }
    }
    Ok(())
}

/// A boolean, number or string keyword given a list or a mapping (a
/// template is a string: checked when rendered).
fn check_kind(k: &Keyword, value: &Node) -> Result<(), LoadError> {
    let scalar = matches!(k.kind, Kind::Bool | Kind::Int | Kind::Str);
    if scalar && (value.as_map().is_some() || value.as_seq().is_some()) {
        let wanted = match k.kind {
            Kind::Bool => "a boolean",
            Kind::Int => "a number",
            _ => "a string",
        };
        return Err(err(value, format!("`{}` takes {wanted} (or a template giving one), found {}", k.name, value.kind_name())));
    }
    Ok(())
}

/// What enclosing plays, blocks, imports and role entries pass down to
/// each task, folded in at load time.
#[derive(Debug, Clone, Default)]
pub(super) struct Inherited {
    pub when: Vec<String>,
    pub vars: Map<String, Value>,
    /// Parameters of the dynamic includes (`include_tasks`/`include_role`
    /// `vars:`, an include loop's item) around these tasks: above set_fact
    /// and the tasks' own vars, as in Ansible.
    pub params: Map<String, Value>,
    pub tags: Vec<String>,
    /// [`Inherit::Nearest`] keywords, by name, as written.
    nearest: Map<String, Value>,
    /// [`Inherit::Extend`] keywords but `when` and `tags` (`environment`,
    /// `module_defaults`), by name, outermost first.
    extended: Map<String, Value>,
}

impl Inherited {
    /// Include parameters (with a loop item) every task below gets.
    pub fn add_params(&mut self, params: &Map<String, Value>) {
        self.params.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// A [`Inherit::Nearest`] keyword's value here: `own`'s, else the enclosing one.
    pub fn nearest(&self, own: &Node, name: &str) -> Option<Value> {
        own.get(name).map(Node::to_json).or_else(|| self.nearest.get(name).cloned())
    }

    /// An [`Inherit::Extend`] keyword's values, the enclosing ones then `own`'s.
    pub fn extended(&self, own: &Node, name: &str) -> Vec<Value> {
        let outer = self.extended.get(name).and_then(Value::as_array).cloned().unwrap_or_default();
        outer.into_iter().chain(own.get(name).filter(|n| !n.is_null()).map(Node::to_json)).collect()
    }

    /// The keywords of `node` (a block, an import, a role entry, `apply`) on
    /// top of these; `scope` says which of its keys are keywords.
    pub fn inside(&self, node: &Node, scope: Scope) -> Result<Inherited, LoadError> {
        self.with_keywords(node, |k| k.scopes.has(scope))
    }

    /// What a play passes down to its tasks at load time (see [`Keyword::from_play`]).
    pub fn from_play(&self, play: &Node) -> Result<Inherited, LoadError> {
        self.with_keywords(play, |k| k.from_play)
    }

    /// These with the keywords of `node` that `wanted` picks.
    fn with_keywords(&self, node: &Node, wanted: impl Fn(&Keyword) -> bool) -> Result<Inherited, LoadError> {
        let mut inner = self.clone();
        for (key, value) in node.as_map().unwrap_or_default() {
            if let Some(k) = keyword(&key.display_key()).filter(|k| wanted(k)) {
                inner.add(k, value)?;
            }
        }
        Ok(inner)
    }

    fn add(&mut self, k: &Keyword, value: &Node) -> Result<(), LoadError> {
        match (k.inherit, k.name) {
            (Own, _) => {}
            (Nearest, name) => {
                self.nearest.insert(name.into(), value.to_json());
            }
            (Extend, "when") => self.when.extend(super::load::conditions(Some(value))?),
            (Extend, "tags") => self.tags.extend(super::load::string_list(Some(value))?),
            (Extend, name) if !value.is_null() => {
                let list = self.extended.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(value.to_json());
                }
            }
            (Extend, _) => {}
            (Merge, _) => self.vars.extend(super::load::vars_of(Some(value))?),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_is_declared_once() {
        for (i, k) in KEYWORDS.iter().enumerate() {
            assert!(KEYWORDS[i + 1..].iter().all(|o| o.name != k.name), "{} twice", k.name);
            assert!(k.scopes.0 != 0, "{} has no scope", k.name);
            assert!(!k.from_play || k.scopes.has(Scope::PLAY), "{} passed from plays but not a play keyword", k.name);
        }
    }

    #[test]
    fn dynamic_includes_take_ansibles_short_list() {
        let mut on_includes: Vec<&str> = names(Scope::INCLUDE).collect();
        on_includes.sort_unstable();
        assert_eq!(on_includes, ["apply", "args", "collections", "debugger", "ignore_errors", "loop", "loop_control", "name", "no_log", "register", "run_once", "tags", "timeout", "vars", "when"]);
    }
}
