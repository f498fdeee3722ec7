//! Native `community.general.timezone` on the test sshd. A stand-in
//! `timedatectl` on the task's PATH keeps this machine's clock alone: it
//! keeps the zone and the RTC mode in files. The RTC then the zone, the
//! status read again, check mode, --diff, the module's messages, a missing
//! zone; the second run changes nothing and a no-op is one command.

use std::os::unix::fs::PermissionsExt;

use crate::run::Project;
use crate::sshd::TestSshd;

/// `timedatectl status | set-timezone Z | set-local-rtc yes|no` on files in STORE.
const FAKE_TIMEDATECTL: &str = r#"#!/bin/sh
case $1 in
  status) printf '                Time zone: %s (X, +0000)\n          RTC in local TZ: %s\n' "$(cat STORE/zone)" "$(cat STORE/rtc)" ;;
  set-timezone) printf '%s' "$2" > STORE/zone; echo "$*" >> STORE/log ;;
  set-local-rtc) printf '%s' "$2" > STORE/rtc; echo "$*" >> STORE/log ;;
  *) exit 1 ;;
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
    - name: zone and rtc
      community.general.timezone: {name: Europe/Paris, hwclock: local}
      register: r_both
    - name: check mode
      timezone: {name: Asia/Tokyo}
      check_mode: true
      register: r_check
    - name: a missing zone
      timezone: {name: Nowhere/Atlantis}
      register: r_missing
      ignore_errors: true
    - copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'both': r_both, 'check': r_check, 'missing': r_missing} | to_json }}"
      when: write_results | default(true)
"#;

#[test]
fn timezone_sets_the_rtc_then_the_zone_idempotently() {
    let sshd = TestSshd::start();
    let p = Project::new();
    for dir in ["bin", "store"] {
        std::fs::create_dir_all(p.remote(dir)).unwrap();
    }
    let fake = p.remote("bin/timedatectl");
    std::fs::write(&fake, FAKE_TIMEDATECTL.replace("STORE", &p.remote("store").display().to_string())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(p.remote("store/zone"), "Etc/UTC").unwrap();
    std::fs::write(p.remote("store/rtc"), "no").unwrap();
    p.inventory(&sshd, &["h"]).write("tz.yml", PLAY);
    let remote = format!("remote={}", p.remote_str());
    let first = p.run(&sshd, "tz.yml", &["-e", &remote, "--diff"]);
    first.assert_code(0);
    let read = |rel: &str| std::fs::read_to_string(p.remote(rel)).unwrap();
    assert_eq!(read("store/log"), "set-local-rtc yes\nset-timezone Europe/Paris\n", "the RTC first, check mode set nothing");
    assert!(first.stdout.contains("-    \"hwclock\": \"UTC\",\n-    \"name\": \"Etc/UTC\"\n+    \"hwclock\": \"local\",\n+    \"name\": \"Europe/Paris\""), "{}", first.stdout);
    let results: serde_json::Value = serde_json::from_str(&read("results.json")).unwrap();
    let tool = fake.display().to_string();
    assert_eq!(results["both"]["msg"].as_str().unwrap(), format!("executed `{tool} set-local-rtc yes`\nexecuted `{tool} set-timezone Europe/Paris`"));
    assert_eq!(results["both"]["diff"]["before"], serde_json::json!({"hwclock": "UTC", "name": "Etc/UTC"}));
    assert_eq!((results["check"]["changed"].as_bool(), results["check"]["diff"]["after"]["name"].as_str()), (Some(true), Some("Asia/Tokyo")));
    assert_eq!(results["missing"]["msg"].as_str(), Some("Error message:\ngiven timezone \"Nowhere/Atlantis\" is not available"));

    let second = p.run(&sshd, "tz.yml", &["-e", &remote, "-e", "write_results=false", "-vv"]);
    second.assert_code(0);
    assert!(second.stdout.contains(" changed=1 "), "only check mode plans again:\n{}", second.stdout);
    let commands = second.stdout.split("TASK [").filter(|s| s.starts_with("zone and rtc]")).map(|s| s.lines().filter(|l| l.starts_with("<h> EXEC ")).count()).next();
    assert_eq!(commands, Some(1), "{}", second.stdout);
    assert_eq!(read("store/log").lines().count(), 2, "nothing set again");
}
