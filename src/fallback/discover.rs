//! Where the controller's ansible-core and collections are, found from files
//! alone: no Python process is started.

use std::path::{Path, PathBuf};

use crate::config::home_dir;

/// The directories modules are looked up in.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    /// The directory holding ansible-core's `ansible` package (a site-packages).
    pub core: Option<PathBuf>,
    /// `ansible_collections` directories, in Ansible's search order.
    pub collections: Vec<PathBuf>,
    /// What was searched, for "not found" messages.
    pub looked: Vec<String>,
    /// `module_utils/` beside the playbook and in the task's role: their
    /// files are `ansible.module_utils.*` too, found before ansible-core's.
    pub module_utils: Vec<PathBuf>,
}

impl Roots {
    /// From the environment: `STOCKMAN_ANSIBLE_PYTHON`, `ansible-playbook`
    /// on `PATH`, `ANSIBLE_COLLECTIONS_PATH`, the home directory.
    pub fn from_env() -> Roots {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let python = ansible_python(env("STOCKMAN_ANSIBLE_PYTHON").map(PathBuf::from), env("PATH"));
        let collections_path = env("ANSIBLE_COLLECTIONS_PATH").or_else(|| env("ANSIBLE_COLLECTIONS_PATHS"));
        Roots::find(python.as_deref(), collections_path.as_deref(), &home_dir())
    }

    /// `python`: the interpreter that has ansible-core; `collections_path`:
    /// `ANSIBLE_COLLECTIONS_PATH` (colon-separated).
    pub fn find(python: Option<&Path>, collections_path: Option<&std::ffi::OsStr>, home: &Path) -> Roots {
        let mut roots = Roots::default();
        let site_dirs = python.map(site_packages).unwrap_or_default();
        roots.core = site_dirs.iter().find(|d| d.join("ansible/modules").is_dir()).cloned();
        match (&roots.core, python) {
            (Some(core), _) => roots.looked.push(format!("ansible-core in {}", core.display())),
            (None, Some(py)) => roots.looked.push(format!("no ansible-core beside {}", py.display())),
            (None, None) => roots.looked.push("no ansible-core (no `ansible-playbook` on PATH, STOCKMAN_ANSIBLE_PYTHON unset)".into()),
        }
        let mut dirs: Vec<PathBuf> = collections_path.map(|p| std::env::split_paths(p).collect()).unwrap_or_else(|| vec![home.join(".ansible/collections"), PathBuf::from("/usr/share/ansible/collections")]);
        dirs.extend(site_dirs);
        for dir in dirs {
            let dir = if dir.ends_with("ansible_collections") { dir } else { dir.join("ansible_collections") };
            roots.looked.push(dir.display().to_string());
            if dir.is_dir() && !roots.collections.contains(&dir) {
                roots.collections.push(dir);
            }
        }
        roots
    }
}

/// The Python that runs ansible-core on this controller: the configured one,
/// else the interpreter in `ansible-playbook`'s shebang. One function, so a
/// setting (ansible.cfg's `interpreter_python` of the controller) can be added here.
pub fn ansible_python(configured: Option<PathBuf>, path_var: Option<std::ffi::OsString>) -> Option<PathBuf> {
    if configured.is_some() {
        return configured;
    }
    let path_var = path_var?;
    let playbook = std::env::split_paths(&path_var).map(|d| d.join("ansible-playbook")).find(|p| p.is_file())?;
    shebang_python(&playbook)
}

/// `#!/venv/bin/python3` (or `#!/usr/bin/env python3`, looked up on PATH is
/// not attempted: the script's own directory is then assumed to hold it).
fn shebang_python(script: &Path) -> Option<PathBuf> {
    let text = std::fs::read(script).ok()?;
    let first = text.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?.trim();
    let mut words = line.split_whitespace();
    let program = words.next()?;
    if program.ends_with("/env") {
        let name = words.find(|w| !w.starts_with('-'))?;
        return Some(script.parent()?.join(name));
    }
    Some(PathBuf::from(program))
}

/// The site-packages (or Debian's dist-packages) directories of an
/// interpreter, from its path: `PREFIX/bin/python3` → `PREFIX/lib/python3.*/site-packages`.
fn site_packages(python: &Path) -> Vec<PathBuf> {
    let Some(prefix) = python.parent().and_then(Path::parent) else { return Vec::new() };
    let lib = prefix.join("lib");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("python3"))).collect())
        .unwrap_or_default();
    versions.sort();
    let mut dirs = Vec::new();
    for version in versions.iter().rev() {
        for leaf in ["site-packages", "dist-packages"] {
            dirs.push(version.join(leaf));
        }
    }
    if prefix == Path::new("/usr") {
        dirs.push(PathBuf::from("/usr/lib/python3/dist-packages"));
        if let Ok(entries) = std::fs::read_dir("/usr/local/lib") {
            dirs.extend(entries.flatten().map(|e| e.path().join("dist-packages")));
        }
    }
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_of_a_venv_script_names_its_python() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("ansible-playbook"), "#!/opt/venv/bin/python3\nimport sys\n").unwrap();
        assert_eq!(ansible_python(None, Some(bin.clone().into_os_string())), Some(PathBuf::from("/opt/venv/bin/python3")));
        std::fs::write(bin.join("ansible-playbook"), "#!/usr/bin/env python3\n").unwrap();
        assert_eq!(ansible_python(None, Some(bin.clone().into_os_string())), Some(bin.join("python3")));
        assert_eq!(ansible_python(Some("/x/python".into()), None), Some(PathBuf::from("/x/python")));
    }

    #[test]
    fn site_packages_and_collections_are_found_from_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("lib/python3.11/site-packages");
        std::fs::create_dir_all(site.join("ansible/modules")).unwrap();
        std::fs::create_dir_all(site.join("ansible_collections/community/general")).unwrap();
        let extra = dir.path().join("mine");
        std::fs::create_dir_all(extra.join("ansible_collections")).unwrap();
        let roots = Roots::find(Some(&dir.path().join("bin/python3")), Some(extra.as_os_str()), dir.path());
        assert_eq!(roots.core.as_deref(), Some(site.as_path()));
        assert_eq!(roots.collections, [extra.join("ansible_collections"), site.join("ansible_collections")]);
    }
}
