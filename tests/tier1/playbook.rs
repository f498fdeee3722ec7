//! Real playbooks through the real binary against a real sshd.

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const SITE: &str = r#"
- name: Site
  hosts: test
  gather_facts: false
  tasks:
    - name: Make a directory
      file:
        path: "{{ remote }}/{{ inventory_hostname }}"
        state: directory
        mode: "0750"
    - name: Copy content
      copy:
        content: "hello {{ inventory_hostname }}\n"
        dest: "{{ remote }}/{{ inventory_hostname }}/hello.txt"
        mode: "0640"
      notify: restart app
    - name: Copy a file from files/
      copy:
        src: payload.bin
        dest: "{{ remote }}/{{ inventory_hostname }}/payload.bin"
    - name: Template
      template:
        src: app.conf.j2
        dest: "{{ remote }}/{{ inventory_hostname }}/app.conf"
      notify: restart app
    - name: Touch once
      command: touch {{ remote }}/{{ inventory_hostname }}/touched
      args:
        creates: "{{ remote }}/{{ inventory_hostname }}/touched"
  handlers:
    - name: restart app
      shell: echo restarted >> {{ remote | quote }}/{{ inventory_hostname }}/handler.log
"#;

fn site_project(sshd: &TestSshd) -> Project {
    let p = Project::new();
    p.inventory(sshd, &["alpha", "beta"]).write("site.yml", SITE);
    p.write("files/payload.bin", "binary\u{0}payload\n");
    p.write("templates/app.conf.j2", "name={{ inventory_hostname }}\n{% for i in range(3) %}\nline {{ i }}\n{% endfor %}\n");
    p
}

#[test]
fn first_run_changes_second_run_is_a_no_op() {
    let sshd = TestSshd::start();
    let p = site_project(&sshd);
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "site.yml", &["-e", &remote]);
    first.assert_code(0);
    for host in ["alpha", "beta"] {
        assert_eq!(first.recap(host), recap(host, 6, 6, 0, 0, 0, 0), "{}", first.stdout);
        let dir = p.remote(host);
        assert_eq!(std::fs::read_to_string(dir.join("hello.txt")).unwrap(), format!("hello {host}\n"));
        assert_eq!(std::fs::read(dir.join("payload.bin")).unwrap(), b"binary\0payload\n");
        assert_eq!(std::fs::read_to_string(dir.join("app.conf")).unwrap(), format!("name={host}\nline 0\nline 1\nline 2\n"));
        assert_eq!(std::fs::read_to_string(dir.join("handler.log")).unwrap(), "restarted\n", "handler runs once though notified twice");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(dir.join("hello.txt")).unwrap().permissions().mode() & 0o7777, 0o640);
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777, 0o750);
    }
    assert!(first.stdout.contains("RUNNING HANDLER [restart app]"), "{}", first.stdout);

    let second = p.run(&sshd, "site.yml", &["-e", &remote]);
    second.assert_code(0);
    for host in ["alpha", "beta"] {
        assert_eq!(second.recap(host), recap(host, 5, 0, 0, 0, 0, 0), "{}", second.stdout);
        assert_eq!(std::fs::read_to_string(p.remote(host).join("handler.log")).unwrap(), "restarted\n");
    }
    assert!(!second.stdout.contains("RUNNING HANDLER"), "{}", second.stdout);
}

#[test]
fn check_mode_reports_changes_but_makes_none() {
    let sshd = TestSshd::start();
    let p = site_project(&sshd);
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "site.yml", &["-e", &remote, "--check", "--diff"]);
    run.assert_code(0);
    assert!(std::fs::read_dir(p.remote.path()).unwrap().next().is_none(), "check mode wrote something");
    assert!(run.stdout.contains("+hello alpha"), "diff shows new content:\n{}", run.stdout);
    assert!(run.stdout.contains("changed: [alpha]"), "{}", run.stdout);
}

#[test]
fn handlers_follow_ansible_semantics() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write(
        "handlers.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: changes
      command: "true"
      notify: [second, first, by topic]
    - name: does not change
      command: "true"
      changed_when_is_not_supported_yet: x
"#,
    );
    // An unsupported keyword is a load error naming the line, before any host is contacted.
    let run = p.run(&sshd, "handlers.yml", &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("handlers.yml:10:7"), "{}", run.stderr);

    p.write(
        "handlers.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: changes
      command: "true"
      notify: [second, first, by topic]
    - name: skipped task does not notify
      command: "true"
      when: false
      notify: never
    - meta: flush_handlers
    - name: after flush
      debug:
        msg: after
  handlers:
    - name: first
      shell: echo first >> {{ remote | quote }}/order
    - name: second
      shell: echo second >> {{ remote | quote }}/order
      notify: chained
    - name: never
      shell: echo never >> {{ remote | quote }}/order
    - name: topic listener
      shell: echo topic >> {{ remote | quote }}/order
      listen: by topic
    - name: chained
      shell: echo chained >> {{ remote | quote }}/order
"#,
    );
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "handlers.yml", &["-e", &remote]);
    run.assert_code(0);
    let order = std::fs::read_to_string(p.remote("order")).unwrap();
    assert_eq!(order, "first\nsecond\ntopic\nchained\n", "definition order, chained handler runs too");
    let flush = run.stdout.find("RUNNING HANDLER [first]").unwrap();
    let after = run.stdout.find("TASK [after flush]").unwrap();
    assert!(flush < after, "meta: flush_handlers runs handlers before the next task:\n{}", run.stdout);
}

#[test]
fn a_failing_task_stops_that_host_and_skips_its_handlers() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["good", "bad"]).write(
        "fail.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: notify
      command: "true"
      notify: h
    - name: fail on bad
      command: "false"
      when: inventory_hostname == 'bad'
    - name: ignored failure
      command: "false"
      ignore_errors: true
    - name: register and use
      shell: echo out-{{ inventory_hostname }}
      register: result
    - name: show
      debug:
        msg: "{{ result.stdout }}"
  handlers:
    - name: h
      shell: echo {{ inventory_hostname }} >> {{ remote | quote }}/handled
"#,
    );
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "fail.yml", &["-e", &remote]);
    run.assert_code(2);
    assert!(run.stdout.contains("fatal: [bad]: FAILED! => {"), "{}", run.stdout);
    assert!(run.stdout.contains("\"msg\": \"non-zero return code\""), "{}", run.stdout);
    assert!(run.stdout.contains("...ignoring"), "{}", run.stdout);
    assert!(run.stdout.contains("\"msg\": \"out-good\""), "{}", run.stdout);
    assert_eq!(run.recap("good"), recap("good", 5, 4, 0, 0, 1, 1));
    assert_eq!(run.recap("bad"), recap("bad", 1, 1, 0, 1, 0, 0));
    assert_eq!(std::fs::read_to_string(p.remote("handled")).unwrap(), "good\n", "no handler on the failed host");
}

#[test]
fn an_unreachable_host_does_not_stop_the_others() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["up"]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    p.write("hosts.ini", &format!("{inventory}down ansible_host=127.0.0.1 ansible_port={closed}\n"));
    p.write("up.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo hi\n    - command: echo again\n");
    let run = p.run(&sshd, "up.yml", &[]);
    run.assert_code(4);
    assert!(run.stdout.contains("fatal: [down]: UNREACHABLE! => {"), "{}", run.stdout);
    assert_eq!(run.recap("up"), recap("up", 2, 2, 0, 0, 0, 0));
    assert_eq!(run.recap("down"), recap("down", 0, 0, 1, 0, 0, 0));
}

#[test]
fn a_changed_host_key_is_refused() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["spoofed"]).write("k.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo hi\n");
    let run = p.run_with_home(Some(sshd.wrong_known_hosts.as_path()), "k.yml", &[]);
    run.assert_code(4);
    assert!(run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    let expected = format!("home/.ssh/known_hosts line {}", crate::sshd::WRONG_KEY_LINE);
    assert!(run.stdout.contains(&expected), "names the file and line:\n{}", run.stdout);
}

#[test]
fn load_errors_point_at_the_line_and_suggest() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("typo.yml", "- hosts: all\n  tasks:\n    - name: oops\n      cpoy:\n        content: x\n        dest: /tmp/x\n");
    let run = p.run(&sshd, "typo.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("typo.yml:4:7"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `copy`?"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
}

/// A literal value outside its choices is refused before any host is contacted,
/// at the value, with the nearest choice; in `args:` and k=v form too.
#[test]
fn a_misspelt_choice_is_refused_at_load_with_the_nearest_choice() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("choice.yml", "- hosts: all\n  tasks:\n    - name: start it\n      service:\n        name: ssh\n        state: runing\n");
    let run = p.run(&sshd, "choice.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("choice.yml:6:16"), "{}", run.stderr);
    assert!(run.stderr.contains("value of state must be one of: reloaded, restarted, started, stopped, got: runing"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    p.write("args.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - file:\n      args:\n        path: /tmp/x\n        state: tuoch\n");
    let run = p.run(&sshd, "args.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("args.yml:7:16") && run.stderr.contains("did you mean `touch`?"), "{}", run.stderr);
    p.write("kv.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - file: path=/tmp/x state=tuoch\n");
    let run = p.run(&sshd, "kv.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("kv.yml:4:13") && run.stderr.contains("did you mean `touch`?"), "{}", run.stderr);
}

#[test]
fn hostile_values_are_data_not_code() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let r = p.remote_str();
    let hostile = format!("it's $(touch {r}/PWNED) `touch {r}/PWNED2`; touch {r}/PWNED3\nline2 \"q\" & touch {r}/PWNED4 | x > y");
    p.inventory(&sshd, &["h"]).write(
        "hostile.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        content: "{{ hostile }}"
        dest: "{{ remote }}/{{ hostile_name }}"
    - command: printf '%s' {{ hostile | quote }}
      register: echoed
    - copy:
        content: "{{ echoed.stdout }}"
        dest: "{{ remote }}/echoed"
"#,
    );
    let vars = serde_json::json!({"hostile": hostile, "hostile_name": "a b;$(x)'c", "remote": p.remote_str()}).to_string();
    let run = p.run(&sshd, "hostile.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_eq!(std::fs::read_to_string(p.remote("a b;$(x)'c")).unwrap(), hostile);
    assert_eq!(std::fs::read_to_string(p.remote("echoed")).unwrap(), hostile);
    for marker in ["PWNED", "PWNED2", "PWNED3", "PWNED4"] {
        assert!(!p.remote(marker).exists(), "{marker} was executed");
    }
}

#[test]
fn no_log_hides_results_at_every_verbosity() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write(
        "secret.yml",
        r#"
- hosts: all
  gather_facts: false
  vars:
    token: s3cr3t-t0ken
    more: [s3cr3t-item]
    labels: [s3cr3t-label]
    includes: [s3cr3t-include]
  tasks:
    - name: uses the secret
      shell: echo {{ token }}
      no_log: true
    - name: fails with the secret
      shell: echo {{ token }}; exit 3
      no_log: "{{ 1 == 1 }}"
      ignore_errors: true
    - name: diff of a secret file
      copy:
        content: "{{ token }}\n"
        dest: "{{ remote }}/secret"
      no_log: true
    - name: a loop over secrets (the item is the secret)
      command: echo {{ item }}
      loop: "{{ [token] + more }}"
      no_log: true
    - name: a loop over secrets, with a label and a failing item
      fail:
        msg: "{{ item }}"
      loop: "{{ labels }}"
      loop_control:
        label: "{{ item }}"
      no_log: true
      ignore_errors: true
    - name: an include looped over secrets
      include_tasks: nothing.yml
      loop: "{{ includes }}"
      no_log: true
"#,
    );
    p.write("nothing.yml", "- meta: noop\n");
    let remote = format!("remote={}", p.remote_str());
    for verbosity in ["-v", "-vvv"] {
        let run = p.run(&sshd, "secret.yml", &["-e", &remote, "--diff", verbosity]);
        run.assert_code(0);
        assert!(!run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"), "secret leaked at {verbosity}:\n{}", run.stdout);
        assert!(run.stdout.contains("the output has been hidden due to the fact that 'no_log: true' was specified for this result"), "{}", run.stdout);
        let fatal = run.stdout.split("fatal: [h]: FAILED! => {").nth(1).expect("the failure is reported");
        assert!(fatal.trim_start().starts_with("\"censored\""), "{}", run.stdout);
        assert_eq!(run.stdout.matches("(item=(censored due to no_log))").count(), 4, "{}", run.stdout);
    }
}

#[test]
fn become_runs_tasks_as_another_user() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write(
        "become.yml",
        r#"
- hosts: all
  gather_facts: false
  become_user: nobody
  tasks:
    - name: as the login user
      command: id -un
      register: plain
    - name: as nobody, from the play's become_user
      command: id -un
      become: true
      register: became
    - name: a block can switch it off again
      become: true
      block:
        - command: id -un
          become: false
          register: unbecome
    - assert:
        that:
          - plain.stdout == 'root'
          - became.stdout == 'nobody'
          - unbecome.stdout == 'root'
"#,
    );
    p.run(&sshd, "become.yml", &[]).assert_code(0);
    let run = p.run(&sshd, "become.yml", &["-b", "--become-user", "daemon"]);
    run.assert_code(2);
    assert!(run.stdout.contains("plain.stdout == 'root'"), "-b makes every task become:\n{}", run.stdout);
}

#[test]
fn gathered_facts_cover_what_templates_use() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write(
        "facts.yml",
        r#"
- hosts: all
  tasks:
    - assert:
        that:
          - ansible_facts.distribution == ansible_distribution
          - ansible_os_family == 'Debian'
          - ansible_memtotal_mb > 0
          - ansible_processor_vcpus >= 1
          - ansible_all_ipv4_addresses | length >= 0
          - ansible_date_time.year | int >= 2024
          - ansible_env.HOME is defined
          - ansible_user_id == 'root'
          - ansible_service_mgr is defined or true
          - ansible_kernel == want.kernel
          - ansible_architecture == want.machine
          - ansible_nodename == want.nodename
          - ansible_processor_vcpus == want.vcpus | int
          - ansible_memtotal_mb == want.memtotal_kb | int // 1024
          - ansible_machine_id == want.machine_id
          - ansible_user_uid == 0 and ansible_user_gid == 0
          - ansible_distribution_release == want.codename
"#,
    );
    // The "remote" host is this machine: its facts are what local tools say.
    let local = |script: &str| {
        let out = std::process::Command::new("sh").args(["-c", script]).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let want = serde_json::json!({"want": {
        "kernel": local("uname -r"),
        "machine": local("uname -m"),
        "nodename": local("uname -n"),
        "vcpus": local("getconf _NPROCESSORS_ONLN"),
        "memtotal_kb": local("sed -n 's/^MemTotal: *\\([0-9]*\\).*/\\1/p' /proc/meminfo"),
        "machine_id": local("cat /etc/machine-id"),
        "codename": local(". /etc/os-release; echo $VERSION_CODENAME"),
    }});
    p.run(&sshd, "facts.yml", &["-e", &want.to_string()]).assert_code(0);
}

/// A play's `gather_subset` and `fact_path`, local facts (JSON, INI,
/// executable, failing script), and ansible.cfg's `inject_facts_as_vars`.
#[test]
fn play_fact_keywords_local_facts_and_fact_injection() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let facts_d = p.remote("facts.d");
    std::fs::create_dir_all(&facts_d).unwrap();
    std::fs::write(facts_d.join("app.fact"), "{\"tier\": \"web\"}").unwrap();
    std::fs::write(facts_d.join("prefs.fact"), "[general]\nBar=loaded\n").unwrap();
    std::fs::write(facts_d.join("run.fact"), "#!/bin/sh\necho '{\"ran\": true}'\n").unwrap();
    std::fs::write(facts_d.join("fails.fact"), "#!/bin/sh\necho oops >&2\nexit 3\n").unwrap();
    for script in ["run.fact", "fails.fact"] {
        std::process::Command::new("chmod").arg("755").arg(facts_d.join(script)).status().unwrap();
    }
    p.inventory(&sshd, &["h"]).write(
        "local.yml",
        r#"
- hosts: all
  gather_subset: ['!all', 'network']
  fact_path: "{{ lookup('env', 'REMOTE') }}/facts.d"
  tasks:
    - assert:
        that:
          - ansible_local.app.tier == 'web'
          - ansible_facts.ansible_local.prefs.general.bar == 'loaded'
          - ansible_local.run.ran
          - ansible_local.fails is string and 'Failure executing fact script' in ansible_local.fails
          - "'oops' in ansible_local.fails"
          - ansible_facts.gather_subset == ['!all', 'network']
          - ansible_interfaces | length > 0
          - ansible_mounts is not defined
          - ansible_facts.distribution is defined
"#,
    );
    let run = p.run(&sshd, "local.yml", &[]);
    run.assert_code(0);
    p.write("ansible.cfg", "[defaults]\ninject_facts_as_vars = False\n").write(
        "noinject.yml",
        "- hosts: all\n  tasks:\n    - assert:\n        that:\n          - ansible_facts.os_family is defined\n          - ansible_os_family is not defined\n          - ansible_local is defined\n",
    );
    p.run(&sshd, "noinject.yml", &[]).assert_code(0);
}

#[test]
fn verbosity_levels_show_commands_connections_and_protocol_detail() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write(
        "verbose.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo visible-marker\n    - command: echo hidden-marker\n      no_log: true\n",
    );
    let quiet = p.run(&sshd, "verbose.yml", &["-v"]);
    quiet.assert_code(0);
    assert!(!quiet.stdout.contains("EXEC ") && !quiet.stdout.contains("ESTABLISH"), "{}", quiet.stdout);
    let vv = p.run(&sshd, "verbose.yml", &["-vv"]);
    assert!(vv.stdout.lines().any(|l| l.starts_with("<h> EXEC ") && l.contains("echo visible-marker")), "-vv shows the commands run:\n{}", vv.stdout);
    assert!(!vv.stdout.contains("ESTABLISH"), "{}", vv.stdout);
    let vvvv = p.run(&sshd, "verbose.yml", &["-vvvv"]);
    assert!(vvvv.stdout.contains(&format!("<h> ESTABLISH SSH CONNECTION FOR USER: {} TO 127.0.0.1:{}", sshd.user, sshd.port)), "{}", vvvv.stdout);
    assert!(vvvv.stdout.contains("<h> rc=0 stdout="), "{}", vvvv.stdout);
    assert!(!vvvv.stdout.contains("echo hidden-marker"), "a no_log task's command is never shown:\n{}", vvvv.stdout);
}

/// The README's quickstart, with its directory moved under the test's remote:
/// `content: "{{ greeting }}\n"` writes the final newline, so the first
/// `--diff` shows a complete line, and the second run changes nothing.
#[test]
fn quickstart_writes_the_greetings_final_newline() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]);
    let quickstart = concat!(env!("CARGO_MANIFEST_DIR"), "/playbooks/quickstart.yml");
    let base = format!("base={}", p.remote("quickstart").display());
    let first = p.run(&sshd, quickstart, &["-e", &base, "--diff"]);
    first.assert_code(0);
    assert!(first.stdout.contains("+Hello from stockman\n"), "{}", first.stdout);
    assert!(!first.stdout.contains("No newline at end of file"), "{}", first.stdout);
    assert_eq!(std::fs::read(p.remote("quickstart/greeting.txt")).unwrap(), b"Hello from stockman\n");
    let second = p.run(&sshd, quickstart, &["-e", &base]);
    assert!(second.recap("h").contains("changed=0"), "{}", second.stdout);
}

/// Issue 13 item 6: an unreachable host under `no_log` says its message is
/// censored, as ansible-playbook does, instead of an empty `[ERROR]: `.
#[test]
fn an_unreachable_host_under_no_log_says_the_error_is_censored() {
    let p = Project::new();
    p.write("hosts.ini", "h ansible_host=127.0.0.1 ansible_port=1\n");
    p.write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n      no_log: true\n");
    let run = p.run_with_home(None, "site.yml", &[]);
    run.assert_code(4);
    assert!(run.stdout.contains("[ERROR]: Task failed: <error censored due to no log>"), "{}", run.stdout);
    assert!(run.stdout.contains("the output has been hidden due to the fact that 'no_log: true' was specified for this result"), "{}", run.stdout);
}
