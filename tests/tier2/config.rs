//! The tutorial layout on real hosts: a directory whose ansible.cfg names the inventory,
//! user, key, forks, roles_path, gathering, stdout_callback and a callback, run by both
//! tools from that directory with no flags.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::fleet::Fleet;
use crate::playbook::ANSIBLE_PLAYBOOK;

const SITE: &str = "\
- hosts: web
  roles:
    - greet
  tasks:
    - name: who am I
      command: whoami
      register: who
      changed_when: false
    - name: the user and the host
      debug:
        msg: \"{{ who.stdout }} on {{ inventory_hostname }}\"
    - name: facts were not gathered (gathering = explicit)
      debug:
        msg: \"{{ ansible_facts.distribution | default('no facts') }}\"
    - name: a multi-line message
      debug:
        msg: \"one\\ntwo\"
";

const CFG: &str = "\
[defaults]
inventory = inventory.ini
remote_user = root
private_key_file = keys/id
host_key_checking = False
forks = 2
roles_path = shared-roles
gathering = explicit
stdout_callback = yaml
callbacks_enabled = profile_tasks
interpreter_python = /usr/bin/python3

[ssh_connection]
pipelining = True
";

/// Runs `program ARGS` from `dir` with a HOME that trusts no host key (host_key_checking = False must do it).
fn run_from(dir: &std::path::Path, program: &str, args: &[&str]) -> (i32, String, String) {
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir).env("HOME", &home).env("ANSIBLE_NOCOLOR", "1").env_remove("SSH_AUTH_SOCK");
    for name in ["ANSIBLE_CONFIG", "ANSIBLE_INVENTORY", "ANSIBLE_REMOTE_USER", "ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_PYTHON_INTERPRETER"] {
        cmd.env_remove(name);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Lines of the output with profile_tasks' timings dropped (stockman's --profile prints no
/// wall-clock date) and each task's host lines sorted.
fn comparable(output: &str) -> Vec<String> {
    let timing = regex::Regex::new(r"\(\d+:\d\d:\d\d\.\d{3}\)\s+\d+:\d\d:\d\d\.\d{3}|^=+ ?$| -+ \d+\.\d\ds$|^TASKS RECAP").unwrap();
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in output.lines().filter(|l| !l.trim().is_empty() && !timing.is_match(l)) {
        if line.starts_with("PLAY") || line.starts_with("TASK [") || blocks.is_empty() {
            blocks.push(Vec::new());
        }
        blocks.last_mut().unwrap().push(line.trim_end().to_string());
    }
    blocks
        .into_iter()
        .flat_map(|mut b| {
            let head = b.remove(0);
            b.sort();
            std::iter::once(head).chain(b)
        })
        .collect()
}

#[test]
fn an_ansible_cfg_project_runs_alike_under_both_tools_with_no_flags() {
    assert!(std::path::Path::new(ANSIBLE_PLAYBOOK).exists(), "{ANSIBLE_PLAYBOOK} is missing: run tests/run-all.sh");
    let fleet = Fleet::up(2);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // Addresses only: user, key and host key policy come from the cfg.
    let hosts: String = fleet.hosts().iter().map(|h| format!("{} ansible_host={}\n", h.name, h.address)).collect();
    std::fs::write(p.join("inventory.ini"), format!("[web]\n{hosts}")).unwrap();
    std::fs::write(p.join("ansible.cfg"), CFG).unwrap();
    std::fs::write(p.join("site.yml"), SITE).unwrap();
    std::fs::create_dir_all(p.join("shared-roles/greet/tasks")).unwrap();
    std::fs::write(p.join("shared-roles/greet/tasks/main.yml"), "- name: greet\n  debug:\n    msg: hello from roles_path\n").unwrap();
    std::fs::create_dir_all(p.join("keys")).unwrap();
    std::fs::copy(fleet.key_path(), p.join("keys/id")).unwrap();
    std::fs::set_permissions(p.join("keys/id"), std::fs::Permissions::from_mode(0o600)).unwrap();

    let (ours_code, ours, ours_err) = run_from(p, env!("CARGO_BIN_EXE_stockman"), &["playbook", "site.yml"]);
    let (theirs_code, theirs, theirs_err) = run_from(p, ANSIBLE_PLAYBOOK, &["site.yml"]);
    assert_eq!(comparable(&ours), comparable(&theirs), "--- stockman:\n{ours}\n{ours_err}\n--- ansible-playbook:\n{theirs}\n{theirs_err}");
    assert_eq!((ours_code, theirs_code), (0, 0));
    // The cfg was read: root on both hosts, results in YAML, the role from roles_path, profile_tasks' summary.
    for host in fleet.hosts() {
        assert!(ours.contains(&format!("msg: root on {}", host.name)), "{ours}");
    }
    assert!(ours.contains("msg: hello from roles_path") && ours.contains("msg: |-\n    one\n    two") && ours.contains("msg: no facts"), "{ours}");
    assert!(ours.contains(&"=".repeat(79)), "{ours}");
}
