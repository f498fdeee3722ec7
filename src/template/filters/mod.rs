//! Ansible's filters, with Ansible's semantics where minijinja's built-in of
//! the same name differs (`int`, `bool`, `string`, `join`, `unique`, ...).
//!
//! Layout: `types` (conversions), `strings`, `lists`, `dicts`, `encoding`
//! (JSON, YAML, base64), `regex`, `hash`, `version`, `random`, `time` (`now()`,
//! `strftime`), `vault`, `paths` (`os.path`), `math`, `urls`, `jinja_builtins`
//! (Jinja2's filters minijinja lacks); `py` holds
//! Python's renderings (`str`, `repr`, `json.dumps`) the others share.

use minijinja::value::Value as Jinja;
use minijinja::{Environment, Error, ErrorKind};
use serde_json::Value;

mod dicts;
mod encoding;
pub(crate) mod hash;
mod jinja_builtins;
pub(crate) mod lists;
mod math;
mod paths;
pub(crate) mod py;
mod random;
pub(crate) mod regex;
mod strings;
mod time;
pub(crate) mod types;
pub(crate) mod urls;
mod vault;
pub(crate) mod version;
pub(crate) mod yaml_emit;

pub fn register(env: &mut Environment<'static>) {
    types::register(env);
    strings::register(env);
    lists::register(env);
    dicts::register(env);
    encoding::register(env);
    regex::register(env);
    hash::register(env);
    version::register(env);
    random::register(env);
    time::register(env);
    vault::register(env);
    paths::register(env);
    math::register(env);
    urls::register(env);
    jinja_builtins::register(env);
}

/// The plain data inside a template value.
pub(crate) fn to_json(v: &Jinja) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A template value holding plain data.
pub(crate) fn from_json(v: &Value) -> Jinja {
    Jinja::from(minijinja::value::Serde(v))
}

/// A dict of these entries, in this order; keys keep their types (an int
/// key stays an int).
pub(crate) fn dict(entries: Vec<(Jinja, Jinja)>) -> Jinja {
    Jinja::from(minijinja::value::Serde(&Entries(entries)))
}

struct Entries(Vec<(Jinja, Jinja)>);

impl serde::Serialize for Entries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Whether an object is data (a datetime) rather than something to call.
pub(crate) fn is_data_object(v: &Jinja) -> bool {
    time::is_datetime(v)
}

/// A filter failure with Ansible-like wording.
pub(crate) fn fail(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Python's `str()` of a template value.
pub(crate) fn py_str(v: &Jinja) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => py::to_str(&to_json(v)),
    }
}

/// `item.a.b` or `item.0` as Jinja's `attribute=` arguments read it.
pub(crate) fn attr_path(item: &Jinja, path: &str) -> Result<Jinja, Error> {
    let mut v = item.clone();
    for part in path.split('.') {
        v = match part.parse::<i64>() {
            Ok(i) if v.kind() == minijinja::value::ValueKind::Seq => v.get_item(&Jinja::from(i))?,
            _ => v.get_attr(part)?,
        };
    }
    Ok(v)
}

/// Python's `item in container`: substrings of a string, keys of a dict,
/// items of a list.
pub(crate) fn contains(container: &Jinja, item: &Jinja) -> bool {
    if let (Some(s), Some(sub)) = (container.as_str(), item.as_str()) {
        return s.contains(sub);
    }
    container.try_iter().map(|mut it| it.any(|x| &x == item)).unwrap_or(false)
}

/// Writes a value into template output as Ansible does: [`output_text`].
pub(crate) fn format_like_python(out: &mut minijinja::Output, _state: &mut minijinja::State, value: &Jinja) -> Result<(), Error> {
    // Every piece of output is a point where a growing render is stopped.
    crate::template::budget::check()?;
    out.write_str(&output_text(value)?).map_err(|e| fail(format!("cannot write template output: {e}")))
}

/// The text a value writes into template output: Python's `str()`
/// (`True`, `['a', 1]`), and nothing for none.
pub(crate) fn output_text(value: &Jinja) -> Result<String, Error> {
    if value.is_none() {
        return Ok(String::new());
    }
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "undefined value in output"));
    }
    Ok(py_str(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_reads_like_python() {
        let mut env = Environment::new();
        env.set_formatter(format_like_python);
        let text = env.render_str("v={{ true }} {{ xs }} {{ n }}|", minijinja::context! { xs => vec![Jinja::from(1), Jinja::from("a")], n => () });
        assert_eq!(text.unwrap(), "v=True [1, 'a'] |");
    }
}
