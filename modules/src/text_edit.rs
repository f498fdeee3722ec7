//! Reading a text file whole and writing an edited version back, shared by
//! `lineinfile` and `blockinfile`: one command reads the real path, the
//! file's facts and its content; the edit is planned on the controller; one
//! atomic write (plus attribute fixes) applies it.

use serde_json::{json, Value};

use crate::remote_file::{
    self, apply, chown_spec, diff_text, parse_probe, AttrChanges, FileFacts, FileKind, Follow,
    validate_script, WantedAttrs, WritePlan,
};
use crate::shell::Cmd;
use crate::{FileDiff, ModuleError, ModuleResult, RunMode, Target};

/// Prints the path with links resolved (empty when that fails), then the
/// probe follows, then the content of a regular file.
const REAL_PATH_SCRIPT: &str = r#"r=$(readlink -f -- "$1" && echo x); printf '%s\0' "${r%?x}""#;
const CAT_SCRIPT: &str = r#"if [ -f "$1" ]; then cat -- "$1"; fi"#;

/// Ansible's message when only attributes changed (or were added to a content change).
pub const ATTRS_CHANGED: &str = "ownership, perms or SE linux context changed";

/// A file as read from the target.
#[derive(Debug, Clone)]
pub struct TextFile {
    pub path: String,
    /// Where writes go: Ansible edits the file a symlink points to.
    pub real_path: String,
    pub facts: FileFacts,
    pub umask: u32,
    pub content: Vec<u8>,
}

/// The file a line or block edit works on: a read that fails, or a
/// directory, is the task's failure (as Ansible words it).
pub async fn read_editable<T: Target>(target: &T, path: &str) -> Result<Result<TextFile, ModuleResult>, ModuleError> {
    let file = match read(target, path).await? {
        Ok(file) => file,
        Err(msg) => return Ok(Err(ModuleResult::failed(msg))),
    };
    if file.facts.kind == FileKind::Directory {
        return Ok(Err(ModuleResult::failed(format!("Path {path} is a directory !")).with("rc", 256)));
    }
    Ok(Ok(file))
}

/// Reads `path` in one command.
pub async fn read<T: Target>(target: &T, path: &str) -> Result<Result<TextFile, String>, ModuleError> {
    let out = target.exec(read_cmd(path).as_str(), None).await?;
    if out.rc != 0 {
        return Ok(Err(format!("could not read `{path}`: {}", out.stderr_str().trim())));
    }
    Ok(parse_read(&out.stdout, path).ok_or_else(|| format!("unexpected output reading `{path}`")))
}

/// The command [`read`] runs (for modules that chain a probe of their own before it).
pub fn read_cmd(path: &str) -> Cmd {
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(REAL_PATH_SCRIPT)
        .arg("sh")
        .arg(path)
        .then("&&", remote_file::probe_cmd(&[path], Follow::Yes, false))
        .then("&&", Cmd::new("/bin/sh").flag("-c").arg(CAT_SCRIPT).arg("sh").arg(path))
}

/// Parses what [`read_cmd`] printed.
pub fn parse_read(output: &[u8], path: &str) -> Option<TextFile> {
    let mut fields = remote_file::Fields::new(output);
    let real = fields.next_field()?;
    let mut probe = parse_probe(&mut fields, 1)?;
    let facts = probe.files.remove(0);
    // real path, umask, then `absent` or six probe fields
    let consumed = if facts.exists() { 8 } else { 3 };
    let content = after_fields(output, consumed)?.to_vec();
    Some(TextFile {
        path: path.to_string(),
        real_path: if real.is_empty() { path.to_string() } else { real },
        facts,
        umask: probe.umask,
        content,
    })
}

/// The bytes after the first `n` NUL-terminated fields.
fn after_fields(bytes: &[u8], n: usize) -> Option<&[u8]> {
    let mut rest = bytes;
    for _ in 0..n {
        let end = rest.iter().position(|&b| b == 0)?;
        rest = &rest[end + 1..];
    }
    Some(rest)
}

/// Splits like Python's `readlines()` on bytes: each line keeps its `\n`.
pub fn split_lines(content: &[u8]) -> Vec<Vec<u8>> {
    content.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

/// An edit's outcome to apply: new content (if it changed) and the message so far.
pub struct Edit {
    pub new_content: Option<Vec<u8>>,
    pub msg: String,
    pub backup: bool,
    pub attrs: WantedAttrs,
    /// A header for the diff, e.g. "/etc/x (content)".
    pub diff_header: String,
    /// `validate` (`visudo -cf %s`): run on the new content before it replaces the file.
    pub validate: Option<String>,
}

/// Applies `edit` to `file` (or plans it in check mode) and builds the result
/// with `msg`, `backup` and, when asked, a diff. Attribute differences add
/// Ansible's "ownership, perms ..." to the message.
pub async fn finish<T: Target>(
    target: &T,
    file: &TextFile,
    edit: Edit,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let attr_changes = if file.facts.exists() {
        edit.attrs.changes(&file.facts, file.umask)
    } else {
        // A new file gets 0666 minus umask; only a different wanted mode is a change.
        let new = FileFacts { kind: FileKind::File, mode: 0o666 & !file.umask, ..FileFacts::absent() };
        let mut c = edit.attrs.changes(&new, file.umask);
        c.owner = None;
        c.group = None;
        c
    };
    let mut msg = edit.msg.clone();
    if !attr_changes.is_empty() {
        msg = if msg.is_empty() { ATTRS_CHANGED.to_string() } else { format!("{msg} and {ATTRS_CHANGED}") };
    }
    let changed = edit.new_content.is_some() || !attr_changes.is_empty();
    let mut diff = Vec::new();
    if mode.diff {
        let after = edit.new_content.as_deref().unwrap_or(&file.content);
        diff.push(FileDiff {
            before_header: edit.diff_header.clone(),
            after_header: edit.diff_header.clone(),
            before: diff_text(&file.content),
            after: diff_text(after),
        });
    }
    let returned = returned_diff(file, &edit, &attr_changes, mode);
    if mode.diff {
        diff.extend(attributes_diff(&returned));
    }
    let mut result = ModuleResult::changed(changed).with("backup", "").with("diff", returned);
    result.msg = Some(msg);
    result.diff = diff;
    if !changed || mode.check {
        return Ok(result);
    }
    let dest = file.real_path.as_str();
    let applied = match &edit.new_content {
        Some(content) => {
            let current = if file.facts.exists() { file.facts.mode } else { 0o666 & !file.umask };
            let wanted_mode = edit.attrs.mode.as_ref().map_or(current, |m| m.resolve(current, false, file.umask));
            let plan = WritePlan {
                dest: dest.to_string(),
                mode: wanted_mode,
                chown: chown_spec(edit.attrs.owner.as_deref(), edit.attrs.group.as_deref()),
                keep_ids: file.facts.exists().then_some((file.facts.uid, file.facts.gid)),
                create_dir: !file.facts.exists(),
                backup: edit.backup && file.facts.exists(),
                size: content.len(),
            };
            let validate = match edit.validate.as_deref().map(validate_script).transpose() {
                Ok(v) => v,
                Err(message) => return Ok(ModuleResult::failed(message)),
            };
            apply(target, &plan.cmd_with(None, validate.as_deref()), Some(content), 1, dest).await?
        }
        None => {
            let Some(cmd) = attr_changes.apply_cmd(dest, false) else { return Ok(result) };
            let cmd = cmd.then("&&", Cmd::new("printf").arg("\\0"));
            let cmd = cmd.then("&&", remote_file::probe_cmd(&[dest], Follow::No, false));
            apply(target, &cmd, None, 1, dest).await?
        }
    };
    match applied {
        // Ansible reports no file attributes here, only where the backup went.
        Ok(applied) => Ok(result.with("backup", applied.leading[0].clone())),
        Err(message) => Ok(ModuleResult::failed(validation_message(&message).unwrap_or(message))),
    }
}

/// The `diff` lineinfile and blockinfile return whether or not --diff is on
/// (a task may register it): the content's before/after, filled only under
/// --diff, then the file attributes' (the mode, when it changes). In check
/// mode on a file that does not exist, only the first, as Ansible does.
fn returned_diff(file: &TextFile, edit: &Edit, attrs: &AttrChanges, mode: RunMode) -> Value {
    let text = |bytes: &[u8]| if mode.diff { diff_text(bytes) } else { String::new() };
    let content = json!({
        "before": text(&file.content),
        "after": text(edit.new_content.as_deref().unwrap_or(&file.content)),
        "before_header": edit.diff_header,
        "after_header": edit.diff_header,
    });
    if mode.check && !file.facts.exists() {
        return content;
    }
    let header = format!("{} (file attributes)", edit.diff_header.strip_suffix(" (content)").unwrap_or(&edit.diff_header));
    let mut attributes = json!({ "before_header": header, "after_header": header });
    if let Some(wanted) = attrs.mode {
        let current = if file.facts.exists() { file.facts.mode } else { 0o666 & !file.umask };
        attributes["before"] = json!({ "mode": format!("0{:03o}", current) });
        attributes["after"] = json!({ "mode": format!("0{:03o}", wanted) });
    }
    json!([content, attributes])
}

/// The file attributes' part of a returned diff, for --diff to show, when the
/// mode changes: before and after as indented JSON, as Ansible prints them.
fn attributes_diff(returned: &Value) -> Option<FileDiff> {
    let part = returned.get(1)?;
    let json = |v: &Value| {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
        serde::Serialize::serialize(v, &mut ser).ok()?;
        Some(String::from_utf8(out).ok()? + "\n")
    };
    let header = part.get("before_header")?.as_str()?.to_string();
    Some(FileDiff { before_header: header.clone(), after_header: header, before: json(part.get("before")?)?, after: json(part.get("after")?)? })
}

/// lineinfile's and blockinfile's wording for a refused `validate`
/// (`failed to validate: rc:1 error:...`), from the write script's.
fn validation_message(message: &str) -> Option<String> {
    let rest = &message[message.find("failed to validate (exit status ")? + "failed to validate (exit status ".len()..];
    let (rc, output) = rest.split_once("):")?;
    Some(format!("failed to validate: rc:{rc} error:{}", output.trim()))
}

/// The groups of one match, whichever engine found it.
pub trait MatchGroups {
    fn number(&self, i: usize) -> Option<&[u8]>;
    fn named(&self, name: &str) -> Option<&[u8]>;
}

impl MatchGroups for regex::bytes::Captures<'_> {
    fn number(&self, i: usize) -> Option<&[u8]> {
        self.get(i).map(|m| m.as_bytes())
    }
    fn named(&self, name: &str) -> Option<&[u8]> {
        self.name(name).map(|m| m.as_bytes())
    }
}

/// Checks a Python replacement template as `re.sub` does before it replaces
/// anything, for a pattern with `groups` groups (besides the whole match) and
/// these group names; the error reads as Python's `re.error` (position in
/// characters, line and column when the template has several lines).
pub fn check_template(template: &str, groups: usize, names: &[&str]) -> Result<(), String> {
    let chars: Vec<char> = template.chars().collect();
    let error = |msg: String, pos: usize| {
        let mut msg = format!("{msg} at position {pos}");
        if chars.contains(&'\n') {
            let line = chars[..pos].iter().filter(|&&c| c == '\n').count() + 1;
            let column = pos - chars[..pos].iter().rposition(|&c| c == '\n').map_or(0, |i| i + 1) + 1;
            msg = format!("{msg} (line {line}, column {column})");
        }
        Err(msg)
    };
    let group = |number: usize, pos: usize| if number > groups { error(format!("invalid group reference {number}"), pos) } else { Ok(()) };
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' {
            i += 1;
            continue;
        }
        let start = i;
        let Some(&c) = chars.get(i + 1) else { return error("bad escape (end of pattern)".into(), start) };
        i += 2;
        match c {
            'g' => {
                if chars.get(i) != Some(&'<') {
                    return error("missing <".into(), i);
                }
                let Some(len) = chars[i + 1..].iter().position(|&c| c == '>') else {
                    return error("missing >, unterminated name".into(), i + 1);
                };
                let name: String = chars[i + 1..i + 1 + len].iter().collect();
                let name_at = i + 1;
                i += len + 2;
                if name.is_empty() {
                    return error("missing group name".into(), name_at);
                }
                match name.parse::<usize>() {
                    Ok(n) if name.bytes().all(|b| b.is_ascii_digit()) => group(n, name_at)?,
                    _ if names.contains(&name.as_str()) => {}
                    _ if name.chars().all(|c| c.is_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit()) => {
                        return Err(format!("unknown group name '{name}'"));
                    }
                    _ => return error(format!("bad character in group name '{name}'"), name_at),
                }
            }
            '0'..='9' => {
                let octal = |c: Option<&char>| c.is_some_and(|c| ('0'..='7').contains(c));
                let mut digits: String = c.into();
                if c == '0' {
                    // \0 starts an octal escape of up to three digits.
                    while digits.len() < 3 && octal(chars.get(i)) {
                        digits.push(chars[i]);
                        i += 1;
                    }
                    continue;
                }
                if chars.get(i).is_some_and(char::is_ascii_digit) {
                    digits.push(chars[i]);
                    i += 1;
                    if octal(Some(&c)) && octal(Some(&chars[i - 1])) && octal(chars.get(i)) {
                        digits.push(chars[i]);
                        i += 1;
                        if u32::from_str_radix(&digits, 8).unwrap_or(u32::MAX) > 0o377 {
                            return error(format!("octal escape value \\{digits} outside of range 0-0o377"), start);
                        }
                        continue;
                    }
                }
                group(digits.parse().unwrap_or(usize::MAX), start + 1)?;
            }
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => {}
            c if c.is_ascii_alphabetic() => return error(format!("bad escape \\{c}"), start),
            _ => {}
        }
    }
    Ok(())
}

/// A Python replacement template (`match.expand`, `re.sub`) filled from one
/// match: `\1`, `\g<1>`, `\g<name>`, octal `\0`, `\101`, Python's
/// character escapes (`\n`, `\t`, `\\`, ...); a group that did not
/// take part is empty, as in Python 3.5+.
pub fn expand_template(caps: &impl MatchGroups, template: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some(d) if d.is_ascii_digit() => {
                let octal = |c: &char| ('0'..='7').contains(c);
                let mut num = d.to_string();
                // \0 and up to two octal digits, or three octal digits, are a
                // character (check_template refused those above \377); else a group.
                let max_octal = if d == '0' { 3 } else { 2 };
                while num.len() < max_octal && chars.peek().is_some_and(|e| if d == '0' { octal(e) } else { e.is_ascii_digit() }) {
                    num.extend(chars.next());
                }
                let is_octal = d == '0' || (num.len() == 2 && num.chars().all(|c| octal(&c)) && chars.peek().is_some_and(octal));
                if is_octal {
                    if d != '0' {
                        num.extend(chars.next());
                    }
                    let c = u32::from_str_radix(&num, 8).ok().and_then(char::from_u32).unwrap_or('\0');
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    continue;
                }
                let group = num.parse::<usize>().ok().and_then(|i| caps.number(i));
                out.extend_from_slice(group.unwrap_or_default());
            }
            Some('g') if chars.peek() == Some(&'<') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                let group = match name.parse::<usize>() {
                    Ok(i) => caps.number(i),
                    Err(_) => caps.named(&name),
                };
                out.extend_from_slice(group.unwrap_or_default());
            }
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('a') => out.push(0x07),
            Some('b') => out.push(0x08),
            Some('f') => out.push(0x0c),
            Some('v') => out.push(0x0b),
            Some('\\') => out.push(b'\\'),
            Some(other) => {
                out.push(b'\\');
                let mut buf = [0; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_path_facts_and_content() {
        let out = b"/real\x000022\0present\x0081a4 1000 1000 4 2049 77\0alice\0staff\0\0\0a\0b\nc";
        let file = parse_read(out, "/link").unwrap();
        assert_eq!(file.real_path, "/real");
        assert_eq!(file.content, b"a\0b\nc");
        let out = b"\x000022\0absent\0";
        let file = parse_read(out, "/new").unwrap();
        assert_eq!((file.real_path.as_str(), file.content.len()), ("/new", 0));
    }

    #[test]
    fn validation_failures_read_as_ansibles() {
        let m = validation_message("could not change `/x`: failed to validate (exit status 1): bad line\n");
        assert_eq!(m.as_deref(), Some("failed to validate: rc:1 error:bad line"));
        assert_eq!(validation_message("could not change `/x`: failed to validate (exit status 2):").as_deref(), Some("failed to validate: rc:2 error:"));
        assert_eq!(validation_message("could not change `/x`: disk full"), None);
    }

    #[test]
    fn lines_keep_their_endings() {
        assert_eq!(split_lines(b"a\nb"), vec![b"a\n".to_vec(), b"b".to_vec()]);
        assert!(split_lines(b"").is_empty());
    }
}
