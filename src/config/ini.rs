//! ansible.cfg's INI dialect, read as Python's `configparser.ConfigParser(inline_comment_prefixes=(';',))`
//! reads it (what ansible-core uses), with the line of every section and key kept for messages.
//!
//! The rules that matter: `#` or `;` first on a line is a comment; `;` after whitespace starts
//! an inline comment, `#` never does; `key = value` and `key: value` (the first `=` or `:`
//! splits); keys are lower-cased, section names are not; a line indented deeper than its key
//! continues the value (joined with newlines); a key twice in a section, or a section twice,
//! is an error; `[DEFAULT]` supplies keys to every section. Values are raw (no `%(x)s`
//! interpolation: Ansible reads them with `raw=True`).

use std::fmt;

/// A parsed file: its sections in order.
#[derive(Debug, Default)]
pub struct Ini {
    pub sections: Vec<Section>,
}

#[derive(Debug)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
    /// `key = value # text`: `#` is not an inline comment, so the text is part of the value.
    pub hash_in_value: bool,
}

/// A line configparser refuses; `line` is 1-based.
#[derive(Debug, PartialEq, Eq)]
pub struct IniError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The section configparser merges into every other one.
pub const DEFAULT_SECTION: &str = "DEFAULT";

impl Ini {
    /// The entry for `key` in `section`, falling back to `[DEFAULT]` as configparser does.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        let in_section = |name: &str| self.sections.iter().find(|s| s.name == name)?.entries.iter().find(|e| e.key == key);
        if !self.sections.iter().any(|s| s.name == section) {
            return None;
        }
        in_section(section).or_else(|| in_section(DEFAULT_SECTION))
    }
}

/// Where a comment starts on `line`, if anywhere: a whole-line `#`/`;`, or `;` at the
/// start or after whitespace.
fn comment_start(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') || trimmed.starts_with(';') {
        return Some(0);
    }
    line.char_indices()
        .find(|&(i, c)| c == ';' && (i == 0 || line[..i].chars().next_back().is_some_and(char::is_whitespace)))
        .map(|(i, _)| i)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Parses the text of an ansible.cfg.
pub fn parse(text: &str) -> Result<Ini, IniError> {
    let mut ini = Ini::default();
    // The key being read (section index, entry index) and its indentation, for continuations.
    let mut current: Option<(usize, usize)> = None;
    let mut key_indent = usize::MAX;
    // Blank lines inside a value count only if more value follows.
    let mut pending_blank = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let comment = comment_start(raw);
        let content = raw[..comment.unwrap_or(raw.len())].trim();
        if content.is_empty() {
            if comment.is_none() && current.is_some() {
                pending_blank += 1;
            }
            continue;
        }
        if let (Some((s, e)), true) = (current, indent(raw) > key_indent) {
            let entry = &mut ini.sections[s].entries[e];
            for _ in 0..pending_blank {
                entry.value.push('\n');
            }
            pending_blank = 0;
            entry.value.push('\n');
            entry.value.push_str(content);
            continue;
        }
        pending_blank = 0;
        key_indent = indent(raw);
        if let Some(name) = section_header(content) {
            if ini.sections.iter().any(|s| s.name == name) {
                return Err(IniError { line: line_no, message: format!("section `[{name}]` already exists (configparser refuses a section twice)") });
            }
            ini.sections.push(Section { name: name.to_string(), line: line_no, entries: Vec::new() });
            current = None;
            continue;
        }
        let Some(section) = ini.sections.len().checked_sub(1) else {
            return Err(IniError { line: line_no, message: format!("`{content}` comes before any section header; put it under `[defaults]`") });
        };
        let (key, value) = split_key_value(content).ok_or_else(|| IniError {
            line: line_no,
            message: format!("`{content}` is not `key = value`"),
        })?;
        let entries = &mut ini.sections[section].entries;
        if entries.iter().any(|e| e.key == key) {
            let name = &ini.sections[section].name;
            return Err(IniError { line: line_no, message: format!("key `{key}` already set in `[{name}]` (configparser refuses a key twice)") });
        }
        entries.push(Entry { hash_in_value: value.contains(" #"), key, value, line: line_no });
        current = Some((section, entries.len() - 1));
    }
    Ok(ini)
}

/// `[name]` (configparser takes everything up to the last `]`).
fn section_header(content: &str) -> Option<&str> {
    let rest = content.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    Some(&rest[..end]).filter(|name| !name.is_empty())
}

/// The first `=` or `:` splits; the key is lower-cased, both sides trimmed.
fn split_key_value(content: &str) -> Option<(String, String)> {
    let at = content.find(['=', ':'])?;
    let key = content[..at].trim();
    if key.is_empty() {
        return None;
    }
    Some((key.to_lowercase(), content[at + 1..].trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(ini: &Ini, section: &str, key: &str) -> Option<String> {
        ini.get(section, key).map(|e| e.value.clone())
    }

    #[test]
    fn comments_as_configparser_reads_them() {
        let ini = parse("# top\n; also\n[defaults]\nremote_user = bob ; the admin\nforks=7;not a comment\nuser2 = al # kept\n  # indented comment\n").unwrap();
        assert_eq!(value(&ini, "defaults", "remote_user").as_deref(), Some("bob"));
        assert_eq!(value(&ini, "defaults", "forks").as_deref(), Some("7;not a comment"));
        assert_eq!(value(&ini, "defaults", "user2").as_deref(), Some("al # kept"));
        assert!(ini.get("defaults", "user2").unwrap().hash_in_value);
    }

    #[test]
    fn colon_or_equals_keys_lowercased_and_lines_kept() {
        let ini = parse("[defaults]\nRemote_User: bob\ninventory=a=b\n").unwrap();
        assert_eq!(value(&ini, "defaults", "remote_user").as_deref(), Some("bob"));
        assert_eq!(value(&ini, "defaults", "inventory").as_deref(), Some("a=b"));
        assert_eq!(ini.get("defaults", "inventory").unwrap().line, 3);
        assert_eq!(ini.sections[0].line, 1);
    }

    #[test]
    fn continuation_lines_join_with_newlines() {
        let ini = parse("[ssh_connection]\nssh_args = -o A=1\n   -o B=2\n\n   -o C=3\n\nretries = 2\n").unwrap();
        assert_eq!(value(&ini, "ssh_connection", "ssh_args").as_deref(), Some("-o A=1\n-o B=2\n\n-o C=3"));
        assert_eq!(value(&ini, "ssh_connection", "retries").as_deref(), Some("2"));
    }

    #[test]
    fn default_section_fills_others() {
        let ini = parse("[DEFAULT]\ntimeout = 3\n[defaults]\n").unwrap();
        assert_eq!(value(&ini, "defaults", "timeout").as_deref(), Some("3"));
        assert_eq!(value(&ini, "ssh_connection", "timeout"), None);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("forks = 3\n").unwrap_err().line, 1);
        assert_eq!(parse("[defaults]\n\njust words\n").unwrap_err().line, 3);
        assert_eq!(parse("[defaults]\nforks=1\nforks=2\n").unwrap_err().line, 3);
        assert_eq!(parse("[a]\n[a]\n").unwrap_err().line, 2);
    }
}
