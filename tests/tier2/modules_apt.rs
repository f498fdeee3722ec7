//! `apt` on a real Debian host with the fleet's offline repository.

use crate::fleet::Fleet;
use crate::modules_support::{tasks, Project};

const H: &str = "fleet01";

fn status(fleet: &Fleet, names: &str) -> String {
    fleet.sh(H, &format!("dpkg-query -W -f='${{Package}} ${{db:Status-Abbrev}}\\n' {names} 2>/dev/null || true"))
}

#[test]
fn apt_installs_pins_removes_and_is_idempotent() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);

    let install = tasks(
        "- apt:\n    name: [hello, tree, 'jq=1.6*']\n    update_cache: true\n    cache_valid_time: 3600\n    install_recommends: false",
    );
    // Check mode: reports the change, installs nothing.
    let run = p.play(H, &install, &["--check", "--diff"]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert!(run.stdout.contains("hello: (not installed)"), "diff lists the packages:\n{}", run.all());
    assert_eq!(status(&fleet, "hello tree jq"), "", "check mode installed something");

    let run = p.play(H, &install, &[]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert_eq!(status(&fleet, "hello tree jq"), "hello ii \njq ii \ntree ii \n");
    let run = p.play(H, &install, &[]).ok();
    assert_eq!(run.changed(H), 0, "second run changed something:\n{}", run.all());

    // latest on an up-to-date package, and registered return values.
    let run = p
        .play(H, &tasks("- apt: name=hello state=latest update_cache=yes\n  register: r\n- debug: var=r"), &[])
        .ok();
    assert_eq!(run.changed(H), 0, "{}", run.all());
    assert!(run.stdout.contains("\"cache_updated\": true") && run.stdout.contains("cache_update_time"), "{}", run.all());
    // That update is recorded where apt's daily job records its own, so a cache
    // that is cache_valid_time young is not updated again, although no index
    // changed (Ansible updates on every run then: ansible/ansible#27798).
    let stamp_age = "echo $(( $(date +%s) - $(stat -c %Y /var/lib/apt/periodic/update-success-stamp) ))";
    assert!(fleet.sh(H, stamp_age).trim().parse::<u64>().unwrap() < 600, "no fresh success stamp");
    let valid = tasks("- apt: name=hello update_cache=yes cache_valid_time=3600\n  register: r\n- debug: var=r");
    let run = p.play(H, &valid, &["-vv"]).ok();
    assert!(run.stdout.contains("\"cache_updated\": false"), "{}", run.all());
    assert!(run.all().contains("EXEC date +%s"), "-vv shows the commands:\n{}", run.all());
    assert!(!run.all().contains(" update\n"), "apt-get update ran again:\n{}", run.all());

    // Absent with purge; a second run is unchanged.
    let remove = tasks("- apt:\n    name: tree\n    state: absent\n    purge: true");
    assert_eq!(p.play(H, &remove, &[]).ok().changed(H), 1);
    assert_eq!(status(&fleet, "tree"), "", "tree is gone, config files too");
    assert_eq!(p.play(H, &remove, &[]).ok().changed(H), 0);
}

#[test]
fn apt_fails_clearly_and_in_one_transaction() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);

    // An unknown package in a list fails naming it, and nothing of the list is installed.
    let run = p.play(H, &tasks("- apt:\n    name: [figlet, nosuchpkg]"), &[]);
    assert_ne!(run.code, 0);
    assert!(run.stdout.contains("No package matching 'nosuchpkg' is available"), "{}", run.all());
    assert_eq!(status(&fleet, "figlet"), "");

    // A missing version names the spec.
    let run = p.play(H, &tasks("- apt: name=hello=9.9"), &[]);
    assert!(run.stdout.contains("hello=9.9"), "{}", run.all());

    // Hostile names are data: refused, never run.
    let run = p.play(H, &tasks("- apt:\n    name: \"x;touch /tmp/pwned $(touch /tmp/pwned2)\""), &[]);
    assert_eq!(run.failed(H), 1, "{}", run.all());
    assert_eq!(fleet.sh(H, "ls /tmp/pwned /tmp/pwned2 2>/dev/null || true"), "");
}

#[test]
fn apt_deb_file_and_dpkg_lock_wait() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);

    let deb = fleet.sh(H, "ls /srv/repo/figlet_*.deb").trim().to_string();
    let play = tasks(&format!("- apt:\n    deb: {deb}"));
    assert_eq!(p.play(H, &play, &["--check"]).ok().changed(H), 1);
    assert_eq!(status(&fleet, "figlet"), "");
    assert_eq!(p.play(H, &play, &[]).ok().changed(H), 1);
    assert_eq!(status(&fleet, "figlet"), "figlet ii \n");
    assert_eq!(p.play(H, &play, &[]).ok().changed(H), 0);

    // Someone else holds the dpkg frontend lock for a few seconds: apt waits.
    fleet.sh(
        H,
        "setsid python3 -c 'import fcntl,time; f=open(\"/var/lib/dpkg/lock-frontend\",\"w\"); fcntl.lockf(f, fcntl.LOCK_EX); open(\"/tmp/locked\",\"w\").close(); time.sleep(6)' >/dev/null 2>&1 < /dev/null & \
         for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /tmp/locked ] && break; sleep 0.2; done",
    );
    let run = p.play(H, &tasks("- apt: name=hello"), &[]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert_eq!(status(&fleet, "hello"), "hello ii \n");
}
