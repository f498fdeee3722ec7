//! Ansible's own integration tests under stockman (issue 16): role targets from the
//! ansible-core sdist, run as `ansible-test integration` runs them, on fresh fleet
//! hosts, under ansible-playbook and under stockman side by side.
//!
//! A role target TARGET runs as one play on host `testhost` (group `testhost`):
//! `gather_facts` unless its `aliases` say `gather_facts/no`, `vars: {output_dir}`,
//! `roles: [TARGET]`, with `ANSIBLE_ROLES_PATH` = the targets directory so that
//! `meta/main.yml` dependencies (setup_remote_tmp_dir, prepare_tests, ...) resolve.
//! The two tools run at the same time, each on its own freshly reset host.
//!
//! The targets that pass under stockman are a ratchet, listed in
//! tests/ansible_targets/passing.txt: the test fails when one of them stops passing
//! (or stops passing under ansible-playbook, which means the fleet is not what the
//! target needs). `STOCKMAN_TARGETS=a,b,c` runs other targets instead, to see how
//! far stockman gets; their outcome is printed, never asserted (with
//! `STOCKMAN_TARGETS_ANSIBLE=0`, under stockman alone).
//!
//! The sdist is unpacked by tests/run-all.sh into [`TESTS_DIR`]; nothing of it is
//! committed. Each run's output goes to target/ansible-targets/TOOL/TARGET.log.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::fleet::Fleet;
use crate::playbook::{ansible_command, ANSIBLE_PLAYBOOK};

/// Where run-all.sh unpacks ansible-core's `test/integration` (its version pinned there).
const TESTS_DIR: &str = "/var/cache/stockman/ansible-tests/test/integration/targets";
/// A target that takes longer than this under either tool fails.
const TARGET_TIMEOUT_SECS: u64 = 900;
/// The targets' `output_dir` (on the host) and `$OUTPUT_DIR` (on the controller).
const OUTPUT_DIR: &str = "/tmp/output_dir";
/// The venv's Python, whose ansible-core and collections the fallback uses.
const ANSIBLE_PYTHON: &str = "/var/cache/stockman/ansible-venv/bin/python3";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Ansible,
    Stockman,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ansible => "ansible-playbook",
            Tool::Stockman => "stockman",
        }
    }
}

/// How one tool did on one target.
#[derive(Debug, Clone)]
struct Outcome {
    passed: bool,
    ok: u32,
    failed: u32,
    seconds: f64,
    /// The first failing task and where it is, or the load error.
    first_failure: Option<String>,
}

impl Outcome {
    fn not_run() -> Outcome {
        Outcome { passed: false, ok: 0, failed: 0, seconds: 0.0, first_failure: Some("not run".into()) }
    }
}

fn targets_dir() -> PathBuf {
    let dir = PathBuf::from(TESTS_DIR);
    assert!(
        dir.join("getent/tasks/main.yml").is_file(),
        "Ansible's integration targets are not in {TESTS_DIR}: run `bash tests/run-all.sh` (it unpacks the ansible-core sdist)"
    );
    dir
}

fn ratchet_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible_targets/passing.txt")
}

/// Target names in the ratchet file (one a line, `#` comments).
fn ratchet() -> Vec<String> {
    let text = std::fs::read_to_string(ratchet_file()).unwrap();
    text.lines().map(|l| l.split('#').next().unwrap().trim()).filter(|l| !l.is_empty()).map(String::from).collect()
}

fn aliases(target: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(target.join("aliases")).unwrap_or_default();
    text.lines().map(|l| l.split('#').next().unwrap().trim().to_string()).filter(|l| !l.is_empty()).collect()
}

/// The playbook ansible-test writes for a role target.
fn role_playbook(target: &str, gather_facts: bool, output_dir: &str) -> String {
    format!(
        "- hosts: testhost\n  gather_facts: {gather_facts}\n  vars:\n    output_dir: {output_dir}\n  roles:\n    - {target}\n"
    )
}

/// A project directory for one tool and one target: playbook, inventory naming the
/// tool's fleet host `testhost`, and a HOME that trusts the fleet.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(fleet: &Fleet, host: &str, target: &str, gather_facts: bool) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let ssh = root.join("home/.ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::copy(fleet.known_hosts_path(), ssh.join("known_hosts")).unwrap();
        let inventory = format!(
            "[testhost]\ntesthost ansible_host={} ansible_user=root ansible_ssh_private_key_file={}\n\n[testhost:vars]\nansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o KexAlgorithms=curve25519-sha256'\nansible_python_interpreter=/usr/bin/python3\n",
            fleet.address_of(host),
            fleet.key_path().display(),
            ssh.join("known_hosts").display()
        );
        std::fs::write(root.join("inventory"), inventory).unwrap();
        std::fs::write(root.join("site.yml"), role_playbook(target, gather_facts, OUTPUT_DIR)).unwrap();
        Project { dir }
    }

    fn command(&self, tool: Tool) -> Command {
        let home = self.dir.path().join("home");
        let mut cmd = match tool {
            Tool::Ansible => ansible_command(ANSIBLE_PLAYBOOK, &home),
            Tool::Stockman => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_stockman"));
                // The modules stockman has no native one for run from the
                // controller's ansible-core, as a user's installed one would.
                c.arg("playbook").env("HOME", &home).env_remove("SSH_AUTH_SOCK").env("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON);
                c
            }
        };
        cmd.arg("-vv")
            .arg("-i")
            .arg(self.dir.path().join("inventory"))
            .arg(self.dir.path().join("site.yml"))
            .current_dir(self.dir.path())
            .env("ANSIBLE_ROLES_PATH", targets_dir())
            // As ansible-test sets them (lookup_pipe echoes $OUTPUT_DIR on the controller).
            .env("OUTPUT_DIR", OUTPUT_DIR)
            .env("INVENTORY_PATH", self.dir.path().join("inventory"))
            .env("NO_COLOR", "1")
            .env("ANSIBLE_NOCOLOR", "1");
        cmd
    }
}

fn log_path(tool: Tool, target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ansible-targets").join(tool.name());
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{target}.log"))
}

/// Runs `target` with `tool` on fleet host `host` (already reset).
fn run_target(fleet: &Fleet, tool: Tool, host: &str, target: &str) -> Outcome {
    let gather = !aliases(&targets_dir().join(target)).iter().any(|a| a == "gather_facts/no");
    let project = Project::new(fleet, host, target, gather);
    let started = Instant::now();
    let mut child = project.command(tool).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.name()));
    let (code, stdout, stderr) = wait_bounded(&mut child, TARGET_TIMEOUT_SECS);
    let seconds = started.elapsed().as_secs_f64();
    std::fs::write(log_path(tool, target), format!("exit {code:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}")).unwrap();
    judge(code, &stdout, &stderr, seconds)
}

/// Waits for `child` at most `secs`, killing it after; reads both streams meanwhile.
fn wait_bounded(child: &mut std::process::Child, secs: u64) -> (Option<i32>, String, String) {
    use std::io::Read;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    (status.and_then(|s| s.code()), stdout, stderr)
}

fn judge(code: Option<i32>, stdout: &str, stderr: &str, seconds: f64) -> Outcome {
    let recap = recap_counts(stdout);
    let (ok, failed, unreachable) = recap.unwrap_or((0, 0, 0));
    let passed = code == Some(0) && recap.is_some() && failed == 0 && unreachable == 0;
    let first_failure = if passed {
        None
    } else if code.is_none() {
        Some(format!("timed out after {TARGET_TIMEOUT_SECS} s"))
    } else {
        first_failure(stdout).or_else(|| stderr.lines().find(|l| !l.trim().is_empty()).map(|l| l.trim().to_string()))
    };
    Outcome { passed, ok, failed, seconds, first_failure }
}

/// (ok, failed, unreachable) of `testhost` in the PLAY RECAP.
fn recap_counts(stdout: &str) -> Option<(u32, u32, u32)> {
    let recap = &stdout[stdout.find("PLAY RECAP")?..];
    let line = recap.lines().find(|l| l.starts_with("testhost"))?;
    let count = |key: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some((count("ok"), count("failed"), count("unreachable")))
}

/// The banner and `task path:` of the task whose failure ended the host: the last
/// `fatal:` not followed by `...ignoring` (earlier ones were rescued), with the
/// start of its message.
fn first_failure(stdout: &str) -> Option<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut banner = "";
    let mut path = "";
    let mut last = None;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("TASK [") || line.starts_with("RUNNING HANDLER [") {
            banner = line.trim_end_matches(['*', ' ']);
            path = "";
        } else if let Some(p) = line.strip_prefix("task path: ") {
            path = p;
        } else if line.starts_with("fatal: ") || line.starts_with("failed: ") {
            let ignored = lines[i + 1..].iter().take_while(|l| !l.starts_with("TASK [")).any(|l| l.trim() == "...ignoring");
            if !ignored {
                let msg: String = line.chars().take(240).collect();
                last = Some(format!("{banner} at {path}: {msg}"));
            }
        }
    }
    last
}

fn describe(o: &Outcome) -> String {
    let verdict = if o.passed { "PASS" } else { "FAIL" };
    format!("{verdict} ok={} failed={} {:.0}s", o.ok, o.failed, o.seconds)
}

/// Runs each target under both tools at once, on fleet01 (ansible-playbook) and
/// fleet02 (stockman), both reset before every target.
fn run_all(targets: &[String], with_ansible: bool) -> Vec<(String, Outcome, Outcome)> {
    let fleet = Fleet::up(2);
    let mut results = Vec::new();
    for target in targets {
        assert!(targets_dir().join(target).join("tasks/main.yml").is_file(), "`{target}` is not a role target in {TESTS_DIR}");
        fleet.reset("fleet01");
        fleet.reset("fleet02");
        let (ansible, stockman) = std::thread::scope(|s| {
            let a = s.spawn(|| if with_ansible { run_target(&fleet, Tool::Ansible, "fleet01", target) } else { Outcome::not_run() });
            let b = s.spawn(|| run_target(&fleet, Tool::Stockman, "fleet02", target));
            (a.join().unwrap(), b.join().unwrap())
        });
        eprintln!("{target:<24} ansible-playbook: {:<28} stockman: {}", describe(&ansible), describe(&stockman));
        if let Some(f) = &stockman.first_failure {
            eprintln!("{:<24} stockman's first failure: {f}", "");
        }
        if let (false, Some(f)) = (ansible.passed, &ansible.first_failure) {
            eprintln!("{:<24} ansible-playbook's first failure: {f}", "");
        }
        results.push((target.clone(), ansible, stockman));
    }
    results
}

#[test]
fn ansible_integration_targets() {
    let explore: Option<Vec<String>> = std::env::var("STOCKMAN_TARGETS").ok().map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    let targets = explore.clone().unwrap_or_else(ratchet);
    assert!(!targets.is_empty(), "no targets listed in {}", ratchet_file().display());
    // Exploring only: STOCKMAN_TARGETS_ANSIBLE=0 runs stockman alone, faster.
    let with_ansible = explore.is_none() || std::env::var("STOCKMAN_TARGETS_ANSIBLE").as_deref() != Ok("0");
    let results = run_all(&targets, with_ansible);
    let passed = results.iter().filter(|(_, a, s)| a.passed && s.passed).count();
    eprintln!("ansible targets: {passed} passed, {} failed", results.len() - passed);
    if explore.is_some() {
        return;
    }
    let broken: Vec<String> = results
        .iter()
        .filter(|(_, a, s)| !(a.passed && s.passed))
        .map(|(t, a, s)| {
            let who = if !a.passed { Tool::Ansible } else { Tool::Stockman };
            let why = if !a.passed { &a.first_failure } else { &s.first_failure };
            format!("{t}: fails under {} ({}); log in {}", who.name(), why.as_deref().unwrap_or("?"), log_path(who, t).display())
        })
        .collect();
    assert!(broken.is_empty(), "targets listed in {} no longer pass:\n{}", ratchet_file().display(), broken.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_is_the_last_unignored_one() {
        let out = "TASK [r] ***\ntask path: /t/a.yml:1\nfatal: [testhost]: FAILED! => {}\n\nTASK [rescuer] ***\nok: [testhost]\n\nTASK [a] ***\ntask path: /t/a.yml:3\nfatal: [testhost]: FAILED! => {}\n...ignoring\n\nTASK [b] ***\ntask path: /t/a.yml:9\nfatal: [testhost]: FAILED! => {\"msg\": \"no\"}\n\nTASK [c] ***\ntask path: /t/a.yml:12\nok: [testhost]\n";
        let f = first_failure(out).unwrap();
        assert!(f.starts_with("TASK [b] at /t/a.yml:9: fatal"), "{f}");
    }

    #[test]
    fn recap_counts_read_testhost() {
        let out = "PLAY RECAP ***\ntesthost                   : ok=12   changed=3    unreachable=0    failed=1    skipped=2    rescued=0    ignored=1\n";
        assert_eq!(recap_counts(out), Some((12, 1, 0)));
    }
}
