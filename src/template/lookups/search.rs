//! Where a lookup finds a relative file: ansible-core's
//! `find_file_in_search_path` (DataLoader's `path_dwim_relative_stack`).

use super::super::filters::to_json;
use minijinja::State;
use std::path::{Component, Path, PathBuf};

/// The directories a task's relative lookups search, in order: the task's
/// `ansible_search_path` (its role, its file's directory, the playbook's).
pub(crate) fn paths(state: &State) -> Vec<PathBuf> {
    let listed = state.lookup("ansible_search_path").map(|v| to_json(&v));
    if let Some(serde_json::Value::Array(dirs)) = listed {
        return dirs.iter().filter_map(|d| d.as_str()).map(PathBuf::from).collect();
    }
    let dirs: Vec<PathBuf> = ["role_path", "playbook_dir"].iter().filter_map(|var| state.lookup(var)).filter_map(|v| v.as_str().map(PathBuf::from)).collect();
    if dirs.is_empty() {
        vec![basedir(state)]
    } else {
        dirs
    }
}

/// The playbook's directory, searched last whatever the search path says.
fn basedir(state: &State) -> PathBuf {
    match state.lookup("playbook_dir").and_then(|v| v.as_str().map(PathBuf::from)) {
        Some(dir) => dir,
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

/// Finds `needle` as Ansible does; the absolute, normalized path of the
/// first candidate that exists, else every candidate tried.
pub(crate) fn find(state: &State, subdir: Option<&str>, needle: &str) -> Result<PathBuf, Vec<PathBuf>> {
    if needle.starts_with('/') || needle.starts_with('~') {
        let path = unfrack(&expand_home(needle));
        return if path.exists() { Ok(path) } else { Err(vec![path]) };
    }
    let in_role = state.lookup("role_path").is_some_and(|v| !v.is_undefined() && !v.is_none());
    let tried = candidates(&paths(state), &basedir(state), subdir, needle, in_role);
    match tried.iter().find(|p| p.exists()) {
        Some(found) => Ok(unfrack(found)),
        None => Err(tried),
    }
}

/// The candidate paths for a relative `needle`, in the order Ansible tries
/// them: per search directory `dir/subdir/needle` then `dir/needle` (plus,
/// for a task file in a subdirectory of a role's `tasks/`, the role's
/// `subdir/` and the file's own directory first), and the playbook
/// directory's two last. `subdir` is left out when the needle starts with it.
fn candidates(paths: &[PathBuf], basedir: &Path, subdir: Option<&str>, needle: &str, in_role: bool) -> Vec<PathBuf> {
    let prefixed = |dir: &Path| subdir.filter(|s| needle.split('/').next() != Some(*s)).map(|s| dir.join(s).join(needle));
    let mut out = Vec::new();
    for path in paths {
        let path = unfrack(path);
        if let Some(parent) = path.parent().filter(|p| in_role && p.ends_with("tasks")) {
            if let Some(role) = parent.parent() {
                out.extend(subdir.map(|s| role.join(s).join(needle)));
            }
            out.push(parent.join(needle));
        }
        out.extend(prefixed(&path));
        out.push(path.join(needle));
    }
    let basedir = unfrack(basedir);
    out.extend(prefixed(&basedir));
    out.push(basedir.join(needle));
    out
}

pub(crate) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => PathBuf::from(home).join(rest.trim_start_matches('/')),
        _ => PathBuf::from(path),
    }
}

/// Ansible's `unfrackpath(follow=False)`: absolute, `.` and `..` resolved
/// by name (symlinks are kept).
pub fn unfrack(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_path_dwim_relative_stack() {
        let paths = [PathBuf::from("/p/roles/r"), PathBuf::from("/p/roles/r/tasks")];
        let found = candidates(&paths, Path::new("/p"), Some("vars"), "a.yml", true);
        let expected = ["/p/roles/r/vars/a.yml", "/p/roles/r/a.yml", "/p/roles/r/tasks/vars/a.yml", "/p/roles/r/tasks/a.yml", "/p/vars/a.yml", "/p/a.yml"];
        assert_eq!(found, expected.map(PathBuf::from));
        let nested = candidates(&[PathBuf::from("/p/roles/r/tasks/sub")], Path::new("/p"), None, "x", true);
        assert_eq!(nested, ["/p/roles/r/tasks/x", "/p/roles/r/tasks/sub/x", "/p/x"].map(PathBuf::from));
        let named = candidates(&[PathBuf::from("/p")], Path::new("/p"), Some("files"), "files/x", false);
        assert_eq!(named, ["/p/files/x", "/p/files/x"].map(PathBuf::from));
    }

    #[test]
    fn unfrack_resolves_dots_by_name() {
        assert_eq!(unfrack(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
    }
}
