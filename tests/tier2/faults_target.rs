//! Faults on the target itself: a full disk under a copy, the dpkg lock held by
//! another process, a command that never ends (the task `timeout:` keyword).
//! The affected host fails with a clear message, the others finish, no file is
//! half-written, the controller returns in bounded time, and a rerun converges.

use std::time::Duration;

use crate::faults_support::{temp_files, FaultProject};
use crate::fleet::Fleet;

const FULL: &str = r#"
- hosts: fleet
  gather_facts: false
  tasks:
    - file: {path: /srv/full, state: directory}
    - copy: {src: two-mib.bin, dest: /srv/full/data.bin}
    - copy: {content: "after\n", dest: /srv/after}
"#;

#[test]
fn a_full_disk_fails_the_copy_and_keeps_the_old_file() {
    let fleet = Fleet::up(2);
    let p = FaultProject::new(&fleet, FULL);
    p.write("files/two-mib.bin", &vec![b'z'; 2 << 20]);
    fleet.sh("fleet02", "mkdir -p /srv/full && mount -t tmpfs -o size=1m tmpfs /srv/full && echo old > /srv/full/data.bin");
    let run = p.run(&[]);
    let umount = || fleet.sh("fleet02", "umount /srv/full");
    assert_eq!(run.code, 2, "{}", run.all());
    assert_eq!(run.count("fleet02", "failed"), 1, "{}", run.all());
    assert!(run.stdout.contains("No space left on device"), "the error says why:\n{}", run.all());
    assert!(run.stdout.contains("/srv/full/data.bin"), "the error names the file:\n{}", run.all());
    assert_eq!(fleet.sh("fleet02", "cat /srv/full/data.bin"), "old\n", "dest unchanged");
    assert_eq!(temp_files(&fleet, "fleet02", "/srv/full"), "", "no temp file left on the full disk");
    assert_eq!(run.count("fleet01", "changed"), 3, "{}", run.all());

    umount();
    let rerun = p.run(&[]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    assert_eq!(fleet.sh("fleet02", "stat -c %s /srv/full/data.bin"), format!("{}\n", 2 << 20));
    assert_eq!(p.run(&[]).count("fleet02", "changed"), 0);
}

const APT: &str = r#"
- hosts: fleet
  gather_facts: false
  tasks:
    - apt: {name: hello, update_cache: true, lock_timeout: "{{ lock_timeout }}"}
"#;

/// Holds dpkg's frontend lock (an fcntl lock, as apt takes it) for `secs` seconds
/// in the background on `host`.
fn hold_dpkg_lock(fleet: &Fleet, host: &str, secs: u32) {
    let python = format!(
        "import fcntl, time\nf = open('/var/lib/dpkg/lock-frontend', 'w')\nfcntl.lockf(f, fcntl.LOCK_EX)\nopen('/run/lock-held', 'w').close()\ntime.sleep({secs})\n"
    );
    fleet.sh(host, &format!("rm -f /run/lock-held; setsid -f python3 -c \"{python}\" </dev/null >/dev/null 2>&1"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !fleet.exec(host, &["test", "-e", "/run/lock-held"]).status.success() {
        assert!(std::time::Instant::now() < deadline, "the lock holder did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn apt_waits_for_the_dpkg_lock_within_its_timeout_then_fails_clearly() {
    let fleet = Fleet::up(2);
    let p = FaultProject::new(&fleet, APT);
    hold_dpkg_lock(&fleet, "fleet02", 40);
    let run = p.run(&["-e", "lock_timeout=3"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert_eq!(run.count("fleet02", "failed"), 1, "{}", run.all());
    assert!(run.stdout.contains("lock"), "the message names the lock:\n{}", run.all());
    assert!(run.elapsed < Duration::from_secs(35), "bounded by lock_timeout: {:?}", run.elapsed);
    assert_eq!(run.count("fleet01", "changed"), 1, "{}", run.all());
    // `[l]`: the pattern must not match this very command line.
    fleet.sh("fleet02", "pkill -f '[l]ock-frontend' || true");

    // A lock released within lock_timeout: apt waits, then installs.
    hold_dpkg_lock(&fleet, "fleet02", 5);
    let run = p.run(&["-e", "lock_timeout=60"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.count("fleet02", "changed"), 1, "{}", run.all());
    assert_eq!(p.run(&["-e", "lock_timeout=60"]).count("fleet02", "changed"), 0);
}

const NEVER_ENDS: &str = r#"
- hosts: fleet
  gather_facts: false
  tasks:
    - name: never ends on fleet02
      command: sleep {{ 3600 if inventory_hostname == 'fleet02' else 0 }}
      timeout: 3
    - copy: {content: "after\n", dest: /srv/after-timeout}
"#;

#[test]
fn a_command_that_never_ends_is_stopped_by_the_task_timeout() {
    let fleet = Fleet::up(2);
    let p = FaultProject::new(&fleet, NEVER_ENDS);
    let run = p.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(30), "{:?}", run.elapsed);
    assert!(
        run.stdout.contains("Task failed: Timed out after 3 second(s)."),
        "Ansible's message:\n{}",
        run.all()
    );
    assert_eq!(run.count("fleet02", "failed"), 1);
    assert_eq!(run.recap("fleet01"), "fleet01 : ok=2 changed=2 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0");
    assert_eq!(fleet.sh("fleet01", "cat /srv/after-timeout"), "after\n");
}
