//! `stockman history list|show|drift`, and the flags that say where a run is recorded.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::config::Settings;
use crate::report::history::{self, db::Db, query, Target};

pub const EXAMPLES: &str = "\
Examples:
  stockman history list
  stockman history list --host web1 --failed --since 7d
  stockman history show last
  stockman history show 3f2a --host web1
  stockman history drift web1
  stockman history --history-url postgres://stockman@db/fleet list --output json";

/// Where `stockman playbook` records the run.
#[derive(Args, Debug, Default, Clone)]
pub struct RecordFlags {
    /// Do not record this run in the run history.
    #[arg(long = "no-history", conflicts_with = "history_url")]
    pub no_history: bool,
    /// Record the run in this PostgreSQL database instead of the SQLite file ($XDG_STATE_HOME/stockman/history.db).
    #[arg(long = "history-url", value_name = "URL")]
    pub history_url: Option<String>,
}

/// The history a run writes to, or None when turned off. `--history-url` wins over
/// the settings; `--no-history`, STOCKMAN_HISTORY=0 or `[stockman] history = False` turn it off.
pub fn record_options(flags: &RecordFlags, settings: &Settings, playbooks: &[PathBuf]) -> Result<Option<history::Options>, String> {
    if flags.no_history || (!settings.history && flags.history_url.is_none()) {
        return Ok(None);
    }
    let target = target(flags.history_url.as_deref().or(settings.history_url.as_deref()))?;
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let run = history::RunInfo::new(&args, playbooks, &settings.inventories, settings.check);
    Ok(Some(history::Options { target, run }))
}

/// A PostgreSQL URL, or the default SQLite file.
fn target(url: Option<&str>) -> Result<Target, String> {
    match url {
        Some(url) if history::is_postgres_url(url) => Ok(Target::Postgres(url.to_string())),
        Some(url) => Err(format!("--history-url `{}`: give a postgres:// URL (the default history is the SQLite file {})", history::censor_url(url), history::default_sqlite_path().display())),
        None => Ok(Target::Sqlite(history::default_sqlite_path())),
    }
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(subcommand)]
    action: Action,
    /// Read this PostgreSQL history instead of the SQLite file (also STOCKMAN_HISTORY_URL, `[stockman] history_url`).
    #[arg(long = "history-url", value_name = "URL", global = true)]
    history_url: Option<String>,
    /// `json`: the answer as one JSON document on stdout.
    #[arg(long = "output", value_name = "FORMAT", value_enum, default_value_t = super::OutputFormat::Human, global = true)]
    output: super::OutputFormat,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// The runs, newest first.
    List {
        /// Only runs that worked on this host.
        #[arg(long = "host", value_name = "HOST")]
        host: Option<String>,
        /// Only runs where a host failed or was unreachable (or that exited with an error).
        #[arg(long = "failed")]
        failed: bool,
        /// Only runs started since: an age (30m, 12h, 7d, 2w), a date (2026-12-01) or an RFC 3339 time.
        #[arg(long = "since", value_name = "WHEN")]
        since: Option<String>,
        /// How many runs at most.
        #[arg(long = "last", value_name = "N", default_value_t = 20)]
        last: i64,
    },
    /// One run: what it was, and every task's result on every host.
    Show {
        /// A run id (a unique prefix will do), or `last`.
        run: String,
        /// Only this host's results.
        #[arg(long = "host", value_name = "HOST")]
        host: Option<String>,
    },
    /// For each task seen on HOST: when it last changed, and what changed.
    Drift { host: String },
}

pub fn run(args: HistoryArgs) -> u8 {
    let loaded = match crate::config::load_reporting() {
        Ok(l) => l,
        Err(message) => return crate::report::error::fatal(&message, 5),
    };
    let configured = loaded.string(crate::config::Id::HistoryUrl).filter(|u| !u.trim().is_empty());
    let target = match target(args.history_url.as_deref().or(configured.as_deref())) {
        Ok(t) => t,
        Err(message) => return crate::report::error::fatal(&message, 5),
    };
    let json = args.output == super::OutputFormat::Json;
    match answer(&target, args.action) {
        Ok((value, text)) => {
            crate::report::history::render::print(&value, &text, json);
            0
        }
        Err(message) => crate::report::error::fatal(&message, 1),
    }
}

/// The answer as JSON and as text for people.
fn answer(target: &Target, action: Action) -> Result<(serde_json::Value, String), String> {
    use crate::report::history::render;
    if let Target::Sqlite(path) = target {
        // Reading never creates a history.
        if !path.exists() {
            return Err(format!("no run history at {} yet: runs are recorded there unless --no-history (or STOCKMAN_HISTORY=0)", path.display()));
        }
    }
    let fail = |e: &dyn std::fmt::Display| format!("run history {}: {e}", target.label());
    let mut db = Db::open(target).map_err(|e| fail(&e))?;
    history::migrate(&mut db).map_err(|e| fail(&e))?;
    match action {
        Action::List { host, failed, since, last } => {
            let since_ms = since.as_deref().map(|s| query::parse_since(s, history::now_ms())).transpose()?;
            let filter = query::ListFilter { host, failed, since_ms, last: last.max(1) };
            let runs = query::list(&mut db, &filter).map_err(|e| fail(&e))?;
            let text = render::list(&runs);
            Ok((serde_json::Value::Array(runs), text))
        }
        Action::Show { run, host } => {
            let shown = query::show(&mut db, &run, host.as_deref()).map_err(|e| fail(&e))?;
            let text = render::show(&shown);
            Ok((shown, text))
        }
        Action::Drift { host } => {
            let drift = query::drift(&mut db, &host).map_err(|e| fail(&e))?;
            let text = render::drift(&drift);
            Ok((drift, text))
        }
    }
}
