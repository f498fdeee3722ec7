//! `blockinfile`: keep a block of lines between two marker lines, as Ansible's
//! module does (same markers, same placement rules, same messages). Shares
//! reading and atomic writing with `lineinfile` through `text_edit`.
//!
//! Lines are split on `\n` only (Python's `splitlines` also splits on a lone
//! `\r`). `insertafter`/`insertbefore` are matched line by line, or against
//! the whole file when the pattern opens with the `(?m)` flag, as Ansible does.

use regex::bytes::Regex;
use serde_json::Value;

use crate::remote_file::WantedAttrs;
use crate::text_edit::{self, split_lines, Edit};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, Param, Rules};

/// The arguments of `blockinfile`, typed as ansible.builtin.blockinfile's docs.
pub const PARAMS: &[Param] = &[
    alias("path", &["dest", "destfile", "name"], true).path(),
    p("state").choices(&["absent", "present"]).default("present"),
    p("marker").str(),
    alias("block", &["content"], false).str(),
    p("insertafter").str(),
    p("insertbefore").str(),
    p("create").bool(),
    p("backup").bool(),
    p("marker_begin").str(),
    p("marker_end").str(),
    p("append_newline").bool(),
    p("prepend_newline").bool(),
    p("validate").str(),
    crate::spec::FILE_ATTRS[0],
    crate::spec::FILE_ATTRS[1],
    crate::spec::FILE_ATTRS[2],
];

pub const RULES: Rules = Rules { mutually_exclusive: &[&["insertbefore", "insertafter"]], ..Rules::NONE };

/// Where the block goes when its markers are not in the file yet.
#[derive(Debug, Clone)]
pub enum Place {
    Eof,
    Bof,
    After(Pattern),
    Before(Pattern),
}

/// An `insertafter`/`insertbefore` pattern, and whether it is searched in the
/// whole file (Python's `re.MULTILINE` set by a leading `(?m)`) or per line.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub regex: Regex,
    pub whole_file: bool,
}

impl Pattern {
    pub fn new(regex: Regex) -> Pattern {
        let whole_file = sets_multiline(regex.as_str());
        Pattern { regex, whole_file }
    }
}

/// Whether the pattern's leading inline flag groups (`(?m)`, `(?im)`, ...),
/// where Python takes global flags, include `m`.
fn sets_multiline(pattern: &str) -> bool {
    let mut rest = pattern;
    while let Some(group) = rest.strip_prefix("(?") {
        let Some(close) = group.find(')') else { return false };
        let flags = &group[..close];
        if flags.is_empty() || !flags.chars().all(|c| "aiLmsux".contains(c)) {
            return false;
        }
        if flags.contains('m') {
            return true;
        }
        rest = &group[close + 1..];
    }
    false
}

/// A block request with everything resolved.
#[derive(Debug, Clone)]
pub struct Block {
    pub begin: Vec<u8>,
    pub end: Vec<u8>,
    /// Empty when removing (state=absent or an empty block).
    pub body: Vec<u8>,
    pub present: bool,
    pub place: Place,
    /// A blank line before / after the block unless one is there already.
    pub prepend_newline: bool,
    pub append_newline: bool,
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let path = args.required_str("path")?;
    let block = match parse_request(args) {
        Ok(b) => b,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let file = match text_edit::read_editable(target, &path).await? {
        Ok(file) => file,
        Err(failure) => return Ok(failure),
    };
    let exists = file.facts.exists();
    if !exists && !args.bool("create", false)? {
        return Ok(ModuleResult::failed(format!("Path {path} does not exist !")).with("rc", 257));
    }
    if !exists && !block.present {
        let mut r = ModuleResult::ok();
        r.msg = Some(format!("File {path} not present"));
        return Ok(r);
    }
    let result = apply_block(&file.content, &block);
    let msg = if result == file.content && exists {
        ""
    } else if !exists {
        "File created"
    } else if block.body.is_empty() {
        "Block removed"
    } else {
        "Block inserted"
    };
    let changed = !msg.is_empty();
    let edit = Edit {
        new_content: changed.then_some(result),
        msg: msg.to_string(),
        backup: args.bool("backup", false)?,
        attrs: WantedAttrs::from_args(args)?,
        diff_header: format!("{path} (content)"),
        validate: args.str("validate"),
    };
    let mut result = text_edit::finish(target, &file, edit, mode).await?;
    // blockinfile names it `backup_file`, and only when one was made.
    match result.data.remove("backup") {
        Some(Value::String(b)) if !b.is_empty() => Ok(result.with("backup_file", b)),
        _ => Ok(result),
    }
}

fn parse_request(args: &Args) -> Result<Block, String> {
    let marker = args.str("marker").unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
    let begin = args.str("marker_begin").unwrap_or_else(|| "BEGIN".into());
    let end = args.str("marker_end").unwrap_or_else(|| "END".into());
    let present = match args.str("state").as_deref() {
        None | Some("present") => true,
        Some("absent") => false,
        Some(other) => return Err(format!("value of state must be one of: absent, present, got: {other}")),
    };
    let compile = |name: &str, p: &str| {
        Regex::new(p).map_err(|e| {
            format!("{name} `{p}` is not a regular expression stockman supports (Rust regex syntax; no look-around or backreferences): {e}")
        })
    };
    let place = match (args.str("insertbefore"), args.str("insertafter")) {
        (Some(b), None) if b == "BOF" => Place::Bof,
        (Some(b), None) => Place::Before(Pattern::new(compile("insertbefore", &b)?)),
        (None, Some(a)) if a != "EOF" => Place::After(Pattern::new(compile("insertafter", &a)?)),
        _ => Place::Eof,
    };
    let mut body = args.str("block").unwrap_or_default().into_bytes();
    if !present {
        body.clear();
    } else if !body.is_empty() && !body.ends_with(b"\n") {
        body.push(b'\n');
    }
    let line = |mark: &str| format!("{}\n", marker.replace("{mark}", mark)).into_bytes();
    let prepend_newline = args.bool("prepend_newline", false).map_err(|e| e.to_string())?;
    let append_newline = args.bool("append_newline", false).map_err(|e| e.to_string())?;
    Ok(Block { begin: line(&begin), end: line(&end), body, present, place, prepend_newline, append_newline })
}

/// The file's new content with the block put in (or taken out).
pub fn apply_block(original: &[u8], block: &Block) -> Vec<u8> {
    let mut lines = split_lines(original);
    let block_lines: Vec<Vec<u8>> = if block.body.is_empty() {
        Vec::new()
    } else {
        let mut v = vec![block.begin.clone()];
        v.extend(split_lines(&block.body));
        v.push(block.end.clone());
        v
    };
    let begin = lines.iter().rposition(|l| *l == block.begin);
    let end = lines.iter().rposition(|l| *l == block.end);
    let mut at = match (begin, end) {
        (Some(b), Some(e)) if b < e => {
            lines.drain(b..=e);
            b
        }
        (Some(b), Some(e)) => {
            lines.drain(e..=b);
            e
        }
        _ => placement(original, &lines, &block.place),
    };
    at = at.min(lines.len());
    if at > 0 && !lines[at - 1].ends_with(b"\n") {
        lines[at - 1].push(b'\n');
    }
    let blank = || b"\n".to_vec();
    if block.prepend_newline && block.present && at > 0 && lines[at - 1] != b"\n" {
        lines.insert(at, blank());
        at += 1;
    }
    let after = at + block_lines.len();
    lines.splice(at..at, block_lines);
    if block.append_newline && block.present && after < lines.len() && lines[after] != b"\n" {
        lines.insert(after, blank());
    }
    lines.concat()
}

/// Where a new block goes: after the last line matching insertafter, before the
/// last matching insertbefore, at the start, or at the end (also when nothing matches).
/// A whole-file pattern's first match places the block after the line where it
/// ends, or before the line where it starts.
fn placement(original: &[u8], lines: &[Vec<u8>], place: &Place) -> usize {
    let line_of = |offset: usize| original[..offset].iter().filter(|&&b| b == b'\n').count();
    let found = |p: &Pattern, after: bool| {
        if p.whole_file {
            p.regex.find(original).map(|m| line_of(if after { m.end() } else { m.start() }))
        } else {
            lines.iter().rposition(|l| p.regex.is_match(l.strip_suffix(b"\n").unwrap_or(l)))
        }
    };
    match place {
        Place::Eof => lines.len(),
        Place::Bof => 0,
        Place::After(p) => found(p, true).map_or(lines.len(), |i| i + 1),
        Place::Before(p) => found(p, false).unwrap_or(lines.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(body: &str, place: Place) -> Block {
        Block {
            begin: b"# BEGIN X\n".to_vec(),
            end: b"# END X\n".to_vec(),
            body: body.as_bytes().to_vec(),
            present: !body.is_empty(),
            place,
            prepend_newline: false,
            append_newline: false,
        }
    }

    fn text(original: &str, b: &Block) -> String {
        String::from_utf8(apply_block(original.as_bytes(), b)).unwrap()
    }

    #[test]
    fn inserts_at_end_then_replaces_in_place() {
        let b = block("one\n", Place::Eof);
        let first = text("a", &b);
        assert_eq!(first, "a\n# BEGIN X\none\n# END X\n");
        assert_eq!(text(&first, &b), first, "idempotent");
        let changed = text("x\n# BEGIN X\nold\n# END X\ny\n", &b);
        assert_eq!(changed, "x\n# BEGIN X\none\n# END X\ny\n");
    }

    #[test]
    fn removes_block_with_markers() {
        let b = block("", Place::Eof);
        assert_eq!(text("x\n# BEGIN X\nold\n# END X\ny\n", &b), "x\ny\n");
    }

    #[test]
    fn placement_rules() {
        let re = |p: &str| Pattern::new(Regex::new(p).unwrap());
        let after = block("b\n", Place::After(re("^a")));
        assert_eq!(text("a\nz\n", &after), "a\n# BEGIN X\nb\n# END X\nz\n");
        let before = block("b\n", Place::Before(re("^z")));
        assert_eq!(text("a\nz\n", &before), "a\n# BEGIN X\nb\n# END X\nz\n");
        assert_eq!(text("a\n", &block("b\n", Place::Bof)), "# BEGIN X\nb\n# END X\na\n");
        let nomatch = block("b\n", Place::After(re("^q")));
        assert_eq!(text("a\n", &nomatch), "a\n# BEGIN X\nb\n# END X\n");
    }

    #[test]
    fn multiline_flag_searches_the_whole_file() {
        assert!(sets_multiline("(?m)a\\nb") && sets_multiline("(?i)(?m)x") && sets_multiline("(?im)x"));
        assert!(!sets_multiline("a(?m)") && !sets_multiline("(?:m)") && !sets_multiline("(?P<m>x)"));
        let p = Pattern::new(Regex::new("(?m)^b\n^c").unwrap());
        assert_eq!(text("a\nb\nc\nd\n", &block("X\n", Place::After(p.clone()))), "a\nb\nc\n# BEGIN X\nX\n# END X\nd\n");
        assert_eq!(text("a\nb\nc\nd\n", &block("X\n", Place::Before(p))), "a\n# BEGIN X\nX\n# END X\nb\nc\nd\n");
    }

    #[test]
    fn blank_lines_around_the_block_on_request() {
        let re = |p: &str| Pattern::new(Regex::new(p).unwrap());
        let mut b = block("X\n", Place::After(re("^a")));
        b.prepend_newline = true;
        b.append_newline = true;
        let once = text("a\nz\n", &b);
        assert_eq!(once, "a\n\n# BEGIN X\nX\n# END X\n\nz\n");
        assert_eq!(text(&once, &b), once, "an existing blank line is not doubled");
        assert_eq!(text("a\n", &b), "a\n\n# BEGIN X\nX\n# END X\n", "none after the last line");
        let mut bof = block("X\n", Place::Bof);
        bof.prepend_newline = true;
        assert_eq!(text("a\n", &bof), "# BEGIN X\nX\n# END X\na\n", "none before the first line");
    }
}
