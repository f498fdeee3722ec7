//! `community.general.ini_file`: one option (or a whole section) of an INI
//! file, as the collection's module edits it, byte for byte: the same
//! matching of options (commented-out ones included unless
//! `modify_inactive_option: false`), the same place for new lines (after the
//! section's last line that is neither blank nor a comment), the same
//! quirks (a missing final newline is a change; a new file starts with a
//! blank line). One command reads the file and its facts; the edit is
//! planned here on the file's lines; one atomic write applies it.

use regex::Regex;
use serde_json::{json, Value};

use crate::remote_file::{self, chown_spec, diff_text, FileFacts, FileKind, Follow, WantedAttrs, WritePlan};
use crate::shell::Cmd;
use crate::spec::{alias, p, Param, Rules};
use crate::text_edit::{self, TextFile};
use crate::{args::value_to_string, Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};

/// The arguments of `ini_file`, typed as community.general.ini_file's docs.
pub const PARAMS: &[Param] = &[
    alias("path", &["dest"], true).path(),
    p("section").str(),
    p("section_has_values").list(),
    p("option").str(),
    p("value").str(),
    p("values").list(),
    p("backup").bool(),
    p("state").choices(&["absent", "present"]).default("present"),
    p("exclusive").bool(),
    p("no_extra_spaces").bool(),
    p("ignore_spaces").bool(),
    p("allow_no_value").bool(),
    p("modify_inactive_option").bool(),
    p("create").bool(),
    p("follow").bool(),
    crate::spec::FILE_ATTRS[0],
    crate::spec::FILE_ATTRS[1],
    crate::spec::FILE_ATTRS[2],
];

pub const RULES: Rules = Rules { mutually_exclusive: &[&["value", "values"]], ..Rules::NONE };

/// The name the module gives the lines before the first section, so that
/// they are a section like the others (it shows in a file only where the
/// module writes it too: a global `section_has_values` that does not hold).
const GLOBAL: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

/// "The section must have an option `option` with one of `values` (any value when empty)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub option: String,
    pub values: Vec<String>,
}

/// What the task asks for, checked and converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    pub section: Option<String>,
    pub option: Option<String>,
    /// `value` or `values`, duplicates dropped.
    pub values: Vec<String>,
    pub present: bool,
    pub exclusive: bool,
    pub no_extra_spaces: bool,
    pub ignore_spaces: bool,
    pub allow_no_value: bool,
    pub modify_inactive_option: bool,
    pub create: bool,
    pub backup: bool,
    pub follow: bool,
    pub section_has_values: Vec<Condition>,
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let present = args.str("state").is_none_or(|s| s == "present");
    let allow_no_value = args.bool("allow_no_value", false)?;
    let value = args.str("value");
    let values = match value {
        Some(v) => vec![v],
        None => string_list(args.get("values"), "values")?,
    };
    if present && !allow_no_value && values.is_empty() {
        return Err(ModuleError::BadArgs("Parameter 'value(s)' must be defined if state=present and allow_no_value=False.".into()));
    }
    let mut unique: Vec<String> = Vec::new();
    for v in values {
        if !unique.contains(&v) {
            unique.push(v);
        }
    }
    Ok(Request {
        path: args.required_str("path")?,
        section: args.str("section"),
        option: args.str("option"),
        values: unique,
        present,
        exclusive: args.bool("exclusive", true)?,
        no_extra_spaces: args.bool("no_extra_spaces", false)?,
        ignore_spaces: args.bool("ignore_spaces", false)?,
        allow_no_value,
        modify_inactive_option: args.bool("modify_inactive_option", true)?,
        create: args.bool("create", true)?,
        backup: args.bool("backup", false)?,
        follow: args.bool("follow", false)?,
        section_has_values: conditions(args.get("section_has_values"))?,
    })
}

/// A `list` of `str` as Ansible converts it: a string is split on commas
/// (not trimmed), a scalar is one item; `null` items are dropped, as the module drops them.
fn string_list(value: Option<&Value>, name: &str) -> Result<Vec<String>, ModuleError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().filter(|v| !v.is_null()).map(value_to_string).collect()),
        Some(Value::String(s)) => Ok(s.split(',').map(str::to_string).collect()),
        Some(Value::Object(_)) => Err(ModuleError::BadArgs(format!("argument '{name}' is of type dict and we were unable to convert to list"))),
        Some(other) => Ok(vec![value_to_string(other)]),
    }
}

/// `section_has_values`: a list of `{option, value | values}`.
fn conditions(value: Option<&Value>) -> Result<Vec<Condition>, ModuleError> {
    let bad = |m: String| ModuleError::BadArgs(m);
    let Some(value) = value else { return Ok(Vec::new()) };
    let Value::Array(items) = value else {
        return Err(bad("section_has_values must be a list of dictionaries with `option` and `value` or `values`".into()));
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(map) = item else {
                return Err(bad(format!("Elements value for option 'section_has_values' is of type {} and we were unable to convert to dict", if item.is_string() { "str" } else { "other" })));
            };
            if let Some(key) = map.keys().find(|k| !["option", "value", "values"].contains(&k.as_str())) {
                return Err(bad(format!("section_has_values: unsupported parameter `{key}` (supported: option, value, values)")));
            }
            let option = map.get("option").filter(|v| !v.is_null()).map(value_to_string);
            let option = option.ok_or_else(|| bad("missing required arguments: option found in section_has_values".into()))?;
            let (one, many) = (map.get("value").filter(|v| !v.is_null()), map.get("values").filter(|v| !v.is_null()));
            if one.is_some() && many.is_some() {
                return Err(bad("parameters are mutually exclusive: value|values found in section_has_values".into()));
            }
            let values = match one {
                Some(v) => vec![value_to_string(v)],
                None => string_list(many, "values")?,
            };
            Ok(Condition { option, values })
        })
        .collect()
}

/// One option line, split as the module reads it: `[ \t]*[#;]?[ \t]*OPTION[ \t]*(=|end)[ \t]*VALUE`.
struct OptionLine {
    commented: bool,
    value: String,
}

/// Recognises lines of one option, commented out or (with `active_only`) not.
struct Matcher {
    any: Regex,
    active: Regex,
}

impl Matcher {
    fn new(option: &str) -> Matcher {
        let option = regex::escape(option);
        let build = |prefix: &str| Regex::new(&format!("^{prefix}[ \t]*{option}[ \t]*(?:=|$)[ \t]*(.*)")).expect("an escaped option is a valid pattern");
        Matcher { any: build("[ \t]*([#;]?)"), active: build("()") }
    }

    /// The line (its final newline aside, as Python's `$` ignores it) as an option line.
    fn parse(&self, line: &str, active_only: bool) -> Option<OptionLine> {
        let re = if active_only { &self.active } else { &self.any };
        let caps = re.captures(line.strip_suffix('\n').unwrap_or(line))?;
        Some(OptionLine { commented: !caps[1].is_empty(), value: caps[2].to_string() })
    }
}

/// A line that is blank or a `#`/`;` comment: new options go after the last line that is neither.
fn blank_or_comment(line: &str) -> bool {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let rest = line.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with(['#', ';'])
}

/// The edit's outcome: the new text (the same when nothing changed) and the module's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub changed: bool,
    pub msg: &'static str,
    pub text: String,
}

/// The lines of the section being edited, with which of them the edit has settled.
struct Section<'r> {
    req: &'r Request,
    lines: Vec<String>,
    settled: Vec<bool>,
    values: Vec<String>,
    changed: bool,
    msg: &'static str,
    matcher: Option<Matcher>,
}

impl Section<'_> {
    fn assignment(&self, option: &str, value: &str) -> String {
        if self.req.no_extra_spaces { format!("{option}={value}\n") } else { format!("{option} = {value}\n") }
    }

    fn matches(&self, i: usize) -> Option<OptionLine> {
        self.matcher.as_ref()?.parse(&self.lines[i], !self.req.modify_inactive_option)
    }

    /// Replaces line `i` (with `ignore_spaces`, only when an active line's value differs).
    fn set_line(&mut self, i: usize, new: String) {
        let differs = match (self.req.ignore_spaces, self.matcher.as_ref()) {
            (true, Some(m)) => match m.parse(&self.lines[i], false) {
                Some(old) if !old.commented => m.parse(&new, false).is_none_or(|n| n.value != old.value),
                _ => self.lines[i] != new,
            },
            _ => self.lines[i] != new,
        };
        if differs {
            self.lines[i] = new;
            self.changed = true;
            self.msg = "option changed";
        }
        self.settled[i] = true;
    }

    /// `present`, step one: lines whose value is wanted are rewritten in the
    /// section's format (a value-less option with `allow_no_value`). Returns
    /// whether a value-less line is there.
    fn keep_wanted(&mut self, option: &str) -> bool {
        let mut no_value_present = false;
        for i in 0..self.lines.len() {
            let Some(line) = self.matches(i) else { continue };
            if !self.values.is_empty() && self.values.contains(&line.value) {
                let new = if line.value.is_empty() && self.req.allow_no_value {
                    no_value_present = true;
                    format!("{option}\n")
                } else {
                    self.assignment(option, &line.value)
                };
                self.set_line(i, new);
                self.values.retain(|v| *v != line.value);
            } else if self.values.is_empty() && self.req.allow_no_value {
                self.set_line(i, format!("{option}\n"));
                no_value_present = true;
                break;
            }
        }
        no_value_present
    }

    /// `present` and `exclusive`, step two: other lines of the option take
    /// the remaining values in order, and the rest of them go.
    fn make_exclusive(&mut self, option: &str) {
        for i in 0..self.lines.len() {
            if self.values.is_empty() {
                break;
            }
            if !self.settled[i] && self.matches(i).is_some() {
                let value = self.values.remove(0);
                self.set_line(i, self.assignment(option, &value));
            }
        }
        // The section's first line (its header) is never removed.
        for i in (1..self.lines.len()).rev() {
            if !self.settled[i] && self.matches(i).is_some() {
                self.lines.remove(i);
                self.settled.remove(i);
                self.changed = true;
                self.msg = "option changed";
            }
        }
    }

    /// `present`, step three: what is still missing goes after the section's
    /// last line that is neither blank nor a comment.
    fn insert_missing(&mut self, option: Option<&str>, no_value_present: bool) {
        let Some(at) = self.lines.iter().rposition(|l| !blank_or_comment(l)).map(|i| i + 1) else { return };
        let Some(option) = option else { return };
        let new: Vec<String> = if !self.values.is_empty() {
            self.values.iter().map(|v| self.assignment(option, v)).collect()
        } else if self.req.allow_no_value && !no_value_present {
            vec![format!("{option}\n")]
        } else {
            return;
        };
        self.lines.splice(at..at, new);
        self.changed = true;
        self.msg = "option added";
    }

    /// `absent`: the option's active lines (with `exclusive: false`, only
    /// those with one of the values), or with no option the whole section.
    fn remove(&mut self, option: Option<&str>) {
        let kept: Vec<String> = match (option, self.matcher.as_ref()) {
            (Some(_), Some(m)) if self.req.exclusive => self.lines.iter().filter(|l| m.parse(l, true).is_none()).cloned().collect(),
            (Some(_), Some(m)) if !self.values.is_empty() => {
                self.lines.iter().filter(|l| m.parse(l, true).is_none_or(|o| !self.values.contains(&o.value))).cloned().collect()
            }
            (Some(_), _) => return,
            (None, _) => {
                if !self.lines.is_empty() {
                    self.lines.clear();
                    self.changed = true;
                    self.msg = "section removed";
                }
                return;
            }
        };
        if kept != self.lines {
            self.lines = kept;
            self.changed = true;
            self.msg = "option changed";
        }
    }
}

/// Where the wanted section is among `lines` (`start..end`, `end` being the
/// next header), or None: the first section of that name whose lines meet
/// every condition.
fn find_section(lines: &[String], name: &str, conditions: &[Condition]) -> Option<(usize, usize)> {
    let header = Regex::new(&format!(r"^\[\s*{}\s*\]", regex::escape(name.trim()))).expect("an escaped name is a valid pattern");
    let mut start = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(s) = start {
            if line.starts_with('[') {
                if meets(conditions, &lines[s..i]) {
                    return Some((s, i));
                }
                start = None;
            }
        }
        if header.is_match(line) {
            start = Some(i);
        }
    }
    None
}

/// Every condition holds in `lines` (commented-out options count, as in the module).
fn meets(conditions: &[Condition], lines: &[String]) -> bool {
    conditions.iter().all(|c| {
        let m = Matcher::new(&c.option);
        lines.iter().any(|l| m.parse(l, false).is_some_and(|o| c.values.is_empty() || c.values.contains(&o.value)))
    })
}

/// A file's text as the module reads it: UTF-8 with an optional BOM
/// dropped, `\r\n` and `\r` read as `\n` (Python's universal newlines).
pub fn decode(content: &[u8]) -> Result<String, String> {
    let content = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
    let text = std::str::from_utf8(content).map_err(|e| format!("the file is not UTF-8 text ({e}); ini_file reads it as UTF-8"))?;
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// The edit, pure: `text` (as [`decode`] gives it; empty for a new file) edited as `req` asks.
pub fn edit(req: &Request, text: &str) -> Outcome {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut changed = false;
    if lines.is_empty() {
        lines.push("\n".into());
    }
    let last = lines.last_mut().expect("one line at least");
    if !last.ends_with('\n') {
        last.push('\n');
        changed = true;
    }
    // The global lines become a section of their own, and a last header ends the last section.
    lines.insert(0, format!("[{GLOBAL}]"));
    lines.push("[".into());
    let name = req.section.as_deref().filter(|s| !s.is_empty()).unwrap_or(GLOBAL);
    let found = find_section(&lines, name, &req.section_has_values);
    let (start, end) = found.unwrap_or((0, 0));
    let option = req.option.as_deref().filter(|o| !o.is_empty());
    let mut section = Section {
        req,
        lines: lines[start..end].to_vec(),
        settled: vec![false; end - start],
        values: req.values.clone(),
        changed,
        msg: "OK",
        matcher: req.option.as_deref().map(Matcher::new),
    };
    if req.present {
        let no_value_present = option.is_some_and(|o| section.keep_wanted(o));
        if req.exclusive && !req.allow_no_value {
            section.make_exclusive(req.option.as_deref().unwrap_or(""));
        }
        section.insert_missing(option, no_value_present);
    } else {
        section.remove(option);
    }
    let (mut changed, mut msg) = (section.changed, section.msg);
    let mut out: Vec<String> = lines[..start].iter().cloned().chain(section.lines.iter().cloned()).chain(lines[end..].iter().cloned()).collect();
    out.remove(0);
    out.pop();
    if found.is_none() && req.present {
        (changed, msg) = (true, new_section(req, name, option, section.values.clone(), &mut out));
    }
    Outcome { changed, msg, text: out.concat() }
}

/// Appends the section `name` (with the lines its conditions ask for and
/// the option's); the message says what was added.
fn new_section(req: &Request, name: &str, option: Option<&str>, mut values: Vec<String>, out: &mut Vec<String>) -> &'static str {
    let line = |o: &str, v: &str| if req.no_extra_spaces { format!("{o}={v}\n") } else { format!("{o} = {v}\n") };
    out.push(format!("[{name}]\n"));
    for c in &req.section_has_values {
        if Some(c.option.as_str()) != req.option.as_deref() {
            if !c.values.is_empty() {
                out.extend(c.values.iter().map(|v| line(&c.option, v)));
            } else if req.allow_no_value {
                out.push(format!("{}\n", c.option));
            }
        } else if !req.exclusive {
            for v in &c.values {
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
    }
    match option {
        Some(o) if !values.is_empty() => out.extend(values.iter().map(|v| line(o, v))),
        Some(o) if req.allow_no_value => out.push(format!("{o}\n")),
        _ => return "only section added",
    }
    "section and option added"
}

/// Prints `path`'s own facts (not following a link), then what
/// [`text_edit::read_cmd`] prints: the real path, the facts through links, the content.
fn probe_cmd(path: &str) -> Cmd {
    remote_file::probe_cmd(&[path], Follow::No, false).then("&&", text_edit::read_cmd(path))
}

/// The bytes after the first `n` NUL-terminated fields.
fn after_fields(bytes: &[u8], n: usize) -> Option<&[u8]> {
    (0..n).try_fold(bytes, |rest, _| rest.iter().position(|&b| b == 0).map(|end| &rest[end + 1..]))
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let attrs = WantedAttrs::from_args(args)?;
    let out = target.exec(probe_cmd(&req.path).as_str(), None).await?;
    let parsed = (out.rc == 0)
        .then(|| {
            let own = remote_file::parse_probe(&mut remote_file::Fields::new(&out.stdout), 1)?.files.remove(0);
            let used = if own.exists() { 7 } else { 2 };
            Some((own, text_edit::parse_read(after_fields(&out.stdout, used)?, &req.path)?))
        })
        .flatten();
    let Some((own, file)) = parsed else {
        return Ok(ModuleResult::failed(format!("could not read `{}`: {}", req.path, out.stderr_str().trim())));
    };
    if file.facts.kind == FileKind::Directory {
        return Ok(ModuleResult::failed(format!("{} is a directory; ini_file edits a file", req.path)));
    }
    // Edits go through a link only with `follow`; without it the link is replaced by a file.
    let dest = if req.follow && own.kind == FileKind::Link { file.real_path.clone() } else { req.path.clone() };
    if !file.facts.exists() && !req.create {
        return Ok(ModuleResult::failed(format!("Destination {dest} does not exist!")).with("rc", 257));
    }
    let before = match decode(&file.content) {
        Ok(text) => text,
        Err(msg) => return Ok(ModuleResult::failed(format!("{}: {msg}", req.path))),
    };
    let outcome = edit(&req, &before);
    let header = format!("{} (content)", req.path);
    let shown = |s: &str| if mode.diff { diff_text(s.as_bytes()) } else { String::new() };
    let mut result = ModuleResult::changed(outcome.changed)
        .with("diff", json!({"before": shown(&before), "after": shown(&outcome.text), "before_header": header, "after_header": header}))
        .with("path", req.path.clone());
    result.msg = Some(outcome.msg.to_string());
    if mode.diff {
        result.diff.push(FileDiff { before_header: header.clone(), after_header: header, before: shown(&before), after: shown(&outcome.text) });
    }
    if mode.check {
        return Ok(with_path_facts(result, &own));
    }
    apply(&req, &attrs, &file, &own, &dest, &outcome, result, target).await
}

/// Writes the new text (mode and owner kept, or as asked) and fixes the
/// attributes of an unchanged file; the result gets the path's facts.
#[allow(clippy::too_many_arguments)]
async fn apply<T: Target>(
    req: &Request,
    attrs: &WantedAttrs,
    file: &TextFile,
    own: &FileFacts,
    dest: &str,
    outcome: &Outcome,
    mut result: ModuleResult,
    target: &T,
) -> Result<ModuleResult, ModuleError> {
    let exists = file.facts.exists();
    let current = if exists { file.facts.mode } else { 0o666 & !file.umask };
    let changes = if exists { attrs.changes(&file.facts, file.umask) } else { Default::default() };
    let applied = if outcome.changed {
        let plan = WritePlan {
            dest: dest.to_string(),
            mode: attrs.mode.as_ref().map_or(current, |m| m.resolve(current, false, file.umask)),
            chown: chown_spec(attrs.owner.as_deref(), attrs.group.as_deref()),
            keep_ids: exists.then_some((file.facts.uid, file.facts.gid)),
            create_dir: !exists,
            backup: req.backup && exists,
            size: outcome.text.len(),
        };
        match remote_file::apply(target, &plan.cmd(), Some(outcome.text.as_bytes()), 1, dest).await? {
            Ok(applied) => {
                // A new file has no backup: the module still returns an empty `backup_file`.
                if req.backup {
                    result = result.with("backup_file", applied.leading[0].clone());
                }
                Some(applied.facts)
            }
            Err(msg) => return Ok(ModuleResult::failed(msg)),
        }
    } else if let Some(cmd) = changes.apply_cmd(dest, false) {
        let cmd = cmd.then("&&", Cmd::new("printf").arg("\\0")).then("&&", remote_file::probe_cmd(&[dest], Follow::No, false));
        match remote_file::apply(target, &cmd, None, 1, dest).await? {
            Ok(applied) => Some(applied.facts),
            Err(msg) => return Ok(ModuleResult::failed(msg)),
        }
    } else {
        None
    };
    result.changed = outcome.changed || !changes.is_empty();
    let facts = match applied {
        // Through a followed link the result still describes the link itself.
        Some(facts) if dest == req.path => facts,
        Some(_) => remote_file::probe(target, &[&req.path], Follow::No, false).await?.files.remove(0),
        None => own.clone(),
    };
    Ok(with_path_facts(result, &facts))
}

/// The path's mode, owner, size and state, as Ansible adds them to a result
/// with a `path`: nothing at all for a path that does not exist.
fn with_path_facts(result: ModuleResult, facts: &FileFacts) -> ModuleResult {
    if facts.exists() { remote_file::with_file_fields(result, facts) } else { result }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Request {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    fn edited(v: Value, text: &str) -> (bool, &'static str, String) {
        let o = edit(&req(v), text);
        (o.changed, o.msg, o.text)
    }

    #[test]
    fn a_new_file_starts_with_a_blank_line() {
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "value": "v"}), "");
        assert_eq!(r, (true, "section and option added", "\n[s]\no = v\n".into()));
        let r = edited(json!({"path": "/x", "option": "o", "value": "v", "no_extra_spaces": true}), "");
        assert_eq!(r, (true, "option added", "o=v\n\n".into()));
    }

    #[test]
    fn options_are_changed_in_place_and_added_after_the_last_setting() {
        let text = "[s]\na = 1\n# o = old\n\n[t]\no = 2\n";
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "value": "v"}), text);
        assert_eq!(r, (true, "option changed", "[s]\na = 1\no = v\n\n[t]\no = 2\n".into()));
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "value": "v", "modify_inactive_option": false}), text);
        assert_eq!(r, (true, "option added", "[s]\na = 1\no = v\n# o = old\n\n[t]\no = 2\n".into()));
        let same = edited(json!({"path": "/x", "section": "t", "option": "o", "value": "2"}), text);
        assert_eq!(same, (false, "OK", text.into()));
    }

    #[test]
    fn values_exclusive_or_not() {
        let text = "[s]\no = 1\no = 2\no = 3\n";
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "values": ["3", "4"]}), text);
        assert_eq!(r.2, "[s]\no = 4\no = 3\n");
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "values": ["3", "4"], "exclusive": false}), text);
        assert_eq!(r.2, "[s]\no = 1\no = 2\no = 3\no = 4\n");
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "values": ["2"], "state": "absent", "exclusive": false}), text);
        assert_eq!(r.2, "[s]\no = 1\no = 3\n");
        let r = edited(json!({"path": "/x", "section": "s", "state": "absent"}), "a=1\n[s]\no = 1\n[t]\n");
        assert_eq!(r, (true, "section removed", "a=1\n[t]\n".into()));
    }

    #[test]
    fn spaces_no_value_and_a_missing_newline() {
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "value": "1", "ignore_spaces": true}), "[s]\no=1\n");
        assert_eq!(r, (false, "OK", "[s]\no=1\n".into()));
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "allow_no_value": true}), "[s]\na = 1");
        assert_eq!(r, (true, "option added", "[s]\na = 1\no\n".into()));
        let r = edited(json!({"path": "/x", "section": "s", "option": "o", "value": "1", "state": "absent"}), "[s]");
        assert_eq!(r, (true, "OK", "[s]\n".into()), "the final newline alone is a change");
    }

    #[test]
    fn section_has_values_picks_the_section() {
        let text = "[u]\nname = a\nx = 1\n[u]\nname = b\nx = 1\n";
        let cond = json!([{"option": "name", "value": "b"}]);
        let r = edited(json!({"path": "/x", "section": "u", "section_has_values": cond, "option": "x", "value": "2"}), text);
        assert_eq!(r.2, "[u]\nname = a\nx = 1\n[u]\nname = b\nx = 2\n");
        let cond = json!([{"option": "name", "value": "c"}]);
        let r = edited(json!({"path": "/x", "section": "u", "section_has_values": cond, "option": "x", "value": "2"}), text);
        assert_eq!(r, (true, "section and option added", format!("{text}[u]\nname = c\nx = 2\n")));
    }

    #[test]
    fn text_is_read_as_python_reads_it() {
        assert_eq!(decode(b"\xef\xbb\xbfa\r\nb\rc").unwrap(), "a\nb\nc");
        assert!(decode(b"\xff").is_err());
    }

    #[test]
    fn bad_arguments_use_the_modules_words() {
        let refused = request(&Args::new(json!({"path": "/x", "option": "o"}).as_object().unwrap().clone())).unwrap_err();
        assert_eq!(refused.to_string(), "Parameter 'value(s)' must be defined if state=present and allow_no_value=False.");
    }
}
