//! The run history: every run recorded as it goes, in SQLite (the default, one file in
//! the user's state directory) or PostgreSQL (`--history-url`, a fleet's one place).
//!
//! [`History`] is a reporter like the others: it feeds the events to a [`Json`]
//! reporter whose lines go to a writer thread ([`recorder`]), so the history holds
//! exactly what `--output json` would say, censored (no_log, vault values) the same
//! way by construction. [`query`] reads it back for `stockman history`.
//!
//! - [`db`]: one statement API over both databases.
//! - `schema`: the versioned migrations.
//! - `censor`: what of the command line is kept.

mod censor;
pub mod db;
mod git;
pub mod query;
mod recorder;
pub mod render;
mod schema;

pub use schema::migrate;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use censor::url as censor_url;
pub use db::Target;

use super::json::Json;
use super::{Event, Reporter};

/// Event lines waiting for the writer at most; beyond that they are counted and dropped, never waited for.
const QUEUE: usize = 65_536;
/// How long the run's end waits for the writer to catch up.
const FINISH_WAIT: Duration = Duration::from_secs(30);

/// Where to record and what the run is.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub run: RunInfo,
}

/// What the history says about a run besides its events.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub id: String,
    pub started_ms: i64,
    /// The command line, censored.
    pub command: Vec<String>,
    pub playbooks: Vec<PathBuf>,
    pub inventory: Vec<String>,
    pub check: bool,
    /// The controller's host name.
    pub controller: String,
}

impl RunInfo {
    /// A new run of `playbooks` started now by the command line `args` (censored here).
    pub fn new(args: &[String], playbooks: &[PathBuf], inventory: &[PathBuf], check: bool) -> RunInfo {
        use rand::RngExt as _;
        let mut rng = rand::rng();
        RunInfo {
            id: format!("{:016x}", rng.random::<u64>()),
            started_ms: now_ms(),
            command: censor::command(args),
            playbooks: playbooks.iter().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())).collect(),
            inventory: inventory.iter().map(|p| censor::url(&p.display().to_string())).collect(),
            check,
            controller: hostname(),
        }
    }
}

/// `$XDG_STATE_HOME/stockman/history.db`, or `~/.local/state/stockman/history.db`.
pub fn default_sqlite_path() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    state.unwrap_or_else(|| crate::config::home_dir().join(".local/state")).join("stockman/history.db")
}

/// Records a run as it goes.
pub struct History {
    json: Json,
    done: Mutex<Receiver<Result<(), String>>>,
    dropped: Arc<AtomicU64>,
    label: String,
}

impl History {
    /// Starts the writer; the database is opened there, so a slow one never delays the run.
    pub fn start(options: Options) -> History {
        let (lines_tx, lines_rx) = mpsc::sync_channel::<String>(QUEUE);
        let (done_tx, done_rx) = mpsc::channel();
        let label = options.target.label();
        let check = options.run.check;
        let spawned = std::thread::Builder::new().name("history".into()).spawn(move || {
            let outcome = recorder::record(&options.target, &options.run, &lines_rx).map_err(|e| e.to_string());
            let _ = done_tx.send(outcome);
        });
        if let Err(e) = spawned {
            // The receiver is gone with the closure: lines are dropped and finish() says why.
            let (tx, rx) = mpsc::channel();
            let _ = tx.send(Err(format!("cannot start the history writer: {e}")));
            let dropped = Arc::new(AtomicU64::new(0));
            return History { json: Json::to_writer(Box::new(std::io::sink()), check), done: Mutex::new(rx), dropped, label };
        }
        let dropped = Arc::new(AtomicU64::new(0));
        let sender = LineSender { tx: lines_tx, pending: Vec::new(), dropped: dropped.clone() };
        History { json: Json::to_writer(Box::new(sender), check), done: Mutex::new(done_rx), dropped, label }
    }

    /// Waits for the writer (after the `exit` event); Err says what the history lacks.
    pub fn finish(&self) -> Result<(), String> {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = match done.recv_timeout(FINISH_WAIT) {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("the database did not answer within {} s", FINISH_WAIT.as_secs())),
        };
        let dropped = self.dropped.load(Ordering::Relaxed);
        match outcome {
            Err(e) => Err(format!("the run history was not written to {}: {e}", self.label)),
            Ok(()) if dropped > 0 => Err(format!("the run history in {} misses {dropped} events: the database did not keep up", self.label)),
            Ok(()) => Ok(()),
        }
    }
}

impl Reporter for History {
    fn event(&self, event: &Event) {
        self.json.event(event);
    }
}

/// The JSON reporter's output, cut into lines for the writer thread.
struct LineSender {
    tx: SyncSender<String>,
    pending: Vec<u8>,
    dropped: Arc<AtomicU64>,
}

impl Write for LineSender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            match self.tx.try_send(line) {
                Ok(()) => {}
                // The writer stopped (its error is reported at the end): nothing to count.
                Err(TrySendError::Disconnected(_)) => {}
                Err(TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is what we pass.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `--history-url` takes PostgreSQL URLs only (SQLite is the default file).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

