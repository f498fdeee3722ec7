//! `stockman adhoc -b -m apt` on one fleet host and ansible's ad-hoc command on
//! another, identical, host: the same lines, exit codes and package state.

use std::path::Path;

use crate::fleet::Fleet;
use crate::playbook::ansible_command;

const ANSIBLE: &str = "/var/cache/stockman/ansible-venv/bin/ansible";

fn adhoc(program: &str, pre: &[&str], fleet: &Fleet, home: &Path, host: &str, args: &[&str]) -> (i32, String) {
    let out = ansible_command(program, home)
        .args(pre)
        .arg("-i")
        .arg(fleet.inventory_path())
        .arg(host)
        .args(args)
        .env("ANSIBLE_DEPRECATION_WARNINGS", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).replace(host, "HOST");
    (out.status.code().unwrap_or(-1), stdout)
}

/// The result's first line (`HOST | CHANGED => {`) and its keys: apt's own texts (stdout) differ.
fn shape(output: &str) -> (String, Vec<String>) {
    let first = output.lines().next().unwrap_or_default().to_string();
    let keys = output.lines().filter_map(|l| l.strip_prefix("    \"").and_then(|l| l.split('"').next())).map(str::to_string).collect();
    (first, keys)
}

#[test]
fn adhoc_become_apt_matches_ansible() {
    assert!(Path::new(ANSIBLE).exists(), "{ANSIBLE} is missing: run tests/run-all.sh, which installs it");
    let fleet = Fleet::up(2);
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
    std::fs::copy(fleet.known_hosts_path(), home.path().join(".ssh/known_hosts")).unwrap();
    let stockman = env!("CARGO_BIN_EXE_stockman");
    let apt = ["-b", "-m", "apt", "-a", "name=hello state=present"];
    for (round, expected) in [(1, "HOST | CHANGED => {"), (2, "HOST | SUCCESS => {")] {
        let (ours_code, ours) = adhoc(stockman, &["adhoc"], &fleet, home.path(), "fleet01", &apt);
        let (theirs_code, theirs) = adhoc(ANSIBLE, &[], &fleet, home.path(), "fleet02", &apt);
        assert_eq!((ours_code, theirs_code), (0, 0), "round {round}\n--- stockman:\n{ours}\n--- ansible:\n{theirs}");
        let (ours_shape, theirs_shape) = (shape(&ours), shape(&theirs));
        assert_eq!(ours_shape.0, expected, "round {round}:\n{ours}");
        assert_eq!(ours_shape, theirs_shape, "round {round}\n--- stockman:\n{ours}\n--- ansible:\n{theirs}");
    }
    for host in ["fleet01", "fleet02"] {
        assert_eq!(fleet.sh(host, "dpkg-query -W -f='${db:Status-Abbrev}' hello"), "ii ", "{host}");
    }
    // A package that does not exist fails on both, exit 2.
    let missing = ["-b", "-m", "apt", "-a", "name=nosuchpkg"];
    let (ours_code, ours) = adhoc(stockman, &["adhoc"], &fleet, home.path(), "fleet01", &missing);
    let (theirs_code, theirs) = adhoc(ANSIBLE, &[], &fleet, home.path(), "fleet02", &missing);
    assert_eq!((ours_code, theirs_code), (2, 2), "--- stockman:\n{ours}\n--- ansible:\n{theirs}");
    assert!(ours.contains("HOST | FAILED! => {") && ours.contains("No package matching 'nosuchpkg' is available"), "{ours}");
}
