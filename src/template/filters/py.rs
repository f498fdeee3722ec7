//! Python's renderings of plain data: `str()`, `repr()` and `json.dumps`.
//!
//! Ansible's filters are Python functions, so what users see (`True`,
//! `['a', 'b']`, `{"a": 1}` with a space) is Python's formatting.

use serde_json::Value;

/// Python's name for the type of a value (`type(x).__name__`), for Ansible's messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `str(value)`: strings as they are, everything else as `repr`.
pub fn to_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// Python's `repr(value)` of JSON-like data.
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(value, &mut out);
    out
}

fn write_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => out.push_str(&str_repr(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_repr(k));
                out.push_str(": ");
                write_repr(v, out);
            }
            out.push('}');
        }
    }
}

fn number(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(f)) => float_repr(f),
        _ => n.to_string(),
    }
}


/// Python's `repr(str)`: single quotes unless the text holds one and no
/// double quote.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

pub use stockman_modules::pyjson::{float_repr, dumps as json_dumps, JsonStyle};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repr_matches_python() {
        assert_eq!(repr(&json!([1, "a", true, null, 1.5, {"k": "it's"}])), r#"[1, 'a', True, None, 1.5, {'k': "it's"}]"#);
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(0.00001), "1e-05");
    }

    #[test]
    fn str_of_item_labels_matches_python() {
        assert_eq!(to_str(&json!("web")), "web");
        assert_eq!(to_str(&json!({"key": "a", "value": 1})), "{'key': 'a', 'value': 1}");
        assert_eq!(to_str(&json!([true, null, "it's"])), "[True, None, \"it's\"]");
        assert_eq!(to_str(&json!(["say \"it's\"", "a\tb"])), "['say \"it\\'s\"', 'a\\tb']");
    }

    #[test]
    fn json_dumps_matches_python() {
        let v = json!({"b": [1, 2], "a": "é"});
        assert_eq!(json_dumps(&v, JsonStyle::default()), r#"{"b": [1, 2], "a": "\u00e9"}"#);
        let nice = json_dumps(&v, JsonStyle { indent: Some(2), sort_keys: true, ensure_ascii: true });
        assert_eq!(nice, "{\n  \"a\": \"\\u00e9\",\n  \"b\": [\n    1,\n    2\n  ]\n}");
    }
}
