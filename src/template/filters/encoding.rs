//! Serialization filters: JSON and YAML both ways, and base64.

use super::py::{json_dumps, JsonStyle};
use super::yaml_emit::{dump, Layout};
use super::{fail, from_json, py_str, to_json};
use base64::Engine;
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::{Environment, Error};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("to_json", to_json_filter);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json_filter);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_nice_yaml);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("from_yaml_all", from_yaml_all);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
}

/// `json.dumps(value, indent=None, sort_keys=False)`.
fn to_json_filter(v: Jinja, kwargs: Kwargs) -> Result<String, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?;
    let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    Ok(json_dumps(&to_json(&v), JsonStyle { indent, sort_keys, ensure_ascii: true }))
}

/// `to_json(indent=4, sort_keys=True)`.
fn to_nice_json(v: Jinja, indent: Option<usize>, kwargs: Kwargs) -> Result<String, Error> {
    let indent = indent.or(kwargs.get::<Option<usize>>("indent")?).unwrap_or(4);
    let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    Ok(json_dumps(&to_json(&v), JsonStyle { indent: Some(indent), sort_keys, ensure_ascii: true }))
}

fn from_json_filter(s: String) -> Result<Jinja, Error> {
    let v: serde_json::Value = serde_json::from_str(&s).map_err(|e| fail(format!("from_json: the input is not valid JSON: {e}")))?;
    Ok(from_json(&v))
}

fn to_yaml(v: Jinja, kwargs: Kwargs) -> Result<String, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(2);
    let all_block = kwargs.get::<Option<bool>>("default_flow_style")? == Some(false);
    kwargs.assert_all_used()?;
    Ok(dump(&to_json(&v), Layout::new(indent, all_block)))
}

fn to_nice_yaml(v: Jinja, indent: Option<usize>, kwargs: Kwargs) -> Result<String, Error> {
    let indent = indent.or(kwargs.get::<Option<usize>>("indent")?).unwrap_or(4);
    kwargs.assert_all_used()?;
    Ok(dump(&to_json(&v), Layout::new(indent, true)))
}

/// Parses YAML with the same reader as playbooks (YAML 1.1 booleans,
/// octals); non-string input is returned unchanged, as Ansible does.
fn from_yaml(v: Jinja) -> Result<Jinja, Error> {
    let Some(text) = v.as_str() else {
        return Ok(v);
    };
    let node = crate::yaml::parse_str(text, "<from_yaml>".into()).map_err(|e| fail(format!("from_yaml: {e}")))?;
    Ok(from_json(&node.to_json()))
}

/// `from_yaml_all`: every document of a YAML stream, as a list (none and
/// `''` give an empty list); non-string input is returned unchanged.
fn from_yaml_all(v: Jinja) -> Result<Jinja, Error> {
    if v.is_none() {
        return Ok(Jinja::from(Vec::<Jinja>::new()));
    }
    let Some(text) = v.as_str() else {
        return Ok(v);
    };
    let mut docs = Vec::new();
    for doc in yaml_documents(text) {
        let node = crate::yaml::parse_str(&doc, "<from_yaml_all>".into()).map_err(|e| fail(format!("from_yaml_all: {e}")))?;
        docs.push(from_json(&node.to_json()));
    }
    Ok(Jinja::from(docs))
}

/// A YAML stream cut into its documents at the markers YAML allows only at
/// the start of a line (`---` opens a document, `...` closes one); text
/// before the first `---` is a document only if it holds more than
/// comments, a `---` always opens one (empty: null).
fn yaml_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut opened = false;
    let has_content = |doc: &str| doc.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.starts_with('%'));
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if let Some(rest) = marker(bare, "---") {
            if opened || has_content(&current) {
                docs.push(std::mem::take(&mut current));
            }
            current = format!("{rest}\n");
            opened = true;
        } else if marker(bare, "...").is_some() {
            if opened || has_content(&current) {
                docs.push(std::mem::take(&mut current));
            }
            current.clear();
            opened = false;
        } else {
            current.push_str(line);
        }
    }
    if opened || has_content(&current) {
        docs.push(current);
    }
    docs
}

/// The rest of a line after a document marker, if it starts with one.
fn marker<'a>(line: &'a str, m: &str) -> Option<&'a str> {
    line.strip_prefix(m).filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

fn b64encode(v: Jinja, kwargs: Kwargs) -> Result<String, Error> {
    let urlsafe = kwargs.get::<Option<bool>>("urlsafe")?.unwrap_or(false);
    let _encoding = kwargs.get::<Option<String>>("encoding")?;
    kwargs.assert_all_used()?;
    let bytes = py_str(&v).into_bytes();
    Ok(if urlsafe { base64::engine::general_purpose::URL_SAFE.encode(bytes) } else { base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// Python's lenient `b64decode`: characters outside the alphabet are
/// dropped before decoding.
fn b64decode(v: String, kwargs: Kwargs) -> Result<String, Error> {
    let urlsafe = kwargs.get::<Option<bool>>("urlsafe")?.unwrap_or(false);
    let _encoding = kwargs.get::<Option<String>>("encoding")?;
    kwargs.assert_all_used()?;
    let extra = if urlsafe { ['-', '_'] } else { ['+', '/'] };
    let clean: String = v.chars().filter(|c| c.is_ascii_alphanumeric() || extra.contains(c) || *c == '=').collect();
    let engine = if urlsafe { base64::engine::general_purpose::URL_SAFE } else { base64::engine::general_purpose::STANDARD };
    let bytes = engine.decode(clean.as_bytes()).map_err(|e| fail(format!("b64decode: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_streams_split_into_documents() {
        assert_eq!(yaml_documents("a: 1\n---\nb: 2\n"), vec!["a: 1\n", "\nb: 2\n"]);
        assert_eq!(yaml_documents("# c\n--- 1\n...\n---\n"), vec![" 1\n", "\n"]);
        assert!(yaml_documents("").is_empty());
        let docs = from_yaml_all(Jinja::from("---\na: 1\n--- [x]\n---\n")).unwrap();
        assert_eq!(docs.to_string(), "[{'a': 1}, ['x'], None]");
        assert_eq!(from_yaml_all(Jinja::from(())).unwrap().len(), Some(0));
    }
}
