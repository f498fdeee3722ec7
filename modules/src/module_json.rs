//! The output of an Ansible module (a Python module run by the engine's
//! fallback), read as Ansible reads it: the JSON object among whatever else
//! was printed, mapped onto a [`ModuleResult`]. Shared by the foreground run
//! and by `async_status`, which reads the same output from a job's files.

use serde_json::{Map, Value};

use crate::{FileDiff, ModuleResult};

/// The line the interpreter discovery prints on stderr before the module runs.
pub const INTERPRETER_MARK: &str = "stockman-interpreter=";
/// The bootstrap kept the bundle it was sent in the host's cache.
pub const BUNDLE_STORED_MARK: &str = "stockman-bundle-stored";
/// The bootstrap was not sent the bundle and the host's cache lacks it (exit 3).
pub const BUNDLE_MISSING_MARK: &str = "stockman-bundle-missing";

/// The module's output as a result: its JSON, or Ansible's MODULE FAILURE.
/// `diff`: the run shows diffs (the module's `diff` becomes the result's).
pub fn read(stdout: &str, stderr: &str, rc: i32, diff: bool) -> ModuleResult {
    match parse_json(stdout) {
        Some((data, warnings)) => from_module(data, warnings, diff),
        None => module_failure(stdout, stderr, rc),
    }
}

/// What the engine's own lines on stderr said, taken out of the module's stderr.
#[derive(Debug, Default, PartialEq)]
pub struct Marks {
    /// The interpreter the discovery found.
    pub interpreter: Option<String>,
    pub bundle_stored: bool,
    pub bundle_missing: bool,
}

/// Removes the discovery's and the bootstrap's lines from stderr.
pub fn split_marks(stderr: &str) -> (String, Marks) {
    let mut marks = Marks::default();
    let rest: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            if let Some(path) = line.strip_prefix(INTERPRETER_MARK).filter(|_| marks.interpreter.is_none()) {
                marks.interpreter = Some(path.to_string());
            } else if *line == BUNDLE_STORED_MARK && !marks.bundle_stored {
                marks.bundle_stored = true;
            } else if *line == BUNDLE_MISSING_MARK && !marks.bundle_missing {
                marks.bundle_missing = true;
            } else {
                return true;
            }
            false
        })
        .collect();
    (rest.join("\n"), marks)
}

/// The JSON object in the module's stdout, with Ansible's warnings for junk after it.
fn parse_json(stdout: &str) -> Option<(Map<String, Value>, Vec<String>)> {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines.iter().position(|l| l.trim().starts_with('{'))?;
    let body = &lines[start..];
    let end = body.iter().rposition(|l| l.trim().ends_with('}'))?;
    let trailing = &body[end + 1..];
    let mut warnings = Vec::new();
    if trailing.iter().any(|l| !l.trim().is_empty()) {
        warnings.push(format!("Module invocation had junk after the JSON data: {}", trailing.join("\n")));
    }
    match serde_json::from_str(&body[..=end].join("\n")).ok()? {
        Value::Object(map) => Some((map, warnings)),
        _ => None,
    }
}

/// A module's own result: `failed` (or a non-zero `rc`), `changed`, `skipped`,
/// `diff` (kept in the result too: Ansible registers it).
fn from_module(mut data: Map<String, Value>, junk: Vec<String>, diff: bool) -> ModuleResult {
    let flag = |data: &Map<String, Value>, key: &str| data.get(key).and_then(crate::args::parse_bool).unwrap_or(false);
    let rc_failed = data.get("rc").is_some_and(|rc| !matches!(rc.as_i64(), Some(0) | None) || rc.as_str().is_some_and(|s| s != "0"));
    let failed = if data.contains_key("failed") { flag(&data, "failed") } else { rc_failed };
    let mut r = ModuleResult { changed: flag(&data, "changed"), failed, skipped: flag(&data, "skipped"), ..ModuleResult::default() };
    for key in ["failed", "changed", "skipped", "_ansible_no_log"] {
        data.remove(key);
    }
    if let Some(d) = data.get("diff").filter(|_| diff) {
        r.diff = diffs(d);
    }
    if !junk.is_empty() {
        let warnings = data.entry("warnings").or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = warnings.as_array_mut() {
            list.extend(junk.into_iter().map(Value::from));
        }
    }
    r.msg = data.remove("msg").map(|m| crate::args::value_to_string(&m));
    r.data = data;
    r
}

/// `diff` as a module returns it: one `{before, after, before_header, after_header}`
/// (strings, or data shown as JSON) or a list of them; `prepared` text as is.
fn diffs(value: &Value) -> Vec<FileDiff> {
    let one = |d: &Map<String, Value>| {
        let text = |key: &str| match d.get(key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => serde_json::to_string_pretty(other).unwrap_or_default() + "\n",
        };
        if let Some(prepared) = d.get("prepared").and_then(Value::as_str) {
            return FileDiff { after: prepared.to_string(), ..FileDiff::default() };
        }
        FileDiff { before_header: text("before_header"), after_header: text("after_header"), before: text("before"), after: text("after") }
    };
    match value {
        Value::Object(d) => vec![one(d)],
        Value::Array(items) => items.iter().filter_map(Value::as_object).map(one).collect(),
        _ => Vec::new(),
    }
}

/// No JSON came back: Ansible's failure (2.19's words for MODULE FAILURE) with what the module printed.
fn module_failure(stdout: &str, stderr: &str, rc: i32) -> ModuleResult {
    ModuleResult::failed("Module result deserialization failed: No start of json char found")
        .with("module_stdout", stdout.to_string())
        .with("module_stderr", stderr.to_string())
        .with("rc", rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_among_noise_and_trailing_junk_warned_about() {
        let (data, warnings) = parse_json("motd line\n{\"changed\": true,\n \"rc\": 0}\nbye\n").unwrap();
        assert_eq!(data["changed"], true);
        assert_eq!(warnings, ["Module invocation had junk after the JSON data: bye"]);
        assert!(parse_json("Traceback (most recent call last):\n  boom\n").is_none());
    }

    #[test]
    fn a_non_zero_rc_fails_unless_failed_says_otherwise() {
        let r = from_module(serde_json::from_str::<Value>(r#"{"rc": 2, "msg": "x"}"#).unwrap().as_object().unwrap().clone(), Vec::new(), false);
        assert!(r.failed);
        let r = from_module(serde_json::from_str::<Value>(r#"{"rc": 2, "failed": false}"#).unwrap().as_object().unwrap().clone(), Vec::new(), false);
        assert!(!r.failed);
    }

    #[test]
    fn the_engines_marks_are_taken_out_of_stderr() {
        let (rest, marks) = split_marks("stockman-interpreter=/usr/bin/python3\nstockman-bundle-stored\nwarning: x\n");
        assert_eq!(rest, "warning: x");
        assert_eq!(marks, Marks { interpreter: Some("/usr/bin/python3".into()), bundle_stored: true, bundle_missing: false });
    }
}
