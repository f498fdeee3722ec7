//! Native `ansible.posix.authorized_key` on the test sshd, on a file under
//! the test's remote dir (never this machine's own authorized_keys): keys
//! added, options and comment set, removed, `exclusive`, check mode, a
//! followed link; the second run changes nothing and a no-op is one command.

use std::os::unix::fs::PermissionsExt;

use crate::run::Project;
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /nonexistent/python3
    keys: "{{ remote }}/home/.ssh/authorized_keys"
  tasks:
    - name: two keys
      ansible.posix.authorized_key:
        user: "{{ ansible_user }}"
        path: "{{ keys }}"
        key: "ssh-ed25519 AAAAOne one\nssh-rsa AAAATwo two"
      register: r_two
    - name: options on one
      authorized_key: {user: "{{ ansible_user }}", path: "{{ keys }}", key: "ssh-rsa AAAATwo two", key_options: "no-pty"}
    - name: check mode adds nothing
      authorized_key: {user: "{{ ansible_user }}", path: "{{ keys }}", key: "ssh-rsa AAAANever"}
      check_mode: true
      register: r_check
    - name: a key removed
      authorized_key: {user: "{{ ansible_user }}", path: "{{ keys }}", key: "ssh-ed25519 AAAAOne", state: absent}
    - name: exclusive through a followed link
      authorized_key: {user: "{{ ansible_user }}", path: "{{ remote }}/link", key: "ssh-rsa AAAAOnly", exclusive: true, follow: true, manage_dir: false}
    - copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'two': r_two, 'check': r_check} | to_json }}"
      when: write_results | default(true)
"#;

#[test]
fn authorized_key_edits_keys_idempotently() {
    let sshd = TestSshd::start();
    let p = Project::new();
    // manage_dir makes .ssh, not its parents (as Ansible's os.mkdir).
    std::fs::create_dir(p.remote("home")).unwrap();
    std::fs::write(p.remote("other"), "# hand\nssh-rsa AAAAOld old\n").unwrap();
    std::os::unix::fs::symlink(p.remote("other"), p.remote("link")).unwrap();
    p.inventory(&sshd, &["h"]).write("ak.yml", PLAY);
    let remote = format!("remote={}", p.remote_str());
    p.run(&sshd, "ak.yml", &["-e", &remote]).assert_code(0);
    let keys = p.remote("home/.ssh/authorized_keys");
    assert_eq!(std::fs::read_to_string(&keys).unwrap(), "no-pty ssh-rsa AAAATwo two\n");
    assert_eq!(std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(p.remote("home/.ssh")).unwrap().permissions().mode() & 0o777, 0o700, "manage_dir makes .ssh 0700");
    assert_eq!(std::fs::read_to_string(p.remote("other")).unwrap(), "ssh-rsa AAAAOnly \n", "exclusive keeps only the key; follow writes the link's target");
    assert!(std::fs::symlink_metadata(p.remote("link")).unwrap().file_type().is_symlink(), "a followed link stays a link");
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.remote("results.json")).unwrap()).unwrap();
    assert_eq!(results["two"]["changed"], true);
    assert_eq!(results["two"]["keyfile"], keys.display().to_string());
    assert_eq!(results["two"]["state"], "file", "Ansible's path info of the written file");
    assert_eq!(results["two"]["mode"], "0600");
    assert_eq!(results["check"]["changed"], true);

    let second = p.run(&sshd, "ak.yml", &["-e", &remote, "-e", "write_results=false", "-vv"]);
    second.assert_code(0);
    // The exclusive task is a no-op; the others alternate on purpose ("two
    // keys" adds back the removed key and drops the options the next task
    // sets), and the check-mode task plans its change again.
    assert!(second.stdout.contains(" changed=4 "), "{}", second.stdout);
    let commands = second.stdout.split("TASK [").filter(|s| s.starts_with("exclusive through a followed link]")).map(|s| s.lines().filter(|l| l.starts_with("<h> EXEC ")).count()).next();
    assert_eq!(commands, Some(1), "{}", second.stdout);
}
