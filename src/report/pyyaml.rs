//! YAML as PyYAML's `yaml.dump(data, default_flow_style=False)` writes it,
//! which is what `ansible-inventory --yaml` prints: keys sorted, block style,
//! lists not indented under their key, strings quoted only where a plain
//! scalar would read back as something else.

use serde_json::Value;

pub fn dump(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => mapping(value, 0, &mut out),
        Value::Array(items) if !items.is_empty() => sequence(items, 0, &mut out),
        other => {
            out.push_str(&flow(other));
            out.push('\n');
            if !matches!(other, Value::Object(_) | Value::Array(_)) {
                out.push_str("...\n");
            }
        }
    }
    out
}

fn mapping(value: &Value, indent: usize, out: &mut String) {
    let Value::Object(map) = value else { return };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for key in keys {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar(key));
        out.push(':');
        match &map[key] {
            Value::Object(inner) if vault_text(inner).is_some() => {
                // Ansible's dumper writes vaulted values back as `!vault |` blocks.
                out.push_str(" !vault |\n");
                for line in vault_text(inner).unwrap_or_default().lines() {
                    out.push_str(&format!("{}{line}\n", " ".repeat(indent + 2)));
                }
            }
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                mapping(&map[key], indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                sequence(items, indent, out);
            }
            other => {
                out.push(' ');
                out.push_str(&flow(other));
                out.push('\n');
            }
        }
    }
}

/// `{"__ansible_vault": TEXT}`: a value loaded from `!vault`, shown encrypted.
fn vault_text(map: &serde_json::Map<String, Value>) -> Option<&str> {
    match (map.len(), map.get("__ansible_vault")) {
        (1, Some(Value::String(text))) => Some(text),
        _ => None,
    }
}

fn sequence(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                // The first key goes on the dash's line, the others under it.
                let mut nested = String::new();
                mapping(item, indent + 2, &mut nested);
                out.push_str(nested.trim_start_matches(' '));
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut nested = String::new();
                sequence(inner, indent + 2, &mut nested);
                out.push_str(nested.trim_start_matches(' '));
            }
            other => {
                out.push_str(&flow(other));
                out.push('\n');
            }
        }
    }
}

/// A value on one line: scalars, and the empty `{}` / `[]`.
fn flow(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64().filter(|_| !n.is_i64() && !n.is_u64()) {
            Some(f) => crate::template::py::float_repr(f),
            None => n.to_string(),
        },
        Value::String(s) => scalar(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string plain when PyYAML would leave it so, else single-quoted (double-quoted with control characters).
fn scalar(s: &str) -> String {
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return serde_json::to_string(s).unwrap_or_default();
    }
    if plain_ok(s) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "''").replace('\n', "\n\n"))
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s.starts_with(' ') || s.ends_with(' ') || s.contains('\n') || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) && !(first == '-' && s.len() > 1 && !s.starts_with("- ") && !s.starts_with("---")) {
        return false;
    }
    if s.contains('\t') {
        return false;
    }
    !resolves_to_other_type(s)
}

/// YAML 1.1's implicit types: booleans, null, numbers, timestamps.
fn resolves_to_other_type(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let words = ["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", ".inf", "-.inf", "+.inf", ".nan", "<<", "="];
    if words.contains(&lower.as_str()) {
        return true;
    }
    let number = regex_lite_number(s);
    number || is_timestamp(s)
}

fn regex_lite_number(s: &str) -> bool {
    let re = regex::Regex::new(r"^[-+]?(0b[0-1_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?|[0-9][0-9_]*|0[0-7_]+|[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?)$").unwrap_or_else(|_| unreachable!());
    s != "." && s != "_" && re.is_match(s)
}

fn is_timestamp(s: &str) -> bool {
    let re = regex::Regex::new(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}").unwrap_or_else(|_| unreachable!());
    re.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_style_as_pyyaml_writes_it() {
        let v = json!({"all": {"children": {"web": {"hosts": {"w1": {"port": 22, "ntp": ["a", "b"], "on": "yes", "e": {}}}}}}});
        assert_eq!(dump(&v), "all:\n  children:\n    web:\n      hosts:\n        w1:\n          e: {}\n          ntp:\n          - a\n          - b\n          'on': 'yes'\n          port: 22\n");
    }
}
