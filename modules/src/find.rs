//! `find`: files under `paths` chosen by name, age, size, type, mode and
//! content, reported with Ansible's stat keys. One GNU `find -printf` per run
//! lists every entry with its lstat fields; the choosing is done here, walking
//! the listing in the order Python's `os.walk` would (each directory's files,
//! then its subdirectories, then into each subdirectory), so `examined`,
//! `limit` and the order of `files` are Ansible's. `contains` and
//! `get_checksum` need the files' content: a second command greps / hashes
//! only the candidates.
//!
//! Differences: names match with Python's fnmatch rules or (`use_regex`) with
//! Rust's `regex` (see `replace`); `contains` is matched by `grep -P` (PCRE,
//! byte-wise in the C locale) instead of Python's `re` on decoded text, and
//! `encoding` is not used; with `follow`, stat fields are the link target's
//! (GNU find's `-L`), where Ansible reports the link itself.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{json, Map, Value};

use crate::listarg::{choice, int, list};
use crate::mode::ModeSpec;
use crate::remote_file::Fields;
use crate::shell::Cmd;
use crate::{Args, ModuleError, ModuleResult, Target};
use crate::spec::{alias, p, Param};

/// The arguments of `find`, typed as ansible.builtin.find's docs.
pub const PARAMS: &[Param] = &[
    alias("paths", &["name", "path"], true).list(),
    alias("patterns", &["pattern"], false).list(),
    alias("excludes", &["exclude"], false).list(),
    p("contains").str(),
    p("read_whole_file").bool(),
    p("file_type").choices(&["any", "directory", "file", "link"]).default("file"),
    p("age").str(),
    p("age_stamp").choices(&["atime", "ctime", "mtime"]).default("mtime"),
    p("size").str(),
    p("recurse").bool(),
    p("hidden").bool(),
    p("follow").bool(),
    p("get_checksum").bool(),
    alias("checksum_algorithm", &["checksum", "checksum_algo"], false).choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]).default("sha1"),
    p("use_regex").bool(),
    p("depth").int(),
    p("mode"),
    p("exact_mode").bool(),
    p("encoding").str(),
    p("limit").int(),
];

/// `$1` = H or L (symlinks followed on the command line only, or always),
/// `$2` = `-maxdepth` (empty: none), then the paths. Prints the time, then per
/// path `dir PATH` + one record per entry + `end`, or `notdir PATH`.
const LIST_SCRIPT: &str = r#"follow=$1 max=$2; shift 2
export LC_ALL=C
printf '%s\0' "$(date +%s.%N)"
for p do
  case $p in "~"|"~/"*) p=$HOME${p#"~"} ;; esac
  if [ -d "$p" ]; then
    printf 'dir\0%s\0' "$p"
    find -$follow "$p" -mindepth 1 ${max:+-maxdepth "$max"} -printf '%d\0%y\0%Y\0%m\0%U\0%G\0%s\0%i\0%D\0%n\0%A@\0%T@\0%C@\0%u\0%g\0%f\0'
    printf 'end\0'
  else
    printf 'notdir\0%s\0' "$p"
  fi
done"#;

/// `$1` = the `contains` pattern (empty: none), `$2` = 1 for the whole file,
/// `$3` = the checksum program (empty: none), then files. Prints each file
/// that contains the pattern, with its checksum (or empty).
const CONTENT_SCRIPT: &str = r#"pat=$1 whole=$2 sum=$3; shift 3
export LC_ALL=C
for f do
  if [ -n "$pat" ]; then
    if [ "$whole" = 1 ]; then grep -qPz -- "$pat" "$f" 2>/dev/null || continue
    else grep -qP -- "^(?:$pat)" "$f" 2>/dev/null || continue; fi
  fi
  h=
  if [ -n "$sum" ]; then h=$("$sum" < "$f" 2>/dev/null) && h=${h%% *}; fi
  printf '%s\0%s\0' "$f" "$h"
done"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileType {
    Any,
    Directory,
    File,
    Link,
}

/// The validated request.
#[derive(Debug)]
pub struct Request {
    paths: Vec<String>,
    patterns: Vec<Regex>,
    excludes: Vec<Regex>,
    contains: Option<String>,
    read_whole_file: bool,
    file_type: FileType,
    age: Option<f64>,
    age_stamp: usize,
    size: Option<i64>,
    recurse: bool,
    hidden: bool,
    follow: bool,
    checksum: Option<&'static str>,
    depth: Option<i64>,
    mode: Option<(u32, bool)>,
    limit: Option<usize>,
}

pub fn request(args: &Args) -> Result<Result<Request, ModuleResult>, ModuleError> {
    let use_regex = args.bool("use_regex", false)?;
    let matchers = |name: &str| -> Result<Vec<Regex>, ModuleError> {
        list(args, name)?.iter().map(|p| name_matcher(p, use_regex).map_err(ModuleError::BadArgs)).collect()
    };
    let mut patterns = matchers("patterns")?;
    if patterns.is_empty() {
        patterns.push(name_matcher(if use_regex { ".*" } else { "*" }, use_regex).map_err(ModuleError::BadArgs)?);
    }
    let file_type = match choice(args, "file_type", &["any", "directory", "file", "link"])? {
        Some("any") => FileType::Any,
        Some("directory") => FileType::Directory,
        Some("link") => FileType::Link,
        _ => FileType::File,
    };
    let age_stamp = match choice(args, "age_stamp", &["atime", "ctime", "mtime"])? {
        Some("atime") => 0,
        Some("ctime") => 2,
        _ => 1,
    };
    let checksum = match choice(args, "checksum_algorithm", &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])? {
        Some("md5") => "md5sum",
        Some("sha224") => "sha224sum",
        Some("sha256") => "sha256sum",
        Some("sha384") => "sha384sum",
        Some("sha512") => "sha512sum",
        _ => "sha1sum",
    };
    let age = match args.str("age") {
        None => None,
        Some(text) => match with_unit(&text, &[('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604800)]) {
            Some(seconds) => Some(seconds as f64),
            None => return Ok(Err(ModuleResult::failed("failed to process age").with("age", text))),
        },
    };
    let size = match args.str("size") {
        None => None,
        Some(text) => match with_unit(&text, &[('b', 1), ('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30), ('t', 1 << 40)]) {
            Some(bytes) => Some(bytes),
            None => return Ok(Err(ModuleResult::failed("failed to process size").with("size", text))),
        },
    };
    let limit = match int(args, "limit")? {
        Some(n) if n <= 0 => return Ok(Err(ModuleResult::failed(format!("limit cannot be {n} (use None for unlimited)")))),
        n => n.map(|n| n as usize),
    };
    let mode = match args.get("mode") {
        None => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(Value::String(text)) => {
            let spec = ModeSpec::parse(text).map_err(|e| ModuleError::BadArgs(e.to_string()))?;
            Some((spec.resolve(0, false, 0) & 0o7777, args.bool("exact_mode", true)?))
        }
        Some(other) => {
            let kind = if other.is_number() { "int" } else { "non-string" };
            return Ok(Err(ModuleResult::failed(format!("argument 'mode' is not a string and conversion is not allowed, value is of type {kind}"))));
        }
    };
    let paths = list(args, "paths")?;
    if paths.is_empty() {
        return Err(ModuleError::BadArgs("missing required arguments: paths".into()));
    }
    Ok(Ok(Request {
        paths,
        patterns,
        excludes: matchers("excludes")?,
        contains: args.str("contains"),
        read_whole_file: args.bool("read_whole_file", false)?,
        file_type,
        age,
        age_stamp,
        size,
        recurse: args.bool("recurse", false)?,
        hidden: args.bool("hidden", false)?,
        follow: args.bool("follow", false)?,
        checksum: args.bool("get_checksum", false)?.then_some(checksum),
        depth: int(args, "depth")?.filter(|&d| d != 0),
        mode,
        limit,
    }))
}

/// `-5d`, `10k`: Ansible's `^(-?\d+)(unit)?$`, case-insensitive.
fn with_unit(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let (digits, factor) = match units.iter().find(|(u, _)| lower.ends_with(*u)) {
        Some((u, f)) => (&lower[..lower.len() - u.len_utf8()], *f),
        None => (lower.as_str(), 1),
    };
    let body = digits.strip_prefix('-').unwrap_or(digits);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(factor)
}

/// A name pattern: Python's `fnmatch` (whole name) or `re.match` (from the start).
fn name_matcher(pattern: &str, use_regex: bool) -> Result<Regex, String> {
    let source = if use_regex { format!(r"\A(?:{})", pattern.replace(r"\Z", r"\z")) } else { crate::fnmatch::translate(pattern) };
    Regex::new(&source).map_err(|e| format!("pattern `{pattern}` is not one stockman supports (Rust regex syntax; no look-around or backreferences): {e}"))
}

/// One entry of the listing: lstat fields (stat with `follow`) and its name.
#[derive(Debug, Clone)]
struct Entry {
    depth: usize,
    kind: u8,
    /// os.walk puts it among the directories (a link to one too).
    walks_as_dir: bool,
    mode: u32,
    uid: u64,
    gid: u64,
    size: i64,
    inode: u64,
    dev: u64,
    nlink: u64,
    times: [f64; 3],
    owner: String,
    group: String,
    name: String,
    children: Vec<usize>,
}

/// What the target listed for one of `paths`.
enum Listed {
    Dir { path: String, entries: Vec<Entry>, top: Vec<usize> },
    NotDir(String),
}

fn parse_listing(output: &[u8]) -> Option<(f64, Vec<Listed>)> {
    let mut fields = Fields::new(output);
    let now: f64 = fields.next_field()?.parse().ok()?;
    let mut listed = Vec::new();
    while let Some(tag) = fields.next_field() {
        let path = fields.next_field()?;
        if tag == "notdir" {
            listed.push(Listed::NotDir(path));
            continue;
        }
        let mut entries: Vec<Entry> = Vec::new();
        let mut top = Vec::new();
        // The chain of open directories: entry at depth d is a child of stack[d-2].
        let mut stack: Vec<usize> = Vec::new();
        loop {
            let first = fields.next_field()?;
            if first == "end" {
                break;
            }
            let f: Vec<String> = std::iter::once(Some(first)).chain((0..15).map(|_| fields.next_field())).collect::<Option<_>>()?;
            let depth: usize = f[0].parse().ok()?;
            let (uid, gid) = (f[4].parse().ok()?, f[5].parse().ok()?);
            let name_or_empty = |name: &str, id: &str| if name == id { String::new() } else { name.to_string() };
            let entry = Entry {
                depth,
                kind: f[1].bytes().next()?,
                walks_as_dir: f[2] == "d",
                mode: u32::from_str_radix(&f[3], 8).ok()?,
                uid,
                gid,
                size: f[6].parse().ok()?,
                inode: f[7].parse().ok()?,
                dev: f[8].parse().ok()?,
                nlink: f[9].parse().ok()?,
                times: [stat_time(&f[10])?, stat_time(&f[11])?, stat_time(&f[12])?],
                owner: name_or_empty(&f[13], &f[4]),
                group: name_or_empty(&f[14], &f[5]),
                name: f[15].clone(),
                children: Vec::new(),
            };
            let index = entries.len();
            stack.truncate(depth - 1);
            match stack.last() {
                Some(&parent) => entries[parent].children.push(index),
                None => top.push(index),
            }
            entries.push(entry);
            stack.push(index);
        }
        listed.push(Listed::Dir { path, entries, top });
    }
    Some((now, listed))
}

/// A time as Python's `st_mtime` makes it: seconds + nanoseconds * 1e-9.
fn stat_time(text: &str) -> Option<f64> {
    let (sec, frac) = text.split_once('.').unwrap_or((text, "0"));
    let nanos: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    Some(sec.parse::<i64>().ok()? as f64 + nanos.parse::<i64>().ok()? as f64 * 1e-9)
}

/// Python's `os.path.normpath` for the paths reported.
fn normpath(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// A file that passed every test but its content: the second command decides.
struct Found {
    path: String,
    entry: Entry,
}

/// The walk's outcome.
struct Walk {
    found: Vec<Found>,
    examined: usize,
    limit_reached: bool,
}

impl Request {
    fn names_match(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(name)) && !self.excludes.iter().any(|e| e.is_match(name))
    }

    fn age_ok(&self, e: &Entry, now: f64) -> bool {
        match self.age {
            None => true,
            Some(age) if age >= 0.0 => now - e.times[self.age_stamp] >= age,
            Some(age) => now - e.times[self.age_stamp] <= -age,
        }
    }

    fn size_ok(&self, e: &Entry) -> bool {
        match self.size {
            None => true,
            Some(size) if size >= 0 => e.size >= size,
            Some(size) => e.size <= -size,
        }
    }

    fn mode_ok(&self, e: &Entry) -> bool {
        match self.mode {
            None => true,
            Some((mode, true)) => e.mode & 0o7777 == mode,
            Some((mode, false)) => e.mode & mode != 0,
        }
    }

    /// Whether `e` is reported, given which files passed the content test.
    fn chosen(&self, e: &Entry, now: f64, content_ok: &dyn Fn() -> bool) -> bool {
        let common = self.names_match(&e.name) && self.age_ok(e, now) && self.mode_ok(e);
        match self.file_type {
            FileType::Any => common && (e.kind != b'f' || self.size_ok(e)),
            FileType::Directory => e.kind == b'd' && common,
            FileType::File => e.kind == b'f' && common && self.size_ok(e) && content_ok(),
            FileType::Link => e.kind == b'l' && common,
        }
    }

    /// os.walk over one listed directory, as Ansible's loop runs it.
    fn walk(&self, root: &str, entries: &[Entry], top: &[usize], now: f64, content: &dyn Fn(&str) -> bool, walk: &mut Walk, total: &mut usize) {
        let mut pending: Vec<(String, Vec<usize>)> = vec![(root.to_string(), top.to_vec())];
        while let Some((dir, children)) = pending.pop() {
            walk.examined += children.len();
            let (dirs, files): (Vec<usize>, Vec<usize>) = children.iter().partition(|&&i| entries[i].walks_as_dir);
            let mut descend = dirs.clone();
            for &i in files.iter().chain(&dirs) {
                let e = &entries[i];
                let path = format!("{}/{}", dir.trim_end_matches('/'), e.name);
                let shown = normpath(&path);
                // Ansible stops descending here and skips its limit check.
                if self.depth.is_some_and(|d| e.depth as i64 > d) {
                    descend.clear();
                    continue;
                }
                if (self.hidden || !e.name.starts_with('.')) && self.chosen(e, now, &|| content(&shown)) {
                    walk.found.push(Found { path: shown, entry: e.clone() });
                    *total += 1;
                }
                if Some(*total) == self.limit {
                    walk.limit_reached = true;
                    break;
                }
            }
            if !self.recurse || Some(*total) == self.limit {
                return;
            }
            // Depth first, in listing order: push in reverse.
            for &i in descend.iter().rev() {
                if entries[i].kind == b'd' || self.follow {
                    pending.push((format!("{}/{}", dir.trim_end_matches('/'), entries[i].name), entries[i].children.clone()));
                }
            }
        }
    }
}

/// Ansible's stat dictionary of one file.
fn statinfo(path: &str, e: &Entry) -> Map<String, Value> {
    let m = e.mode;
    let bit = |b: u32| m & b != 0;
    let v = json!({
        "path": path, "mode": format!("{:04o}", m & 0o7777),
        "isdir": e.kind == b'd', "ischr": e.kind == b'c', "isblk": e.kind == b'b', "isreg": e.kind == b'f',
        "isfifo": e.kind == b'p', "islnk": e.kind == b'l', "issock": e.kind == b's',
        "uid": e.uid, "gid": e.gid, "size": e.size, "inode": e.inode, "dev": e.dev, "nlink": e.nlink,
        "atime": e.times[0], "mtime": e.times[1], "ctime": e.times[2], "gr_name": e.group, "pw_name": e.owner,
        "wusr": bit(0o200), "rusr": bit(0o400), "xusr": bit(0o100), "wgrp": bit(0o020), "rgrp": bit(0o040), "xgrp": bit(0o010),
        "woth": bit(0o002), "roth": bit(0o004), "xoth": bit(0o001), "isuid": bit(0o4000), "isgid": bit(0o2000),
    });
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub fn list_cmd(req: &Request) -> Cmd {
    let max = match (req.recurse, req.depth) {
        (false, _) => "1".to_string(),
        (true, Some(d)) if d > 0 => (d + 1).to_string(),
        (true, _) => String::new(),
    };
    let mut cmd = Cmd::new("/bin/sh").flag("-c").arg(LIST_SCRIPT).arg("sh").arg(if req.follow { "L" } else { "H" }).arg(max);
    for path in &req.paths {
        cmd = cmd.arg(path);
    }
    cmd
}

pub async fn run<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let req = match request(args)? {
        Ok(r) => r,
        Err(failed) => return Ok(failed),
    };
    let out = target.exec(list_cmd(&req).as_str(), None).await?;
    let Some((now, listed)) = parse_listing(&out.stdout) else {
        return Ok(ModuleResult::failed(format!("unexpected output from find on the host: {}", out.stderr_str().trim())));
    };
    let mut skipped = skipped_from_stderr(&out.stderr_str());
    let mut warnings = Vec::new();
    // Content and checksums are asked for only when needed, in one more command.
    let needs_content = req.contains.is_some() && req.file_type == FileType::File;
    let content: HashMap<String, String> = if needs_content {
        let candidates = walk_all(&req, &listed, now, &|_| true).found;
        read_content(target, &req, candidates.iter().filter(|f| f.entry.kind == b'f').map(|f| f.path.as_str())).await?
    } else {
        HashMap::new()
    };
    let walk = walk_all(&req, &listed, now, &|path| !needs_content || content.contains_key(path));
    let sums = match (req.checksum, needs_content) {
        (None, _) => HashMap::new(),
        (Some(_), true) => content,
        (Some(_), false) => read_content(target, &req, walk.found.iter().filter(|f| f.entry.kind == b'f').map(|f| f.path.as_str())).await?,
    };
    for l in &listed {
        if let Listed::NotDir(path) = l {
            let why = format!("'{path}' is not a directory");
            warnings.push(Value::String(format!("Skipped '{path}' path due to this access issue: {why}\n")));
            skipped.insert(path.clone(), Value::String(why));
        }
    }
    let files: Vec<Value> = walk
        .found
        .iter()
        .map(|f| {
            let mut info = statinfo(&f.path, &f.entry);
            if let (Some(sum), true) = (sums.get(&f.path), f.entry.kind == b'f') {
                info.insert("checksum".into(), Value::String(sum.clone()));
            }
            Value::Object(info)
        })
        .collect();
    let msg = if !warnings.is_empty() {
        "Not all paths examined, check warnings for details"
    } else if walk.limit_reached {
        "Limit of matches reached"
    } else {
        "All paths examined"
    };
    let mut result = ModuleResult::ok()
        .with("files", files.clone())
        .with("matched", files.len())
        .with("examined", walk.examined)
        .with("skipped_paths", Value::Object(skipped));
    result.msg = Some(msg.into());
    if !warnings.is_empty() {
        result = result.with("warnings", warnings);
    }
    Ok(result)
}

fn walk_all(req: &Request, listed: &[Listed], now: f64, content: &dyn Fn(&str) -> bool) -> Walk {
    let mut walk = Walk { found: Vec::new(), examined: 0, limit_reached: false };
    let mut total = 0;
    for l in listed {
        if let Listed::Dir { path, entries, top } = l {
            req.walk(path, entries, top, now, content, &mut walk, &mut total);
        }
    }
    walk
}

/// The files among `paths` that pass `contains`, with their checksum if asked.
async fn read_content<'a, T: Target>(target: &T, req: &Request, paths: impl Iterator<Item = &'a str>) -> Result<HashMap<String, String>, ModuleError> {
    let pattern = if req.file_type == FileType::File { req.contains.clone().unwrap_or_default() } else { String::new() };
    // grep reads a newline in its pattern as the start of another pattern.
    let pattern = if req.read_whole_file { python_dollar(&pattern) } else { pattern }.replace('\n', "\\n");
    let mut cmd = Cmd::new("/bin/sh")
        .flag("-c")
        .arg(CONTENT_SCRIPT)
        .arg("sh")
        .arg(pattern)
        .arg(if req.read_whole_file { "1" } else { "0" })
        .arg(req.checksum.unwrap_or(""));
    let mut any = false;
    for path in paths {
        cmd = cmd.arg(path);
        any = true;
    }
    if !any {
        return Ok(HashMap::new());
    }
    let out = target.exec(cmd.as_str(), None).await?;
    let mut fields = Fields::new(&out.stdout);
    let mut found = HashMap::new();
    while let (Some(path), Some(sum)) = (fields.next_field(), fields.next_field()) {
        found.insert(path, sum);
    }
    Ok(found)
}

/// A Python pattern searched in a whole file by `grep -Pz`, where `$`
/// matches only at the very end: Python's `$` also matches before a final
/// newline, so each `$` outside a character class becomes that look-ahead.
fn python_dollar(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                out.extend(chars.next());
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` first (after an optional `^`) is a literal one.
                if chars.peek() == Some(&'^') {
                    out.extend(chars.next());
                }
                if chars.peek() == Some(&']') {
                    out.extend(chars.next());
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str("(?=\\n?\\z)"),
            _ => out.push(c),
        }
    }
    out
}

/// `find: '/x/y': Permission denied` → Python's `[Errno 13] Permission denied: '/x/y'`.
fn skipped_from_stderr(stderr: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("find: '") else { continue };
        let Some((path, why)) = rest.split_once("': ") else { continue };
        let errno = match why {
            "Permission denied" => 13,
            "No such file or directory" => 2,
            "Operation not permitted" => 1,
            _ => continue,
        };
        out.insert(path.to_string(), Value::String(format!("[Errno {errno}] {why}: '{path}'")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_matches_before_a_final_newline_as_in_python() {
        assert_eq!(python_dollar("OK$"), "OK(?=\\n?\\z)");
        assert_eq!(python_dollar(r"a\$[$]]$"), r"a\$[$]](?=\n?\z)");
        assert_eq!(python_dollar("[]$]x"), "[]$]x");
        assert_eq!(python_dollar("has\na few$").replace('\n', "\\n"), "has\\na few(?=\\n?\\z)");
    }

    #[test]
    fn fnmatch_is_pythons() {
        let m = |p: &str, n: &str| name_matcher(p, false).unwrap().is_match(n);
        assert!(m("*.txt", "a.txt") && m("*.txt", ".hidden.txt") && !m("*.txt", "a.txt.bak"));
        assert!(m("[!a]?", "bc") && !m("[!a]?", "ac") && m("[]]", "]") && m("a[", "a["));
        assert!(m("a.b", "a.b") && !m("a.b", "axb") && m("*", "x\ny"));
        let r = |p: &str, n: &str| name_matcher(p, true).unwrap().is_match(n);
        assert!(r("a", "abc") && !r("b", "abc") && r(".*", ""));
    }

    #[test]
    fn units_are_ansibles() {
        let age = [('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604800)];
        assert_eq!(with_unit("2d", &age), Some(172800));
        assert_eq!(with_unit("-3M", &age), Some(-180));
        assert_eq!(with_unit("10", &age), Some(10));
        assert_eq!(with_unit("1x", &age), None);
        assert_eq!(with_unit("-", &age), None);
    }

    #[test]
    fn paths_are_normalised_as_python_does() {
        assert_eq!(normpath("/a//b/./c/../d"), "/a/b/d");
        assert_eq!(normpath("a/../.."), "..");
        assert_eq!(normpath("/.."), "/");
    }

    #[test]
    fn the_walk_lists_files_before_directories_and_descends_in_order() {
        // /r: d1 (with f2), f1, .h (hidden dir with f3)
        let rec = |d: &str, y: &str, name: &str| format!("{d}\0{y}\0{y}\0644\00\00\01\01\01\01\01.5\01.5\01.5\0root\0root\0{name}\0");
        let out = format!("100.0\0dir\0/r/\0{}{}{}{}{}end\0notdir\0/x\0", rec("1", "d", "d1"), rec("2", "f", "f2"), rec("1", "f", "f1"), rec("1", "d", ".h"), rec("2", "f", "f3"));
        let (now, listed) = parse_listing(out.as_bytes()).unwrap();
        assert_eq!(now, 100.0);
        let args = Args::new(json!({"paths": "/r", "recurse": true}).as_object().unwrap().clone());
        let req = request(&args).unwrap().unwrap();
        let walk = walk_all(&req, &listed, now, &|_| true);
        let paths: Vec<&str> = walk.found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["/r/f1", "/r/d1/f2", "/r/.h/f3"]);
        assert_eq!(walk.examined, 5);
        let args = Args::new(json!({"paths": "/r", "recurse": true, "depth": 1, "file_type": "any", "hidden": true}).as_object().unwrap().clone());
        let req = request(&args).unwrap().unwrap();
        let walk = walk_all(&req, &listed, now, &|_| true);
        let paths: Vec<&str> = walk.found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["/r/f1", "/r/d1", "/r/.h"]);
    }

    #[test]
    fn hostile_paths_and_patterns_are_single_words() {
        let args = Args::new(json!({"paths": ["/tmp/$(touch x)", "a'b"], "contains": "`id`"}).as_object().unwrap().clone());
        let req = request(&args).unwrap().unwrap();
        let line = list_cmd(&req).into_string();
        assert!(line.ends_with(r#" sh H 1 '/tmp/$(touch x)' 'a'\''b'"#), "{line}");
    }
}
