//! `lineinfile`: make sure one line is in a file (or that matching lines are
//! not), with Ansible's rules for where a new line goes. The file is read in
//! one command, the edit is planned here, and written back atomically.
//!
//! Patterns are Python's (see `pyregex`: backreferences and look-around
//! included). Each line is matched without its trailing newline, so `$` means
//! end of line as in Python.

use crate::pyregex::PyRegex as Regex;

use crate::remote_file::WantedAttrs;
use crate::text_edit::{self, split_lines, Edit};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, Param, Rules};

/// The arguments of `lineinfile`, typed as ansible.builtin.lineinfile's docs.
pub const PARAMS: &[Param] = &[
    alias("path", &["dest", "destfile", "name"], true).path(),
    p("state").choices(&["absent", "present"]).default("present"),
    alias("regexp", &["regex"], false).str(),
    p("search_string").str(),
    alias("line", &["value"], false).str(),
    p("insertafter").str(),
    p("insertbefore").str(),
    p("backrefs").bool(),
    p("validate").str(),
    p("create").bool(),
    p("backup").bool(),
    p("firstmatch").bool(),
    crate::spec::FILE_ATTRS[0],
    crate::spec::FILE_ATTRS[1],
    crate::spec::FILE_ATTRS[2],
];

pub const RULES: Rules = Rules { mutually_exclusive: &[&["insertbefore", "insertafter"], &["regexp", "search_string"], &["backrefs", "search_string"]], ..Rules::NONE };

/// Where a new line goes when nothing matches.
#[derive(Debug, Clone)]
pub enum Anchor {
    Eof,
    Bof,
    After(Regex),
    Before(Regex),
}

/// The `state: present` request.
#[derive(Debug, Clone)]
pub struct Present {
    pub line: String,
    pub regexp: Option<Regex>,
    pub search_string: Option<String>,
    pub anchor: Anchor,
    pub backrefs: bool,
    pub firstmatch: bool,
}

/// What to remove with `state: absent`.
#[derive(Debug, Clone)]
pub enum AbsentMatch {
    Regexp(Regex),
    Search(String),
    Line(String),
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let path = args.required_str("path")?;
    let request = match parse_request(args) {
        Ok(r) => r,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let file = match text_edit::read_editable(target, &path).await? {
        Ok(file) => file,
        Err(failure) => return Ok(failure),
    };
    let lines = split_lines(&file.content);
    let (new_lines, msg, extra) = match &request {
        Request::Present(p) => {
            if !file.facts.exists() && !args.bool("create", false)? {
                return Ok(ModuleResult::failed(format!("Destination {path} does not exist !")).with("rc", 257));
            }
            let (lines, msg) = present(lines, p);
            (lines, msg, None)
        }
        Request::Absent(m) => {
            if !file.facts.exists() {
                let mut r = ModuleResult::ok();
                r.msg = Some("file not present".into());
                return Ok(r);
            }
            let (lines, found) = absent(lines, m);
            let msg = if found > 0 { format!("{found} line(s) removed") } else { String::new() };
            (lines, msg, Some(found))
        }
    };
    let new_content = new_lines.concat();
    let edit = Edit {
        new_content: (new_content != file.content || (!file.facts.exists() && !msg.is_empty())).then_some(new_content),
        msg,
        backup: args.bool("backup", false)?,
        attrs: WantedAttrs::from_args(args)?,
        diff_header: format!("{path} (content)"),
        validate: args.str("validate"),
    };
    let mut result = text_edit::finish(target, &file, edit, mode).await?;
    if let Some(warning) = empty_pattern_warning(args) {
        result = result.with("warnings", vec![warning]);
    }
    Ok(match extra {
        Some(found) => result.with("found", found),
        None => result,
    })
}

/// Ansible's warning for an empty `regexp` or `search_string`, which matches every line.
fn empty_pattern_warning(args: &Args) -> Option<String> {
    let empty = |name: &str| args.str(name).is_some_and(|v| v.is_empty());
    let name = if empty("regexp") {
        "regular expression"
    } else if empty("search_string") {
        "search string"
    } else {
        return None;
    };
    let mut msg = format!(
        "The {name} is an empty string, which will match every line in the file. \
         This may have unintended consequences, such as replacing the last line in the file rather than appending."
    );
    if name == "regular expression" {
        msg.push_str(" If this is desired, use '^' to match every line in the file and avoid this warning.");
    }
    Some(msg)
}

enum Request {
    Present(Present),
    Absent(AbsentMatch),
}

fn compile(name: &str, pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        format!("{name} `{pattern}` is not a valid regular expression: {e}")
    })
}

fn parse_request(args: &Args) -> Result<Request, String> {
    let regexp = args.str("regexp");
    let search_string = args.str("search_string");
    let line = args.str("line");
    let backrefs = args.bool("backrefs", false).map_err(|e| e.to_string())?;
    let firstmatch = args.bool("firstmatch", false).map_err(|e| e.to_string())?;
    let (before, after) = (args.str("insertbefore"), args.str("insertafter"));
    let regex = regexp.as_deref().map(|r| compile("regexp", r)).transpose()?;
    let state = args.str("state").unwrap_or_else(|| "present".into());
    match state.as_str() {
        "present" => {
            if backrefs && regex.is_none() {
                return Err("regexp is required with backrefs=true".into());
            }
            let line = line.ok_or("line is required with state=present")?;
            let anchor = match (before.as_deref(), after.as_deref()) {
                (Some("BOF"), _) | (_, Some("BOF")) => Anchor::Bof,
                (Some(b), _) => Anchor::Before(compile("insertbefore", b)?),
                (None, Some("EOF")) | (None, None) => Anchor::Eof,
                (None, Some(a)) => Anchor::After(compile("insertafter", a)?),
            };
            Ok(Request::Present(Present { line, regexp: regex, search_string, anchor, backrefs, firstmatch }))
        }
        "absent" => match (regex, search_string, line) {
            (Some(r), _, _) => Ok(Request::Absent(AbsentMatch::Regexp(r))),
            (None, Some(s), _) => Ok(Request::Absent(AbsentMatch::Search(s))),
            (None, None, Some(l)) => Ok(Request::Absent(AbsentMatch::Line(l))),
            (None, None, None) => Err("one of line, search_string, or regexp is required with state=absent".into()),
        },
        other => Err(format!("value of state must be one of: absent, present, got: {other}")),
    }
}

/// A line without its line ending.
fn bare(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// A line without its final `\n`: what a pattern is matched against.
fn without_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

fn ends_with_newline(lines: &[Vec<u8>]) -> bool {
    lines.last().is_none_or(|l| matches!(l.last(), Some(b'\n' | b'\r')))
}

/// `line` with Python's `match.expand` applied for backrefs (`\1`, `\g<name>`).
fn expand(re: &Regex, text: &[u8], template: &str) -> Vec<u8> {
    match re.captures(text) {
        Some(caps) => text_edit::expand_template(&caps, template),
        None => template.as_bytes().to_vec(),
    }
}

/// Ansible's `present`: the new lines and the message ("" when unchanged).
pub fn present(mut lines: Vec<Vec<u8>>, p: &Present) -> (Vec<Vec<u8>>, String) {
    let line = p.line.as_bytes();
    let with_nl = |l: &[u8]| [l, b"\n"].concat();
    let added = "line added".to_string();
    let mut matched: Option<usize> = None;
    let mut match_text: Option<Vec<u8>> = None;
    if let Some(re) = &p.regexp {
        for (i, l) in lines.iter().enumerate() {
            if re.is_match(without_newline(l)) {
                matched = Some(i);
                match_text = Some(without_newline(l).to_vec());
                if p.firstmatch {
                    break;
                }
            }
        }
    }
    if let Some(s) = &p.search_string {
        for (i, l) in lines.iter().enumerate() {
            if contains(l, s.as_bytes()) {
                matched = Some(i);
                if p.firstmatch {
                    break;
                }
            }
        }
    }
    let found_by_pattern = matched.is_some();
    let mut exact = false;
    let mut insert_at: Option<usize> = None;
    if !found_by_pattern {
        for (i, l) in lines.iter().enumerate() {
            if bare(l) == line {
                matched = Some(i);
                exact = true;
            } else {
                match &p.anchor {
                    Anchor::After(re) if re.is_match(without_newline(l)) => {
                        insert_at = Some(i + 1);
                        if p.firstmatch {
                            break;
                        }
                    }
                    Anchor::Before(re) if re.is_match(without_newline(l)) => {
                        insert_at = Some(i);
                        if p.firstmatch {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(index) = matched {
        let mut new_line = match (&p.regexp, &match_text) {
            (Some(re), Some(text)) if p.backrefs => expand(re, text, &p.line),
            _ => line.to_vec(),
        };
        if !new_line.ends_with(b"\n") {
            new_line.push(b'\n');
        }
        if !found_by_pattern && !exact {
            // unreachable in Ansible's logic too: an index only comes from a match
            return (lines, String::new());
        }
        if lines[index] != new_line {
            lines[index] = new_line;
            return (lines, "line replaced".into());
        }
        return (lines, String::new());
    }
    if p.backrefs {
        return (lines, String::new());
    }
    match (&p.anchor, insert_at) {
        (Anchor::Bof, _) => {
            lines.insert(0, with_nl(line));
            (lines, added)
        }
        (Anchor::Eof, _) | (_, None) => {
            if !ends_with_newline(&lines) {
                lines.push(b"\n".to_vec());
            }
            lines.push(with_nl(line));
            (lines, added)
        }
        (Anchor::After(_), Some(at)) => {
            if at == lines.len() {
                if bare(&lines[at - 1]) != line {
                    lines.push(with_nl(line));
                    return (lines, added);
                }
            } else if bare(&lines[at]) != line {
                lines.insert(at, with_nl(line));
                return (lines, added);
            }
            (lines, String::new())
        }
        (Anchor::Before(_), Some(at)) => {
            lines.insert(at, with_nl(line));
            (lines, added)
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Ansible's `absent`: the remaining lines and how many were removed.
pub fn absent(lines: Vec<Vec<u8>>, m: &AbsentMatch) -> (Vec<Vec<u8>>, usize) {
    let before = lines.len();
    let kept: Vec<Vec<u8>> = lines
        .into_iter()
        .filter(|l| match m {
            AbsentMatch::Regexp(re) => !re.is_match(without_newline(l)),
            AbsentMatch::Search(s) => !contains(l, s.as_bytes()),
            AbsentMatch::Line(line) => bare(l) != line.as_bytes(),
        })
        .collect();
    let found = before - kept.len();
    (kept, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(line: &str) -> Present {
        Present { line: line.into(), regexp: None, search_string: None, anchor: Anchor::Eof, backrefs: false, firstmatch: false }
    }

    fn run(text: &str, p: &Present) -> (String, String) {
        let (lines, msg) = present(split_lines(text.as_bytes()), p);
        (String::from_utf8(lines.concat()).unwrap(), msg)
    }

    #[test]
    fn appends_once() {
        assert_eq!(run("a\n", &req("b")), ("a\nb\n".into(), "line added".into()));
        assert_eq!(run("a\nb\n", &req("b")), ("a\nb\n".into(), String::new()));
        assert_eq!(run("a", &req("b")), ("a\nb\n".into(), "line added".into()), "a missing final newline is added");
    }

    #[test]
    fn regexp_replaces_the_last_match_or_the_first_with_firstmatch() {
        let mut p = req("port=2");
        p.regexp = Some(Regex::new("^port=").unwrap());
        assert_eq!(run("port=1\nx\nport=3\n", &p).0, "port=1\nx\nport=2\n");
        p.firstmatch = true;
        assert_eq!(run("port=1\nx\nport=3\n", &p), ("port=2\nx\nport=3\n".into(), "line replaced".into()));
        p.regexp = Some(Regex::new("^a$").unwrap());
        assert_eq!(run("a\n", &p).0, "port=2\n", "$ matches before the newline as in Python");
    }

    #[test]
    fn insert_after_and_before() {
        let mut p = req("new");
        p.anchor = Anchor::After(Regex::new("^\\[s\\]").unwrap());
        assert_eq!(run("[s]\nx\n", &p).0, "[s]\nnew\nx\n");
        assert_eq!(run("[s]\nnew\n", &p).1, "", "already after the anchor");
        p.anchor = Anchor::Before(Regex::new("^x").unwrap());
        assert_eq!(run("[s]\nx\n", &p).0, "[s]\nnew\nx\n");
        p.anchor = Anchor::Bof;
        assert_eq!(run("a\n", &p).0, "new\na\n");
        p.anchor = Anchor::After(Regex::new("^nomatch").unwrap());
        assert_eq!(run("a\n", &p).0, "a\nnew\n", "no anchor match appends");
    }

    #[test]
    fn backrefs_expand_or_leave_alone() {
        let mut p = req("\\1=on # \\g<v>");
        p.regexp = Some(Regex::new("^(\\w+)=(?P<v>off)").unwrap());
        p.backrefs = true;
        assert_eq!(run("feat=off\n", &p).0, "feat=on # off\n");
        assert_eq!(run("nothing\n", &p), ("nothing\n".into(), String::new()));
    }

    #[test]
    fn a_backreference_inside_the_pattern_matches_as_in_python() {
        let mut p = req("\\1 replaced");
        p.regexp = Some(Regex::new("^(REF) .* \\1$").unwrap());
        p.backrefs = true;
        assert_eq!(run("a\nREF this line REF\nb\n", &p).0, "a\nREF replaced\nb\n");
        assert_eq!(run("REF this line FER\n", &p).1, "");
    }

    #[test]
    fn absent_counts_removed_lines() {
        let (lines, found) = absent(split_lines(b"a\nb\na\n"), &AbsentMatch::Line("a".into()));
        assert_eq!((lines.concat(), found), (b"b\n".to_vec(), 2));
        let (_, found) = absent(split_lines(b"ab\n"), &AbsentMatch::Search("b".into()));
        assert_eq!(found, 1);
    }
}
