//! Lookups over the task's variables: `vars`, `varnames`.

use super::{term_text, Call};
use crate::template::filters::fail;
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::Error;

/// `lookup('vars', 'name', ..., default=D)`: each variable's value.
pub(super) fn vars(call: &Call, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let default = kwargs.get::<Option<Jinja>>("default")?.filter(|d| !d.is_none());
    let mut out = Vec::new();
    for term in terms {
        let name = term.as_str().ok_or_else(|| fail(format!("Variable name must be 'str' not '{}'.", crate::template::py::type_name(&crate::template::filters::to_json(term)))))?;
        match (call.state.lookup(name).filter(|v| !v.is_undefined()), &default) {
            (Some(value), _) => out.push(value),
            (None, Some(d)) => out.push(d.clone()),
            (None, None) => return Err(fail(format!("No variable named '{name}' was found."))),
        }
    }
    Ok(out)
}

/// `lookup('varnames', 'regex', ...)`: names of the variables each regex
/// finds (anywhere in the name, as Python's `re.search`), sorted.
pub(super) fn varnames(call: &Call, terms: &[Jinja], _: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let mut names: Vec<String> = call.state.known_variables().into_iter().map(|n| n.to_string()).collect();
    names.sort();
    let mut out = Vec::new();
    for term in terms {
        let pattern = term.as_str().ok_or_else(|| fail(format!("Invalid setting identifier, \"{term}\" is not a string, it is a {}", term.kind())))?;
        let re = fancy_regex::Regex::new(pattern).map_err(|e| fail(format!("Unable to use \"{pattern}\" as a search parameter: {}", crate::template::filters::regex::python_error(&e))))?;
        for name in &names {
            if re.is_match(name).map_err(|e| fail(format!("Unable to use \"{pattern}\" as a search parameter: {e}")))? {
                out.push(Jinja::from(name.as_str()));
            }
        }
    }
    Ok(out)
}

/// `lookup('config', NAME, on_missing=error|warn|skip)`: the settings stockman has.
pub(super) fn config(_: &Call, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let on_missing = kwargs.get::<Option<String>>("on_missing")?.unwrap_or_else(|| "error".into());
    if !["error", "warn", "skip"].contains(&on_missing.as_str()) {
        return Err(fail(format!("\"on_missing\" must be a string and one of \"error\", \"warn\" or \"skip\", not {on_missing}")));
    }
    let mut out = Vec::new();
    for term in terms {
        let name = term_text(term)?;
        match setting(&name) {
            Some(value) => out.push(value),
            None if on_missing == "error" => {
                return Err(fail(format!("Unable to find setting {name}: stockman knows only {}", SETTINGS.join(", "))));
            }
            None => {}
        }
    }
    Ok(out)
}

/// The ansible.cfg settings stockman reads (from the environment, as it has no ansible.cfg).
const SETTINGS: &[&str] = &["DEFAULT_ROLES_PATH", "HOST_KEY_CHECKING"];

fn setting(name: &str) -> Option<Jinja> {
    match name {
        "DEFAULT_ROLES_PATH" => {
            let home = std::env::var("HOME").unwrap_or_default();
            let default = format!("{home}/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles");
            let listed = std::env::var("ANSIBLE_ROLES_PATH").unwrap_or(default);
            Some(Jinja::from(listed.split(':').filter(|p| !p.is_empty()).map(str::to_string).collect::<Vec<_>>()))
        }
        "HOST_KEY_CHECKING" => {
            let value = std::env::var("ANSIBLE_HOST_KEY_CHECKING").ok().map(serde_json::Value::String);
            Some(Jinja::from(value.map_or(Some(true), |v| stockman_modules::args::parse_bool(&v)).unwrap_or(true)))
        }
        _ => None,
    }
}
