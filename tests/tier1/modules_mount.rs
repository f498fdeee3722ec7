//! Native `ansible.posix.mount` on the test sshd (no root there): the fstab
//! states on a custom `fstab:` (present, absent, absent_from_fstab, boot,
//! backup, check mode), with the file's mode kept and replaced by rename; and
//! stand-in `mount`/`umount` on the task's PATH, which log their arguments,
//! for the states that mount. Options reach `mount` but never the SSH
//! command line, and `opts_no_log` hides them in results. The second run
//! changes nothing, and a no-op is one command.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::run::Project;
use crate::sshd::TestSshd;

/// Logs each call's arguments, one `[word]` each, to LOG.
const FAKE: &str = "#!/bin/sh\n{ printf '%s' \"${0##*/}\"; for a do printf ' [%s]' \"$a\"; done; echo; } >> LOG\n";

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  environment:
    PATH: "{{ remote }}/bin:/usr/bin:/bin"
  vars:
    ansible_python_interpreter: /nonexistent/python3
    fstab: "{{ remote }}/fstab"
  tasks:
    - name: present
      ansible.posix.mount: {path: /mnt/data, src: "LABEL=my data", fstype: ext4, opts: "noatime", state: present, fstab: "{{ fstab }}", backup: true}
      register: r_present
    - name: present, boot false
      mount: {name: /mnt/other, src: /dev/sdb1, fstype: xfs, state: present, boot: false, dump: 1, passno: 2, fstab: "{{ fstab }}"}
    - name: check mode
      mount: {path: /mnt/check, src: /dev/sdc1, fstype: ext4, state: present, fstab: "{{ fstab }}"}
      check_mode: true
      register: r_check
    - name: absent_from_fstab
      mount: {path: /mnt/old, state: absent_from_fstab, fstab: "{{ fstab }}"}
    - name: absent removes the directory
      mount: {path: "{{ remote }}/gone", state: absent, fstab: "{{ fstab }}"}
    - name: mounted with the stand-in
      mount: {path: "{{ remote }}/m", src: tmpfs, fstype: tmpfs, opts: "size=1m", state: mounted, fstab: "{{ fstab }}"}
      when: mount_too | default(true)
    - name: ephemeral with secret options
      mount: {path: "{{ remote }}/e", src: "//srv/share", fstype: cifs, opts: "username=u,password=s3cret-opt", opts_no_log: true, state: ephemeral}
      register: r_secret
      when: mount_too | default(true)
    - copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'present': r_present, 'check': r_check, 'secret': r_secret} | to_json }}"
      when: mount_too | default(true)
"#;

#[test]
fn mount_edits_fstab_and_runs_mount_idempotently() {
    let sshd = TestSshd::start();
    let p = Project::new();
    std::fs::create_dir_all(p.remote("bin")).unwrap();
    std::fs::create_dir_all(p.remote("gone")).unwrap();
    let log = p.remote("mount.log");
    for tool in ["mount", "umount"] {
        let path = p.remote(&format!("bin/{tool}"));
        std::fs::write(&path, FAKE.replace("LOG", &log.display().to_string())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let fstab = p.remote("fstab");
    let gone = p.remote("gone");
    std::fs::write(&fstab, format!("# static\nUUID=1 / ext4 defaults 0 1\n/dev/old /mnt/old ext4 defaults 0 0\ntmpfs {} tmpfs defaults 0 0\n", gone.display())).unwrap();
    std::fs::set_permissions(&fstab, std::fs::Permissions::from_mode(0o640)).unwrap();
    let inode = std::fs::metadata(&fstab).unwrap().ino();
    // Held by a second name, the old inode cannot be freed and handed to a later
    // temp file: the play edits fstab several times, and reuse made this flaky.
    std::fs::hard_link(&fstab, p.remote("fstab.before")).unwrap();
    p.inventory(&sshd, &["h"]).write("mount.yml", PLAY);
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "mount.yml", &["-e", &remote, "-vv"]);
    first.assert_code(0);

    let m = p.remote("m").display().to_string();
    assert_eq!(
        std::fs::read_to_string(&fstab).unwrap(),
        format!("# static\nUUID=1 / ext4 defaults 0 1\nLABEL=my\\040data /mnt/data ext4 noatime 0 0\n/dev/sdb1 /mnt/other xfs defaults,noauto 1 2\ntmpfs {m} tmpfs size=1m 0 0\n")
    );
    let meta = std::fs::metadata(&fstab).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640, "mode kept");
    assert_ne!(meta.ino(), inode, "replaced by rename, not rewritten in place");
    assert!(std::fs::read_to_string(p.remote("fstab.before")).unwrap().contains("/dev/old"), "the old file left as it was");
    assert!(!gone.exists(), "absent removed the mount point");
    assert!(p.remote("m").is_dir() && p.remote("e").is_dir(), "mount points made");
    let e = p.remote("e").display().to_string();
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("mount [-T] [{}] [--] [{m}]\nmount [-o] [username=u,password=s3cret-opt] [-t] [cifs] [--] [//srv/share] [{e}]\n", fstab.display())
    );
    assert!(!first.stdout.contains("s3cret-opt") && !first.stderr.contains("s3cret-opt"), "secret options never printed nor on a command line:\n{}", first.stdout);

    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.remote("results.json")).unwrap()).unwrap();
    let present = &results["present"];
    assert_eq!((present["changed"].as_bool(), present["name"].as_str(), present["src"].as_str(), present["opts"].as_str()), (Some(true), Some("/mnt/data"), Some("LABEL=my data"), Some("noatime")));
    assert_eq!((present["boot"].as_str(), present["dump"].as_str(), present["passno"].as_str()), (Some("yes"), Some("0"), Some("0")));
    let backup = present["backup_file"].as_str().unwrap();
    assert!(backup.starts_with(&format!("{}.", fstab.display())) && std::fs::read_to_string(backup).unwrap().contains("/mnt/old"), "backup of the old fstab: {backup}");
    assert_eq!(results["check"]["changed"].as_bool(), Some(true));
    assert_eq!(results["secret"]["opts"].as_str(), Some("********"));

    let second = p.run(&sshd, "mount.yml", &["-e", &remote, "-e", "mount_too=false", "-vv"]);
    second.assert_code(0);
    assert!(second.stdout.contains(" changed=1 "), "only check mode plans again:\n{}", second.stdout);
    let commands = second.stdout.split("TASK [").filter(|s| s.starts_with("present]")).map(|s| s.lines().filter(|l| l.starts_with("<h> EXEC ")).count()).next();
    assert_eq!(commands, Some(1), "{}", second.stdout);
}
