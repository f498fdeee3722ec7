//! `user` and `group` on a real Debian host.

use crate::fleet::Fleet;
use crate::modules_support::{tasks, Project};

const H: &str = "fleet01";
// mkpasswd -m sha-512 secret
const HASH: &str = "$6$saltsalt$S0XWAnJt5zr4YcOhbtb2DIqw0T1ES4tnxhA6Vn/GqBYAbVy8X1n9nF9yuMeyqTVDbUmzFm/4.ZM3/1UgHjDg.1";
const HOSTILE: &str = "it's $(touch /tmp/pwned) `id`; ok";

fn groups(fleet: &Fleet) -> String {
    let mut g: Vec<String> = fleet.sh(H, "id -nG alice").split_whitespace().map(String::from).collect();
    g.sort();
    g.join(" ")
}

#[test]
fn user_and_group_create_modify_remove_idempotently() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);

    let groups_play = tasks("- group: name=devs gid=2500\n- group: name=ops");
    assert_eq!(p.play(H, &groups_play, &["--check"]).ok().changed(H), 2);
    assert_eq!(fleet.sh(H, "getent group devs ops; true"), "", "check mode created a group");
    assert_eq!(p.play(H, &groups_play, &[]).ok().changed(H), 2);
    assert_eq!(fleet.sh(H, "getent group devs ops"), "devs:x:2500:\nops:x:2501:\n");
    assert_eq!(p.play(H, &groups_play, &[]).ok().changed(H), 0);

    let setup = tasks(&format!(
        "- user:\n    name: alice\n    uid: 2601\n    group: devs\n    groups: [ops, sudo]\n    shell: /bin/bash\n    comment: \"{}\"\n    password: '{HASH}'\n    expires: 1893456000\n  register: u\n\
         - debug: var=u",
        HOSTILE.replace('"', "\\\"")
    ));
    let run = p.play(H, &setup, &["--check", "--diff"]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert!(!run.stdout.contains("S0XWAnJt"), "a password hash was printed:\n{}", run.all());
    assert_eq!(fleet.sh(H, "getent passwd alice; true"), "", "check mode created something");

    let run = p.play(H, &setup, &["--diff"]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert!(!run.stdout.contains("S0XWAnJt"), "a password hash was printed:\n{}", run.all());
    assert!(run.stdout.contains("\"createhome\": true") && run.stdout.contains("\"home\": \"/home/alice\""), "{}", run.all());
    assert_eq!(fleet.sh(H, "getent passwd alice"), format!("alice:x:2601:2500:{HOSTILE}:/home/alice:/bin/bash\n"));
    assert_eq!(groups(&fleet), "devs ops sudo");
    assert_eq!(fleet.sh(H, "getent shadow alice | cut -d: -f2,8"), format!("{HASH}:21915\n"));
    assert_eq!(fleet.sh(H, "test -d /home/alice && stat -c %U /home/alice"), "alice\n");
    assert_eq!(fleet.sh(H, "ls /tmp/pwned 2>/dev/null || true"), "");
    assert_eq!(p.play(H, &setup, &[]).ok().changed(H), 0, "second run changed something");

    // Modify: append a group, lock the password, move the home; then exact groups.
    let modify = tasks(
        "- user: name=alice groups=users append=yes password_lock=yes home=/srv/alice move_home=yes",
    );
    assert_eq!(p.play(H, &modify, &[]).ok().changed(H), 1);
    assert_eq!(groups(&fleet), "devs ops sudo users");
    assert_eq!(fleet.sh(H, "getent shadow alice | cut -c1-8"), "alice:!$\n");
    assert_eq!(fleet.sh(H, "getent passwd alice | cut -d: -f6; test -d /srv/alice && ! test -e /home/alice && echo moved"), "/srv/alice\nmoved\n");
    assert_eq!(p.play(H, &modify, &[]).ok().changed(H), 0);
    let exact = tasks("- user: name=alice groups=ops");
    assert_eq!(p.play(H, &exact, &[]).ok().changed(H), 1);
    assert_eq!(groups(&fleet), "devs ops");

    // A group that does not exist fails by name; so does changing a gid to a taken one.
    let run = p.play(H, &tasks("- user: name=alice groups=nosuchgroup"), &[]);
    assert!(run.stdout.contains("Group nosuchgroup does not exist"), "{}", run.all());
    let run = p.play(H, &tasks("- group: name=ops gid=2500"), &[]);
    assert_eq!(run.failed(H), 1, "{}", run.all());
    assert!(run.stdout.contains("groupmod"), "{}", run.all());
    assert_eq!(p.play(H, &tasks("- group: name=ops gid=2500 non_unique=yes"), &[]).ok().changed(H), 1);

    // Absent with remove: user and home gone; the group too.
    let gone = tasks("- user: name=alice state=absent remove=yes force=yes\n- group: name=ops state=absent");
    assert_eq!(p.play(H, &gone, &["--check"]).ok().changed(H), 2);
    assert_eq!(fleet.sh(H, "getent passwd alice | cut -d: -f1"), "alice\n");
    assert_eq!(p.play(H, &gone, &[]).ok().changed(H), 2);
    assert_eq!(fleet.sh(H, "getent passwd alice; getent group ops; test -e /srv/alice && echo left; true"), "");
    assert_eq!(p.play(H, &gone, &[]).ok().changed(H), 0);

    // System user without a home.
    let sys = tasks("- user: name=svc system=yes create_home=no shell=/usr/sbin/nologin");
    assert_eq!(p.play(H, &sys, &[]).ok().changed(H), 1);
    let uid: u32 = fleet.sh(H, "id -u svc").trim().parse().unwrap();
    assert!(uid < 1000, "system uid {uid}");
    assert_eq!(fleet.sh(H, "test -e /home/svc && echo home; true"), "");
    assert_eq!(p.play(H, &sys, &[]).ok().changed(H), 0);
}

/// A role's pattern: the group, then a user in it. In check mode on a fresh host
/// the group is not there yet; Ansible reports both changed, not "Group ... does not exist".
#[test]
fn check_mode_user_in_a_group_made_by_the_task_before() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);
    let play = tasks("- group: name=checkops system=true\n- user: name=checkuser group=checkops groups=checkops shell=/bin/bash");
    let run = p.play(H, &play, &["--check", "--diff"]).ok();
    assert_eq!(run.changed(H), 2, "{}", run.all());
    assert_eq!(fleet.sh(H, "getent group checkops; getent passwd checkuser; true"), "", "check mode created something");
    // An existing account is still held to its groups existing, in check mode too.
    let missing = tasks("- user: name=root groups=nosuchgroup\n  check_mode: true\n  register: r\n  ignore_errors: true\n- assert: {that: \"r.failed and r.msg == 'Group nosuchgroup does not exist'\"}");
    p.play(H, &missing, &[]).ok();
}
