//! `reboot` and `wait_for_connection` against the tier-1 sshd. The sshd runs
//! as us on this machine, which must not reboot: `reboot` is pointed
//! (`search_paths`) at a fake `shutdown` that records its arguments and moves
//! a fake boot time (`boot_time_command`) on, so the whole action runs (probe,
//! reboot command, new connections until the boot time changed, test command,
//! the next task on a new connection). The fleet reboots for real (tier 2).
//! `wait_for_connection` waits here for an sshd that starts later.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

fn play(tasks: &str) -> String {
    format!("- hosts: test\n  gather_facts: false\n  tasks:\n{tasks}")
}

/// A project whose remote dir holds `bin/shutdown` (writes its arguments,
/// NUL-separated, to `args-N` and the boot time N+1 to `boot`) and `boot` = 1.
fn fake_host(sshd: &TestSshd) -> Project {
    let p = Project::new();
    let remote = p.remote_str();
    std::fs::create_dir_all(p.remote("bin")).unwrap();
    let script = format!("#!/bin/sh\nn=$(cat '{remote}/boot')\nprintf '%s\\0' \"$@\" > '{remote}/args-'$n\necho $((n + 1)) > '{remote}/boot'\n");
    std::fs::write(p.remote("bin/shutdown"), script).unwrap();
    std::fs::set_permissions(p.remote("bin/shutdown"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(p.remote("boot"), "1\n").unwrap();
    p.inventory(sshd, &["h1"]);
    p
}

fn args_of(p: &Project, n: u32) -> Vec<String> {
    let raw = std::fs::read_to_string(p.remote(&format!("args-{n}"))).unwrap_or_else(|e| panic!("shutdown was not run ({n}): {e}"));
    raw.split_terminator('\0').map(str::to_string).collect()
}

#[test]
fn reboot_runs_shutdown_waits_for_the_new_boot_and_reconnects() {
    let sshd = TestSshd::start();
    let p = fake_host(&sshd);
    let remote = p.remote_str();
    let tasks = format!(
        r#"    - reboot:
        search_paths: ["{remote}/no such dir", "{remote}/bin"]
        boot_time_command: cat {remote}/boot
        msg: "it's \"$(touch {remote}/PWNED)\" `touch {remote}/PWNED2`"
        pre_reboot_delay: 125
        post_reboot_delay: 1
        connect_timeout: 5
        reboot_timeout: 30
        test_command: test -s {remote}/boot
      register: r
    - command: cat {remote}/boot
      register: after
    - assert:
        that:
          - r is changed
          - r.rebooted
          - r.elapsed >= 1
          - after.stdout == '2'
"#
    );
    p.write("site.yml", &play(&tasks));
    let started = Instant::now();
    let out = p.run(&sshd, "site.yml", &["-vvv"]);
    out.assert_code(0);
    assert_eq!(out.recap("h1"), recap("h1", 3, 2, 0, 0, 0, 0));
    assert!(started.elapsed() < Duration::from_secs(25), "the boot time changed at once: no long wait");
    // 125 s are 2 minutes; the message is one argument, never code.
    assert_eq!(args_of(&p, 1), ["-r", "2", &format!("it's \"$(touch {remote}/PWNED)\" `touch {remote}/PWNED2`")]);
    assert!(!p.remote("PWNED").exists() && !p.remote("PWNED2").exists());
    // The wait opened a new connection, and the task after it another one.
    assert!(out.stdout.matches("ESTABLISH SSH CONNECTION").count() >= 3, "{}", out.stdout);
    assert!(out.stdout.contains("reset connection"), "{}", out.stdout);
}

#[test]
fn reboot_fails_clearly_before_rebooting_and_bounds_its_waits() {
    let sshd = TestSshd::start();
    let p = fake_host(&sshd);
    let remote = p.remote_str();
    let tasks = format!(
        r#"    - name: no shutdown in the search paths
      reboot: {{search_paths: ["{remote}/nowhere"], boot_time_command: "cat {remote}/boot"}}
      register: r_missing
      ignore_errors: true
    - name: the boot time cannot be read
      ansible.builtin.reboot: {{search_paths: ["{remote}/bin"], boot_time_command: "echo out; echo err >&2; exit 3"}}
      register: r_boot
      ignore_errors: true
    - name: the reboot command fails
      reboot: {{reboot_command: "false --now", boot_time_command: "cat {remote}/boot"}}
      register: r_cmd
      ignore_errors: true
    - name: check mode reboots nothing
      reboot: {{search_paths: ["{remote}/bin"], boot_time_command: "cat {remote}/boot"}}
      check_mode: true
      register: r_check
    - name: a test command that never passes
      reboot: {{search_paths: ["{remote}/bin"], boot_time_command: "cat {remote}/boot", test_command: "false", reboot_timeout: 2}}
      register: r_test
      ignore_errors: true
    - assert:
        that:
          - r_missing is failed
          - "r_missing.msg == 'Task failed: Unable to find command \"shutdown\" in search paths: [\\'{remote}/nowhere\\']'"
          - r_boot is failed and not r_boot.reboot
          - "r_boot.msg == 'ansible.builtin.reboot: failed to get host boot time info, rc: 3, stdout: out\\n, stderr: err\\n'"
          - r_cmd is failed and not r_cmd.rebooted
          - "r_cmd.msg == \"Reboot command failed. Error was: ', '\""
          - r_check is changed and r_check.rebooted and r_check.elapsed == 0
          - r_test is failed and r_test.rebooted
          - "r_test.msg == 'Timed out waiting for post-reboot test command (timeout=2)'"
"#
    );
    p.write("site.yml", &play(&tasks));
    let started = Instant::now();
    let out = p.run(&sshd, "site.yml", &[]);
    out.assert_code(0);
    assert_eq!(out.recap("h1"), recap("h1", 6, 1, 0, 0, 0, 4));
    assert!(started.elapsed() < Duration::from_secs(30), "the 2 s timeout bounded the wait");
    assert!(out.stdout.contains("fatal: [h1]: FAILED!") && out.stdout.contains("Timed out waiting for post-reboot test command (timeout=2)"), "{}", out.stdout);
    // Only the last task ran shutdown (check mode and the failures before it did not).
    assert!(!p.remote("args-2").exists());
    assert_eq!(args_of(&p, 1), ["-r", "0", "Reboot initiated by Ansible"]);
}

#[test]
fn reboot_over_a_local_connection_is_refused() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let tasks = "    - reboot:\n      register: r\n      ignore_errors: true\n    - assert:\n        that:\n          - r is failed and not r.rebooted and r.elapsed == 0\n          - \"r.msg == 'Running reboot with local connection would reboot the control node.'\"\n";
    p.write("site.yml", &play(tasks).replace("gather_facts: false", "gather_facts: false\n  connection: local"));
    let out = p.run(&sshd, "site.yml", &[]);
    out.assert_code(0);
    assert_eq!(out.recap("h1"), recap("h1", 2, 0, 0, 0, 0, 1));
}

#[test]
fn wait_for_connection_waits_for_an_sshd_that_starts_later() {
    let mut sshd = TestSshd::start();
    sshd.kill();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let tasks = "    - wait_for_connection: {timeout: 60, sleep: 1, connect_timeout: 2}\n      register: r\n    - command: echo back\n      register: back\n    - assert:\n        that:\n          - r is not changed and r is not failed\n          - r.elapsed >= 2\n          - back.stdout == 'back'\n";
    p.write("site.yml", &play(tasks));
    let child = p.command(Some(sshd.known_hosts.as_path()), "site.yml", &[]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    sshd.revive();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let line = stdout.lines().skip_while(|l| !l.starts_with("PLAY RECAP")).find(|l| l.starts_with("h1 ")).unwrap();
    assert_eq!(line.split_whitespace().collect::<Vec<_>>().join(" "), recap("h1", 3, 1, 0, 0, 0, 0));
}

#[test]
fn wait_for_connection_times_out_naming_the_host_and_skips_in_check_mode() {
    let mut sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let tasks = "    - wait_for_connection: {delay: 1, sleep: 1, connect_timeout: 1}\n      check_mode: true\n      register: c\n    - wait_for_connection: {delay: 2, timeout: 10}\n      register: d\n    - assert:\n        that:\n          - c is skipped\n          - d.elapsed >= 2\n";
    p.write("site.yml", &play(tasks));
    let out = p.run(&sshd, "site.yml", &[]);
    out.assert_code(0);
    assert_eq!(out.recap("h1"), recap("h1", 2, 0, 0, 0, 1, 0));

    sshd.kill();
    let tasks = "    - wait_for_connection: {timeout: 3, sleep: 1, connect_timeout: 1}\n";
    p.write("down.yml", &play(tasks));
    let started = Instant::now();
    let out = p.run(&sshd, "down.yml", &[]);
    out.assert_code(2);
    assert!(started.elapsed() < Duration::from_secs(15), "bounded by its 3 s timeout");
    assert!(out.stdout.contains("fatal: [h1]: FAILED!") && out.stdout.contains("timed out waiting for ping module test: Failed to connect to the host via ssh"), "{}", out.stdout);
    assert_eq!(out.recap("h1"), recap("h1", 0, 0, 0, 1, 0, 0));
}
