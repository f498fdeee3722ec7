//! The history's writer thread: JSON event lines in, rows out.
//!
//! It owns the database connection, so the run never waits on the database (and the
//! PostgreSQL client's own runtime never meets the run's). The lines of up to 100 ms
//! are one transaction, committed before the next is gathered: a killed run keeps
//! everything it reported up to its last 100 ms.

use std::sync::mpsc::Receiver;

use serde_json::{json, Value};

use super::db::{Cell, Db, DbError, Target};
use super::{now_ms, RunInfo};

/// Lines written in one transaction at most.
const BATCH: usize = 512;
/// How long a batch gathers lines after its first: commits cost more than rows, and a
/// killed run loses at most this much of its last events.
const WINDOW: std::time::Duration = std::time::Duration::from_millis(100);

/// Opens the database, records the run, then its events until `exit` (or the run's end).
pub fn record(target: &Target, run: &RunInfo, lines: &Receiver<String>) -> Result<(), DbError> {
    let mut db = Db::open(target)?;
    super::schema::migrate(&mut db)?;
    let mut recorder = Recorder { db, run_id: run.id.clone(), seq: 0, playbook: None };
    recorder.insert_run(run)?;
    while let Ok(first) = lines.recv() {
        let batch = gather(first, lines);
        if recorder.write(&batch)? {
            break;
        }
    }
    Ok(())
}

/// `first` and what follows it within [`WINDOW`] (up to [`BATCH`]; the `exit` line ends it at once).
fn gather(first: String, lines: &Receiver<String>) -> Vec<String> {
    let deadline = std::time::Instant::now() + WINDOW;
    let mut batch = vec![first];
    while batch.len() < BATCH && !batch.last().is_some_and(|l| l.contains("\"event\":\"exit\"")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => batch.push(line),
            Err(_) => break,
        }
    }
    batch
}

struct Recorder {
    db: Db,
    run_id: String,
    seq: i64,
    /// The playbook the next results belong to (`playbook_start`).
    playbook: Option<String>,
}

impl Recorder {
    fn insert_run(&mut self, run: &RunInfo) -> Result<(), DbError> {
        let playbooks: Vec<Value> = run.playbooks.iter().map(|p| json!({ "path": p.display().to_string(), "git": super::git::describe(p) })).collect();
        let params: Vec<Cell> = vec![
            run.id.clone().into(),
            run.started_ms.into(),
            Value::from(run.command.clone()).to_string().into(),
            Value::from(playbooks).to_string().into(),
            Value::from(run.inventory.clone()).to_string().into(),
            run.check.into(),
            run.controller.clone().into(),
            env!("CARGO_PKG_VERSION").into(),
        ];
        self.db.exec(
            "INSERT INTO runs (id, started_ms, command, playbooks, inventory, check_mode, controller, stockman_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &params,
        )?;
        Ok(())
    }

    /// Writes one batch in a transaction; true once the run's `exit` is written.
    fn write(&mut self, batch: &[String]) -> Result<bool, DbError> {
        self.db.begin()?;
        let mut ended = false;
        for line in batch {
            // Lines come from our own JSON reporter: one that does not parse is skipped, not fatal.
            let Ok(event) = serde_json::from_str::<Value>(line) else { continue };
            match self.apply(&event) {
                Ok(exit) => ended |= exit,
                Err(e) => {
                    self.db.rollback();
                    return Err(e);
                }
            }
        }
        self.db.commit()?;
        Ok(ended)
    }

    fn apply(&mut self, event: &Value) -> Result<bool, DbError> {
        match event["event"].as_str() {
            Some("playbook_start") => self.playbook = event["path"].as_str().map(str::to_string),
            Some("host_result") => self.insert_result(event)?,
            Some("recap") => {
                self.db.exec("UPDATE runs SET recap = $2 WHERE id = $1", &[self.run_id.clone().into(), event["hosts"].to_string().into()])?;
            }
            Some("exit") => {
                let params = [self.run_id.clone().into(), now_ms().into(), event["code"].as_i64().into()];
                self.db.exec("UPDATE runs SET ended_ms = $2, exit_code = $3 WHERE id = $1", &params)?;
                return Ok(true);
            }
            _ => {}
        }
        Ok(false)
    }

    fn insert_result(&mut self, e: &Value) -> Result<(), DbError> {
        self.seq += 1;
        let params: Vec<Cell> = vec![
            self.run_id.clone().into(),
            self.seq.into(),
            now_ms().into(),
            self.playbook.clone().into(),
            text(&e["play"]).into(),
            text(&e["task"]).into(),
            text(&e["kind"]).into(),
            text(&e["path"]).into(),
            text(&e["host"]).unwrap_or_default().into(),
            text(&e["status"]).unwrap_or_default().into(),
            (e["changed"] == true).into(),
            (e["ignored"] == true).into(),
            text(&e["item"]).into(),
            text(&e["msg"]).into(),
            e["diff"].to_string().into(),
            e["duration_ms"].as_i64().into(),
            e["result"].to_string().into(),
        ];
        self.db.exec(
            "INSERT INTO results (run_id, seq, at_ms, playbook, play, task, kind, path, host, status, changed, ignored, item, msg, diff, duration_ms, result)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            &params,
        )?;
        Ok(())
    }
}

/// A JSON field as a column: strings as they are, other values as JSON, null as NULL.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
