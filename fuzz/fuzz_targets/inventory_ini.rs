//! The INI inventory parser on arbitrary bytes: errors, never panics or hangs.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch_file("hosts.ini", data);
    if let Ok(inventory) = stockman::inventory::Inventory::load(&[path]) {
        let _ = inventory.select("all", None);
        let _ = inventory.groups_value();
    }
});
