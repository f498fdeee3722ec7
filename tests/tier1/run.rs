//! Runs the real `stockman` binary on a scratch project (playbooks, files,
//! templates, inventory) against the tier-1 sshd.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sshd::TestSshd;

/// A scratch directory holding a project, plus the directory the "remote"
/// hosts write into (sshd runs as us on 127.0.0.1, so it is local too).
pub struct Project {
    pub dir: tempfile::TempDir,
    pub remote: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The PLAY RECAP line of `host`, with the padding collapsed.
    pub fn recap(&self, host: &str) -> String {
        let prefix = format!("{host} ");
        let line = self
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("PLAY RECAP"))
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no recap line for {host}:\n{}", self.stdout));
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// `host : ok=.. changed=..` with the padding collapsed, for comparisons.
pub fn recap(host: &str, ok: u32, changed: u32, unreachable: u32, failed: u32, skipped: u32, ignored: u32) -> String {
    format!("{host} : ok={ok} changed={changed} unreachable={unreachable} failed={failed} skipped={skipped} rescued=0 ignored={ignored}")
}

impl Project {
    pub fn new() -> Self {
        Project { dir: tempfile::tempdir().unwrap(), remote: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A path on the "remote" host.
    pub fn remote(&self, rel: &str) -> PathBuf {
        self.remote.path().join(rel)
    }

    pub fn remote_str(&self) -> String {
        self.remote.path().display().to_string()
    }

    pub fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// An inventory with `names` as hosts, all pointing at `sshd`.
    pub fn inventory(&self, sshd: &TestSshd, names: &[&str]) -> &Self {
        let mut text = String::from("[test]\n");
        for name in names {
            text.push_str(&format!(
                "{name} ansible_host=127.0.0.1 ansible_port={} ansible_user={} ansible_ssh_private_key_file={}\n",
                sshd.port,
                sshd.user,
                sshd.client_key.display()
            ));
        }
        self.write("hosts.ini", &text)
    }

    /// Runs `stockman playbook -i hosts.ini PLAYBOOK ARGS...` with `known_hosts` as the user's.
    pub fn run(&self, sshd: &TestSshd, playbook: &str, args: &[&str]) -> Run {
        self.run_with_home(Some(sshd.known_hosts.as_path()), playbook, args)
    }

    pub fn run_with_home(&self, known_hosts: Option<&Path>, playbook: &str, args: &[&str]) -> Run {
        let out = self.command(known_hosts, playbook, args).output().expect("run stockman");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The `stockman playbook` command [`Project::run_with_home`] runs, to run otherwise.
    pub fn command(&self, known_hosts: Option<&Path>, playbook: &str, args: &[&str]) -> Command {
        let home = self.path("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        if let Some(kh) = known_hosts {
            std::fs::copy(kh, home.join(".ssh/known_hosts")).unwrap();
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockman"));
        cmd.arg("playbook")
            .arg("-i")
            .arg(self.path("hosts.ini"))
            .arg(self.path(playbook))
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", &home)
            .env("REMOTE", self.remote.path())
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("ANSIBLE_HOST_KEY_CHECKING");
        cmd
    }
}
