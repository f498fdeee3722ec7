use serde_json::json;
use stockman_modules::ModuleKind::Copy;

use crate::harness::*;

#[tokio::test]
async fn content_is_written_once_then_unchanged() {
    let w = World::new();
    let dest = w.path("motd");
    let (r, n) = w
        .ok(Copy, json!({"content": "hello\n", "dest": dest}), NORMAL)
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(n, 2, "probe + write");
    assert_eq!(std::fs::read(&dest).unwrap(), b"hello\n");
    assert_eq!(
        r.data["checksum"],
        json!("f572d396fae9206628714fb2ce00f72e94f2258f")
    );
    assert_eq!(r.data["mode"], json!(format!("0{:03o}", 0o666 & !umask())));
    assert_eq!(r.data["size"], json!(6));
    assert_eq!(r.data["state"], json!("file"));
    assert_eq!(r.data["dest"], json!(dest));
    let (r, n) = w
        .ok(Copy, json!({"content": "hello\n", "dest": dest}), NORMAL)
        .await;
    assert!(!r.changed && n == 1, "a no-op costs one probe");
    assert_eq!(
        r.data["checksum"],
        json!("f572d396fae9206628714fb2ce00f72e94f2258f")
    );
    assert_eq!(w.listing(), ["motd"], "no temp file left behind");
}

#[tokio::test]
async fn check_mode_changes_nothing_but_reports() {
    let w = World::new();
    let dest = w.path("new");
    let (r, n) = w
        .ok(
            Copy,
            json!({"content": "x", "dest": dest, "mode": "0600"}),
            CHECK_DIFF,
        )
        .await;
    assert!(r.changed && n == 1);
    assert_eq!(r.data["mode"], json!("0600"));
    assert!(w.listing().is_empty());
    assert_eq!(r.diff[0].before, "");
    assert_eq!(r.diff[0].after, "x");
    assert_eq!(r.diff[0].after_header, "dynamically generated");
}

#[tokio::test]
async fn diff_shows_old_and_new_content() {
    let w = World::new();
    let dest = w.path("f");
    std::fs::write(&dest, "old\n").unwrap();
    let (r, _) = w
        .ok(Copy, json!({"content": "new\n", "dest": dest}), DIFF)
        .await;
    assert_eq!(r.diff.len(), 1);
    assert_eq!(
        (r.diff[0].before.as_str(), r.diff[0].after.as_str()),
        ("old\n", "new\n")
    );
    assert_eq!(r.diff[0].before_header, dest);
    let (r, _) = w
        .ok(Copy, json!({"content": "new\n", "dest": dest}), DIFF)
        .await;
    assert!(r.diff.is_empty() && !r.changed);
    let (r, _) = w
        .ok(Copy, json!({"content": "a\u{0}b", "dest": dest}), DIFF)
        .await;
    assert!(r.diff[0].after.contains("binary"));
}

#[tokio::test]
async fn same_content_other_mode_is_fixed_in_place() {
    let w = World::new();
    let dest = w.path("f");
    std::fs::write(&dest, "same").unwrap();
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dest).unwrap());
    let (r, n) = w
        .ok(
            Copy,
            json!({"content": "same", "dest": dest, "mode": 0o640}),
            NORMAL,
        )
        .await;
    assert!(r.changed && n == 2);
    assert_eq!(mode_of(&dest), 0o640);
    assert_eq!(
        ino,
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dest).unwrap()),
        "not rewritten"
    );
    let (r, n) = w
        .ok(
            Copy,
            json!({"content": "same", "dest": dest, "mode": "u=rw,g=r,o="}),
            NORMAL,
        )
        .await;
    assert!(!r.changed && n == 1);
}

#[tokio::test]
async fn replacing_keeps_mode_unless_asked() {
    let w = World::new();
    let dest = w.path("f");
    std::fs::write(&dest, "v1").unwrap();
    std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o604)).unwrap();
    let (r, _) = w
        .ok(Copy, json!({"content": "v2", "dest": dest}), NORMAL)
        .await;
    assert!(r.changed);
    assert_eq!(mode_of(&dest), 0o604);
    assert_eq!(r.data["mode"], json!("0604"));
}

#[tokio::test]
async fn owner_and_group_by_name_and_id() {
    if !is_root() {
        return;
    }
    let w = World::new();
    let dest = w.path("f");
    let (r, _) = w
        .ok(
            Copy,
            json!({"content": "x", "dest": dest, "owner": "root", "group": "0"}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(
        (r.data["owner"].clone(), r.data["gid"].clone()),
        (json!("root"), json!(0))
    );
    let (r, n) = w
        .ok(
            Copy,
            json!({"content": "x", "dest": dest, "owner": "0", "group": "root"}),
            NORMAL,
        )
        .await;
    assert!(!r.changed && n == 1);
}

#[tokio::test]
async fn failed_write_leaves_dest_and_no_temp_file() {
    let w = World::new();
    let dest = w.path("f");
    std::fs::write(&dest, "keep").unwrap();
    let (r, _) = w
        .ok(
            Copy,
            json!({"content": "new", "dest": dest, "owner": "no-such-user-x"}),
            NORMAL,
        )
        .await;
    assert!(r.failed);
    assert!(r.msg.as_deref().unwrap().contains(&dest), "{:?}", r.msg);
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep");
    assert_eq!(w.listing(), ["f"]);
    let (r, _) = w
        .ok(
            Copy,
            json!({"content": "new", "dest": w.path("no/dir/f")}),
            NORMAL,
        )
        .await;
    assert!(r.failed);
}

#[tokio::test]
async fn backup_keeps_a_timestamped_copy() {
    let w = World::new();
    let dest = w.path("f");
    std::fs::write(&dest, "v1").unwrap();
    let (r, _) = w
        .ok(
            Copy,
            json!({"content": "v2", "dest": dest, "backup": true}),
            NORMAL,
        )
        .await;
    let backup = r.data["backup_file"].as_str().unwrap();
    assert!(
        backup.starts_with(&format!("{dest}.")) && backup.ends_with('~'),
        "{backup}"
    );
    let stamp = backup.rsplit('.').next().unwrap();
    assert_eq!(stamp.len(), "2024-05-01@12:34:56~".len(), "{stamp}");
    assert_eq!(std::fs::read(backup).unwrap(), b"v1");
    assert_eq!(std::fs::read(&dest).unwrap(), b"v2");
}

#[tokio::test]
async fn force_false_never_replaces() {
    let w = World::new();
    let dest = w.path("f");
    std::fs::write(&dest, "mine").unwrap();
    let (r, n) = w
        .ok(
            Copy,
            json!({"content": "theirs", "dest": dest, "force": "no"}),
            NORMAL,
        )
        .await;
    assert!(!r.changed && n == 1);
    assert_eq!(std::fs::read(&dest).unwrap(), b"mine");
}

#[tokio::test]
async fn src_into_a_directory_uses_its_basename() {
    let mut w = World::new();
    w.controller
        .files
        .insert("files/app.conf".into(), b"conf".to_vec());
    std::fs::create_dir(w.dir.path().join("etc")).unwrap();
    let (r, _) = w
        .ok(
            Copy,
            json!({"src": "files/app.conf", "dest": w.path("etc")}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["dest"], json!(w.path("etc/app.conf")));
    assert_eq!(r.data["src"], json!("files/app.conf"));
    assert_eq!(
        std::fs::read(w.dir.path().join("etc/app.conf")).unwrap(),
        b"conf"
    );
    // A trailing slash creates the directory.
    let (r, _) = w
        .ok(
            Copy,
            json!({"src": "files/app.conf", "dest": format!("{}/", w.path("new"))}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(
        std::fs::read(w.dir.path().join("new/app.conf")).unwrap(),
        b"conf"
    );
}

#[tokio::test]
async fn content_into_a_directory_fails() {
    let w = World::new();
    let (r, _) = w
        .ok(Copy, json!({"content": "x", "dest": w.path(".")}), NORMAL)
        .await;
    assert_eq!(
        r.msg.as_deref(),
        Some("can not use content with a dir as dest")
    );
}

#[tokio::test]
async fn missing_src_fails_with_controller_message() {
    let w = World::new();
    let (r, n) = w
        .ok(Copy, json!({"src": "nope", "dest": w.path("f")}), NORMAL)
        .await;
    assert!(r.failed && n == 0);
    assert_eq!(r.msg.as_deref(), Some("Could not find or access 'nope'"));
}

#[tokio::test]
async fn hostile_names_and_bytes_survive() {
    let w = World::new();
    let dest = w.path(HOSTILE_NAME);
    let mut content = b"$(touch PWNED)\n`id`;'\"\\\0\xff\xfe end without newline".to_vec();
    content.extend_from_slice(HOSTILE_NAME.as_bytes());
    let content_str = unsafe_bytes_to_json(&content);
    let owner = if is_root() {
        "root".to_string()
    } else {
        whoami()
    };
    let args = json!({"content": content_str, "dest": dest, "owner": owner, "mode": "0640"});
    let (r, _) = w.ok(Copy, args.clone(), NORMAL).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), content_str.as_bytes());
    let (r, n) = w.ok(Copy, args, NORMAL).await;
    assert!(!r.changed && n == 1);
    assert_eq!(w.listing(), [HOSTILE_NAME]);
}

#[tokio::test]
async fn relative_dest_with_leading_dash() {
    let w = World::new();
    let (r, _) = w
        .ok(Copy, json!({"content": "x", "dest": "-rf"}), NORMAL)
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(std::fs::read(w.dir.path().join("-rf")).unwrap(), b"x");
}

#[tokio::test]
async fn binary_src_bytes_are_preserved() {
    let mut w = World::new();
    let bytes: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    w.controller.files.insert("blob".into(), bytes.clone());
    let (r, _) = w
        .ok(Copy, json!({"src": "blob", "dest": w.path("blob")}), DIFF)
        .await;
    assert!(r.changed);
    assert_eq!(std::fs::read(w.path("blob")).unwrap(), bytes);
    assert!(r.diff[0].after.contains("diff skipped"));
}

/// JSON strings are UTF-8: lossy-convert so the same text is compared on disk.
fn unsafe_bytes_to_json(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn replacing_keeps_owner_and_group() {
    if !is_root() {
        return;
    }
    let w = World::new();
    let dest = w.path("f");
    std::fs::write(&dest, "v1").unwrap();
    std::os::unix::fs::chown(&dest, Some(4321), Some(4322)).unwrap();
    let (r, _) = w
        .ok(Copy, json!({"content": "v2", "dest": dest}), NORMAL)
        .await;
    assert!(r.changed);
    assert_eq!(
        (r.data["uid"].clone(), r.data["gid"].clone()),
        (json!(4321), json!(4322))
    );
    let (r, _) = w
        .ok(
            Copy,
            json!({"content": "v3", "dest": dest, "group": "0"}),
            NORMAL,
        )
        .await;
    assert_eq!(
        (r.data["uid"].clone(), r.data["gid"].clone()),
        (json!(4321), json!(0))
    );
}
