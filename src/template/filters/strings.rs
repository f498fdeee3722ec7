//! String filters: paths, shell quoting, `join`, `indent`, `comment`.

use super::{fail, py_str};
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::{Environment, Error};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("basename", |p: String| basename(&p).to_string());
    env.add_filter("dirname", |p: String| dirname(&p));
    env.add_filter("expanduser", |p: String| expanduser(&p, crate::config::home_dir, user_home));
    // The project's one quoting builder; it spells an embedded `'` as `'\''`
    // where Python's shlex writes `'"'"'` (same shell word).
    env.add_filter("quote", |v: Jinja| stockman_modules::shell::quote(&if v.is_none() { String::new() } else { py_str(&v) }));
    env.add_filter("join", join);
    env.add_filter("indent", indent);
    env.add_filter("comment", comment);
}

/// Python's `os.path.basename`.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

/// Python's `os.path.expanduser`, on the controller as Ansible's filter is:
/// `~` and `~/...` take `home()`, `~NAME/...` takes NAME's home from the user
/// database; a `~NAME` with no such user stays as written.
pub fn expanduser(path: &str, home: impl Fn() -> std::path::PathBuf, user_home: impl Fn(&str) -> Option<String>) -> String {
    let Some(rest) = path.strip_prefix('~') else { return path.to_string() };
    let (name, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let dir = if name.is_empty() { Some(home().display().to_string()) } else { user_home(name) };
    match dir {
        // Python strips the home's trailing slashes, and gives "/" for an empty result.
        Some(dir) => match format!("{}{tail}", dir.trim_end_matches('/')) {
            joined if joined.is_empty() => "/".to_string(),
            joined => joined,
        },
        None => path.to_string(),
    }
}

/// The home directory of user `name` on the controller, from the user
/// database (NSS, as Python's `pwd.getpwnam`).
fn user_home(name: &str) -> Option<String> {
    let c_name = std::ffi::CString::new(name).ok()?;
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: every pointer is valid for the call; `buf` outlives the reads of `entry`.
    let rc = unsafe { libc::getpwnam_r(c_name.as_ptr(), &mut entry, buf.as_mut_ptr().cast(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() || entry.pw_dir.is_null() {
        return None;
    }
    // SAFETY: getpwnam_r succeeded, so pw_dir points at a NUL-terminated string in `buf`.
    Some(unsafe { std::ffi::CStr::from_ptr(entry.pw_dir) }.to_string_lossy().into_owned())
}

/// Python's `os.path.dirname`: trailing slashes of the head are dropped
/// unless the head is only slashes.
pub fn dirname(path: &str) -> String {
    let head = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    if !head.is_empty() && head.chars().any(|c| c != '/') {
        head.trim_end_matches('/').to_string()
    } else {
        head.to_string()
    }
}

/// Jinja2's `join(d='', attribute=None)`, items rendered with Python's `str`.
fn join(v: Jinja, sep: Option<String>, attribute: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let sep = match sep {
        Some(s) => s,
        None => kwargs.get::<Option<String>>("d")?.unwrap_or_default(),
    };
    let attribute = match attribute {
        Some(a) => Some(a),
        None => kwargs.get::<Option<String>>("attribute")?,
    };
    kwargs.assert_all_used()?;
    if let Some(s) = v.as_str() {
        return Ok(s.chars().map(String::from).collect::<Vec<_>>().join(&sep));
    }
    let mut parts = Vec::new();
    for item in v.try_iter().map_err(|_| fail(format!("cannot join {}", v.kind())))? {
        let item = match &attribute {
            Some(a) => super::attr_path(&item, a)?,
            None => item,
        };
        parts.push(py_str(&item));
    }
    Ok(parts.join(&sep))
}

/// Jinja2's `indent(width=4, first=False, blank=False)`; `width` may be a
/// string used as the indentation.
fn indent(s: String, width: Option<Jinja>, first: Option<bool>, blank: Option<bool>, kwargs: Kwargs) -> Result<String, Error> {
    let width = match width {
        Some(w) => Some(w),
        None => kwargs.get::<Option<Jinja>>("width")?,
    };
    let first = first.or(kwargs.get::<Option<bool>>("first")?).unwrap_or(false);
    let blank = blank.or(kwargs.get::<Option<bool>>("blank")?).unwrap_or(false);
    kwargs.assert_all_used()?;
    let pad = match width {
        None => "    ".to_string(),
        Some(w) => match w.as_str() {
            Some(text) => text.to_string(),
            None => " ".repeat(usize::try_from(w).map_err(|_| fail("indent width must be a number or a string"))?),
        },
    };
    // Jinja2 appends a newline before splitting, so a trailing one survives.
    let text = format!("{s}\n");
    let lines = py_splitlines(&text);
    let mut out = if blank {
        lines.join(&format!("\n{pad}"))
    } else {
        let mut rest = lines.iter();
        let mut out = rest.next().map(|l| l.to_string()).unwrap_or_default();
        for line in rest {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
            }
            out.push_str(line);
        }
        out
    };
    if first {
        out.insert_str(0, &pad);
    }
    Ok(out)
}

/// Python's `str.splitlines()` for `\n`, `\r\n` and `\r`.
fn py_splitlines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            lines.push(&text[start..i]);
            if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The decoration of one comment style.
struct Style {
    beginning: &'static str,
    decoration: &'static str,
    end: &'static str,
}

fn style(name: &str) -> Option<Style> {
    let (beginning, decoration, end) = match name {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        _ => return None,
    };
    Some(Style { beginning, decoration, end })
}

/// Ansible's `comment(style='plain', decoration=..., prefix=..., ...)`.
fn comment(text: String, style_name: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let name = style_name.unwrap_or_else(|| "plain".into());
    let s = style(&name).ok_or_else(|| fail(format!("Invalid style '{name}'. Available styles: plain, erlang, c, cblock, xml")))?;
    let given = |key: &str| kwargs.get::<Option<String>>(key);
    let edge = given("decoration")?.unwrap_or_else(|| s.decoration.to_string());
    let newline = given("newline")?.unwrap_or_else(|| "\n".into());
    let beginning = given("beginning")?.unwrap_or_else(|| s.beginning.into());
    let decoration = edge.clone();
    let prefix = given("prefix")?.unwrap_or_else(|| edge.trim_end().to_string());
    let postfix = given("postfix")?.unwrap_or_else(|| edge.trim_end().to_string());
    let end = given("end")?.unwrap_or_else(|| s.end.into());
    let prefix_count: usize = kwargs.get::<Option<usize>>("prefix_count")?.unwrap_or(1);
    let postfix_count: usize = kwargs.get::<Option<usize>>("postfix_count")?.unwrap_or(1);
    kwargs.assert_all_used()?;

    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&format!("{beginning}{newline}"));
    }
    if !prefix.is_empty() {
        let line = if prefix != newline { format!("{prefix}{newline}") } else { newline.clone() };
        out.push_str(&line.repeat(prefix_count));
    }
    let body = format!("{decoration}{}", text.replace(&newline, &format!("{newline}{decoration}")));
    out.push_str(&body.replace(&format!("{decoration}{newline}"), &format!("{}{newline}", decoration.trim_end())));
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&format!("{newline}{end}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_os_path() {
        assert_eq!(basename("/etc/ssh/sshd_config"), "sshd_config");
        assert_eq!(basename("/etc/ssh/"), "");
        assert_eq!(dirname("/etc/ssh/sshd_config"), "/etc/ssh");
        assert_eq!(dirname("/etc"), "/");
        assert_eq!(dirname("file"), "");
        assert_eq!(dirname("a//b"), "a");
    }

    #[test]
    fn expanduser_follows_os_path() {
        let home = || std::path::PathBuf::from("/home/me/");
        let users = |n: &str| (n == "bob").then(|| "/srv/bob".to_string());
        assert_eq!(expanduser("~", home, users), "/home/me");
        assert_eq!(expanduser("~/x/y", home, users), "/home/me/x/y");
        assert_eq!(expanduser("~bob/x", home, users), "/srv/bob/x");
        assert_eq!(expanduser("~nobody_here/x", home, users), "~nobody_here/x");
        assert_eq!(expanduser("/tmp/~x", home, users), "/tmp/~x");
        assert_eq!(expanduser("~", || std::path::PathBuf::from("/"), users), "/");
        assert_eq!(user_home("root").as_deref(), Some("/root"));
    }

    #[test]
    fn splitlines_like_python() {
        assert_eq!(py_splitlines("a\nb\r\nc\n\n"), vec!["a", "b", "c", ""]);
    }
}
