//! The task keyword `timeout:`: a module that runs too long fails the task
//! with Ansible's message, in bounded time, and the host's connection still
//! serves the next tasks.

use std::time::{Duration, Instant};

use crate::run::Project;
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: never ends
      command: sleep 600
      timeout: 2
      ignore_errors: true
    - name: templated timeout, shell
      shell: sleep 600
      timeout: "{{ limit }}"
      ignore_errors: true
    - name: fast enough
      command: echo in time
      timeout: 30
      register: fast
    - name: the same connection still works
      command: echo after
      register: after
    - assert:
        that: [fast.stdout == 'in time', after.stdout == 'after']
"#;

#[test]
fn task_timeout_fails_with_ansibles_message_and_the_play_goes_on() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("t.yml", PLAY);
    let started = Instant::now();
    let run = p.run(&sshd, "t.yml", &["-e", "limit=1"]);
    let elapsed = started.elapsed();
    run.assert_code(0);
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    assert!(run.stdout.contains("Task failed: Timed out after 2 second(s)."), "{}", run.stdout);
    assert!(run.stdout.contains("Task failed: Timed out after 1 second(s)."), "{}", run.stdout);
    assert_eq!(run.recap("h"), crate::run::recap("h", 5, 2, 0, 0, 0, 2));
}

#[test]
fn a_bad_timeout_value_is_a_clear_failure() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("t.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n      timeout: soon\n");
    let run = p.run(&sshd, "t.yml", &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("`timeout` must be a whole number of seconds"), "{}", run.stdout);
}
