//! JSON as Python's `json.dumps` writes it (what Ansible's filters, modules
//! and callbacks print): `", "` and `": "` separators, `indent`,
//! `sort_keys`, `ensure_ascii`, floats as Python's `repr`. One writer for
//! the templates' `to_json`, the reporters and the bodies modules send.

use serde_json::Value;

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral
/// values, exponent form outside [1e-4, 1e16).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = exp.strip_prefix('-').map(|d| ('-', d)).unwrap_or(('+', exp));
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// How `json.dumps` lays out its output.
#[derive(Debug, Clone, Copy)]
pub struct JsonStyle {
    /// `None` is one line with `", "` and `": "` separators.
    pub indent: Option<usize>,
    pub sort_keys: bool,
    /// Non-ASCII characters as `\uXXXX` (Python's default); false writes them as they are.
    pub ensure_ascii: bool,
}

impl Default for JsonStyle {
    fn default() -> Self {
        JsonStyle { indent: None, sort_keys: false, ensure_ascii: true }
    }
}

/// Python's `json.dumps`.
pub fn dumps(value: &Value, style: JsonStyle) -> String {
    let mut out = String::new();
    write_json(value, style, 0, &mut out);
    out
}

fn write_json(value: &Value, style: JsonStyle, depth: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&json_number(n)),
        Value::String(s) => json_string(s, style.ensure_ascii, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separator(style, depth + 1, i == 0, out);
                write_json(item, style, depth + 1, out);
            }
            closing(style, depth, out);
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            if style.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                separator(style, depth + 1, i == 0, out);
                json_string(k, style.ensure_ascii, out);
                out.push_str(": ");
                write_json(v, style, depth + 1, out);
            }
            closing(style, depth, out);
            out.push('}');
        }
    }
}

fn separator(style: JsonStyle, depth: usize, first: bool, out: &mut String) {
    match style.indent {
        Some(width) => {
            if !first {
                out.push(',');
            }
            out.push('\n');
            out.push_str(&" ".repeat(width * depth));
        }
        None if !first => out.push_str(", "),
        None => {}
    }
}

fn closing(style: JsonStyle, depth: usize, out: &mut String) {
    if let Some(width) = style.indent {
        out.push('\n');
        out.push_str(&" ".repeat(width * depth));
    }
}

fn json_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() => {
            if f.is_nan() {
                "NaN".into()
            } else if f.is_infinite() {
                if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
            } else {
                float_repr(f)
            }
        }
        _ => n.to_string(),
    }
}

fn json_string(s: &str, ensure_ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => escape_char(c, out),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `\uXXXX` for one character (a surrogate pair beyond the BMP).
fn escape_char(c: char, out: &mut String) {
    let mut buf = [0u16; 2];
    for unit in c.encode_utf16(&mut buf) {
        out.push_str(&format!("\\u{unit:04x}"));
    }
}

/// Every non-ASCII character of `text` escaped as ensure_ascii writes it:
/// for JSON text already written (non-ASCII only occurs inside strings).
pub fn escape_non_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            escape_char(c, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dumps_matches_python() {
        let v = json!({"b": [1, 2.5, 1e20], "a": "é\u{1F600}"});
        assert_eq!(dumps(&v, JsonStyle::default()), r#"{"b": [1, 2.5, 1e+20], "a": "\u00e9\ud83d\ude00"}"#);
        let plain = JsonStyle { indent: Some(2), sort_keys: true, ensure_ascii: false };
        assert_eq!(dumps(&v, plain), "{\n  \"a\": \"é\u{1F600}\",\n  \"b\": [\n    1,\n    2.5,\n    1e+20\n  ]\n}");
        assert_eq!(escape_non_ascii("{\"k\": \"é\"}"), r#"{"k": "\u00e9"}"#);
    }
}
