//! `user` `generate_ssh_key` through the real binary against the tier-1 sshd.
//! sshd logs in as the user running the tests, so the account is that user
//! (nothing about it changes) and the keys go to a temp dir.

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - user:
        name: "{{ me }}"
        generate_ssh_key: true
        ssh_key_type: ed25519
        ssh_key_file: "{{ remote }}/keys/plain"
        ssh_key_comment: "c on $HOSTNAME"
      register: plain
    - user:
        name: "{{ me }}"
        generate_ssh_key: true
        ssh_key_type: rsa
        ssh_key_bits: 3072
        ssh_key_file: "{{ remote }}/keys/secret"
        ssh_key_passphrase: "{{ pass }}"
      register: secret
    - copy:
        content: "{{ plain.ssh_public_key }}|{{ plain.ssh_fingerprint }}|{{ secret.ssh_key_file }}"
        dest: "{{ remote }}/registered"
"#;

const PASS: &str = "s3cret 'p$(x)`;";

#[test]
fn generate_ssh_key_makes_a_key_once_and_keeps_the_passphrase_off_command_lines() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("key.yml", PLAY);
    let vars = serde_json::json!({"remote": p.remote_str(), "me": sshd.user, "pass": PASS}).to_string();
    let first = p.run(&sshd, "key.yml", &["-e", &vars, "-vvvv"]);
    assert_eq!(first.recap("h"), recap("h", 3, 3, 0, 0, 0, 0), "{}\n{}", first.stdout, first.stderr);
    assert!(!first.stdout.contains("s3cret") && !first.stderr.contains("s3cret"), "the passphrase leaked into the output");
    let public = std::fs::read_to_string(p.remote("keys/plain.pub")).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(public.starts_with("ssh-ed25519 ") && public.trim_end().ends_with(&format!("c on {}", host.trim())), "{public}");
    let registered = std::fs::read_to_string(p.remote("registered")).unwrap();
    assert!(registered.starts_with(public.trim_end()) && registered.contains("|256 SHA256:"), "{registered}");
    // The passphrase protects the key: ssh-keygen -y needs it.
    let secret = p.remote("keys/secret");
    let wrong = std::process::Command::new("ssh-keygen").args(["-y", "-P", "wrong", "-f"]).arg(&secret).output().unwrap();
    assert!(!wrong.status.success());
    let right = std::process::Command::new("ssh-keygen").args(["-y", "-P", PASS, "-f"]).arg(&secret).output().unwrap();
    assert!(right.status.success(), "{}", String::from_utf8_lossy(&right.stderr));
    assert!(String::from_utf8_lossy(&right.stdout).starts_with("ssh-rsa "));

    let second = p.run(&sshd, "key.yml", &["-e", &vars]);
    assert_eq!(second.recap("h"), recap("h", 3, 0, 0, 0, 0, 0), "{}", second.stdout);
}
