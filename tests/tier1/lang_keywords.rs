//! Keywords from the one table (src/playbook/keywords.rs) that need more than
//! a side-by-side run: how a task reaches its host (`remote_user`, `port`,
//! `connection` where the inventory leaves them open), `module_defaults`
//! filling required arguments, and the load-time checks derived from the table.

use crate::run::{Project, Run};
use crate::sshd::TestSshd;

/// `h1` on the test sshd without `ansible_user` (and without `ansible_port`
/// when `with_port` is false): the play's and tasks' keywords decide.
fn open_inventory(p: &Project, sshd: &TestSshd, with_port: bool) {
    let port = if with_port { format!(" ansible_port={}", sshd.port) } else { String::new() };
    p.write("hosts.ini", &format!("[test]\nh1 ansible_host=127.0.0.1{port} ansible_ssh_private_key_file={} ansible_ssh_timeout=5\n", sshd.client_key.display()));
}

fn statuses(run: &Run) -> Vec<&str> {
    run.stdout.lines().filter(|l| l.starts_with("ok: [h1") || l.starts_with("changed: [h1") || l.starts_with("fatal: [h1")).map(|l| l.split(':').next().unwrap_or_default()).collect()
}

#[test]
fn remote_user_of_tasks_and_blocks_reaches_the_host_as_that_user() {
    let sshd = TestSshd::start();
    let p = Project::new();
    open_inventory(&p, &sshd, true);
    p.write(
        "pb.yml",
        &format!(
            r#"
- hosts: test
  gather_facts: false
  remote_user: {user}
  tasks:
    - command: whoami
      changed_when: false
    - name: as a user the host refuses
      command: whoami
      remote_user: nobody-at-all
      ignore_unreachable: true
    - block:
        - command: whoami
          changed_when: false
      remote_user: nobody-at-all
      ignore_unreachable: true
    - block:
        - command: whoami
          changed_when: false
          remote_user: "{{{{ back_to }}}}"
      remote_user: nobody-at-all
  vars:
    back_to: {user}
"#,
            user = sshd.user
        ),
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(statuses(&run), ["ok", "fatal", "fatal", "ok"], "{}", run.stdout);
    assert!(run.stdout.contains("UNREACHABLE!"), "{}", run.stdout);
}

#[test]
fn the_inventory_user_wins_over_remote_user_as_in_ansible() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write("pb.yml", "- hosts: test\n  gather_facts: false\n  tasks:\n    - command: whoami\n      remote_user: nobody-at-all\n      connection: ssh\n");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains(&format!("\"stdout\": \"{}\"", sshd.user)) || run.stdout.contains("changed: [h1]"), "{}", run.stdout);
}

#[test]
fn port_of_plays_and_tasks_is_used_where_the_inventory_has_none() {
    let sshd = TestSshd::start();
    let p = Project::new();
    open_inventory(&p, &sshd, false);
    p.write(
        "pb.yml",
        &format!(
            "- hosts: test\n  gather_facts: false\n  port: {port}\n  remote_user: {user}\n  tasks:\n    - command: 'true'\n      changed_when: false\n    - command: 'true'\n      port: 1\n      ignore_unreachable: true\n    - block:\n        - command: 'true'\n          changed_when: false\n      port: \"{{{{ {port} }}}}\"\n",
            port = sshd.port,
            user = sshd.user
        ),
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(statuses(&run), ["ok", "fatal", "ok"], "{}", run.stdout);
}

#[test]
fn connection_local_on_a_task_runs_it_on_the_controller() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        "- hosts: test\n  gather_facts: false\n  tasks:\n    - command: printenv STOCKMAN_KEYWORDS_MARK\n      connection: local\n      register: here\n      changed_when: false\n    - command: printenv STOCKMAN_KEYWORDS_MARK\n      register: there\n      failed_when: false\n      changed_when: false\n    - debug:\n        msg: \"{{ here.stdout }}|{{ there.rc }}\"\n",
    );
    let out = p.command(Some(&sshd.known_hosts), "pb.yml", &[]).env("STOCKMAN_KEYWORDS_MARK", "on the controller").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"msg\": \"on the controller|1\""), "{stdout}");
}

#[test]
fn a_templated_action_names_its_module_per_host() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        "- hosts: test\n  gather_facts: false\n  vars:\n    runner: command\n    typo: commmand\n  tasks:\n    - action: \"{{ runner }} echo picked\"\n      register: r\n    - debug:\n        msg: \"{{ r.stdout }}\"\n    - action: \"{{ runner }}\"\n      args:\n        bogus: 1\n      ignore_errors: true\n    - action: \"{{ typo }} true\"\n      ignore_errors: true\n",
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"msg\": \"picked\""), "{}", run.stdout);
    assert!(run.stdout.contains("unsupported parameter `bogus` for module `command`"), "{}", run.stdout);
    assert!(run.stdout.contains("did you mean `command`?") || run.stdout.contains("couldn't resolve module/action `commmand`"), "{}", run.stdout);
}

#[test]
fn module_defaults_give_required_arguments() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let target = p.remote("touched");
    p.write(
        "pb.yml",
        &format!("- hosts: test\n  gather_facts: false\n  module_defaults:\n    ansible.builtin.file:\n      path: {}\n      state: touch\n  tasks:\n    - file:\n", target.display()),
    );
    p.run(&sshd, "pb.yml", &[]).assert_code(0);
    assert!(target.is_file());
}

fn load_error(yaml: &str) -> String {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write("t.yml", "- debug: msg=x\n");
    p.write("pb.yml", yaml);
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(4);
    run.stderr
}

#[test]
fn keywords_are_checked_where_they_are_written() {
    let e = load_error("- hosts: test\n  tasks:\n    - include_tasks: t.yml\n      environment: {A: b}\n");
    assert!(e.contains("`environment` is not a valid attribute for a TaskInclude"), "{e}");
    assert!(e.contains("pb.yml:4:7"), "{e}");
    assert!(e.contains("apply: {environment: ...}"), "{e}");
    let e = load_error("- hosts: test\n  tasks:\n    - block:\n        - debug: msg=x\n      delegate_too: h1\n");
    assert!(e.contains("`delegate_too` is not a valid attribute for a block"), "{e}");
    assert!(e.contains("did you mean `delegate_to`?"), "{e}");
    let e = load_error("- hosts: test\n  tasks:\n    - debug: msg=x\n      become: [true]\n");
    assert!(e.contains("`become` takes a boolean (or a template giving one), found a list"), "{e}");
    let e = load_error("- hosts: test\n  tasks:\n    - debug:\n      module_defaults:\n        debug: hello\n");
    assert!(e.contains("`module_defaults` for `debug` must be a mapping of arguments, found a string"), "{e}");
    let e = load_error("- hosts: test\n  tasks:\n    - local_action: command true\n      delegate_to: h1\n");
    assert!(e.contains("`local_action` and `delegate_to` are mutually exclusive"), "{e}");
}

/// A later play whose vars reach the host another way (here a port nothing
/// listens on) connects anew instead of reusing the first play's connection,
/// as ansible-playbook does: the second play's host is unreachable.
#[test]
fn a_play_whose_vars_change_the_connection_connects_anew() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        "- hosts: test\n  gather_facts: false\n  tasks:\n    - command: 'true'\n      changed_when: false\n- hosts: test\n  gather_facts: false\n  vars:\n    ansible_port: 1\n  tasks:\n    - command: 'true'\n      changed_when: false\n",
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(4);
    assert_eq!(statuses(&run), ["ok", "fatal"], "{}", run.stdout);
}

/// `delegate_facts`: what a delegated setup, set_fact (in a loop with a
/// templated delegate) and include_vars return lands on the delegate, which
/// keeps it into the next play even though it was not in the first one.
#[test]
fn delegate_facts_give_the_facts_to_the_delegate() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2"]);
    p.write("vars.yml", "read: from a file\n");
    p.write(
        "pb.yml",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - setup:
        gather_subset: min
      delegate_to: h2
      delegate_facts: true
    - set_fact:
        mark: "{{ item }} by {{ inventory_hostname }}"
      loop: [h1, h2]
      delegate_to: "{{ item }}"
      delegate_facts: true
    - include_vars: vars.yml
      delegate_to: h2
      delegate_facts: true
    - debug:
        msg: "h1 system={{ ansible_facts.system | default('none') }} mark={{ mark }} read={{ read | default('none') }}"
- hosts: h2
  gather_facts: false
  tasks:
    - debug:
        msg: "h2 system={{ ansible_system }} mark={{ mark }} read={{ read }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("ok: [h1 -> h2(127.0.0.1)]"), "{}", run.stdout);
    assert!(run.stdout.contains("\"msg\": \"h1 system=none mark=h1 by h1 read=none\""), "{}", run.stdout);
    assert!(run.stdout.contains("\"msg\": \"h2 system=Linux mark=h2 by h1 read=from a file\""), "{}", run.stdout);
}

#[test]
fn delegate_facts_must_be_a_boolean() {
    let e = load_error("- hosts: test\n  tasks:\n    - set_fact: {a: 1}\n      delegate_to: h1\n      delegate_facts: [yes]\n");
    assert!(e.contains("`delegate_facts` takes a boolean"), "{e}");
}
