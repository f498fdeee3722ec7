//! Helpers for the per-module tier-2 tests: run one playbook with the real
//! `stockman` binary against fleet hosts and read its recap.

use std::path::PathBuf;
use std::process::Command;

use crate::fleet::Fleet;

/// A temporary project directory with a HOME that trusts the fleet's host keys.
pub struct Project {
    dir: tempfile::TempDir,
    inventory: PathBuf,
}

/// One run of `stockman playbook`.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `changed=N` count of `host` in the PLAY RECAP.
    pub fn changed(&self, host: &str) -> u32 {
        self.count(host, "changed")
    }

    pub fn failed(&self, host: &str) -> u32 {
        self.count(host, "failed")
    }

    pub fn count(&self, host: &str, what: &str) -> u32 {
        let recap = self.stdout.split("PLAY RECAP").nth(1).unwrap_or_else(|| panic!("no recap:\n{}", self.all()));
        let line = recap
            .lines()
            .find(|l| l.split_whitespace().next() == Some(host))
            .unwrap_or_else(|| panic!("no recap line for {host}:\n{}", self.all()));
        let key = format!("{what}=");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key.as_str()))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {what}= in `{line}`"))
    }

    pub fn all(&self) -> String {
        format!("exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    /// Asserts success and returns self, for chaining.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stockman failed:\n{}", self.all());
        self
    }
}

impl Project {
    pub fn new(fleet: &Fleet) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home/.ssh");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::copy(fleet.known_hosts_path(), home.join("known_hosts")).unwrap();
        Project { dir, inventory: fleet.inventory_path().to_path_buf() }
    }

    /// Runs `tasks` (YAML, indented as a task list under `tasks:`) on `hosts`.
    pub fn play(&self, hosts: &str, tasks: &str, extra: &[&str]) -> Run {
        let playbook = format!("- hosts: {hosts}\n  gather_facts: false\n  tasks:\n{tasks}");
        let path = self.dir.path().join("play.yml");
        std::fs::write(&path, playbook).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_stockman"))
            .arg("playbook")
            .arg("-i")
            .arg(&self.inventory)
            .arg(&path)
            .args(extra)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path().join("home"))
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Indents a YAML task list for [`Project::play`].
pub fn tasks(yaml: &str) -> String {
    yaml.lines().map(|l| format!("    {l}\n")).collect()
}
