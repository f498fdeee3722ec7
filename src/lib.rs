//! stockman: an agentless configuration manager that runs Ansible playbooks over SSH.
//!
//! # Layout
//! - [`cli`]: clap flags → validated [`config::Settings`]; nothing else sees a raw flag.
//! - [`combine`]: how layers of variables combine (`hash_behaviour`: replace or merge).
//! - [`yaml`]: YAML 1.1 with a file:line:column on every node.
//! - [`inventory`]: hosts, groups, variables; host patterns.
//! - [`playbook`]: the immutable model of plays, tasks and handlers, loaded and validated with spans.
//! - [`template`]: the minijinja environment configured like Ansible's Jinja2.
//! - [`transport`]: SSH (russh) and local connections implementing the modules' `Target`.
//! - [`executor`]: runs plays (hosts in parallel, handlers, results); emits events, never prints.
//! - [`fallback`]: modules stockman does not ship, found in the controller's ansible-core and collections and run with the target's Python.
//! - [`pull`]: `stockman pull`'s git checkout, lock, playbook choice and systemd units.
//! - [`vault`]: Ansible Vault files and `!vault` values; `stockman vault`.
//! - [`shard`]: `--shard I/N`: this process's share of the hosts, and what does not split.
//! - [`rlimit`]: the open-files limit, raised at startup for one connection per host.
//! - [`report`]: events → ansible-playbook's output and the PLAY RECAP; the only place that prints.
//!
//! Dependencies point one way: cli → executor → {transport, playbook, inventory,
//! template, report events} → stockman-modules.

/// Counts each thread's memory, so that one template render is bounded (see
/// [`template`]'s budget) rather than able to exhaust memory.
#[global_allocator]
static ALLOCATOR: template::budget::CountingAlloc = template::budget::CountingAlloc;

pub mod cli;
pub mod combine;
pub mod compat;
pub mod config;
pub mod executor;
pub mod fallback;
pub mod inventory;
pub mod playbook;
pub mod process;
pub mod pull;
pub mod report;
pub mod rlimit;
pub mod shard;
pub mod template;
pub mod transport;
pub mod vault;
pub mod yaml;
