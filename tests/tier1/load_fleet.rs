//! A simulated fleet for load and scale (issues 8 and 9): one OpenSSH sshd on
//! 127.0.0.1 and N inventory hosts with distinct names that all reach it, so
//! every host is a real SSH session of its own (its own TCP connection, key
//! exchange, authentication and remote shell). Shared with the `simulated`
//! benchmark, which includes this file by path.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sshd::TestSshd;

const PLAYBOOK: &str = include_str!("../data/load/load.yml");
const TEMPLATE: &str = include_str!("../data/load/app.ini.j2");

/// Tasks per host in the load playbook (the handler runs only on a first run).
pub const TASKS: u32 = 20;

/// sshd for many parallel sessions: by default it drops unauthenticated
/// connections beyond 10 (MaxStartups 10:30:100), which a controller opening
/// `forks` connections at once would see as spurious failures.
pub fn start_sshd() -> TestSshd {
    TestSshd::start_with(|_| "MaxStartups 2000\nMaxSessions 64\nLoginGraceTime 300\n".to_string())
}

/// The scratch project: inventory, playbook, template, a HOME whose
/// known_hosts trusts the sshd, and the directory the hosts write into.
pub struct LoadProject {
    pub dir: tempfile::TempDir,
    pub remote: tempfile::TempDir,
    /// The playbook run: `load.yml` unless [`LoadProject::with_playbook`] says otherwise.
    playbook: String,
}

impl LoadProject {
    pub fn new(sshd: &TestSshd, hosts: usize) -> LoadProject {
        let project = LoadProject { dir: tempfile::tempdir().unwrap(), remote: tempfile::tempdir().unwrap(), playbook: "load.yml".into() };
        let write = |rel: &str, text: &str| {
            let path = project.dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("hosts.ini", &inventory(sshd, hosts));
        write("load.yml", PLAYBOOK);
        write("templates/app.ini.j2", TEMPLATE);
        write("home/.ssh/known_hosts", &std::fs::read_to_string(&sshd.known_hosts).unwrap());
        project
    }

    /// Runs `name`, written with `text`, instead of the load playbook.
    pub fn with_playbook(mut self, name: &str, text: &str) -> LoadProject {
        std::fs::write(self.dir.path().join(name), text).unwrap();
        self.playbook = name.to_string();
        self
    }

    /// `[WRAPPER...] stockman playbook --forks FORKS -i hosts.ini PLAYBOOK -e
    /// remote=...`, ready to run in the project with its HOME; the wrapper
    /// (e.g. `timeout -s KILL 600`) may be empty.
    pub fn command(&self, wrapper: &[String], stockman: &Path, forks: usize) -> Command {
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(stockman);
                cmd
            }
            None => Command::new(stockman),
        };
        cmd.args(["playbook", "--forks", &forks.to_string(), "-i", "hosts.ini", &self.playbook, "-e"])
            .arg(format!("remote={}", self.remote.path().display()))
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path().join("home"))
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("ANSIBLE_HOST_KEY_CHECKING");
        cmd
    }

    /// A host's directory on the "remote" side (sshd runs on this machine).
    pub fn host_dir(&self, index: usize) -> PathBuf {
        self.remote.path().join(host_name(index))
    }
}

/// `h0001`, `h0002`, ...: distinct names, one per simulated host.
pub fn host_name(index: usize) -> String {
    format!("h{index:04}")
}

fn inventory(sshd: &TestSshd, hosts: usize) -> String {
    let mut text = format!(
        "[fleet:vars]\nansible_host=127.0.0.1\nansible_port={}\nansible_user={}\nansible_ssh_private_key_file={}\n\n[fleet]\n",
        sshd.port,
        sshd.user,
        sshd.client_key.display()
    );
    for index in 0..hosts {
        text.push_str(&host_name(index));
        text.push('\n');
    }
    text
}

/// Exit code 0 and a PLAY RECAP line for every host with failed=0 and
/// unreachable=0 (and changed=0 on a rerun); otherwise what is wrong.
pub fn judge(code: i32, stdout: &str, hosts: usize, rerun: bool) -> Result<(), String> {
    let recap = stdout.split("PLAY RECAP").nth(1).ok_or("no PLAY RECAP in the output")?;
    let lines: Vec<&str> = recap.lines().filter(|l| l.contains(" : ")).collect();
    if lines.len() != hosts {
        return Err(format!("{} recap lines for {hosts} hosts", lines.len()));
    }
    let has = |line: &str, word: &str| line.split_whitespace().any(|w| w == word);
    let bad: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !has(l, "failed=0") || !has(l, "unreachable=0") || (rerun && !has(l, "changed=0")))
        .collect();
    if let Some(first) = bad.first() {
        return Err(format!("{} hosts not as expected, e.g. `{}`", bad.len(), first.trim()));
    }
    if code != 0 {
        return Err(format!("exit code {code}"));
    }
    Ok(())
}
