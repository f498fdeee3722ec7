//! Module arguments against their spec: literal violations refused at load
//! (file:line:col), handled or templated ones failing on each host with
//! Ansible's message, and converted values (`"no"`, `"a,b"`) reaching the module.

use crate::run::Project;
use crate::sshd::TestSshd;

#[test]
fn a_literal_bad_type_is_refused_at_load_at_the_value() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("t.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - stat:\n        path: /\n        get_checksum: maybe\n");
    let run = p.run(&sshd, "t.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("t.yml:6:23"), "{}", run.stderr);
    assert!(run.stderr.contains("argument 'get_checksum' is of type str and we were unable to convert to bool: The value 'maybe' is not a valid boolean"), "{}", run.stderr);
    assert!(run.stderr.contains("write true or false"), "a hint: {}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    // A missing required argument too, at the task's module, with Ansible's text.
    p.write("m.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: read\n      action: slurp\n");
    let run = p.run(&sshd, "m.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("m.yml:5:15") && run.stderr.contains("missing required arguments: src"), "{}", run.stderr);
}

#[test]
fn handled_violations_fail_at_run_time_with_ansibles_message() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let r = p.remote_str();
    p.inventory(&sshd, &["h"]).write(
        "h.yml",
        &format!(
            r#"
- hosts: all
  gather_facts: false
  tasks:
    - action: slurp
      register: missing
      ignore_errors: true
    - block:
        - command:
      rescue:
        - copy:
            content: "{{{{ ansible_failed_result.msg }}}}"
            dest: {r}/rescued
    - wait_for:
        timeout: soon
      register: typed
      failed_when: typed is not failed
    - copy:
        content: "{{{{ missing.msg }}}}|{{{{ typed.msg }}}}"
        dest: {r}/registered
"#
        ),
    );
    let run = p.run(&sshd, "h.yml", &[]);
    run.assert_code(0);
    let registered = std::fs::read_to_string(p.remote("registered")).unwrap();
    assert_eq!(registered, "missing required arguments: src|argument 'timeout' is of type str and we were unable to convert to int: \"'soon'\" cannot be converted to an int");
    let rescued = std::fs::read_to_string(p.remote("rescued")).unwrap();
    assert_eq!(rescued, "one of the following is required: _raw_params, cmd, argv");
}

#[test]
fn a_templated_bad_type_fails_on_the_host_naming_the_task() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("t.yml", "- hosts: all\n  gather_facts: false\n  vars:\n    n: three\n  tasks:\n    - name: wait\n      wait_for:\n        timeout: \"{{ n }}\"\n");
    let run = p.run(&sshd, "t.yml", &[]);
    run.assert_code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("argument 'timeout' is of type str and we were unable to convert to int: \"'three'\" cannot be converted to an int"), "{all}");
    assert!(all.contains("t.yml:6:"), "the task's location: {all}");
    assert!(run.recap("h").contains("failed=1"), "{}", run.stdout);
}

#[test]
fn converted_values_are_what_the_module_gets() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let r = p.remote_str();
    std::fs::write(p.remote("kept"), "old").unwrap();
    std::fs::write(p.remote("replaced"), "old").unwrap();
    p.inventory(&sshd, &["h"]).write(
        "c.yml",
        &format!(
            r#"
- hosts: all
  gather_facts: false
  vars:
    no_word: "no"
  tasks:
    - copy: {{content: new, dest: "{r}/kept", force: "{{{{ no_word }}}}"}}
    - copy: {{content: new, dest: "{r}/replaced", force: "yes"}}
    - command:
        argv: "printf,%s-,a b"
      register: out
    - copy:
        content: "{{{{ out.stdout }}}}"
        dest: {r}/argv
"#
        ),
    );
    let run = p.run(&sshd, "c.yml", &[]);
    run.assert_code(0);
    assert_eq!(std::fs::read_to_string(p.remote("kept")).unwrap(), "old", "force: \"no\" is false");
    assert_eq!(std::fs::read_to_string(p.remote("replaced")).unwrap(), "new", "force: \"yes\" is true");
    assert_eq!(std::fs::read_to_string(p.remote("argv")).unwrap(), "a b-", "a string list splits on commas");
}
