//! YAML with a file, line and column on every node.
//!
//! Built on saphyr-parser's event stream rather than a serde deserializer: the
//! playbook loader needs the position of every key and value for its errors,
//! and Ansible reads YAML 1.1 (`yes`/`no` are booleans, `0755` is octal), which
//! we resolve here from the raw scalar and its quoting style.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

/// Where a node starts: file, 1-based line, 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub file: Arc<str>,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Yaml,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer written in octal (`0644`, `0o644`): kept apart so that a
    /// `mode: 644` written in decimal can be told from it.
    OctalInt(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order (duplicate keys are rejected at parse time).
    Map(Vec<(Node, Node)>),
}

/// A YAML document that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{span}: {message}")]
pub struct YamlError {
    pub span: Span,
    pub message: String,
}

/// What a document the parser refused is called (not a file that cannot be
/// read, is not UTF-8 or cannot be decrypted: those say so alone).
const SYNTAX: &str = "YAML syntax error: ";

/// Bounds that keep hostile documents (alias bombs, deep nesting) cheap.
const MAX_DEPTH: usize = 256;
const MAX_NODES: usize = 2_000_000;

/// Reads and parses a file holding one YAML document (an empty file is Null).
pub fn parse_file(path: &Path) -> Result<Node, YamlError> {
    let name: Arc<str> = path.display().to_string().into();
    let text = std::fs::read(path).map_err(|e| YamlError {
        span: Span { file: name.clone(), line: 0, col: 0 },
        message: format!("cannot read file: {e}"),
    })?;
    let text = String::from_utf8(text).map_err(|e| not_utf8(e.as_bytes(), e.utf8_error().valid_up_to(), &name))?;
    parse_str(&text, name)
}

/// The first byte that is not UTF-8, by line and column (of characters, as
/// every other position): playbooks are UTF-8, as Ansible reads them.
fn not_utf8(bytes: &[u8], valid_up_to: usize, file: &Arc<str>) -> YamlError {
    let before = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
    let byte = bytes.get(valid_up_to).copied().unwrap_or_default();
    YamlError {
        span: Span { file: file.clone(), line, col },
        message: format!("not valid UTF-8: byte 0x{byte:02X} cannot start or continue a character (save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8`)"),
    }
}

/// Parses one YAML document from a string; `file` names it in spans. A
/// whole-file vault payload is decrypted first (positions are then those of
/// the plaintext, as `stockman vault view` shows it).
pub fn parse_str(text: &str, file: Arc<str>) -> Result<Node, YamlError> {
    if crate::vault::is_vault(text.as_bytes()) {
        let plain = crate::vault::decrypt_loaded(text.as_bytes())
            .map_err(|e| YamlError { span: Span { file: file.clone(), line: 1, col: 1 }, message: e.to_string() })?;
        return parse_plain(&plain, file);
    }
    parse_plain(text, file)
}

fn parse_plain(text: &str, file: Arc<str>) -> Result<Node, YamlError> {
    let mut builder = Builder { file, stack: Vec::new(), anchors: HashMap::new(), nodes: 0, root: None };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError {
            span: builder.span_at(e.marker().line(), e.marker().col()),
            message: format!("{SYNTAX}{}", e.info()),
        })?;
        let at = builder.span_at(span.start.line(), span.start.col());
        builder.on_event(event, at)?;
        if builder.root.is_some() && builder.stack.is_empty() {
            // Only the first document is used, as Ansible does for playbooks.
            break;
        }
    }
    let file = builder.file.clone();
    Ok(builder.root.unwrap_or(Node { value: Yaml::Null, span: Span { file, line: 1, col: 1 } }))
}

/// A mapping being built; `merged[i]` says entry i came from a `<<` merge key
/// (explicit keys may override those, but not each other).
#[derive(Default)]
struct MapEntries {
    entries: Vec<(Node, Node)>,
    merged: Vec<bool>,
}

enum Open {
    Seq(Node, usize, Vec<Node>),
    Map(Node, usize, MapEntries, Option<Node>),
}

struct Builder {
    file: Arc<str>,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    root: Option<Node>,
}

impl Builder {
    fn span_at(&self, line: usize, col0: usize) -> Span {
        Span { file: self.file.clone(), line, col: col0 + 1 }
    }

    fn error(&self, span: Span, message: impl Into<String>) -> YamlError {
        YamlError { span, message: format!("{SYNTAX}{}", message.into()) }
    }

    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let is_vault = tag.as_ref().is_some_and(|t| t.handle == "!" && t.suffix == "vault");
                let value = if is_vault { decrypt_scalar(&text, &span)? } else { resolve_scalar(&text, style, is_str_tag) };
                self.push(Node { value, span }, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                self.open(Open::Seq(Node { value: Yaml::Null, span }, anchor, Vec::new()))
            }
            Event::MappingStart(anchor, _) => {
                self.open(Open::Map(Node { value: Yaml::Null, span }, anchor, MapEntries::default(), None))
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => {
                let size = self.anchors.get(&id).map(count_nodes).ok_or_else(|| self.error(span.clone(), "unknown alias"))?;
                // Counted before cloning, so an alias bomb fails before it allocates.
                self.count(size, &span)?;
                let node = self.anchors[&id].clone();
                let node = Node { value: node.value, span };
                self.push_resolved(node)
            }
            _ => Ok(()),
        }
    }

    fn open(&mut self, open: Open) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &open {
                Open::Seq(n, ..) | Open::Map(n, ..) => n.span.clone(),
            };
            return Err(self.error(span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.stack.push(open);
        Ok(())
    }

    fn close(&mut self) -> Result<(), YamlError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Open::Seq(mut n, a, items)) => {
                n.value = Yaml::Seq(items);
                (n, a)
            }
            Some(Open::Map(mut n, a, entries, _)) => {
                n.value = Yaml::Map(entries.entries);
                (n, a)
            }
            None => return Ok(()),
        };
        self.push(node, anchor)
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        self.count(1, &node.span)?;
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push_resolved(node)
    }

    fn count(&mut self, n: usize, span: &Span) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(self.error(
                span.clone(),
                format!(
                    "document expands to more than {MAX_NODES} nodes (values, with each use of an alias counted as the nodes it repeats), \
                     stockman's fixed bound against alias bombs; it cannot be raised: split the data into several files \
                     (`import_tasks`, `include_vars`, `vars_files`)"
                ),
            ));
        }
        Ok(())
    }

    fn push_resolved(&mut self, node: Node) -> Result<(), YamlError> {
        let file = self.file.clone();
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(_, _, items)) => items.push(node),
            Some(Open::Map(_, _, entries, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.insert(key, node).map_err(|(span, m)| YamlError {
                    span: Span { file, ..span },
                    message: format!("{SYNTAX}{m}"),
                })?,
            },
        }
        Ok(())
    }
}

impl MapEntries {
    /// Adds an entry, expanding `<<` merge keys and rejecting duplicate explicit keys.
    fn insert(&mut self, key: Node, value: Node) -> Result<(), (Span, String)> {
        if key.value == Yaml::Str("<<".into()) {
            return self.merge(value);
        }
        match self.entries.iter().position(|(k, _)| k.value == key.value) {
            Some(pos) if !self.merged[pos] => {
                let first = self.entries[pos].0.span.line;
                Err((key.span.clone(), format!("duplicate key {} (first at line {first})", key.display_key())))
            }
            Some(pos) => {
                self.entries[pos] = (key, value);
                self.merged[pos] = false;
                Ok(())
            }
            None => {
                self.entries.push((key, value));
                self.merged.push(false);
                Ok(())
            }
        }
    }

    fn merge(&mut self, value: Node) -> Result<(), (Span, String)> {
        let sources = match value.value {
            Yaml::Map(m) => vec![m],
            Yaml::Seq(items) => items
                .into_iter()
                .filter_map(|n| if let Yaml::Map(m) = n.value { Some(m) } else { None })
                .collect(),
            _ => return Err((value.span, "a merge key `<<` needs a mapping or a list of mappings".into())),
        };
        for (k, v) in sources.into_iter().flatten() {
            if !self.entries.iter().any(|(existing, _)| existing.value == k.value) {
                self.entries.push((k, v));
                self.merged.push(true);
            }
        }
        Ok(())
    }
}

/// An inline `!vault |` value: decrypted with the run's keyring and
/// remembered so output can censor it.
fn decrypt_scalar(text: &str, span: &Span) -> Result<Yaml, YamlError> {
    let plain = crate::vault::decrypt_loaded(text.as_bytes())
        .map_err(|e| YamlError { span: span.clone(), message: format!("cannot decrypt this `!vault` value: {e}") })?;
    crate::vault::keyring::remember_secret(&plain);
    crate::vault::keyring::remember_ciphertext(&plain, text);
    Ok(Yaml::Str(plain.to_string()))
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Yaml::Seq(items) => items.iter().map(count_nodes).sum(),
        Yaml::Map(entries) => entries.iter().map(|(k, v)| count_nodes(k) + count_nodes(v)).sum(),
        _ => 0,
    }
}

/// YAML 1.1 resolution of a scalar, as PyYAML (and so Ansible) does it.
fn resolve_scalar(text: &str, style: ScalarStyle, forced_str: bool) -> Yaml {
    if style != ScalarStyle::Plain || forced_str {
        return Yaml::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Yaml::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return Yaml::Bool(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => return Yaml::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Yaml::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Yaml::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Yaml::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        let digits = text.trim_start_matches(['-', '+']);
        let octal = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0x") && !digits.starts_with("0b");
        return if octal { Yaml::OctalInt(i) } else { Yaml::Int(i) };
    }
    if looks_like_float(text) {
        if let Ok(f) = text.replace('_', "").parse::<f64>() {
            return Yaml::Float(f);
        }
    }
    Yaml::Str(text.to_string())
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let clean = body.replace('_', "");
    let value = if let Some(hex) = clean.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = clean.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = clean.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if clean.len() > 1 && clean.starts_with('0') {
        i64::from_str_radix(&clean[1..], 8).ok()?
    } else if !clean.is_empty() && clean.bytes().all(|b| b.is_ascii_digit()) && !body.starts_with('_') {
        clean.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    body.contains('.')
        && body.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().all(|b| b.is_ascii_digit() || b"._eE+-".contains(&b))
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Yaml::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Yaml::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        self.value == Yaml::Null
    }

    /// Looks a key up in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    /// A key as text for messages and for JSON object keys.
    pub fn display_key(&self) -> String {
        match &self.value {
            Yaml::Str(s) => s.clone(),
            Yaml::Null => "null".into(),
            other => Node { value: other.clone(), span: self.span.clone() }.to_json().to_string(),
        }
    }

    /// What kind of node this is, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) | Yaml::OctalInt(_) => "an integer",
            Yaml::Float(_) => "a float",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }

    /// The plain data, without positions.
    pub fn to_json(&self) -> Value {
        match &self.value {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Int(i) | Yaml::OctalInt(i) => Value::Number((*i).into()),
            Yaml::Float(f) => Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            Yaml::Str(s) => Value::String(s.clone()),
            Yaml::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Yaml::Map(entries) => {
                let mut map = Map::new();
                for (k, v) in entries {
                    map.insert(k.display_key(), v.to_json());
                }
                Value::Object(map)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_str(text, "t.yml".into()).unwrap()
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let doc = parse("- name: hi\n  copy:\n    dest: /x\n");
        let task = &doc.as_seq().unwrap()[0];
        let copy = task.get("copy").unwrap();
        assert_eq!((copy.span.line, copy.span.col), (3, 5));
        let (key, _) = &task.as_map().unwrap()[1];
        assert_eq!((key.span.line, key.span.col), (2, 3));
    }

    #[test]
    fn yaml_1_1_scalars_resolve_like_pyyaml() {
        let doc = parse("a: yes\nb: 'yes'\nc: 0755\nd: 1.5\ne: ~\nf: 0x1f\ng: 12abc\n");
        assert_eq!(doc.get("a").unwrap().value, Yaml::Bool(true));
        assert_eq!(doc.get("b").unwrap().value, Yaml::Str("yes".into()));
        assert_eq!(doc.get("c").unwrap().value, Yaml::OctalInt(0o755));
        assert_eq!(doc.get("d").unwrap().value, Yaml::Float(1.5));
        assert_eq!(doc.get("e").unwrap().value, Yaml::Null);
        assert_eq!(doc.get("f").unwrap().value, Yaml::Int(31));
        assert_eq!(doc.get("g").unwrap().value, Yaml::Str("12abc".into()));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = parse("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n");
        let derived = doc.get("derived").unwrap().to_json();
        assert_eq!(derived, serde_json::json!({"x": 1, "y": 3}));
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let err = parse_str("a: 1\nb: 2\na: 3\n", "d.yml".into()).unwrap_err();
        assert_eq!((err.span.line, err.span.col), (3, 1));
        assert!(err.message.contains("duplicate key a"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_str("a: [1, 2\nb: 3\n", "e.yml".into()).unwrap_err();
        assert!(err.span.line >= 1, "{err}");
        assert_eq!(&*err.span.file, "e.yml");
    }

    /// No lib test installs a vault keyring, so vault data must say what is missing, and where.
    #[test]
    fn vault_data_without_secrets_is_an_error_at_its_position() {
        let err = parse_str("a: 1\nx: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3031\n", "v.yml".into()).unwrap_err();
        assert_eq!((err.span.line, err.span.col), (2, 4), "{err}");
        assert!(err.message.contains("no vault secrets found"), "{err}");
        let err = parse_str("$ANSIBLE_VAULT;1.1;AES256\n3031\n", "f.yml".into()).unwrap_err();
        assert!(err.to_string().starts_with("f.yml:1:1: Attempting to decrypt"), "{err}");
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        let err = parse_str(&text, "bomb.yml".into()).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
    }
}
