//! Variables as ansible-playbook 2.19 resolves them: set_fact names written
//! as templates.

use crate::differential::compare;
use crate::run::Project;
use crate::sshd::TestSshd;

#[test]
fn set_fact_with_templated_keys_like_ansible() {
    compare("lazy/set_fact_keys.yml", &[]);
}

#[test]
fn set_fact_refuses_a_rendered_name_that_is_no_variable_name() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    p.write(
        "pb.yml",
        r#"
- hosts: test
  gather_facts: false
  tasks:
    - set_fact:
        "{{ 'not valid' }}": 1
"#,
    );
    let run = p.run(&sshd, "pb.yml", &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("Invalid variable name 'not valid'"), "{}", run.stdout);
}

#[test]
fn variables_rendering_through_each_other_like_ansible() {
    compare("lazy/chains.yml", &["-e", "lz_extra_ok={{ lz_base }}+"]);
}

/// The `fatal:` lines' messages, in output order.
fn fatal_messages(stdout: &str) -> Vec<String> {
    let msg = regex::Regex::new(r#"^fatal: \[h1\]: FAILED! => .*"msg": "([^"]*)""#).unwrap();
    stdout.lines().filter_map(|l| Some(msg.captures(l)?[1].to_string())).collect()
}

/// ansible-playbook 2.19 fails each of these tasks with "Recursive loop
/// detected in template: maximum recursion depth exceeded" (checked by hand
/// with -c local: play, task, inventory, -e and include_vars loops, under
/// `default`, `is defined`, `debug: var`, `when` and `copy`); stockman names
/// the chain and the task, and writes nothing.
#[test]
fn variables_using_each_other_in_a_loop_fail_naming_the_chain() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]);
    let mut inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    inventory.push_str("[test:vars]\ninv_a=\"{{ inv_b }}\"\ninv_b=\"{{ play_c }}\"\n");
    p.write("hosts.ini", &inventory);
    p.write("loop_vars.yml", "iv_a: \"{{ iv_b }}\"\niv_b: \"{{ iv_a }}\"\n");
    p.write(
        "pb.yml",
        &r#"
- hosts: test
  gather_facts: false
  vars:
    foo: "{{ foo | default('bar') }}"
    pkgs: "{{ pkgs + ['x'] }}"
    a: "{{ b }}"
    b: "{{ a }}"
    play_c: "{{ inv_a }}"
    fine: "{{ 1 + 1 }}"
  tasks:
    - debug: {msg: "{{ foo }}"}
      ignore_errors: true
    - debug: {msg: "{{ pkgs }}"}
      ignore_errors: true
    - debug: {msg: "{{ a is defined }}"}
      ignore_errors: true
    - debug: {msg: "{{ b | default('fallback') }}"}
      ignore_errors: true
    - debug: {var: a}
      ignore_errors: true
    - debug: {msg: never}
      when: a is defined
      ignore_errors: true
    - copy: {content: "{{ a }}", dest: "REMOTE/written"}
      ignore_errors: true
    - debug: {msg: "{{ play_c }}"}
      ignore_errors: true
    - debug: {msg: "{{ extra }}"}
      ignore_errors: true
    - debug: {msg: "{{ fine }}"}
      vars:
        fine: "{{ fine }}"
      ignore_errors: true
    - include_vars: loop_vars.yml
    - debug: {msg: "{{ iv_a }}"}
      ignore_errors: true
    - set_fact: {copied: "{{ a }}"}
      ignore_errors: true
    - debug: {msg: "{{ copied is defined }} {{ fine }}"}
"#
        .replace("REMOTE", &p.remote_str()),
    );
    let run = p.run(&sshd, "pb.yml", &["-e", "extra={{ extra }}"]);
    run.assert_code(0);
    let loop_in = |chain: &str, line: u32| format!("task `debug` at pb.yml:{line}:7: Recursive loop detected in template: {chain} (each variable's template uses the next)");
    let expected = [
        loop_in("foo -> foo", 12),
        loop_in("pkgs -> pkgs", 14),
        loop_in("a -> b -> a", 16),
        loop_in("b -> a -> b", 18),
        "Recursive loop detected in template: a -> b -> a (each variable's template uses the next)".to_string(),
        loop_in("a -> b -> a", 22),
        loop_in("a -> b -> a", 25).replace("`debug`", "`copy`"),
        loop_in("play_c -> inv_a -> inv_b -> play_c", 27),
        loop_in("extra -> extra", 29),
        loop_in("fine -> fine", 31),
        loop_in("iv_a -> iv_b -> iv_a", 36),
        loop_in("a -> b -> a", 38).replace("`debug`", "`set_fact`"),
    ];
    let stdout = run.stdout.replace(&format!("{}/", p.dir.path().display()), "");
    assert_eq!(fatal_messages(&stdout), expected, "{}", run.stdout);
    assert!(run.stdout.contains("\"msg\": \"False 2\""), "{}", run.stdout);
    assert_eq!(run.recap("h1"), crate::run::recap("h1", 14, 0, 0, 0, 0, 12));
    assert!(!p.remote("written").exists(), "a loop's text was written to the host");
}
