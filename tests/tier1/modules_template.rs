//! `template`'s Ansible extras through the real binary against the tier-1
//! sshd: the template_* variables and ansible_managed, trim_blocks,
//! lstrip_blocks, newline_sequence, output_encoding, mode: preserve.

use std::os::unix::fs::PermissionsExt;

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - template: {src: vars.j2, dest: "{{ remote }}/vars.txt", mode: preserve}
    - template: {src: blocks.j2, dest: "{{ remote }}/default.txt"}
    - template: {src: blocks.j2, dest: "{{ remote }}/lstrip.txt", lstrip_blocks: true}
    - template: {src: blocks.j2, dest: "{{ remote }}/notrim.txt", trim_blocks: false}
    - template: {src: blocks.j2, dest: "{{ remote }}/crlf.txt", lstrip_blocks: true, newline_sequence: "\r\n"}
    - template: {src: blocks.j2, dest: "{{ remote }}/latin.txt", output_encoding: latin-1}
      ignore_errors: true
"#;

const VARS: &str = "# {{ ansible_managed }}\npath={{ template_path | basename }} full={{ template_fullpath[:1] }} dest={{ template_destpath | basename }} host={{ template_host }} uid={{ template_uid }} date={{ template_run_date[:2] }}\n";
const BLOCKS: &str = "{% if true %}\n  {% if true %}\ninner\n  {% endif %}\n{% endif %}\n";

#[test]
fn template_extras_match_ansible() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("t.yml", PLAY).write("templates/vars.j2", VARS).write("templates/blocks.j2", BLOCKS);
    std::fs::set_permissions(p.path("templates/vars.j2"), std::fs::Permissions::from_mode(0o751)).unwrap();
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "t.yml", &["-e", &remote]);
    assert_eq!(run.recap("h"), recap("h", 6, 5, 0, 0, 0, 1), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("output_encoding `latin-1` is not supported"), "{}", run.stdout);
    let read = |name: &str| std::fs::read_to_string(p.remote(name)).unwrap();
    let user = String::from_utf8(std::process::Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(read("vars.txt"), format!("# Ansible managed\npath=vars.j2 full=/ dest=vars.txt host={} uid={} date=20\n", host.trim(), user.trim()));
    assert_eq!(std::fs::metadata(p.remote("vars.txt")).unwrap().permissions().mode() & 0o7777, 0o751, "mode: preserve");
    assert_eq!(read("default.txt"), "  inner\n  \n", "as ansible-core 2.19 renders it");
    assert_eq!(read("lstrip.txt"), "inner\n");
    assert_eq!(read("notrim.txt"), "\n  \ninner\n  \n");
    assert_eq!(read("crlf.txt"), "inner\r\n");
    assert!(!p.remote("latin.txt").exists());
}
