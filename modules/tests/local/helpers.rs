//! stat, lineinfile and blockinfile against files in a temp dir, through a real shell.

use serde_json::json;
use stockman_modules::ModuleKind::{Blockinfile, Lineinfile, Stat};

use crate::harness::*;

#[tokio::test]
async fn stat_reports_a_file_a_link_and_absence_in_one_command_each() {
    let w = World::new();
    let file = w.path(HOSTILE_NAME);
    std::fs::write(&file, "hello\n").unwrap();
    std::os::unix::fs::symlink(&file, w.path("link")).unwrap();
    let (r, n) = w.ok(Stat, json!({"path": file}), NORMAL).await;
    assert_eq!(n, 1);
    let st = &r.data["stat"];
    assert_eq!(st["exists"], true);
    assert_eq!(st["isreg"], true);
    assert_eq!(st["isdir"], false);
    assert_eq!(st["size"], 6);
    assert_eq!(st["path"], json!(file));
    assert_eq!(st["mode"], json!(format!("{:04o}", mode_of(&file))));
    assert_eq!(st["checksum"], "f572d396fae9206628714fb2ce00f72e94f2258f");
    assert_eq!(st["pw_name"], json!(whoami()));
    assert_eq!((st["readable"].clone(), st["writeable"].clone()), (json!(true), json!(true)));
    let (r, _) = w.ok(Stat, json!({"path": w.path("link"), "checksum_algorithm": "sha256"}), NORMAL).await;
    assert_eq!(r.data["stat"]["islnk"], true);
    assert_eq!(r.data["stat"]["lnk_target"], json!(file));
    assert!(r.data["stat"].get("checksum").is_none(), "a link has no checksum unless followed");
    let (r, _) = w.ok(Stat, json!({"path": w.path("link"), "follow": true, "checksum_algorithm": "sha256"}), NORMAL).await;
    assert_eq!(r.data["stat"]["checksum"], "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    let (r, _) = w.ok(Stat, json!({"path": w.path("nope")}), NORMAL).await;
    assert_eq!(r.data["stat"], json!({"exists": false}));
    assert!(!w.dir.path().join("PWNED").exists() && !w.dir.path().join("PWNED2").exists());
}

#[tokio::test]
async fn lineinfile_adds_replaces_and_removes_atomically() {
    let w = World::new();
    let f = w.path(HOSTILE_NAME);
    std::fs::write(&f, "a=1\nb=2\n").unwrap();
    std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let line = "c='$(touch PWNED)'";
    let (r, n) = w.ok(Lineinfile, json!({"path": f, "line": line}), NORMAL).await;
    assert!(r.changed && n == 2, "{r:?}");
    assert_eq!(r.msg.as_deref(), Some("line added"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), format!("a=1\nb=2\n{line}\n"));
    assert_eq!(mode_of(&f), 0o640, "mode kept");
    let (r, n) = w.ok(Lineinfile, json!({"path": f, "line": line}), NORMAL).await;
    assert!(!r.changed && n == 1);
    let (r, _) = w.ok(Lineinfile, json!({"path": f, "regexp": "^a=", "line": "a=9"}), CHECK_DIFF).await;
    assert!(r.changed && r.msg.as_deref() == Some("line replaced"));
    assert_eq!(r.diff[0].after, format!("a=9\nb=2\n{line}\n"));
    assert!(std::fs::read_to_string(&f).unwrap().starts_with("a=1"), "check mode writes nothing");
    let (r, _) = w.ok(Lineinfile, json!({"path": f, "regexp": "^[ab]=", "state": "absent", "backup": true}), NORMAL).await;
    assert_eq!(r.msg.as_deref(), Some("2 line(s) removed"));
    assert_eq!(r.data["found"], 2);
    let backup = r.data["backup"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), format!("a=1\nb=2\n{line}\n"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), format!("{line}\n"));
    assert!(!w.dir.path().join("PWNED").exists());
}

#[tokio::test]
async fn lineinfile_create_missing_and_mode_only() {
    let w = World::new();
    let f = w.path("sub/new.conf");
    let (r, _) = w.ok(Lineinfile, json!({"path": f, "line": "x"}), NORMAL).await;
    assert!(r.failed && r.msg.as_deref().unwrap().contains("does not exist"));
    let (r, _) = w.ok(Lineinfile, json!({"path": f, "line": "x", "create": true, "mode": "0600"}), NORMAL).await;
    assert!(r.changed, "{r:?}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "x\n");
    assert_eq!(mode_of(&f), 0o600);
    let (r, _) = w.ok(Lineinfile, json!({"path": f, "line": "x", "mode": "0644"}), NORMAL).await;
    assert_eq!(r.msg.as_deref(), Some("ownership, perms or SE linux context changed"));
    assert_eq!(mode_of(&f), 0o644);
}

#[tokio::test]
async fn lineinfile_edits_the_file_behind_a_symlink() {
    let w = World::new();
    std::fs::write(w.path("real"), "a\n").unwrap();
    std::os::unix::fs::symlink("real", w.path("link")).unwrap();
    let (r, _) = w.ok(Lineinfile, json!({"path": w.path("link"), "line": "b"}), NORMAL).await;
    assert!(r.changed);
    assert!(std::fs::symlink_metadata(w.path("link")).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(w.path("real")).unwrap(), "a\nb\n");
}

#[tokio::test]
async fn blockinfile_inserts_updates_and_removes() {
    let w = World::new();
    let f = w.path(HOSTILE_NAME);
    std::fs::write(&f, "top\n").unwrap();
    let args = json!({"path": f, "block": "x=1\ny=`id`"});
    let (r, _) = w.ok(Blockinfile, args.clone(), NORMAL).await;
    assert_eq!(r.msg.as_deref(), Some("Block inserted"));
    let expected = "top\n# BEGIN ANSIBLE MANAGED BLOCK\nx=1\ny=`id`\n# END ANSIBLE MANAGED BLOCK\n";
    assert_eq!(std::fs::read_to_string(&f).unwrap(), expected);
    let (r, n) = w.ok(Blockinfile, args, NORMAL).await;
    assert!(!r.changed && n == 1);
    let (r, _) = w.ok(Blockinfile, json!({"path": f, "state": "absent", "backup": true}), NORMAL).await;
    assert_eq!(r.msg.as_deref(), Some("Block removed"));
    assert!(r.data["backup_file"].is_string());
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "top\n");
    let (r, _) = w.ok(Blockinfile, json!({"path": w.path("new"), "block": "z", "create": true, "marker": "// {mark}"}), NORMAL).await;
    assert_eq!(r.msg.as_deref(), Some("File created"));
    assert_eq!(std::fs::read_to_string(w.path("new")).unwrap(), "// BEGIN\nz\n// END\n");
}
