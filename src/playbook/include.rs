//! Dynamic includes: `include_tasks`, `include_role` and `include_vars`.
//!
//! Unlike `import_*`, these are resolved while the play runs, per host: their
//! file or role name may be a template, they may loop, and their `when` is
//! checked once, for the include itself. The model keeps what is needed to
//! load the included tasks later ([`IncludeSource`]); the executor decides
//! which hosts get which file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::load::LoadError;
use super::tasks::Ctx;
use super::{roles, tasks, Handler, Loop, Role, Step};
use crate::yaml::{self, Node, Span};

#[derive(Debug)]
pub struct Include {
    pub name: Option<String>,
    pub span: Span,
    pub kind: IncludeKind,
    /// The include's own conditions after those of its enclosing blocks;
    /// checked once per host, never passed to the included tasks.
    pub when: Vec<String>,
    /// Its own tags and its blocks': they select the include itself.
    pub tags: Vec<String>,
    /// Vars of the enclosing blocks (the included tasks inherit them through
    /// `source`); with `params`, what the file name's template sees.
    pub vars: Map<String, Value>,
    /// Parameters of the dynamic includes this one sits in, then its own
    /// `vars:`: what its tasks get as include parameters.
    pub params: Map<String, Value>,
    pub loop_: Option<Loop>,
    pub ignore_errors: Value,
    pub no_log: Value,
    pub register: Option<String>,
    /// Handlers only: topics this include also answers to.
    pub listen: Vec<String>,
    /// The role the include is written in (its variables apply to the templates).
    pub role: Option<Arc<Role>>,
    pub source: IncludeSource,
}

#[derive(Debug)]
pub enum IncludeKind {
    /// `include_tasks: FILE` (`file:` may be a template).
    Tasks { file: Value },
    Role(RoleInclude),
    /// `include_vars`: its arguments, templated per host; `delegate_to` (the
    /// task's or its blocks') labels the result and, with `delegate_facts`
    /// (a boolean or a template), takes the variables read.
    Vars { args: Map<String, Value>, delegate_to: Option<Value>, delegate_facts: Value },
}

/// `include_role`/`import_role` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleInclude {
    /// The role's name (a template for `include_role`).
    pub name: String,
    pub tasks_from: Option<String>,
    pub vars_from: Option<String>,
    pub defaults_from: Option<String>,
    pub handlers_from: Option<String>,
    /// `public: true`: the role's defaults and vars stay visible after it.
    pub public: bool,
    /// `rolespec_validate: false`: no argument validation task.
    pub skip_argument_spec: bool,
}

/// Where an include was written: relative paths and inherited keywords.
#[derive(Debug, Clone)]
pub struct IncludeSource {
    pub(super) ctx: Ctx,
    /// `apply:` keywords given to every included task.
    pub(super) apply: Option<Node>,
}

impl Include {
    /// The name `TASK [..]` shows, as Ansible: the name, else `include_tasks`,
    /// `include_role : ROLE` or `include_vars` (prefixed by the enclosing role).
    pub fn display_name(&self) -> String {
        let base = match (&self.name, &self.kind) {
            (Some(name), _) => name.clone(),
            (None, IncludeKind::Tasks { .. }) => "include_tasks".into(),
            (None, IncludeKind::Role(r)) => format!("include_role : {}", r.name),
            (None, IncludeKind::Vars { .. }) => "include_vars".into(),
        };
        self.display_name_as(&base)
    }

    /// [`Include::display_name`] for a name already templated.
    pub fn display_name_as(&self, base: &str) -> String {
        match &self.role {
            Some(role) => format!("{} : {base}", role.name),
            None => base.to_string(),
        }
    }

    /// The action as Ansible names it.
    pub fn action(&self) -> &'static str {
        match self.kind {
            IncludeKind::Tasks { .. } => "include_tasks",
            IncludeKind::Role(_) => "include_role",
            IncludeKind::Vars { .. } => "include_vars",
        }
    }
}

impl IncludeSource {
    /// A task file named by `include_tasks`: absolute, or beside the including
    /// file (a role's tasks/ first), then beside the playbook.
    pub fn task_file(&self, file: &str) -> Option<PathBuf> {
        tasks::resolve(file, &self.ctx)
    }

    /// The directories a relative `include_tasks` file is looked for in.
    pub fn search_dirs(&self) -> Vec<PathBuf> {
        vec![self.ctx.dir.clone(), self.ctx.playbook_dir.clone()]
    }

    /// The tasks of an included file, with `params` (include parameters and
    /// the loop variable) as variables of every task.
    pub fn load_tasks(&self, path: &Path, params: &Map<String, Value>) -> Result<Vec<Step>, LoadError> {
        let doc = yaml::parse_file(path)?;
        let ctx = self.inner_ctx(params)?;
        let mut ctx = ctx;
        if let Some(dir) = path.parent() {
            ctx.dir = dir.to_path_buf();
        }
        tasks::steps(Some(&doc), &ctx)
    }

    /// The tasks of an included role (`tasks_from` or tasks/main.yml), its
    /// dependencies first, with `params` as variables of every task.
    pub fn load_role(&self, role: &RoleInclude, params: &Map<String, Value>, at: &Span) -> Result<Vec<Step>, LoadError> {
        let ctx = self.inner_ctx(params)?;
        let at = Node { value: yaml::Yaml::Null, span: at.clone() };
        Ok(roles::load_included(role, &at, &ctx, &self.ctx.roles_seen)?.tasks)
    }

    /// The role named by a dynamic include, when it can be found now: its
    /// handlers are known to the play from the start (notify is checked at load).
    pub(super) fn preload_handlers(&self, role: &RoleInclude, at: &Node) -> Result<Vec<Handler>, LoadError> {
        if role.name.contains("{{") || roles::names_escape(role, &self.ctx) {
            return Ok(Vec::new());
        }
        Ok(roles::load_included(role, at, &self.ctx, &Default::default())?.handlers)
    }

    /// A file for `include_vars`: absolute, else in the current role's vars/
    /// then the role itself, then in vars/ beside, and beside, the including
    /// file and the playbook.
    pub fn vars_path(&self, file: &str) -> Option<PathBuf> {
        let path = Path::new(file);
        if path.is_absolute() {
            return path.exists().then(|| path.to_path_buf());
        }
        let mut dirs = Vec::new();
        if let Some(role) = &self.ctx.role {
            dirs.push(role.path.join("vars"));
            dirs.push(role.path.clone());
        }
        for dir in [&self.ctx.dir, &self.ctx.playbook_dir] {
            dirs.push(dir.join("vars"));
            dirs.push(dir.clone());
        }
        dirs.into_iter().map(|d| d.join(path)).find(|p| p.is_file())
    }

    fn inner_ctx(&self, params: &Map<String, Value>) -> Result<Ctx, LoadError> {
        let mut ctx = self.ctx.clone();
        ctx.depth += 1;
        ctx.handlers = Default::default();
        if let Some(apply) = &self.apply {
            ctx = tasks::with_entry_keywords(&ctx, apply)?;
        }
        ctx.inherited.add_params(params);
        Ok(ctx)
    }
}
