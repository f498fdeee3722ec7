//! Which ansible.cfg is read: the first that exists of ANSIBLE_CONFIG (a file, or a directory
//! holding ansible.cfg), ./ansible.cfg (not in a world-writable directory), ~/.ansible.cfg,
//! /etc/ansible/ansible.cfg. Only that one file is read, as in ansible-core.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What the lookup depends on, passed in so tests need not change the process's own.
#[derive(Debug, Clone)]
pub struct Env {
    pub vars: HashMap<String, String>,
    pub cwd: PathBuf,
    pub home: PathBuf,
    /// /etc/ansible/ansible.cfg (a parameter so tests do not depend on the machine's).
    pub system_cfg: PathBuf,
}

impl Env {
    /// The running process's environment and directory.
    pub fn current() -> Env {
        Env {
            vars: std::env::vars().collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            home: super::home_dir(),
            system_cfg: PathBuf::from("/etc/ansible/ansible.cfg"),
        }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// The file found, and Ansible's warning when ./ansible.cfg was skipped.
#[derive(Debug, Default)]
pub struct Found {
    pub path: Option<PathBuf>,
    pub warning: Option<String>,
}

pub fn find(env: &Env) -> Found {
    let mut candidates = Vec::new();
    let from_env = env.var("ANSIBLE_CONFIG").map(|v| {
        let path = super::expand::path(v, &env.cwd, env);
        if path.is_dir() { path.join("ansible.cfg") } else { path }
    });
    candidates.extend(from_env.clone());
    let here = env.cwd.join("ansible.cfg");
    let world_writable = std::fs::metadata(&env.cwd).is_ok_and(|m| m.permissions().mode() & 0o002 != 0);
    if !world_writable {
        candidates.push(here.clone());
    }
    candidates.push(env.home.join(".ansible.cfg"));
    candidates.push(env.system_cfg.clone());
    let path = candidates.into_iter().find(|p| readable(p));
    let skipped_here = world_writable && here.exists();
    let warning = (skipped_here && (from_env.is_none() || path != from_env)).then(|| {
        format!(
            "Ansible is being run in a world writable directory ({}), ignoring it as an ansible.cfg source. For more information see https://docs.ansible.com/ansible/devel/reference_appendices/config.html#cfg-in-world-writable-dir",
            env.cwd.display()
        )
    });
    Found { path, warning }
}

fn readable(path: &Path) -> bool {
    std::fs::File::open(path).is_ok_and(|f| f.metadata().is_ok_and(|m| m.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_in(dir: &Path) -> Env {
        Env { vars: HashMap::new(), cwd: dir.join("project"), home: dir.join("home"), system_cfg: dir.join("etc/ansible.cfg") }
    }

    fn setup() -> (tempfile::TempDir, Env) {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["project", "home", "etc", "elsewhere"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        let env = env_in(tmp.path());
        std::fs::set_permissions(&env.cwd, std::fs::Permissions::from_mode(0o755)).unwrap();
        (tmp, env)
    }

    fn touch(path: &Path) {
        std::fs::write(path, "[defaults]\n").unwrap();
    }

    #[test]
    fn first_found_in_ansibles_order() {
        let (tmp, mut env) = setup();
        assert_eq!(find(&env).path, None);
        touch(&env.system_cfg);
        assert_eq!(find(&env).path.as_ref(), Some(&env.system_cfg));
        touch(&env.home.join(".ansible.cfg"));
        assert_eq!(find(&env).path, Some(env.home.join(".ansible.cfg")));
        touch(&env.cwd.join("ansible.cfg"));
        assert_eq!(find(&env).path, Some(env.cwd.join("ansible.cfg")));
        let other = tmp.path().join("elsewhere");
        touch(&other.join("ansible.cfg"));
        env.vars.insert("ANSIBLE_CONFIG".into(), other.display().to_string());
        assert_eq!(find(&env).path, Some(other.join("ansible.cfg")), "a directory in ANSIBLE_CONFIG");
        env.vars.insert("ANSIBLE_CONFIG".into(), other.join("ansible.cfg").display().to_string());
        assert_eq!(find(&env).path, Some(other.join("ansible.cfg")), "a file in ANSIBLE_CONFIG");
        env.vars.insert("ANSIBLE_CONFIG".into(), other.join("missing.cfg").display().to_string());
        assert_eq!(find(&env).path, Some(env.cwd.join("ansible.cfg")), "a missing ANSIBLE_CONFIG falls through");
    }

    #[test]
    fn world_writable_directory_is_skipped_with_ansibles_warning() {
        let (_tmp, mut env) = setup();
        touch(&env.cwd.join("ansible.cfg"));
        std::fs::set_permissions(&env.cwd, std::fs::Permissions::from_mode(0o777)).unwrap();
        let found = find(&env);
        assert_eq!(found.path, None);
        assert!(found.warning.is_some(), "warned also when no other file is found");
        touch(&env.home.join(".ansible.cfg"));
        let found = find(&env);
        assert_eq!(found.path, Some(env.home.join(".ansible.cfg")));
        let warning = found.warning.unwrap();
        assert!(warning.starts_with(&format!("Ansible is being run in a world writable directory ({}), ignoring it", env.cwd.display())), "{warning}");
        // Named by ANSIBLE_CONFIG, it is read, without a warning.
        env.vars.insert("ANSIBLE_CONFIG".into(), env.cwd.join("ansible.cfg").display().to_string());
        let found = find(&env);
        assert_eq!(found.path, Some(env.cwd.join("ansible.cfg")));
        assert_eq!(found.warning, None);
    }
}
