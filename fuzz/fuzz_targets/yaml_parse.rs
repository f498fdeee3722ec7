//! The YAML layer (spans, alias expansion bounds, nesting bounds) on arbitrary text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(node) = stockman::yaml::parse_str(text, "fuzz.yml".into()) {
        let _ = node.to_json();
    }
});
