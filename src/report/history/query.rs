//! Reading the history back: the runs, one run's results, a host's drift.
//! Every answer is JSON (what `--output json` prints); the CLI renders it for people.

use serde_json::{json, Map, Value};

use super::db::{Cell, Db, DbError};

/// Rows a query reads at most: a bound on memory for a long history.
pub const MAX_ROWS: i64 = 100_000;

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub host: Option<String>,
    pub failed: bool,
    pub since_ms: Option<i64>,
    pub last: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no run `{0}` in the history (`stockman history list` shows the runs)")]
    NoRun(String),
    #[error("`{0}` names several runs; give more of the id")]
    Ambiguous(String),
    #[error("`{0}` is not a run id: ids are hexadecimal (or `last`)")]
    BadId(String),
}

const RUN_COLUMNS: &str = "r.id, r.started_ms, r.ended_ms, r.exit_code, r.command, r.playbooks, r.inventory, r.check_mode, r.controller, r.stockman_version, r.recap,
    (SELECT COUNT(DISTINCT x.host) FROM results x WHERE x.run_id = r.id),
    (SELECT COUNT(*) FROM results x WHERE x.run_id = r.id AND x.changed = 1),
    (SELECT COUNT(*) FROM results x WHERE x.run_id = r.id AND x.status IN ('failed', 'unreachable') AND x.ignored = 0)";

/// The newest runs first.
pub fn list(db: &mut Db, filter: &ListFilter) -> Result<Vec<Value>, QueryError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs r WHERE r.started_ms >= $1
         AND ($2 = '' OR EXISTS (SELECT 1 FROM results x WHERE x.run_id = r.id AND x.host = $2))
         ORDER BY r.started_ms DESC LIMIT $3"
    );
    let host = filter.host.clone().unwrap_or_default();
    // --failed filters after the query: read up to the bound, keep `last`.
    let limit = if filter.failed { MAX_ROWS } else { filter.last };
    let rows = db.query(&sql, &[filter.since_ms.unwrap_or(0).into(), host.into(), limit.into()])?;
    let runs = rows.iter().map(|r| run_value(r)).filter(|r| !filter.failed || r["failed"] == true);
    Ok(runs.take(usize::try_from(filter.last).unwrap_or(usize::MAX)).collect())
}

/// One run and its results in order (only `host`'s when given).
pub fn show(db: &mut Db, id: &str, host: Option<&str>) -> Result<Value, QueryError> {
    let id = resolve(db, id)?;
    let rows = db.query(&format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = $1"), &[id.clone().into()])?;
    let mut run = rows.first().map(|r| run_value(r)).ok_or_else(|| QueryError::NoRun(id.clone()))?;
    let sql = "SELECT seq, at_ms, playbook, play, task, kind, path, host, status, changed, ignored, item, msg, diff, duration_ms, result
               FROM results WHERE run_id = $1 AND ($2 = '' OR host = $2) ORDER BY seq LIMIT $3";
    let results = db.query(sql, &[id.into(), host.unwrap_or_default().into(), MAX_ROWS.into()])?;
    run["results"] = results.iter().map(|r| result_value(r)).collect();
    Ok(run)
}

/// For each task seen on `host`: when it last ran, and when it last changed and how.
pub fn drift(db: &mut Db, host: &str) -> Result<Value, QueryError> {
    let seen_sql = "SELECT play, task, path, kind, MAX(at_ms), COUNT(*) FROM results WHERE host = $1 GROUP BY play, task, path, kind ORDER BY MIN(at_ms) LIMIT $2";
    let seen = db.query(seen_sql, &[host.into(), MAX_ROWS.into()])?;
    let changed_sql = "SELECT play, task, path, kind, run_id, at_ms, status, msg, diff, item FROM results WHERE host = $1 AND changed = 1 ORDER BY at_ms DESC, seq DESC LIMIT $2";
    let changes = db.query(changed_sql, &[host.into(), MAX_ROWS.into()])?;
    let tasks: Vec<Value> = seen
        .iter()
        .map(|s| {
            let key = &s[..4];
            let last_change = changes.iter().find(|c| &c[..4] == key).map(|c| {
                json!({ "run": c[4], "at": time(&c[5]), "status": c[6], "msg": c[7], "diff": parse(&c[8]), "item": c[9] })
            });
            json!({ "play": s[0], "task": s[1], "path": s[2], "kind": s[3], "last_run": time(&s[4]), "runs": s[5], "last_change": last_change })
        })
        .collect();
    Ok(json!({ "host": host, "tasks": tasks }))
}

/// A full id, a unique prefix of one, or `last`.
fn resolve(db: &mut Db, id: &str) -> Result<String, QueryError> {
    let rows = if id == "last" {
        db.query("SELECT id FROM runs ORDER BY started_ms DESC LIMIT 1", &[])?
    } else {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(QueryError::BadId(id.to_string()));
        }
        db.query("SELECT id FROM runs WHERE id LIKE $1 LIMIT 2", &[Cell::from(format!("{}%", id.to_ascii_lowercase()))])?
    };
    match rows.as_slice() {
        [] => Err(QueryError::NoRun(id.to_string())),
        [one] => Ok(one[0].as_str().unwrap_or_default().to_string()),
        _ => Err(QueryError::Ambiguous(id.to_string())),
    }
}

fn run_value(r: &[Value]) -> Value {
    let failed = r[13].as_i64().unwrap_or(0) > 0 || r[3].as_i64().is_some_and(|c| c != 0 && c != 2);
    json!({
        "id": r[0],
        "started": time(&r[1]),
        "ended": time(&r[2]),
        "complete": !r[2].is_null(),
        "exit_code": r[3],
        "command": parse(&r[4]),
        "playbooks": parse(&r[5]),
        "inventory": parse(&r[6]),
        "check": r[7] == 1,
        "controller": r[8],
        "stockman_version": r[9],
        "recap": parse(&r[10]),
        "hosts": r[11],
        "changed": r[12],
        "failed": failed,
    })
}

fn result_value(r: &[Value]) -> Value {
    let names = ["seq", "at", "playbook", "play", "task", "kind", "path", "host", "status", "changed", "ignored", "item", "msg", "diff", "duration_ms", "result"];
    let mut m = Map::new();
    for (name, v) in names.iter().zip(r) {
        let v = match *name {
            "at" => time(v),
            "changed" | "ignored" => Value::Bool(*v == 1),
            "diff" | "result" => parse(v),
            _ => v.clone(),
        };
        m.insert((*name).to_string(), v);
    }
    Value::Object(m)
}

/// A JSON column back as JSON (null stays null).
fn parse(v: &Value) -> Value {
    v.as_str().and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null)
}

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-12-02T05:44:31.123Z`).
pub fn time(v: &Value) -> Value {
    v.as_i64().and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).into()
}

/// `--since`: `30m`, `12h`, `7d` ago, a date (`2026-12-01`, midnight UTC) or an RFC 3339 time.
pub fn parse_since(text: &str, now_ms: i64) -> Result<i64, String> {
    let text = text.trim();
    let unit = |c: char| match c {
        's' => Some(1_000),
        'm' => Some(60_000),
        'h' => Some(3_600_000),
        'd' => Some(86_400_000),
        'w' => Some(7 * 86_400_000),
        _ => None,
    };
    if let Some(last) = text.chars().last() {
        if let (Some(ms), Ok(n)) = (unit(last), text[..text.len() - 1].parse::<i64>()) {
            return Ok(now_ms.saturating_sub(n.saturating_mul(ms)));
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(0));
    }
    Err(format!("--since `{text}`: give a time ago (30m, 12h, 7d, 2w), a date (2026-12-01) or an RFC 3339 time (2026-12-01T08:00:00Z)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_ages_dates_and_times() {
        let now = 1_000_000_000_000;
        assert_eq!(parse_since("30m", now), Ok(now - 30 * 60_000));
        assert_eq!(parse_since("2d", now), Ok(now - 2 * 86_400_000));
        assert_eq!(parse_since("2026-12-01", now), Ok(1_796_083_200_000));
        assert_eq!(parse_since("2026-12-01T00:00:01Z", now), Ok(1_796_083_201_000));
        assert!(parse_since("yesterday", now).unwrap_err().contains("--since `yesterday`"));
    }
}
