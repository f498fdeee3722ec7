//! Paths in settings as Ansible resolves them: `$VAR`/`${VAR}` expanded (unknown ones
//! left as written, like Python's os.path.expandvars), then `~`, then a relative
//! path joined to `base` (the cfg file's directory, or the current one), then `.`
//! and `..` folded without following symlinks.

use std::path::{Component, Path, PathBuf};

use super::locate::Env;

pub fn path(text: &str, base: &Path, env: &Env) -> PathBuf {
    let expanded = tilde(&vars(text, env), env);
    let joined = if expanded.is_absolute() { expanded } else { base.join(expanded) };
    normalize(&joined)
}

fn vars(text: &str, env: &Env) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match env.var(name).filter(|_| !name.is_empty()) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[at..at + 1 + consumed]),
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

fn tilde(text: &str, env: &Env) -> PathBuf {
    match text.strip_prefix('~') {
        Some("") => env.home.clone(),
        Some(rest) if rest.starts_with('/') => env.home.join(&rest[1..]),
        _ => PathBuf::from(text),
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        let vars = [("PROJ".to_string(), "/srv/p".to_string())].into_iter().collect();
        Env { vars, cwd: "/cwd".into(), home: "/home/me".into(), system_cfg: "/nonexistent".into() }
    }

    #[test]
    fn expands_like_ansible() {
        let e = env();
        let base = Path::new("/etc/proj");
        assert_eq!(path("~/.ssh/id", base, &e), PathBuf::from("/home/me/.ssh/id"));
        assert_eq!(path("$PROJ/inv", base, &e), PathBuf::from("/srv/p/inv"));
        assert_eq!(path("${PROJ}/../x", base, &e), PathBuf::from("/srv/x"));
        assert_eq!(path("inventory/hosts.ini", base, &e), PathBuf::from("/etc/proj/inventory/hosts.ini"));
        assert_eq!(path("./roles", base, &e), PathBuf::from("/etc/proj/roles"));
        assert_eq!(path("$NOPE/x", base, &e), PathBuf::from("/etc/proj/$NOPE/x"));
    }
}
