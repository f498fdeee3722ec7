//! Helpers for the fault tests: a project whose inventory names the fleet's
//! hosts with short keepalives, a run of the real binary that can be disturbed
//! while it runs, and checks that no temp file was left behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::fleet::Fleet;

/// Every fault test must end well within this: the controller never hangs.
pub const RUN_BOUND: Duration = Duration::from_secs(90);

pub struct FaultProject {
    pub dir: tempfile::TempDir,
}

pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// The recap line of `host` with padding collapsed.
    pub fn recap(&self, host: &str) -> String {
        let recap = self.stdout.split("PLAY RECAP").nth(1).unwrap_or_else(|| panic!("no recap:\n{}", self.all()));
        let line = recap.lines().find(|l| l.split_whitespace().next() == Some(host)).unwrap_or_else(|| panic!("no {host}:\n{}", self.all()));
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn count(&self, host: &str, what: &str) -> u32 {
        let key = format!("{what}=");
        self.recap(host).split(' ').find_map(|w| w.strip_prefix(key.as_str())?.parse().ok()).unwrap()
    }

    pub fn all(&self) -> String {
        format!("exit {} after {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.elapsed, self.stdout, self.stderr)
    }
}

impl FaultProject {
    /// `playbook` as site.yml; the inventory lists the fleet's hosts with
    /// keepalives of 1 s x 3 so a silent peer is noticed in seconds.
    pub fn new(fleet: &Fleet, playbook: &str) -> FaultProject {
        let p = FaultProject { dir: tempfile::tempdir().unwrap() };
        p.refresh_known_hosts(fleet);
        let mut inventory = String::from("[fleet]\n");
        for host in fleet.hosts() {
            inventory.push_str(&format!(
                "{} ansible_host={} ansible_user=root ansible_ssh_private_key_file={}\n",
                host.name,
                host.address,
                fleet.key_path().display()
            ));
        }
        inventory.push_str("[fleet:vars]\nansible_ssh_common_args='-o ServerAliveInterval=1 -o ServerAliveCountMax=3'\n");
        p.write("hosts.ini", inventory.as_bytes());
        p.write("site.yml", playbook.as_bytes());
        p
    }

    pub fn write(&self, rel: &str, bytes: &[u8]) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// After `fleet reset` a host has a new key.
    pub fn refresh_known_hosts(&self, fleet: &Fleet) {
        std::fs::create_dir_all(self.path("home/.ssh")).unwrap();
        std::fs::copy(fleet.known_hosts_path(), self.path("home/.ssh/known_hosts")).unwrap();
    }

    /// Starts `stockman playbook -i hosts.ini site.yml ARGS` without waiting.
    pub fn start(&self, args: &[&str]) -> Running {
        let child = Command::new(env!("CARGO_BIN_EXE_stockman"))
            .args(["playbook", "-i", "hosts.ini", "site.yml"])
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Running { child: Some(child), started: Instant::now() }
    }

    pub fn run(&self, args: &[&str]) -> Finished {
        self.start(args).finish()
    }
}

pub struct Running {
    child: Option<Child>,
    started: Instant,
}

impl Running {
    /// Waits for the run, killing it (and failing the test) past [`RUN_BOUND`].
    pub fn finish(mut self) -> Finished {
        let mut child = self.child.take().unwrap();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if self.started.elapsed() > RUN_BOUND {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!("stockman hung for {RUN_BOUND:?}:\n{}", String::from_utf8_lossy(&out.stdout));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = child.wait_with_output().unwrap();
        Finished {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: self.started.elapsed(),
        }
    }

    /// Waits until `fleet` shows `path` existing on `host` (the play got there).
    pub fn wait_for_file(&self, fleet: &Fleet, host: &str, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !fleet.exec(host, &["test", "-e", path]).status.success() {
            assert!(Instant::now() < deadline, "the play never created {path} on {host}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs a command on the controller (ip, tc), asserting success.
pub fn sh(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Files in `dir` on `host` whose names look like temp files (hidden or
/// containing `tmp`/`stockman`): an atomic write leaves none behind.
pub fn temp_files(fleet: &Fleet, host: &str, dir: &str) -> String {
    let script = format!("ls -A {dir} | grep -E '^\\.|tmp|stockman' || true");
    fleet.sh(host, &script)
}

/// The systemd-nspawn process of `host` (its pid file in the fleet's state dir).
pub fn nspawn_pid(host: &str) -> u32 {
    let default_state = match std::env::var("STOCKMAN_FLEET_ID").ok().filter(|id| id != "0") {
        Some(id) => format!("/run/stockman-fleet{id}"),
        None => "/run/stockman-fleet".into(),
    };
    let state = std::env::var("STOCKMAN_FLEET_STATE").unwrap_or(default_state);
    let pid_file = Path::new(&state).join("hosts").join(host).join("pid");
    let text = std::fs::read_to_string(&pid_file).unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()));
    text.trim().parse().unwrap()
}
