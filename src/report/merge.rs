//! `stockman merge`: the `--output json` streams of a sharded run's shards,
//! read back into [`Event`]s and checked to be one run's shards, so that the
//! ordinary reporters print one recap and one JUnit report of the whole run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{exit_code, Event, HostResult, Stats, Status, TaskHeader, TaskKind};
use crate::yaml::Span;

/// Every stream is read whole; this bounds one stream's size.
const MAX_STREAM_BYTES: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: {message}", path.display())]
    Line { path: PathBuf, line: usize, col: usize, message: String },
    #[error("`{}`: {message}", path.display())]
    Stream { path: PathBuf, message: String },
    /// The streams are not the shards of one run.
    #[error("{0}")]
    Shards(String),
}

/// One shard's stream, as read.
#[derive(Debug, Default)]
struct Stream {
    /// Per playbook: its path and its events after `playbook_start`.
    playbooks: Vec<(String, Vec<Event>)>,
    check: bool,
    shard: Option<ShardLine>,
    stats: Option<Stats>,
    exit: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
struct ShardLine {
    index: u64,
    total: u64,
    inventory: String,
}

/// The whole run, from its shards.
#[derive(Debug)]
pub struct Merged {
    /// The events to replay into reporters: each playbook once, its shards' events after it.
    pub events: Vec<Event>,
    pub stats: Stats,
    /// The process exit code (`--detailed-exitcode`'s when asked for).
    pub code: i32,
    /// Hosts found in more than one shard's recap (their counters are summed).
    pub overlapping: Vec<String>,
}

/// Reads and joins the streams at `paths`; `detailed`: `--detailed-exitcode`.
pub fn merge(paths: &[PathBuf], detailed: bool) -> Result<Merged, MergeError> {
    let streams: Vec<(PathBuf, Stream)> = paths.iter().map(|p| read(p).map(|s| (p.clone(), s))).collect::<Result<_, _>>()?;
    check_shards(&streams)?;
    if detailed {
        if let Some((path, _)) = streams.iter().find(|(_, s)| !s.check) {
            return Err(MergeError::Stream { path: path.clone(), message: "ran without --check, so `changed` is not drift: --detailed-exitcode needs shards run with --check".into() });
        }
    }
    let (stats, overlapping) = joined_stats(&streams);
    let run_code = streams.iter().find_map(|(_, s)| unexplained_exit(s)).unwrap_or_else(|| stats.exit_code());
    let code = exit_code(&stats, run_code, detailed);
    Ok(Merged { events: replay(&streams)?, stats, code, overlapping })
}

fn read(path: &Path) -> Result<Stream, MergeError> {
    let read_error = |source| MergeError::Read { path: path.to_path_buf(), source };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_STREAM_BYTES {
        return Err(MergeError::Stream { path: path.to_path_buf(), message: format!("{size} bytes is over the {MAX_STREAM_BYTES}-byte limit of one stream") });
    }
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let mut stream = Stream::default();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = |col: usize, message: String| MergeError::Line { path: path.to_path_buf(), line: n + 1, col, message };
        let value: Value = serde_json::from_str(line).map_err(|e| at(e.column(), format!("not JSON: {e}")))?;
        let Value::Object(obj) = value else { return Err(at(1, "not a JSON object: not a line of `--output json`".into())) };
        take_line(&mut stream, &obj).map_err(|message| at(1, message))?;
    }
    let missing = |what: &str| MergeError::Stream { path: path.to_path_buf(), message: format!("no `{what}` event: the shard did not finish (killed, or it failed before its run began); run it again") };
    if stream.stats.is_none() {
        return Err(missing("recap"));
    }
    if stream.exit.is_none() {
        return Err(missing("exit"));
    }
    Ok(stream)
}

/// One line into the stream; unknown events are skipped, as the schema allows.
fn take_line(stream: &mut Stream, obj: &Map<String, Value>) -> Result<(), String> {
    match obj.get("schema").and_then(Value::as_u64) {
        Some(v) if v == u64::from(super::json::SCHEMA) => {}
        Some(v) => return Err(format!("schema {v}: this stockman reads schema {}", super::json::SCHEMA)),
        None => return Err("no `schema` field: not a line of `--output json`".into()),
    }
    let event = obj.get("event").and_then(Value::as_str).ok_or("no `event` field")?;
    let field = |name: &str| obj.get(name).ok_or_else(|| format!("`{event}` without `{name}`"));
    let text = |name: &str| field(name).map(|v| v.as_str().unwrap_or_default().to_string());
    let parsed = match event {
        "playbook_start" => {
            stream.check |= obj.get("check").and_then(Value::as_bool).unwrap_or(false);
            stream.playbooks.push((text("path")?, Vec::new()));
            return Ok(());
        }
        "play_start" => Event::PlayStart { name: text("play")?, span: None },
        "task_start" => Event::TaskStart(task_header(obj, &text("task")?)?),
        "host_result" => Event::HostResult(host_result(obj, &text("host")?, &text("status")?)?),
        "recap" => {
            stream.stats = Some(recap(field("hosts")?)?);
            return Ok(());
        }
        "exit" => {
            let code = field("code")?.as_i64().and_then(|c| i32::try_from(c).ok()).ok_or("`exit` with a `code` that is not a whole number")?;
            stream.exit = Some(code);
            return Ok(());
        }
        "shard" => {
            let number = |name: &str| field(name).and_then(|v| v.as_u64().ok_or_else(|| format!("`shard` with a `{name}` that is not a whole number")));
            stream.shard = Some(ShardLine { index: number("index")?, total: number("total")?, inventory: text("inventory")? });
            return Ok(());
        }
        _ => return Ok(()),
    };
    match stream.playbooks.last_mut() {
        Some((_, events)) => events.push(parsed),
        None => return Err(format!("`{event}` before any `playbook_start`")),
    }
    Ok(())
}

fn task_header(obj: &Map<String, Value>, name: &str) -> Result<TaskHeader, String> {
    let kind = match obj.get("kind").and_then(Value::as_str) {
        Some("handler") => TaskKind::Handler,
        Some("gather_facts") => TaskKind::GatherFacts,
        Some("task") => TaskKind::Task,
        other => return Err(format!("`task_start` with kind {other:?}: task, handler or gather_facts")),
    };
    let span = obj.get("path").and_then(Value::as_str).and_then(|p| {
        let (file, line) = p.rsplit_once(':')?;
        Some(Span { file: Arc::from(file), line: line.parse().ok()?, col: 0 })
    });
    let hosts = obj.get("hosts").and_then(Value::as_u64).unwrap_or(0);
    Ok(TaskHeader { name: name.to_string(), kind, span, hosts: usize::try_from(hosts).unwrap_or(usize::MAX), action: None, args: None })
}

fn host_result(obj: &Map<String, Value>, host: &str, status: &str) -> Result<HostResult, String> {
    let status = match status {
        "ok" => Status::Ok,
        "changed" => Status::Changed,
        "skipped" => Status::Skipped,
        "failed" => Status::Failed,
        "unreachable" => Status::Unreachable,
        other => return Err(format!("`host_result` with status `{other}`: ok, changed, skipped, failed or unreachable")),
    };
    // The stream holds the censored view already: it is shown as it was written.
    let result = obj.get("result").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut r = HostResult::new(host, status, result);
    r.ignored = obj.get("ignored").and_then(Value::as_bool).unwrap_or(false);
    r.duration = obj.get("duration_ms").and_then(Value::as_u64).map(std::time::Duration::from_millis);
    Ok(r)
}

fn recap(hosts: &Value) -> Result<Stats, String> {
    let hosts = hosts.as_object().ok_or("`recap` whose `hosts` is not an object")?;
    let mut stats = Stats::default();
    for (host, counters) in hosts {
        let n = |name: &str| {
            let v = counters.get(name).and_then(Value::as_u64).ok_or_else(|| format!("`recap` of `{host}` without a whole number `{name}`"))?;
            u32::try_from(v).map_err(|_| format!("`recap` of `{host}`: `{name}` {v} is too large"))
        };
        let s = super::HostStats { ok: n("ok")?, changed: n("changed")?, unreachable: n("unreachable")?, failed: n("failed")?, skipped: n("skipped")?, rescued: n("rescued")?, ignored: n("ignored")? };
        stats.hosts.insert(host.clone(), s);
    }
    Ok(stats)
}

/// Sharded streams must be all the shards of one inventory, each once.
fn check_shards(streams: &[(PathBuf, Stream)]) -> Result<(), MergeError> {
    let sharded: Vec<(&PathBuf, &ShardLine)> = streams.iter().filter_map(|(p, s)| s.shard.as_ref().map(|l| (p, l))).collect();
    let Some(&(first_path, first)) = sharded.first() else { return Ok(()) };
    if let Some((path, _)) = streams.iter().find(|(_, s)| s.shard.is_none()) {
        return Err(MergeError::Shards(format!("`{}` is a run without --shard, `{}` one with: merge the shards of one run", path.display(), first_path.display())));
    }
    let mut seen: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    for (path, line) in &sharded {
        if line.total != first.total || line.inventory != first.inventory {
            return Err(MergeError::Shards(format!(
                "`{}` is shard {}/{} of inventory {}, `{}` shard {}/{} of inventory {}: the shards must split one inventory the same way (every shard reads the same inventory)",
                first_path.display(), first.index, first.total, first.inventory, path.display(), line.index, line.total, line.inventory
            )));
        }
        if let Some(other) = seen.insert(line.index, path) {
            return Err(MergeError::Shards(format!("`{}` and `{}` are both shard {}/{}", other.display(), path.display(), line.index, line.total)));
        }
    }
    let missing: Vec<String> = (0..first.total).filter(|i| !seen.contains_key(i)).map(|i| format!("{i}/{}", first.total)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Shards(format!("shard {} missing: its hosts would be left out of the recap", missing.join(", "))));
    }
    Ok(())
}

/// The recaps' hosts together; a host in two recaps (added by `add_host` under `--shard-unsafe`) has its counters summed.
fn joined_stats(streams: &[(PathBuf, Stream)]) -> (Stats, Vec<String>) {
    let mut stats = Stats::default();
    let mut overlapping = Vec::new();
    for (host, s) in streams.iter().filter_map(|(_, st)| st.stats.as_ref()).flat_map(|st| &st.hosts) {
        match stats.hosts.get_mut(host) {
            None => {
                stats.hosts.insert(host.clone(), *s);
            }
            Some(t) => {
                overlapping.push(host.clone());
                *t = super::HostStats {
                    ok: t.ok + s.ok, changed: t.changed + s.changed, unreachable: t.unreachable + s.unreachable, failed: t.failed + s.failed,
                    skipped: t.skipped + s.skipped, rescued: t.rescued + s.rescued, ignored: t.ignored + s.ignored,
                };
            }
        }
    }
    (stats, overlapping)
}

/// A shard's exit code that its recap does not explain (an error that ended it), which the merge keeps.
fn unexplained_exit(stream: &Stream) -> Option<i32> {
    let (stats, code) = (stream.stats.as_ref()?, stream.exit?);
    let plain = stats.exit_code();
    (code != plain && code != exit_code(stats, plain, true)).then_some(code)
}

/// Each playbook's start once, then every shard's events of that playbook in turn.
fn replay(streams: &[(PathBuf, Stream)]) -> Result<Vec<Event>, MergeError> {
    let Some((first_path, first)) = streams.first() else { return Ok(Vec::new()) };
    let names: Vec<&String> = first.playbooks.iter().map(|(p, _)| p).collect();
    if let Some((path, s)) = streams.iter().find(|(_, s)| s.playbooks.iter().map(|(p, _)| p).collect::<Vec<_>>() != names) {
        let theirs: Vec<&String> = s.playbooks.iter().map(|(p, _)| p).collect();
        return Err(MergeError::Shards(format!("`{}` ran {names:?}, `{}` ran {theirs:?}: merge the shards of one run", first_path.display(), path.display())));
    }
    let mut events = Vec::new();
    for (k, name) in names.iter().enumerate() {
        events.push(Event::PlaybookStart { path: (*name).clone() });
        for (_, s) in streams {
            events.extend(s.playbooks[k].1.iter().cloned());
        }
    }
    Ok(events)
}
