//! Native `cron` on the test sshd: a user's crontab through `crontab`
//! (a stand-in on the task's PATH keeps this machine's own crontab alone:
//! it stores each user's table in a file, as cron's spool does), and a cron
//! file written atomically. Each behaviour is checked on the resulting table,
//! twice (the second run changes nothing), in check mode and with --diff.

use std::os::unix::fs::PermissionsExt;

use crate::run::Project;
use crate::sshd::TestSshd;

/// `crontab [-u USER] -l | - | FILE` storing tables in `$SPOOL/USER`.
const FAKE_CRONTAB: &str = r#"#!/bin/sh
u=$(id -un)
if [ "$1" = -u ]; then u=$2; shift 2; fi
f=SPOOL/$u
case $1 in
  -l) [ -f "$f" ] || { echo "no crontab for $u" >&2; exit 1; }; exec cat -- "$f" ;;
  -) exec cat > "$f" ;;
  *) exec cp -- "$1" "$f" ;;
esac
"#;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  environment:
    PATH: "{{ remote }}/bin:/usr/bin:/bin"
  vars:
    ansible_python_interpreter: /nonexistent/python3
  tasks:
    - name: a job
      cron: {name: backup, job: /usr/bin/backup, minute: "5", hour: "2"}
      register: r_job
    - name: a variable first
      cron: {name: MAILTO, job: ops@example.org, env: true}
    - name: a variable after it
      cron: {name: SHELL, job: /bin/sh, env: true, insertafter: MAILTO}
    - name: a disabled special job of another user
      cron: {name: boot, job: /usr/bin/boot, special_time: reboot, disabled: true, user: other}
    - name: a job in check mode
      cron: {name: never, job: /bin/never}
      check_mode: true
      register: r_check
    - name: a job that goes
      cron: {name: gone, job: /bin/gone}
    - name: and goes
      cron: {name: gone, state: absent}
      register: r_gone
    - name: a cron file
      cron: {name: app, job: /usr/bin/app, weekday: "1-5", user: root, cron_file: "{{ remote }}/cron.d/app"}
      register: r_file
    - name: a second job there, with a backup
      cron: {name: app2, job: /usr/bin/app2, user: root, cron_file: "{{ remote }}/cron.d/app", backup: true}
      register: r_backup
    - name: an unknown variable to insert before
      cron: {name: X, job: "1", env: true, insertbefore: NOSUCH}
      register: r_novar
      ignore_errors: true
    - name: special_time with a time
      cron: {name: bad, job: x, special_time: daily, hour: "1"}
      register: r_bad
      ignore_errors: true
    - copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'job': r_job, 'check': r_check, 'gone': r_gone, 'file': r_file, 'backup': r_backup, 'novar': r_novar.msg, 'bad': r_bad.msg} | to_json }}"
      when: write_results | default(true)
"#;

/// Emptying the cron file removes it.
const REMOVE: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - cron: {name: app, state: absent, cron_file: "{{ remote }}/cron.d/app"}
    - cron: {name: app2, state: absent, cron_file: "{{ remote }}/cron.d/app"}
      register: r_last
    - copy: {dest: "{{ remote }}/removed.json", content: "{{ r_last | to_json }}"}
"#;

fn project() -> Project {
    let p = Project::new();
    std::fs::create_dir_all(p.remote("bin")).unwrap();
    std::fs::create_dir_all(p.remote("spool")).unwrap();
    std::fs::create_dir_all(p.remote("cron.d")).unwrap();
    let fake = p.remote("bin/crontab");
    std::fs::write(&fake, FAKE_CRONTAB.replace("SPOOL", &p.remote("spool").display().to_string())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn read(p: &Project, rel: &str) -> String {
    std::fs::read_to_string(p.remote(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn cron_edits_user_crontabs_and_cron_files_idempotently() {
    let sshd = TestSshd::start();
    let p = project();
    p.inventory(&sshd, &["h"]).write("cron.yml", PLAY).write("remove.yml", REMOVE);
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "cron.yml", &["-e", &remote, "--diff"]);
    first.assert_code(0);
    let me = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let me = if me.is_empty() { "root".to_string() } else { me };
    assert_eq!(
        read(&p, &format!("spool/{me}")),
        "MAILTO=\"ops@example.org\"\nSHELL=\"/bin/sh\"\n#Ansible: backup\n5 2 * * * /usr/bin/backup\n",
    );
    assert_eq!(read(&p, "spool/other"), "#Ansible: boot\n#@reboot /usr/bin/boot\n");
    assert_eq!(read(&p, "cron.d/app"), "#Ansible: app\n* * * * 1-5 root /usr/bin/app\n#Ansible: app2\n* * * * * root /usr/bin/app2\n");
    let mode = std::fs::metadata(p.remote("cron.d/app")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "a new cron file is 0644, as under Ansible's umask 022");
    // --diff shows the table before and after.
    assert!(first.stdout.contains("+#Ansible: backup"), "{}", first.stdout);

    let results: serde_json::Value = serde_json::from_str(&read(&p, "results.json")).unwrap();
    assert_eq!(results["job"]["jobs"], serde_json::json!(["backup"]));
    assert_eq!(results["job"]["changed"], true);
    assert_eq!(results["job"]["diff"]["before_header"], "crontab");
    assert_eq!(results["check"]["changed"], true);
    assert_eq!(results["check"]["jobs"], serde_json::json!(["backup", "never"]), "check mode plans the job");
    assert_eq!(results["gone"]["jobs"], serde_json::json!(["backup"]));
    assert_eq!(results["file"]["cron_file"], format!("{}/cron.d/app", p.remote_str()));
    let backup = results["backup"]["backup_file"].as_str().expect("backup_file");
    assert!(backup.starts_with("/tmp/crontab"), "{backup}");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), "#Ansible: app\n* * * * 1-5 root /usr/bin/app\n", "the backup holds the old table");
    let _ = std::fs::remove_file(backup);
    assert_eq!(results["novar"], "Variable named 'NOSUCH' not found.");
    assert_eq!(results["bad"], "You cannot combine special_time with any of the time or day/date parameters.");

    // Run two: only the check-mode job and the job that comes and goes
    // change; a no-op is one command.
    let second = p.run(&sshd, "cron.yml", &["-e", &remote, "-e", "write_results=false", "-vv"]);
    second.assert_code(0);
    assert!(second.stdout.contains(" changed=3 "), "{}", second.stdout);
    let commands = second.stdout.split("TASK [").filter(|s| s.starts_with("a job]")).map(|s| s.lines().filter(|l| l.starts_with("<h> EXEC ")).count()).next();
    assert_eq!(commands, Some(1), "{}", second.stdout);

    let removed = p.run(&sshd, "remove.yml", &["-e", &remote]);
    removed.assert_code(0);
    assert!(!p.remote("cron.d/app").exists(), "the emptied cron file is deleted");
    let last: serde_json::Value = serde_json::from_str(&read(&p, "removed.json")).unwrap();
    assert_eq!((last["changed"].clone(), last["state"].clone()), (serde_json::json!(true), serde_json::json!("absent")));
}
