//! `replace`: every match of a regular expression in a file replaced, as
//! Python's `re.subn` with `re.MULTILINE` does, optionally only in the part
//! of the file between `after` and `before` (found with `re.DOTALL`, `after`
//! first, the shortest section when both are given). The file is read in one
//! command, edited here, and written back atomically (text_edit).
//!
//! The regex engine is Rust's `regex` crate, not Python's `re`: the syntax is
//! the same for classes, groups (`(?P<n>...)`), repetition, anchors and
//! flags, but look-around and backreferences inside the pattern are refused
//! with a clear message, Python's `\Z` is read as `\z`, and an empty match
//! right after a non-empty one is not replaced (`re.sub('x*', '-', 'axb')`
//! gives `-a--b-` in Python, `-a-b-` here). Replacement templates are
//! Python's (`\1`, `\g<name>`), not Rust's `$1`.

use regex::bytes::{Regex, RegexBuilder};
use serde_json::Value;

use crate::remote_file::WantedAttrs;
use crate::text_edit::{self, check_template, expand_template, Edit};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, req, Param};

/// The arguments of `replace`, typed as ansible.builtin.replace's docs.
pub const PARAMS: &[Param] = &[
    alias("path", &["dest", "destfile", "name"], true).path(),
    req("regexp").str(),
    p("replace").str(),
    p("after").str(),
    p("before").str(),
    p("backup").bool(),
    p("validate").str(),
    p("encoding").str(),
    crate::spec::FILE_ATTRS[0],
    crate::spec::FILE_ATTRS[1],
    crate::spec::FILE_ATTRS[2],
];

/// The validated request.
#[derive(Debug)]
pub struct Request {
    pub regexp: Regex,
    pub replace: String,
    /// The `after`/`before` pattern as Ansible builds it (for its message), compiled.
    pub section: Option<(String, Regex)>,
    pub encoding: Encoding,
}

/// How the file's bytes are text. Other Python codecs are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Latin-1: every byte is one character (U+0000..U+00FF).
    Latin1,
}

pub fn request(args: &Args) -> Result<Request, String> {
    let regexp = args.str("regexp").ok_or("missing required arguments: regexp")?;
    let regexp = compile(&regexp, "regexp", |b| b.multi_line(true))?;
    let section = match (args.str("after").filter(|s| !s.is_empty()), args.str("before").filter(|s| !s.is_empty())) {
        (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
        (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
        (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
        (None, None) => None,
    };
    let section = section.map(|p| compile(&p, "after/before", |b| b.dot_matches_new_line(true)).map(|re| (p, re))).transpose()?;
    let encoding = match args.str("encoding").unwrap_or_else(|| "utf-8".into()).to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" | "ascii" | "us-ascii" => Encoding::Utf8,
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" => Encoding::Latin1,
        other => return Err(format!("encoding `{other}` is not supported by stockman's replace (utf-8 and latin-1 are); convert the file or use lineinfile")),
    };
    Ok(Request { regexp, replace: args.str("replace").unwrap_or_default(), section, encoding })
}

fn compile(pattern: &str, what: &str, flags: impl Fn(&mut RegexBuilder) -> &mut RegexBuilder) -> Result<Regex, String> {
    // Python's end-of-text anchor; Rust spells it \z and has no \Z.
    let rust = pattern.replace(r"\Z", r"\z");
    flags(&mut RegexBuilder::new(&rust)).build().map_err(|e| {
        format!("{what} `{pattern}` is not a regular expression stockman supports (Rust regex syntax; no look-around or backreferences): {e}")
    })
}

/// The outcome of the edit on the file's text.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `after`/`before` matched nothing: Ansible stops there, changing nothing.
    NoSection(String),
    /// The new text (None: unchanged) and the number of replacements.
    Edited(Option<Vec<u8>>, usize),
    /// The replacement template is not one Python's `re.sub` accepts.
    BadTemplate(String),
}

/// Replaces in `text` (UTF-8 bytes) as Ansible's module does.
pub fn edit(req: &Request, text: &[u8]) -> Outcome {
    let (start, end) = match &req.section {
        None => (0, text.len()),
        Some((pattern, re)) => match re.captures(text).and_then(|c| c.name("subsection")) {
            Some(m) => (m.start(), m.end()),
            None => return Outcome::NoSection(format!("Pattern for before/after params did not match the given file: {pattern}")),
        },
    };
    // Checked where Ansible's re.subn checks it: after the section is found.
    let names: Vec<&str> = req.regexp.capture_names().flatten().collect();
    if let Err(e) = check_template(&req.replace, req.regexp.captures_len() - 1, &names) {
        return Outcome::BadTemplate(format!("Unable to process replace due to error: {e}"));
    }
    let section = &text[start..end];
    let mut count = 0;
    let replaced = req.regexp.replace_all(section, |caps: &regex::bytes::Captures<'_>| {
        count += 1;
        expand_template(caps, &req.replace)
    });
    if count == 0 || replaced.as_ref() == section {
        return Outcome::Edited(None, count);
    }
    let mut new = text[..start].to_vec();
    new.extend_from_slice(&replaced);
    new.extend_from_slice(&text[end..]);
    Outcome::Edited(Some(new), count)
}

fn decode(encoding: Encoding, bytes: &[u8]) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => bytes.to_vec(),
        Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect::<String>().into_bytes(),
    }
}

/// Back to the file's encoding; a character Latin-1 has no byte for is refused.
fn encode(encoding: Encoding, text: Vec<u8>) -> Result<Vec<u8>, String> {
    match encoding {
        Encoding::Utf8 => Ok(text),
        Encoding::Latin1 => String::from_utf8_lossy(&text)
            .chars()
            .map(|c| u8::try_from(u32::from(c)).map_err(|_| format!("'latin-1' codec can't encode character {c:?}")))
            .collect(),
    }
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let path = args.required_str("path")?;
    let req = match request(args) {
        Ok(r) => r,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let file = match text_edit::read_editable(target, &path).await? {
        Ok(file) => file,
        Err(failure) => return Ok(failure),
    };
    if !file.facts.exists() {
        return Ok(ModuleResult::failed(format!("Path {path} does not exist !")).with("rc", 257));
    }
    let text = decode(req.encoding, &file.content);
    let (new_text, count) = match edit(&req, &text) {
        Outcome::NoSection(msg) => {
            let mut r = ModuleResult::ok().with("rc", 0);
            r.msg = Some(msg);
            return Ok(r);
        }
        Outcome::Edited(new, count) => (new, count),
        Outcome::BadTemplate(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let new_content = match new_text.map(|t| encode(req.encoding, t)).transpose() {
        Ok(c) => c,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let content_changed = new_content.is_some();
    let edit = Edit {
        new_content,
        msg: if content_changed { format!("{count} replacements made") } else { String::new() },
        backup: args.bool("backup", false)?,
        attrs: WantedAttrs::from_args(args)?,
        diff_header: path.clone(),
        validate: args.str("validate"),
    };
    let mut result = text_edit::finish(target, &file, edit, mode).await?;
    // Ansible names the backup `backup_file`, and only when one was made;
    // its diff is of the content, so an attribute-only change has none.
    if let Some(Value::String(backup)) = result.data.remove("backup") {
        if !backup.is_empty() {
            result.data.insert("backup_file".into(), backup.into());
        }
    }
    if !content_changed {
        result.diff.clear();
    }
    Ok(if result.failed { result } else { result.with("rc", 0) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: serde_json::Value) -> Request {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    fn edited(r: &Request, text: &str) -> (Option<String>, usize) {
        match edit(r, text.as_bytes()) {
            Outcome::Edited(new, n) => (new.map(|b| String::from_utf8(b).unwrap()), n),
            Outcome::NoSection(m) | Outcome::BadTemplate(m) => panic!("{m}"),
        }
    }

    #[test]
    fn multiline_anchors_and_python_templates() {
        let r = req(json!({"regexp": r"^(\w+)=(?P<v>\d+)$", "replace": r"\g<v>=\1"}));
        assert_eq!(edited(&r, "a=1\nb=2\nc\n"), (Some("1=a\n2=b\nc\n".into()), 2));
        let r = req(json!({"regexp": "x"}));
        assert_eq!(edited(&r, "yyy"), (None, 0));
        // A match replaced by itself changes nothing (Ansible compares the text).
        let r = req(json!({"regexp": "(y)", "replace": r"\1"}));
        assert_eq!(edited(&r, "yy"), (None, 2));
        let r = req(json!({"regexp": r"end\Z", "replace": "END"}));
        assert_eq!(edited(&r, "end\nend"), (Some("end\nEND".into()), 1));
    }

    #[test]
    fn after_and_before_bound_the_section() {
        let r = req(json!({"regexp": "^v", "replace": "V", "after": r"\[b\]", "before": r"\[c\]"}));
        assert_eq!(edited(&r, "v\n[b]\nv\n[c]\nv\n"), (Some("v\n[b]\nV\n[c]\nv\n".into()), 1));
        let r = req(json!({"regexp": "v", "after": "nothere"}));
        assert_eq!(edit(&r, b"v"), Outcome::NoSection("Pattern for before/after params did not match the given file: nothere(?P<subsection>.*)".into()));
    }

    #[test]
    fn bad_templates_fail_as_python_re_sub_does() {
        let bad = |regexp: &str, replace: &str| match edit(&req(json!({"regexp": regexp, "replace": replace})), b"a.b") {
            Outcome::BadTemplate(m) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(bad(r"\.", r"\D"), r"Unable to process replace due to error: bad escape \D at position 0");
        assert_eq!(bad("(a)", r"x\2"), "Unable to process replace due to error: invalid group reference 2 at position 2");
        assert_eq!(bad("a", "x\ny\\q"), "Unable to process replace due to error: bad escape \\q at position 3 (line 2, column 2)");
        assert_eq!(bad("(?P<k>a)", r"\g<k"), "Unable to process replace due to error: missing >, unterminated name at position 3");
        assert_eq!(bad("a", r"\777"), r"Unable to process replace due to error: octal escape value \777 outside of range 0-0o377 at position 0");
        // What Python accepts stays accepted: known escapes, kept unknown punctuation, octal, \g<0>.
        let r = req(json!({"regexp": r"(?P<k>\.)", "replace": r"\g<k>\g<0>\1\.\t\012"}));
        assert!(matches!(edit(&r, b"a.b"), Outcome::Edited(Some(_), 1)));
    }

    #[test]
    fn latin1_round_trips_and_refuses_what_it_cannot_hold() {
        let bytes = decode(Encoding::Latin1, b"caf\xe9");
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), "café");
        assert_eq!(encode(Encoding::Latin1, bytes).unwrap(), b"caf\xe9");
        assert!(encode(Encoding::Latin1, "€".as_bytes().to_vec()).is_err());
    }

    #[test]
    fn look_around_is_refused_clearly() {
        let err = request(&Args::new(json!({"regexp": "(?<=a)b"}).as_object().unwrap().clone())).unwrap_err();
        assert!(err.contains("no look-around"), "{err}");
    }
}
