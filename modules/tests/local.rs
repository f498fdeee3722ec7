//! Modules against the local machine through a real shell: every command the
//! modules build runs with `/bin/sh -c`, in a temp dir per test.

#[path = "local/harness.rs"]
mod harness;

#[path = "local/command.rs"]
mod command;

#[path = "local/copy.rs"]
mod copy;

#[path = "local/file.rs"]
mod file;

#[path = "local/template_debug.rs"]
mod template_debug;

#[path = "local/helpers.rs"]
mod helpers;
