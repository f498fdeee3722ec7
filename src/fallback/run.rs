//! Runs a fallback module on a target: the target's Python, our bootstrap,
//! the bundle on stdin; then the JSON the module prints, read as Ansible reads it.

use serde_json::{Map, Value};
use stockman_modules::shell::Cmd;
use stockman_modules::{ExecOutput, FileDiff, ModuleError, ModuleResult, Target};

use super::PyModule;

/// Our module runner, passed to the interpreter with `-c`.
const BOOTSTRAP: &str = include_str!("bootstrap.py");

/// Interpreters tried when the host has no `ansible_python_interpreter`, in
/// Ansible's order of preference for Debian-like hosts.
const DISCOVERY: &str = r#"for stockman_py in /usr/bin/python3 python3.13 python3.12 python3.11 python3.10 python3.9 python3.8 /usr/libexec/platform-python python3; do
  if stockman_found=$(command -v "$stockman_py" 2>/dev/null); then
    printf 'stockman-interpreter=%s\n' "$stockman_found" >&2
    exec "$stockman_found" -c "$1"
  fi
done
printf 'stockman-no-python\n' >&2
exit 127"#;

const INTERPRETER_MARK: &str = "stockman-interpreter=";
const NO_PYTHON_MARK: &str = "stockman-no-python";

/// The version reported to modules as `_ansible_version`: the ansible-core
/// whose modules these are (modules only compare it loosely).
const ANSIBLE_VERSION: &str = "2.19.0";

/// One run of a module on one host.
pub struct Invocation<'a> {
    pub module: &'a PyModule,
    /// Templated arguments (internal `_ansible_*` ones are added here).
    pub args: &'a Map<String, Value>,
    /// `ansible_python_interpreter` (or the interpreter discovered before), if any.
    pub interpreter: Option<String>,
    pub check: bool,
    pub diff: bool,
    pub no_log: bool,
    pub verbosity: u8,
    /// `ansible_remote_tmp` (Ansible's default `~/.ansible/tmp`).
    pub remote_tmp: String,
    pub host: &'a str,
}

/// The interpreter a host's variables ask for: `ansible_python_interpreter`,
/// else the one discovered on an earlier task. One place, so a setting
/// (ansible.cfg's `interpreter_python`) can be added here.
pub fn configured_interpreter(ctx: &minijinja::Value) -> Option<String> {
    ["ansible_python_interpreter", "discovered_interpreter_python"].iter().find_map(|name| {
        let value = ctx.get_attr(name).ok().filter(|v| !v.is_undefined() && !v.is_none())?;
        let text = value.to_string();
        (!text.trim().is_empty() && text.trim() != "auto" && !text.trim().starts_with("auto_")).then(|| text.trim().to_string())
    })
}

/// Runs the module and maps its output onto a result.
pub async fn run<T: Target>(inv: &Invocation<'_>, target: &T) -> Result<ModuleResult, ModuleError> {
    let payload = inv.module.payload().map_err(|e| ModuleError::BadArgs(format!("cannot bundle module `{}`: {e}", inv.module.fqcn)))?;
    let command = command(inv.interpreter.as_deref()).map_err(ModuleError::BadArgs)?;
    let header = serde_json::json!({"module": payload.import_name, "args": Value::Object(module_args(inv))});
    let mut stdin = header.to_string().into_bytes();
    stdin.push(b'\n');
    stdin.extend_from_slice(&payload.deflated);
    let out = target.exec(command.as_str(), Some(&stdin)).await?;
    Ok(result(inv, out))
}

/// The command: the named interpreter, or discovery of one.
fn command(interpreter: Option<&str>) -> Result<Cmd, String> {
    let Some(interpreter) = interpreter else {
        return Ok(Cmd::sh(DISCOVERY).arg("stockman").arg(BOOTSTRAP));
    };
    let mut words = interpreter.split_whitespace();
    let program = words.next().unwrap_or_default();
    if program.starts_with('-') {
        return Err(format!("ansible_python_interpreter `{interpreter}` must start with the interpreter's path"));
    }
    Ok(Cmd::new("command").arg(program).args(words).flag("-c").arg(BOOTSTRAP))
}

/// The task's arguments plus the internal ones Ansible's action adds.
fn module_args(inv: &Invocation<'_>) -> Map<String, Value> {
    let mut args = inv.args.clone();
    let internal = [
        ("_ansible_check_mode", Value::Bool(inv.check)),
        ("_ansible_no_log", Value::Bool(inv.no_log)),
        ("_ansible_debug", Value::Bool(false)),
        ("_ansible_diff", Value::Bool(inv.diff)),
        ("_ansible_verbosity", Value::from(inv.verbosity)),
        ("_ansible_version", Value::from(ANSIBLE_VERSION)),
        ("_ansible_module_name", Value::from(inv.module.fqcn.clone())),
        ("_ansible_syslog_facility", Value::from("LOG_USER")),
        ("_ansible_selinux_special_fs", serde_json::json!(["fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"])),
        ("_ansible_socket", Value::Null),
        ("_ansible_shell_executable", Value::from("/bin/sh")),
        ("_ansible_keep_remote_files", Value::Bool(false)),
        ("_ansible_tmpdir", Value::Null),
        ("_ansible_remote_tmp", Value::from(inv.remote_tmp.clone())),
        ("_ansible_ignore_unknown_opts", Value::Bool(false)),
        ("_ansible_target_log_info", Value::Null),
        ("_ansible_tracebacks_for", Value::Array(Vec::new())),
    ];
    for (name, value) in internal {
        args.insert(name.to_string(), value);
    }
    args
}

/// The module's output as a result: its JSON, or Ansible's MODULE FAILURE.
fn result(inv: &Invocation<'_>, out: ExecOutput) -> ModuleResult {
    let (stderr, discovered) = split_interpreter_mark(&out.stderr_str());
    if out.rc == 127 && (stderr.contains(NO_PYTHON_MARK) || (inv.interpreter.is_some() && stderr.contains("not found"))) {
        return no_python(inv, &stderr);
    }
    let stdout = out.stdout_str();
    let mut r = match parse_json(&stdout) {
        Some((data, warnings)) => from_module(data, warnings, inv.diff),
        None => module_failure(&stdout, &stderr, out.rc),
    };
    if let Some(path) = discovered.filter(|_| inv.interpreter.is_none()) {
        let facts = r.data.entry("ansible_facts").or_insert_with(|| Value::Object(Map::new()));
        if let Some(facts) = facts.as_object_mut() {
            facts.insert("discovered_interpreter_python".into(), path.into());
        }
    }
    r
}

/// Removes the discovery script's line from stderr; the interpreter it found.
fn split_interpreter_mark(stderr: &str) -> (String, Option<String>) {
    let mut found = None;
    let rest: Vec<&str> = stderr
        .lines()
        .filter(|line| match line.strip_prefix(INTERPRETER_MARK) {
            Some(path) if found.is_none() => {
                found = Some(path.to_string());
                false
            }
            _ => true,
        })
        .collect();
    (rest.join("\n"), found)
}

fn no_python(inv: &Invocation<'_>, stderr: &str) -> ModuleResult {
    let tried = match &inv.interpreter {
        Some(i) => format!("the interpreter `{i}` was not found"),
        None => "no python3 was found (tried /usr/bin/python3, python3.8 to python3.13, /usr/libexec/platform-python)".into(),
    };
    let msg = format!(
        "module `{}` is not native to stockman: it runs through the controller's Ansible code and needs Python on {}, where {tried}. Install python3 there, set ansible_python_interpreter, or use a module stockman ships",
        inv.module.fqcn, inv.host
    );
    ModuleResult::failed(msg).with("module_stderr", stderr.trim_end().to_string()).with("rc", 127)
}

/// A module's warning: a string, or (ansible-core 2.19) a summary whose event holds the text.
pub fn warning_text(warning: &Value) -> String {
    let text = warning.as_str().or_else(|| warning.pointer("/event/msg")?.as_str()).or_else(|| warning.get("msg")?.as_str());
    text.map(str::to_string).unwrap_or_else(|| stockman_modules::args::value_to_string(warning))
}

/// A module's deprecation (`{msg, version|date, collection_name}`, or a
/// 2.19 summary with the text in `event`), worded as Ansible prints it.
pub fn deprecation_text(deprecation: &Value) -> String {
    let msg = warning_text(deprecation);
    let field = |key: &str| deprecation.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let from = field("collection_name").or_else(|| deprecation.pointer("/deprecator/resolved_name")?.as_str()).map(|c| format!(" from {c}")).unwrap_or_default();
    match (field("version"), field("date")) {
        (Some(version), _) => format!("{msg} This feature will be removed{from} in version {version}."),
        (None, Some(date)) => format!("{msg} This feature will be removed{from} in a release after {date}."),
        (None, None) => msg,
    }
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

/// A module's own result: `failed` (or a non-zero `rc`), `changed`, `skipped`, `diff`.
fn from_module(mut data: Map<String, Value>, junk: Vec<String>, diff: bool) -> ModuleResult {
    let flag = |data: &Map<String, Value>, key: &str| data.get(key).and_then(stockman_modules::args::parse_bool).unwrap_or(false);
    let rc_failed = data.get("rc").is_some_and(|rc| !matches!(rc.as_i64(), Some(0) | None) || rc.as_str().is_some_and(|s| s != "0"));
    let failed = if data.contains_key("failed") { flag(&data, "failed") } else { rc_failed };
    let mut r = ModuleResult { changed: flag(&data, "changed"), failed, skipped: flag(&data, "skipped"), ..ModuleResult::default() };
    for key in ["failed", "changed", "skipped", "_ansible_no_log"] {
        data.remove(key);
    }
    // The result keeps `diff` as the module returned it (a task may register
    // it, as in Ansible); --diff shows it.
    if let (Some(d), true) = (data.get("diff"), diff) {
        r.diff = diffs(d);
    }
    if !junk.is_empty() {
        let warnings = data.entry("warnings").or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = warnings.as_array_mut() {
            list.extend(junk.into_iter().map(Value::from));
        }
    }
    r.msg = data.remove("msg").map(|m| stockman_modules::args::value_to_string(&m));
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
    fn the_interpreter_mark_is_taken_out_of_stderr() {
        let (rest, found) = split_interpreter_mark("stockman-interpreter=/usr/bin/python3\nwarning: x\n");
        assert_eq!((rest.as_str(), found.as_deref()), ("warning: x", Some("/usr/bin/python3")));
    }

    #[test]
    fn an_interpreter_with_arguments_is_quoted_word_by_word() {
        let cmd = command(Some("/usr/bin/env  python3")).unwrap();
        assert!(cmd.as_str().starts_with("command /usr/bin/env python3 -c 'import sys"), "{}", cmd.as_str());
        assert!(command(Some("-x")).is_err());
    }
}
