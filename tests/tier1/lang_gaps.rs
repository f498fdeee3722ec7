//! Playbook-language gaps closed against ansible-playbook 2.19: NO MORE HOSTS
//! LEFT, ansible_play_hosts after failures, undefined attribute chains,
//! play-level keywords, templated serial, hostvars rendering templates, and
//! include file names using hostvars.

use crate::differential::compare;
use crate::run::{Project, Run};
use crate::sshd::TestSshd;

#[test]
fn all_hosts_failed_ends_the_run_like_ansible() {
    compare("gaps/no_more_hosts.yml", &[]);
}

#[test]
fn a_whole_failed_serial_batch_ends_the_run_like_ansible() {
    compare("gaps/no_more_hosts_serial.yml", &[]);
}

#[test]
fn hosts_failing_one_by_one_end_the_run_like_ansible() {
    compare("gaps/no_more_hosts_split.yml", &[]);
}

#[test]
fn play_hosts_drop_failed_hosts_like_ansible() {
    compare("gaps/play_hosts.yml", &[]);
}

#[test]
fn undefined_chains_under_default_like_ansible() {
    compare("gaps/undefined_chain.yml", &[]);
}

#[test]
fn play_keywords_reach_tasks_like_ansible() {
    compare("gaps/play_keywords.yml", &[]);
}

#[test]
fn templated_serial_like_ansible() {
    compare("gaps/serial_template.yml", &[]);
}

#[test]
fn hostvars_render_templates_for_their_host_like_ansible() {
    compare("gaps/hostvars_template.yml", &["-e", "gap_extra={{ inventory_hostname }}-extra"]);
}

/// The `"msg": "..."` values debug printed, in output order.
fn messages(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"msg\": \""))
        .map(|m| m.trim_end_matches('"').to_string())
        .collect()
}

/// Inventory lines for hosts nobody listens for (port 1 of 127.0.0.1).
const UNREACHABLE: &str = "gone ansible_host=127.0.0.1 ansible_port=1 ansible_ssh_timeout=3\n[far]\nfar1 ansible_host=127.0.0.1 ansible_port=1 ansible_ssh_timeout=3\n";

#[test]
fn an_attribute_of_an_undefined_variable_without_default_fails_naming_it() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  vars:
    a: {x: 1}
  tasks:
    - debug:
        msg: "{{ a.b.c | default('y') }} {{ 'yes' if missing.attr is defined else 'no' }}"
    - debug:
        msg: "{{ missing_var.attr }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    assert_eq!(messages(&run), ["y no"], "{}", run.stdout);
    assert!(run.stdout.contains("'missing_var' is undefined"), "{}", run.stdout);
}

#[test]
fn every_host_unreachable_ends_the_run_and_play_hosts_drop_unreachable_ones() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let mut inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    inventory.push_str(UNREACHABLE);
    p.write("hosts.ini", &inventory);
    p.write(
        "pb.yml",
        r#"
- name: one unreachable
  hosts: test
  gather_facts: false
  tasks:
    - command: "true"
      changed_when: false
    - debug:
        msg: "{{ ansible_play_hosts | join(',') }} {{ ansible_play_batch | join(',') }} {{ ansible_play_hosts_all | join(',') }}"
- name: all unreachable
  hosts: far
  gather_facts: false
  tasks:
    - command: "true"
- name: never
  hosts: test
  gather_facts: false
  tasks:
    - debug:
        msg: never
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(4);
    assert_eq!(messages(&run), ["h1 h1 h1,gone"], "{}", run.stdout);
    assert!(!run.stdout.contains("PLAY [never]"), "{}", run.stdout);
    assert!(run.stdout.contains("PLAY RECAP"), "{}", run.stdout);
}

#[test]
fn play_level_diff_and_throttle_reach_tasks() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2"]);
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  diff: true
  throttle: 1
  tasks:
    - copy:
        content: "hello {{ inventory_hostname }}\n"
        dest: "{{ base }}/{{ inventory_hostname }}.txt"
    # Two hosts at once would find the lock taken.
    - shell: mkdir {{ base }}/lock && sleep 1 && rmdir {{ base }}/lock
"#,
    );
    let base = format!("base={}", p.remote_str());
    let run = p.run(&sshd, "pb.yml", &["-e", &base]);
    run.assert_code(0);
    assert!(run.stdout.contains("+hello h1") && run.stdout.contains("+hello h2"), "{}", run.stdout);
}

#[test]
fn play_level_keywords_are_overridden_by_blocks_and_tasks() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  ignore_errors: true
  check_mode: true
  tasks:
    - command: "true"
      register: checked
    - block:
        - fail:
            msg: boom
      ignore_errors: false
    - debug:
        msg: never
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    assert!(!run.stdout.contains("\"msg\": \"never\""), "{}", run.stdout);
    assert!(run.stdout.contains("skipping: [h1]"), "check_mode from the play skips the command: {}", run.stdout);
}

#[test]
fn serial_template_takes_extra_vars_and_refuses_a_bad_value() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2", "h3"]);
    p.write(
        "pb.yml",
        r#"
- name: rolling
  hosts: test
  gather_facts: false
  serial: "{{ size }}"
  tasks:
    - debug:
        msg: "{{ ansible_play_batch | join(',') }}"
      run_once: true
- name: later
  hosts: test
  gather_facts: false
  tasks:
    - debug:
        msg: later
      run_once: true
"#,
    );
    let run = p.run(&sshd, "pb.yml", &["-e", "size=2"]);
    run.assert_code(0);
    assert_eq!(messages(&run), ["h1,h2", "h3", "later"], "{}", run.stdout);
    let run = p.run(&sshd, "pb.yml", &["-e", "size=lots"]);
    run.assert_code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("`serial` takes a number of hosts or a percentage, found `\"lots\"`"), "{all}");
    assert!(messages(&run).is_empty(), "{}", run.stdout);
}

#[test]
fn hostvars_templates_that_refer_to_themselves_end_as_undefined() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write("group_vars/test.yml", "loop_a: \"{{ hostvars[inventory_hostname].loop_a }}\"\nplain: \"{{ inventory_hostname }}!\"\n");
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ hostvars['h1'].loop_a | default('cut') }} {{ hostvars['h1'].plain }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(messages(&run), ["cut h1!"], "{}", run.stdout);
}

#[test]
fn include_params_sit_above_set_fact_and_task_vars_like_ansible() {
    compare("gaps/include_params.yml", &[]);
}
