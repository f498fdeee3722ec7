//! A leading `~` or `~user` in a module's path arguments, expanded on the
//! target as Ansible's modules expand their `type='path'` arguments
//! (Python's `expanduser` there): `~` is `$HOME` of whoever runs the module
//! (the become user under become), `~user` that user's home; a user the
//! target does not know leaves the path as it is. One command for all the
//! task's `~` paths, and none when there is none.

use std::borrow::Cow;

use serde_json::Value;

use crate::shell::{split_tilde, Cmd};
use crate::{Args, ModuleError, ModuleKind, Target};

/// The arguments of each module that are paths on the target. `find`'s
/// `paths` is a list (a comma-separated string is split as the module splits it).
fn path_params(kind: ModuleKind) -> &'static [&'static str] {
    match kind {
        ModuleKind::Command | ModuleKind::Shell => &["chdir", "creates", "removes"],
        ModuleKind::Copy | ModuleKind::Template => &["dest"],
        ModuleKind::File => &["path", "src"],
        ModuleKind::Stat | ModuleKind::Lineinfile | ModuleKind::Blockinfile | ModuleKind::Replace | ModuleKind::WaitFor | ModuleKind::Tempfile => &["path"],
        ModuleKind::Slurp | ModuleKind::Fetch => &["src"],
        ModuleKind::Find => &["paths"],
        ModuleKind::Git => &["dest", "key_file"],
        ModuleKind::Apt => &["deb"],
        ModuleKind::GetUrl => &["dest", "client_cert", "client_key"],
        ModuleKind::Cron => &["cron_file"],
        ModuleKind::Uri => &["creates", "removes", "client_cert", "client_key"],
        ModuleKind::Sysctl => &["sysctl_file"],
        ModuleKind::IniFile => &["path"],
        ModuleKind::Mount => &["path", "src"],
        ModuleKind::Unarchive => &["dest", "creates"],
        _ => &[],
    }
}

/// The home directory of each named user (`""`: the running user), NUL-terminated,
/// empty where there is none.
const HOMES_SCRIPT: &str = r#"for u do
  if [ -z "$u" ]; then h=${HOME-}; [ -n "$h" ] || h=$(getent passwd "$(id -u)" | cut -d: -f6)
  else h=$(getent passwd "$u" | cut -d: -f6); fi
  printf '%s\0' "$h"
done"#;

/// `args` with every `~` path argument of `kind` expanded on `target`.
pub async fn expand<'a, T: Target>(kind: ModuleKind, args: &'a Args, target: &T) -> Result<Cow<'a, Args>, ModuleError> {
    let params = path_params(kind);
    let mut users: Vec<String> = Vec::new();
    for name in params {
        for path in paths_of(args.get(name)) {
            if let Some((user, _)) = split_tilde(&path) {
                if !users.iter().any(|u| u == user) {
                    users.push(user.to_string());
                }
            }
        }
    }
    if users.is_empty() {
        return Ok(Cow::Borrowed(args));
    }
    let homes = homes(&users, target).await?;
    let mut out = args.clone();
    for name in params {
        let expanded = match out.get(name) {
            Some(Value::Array(items)) => Value::Array(items.iter().map(|v| expand_value(v, &users, &homes)).collect()),
            Some(Value::String(text)) if kind == ModuleKind::Find => Value::Array(text.split(',').map(|p| Value::String(expand_path(p.trim(), &users, &homes))).collect()),
            Some(other) => expand_value(other, &users, &homes),
            None => continue,
        };
        out.0.insert(name.to_string(), expanded);
    }
    Ok(Cow::Owned(out))
}

/// The path strings an argument holds: itself, each item of a list, or each
/// comma-separated part.
fn paths_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => text.split(',').map(|p| p.trim().to_string()).chain(std::iter::once(text.clone())).collect(),
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn expand_value(value: &Value, users: &[String], homes: &[String]) -> Value {
    match value {
        Value::String(text) => Value::String(expand_path(text, users, homes)),
        other => other.clone(),
    }
}

/// `path` with its `~` prefix replaced by the home found for it, as Python's
/// `expanduser` joins them (the home's trailing `/` dropped, `/` for nothing).
fn expand_path(path: &str, users: &[String], homes: &[String]) -> String {
    let Some((user, rest)) = split_tilde(path) else { return path.to_string() };
    let home = users.iter().position(|u| u == user).and_then(|i| homes.get(i)).filter(|h| !h.is_empty());
    match home {
        Some(home) => {
            let joined = format!("{}{rest}", home.trim_end_matches('/'));
            if joined.is_empty() { "/".to_string() } else { joined }
        }
        None => path.to_string(),
    }
}

/// Asks the target for the homes of `users`, in order.
async fn homes<T: Target>(users: &[String], target: &T) -> Result<Vec<String>, ModuleError> {
    let cmd = Cmd::new("/bin/sh").flag("-c").arg(HOMES_SCRIPT).arg("sh").args(users);
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        return Err(ModuleError::BadArgs(format!("cannot find the home directories for {}: {}", users.iter().map(|u| format!("~{u}")).collect::<Vec<_>>().join(", "), out.stderr_str().trim())));
    }
    let mut fields = crate::remote_file::Fields::new(&out.stdout);
    Ok(users.iter().map(|_| fields.next_field().unwrap_or_default()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_prefixes_expand_as_python_expanduser() {
        let users = vec![String::new(), "bob".to_string(), "nobody_here".to_string(), "root".to_string()];
        let homes = vec!["/home/me/".to_string(), "/home/bob".to_string(), String::new(), "/".to_string()];
        assert_eq!(expand_path("~/test.txt", &users, &homes), "/home/me/test.txt");
        assert_eq!(expand_path("~", &users, &homes), "/home/me");
        assert_eq!(expand_path("~bob/x", &users, &homes), "/home/bob/x");
        assert_eq!(expand_path("~nobody_here/x", &users, &homes), "~nobody_here/x");
        assert_eq!(expand_path("~root", &users, &homes), "/");
        assert_eq!(expand_path("/a/~/b", &users, &homes), "/a/~/b");
        assert_eq!(split_tilde("~bob"), Some(("bob", "")));
    }
}
