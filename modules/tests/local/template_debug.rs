use serde_json::json;
use stockman_modules::ModuleKind::{Debug, Template};

use crate::harness::*;

#[tokio::test]
async fn template_writes_rendered_text_like_copy() {
    let mut w = World::new();
    w.controller
        .templates
        .insert("motd.j2".into(), "Welcome to $(hostname) `x`\n".into());
    let dest = w.path("motd");
    let (r, n) = w
        .ok(
            Template,
            json!({"src": "motd.j2", "dest": dest, "mode": "0644"}),
            DIFF,
        )
        .await;
    assert!(r.changed && n == 2, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        "Welcome to $(hostname) `x`\n"
    );
    assert_eq!(r.diff[0].after_header, "motd.j2");
    assert_eq!(r.data["src"], json!("motd.j2"));
    let (r, n) = w
        .ok(
            Template,
            json!({"src": "motd.j2", "dest": dest, "mode": "0644"}),
            NORMAL,
        )
        .await;
    assert!(!r.changed && n == 1);
}

#[tokio::test]
async fn template_render_failure_fails_the_task() {
    let w = World::new();
    let (r, n) = w
        .ok(
            Template,
            json!({"src": "nope.j2", "dest": w.path("x")}),
            NORMAL,
        )
        .await;
    assert!(r.failed && n == 0);
}

#[tokio::test]
async fn debug_through_dispatch() {
    let mut w = World::new();
    w.controller.vars.insert("who".into(), json!("world"));
    let (r, n) = w.ok(Debug, json!({"var": "who"}), NORMAL).await;
    assert_eq!(
        (r.data["who"].clone(), r.changed, n),
        (json!("world"), false, 0)
    );
}
