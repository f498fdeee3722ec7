//! The Ansible fallback's limits, over the tier-1 sshd: a module no one
//! provides is a load error naming where stockman looked and what would
//! provide it, unless its task may not run (then it fails where it runs);
//! a host without the interpreter gets a failed result saying so.

use crate::output_json::run_env;
use crate::run::{Project, Run};
use crate::sshd::TestSshd;

const ANSIBLE_PYTHON: &str = "/var/cache/stockman/ansible-venv/bin/python3";

fn project(sshd: &TestSshd, playbook: &str) -> Project {
    let p = Project::new();
    p.inventory(sshd, &["h1"]).write("site.yml", playbook);
    p
}

/// Runs `playbook` with the venv's ansible-core; `args` are extra flags.
fn run(playbook: &str, args: &[&str]) -> Run {
    let sshd = TestSshd::start();
    let p = project(&sshd, playbook);
    run_env(&p, &sshd, "site.yml", args, &[("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)])
}

/// The whole output of a playbook refused at load time.
fn refused(playbook: &str) -> String {
    let run = run(playbook, &[]);
    run.assert_code(4);
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn a_module_no_one_provides_is_a_load_error_with_the_install_line() {
    let all = refused("- hosts: all\n  gather_facts: false\n  tasks:\n    - acme.widgets.frobnicate:\n        path: /tmp/k\n");
    assert!(all.contains("couldn't resolve module/action `acme.widgets.frobnicate`"), "{all}");
    assert!(all.contains("ansible-venv/lib/python3.11/site-packages/ansible_collections"), "names where it looked: {all}");
    assert!(all.contains("`ansible-galaxy collection install acme.widgets` would provide it"), "{all}");
    assert!(all.contains("site.yml:4:7"), "{all}");
}

#[test]
fn a_missing_module_in_a_branch_loads_and_fails_only_where_it_runs() {
    let playbook = "- hosts: all\n  gather_facts: false\n  tasks:\n    - acme.widgets.frobnicate:\n        path: /tmp/k\n      when: run_it | bool\n    - ansible.posix.synchronize:\n        src: a\n        dest: b\n      when: run_it | bool\n";
    let skipped = run(playbook, &["-e", "run_it=false"]);
    skipped.assert_code(0);
    assert!(skipped.stdout.contains("skipping: [h1]"), "{}", skipped.stdout);
    let ran = run(playbook, &["-e", "run_it=true"]);
    ran.assert_code(2);
    assert!(ran.stdout.contains("fatal: [h1]: FAILED!"), "{}", ran.stdout);
    assert!(ran.stdout.contains("`ansible-galaxy collection install acme.widgets` would provide it"), "{}", ran.stdout);
}

#[test]
fn action_plugin_modules_are_refused_naming_the_plugin() {
    let all = refused("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.synchronize:\n        src: a\n        dest: b\n");
    assert!(all.contains("controller-side action plugin") && all.contains("ansible/posix/plugins/action/synchronize.py"), "{all}");
}

#[test]
fn a_host_without_the_interpreter_gets_a_failed_result_saying_so() {
    // ini_file: a module stockman has no native one of.
    let run = run("- hosts: all\n  gather_facts: false\n  vars:\n    ansible_python_interpreter: /nonexistent/python3\n  tasks:\n    - community.general.ini_file:\n        path: /nonexistent/x.ini\n        value: x\n        create: false\n", &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("module `community.general.ini_file` is not native to stockman") && run.stdout.contains("needs Python on h1"), "{}", run.stdout);
}

#[test]
fn hostile_values_reach_the_module_as_data_and_the_interpreter_is_discovered_once() {
    // ini_file (not native) fails naming the path it was given, byte for byte.
    let run = run("- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.ini_file:\n        path: \"{{ playbook_dir }}/x.ini\"\n        section: s\n        option: o\n        value: x\n      register: first\n      ignore_errors: true\n    - community.general.ini_file:\n        path: \"/nonexistent/$(touch /tmp/stockman-pwned) ' \\\" x\"\n        value: x\n        create: false\n      register: second\n      ignore_errors: true\n    - debug:\n        msg: \"{{ first.ansible_facts.discovered_interpreter_python }} / {{ second.ansible_facts is defined }} / {{ second.msg }} / {{ discovered_interpreter_python }}\"\n", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"msg\": \"/usr/bin/python3 / False / Destination /nonexistent/$(touch /tmp/stockman-pwned) ' \\\" x does not exist! / /usr/bin/python3\""), "{}", run.stdout);
    assert!(!std::path::Path::new("/tmp/stockman-pwned").exists());
}

#[test]
fn routing_deprecations_are_printed_once_as_ansible_words_them() {
    let run = run("- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.facter:\n      ignore_errors: true\n    - community.general.facter:\n      ignore_errors: true\n", &[]);
    let notice = "[DEPRECATION WARNING]: community.general.facter has been deprecated. Use community.general.facter_facts instead. This feature will be removed from collection 'community.general' version 12.0.0.";
    assert_eq!(run.stderr.matches(notice).count(), 1, "{}", run.stderr);
}

#[test]
fn stockman_modules_lists_native_fallback_and_missing_per_task() {
    let p = Project::new();
    p.write("site.yml", "- hosts: all\n  tasks:\n    - name: native\n      copy:\n        content: x\n        dest: /tmp/x\n    - ini_file:\n        path: /tmp/x.ini\n    - name: elsewhere\n      acme.widgets.frobnicate: {}\n      when: false\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stockman"))
        .args(["modules", "site.yml"])
        .current_dir(p.dir.path())
        .env("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "playbook: site.yml");
    assert!(lines[1].ends_with("site.yml:3:7\tnative\tcopy\tnative"), "{text}");
    assert!(lines[2].contains("site.yml:7:7\tini_file\tini_file\tfallback community.general.ini_file (") && lines[2].ends_with("ansible_collections/community/general/plugins/modules/ini_file.py)"), "{text}");
    assert!(lines[3].contains("site.yml:9:7\telsewhere\tacme.widgets.frobnicate\tmissing: couldn't resolve module/action `acme.widgets.frobnicate`"), "{text}");
}
