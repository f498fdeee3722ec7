//! `lookup(name, ...)`, `query(name, ...)` and `q(...)`, with the lookups
//! playbooks use most: env, file, template, fileglob, items.
//!
//! Relative files are searched as Ansible does: in each directory of
//! `ansible_search_path` (else `role_path` then `playbook_dir`, else the
//! current directory), first under its `files/` (or `templates/`) and then
//! in the directory itself.

use super::filters::{fail, to_json};
use minijinja::value::{Kwargs, Rest, Value as Jinja, ValueKind};
use minijinja::{Environment, Error, State};
use std::path::{Path, PathBuf};

pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", |state: &State, name: String, terms: Rest<Jinja>, kwargs: Kwargs| {
        let wantlist = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
        let found = run(state, &name, &terms, &kwargs)?;
        Ok(if wantlist { Jinja::from(found) } else { munge(found) })
    });
    for name in ["query", "q"] {
        env.add_function(name, |state: &State, name: String, terms: Rest<Jinja>, kwargs: Kwargs| {
            let _ = kwargs.get::<Option<bool>>("wantlist")?;
            run(state, &name, &terms, &kwargs).map(Jinja::from)
        });
    }
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

fn run(state: &State, name: &str, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let found = match name {
        "env" => env_lookup(terms, kwargs)?,
        "file" => file_lookup(state, terms, kwargs)?,
        "template" => template_lookup(state, terms, kwargs)?,
        "fileglob" => fileglob_lookup(state, terms)?,
        "items" | "list" => items_lookup(terms, name == "list"),
        other => {
            let known = ["env", "file", "template", "fileglob", "items", "list"];
            return Err(fail(format!("lookup plugin '{other}' not found (known: {})", known.join(", "))));
        }
    };
    kwargs.assert_all_used()?;
    Ok(found)
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

/// The directories relative lookups search, in order.
fn search_path(state: &State) -> Vec<PathBuf> {
    let listed = state.lookup("ansible_search_path").map(|v| to_json(&v));
    if let Some(serde_json::Value::Array(dirs)) = listed {
        return dirs.iter().filter_map(|d| d.as_str()).map(PathBuf::from).collect();
    }
    let dirs: Vec<PathBuf> = ["role_path", "playbook_dir"]
        .iter()
        .filter_map(|var| state.lookup(var))
        .filter_map(|v| v.as_str().map(PathBuf::from))
        .collect();
    if dirs.is_empty() {
        vec![std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))]
    } else {
        dirs
    }
}

/// Finds `term` under `subdir/` or directly in a search-path directory.
fn find_file(state: &State, subdir: &str, term: &str) -> Result<PathBuf, Error> {
    if Path::new(term).is_absolute() {
        return Ok(PathBuf::from(term));
    }
    let mut tried = Vec::new();
    for dir in search_path(state) {
        for candidate in [dir.join(subdir).join(term), dir.join(term)] {
            if candidate.is_file() {
                return Ok(candidate);
            }
            tried.push(candidate.display().to_string());
        }
    }
    Err(fail(format!("Unable to access the file '{term}': not found (searched {})", tried.join(", "))))
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
        let dirs: Vec<PathBuf> = match Path::new(&term).parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) if parent.is_absolute() => vec![parent.to_path_buf()],
            Some(parent) => search_path(state).iter().flat_map(|d| [d.join("files").join(parent), d.join(parent)]).collect(),
            None => search_path(state).iter().flat_map(|d| [d.join("files"), d.clone()]).collect(),
        };
        for dir in dirs {
            let mut hits: Vec<String> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| fnmatch(&pattern, &e.file_name().to_string_lossy()))
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

/// Shell-style matching of one name: `*`, `?`, `[...]`; a leading `.`
/// must be matched literally, as glob does.
pub(crate) fn fnmatch(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let class: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let class = class.strip_prefix('!').map(|rest| format!("^{rest}")).unwrap_or(class);
                re.push_str(&format!("[{}]", class.replace('\\', "\\\\")));
            }
            c => re.push_str(&::regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    ::regex::Regex::new(&re).map(|r| r.is_match(name)).unwrap_or(false)
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
    use super::fnmatch;

    #[test]
    fn fnmatch_like_glob() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(!fnmatch("*.conf", ".hidden.conf"));
        assert!(fnmatch("file?.[ab]", "file1.b"));
        assert!(!fnmatch("file?.[!ab]", "file1.b"));
    }
}
