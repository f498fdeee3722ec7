//! Reuse: include_tasks, include_role, import_role, import_playbook and
//! include_vars through the real binary against the tier-1 sshd.

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

#[test]
fn includes_roles_and_include_vars_match_ansible() {
    crate::differential::compare("reuse/main.yml", &[]);
}

#[test]
fn included_role_files_and_templates_come_from_the_role() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write(
        "site.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - include_role:
        name: web
        tasks_from: deploy
      vars:
        dest: "{{ lookup('env', 'REMOTE') }}"
"#,
    );
    p.write("roles/web/tasks/deploy.yml", "- copy: {src: site.txt, dest: '{{ dest }}/site.txt'}\n- template: {src: conf.j2, dest: '{{ dest }}/conf'}\n");
    p.write("roles/web/files/site.txt", "from the role\n");
    p.write("files/site.txt", "from the playbook\n");
    p.write("roles/web/templates/conf.j2", "role={{ role_name }}\n");
    let run = p.run(&sshd, "site.yml", &[]);
    run.assert_code(0);
    assert_eq!(std::fs::read_to_string(p.remote("site.txt")).unwrap(), "from the role\n");
    assert_eq!(std::fs::read_to_string(p.remote("conf")).unwrap(), "role=web\n");
    assert!(run.stdout.contains("included: web for h1"), "{}", run.stdout);
}

#[test]
fn include_vars_sits_above_play_vars_and_below_extra_vars() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write(
        "site.yml",
        r#"
- hosts: all
  gather_facts: false
  vars:
    a: play
    b: play
  tasks:
    - include_vars: more.yml
    - assert:
        that: [a == 'file', b == 'extra', c == 'file']
"#,
    );
    p.write("vars/more.yml", "a: file\nb: file\nc: file\n");
    p.run(&sshd, "site.yml", &["-e", "b=extra"]).assert_code(0);
}

#[test]
fn a_failure_in_an_included_file_is_rescued_and_a_missing_file_named() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2"]).write(
        "site.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - include_tasks: fails.yml
      rescue:
        - debug: {msg: "rescued {{ ansible_failed_task.name }}"}
    - include_tasks: "{{ 'missing' }}.yml"
      when: inventory_hostname == 'h2'
"#,
    );
    p.write("fails.yml", "- name: boom\n  command: 'false'\n");
    let run = p.run(&sshd, "site.yml", &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("rescued boom"), "{}", run.stdout);
    assert!(run.stdout.contains("could not find the task file `missing.yml`"), "{}", run.stdout);
    assert_eq!(run.recap("h1"), "h1 : ok=2 changed=0 unreachable=0 failed=0 skipped=1 rescued=1 ignored=0");
    assert_eq!(run.recap("h2"), recap("h2", 2, 0, 0, 1, 0, 0).replace("rescued=0", "rescued=1"));
}

#[test]
fn tags_select_the_include_and_apply_passes_them_on() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write(
        "site.yml",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks:
        file: t.yml
        apply: {tags: [web]}
      tags: [web]
    - include_tasks: t.yml
"#,
    );
    p.write("t.yml", "- name: inside\n  debug: {msg: inside}\n");
    let run = p.run(&sshd, "site.yml", &["--tags", "web"]);
    run.assert_code(0);
    assert_eq!(run.stdout.matches("TASK [inside]").count(), 1, "{}", run.stdout);
    assert_eq!(run.recap("h1"), recap("h1", 2, 0, 0, 0, 0, 0));
}

#[test]
fn load_errors_name_the_place_and_the_fix() {
    let p = Project::new();
    p.write("hosts.ini", "h1\n");
    let cases = [
        ("- hosts: all\n  tasks:\n    - import_role: {name: nope}\n", "the role `nope` was not found", "site.yml:3:"),
        ("- hosts: all\n  tasks:\n    - import_role: {name: r}\n      loop: [1]\n", "`import_role` cannot loop", "include_role"),
        ("- import_playbook: other.yml\n", "the playbook `other.yml` to import was not found", "site.yml:1:"),
        ("- hosts: all\n  tasks:\n    - include_vars: {fil: x.yml}\n", "`fil` is not a valid attribute", "did you mean `file`"),
    ];
    for (text, message, detail) in cases {
        p.write("site.yml", text);
        let run = p.run_with_home(None, "site.yml", &["--syntax-check"]);
        assert_ne!(run.code, 0, "{text}");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains(message) && all.contains(detail), "{text}\n{all}");
    }
}

#[test]
fn list_tasks_tags_and_hosts_match_ansible() {
    crate::differential::compare("reuse/listing.yml", &["--list-tasks", "--list-tags", "--list-hosts"]);
    crate::differential::compare("reuse/listing.yml", &["--list-tasks", "--tags", "install,inc", "--skip-tags", "always"]);
    crate::differential::compare("reuse/listing.yml", &["--list-tags", "--limit", "h2"]);
    crate::differential::compare("reuse/main.yml", &["--list-tasks"]);
}

#[test]
fn start_at_task_matches_ansible() {
    crate::differential::compare("reuse/listing.yml", &["--start-at-task", "Install*"]);
    crate::differential::compare("reuse/listing.yml", &["--start-at-task", "in a block"]);
    crate::differential::compare("reuse/listing.yml", &["--start-at-task", "base : *"]);
}

#[test]
fn blocks_and_imports_in_handlers_match_ansible() {
    crate::differential::compare("reuse/handlers.yml", &[]);
}

#[test]
fn step_without_a_terminal_is_a_clear_error() {
    let p = Project::new();
    p.write("hosts.ini", "h1 ansible_connection=local\n").write("site.yml", "- hosts: all\n  tasks:\n    - debug: {msg: hi}\n");
    let run = p.run_with_home(None, "site.yml", &["--step"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("--step") && run.stderr.contains("needs a terminal on stdin"), "{}", run.stderr);
    assert!(!run.stdout.contains("TASK ["), "{}", run.stdout);
}

/// Issue 13 item 4: `*_from` names that leave the role's directory are
/// refused before the file is read, as ansible-playbook refuses them.
#[test]
fn role_file_names_may_not_leave_the_role() {
    let p = Project::new();
    p.write("hosts.ini", "h1\n");
    p.write("roles/r1/tasks/main.yml", "- debug: msg=main\n");
    p.write("roles/r1/vars/main.yml", "x: 1\n");
    p.write("evil_tasks.yml", "- debug: msg=EVIL\n");
    p.write("evil_vars.yml", "x: EVIL\n");
    let escapes = [
        ("tasks_from", "../../../../../../../../../../etc/passwd"),
        ("tasks_from", "/etc/passwd"),
        ("tasks_from", "../../../evil_tasks"),
        ("vars_from", "../../../evil_vars"),
        ("defaults_from", "../../../evil_vars"),
        ("handlers_from", "../../../evil_tasks"),
    ];
    for (option, name) in escapes {
        let text = format!("- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=before\n    - import_role: {{name: r1, {option}: {name}}}\n");
        p.write("site.yml", &text);
        let run = p.run_with_home(None, "site.yml", &[]);
        run.assert_code(4);
        assert!(run.stderr.contains("site.yml:5:") && run.stderr.contains("not inside the expected role path"), "{text}\n{}", run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("root:") && !all.contains("EVIL"), "nothing of the file is read or shown: {all}");
        assert!(!run.stdout.contains("before"), "refused at load: {}", run.stdout);
    }
}

/// An `include_role` escaping its role fails that task while the play runs,
/// naming the task's place; the file outside is never run.
#[test]
fn an_included_role_file_outside_the_role_fails_the_task() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write("roles/r1/tasks/main.yml", "- debug: msg=main\n");
    p.write("evil_tasks.yml", "- debug: msg=EVIL\n");
    p.write(
        "site.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=before\n    - include_role: {name: r1, tasks_from: ../../../evil_tasks}\n    - debug: msg=after\n",
    );
    let run = p.run(&sshd, "site.yml", &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("before") && !run.stdout.contains("EVIL") && !run.stdout.contains("after"), "{}", run.stdout);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("site.yml:5:") && all.contains("not inside the expected role path"), "{all}");
    // `before`, and the `included:` announcement, then the failure.
    assert_eq!(run.recap("h1"), recap("h1", 2, 0, 0, 1, 0, 0));
}

/// Issue 13 item 8: `include:` was removed from ansible-core 2.16 and
/// ansible-playbook 2.19 refuses it; so does stockman, naming both replacements.
#[test]
fn the_removed_include_is_refused_with_its_replacements() {
    let p = Project::new();
    p.write("hosts.ini", "h1\n");
    p.write("other.yml", "- debug: msg=INCLUDED\n");
    let cases = [
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=before\n    - include: other.yml\n",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=before\n    - ansible.builtin.include: other.yml\n",
        "- hosts: all\n  gather_facts: false\n  handlers:\n    - debug: msg=before\n    - include: other.yml\n  tasks: []\n",
    ];
    for text in cases {
        p.write("site.yml", text);
        let run = p.run_with_home(None, "site.yml", &[]);
        run.assert_code(4);
        assert!(run.stderr.contains("site.yml:5:7"), "{text}\n{}", run.stderr);
        assert!(run.stderr.contains("The 'ansible.builtin.include' action plugin has been removed"), "{}", run.stderr);
        assert!(run.stderr.contains("import_tasks") && run.stderr.contains("include_tasks"), "{}", run.stderr);
        assert!(!run.stdout.contains("INCLUDED") && !run.stdout.contains("before"), "{}", run.stdout);
    }
}

/// A role with an argument spec gets Ansible's validation task first: tagged
/// `always` (it runs under `--tags` that skip the role's own tasks), failing
/// with every error at once before the role's tasks, counted in the recap.
#[test]
fn role_argument_spec_is_checked_first_even_under_other_tags() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write("roles/r/meta/main.yml", "argument_specs:\n  main:\n    short_description: Role R.\n    options:\n      r_port: {type: int, required: true}\n      r_mode: {choices: [a, b]}\n");
    p.write("roles/r/tasks/main.yml", "- name: inside r\n  debug: msg=inside\n");
    p.write("pb.yml", "- hosts: h1\n  gather_facts: false\n  roles:\n    - {role: r, r_mode: c, tags: [foo]}\n");
    let run = p.run(&sshd, "pb.yml", &["--tags", "bar"]);
    run.assert_code(2);
    assert!(run.stdout.contains("TASK [r : Validating arguments against arg spec 'main' - Role R.]"), "{}", run.stdout);
    assert!(run.stdout.contains(r#""argument_errors": ["missing required arguments: r_port", "value of r_mode must be one of: a, b, got: c"]"#), "{}", run.stdout);
    assert!(!run.stdout.contains("inside r"), "{}", run.stdout);
    assert!(run.recap("h1").contains("failed=1"), "{}", run.stdout);
}

/// meta/argument_specs.yml wins over meta/main.yml; a spec that is not a
/// mapping stops the load with its file and line.
#[test]
fn role_argument_specs_file_wins_and_bad_specs_are_load_errors() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write("roles/r/meta/main.yml", "argument_specs:\n  main:\n    options:\n      never: {required: true}\n");
    p.write("roles/r/meta/argument_specs.yml", "argument_specs:\n  main:\n    options:\n      r_port: {type: int}\n");
    p.write("roles/r/tasks/main.yml", "- debug: msg=inside\n");
    p.write("pb.yml", "- hosts: h1\n  gather_facts: false\n  roles:\n    - {role: r, r_port: '80'}\n");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("TASK [r : Validating arguments against arg spec 'main']"), "{}", run.stdout);
    assert!(run.stdout.contains("inside"), "{}", run.stdout);
    p.write("roles/r/meta/argument_specs.yml", "argument_specs:\n  - main\n");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(4);
    assert!(run.stderr.contains("`argument_specs` must be a mapping of entry points, found a list"), "{}", run.stderr);
    assert!(run.stderr.contains("argument_specs.yml:2:3"), "{}", run.stderr);
}

/// validate_argument_spec as a task: variables named in the spec are checked
/// with `provided_arguments` on top; a `no_log` option's value never shows.
#[test]
fn validate_argument_spec_checks_vars_and_hides_no_log_values() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: h1
  gather_facts: false
  vars:
    port: "not a port"
  tasks:
    - validate_argument_spec:
        argument_spec:
          port: {type: int}
          token: {choices: [a, b], no_log: true}
          level: {type: int}
        provided_arguments:
          level: "3"
      register: checked
      ignore_errors: true
    - debug:
        msg: "{{ checked.argument_errors | length }} {{ checked.failed }}"
"#,
    );
    let run = p.run(&sshd, "pb.yml", &["-v", "-e", "token=hunter2-secret"]);
    run.assert_code(0);
    assert!(run.stdout.contains(r#"argument 'port' is of type str and we were unable to convert to int: \"'not a port'\" cannot be converted to an int"#), "{}", run.stdout);
    assert!(run.stdout.contains("value of token must be one of: a, b, got: ********"), "{}", run.stdout);
    assert!(!run.stdout.contains("hunter2-secret") && !run.stderr.contains("hunter2-secret"), "{}", run.stdout);
    assert!(run.stdout.contains("\"msg\": \"2 True\""), "{}", run.stdout);
}

/// `NAMESPACE.COLLECTION.ROLE` finds the role in `collections/` beside the
/// playbook; banners name it in full, its argument spec's context by its own name.
#[test]
fn collection_roles_beside_the_playbook_are_found() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let role = "collections/ansible_collections/ns/coll/roles/r";
    p.write(&format!("{role}/tasks/main.yml"), "- name: inside\n  debug: msg=inside\n");
    p.write(&format!("{role}/meta/argument_specs.yml"), "argument_specs:\n  main:\n    options:\n      x: {required: true}\n");
    p.write("pb.yml", "- hosts: h1\n  gather_facts: false\n  tasks:\n    - import_role: {name: ns.coll.r}\n      vars: {x: 1}\n    - block:\n        - include_role: {name: ns.coll.r}\n      rescue:\n        - debug: msg={{ ansible_failed_result.validate_args_context.name }}\n");
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("TASK [ns.coll.r : inside]"), "{}", run.stdout);
    assert!(run.stdout.contains("missing required arguments: x"), "{}", run.stdout);
    assert!(run.stdout.contains("\"msg\": \"r\""), "{}", run.stdout);
}
