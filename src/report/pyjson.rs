//! JSON as Python's `json.dumps(sort_keys=True)` writes it, which is what
//! ansible-playbook prints after `=>`: `", "` and `": "` separators when
//! compact, 4-space indents otherwise, keys sorted at every level.

use serde_json::Value;

pub fn dumps(value: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write(value, indent, 0, &mut out);
    out
}

fn write(value: &Value, indent: Option<usize>, level: usize, out: &mut String) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separator(i, indent, level + 1, out);
                write(item, indent, level + 1, out);
            }
            close(indent, level, out);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                separator(i, indent, level + 1, out);
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write(&map[key], indent, level + 1, out);
            }
            close(indent, level, out);
            out.push('}');
        }
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        other => out.push_str(&other.to_string()),
    }
}

fn separator(index: usize, indent: Option<usize>, level: usize, out: &mut String) {
    match indent {
        Some(n) => {
            if index > 0 {
                out.push(',');
            }
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
        None if index > 0 => out.push_str(", "),
        None => {}
    }
}

fn close(indent: Option<usize>, level: usize, out: &mut String) {
    if let Some(n) = indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * level));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_matches_python() {
        let v = json!({"msg": "x", "changed": false, "l": [1, "a"], "e": []});
        assert_eq!(dumps(&v, None), r#"{"changed": false, "e": [], "l": [1, "a"], "msg": "x"}"#);
    }

    #[test]
    fn indented_matches_python() {
        let v = json!({"msg": ["a", {"b": 1}]});
        assert_eq!(dumps(&v, Some(4)), "{\n    \"msg\": [\n        \"a\",\n        {\n            \"b\": 1\n        }\n    ]\n}");
    }
}
