//! YAML output as PyYAML's `yaml.dump` writes it (what Ansible's `to_yaml`
//! and `to_nice_yaml` print): sorted keys, YAML 1.1 quoting of strings that
//! would read back as something else, and folding past 80 columns.

use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// How the document is laid out.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Spaces per nesting level (PyYAML's `indent`, 2 by default).
    pub indent: usize,
    /// `true`: every non-empty collection in block style (`to_nice_yaml`);
    /// `false`: collections of scalars in flow style (`to_yaml`).
    pub all_block: bool,
    /// Columns after which lines are folded (PyYAML's `width`, 80).
    pub width: usize,
    /// Strings with line breaks as `|-` literal blocks, tidied first, as the
    /// `yaml` stdout callback's dumper writes them.
    pub literal_multiline: bool,
}

impl Layout {
    /// PyYAML's defaults for the rest.
    pub const fn new(indent: usize, all_block: bool) -> Layout {
        Layout { indent, all_block, width: 80, literal_multiline: false }
    }

    /// The `yaml` stdout callback's dump (community.general.yaml): block style, width 1000, literal blocks.
    pub const CALLBACK: Layout = Layout { indent: 2, all_block: true, width: 1000, literal_multiline: true };
}

/// Serializes `value` as one YAML document, ending in a newline.
pub fn dump(value: &Value, layout: Layout) -> String {
    let mut w = Writer { out: String::new(), column: 0, layout };
    if is_block(value, layout) {
        w.block(value, 0, false);
    } else {
        w.flow_or_scalar(value, layout.indent, false);
    }
    w.out.push('\n');
    w.out
}

fn is_block(v: &Value, layout: Layout) -> bool {
    match v {
        Value::Array(items) if !items.is_empty() => layout.all_block || items.iter().any(is_collection),
        Value::Object(map) if !map.is_empty() => layout.all_block || map.values().any(is_collection),
        _ => false,
    }
}

/// The vault text of `{"__ansible_vault": TEXT}`, the form of a value that came from `!vault`.
fn vault_text(map: &serde_json::Map<String, Value>) -> Option<&str> {
    match (map.len(), map.get("__ansible_vault")) {
        (1, Some(Value::String(text))) => Some(text),
        _ => None,
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Object(_))
}

struct Writer {
    out: String,
    column: usize,
    layout: Layout,
}

impl Writer {
    fn write(&mut self, text: &str) {
        self.out.push_str(text);
        match text.rfind('\n') {
            Some(i) => self.column = text[i + 1..].chars().count(),
            None => self.column += text.chars().count(),
        }
    }

    fn newline_indent(&mut self, indent: usize) {
        self.write("\n");
        self.write(&" ".repeat(indent));
    }

    /// A block collection at `indent`; `inline` means the cursor already
    /// sits after a `- ` so the first entry starts here.
    fn block(&mut self, v: &Value, indent: usize, inline: bool) {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                for (i, (k, val)) in entries.into_iter().enumerate() {
                    if i > 0 || !inline {
                        self.start_line(indent, i == 0 && self.out.is_empty());
                    }
                    let key = scalar_text(&Value::String(k.clone()), false);
                    self.write(&key);
                    self.write(":");
                    self.value_after_key(val, indent);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 || !inline {
                        self.start_line(indent, i == 0 && self.out.is_empty());
                    }
                    self.write("-");
                    if is_block(item, self.layout) {
                        let inner = indent + self.layout.indent;
                        self.write(&" ".repeat(inner.saturating_sub(self.column).max(1)));
                        self.block(item, inner, true);
                    } else {
                        self.write(" ");
                        self.flow_or_scalar(item, indent + self.layout.indent, false);
                    }
                }
            }
            other => self.flow_or_scalar(other, indent + self.layout.indent, false),
        }
    }

    fn start_line(&mut self, indent: usize, at_start: bool) {
        if at_start {
            self.write(&" ".repeat(indent));
        } else {
            self.newline_indent(indent);
        }
    }

    fn value_after_key(&mut self, val: &Value, indent: usize) {
        match val {
            // A value loaded from `!vault` (ansible-inventory's `{"__ansible_vault": TEXT}`)
            // goes back out as Ansible's dumper writes it: a `!vault |` block.
            Value::Object(map) if vault_text(map).is_some() => {
                self.write(" !vault |");
                for line in vault_text(map).unwrap_or_default().lines() {
                    self.newline_indent(indent + self.layout.indent);
                    self.write(line);
                }
            }
            Value::Object(_) if is_block(val, self.layout) => self.block(val, indent + self.layout.indent, false),
            // A sequence under a key is not indented (PyYAML's indentless sequence).
            Value::Array(_) if is_block(val, self.layout) => self.block(val, indent, false),
            _ => {
                self.write(" ");
                self.flow_or_scalar(val, indent + self.layout.indent, false);
            }
        }
    }

    /// A scalar or flow collection; `indent` is where folded lines go.
    fn flow_or_scalar(&mut self, v: &Value, indent: usize, in_flow: bool) {
        match v {
            Value::Array(items) => {
                self.write("[");
                for (i, item) in items.iter().enumerate() {
                    self.flow_separator(i, indent);
                    self.flow_or_scalar(item, indent + self.layout.indent, true);
                }
                self.write("]");
            }
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                self.write("{");
                for (i, (k, val)) in entries.into_iter().enumerate() {
                    self.flow_separator(i, indent);
                    self.write(&scalar_text(&Value::String(k.clone()), true));
                    self.write(": ");
                    self.flow_or_scalar(val, indent + self.layout.indent, true);
                }
                self.write("}");
            }
            Value::String(s) if self.layout.literal_multiline && !in_flow && s.contains(LINE_BREAKS) => match tidied_for_block(s) {
                Some(text) => self.literal(&text, indent),
                None => self.folded(&scalar_text(v, in_flow), indent),
            },
            scalar => {
                let text = scalar_text(scalar, in_flow);
                self.folded(&text, indent);
            }
        }
    }

    fn flow_separator(&mut self, i: usize, indent: usize) {
        if i > 0 {
            self.write(",");
        }
        if self.column > self.layout.width {
            self.newline_indent(indent);
        } else if i > 0 {
            self.write(" ");
        }
    }

    /// `|-` and the lines at `indent` (empty lines unindented), as PyYAML's write_literal.
    fn literal(&mut self, text: &str, indent: usize) {
        let leading_space = text.starts_with([' ', '\n', '\u{85}', '\u{2028}', '\u{2029}']);
        self.write(if leading_space { "|2-" } else { "|-" });
        for line in text.split(LINE_BREAKS) {
            if line.is_empty() {
                self.write("\n");
            } else {
                self.newline_indent(indent);
                self.write(line);
            }
        }
    }

    /// Writes a scalar's text, breaking at single spaces once past the
    /// width and indenting continuation lines, as PyYAML does for plain and
    /// single-quoted scalars.
    fn folded(&mut self, text: &str, indent: usize) {
        let foldable = !text.starts_with('"');
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let single_space = c == ' ' && chars.get(i + 1).is_some_and(|n| *n != ' ') && (i == 0 || chars[i - 1] != ' ');
            if foldable && single_space && self.column > self.layout.width && i + 1 < chars.len() {
                self.newline_indent(indent);
            } else if c == '\n' && chars.get(i + 1) == Some(&'\n') {
                self.write("\n");
            } else if c == '\n' {
                self.newline_indent(indent);
            } else {
                self.write(&c.to_string());
            }
            i += 1;
        }
    }
}

const LINE_BREAKS: [char; 4] = ['\n', '\u{85}', '\u{2028}', '\u{2029}'];

/// The yaml callback's tidying before a literal block (no trailing whitespace, no
/// control characters, tabs expanded); None when PyYAML would still refuse a block.
fn tidied_for_block(s: &str) -> Option<String> {
    let kept: String = s.trim_end().chars().filter(|c| (c.is_ascii() && (!c.is_ascii_control() || "\t\n\r\x0b\x0c".contains(*c))) || *c >= '\u{a0}').collect();
    let expanded = expand_tabs(&kept).replace(['\x0b', '\x0c', '\r'], "");
    let text = expanded.split('\n').map(|l| l.trim_end_matches(' ')).collect::<Vec<_>>().join("\n");
    let refused = text.is_empty() || analyze(&text).special;
    (!refused).then_some(text)
}

/// Python's str.expandtabs(8).
fn expand_tabs(s: &str) -> String {
    let mut out = String::new();
    let mut column = 0;
    for c in s.chars() {
        match c {
            '\t' => {
                let n = 8 - column % 8;
                out.push_str(&" ".repeat(n));
                column += n;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

/// The scalar as it appears in the document: plain when it reads back as
/// the same string, else single-quoted, else double-quoted. Line breaks of
/// single-quoted text are returned as `\n` (folded by the writer).
fn scalar_text(v: &Value, in_flow: bool) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => float_text(n.as_f64().unwrap_or_default()),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s, in_flow),
        other => other.to_string(),
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    let r = super::py::float_repr(f).to_lowercase();
    match r.split_once('e') {
        Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
        _ => r,
    }
}

fn string_text(s: &str, in_flow: bool) -> String {
    let a = analyze(s);
    if a.special {
        return double_quoted(s);
    }
    let plain_ok = if in_flow { a.flow_plain } else { a.block_plain };
    if plain_ok && !a.multiline && !resolves_to_other_type(s) {
        return s.to_string();
    }
    if a.single_quoted {
        // A single line break is written as a blank line in single quotes.
        let mut out = String::from("'");
        let mut prev_break = false;
        for c in s.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\n' if !prev_break => out.push_str("\n\n"),
                c => out.push(c),
            }
            prev_break = c == '\n';
        }
        out.push('\'');
        return out;
    }
    double_quoted(s)
}

/// What PyYAML's `analyze_scalar` concludes about a string.
struct Analysis {
    special: bool,
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
}

fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    let mut flow_ind = s.starts_with("---") || s.starts_with("...");
    let mut block_ind = flow_ind;
    let (mut special, mut multiline) = (false, false);
    let (mut space_break, mut break_space) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = next.is_none_or(|n| " \t\n\r\u{85}\u{2028}\u{2029}".contains(n));
        let preceded_by_ws = i == 0 || " \t\n\r\u{85}\u{2028}\u{2029}".contains(chars[i - 1]);
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                (flow_ind, block_ind) = (true, true);
            }
            if "?:".contains(c) {
                flow_ind = true;
                block_ind |= followed_by_ws;
            }
            if c == '-' && followed_by_ws {
                (flow_ind, block_ind) = (true, true);
            }
        } else {
            if ",?[]{}".contains(c) {
                flow_ind = true;
            }
            if c == ':' {
                flow_ind = true;
                block_ind |= followed_by_ws;
            }
            if c == '#' && preceded_by_ws {
                (flow_ind, block_ind) = (true, true);
            }
        }
        if "\n\u{85}\u{2028}\u{2029}".contains(c) {
            multiline = true;
        }
        if !printable(c) {
            special = true;
        }
        if c == ' ' && next.is_some_and(|n| n == '\n') {
            space_break = true;
        }
        if c == '\n' && next.is_some_and(|n| n == ' ') {
            break_space = true;
        }
    }
    let edge_space = s.starts_with(' ') || s.ends_with(' ');
    let edge_break = s.starts_with('\n') || s.ends_with('\n');
    let plain_base = !s.is_empty() && !edge_space && !edge_break && !multiline && !space_break && !break_space;
    Analysis {
        special: special || space_break,
        multiline,
        flow_plain: plain_base && !flow_ind,
        block_plain: plain_base && !block_ind,
        single_quoted: !special && !space_break && !break_space,
    }
}

fn printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}') && c != '\u{feff}'
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !printable(c) && (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if !printable(c) && (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if !printable(c) => out.push_str(&format!("\\U{:08X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// PyYAML's implicit resolvers (YAML 1.1): a plain scalar matching one of
/// these would read back as a bool, null, number, timestamp, merge or value.
fn resolves_to_other_type(s: &str) -> bool {
    static OTHER: LazyLock<Regex> = LazyLock::new(|| {
        let patterns = [
            r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
            r"~|null|Null|NULL",
            r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
            r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+][0-9]+)|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
            r"<<|=",
        ];
        Regex::new(&format!("^(?:{})$", patterns.join("|"))).expect("static resolver patterns")
    });
    OTHER.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TERSE: Layout = Layout::new(2, false);
    const NICE: Layout = Layout::new(4, true);

    #[test]
    fn terse_uses_flow_for_collections_of_scalars() {
        assert_eq!(dump(&json!({"a": 1}), TERSE), "{a: 1}\n");
        assert_eq!(dump(&json!({"b": [1, {"x": "y"}], "a": "yes"}), TERSE), "a: 'yes'\nb:\n- 1\n- {x: y}\n");
    }

    #[test]
    fn nice_pads_nested_items_to_the_indent() {
        assert_eq!(dump(&json!([[1, 2], [3]]), NICE), "-   - 1\n    - 2\n-   - 3\n");
        assert_eq!(dump(&json!({"c": {"k": null, "l": []}}), NICE), "c:\n    k: null\n    l: []\n");
    }

    #[test]
    fn the_yaml_callback_writes_multiline_strings_as_tidied_literal_blocks() {
        let v = serde_json::json!({"msg": "a  \n\tb\r\n\n", "one": "x", "lead": " a\nb", "l": ["p\nq"]});
        assert_eq!(dump(&v, Layout::CALLBACK), "l:\n- |-\n  p\n  q\nlead: |2-\n   a\n  b\nmsg: |-\n  a\n          b\none: x\n");
    }

    #[test]
    fn strings_are_quoted_like_pyyaml() {
        assert_eq!(string_text("it's: here", false), "'it''s: here'");
        assert_eq!(string_text("123", false), "'123'");
        assert_eq!(string_text("a#b", true), "a#b");
        assert_eq!(string_text("tab\there", false), "\"tab\\there\"");
        assert_eq!(dump(&json!({"m": "line1\nline2", "x": []}), TERSE), "m: 'line1\n\n  line2'\nx: []\n");
    }
}
