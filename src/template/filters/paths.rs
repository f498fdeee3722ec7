//! Path filters: Python's `os.path` (`path_join`, `normpath`, `realpath`,
//! `relpath`, `splitext`, `commonpath`, `expandvars`), `fileglob`, and
//! `ntpath`'s `win_basename`, `win_dirname`, `win_splitdrive`. Like
//! Ansible's, they read the controller's filesystem and environment.

use super::{fail, py_str};
use minijinja::value::{Value as Jinja, ValueKind};
use minijinja::{Environment, Error};
use std::path::Path;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("path_join", path_join);
    env.add_filter("normpath", |p: String| normpath(&p));
    env.add_filter("realpath", |p: String| realpath(&p));
    env.add_filter("relpath", |p: String, start: Option<String>| relpath(&p, start.as_deref().unwrap_or(".")));
    env.add_filter("splitext", |p: String| pair(splitext(&p)));
    env.add_filter("commonpath", commonpath_filter);
    env.add_filter("expandvars", |p: String| expandvars(&p, |name| std::env::var(name).ok()));
    env.add_filter("fileglob", |p: String| fileglob(&p));
    env.add_filter("win_basename", |p: String| win_split(&p).1.to_string());
    env.add_filter("win_dirname", |p: String| win_split(&p).0);
    env.add_filter("win_splitdrive", |p: String| pair(win_splitdrive(&p)));
}

/// Python's 2-tuples are lists here.
fn pair((a, b): (&str, &str)) -> Jinja {
    Jinja::from(vec![a.to_string(), b.to_string()])
}

/// The strings of a list argument, rendered with Python's `str` as
/// `os.path` would refuse anything else only later.
fn strings(v: &Jinja, filter: &str) -> Result<Vec<String>, Error> {
    if v.kind() != ValueKind::Seq {
        return Err(fail(format!("|{filter} expects sequence, got <class '{}'> instead.", super::py::type_name(&super::to_json(v)))));
    }
    Ok(v.try_iter()?.map(|x| py_str(&x)).collect())
}

/// `path_join`: `os.path.join` of a list's items, or of one string.
fn path_join(v: Jinja) -> Result<String, Error> {
    if let Some(s) = v.as_str() {
        return Ok(s.to_string());
    }
    if v.kind() != ValueKind::Seq {
        return Err(fail(format!("|path_join expects string or sequence, got <class '{}'> instead.", super::py::type_name(&super::to_json(&v)))));
    }
    let parts = strings(&v, "path_join")?;
    Ok(join(parts.iter().map(String::as_str)))
}

/// Python's `posixpath.join`: an absolute part restarts the path.
pub fn join<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, part) in parts.into_iter().enumerate() {
        if part.starts_with('/') || i == 0 {
            out = part.to_string();
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(part);
        } else {
            out.push('/');
            out.push_str(part);
        }
    }
    out
}

/// Python's `posixpath.normpath`: lexical, so `a/../b` is `b` even when `a`
/// is a link; exactly two leading slashes are kept (POSIX leaves `//`
/// implementation-defined).
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let leading = path.len() - path.trim_start_matches('/').len();
    let initial = match leading {
        0 => "",
        2 => "//",
        _ => "/",
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if !initial.is_empty() && parts.is_empty() => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let out = format!("{initial}{}", parts.join("/"));
    if out.is_empty() {
        ".".into()
    } else {
        out
    }
}

/// Python's `os.path.abspath`: joined to the working directory, normalized.
fn abspath(path: &str) -> String {
    if path.starts_with('/') {
        return normpath(path);
    }
    let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "/".into());
    normpath(&join([cwd.as_str(), path]))
}

/// Python's `os.path.realpath` (not strict): links resolved as far as the
/// path exists, the rest kept as written, `..` applied after the part
/// before it is resolved.
pub fn realpath(path: &str) -> String {
    let start = if path.starts_with('/') { String::new() } else { std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default() };
    let mut links = 0;
    let resolved = resolve(&start, path, &mut links);
    if resolved.is_empty() {
        "/".into()
    } else {
        resolved
    }
}

/// `rest` resolved below the already real `base` ("" is the root).
fn resolve(base: &str, rest: &str, links: &mut u32) -> String {
    let mut out = base.to_string();
    for part in rest.split('/') {
        match part {
            "" | "." => continue,
            ".." => {
                out.truncate(out.rfind('/').unwrap_or(0));
                continue;
            }
            _ => {}
        }
        let candidate = format!("{out}/{part}");
        // Python gives up on a loop and keeps the path as it stands.
        match std::fs::read_link(&candidate) {
            Ok(target) if *links < 40 => {
                *links += 1;
                let target = target.display().to_string();
                let from = if target.starts_with('/') { String::new() } else { out.clone() };
                out = resolve(&from, &target, links);
            }
            _ => out = candidate,
        }
    }
    out
}

/// Python's `os.path.relpath(path, start)`, both made absolute first.
pub fn relpath(path: &str, start: &str) -> Result<String, Error> {
    if path.is_empty() {
        return Err(fail("no path specified"));
    }
    let (path, start) = (abspath(path), abspath(start));
    let to: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let from: Vec<&str> = start.split('/').filter(|p| !p.is_empty()).collect();
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut parts = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    Ok(if parts.is_empty() { ".".into() } else { parts.join("/") })
}

/// Python's `os.path.splitext`: the last dot of the last part, unless the
/// part's dots all lead it (`.bashrc` has no extension).
pub fn splitext(path: &str) -> (&str, &str) {
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    match path.rfind('.') {
        Some(dot) if dot > name_start && path[name_start..dot].bytes().any(|b| b != b'.') => (&path[..dot], &path[dot..]),
        _ => (path, ""),
    }
}

fn commonpath_filter(v: Jinja) -> Result<String, Error> {
    commonpath(&strings(&v, "commonpath")?)
}

/// Python's `os.path.commonpath`: the longest common run of whole parts.
pub fn commonpath(paths: &[String]) -> Result<String, Error> {
    let Some(first) = paths.first() else {
        return Err(fail("commonpath() arg is an empty sequence"));
    };
    let absolute = first.starts_with('/');
    if paths.iter().any(|p| p.starts_with('/') != absolute) {
        return Err(fail("Can't mix absolute and relative paths"));
    }
    let split = |p: &'_ str| p.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect::<Vec<_>>();
    let mut common = split(first);
    for p in &paths[1..] {
        let parts = split(p);
        let n = common.iter().zip(&parts).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    Ok(format!("{}{}", if absolute { "/" } else { "" }, common.join("/")))
}

/// Python's `os.path.expandvars`: `$NAME` (letters, digits, `_`) and
/// `${ANYTHING}`; unset variables stay as written.
pub fn expandvars(text: &str, var: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], end)
        };
        match var(name).filter(|_| !name.is_empty()) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[i..i + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// `fileglob`: Python's `glob.glob`, regular files only. Python lists a
/// directory in the order the filesystem gives; ours are sorted.
fn fileglob(pattern: &str) -> Result<Jinja, Error> {
    let absolute = pattern.starts_with('/');
    let mut found = vec![if absolute { "/".to_string() } else { String::new() }];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for dir in &found {
            if !has_magic(part) {
                let candidate = format!("{dir}{part}");
                if Path::new(&candidate).symlink_metadata().is_ok() {
                    next.push(candidate);
                }
                continue;
            }
            let matcher = fnmatch_regex(part)?;
            let listing = std::fs::read_dir(if dir.is_empty() { "." } else { dir });
            let mut names: Vec<String> = listing.into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            // As glob: a leading dot is matched only by a pattern's leading dot.
            names.retain(|n| matcher.is_match(n) && (!n.starts_with('.') || part.starts_with('.')));
            next.extend(names.into_iter().map(|n| format!("{dir}{n}")));
        }
        found = next.into_iter().map(|p| format!("{p}/")).collect();
    }
    let files = found.iter().map(|p| p.trim_end_matches('/').to_string()).filter(|p| !p.is_empty() && Path::new(p).is_file());
    Ok(Jinja::from(files.collect::<Vec<_>>()))
}

fn has_magic(part: &str) -> bool {
    part.contains(['*', '?', '['])
}

/// Python's `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`.
fn fnmatch_regex(pattern: &str) -> Result<regex::Regex, Error> {
    let mut re = String::from("^(?s:");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => match chars[i + 1..].iter().skip(1).position(|c| *c == ']').map(|p| p + i + 2) {
                Some(end) => {
                    let body: String = chars[i + 1..end].iter().collect();
                    let body = body.replace('\\', "\\\\");
                    let body = match body.strip_prefix('!') {
                        Some(rest) => format!("^{rest}"),
                        None if body.starts_with('^') => format!("\\{body}"),
                        None => body,
                    };
                    re.push_str(&format!("[{body}]"));
                    i = end;
                }
                None => re.push_str("\\["),
            },
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push_str(")$");
    regex::Regex::new(&re).map_err(|e| fail(format!("fileglob: bad pattern {pattern}: {e}")))
}

/// Python's `ntpath.splitdrive` (3.11): `C:` or a UNC `\\server\share`.
pub fn win_splitdrive(path: &str) -> (&str, &str) {
    let norm = path.replace('/', "\\");
    if norm.starts_with("\\\\") {
        let start = if norm.len() >= 8 && norm[..8].eq_ignore_ascii_case("\\\\?\\UNC\\") { 8 } else { 2 };
        let Some(first) = norm[start..].find('\\').map(|i| i + start) else {
            return (path, "");
        };
        let Some(second) = norm[first + 1..].find('\\').map(|i| i + first + 1) else {
            return (path, "");
        };
        return path.split_at(second);
    }
    if norm.as_bytes().get(1) == Some(&b':') {
        return path.split_at(path.char_indices().nth(2).map_or(path.len(), |(i, _)| i));
    }
    ("", path)
}

/// Python's `ntpath.split`: (directory, last part), either slash.
pub fn win_split(path: &str) -> (String, &str) {
    let (drive, rest) = win_splitdrive(path);
    let cut = rest.rfind(['/', '\\']).map_or(0, |i| i + 1);
    let (head, tail) = rest.split_at(cut);
    let trimmed = head.trim_end_matches(['/', '\\']);
    (format!("{drive}{}", if trimmed.is_empty() { head } else { trimmed }), tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_normpath_follow_posixpath() {
        assert_eq!(join(["/etc", "ssh", "x"]), "/etc/ssh/x");
        assert_eq!(join(["/etc", "/ssh", "x/"]), "/ssh/x/");
        assert_eq!(join(["a", "", "b"]), "a/b");
        assert_eq!(normpath("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(normpath("//a/b"), "//a/b");
        assert_eq!(normpath("///a"), "/a");
        assert_eq!(normpath(""), ".");
        assert_eq!(normpath("../../a/.."), "../..");
        assert_eq!(normpath("/tmp/../../x"), "/x");
    }

    #[test]
    fn relpath_splitext_commonpath() {
        assert_eq!(relpath("/usr/lib/x", "/usr/share").unwrap(), "../lib/x");
        assert_eq!(relpath("/a", "/a").unwrap(), ".");
        assert!(relpath("", "/").is_err());
        assert_eq!(splitext("a/b.tar.gz"), ("a/b.tar", ".gz"));
        assert_eq!(splitext(".bashrc"), (".bashrc", ""));
        assert_eq!(splitext("..x.y"), ("..x", ".y"));
        assert_eq!(splitext("a.b/c"), ("a.b/c", ""));
        let paths = |ps: &[&str]| ps.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(commonpath(&paths(&["/usr/lib", "/usr/local/lib"])).unwrap(), "/usr");
        assert_eq!(commonpath(&paths(&["a/b", "a/c"])).unwrap(), "a");
        assert_eq!(commonpath(&[]).unwrap_err().detail(), Some("commonpath() arg is an empty sequence"));
        assert_eq!(commonpath(&paths(&["/a", "b"])).unwrap_err().detail(), Some("Can't mix absolute and relative paths"));
    }

    #[test]
    fn realpath_resolves_what_exists() {
        assert_eq!(realpath("/"), "/");
        assert_eq!(realpath("/tmp/../etc/nonexist/../x"), "/etc/x");
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(real.join("target"), real.join("link")).unwrap();
        assert_eq!(realpath(&format!("{}/link/y", real.display())), format!("{}/target/y", real.display()));
    }

    #[test]
    fn expandvars_leaves_unset_names() {
        let var = |n: &str| (n == "HOME").then(|| "/root".to_string());
        assert_eq!(expandvars("$HOME/x ${HOME} $NOPE ${NOPE} $ ${x", var), "/root/x /root $NOPE ${NOPE} $ ${x");
    }

    #[test]
    fn fileglob_lists_files_only() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.txt", "b.txt", ".h.txt", "c.log"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("d.txt")).unwrap();
        let d = dir.path().display();
        let got = fileglob(&format!("{d}/*.txt")).unwrap();
        assert_eq!(got.to_string(), format!("['{d}/a.txt', '{d}/b.txt']"));
        assert_eq!(fileglob(&format!("{d}/[!a].txt")).unwrap().len(), Some(1));
        assert_eq!(fileglob(&format!("{d}/c.log")).unwrap().len(), Some(1));
        assert_eq!(fileglob("/nonexistent/*").unwrap().len(), Some(0));
    }

    #[test]
    fn windows_paths_follow_ntpath() {
        assert_eq!(win_split(r"C:\Users\me\file.txt"), (r"C:\Users\me".to_string(), "file.txt"));
        assert_eq!(win_split("C:").0, "C:");
        assert_eq!(win_split(r"a/b\c").1, "c");
        assert_eq!(win_splitdrive(r"C:\x"), ("C:", r"\x"));
        assert_eq!(win_splitdrive(r"\\server\share\x"), (r"\\server\share", r"\x"));
        assert_eq!(win_splitdrive(r"\\server"), (r"\\server", ""));
        assert_eq!(win_splitdrive("x"), ("", "x"));
    }
}
