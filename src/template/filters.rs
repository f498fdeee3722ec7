//! Ansible's filters and tests that minijinja does not ship. The full set is
//! the playbook-language issue's; these are what the first modules need.

use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::{Environment, Error, ErrorKind};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("bool", to_bool);
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json);
    env.add_filter("basename", |p: String| p.rsplit('/').next().unwrap_or_default().to_string());
    env.add_filter("dirname", |p: String| p.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default());
    env.add_filter("quote", |s: String| stockman_modules::shell::quote(&s));
    env.add_filter("ternary", |v: Jinja, yes: Jinja, no: Jinja| if v.is_true() { yes } else { no });
    env.add_filter("mandatory", mandatory);
    for (name, key) in [("failed", "failed"), ("changed", "changed"), ("skipped", "skipped")] {
        env.add_test(name, move |v: Jinja| v.get_attr(key).map(|f| f.is_true()).unwrap_or(false));
    }
    env.add_test("succeeded", |v: Jinja| !v.get_attr("failed").map(|f| f.is_true()).unwrap_or(false));
    env.add_test("success", |v: Jinja| !v.get_attr("failed").map(|f| f.is_true()).unwrap_or(false));
}

fn to_bool(v: Jinja) -> bool {
    let json = serde_json::to_value(&v).unwrap_or_default();
    stockman_modules::args::parse_bool(&json).unwrap_or(false)
}

fn to_json(v: Jinja) -> Result<String, Error> {
    serde_json::to_string(&v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

fn to_nice_json(v: Jinja, kwargs: Kwargs) -> Result<String, Error> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    kwargs.assert_all_used()?;
    let json = serde_json::to_value(&v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let pad = " ".repeat(indent);
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&json, &mut ser).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn from_json(s: String) -> Result<Jinja, Error> {
    let v: serde_json::Value = serde_json::from_str(&s).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(Jinja::from(minijinja::value::Serde(&v)))
}

fn mandatory(v: Jinja) -> Result<Jinja, Error> {
    if v.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "Mandatory variable not defined."));
    }
    Ok(v)
}
