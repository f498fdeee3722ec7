//! `copy` beyond single small files, through the real binary against the
//! tier-1 sshd: directories (trailing-slash rule, directory_mode, mode:
//! preserve, local_follow), remote_src, validate, follow.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn no_temp_files_in(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().filter_map(Result::ok).map(|e| e.file_name()).filter(|n| n.to_string_lossy().starts_with(".stockman")).collect();
    assert!(left.is_empty(), "temp files left in {}: {left:?}", dir.display());
}

const TREE: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - name: The directory itself, links followed
      copy: {src: site, dest: "{{ remote }}/itself", directory_mode: "0750", mode: preserve}
    - name: Its contents, links kept
      copy: {src: "site/", dest: "{{ remote }}/contents/", local_follow: false}
"#;

#[test]
fn directory_src_follows_the_trailing_slash_rule_and_is_idempotent() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("tree.yml", TREE);
    p.write("files/site/a.txt", "alpha\n").write("files/site/sub/b.bin", "b\0inary");
    p.write("files/site/it's $(touch pwned) `x`;\nname.txt", "hostile\n");
    std::fs::create_dir_all(p.path("files/site/sub/empty")).unwrap();
    std::fs::set_permissions(p.path("files/site/a.txt"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::set_permissions(p.path("files/site/sub/b.bin"), std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink("a.txt", p.path("files/site/l")).unwrap();
    let remote = format!("remote={}", p.remote_str());

    let first = p.run(&sshd, "tree.yml", &["-e", &remote]);
    first.assert_code(0);
    assert_eq!(first.recap("h"), recap("h", 2, 2, 0, 0, 0, 0), "{}", first.stdout);
    let itself = p.remote("itself/site");
    assert_eq!(std::fs::read_to_string(itself.join("a.txt")).unwrap(), "alpha\n");
    assert_eq!(std::fs::read(itself.join("sub/b.bin")).unwrap(), b"b\0inary");
    assert_eq!(std::fs::read_to_string(itself.join("it's $(touch pwned) `x`;\nname.txt")).unwrap(), "hostile\n");
    assert!(!p.path("pwned").exists() && !p.remote("pwned").exists() && !std::path::Path::new("pwned").exists());
    assert_eq!(mode_of(&itself.join("a.txt")), 0o640, "mode: preserve");
    assert_eq!(mode_of(&itself.join("sub/b.bin")), 0o600, "mode: preserve");
    assert_eq!(mode_of(&itself.join("sub")), 0o750, "directory_mode on created directories");
    assert!(itself.join("sub/empty").is_dir(), "empty directories are copied");
    assert!(std::fs::symlink_metadata(itself.join("l")).unwrap().is_file(), "local_follow (default) copies what a link points to");
    let contents = p.remote("contents");
    assert_eq!(std::fs::read_to_string(contents.join("a.txt")).unwrap(), "alpha\n");
    assert!(!contents.join("site").exists(), "src ending in / copies the contents only");
    assert_eq!(std::fs::read_link(contents.join("l")).unwrap(), Path::new("a.txt"), "local_follow: false keeps links");
    no_temp_files_in(&contents);

    let second = p.run(&sshd, "tree.yml", &["-e", &remote]);
    second.assert_code(0);
    assert_eq!(second.recap("h"), recap("h", 2, 0, 0, 0, 0, 0), "{}", second.stdout);

    p.write("files/site/sub/b.bin", "changed");
    let check = p.run(&sshd, "tree.yml", &["-e", &remote, "--check", "--diff"]);
    assert_eq!(check.recap("h"), recap("h", 2, 2, 0, 0, 0, 0), "{}", check.stdout);
    assert_eq!(std::fs::read(itself.join("sub/b.bin")).unwrap(), b"b\0inary", "check mode changes nothing");
}

const VALIDATE: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - copy:
        content: "{{ text }}"
        dest: "{{ remote }}/app.conf"
        validate: "sh -c 'grep -q ^good \"$1\" || { echo \"rejected: $(cat \"$1\")\"; exit 3; }' check %s"
    - copy:
        src: big.conf
        dest: "{{ remote }}/staged.conf"
        validate: "grep -q ^good %s"
"#;

#[test]
fn validate_runs_on_the_temp_file_and_a_failure_leaves_dest_untouched() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("validate.yml", VALIDATE).write("files/big.conf", "good\n");
    let remote = format!("remote={}", p.remote_str());
    let good = p.run(&sshd, "validate.yml", &["-e", &remote, "-e", r#"{"text": "good one"}"#]);
    good.assert_code(0);
    assert_eq!(good.recap("h"), recap("h", 2, 2, 0, 0, 0, 0), "{}", good.stdout);
    assert_eq!(std::fs::read_to_string(p.remote("app.conf")).unwrap(), "good one");
    assert_eq!(std::fs::read_to_string(p.remote("staged.conf")).unwrap(), "good\n");

    let bad = p.run(&sshd, "validate.yml", &["-e", &remote, "-e", r#"{"text": "bad $(id) one"}"#]);
    bad.assert_code(2);
    assert!(bad.stdout.contains("failed to validate") && bad.stdout.contains("rejected: bad $(id) one"), "{}", bad.stdout);
    assert_eq!(std::fs::read_to_string(p.remote("app.conf")).unwrap(), "good one", "dest untouched");
    no_temp_files_in(p.remote.path());

    p.write("files/big.conf", "bad\n");
    let staged = p.run(&sshd, "validate.yml", &["-e", &remote, "-e", r#"{"text": "good one"}"#]);
    staged.assert_code(2);
    assert!(staged.stdout.contains("failed to validate"), "{}", staged.stdout);
    assert_eq!(std::fs::read_to_string(p.remote("staged.conf")).unwrap(), "good\n", "dest untouched");
    no_temp_files_in(p.remote.path());
}

const REMOTE_SRC: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - copy: {src: "{{ remote }}/one.txt", dest: "{{ remote }}/one.copy", remote_src: true, mode: preserve}
    - copy: {src: "{{ remote }}/tree/", dest: "{{ remote }}/mirror", remote_src: true}
    - copy: {content: "through\n", dest: "{{ remote }}/link-followed", follow: true}
    - copy: {content: "replaced\n", dest: "{{ remote }}/link-replaced"}
"#;

#[test]
fn remote_src_and_follow() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("remote.yml", REMOTE_SRC);
    let r = |rel: &str| p.remote(rel);
    std::fs::write(r("one.txt"), "one\n").unwrap();
    std::fs::set_permissions(r("one.txt"), std::fs::Permissions::from_mode(0o604)).unwrap();
    std::fs::create_dir_all(r("tree/d")).unwrap();
    std::fs::write(r("tree/x"), "x\n").unwrap();
    std::fs::write(r("tree/d/y"), "y\n").unwrap();
    std::fs::write(r("real"), "old\n").unwrap();
    std::fs::write(r("other"), "old\n").unwrap();
    symlink(r("real"), r("link-followed")).unwrap();
    symlink(r("other"), r("link-replaced")).unwrap();
    let remote = format!("remote={}", p.remote_str());

    let first = p.run(&sshd, "remote.yml", &["-e", &remote]);
    first.assert_code(0);
    assert_eq!(first.recap("h"), recap("h", 4, 4, 0, 0, 0, 0), "{}", first.stdout);
    assert_eq!(std::fs::read_to_string(r("one.copy")).unwrap(), "one\n");
    assert_eq!(mode_of(&r("one.copy")), 0o604);
    assert_eq!(std::fs::read_to_string(r("mirror/x")).unwrap(), "x\n");
    assert_eq!(std::fs::read_to_string(r("mirror/d/y")).unwrap(), "y\n");
    assert_eq!(std::fs::read_to_string(r("real")).unwrap(), "through\n", "follow: true writes through the link");
    assert!(std::fs::symlink_metadata(r("link-followed")).unwrap().file_type().is_symlink());
    assert!(std::fs::symlink_metadata(r("link-replaced")).unwrap().is_file(), "follow: false replaces the link");
    assert_eq!(std::fs::read_to_string(r("other")).unwrap(), "old\n");

    let second = p.run(&sshd, "remote.yml", &["-e", &remote]);
    assert_eq!(second.recap("h"), recap("h", 4, 0, 0, 0, 0, 0), "{}", second.stdout);
}

const RESULTS: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - copy: {src: site, dest: "{{ remote }}/made/", directory_mode: "0750"}
    - copy: {content: "hello\n", dest: "{{ remote }}/hello.txt"}
      register: r_hello
    - copy: {src: "{{ remote }}/made/site/", dest: "{{ remote }}/mirror/", remote_src: true}
      register: r_mirror
    - copy: {content: "bad\n", dest: "{{ remote }}/refused", validate: "false %s"}
      register: r_refused
      ignore_errors: true
    - debug: var=r_hello
    - debug: var=r_mirror
    - debug: var=r_refused
"#;

/// Ansible's result fields: md5sum of what was written, dest's own stat for a
/// remote directory, the refused content's checksum; and `directory_mode` on
/// every directory created, the missing dest/ included.
#[test]
fn results_carry_ansibles_fields_and_created_parents_get_directory_mode() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("results.yml", RESULTS).write("files/site/a.txt", "alpha\n");
    let remote = format!("remote={}", p.remote_str());
    let run = p.run(&sshd, "results.yml", &["-e", &remote]);
    run.assert_code(0);
    assert_eq!(mode_of(&p.remote("made")), 0o750, "the missing dest/ is created with directory_mode");
    assert_eq!(mode_of(&p.remote("made/site")), 0o750);
    let out = &run.stdout;
    assert!(out.contains(r#""md5sum": "b1946ac92492d2347c6235b4d2611184""#), "{out}");
    let mirror = &out[out.find(r#""r_mirror""#).unwrap()..];
    let mirror = &mirror[..mirror.find('}').unwrap()];
    let mirror_mode = format!(r#""mode": "0{:o}""#, mode_of(&p.remote("mirror")));
    assert!(mirror.contains(r#""state": "directory""#) && mirror.contains(&mirror_mode), "{mirror}");
    assert!(mirror.contains(r#""md5sum": null"#) && mirror.contains(r#""checksum": null"#), "{mirror}");
    let refused = &out[out.find(r#""r_refused""#).unwrap()..];
    assert!(refused.contains(r#""checksum": "e9b396d2dddffdb373bf2c6ad073696aa25b4f68""#), "{refused}");
    assert!(!p.remote("refused").exists());
}

/// `mode: preserve` with `content`: Ansible preserves the mode of the temp
/// file its action writes the content to (mkstemp's 0600); the unarchive
/// integration target relies on it.
#[test]
fn copy_content_with_mode_preserve_is_0600() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let play = r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy: {dest: "{{ remote }}/boo", content: boo, mode: preserve}
      register: r
    - assert: {that: [r is changed, r.mode == "0600"]}
"#;
    p.inventory(&sshd, &["h"]).write("preserve.yml", play);
    p.run(&sshd, "preserve.yml", &["-e", &format!("remote={}", p.remote_str())]).assert_code(0);
    assert_eq!(mode_of(&p.remote("boo")), 0o600);
    assert_eq!(std::fs::read(p.remote("boo")).unwrap(), b"boo");
}
