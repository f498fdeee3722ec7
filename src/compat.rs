//! The ansible-core version stockman behaves as: what `ansible_version`
//! shows playbooks and `_ansible_version` tells the modules the fallback
//! runs (both only compare it loosely). Stated once.

use serde_json::{json, Value};

/// ansible-core's version whose behaviour stockman is checked against.
pub const ANSIBLE_VERSION: &str = "2.19.14";

/// `ansible_version` as ansible-core sets it: full, major, minor, revision, string.
pub fn ansible_version() -> Value {
    let parts: Vec<u64> = ANSIBLE_VERSION.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    json!({
        "full": ANSIBLE_VERSION,
        "major": parts[0],
        "minor": parts[1],
        "revision": parts[2],
        "string": ANSIBLE_VERSION,
    })
}
