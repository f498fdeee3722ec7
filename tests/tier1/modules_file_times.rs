//! `file` `access_time` / `modification_time` through the real binary against
//! the tier-1 sshd; and where `file` follows Ansible's own walk of a path
//! (missing parents, an existing link with no `state`).

use std::os::unix::fs::MetadataExt;

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - file: {path: "{{ remote }}/stamped", state: touch, modification_time: "202001021530.45", access_time: "2021-03-04 05:06", access_time_format: "%Y-%m-%d %H:%M"}
    - file: {path: "{{ remote }}/kept", state: touch, modification_time: preserve, access_time: preserve}
    - file: {path: "{{ remote }}/existing", modification_time: "201901010000.00"}
"#;

/// Epoch of a local time on this machine (the host is this machine).
fn local_epoch(at: &str) -> i64 {
    let out = std::process::Command::new("date").args(["-d", at, "+%s"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn times_are_set_and_idempotent() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("times.yml", PLAY);
    std::fs::write(p.remote("existing"), "x").unwrap();
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "times.yml", &["-e", &remote]);
    assert_eq!(first.recap("h"), recap("h", 3, 3, 0, 0, 0, 0), "{}\n{}", first.stdout, first.stderr);
    let stamped = std::fs::metadata(p.remote("stamped")).unwrap();
    assert_eq!(stamped.mtime(), local_epoch("2020-01-02 15:30:45"));
    assert_eq!(stamped.atime(), local_epoch("2021-03-04 05:06:00"));
    assert!(p.remote("kept").exists(), "touch with preserve still creates the file");
    assert_eq!(std::fs::metadata(p.remote("existing")).unwrap().mtime(), local_epoch("2019-01-01 00:00:00"));
    let second = p.run(&sshd, "times.yml", &["-e", &remote]);
    assert_eq!(second.recap("h"), recap("h", 3, 0, 0, 0, 0, 0), "{}", second.stdout);
}

const WALK: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - file: {path: "{{ remote }}/p/q/r", state: directory, mode: "0750"}
    - file: {src: "{{ remote }}/p", dest: "{{ remote }}/l", state: link}
    - file: {path: "{{ remote }}/l", mode: "0700"}
      register: r_follow
    - debug: var=r_follow
"#;

/// Every directory `state: directory` creates gets the mode (not only the last,
/// as with `mkdir -p`); a link given no `state` stays a link, its target takes
/// the mode and the result is the link's own (Ansible's `dest`, `state: link`).
#[test]
fn missing_parents_get_the_mode_and_a_link_without_state_stays_a_link() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("walk.yml", WALK);
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "walk.yml", &["-e", &remote]);
    first.assert_code(0);
    assert_eq!(first.recap("h"), recap("h", 4, 3, 0, 0, 0, 0), "{}", first.stdout);
    let mode = |rel: &str| std::fs::symlink_metadata(p.remote(rel)).unwrap().mode() & 0o7777;
    assert_eq!((mode("p/q"), mode("p/q/r")), (0o750, 0o750), "parents created with the mode");
    assert_eq!(mode("p"), 0o700, "the link's target took the mode");
    assert!(std::fs::symlink_metadata(p.remote("l")).unwrap().file_type().is_symlink());
    let result = &first.stdout[first.stdout.find(r#""r_follow""#).unwrap()..];
    assert!(result.contains(r#""state": "link""#) && result.contains(r#""dest": ""#), "{result}");
    let second = p.run(&sshd, "walk.yml", &["-e", &remote]);
    assert_eq!(second.recap("h"), recap("h", 4, 0, 0, 0, 0, 0), "{}", second.stdout);
}
