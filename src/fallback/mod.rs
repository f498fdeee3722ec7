//! Modules stockman does not ship, run from the controller's installed
//! ansible-core and collections: the module's own Python code runs on the
//! target, nothing of Ansible runs on the controller.
//!
//! - [`Catalog`] finds a module at load time the way Ansible does (FQCN,
//!   short names through `ansible.builtin`, the `collections:` keyword,
//!   redirects from ansible-core's and each collection's routing), from files
//!   alone: no Python process is started on the controller.
//! - [`payload`] collects the module and the module_utils it imports into one
//!   in-memory bundle, built once per module per run.
//! - [`run`] sends the bundle with a small bootstrap of our own to the
//!   target's Python over the host's connection (or names it, once the
//!   host keeps it in a private cache under its remote tmp) and maps the JSON it prints
//!   onto stockman's results as Ansible does.
//!
//! # Layout
//! - `discover`: where ansible-core and the collection directories are.
//! - `routing`: `plugin_routing.modules` of a `runtime.yml` (redirects, deprecations, removals).
//! - `payload`: the module_utils finder and the bundle.
//! - `run`: the command on the target, the interpreter, the result.

mod discover;
mod payload;
mod routing;
pub mod run;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub use discover::{ansible_python, Roots};
use routing::Routing;

/// A module the fallback can run.
#[derive(Debug)]
pub struct PyModule {
    /// Its fully qualified name after redirects (`community.general.ini_file`).
    pub fqcn: String,
    /// The module's Python file.
    pub source: PathBuf,
    /// The name it is imported under (`ansible_collections.community.general.plugins.modules.ini_file`).
    pub import_name: String,
    /// Deprecation notices met on the way (routing), printed when it runs.
    pub deprecations: Vec<String>,
    /// Where `ansible.*` and `ansible_collections.*` imports are looked up.
    roots: Arc<Roots>,
    /// Built on first use, shared by every task and host using the module.
    payload: OnceLock<Result<Arc<payload::Payload>, String>>,
    /// The routing's deprecations were printed (once per run, as Ansible does).
    announced: std::sync::atomic::AtomicBool,
    /// Hosts where the bundle cannot be kept (no private cache directory):
    /// they are sent it every time, without asking their cache first.
    uncached: Mutex<HashSet<String>>,
}

impl PyModule {
    /// The module and its module_utils, built once.
    pub fn payload(&self) -> Result<Arc<payload::Payload>, String> {
        self.payload.get_or_init(|| payload::build(self, &self.roots).map(Arc::new)).clone()
    }

    /// Whether `host`'s cache is worth asking for the bundle (true until a
    /// full send showed it cannot keep one).
    pub fn host_caches(&self, host: &str) -> bool {
        !self.uncached.lock().unwrap_or_else(|e| e.into_inner()).contains(host)
    }

    /// What a full send showed: the host kept the bundle, or could not.
    pub fn note_host_caches(&self, host: &str, stored: bool) {
        let mut uncached = self.uncached.lock().unwrap_or_else(|e| e.into_inner());
        if stored {
            uncached.remove(host);
        } else {
            uncached.insert(host.to_string());
        }
    }

    /// The routing's deprecation notices the first time the module runs, then none.
    pub fn take_deprecations(&self) -> &[String] {
        if self.announced.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return &[];
        }
        &self.deprecations
    }
}

/// What a task's module name resolves to.
#[derive(Debug, Clone)]
pub enum Resolved {
    Module(Arc<PyModule>),
    /// Not runnable by the fallback: why, and what would provide it.
    Unavailable { message: String, hint: Option<String> },
}

/// Module lookup for a whole run, built on first use (a playbook of native
/// modules never reads the controller's Ansible installation).
#[derive(Debug, Default)]
pub struct Catalog {
    roots: OnceLock<Arc<Roots>>,
    /// Given instead of the environment (tests, a future setting).
    fixed: Option<Roots>,
    core_routing: OnceLock<Routing>,
    collection_routing: Mutex<HashMap<PathBuf, Arc<Routing>>>,
    found: Mutex<HashMap<(String, Vec<String>), Resolved>>,
    /// `action_groups` by collection (`ansible.builtin` for ansible-core's).
    groups: Mutex<HashMap<String, Arc<routing::ActionGroups>>>,
}

/// One step of a lookup.
enum Step {
    Found(PyModule),
    /// Not under this name; `missing_collection` when its collection is not installed.
    NotHere { missing_collection: Option<String>, note: Option<String> },
    Refused { message: String, hint: Option<String> },
}

/// The fully qualified names a task's module name may mean: itself when
/// qualified, else in each of `search`'s collections, then ansible.builtin.
fn candidates(name: &str, search: &[String]) -> Vec<String> {
    if name.split('.').count() >= 3 {
        vec![name.to_string()]
    } else {
        search.iter().map(|c| format!("{c}.{name}")).chain([format!("ansible.builtin.{name}")]).collect()
    }
}

/// Redirects followed before giving up (a routing loop).
const MAX_REDIRECTS: usize = 10;

impl Catalog {
    pub fn new() -> Catalog {
        Catalog::default()
    }

    pub fn with_roots(roots: Roots) -> Catalog {
        Catalog { fixed: Some(roots), ..Catalog::default() }
    }

    /// The run's catalog: the controller's installation does not change
    /// while stockman runs, so every playbook and include shares one, and a
    /// module's bundle is built once per run.
    pub fn shared() -> Arc<Catalog> {
        static SHARED: OnceLock<Arc<Catalog>> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(Catalog::new())).clone()
    }

    pub fn roots(&self) -> Arc<Roots> {
        self.roots.get_or_init(|| Arc::new(self.fixed.clone().unwrap_or_else(Roots::from_env))).clone()
    }

    /// A module of the playbook's or the task's role's own: `NAME.py` in one
    /// of `library` (the role's `library/`, then the playbook's), for a short
    /// name or `ansible.legacy.NAME`, as Ansible searches them before its
    /// own modules (a local module shadows a built-in, even a native one).
    /// `module_utils`: the directories beside those that hold its support code.
    pub fn resolve_local(&self, name: &str, library: &[PathBuf], module_utils: &[PathBuf]) -> Option<Resolved> {
        let short = name.strip_prefix("ansible.legacy.").unwrap_or(name);
        if short.is_empty() || short.contains('.') || short.contains('/') || library.is_empty() {
            return None;
        }
        let key = (format!("{short}\0local"), library.iter().chain(module_utils).map(|p| p.display().to_string()).collect());
        if let Some(hit) = self.found.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Some(hit.clone());
        }
        let resolved = self.local_uncached(short, library, module_utils)?;
        self.found.lock().unwrap_or_else(|e| e.into_inner()).insert(key, resolved.clone());
        Some(resolved)
    }

    fn local_uncached(&self, short: &str, library: &[PathBuf], module_utils: &[PathBuf]) -> Option<Resolved> {
        for dir in library {
            let source = dir.join(format!("{short}.py"));
            if source.is_file() {
                let mut roots = (*self.roots()).clone();
                roots.module_utils = module_utils.iter().filter(|d| d.is_dir()).cloned().collect();
                let module = PyModule {
                    fqcn: short.to_string(),
                    source,
                    import_name: format!("ansible.modules.{short}"),
                    deprecations: Vec::new(),
                    roots: Arc::new(roots),
                    payload: OnceLock::new(),
                    announced: Default::default(),
                    uncached: Default::default(),
                };
                return Some(Resolved::Module(Arc::new(module)));
            }
            let other = [dir.join(short), dir.join(format!("{short}.ps1")), dir.join(format!("{short}.sh"))].into_iter().find(|p| p.is_file());
            if let Some(other) = other {
                let message = format!("module `{short}` ({}) is not a Python module: stockman runs only Python modules from library/ directories", other.display());
                return Some(Resolved::Unavailable { message, hint: Some(format!("write it in Python with AnsibleModule as {}", source.display())) });
            }
        }
        None
    }

    /// Resolves a task's module name; `search` is the play's and role's
    /// `collections:` keyword, searched before `ansible.builtin` for short names.
    pub fn resolve(&self, name: &str, search: &[String]) -> Resolved {
        let key = (name.to_string(), search.to_vec());
        if let Some(hit) = self.found.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return hit.clone();
        }
        let resolved = self.resolve_uncached(name, search);
        self.found.lock().unwrap_or_else(|e| e.into_inner()).insert(key, resolved.clone());
        resolved
    }

    /// Whether the controller's Ansible has a module of this name (runnable by
    /// the fallback or not), as Ansible's `module_loader.has_plugin`.
    pub fn knows(&self, name: &str) -> bool {
        candidates(name, &[]).iter().any(|fqcn| !matches!(self.find(fqcn, Vec::new(), 0), Step::NotHere { .. }))
    }

    fn resolve_uncached(&self, name: &str, search: &[String]) -> Resolved {
        let mut missing = Vec::new();
        let mut notes = Vec::new();
        for fqcn in &candidates(name, search) {
            match self.find(fqcn, Vec::new(), 0) {
                Step::Found(module) => return Resolved::Module(Arc::new(module)),
                Step::Refused { message, hint } => return Resolved::Unavailable { message, hint },
                Step::NotHere { missing_collection, note } => {
                    missing.extend(missing_collection);
                    notes.extend(note);
                }
            }
        }
        self.not_found(name, &missing, &notes)
    }

    fn not_found(&self, name: &str, missing: &[String], notes: &[String]) -> Resolved {
        let roots = self.roots();
        let mut message = format!("couldn't resolve module/action `{name}`: not a module stockman ships, nor found in the controller's ansible-core or collections");
        for note in notes {
            message.push_str(&format!("; {note}"));
        }
        message.push_str(&format!(" (looked in: {})", roots.looked.join(", ")));
        let hint = match missing.first() {
            Some(collection) => Some(format!("`ansible-galaxy collection install {collection}` would provide it")),
            None if roots.core.is_none() => Some("install ansible-core on the controller (`pip install ansible`), or set STOCKMAN_ANSIBLE_PYTHON to the Python that has it".into()),
            None => None,
        };
        Resolved::Unavailable { message, hint }
    }

    /// One fully qualified name, following redirects.
    fn find(&self, fqcn: &str, mut deprecations: Vec<String>, depth: usize) -> Step {
        if depth > MAX_REDIRECTS {
            return Step::Refused { message: format!("module routing for `{fqcn}` redirects more than {MAX_REDIRECTS} times (a loop?)"), hint: None };
        }
        let Some((namespace, collection, name)) = split_fqcn(fqcn) else {
            return Step::NotHere { missing_collection: None, note: None };
        };
        let roots = self.roots();
        let (dir, import_prefix, action_dir, routing) = if matches!((namespace, collection), ("ansible", "builtin" | "legacy")) {
            let Some(core) = &roots.core else { return Step::NotHere { missing_collection: None, note: None } };
            (core.join("ansible/modules"), "ansible.modules".to_string(), core.join("ansible/plugins/action"), self.core_routing(core))
        } else {
            let Some(col_dir) = roots.collections.iter().map(|c| c.join(namespace).join(collection)).find(|d| d.is_dir()) else {
                return Step::NotHere { missing_collection: Some(format!("{namespace}.{collection}")), note: None };
            };
            let routing = self.collection_routing(&col_dir, &format!("{namespace}.{collection}"));
            (col_dir.join("plugins/modules"), format!("ansible_collections.{namespace}.{collection}.plugins.modules"), col_dir.join("plugins/action"), routing)
        };
        let display = if namespace == "ansible" { format!("ansible.builtin.{name}") } else { fqcn.to_string() };
        let rel = name.replace('.', "/");
        let source = dir.join(format!("{rel}.py"));
        let route = routing.get(name);
        // A module may be deprecated where it is, without a redirect.
        deprecations.extend(route.and_then(|r| r.deprecation.as_ref()).map(|d| format!("{display} has been deprecated. {d}")));
        if source.is_file() {
            if let Some(refusal) = refuse_action_plugin(&display, &action_dir.join(format!("{rel}.py"))) {
                return refusal;
            }
            let import_name = format!("{import_prefix}.{name}");
            return Step::Found(PyModule { fqcn: display, source, import_name, deprecations, roots, payload: OnceLock::new(), announced: Default::default(), uncached: Default::default() });
        }
        if let Some(refusal) = refuse_other_language(&display, &dir, &rel) {
            return refusal;
        }
        let Some(route) = route else {
            let note = (namespace != "ansible").then(|| format!("collection {namespace}.{collection} has no module `{name}`"));
            return Step::NotHere { missing_collection: None, note };
        };
        if let Some(removed) = &route.tombstone {
            return Step::Refused { message: format!("module `{display}` was removed: {removed}"), hint: None };
        }
        match &route.redirect {
            Some(target) => self.find(target, deprecations, depth + 1),
            None => Step::NotHere { missing_collection: None, note: None },
        }
    }

    /// The action groups (`ns.col.group`) that list the module `fqcn`, as
    /// its collection's routing defines them (ansible-core's for `ansible.builtin`).
    pub fn groups_of(&self, fqcn: &str) -> Vec<String> {
        let Some((namespace, collection, name)) = split_fqcn(fqcn) else { return Vec::new() };
        let owner = match (namespace, collection) {
            ("ansible", "builtin" | "legacy") => "ansible.builtin".to_string(),
            _ => format!("{namespace}.{collection}"),
        };
        let groups = self.action_groups(&owner);
        let mut found: Vec<String> = groups
            .iter()
            .filter(|(_, members)| members.iter().any(|m| m == name || *m == format!("{owner}.{name}")))
            .map(|(group, _)| format!("{owner}.{group}"))
            .collect();
        found.sort();
        found
    }

    fn action_groups(&self, owner: &str) -> Arc<routing::ActionGroups> {
        let mut cache = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = cache.get(owner) {
            return hit.clone();
        }
        let roots = self.roots();
        let file = match owner {
            "ansible.builtin" => roots.core.as_ref().map(|core| core.join("ansible/config/ansible_builtin_runtime.yml")),
            _ => owner.split_once('.').and_then(|(ns, col)| roots.collections.iter().map(|c| c.join(ns).join(col)).find(|d| d.is_dir())).map(|d| d.join("meta/runtime.yml")),
        };
        let groups = Arc::new(file.map(|f| routing::action_groups(&f)).unwrap_or_default());
        cache.insert(owner.to_string(), groups.clone());
        groups
    }

    fn core_routing(&self, core: &Path) -> Arc<Routing> {
        Arc::new(self.core_routing.get_or_init(|| routing::read(&core.join("ansible/config/ansible_builtin_runtime.yml"), "ansible-core")).clone())
    }

    fn collection_routing(&self, col_dir: &Path, name: &str) -> Arc<Routing> {
        let mut cache = self.collection_routing.lock().unwrap_or_else(|e| e.into_inner());
        let owner = format!("collection '{name}'");
        cache.entry(col_dir.to_path_buf()).or_insert_with(|| Arc::new(routing::read(&col_dir.join("meta/runtime.yml"), &owner))).clone()
    }
}

/// `ns.col.name` (the name may hold more dots: a subdirectory).
fn split_fqcn(fqcn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = fqcn.splitn(3, '.');
    Some((parts.next()?, parts.next()?, parts.next().filter(|n| !n.is_empty())?))
}

/// A module with a controller-side action plugin needs Ansible's Python on the controller.
fn refuse_action_plugin(display: &str, action: &Path) -> Option<Step> {
    action.is_file().then(|| Step::Refused {
        message: format!("module `{display}` needs its controller-side action plugin ({}), and stockman never runs Python on the controller", action.display()),
        hint: Some("use a module stockman ships, or run this task with ansible-playbook".into()),
    })
}

/// PowerShell and binary modules: only Python modules run through the fallback.
fn refuse_other_language(display: &str, dir: &Path, rel: &str) -> Option<Step> {
    let powershell = dir.join(format!("{rel}.ps1"));
    if powershell.is_file() {
        return Some(Step::Refused { message: format!("module `{display}` is a PowerShell module ({}): stockman runs only Python modules of ansible-core and collections", powershell.display()), hint: None });
    }
    let binary = dir.join(rel);
    binary.is_file().then(|| Step::Refused {
        message: format!("module `{display}` is not a Python module ({}): stockman runs only Python modules of ansible-core and collections", binary.display()),
        hint: None,
    })
}

#[cfg(test)]
mod tests;
