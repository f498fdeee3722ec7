//! pyinfra, the peer a user would pick instead of stockman (issue 18): the
//! same work as site.yml written as a pyinfra deploy, run from its own cached
//! venv with the same parallelism.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fleet::FleetHost;

/// Pinned so that every machine compares against the same pyinfra.
const PIN: &str = "pyinfra==3.10.0";
const VENV: &str = "/var/cache/stockman/pyinfra-venv";

/// site.yml as pyinfra operations. The restart runs only when the config or
/// the unit changed, as the handler does; `cache_time` is cache_valid_time.
const DEPLOY: &str = r#"from io import StringIO
from pyinfra import host
from pyinfra.operations import apt, files, git, server, systemd
from pyinfra.operations.util import any_changed

apt.packages(name="Packages", packages=["hello", "tree", "jq", "figlet"], update=True, cache_time=3600)
server.user(name="Service user", user="demo", shell="/bin/sh", home="/srv/demo")
files.directory(name="Config directory", path="/srv/demo/etc", user="demo", mode="0755")
config = files.put(name="Config", src=StringIO(f"listen=8080\nhost={host.name}\n"), dest="/srv/demo/etc/app.conf", mode="0644")
git.repo(name="Code", src="/srv/repo/git/demo.git", dest="/srv/demo/src", branch="v1.0")
unit = files.put(name="Unit file", src="files/demo.service", dest="/etc/systemd/system/demo.service", mode="0644")
systemd.service(name="Service running and enabled", service="demo", running=True, enabled=True, daemon_reload=True)
systemd.service(name="Restart demo", service="demo", restarted=True, _if=any_changed(config, unit))
"#;

/// The `pyinfra` program, installing the pinned version into its venv first
/// if needed (under a lock: a second checkout may be doing the same).
pub fn ensure_installed() -> PathBuf {
    let program = Path::new(VENV).join("bin/pyinfra");
    let script = format!(
        "exec 7>{VENV}.lock; flock 7; \
         if [ \"$(cat {VENV}/.pin 2>/dev/null)\" != '{PIN}' ]; then \
           python3 -m venv --clear {VENV} && {VENV}/bin/pip install -q '{PIN}' && printf %s '{PIN}' > {VENV}/.pin; \
         fi"
    );
    let status = Command::new("sh").arg("-c").arg(&script).status().expect("run sh");
    assert!(status.success(), "installing {PIN} into {VENV} failed ({status})");
    program
}

/// Writes deploy.py and an inventory of the hosts (logged in as the other
/// tools are: root, the fleet's key) into the project directory.
pub fn write_project(dir: &Path, hosts: &[FleetHost], key: &Path) {
    std::fs::write(dir.join("deploy.py"), DEPLOY).expect("write deploy.py");
    let data = format!(
        "{{\"ssh_user\": \"root\", \"ssh_key\": \"{}\", \"ssh_strict_host_key_checking\": \"off\", \"ssh_known_hosts_file\": \"/dev/null\"}}",
        key.display()
    );
    // Named as in stockman's inventory, so `host.name` is the inventory_hostname.
    let entries: Vec<String> = hosts.iter().map(|h| format!("    (\"{}\", {{\"ssh_hostname\": \"{}\", **{data}}}),", h.name, h.address)).collect();
    let inventory = format!("fleet = [\n{}\n]\n", entries.join("\n"));
    std::fs::write(dir.join("inventory.py"), inventory).expect("write inventory.py");
}

/// `pyinfra -y --parallel FORKS inventory.py deploy.py`.
pub fn command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(["-y", "--parallel", crate::project::FORKS, "inventory.py", "deploy.py"]);
    cmd
}
