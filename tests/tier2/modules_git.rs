//! `git` on a real Debian host, from the fleet's bare repository.

use crate::fleet::Fleet;
use crate::modules_support::{tasks, Project};

const H: &str = "fleet01";
const REPO: &str = "/srv/repo/git/demo.git";
const DEST: &str = "/srv/it's $(touch /tmp/pwned) `id`; co";

fn sha(fleet: &Fleet, rev: &str) -> String {
    fleet.sh(H, &format!("git -C {REPO} rev-parse '{rev}^{{commit}}'")).trim().to_string()
}

fn head(fleet: &Fleet) -> String {
    let out = fleet.exec(H, &["git", "-C", DEST, "rev-parse", "HEAD"]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn play(version: &str, extra: &str) -> String {
    tasks(&format!("- git:\n    repo: {REPO}\n    dest: \"{}\"\n    version: {version}\n{extra}  register: g\n- debug: var=g", DEST.replace('"', "\\\"")))
}

#[test]
fn git_clones_switches_versions_and_guards_local_changes() {
    let fleet = Fleet::up(1);
    let p = Project::new(&fleet);
    let (main, dev, tag) = (sha(&fleet, "main"), sha(&fleet, "dev"), sha(&fleet, "v1.0"));

    let run = p.play(H, &play("HEAD", ""), &["--check"]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert!(run.stdout.contains(&format!("\"after\": \"{main}\"")), "{}", run.all());
    assert_eq!(head(&fleet), "", "check mode cloned");

    let run = p.play(H, &play("HEAD", ""), &[]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert!(run.stdout.contains("\"before\": null"), "{}", run.all());
    assert_eq!(head(&fleet), main);
    assert_eq!(fleet.sh(H, "ls /tmp/pwned 2>/dev/null || true"), "");
    assert_eq!(p.play(H, &play("HEAD", ""), &[]).ok().changed(H), 0, "second run changed");

    // A branch, a tag, a short sha; each then idempotent.
    for (version, want) in [("dev", &dev), ("v1.0", &tag), (&main[..7], &main)] {
        let run = p.play(H, &play(version, ""), &[]).ok();
        assert_eq!(run.changed(H), 1, "{version}: {}", run.all());
        assert_eq!(&head(&fleet), want, "{version}");
        assert_eq!(p.play(H, &play(version, ""), &[]).ok().changed(H), 0, "{version} again");
    }

    // Local modifications: refused without force, discarded with it.
    fleet.exec(H, &["sh", "-c", "echo local >> \"$1/README\"", "sh", DEST]);
    let run = p.play(H, &play("dev", ""), &[]);
    assert_eq!(run.failed(H), 1, "{}", run.all());
    assert!(run.stdout.contains("Local modifications exist"), "{}", run.all());
    assert_eq!(head(&fleet), main);
    let run = p.play(H, &play("dev", "    force: yes\n"), &[]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert_eq!(head(&fleet), dev);
    let status = fleet.exec(H, &["git", "-C", DEST, "status", "--porcelain"]);
    assert!(status.stdout.is_empty(), "checkout not clean");

    // Issue 13 item 2: force at the checked-out version discards modified
    // tracked files and says so (changed), as Ansible; check mode reports ok,
    // as Ansible's does; untracked files are no modification.
    fleet.exec(H, &["sh", "-c", "echo local >> \"$1/README\"", "sh", DEST]);
    let run = p.play(H, &play("dev", "    force: yes\n"), &["--check"]).ok();
    assert_eq!(run.changed(H), 0, "{}", run.all());
    let run = p.play(H, &play("dev", "    force: yes\n"), &[]).ok();
    assert_eq!(run.changed(H), 1, "{}", run.all());
    assert!(run.stdout.contains("\"msg\": \"Local modifications exist in the destination: "), "{}", run.all());
    assert!(run.stdout.contains(&format!("\"before\": \"{dev}\"")) && run.stdout.contains(&format!("\"after\": \"{dev}\"")), "{}", run.all());
    let status = fleet.exec(H, &["git", "-C", DEST, "status", "--porcelain"]);
    assert!(status.stdout.is_empty(), "modification not discarded");
    let branch = fleet.exec(H, &["git", "-C", DEST, "symbolic-ref", "--short", "HEAD"]);
    assert_eq!(String::from_utf8_lossy(&branch.stdout).trim(), "dev", "still on its branch");
    fleet.exec(H, &["sh", "-c", "echo new > \"$1/untracked.txt\"", "sh", DEST]);
    assert_eq!(p.play(H, &play("dev", ""), &[]).ok().changed(H), 0, "untracked files are not modifications");
    assert_eq!(p.play(H, &play("dev", "    force: yes\n"), &[]).ok().changed(H), 0, "force keeps untracked files");
    fleet.exec(H, &["rm", "-f", &format!("{DEST}/untracked.txt")]);

    // update: no leaves an existing checkout alone.
    assert_eq!(p.play(H, &play("main", "    update: no\n"), &[]).ok().changed(H), 0);
    assert_eq!(head(&fleet), dev);

    // An unknown version fails by name; a shallow bare clone works.
    let run = p.play(H, &play("nosuchbranch", ""), &[]);
    assert!(run.stdout.contains("nosuchbranch"), "{}", run.all());
    let bare = tasks(&format!("- git: repo={REPO} dest=/srv/bare.git bare=yes depth=1"));
    assert_eq!(p.play(H, &bare, &[]).ok().changed(H), 1);
    assert_eq!(fleet.sh(H, "git -C /srv/bare.git rev-parse --is-bare-repository HEAD"), format!("true\n{main}\n"));
    assert_eq!(p.play(H, &bare, &[]).ok().changed(H), 0);
}
