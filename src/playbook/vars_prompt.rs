//! A play's `vars_prompt:` entries, validated at load time as Ansible does
//! (a `name` each, only the keys Ansible knows). Asking happens in the
//! executor, just before the play runs.

use serde_json::Value;

use super::load::{err, LoadError};
use crate::yaml::{Node, Span};

/// The keys Ansible accepts in a `vars_prompt` entry.
const KEYS: &[&str] = &["name", "prompt", "default", "private", "confirm", "encrypt", "salt_size", "salt", "unsafe"];

/// One variable to ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct VarPrompt {
    pub name: String,
    /// The question; Ansible asks `input for NAME: ` without one.
    pub prompt: Option<String>,
    /// Used when the answer is empty, or when there is no terminal to ask on.
    pub default: Option<Value>,
    /// Don't echo the answer (Ansible's default: true).
    pub private: bool,
    /// Ask twice; the answers must match.
    pub confirm: bool,
    /// Store a crypt(3) hash of the answer instead (`sha512_crypt`, `sha256_crypt`).
    pub encrypt: Option<String>,
    pub salt_size: Option<usize>,
    pub salt: Option<String>,
    /// Accepted for compatibility: answers are never templated here either way.
    pub r#unsafe: bool,
    pub span: Span,
}

/// The entries of `vars_prompt:` (none when absent).
pub fn load(node: Option<&Node>) -> Result<Vec<VarPrompt>, LoadError> {
    let Some(node) = node.filter(|n| !n.is_null()) else { return Ok(Vec::new()) };
    let items = node.as_seq().ok_or_else(|| err(node, "Invalid vars_prompt data structure: expected a list of entries such as `- name: password`"))?;
    items.iter().map(entry).collect()
}

fn entry(node: &Node) -> Result<VarPrompt, LoadError> {
    let map = node.as_map().ok_or_else(|| err(node, format!("Invalid vars_prompt data structure: each entry must be a mapping, found {}", node.kind_name())))?;
    for (key, _) in map {
        let name = key.display_key();
        if !KEYS.contains(&name.as_str()) {
            let hint = super::did_you_mean(&name, KEYS.iter().copied()).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            return Err(err(key, format!("Invalid vars_prompt data structure, found unsupported key '{name}'{hint}")));
        }
    }
    let name = match node.get("name") {
        Some(n) => super::load::scalar_string(n)?,
        None => return Err(err(node, "Invalid vars_prompt data structure, missing 'name' key")),
    };
    let salt_size = match node.get("salt_size").map(Node::to_json) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().or_else(|| v.as_str()?.parse().ok()).filter(|n| *n > 0).ok_or_else(|| err(node.get("salt_size").unwrap_or(node), "`salt_size` must be a positive whole number"))? as usize),
    };
    Ok(VarPrompt {
        name,
        prompt: super::load::opt_string(node.get("prompt"))?,
        default: node.get("default").map(Node::to_json),
        private: flag(node, "private", true)?,
        confirm: flag(node, "confirm", false)?,
        encrypt: super::load::opt_string(node.get("encrypt"))?,
        salt_size,
        salt: super::load::opt_string(node.get("salt"))?,
        r#unsafe: flag(node, "unsafe", false)?,
        span: node.span.clone(),
    })
}

fn flag(node: &Node, key: &str, default: bool) -> Result<bool, LoadError> {
    let Some(value) = node.get(key).filter(|n| !n.is_null()) else { return Ok(default) };
    stockman_modules::args::parse_bool(&value.to_json()).ok_or_else(|| err(value, format!("`{key}` must be a boolean (true/false), found {}", value.kind_name())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<VarPrompt>, LoadError> {
        let node = crate::yaml::parse_str(text, "play.yml".into()).unwrap();
        load(Some(&node))
    }

    #[test]
    fn entries_take_ansible_defaults() {
        let p = &parse("- name: pw\n  prompt: Password?\n- name: user\n  private: no\n  default: admin\n").unwrap();
        assert_eq!((p[0].name.as_str(), p[0].private, p[0].confirm), ("pw", true, false));
        assert_eq!(p[0].prompt.as_deref(), Some("Password?"));
        assert_eq!((p[1].private, p[1].default.clone()), (false, Some(Value::from("admin"))));
    }

    #[test]
    fn unknown_keys_and_missing_names_are_refused_with_a_position() {
        let e = parse("- name: pw\n  promt: x\n").unwrap_err();
        assert!(e.message.contains("unsupported key 'promt'") && e.message.contains("`prompt`"), "{}", e.message);
        assert_eq!(e.span.line, 2);
        assert!(parse("- prompt: x\n").unwrap_err().message.contains("missing 'name' key"));
    }
}
