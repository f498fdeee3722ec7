//! Lookups that read the controller: `first_found`, `lines`, `pipe`, `unvault`.

use super::{search, term_text, Call};
use crate::template::filters::{fail, to_json};
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::Error;
use serde_json::Value;
use std::path::PathBuf;

/// `first_found`'s options: from the keyword arguments, then replaced as a
/// whole by each mapping term (as Ansible's `set_options` does).
#[derive(Default, Clone)]
struct FirstFound {
    files: Vec<String>,
    paths: Vec<String>,
    skip: bool,
}

impl FirstFound {
    fn from_options(get: impl Fn(&str) -> Option<Value>) -> Result<Self, Error> {
        let list = |name: &str| -> Result<Vec<String>, Error> {
            match get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(vec![s]),
                Some(Value::Array(items)) => items.iter().map(|v| string_of(name, v)).collect(),
                Some(other) => Err(fail(format!("first_found: `{name}` must be a list of strings, got {}", crate::template::py::to_str(&other)))),
            }
        };
        let skip = match get("skip") {
            None | Some(Value::Null) => false,
            Some(v) => stockman_modules::args::parse_bool(&v)
                .ok_or_else(|| fail(format!("first_found: `skip` must be a boolean, got {}", crate::template::py::to_str(&v))))?,
        };
        Ok(Self { files: list("files")?, paths: list("paths")?, skip })
    }
}

fn string_of(option: &str, v: &Value) -> Result<String, Error> {
    v.as_str().map(str::to_string).ok_or_else(|| fail(format!("first_found: `{option}` must hold strings, got {}", crate::template::py::to_str(v))))
}

/// `lookup('first_found', terms, files=, paths=, skip=)`: the absolute path of
/// the first file that exists, searched as Ansible's `find_file_in_search_path`
/// (under `files/`, `templates/` or `vars/` only as `with_first_found:`).
pub(super) fn first_found(call: &Call, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let mut options = FirstFound::from_options(|name| kwargs.get::<Option<Jinja>>(name).ok().flatten().map(|v| to_json(&v)))?;
    let terms: Vec<Value> = match terms {
        [] => options.files.iter().cloned().map(Value::String).collect(),
        _ => terms.iter().map(to_json).collect(),
    };
    let mut candidates = Vec::new();
    for term in &terms {
        collect_candidates(term, &mut options, &mut candidates)?;
    }
    let subdir = call.with_action.map(with_subdir);
    for candidate in &candidates {
        if let Ok(found) = search::find(call.state, subdir, candidate) {
            return Ok(vec![Jinja::from(found.display().to_string())]);
        }
    }
    if options.skip {
        return Ok(Vec::new());
    }
    Err(fail("No file was found when using first_found."))
}

/// The names one term asks for, in order: files joined to each path when
/// `paths` are given. Strings with `,` or `;` (paths also `:`) hold several.
fn collect_candidates(term: &Value, options: &mut FirstFound, out: &mut Vec<String>) -> Result<(), Error> {
    let files = match term {
        Value::Object(map) => {
            *options = FirstFound::from_options(|name| map.get(name).cloned())?;
            options.files.clone()
        }
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => {
            for item in items {
                collect_candidates(item, options, out)?;
            }
            return Ok(());
        }
        other => {
            let kind = crate::template::py::type_name(other);
            return Err(fail(format!("Invalid term supplied. A string, dict or list is required, not '{kind}').")));
        }
    };
    let files: Vec<&str> = files.iter().flat_map(|f| f.split([',', ';'])).collect();
    let paths: Vec<&str> = options.paths.iter().flat_map(|p| p.split([',', ':', ';'])).collect();
    if paths.is_empty() {
        out.extend(files.iter().map(|f| f.to_string()));
    } else {
        for path in &paths {
            out.extend(files.iter().map(|f| PathBuf::from(path).join(f).display().to_string()));
        }
    }
    Ok(())
}

/// The directory `with_first_found` searches first, from the task's action
/// as Ansible picks it: `templates`, `vars`, else `files`.
fn with_subdir(action: &str) -> &'static str {
    ["template", "var"].iter().find(|s| action.contains(**s)).map_or("files", |s| if *s == "template" { "templates" } else { "vars" })
}

/// Runs `term` with `/bin/sh -c` on the controller, in the playbook's directory.
fn controller_command(call: &Call, term: &str) -> Result<(i32, String), Error> {
    let dir = call.state.lookup("playbook_dir").and_then(|v| v.as_str().map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("."));
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(term)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot run /bin/sh on the controller: {e}")))?;
    Ok((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// `lookup('pipe', cmd)`: the command's output, trailing whitespace removed.
pub(super) fn pipe(call: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    command_outputs(call, terms, "pipe", |stdout, out| out.push(Jinja::from(stdout.trim_end())))
}

/// `lookup('lines', cmd)`: one item per line of the command's output.
pub(super) fn lines(call: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    command_outputs(call, terms, "lines", |stdout, out| out.extend(stdout.lines().map(Jinja::from)))
}

/// Runs each term; `shape` turns a successful output into items, a non-zero exit is Ansible's error.
fn command_outputs(call: &Call, terms: &[Jinja], lookup: &str, shape: impl Fn(&str, &mut Vec<Jinja>)) -> Result<Vec<Jinja>, Error> {
    let mut out = Vec::new();
    for term in terms {
        let term = term_text(term)?;
        match controller_command(call, &term)? {
            (0, stdout) => shape(&stdout, &mut out),
            (code, _) => return Err(fail(format!("lookup_plugin.{lookup}({term}) returned {code}"))),
        }
    }
    Ok(out)
}

/// `lookup('unvault', file)`: the file (from `files/`), decrypted when vaulted.
pub(super) fn unvault(call: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let mut out = Vec::new();
    for term in terms {
        let term = term_text(term)?;
        let path = search::find(call.state, Some("files"), &term).map_err(|_| fail(format!("Unable to find file matching \"{term}\" ")))?;
        let bytes = std::fs::read(&path).map_err(|e| fail(format!("Unable to read \"{}\": {e}", path.display())))?;
        let text = if crate::vault::is_vault(&bytes) {
            crate::vault::decrypt_loaded(&bytes).map_err(|e| fail(format!("{}: {e}", path.display())))?.to_string()
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        out.push(Jinja::from(text));
    }
    Ok(out)
}
