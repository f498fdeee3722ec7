//! Differential test: every expression of tests/data/filters.txt is
//! evaluated by stockman's Templar and by ansible-core's own Templar (in the
//! venv at /var/cache/stockman/ansible-venv); results must be equal, and an
//! expression that fails in Ansible must fail in stockman too.
//!
//! Deliberate differences are not in the corpus; they are listed in
//! src/template/filters/mod.rs and the report of issue 3.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use stockman::template::Templar;

const VENV_PYTHON: &str = "/var/cache/stockman/ansible-venv/bin/python";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn corpus() -> Vec<String> {
    let text = std::fs::read_to_string(data("filters.txt")).expect("read the corpus");
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

/// One outcome per expression, from Ansible.
fn ansible_outcomes() -> Vec<Value> {
    assert!(Path::new(VENV_PYTHON).exists(), "ansible-core venv missing at {VENV_PYTHON}: the differential test needs it");
    let out = Command::new(VENV_PYTHON)
        .arg(data("ansible_eval.py"))
        .arg(data("filters_vars.json"))
        .arg(data("filters.txt"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ANSIBLE_LOCAL_TEMP", std::env::temp_dir())
        .output()
        .expect("run ansible's python");
    assert!(out.status.success(), "ansible_eval.py failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

fn stockman_outcome(templar: &Templar, ctx: &minijinja::Value, expr: &str) -> Value {
    match templar.render_str(&format!("{{{{ {expr} }}}}"), ctx) {
        Ok(v) => serde_json::json!({ "ok": v }),
        Err(e) => serde_json::json!({ "error": e.message }),
    }
}

/// Same outcome: equal values, or both failed (messages differ by design).
fn same(ours: &Value, theirs: &Value) -> bool {
    match (ours.get("ok"), theirs.get("ok")) {
        (Some(a), Some(b)) => a == b,
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn filters_tests_and_lookups_match_ansible() {
    let exprs = corpus();
    let theirs = ansible_outcomes();
    assert_eq!(exprs.len(), theirs.len(), "one Ansible outcome per expression");
    let vars: Value = serde_json::from_str(&std::fs::read_to_string(data("filters_vars.json")).unwrap()).unwrap();
    let templar = Templar::new();
    let ctx = Templar::context(vars.as_object().unwrap());
    // Relative lookups and file tests resolve against the package root, as
    // the Python side's working directory is.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let mismatches: Vec<String> = exprs
        .iter()
        .zip(&theirs)
        .filter_map(|(expr, theirs)| {
            let ours = stockman_outcome(&templar, &ctx, expr);
            (!same(&ours, theirs)).then(|| format!("{expr}\n    stockman: {ours}\n    ansible:  {theirs}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "{} of {} expressions differ from Ansible:\n{}", mismatches.len(), exprs.len(), mismatches.join("\n"));
}
