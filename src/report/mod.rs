//! Output: the executor emits [`Event`]s; a [`Reporter`] turns them into what
//! people read. This is the only place in the engine that prints.
//!
//! [`human::Human`] writes ansible-playbook's default layout: `PLAY [..]`,
//! `TASK [..]`, `ok:`/`changed:`/`fatal:` lines and the PLAY RECAP.

pub mod error;
mod event;
pub mod human;
mod pyjson;
mod stats;

pub use event::{Event, HostResult, Status, TaskHeader, TaskKind, CENSORED};
pub use stats::{HostStats, Stats};

/// Receives every event of a run, in order, from one thread at a time.
pub trait Reporter: Send + Sync {
    fn event(&self, event: &Event);
}
