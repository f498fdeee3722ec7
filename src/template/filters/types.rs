//! Conversions: `bool`, `int`, `float`, `string`, and `ternary`, `mandatory`,
//! `type_debug`.

use super::{py_str, to_json};
use minijinja::value::{Kwargs, Value as Jinja, ValueKind};
use minijinja::{Environment, Error, ErrorKind};
use serde_json::Value;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("bool", to_bool);
    env.add_filter("int", to_int);
    env.add_filter("float", to_float);
    env.add_filter("string", |v: Jinja| py_str(&v));
    env.add_filter("ternary", ternary);
    env.add_filter("mandatory", mandatory);
    env.add_filter("type_debug", type_debug);
}

/// `type_debug`: the Python type's name of a value.
fn type_debug(v: Jinja) -> &'static str {
    match v.kind() {
        _ if super::time::is_datetime(&v) => "datetime",
        ValueKind::Undefined => "Undefined",
        // Kept apart: minijinja's ints past 64 bits have no JSON form.
        ValueKind::Number if v.is_integer() => "int",
        _ => super::py::type_name(&to_json(&v)),
    }
}

/// Ansible's `bool`: yes/on/true/1 and no/off/false/0 in any case; anything
/// else is true only if it equals 1.
pub fn to_bool(v: Jinja) -> bool {
    let text = match to_json(&v) {
        Value::String(s) => s.to_lowercase(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => return n.as_f64() == Some(1.0),
        _ => return false,
    };
    matches!(text.as_str(), "yes" | "on" | "true" | "1")
}

/// Jinja2's `int(default=0, base=10)`: Python's `int(s, base)`, then
/// `int(float(s))`, then the default.
fn to_int(v: Jinja, default: Option<Jinja>, base: Option<u32>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let default = match default {
        Some(d) => d,
        None => kwargs.get::<Option<Jinja>>("default")?.unwrap_or(Jinja::from(0)),
    };
    let base = match base {
        Some(b) => b,
        None => kwargs.get::<Option<u32>>("base")?.unwrap_or(10),
    };
    kwargs.assert_all_used()?;
    let parsed = match to_json(&v) {
        Value::Bool(b) => Some(Jinja::from(b as i64)),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(v.clone()),
        Value::Number(n) => n.as_f64().and_then(float_to_int),
        Value::String(s) => py_int(&s, base).map(Jinja::from).or_else(|| py_float(&s).and_then(float_to_int)),
        _ => None,
    };
    Ok(parsed.unwrap_or(default))
}

fn float_to_int(f: f64) -> Option<Jinja> {
    f.is_finite().then(|| Jinja::from(f.trunc() as i128))
}

/// Python's `int(text, base)`: surrounding whitespace, a sign, `_` between
/// digits and the base's prefix (`0x`, `0o`, `0b`) are accepted.
fn py_int(text: &str, base: u32) -> Option<i128> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let prefix = match base {
        16 => Some("0x"),
        8 => Some("0o"),
        2 => Some("0b"),
        _ => None,
    };
    let t = match prefix {
        Some(p) if t.len() > 2 && t[..2].eq_ignore_ascii_case(p) => t[2..].strip_prefix('_').unwrap_or(&t[2..]),
        _ => t,
    };
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    let n = i128::from_str_radix(&digits, base).ok()?;
    Some(if negative { -n } else { n })
}

/// Python's `float(text)`.
pub(crate) fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return lower.parse::<f64>().ok().or(Some(if lower.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }));
    }
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let plain: String = t.chars().filter(|c| *c != '_').collect();
    if !plain.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) {
        return None;
    }
    plain.parse::<f64>().ok()
}

/// Jinja2's `float(default=0.0)`.
fn to_float(v: Jinja, default: Option<Jinja>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let default = match default {
        Some(d) => d,
        None => kwargs.get::<Option<Jinja>>("default")?.unwrap_or(Jinja::from(0.0)),
    };
    kwargs.assert_all_used()?;
    let parsed = match to_json(&v) {
        Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => py_float(&s),
        _ => None,
    };
    Ok(parsed.map(Jinja::from).unwrap_or(default))
}

/// `value | ternary(yes, no, none_val)`: `none_val` only for a null value.
fn ternary(v: Jinja, yes: Jinja, no: Jinja, none_val: Option<Jinja>) -> Jinja {
    match none_val {
        Some(n) if v.is_none() && !n.is_none() => n,
        _ if v.is_true() => yes,
        _ => no,
    }
}

fn mandatory(v: &Jinja, msg: Option<String>) -> Result<Jinja, Error> {
    if !v.is_undefined() {
        return Ok(v.clone());
    }
    let message = msg.unwrap_or_else(|| "Mandatory variable not defined.".into());
    Err(Error::new(ErrorKind::UndefinedError, message))
}

/// Used by `truthy(convert_bool=True)`: Ansible's `boolean()` on known
/// strings, the value itself otherwise.
pub(crate) fn is_bool_like(v: &Jinja) -> Option<bool> {
    let text = match v.kind() {
        ValueKind::String => v.as_str()?.to_lowercase(),
        ValueKind::Bool | ValueKind::Number => v.to_string().to_lowercase(),
        _ => return None,
    };
    match text.as_str() {
        "yes" | "on" | "1" | "true" | "y" | "t" | "1.0" => Some(true),
        "no" | "off" | "0" | "false" | "n" | "f" | "0.0" => Some(false),
        _ => None,
    }
}
