//! stdout_callback = json (ansible.posix.json): the whole run as one JSON
//! document on stdout, printed at the recap: `plays` (each play's and task's
//! name, id, `FILE:LINE` path and start/end times, and every host's result with
//! `action` and `failed`/`skipped` added as the plugin adds them), `stats`,
//! `custom_stats` and `global_custom_stats` (empty: stockman has no set_stats),
//! keys sorted, indented by json_indent. Results go through
//! [`HostResult::visible`], so no_log results are censored as everywhere else.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::{pyjson, Event, HostResult, Reporter, Stats, Status, TaskHeader, TaskKind};
use crate::yaml::Span;

pub struct JsonCallback {
    indent: Option<usize>,
    doc: Mutex<Doc>,
}

/// What has been run so far.
struct Doc {
    plays: Vec<Value>,
    /// The current task's action, added to each of its results.
    action: String,
    ids: Ids,
}

impl JsonCallback {
    pub fn new(indent: Option<usize>) -> Self {
        JsonCallback { indent, doc: Mutex::new(Doc { plays: Vec::new(), action: String::new(), ids: Ids::new() }) }
    }

    fn doc(&self) -> std::sync::MutexGuard<'_, Doc> {
        self.doc.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn print(&self, stats: &Stats) {
        let plays = std::mem::take(&mut self.doc().plays);
        let out = json!({ "plays": plays, "stats": stats_value(stats), "custom_stats": {}, "global_custom_stats": {} });
        // Python's json.dumps escapes non-ASCII; values decrypted from inline `!vault` strings never reach the output.
        let text = stockman_modules::pyjson::escape_non_ascii(&crate::vault::redact(&pyjson::dumps(&out, self.indent)));
        let mut stdout = std::io::stdout().lock();
        // A closed stdout must not abort the run.
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }
}

impl Reporter for JsonCallback {
    fn event(&self, event: &Event) {
        match event {
            Event::PlayStart { name, span } => {
                let mut doc = self.doc();
                let play = json!({ "play": entry(name, span.as_ref(), doc.ids.next()), "tasks": [] });
                doc.plays.push(play);
            }
            Event::TaskStart(header) => self.doc().start_task(header),
            Event::HostResult(r) => self.doc().record(r),
            // Ansible's Display still writes these to stderr under this callback.
            Event::Warning(text) => super::error::warning(text),
            Event::Deprecation(text) => super::error::deprecation(text),
            Event::Recap(stats) => self.print(stats),
            _ => {}
        }
    }
}

impl Doc {
    fn start_task(&mut self, header: &TaskHeader) {
        self.action = match header.kind {
            TaskKind::GatherFacts => "gather_facts".to_string(),
            _ => header.action.clone().unwrap_or_default(),
        };
        let task = json!({ "task": entry(&header.name, header.span.as_ref(), self.ids.next()), "hosts": {} });
        if let Some(tasks) = self.plays.last_mut().and_then(|p| p["tasks"].as_array_mut()) {
            tasks.push(task);
        }
    }

    /// A host's result for the current task; a loop's items are left out, its whole result is recorded, as Ansible's on_ok/on_failed see it.
    fn record(&mut self, r: &HostResult) {
        if r.item.is_some() && !r.loop_summary {
            return;
        }
        let mut result: Map<String, Value> = r.visible().into_owned();
        match r.status {
            Status::Failed => _ = result.insert("failed".into(), true.into()),
            Status::Skipped => _ = result.insert("skipped".into(), true.into()),
            _ => {}
        }
        result.insert("action".into(), self.action.clone().into());
        let Some(play) = self.plays.last_mut() else { return };
        let end = now();
        play["play"]["duration"]["end"] = end.clone().into();
        let Some(task) = play["tasks"].as_array_mut().and_then(|t| t.last_mut()) else { return };
        task["task"]["duration"]["end"] = end.into();
        task["hosts"][r.host.as_str()] = Value::Object(result);
    }
}

/// A play's or task's `{name, id, path, duration: {start}}`.
fn entry(name: &str, span: Option<&Span>, id: String) -> Value {
    let path = span.map(|s| format!("{}:{}", absolute(&s.file), s.line)).unwrap_or_default();
    json!({ "name": name, "id": id, "path": path, "duration": { "start": now() } })
}

/// Ansible's paths are absolute.
fn absolute(file: &str) -> String {
    std::path::absolute(file).map(|p| p.display().to_string()).unwrap_or_else(|_| file.to_string())
}

/// Python's `datetime.utcnow().isoformat()` with a `Z`, as the plugin writes times.
fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The counters Ansible's `stats.summarize` gives, per host that ran something.
fn stats_value(stats: &Stats) -> Value {
    Value::Object(stats.per_host_json("failures"))
}

/// Ids shaped as Ansible's (`8-4-4-4-12` hex digits): one prefix per run, then a counter.
struct Ids {
    prefix: String,
    count: u64,
}

impl Ids {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let pid = std::process::id();
        let prefix = format!("{:08x}-{:04x}-{:04x}-{:04x}", nanos as u32, pid & 0xffff, (nanos >> 32) as u16, (nanos >> 48) as u16);
        Ids { prefix, count: 0 }
    }

    fn next(&mut self) -> String {
        self.count += 1;
        format!("{}-{:012}", self.prefix, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_shaped_as_ansible_s() {
        let mut ids = Ids::new();
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        let lengths: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12]);
    }
}
