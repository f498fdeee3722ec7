//! Native `community.general.ini_file` on the test sshd, with no Python on
//! the task's path: an option changed in a file whose mode is kept, a new
//! file, a link followed or replaced as the module does, check mode and
//! --diff; the second run changes nothing and a no-op is one command.

use std::os::unix::fs::{symlink, PermissionsExt};

use crate::run::Project;
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /nonexistent/python3
  tasks:
    - name: an option changed
      community.general.ini_file: {path: "{{ remote }}/app.ini", section: db, option: host, value: db.example}
      register: r_change
    - name: a new file with its mode
      ini_file: {dest: "{{ remote }}/new/made.ini", option: top, value: "1", mode: "0640"}
    - name: through a link, followed
      ini_file: {path: "{{ remote }}/followed.ini", section: s, option: o, value: v, follow: true}
    - name: over a link, not followed
      ini_file: {path: "{{ remote }}/replaced.ini", section: s, option: o, value: v}
    - name: check mode
      ini_file: {path: "{{ remote }}/app.ini", section: db, option: port, value: "5432"}
      check_mode: true
      register: r_check
    - copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'change': r_change, 'check': r_check} | to_json }}"
      when: write_results | default(true)
"#;

#[test]
fn ini_file_edits_natively_and_idempotently() {
    let sshd = TestSshd::start();
    let p = Project::new();
    std::fs::write(p.remote("app.ini"), "[db]\nhost = old\n; port = 1\n").unwrap();
    std::fs::set_permissions(p.remote("app.ini"), std::fs::Permissions::from_mode(0o604)).unwrap();
    for (link, target) in [("followed.ini", "target1.ini"), ("replaced.ini", "target2.ini")] {
        std::fs::write(p.remote(target), "[s]\n").unwrap();
        symlink(p.remote(target), p.remote(link)).unwrap();
    }
    p.inventory(&sshd, &["h"]).write("ini.yml", PLAY);
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "ini.yml", &["-e", &remote, "--diff"]);
    first.assert_code(0);
    let read = |rel: &str| std::fs::read_to_string(p.remote(rel)).unwrap();
    assert_eq!(read("app.ini"), "[db]\nhost = db.example\n; port = 1\n");
    let mode = |rel: &str| std::fs::symlink_metadata(p.remote(rel)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("app.ini"), 0o604, "the file's mode is kept");
    assert_eq!((read("new/made.ini"), mode("new/made.ini")), ("top = 1\n\n".to_string(), 0o640));
    assert_eq!(read("target1.ini"), "[s]\no = v\n", "follow edits the link's target");
    assert!(std::fs::symlink_metadata(p.remote("followed.ini")).unwrap().file_type().is_symlink());
    assert!(std::fs::symlink_metadata(p.remote("replaced.ini")).unwrap().file_type().is_file(), "without follow the link is replaced");
    assert_eq!((read("replaced.ini"), read("target2.ini")), ("[s]\no = v\n".to_string(), "[s]\n".to_string()));
    assert!(first.stdout.contains("+host = db.example"), "--diff shows the edit:\n{}", first.stdout);
    let results: serde_json::Value = serde_json::from_str(&read("results.json")).unwrap();
    assert_eq!(results["change"]["msg"], "option changed");
    assert_eq!(results["change"]["mode"], "0604");
    assert_eq!((results["check"]["changed"].clone(), results["check"]["msg"].clone()), (serde_json::json!(true), serde_json::json!("option changed")));
    assert!(!read("app.ini").contains("5432"), "check mode wrote nothing");

    let second = p.run(&sshd, "ini.yml", &["-e", &remote, "-e", "write_results=false", "-vv"]);
    second.assert_code(0);
    assert!(second.stdout.contains(" changed=1 "), "only check mode plans again:\n{}", second.stdout);
    let commands = second.stdout.split("TASK [").filter(|s| s.starts_with("an option changed]")).map(|s| s.lines().filter(|l| l.starts_with("<h> EXEC ")).count()).next();
    assert_eq!(commands, Some(1), "{}", second.stdout);
}
