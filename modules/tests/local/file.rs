use serde_json::json;
use stockman_modules::ModuleKind::File;

use crate::harness::*;

#[tokio::test]
async fn directory_created_once_with_yaml_int_mode() {
    let w = World::new();
    let path = w.path("a/b c");
    // YAML `mode: 0750` arrives as the integer 488.
    let (r, n) = w
        .ok(
            File,
            json!({"path": path, "state": "directory", "mode": 488}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed && n == 2, "{r:?}");
    assert_eq!(mode_of(&path), 0o750);
    assert_eq!(
        (r.data["mode"].clone(), r.data["state"].clone()),
        (json!("0750"), json!("directory"))
    );
    let (r, n) = w
        .ok(
            File,
            json!({"path": path, "state": "directory", "mode": "0750"}),
            NORMAL,
        )
        .await;
    assert!(!r.changed && n == 1);
}

#[tokio::test]
async fn sticky_and_setgid_bits_are_exact() {
    let w = World::new();
    let path = w.path("d");
    w.ok(
        File,
        json!({"path": path, "state": "directory", "mode": "2775"}),
        NORMAL,
    )
    .await;
    assert_eq!(mode_of(&path), 0o2775);
    let (r, _) = w
        .ok(
            File,
            json!({"path": path, "state": "directory", "mode": "01777"}),
            NORMAL,
        )
        .await;
    assert_eq!(mode_of(&path), 0o1777, "setgid cleared, sticky set");
    assert_eq!(r.data["mode"], json!("01777"));
}

#[tokio::test]
async fn symbolic_mode_is_idempotent() {
    let w = World::new();
    let path = w.path("f");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let (r, _) = w
        .ok(File, json!({"path": path, "mode": "u+x,g=rX,o="}), NORMAL)
        .await;
    assert!(r.changed);
    assert_eq!(mode_of(&path), 0o750);
    let (r, n) = w
        .ok(File, json!({"path": path, "mode": "u+x,g=rX,o="}), NORMAL)
        .await;
    assert!(!r.changed && n == 1);
}

#[tokio::test]
async fn state_file_on_missing_path_fails() {
    let w = World::new();
    let path = w.path("nope");
    let (r, _) = w
        .ok(File, json!({"path": path, "state": "file"}), NORMAL)
        .await;
    assert!(r.failed);
    assert_eq!(
        r.msg,
        Some(format!("file ({path}) is absent, cannot continue"))
    );
    let (r, _) = w
        .ok(File, json!({"path": w.path("."), "state": "file"}), NORMAL)
        .await;
    assert!(r.msg.unwrap().ends_with("is directory, cannot continue"));
}

#[tokio::test]
async fn touch_always_changes() {
    let w = World::new();
    let path = w.path("t");
    let (r, _) = w
        .ok(
            File,
            json!({"path": path, "state": "touch", "mode": "0600"}),
            NORMAL,
        )
        .await;
    assert!(r.changed && mode_of(&path) == 0o600);
    let (r, _) = w
        .ok(
            File,
            json!({"path": path, "state": "touch", "mode": "0600"}),
            NORMAL,
        )
        .await;
    assert!(r.changed);
    assert_eq!(r.data["state"], json!("file"));
}

#[tokio::test]
async fn absent_removes_trees_then_is_ok() {
    let w = World::new();
    let path = w.path(HOSTILE_NAME);
    std::fs::create_dir_all(format!("{path}/sub")).unwrap();
    std::fs::write(format!("{path}/sub/f"), "x").unwrap();
    let (r, n) = w
        .ok(File, json!({"path": path, "state": "absent"}), NORMAL)
        .await;
    assert!(r.changed && n == 2);
    assert!(w.listing().is_empty());
    let (r, n) = w
        .ok(File, json!({"path": path, "state": "absent"}), NORMAL)
        .await;
    assert!(!r.changed && n == 1);
    assert_eq!(r.data["state"], json!("absent"));
}

#[tokio::test]
async fn check_mode_and_diff() {
    let w = World::new();
    let path = w.path("d");
    let (r, n) = w
        .ok(
            File,
            json!({"path": path, "state": "directory"}),
            CHECK_DIFF,
        )
        .await;
    assert!(r.changed && n == 1);
    assert!(w.listing().is_empty());
    assert_eq!(
        r.diff[0].before,
        format!(
            "{{\n    \"path\": {},\n    \"state\": \"absent\"\n}}\n",
            json!(path)
        )
    );
    assert!(r.diff[0].after.contains("\"state\": \"directory\""));
    std::fs::create_dir(&path).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let (r, _) = w
        .ok(File, json!({"path": path, "mode": "0755"}), CHECK_DIFF)
        .await;
    assert!(r.changed);
    assert_eq!(mode_of(&path), 0o700);
    assert!(
        r.diff[0].before.contains("\"mode\": \"0700\"")
            && r.diff[0].after.contains("\"mode\": \"0755\"")
    );
}

#[tokio::test]
async fn symlinks_created_retargeted_and_left_alone() {
    let w = World::new();
    let target = w.path("t $(x)");
    std::fs::write(&target, "").unwrap();
    let link = w.path("l;`id`");
    let (r, _) = w
        .ok(
            File,
            json!({"path": link, "src": target, "state": "link"}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(std::fs::read_link(&link).unwrap().to_str().unwrap(), target);
    assert_eq!(r.data["state"], json!("link"));
    let (r, n) = w
        .ok(
            File,
            json!({"path": link, "src": target, "state": "link"}),
            NORMAL,
        )
        .await;
    assert!(!r.changed && n == 1);
    // A relative target, resolved beside the link.
    let (r, _) = w
        .ok(
            File,
            json!({"path": link, "src": "t $(x)", "state": "link"}),
            NORMAL,
        )
        .await;
    assert!(r.changed);
    assert_eq!(
        std::fs::read_link(&link).unwrap().to_str().unwrap(),
        "t $(x)"
    );
    let (r, _) = w
        .ok(
            File,
            json!({"path": link, "src": "missing", "state": "link"}),
            NORMAL,
        )
        .await;
    assert!(r.failed && r.msg.unwrap().starts_with("src file does not exist"));
    let (r, _) = w
        .ok(
            File,
            json!({"path": link, "src": "missing", "state": "link", "force": true}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed);
    let mut names = w.listing();
    names.sort();
    assert_eq!(names, ["l;`id`", "t $(x)"], "no temp dirs left");
}

#[tokio::test]
async fn link_refuses_to_replace_a_file_without_force() {
    let w = World::new();
    let path = w.path("f");
    std::fs::write(&path, "data").unwrap();
    let (r, _) = w
        .ok(
            File,
            json!({"path": path, "src": "/etc/hostname", "state": "link"}),
            NORMAL,
        )
        .await;
    assert!(
        r.failed
            && r.msg
                .unwrap()
                .contains("refusing to convert from file to symlink")
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"data");
}

#[tokio::test]
async fn hard_links() {
    let w = World::new();
    let src = w.path("src");
    std::fs::write(&src, "x").unwrap();
    let path = w.path("-hard");
    let (r, _) = w
        .ok(
            File,
            json!({"path": path, "src": src, "state": "hard"}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    let ino = |p: &str| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    assert_eq!(ino(&path), ino(&src));
    let (r, n) = w
        .ok(
            File,
            json!({"path": path, "src": src, "state": "hard"}),
            NORMAL,
        )
        .await;
    assert!(!r.changed && n == 1);
    assert_eq!(r.data["state"], json!("hard"));
}

#[tokio::test]
async fn recurse_fixes_the_whole_tree_once() {
    let w = World::new();
    let root = w.path("tree");
    std::fs::create_dir_all(format!("{root}/a/b")).unwrap();
    std::fs::write(format!("{root}/a/b/f"), "").unwrap();
    std::fs::set_permissions(
        format!("{root}/a/b/f"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let args =
        json!({"path": root, "state": "directory", "recurse": true, "mode": "u=rwX,g=rX,o="});
    let (r, _) = w.ok(File, args.clone(), NORMAL).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(mode_of(&format!("{root}/a/b/f")), 0o640);
    assert_eq!(mode_of(&format!("{root}/a/b")), 0o750);
    let (r, n) = w.ok(File, args, NORMAL).await;
    assert!(!r.changed && n == 1, "{:?}", w.target.commands());
}

#[tokio::test]
async fn follow_applies_mode_to_the_link_target() {
    let w = World::new();
    let target = w.path("t");
    std::fs::write(&target, "").unwrap();
    std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&target, w.path("l")).unwrap();
    let (r, _) = w
        .ok(File, json!({"path": w.path("l"), "mode": "0600"}), NORMAL)
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(mode_of(&target), 0o600);
}

#[tokio::test]
async fn relative_paths_with_leading_dash() {
    let w = World::new();
    let (r, _) = w
        .ok(
            File,
            json!({"path": "-x", "state": "directory", "mode": "0700", "recurse": true}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    std::fs::write(w.dir.path().join("-x/f"), "").unwrap();
    let (r, _) = w
        .ok(
            File,
            json!({"path": "-x", "state": "directory", "mode": "0700", "recurse": true}),
            NORMAL,
        )
        .await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(mode_of(w.dir.path().join("-x/f").to_str().unwrap()), 0o700);
    let (r, n) = w
        .ok(File, json!({"path": "-x", "state": "absent"}), NORMAL)
        .await;
    assert!(r.changed && n == 2);
    assert!(w.listing().is_empty());
}
