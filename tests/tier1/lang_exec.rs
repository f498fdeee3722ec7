//! Executor-side play and task keywords through the real binary: hostvars,
//! serial/max_fail_percentage/order, environment, throttle,
//! ignore_unreachable, meta end_batch/reset_connection/refresh_inventory,
//! group_by and add_host. Several inventory names point at the one sshd.

use crate::differential::compare;
use crate::run::{recap, Project, Run};
use crate::sshd::TestSshd;

/// The `"msg": "..."` values debug printed, in output order.
fn messages(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"msg\": \""))
        .map(|m| m.trim_end_matches('"').to_string())
        .collect()
}

/// The host of every `ok:`/`changed:` line, in output order.
fn result_hosts(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok: [").or_else(|| l.strip_prefix("changed: [")))
        .map(|l| l.split(']').next().unwrap_or_default().to_string())
        .collect()
}

fn host_line(sshd: &TestSshd, name: &str) -> String {
    format!(
        "{name} ansible_host=127.0.0.1 ansible_port={} ansible_user={} ansible_ssh_private_key_file={}\n",
        sshd.port,
        sshd.user,
        sshd.client_key.display()
    )
}

#[test]
fn hostvars_show_other_hosts_inventory_facts_and_registered_results() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2"]);
    let mut inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    inventory.push_str("[test:vars]\nrole_of=web\n[other]\noutsider color=green\n");
    p.write("hosts.ini", &inventory);
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  tasks:
    - set_fact:
        mine: "fact-{{ inventory_hostname }}"
    - command: echo out-{{ inventory_hostname }}
      register: said
      changed_when: false
    - debug:
        msg: "{{ inventory_hostname }} sees {{ hostvars[peer].mine }} {{ hostvars[peer].said.stdout }} {{ hostvars[peer].role_of }} {{ hostvars['outsider'].color }}"
      vars:
        peer: "{{ 'h2' if inventory_hostname == 'h1' else 'h1' }}"
    - debug:
        msg: "{{ hostvars | list | sort | join(',') }} {{ hostvars['nobody'] is defined }} {{ hostvars.h1.inventory_hostname }}"
      run_once: true
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    let mut msgs = messages(&run);
    msgs.sort();
    assert_eq!(msgs, ["h1 sees fact-h2 out-h2 web green", "h1,h2,outsider False h1", "h2 sees fact-h1 out-h1 web green"], "{}", run.stdout);
}

#[test]
fn serial_batches_run_the_whole_play_with_their_handlers() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["b1", "b2", "b3", "b4", "b5"]);
    p.write(
        "pb.yml",
        r#"
- name: rolling
  hosts: test
  gather_facts: false
  serial: [1, "50%"]
  tasks:
    - shell: echo "task {{ inventory_hostname }} {{ ansible_play_batch | join(',') }}" >> {{ log }}
      notify: note
  handlers:
    - name: note
      shell: echo "handler {{ inventory_hostname }}" >> {{ log }}
"#,
    );
    let log = p.remote("log");
    let run = p.run(&sshd, "pb.yml", &["-e", &format!("log={}", log.display())]);
    run.assert_code(0);
    assert_eq!(run.stdout.matches("PLAY [rolling]").count(), 3, "{}", run.stdout);
    assert_eq!(run.stdout.matches("PLAY RECAP").count(), 1);
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_string).collect();
    // Batches of 1, then 50% of 5 = 2, then the rest (2): tasks, then handlers, batch after batch.
    let kinds: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(kinds, ["task", "handler", "task", "task", "handler", "handler", "task", "task", "handler", "handler"], "{lines:?}");
    assert_eq!(lines[0], "task b1 b1");
    let mut second: Vec<&String> = lines[2..4].iter().collect();
    second.sort();
    assert_eq!(second, ["task b2 b2,b3", "task b3 b2,b3"]);
    for host in ["b1", "b2", "b3", "b4", "b5"] {
        assert_eq!(run.recap(host), recap(host, 2, 2, 0, 0, 0, 0));
    }
}

const MAX_FAIL: &str = r#"
- hosts: test
  gather_facts: false
  serial: 2
  max_fail_percentage: PCT
  tasks:
    - fail:
        msg: boom
      when: inventory_hostname == 'm1'
    - debug:
        msg: "after {{ inventory_hostname }}"
"#;

#[test]
fn max_fail_percentage_stops_the_play_only_when_exceeded() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["m1", "m2", "m3", "m4"]);
    // 1 of a batch of 2 is 50%: not more than 50, the play goes on.
    p.write("pb.yml", &MAX_FAIL.replace("PCT", "50"));
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    let mut msgs = messages(&run);
    msgs.sort();
    assert_eq!(msgs, ["after m2", "after m3", "after m4"], "{}", run.stdout);
    // More than 49%: every host of the batch stops, and no later batch runs.
    p.write("pb.yml", &MAX_FAIL.replace("PCT", "49"));
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    assert!(messages(&run).is_empty(), "{}", run.stdout);
    assert!(run.stdout.contains("NO MORE HOSTS LEFT"), "{}", run.stdout);
    assert_eq!(run.recap("m1"), recap("m1", 0, 0, 0, 1, 0, 0));
    assert_eq!(run.recap("m2"), recap("m2", 0, 0, 0, 0, 1, 0));
    assert!(!run.stdout.contains("m3 "), "m3 never ran:\n{}", run.stdout);
}

#[test]
fn a_batch_that_all_failed_ends_the_play() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["f1", "f2"]);
    p.write("pb.yml", "- hosts: test\n  gather_facts: false\n  serial: 1\n  tasks:\n    - command: /bin/false\n");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    assert_eq!(run.recap("f1"), recap("f1", 0, 0, 0, 1, 0, 0));
    assert!(!run.stdout.contains("[f2]"), "{}", run.stdout);
}

#[test]
fn order_decides_the_host_order() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["oc", "oa", "ob"]);
    for (order, expected) in [("inventory", ["oc", "oa", "ob"]), ("reverse_inventory", ["ob", "oa", "oc"]), ("sorted", ["oa", "ob", "oc"]), ("reverse_sorted", ["oc", "ob", "oa"])] {
        p.write("pb.yml", &format!("- hosts: test\n  gather_facts: false\n  serial: 1\n  order: {order}\n  tasks:\n    - debug:\n        msg: hi\n"));
        let run = p.run(&sshd, "pb.yml", &[]);
        run.assert_code(0);
        assert_eq!(result_hosts(&run), expected, "{order}:\n{}", run.stdout);
    }
    p.write("pb.yml", "- hosts: test\n  gather_facts: false\n  order: shuffle\n  tasks:\n    - debug:\n        msg: hi\n");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    let mut hosts = result_hosts(&run);
    hosts.sort();
    assert_eq!(hosts, ["oa", "ob", "oc"]);
}

#[test]
fn environment_reaches_every_command_with_values_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["e1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  environment:
    FROM_PLAY: play
    SHARED: play
  vars:
    hostile: "it's $(touch {{ remote }}/pwned) `id`; x"
  tasks:
    - block:
        - shell: echo "$FROM_PLAY|$FROM_BLOCK|$SHARED|$HOSTILE" > {{ remote }}/env.txt
          environment:
            SHARED: task
            HOSTILE: "{{ hostile }}"
        - command: printenv FROM_BLOCK
          args:
            chdir: /
          register: printed
          changed_when: false
        - copy:
            content: "{{ printed.stdout }}\n"
            dest: "{{ remote }}/copied.txt"
      environment:
        FROM_BLOCK: "block-{{ inventory_hostname }}"
    - command: printenv FROM_BLOCK
      register: outside
      failed_when: false
      changed_when: false
    - debug:
        msg: "outside rc={{ outside.rc }}"
"#,
    );
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "pb.yml", &["-e", &remote]);
    run.assert_code(0);
    let written = std::fs::read_to_string(p.remote("env.txt")).unwrap();
    assert_eq!(written, format!("play|block-e1|task|it's $(touch {}/pwned) `id`; x\n", p.remote_str()));
    assert!(!p.remote("pwned").exists(), "a value was run as a command");
    assert_eq!(std::fs::read_to_string(p.remote("copied.txt")).unwrap().trim_end(), "block-e1");
    assert_eq!(messages(&run), ["outside rc=1"]);
}

#[test]
fn environment_with_a_bad_name_fails_the_task_clearly() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["e1"]);
    p.write("pb.yml", "- hosts: test\n  gather_facts: false\n  tasks:\n    - command: 'true'\n      environment:\n        'A;B': x\n");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("environment variable name `A;B` is not valid"), "{}", run.stdout);
}

#[test]
fn throttle_limits_hosts_running_the_task_at_once() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["t1", "t2", "t3"]);
    // mkdir is atomic: a second host inside the section at the same time fails.
    let section = "mkdir {{ remote }}/lock && sleep 0.4 && rmdir {{ remote }}/lock";
    p.write("pb.yml", &format!("- hosts: test\n  gather_facts: false\n  tasks:\n    - shell: \"{section}\"\n      throttle: 1\n"));
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "pb.yml", &["-e", &remote, "-f", "5"]);
    run.assert_code(0);
    // Without throttle they overlap, so the check above can fail.
    p.write("pb.yml", &format!("- hosts: test\n  gather_facts: false\n  tasks:\n    - shell: \"{section}\"\n"));
    let run = p.run(&sshd, "pb.yml", &["-e", &remote, "-f", "5"]);
    run.assert_code(2);
}

#[test]
fn ignore_unreachable_keeps_the_host_in_the_play() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let mut inventory = format!("[test]\n{}", host_line(&sshd, "up"));
    inventory.push_str("down ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody ansible_ssh_timeout=3\n");
    p.write("hosts.ini", &inventory);
    p.write(
        "pb.yml",
        "- hosts: test\n  gather_facts: false\n  tasks:\n    - command: 'true'\n      ignore_unreachable: true\n    - command: 'true'\n    - command: 'true'\n",
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(4);
    assert!(run.stdout.contains("...ignoring"), "{}", run.stdout);
    // First task ignored (ok + ignored), second unreachable, third not run.
    assert_eq!(run.recap("down"), "down : ok=1 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=1");
    assert_eq!(run.recap("up"), recap("up", 3, 3, 0, 0, 0, 0));
}

#[test]
fn end_batch_ends_only_the_current_batch() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["n1", "n2"]);
    let play = "- hosts: test\n  gather_facts: false\n  SERIAL\n  tasks:\n    - debug:\n        msg: \"one {{ inventory_hostname }}\"\n    - meta: end_batch\n    - debug:\n        msg: two\n- hosts: test\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: next play\n";
    p.write("pb.yml", &play.replace("SERIAL", "serial: 1"));
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(messages(&run), ["one n1", "one n2", "next play", "next play"], "{}", run.stdout);
    // Without serial the batch is the whole play.
    p.write("pb.yml", &play.replace("SERIAL", "serial: 0"));
    let run = p.run(&sshd, "pb.yml", &[]);
    let mut msgs = messages(&run);
    msgs.sort();
    assert_eq!(msgs, ["next play", "next play", "one n1", "one n2"]);
}

#[test]
fn reset_connection_opens_a_new_ssh_connection() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["r1"]);
    // $SSH_CLIENT names the connection's client port: the same for every
    // command over one connection, another one after a reset.
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  tasks:
    - shell: echo $SSH_CLIENT
      register: first
    - shell: echo $SSH_CLIENT
      register: second
    - meta: reset_connection
    - shell: echo $SSH_CLIENT
      register: third
    - assert:
        that:
          - first.stdout | length > 0
          - first.stdout == second.stdout
          - third.stdout != second.stdout
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
}

#[test]
fn refresh_inventory_reads_the_sources_again() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["i1"]);
    p.write("late.ini", &format!("[late]\n{}", host_line(&sshd, "i9")));
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  tasks:
    - shell: cat {{ playbook_dir }}/late.ini >> {{ playbook_dir }}/hosts.ini
    - meta: refresh_inventory
- hosts: late
  gather_facts: false
  tasks:
    - command: echo {{ inventory_hostname }}
      register: said
    - debug:
        msg: "{{ said.stdout }} {{ groups['late'] }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(messages(&run), ["i9 ['i9']"], "{}", run.stdout);
}

#[test]
fn group_by_and_add_host_shape_later_plays() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["g1", "g2", "g3"]);
    let mut inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    inventory = inventory.replacen("g1 ", "g1 tier=front ", 1);
    inventory.push_str("[test:vars]\ntier=back\n");
    p.write("hosts.ini", &inventory);
    p.write(
        "pb.yml",
        &format!(
            r#"
- hosts: test
  gather_facts: false
  tasks:
    - group_by:
        key: "tier_{{{{ tier }}}}"
        parents: tiers
    - name: add a host
      add_host:
        hostname: fresh
        groups: [made, also]
        ansible_host: 127.0.0.1
        ansible_port: {port}
        ansible_user: {user}
        ansible_ssh_private_key_file: {key}
        flavour: mint
- hosts: tier_back
  gather_facts: false
  tasks:
    - debug:
        msg: "back {{{{ inventory_hostname }}}} {{{{ groups['tiers'] | sort | join(',') }}}}"
- hosts: made
  gather_facts: false
  tasks:
    - command: echo {{{{ flavour }}}} {{{{ group_names | join(',') }}}}
      register: said
    - debug:
        msg: "{{{{ said.stdout }}}}"
"#,
            port = sshd.port,
            user = sshd.user,
            key = sshd.client_key.display()
        ),
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(run.stdout.matches("TASK [add a host]").count(), 1);
    assert_eq!(run.stdout.lines().filter(|l| l.starts_with("changed: [g1]")).count(), 2, "group_by changed, add_host once:\n{}", run.stdout);
    let mut msgs = messages(&run);
    msgs.sort();
    assert_eq!(msgs, ["back g2 g1,g2,g3", "back g3 g1,g2,g3", "mint also,made"], "{}", run.stdout);
}

#[test]
fn serial_and_hostvars_match_ansible() {
    compare("serial.yml", &[]);
}

#[test]
fn group_by_add_host_and_hostvars_match_ansible() {
    compare("runtime_inventory.yml", &[]);
}

#[test]
fn environment_and_throttle_match_ansible() {
    compare("environment.yml", &[]);
}

#[test]
fn meta_actions_follow_their_when() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["w1", "w2"]);
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  tasks:
    - meta: end_play
      when: false
    - meta: end_host
      when: inventory_hostname == 'w1'
    - debug:
        msg: "still {{ inventory_hostname }}"
    - meta: end_batch
      when: inventory_hostname == 'nobody'
    - debug:
        msg: "end {{ inventory_hostname }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(messages(&run), ["still w2", "end w2"], "{}", run.stdout);
}

#[test]
fn clear_host_errors_brings_failed_and_unreachable_hosts_back() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let mut inventory = format!("[test]\n{}{}", host_line(&sshd, "good"), host_line(&sshd, "bad"));
    inventory.push_str("down ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody ansible_ssh_timeout=3\n");
    inventory.push_str("[early]\ngood\nbad\n");
    p.write("hosts.ini", &inventory);
    // `bad` fails in an earlier play, `down` is unreachable in this one: after
    // the meta both take part again (ansible-playbook 2.19 gives these recaps).
    p.write(
        "pb.yml",
        r#"
- hosts: early
  gather_facts: false
  tasks:
    - fail:
        msg: failed in an earlier play
      when: inventory_hostname == 'bad'
- hosts: test
  gather_facts: false
  tasks:
    - command: 'true'
    - meta: clear_host_errors
    - debug:
        msg: after clearing
- hosts: test
  gather_facts: false
  tasks:
    - debug:
        msg: "next play: {{ ansible_play_hosts | sort | join(',') }}"
      run_once: true
    - command: 'true'
      failed_when: inventory_hostname == 'bad'
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(4);
    assert!(messages(&run).contains(&"next play: bad,down,good".to_string()), "{}", run.stdout);
    assert_eq!(run.recap("bad"), recap("bad", 0, 0, 0, 2, 0, 0));
    assert_eq!(run.recap("down"), "down : ok=1 changed=0 unreachable=2 failed=0 skipped=0 rescued=0 ignored=0");
    assert_eq!(run.recap("good"), "good : ok=4 changed=2 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0");
}
