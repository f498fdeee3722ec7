//! The YAML inventory reader on arbitrary bytes: errors, never panics or hangs.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch_file("hosts.yml", data);
    if let Ok(inventory) = stockman::inventory::Inventory::load(&[path]) {
        let _ = inventory.select("all:!web*", None);
        let _ = inventory.groups_value();
    }
});
