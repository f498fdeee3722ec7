//! Ansible's conversions of an argument to its declared type
//! (module_utils' `check_type_*`): what a module receives is the converted
//! value (`force: "yes"` arrives as `true`, `paths: "a,b"` as a list), and a
//! value that does not convert is the reason Ansible gives.

use serde_json::{Map, Number, Value};

use crate::args::value_to_string;
use crate::spec::ParamType;

/// `value` as `ty`, or why it cannot be (Ansible's text after "unable to convert to TY: ").
pub fn to_type(ty: ParamType, value: &Value) -> Result<Value, String> {
    match ty {
        ParamType::Raw => Ok(value.clone()),
        ParamType::Str | ParamType::Path => Ok(to_str(value)),
        ParamType::Bool => to_bool(value).map(Value::Bool),
        ParamType::Int => to_int(value),
        ParamType::Float => to_float(value),
        ParamType::List => to_list(value),
        ParamType::Dict => to_dict(value),
    }
}

/// Python's name of the value's type, for "argument 'x' is of type TYPE".
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "str",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
        Value::Null => "NoneType",
    }
}

/// `<class 'list'>`: how Python's `type(value)` prints.
fn class(value: &Value) -> String {
    format!("<class '{}'>", type_name(value))
}

/// Scalars become their string spelling (`3` → `"3"`, `true` → `"True"`);
/// lists and mappings are left for the module (Python would print their repr).
fn to_str(value: &Value) -> Value {
    match value {
        Value::Number(_) | Value::Bool(_) => Value::String(value_to_string(value)),
        other => other.clone(),
    }
}

/// Ansible's strict boolean: these spellings (any case, trimmed) and 1/0.
const TRUE: &[&str] = &["y", "yes", "on", "1", "true", "t"];
const FALSE: &[&str] = &["n", "no", "off", "0", "false", "f"];

/// The valid spellings as Ansible lists them (its set's order varies per run).
const VALID_BOOLEANS: &str = "'y', 'yes', 'on', '1', 'true', 't', 1, 'n', 'no', 'off', '0', 'false', 'f', 0";

fn to_bool(value: &Value) -> Result<bool, String> {
    let text = match value {
        Value::Bool(b) => return Ok(*b),
        Value::Number(n) if n.as_f64() == Some(1.0) => return Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => return Ok(false),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => return Err(format!("{} cannot be converted to a bool", class(other))),
    };
    let normal = text.trim().to_lowercase();
    if TRUE.contains(&normal.as_str()) {
        Ok(true)
    } else if FALSE.contains(&normal.as_str()) {
        Ok(false)
    } else {
        Err(format!("The value '{text}' is not a valid boolean. Valid booleans include: {VALID_BOOLEANS}"))
    }
}

/// Integers, and numbers or numeric strings without a fractional part
/// (`"3"`, `"3.0"`, `1e3`), as Python's Decimal reads them.
fn to_int(value: &Value) -> Result<Value, String> {
    let whole = |f: f64| (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then(|| Value::Number(Number::from(f as i64)));
    let converted = match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(value.clone()),
        Value::Number(n) => n.as_f64().and_then(whole),
        Value::Bool(b) => Some(Value::Number(Number::from(*b as i64))),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().map(|i| Value::Number(Number::from(i))).or_else(|| decimal(t).and_then(whole))
        }
        _ => None,
    };
    converted.ok_or_else(|| format!("\"{}\" cannot be converted to an int", py_repr(value)))
}

/// A decimal literal as Python's Decimal accepts it (no hex, no words).
fn decimal(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    plain.then(|| text.parse::<f64>().ok()).flatten()
}

fn to_float(value: &Value) -> Result<Value, String> {
    let f = match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    f.and_then(Number::from_f64).map(Value::Number).ok_or_else(|| format!("{} cannot be converted to a float", class(value)))
}

/// A list as is; a string split on commas (items not trimmed, as in
/// Ansible); a number or boolean as a one-item list of its spelling.
fn to_list(value: &Value) -> Result<Value, String> {
    match value {
        Value::Array(_) => Ok(value.clone()),
        Value::String(s) => Ok(Value::Array(s.split(',').map(|item| Value::String(item.to_string())).collect())),
        Value::Number(_) | Value::Bool(_) => Ok(Value::Array(vec![Value::String(value_to_string(value))])),
        other => Err(format!("{} cannot be converted to a list", class(other))),
    }
}

/// A mapping as is; a string of JSON (`{...}`) or of `k=v` pairs separated by
/// commas or spaces (quotes and backslashes group, as in Ansible).
fn to_dict(value: &Value) -> Result<Value, String> {
    let text = match value {
        Value::Object(_) => return Ok(value.clone()),
        Value::String(s) => s,
        other => return Err(format!("{} cannot be converted to a dict", class(other))),
    };
    if text.starts_with('{') {
        return match serde_json::from_str::<Value>(text) {
            Ok(parsed @ Value::Object(_)) => Ok(parsed),
            _ => Err("unable to evaluate string as dictionary".into()),
        };
    }
    if !text.contains('=') {
        return Err("dictionary requested, could not parse JSON or key=value".into());
    }
    let mut dict = Map::new();
    for field in kv_fields(text.trim()) {
        let (key, v) = field.split_once('=').ok_or("unable to evaluate string in the \"key=value\" format as dictionary")?;
        dict.insert(key.to_string(), Value::String(v.to_string()));
    }
    Ok(Value::Object(dict))
}

/// The fields of a `k1=v1, k2="v 2"` string: split on commas and spaces
/// outside quotes; quotes dropped, a backslash keeps the next character.
fn kv_fields(text: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match c {
            _ if escaped => {
                field.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            '\'' | '"' if quote.is_none() => quote = Some(c),
            _ if quote == Some(c) => quote = None,
            ',' | ' ' if quote.is_none() => {
                if !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                }
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() {
        fields.push(field);
    }
    fields
}

/// Python's `repr` of a scalar, for the int conversion's message (`'abc'`).
pub(crate) fn py_repr(value: &Value) -> String {
    match value {
        Value::String(s) if s.contains('\'') && !s.contains('"') => format!("\"{s}\""),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        other => value_to_string(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bools_take_ansibles_spellings_only() {
        for yes in [json!("yes"), json!(" True "), json!("on"), json!(1), json!("y"), json!(true)] {
            assert_eq!(to_type(ParamType::Bool, &yes), Ok(json!(true)), "{yes}");
        }
        for no in [json!("no"), json!("OFF"), json!(0), json!("0"), json!("f")] {
            assert_eq!(to_type(ParamType::Bool, &no), Ok(json!(false)), "{no}");
        }
        let bad = to_type(ParamType::Bool, &json!("maybe")).unwrap_err();
        assert!(bad.starts_with("The value 'maybe' is not a valid boolean. Valid booleans include: 'y', "), "{bad}");
        assert!(to_type(ParamType::Bool, &json!("")).is_err(), "Ansible's bool is strict");
        assert_eq!(to_type(ParamType::Bool, &json!([1])).unwrap_err(), "<class 'list'> cannot be converted to a bool");
    }

    #[test]
    fn ints_from_numbers_and_whole_decimal_strings() {
        assert_eq!(to_type(ParamType::Int, &json!("3")), Ok(json!(3)));
        assert_eq!(to_type(ParamType::Int, &json!(" -4 ")), Ok(json!(-4)));
        assert_eq!(to_type(ParamType::Int, &json!("3.0")), Ok(json!(3)));
        assert_eq!(to_type(ParamType::Int, &json!(2.0)), Ok(json!(2)));
        assert_eq!(to_type(ParamType::Int, &json!("abc")).unwrap_err(), "\"'abc'\" cannot be converted to an int");
        assert_eq!(to_type(ParamType::Int, &json!("3.5")).unwrap_err(), "\"'3.5'\" cannot be converted to an int");
        assert_eq!(to_type(ParamType::Int, &json!(3.5)).unwrap_err(), "\"3.5\" cannot be converted to an int");
        assert!(to_type(ParamType::Int, &json!("0x10")).is_err());
    }

    #[test]
    fn floats_and_strings() {
        assert_eq!(to_type(ParamType::Float, &json!("1.5")), Ok(json!(1.5)));
        assert_eq!(to_type(ParamType::Float, &json!(2)), Ok(json!(2.0)));
        assert_eq!(to_type(ParamType::Float, &json!("x")).unwrap_err(), "<class 'str'> cannot be converted to a float");
        assert_eq!(to_type(ParamType::Str, &json!(3)), Ok(json!("3")));
        assert_eq!(to_type(ParamType::Path, &json!(true)), Ok(json!("True")));
        assert_eq!(to_type(ParamType::Raw, &json!({"a": 1})), Ok(json!({"a": 1})));
    }

    #[test]
    fn lists_split_strings_on_commas_without_trimming() {
        assert_eq!(to_type(ParamType::List, &json!("a, b,c")), Ok(json!(["a", " b", "c"])));
        assert_eq!(to_type(ParamType::List, &json!(5)), Ok(json!(["5"])));
        assert_eq!(to_type(ParamType::List, &json!(["x"])), Ok(json!(["x"])));
        assert_eq!(to_type(ParamType::List, &json!({"a": 1})).unwrap_err(), "<class 'dict'> cannot be converted to a list");
    }

    #[test]
    fn dicts_from_json_and_key_value_strings() {
        assert_eq!(to_type(ParamType::Dict, &json!("a=1, b='x y' c=\"p,q\"")), Ok(json!({"a": "1", "b": "x y", "c": "p,q"})));
        assert_eq!(to_type(ParamType::Dict, &json!(r#"{"k": [1]}"#)), Ok(json!({"k": [1]})));
        assert_eq!(to_type(ParamType::Dict, &json!("{bad")).unwrap_err(), "unable to evaluate string as dictionary");
        assert_eq!(to_type(ParamType::Dict, &json!("abc")).unwrap_err(), "dictionary requested, could not parse JSON or key=value");
        assert_eq!(to_type(ParamType::Dict, &json!("a=1 b")).unwrap_err(), "unable to evaluate string in the \"key=value\" format as dictionary");
        assert_eq!(to_type(ParamType::Dict, &json!([1])).unwrap_err(), "<class 'list'> cannot be converted to a dict");
    }
}
