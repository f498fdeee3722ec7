//! Templar::render_str (minijinja with Ansible's filters, tests and lookups,
//! bounded by fuel) on arbitrary template text with a small context.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stockman::template::Templar;

thread_local! {
    static TEMPLAR: Templar = Templar::new();
}

fuzz_target!(|text: &str| {
    let vars = serde_json::json!({
        "name": "web1",
        "port": 8080,
        "items": [1, "two", {"three": 3}],
        "nested": {"a": {"b": [true, null]}},
        "hostile": "$(touch /tmp/x); `id`",
    });
    let ctx = Templar::context(vars.as_object().expect("an object"));
    TEMPLAR.with(|t| {
        let _ = t.render_str(text, &ctx);
        let _ = t.eval_condition(text, &ctx);
    });
});
