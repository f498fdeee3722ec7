//! A host that drops off the network mid-task becomes UNREACHABLE on its own,
//! within the keepalive bound, while the others finish.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::fleet::Fleet;

#[test]
fn a_host_dropping_off_mid_command_is_unreachable_alone_and_in_bounded_time() {
    let fleet = Fleet::up(2);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".ssh")).unwrap();
    std::fs::copy(fleet.known_hosts_path(), dir.path().join(".ssh/known_hosts")).unwrap();
    let host_line = |name: &str, nap: u32| {
        format!(
            "{name} ansible_host={} ansible_user=root ansible_ssh_private_key_file={} nap={nap}\n",
            fleet.address_of(name),
            fleet.key_path().display()
        )
    };
    let inventory = format!(
        "[fleet]\n{}{}[fleet:vars]\nansible_ssh_common_args='-o ServerAliveInterval=1 -o ServerAliveCountMax=3'\n",
        host_line("fleet01", 8),
        host_line("fleet02", 300)
    );
    std::fs::write(dir.path().join("hosts.ini"), inventory).unwrap();
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: fleet\n  gather_facts: false\n  tasks:\n    - command: sleep {{ nap }}\n    - command: echo after\n",
    )
    .unwrap();
    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_stockman"))
        .args(["playbook", "-i", "hosts.ini", "site.yml"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env_remove("SSH_AUTH_SOCK")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // fleet02 vanishes from the network: no RST, no FIN, just silence.
    let cut = Command::new("ip")
        .args(["netns", "exec", &fleet.netns("fleet02"), "ip", "link", "set", "eth0", "down"])
        .status()
        .unwrap();
    assert!(cut.success());
    let out = run.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}:\n{stdout}");
    let recap = &stdout[stdout.find("PLAY RECAP").unwrap_or_else(|| panic!("no recap:\n{stdout}"))..];
    let line = |host: &str| recap.lines().find(|l| l.starts_with(host)).unwrap_or_default().to_string();
    assert!(line("fleet02").contains("unreachable=1"), "{stdout}");
    assert!(line("fleet01").contains("ok=2") && line("fleet01").contains("unreachable=0"), "{stdout}");
    assert_eq!(out.status.code(), Some(4), "{stdout}");
}
