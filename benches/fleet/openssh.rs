//! The OpenSSH lower bound: the playbook's state checks made by plain `ssh`,
//! on hosts already in the desired state. Nothing can do the same checks over
//! SSH with less work on the hosts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fleet::FleetHost;

/// One command per task of `site.yml` (facts first), each what a tool must at
/// least ask a host that is already in the desired state. `daemon-reload` is
/// work the playbook asks for on every run, so it is here too.
pub const CHECKS: &[&str] = &[
    "uname -a; cat /etc/os-release",
    "dpkg-query -W -f='${Status}\\n' hello tree jq figlet; stat -c %Y /var/lib/apt/lists",
    "getent passwd demo",
    "stat -c '%F %a %U %G' /srv/demo/etc",
    "sha1sum /srv/demo/etc/app.conf; stat -c '%a %U %G' /srv/demo/etc/app.conf",
    "git -C /srv/demo/src rev-parse HEAD; git ls-remote /srv/repo/git/demo.git v1.0",
    "sha1sum /etc/systemd/system/demo.service; stat -c '%a %U %G' /etc/systemd/system/demo.service",
    "systemctl daemon-reload && systemctl show demo -p ActiveState -p UnitFileState",
];

/// The first run's floor: one script per fresh host making exactly the
/// changes site.yml makes (HOST is the inventory name, UNIT the unit file),
/// the handler's restart included; `apt-get update` only when the cache is
/// older than the playbook's cache_valid_time (an hour), as apt decides.
const FIRST_RUN: &str = "set -e
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/update-success-stamp; [ -e $stamp ] || stamp=/var/lib/apt/lists
[ -n \"$(find $stamp -maxdepth 0 -mmin -60)\" ] || apt-get update -qq
apt-get install -y -qq hello tree jq figlet >/dev/null
useradd --create-home --home-dir /srv/demo --shell /bin/sh demo
mkdir -p /srv/demo/etc && chown demo /srv/demo/etc && chmod 0755 /srv/demo/etc
printf 'listen=8080\\nhost=%s\\n' HOST > /srv/demo/etc/app.conf && chmod 0644 /srv/demo/etc/app.conf
git clone -q /srv/repo/git/demo.git /srv/demo/src && git -C /srv/demo/src checkout -q v1.0
cat > /etc/systemd/system/demo.service <<'UNIT'
UNIT_TEXT
UNIT
chmod 0644 /etc/systemd/system/demo.service
systemctl daemon-reload && systemctl enable -q --now demo && systemctl restart demo";

/// How to log in to the fleet's hosts with OpenSSH.
pub struct Ssh {
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    pub sockets: PathBuf,
}

/// Wall time of a phase and how many commands failed in it.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub wall: Duration,
    /// Busy CPU time of the whole machine during the phase.
    pub machine_cpu: Duration,
    pub failures: usize,
}

impl Ssh {
    /// One multiplexed connection per host (ControlMaster), then one round
    /// trip per check; all hosts in parallel. Connection setup is included.
    pub fn per_check(&self, hosts: &[FleetHost]) -> Phase {
        self.parallel(hosts, |host| {
            let socket = self.sockets.join(&host.name);
            let master = self.command(host, &["-M", "-N", "-f"], &socket, None);
            let mut failures = usize::from(!ok(master));
            for check in CHECKS {
                failures += usize::from(!ok(self.command(host, &[], &socket, Some(check))));
            }
            let _ = ok(self.command(host, &["-O", "exit"], &socket, None));
            failures
        })
    }

    /// One connection and one command per host running every check.
    pub fn batched(&self, hosts: &[FleetHost]) -> Phase {
        let script = CHECKS.join("\n");
        self.parallel(hosts, |host| usize::from(!ok(self.command(host, &[], Path::new("none"), Some(&script)))))
    }

    /// One connection per fresh host running [`FIRST_RUN`].
    pub fn batched_first(&self, hosts: &[FleetHost], unit: &str) -> Phase {
        self.parallel(hosts, |host| {
            let script = FIRST_RUN.replace("HOST", &host.name).replace("UNIT_TEXT", unit.trim_end());
            usize::from(!ok(self.command(host, &[], Path::new("none"), Some(&script))))
        })
    }

    fn parallel(&self, hosts: &[FleetHost], per_host: impl Fn(&FleetHost) -> usize + Sync) -> Phase {
        let started = Instant::now();
        let busy_before = crate::measure::machine_busy();
        let failures = std::thread::scope(|scope| {
            let workers: Vec<_> = hosts.iter().map(|h| scope.spawn(|| per_host(h))).collect();
            workers.into_iter().map(|w| w.join().unwrap_or(1)).sum()
        });
        Phase { wall: started.elapsed(), machine_cpu: crate::measure::machine_busy().saturating_sub(busy_before), failures }
    }

    /// `ssh OPTIONS -S SOCKET root@HOST [REMOTE]`, output discarded.
    fn command(&self, host: &FleetHost, options: &[&str], socket: &Path, remote: Option<&str>) -> Command {
        let mut ssh = Command::new("ssh");
        ssh.arg("-i").arg(&self.key);
        ssh.arg("-o").arg(format!("UserKnownHostsFile={}", self.known_hosts.display()));
        ssh.args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]);
        // The same cheap key exchange stockman negotiates.
        ssh.args(["-o", "LogLevel=ERROR", "-o", "KexAlgorithms=curve25519-sha256"]);
        ssh.args(options).arg("-S").arg(socket);
        ssh.arg(format!("root@{}", host.address));
        ssh.args(remote);
        ssh.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        ssh
    }
}

fn ok(mut cmd: Command) -> bool {
    cmd.status().is_ok_and(|s| s.success())
}

/// A directory for the control sockets (short path: sun_path is 108 bytes).
pub fn socket_dir() -> PathBuf {
    let dir = Path::new("/tmp").join(format!("stockman-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("socket directory");
    dir
}
