use serde_json::json;
use stockman_modules::ModuleKind::{Command, Shell};

use crate::harness::*;

#[tokio::test]
async fn command_runs_without_a_shell() {
    let w = World::new();
    let (r, n) = w
        .ok(
            Command,
            json!({"_raw_params": "echo $HOME ; ls | wc 'a  b'"}),
            NORMAL,
        )
        .await;
    assert_eq!(n, 1);
    assert!(r.changed && !r.failed);
    // `$HOME` is expanded as Ansible's expand_argument_vars does; the rest is data.
    let home = std::env::var("HOME").unwrap();
    assert_eq!(r.data["stdout"], json!(format!("{home} ; ls | wc a  b")));
    assert_eq!(
        r.data["cmd"],
        json!(["echo", "$HOME", ";", "ls", "|", "wc", "a  b"])
    );
    assert_eq!(r.data["rc"], json!(0));
    assert_eq!(r.msg.as_deref(), Some(""));
    let delta = r.data["delta"].as_str().unwrap();
    assert!(
        delta.starts_with("0:00:0") && delta.len() == "0:00:00.003210".len(),
        "{delta}"
    );
    assert_eq!(
        r.data["start"].as_str().unwrap().len(),
        "2024-05-01 12:34:56.123456".len()
    );
}

#[tokio::test]
async fn expand_argument_vars_false_keeps_variables_as_written() {
    let w = World::new();
    let (r, _) = w
        .ok(
            Command,
            json!({"_raw_params": "echo $HOME ~", "expand_argument_vars": false}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["stdout"], json!("$HOME ~"));
}

#[tokio::test]
async fn hostile_argv_words_stay_data() {
    let w = World::new();
    let (r, _) = w
        .ok(
            Command,
            json!({"argv": ["printf", "%s", HOSTILE_NAME]}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["stdout"], json!(HOSTILE_NAME));
    assert!(!w.dir.path().join("PWNED").exists() && !w.dir.path().join("PWNED2").exists());
}

#[tokio::test]
async fn shell_runs_through_sh() {
    let w = World::new();
    let (r, _) = w
        .ok(
            Shell,
            json!({"_raw_params": "echo $((1+2)) | cat; echo err >&2"}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["stdout"], json!("3"));
    assert_eq!(r.data["stderr"], json!("err"));
    assert_eq!(r.data["stderr_lines"], json!(["err"]));
    assert_eq!(r.data["cmd"], json!("echo $((1+2)) | cat; echo err >&2"));
}

#[tokio::test]
async fn shell_with_executable() {
    let w = World::new();
    let (r, _) = w
        .ok(
            Shell,
            json!({"cmd": "echo $0", "executable": "/bin/bash"}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["stdout"], json!("/bin/bash"));
}

#[tokio::test]
async fn non_zero_rc_fails() {
    let w = World::new();
    let (r, _) = w
        .ok(Shell, json!({"cmd": "echo out; exit 3"}), NORMAL)
        .await;
    assert!(r.failed && r.changed);
    assert_eq!(r.msg.as_deref(), Some("non-zero return code"));
    assert_eq!(r.data["rc"], json!(3));
    assert_eq!(r.data["stdout_lines"], json!(["out"]));
}

#[tokio::test]
async fn chdir_stdin_and_strip() {
    let w = World::new();
    std::fs::create_dir(w.dir.path().join("d $(x)")).unwrap();
    let (r, _) = w
        .ok(
            Shell,
            json!({"cmd": "pwd; cat", "chdir": w.path("d $(x)"), "stdin": "in"}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["stdout"], json!(format!("{}\nin", w.path("d $(x)"))));
    let (r, _) = w
        .ok(
            Shell,
            json!({"cmd": "printf 'a\\n\\n'", "strip_empty_ends": false}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["stdout"], json!("a\n\n"));
    let (r, _) = w
        .ok(
            Command,
            json!({"argv": ["cat"], "stdin": "x", "stdin_add_newline": false}),
            NORMAL,
        )
        .await;
    assert_eq!(r.data["stdout"], json!("x"));
}

#[tokio::test]
async fn creates_and_removes_skip_like_ansible() {
    let w = World::new();
    std::fs::write(w.dir.path().join("there $(x).txt"), "").unwrap();
    let pattern = w.path("there $(x).*");
    let (r, n) = w
        .ok(
            Shell,
            json!({"cmd": "touch ran", "creates": pattern}),
            NORMAL,
        )
        .await;
    assert_eq!(n, 1, "a skipped command costs one probe");
    assert!(!r.changed && !r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some(format!("Did not run command since '{pattern}' exists").as_str())
    );
    assert_eq!(r.data["rc"], json!(0));
    assert!(!w.dir.path().join("ran").exists());

    let (r, _) = w
        .ok(
            Shell,
            json!({"cmd": "touch ran", "removes": "missing*", "chdir": w.path(".")}),
            NORMAL,
        )
        .await;
    assert_eq!(
        r.msg.as_deref(),
        Some("Did not run command since 'missing*' does not exist")
    );

    let (r, n) = w
        .ok(Shell, json!({"cmd": "touch ran", "creates": "ran"}), NORMAL)
        .await;
    assert!(r.changed && n == 2);
    assert!(w.dir.path().join("ran").exists());
}

#[tokio::test]
async fn check_mode_skips_unless_creates_decides() {
    let w = World::new();
    let (r, n) = w.ok(Shell, json!({"cmd": "touch ran"}), CHECK).await;
    assert!(r.skipped && !r.changed && n == 0);
    assert_eq!(
        r.msg.as_deref(),
        Some("Command would have run if not in check mode")
    );
    let (r, n) = w
        .ok(Shell, json!({"cmd": "touch ran", "creates": "ran"}), CHECK)
        .await;
    assert!(r.changed && !r.skipped && n == 1);
    std::fs::write(w.dir.path().join("ran"), "").unwrap();
    let (r, _) = w
        .ok(Shell, json!({"cmd": "touch ran", "creates": "ran"}), CHECK)
        .await;
    assert!(!r.changed);
    assert_eq!(
        r.msg.as_deref(),
        Some("Would not run command since 'ran' exists")
    );
    assert_eq!(w.listing(), ["ran"]);
}

#[tokio::test]
async fn missing_chdir_fails_with_ansible_message() {
    let w = World::new();
    let (r, _) = w
        .ok(
            Shell,
            json!({"cmd": "true", "chdir": w.path("nope"), "creates": "x"}),
            NORMAL,
        )
        .await;
    assert!(r.failed);
    assert!(r
        .msg
        .unwrap()
        .starts_with("Unable to change directory before execution:"));
}
