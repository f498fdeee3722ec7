//! The tier-2 fleet from Rust: Debian hosts booted in systemd-nspawn containers by
//! `tests/fleet/fleet`, each with sshd on its own address.
//!
//! ```text
//! let fleet = Fleet::up(3);                  // boots fleet01..fleet03, or panics
//! let inventory = fleet.inventory_path();    // INI inventory, [fleet] group, user root
//! let out = fleet.exec("fleet01", &["cat", "/etc/hostname"]); // no SSH involved
//! fleet.reset("fleet01");                    // empty disk, new host key
//! // dropped: `fleet down`
//! ```
//!
//! Only one fleet exists on a machine, so `Fleet::up` holds a process-wide lock for
//! the fleet's lifetime: tests that use a fleet run one after another even when the
//! test harness runs them in parallel. Booting 3 hosts takes about 2 s, so each test
//! can afford a fresh fleet of its own. Any failure (not root, missing packages,
//! a host that does not boot) panics with the script's own message: in CI a missing
//! prerequisite is a failure, never a skip.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Whether a [`Fleet`] exists in this test binary (the script serializes across processes).
static BUSY: Mutex<bool> = Mutex::new(false);
static FREED: Condvar = Condvar::new();

/// Held by the one live [`Fleet`]; a plain token (not a guard) so `Fleet` is `Send`.
struct Exclusive;

impl Exclusive {
    fn acquire() -> Exclusive {
        let mut busy = busy_flag();
        while *busy {
            busy = FREED.wait(busy).unwrap_or_else(PoisonError::into_inner);
        }
        *busy = true;
        Exclusive
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        *busy_flag() = false;
        FREED.notify_one();
    }
}

/// A test that panicked with a fleet still tore it down (Drop), so poisoning is harmless.
fn busy_flag() -> MutexGuard<'static, bool> {
    BUSY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One booted host of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetHost {
    /// Inventory name and hostname, e.g. `fleet01`.
    pub name: String,
    /// The address sshd listens on, reachable from the test process.
    pub address: IpAddr,
}

/// A running fleet; stopped and removed (`fleet down`) when dropped.
pub struct Fleet {
    inventory: PathBuf,
    known_hosts: PathBuf,
    key: PathBuf,
    hosts: Vec<FleetHost>,
    netns_prefix: String,
    controller: IpAddr,
    _exclusive: Exclusive,
}

impl Fleet {
    /// Boots `n` hosts (fleet01..) and waits until each one's sshd answers.
    /// Panics with the script's stderr if anything goes wrong.
    pub fn up(n: usize) -> Fleet {
        Fleet::up_binding(n, &[])
    }

    /// [`Fleet::up`] with controller paths bound read-only, at the same path, into
    /// every host (kept across resets): for tests that run tools inside a host.
    pub fn up_binding(n: usize, binds: &[PathBuf]) -> Fleet {
        let exclusive = Exclusive::acquire();
        let binds: Vec<String> = binds.iter().map(|p| p.display().to_string()).collect();
        let up = run_script_with(&["up", &n.to_string()], &[("STOCKMAN_FLEET_BIND_RO", &binds.join(" "))]);
        let inventory = PathBuf::from(String::from_utf8_lossy(&up.stdout).trim());
        let paths = String::from_utf8_lossy(&run_script(&["paths"]).stdout).into_owned();
        let fleet = Fleet {
            hosts: parse_inventory(&inventory),
            known_hosts: path_named(&paths, "known_hosts"),
            key: path_named(&paths, "key"),
            netns_prefix: path_named(&paths, "netns_prefix").display().to_string(),
            controller: path_named(&paths, "controller").display().to_string().parse().expect("controller address"),
            inventory,
            _exclusive: exclusive,
        };
        assert_eq!(fleet.hosts.len(), n, "inventory {} lists a wrong number of hosts", fleet.inventory.display());
        fleet
    }

    /// The INI inventory: `fleet01 ansible_host=10.213.0.11 ansible_user=root
    /// ansible_ssh_private_key_file=...` in group `[fleet]`.
    pub fn inventory_path(&self) -> &Path {
        &self.inventory
    }

    /// OpenSSH known_hosts with every host's current key, under its name and address.
    pub fn known_hosts_path(&self) -> &Path {
        &self.known_hosts
    }

    /// The private key that root on every host accepts.
    pub fn key_path(&self) -> &Path {
        &self.key
    }

    /// The network namespace `host` lives in (names differ per `STOCKMAN_FLEET_ID`).
    pub fn netns(&self, host: &str) -> String {
        format!("{}{host}", self.netns_prefix)
    }

    /// The controller's address on the fleet's bridge, as the hosts see it.
    pub fn controller_address(&self) -> IpAddr {
        self.controller
    }

    pub fn hosts(&self) -> Vec<FleetHost> {
        self.hosts.clone()
    }

    /// Runs `cmd` inside `host` as root without SSH (nsenter). The exit status is
    /// the command's own.
    pub fn exec(&self, host: &str, cmd: &[&str]) -> Output {
        self.exec_command(host, cmd)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script_path().display()))
    }

    /// The command [`Fleet::exec`] runs, for callers that stream or bound it.
    pub fn exec_command(&self, host: &str, cmd: &[&str]) -> Command {
        let mut args = vec!["exec", host, "--"];
        args.extend_from_slice(cmd);
        script_command(&args)
    }

    /// Runs a shell script inside `host` and returns its stdout; panics if it fails.
    pub fn sh(&self, host: &str, script: &str) -> String {
        let out = self.exec(host, &["sh", "-c", script]);
        assert!(out.status.success(), "`{script}` failed on {host} ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stops `host`, wipes everything written to it, boots it again and refreshes its
    /// entry in known_hosts (the host gets a new key). Threads may reset distinct
    /// hosts at the same time.
    pub fn reset(&self, host: &str) {
        run_script(&["reset", host]);
    }

    /// An OpenSSH client command logged in as root on `host`, checking its key
    /// strictly against the fleet's known_hosts; append the remote command.
    pub fn ssh(&self, host: &str) -> Command {
        let address = self.address_of(host);
        let mut ssh = Command::new("ssh");
        ssh.arg("-i")
            .arg(&self.key)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"])
            .args(["-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"])
            // The default sntrup761 exchange costs ~0.18 s of CPU per connection.
            .args(["-o", "KexAlgorithms=curve25519-sha256"])
            .arg(format!("root@{address}"))
            .stdin(Stdio::null());
        ssh
    }

    pub fn address_of(&self, host: &str) -> IpAddr {
        self.hosts
            .iter()
            .find(|h| h.name == host)
            .unwrap_or_else(|| panic!("no host `{host}` in the fleet"))
            .address
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // Never panic in drop (it may run while unwinding); a failed `down` shows up
        // as a failure of the next `up`, which tears down leftovers first anyway.
        let _ = script_command(&["down"]).stdin(Stdio::null()).output();
    }
}

pub fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet/fleet")
}

/// The fleet belongs to this process: another test run's `up` waits for it and
/// stray `fleet down`s spare it.
fn script_command(args: &[&str]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(script_path()).args(args).env("STOCKMAN_FLEET_OWNER", std::process::id().to_string());
    cmd
}

/// Runs the script and returns its output; panics with its stderr on failure.
fn run_script(args: &[&str]) -> Output {
    run_script_with(args, &[])
}

fn run_script_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = script_command(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script_path().display()));
    assert!(
        out.status.success(),
        "`tests/fleet/fleet {}` failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `key=value` lines printed by `fleet paths`.
fn path_named(paths: &str, name: &str) -> PathBuf {
    paths
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("`fleet paths` printed no `{name}=` line:\n{paths}"))
}

/// Host lines of the `[fleet]` group: `NAME ansible_host=ADDRESS ...`.
fn parse_inventory(path: &Path) -> Vec<FleetHost> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read inventory {}: {e}", path.display()));
    let mut section = "";
    let mut hosts = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
        } else if section == "fleet" {
            hosts.push(parse_host_line(line, path));
        }
    }
    hosts
}

fn parse_host_line(line: &str, path: &Path) -> FleetHost {
    let mut words = line.split_whitespace();
    let name = words.next().unwrap_or_default().to_owned();
    let address = words
        .find_map(|w| w.strip_prefix("ansible_host="))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{}: host line without a valid ansible_host: {line}", path.display()));
    FleetHost { name, address }
}
