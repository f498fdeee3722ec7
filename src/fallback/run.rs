//! Runs a fallback module on a target: the target's Python, our bootstrap,
//! the bundle on stdin; then the JSON the module prints, read as Ansible reads it.

use serde_json::{Map, Value};
use stockman_modules::shell::Cmd;
use stockman_modules::{module_json, ExecOutput, ModuleError, ModuleResult, Target};

use super::payload::Payload;
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

const NO_PYTHON_MARK: &str = "stockman-no-python";


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
    /// Under `async:`: the command is the task's own, run as a background job.
    pub background: bool,
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

/// Runs the module and maps its output onto a result. The bundle is first
/// asked of the host's cache (a header-only request); a host that lacks it
/// is sent it, and keeps it for the next task.
pub async fn run<T: Target>(inv: &Invocation<'_>, target: &T) -> Result<ModuleResult, ModuleError> {
    let payload = inv.module.payload().map_err(|e| ModuleError::BadArgs(format!("cannot bundle module `{}`: {e}", inv.module.fqcn)))?;
    let command = command(inv.interpreter.as_deref()).map_err(ModuleError::BadArgs)?;
    if inv.background {
        // The job reads its stdin later, alone: it always carries the bundle.
        let out = target.exec_task_command(command.as_str(), Some(&request(inv, &payload, true))).await?;
        return Ok(result(inv, out));
    }
    if inv.module.host_caches(inv.host) {
        let out = target.exec(command.as_str(), Some(&request(inv, &payload, false))).await?;
        if !(out.rc == 3 && out.stderr_str().lines().any(|l| l == module_json::BUNDLE_MISSING_MARK)) {
            return Ok(result(inv, out));
        }
    }
    let out = target.exec(command.as_str(), Some(&request(inv, &payload, true))).await?;
    let (_, marks) = module_json::split_marks(&out.stderr_str());
    inv.module.note_host_caches(inv.host, marks.bundle_stored);
    Ok(result(inv, out))
}

/// The bootstrap's stdin: the header line (module, arguments, bundle), then
/// the bundle itself when `send`.
fn request(inv: &Invocation<'_>, payload: &Payload, send: bool) -> Vec<u8> {
    let bundle = serde_json::json!({"sha256": payload.sha256, "dir": inv.remote_tmp, "sent": send});
    let header = serde_json::json!({"module": payload.import_name, "args": Value::Object(module_args(inv)), "bundle": bundle});
    let mut stdin = header.to_string().into_bytes();
    stdin.push(b'\n');
    if send {
        stdin.extend_from_slice(&payload.deflated);
    }
    stdin
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
        ("_ansible_version", Value::from(crate::compat::ANSIBLE_VERSION)),
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
    let (stderr, marks) = module_json::split_marks(&out.stderr_str());
    if out.rc == 127 && (stderr.contains(NO_PYTHON_MARK) || (inv.interpreter.is_some() && stderr.contains("not found"))) {
        return no_python(inv, &stderr);
    }
    let mut r = module_json::read(&out.stdout_str(), &stderr, out.rc, inv.diff);
    if let Some(path) = marks.interpreter.filter(|_| inv.interpreter.is_none()) {
        let facts = r.data.entry("ansible_facts").or_insert_with(|| Value::Object(Map::new()));
        if let Some(facts) = facts.as_object_mut() {
            facts.insert("discovered_interpreter_python".into(), path.into());
        }
    }
    r
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreter_with_arguments_is_quoted_word_by_word() {
        let cmd = command(Some("/usr/bin/env  python3")).unwrap();
        assert!(cmd.as_str().starts_with("command /usr/bin/env python3 -c 'import sys"), "{}", cmd.as_str());
        assert!(command(Some("-x")).is_err());
    }
}
