//! `--output json`: one JSON object per line on stdout, each carrying
//! `"schema"` and `"event"` first. The schema is documented in
//! docs/output-json.md; bump [`SCHEMA`] when a field changes meaning or goes away.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::{diff, Event, HostResult, Reporter, Stats, Status, TaskHeader, TaskKind};

/// The version of the line format; additions of fields do not change it.
pub const SCHEMA: u32 = 1;

/// Writes JSON lines to stdout (or any writer, for tests).
pub struct Json {
    out: Mutex<Box<dyn Write + Send>>,
    state: Mutex<Current>,
    check: bool,
}

/// The play and task that host results belong to (the linear strategy runs one task at a time).
#[derive(Default)]
struct Current {
    play: String,
    task: Option<TaskHeader>,
}

impl Json {
    pub fn stdout(check: bool) -> Self {
        Json::to_writer(Box::new(std::io::stdout()), check)
    }

    pub fn to_writer(out: Box<dyn Write + Send>, check: bool) -> Self {
        Json { out: Mutex::new(out), state: Mutex::new(Current::default()), check }
    }

    fn line(&self, event: &str, fields: Value) {
        let mut obj = Map::new();
        obj.insert("schema".into(), SCHEMA.into());
        obj.insert("event".into(), event.into());
        if let Value::Object(fields) = fields {
            obj.extend(fields);
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A closed stdout must not abort the run.
        // Values decrypted from inline `!vault` strings never reach the output.
        let _ = writeln!(out, "{}", crate::vault::redact(&Value::Object(obj).to_string()));
        let _ = out.flush();
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Current> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Reporter for Json {
    fn event(&self, event: &Event) {
        match event {
            Event::PlaybookStart { path } => self.line("playbook_start", json!({ "path": path, "check": self.check })),
            Event::PlayStart { name, .. } => {
                *self.current() = Current { play: name.clone(), task: None };
                self.line("play_start", json!({ "play": name }));
            }
            Event::NoHostsMatched => {
                let play = self.current().play.clone();
                self.line("no_hosts_matched", json!({ "play": play }));
            }
            Event::TaskStart(header) => {
                let fields = {
                    let mut current = self.current();
                    current.task = Some(header.clone());
                    let mut fields = task_fields(&current);
                    fields.insert("hosts".into(), header.hosts.into());
                    fields
                };
                self.line("task_start", Value::Object(fields));
            }
            Event::HostStart { .. } | Event::Detail { .. } => {}
            Event::HostResult(r) => {
                let fields = host_result_fields(&task_fields(&self.current()), r);
                self.line("host_result", Value::Object(fields));
            }
            Event::Included { file, hosts, item } => {
                self.line("included", json!({ "file": file, "hosts": hosts, "item": item }));
            }
            Event::NoMoreHosts => {
                let play = self.current().play.clone();
                self.line("no_more_hosts", json!({ "play": play }));
            }
            Event::Warning(text) => self.line("warning", json!({ "msg": text })),
            Event::PlayError { message, span } => self.line("error", json!({ "msg": message, "origin": span.to_string() })),
            Event::Deprecation(text) => self.line("warning", json!({ "msg": text, "deprecation": true })),
            Event::Display(text) | Event::Banner(text) => self.line("display", json!({ "msg": text })),
            Event::Retry { host, task, retries_left } => {
                self.line("retry", json!({ "host": host, "task": task, "retries_left": retries_left }));
            }
            Event::Recap(stats) => self.line("recap", recap_fields(stats)),
            Event::Shard(shard) => self.line("shard", shard_fields(shard)),
            Event::Exit { code } => self.line("exit", json!({ "code": code })),
        }
    }
}

fn kind_name(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Task => "task",
        TaskKind::Handler => "handler",
        TaskKind::GatherFacts => "gather_facts",
    }
}

pub(super) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Changed => "changed",
        Status::Skipped => "skipped",
        Status::Failed => "failed",
        Status::Unreachable => "unreachable",
    }
}

/// `play`, `task`, `kind`, `path` of the current task.
fn task_fields(current: &Current) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("play".into(), current.play.clone().into());
    let task = current.task.as_ref();
    m.insert("task".into(), task.map(|t| t.name.clone()).into());
    m.insert("kind".into(), task.map(|t| kind_name(t.kind)).into());
    let path = task.and_then(|t| t.span.as_ref()).map(|s| format!("{}:{}", s.file, s.line));
    m.insert("path".into(), path.into());
    m
}

/// Everything a consumer needs about one host's result, from the censored view only.
fn host_result_fields(task: &Map<String, Value>, r: &HostResult) -> Map<String, Value> {
    let visible = r.visible();
    let mut m = task.clone();
    m.insert("host".into(), r.host.clone().into());
    m.insert("status".into(), status_name(r.status).into());
    m.insert("changed".into(), visible.get("changed").and_then(Value::as_bool).unwrap_or(r.status == Status::Changed).into());
    m.insert("ignored".into(), r.ignored.into());
    let msg = visible.get("msg").or_else(|| visible.get("censored")).cloned();
    m.insert("msg".into(), msg.unwrap_or(Value::Null));
    m.insert("item".into(), visible.get("item").cloned().unwrap_or(Value::Null));
    let diffs: Vec<Value> = if r.no_log { Vec::new() } else { r.diff.iter().filter_map(diff_value).collect() };
    m.insert("diff".into(), Value::Array(diffs));
    m.insert("duration_ms".into(), r.duration.map(|d| d.as_millis() as u64).into());
    let result: Map<String, Value> = visible.iter().filter(|(k, _)| k.as_str() != "diff" && !k.starts_with("_ansible")).map(|(k, v)| (k.clone(), v.clone())).collect();
    m.insert("result".into(), Value::Object(result));
    m
}

fn diff_value(d: &stockman_modules::FileDiff) -> Option<Value> {
    let unified = diff::unified(d)?;
    Some(json!({ "before_header": d.before_header, "after_header": d.after_header, "unified": unified }))
}

/// What `stockman merge` checks: every shard of one inventory, each once.
fn shard_fields(shard: &crate::shard::Shard) -> Value {
    json!({
        "index": shard.slot.index, "total": shard.slot.total, "hosts": shard.hosts,
        "inventory_hosts": shard.inventory_hosts, "inventory": shard.fingerprint,
    })
}

fn recap_fields(stats: &Stats) -> Value {
    json!({ "hosts": stats.per_host_json("failed") })
}
