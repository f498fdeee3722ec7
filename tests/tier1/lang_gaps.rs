//! Playbook-language gaps closed against ansible-playbook 2.19: NO MORE HOSTS
//! LEFT, ansible_play_hosts after failures, undefined attribute chains,
//! play-level keywords, templated serial, hostvars rendering templates, and
//! include file names using hostvars.

use crate::differential::compare;

#[test]
fn all_hosts_failed_ends_the_run_like_ansible() {
    compare("gaps/no_more_hosts.yml", &[]);
}

#[test]
fn a_whole_failed_serial_batch_ends_the_run_like_ansible() {
    compare("gaps/no_more_hosts_serial.yml", &[]);
}

#[test]
fn hosts_failing_one_by_one_end_the_run_like_ansible() {
    compare("gaps/no_more_hosts_split.yml", &[]);
}

#[test]
fn play_hosts_drop_failed_hosts_like_ansible() {
    compare("gaps/play_hosts.yml", &[]);
}

#[test]
fn undefined_chains_under_default_like_ansible() {
    compare("gaps/undefined_chain.yml", &[]);
}

#[test]
fn play_keywords_reach_tasks_like_ansible() {
    compare("gaps/play_keywords.yml", &[]);
}

#[test]
fn templated_serial_like_ansible() {
    compare("gaps/serial_template.yml", &[]);
}

#[test]
fn hostvars_render_templates_for_their_host_like_ansible() {
    compare("gaps/hostvars_template.yml", &["-e", "gap_extra={{ inventory_hostname }}-extra"]);
}
