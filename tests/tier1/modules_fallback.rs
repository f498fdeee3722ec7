//! The Ansible fallback's limits, over the tier-1 sshd: a module no one
//! provides is a load error naming where stockman looked and what would
//! provide it, unless its task may not run (then it fails where it runs);
//! a host without the interpreter gets a failed result saying so.

use crate::output_json::run_env;
use crate::run::Project;
use crate::sshd::TestSshd;

const ANSIBLE_PYTHON: &str = "/var/cache/stockman/ansible-venv/bin/python3";

fn project(sshd: &TestSshd, playbook: &str) -> Project {
    let p = Project::new();
    p.inventory(sshd, &["h1"]).write("site.yml", playbook);
    p
}

#[test]
fn a_module_no_one_provides_is_a_load_error_with_the_install_line() {
    let sshd = TestSshd::start();
    let p = project(&sshd, "- hosts: all\n  gather_facts: false\n  tasks:\n    - acme.widgets.frobnicate:\n        path: /tmp/k\n");
    let run = run_env(&p, &sshd, "site.yml", &[], &[("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)]);
    run.assert_code(4);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("couldn't resolve module/action `acme.widgets.frobnicate`"), "{all}");
    assert!(all.contains("ansible-venv/lib/python3.11/site-packages/ansible_collections"), "names where it looked: {all}");
    assert!(all.contains("`ansible-galaxy collection install acme.widgets` would provide it"), "{all}");
    assert!(all.contains("site.yml:4:7"), "{all}");
}

#[test]
fn a_missing_module_in_a_branch_loads_and_fails_only_where_it_runs() {
    let sshd = TestSshd::start();
    let p = project(&sshd, "- hosts: all\n  gather_facts: false\n  tasks:\n    - acme.widgets.frobnicate:\n        path: /tmp/k\n      when: run_it | bool\n    - ansible.posix.synchronize:\n        src: a\n        dest: b\n      when: run_it | bool\n");
    let env = [("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)];
    let skipped = run_env(&p, &sshd, "site.yml", &["-e", "run_it=false"], &env);
    skipped.assert_code(0);
    assert!(skipped.stdout.contains("skipping: [h1]"), "{}", skipped.stdout);
    let ran = run_env(&p, &sshd, "site.yml", &["-e", "run_it=true"], &env);
    ran.assert_code(2);
    assert!(ran.stdout.contains("fatal: [h1]: FAILED!"), "{}", ran.stdout);
    assert!(ran.stdout.contains("`ansible-galaxy collection install acme.widgets` would provide it"), "{}", ran.stdout);
}

#[test]
fn action_plugin_modules_are_refused_naming_the_plugin() {
    let sshd = TestSshd::start();
    let p = project(&sshd, "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.posix.synchronize:\n        src: a\n        dest: b\n");
    let run = run_env(&p, &sshd, "site.yml", &[], &[("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)]);
    run.assert_code(4);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("controller-side action plugin") && all.contains("ansible/posix/plugins/action/synchronize.py"), "{all}");
}

#[test]
fn a_host_without_the_interpreter_gets_a_failed_result_saying_so() {
    let sshd = TestSshd::start();
    let p = project(&sshd, "- hosts: all\n  gather_facts: false\n  vars:\n    ansible_python_interpreter: /nonexistent/python3\n  tasks:\n    - ansible.builtin.ping:\n");
    let run = run_env(&p, &sshd, "site.yml", &[], &[("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)]);
    run.assert_code(2);
    assert!(run.stdout.contains("module `ansible.builtin.ping` is not native to stockman") && run.stdout.contains("needs Python on h1"), "{}", run.stdout);
}

#[test]
fn hostile_values_reach_the_module_as_data_and_the_interpreter_is_discovered_once() {
    let sshd = TestSshd::start();
    let p = project(&sshd, "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n      register: first\n    - ansible.builtin.ping:\n        data: \"$(touch /tmp/stockman-pwned) ' \\\" \\n x\"\n      register: second\n    - debug:\n        msg: \"{{ first.ansible_facts.discovered_interpreter_python }} / {{ second.ansible_facts is defined }} / {{ second.ping }} / {{ discovered_interpreter_python }}\"\n");
    let run = run_env(&p, &sshd, "site.yml", &[], &[("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"msg\": \"/usr/bin/python3 / False / $(touch /tmp/stockman-pwned) ' \\\" \\n x / /usr/bin/python3\""), "{}", run.stdout);
    assert!(!std::path::Path::new("/tmp/stockman-pwned").exists());
}
