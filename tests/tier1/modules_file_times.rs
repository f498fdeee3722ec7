//! `file` `access_time` / `modification_time` through the real binary against
//! the tier-1 sshd.

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
