//! Every row of the table resolved once: ANSIBLE_* variable > ansible.cfg > default, typed
//! and validated, each with where it came from. Flags are applied above this in cli.rs.

use std::fmt;
use std::path::{Path, PathBuf};

use super::ini::{self, Ini};
use super::locate::{self, Env};
use super::table::{self, Def, Id, Kind, Support, TABLE};

/// A typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unset,
    Bool(bool),
    Int(i64),
    Str(String),
    Paths(Vec<PathBuf>),
    Words(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unset => write!(f, "None"),
            Value::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::Paths(p) => write!(f, "[{}]", p.iter().map(|p| format!("'{}'", p.display())).collect::<Vec<_>>().join(", ")),
            Value::Words(w) => write!(f, "[{}]", w.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(", ")),
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File { path: PathBuf, line: usize },
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env(name) => write!(f, "env: {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub def: &'static Def,
    pub value: Value,
    pub origin: Origin,
}

/// A setting that cannot be used: names the file:line or the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}:{line}: {message}", path = path.display())]
    File { path: PathBuf, line: usize, message: String },
    #[error("`{var}`: {message}")]
    Env { var: &'static str, message: String },
    #[error("cannot read the config file {path}: {source}", path = path.display())]
    Read { path: PathBuf, source: std::io::Error },
}

/// The settings from the environment and the file, and what was noticed reading them.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The ansible.cfg in use.
    pub file: Option<PathBuf>,
    /// One per row of [`TABLE`], in its order.
    pub values: Vec<Resolved>,
    /// Shown always (unknown keys, skipped ./ansible.cfg).
    pub warnings: Vec<String>,
    /// Shown with -v (keys accepted and not used).
    pub ignored: Vec<String>,
}

impl Loaded {
    /// Finds the file as Ansible does and resolves every setting.
    pub fn load(env: &Env) -> Result<Loaded, ConfigError> {
        let found = locate::find(env);
        let ini = match &found.path {
            Some(path) => Some(read(path)?),
            None => None,
        };
        let mut loaded = resolve(env, found.path.as_deref(), ini.as_ref())?;
        loaded.warnings.splice(0..0, found.warning);
        Ok(loaded)
    }

    pub fn get(&self, id: Id) -> &Resolved {
        self.values.iter().find(|r| r.def.id == id).unwrap_or_else(|| unreachable!("every Id has a row in TABLE"))
    }

    pub fn bool(&self, id: Id) -> bool {
        matches!(self.get(id).value, Value::Bool(true))
    }

    pub fn int(&self, id: Id) -> i64 {
        match self.get(id).value {
            Value::Int(n) => n,
            _ => 0,
        }
    }

    pub fn string(&self, id: Id) -> Option<String> {
        match &self.get(id).value {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn paths(&self, id: Id) -> Vec<PathBuf> {
        match &self.get(id).value {
            Value::Paths(p) => p.clone(),
            _ => Vec::new(),
        }
    }

    pub fn words(&self, id: Id) -> Vec<String> {
        match &self.get(id).value {
            Value::Words(w) => w.clone(),
            _ => Vec::new(),
        }
    }
}

fn read(path: &Path) -> Result<Ini, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    ini::parse(&text).map_err(|e| ConfigError::File { path: path.to_path_buf(), line: e.line, message: e.message })
}

/// Resolves every row: env, then the file, then the default.
pub fn resolve(env: &Env, file: Option<&Path>, ini: Option<&Ini>) -> Result<Loaded, ConfigError> {
    let mut loaded = Loaded { file: file.map(Path::to_path_buf), values: Vec::new(), warnings: Vec::new(), ignored: Vec::new() };
    let file_dir = file.and_then(Path::parent).unwrap_or(&env.cwd);
    for def in TABLE {
        let resolved = resolve_one(def, env, file, file_dir, ini, &mut loaded.warnings)?;
        loaded.values.push(resolved);
    }
    if let (Some(path), Some(ini)) = (file, ini) {
        check_file(path, ini, &mut loaded);
    }
    Ok(loaded)
}

fn resolve_one(def: &'static Def, env: &Env, file: Option<&Path>, file_dir: &Path, ini: Option<&Ini>, warnings: &mut Vec<String>) -> Result<Resolved, ConfigError> {
    // An empty variable counts as unset, except for strings (Ansible falls back to the default when "" does not convert).
    let from_env = def.env.iter().find_map(|name| env.var(name).filter(|v| !v.is_empty() || def.kind == Kind::Str).map(|v| (*name, v)));
    if let Some((name, text)) = from_env {
        let value = convert(def, text, &env.cwd, env).map_err(|message| ConfigError::Env { var: name, message })?;
        warn_loose_bool(def, text, &format!("`{name}`"), warnings);
        return Ok(Resolved { def, value, origin: Origin::Env(name) });
    }
    let from_file = ini.and_then(|ini| def.ini.iter().find_map(|(section, key)| ini.get(section, key)));
    if let (Some(entry), Some(path)) = (from_file, file) {
        let at = |message| ConfigError::File { path: path.to_path_buf(), line: entry.line, message };
        let value = convert(def, &entry.value, file_dir, env).map_err(|m| at(format!("`{}`: {m}", entry.key)))?;
        warn_loose_bool(def, &entry.value, &format!("{}:{} `{}`", path.display(), entry.line, entry.key), warnings);
        return Ok(Resolved { def, value, origin: Origin::File { path: path.to_path_buf(), line: entry.line } });
    }
    let value = match def.default {
        Some(text) => convert(def, text, &env.cwd, env).unwrap_or(Value::Unset),
        None => Value::Unset,
    };
    Ok(Resolved { def, value, origin: Origin::Default })
}

const TRUE_WORDS: &[&str] = &["y", "yes", "on", "1", "true", "t", "1.0"];
const FALSE_WORDS: &[&str] = &["n", "no", "off", "0", "false", "f", "0.0"];

/// Ansible reads any word but its true ones as false; say so when it is not one of its false words either.
fn warn_loose_bool(def: &Def, text: &str, place: &str, warnings: &mut Vec<String>) {
    let word = text.trim().to_lowercase();
    if def.kind == Kind::Bool && !TRUE_WORDS.contains(&word.as_str()) && !FALSE_WORDS.contains(&word.as_str()) {
        warnings.push(format!("{place}: `{text}` is not a boolean; read as False, as Ansible does (use True or False)"));
    }
}

/// One value from its text, as Ansible's config types convert it.
fn convert(def: &Def, text: &str, base: &Path, env: &Env) -> Result<Value, String> {
    let path = |p: &str| super::expand::path(p, base, env);
    Ok(match def.kind {
        Kind::Bool => Value::Bool(TRUE_WORDS.contains(&text.trim().to_lowercase().as_str())),
        Kind::Int => Value::Int(integer(text).ok_or_else(|| format!("`{text}` is not an integer"))?),
        Kind::Str => Value::Str(unquote(text).to_string()),
        Kind::Path => Value::Paths(vec![path(text)]),
        Kind::PathList => Value::Paths(text.split(',').map(str::trim).filter(|p| !p.is_empty()).map(path).collect()),
        Kind::PathSpec => Value::Paths(text.split(':').filter(|p| !p.is_empty()).map(path).collect()),
        Kind::List => Value::Words(text.split(',').map(|w| unquote(w.trim()).to_string()).filter(|w| !w.is_empty()).collect()),
        Kind::Choice(allowed) => {
            let word = unquote(text);
            if !allowed.contains(&word) {
                return Err(format!("`{word}` is not supported (stockman supports: {})", allowed.join(", ")));
            }
            Value::Str(word.to_string())
        }
        Kind::Color => {
            let name = unquote(text);
            if crate::report::palette::sgr(name).is_none() {
                return Err(format!("`{name}` is not a colour; {}", crate::report::palette::hint()));
            }
            Value::Str(name.to_string())
        }
    })
}

/// Whole numbers, also written `5.0` or `1e1` (Ansible converts through Decimal).
fn integer(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>().ok().or_else(|| {
        let f: f64 = text.parse().ok()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

/// One pair of matching quotes around a value is dropped, as Ansible does for ini strings.
fn unquote(text: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return inner;
        }
    }
    text
}

/// Unknown sections and keys, keys stockman ignores, and `#` inside values.
fn check_file(path: &Path, ini: &Ini, loaded: &mut Loaded) {
    let known: Vec<(&str, &str)> = table::known_keys().collect();
    let sections: Vec<&str> = {
        let mut s: Vec<&str> = known.iter().map(|(s, _)| *s).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    for section in &ini.sections {
        let at = |line: usize| format!("{}:{line}", path.display());
        if section.name != ini::DEFAULT_SECTION && !sections.contains(&section.name.as_str()) {
            loaded.warnings.push(format!("{}: unknown section `[{}]`, its keys are ignored{}", at(section.line), section.name, section_hint(&section.name, &sections)));
            continue;
        }
        for entry in &section.entries {
            let place = format!("{}: `[{}] {}`", at(entry.line), section.name, entry.key);
            if let Some(note) = key_note(&section.name, &entry.key, &known) {
                loaded.warnings.push(format!("{place}: {note}"));
                continue;
            }
            if entry.hash_in_value {
                loaded.warnings.push(format!("{place}: `#` starts a comment only at the start of a line (use `;`): the value is `{}`", entry.value));
            }
            if let Some(reason) = ignored_reason(&section.name, &entry.key) {
                loaded.ignored.push(format!("{place} is ignored: {reason}"));
            }
        }
    }
}

fn section_hint(name: &str, sections: &[&str]) -> String {
    let looks_like_inventory = name == "all" || name.contains(":vars") || name.contains(":children") || name == "ungrouped";
    if looks_like_inventory {
        return "; hosts, groups and their variables belong in the inventory (e.g. inventory.ini, group_vars/), not ansible.cfg".into();
    }
    match crate::playbook::did_you_mean(name, sections.iter().copied()) {
        Some(near) => format!("; did you mean `[{near}]`?"),
        None => String::new(),
    }
}

/// Why a key in a known section is not a setting, if it isn't; None when Ansible knows it.
fn key_note(section: &str, key: &str, known: &[(&str, &str)]) -> Option<String> {
    if known.contains(&(section, key)) {
        return None;
    }
    if let Some((_, _, hint)) = table::REMOVED.iter().find(|(s, k, _)| *s == section && *k == key) {
        return Some(format!("not read: {hint}"));
    }
    if let Some(setting) = INVENTORY_VARIABLES.iter().find(|(var, _)| *var == key).map(|(_, s)| s) {
        return Some(format!("`{key}` is an inventory variable, not a setting; here it is `{setting}` (or set `{key}` in the inventory or group_vars/)"));
    }
    if key.starts_with("ansible_") {
        return Some("variables belong in the inventory or group_vars/, not ansible.cfg; this key is ignored".into());
    }
    if let Some((other, _)) = known.iter().find(|(s, k)| *k == key && *s != section) {
        return Some(format!("unknown key in `[{section}]`, ignored; it belongs in `[{other}]`"));
    }
    let in_section = known.iter().filter(|(s, _)| *s == section).map(|(_, k)| *k);
    let near_here = crate::playbook::did_you_mean(key, in_section).map(|k| format!("; did you mean `{k}`?"));
    let near_elsewhere = || {
        let near = crate::playbook::did_you_mean(key, known.iter().map(|(_, k)| *k))?;
        let (s, k) = known.iter().find(|(_, k)| *k == near)?;
        Some(format!("; did you mean `[{s}] {k}`?"))
    };
    let hint = near_here.or_else(near_elsewhere).unwrap_or_default();
    Some(format!("unknown key, ignored{hint}"))
}

/// Inventory variables people put in ansible.cfg, and the setting that means the same there.
const INVENTORY_VARIABLES: &[(&str, &str)] = &[
    ("ansible_python_interpreter", "interpreter_python"),
    ("ansible_user", "remote_user"),
    ("ansible_ssh_user", "remote_user"),
    ("ansible_ssh_private_key_file", "private_key_file"),
    ("ansible_private_key_file", "private_key_file"),
    ("ansible_port", "remote_port"),
    ("ansible_become", "[privilege_escalation] become"),
    ("ansible_become_user", "[privilege_escalation] become_user"),
    ("ansible_become_method", "[privilege_escalation] become_method"),
    ("ansible_host_key_checking", "host_key_checking"),
    ("ansible_ssh_common_args", "[ssh_connection] ssh_common_args"),
];

/// A known key stockman does not act on, and why.
fn ignored_reason(section: &str, key: &str) -> Option<&'static str> {
    match TABLE.iter().find(|d| d.ini.contains(&(section, key))) {
        Some(def) => match def.support {
            Support::Ignored(reason) => Some(reason),
            Support::Honoured | Support::Stored => None,
        },
        None => Some("not used by stockman"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env {
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>(),
            cwd: "/cwd".into(),
            home: "/home/me".into(),
            system_cfg: "/nonexistent".into(),
        }
    }

    fn load(text: &str, vars: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
        let ini = ini::parse(text).unwrap();
        resolve(&env(vars), Some(Path::new("/proj/ansible.cfg")), Some(&ini))
    }

    #[test]
    fn env_beats_file_beats_default() {
        let text = "[defaults]\nremote_user = fromcfg\nforks = 7\n";
        let l = load(text, &[]).unwrap();
        assert_eq!(l.string(Id::RemoteUser).as_deref(), Some("fromcfg"));
        assert_eq!(l.get(Id::RemoteUser).origin, Origin::File { path: "/proj/ansible.cfg".into(), line: 2 });
        assert_eq!(l.int(Id::Timeout), 10);
        assert_eq!(l.get(Id::Timeout).origin, Origin::Default);
        let l = load(text, &[("ANSIBLE_REMOTE_USER", "fromenv"), ("ANSIBLE_FORKS", "")]).unwrap();
        assert_eq!(l.string(Id::RemoteUser).as_deref(), Some("fromenv"));
        assert_eq!(l.get(Id::RemoteUser).origin, Origin::Env("ANSIBLE_REMOTE_USER"));
        assert_eq!(l.int(Id::Forks), 7, "an empty variable counts as unset");
    }

    #[test]
    fn paths_relative_to_the_file_from_the_file_and_to_cwd_from_env() {
        let l = load("[defaults]\ninventory = inventory.ini, ~/hosts\nprivate_key_file = keys/id\nroles_path = roles:/opt/roles\n", &[]).unwrap();
        assert_eq!(l.paths(Id::Inventory), vec![PathBuf::from("/proj/inventory.ini"), PathBuf::from("/home/me/hosts")]);
        assert_eq!(l.paths(Id::PrivateKeyFile), vec![PathBuf::from("/proj/keys/id")]);
        assert_eq!(l.paths(Id::RolesPath), vec![PathBuf::from("/proj/roles"), PathBuf::from("/opt/roles")]);
        let l = load("[defaults]\n", &[("ANSIBLE_INVENTORY", "hosts")]).unwrap();
        assert_eq!(l.paths(Id::Inventory), vec![PathBuf::from("/cwd/hosts")]);
    }

    #[test]
    fn booleans_as_ansible_reads_them() {
        let l = load("[defaults]\nhost_key_checking = False\nnocolor = yes\n[privilege_escalation]\nbecome = ture\n", &[]).unwrap();
        assert!(!l.bool(Id::HostKeyChecking));
        assert!(l.bool(Id::NoColor));
        assert!(!l.bool(Id::Become));
        assert!(l.warnings.iter().any(|w| w.contains("/proj/ansible.cfg:5 `become`: `ture` is not a boolean")), "{:?}", l.warnings);
    }

    #[test]
    fn wrong_types_are_errors_with_file_and_line() {
        let e = load("[defaults]\n\nforks = many\n", &[]).unwrap_err().to_string();
        assert_eq!(e, "/proj/ansible.cfg:3: `forks`: `many` is not an integer");
        let e = load("[defaults]\nhash_behaviour = deep\n", &[]).unwrap_err().to_string();
        assert!(e.starts_with("/proj/ansible.cfg:2: `hash_behaviour`: `deep` is not supported"), "{e}");
        let e = load("[defaults]\n", &[("ANSIBLE_TIMEOUT", "soon")]).unwrap_err().to_string();
        assert_eq!(e, "`ANSIBLE_TIMEOUT`: `soon` is not an integer");
    }

    #[test]
    fn mistakes_are_warned_with_the_nearest_name() {
        let text = "[defaults]\nrole_path = roles\nansible_python_interpreter = /usr/bin/python3\nbecome = True\ngather_subset = min\nremote_user = bob # admin\n[ssh_connections]\npipelining = True\n[all]\nx = 1\n";
        let w = load(text, &[]).unwrap().warnings.join("\n");
        assert!(w.contains("/proj/ansible.cfg:2: `[defaults] role_path`: unknown key, ignored; did you mean `roles_path`?"), "{w}");
        assert!(w.contains("/proj/ansible.cfg:3: `[defaults] ansible_python_interpreter`: `ansible_python_interpreter` is an inventory variable, not a setting; here it is `interpreter_python`"), "{w}");
        assert!(w.contains("/proj/ansible.cfg:4: `[defaults] become`: unknown key in `[defaults]`, ignored; it belongs in `[privilege_escalation]`"), "{w}");
        assert!(w.contains("/proj/ansible.cfg:5: `[defaults] gather_subset`: not read: ansible-core 2.19 no longer reads it"), "{w}");
        assert!(w.contains("/proj/ansible.cfg:6: `[defaults] remote_user`: `#` starts a comment only at the start of a line (use `;`): the value is `bob # admin`"), "{w}");
        assert!(w.contains("/proj/ansible.cfg:7: unknown section `[ssh_connections]`, its keys are ignored; did you mean `[ssh_connection]`?"), "{w}");
        assert!(w.contains("/proj/ansible.cfg:9: unknown section `[all]`, its keys are ignored; hosts, groups and their variables belong in the inventory"), "{w}");
    }

    #[test]
    fn accepted_keys_that_do_nothing_are_listed_for_verbose() {
        let l = load("[defaults]\nretry_files_enabled = False\nsystem_warnings = False\nforks = 3\n[ssh_connection]\ncontrol_path = /tmp/%%h\n", &[]).unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let i = l.ignored.join("\n");
        assert!(i.contains(":2: `[defaults] retry_files_enabled` is ignored: stockman writes no .retry files"), "{i}");
        assert!(i.contains(":3: `[defaults] system_warnings` is ignored: not used by stockman"), "{i}");
        assert!(i.contains(":6: `[ssh_connection] control_path` is ignored: stockman keeps one SSH connection per host"), "{i}");
        assert!(!i.contains("forks"), "{i}");
    }
}
