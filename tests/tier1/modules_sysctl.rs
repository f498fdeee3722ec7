//! Native `ansible.posix.sysctl` on the test sshd. A stand-in `sysctl` on the
//! task's PATH keeps this machine's kernel alone: it keeps each key's value
//! in a file, as /proc/sys would. Files, `sysctl_set`, `reload`, check mode;
//! the second run changes nothing and a no-op is one command.

use std::os::unix::fs::PermissionsExt;

use crate::run::Project;
use crate::sshd::TestSshd;

/// `sysctl [-e] -n KEY | -w KEY=VALUE | -p FILE` on files in STORE.
const FAKE_SYSCTL: &str = r#"#!/bin/sh
e=; if [ "$1" = -e ]; then e=1; shift; fi
case $1 in
  -n) if [ -f "STORE/$2" ]; then exec cat "STORE/$2"; fi
      [ -n "$e" ] && exit 0
      echo "sysctl: cannot stat /proc/sys/$2: No such file or directory" >&2; exit 255 ;;
  -w) k=${2%%=*}; printf '%s\n' "${2#*=}" > "STORE/$k"; echo "$k = ${2#*=}" ;;
  -p) while IFS='=' read -r k v; do
        case $k in ''|'#'*|';'*) continue ;; esac
        printf '%s\n' "$v" > "STORE/$k"; echo "$k = $v"
      done < "$2" ;;
esac
"#;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  environment:
    PATH: "{{ remote }}/bin:/usr/bin:/bin"
  vars:
    ansible_python_interpreter: /nonexistent/python3
    conf: "{{ remote }}/sysctl.conf"
  tasks:
    - name: written and reloaded
      ansible.posix.sysctl: {name: vm.swappiness, value: "10", sysctl_file: "{{ conf }}"}
      register: r_reload
    - name: set in the running kernel only
      sysctl: {name: net.ipv4.ip_forward, value: "yes", sysctl_set: true, reload: false, sysctl_file: "{{ conf }}"}
    - name: check mode
      sysctl: {name: kernel.pid_max, value: "4096", sysctl_file: "{{ conf }}"}
      check_mode: true
      register: r_check
    - name: absent
      sysctl: {name: old.key, state: absent, sysctl_file: "{{ conf }}", reload: false}
    - copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'reload': r_reload, 'check': r_check} | to_json }}"
      when: write_results | default(true)
"#;

#[test]
fn sysctl_writes_sets_and_reloads_idempotently() {
    let sshd = TestSshd::start();
    let p = Project::new();
    for dir in ["bin", "store"] {
        std::fs::create_dir_all(p.remote(dir)).unwrap();
    }
    let fake = p.remote("bin/sysctl");
    std::fs::write(&fake, FAKE_SYSCTL.replace("STORE", &p.remote("store").display().to_string())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(p.remote("store/net.ipv4.ip_forward"), "0\n").unwrap();
    std::fs::write(p.remote("sysctl.conf"), "# kept\nold.key = 1\nvm.swappiness=60\n").unwrap();
    p.inventory(&sshd, &["h"]).write("sysctl.yml", PLAY);
    let remote = format!("remote={}", p.remote_str());
    p.run(&sshd, "sysctl.yml", &["-e", &remote]).assert_code(0);
    let read = |rel: &str| std::fs::read_to_string(p.remote(rel)).unwrap();
    assert_eq!(read("sysctl.conf"), "# kept\nvm.swappiness=10\nnet.ipv4.ip_forward=1\n");
    assert_eq!(read("store/vm.swappiness"), "10\n", "reloaded from the file");
    assert_eq!(read("store/net.ipv4.ip_forward"), "1\n", "sysctl -w");
    assert!(!p.remote("store/kernel.pid_max").exists(), "check mode set nothing");
    let results: serde_json::Value = serde_json::from_str(&read("results.json")).unwrap();
    assert_eq!((results["reload"]["changed"].clone(), results["check"]["changed"].clone()), (serde_json::json!(true), serde_json::json!(true)));

    let second = p.run(&sshd, "sysctl.yml", &["-e", &remote, "-e", "write_results=false", "-vv"]);
    second.assert_code(0);
    assert!(second.stdout.contains(" changed=1 "), "only check mode plans again:\n{}", second.stdout);
    let commands = second.stdout.split("TASK [").filter(|s| s.starts_with("written and reloaded]")).map(|s| s.lines().filter(|l| l.starts_with("<h> EXEC ")).count()).next();
    assert_eq!(commands, Some(1), "{}", second.stdout);
}
