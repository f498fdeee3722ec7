//! `lookup(name, ...)`, `query(name, ...)`, `q(...)` and `with_<name>:`,
//! all through one table of lookups ([`LOOKUPS`]).
//!
//! Relative files are searched as Ansible's `find_file_in_search_path` does
//! ([`search::find`]): in each directory of `ansible_search_path` (the role,
//! the task file's directory, the playbook's), first under `files/` (or
//! `templates/`, `vars/`) and then in the directory itself.

use super::filters::{fail, to_json};
use minijinja::value::{Kwargs, Rest, Value as Jinja, ValueKind};
use minijinja::{Environment, Error, State};
use std::path::{Path, PathBuf};

/// The environment variable that sets the most items a loop may have.
pub const MAX_ITEMS_VAR: &str = "STOCKMAN_LOOP_MAX_ITEMS";

/// The most items a loop may have (every item's result is kept until the
/// task ends, for `register` and the summary); lookups that multiply items
/// count against it before building any.
pub fn max_items() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| std::env::var(MAX_ITEMS_VAR).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(1_000_000))
}

/// The error for a loop over [`max_items`].
pub(crate) fn too_many_items(count: impl std::fmt::Display) -> String {
    format!("the loop has {count} items, more than the limit of {} (raise it with {MAX_ITEMS_VAR}=N)", max_items())
}

mod data;
mod files;
mod lists;
mod password;
mod search;
mod sequence;
mod vars;
pub use search::unfrack;

/// The function a `with_<lookup>:` loop is evaluated through (see `Templar::with_lookup`).
pub(super) const WITH_FN: &str = "__stockman_with_lookup";

/// One invocation: the template state (variables, environment) and whether
/// it runs as `with_<name>:` on a task with this action.
pub(super) struct Call<'a, 'b, 'c> {
    pub state: &'a State<'b, 'c>,
    pub with_action: Option<&'a str>,
}

type Lookup = fn(&Call, &[Jinja], &Kwargs) -> Result<Vec<Jinja>, Error>;

/// Every lookup stockman ships, by its ansible.builtin name.
const LOOKUPS: &[(&str, Lookup)] = &[
    ("env", |_, terms, kwargs| env_lookup(terms, kwargs)),
    ("file", |call, terms, kwargs| file_lookup(call.state, terms, kwargs)),
    ("template", |call, terms, kwargs| template_lookup(call.state, terms, kwargs)),
    ("fileglob", |call, terms, _| fileglob_lookup(call.state, terms)),
    ("items", |_, terms, _| Ok(items_lookup(terms, false))),
    ("list", |_, terms, _| Ok(items_lookup(terms, true))),
    ("first_found", files::first_found),
    ("lines", files::lines),
    ("pipe", files::pipe),
    ("unvault", files::unvault),
    ("dict", lists::dict),
    ("nested", lists::nested),
    ("together", lists::together),
    ("subelements", lists::subelements),
    ("indexed_items", lists::indexed_items),
    ("random_choice", lists::random_choice),
    ("password", password::password),
    ("sequence", sequence::lookup),
    ("vars", vars::vars),
    ("varnames", vars::varnames),
    ("config", vars::config),
    ("ini", data::ini),
    ("csvfile", data::csvfile),
];

/// The lookup called `name` (`ansible.builtin.` prefix allowed), if stockman has it.
fn find(name: &str) -> Option<Lookup> {
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    LOOKUPS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Whether `with_<name>:` can run: a clear error at load time otherwise.
pub fn check_available(name: &str) -> Result<(), String> {
    if find(name).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = LOOKUPS.iter().map(|(n, _)| *n).collect();
    Err(match name.split('.').count() {
        3 => format!("lookup plugin '{name}' is not available in stockman: it ships the ansible.builtin lookups only ({})", known.join(", ")),
        _ => format!("lookup plugin '{name}' not found (known: {})", known.join(", ")),
    })
}

/// Names of the lookups, for typo hints.
pub fn names() -> impl Iterator<Item = &'static str> {
    LOOKUPS.iter().map(|(n, _)| *n)
}

pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", |state: &State, name: String, terms: Rest<Jinja>, kwargs: Kwargs| {
        let wantlist = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
        let call = Call { state, with_action: None };
        Ok(match run(&call, &name, &terms, &kwargs)? {
            Some(found) if wantlist => Jinja::from(found),
            Some(found) => munge(found),
            None if wantlist => Jinja::from(Vec::<Jinja>::new()),
            None => Jinja::from(()),
        })
    });
    for name in ["query", "q"] {
        env.add_function(name, |state: &State, name: String, terms: Rest<Jinja>, kwargs: Kwargs| {
            let _ = kwargs.get::<Option<bool>>("wantlist")?;
            let call = Call { state, with_action: None };
            Ok(Jinja::from(run(&call, &name, &terms, &kwargs)?.unwrap_or_default()))
        });
    }
    // `with_<name>: terms` on a task running `action`: terms not a list are one term.
    env.add_function(WITH_FN, |state: &State, name: String, terms: Jinja, action: String| {
        let terms: Vec<Jinja> = match terms.kind() {
            ValueKind::Seq => terms.try_iter()?.collect(),
            _ => vec![terms],
        };
        let call = Call { state, with_action: Some(&action) };
        let lookup = find(&name).ok_or_else(|| fail(check_available(&name).unwrap_err()))?;
        let found = lookup(&call, &terms, &Kwargs::from_iter(std::iter::empty::<(&str, Jinja)>()))
            .map_err(|e| fail(format!("The lookup plugin '{name}' failed: {}", message(&e))))?;
        Ok(Jinja::from(found))
    });
}

/// The text of a lookup's error, without minijinja's kind prefix.
fn message(e: &Error) -> String {
    e.detail().map(str::to_string).unwrap_or_else(|| e.to_string())
}

/// Ansible's shaping of a `lookup` result without `wantlist`: one item
/// alone, several strings joined with commas, anything else as a list.
fn munge(found: Vec<Jinja>) -> Jinja {
    match found.len() {
        0 => Jinja::from(found),
        1 => found.into_iter().next().unwrap_or_default(),
        _ if found.iter().all(|v| v.kind() == ValueKind::String) => {
            Jinja::from(found.iter().map(|v| v.as_str().unwrap_or_default()).collect::<Vec<_>>().join(","))
        }
        _ => Jinja::from(found),
    }
}

/// A keyword the lookup did not read is an error, worded as Ansible's.
fn unknown_options(kwargs: &Kwargs) -> Result<(), Error> {
    kwargs.assert_all_used().map_err(|e| match e.detail().and_then(|d| d.strip_prefix("unknown keyword argument ")) {
        Some(name) => fail(format!("{name} is not a valid option.")),
        None => e,
    })
}

/// Runs the lookup; `None` when it failed under `errors='ignore'` or `'warn'`.
fn run(call: &Call, name: &str, terms: &[Jinja], kwargs: &Kwargs) -> Result<Option<Vec<Jinja>>, Error> {
    let errors = kwargs.get::<Option<String>>("errors")?.unwrap_or_else(|| "strict".into());
    if !["strict", "warn", "ignore"].contains(&errors.as_str()) {
        return Err(fail(format!("lookup '{name}': `errors` must be one of strict, warn, ignore, got '{errors}'")));
    }
    let lookup = find(name).ok_or_else(|| fail(check_available(name).unwrap_err()))?;
    let result = lookup(call, terms, kwargs).and_then(|found| unknown_options(kwargs).map(|_| found));
    match result {
        Ok(found) => Ok(Some(found)),
        // stockman has no warning channel from inside a template: `warn` is `ignore`.
        Err(_) if errors != "strict" => Ok(None),
        Err(e) => Err(fail(format!("The lookup plugin '{name}' failed: {}", message(&e)))),
    }
}

fn term_text(term: &Jinja) -> Result<String, Error> {
    term.as_str().map(str::to_string).ok_or_else(|| fail(format!("a lookup term must be a string, got {}", term.kind())))
}

fn env_lookup(terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let default = kwargs.get::<Option<Jinja>>("default")?;
    let mut out = Vec::new();
    for term in terms {
        let text = term_text(term)?;
        let var = text.split_whitespace().next().unwrap_or_default();
        out.push(match (std::env::var(var), &default) {
            (Ok(value), _) => Jinja::from(value),
            (Err(_), Some(d)) => d.clone(),
            // Ansible's default for an unset variable is the empty string.
            (Err(_), None) => Jinja::from(""),
        });
    }
    Ok(out)
}

/// Finds `term` under `subdir/` or directly in a search-path directory.
fn find_file(state: &State, subdir: &str, term: &str) -> Result<PathBuf, Error> {
    search::find(state, Some(subdir), term).map_err(|tried| {
        let mut tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        tried.dedup();
        fail(format!("Unable to access the file '{term}': No such file or directory (searched {})", tried.join(", ")))
    })
}

fn read(path: &Path, term: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| fail(format!("Unable to access the file '{term}': {e}")))
}

/// `lookup('file', path, lstrip=False, rstrip=True)`.
fn file_lookup(state: &State, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let lstrip = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false);
    let rstrip = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
    let mut out = Vec::new();
    for term in terms {
        let term = term_text(term)?;
        let mut text = read(&find_file(state, "files", &term)?, &term)?;
        if rstrip {
            text.truncate(text.trim_end().len());
        }
        if lstrip {
            text = text.trim_start().to_string();
        }
        out.push(Jinja::from(text));
    }
    Ok(out)
}

/// `lookup('template', path, template_vars={})`: renders the file with the
/// current variables (plus `template_vars`).
fn template_lookup(state: &State, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let extra = kwargs.get::<Option<Jinja>>("template_vars")?;
    let mut vars = serde_json::Map::new();
    for name in state.known_variables() {
        if let Some(v) = state.lookup(&name) {
            if !matches!(v.kind(), ValueKind::Undefined | ValueKind::Plain) {
                vars.insert(name.to_string(), to_json(&v));
            }
        }
    }
    if let Some(serde_json::Value::Object(extra)) = extra.map(|e| to_json(&e)) {
        vars.extend(extra);
    }
    let ctx = Jinja::from(minijinja::value::Serde(&vars));
    let mut out = Vec::new();
    for term in terms {
        let term = term_text(term)?;
        let path = find_file(state, "templates", &term)?;
        let source = read(&path, &term)?;
        let rendered = state
            .env()
            .render_named_str(&path.display().to_string(), &source, ctx.clone())
            .map_err(|e| fail(format!("template lookup of '{term}' failed: {e}")))?;
        out.push(Jinja::from(rendered));
    }
    Ok(out)
}

/// `lookup('fileglob', '*.conf')`: regular files matching the pattern in
/// the first search directory that has any; sorted (Python's glob order
/// is the directory's).
fn fileglob_lookup(state: &State, terms: &[Jinja]) -> Result<Vec<Jinja>, Error> {
    let mut out = Vec::new();
    for term in terms {
        let term = term_text(term)?;
        let pattern = Path::new(&term).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let matcher = GlobName::new(&pattern);
        let dirs: Vec<PathBuf> = match Path::new(&term).parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) if parent.is_absolute() => vec![parent.to_path_buf()],
            Some(parent) => search::paths(state).iter().flat_map(|d| [d.join("files").join(parent), d.join(parent)]).collect(),
            None => search::paths(state).iter().flat_map(|d| [d.join("files"), d.clone()]).collect(),
        };
        for dir in dirs {
            let mut hits: Vec<String> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| matcher.matches(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .map(|p| p.display().to_string())
                .collect();
            if !hits.is_empty() {
                hits.sort();
                out.extend(hits.into_iter().map(Jinja::from));
                break;
            }
        }
    }
    Ok(out)
}

/// Shell-style matching of names: `*`, `?`, `[...]`; a leading `.` must be
/// matched literally, as glob does. Compiled once for a whole directory.
struct GlobName {
    /// None: not a valid pattern, which matches nothing.
    regex: Option<regex::Regex>,
    dot_asked: bool,
}

impl GlobName {
    fn new(pattern: &str) -> GlobName {
        GlobName { regex: stockman_modules::fnmatch::regex(pattern).ok(), dot_asked: pattern.starts_with('.') }
    }

    fn matches(&self, name: &str) -> bool {
        let hidden_unasked = name.starts_with('.') && !self.dot_asked;
        !hidden_unasked && self.regex.as_ref().is_some_and(|re| re.is_match(name))
    }
}

/// `items` flattens its terms one level; `list` returns them as given.
fn items_lookup(terms: &[Jinja], as_given: bool) -> Vec<Jinja> {
    let mut out = Vec::new();
    for term in terms {
        match term.kind() {
            ValueKind::Seq if !as_given => out.extend(term.try_iter().into_iter().flatten()),
            _ => out.push(term.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::GlobName;

    fn fnmatch(pattern: &str, name: &str) -> bool {
        GlobName::new(pattern).matches(name)
    }

    #[test]
    fn fnmatch_like_glob() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(!fnmatch("*.conf", ".hidden.conf"));
        assert!(fnmatch("file?.[ab]", "file1.b"));
        assert!(!fnmatch("file?.[!ab]", "file1.b"));
    }
}
