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
