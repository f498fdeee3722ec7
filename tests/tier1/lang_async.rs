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

/// The `"msg": "..."` values debug printed, in output order.
fn messages(stdout: &str) -> Vec<String> {
    stdout.lines().filter_map(|l| l.trim().strip_prefix("\"msg\": \"")).map(|m| m.trim_end_matches('"').to_string()).collect()
}

#[test]
fn async_with_poll_waits_for_the_job_and_registers_its_result() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: slow job
      shell: sleep 2; printf '%s|' "$1" "it's" '$(id)'; echo; echo warn >&2
      args:
        executable: /bin/bash
      async: 20
      poll: 1
      register: slow
    - name: argv with hostile words
      command:
        argv: [printf, "%s;", "a b", "`id`", "x\ny"]
      async: 10
      poll: 1
      register: words
    - name: non-zero exit
      shell: exit 3
      async: 10
      poll: 1
      register: bad
      ignore_errors: true
    - debug:
        msg: "{{ slow.finished }} {{ slow.started }} {{ slow.rc }} {{ slow.stdout }} {{ slow.stderr }} {{ slow.changed }} {{ slow.delta >= '0:00:02' }}"
    - debug:
        msg: "{{ words.stdout | replace('\n', 'NL') }}"
    - debug:
        msg: "{{ bad.rc }} {{ bad.msg }} {{ bad.failed }}"
    - name: poll cleaned up after itself
      stat:
        path: "{{ slow.results_file }}"
      register: left
    - debug:
        msg: "left behind: {{ left.stat.exists }}"
"#,
    );
    let started = std::time::Instant::now();
    let run = p.run(&sshd, "pb.yml", &["-v"]);
    run.assert_code(0);
    // An ignored failure counts as ok (and changed: the command ran), as in Ansible.
    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "the play waited for the job");
    assert_eq!(
        messages(&run.stdout),
        [
            "True True 0 |it's|$(id)| warn True True",
            "a b;`id`;xNLy;",
            "3 non-zero return code True",
            "left behind: False",
        ],
        "{}",
        run.stdout
    );
    // Ansible's lines, as its default callback prints them.
    assert!(run.stdout.lines().any(|l| l.starts_with("ASYNC POLL on h1: jid=j")), "the polls are shown\n{}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.starts_with("ASYNC OK on h1: jid=j")), "{}", run.stdout);
    assert_eq!(run.recap("h1"), recap("h1", 8, 3, 0, 0, 0, 1));
}

#[test]
fn async_timeout_fails_the_task_and_kills_the_job() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let late = p.remote("late");
    let late_bg = p.remote("late-background");
    p.write(
        "pb.yml",
        &format!(
            r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: too slow
      shell: sleep 4; touch {late}
      async: 2
      poll: 1
      register: slow
      ignore_errors: true
    - debug:
        msg: "{{{{ slow.msg }}}} {{{{ slow.async_result.finished }}}} {{{{ slow.async_result.ansible_job_id == slow.async_result.results_file | basename }}}}"
    - name: too slow in the background
      shell: sleep 4; touch {late_bg}
      async: 1
      poll: 0
      register: bg
    - name: wait for the watchdog
      async_status:
        jid: "{{{{ bg.ansible_job_id }}}}"
      register: status
      until: status.finished
      retries: 10
      delay: 1
      ignore_errors: true
    - debug:
        msg: "{{{{ status.msg }}}} {{{{ status.finished }}}} {{{{ status.failed }}}}"
"#,
            late = late.display(),
            late_bg = late_bg.display()
        ),
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert_eq!(
        messages(&run.stdout),
        ["async task did not complete within the requested time - 2s False True", "Timeout exceeded True True"],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("...ignoring"), "{}", run.stdout);
    // Both jobs would have touched their file 4 s after starting.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert!(!late.exists(), "the timed-out job was killed before it could finish");
    assert!(!late_bg.exists(), "the background job was killed by its watchdog");
}

#[test]
fn async_on_a_module_that_cannot_run_in_the_background_is_a_load_error() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: copy in the background
      copy:
        content: x
        dest: /tmp/never
      async: 60
      poll: 5
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    assert_ne!(run.code, 0);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("`async` is supported for `command`, `shell` and modules run through the Ansible fallback, not `copy`"), "{all}");
    assert!(all.contains("pb.yml:9:"), "names the file:line of `async`\n{all}");
    assert!(!all.contains("PLAY ["), "nothing ran\n{all}");
}

/// Seconds since the epoch that a job wrote into `path` with `date +%s.%N`.
fn written_at(path: &std::path::Path) -> f64 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim().parse().unwrap_or_else(|e| panic!("{}: {text:?}: {e}", path.display()))
}

fn free_play(p: &Project, strategy: &str) {
    let remote = p.remote_str();
    p.write(
        "pb.yml",
        &format!(
            r#"
- hosts: all
  gather_facts: false
  strategy: {strategy}
  tasks:
    - name: slow on h1
      command: sleep 4
      when: inventory_hostname == 'h1'
    - name: mark
      shell: date +%s.%N > {remote}/{{{{ inventory_hostname }}}}-done
      notify: note
    - name: look at the other host
      stat:
        path: "{remote}/{{{{ 'h1' if inventory_hostname == 'h2' else 'h2' }}}}-done"
      register: other
    - debug:
        msg: "{{{{ inventory_hostname }}}} saw the other done: {{{{ other.stat.exists }}}}"
  handlers:
    - name: note
      shell: date +%s.%N > {remote}/{{{{ inventory_hostname }}}}-handler
"#
        ),
    );
}

#[test]
fn strategy_free_lets_a_fast_host_finish_before_a_slow_one() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2"]);
    free_play(&p, "free");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    let (h1_done, h2_done, h2_handler) = (written_at(&p.remote("h1-done")), written_at(&p.remote("h2-done")), written_at(&p.remote("h2-handler")));
    assert!(h2_done + 3.0 < h1_done, "h2 did not wait for h1's slow task ({h2_done} vs {h1_done})\n{}", run.stdout);
    assert!(h2_handler < h1_done, "h2's handler ran at the end of h2's own run\n{}", run.stdout);
    assert!(p.remote("h1-handler").exists());
    let mut msgs = messages(&run.stdout);
    msgs.sort();
    assert_eq!(msgs, ["h1 saw the other done: True", "h2 saw the other done: False"], "{}", run.stdout);
    // Ansible's free strategy: a banner whenever a result belongs to another task than the last banner's.
    assert_eq!(run.stdout.matches("TASK [slow on h1]").count(), 2, "{}", run.stdout);
    assert!(run.stdout.contains("skipping: [h2]") && run.stdout.contains("changed: [h1]"), "{}", run.stdout);
    assert!(!run.stdout.contains("NO MORE HOSTS"), "{}", run.stdout);
    assert_eq!(run.recap("h1"), recap("h1", 5, 3, 0, 0, 0, 0));
    assert_eq!(run.recap("h2"), recap("h2", 4, 2, 0, 0, 1, 0));
}

#[test]
fn strategy_linear_keeps_hosts_in_step_for_contrast() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2"]);
    free_play(&p, "linear");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    let (h1_done, h2_done) = (written_at(&p.remote("h1-done")), written_at(&p.remote("h2-done")));
    // h2 marks only after h1's slow task: not the 3+ s head start it gets under `free`.
    assert!(h2_done + 3.0 >= h1_done, "h2 waited for h1's slow task ({h2_done} vs {h1_done})\n{}", run.stdout);
    assert_eq!(messages(&run.stdout).len(), 2);
    assert_eq!(run.stdout.matches("TASK [slow on h1]").count(), 1, "{}", run.stdout);
}

#[test]
fn strategy_free_on_one_host_matches_ansible() {
    compare("async/free_one_host.yml", &[]);
}

#[test]
fn strategy_free_warns_like_ansible_about_run_once_and_any_errors_fatal() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["a", "b"]);
    p.write(
        "pb.yml",
        r#"
- hosts: all
  gather_facts: false
  strategy: free
  any_errors_fatal: true
  tasks:
    - debug:
        msg: "once on {{ inventory_hostname }}"
      run_once: true
    - command: "false"
      when: inventory_hostname == 'a'
    - debug:
        msg: "after on {{ inventory_hostname }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    let warnings = &run.stderr;
    assert!(warnings.contains("[WARNING]: Using run_once with the free strategy is not currently supported. This task will still be executed for every host in the inventory list."), "{warnings}");
    assert!(warnings.contains("[WARNING]: Using any_errors_fatal with the free strategy is not supported, as tasks are executed independently on each host"), "{warnings}");
    let mut msgs = messages(&run.stdout);
    msgs.sort();
    // run_once runs on every host, and a's failure does not stop b.
    assert_eq!(msgs, ["after on b", "once on a", "once on b"], "{}", run.stdout);
    assert_eq!(run.recap("a"), recap("a", 1, 0, 0, 1, 0, 0));
    assert_eq!(run.recap("b"), recap("b", 2, 0, 0, 0, 1, 0));
}

#[test]
fn async_in_check_mode_matches_ansible() {
    compare("async/check_mode.yml", &["--check"]);
}

#[test]
fn async_fallback_modules_poll_and_async_status_match_ansible() {
    let base = tempfile::tempdir().unwrap();
    let base_arg = format!("base={}", base.path().display());
    compare("async/fallback.yml", &["-e", &base_arg]);
}
