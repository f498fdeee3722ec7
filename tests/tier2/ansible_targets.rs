//! Ansible's own integration tests under stockman (issue 16): targets from the
//! ansible-core sdist, run as `ansible-test integration` runs them, on fresh fleet
//! hosts, under ansible-playbook and under stockman side by side.
//!
//! A role target TARGET runs as one play on host `testhost` (group `testhost`):
//! `gather_facts` unless its `aliases` say `gather_facts/no`, `vars: {output_dir}`,
//! `roles: [TARGET]`, with `ANSIBLE_ROLES_PATH` = the targets directory so that
//! `meta/main.yml` dependencies (setup_remote_tmp_dir, prepare_tests, ...) resolve.
//!
//! A script target (TARGET/runme.sh) calls `ansible-playbook` itself, mostly with
//! `ansible_connection=local`: it changes the machine it runs on, so it runs inside
//! a fleet host (tests/ansible_targets/script-target.sh), never on the controller.
//! The venv, the targets and the stockman binary are bound read-only into the
//! hosts; under stockman, `ansible-playbook` and `ansible` on PATH are shims for
//! `stockman playbook` and `stockman adhoc`. It passes when runme.sh exits 0.
//!
//! Each target runs under the two tools at the same time, each on its own freshly
//! reset host; several targets run at once, one pair of hosts each
//! (`STOCKMAN_TARGETS_PAIRS`, default [`DEFAULT_PAIRS`]).
//!
//! The targets that pass under stockman are a ratchet, listed in
//! tests/ansible_targets/passing.txt: the test fails when one of them stops passing
//! (or stops passing under ansible-playbook, which means the fleet is not what the
//! target needs). A target with both tasks/main.yml and runme.sh runs as a role
//! unless its line there says `script` (ansible-test runs it as a script).
//! `STOCKMAN_TARGETS=a,b:script,c` runs other targets instead, to see how far
//! stockman gets; their outcome is printed, never asserted (with
//! `STOCKMAN_TARGETS_ANSIBLE=0`, under stockman alone).
//!
//! The sdist is unpacked by tests/run-all.sh into [`TESTS_DIR`]; nothing of it is
//! committed. Each run's output goes to target/tmp/ansible-targets/TOOL/TARGET.log.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use crate::fleet::Fleet;
use crate::playbook::{ansible_command, ANSIBLE_PLAYBOOK};

/// Where run-all.sh unpacks ansible-core's `test/integration` (its version pinned there).
const TESTS_DIR: &str = "/var/cache/stockman/ansible-tests/test/integration/targets";
/// The parent of `test/` in [`TESTS_DIR`], bound into the hosts for script targets.
const TESTS_ROOT: &str = "/var/cache/stockman/ansible-tests";
/// The Ansible venv, bound into the hosts for script targets.
const VENV: &str = "/var/cache/stockman/ansible-venv";
/// Pairs of hosts (one target each at a time) when `STOCKMAN_TARGETS_PAIRS` is unset.
const DEFAULT_PAIRS: usize = 4;
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

/// How ansible-test runs a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// tasks/main.yml: a one-play playbook with `roles: [TARGET]`, over SSH.
    Role,
    /// runme.sh, run inside a fleet host.
    Script,
}

/// One target to run: a ratchet line `NAME` or `NAME script`, or a
/// `STOCKMAN_TARGETS` entry `NAME` or `NAME:script`.
#[derive(Debug, Clone)]
struct Target {
    name: String,
    kind: Kind,
}

impl Target {
    /// A role target unless `script` is asked for or it only has a runme.sh.
    fn new(name: &str, script: bool) -> Target {
        let dir = targets_dir().join(name);
        let has_role = dir.join("tasks/main.yml").is_file();
        let has_script = dir.join("runme.sh").is_file();
        assert!(has_role || has_script, "`{name}` is neither a role target (tasks/main.yml) nor a script target (runme.sh) in {TESTS_DIR}");
        assert!(!script || has_script, "`{name}` is listed as a script target but has no runme.sh in {TESTS_DIR}");
        let kind = if script || !has_role { Kind::Script } else { Kind::Role };
        Target { name: name.to_string(), kind }
    }

    /// `NAME`, `NAME script` (ratchet) or `NAME:script` (`STOCKMAN_TARGETS`).
    fn parse(spec: &str) -> Target {
        let mut words = spec.split(|c: char| c == ':' || c.is_whitespace()).filter(|w| !w.is_empty());
        let name = words.next().unwrap_or_default();
        let script = match words.next() {
            None => false,
            Some("script") => true,
            Some(other) => panic!("`{spec}`: `{other}` is no target kind (only `script` may follow the name)"),
        };
        Target::new(name, script)
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

/// The targets in the ratchet file (one a line, `#` comments).
fn ratchet() -> Vec<Target> {
    let text = std::fs::read_to_string(ratchet_file()).unwrap();
    text.lines().map(|l| l.split('#').next().unwrap().trim()).filter(|l| !l.is_empty()).map(Target::parse).collect()
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
fn run_target(fleet: &Fleet, tool: Tool, host: &str, target: &Target) -> Outcome {
    let name = target.name.as_str();
    match target.kind {
        Kind::Role => {
            let aliases = aliases(&targets_dir().join(name));
            let gather = !aliases.iter().any(|a| a == "gather_facts/no");
            let project = Project::new(fleet, host, name, gather);
            let mut command = project.command(tool);
            // As ansible-test: prepare_http_tests installs the httptester's CA and
            // uses its names when HTTPTESTER is set; every fleet has one
            // (tests/fleet/httptester.py, started by `fleet up`).
            if aliases.iter().any(|a| a == "needs/httptester") {
                command.env("HTTPTESTER", "1");
            }
            run_bounded(command, tool, name, judge)
        }
        Kind::Script => run_bounded(script_command(fleet, tool, host, name), tool, name, judge_script),
    }
}

/// Runs `command` at most [`TARGET_TIMEOUT_SECS`], logs its output and judges it.
fn run_bounded(mut command: Command, tool: Tool, target: &str, judge: fn(Option<i32>, &str, &str, f64) -> Outcome) -> Outcome {
    let started = Instant::now();
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.name()));
    let (code, stdout, stderr) = wait_bounded(&mut child, TARGET_TIMEOUT_SECS);
    let seconds = started.elapsed().as_secs_f64();
    std::fs::write(log_path(tool, target), format!("exit {code:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}")).unwrap();
    judge(code, &stdout, &stderr, seconds)
}

/// tests/ansible_targets/script-target.sh run inside `host` for `tool`.
fn script_command(fleet: &Fleet, tool: Tool, host: &str, target: &str) -> Command {
    let runner_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible_targets/script-target.sh");
    let runner = std::fs::read_to_string(&runner_path).unwrap_or_else(|e| panic!("cannot read {}: {e}", runner_path.display()));
    let tool_word = match tool {
        Tool::Ansible => "ansible",
        Tool::Stockman => "stockman",
    };
    fleet.exec_command(host, &["bash", "-c", &runner, "script-target", tool_word, target, TESTS_ROOT, VENV, env!("CARGO_BIN_EXE_stockman")])
}

/// What the hosts need bound in to run script targets: the targets, the venv
/// (script-target.sh runs it with the host's own python3.11) and stockman.
fn script_binds() -> Vec<PathBuf> {
    vec![PathBuf::from(TESTS_ROOT), PathBuf::from(VENV), PathBuf::from(env!("CARGO_BIN_EXE_stockman"))]
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

/// What stockman prints when it refuses a keyword, argument or setting.
const STOCKMAN_REFUSAL: &str = "not supported by stockman";

/// A script target passes when runme.sh exits 0, unless stockman refused
/// something on the way (some runme.sh end with a check that passes when the
/// playbook never ran, e.g. strategy_host_pinned). ok/failed add up every host
/// of every recap (runme.sh also runs playbooks that fail on purpose); the
/// failure is runme.sh's last traced line with the last failure printed after it.
fn judge_script(code: Option<i32>, stdout: &str, _stderr: &str, seconds: f64) -> Outcome {
    let (ok, failed) = recap_totals(stdout);
    let refusal = stdout.lines().find(|l| l.contains(STOCKMAN_REFUSAL));
    let passed = code == Some(0) && refusal.is_none();
    let first_failure = if passed {
        None
    } else if code.is_none() {
        Some(format!("timed out after {TARGET_TIMEOUT_SECS} s"))
    } else if let (Some(0), Some(refusal)) = (code, refusal) {
        Some(format!("runme.sh exited 0, but stockman refused: {}", refusal.trim()))
    } else {
        Some(script_failure(stdout, code))
    };
    Outcome { passed, ok, failed, seconds, first_failure }
}

/// Sums of ok= and failed= over every recap line of every playbook run.
fn recap_totals(stdout: &str) -> (u32, u32) {
    let count = |line: &str, key: &str| -> u32 {
        line.split_whitespace().find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('='))).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let recap_lines = stdout.lines().filter(|l| l.contains(" : ok=") && l.contains(" failed="));
    recap_lines.fold((0, 0), |(ok, failed), l| (ok + count(l, "ok"), failed + count(l, "failed")))
}

/// `runme.sh:LINE: COMMAND` of the last top-level trace line (`+ ` once; PS4 set
/// by script-target.sh), then the last failure in the output that followed it.
fn script_failure(stdout: &str, code: Option<i32>) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let last = lines.iter().rposition(|l| l.starts_with("+ ") && l.contains(".sh:"));
    let Some(at) = last else {
        let first = lines.iter().find(|l| !l.trim().is_empty()).unwrap_or(&"no output");
        return format!("exit {code:?} before runme.sh ran: {first}");
    };
    let command: String = lines[at].trim_start_matches("+ ").chars().take(160).collect();
    let after = lines[at + 1..].join("\n");
    let detail = first_failure(&after).or_else(|| {
        let error = lines[at + 1..].iter().rev().find(|l| l.contains("ERROR") || l.contains("error:"));
        error.map(|l| l.trim().chars().take(200).collect())
    });
    match detail {
        Some(d) => format!("{command} (exit {code:?}): {d}"),
        None => format!("{command} (exit {code:?})"),
    }
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

/// Workers: `STOCKMAN_TARGETS_PAIRS` or [`DEFAULT_PAIRS`], never more than targets.
fn pair_count(targets: usize) -> usize {
    let asked = std::env::var("STOCKMAN_TARGETS_PAIRS").ok().map(|v| v.parse::<usize>().unwrap_or_else(|_| panic!("STOCKMAN_TARGETS_PAIRS=`{v}` is not a number")));
    asked.unwrap_or(DEFAULT_PAIRS).clamp(1, targets.max(1))
}

/// Runs every target under both tools: worker `w` owns hosts fleet(2w+1)
/// (ansible-playbook) and fleet(2w+2) (stockman), resets both before each target
/// and runs the two tools at once; workers take targets from one queue, script
/// targets first. Prints
/// each target's result as it ends; returns them in `targets` order.
fn run_all(targets: &[Target], with_ansible: bool) -> Vec<(Target, Outcome, Outcome)> {
    let pairs = pair_count(targets.len());
    let binds = if targets.iter().any(|t| t.kind == Kind::Script) { script_binds() } else { Vec::new() };
    let fleet = Fleet::up_binding(2 * pairs, &binds);
    // Script targets first: they run longest, and a long one started last
    // would leave the other pairs idle at the end.
    let mut order: Vec<(usize, &Target)> = targets.iter().enumerate().collect();
    order.sort_by_key(|(_, t)| t.kind != Kind::Script);
    let queue = Mutex::new(order.into_iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for w in 0..pairs {
            let (fleet, queue, results) = (&fleet, &queue, &results);
            s.spawn(move || {
                let ansible_host = format!("fleet{:02}", 2 * w + 1);
                let stockman_host = format!("fleet{:02}", 2 * w + 2);
                loop {
                    let Some((index, target)) = queue.lock().unwrap().next() else { break };
                    let (ansible, stockman) = run_pair(fleet, &ansible_host, &stockman_host, target, with_ansible);
                    let mut results = results.lock().unwrap();
                    eprint!("{}", report_lines(target, &ansible, &stockman));
                    results.push((index, target.clone(), ansible, stockman));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, ..)| *index);
    results.into_iter().map(|(_, t, a, s)| (t, a, s)).collect()
}

/// Resets both hosts, then runs `target` under the two tools at the same time.
fn run_pair(fleet: &Fleet, ansible_host: &str, stockman_host: &str, target: &Target, with_ansible: bool) -> (Outcome, Outcome) {
    fleet.reset(if with_ansible { ansible_host } else { stockman_host });
    if with_ansible {
        fleet.reset(stockman_host);
    }
    std::thread::scope(|s| {
        let a = s.spawn(|| if with_ansible { run_target(fleet, Tool::Ansible, ansible_host, target) } else { Outcome::not_run() });
        let b = s.spawn(|| run_target(fleet, Tool::Stockman, stockman_host, target));
        (a.join().unwrap(), b.join().unwrap())
    })
}

/// One target's lines: both verdicts, then the first failures.
fn report_lines(target: &Target, ansible: &Outcome, stockman: &Outcome) -> String {
    let kind = match target.kind {
        Kind::Role => "",
        Kind::Script => " (script)",
    };
    let name = format!("{}{kind}", target.name);
    let mut out = format!("{name:<24} ansible-playbook: {:<28} stockman: {}\n", describe(ansible), describe(stockman));
    if let Some(f) = &stockman.first_failure {
        out += &format!("{:<24} stockman's first failure: {f}\n", "");
    }
    if let (false, Some(f)) = (ansible.passed, &ansible.first_failure) {
        out += &format!("{:<24} ansible-playbook's first failure: {f}\n", "");
    }
    out
}

#[test]
fn ansible_integration_targets() {
    let explore: Option<Vec<Target>> = std::env::var("STOCKMAN_TARGETS").ok().map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Target::parse).collect());
    let targets = explore.clone().unwrap_or_else(ratchet);
    assert!(!targets.is_empty(), "no targets listed in {}", ratchet_file().display());
    // Exploring only: STOCKMAN_TARGETS_ANSIBLE=0 runs stockman alone, faster.
    let with_ansible = explore.is_none() || std::env::var("STOCKMAN_TARGETS_ANSIBLE").as_deref() != Ok("0");
    let started = Instant::now();
    let results = run_all(&targets, with_ansible);
    let passed = results.iter().filter(|(_, a, s)| a.passed && s.passed).count();
    eprintln!("ansible targets: {passed} passed, {} failed ({} targets on {} pairs of hosts in {:.0} s)", results.len() - passed, results.len(), pair_count(targets.len()), started.elapsed().as_secs_f64());
    if explore.is_some() {
        return;
    }
    let broken: Vec<String> = results
        .iter()
        .filter(|(_, a, s)| !(a.passed && s.passed))
        .map(|(t, a, s)| {
            let who = if !a.passed { Tool::Ansible } else { Tool::Stockman };
            let why = if !a.passed { &a.first_failure } else { &s.first_failure };
            format!("{}: fails under {} ({}); log in {}", t.name, who.name(), why.as_deref().unwrap_or("?"), log_path(who, &t.name).display())
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
    fn script_failure_names_the_runme_line_and_the_failed_task() {
        let out = "+ runme.sh:5: ansible-playbook a.yml\nPLAY RECAP ***\ntesthost : ok=3 changed=0 unreachable=0 failed=0\n+ runme.sh:6: ansible-playbook b.yml -v\nTASK [boom] ***\nfatal: [testhost]: FAILED! => {\"msg\": \"no\"}\nPLAY RECAP ***\ntesthost : ok=1 changed=0 unreachable=0 failed=1\n";
        let f = script_failure(out, Some(2));
        assert!(f.starts_with("runme.sh:6: ansible-playbook b.yml -v (exit Some(2)): TASK [boom] at : fatal"), "{f}");
        assert_eq!(recap_totals(out), (4, 1));
        assert!(!judge_script(Some(2), out, "", 1.0).passed);
        assert!(judge_script(Some(0), out, "", 1.0).passed);
        let refused = judge_script(Some(0), "+ runme.sh:3: ansible-playbook p.yml\nERROR! strategy `host_pinned` is not supported by stockman (use linear or free)\n", "", 1.0);
        assert!(!refused.passed);
        assert!(refused.first_failure.unwrap().contains("stockman refused: ERROR! strategy"));
    }

    #[test]
    fn recap_counts_read_testhost() {
        let out = "PLAY RECAP ***\ntesthost                   : ok=12   changed=3    unreachable=0    failed=1    skipped=2    rescued=0    ignored=1\n";
        assert_eq!(recap_counts(out), Some((12, 1, 0)));
    }
}
