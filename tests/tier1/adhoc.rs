//! `stockman adhoc` and `stockman inventory` side by side with ansible-core's
//! `ansible` and `ansible-inventory` (same venv as the differential tests):
//! the same stdout (host blocks sorted, times blanked) and exit code.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sshd::TestSshd;

const VENV: &str = "/var/cache/stockman/ansible-venv/bin";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(program: &Path, args: &[&str], dir: &Path) -> Run {
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("HOME", &home)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_DEPRECATION_WARNINGS", "0")
        .env("ANSIBLE_SSH_CONTROL_PATH_DIR", dir.join("cp"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join("tmp"))
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ANSIBLE_HOST_KEY_CHECKING")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ansible(name: &str) -> PathBuf {
    let path = Path::new(VENV).join(name);
    assert!(path.exists(), "{} is missing: run tests/run-all.sh, which installs it", path.display());
    path
}

fn stockman() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stockman"))
}

/// The output as blocks (an `[ERROR]` block, a diff, a host's result), sorted:
/// hosts answer in any order. Times and temp paths blanked.
fn blocks(output: &str, hosts: &[&str]) -> Vec<String> {
    let times = regex::Regex::new(r#""(start|end|delta)": ?"[^"]*""#).unwrap();
    // Async job ids are random in both tools.
    let jids = regex::Regex::new(r"j[0-9]+\.[0-9]+").unwrap();
    let mut blocks: Vec<String> = Vec::new();
    for line in output.lines() {
        let starts = line.starts_with("[ERROR]") || line.starts_with("An exception occurred") || line.starts_with("--- before") || hosts.iter().any(|h| line.starts_with(&format!("{h} | ")));
        if starts || blocks.is_empty() {
            blocks.push(String::new());
        }
        let block = blocks.last_mut().unwrap();
        block.push_str(&jids.replace_all(&times.replace_all(line, "\"$1\": \"T\""), "JID"));
        block.push('\n');
    }
    blocks.sort();
    blocks
}

/// Runs the same ad-hoc command through both tools over the test sshd.
fn compare_adhoc(args: &[&str]) -> (Run, Run) {
    let sshd = TestSshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = prepared_inventory(dir.path(), &sshd);
    let full: Vec<&str> = ["-i", inv.as_str()].into_iter().chain(args.iter().copied()).collect();
    let ours_args: Vec<&str> = ["adhoc"].into_iter().chain(full.iter().copied()).collect();
    let ours = run(&stockman(), &ours_args, dir.path());
    let theirs = run(&ansible("ansible"), &full, dir.path());
    let hosts = ["h1", "h2", "down"];
    let (a, b) = (blocks(&ours.stdout, &hosts), blocks(&theirs.stdout, &hosts));
    if a != b {
        let diff = similar::TextDiff::from_lines(&b.concat(), &a.concat()).unified_diff().header("ansible", "stockman").to_string();
        panic!("{args:?}: output differs from ansible's\n{diff}\n--- stockman:\n{}{}\n--- ansible:\n{}{}", ours.stdout, ours.stderr, theirs.stdout, theirs.stderr);
    }
    assert_eq!(ours.code, theirs.code, "{args:?}: exit code differs\n{}{}", ours.stdout, ours.stderr);
    (ours, theirs)
}

/// The inventory's path, with the test sshd's key known in the tools' HOME.
fn prepared_inventory(dir: &Path, sshd: &TestSshd) -> String {
    let inventory = inventory_with_unreachable(dir, sshd);
    let home = dir.join("home/.ssh");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join("known_hosts")).unwrap();
    inventory.display().to_string()
}

/// The differential inventory (h1, h2 on the test sshd) and `down`, whose port is closed.
fn inventory_with_unreachable(dir: &Path, sshd: &TestSshd) -> PathBuf {
    let path = crate::differential::inventory(dir, sshd);
    let text = std::fs::read_to_string(&path).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = format!("[gone]\ndown ansible_host=127.0.0.1 ansible_port={closed} ansible_user={}\n", sshd.user);
    std::fs::write(&path, format!("{down}{text}")).unwrap();
    path
}

#[test]
fn adhoc_ping_matches_ansible() {
    compare_adhoc(&["test", "-m", "ping"]);
    compare_adhoc(&["test", "-m", "ping", "-o"]);
}

#[test]
fn adhoc_shell_and_command_match_ansible() {
    compare_adhoc(&["test", "-m", "shell", "-a", "echo out; echo err >&2"]);
    compare_adhoc(&["test", "-a", "echo a b"]);
    compare_adhoc(&["test", "-m", "shell", "-a", "echo one; echo two", "-o"]);
}

#[test]
fn adhoc_failing_command_matches_ansible() {
    let (ours, _) = compare_adhoc(&["test", "-m", "shell", "-a", "echo partial; exit 3"]);
    assert_eq!(ours.code, 2);
    compare_adhoc(&["test", "-a", "false", "-o"]);
    compare_adhoc(&["test", "-m", "file", "-a", "path=/nonexistent/x state=file"]);
    compare_adhoc(&["test", "-m", "file", "-a", "path=/nonexistent/x state=file", "-o"]);
}

#[test]
fn adhoc_check_mode_matches_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let made = dir.path().join("t");
    compare_adhoc(&["test", "-a", &format!("touch {}", made.display()), "--check"]);
    compare_adhoc(&["test", "-m", "file", "-a", &format!("path={} state=directory", dir.path().display()), "-C"]);
    compare_adhoc(&["test", "-m", "ping", "-C", "-o"]);
    assert!(!made.exists(), "check mode changed nothing");
}

#[test]
fn adhoc_background_jobs_match_ansible() {
    // The test sshd gives sessions a HOME that trips Ansible's own job lookup: one job dir for both.
    let jobs = tempfile::tempdir().unwrap();
    let async_dir = format!("ansible_async_dir={}", jobs.path().display());
    compare_adhoc(&["h1", "-B", "20", "-P", "1", "-a", "echo done", "-e", &async_dir]);
    compare_adhoc(&["h1", "-B", "20", "-P", "0", "-m", "shell", "-a", "sleep 1", "-e", &async_dir]);
}

#[test]
fn adhoc_unreachable_host_matches_ansible() {
    let (ours, _) = compare_adhoc(&["all", "-m", "ping"]);
    assert_eq!(ours.code, 4);
    compare_adhoc(&["gone", "-m", "ping", "-o"]);
}

#[test]
fn adhoc_list_hosts_and_no_match_match_ansible() {
    compare_adhoc(&["all", "--list-hosts"]);
    compare_adhoc(&["test:!h2", "--list-hosts"]);
    compare_adhoc(&["nosuchgroup", "-m", "ping"]);
    compare_adhoc(&["all", "-l", "h2", "-m", "ping"]);
}

#[test]
fn adhoc_tree_writes_what_ansible_writes() {
    let sshd = TestSshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = prepared_inventory(dir.path(), &sshd);
    let ours = run(&stockman(), &["adhoc", "-i", &inv, "all", "-m", "ping", "-t", "ours"], dir.path());
    let theirs = run(&ansible("ansible"), &["-i", &inv, "all", "-m", "ping", "-t", "theirs"], dir.path());
    assert_eq!(ours.code, theirs.code);
    for host in ["h1", "h2", "down"] {
        let read = |tree: &str| std::fs::read_to_string(dir.path().join(tree).join(host)).unwrap_or_else(|e| panic!("{tree}/{host}: {e}"));
        assert_eq!(read("ours"), read("theirs"), "{host}");
    }
}

/// The inventories of inventory-examples/ that ansible-inventory reads too
/// (Terraform state is stockman's own), with the options to compare.
const INVENTORIES: &[&str] = &["hosts.ini", "hosts.yml", "localhost.ini", "dynamic", "hosts.ini,hosts.yml"];

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory-examples")
}

fn compare_inventory(args: &[&str], cwd: &Path) -> Run {
    let ours_args: Vec<&str> = ["inventory"].into_iter().chain(args.iter().copied()).collect();
    let ours = run(&stockman(), &ours_args, cwd);
    let theirs = run(&ansible("ansible-inventory"), args, cwd);
    assert_eq!(ours.stdout, theirs.stdout, "{args:?}: output differs\n--- stderr:\n{}\n{}", ours.stderr, theirs.stderr);
    assert_eq!(ours.code, theirs.code, "{args:?}: exit code differs\n{}", ours.stderr);
    ours
}

fn sources(spec: &str) -> Vec<String> {
    spec.split(',').flat_map(|s| ["-i".to_string(), examples().join(s).display().to_string()]).collect()
}

#[test]
fn inventory_list_host_and_graph_match_ansible_inventory() {
    // In the examples directory: its group_vars/ count as the playbook directory's, in both tools.
    let cwd = examples();
    for spec in INVENTORIES {
        let sources = sources(spec);
        let mut modes: Vec<Vec<&str>> = vec![vec!["--list"], vec!["--graph"], vec!["--graph", "--vars"], vec!["--list", "--export"], vec!["--list", "-l", "web*"]];
        modes.push(vec!["--graph", "web"]);
        modes.push(vec!["--host", "web01.example.com"]);
        modes.push(vec!["--host", "db-1"]);
        for mode in &modes {
            let args: Vec<&str> = sources.iter().map(String::as_str).chain(mode.iter().copied()).collect();
            compare_inventory(&args, &cwd);
        }
    }
}

#[test]
fn inventory_yaml_reads_back_as_ansible_inventory_s() {
    // PyYAML writes anchors for values Python shares between hosts; the data must be the same.
    let cwd = examples();
    for spec in INVENTORIES {
        for mode in [&["--list", "--yaml"][..], &["--host", "web01.example.com", "--yaml"][..], &["--list", "--yaml", "--export"][..]] {
            let args: Vec<String> = sources(spec).into_iter().chain(mode.iter().map(|s| s.to_string())).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let ours_args: Vec<&str> = ["inventory"].into_iter().chain(args.iter().copied()).collect();
            let ours = run(&stockman(), &ours_args, &cwd);
            let theirs = run(&ansible("ansible-inventory"), &args, &cwd);
            assert_eq!(ours.code, theirs.code);
            assert_eq!(yaml_as_json(&ours.stdout), yaml_as_json(&theirs.stdout), "{args:?}\n--- stockman:\n{}\n--- ansible:\n{}", ours.stdout, theirs.stdout);
            assert!(!ours.stdout.ends_with("\n\n"), "one final newline, as ansible-inventory");
        }
    }
}

/// The venv's PyYAML reads a YAML text into sorted JSON.
fn yaml_as_json(text: &str) -> String {
    let script = "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin), sort_keys=True))";
    let mut child = Command::new(Path::new(VENV).join("python3"))
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not YAML:\n{text}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn inventory_errors_match_ansible_inventory() {
    let cwd = examples();
    let ini = examples().join("hosts.ini").display().to_string();
    for args in [vec!["-i", &ini, "--host", "nosuch"], vec!["-i", &ini, "--graph", "nosuch"], vec!["-i", &ini]] {
        let ours_args: Vec<&str> = ["inventory"].into_iter().chain(args.iter().copied()).collect();
        let ours = run(&stockman(), &ours_args, &cwd);
        let theirs = run(&ansible("ansible-inventory"), &args, &cwd);
        assert_eq!((ours.code, ours.stdout.as_str()), (theirs.code, theirs.stdout.as_str()), "{args:?}\n{}", ours.stderr);
    }
}

#[test]
fn inventory_output_file_holds_what_stdout_would() {
    let dir = tempfile::tempdir().unwrap();
    let ini = examples().join("hosts.ini").display().to_string();
    let file = dir.path().join("out.json");
    let written = run(&stockman(), &["inventory", "-i", &ini, "--list", "--output", &file.display().to_string()], &examples());
    assert_eq!((written.code, written.stdout.as_str()), (0, ""));
    let printed = run(&stockman(), &["inventory", "-i", &ini, "--list"], &examples());
    assert_eq!(std::fs::read_to_string(&file).unwrap() + "\n", printed.stdout);
}

/// A link named like an Ansible command runs that command (argv[0] dispatch).
#[test]
fn links_named_ansible_commands_behave_as_them() {
    let dir = tempfile::tempdir().unwrap();
    let ini = examples().join("hosts.ini").display().to_string();
    for name in ["ansible", "ansible-playbook", "ansible-inventory", "ansible-vault"] {
        std::os::unix::fs::symlink(stockman(), dir.path().join(name)).unwrap();
    }
    let graph = run(&dir.path().join("ansible-inventory"), &["-i", &ini, "--graph"], &examples());
    let direct = run(&stockman(), &["inventory", "-i", &ini, "--graph"], &examples());
    assert_eq!((graph.code, &graph.stdout), (0, &direct.stdout), "{}", graph.stderr);
    let hosts = run(&dir.path().join("ansible"), &["-i", &ini, "web", "--list-hosts"], &examples());
    assert_eq!((hosts.code, hosts.stdout.as_str()), (0, "  hosts (4):\n    web01.example.com\n    web02.example.com\n    web03.example.com\n    web04.example.com\n"), "{}", hosts.stderr);
    let playbook = examples().join("../playbooks/quickstart.yml").display().to_string();
    let syntax = run(&dir.path().join("ansible-playbook"), &["-i", &ini, "--syntax-check", &playbook], &examples());
    assert_eq!(syntax.code, 0, "{}", syntax.stderr);
    // Scripts check the version first: every subcommand answers --version.
    let version = run(&dir.path().join("ansible"), &["--version"], &examples());
    assert!(version.code == 0 && version.stdout.starts_with("stockman"), "{}{}", version.stdout, version.stderr);
    let vault = run(&dir.path().join("ansible-vault"), &["--help"], &examples());
    assert!(vault.code == 0 && vault.stdout.contains("encrypt"), "{}", vault.stdout);
}

/// Inline `!vault` values: encrypted in --list/--host/--yaml, decrypted in --graph --vars, as ansible-inventory shows them.
#[test]
fn inventory_shows_vault_values_as_ansible_inventory_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pass"), "pw\n").unwrap();
    let sealed = run(&ansible("ansible-vault"), &["encrypt_string", "--vault-password-file", "pass", "s3cret-value", "--name", "secret"], dir.path());
    assert_eq!(sealed.code, 0, "{}", sealed.stderr);
    let block: String = sealed.stdout.lines().map(|l| format!("      {l}\n")).collect();
    std::fs::write(dir.path().join("inv.yml"), format!("all:\n  hosts:\n    h1:\n      plain: 1\n{block}")).unwrap();
    for mode in [&["--list"][..], &["--host", "h1"][..], &["--list", "--yaml"][..], &["--graph", "--vars"][..]] {
        let args: Vec<&str> = ["-i", "inv.yml", "--vault-password-file", "pass"].into_iter().chain(mode.iter().copied()).collect();
        let out = compare_inventory(&args, dir.path());
        assert_eq!(out.stdout.contains("s3cret-value"), mode[0] == "--graph", "{mode:?}:\n{}", out.stdout);
    }
}

/// Terraform state and outputs are stockman's own sources: their `--list`,
/// served back to ansible-inventory as a dynamic inventory script, must give
/// ansible-inventory the same `--list` and `--graph` as stockman prints.
#[test]
fn terraform_inventories_round_trip_through_ansible_inventory() {
    let dir = tempfile::tempdir().unwrap();
    for source in ["terraform/terraform.tfstate", "terraform/outputs.json", "terraform/inventory-output.json"] {
        let path = examples().join(source).display().to_string();
        let list = run(&stockman(), &["inventory", "-i", &path, "--list"], dir.path());
        assert_eq!(list.code, 0, "{source}: {}", list.stderr);
        std::fs::write(dir.path().join("list.json"), &list.stdout).unwrap();
        let script = dir.path().join("inventory.sh");
        std::fs::write(&script, format!("#!/bin/sh\ncat '{}'\n", dir.path().join("list.json").display())).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        for mode in ["--list", "--graph"] {
            let ours = run(&stockman(), &["inventory", "-i", &path, mode], dir.path());
            let theirs = run(&ansible("ansible-inventory"), &["-i", &script.display().to_string(), mode], dir.path());
            assert_eq!(ours.stdout, theirs.stdout, "{source} {mode}\n{}", theirs.stderr);
        }
    }
}
