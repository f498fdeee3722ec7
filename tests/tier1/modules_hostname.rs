//! Native `hostname` on the test sshd. A stand-in `hostnamectl` on the
//! task's PATH keeps this machine's name alone: it keeps the static, pretty
//! and transient names in files. The systemd strategy (permanent first, then
//! current), check mode, --diff, the facts it sets, idempotence (a no-op is
//! one command); and the strategy this (non-systemd) host would get, in check
//! mode only, leaving /etc/hostname alone.

use std::os::unix::fs::PermissionsExt;

use crate::run::Project;
use crate::sshd::TestSshd;

/// `hostnamectl [--pretty] [--static|--transient] status | set-hostname -- NAME` on files in STORE.
const FAKE_HOSTNAMECTL: &str = r#"#!/bin/sh
kinds=
while [ $# -gt 0 ]; do
  case $1 in
    --pretty|--static|--transient) kinds="$kinds ${1#--}" ;;
    status) for k in $kinds; do cat "STORE/$k"; done; exit 0 ;;
    set-hostname) shift; [ "$1" = -- ] && shift
      for k in $kinds; do printf '%s\n' "$1" > "STORE/$k"; done
      echo "set$kinds $1" >> STORE/log; exit 0 ;;
  esac
  shift
done
exit 1
"#;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  environment:
    PATH: "{{ remote }}/bin:/usr/bin:/bin"
  vars:
    ansible_python_interpreter: /nonexistent/python3
  tasks:
    - name: renamed
      hostname: {name: web1.example.com, use: systemd}
      register: r_new
    - name: check mode
      ansible.builtin.hostname: {name: other.example.com, use: systemd}
      check_mode: true
      register: r_check
    - name: this host's own strategy, in check mode
      hostname: {name: stockman-never-written}
      check_mode: true
      register: r_auto
    - copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'new': r_new, 'check': r_check, 'auto': r_auto, 'fact': ansible_hostname} | to_json }}"
      when: write_results | default(true)
"#;

#[test]
fn hostname_sets_the_permanent_then_the_current_name() {
    let sshd = TestSshd::start();
    let p = Project::new();
    for dir in ["bin", "store"] {
        std::fs::create_dir_all(p.remote(dir)).unwrap();
    }
    let fake = p.remote("bin/hostnamectl");
    std::fs::write(&fake, FAKE_HOSTNAMECTL.replace("STORE", &p.remote("store").display().to_string())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    for kind in ["static", "transient", "pretty"] {
        std::fs::write(p.remote(&format!("store/{kind}")), "oldname\n").unwrap();
    }
    let etc_hostname = std::fs::read("/etc/hostname").ok();
    p.inventory(&sshd, &["h"]).write("hostname.yml", PLAY);
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "hostname.yml", &["-e", &remote, "--diff"]);
    first.assert_code(0);
    let read = |rel: &str| std::fs::read_to_string(p.remote(rel)).unwrap();
    assert_eq!(read("store/log"), "set pretty static web1.example.com\nset transient web1.example.com\n", "permanent first, check mode set nothing");
    assert!(first.stdout.contains("-hostname = oldname\n+hostname = web1.example.com"), "{}", first.stdout);
    assert_eq!(std::fs::read("/etc/hostname").ok(), etc_hostname, "check mode left /etc/hostname alone");
    let results: serde_json::Value = serde_json::from_str(&read("results.json")).unwrap();
    let facts = &results["new"]["ansible_facts"];
    assert_eq!((facts["ansible_hostname"].as_str(), facts["ansible_nodename"].as_str()), (Some("web1"), Some("web1.example.com")));
    assert_eq!(results["fact"].as_str(), Some("stockman-never-written"), "the facts join the host's, from check mode too (as Ansible's)");
    assert_eq!((results["new"]["changed"].as_bool(), results["check"]["changed"].as_bool(), results["auto"]["failed"].as_bool()), (Some(true), Some(true), Some(false)));

    let second = p.run(&sshd, "hostname.yml", &["-e", &remote, "-e", "write_results=false", "-vv"]);
    second.assert_code(0);
    assert!(second.stdout.contains(" changed=2 "), "only the check-mode tasks plan again:\n{}", second.stdout);
    let commands = second.stdout.split("TASK [").filter(|s| s.starts_with("renamed]")).map(|s| s.lines().filter(|l| l.starts_with("<h> EXEC ")).count()).next();
    assert_eq!(commands, Some(1), "{}", second.stdout);
    assert_eq!(read("store/log").lines().count(), 2, "nothing set again");
}
