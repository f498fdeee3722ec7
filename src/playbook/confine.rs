//! Paths that must stay inside a directory (a role's, the playbook's),
//! judged lexically as Ansible does: `.` and `..` resolved, symlinks kept.

use std::path::{Component, Path, PathBuf};

/// `path` if it stays inside `root` once `.` and `..` are resolved (lexically:
/// symlinks are followed as Ansible does, a `..` escape of the search roots is
/// refused so that `src: ../../etc/passwd` cannot read the controller's files).
pub fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let normal = normalize(path)?;
    normal.starts_with(normalize(root)?).then_some(normal)
}

/// `path` with `.` and `..` resolved lexically; None if `..` climbs above its start.
pub(super) fn normalize(path: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if !normal.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    Some(normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_may_not_leave_the_root() {
        let root = Path::new("/p");
        assert_eq!(inside(root, &root.join("files/../a.txt")), Some(PathBuf::from("/p/a.txt")));
        assert_eq!(inside(root, &root.join("files/./sub/a.txt")), Some(PathBuf::from("/p/files/sub/a.txt")));
        assert_eq!(inside(root, &root.join("files/../../etc/passwd")), None);
        assert_eq!(inside(root, &root.join("../p2/x")), None);
        assert_eq!(inside(root, &root.join("/etc/passwd")), None);
        assert_eq!(inside(Path::new("."), &Path::new(".").join("files/a")), Some(PathBuf::from("files/a")));
        assert_eq!(inside(Path::new("."), &Path::new(".").join("../a")), None);
    }
}
