//! Lookups' failures, with Ansible's messages (seen from ansible-playbook
//! 2.19.14, which wraps them in longer text stockman does not copy), and
//! `with_<lookup>` names checked before anything runs. Successes are
//! compared with ansible-playbook in differential's `lookups.yml`.

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

#[test]
fn lookup_failures_give_ansibles_messages_and_errors_ignore_gives_none() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ lookup('first_found', 'missing-a.yml', 'missing-b.yml') }}"
      ignore_errors: true
    - debug:
        msg: "{{ item }}"
      with_first_found: [missing.yml]
      ignore_errors: true
    - debug:
        msg: "{{ lookup('pipe', 'exit 3') }}"
      ignore_errors: true
    - debug:
        msg: "{{ lookup('vars', 'nothing_here') }}"
      ignore_errors: true
    - debug:
        msg: "{{ item }}"
      with_dict: 1
      ignore_errors: true
    - debug:
        msg: "{{ item }}"
      with_sequence: start=A end=3
      ignore_errors: true
    - debug:
        msg: "{{ lookup('vars', 42) }}"
      ignore_errors: true
    - debug:
        msg: "{{ lookup('file', 'missing.txt', errors='ignore') is none }} {{ query('file', 'missing.txt', errors='warn') }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    for expected in [
        "The lookup plugin 'first_found' failed: No file was found when using first_found.",
        "The lookup plugin 'pipe' failed: lookup_plugin.pipe(exit 3) returned 3",
        "The lookup plugin 'vars' failed: No variable named 'nothing_here' was found.",
        "The lookup plugin 'dict' failed: the 'dict' lookup plugin expects a dictionary, got '1'",
        "The lookup plugin 'vars' failed: Variable name must be 'str' not 'int'.",
        "The lookup plugin 'sequence' failed: Config 'start' for 'sequence' lookup plugin from 'Direct' has an invalid value: Invalid value provided for 'integer': 'A'",
        "\"msg\": \"True []\"",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?} in\n{}", run.stdout);
    }
    assert_eq!(run.recap("h1"), recap("h1", 8, 0, 0, 0, 0, 7));
}

#[test]
fn unknown_and_collection_lookups_in_with_are_refused_at_load() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write("typo.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n      with_itmes: [1]\n");
    let run = p.run(&sshd, "typo.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("lookup plugin 'itmes' not found"), "{}", run.stderr);
    assert!(run.stderr.contains("typo.yml:5:7") && run.stderr.contains("did you mean `with_items`?"), "{}", run.stderr);
    p.write("coll.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n      with_community.general.flattened: [[1]]\n");
    let run = p.run(&sshd, "coll.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("lookup plugin 'community.general.flattened' is not available in stockman"), "{}", run.stderr);
}
