//! The git revision a playbook was run at, when it lives in a repository.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// `{"revision": "<sha>", "dirty": bool}`, or null outside a repository (or without git).
pub fn describe(playbook: &Path) -> Value {
    let dir = match playbook.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(revision) = git(dir, &["rev-parse", "HEAD"]) else { return Value::Null };
    // Tracked files changed since that commit: the run did not run the commit as is.
    let dirty = git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    json!({ "revision": revision, "dirty": dirty })
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
