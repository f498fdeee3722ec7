//! A host that dies mid-play, and a host whose sshd refuses connections: that
//! host is UNREACHABLE, the others finish, the controller returns in bounded
//! time, and a rerun once the host is back converges.

use std::time::Duration;

use crate::faults_support::{nspawn_pid, sh, temp_files, FaultProject, RUN_BOUND};
use crate::fleet::Fleet;

const PLAY: &str = r#"
- hosts: fleet
  gather_facts: false
  tasks:
    - file: {path: /srv/faults, state: directory}
    - copy: {content: "first {{ inventory_hostname }}\n", dest: /srv/faults/first}
    - name: long enough to be interrupted
      command: sleep 6
      changed_when: false
    - copy: {content: "last {{ inventory_hostname }}\n", dest: /srv/faults/last}
"#;

#[test]
fn a_host_stopped_mid_play_is_unreachable_and_the_others_finish() {
    let fleet = Fleet::up(2);
    let p = FaultProject::new(&fleet, PLAY);
    let running = p.start(&[]);
    running.wait_for_file(&fleet, "fleet02", "/srv/faults/first");
    // The container shuts down (SIGTERM to systemd-nspawn): sshd and its sessions go away.
    sh("kill", &["-TERM", &nspawn_pid("fleet02").to_string()]);
    let run = running.finish();
    assert!(run.elapsed < RUN_BOUND);
    assert_eq!(run.code, 4, "{}", run.all());
    assert_eq!(run.count("fleet02", "unreachable"), 1, "{}", run.all());
    assert_eq!(run.recap("fleet01"), "fleet01 : ok=4 changed=3 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0", "{}", run.all());
    assert_eq!(fleet.sh("fleet01", "cat /srv/faults/last"), "last fleet01\n");

    // Back (fresh disk, new host key): a rerun converges, and the one after changes nothing.
    fleet.reset("fleet02");
    p.refresh_known_hosts(&fleet);
    let rerun = p.run(&[]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    assert_eq!(rerun.count("fleet01", "changed"), 0, "{}", rerun.all());
    assert_eq!(p.run(&[]).count("fleet02", "changed"), 0);
    assert_eq!(fleet.sh("fleet02", "cat /srv/faults/last"), "last fleet02\n");
    assert_eq!(temp_files(&fleet, "fleet02", "/srv/faults"), "");
}

#[test]
fn a_host_refusing_ssh_is_unreachable_quickly_and_converges_once_back() {
    let fleet = Fleet::up(2);
    let p = FaultProject::new(&fleet, PLAY);
    fleet.sh("fleet02", "systemctl stop ssh.service ssh.socket 2>/dev/null; systemctl stop ssh.service");
    let run = p.run(&[]);
    assert_eq!(run.code, 4, "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(40), "refusal is fast: {:?}", run.elapsed);
    assert!(run.stdout.contains("fatal: [fleet02]: UNREACHABLE!"), "{}", run.all());
    assert!(run.stdout.to_lowercase().contains("refused"), "the message says the connection was refused:\n{}", run.all());
    assert_eq!(run.count("fleet02", "unreachable"), 1);
    assert_eq!(run.count("fleet01", "failed"), 0);
    assert_eq!(fleet.sh("fleet01", "cat /srv/faults/last"), "last fleet01\n");

    fleet.sh("fleet02", "systemctl start ssh.service");
    let rerun = p.run(&[]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    assert_eq!(rerun.count("fleet01", "changed"), 0, "{}", rerun.all());
    assert_eq!(fleet.sh("fleet02", "cat /srv/faults/last"), "last fleet02\n");
}
