//! `systemd` and `service` on a real Debian host booted with systemd.

use crate::fleet::Fleet;
use crate::modules_support::{tasks, Project};

const H: &str = "fleet01";

const UNIT: &str = "[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

fn state(fleet: &Fleet) -> String {
    fleet.sh(H, "systemctl is-active demo; systemctl is-enabled demo; true")
}

fn main_pid(fleet: &Fleet) -> String {
    fleet.sh(H, "systemctl show -P MainPID demo")
}

#[test]
fn systemd_starts_enables_restarts_masks() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);
    fleet.sh(H, &format!("printf '{}' > /usr/lib/systemd/system/demo.service", UNIT.replace('\n', "\\n")));

    let start = tasks("- systemd:\n    name: demo\n    state: started\n    enabled: true\n    daemon_reload: true\n  register: s\n- debug: var=s");
    let run = p.play(H, &start, &["--check"]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert_eq!(state(&fleet), "inactive\ndisabled\n", "check mode changed the unit");
    let run = p.play(H, &start, &[]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert!(run.stdout.contains("\"ActiveState\": \"inactive\"") && run.stdout.contains("\"UnitFileState\""), "{}", run.all());
    assert_eq!(state(&fleet), "active\nenabled\n");
    assert_eq!(p.play(H, &start, &[]).ok().changed(H), 0, "second run changed something");

    // restarted and reloaded always report changed; restart gives a new process.
    let pid = main_pid(&fleet);
    assert_eq!(p.play(H, &tasks("- systemd: name=demo state=restarted"), &[]).ok().changed(H), 1);
    assert_ne!(main_pid(&fleet), pid, "restarted did not restart");
    assert_eq!(p.play(H, &tasks("- systemd: name=demo.service state=reloaded"), &[]).ok().changed(H), 1);

    // `service` is the same module on systemd hosts.
    let stop = tasks("- service: name=demo state=stopped enabled=no");
    assert_eq!(p.play(H, &stop, &[]).ok().changed(H), 1);
    assert_eq!(state(&fleet), "inactive\ndisabled\n");
    assert_eq!(p.play(H, &stop, &[]).ok().changed(H), 0);

    let mask = tasks("- systemd: name=demo masked=yes");
    assert_eq!(p.play(H, &mask, &[]).ok().changed(H), 1);
    assert_eq!(fleet.sh(H, "systemctl is-enabled demo || true"), "masked\n");
    assert_eq!(p.play(H, &mask, &[]).ok().changed(H), 0);
    let run = p.play(H, &tasks("- systemd: name=demo state=started"), &[]);
    assert_eq!(run.failed(H), 1, "starting a masked unit must fail:\n{}", run.all());
    assert_eq!(p.play(H, &tasks("- systemd: name=demo masked=no state=started"), &[]).ok().changed(H), 1);
    assert_eq!(state(&fleet), "active\ndisabled\n");
}

#[test]
fn systemd_unknown_units_fail_by_name() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);
    let run = p.play(H, &tasks("- systemd: name=nosuch state=started"), &[]);
    assert_eq!(run.failed(H), 1, "{}", run.all());
    assert!(run.stdout.contains("Could not find the requested service nosuch"), "{}", run.all());
    let run = p.play(H, &tasks("- systemd:\n    name: \"x;touch /tmp/pwned $(touch /tmp/pwned2)\"\n    state: started"), &[]);
    assert_eq!(run.failed(H), 1, "{}", run.all());
    assert_eq!(fleet.sh(H, "ls /tmp/pwned /tmp/pwned2 2>/dev/null || true"), "");
    // daemon_reload alone is fine and changes nothing.
    assert_eq!(p.play(H, &tasks("- systemd: daemon_reload=yes"), &[]).ok().changed(H), 0);
}
