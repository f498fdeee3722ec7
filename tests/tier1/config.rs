//! ansible.cfg and ANSIBLE_* settings: a project directory whose ansible.cfg names the
//! inventory, user and key runs with no flags, as `cd project && ansible-playbook site.yml` does.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::differential::{normalized, ANSIBLE_PLAYBOOK};
use crate::run::{recap, Project, Run};
use crate::sshd::TestSshd;

const SITE: &str = "\
- hosts: web
  roles:
    - greet
  tasks:
    - name: who am I
      command: whoami
      register: who
      changed_when: false
    - name: the user
      debug:
        var: who.stdout
";

/// inventory.ini with hosts that name only their address and port: user and key come from the cfg.
fn project(sshd: &TestSshd, cfg: &str) -> Project {
    let p = Project::new();
    let hosts = format!("[web]\nh1 ansible_host=127.0.0.1 ansible_port={port}\nh2 ansible_host=127.0.0.1 ansible_port={port}\n", port = sshd.port);
    p.write("inventory.ini", &hosts).write("site.yml", SITE).write("shared-roles/greet/tasks/main.yml", "- name: greet\n  debug:\n    msg: hello from a role in roles_path\n");
    std::fs::create_dir_all(p.path("keys")).unwrap();
    std::fs::copy(&sshd.client_key, p.path("keys/id")).unwrap();
    std::fs::set_permissions(p.path("keys/id"), std::fs::Permissions::from_mode(0o600)).unwrap();
    p.write("ansible.cfg", cfg);
    p
}

fn full_cfg(sshd: &TestSshd) -> String {
    format!(
        "# as tutorials write it\n[defaults]\ninventory = inventory.ini\nremote_user = {user}\nprivate_key_file = keys/id\nhost_key_checking = False\nforks = 2\nroles_path = shared-roles\ngathering = explicit\ninterpreter_python = /usr/bin/python3\nretry_files_enabled = False ; no .retry files\n\n[ssh_connection]\npipelining = True\n",
        user = sshd.user
    )
}

/// Runs `program ARGS` in the project directory with a scratch HOME (no known_hosts) and `env`.
fn run_in(p: &Project, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = p.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(p.dir.path()).env("HOME", &home).env("ANSIBLE_NOCOLOR", "1").env_remove("SSH_AUTH_SOCK");
    for name in ["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_CONFIG", "ANSIBLE_INVENTORY", "ANSIBLE_REMOTE_USER", "ANSIBLE_ROLES_PATH", "ANSIBLE_FORKS"] {
        cmd.env_remove(name);
    }
    cmd.env("ANSIBLE_SSH_CONTROL_PATH_DIR", p.path("cp")).env("ANSIBLE_LOCAL_TEMP", p.path("tmp"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run");
    Run { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

fn stockman(p: &Project, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(p, env!("CARGO_BIN_EXE_stockman"), args, env)
}

#[test]
fn a_project_with_ansible_cfg_needs_no_flags() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd));
    let run = stockman(&p, &["playbook", "site.yml"], &[]);
    run.assert_code(0);
    // inventory, remote_user, private_key_file, host_key_checking=False and roles_path all had to be read.
    for host in ["h1", "h2"] {
        assert_eq!(run.recap(host), recap(host, 3, 0, 0, 0, 0, 0), "{}", run.stdout);
    }
    assert!(run.stdout.contains(&format!("\"who.stdout\": \"{}\"", sshd.user)), "{}", run.stdout);
    assert!(run.stdout.contains("hello from a role in roles_path"), "{}", run.stdout);
    // gathering = explicit: a play that does not say gather_facts gathers nothing.
    assert!(!run.stdout.contains("Gathering Facts"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "no warnings expected:\n{}", run.stderr);
}

#[test]
fn the_same_project_gives_ansible_playbooks_hosts_results_and_recap() {
    assert!(Path::new(ANSIBLE_PLAYBOOK).exists(), "{ANSIBLE_PLAYBOOK} is missing: run tests/run-all.sh, which installs it");
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd));
    let ours = stockman(&p, &["playbook", "site.yml"], &[]);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["site.yml"], &[]);
    assert_eq!(normalized(&ours.stdout), normalized(&theirs.stdout), "--- stockman:\n{}\n--- ansible-playbook:\n{}\n{}", ours.stdout, theirs.stdout, theirs.stderr);
    assert_eq!(ours.code, theirs.code);
    // -v: both name the file in use first.
    let first = |r: &Run| r.stdout.lines().next().unwrap_or_default().to_string();
    let ours = stockman(&p, &["playbook", "-v", "site.yml"], &[]);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["-v", "site.yml"], &[]);
    assert_eq!(first(&ours), first(&theirs));
    assert_eq!(first(&ours), format!("Using {} as config file", p.path("ansible.cfg").display()));
}

#[test]
fn flags_beat_environment_beats_cfg_and_inventory_beats_all() {
    let sshd = TestSshd::start();
    let cfg = full_cfg(&sshd).replace(&format!("remote_user = {}", sshd.user), "remote_user = nobody-from-cfg");
    let p = project(&sshd, &cfg);
    // cfg's user is wrong: unreachable.
    let run = stockman(&p, &["playbook", "site.yml"], &[]);
    run.assert_code(4);
    assert!(run.stdout.contains("nobody-from-cfg"), "{}", run.stdout);
    // The environment beats the cfg.
    let user = sshd.user.as_str();
    stockman(&p, &["playbook", "site.yml"], &[("ANSIBLE_REMOTE_USER", user)]).assert_code(0);
    // A flag beats the environment.
    let run = stockman(&p, &["playbook", "-u", user, "site.yml"], &[("ANSIBLE_REMOTE_USER", "nobody-from-env")]);
    run.assert_code(0);
    let run = stockman(&p, &["playbook", "-u", "nobody-from-flag", "site.yml"], &[("ANSIBLE_REMOTE_USER", user)]);
    run.assert_code(4);
    // ansible_user in the inventory beats the flag, the environment and the cfg.
    let hosts = std::fs::read_to_string(p.path("inventory.ini")).unwrap().replace(&format!("ansible_port={}", sshd.port), &format!("ansible_port={} ansible_user={user}", sshd.port));
    p.write("inventory.ini", &hosts);
    stockman(&p, &["playbook", "-u", "nobody-from-flag", "site.yml"], &[("ANSIBLE_REMOTE_USER", "nobody-from-env")]).assert_code(0);
    // ANSIBLE_INVENTORY beats the cfg's inventory, -i beats both.
    p.write("other.ini", "[web]\n");
    let run = stockman(&p, &["playbook", "site.yml"], &[("ANSIBLE_INVENTORY", "other.ini")]);
    assert!(run.stderr.contains("provided hosts list is empty") || !run.stdout.contains("h1"), "{}\n{}", run.stdout, run.stderr);
    stockman(&p, &["playbook", "-i", "inventory.ini", "site.yml"], &[("ANSIBLE_INVENTORY", "other.ini")]).assert_code(0);
}

#[test]
fn ansible_config_names_the_file_and_a_world_writable_directory_is_skipped() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd));
    std::fs::set_permissions(p.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = stockman(&p, &["playbook", "site.yml"], &[]);
    let warning = format!("[WARNING]: Ansible is being run in a world writable directory ({}), ignoring it as an ansible.cfg source.", p.dir.path().display());
    assert!(run.stderr.contains(&warning), "{}", run.stderr);
    assert!(!run.stdout.contains("h1"), "the cfg (and its inventory) must not be used:\n{}", run.stdout);
    // Named by ANSIBLE_CONFIG (a directory or the file), it is read.
    let dir = p.dir.path().display().to_string();
    let run = stockman(&p, &["playbook", "site.yml"], &[("ANSIBLE_CONFIG", &dir)]);
    run.assert_code(0);
    assert!(!run.stderr.contains("world writable"), "{}", run.stderr);
    std::fs::set_permissions(p.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    // ~/.ansible.cfg when there is no ./ansible.cfg.
    std::fs::rename(p.path("ansible.cfg"), p.path("home/.ansible.cfg")).unwrap();
    let cfg = std::fs::read_to_string(p.path("home/.ansible.cfg")).unwrap();
    let absolute = |rel: &str| p.path(rel).display().to_string();
    p.write("home/.ansible.cfg", &cfg.replace("= inventory.ini", &format!("= {}", absolute("inventory.ini"))).replace("= keys/id", &format!("= {}", absolute("keys/id"))).replace("= shared-roles", &format!("= {}", absolute("shared-roles"))));
    let run = stockman(&p, &["playbook", "-v", "site.yml"], &[]);
    run.assert_code(0);
    assert!(run.stdout.starts_with(&format!("Using {} as config file", p.path("home/.ansible.cfg").display())), "{}", run.stdout);
}

#[test]
fn mistakes_in_the_cfg_are_warned_with_file_line_and_the_nearest_name() {
    let sshd = TestSshd::start();
    let cfg = format!("{}role_path = x\nansible_python_interpreter = /usr/bin/python3\n[ssh_connections]\nretries = 2\n[all]\nfoo = 1\n", full_cfg(&sshd));
    let p = project(&sshd, &cfg);
    let run = stockman(&p, &["playbook", "site.yml"], &[]);
    run.assert_code(0);
    let cfg_path = p.path("ansible.cfg").display().to_string();
    for expected in [
        format!("[WARNING]: {cfg_path}:15: `[ssh_connection] role_path`: unknown key, ignored; did you mean `[defaults] roles_path`?"),
        format!("[WARNING]: {cfg_path}:16: `[ssh_connection] ansible_python_interpreter`: `ansible_python_interpreter` is an inventory variable, not a setting; here it is `interpreter_python`"),
        format!("[WARNING]: {cfg_path}:17: unknown section `[ssh_connections]`, its keys are ignored; did you mean `[ssh_connection]`?"),
        format!("[WARNING]: {cfg_path}:19: unknown section `[all]`, its keys are ignored; hosts, groups and their variables belong in the inventory"),
    ] {
        assert!(run.stderr.contains(&expected), "missing: {expected}\nstderr:\n{}", run.stderr);
    }
    // -v says which accepted keys do nothing.
    let run = stockman(&p, &["playbook", "-v", "site.yml"], &[]);
    assert!(run.stdout.contains(&format!("{cfg_path}:14: `[ssh_connection] pipelining` is ignored")), "{}", run.stdout);
    // A value of the wrong type stops the run before connecting, naming file:line.
    p.write("ansible.cfg", "[defaults]\ninventory = inventory.ini\n\nforks = lots\n");
    let run = stockman(&p, &["playbook", "site.yml"], &[]);
    run.assert_code(5);
    assert!(run.stderr.contains(&format!("ERROR! {cfg_path}:4: `forks`: `lots` is not an integer")), "{}", run.stderr);
}

#[test]
fn config_list_dump_and_view() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd));
    let cfg_path = p.path("ansible.cfg").display().to_string();
    let run = stockman(&p, &["config", "dump", "--only-changed"], &[("ANSIBLE_TIMEOUT", "7")]);
    run.assert_code(0);
    assert!(run.stdout.starts_with(&format!("CONFIG_FILE() = {cfg_path}\n")), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("DEFAULT_FORKS({cfg_path}:7) = 2\n")), "{}", run.stdout);
    assert!(run.stdout.contains("DEFAULT_TIMEOUT(env: ANSIBLE_TIMEOUT) = 7\n"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("DEFAULT_PRIVATE_KEY_FILE({cfg_path}:5) = ['{}']\n", p.path("keys/id").display())), "{}", run.stdout);
    assert!(!run.stdout.contains("DEFAULT_BECOME("), "{}", run.stdout);
    let run = stockman(&p, &["config", "dump"], &[]);
    assert!(run.stdout.contains("DEFAULT_BECOME(default) = False\n"), "{}", run.stdout);
    let run = stockman(&p, &["config", "view"], &[]);
    assert_eq!(run.stdout, full_cfg(&sshd));
    let run = stockman(&p, &["config", "list"], &[]);
    assert!(run.stdout.contains("DEFAULT_REMOTE_USER:\n  description: The user to log in as"), "{}", run.stdout);
    assert!(run.stdout.contains("  ini: [defaults] remote_user\n  env: ANSIBLE_REMOTE_USER\n"), "{}", run.stdout);
}

#[test]
fn more_honoured_keys_ansible_managed_vault_any_errors_fatal_ssh_common_args() {
    let sshd = TestSshd::start();
    let site = "\
- hosts: web
  tasks:
    - name: h1 fails
      fail:
        msg: stop
      when: inventory_hostname == 'h1'
    - name: never reached with any_errors_fatal
      debug:
        msg: reached
- hosts: web
  vars_files: [secret.yml]
  tasks:
    - name: a managed file
      template:
        src: managed.j2
        dest: \"{{ lookup('env', 'REMOTE') }}/managed.txt\"
      run_once: true
";
    let cfg = full_cfg(&sshd)
        .replace("host_key_checking = False\n", "vault_password_file = pass.txt\nany_errors_fatal = True\nansible_managed = Managed by the cfg test\n")
        .replace("[ssh_connection]\n", &format!("[ssh_connection]\nssh_common_args = -o UserKnownHostsFile={}\n", sshd.known_hosts.display()));
    let p = project(&sshd, &cfg);
    p.write("site.yml", site).write("templates/managed.j2", "# {{ ansible_managed }}\n{{ secret }}\n").write("pass.txt", "s3cret\n");
    let plain = p.path("plain.yml");
    std::fs::write(&plain, "secret: from the vault\n").unwrap();
    let enc = stockman(&p, &["vault", "encrypt", plain.to_str().unwrap(), "--output", p.path("secret.yml").to_str().unwrap()], &[]);
    enc.assert_code(0);
    let remote = p.remote_str();
    let run = stockman(&p, &["playbook", "site.yml"], &[("REMOTE", &remote)]);
    // any_errors_fatal: h1's failure ends the play for h2 too, and the run.
    run.assert_code(2);
    assert!(!run.stdout.contains("\"msg\": \"reached\""), "{}", run.stdout);
    assert!(run.stdout.contains("NO MORE HOSTS LEFT"), "{}", run.stdout);
    // Second project without any_errors_fatal: the template sees ansible_managed and the vaulted var,
    // and the host key was checked against ssh_common_args' known_hosts file.
    p.write("ansible.cfg", &cfg.replace("any_errors_fatal = True\n", ""));
    let run = stockman(&p, &["playbook", "site.yml"], &[("REMOTE", &remote)]);
    run.assert_code(2);
    assert!(run.stdout.contains("\"msg\": \"reached\""), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(p.remote("managed.txt")).unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr)), "# Managed by the cfg test\nfrom the vault\n");
    // Without ssh_common_args' known_hosts (and host_key_checking on), the key is unknown.
    p.write("ansible.cfg", &cfg.replace("any_errors_fatal = True\n", "").replace("ssh_common_args", "# ssh_common_args"));
    stockman(&p, &["playbook", "site.yml"], &[("REMOTE", &remote)]).assert_code(4);
}

#[test]
fn display_ok_and_skipped_hosts_off_print_what_ansible_prints() {
    assert!(Path::new(ANSIBLE_PLAYBOOK).exists(), "{ANSIBLE_PLAYBOOK} is missing: run tests/run-all.sh, which installs it");
    let sshd = TestSshd::start();
    let site = "\
- hosts: web
  tasks:
    - name: only ok
      debug:
        msg: quiet
    - name: skipped on h1
      command: 'true'
      when: inventory_hostname == 'h2'
    - name: all skipped
      debug:
        msg: never
      when: false
    - name: a loop, one item changed
      command: 'echo {{ item }}'
      changed_when: item == 'b'
      loop: [a, b]
";
    for (ok, skipped) in [("False", "False"), ("True", "False"), ("False", "True")] {
        let cfg = full_cfg(&sshd).replacen("[defaults]\n", &format!("[defaults]\ndisplay_ok_hosts = {ok}\ndisplay_skipped_hosts = {skipped}\n"), 1);
        let p = project(&sshd, &cfg);
        p.write("site.yml", site);
        let ours = stockman(&p, &["playbook", "site.yml"], &[]);
        let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["site.yml"], &[]);
        assert_eq!(normalized(&ours.stdout), normalized(&theirs.stdout), "ok={ok} skipped={skipped}\n--- stockman:\n{}\n--- ansible-playbook:\n{}\n{}", ours.stdout, theirs.stdout, theirs.stderr);
        assert!(!ours.stdout.contains("TASK [all skipped]") || skipped == "True", "{}", ours.stdout);
    }
}

#[test]
fn callbacks_enabled_profile_tasks_timer_and_junit_and_other_callbacks_are_warned_once() {
    let sshd = TestSshd::start();
    let cfg = full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\ncallbacks_enabled = ansible.posix.profile_tasks, timer, junit, mail\nstdout_callback = unixy\n", 1);
    let p = project(&sshd, &cfg);
    let junit_dir = p.path("junit-reports");
    let run = stockman(&p, &["playbook", "site.yml"], &[("JUNIT_OUTPUT_DIR", junit_dir.to_str().unwrap())]);
    run.assert_code(0);
    let cfg_path = p.path("ansible.cfg").display().to_string();
    assert!(run.stderr.contains(&format!("[WARNING]: {cfg_path}:4: stdout_callback `unixy` is not implemented; stockman prints the default callback's output")), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("[WARNING]: {cfg_path}:3: callback `mail` is not implemented")), "{}", run.stderr);
    assert_eq!(run.stderr.matches("[WARNING]").count(), 2, "{}", run.stderr);
    // profile_tasks: the timing line under each banner and the summary after the recap.
    let timing = regex::Regex::new(r"TASK \[who am I\] \*+\n\(0:00:00\.\d{3}\)       0:00:\d\d\.\d{3}\n").unwrap();
    assert!(timing.is_match(&run.stdout), "{}", run.stdout);
    assert!(run.stdout.split("PLAY RECAP").nth(1).unwrap().contains(&"=".repeat(79)), "{}", run.stdout);
    // timer: ansible.posix.timer's banner and line last.
    let timer = regex::Regex::new(r"\n\nPLAYBOOK RECAP \*{65}\nPlaybook run took 0 days, 0 hours, 0 minutes, \d+ seconds\n$").unwrap();
    assert!(timer.is_match(&run.stdout), "{}", run.stdout);
    // junit: the --junit report, named as Ansible's junit callback names it (PLAYBOOK-TIME.xml).
    let reports: Vec<_> = std::fs::read_dir(&junit_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(regex::Regex::new(r"^site-\d+\.\d{6}\.xml$").unwrap().is_match(&reports[0]), "{reports:?}");
    let xml = std::fs::read_to_string(junit_dir.join(&reports[0])).unwrap();
    assert!(xml.contains("<testcase") && xml.contains("who am I"), "{xml}");
}

const CALLBACK_PLAY: &str = "\
- hosts: h1
  tasks:
    - name: echo
      command: echo hi
    - debug:
        msg: \"a\\nb\\n\"
    - debug:
        msg: {x: [1, 'yes', 'a: b', ' lead'], y: '', z: null}
    - command: /bin/false
      ignore_errors: true
    - debug: msg=x
      when: false
    - debug: var=item
      loop: [1, 2]
";

/// The same play under both tools with `stdout_callback = NAME`: the same stdout, times aside.
fn same_output_under(callback: &str) {
    same_output_with(&format!("stdout_callback = {callback}\n"), &[]);
}

/// The same play under both tools with `settings` in `[defaults]` and `args`.
fn same_output_with(settings: &str, args: &[&str]) -> Run {
    let sshd = TestSshd::start();
    let cfg = full_cfg(&sshd).replacen("[defaults]\n", &format!("[defaults]\n{settings}"), 1);
    let p = project(&sshd, &cfg);
    p.write("callbacks.yml", CALLBACK_PLAY);
    // Absolute: Ansible's `Origin:` lines name the playbook that way.
    let playbook = p.path("callbacks.yml").display().to_string();
    let ours = stockman(&p, &[&["playbook", playbook.as_str()], args].concat(), &[]);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &[&[playbook.as_str()], args].concat(), &[]);
    let times = regex::Regex::new(r#"(start|end|delta)(": "|: ')[^"']*"#).unwrap();
    // -v: stockman's notes about keys it ignores are its own. A `when: false` shows as
    // the string 'False' in stockman's results (it keeps conditions as text), false in Ansible's.
    let own = |l: &&str| !l.contains("` is ignored: ");
    let tidy = |out: &str| normalized(&times.replace_all(out, "$1$2T").lines().filter(own).collect::<Vec<_>>().join("\n").replace("false_condition: 'False'", "false_condition: false").replace(r#""false_condition": "False""#, r#""false_condition": false"#));
    assert_eq!(tidy(&ours.stdout), tidy(&theirs.stdout), "--- stockman:\n{}\n--- ansible-playbook:\n{}\n{}", ours.stdout, theirs.stdout, theirs.stderr);
    assert_eq!(ours.code, theirs.code);
    ours
}

#[test]
fn callback_result_format_yaml_and_pretty_results_print_what_the_default_callback_prints() {
    let ours = same_output_with("callback_result_format = yaml\n", &["-v"]);
    assert!(ours.stdout.contains("changed: [h1] => \n    changed: true\n    cmd:\n    - echo\n"), "{}", ours.stdout);
    // (yaml with pretty_results = False is not compared: stockman still tidies multi-line strings into `|-` blocks; README.)
    let ours = same_output_with("callback_format_pretty = True\n", &["-v"]);
    assert!(ours.stdout.contains("changed: [h1] => {\n    \"changed\": true,"), "{}", ours.stdout);
    let ours = same_output_with("callback_format_pretty = False\n", &[]);
    assert!(ours.stdout.contains("ok: [h1] => {\"msg\": \"a\\nb\\n\"}"), "{}", ours.stdout);
}

#[test]
fn stdout_callback_yaml_prints_what_community_general_yaml_prints() {
    same_output_under("yaml");
}

#[test]
fn stdout_callback_minimal_prints_what_ansibles_prints() {
    same_output_under("minimal");
}

#[test]
fn stdout_callback_oneline_prints_what_ansibles_prints() {
    same_output_under("oneline");
}

#[test]
fn privilege_escalation_section_becomes_the_configured_user() {
    let sshd = TestSshd::start();
    let cfg = format!("{}\n[privilege_escalation]\nbecome = True\nbecome_method = sudo\nbecome_user = nobody\n", full_cfg(&sshd));
    let p = project(&sshd, &cfg);
    let run = stockman(&p, &["playbook", "site.yml"], &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"who.stdout\": \"nobody\""), "{}", run.stdout);
    // --become-user on the command line beats the cfg.
    let run = stockman(&p, &["playbook", "--become-user", "root", "site.yml"], &[]);
    assert!(run.stdout.contains("\"who.stdout\": \"root\""), "{}", run.stdout);
}

#[test]
fn cfg_become_user_reaches_a_plays_own_become_and_keywords_beat_it() {
    let sshd = TestSshd::start();
    // No `become = True`: only the play's `become: true` turns it on, as in Ansible.
    let cfg = format!("{}\n[privilege_escalation]\nbecome_method = sudo\nbecome_user = nobody\n", full_cfg(&sshd));
    let p = project(&sshd, &cfg);
    let play = "- hosts: web\n  become: true\n  tasks:\n    - command: whoami\n      register: cfg_user\n      changed_when: false\n    - command: whoami\n      register: task_user\n      changed_when: false\n      become_user: root\n    - debug:\n        msg: \"{{ cfg_user.stdout }} {{ task_user.stdout }}\"\n";
    p.write("become.yml", play);
    let ours = stockman(&p, &["playbook", "-l", "h1", "become.yml"], &[]);
    ours.assert_code(0);
    assert!(ours.stdout.contains("\"msg\": \"nobody root\""), "{}", ours.stdout);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["-l", "h1", "become.yml"], &[]);
    assert_eq!(normalized(&ours.stdout), normalized(&theirs.stdout), "--- ansible-playbook:\n{}\n{}", theirs.stdout, theirs.stderr);
}

const FACTS_PLAY: &str = "\
- hosts: web
  tasks:
    - set_fact: {c: \"{{ 40 + 2 }}\", cacheable: true}
      when: c is not defined
    - debug:
        msg: \"{{ c }} {{ ansible_facts.user_id }}\"
";

/// Sets every cache file's mtime `secs` in the past.
fn age_cache(dir: &Path, secs: u64) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = std::fs::File::options().write(true).open(entry.unwrap().path()).unwrap();
        file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs)).unwrap();
    }
}

#[test]
fn jsonfile_fact_cache_is_reused_between_runs_shared_with_ansible_and_expires() {
    let sshd = TestSshd::start();
    let cfg = full_cfg(&sshd).replace("gathering = explicit", "gathering = smart\nfact_caching = jsonfile\nfact_caching_connection = facts-cache\nfact_caching_timeout = 3600");
    let p = project(&sshd, &cfg);
    p.write("facts.yml", FACTS_PLAY);
    let cache = p.path("facts-cache");
    let gathered = |r: &Run| r.stdout.contains("TASK [Gathering Facts]");
    let first = stockman(&p, &["playbook", "facts.yml"], &[]);
    first.assert_code(0);
    assert!(gathered(&first), "{}", first.stdout);
    assert!(cache.join("s1_h1").exists() && cache.join("s1_h2").exists(), "Ansible's file names");
    // The next run takes facts and the cacheable fact from the files: no gathering, c is set.
    let second = stockman(&p, &["playbook", "facts.yml"], &[]);
    second.assert_code(0);
    assert!(!gathered(&second), "{}", second.stdout);
    assert!(second.stdout.contains(&format!("\"msg\": \"42 {}\"", sshd.user)), "{}", second.stdout);
    assert_eq!(second.stdout.matches("skipping: [h").count(), 2, "set_fact skipped: c came from the cache\n{}", second.stdout);
    // ansible-playbook reads stockman's cache the same way.
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["facts.yml"], &[]);
    assert_eq!(normalized(&second.stdout), normalized(&theirs.stdout), "--- ansible-playbook:\n{}\n{}", theirs.stdout, theirs.stderr);
    // Older than fact_caching_timeout: gathered again.
    age_cache(&cache, 7200);
    let expired = stockman(&p, &["playbook", "facts.yml"], &[]);
    assert!(gathered(&expired), "{}", expired.stdout);
    // And stockman reads a cache ansible-playbook wrote (its tagged values included).
    std::fs::remove_dir_all(&cache).unwrap();
    run_in(&p, ANSIBLE_PLAYBOOK, &["facts.yml"], &[]).assert_code(0);
    let after_ansible = stockman(&p, &["playbook", "facts.yml"], &[]);
    assert!(!gathered(&after_ansible), "{}", after_ansible.stdout);
    assert!(after_ansible.stdout.contains(&format!("\"msg\": \"42 {}\"", sshd.user)), "{}", after_ansible.stdout);
}

#[test]
fn facts_and_set_fact_variables_last_from_play_to_play() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd));
    let play = "- hosts: h1\n  gather_facts: true\n  tasks:\n    - set_fact: {a: 1}\n    - command: echo r\n      register: out\n- hosts: h1\n  tasks:\n    - debug:\n        msg: \"{{ a }} {{ out.stdout }} {{ ansible_facts.user_id }} {{ ansible_user_id }}\"\n";
    p.write("plays.yml", play);
    let ours = stockman(&p, &["playbook", "plays.yml"], &[]);
    ours.assert_code(0);
    assert!(ours.stdout.contains(&format!("\"msg\": \"1 r {u} {u}\"", u = sshd.user)), "{}", ours.stdout);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["plays.yml"], &[]);
    assert_eq!(normalized(&ours.stdout), normalized(&theirs.stdout), "--- ansible-playbook:\n{}\n{}", theirs.stdout, theirs.stderr);
}

#[test]
fn log_path_logs_what_ansible_logs_and_no_secrets() {
    log_path_logs_what_ansible_logs_under("");
}

#[test]
fn log_path_logs_the_minimal_and_oneline_callbacks_as_ansible_does() {
    log_path_logs_what_ansible_logs_under("stdout_callback = minimal\n");
    log_path_logs_what_ansible_logs_under("stdout_callback = oneline\n");
}

/// The log of the same run under both tools, with `settings` in `[defaults]`.
fn log_path_logs_what_ansible_logs_under(settings: &str) {
    let sshd = TestSshd::start();
    let cfg = full_cfg(&sshd).replacen("[defaults]\n", &format!("[defaults]\nlog_path = logs/run.log\n{settings}"), 1);
    let p = project(&sshd, &cfg);
    std::fs::create_dir_all(p.path("logs")).unwrap();
    // The secret is the output of a no_log task, shown with -v (censored) and never logged.
    let play = "- hosts: h1\n  tasks:\n    - debug:\n        msg: hello\n    - command: /bin/false\n      ignore_errors: true\n    - shell: echo hunter2-$((40 + 2))\n      no_log: true\n";
    p.write("log.yml", play);
    let playbook = p.path("log.yml").display().to_string();
    stockman(&p, &["playbook", "-v", &playbook], &[]).assert_code(0);
    let ours = std::fs::read_to_string(p.path("logs/run.log")).unwrap();
    std::fs::remove_file(p.path("logs/run.log")).unwrap();
    run_in(&p, ANSIBLE_PLAYBOOK, &["-v", &playbook], &[]).assert_code(0);
    let theirs = std::fs::read_to_string(p.path("logs/run.log")).unwrap();
    // (minimal and oneline print a censored command result as `rc=-1 >>` with no text, as Ansible's do.)
    assert!(!ours.contains("hunter2-42") && (ours.contains("censored") || !settings.is_empty()), "{ours}");
    // Each entry's level and first line, the times, pid and user aside.
    let entry = regex::Regex::new(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} p=\d+ u=\S+ n=ansible (\w+\| .*)$").unwrap();
    let times = regex::Regex::new(r#""(start|end|delta)": "[^"]*""#).unwrap();
    // stockman prints `Using ... as config file` before the log is open: not logged (README);
    // nor is the oneline callback's deprecation, which stockman does not give.
    let before_the_log = |e: &String| e.starts_with("INFO| Using ") || e.contains("Deprecation warnings can be disabled") || e.contains("The oneline callback plugin is deprecated");
    let entries = |log: &str| entry.captures_iter(log).map(|c| times.replace_all(&c[1], "T").into_owned()).filter(|e| !before_the_log(e)).collect::<Vec<_>>();
    assert_eq!(entries(&ours), entries(&theirs), "--- stockman:\n{ours}\n--- ansible-playbook:\n{theirs}");
}

#[test]
fn forks_from_the_cfg_bound_how_many_hosts_work_at_once() {
    let sshd = TestSshd::start();
    let play = "- hosts: web\n  tasks:\n    - shell: \"date +%s%N > {{ lookup('env', 'REMOTE') }}/{{ inventory_hostname }}; sleep 1; date +%s%N >> {{ lookup('env', 'REMOTE') }}/{{ inventory_hostname }}\"\n";
    let spans = |forks: &str| {
        let p = project(&sshd, &full_cfg(&sshd).replace("forks = 2", &format!("forks = {forks}")));
        p.write("forks.yml", play);
        let remote = p.remote_str();
        stockman(&p, &["playbook", "forks.yml"], &[("REMOTE", &remote)]).assert_code(0);
        let span = |h: &str| -> (u128, u128) {
            let text = std::fs::read_to_string(p.remote(h)).unwrap();
            let mut n = text.lines().map(|l| l.trim().parse::<u128>().unwrap());
            (n.next().unwrap(), n.next().unwrap())
        };
        (span("h1"), span("h2"))
    };
    let ((a0, a1), (b0, b1)) = spans("1");
    assert!(a1 <= b0 || b1 <= a0, "forks = 1: one host at a time ({a0}-{a1}, {b0}-{b1})");
    let ((a0, a1), (b0, b1)) = spans("2");
    assert!(a0 < b1 && b0 < a1, "forks = 2: both at once ({a0}-{a1}, {b0}-{b1})");
}

#[test]
fn vault_identity_list_from_the_cfg_opens_labelled_secrets() {
    let sshd = TestSshd::start();
    let cfg = full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nvault_identity_list = other@other.txt, dev@dev.txt\n", 1);
    let p = project(&sshd, &cfg);
    p.write("dev.txt", "dev-pass\n").write("other.txt", "other-pass\n").write("plain.yml", "secret: opened by the dev id\n");
    let plain = p.path("plain.yml").display().to_string();
    let out = p.path("secret.yml").display().to_string();
    // Encrypted with the dev id only (the cfg's ids, the one to encrypt with named).
    stockman(&p, &["vault", "encrypt", "--encrypt-vault-id", "dev", &plain, "--output", &out], &[]).assert_code(0);
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("$ANSIBLE_VAULT;1.2;AES256;dev"), "labelled with dev");
    p.write("vault.yml", "- hosts: h1\n  vars_files: [secret.yml]\n  tasks:\n    - debug:\n        var: secret\n");
    let run = stockman(&p, &["playbook", "vault.yml"], &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"secret\": \"opened by the dev id\""), "{}", run.stdout);
    // Without the list the file cannot be opened.
    p.write("ansible.cfg", &full_cfg(&sshd));
    assert_ne!(stockman(&p, &["playbook", "vault.yml"], &[]).code, 0);
}

#[test]
fn ask_pass_from_the_cfg_asks_for_the_ssh_password() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nask_pass = True\n", 1));
    // No terminal to ask on (setsid: no controlling terminal): the question cannot be answered.
    let run = run_in(&p, "setsid", &["-w", env!("CARGO_BIN_EXE_stockman"), "playbook", "site.yml"], &[]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("cannot read the password"), "{}", run.stderr);
    assert!(!run.stdout.contains("PLAY RECAP"), "{}", run.stdout);
    run_in(&p, "setsid", &["-w", env!("CARGO_BIN_EXE_stockman"), "playbook", "site.yml"], &[("ANSIBLE_ASK_PASS", "False")]).assert_code(0);
}

#[test]
fn ssh_connection_retries_and_ssh_args_from_the_cfg() {
    let sshd = TestSshd::start();
    // A port that takes connections and closes them at once: each attempt is one accept.
    let closing = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closing.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in closing.incoming() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    let p = project(&sshd, &full_cfg(&sshd).replace("[ssh_connection]\n", "[ssh_connection]\nretries = 2\n"));
    p.write("inventory.ini", &format!("[web]\nh1 ansible_host=127.0.0.1 ansible_port={port}\n"));
    stockman(&p, &["playbook", "site.yml"], &[]).assert_code(4);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3, "the first attempt and 2 retries");
    // ssh_args' -o options apply: its UserKnownHostsFile lets host key checking pass.
    let checked = full_cfg(&sshd).replace("host_key_checking = False\n", "");
    let with_args = checked.replace("[ssh_connection]\n", &format!("[ssh_connection]\nssh_args = -C -o UserKnownHostsFile={}\n", sshd.known_hosts.display()));
    let p = project(&sshd, &with_args);
    stockman(&p, &["playbook", "site.yml"], &[]).assert_code(0);
    p.write("ansible.cfg", &checked);
    stockman(&p, &["playbook", "site.yml"], &[]).assert_code(4);
}

#[test]
fn timeout_bounds_the_connection_to_a_host_that_never_answers() {
    let sshd = TestSshd::start();
    // Connections complete in the kernel's backlog, but nothing ever speaks SSH.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let p = project(&sshd, &full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\ntimeout = 1\n", 1));
    p.write("inventory.ini", &format!("[web]\nh1 ansible_host=127.0.0.1 ansible_port={port}\n"));
    let started = std::time::Instant::now();
    let run = stockman(&p, &["playbook", "site.yml"], &[]);
    run.assert_code(4);
    assert!(started.elapsed() < std::time::Duration::from_secs(6), "took {:?}:\n{}", started.elapsed(), run.stdout);
    drop(silent);
}

#[test]
fn hash_behaviour_merge_merges_dictionaries_across_layers_as_ansible_does() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nhash_behaviour = merge\n", 1));
    p.write("group_vars/all.yml", "app:\n  name: base\n  greeting: \"hi {{ inventory_hostname }}\"\n  opts: {a: 1, b: 1}\n  list: [1, 2]\n")
        .write("group_vars/web.yml", "app:\n  opts: {b: 2}\n  list: [3]\n")
        .write("host_vars/h1.yml", "app:\n  host: h1\n")
        .write("roles/merging/defaults/main.yml", "app: {from_role_defaults: 1, name: role default}\n")
        .write("roles/merging/vars/main.yml", "app: {from_role_vars: 1}\n")
        .write("roles/merging/tasks/main.yml", "- debug:\n    var: app\n")
        .write("more.yml", "app: {included: 1}\nother: {x: 1, deep: {p: 1}}\n")
        .write("more2.yml", "other: {y: 2, deep: {q: 2}}\n");
    let play = "\
- hosts: web
  vars:
    app: {play: 1, opts: {c: 3}}
  tasks:
    - debug:
        var: app
    - include_role:
        name: merging
    - set_fact:
        app: {fact: 1}
    - debug:
        var: app
    - include_vars: more.yml
    - include_vars: more2.yml
    - debug:
        var: other
    - debug:
        var: ext
";
    p.write("merge.yml", play);
    let args = ["merge.yml", "-e", r#"{"ext": {"a": 1, "n": {"x": 1}}}"#, "-e", r#"{"ext": {"b": 2, "n": {"y": 2}}}"#];
    let mut ours_args = vec!["playbook"];
    ours_args.extend(args);
    let ours = stockman(&p, &ours_args, &[]);
    ours.assert_code(0);
    // Every layer shows in the merged value (replace would keep only the top one).
    assert!(ours.stdout.contains(r#""greeting": "hi h1""#) && ours.stdout.contains(r#""host": "h1""#) && ours.stdout.contains(r#""fact": 1"#), "{}", ours.stdout);
    assert!(ours.stdout.contains(r#""deep": {"#) && ours.stdout.contains(r#""q": 2"#) && ours.stdout.contains(r#""p": 1"#), "{}", ours.stdout);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &args, &[]);
    assert_eq!(normalized(&ours.stdout), normalized(&theirs.stdout), "--- stockman:\n{}\n--- ansible-playbook:\n{}\n{}", ours.stdout, theirs.stdout, theirs.stderr);
    // replace (the default): the play's dictionary alone.
    p.write("ansible.cfg", &full_cfg(&sshd));
    let replaced = stockman(&p, &ours_args, &[]);
    assert!(!replaced.stdout.contains(r#""greeting""#), "{}", replaced.stdout);
}

#[test]
fn error_on_undefined_vars_false_is_deprecated_and_changes_nothing_as_in_ansible_core_2_19() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nerror_on_undefined_vars = False\n", 1));
    p.write("undefined.yml", "- hosts: h1\n  tasks:\n    - debug:\n        msg: \"{{ nope | default('fine') }}\"\n    - debug:\n        msg: \"a {{ nope }} b\"\n");
    let ours = stockman(&p, &["playbook", "undefined.yml"], &[]);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["undefined.yml"], &[]);
    // ansible-core 2.19 no longer reads the setting: the undefined variable still fails the task.
    assert_eq!(ours.code, 2, "{}\n{}", ours.stdout, ours.stderr);
    assert_eq!(ours.code, theirs.code);
    assert_eq!(ours.recap("h1"), recap("h1", 1, 0, 0, 1, 0, 0), "{}", ours.stdout);
    assert_eq!(ours.recap("h1"), theirs.recap("h1"));
    let deprecation = "[DEPRECATION WARNING]: DEFAULT_UNDEFINED_VAR_BEHAVIOR option. Reason: This option is no longer used in the Ansible Core code base.";
    for side in [&ours, &theirs] {
        assert!(side.stderr.contains(deprecation), "{}", side.stderr);
        assert!(side.stderr.contains("[WARNING]: Deprecation warnings can be disabled by setting `deprecation_warnings=False` in ansible.cfg."), "{}", side.stderr);
    }
    // deprecation_warnings = False silences it, in both.
    p.write("ansible.cfg", &full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nerror_on_undefined_vars = False\ndeprecation_warnings = False\n", 1));
    for side in [stockman(&p, &["playbook", "undefined.yml"], &[]), run_in(&p, ANSIBLE_PLAYBOOK, &["undefined.yml"], &[])] {
        assert!(!side.stderr.contains("DEPRECATION"), "{}", side.stderr);
    }
}

#[test]
fn fact_caching_prefix_names_the_jsonfile_files_as_ansible_does() {
    let sshd = TestSshd::start();
    let cfg = full_cfg(&sshd).replace("gathering = explicit", "gathering = smart\nfact_caching = jsonfile\nfact_caching_connection = facts-cache\nfact_caching_prefix = web_");
    let p = project(&sshd, &cfg);
    p.write("facts.yml", FACTS_PLAY);
    let cache = p.path("facts-cache");
    let names = || {
        let mut n: Vec<String> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        n.sort();
        n
    };
    run_in(&p, ANSIBLE_PLAYBOOK, &["facts.yml"], &[]).assert_code(0);
    let theirs = names();
    assert_eq!(theirs, ["web_s1_h1", "web_s1_h2"]);
    // stockman finds ansible-playbook's files under the prefix: nothing to gather.
    let ours = stockman(&p, &["playbook", "facts.yml"], &[]);
    ours.assert_code(0);
    assert!(!ours.stdout.contains("TASK [Gathering Facts]"), "{}", ours.stdout);
    std::fs::remove_dir_all(&cache).unwrap();
    stockman(&p, &["playbook", "facts.yml"], &[]).assert_code(0);
    assert_eq!(names(), theirs);
}

#[test]
fn display_args_to_stdout_shows_task_arguments_in_banners_as_ansible_does() {
    let ours = same_output_with("display_args_to_stdout = True\n", &[]);
    assert!(ours.stdout.contains("TASK [echo _raw_params=echo hi]"), "{}", ours.stdout);
    assert!(ours.stdout.contains("TASK [debug msg={'x': [1, 'yes', 'a: b', ' lead'], 'y': '', 'z': None}]"), "{}", ours.stdout);
}

#[test]
fn force_color_ask_vault_pass_become_ask_pass_and_ignored_keys_from_the_cfg() {
    let sshd = TestSshd::start();
    // force_color: colour off a terminal, beating nocolor (ANSIBLE_NOCOLOR=1 is set by run_in), as Ansible.
    let p = project(&sshd, &full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nforce_color = True\n", 1));
    let ours = stockman(&p, &["playbook", "site.yml"], &[]);
    ours.assert_code(0);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["site.yml"], &[]);
    let ok_line = |out: &str| out.lines().find(|l| l.contains("ok: [h1]")).map(str::to_string);
    assert_eq!(ok_line(&ours.stdout), ok_line(&theirs.stdout), "--- stockman:\n{}\n--- ansible-playbook:\n{}", ours.stdout, theirs.stdout);
    assert_eq!(normalized(&ours.stdout), normalized(&theirs.stdout), "--- stockman:\n{}\n--- ansible-playbook:\n{}", ours.stdout, theirs.stdout);
    assert!(ok_line(&ours.stdout).unwrap_or_default().contains("\x1b[0;32m"), "{}", ours.stdout);
    let plain = stockman(&p, &["playbook", "site.yml"], &[("ANSIBLE_FORCE_COLOR", "False")]);
    assert!(!plain.stdout.contains('\x1b'), "{}", plain.stdout);
    // ask_vault_pass / become_ask_pass: asked before the run; with no terminal to ask on, the run stops.
    for key in ["[defaults]\nask_vault_pass = True\n", "[privilege_escalation]\nbecome_ask_pass = True\n"] {
        let p = project(&sshd, &format!("{}{key}", full_cfg(&sshd)));
        let run = run_in(&p, "setsid", &["-w", env!("CARGO_BIN_EXE_stockman"), "playbook", "site.yml"], &[]);
        assert_ne!(run.code, 0, "{key}: {}", run.stdout);
        assert!(!run.stdout.contains("PLAY RECAP"), "{key}: {}", run.stdout);
    }
    // Accepted and ignored: -v says so for each, with file:line.
    let ignored = "local_tmp = tmp\nretry_files_save_path = retries\n[ssh_connection]\ncontrol_path = %(directory)s/%%h\ntransfer_method = scp\n[inventory]\nenable_plugins = ini, yaml\n[colors]\nconsole_prompt = blue\n";
    let p = project(&sshd, &format!("{}{}", full_cfg(&sshd).replace("[ssh_connection]\npipelining = True\n", ""), ignored));
    let run = stockman(&p, &["playbook", "-v", "site.yml"], &[]);
    run.assert_code(0);
    for key in ["[defaults] local_tmp", "[defaults] retry_files_save_path", "[ssh_connection] control_path", "[ssh_connection] transfer_method", "[inventory] enable_plugins", "[colors] console_prompt"] {
        assert!(run.stdout.contains(&format!("`{key}` is ignored")), "{key}:\n{}", run.stdout);
    }
}

/// Every kind of line the [colors] test compares: ok, changed with a diff, skipped, failed and ignored.
const COLORED_PLAY: &str = "\
- hosts: web
  gather_facts: false
  tasks:
    - name: ok
      command: 'true'
      changed_when: false
    - name: changed
      copy:
        content: \"new\\nline\\n\"
        dest: \"{{ playbook_dir }}/out-{{ inventory_hostname }}.txt\"
    - name: skipped
      debug: msg=never
      when: false
    - name: failed
      command: 'false'
      ignore_errors: true
";

#[test]
fn colors_from_the_cfg_paint_the_same_bytes_as_ansible_playbook() {
    let sshd = TestSshd::start();
    // One of each way of naming a colour: a name, colorN, rgbRGB, grayN.
    let colors = "[colors]\nok = blue\nchanged = color208\nskip = rgb025\nerror = bright purple\ndiff_add = gray7\ndiff_remove = bright yellow\n";
    let cfg = format!("{}{colors}", full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nforce_color = True\n", 1));
    let p = project(&sshd, &cfg);
    p.write("colored.yml", COLORED_PLAY);
    let run = |program: (&str, &[&str])| {
        std::fs::write(p.path("out-h1.txt"), "old\nline\n").unwrap();
        std::fs::write(p.path("out-h2.txt"), "old\nline\n").unwrap();
        // Absolute, for an absolute playbook_dir (and Origin: lines) in both.
        let playbook = p.path("colored.yml").display().to_string();
        run_in(&p, program.0, &[program.1, &["--diff", playbook.as_str()]].concat(), &[])
    };
    let ours = run((env!("CARGO_BIN_EXE_stockman"), &["playbook"]));
    let theirs = run((ANSIBLE_PLAYBOOK, &[]));
    let shown = format!("--- stockman:\n{}{}\n--- ansible-playbook:\n{}", ours.stdout, ours.stderr, theirs.stdout);
    assert_eq!(ours.code, theirs.code, "{shown}");
    // The coloured lines, byte for byte, sorted (hosts finish in any order). The failed task's
    // result holds times: only its head is compared; the diff's `after:` header names
    // copy's content differently (not a colour matter).
    let painted = |out: &str| -> Vec<String> {
        let head = regex::Regex::new(r"=> \{.*").unwrap();
        let after = regex::Regex::new(r"\+\+\+ after: [^\x1b]*").unwrap();
        let mut lines: Vec<String> = out.lines().filter(|l| l.contains('\x1b')).map(|l| after.replace(&head.replace(l, "=> {"), "+++ after:").into_owned()).collect();
        lines.sort();
        lines
    };
    assert_eq!(painted(&ours.stdout), painted(&theirs.stdout), "{shown}");
    for expected in ["\x1b[0;34mok: [h1]\x1b[0m", "\x1b[38;5;208mchanged: [h1]\x1b[0m", "\x1b[38;5;33mskipping: [h1]\x1b[0m", "\x1b[1;35mfatal: [h1]: FAILED!", "\x1b[38;5;239m+new\x1b[0m", "\x1b[1;33m-old\x1b[0m"] {
        assert!(ours.stdout.contains(expected), "{expected:?} missing:\n{shown}");
    }
    // Ad-hoc: the failed command's whole [ERROR] block and its result, in `error`.
    let args = ["h1", "-m", "command", "-a", "false"];
    let ours = stockman(&p, &[&["adhoc"], &args[..]].concat(), &[]);
    let theirs = run_in(&p, &ANSIBLE_PLAYBOOK.replace("ansible-playbook", "ansible"), &args, &[]);
    let shown = format!("--- stockman:\n{}{}\n--- ansible:\n{}", ours.stdout, ours.stderr, theirs.stdout);
    assert_eq!(ours.code, theirs.code, "{shown}");
    assert_eq!(painted(&ours.stdout), painted(&theirs.stdout), "{shown}");
    assert!(ours.stdout.contains("\x1b[1;35mOrigin: <adhoc 'command' task>\x1b[0m"), "{shown}");
    // verbose: the `<host> ...` lines of -vvv (their words are stockman's own, so not compared).
    let verbose = stockman(&p, &["playbook", "-vvv", "site.yml"], &[("ANSIBLE_COLOR_VERBOSE", "color99")]);
    verbose.assert_code(0);
    assert!(verbose.stdout.lines().any(|l| l.starts_with("\x1b[38;5;99m<h1> ") && l.ends_with("\x1b[0m")), "{}", verbose.stdout);
    // A colour that is no colour: stockman stops before the run, naming the file, line and key
    // (Ansible warns on each line it would paint and drops the line).
    let bad = project(&sshd, &format!("{}[colors]\nok = blurple\n", full_cfg(&sshd)));
    let run = stockman(&bad, &["playbook", "site.yml"], &[]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("ansible.cfg:") && run.stderr.contains("`ok`: `blurple` is not a colour; a colour is one of"), "{}", run.stderr);
    assert!(!run.stdout.contains("PLAY RECAP"), "{}", run.stdout);
    let run = stockman(&p, &["playbook", "site.yml"], &[("ANSIBLE_COLOR_OK", "rgb600")]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("ANSIBLE_COLOR_OK") && run.stderr.contains("`rgb600` is not a colour"), "{}", run.stderr);
}

#[test]
fn log_path_time_stamps_are_local_time_as_ansible_writes_them() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd).replacen("[defaults]\n", "[defaults]\nlog_path = run.log\n", 1));
    // POSIX TZ: five hours ahead of UTC (no zone files needed).
    let tz = [("TZ", "XYZ-5")];
    let hour = |p: &Project| -> String {
        let log = std::fs::read_to_string(p.path("run.log")).unwrap();
        std::fs::remove_file(p.path("run.log")).unwrap();
        log.lines().find(|l| l.contains(" p=")).map(|l| l[11..13].to_string()).unwrap_or_default()
    };
    let utc_hour = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 3600 + 5) % 24;
    stockman(&p, &["playbook", "site.yml"], &tz).assert_code(0);
    let ours = hour(&p);
    run_in(&p, ANSIBLE_PLAYBOOK, &["site.yml"], &tz).assert_code(0);
    let theirs = hour(&p);
    assert_eq!(ours, theirs);
    assert_eq!(ours, format!("{utc_hour:02}"), "UTC+5");
}

const JSON_PLAY: &str = "\
- name: the json play
  hosts: web
  tasks:
    - name: echo
      command: echo hi
    - name: a message
      debug:
        msg: \"héllo\"
    - name: fails and is ignored
      command: /bin/false
      ignore_errors: true
    - name: skipped
      debug: msg=x
      when: false
    - name: a loop
      debug: var=item
      loop: [1, 2]
    - name: secret
      command: echo s3cret
      no_log: true
- name: second
  hosts: h1
  tasks:
    - block:
        - name: fails
          command: /bin/false
      rescue:
        - name: rescues
          debug: msg=rescued
";

/// The keys only Ansible's results carry: its modules' echo of their arguments (`invocation`),
/// a failed module's `exception` ("(traceback unavailable)"), the deprecation and warning lists
/// its modules return empty, loop bookkeeping (`ansible_loop_var`) and its internal
/// `_ansible_*` flags; stockman's results do not have them (README, "Where stockman deliberately differs").
const ANSIBLE_ONLY_KEYS: &[&str] = &["invocation", "exception", "deprecations", "warnings", "ansible_loop_var", "_ansible_no_log", "_ansible_verbose_always", "_ansible_item_label", "_ansible_ignore_errors"];

fn json_document(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{stdout}"))
}

/// Ids and times replaced, ANSIBLE_ONLY_KEYS dropped. A `when: false` shows as the string
/// 'False' in stockman's results (it keeps conditions as text), false in Ansible's.
fn normalise_json(doc: &mut serde_json::Value) {
    use serde_json::Value;
    match doc {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                match k.as_str() {
                    "id" | "start" | "end" | "delta" => *v = Value::String("T".into()),
                    "false_condition" if v == "False" => *v = Value::Bool(false),
                    _ => normalise_json(v),
                }
            }
            for key in ANSIBLE_ONLY_KEYS {
                m.remove(*key);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_json),
        _ => {}
    }
}

/// Keeps, in each host result of `a` and `b`, only the keys both have; returns the keys dropped from each.
fn shared_result_keys(a: &mut serde_json::Value, b: &mut serde_json::Value) -> (Vec<String>, Vec<String>) {
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    let plays = a["plays"].as_array_mut().unwrap().iter_mut().zip(b["plays"].as_array_mut().unwrap().iter_mut());
    for (pa, pb) in plays {
        for (ta, tb) in pa["tasks"].as_array_mut().unwrap().iter_mut().zip(pb["tasks"].as_array_mut().unwrap().iter_mut()) {
            let (ha, hb) = (ta["hosts"].as_object_mut().unwrap(), tb["hosts"].as_object_mut().unwrap());
            for (host, ra) in ha.iter_mut() {
                let Some(rb) = hb.get_mut(host) else { continue };
                let (ma, mb) = (ra.as_object_mut().unwrap(), rb.as_object_mut().unwrap());
                only_a.extend(ma.keys().filter(|k| !mb.contains_key(*k)).cloned());
                only_b.extend(mb.keys().filter(|k| !ma.contains_key(*k)).cloned());
                ma.retain(|k, _| mb.contains_key(k));
                let keep: Vec<String> = ma.keys().cloned().collect();
                mb.retain(|k, _| keep.contains(k));
            }
        }
    }
    only_a.sort();
    only_a.dedup();
    only_b.sort();
    only_b.dedup();
    (only_a, only_b)
}

#[test]
fn stdout_callback_json_prints_what_ansible_posix_json_prints() {
    let sshd = TestSshd::start();
    let p = project(&sshd, &full_cfg(&sshd));
    p.write("json.yml", JSON_PLAY);
    let env = [("ANSIBLE_STDOUT_CALLBACK", "json")];
    let ours = stockman(&p, &["playbook", "json.yml"], &env);
    let theirs = run_in(&p, ANSIBLE_PLAYBOOK, &["json.yml"], &env);
    assert_eq!(ours.code, theirs.code, "{}\n{}", ours.stderr, theirs.stderr);
    // Indent 4 and sorted keys, non-ASCII escaped: the text itself is laid out as Ansible's.
    assert!(ours.stdout.starts_with("{\n    \"custom_stats\": {},\n    \"global_custom_stats\": {},\n    \"plays\": [\n"), "{}", ours.stdout);
    assert!(ours.stdout.contains(r#""msg": "h\u00e9llo""#) && theirs.stdout.contains(r#""msg": "h\u00e9llo""#), "{}", ours.stdout);
    assert!(!ours.stdout.contains("s3cret"), "{}", ours.stdout);
    let (mut a, mut b) = (json_document(&ours.stdout), json_document(&theirs.stdout));
    normalise_json(&mut a);
    normalise_json(&mut b);
    let (only_ours, only_theirs) = shared_result_keys(&mut a, &mut b);
    // (Values compare as maps: key order aside, as the printed documents sort them.)
    assert!(a == b, "keys only in stockman's results: {only_ours:?}; only in Ansible's: {only_theirs:?}\n--- stockman:\n{}\n--- ansible:\n{}", ours.stdout, theirs.stdout);
    // No result key is lost beyond those named: the comparison above covers every other one.
    assert!(only_theirs.is_empty(), "Ansible's results have keys stockman's lack: {only_theirs:?}");
    // json_indent 0: one line, as the plugin writes it without an indent.
    let one_line = stockman(&p, &["playbook", "json.yml"], &[("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json"), ("ANSIBLE_JSON_INDENT", "0")]);
    assert_eq!(one_line.stdout.lines().count(), 1, "{}", one_line.stdout);
    json_document(&one_line.stdout);
}
