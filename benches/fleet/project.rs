//! The benchmark's project directory (playbook, files, a HOME that trusts the
//! fleet's host keys) and how each tool is run on it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fleet::{self, Fleet};
use crate::measure::{self, Cost, Finished};

const SITE: &str = include_str!("site.yml");
const FALLBACK: &str = include_str!("fallback.yml");
pub const UNIT: &str = include_str!("files/demo.service");

/// Ansible's forks in the measurement; stockman gets the same.
pub const FORKS: &str = "50";

pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new(fleet: &Fleet) -> Project {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("site.yml"), SITE).expect("write site.yml");
        std::fs::write(dir.path().join("fallback.yml"), FALLBACK).expect("write fallback.yml");
        std::fs::create_dir_all(dir.path().join("files")).expect("files/");
        std::fs::write(dir.path().join("files/demo.service"), UNIT).expect("write demo.service");
        let project = Project { dir };
        project.refresh_known_hosts(fleet);
        project
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn refresh_known_hosts(&self, fleet: &Fleet) {
        std::fs::create_dir_all(self.home().join(".ssh")).expect("HOME/.ssh");
        std::fs::copy(fleet.known_hosts_path(), self.home().join(".ssh/known_hosts")).expect("copy known_hosts");
    }

    /// Every host back to a fresh disk (and new host keys), all at once.
    pub fn reset_all(&self, fleet: &Fleet) {
        let names: Vec<String> = fleet.hosts().into_iter().map(|h| h.name).collect();
        let status = Command::new("bash")
            .arg(fleet::script_path())
            .arg("reset")
            .args(&names)
            .env("STOCKMAN_FLEET_OWNER", std::process::id().to_string())
            .status()
            .expect("run the fleet script");
        assert!(status.success(), "`fleet reset` failed ({status})");
        self.refresh_known_hosts(fleet);
    }

    /// `stockman playbook` (release build) of `playbook` (site.yml,
    /// fallback.yml); a rerun must change nothing.
    pub fn stockman(&self, binary: &Path, inventory: &Path, playbook: &str, rerun: bool) -> Cost {
        let mut cmd = Command::new(binary);
        cmd.args(["playbook", "--forks", FORKS, "-i"]).arg(inventory).arg(playbook);
        // fallback.yml's module comes from the venv's ansible-core and collections.
        cmd.env("STOCKMAN_ANSIBLE_PYTHON", crate::ANSIBLE_PYTHON);
        self.checked("stockman", cmd, rerun)
    }

    /// `ansible-playbook` with pipelining, as in the measurement.
    pub fn ansible(&self, binary: &Path, inventory: &Path, playbook: &str, rerun: bool) -> Cost {
        let mut cmd = Command::new(binary);
        cmd.args(["--forks", FORKS, "-i"]).arg(inventory).arg(playbook);
        cmd.env("ANSIBLE_PIPELINING", "True").env("ANSIBLE_NOCOLOR", "1").env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3");
        self.checked("ansible-playbook", cmd, rerun)
    }

    /// pyinfra's deploy.py (written by [`crate::pyinfra::write_project`]):
    /// exit code 0 and no errors in its results table. A rerun is not required
    /// to change nothing: pyinfra checks out a git tag and reloads systemd on
    /// every run and counts both as changes.
    pub fn pyinfra(&self, program: &Path, hosts: &[fleet::FleetHost], key: &Path) -> Cost {
        crate::pyinfra::write_project(self.dir.path(), hosts, key);
        let mut cmd = crate::pyinfra::command(program);
        cmd.current_dir(self.dir.path()).env("HOME", self.home()).env_remove("SSH_AUTH_SOCK");
        let run = measure::run(&mut cmd);
        // pyinfra prints its results table on stderr. Columns: hosts, success,
        // error, no change; `-` is zero.
        let total = run.stdout.lines().chain(run.stderr.lines()).find_map(|l| l.trim().strip_prefix("Grand total")).map(|t| t.split_whitespace().collect::<Vec<_>>());
        let clean = total.as_ref().is_some_and(|t| t.get(2) == Some(&"-"));
        if run.code != 0 || !clean {
            panic!("pyinfra: exit code {}, results {total:?}\n--- stdout\n{}\n--- stderr\n{}", run.code, run.stdout, run.stderr);
        }
        run.cost
    }

    /// Runs a tool in the project with the project's HOME; panics with its
    /// output unless every host succeeded (and, on a rerun, nothing changed).
    fn checked(&self, tool: &str, mut cmd: Command, rerun: bool) -> Cost {
        cmd.current_dir(self.dir.path()).env("HOME", self.home()).env_remove("SSH_AUTH_SOCK");
        let run = measure::run(&mut cmd);
        if let Err(problem) = judge(&run, rerun) {
            panic!("{tool}: {problem}\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
        }
        run.cost
    }
}

/// Exit code 0 and a recap without failures; a rerun with changed=0 everywhere.
fn judge(run: &Finished, rerun: bool) -> Result<(), String> {
    if run.code != 0 {
        return Err(format!("exit code {}", run.code));
    }
    let recap = run.stdout.split("PLAY RECAP").nth(1).ok_or("no PLAY RECAP in the output")?;
    for line in recap.lines().filter(|l| l.contains(" : ")) {
        let bad = ["failed=0", "unreachable=0"].iter().any(|want| !line.split_whitespace().any(|w| w == *want));
        if bad || (rerun && !line.split_whitespace().any(|w| w == "changed=0")) {
            return Err(format!("recap line `{}`", line.trim()));
        }
    }
    Ok(())
}
