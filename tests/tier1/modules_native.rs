//! The native modules added for issue 14 §4 (package, slurp, replace, find,
//! fetch) need no Python on the host, and a task that changes nothing costs one
//! command (`-vv` shows each as EXEC).

use crate::run::Project;
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /nonexistent/python3
  tasks:
    - name: slurp
      slurp: {src: "{{ remote }}/conf"}
      register: r
    - name: replace that finds nothing
      replace: {path: "{{ remote }}/conf", regexp: '^nomatch$', replace: x}
    - name: replace in check mode
      replace: {path: "{{ remote }}/conf", regexp: '^a=(\d)$', replace: 'a=\1\1'}
      check_mode: true
    - name: find
      find: {paths: "{{ remote }}", patterns: "conf"}
      register: found
    - name: fetch
      fetch: {src: "{{ remote }}/conf", dest: "{{ remote }}/copy", flat: true}
    - name: fetch again
      fetch: {src: "{{ remote }}/conf", dest: "{{ remote }}/copy", flat: true}
    - name: package that is installed already, in check mode
      package: {name: coreutils}
      check_mode: true
    - debug:
        msg: "{{ r.content | b64decode }} {{ found.matched }}"
"#;

/// The EXEC lines printed under each task header.
fn commands_per_task(stdout: &str) -> Vec<(String, usize)> {
    stdout
        .split("TASK [")
        .skip(1)
        .map(|section| {
            let name = section.split(']').next().unwrap_or_default().to_string();
            (name, section.lines().filter(|l| l.starts_with("<h> EXEC ")).count())
        })
        .collect()
}

#[test]
fn native_modules_run_without_python_and_a_no_op_in_one_command() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("native.yml", PLAY);
    std::fs::write(p.remote("conf"), "a=1\n").unwrap();
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "native.yml", &["-vv", "-e", &remote]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"msg\": \"a=1\\n 1\""), "{}", run.stdout);
    for (task, n) in commands_per_task(&run.stdout) {
        let expected = match task.as_str() {
            "slurp" | "replace that finds nothing" | "replace in check mode" | "find" | "fetch again" => 1,
            "fetch" => 2,
            _ => continue,
        };
        assert_eq!(n, expected, "task `{task}` ran {n} commands:\n{}", run.stdout);
    }
    assert_eq!(std::fs::read_to_string(p.remote("copy")).unwrap(), "a=1\n", "fetched");
    assert_eq!(std::fs::read_to_string(p.remote("conf")).unwrap(), "a=1\n", "check mode changed the file");
}
