//! A real OpenSSH sshd on 127.0.0.1 for one test: its own keys, config and
//! known_hosts in a temp dir; killed (with its sessions) on drop.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stockman::transport::{ConnectSpec, ConnectionKind};

const SSHD: &str = "/usr/sbin/sshd";

pub struct TestSshd {
    pub port: u16,
    /// The user sshd logs in as: the one running the tests.
    pub user: String,
    /// An ed25519 key in authorized_keys.
    pub client_key: PathBuf,
    /// An RSA key in authorized_keys (OpenSSH 9 accepts only rsa-sha2-256/512 signatures).
    pub rsa_client_key: PathBuf,
    /// `[127.0.0.1]:PORT ssh-ed25519 ...`, the server's real key.
    pub known_hosts: PathBuf,
    /// The same host with a different key, after comments and another host (line 4).
    pub wrong_known_hosts: PathBuf,
    pub dir: tempfile::TempDir,
    child: Child,
}

/// The line of `wrong_known_hosts` that holds the wrong key for this host.
pub const WRONG_KEY_LINE: usize = 4;

impl TestSshd {
    pub fn start() -> TestSshd {
        Self::start_logging("VERBOSE")
    }

    /// sshd logging at DEBUG1 into `sshd.log` (which names the key exchange);
    /// beware that it also writes debug lines into every session's stderr.
    pub fn start_with_debug_log() -> TestSshd {
        Self::start_logging("DEBUG1")
    }

    fn start_logging(log_level: &str) -> TestSshd {
        Self::start_custom(log_level, |_| String::new())
    }

    /// sshd with extra `sshd_config` lines, made by `setup` in the server's
    /// directory once the keys exist (e.g. to sign them with a CA first).
    pub fn start_with(setup: impl FnOnce(&Path) -> String) -> TestSshd {
        Self::start_custom("VERBOSE", setup)
    }

    fn start_custom(log_level: &str, setup: impl FnOnce(&Path) -> String) -> TestSshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: tier 1 tests need OpenSSH's server (apt-get install openssh-server)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name);
        keygen(&path("hostkey"), "ed25519");
        keygen(&path("wrong_hostkey"), "ed25519");
        keygen(&path("client_key"), "ed25519");
        keygen(&path("rsa_client_key"), "rsa");
        let authorized = read(&path("client_key.pub")) + &read(&path("rsa_client_key.pub"));
        fs::write(path("authorized_keys"), authorized).unwrap();
        if is_root() {
            fs::create_dir_all("/run/sshd").expect("mkdir /run/sshd");
        }
        let extra = setup(dir.path());
        let (port, child) = spawn_on_free_port(dir.path(), log_level, &extra);
        let host = format!("[127.0.0.1]:{port}");
        fs::write(
            path("known_hosts"),
            format!("{host} {}", read(&path("hostkey.pub"))),
        )
        .unwrap();
        let wrong = format!(
            "# stockman tier 1: a wrong key for this host\n\
             [127.0.0.1]:1 {other}\
             # the entry below does not match the server\n\
             {host} {wrong}",
            other = read(&path("hostkey.pub")),
            wrong = read(&path("wrong_hostkey.pub")),
        );
        fs::write(path("wrong_known_hosts"), wrong).unwrap();
        TestSshd {
            port,
            user: current_user(),
            client_key: path("client_key"),
            rsa_client_key: path("rsa_client_key"),
            known_hosts: path("known_hosts"),
            wrong_known_hosts: path("wrong_known_hosts"),
            dir,
            child,
        }
    }

    /// A spec for this server: our key, our known_hosts, strict checking, 5 s timeout.
    pub fn spec(&self) -> ConnectSpec {
        ConnectSpec {
            name: "tier1".to_string(),
            address: "127.0.0.1".to_string(),
            port: self.port,
            user: Some(self.user.clone()),
            private_key: Some(self.client_key.clone()),
            known_hosts: vec![self.known_hosts.clone()],
            global_known_hosts: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            kind: ConnectionKind::Ssh,
            ..ConnectSpec::default()
        }
    }

    /// A path in this server's temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts sshd again after [`TestSshd::kill`]: the same port, keys and
    /// config, as a host whose sshd comes back (it logs to `sshd.log` anew).
    pub fn revive(&mut self) {
        let log = fs::File::create(self.path("sshd.log")).unwrap();
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(self.path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        assert!(wait_until_listening(&mut child, self.port), "sshd did not start again on port {}: {}", self.port, read(&self.path("sshd.log")));
        self.child = child;
    }

    /// Kills sshd and every process it started (the per-connection sshd
    /// processes run in their own sessions, so a process group kill misses them).
    pub fn kill(&mut self) {
        let mut pids = descendants(self.child.id());
        pids.push(self.child.id());
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(&pids)
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_on_free_port(dir: &Path, log_level: &str, extra: &str) -> (u16, Child) {
    for _ in 0..10 {
        let port = free_port();
        let config = dir.join("sshd_config");
        fs::write(&config, sshd_config(dir, port, log_level) + extra).unwrap();
        let log = fs::File::create(dir.join("sshd.log")).unwrap();
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        if wait_until_listening(&mut child, port) {
            return (port, child);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!(
        "sshd did not start; its log: {}",
        read(&dir.join("sshd.log"))
    );
}

/// Sessions get their own empty HOME: the account's shell rc files (a
/// developer's ~/.bashrc, which bash reads for commands run over SSH) must not
/// slow down or break the tests.
fn sshd_config(dir: &Path, port: u16, log_level: &str) -> String {
    let d = dir.display();
    let _ = std::fs::create_dir_all(dir.join("home"));
    format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nSetEnv HOME={d}/home\n\
         AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\n\
         UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nLogLevel {log_level}\n"
    )
}

/// True once the port accepts; false if sshd exited (a port collision) or took too long.
fn wait_until_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().unwrap().port()
}

pub fn keygen(path: &Path, kind: &str) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", "", "-C", "stockman-tier1", "-f"])
        .arg(path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    let status = cmd.stdin(Stdio::null()).status().expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen -t {kind} failed");
}

/// Runs ssh-keygen with `args`, panicking with its stderr on failure.
pub fn ssh_keygen(args: &[&str]) {
    let out = Command::new("ssh-keygen").args(args).stdin(Stdio::null()).output().expect("run ssh-keygen");
    assert!(out.status.success(), "ssh-keygen {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn current_user() -> String {
    stockman::transport::controller_user()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// All processes below `root`, found through /proc's parent links.
pub fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    found.remove(0);
    found
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}
