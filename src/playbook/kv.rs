//! Ansible's `key=value` argument strings (`copy: src=a dest="b c"`, `-e k=v`).

use serde_json::{Map, Value};

/// Splits on unquoted whitespace, keeping quotes and `{{ }}` / `{% %}` blocks
/// intact (so `msg="{{ a }} b"` stays one word).
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quote.is_some() => {
                word.push(c);
                if let Some(n) = chars.next() {
                    word.push(n);
                }
                continue;
            }
            '\'' | '"' if depth == 0 => match quote {
                None => quote = Some(c),
                Some(q) if q == c => quote = None,
                Some(_) => {}
            },
            '{' if matches!(chars.peek(), Some('{' | '%' | '#')) => depth += 1,
            '}' | '%' | '#' if depth > 0 && chars.peek() == Some(&'}') && c != '{' => {
                depth -= 1;
                word.push(c);
                word.push(chars.next().unwrap_or('}'));
                continue;
            }
            c if c.is_whitespace() && quote.is_none() && depth == 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if let Some(q) = quote {
        return Err(format!("unbalanced quote {q} in: {text}"));
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// Removes one pair of matching outer quotes and their backslash escapes.
fn unquote(value: &str) -> String {
    let bytes = value.as_bytes();
    if bytes.len() >= 2 && (bytes[0] == b'"' || bytes[0] == b'\'') && bytes[bytes.len() - 1] == bytes[0] {
        let inner = &value[1..value.len() - 1];
        let q = bytes[0] as char;
        return inner.replace(&format!("\\{q}"), &q.to_string()).replace("\\\\", "\\");
    }
    value.to_string()
}

/// Parses `k=v` words into a map. Words that are not `k=v` (or whose key is
/// not accepted by `is_param`) are joined into `_raw_params` when `free_form`,
/// else they are an error.
pub fn parse_kv(text: &str, free_form: bool, is_param: impl Fn(&str) -> bool) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    let mut raw = Vec::new();
    for word in split_args(text)? {
        match word.split_once('=') {
            Some((key, value)) if is_identifier(key) && (!free_form || is_param(key)) => {
                map.insert(key.to_string(), Value::String(unquote(value)));
            }
            _ if free_form => raw.push(word),
            _ => return Err(format!("`{word}` is not of the form key=value")),
        }
    }
    if !raw.is_empty() {
        map.insert("_raw_params".into(), Value::String(raw.join(" ")));
    }
    Ok(map)
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_respecting_quotes_and_jinja() {
        let words = split_args(r#"dest=/tmp/x content="a b" msg={{ x | default('y z') }}"#).unwrap();
        assert_eq!(words, vec!["dest=/tmp/x", "content=\"a b\"", "msg={{ x | default('y z') }}"]);
    }

    #[test]
    fn kv_unquotes_values() {
        let map = parse_kv(r#"src=a dest="b c" mode='0644'"#, false, |_| true).unwrap();
        assert_eq!(map["dest"], "b c");
        assert_eq!(map["mode"], "0644");
    }

    #[test]
    fn free_form_keeps_unknown_words_raw() {
        let map = parse_kv("echo a=b creates=/tmp/x", true, |k| k == "creates").unwrap();
        assert_eq!(map["_raw_params"], "echo a=b");
        assert_eq!(map["creates"], "/tmp/x");
    }

    #[test]
    fn unbalanced_quotes_are_errors() {
        assert!(split_args("a='b").is_err());
    }
}
