//! Output: the executor emits [`Event`]s; a [`Reporter`] turns them into what
//! people and CI read. This is the only place in the engine that prints.
//!
//! - [`human::Human`] writes ansible-playbook's default layout: `PLAY [..]`,
//!   `TASK [..]`, `ok:`/`changed:`/`fatal:` lines and the PLAY RECAP, with a
//!   progress bar on terminals and `--profile` timings.
//! - [`json::Json`] writes one JSON object per event (`--output json`).
//! - [`json_callback::JsonCallback`] prints one JSON document of the whole run at the recap
//!   (stdout_callback = json, as ansible.posix.json).
//! - [`junit::Junit`] collects a JUnit XML report (`--junit FILE`).
//! - [`adhoc::Adhoc`] writes the ad-hoc command's lines (`host | CHANGED | rc=0 >>`,
//!   `host | SUCCESS => {..}`, the `-o` one-line form), as `ansible`'s minimal and
//!   oneline callbacks do, and `-t TREE` files.
//! - [`run_log::RunLog`] appends what the human output shows to ansible.cfg's log_path.
//! - [`history::History`] records the run in the run history (SQLite or PostgreSQL),
//!   through the JSON reporter, so it holds what `--output json` says.
//! - [`timer::Timer`] prints the run's duration after the recap (callbacks_enabled = timer).
//! - [`merge`] reads `--output json` streams back into events: `stockman merge` joins a
//!   `--shard` run's shards and replays them into these reporters.
//! - [`Outputs`] fans events out to those asked for and decides the exit code.
//!
//! Every format shows results through [`HostResult::visible`], so `no_log`
//! results are censored everywhere.

pub mod adhoc;
mod diff;
pub mod palette;
pub mod error;
mod event;
pub mod history;
pub mod human;
pub mod json;
mod json_callback;
pub mod junit;
pub mod listing;
pub mod merge;
mod outputs;
mod profile;
pub(crate) mod pyjson;
pub mod run_log;
mod stats;
mod timer;

pub use event::{Event, HostResult, Status, TaskHeader, TaskKind, CENSORED, CENSORED_ITEM};
pub use outputs::{exit_code, Format, OutputError, OutputOptions, Outputs, StdoutCallback};
pub use stats::{HostStats, Stats};

/// Receives every event of a run, in order, from one thread at a time.
pub trait Reporter: Send + Sync {
    fn event(&self, event: &Event);
}
