//! The playbook loader (YAML, then plays/tasks/blocks validated against the
//! module specs) on arbitrary bytes: errors, never panics or hangs.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch_file("site.yml", data);
    let _ = stockman::playbook::load(&path);
});
