//! The fleet itself works: three hosts answer over OpenSSH with strict host-key
//! checking, and apt, systemctl, git and reset behave as on real servers.
//! Everything later tier-2 tests rely on is checked here first.

use crate::fleet::Fleet;

fn ssh_ok(fleet: &Fleet, host: &str, script: &str) -> String {
    let out = fleet.ssh(host).arg(script).output().expect("cannot run ssh");
    assert!(
        out.status.success(),
        "ssh {host} `{script}` failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn exists(fleet: &Fleet, host: &str, path: &str) -> bool {
    fleet.exec(host, &["test", "-e", path]).status.success()
}

#[test]
fn three_hosts_behave_like_debian_servers() {
    let fleet = Fleet::up(3);
    each_host_answers_over_ssh_with_its_hostname(&fleet);
    exec_sees_what_ssh_wrote(&fleet);
    hosts_reach_nothing_but_the_bridge(&fleet);
    apt_installs_from_the_offline_repository(&fleet);
    systemctl_manages_services(&fleet);
    git_clones_the_demo_repository(&fleet);
    reset_wipes_the_host_and_renews_its_key(&fleet);
}

fn each_host_answers_over_ssh_with_its_hostname(fleet: &Fleet) {
    let names: Vec<String> = fleet.hosts().into_iter().map(|h| h.name).collect();
    assert_eq!(names, ["fleet01", "fleet02", "fleet03"]);
    for name in &names {
        assert_eq!(ssh_ok(fleet, name, "hostname").trim(), name);
        assert_eq!(ssh_ok(fleet, name, "id -un").trim(), "root");
    }
}

fn exec_sees_what_ssh_wrote(fleet: &Fleet) {
    ssh_ok(fleet, "fleet01", "echo 'written over ssh' > /root/marker");
    let out = fleet.exec("fleet01", &["cat", "/root/marker"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "written over ssh\n");
    // Hosts do not share their disks.
    assert!(!exists(fleet, "fleet02", "/root/marker"));
    // exec passes the command's exit code through.
    assert_eq!(fleet.exec("fleet01", &["sh", "-c", "exit 7"]).status.code(), Some(7));
}

fn hosts_reach_nothing_but_the_bridge(fleet: &Fleet) {
    for host in fleet.hosts() {
        assert_eq!(fleet.sh(&host.name, "ip route show default"), "", "{} has a default route", host.name);
        assert_eq!(fleet.sh(&host.name, "cat /etc/apt/sources.list").trim(), "deb [trusted=yes] file:/srv/repo ./");
    }
}

fn apt_installs_from_the_offline_repository(fleet: &Fleet) {
    assert!(!exists(fleet, "fleet01", "/usr/bin/hello"));
    ssh_ok(fleet, "fleet01", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q hello");
    assert_eq!(ssh_ok(fleet, "fleet01", "hello").trim(), "Hello, world!");
    assert!(!exists(fleet, "fleet02", "/usr/bin/hello"), "a package installed on fleet01 showed up on fleet02");
}

fn systemctl_manages_services(fleet: &Fleet) {
    let failed = fleet.sh("fleet02", "systemctl --failed --no-legend --plain");
    assert_eq!(failed, "", "units failed at boot on fleet02");
    ssh_ok(fleet, "fleet02", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx");
    assert_eq!(ssh_ok(fleet, "fleet02", "systemctl is-active nginx").trim(), "active");
    ssh_ok(fleet, "fleet02", "systemctl stop nginx");
    let out = fleet.exec("fleet02", &["systemctl", "is-active", "nginx"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "inactive");
    assert!(!out.status.success());
}

fn git_clones_the_demo_repository(fleet: &Fleet) {
    ssh_ok(fleet, "fleet03", "git clone -q /srv/repo/git/demo.git /opt/demo");
    assert_eq!(ssh_ok(fleet, "fleet03", "cat /opt/demo/VERSION").trim(), "version 1.0");
    let refs = ssh_ok(fleet, "fleet03", "git -C /opt/demo ls-remote --heads --tags origin");
    for wanted in ["refs/heads/main", "refs/heads/dev", "refs/tags/v1.0"] {
        assert!(refs.contains(wanted), "demo repository lacks {wanted}:\n{refs}");
    }
}

fn reset_wipes_the_host_and_renews_its_key(fleet: &Fleet) {
    let key_before = host_key(fleet, "fleet01");
    fleet.reset("fleet01");
    assert!(!exists(fleet, "fleet01", "/root/marker"));
    assert!(!exists(fleet, "fleet01", "/usr/bin/hello"));
    assert_ne!(host_key(fleet, "fleet01"), key_before, "reset kept the old host key");
    // known_hosts was refreshed: strict checking still lets us in.
    assert_eq!(ssh_ok(fleet, "fleet01", "hostname").trim(), "fleet01");
    // The other hosts were left alone.
    assert!(exists(fleet, "fleet02", "/usr/sbin/nginx"));
}

fn host_key(fleet: &Fleet, host: &str) -> String {
    fleet.sh(host, "cat /etc/ssh/ssh_host_ed25519_key.pub")
}
