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
    // pam_limits: a module stockman has no native one of.
    let run = run("- hosts: all\n  gather_facts: false\n  vars:\n    ansible_python_interpreter: /nonexistent/python3\n  tasks:\n    - community.general.pam_limits:\n        dest: /nonexistent/limits.conf\n        domain: x\n        limit_type: soft\n        limit_item: nofile\n        value: 1\n", &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("module `community.general.pam_limits` is not native to stockman") && run.stdout.contains("needs Python on h1"), "{}", run.stdout);
}

#[test]
fn hostile_values_reach_the_module_as_data_and_the_interpreter_is_discovered_once() {
    // pam_limits (not native) fails naming the directory it was given, byte for byte.
    let run = run("- hosts: all\n  gather_facts: false\n  tasks:\n    - community.general.pam_limits:\n        dest: \"{{ playbook_dir }}/limits.conf\"\n        domain: x\n        limit_type: soft\n        limit_item: nofile\n        value: 1\n      register: first\n      ignore_errors: true\n    - community.general.pam_limits:\n        dest: \"/nonexistent/$(touch /tmp/stockman-pwned) ' \\\" x/limits.conf\"\n        domain: x\n        limit_type: soft\n        limit_item: nofile\n        value: 1\n      register: second\n      ignore_errors: true\n    - debug:\n        msg: \"{{ first.ansible_facts.discovered_interpreter_python }} / {{ second.ansible_facts is defined }} / {{ second.msg }} / {{ discovered_interpreter_python }}\"\n", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"msg\": \"/usr/bin/python3 / False / directory /nonexistent/$(touch /tmp/stockman-pwned) ' \\\" x is not writable (check presence, access rights, use sudo) / /usr/bin/python3\""), "{}", run.stdout);
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
    p.write("site.yml", "- hosts: all\n  tasks:\n    - name: native\n      copy:\n        content: x\n        dest: /tmp/x\n    - pam_limits:\n        dest: /tmp/x.conf\n    - name: elsewhere\n      acme.widgets.frobnicate: {}\n      when: false\n");
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
    assert!(lines[2].contains("site.yml:7:7\tpam_limits\tpam_limits\tfallback community.general.pam_limits (") && lines[2].ends_with("ansible_collections/community/general/plugins/modules/pam_limits.py)"), "{text}");
    assert!(lines[3].contains("site.yml:9:7\telsewhere\tacme.widgets.frobnicate\tmissing: couldn't resolve module/action `acme.widgets.frobnicate`"), "{text}");
}

/// The stdin sizes of the bootstrap runs a `-vvv` run traced, in order.
fn bootstrap_stdin_sizes(run: &Run) -> Vec<usize> {
    let size = regex::Regex::new(r"\(stdin: (\d+) bytes\)").unwrap();
    let all = format!("{}{}", run.stdout, run.stderr);
    all.split("EXEC ")
        .filter(|chunk| chunk.contains("def stockman_bundle"))
        .map(|chunk| size.captures(chunk).unwrap_or_else(|| panic!("no stdin size in {chunk}"))[1].parse().unwrap())
        .collect()
}

#[test]
fn the_bundle_is_kept_on_the_host_named_by_its_hash_and_checked_before_use() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let rtmp = p.path("rtmp");
    let playbook = format!("- hosts: all\n  gather_facts: false\n  vars:\n    ansible_remote_tmp: {}\n  tasks:\n    - community.general.pam_limits:\n        dest: \"{{{{ playbook_dir }}}}/limits.conf\"\n        domain: x\n        limit_type: soft\n        limit_item: nofile\n        value: 1\n    - community.general.pam_limits:\n        dest: \"{{{{ playbook_dir }}}}/limits.conf\"\n        domain: x\n        limit_type: soft\n        limit_item: nofile\n        value: 1\n", rtmp.display());
    p.write("site.yml", &playbook);
    let go = || run_env(&p, &sshd, "site.yml", &["-vvv"], &[("STOCKMAN_ANSIBLE_PYTHON", ANSIBLE_PYTHON)]);
    let big = |n: &usize| *n > 20_000;

    // Cold: the cache is asked (small), the bundle sent (big) and kept; the second task only names it.
    let first = go();
    first.assert_code(0);
    let sizes = bootstrap_stdin_sizes(&first);
    assert_eq!(sizes.iter().map(big).collect::<Vec<_>>(), [false, true, false], "{sizes:?}");
    let cache = rtmp.join("stockman-bundles");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);
    let kept: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 1, "one bundle, no temporary file left: {kept:?}");
    let name = kept[0].file_name().unwrap().to_string_lossy().into_owned();
    let bytes = std::fs::read(&kept[0]).unwrap();
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(name, digest, "named by its SHA-256");

    // Warm (a later run): nothing big is sent.
    let second = go();
    second.assert_code(0);
    assert!(!bootstrap_stdin_sizes(&second).iter().any(big), "{:?}", bootstrap_stdin_sizes(&second));

    // A damaged copy is not used: the bundle is sent again and the copy replaced.
    std::fs::write(&kept[0], b"not the bundle").unwrap();
    let third = go();
    third.assert_code(0);
    assert_eq!(bootstrap_stdin_sizes(&third).iter().map(big).collect::<Vec<_>>(), [false, true, false]);
    assert_eq!(std::fs::read(&kept[0]).unwrap(), bytes);

    // A cache directory others may write to is neither read nor written:
    // the bundle is sent every time, without asking first after the first miss.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let fourth = go();
    fourth.assert_code(0);
    assert_eq!(bootstrap_stdin_sizes(&fourth).iter().map(big).collect::<Vec<_>>(), [false, true, true]);
}
