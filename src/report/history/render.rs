//! `stockman history` answers as text for people (or as the JSON itself).

use serde_json::Value;

/// Prints the answer: its JSON, or the text.
pub fn print(value: &Value, text: &str, json: bool) {
    if json {
        crate::report::listing::print(&format!("{}\n", serde_json::to_string_pretty(value).unwrap_or_default()));
    } else {
        crate::report::listing::print(text);
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a run came to: incomplete (killed, or still running), failed, drift (check), ok.
fn outcome(run: &Value) -> &'static str {
    if run["complete"] != true {
        "incomplete"
    } else if run["failed"] == true {
        "failed"
    } else if run["changed"].as_i64().unwrap_or(0) > 0 {
        if run["check"] == true { "drift" } else { "changed" }
    } else {
        "ok"
    }
}

fn playbooks(run: &Value) -> String {
    let list = run["playbooks"].as_array().map(Vec::as_slice).unwrap_or_default();
    let names: Vec<String> = list
        .iter()
        .map(|p| {
            let path = s(&p["path"]);
            match p["git"]["revision"].as_str() {
                Some(rev) => format!("{path}@{}{}", &rev[..rev.len().min(12)], if p["git"]["dirty"] == true { "+dirty" } else { "" }),
                None => path,
            }
        })
        .collect();
    names.join(", ")
}

pub fn list(runs: &[Value]) -> String {
    if runs.is_empty() {
        return "no runs recorded (that match)\n".into();
    }
    let mut out = format!("{:<16}  {:<24}  {:<10}  {:>5}  {:>7}  {}\n", "RUN", "STARTED", "OUTCOME", "HOSTS", "CHANGED", "PLAYBOOKS");
    for run in runs {
        out.push_str(&format!(
            "{:<16}  {:<24}  {:<10}  {:>5}  {:>7}  {}\n",
            s(&run["id"]),
            s(&run["started"]),
            outcome(run),
            s(&run["hosts"]),
            s(&run["changed"]),
            playbooks(run)
        ));
    }
    out
}

pub fn show(run: &Value) -> String {
    let mut out = format!("run {}  {}\n", s(&run["id"]), outcome(run));
    out.push_str(&format!("  started    {}\n  ended      {}\n", s(&run["started"]), if run["complete"] == true { s(&run["ended"]) } else { "never: the run was killed, or is still running".into() }));
    out.push_str(&format!("  exit code  {}\n", s(&run["exit_code"])));
    let command: Vec<String> = run["command"].as_array().map(|a| a.iter().map(s).collect()).unwrap_or_default();
    out.push_str(&format!("  command    {}\n  playbooks  {}\n", command.join(" "), playbooks(run)));
    let inventory: Vec<String> = run["inventory"].as_array().map(|a| a.iter().map(s).collect()).unwrap_or_default();
    out.push_str(&format!("  inventory  {}\n  controller {}\n\n", inventory.join(", "), s(&run["controller"])));
    let mut task = String::new();
    for r in run["results"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let this = format!("{} | {}", s(&r["play"]), s(&r["task"]));
        if this != task {
            out.push_str(&format!("TASK [{this}]  {}\n", s(&r["path"])));
            task = this;
        }
        let item = r["item"].as_str().map(|i| format!(" (item={i})")).unwrap_or_default();
        let ignored = if r["ignored"] == true { " ...ignored" } else { "" };
        let took = r["duration_ms"].as_i64().map(|ms| format!(" {ms}ms")).unwrap_or_default();
        out.push_str(&format!("  {}: {}{item}{ignored}{took}", s(&r["status"]), s(&r["host"])));
        if let Some(msg) = r["msg"].as_str() {
            out.push_str(&format!(": {msg}"));
        }
        out.push('\n');
        for d in r["diff"].as_array().map(Vec::as_slice).unwrap_or_default() {
            out.push_str(&indent(&s(&d["unified"])));
        }
    }
    out
}

pub fn drift(drift: &Value) -> String {
    let tasks = drift["tasks"].as_array().map(Vec::as_slice).unwrap_or_default();
    if tasks.is_empty() {
        return format!("no results recorded for host {}\n", s(&drift["host"]));
    }
    let mut out = format!("host {}\n", s(&drift["host"]));
    for t in tasks {
        out.push_str(&format!("TASK [{} | {}]  {}\n", s(&t["play"]), s(&t["task"]), s(&t["path"])));
        let change = &t["last_change"];
        if change.is_null() {
            out.push_str(&format!("  never changed ({} runs, last {})\n", s(&t["runs"]), s(&t["last_run"])));
            continue;
        }
        let msg = change["msg"].as_str().map(|m| format!(": {m}")).unwrap_or_default();
        out.push_str(&format!("  last changed {} in run {} ({}){msg}\n", s(&change["at"]), s(&change["run"]), s(&change["status"])));
        for d in change["diff"].as_array().map(Vec::as_slice).unwrap_or_default() {
            out.push_str(&indent(&s(&d["unified"])));
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
