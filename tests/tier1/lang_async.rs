//! with_subelements, `async`/`poll` with `async_status`, and `strategy: free`,
//! through the real binary (and against ansible-playbook where output matters).

use crate::differential::compare;
use crate::run::{recap, Project};
use crate::sshd::TestSshd;

#[test]
fn with_subelements_matches_ansible() {
    compare("async/subelements.yml", &[]);
}

#[test]
fn with_subelements_missing_key_fails_naming_the_item_and_the_task() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: keys of users
      debug:
        msg: "{{ item.1 }}"
      with_subelements:
        - [{name: alice, keys: [k1]}, {name: carol}]
        - keys
    - name: never reached
      debug:
        msg: no
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    assert!(
        run.stdout.contains("The lookup plugin 'subelements' failed: could not find 'keys' key in iterated item '{'name': 'carol'}'"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("pb.yml:5:"), "the error names the task's file:line\n{}", run.stdout);
    assert!(!run.stdout.contains("never reached"), "{}", run.stdout);
    assert_eq!(run.recap("h1"), recap("h1", 0, 0, 0, 1, 0, 0));
}

#[test]
fn async_fire_and_forget_and_async_status_match_ansible() {
    compare("async/fire_and_forget.yml", &[]);
}
