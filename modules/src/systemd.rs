//! `systemd` (and `service` on systemd hosts): a unit started, stopped,
//! restarted or reloaded; enabled or not; masked or not.
//!
//! An optional `daemon-reload`/`daemon-reexec` first, then one probe
//! (`systemctl show`), then one apply command chaining the needed `systemctl`
//! calls with `&&` (mask/unmask, enable/disable, then the state), in Ansible's
//! order. `status` is the unit's properties before any change, as in Ansible.

use serde_json::{Map, Value};

use crate::listarg::choice;
use crate::shell::Cmd;
use crate::{Args, ExecOutput, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, req, Param};

/// The arguments of `systemd_service`, typed as ansible.builtin.systemd_service's docs.
pub const PARAMS: &[Param] = &[
    alias("name", &["service", "unit"], false).str(),
    p("state").choices(&["reloaded", "restarted", "started", "stopped"]),
    p("enabled").bool(),
    p("masked").bool(),
    alias("daemon_reload", &["daemon-reload"], false).bool(),
    alias("daemon_reexec", &["daemon-reexec"], false).bool(),
    p("scope").choices(&["system", "user", "global"]).default("system"),
    p("no_block").bool(),
];

/// The arguments of `service`, typed as ansible.builtin.service's docs, and
/// systemd's: on a systemd host Ansible's service action hands the task's
/// arguments to `systemd` as they are, so `daemon_reload` or `masked` work there too.
pub const SERVICE_PARAMS: &[Param] = &[
    req("name").str(),
    p("state").choices(&["reloaded", "restarted", "started", "stopped"]),
    p("enabled").bool(),
    p("pattern").str(),
    p("sleep").int(),
    p("runlevel").str(),
    alias("arguments", &["args"], false).str(),
    p("use").str().default("auto"),
    p("masked").bool(),
    alias("daemon_reload", &["daemon-reload"], false).bool(),
    alias("daemon_reexec", &["daemon-reexec"], false).bool(),
    p("scope").choices(&["system", "user", "global"]).default("system"),
    p("no_block").bool(),
];

/// service's arguments that systemd has no use for: dropped with Ansible's
/// warning (`args` is the alias of `arguments`, named as the task wrote it).
const IGNORED_BY_SYSTEMD: &[&str] = &["pattern", "runlevel", "sleep", "arguments", "args"];

/// `service` on this host: systemd's run, after Ansible's service action has
/// dropped what systemd does not use.
pub async fn run_service<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let warnings = service_warnings(args)?;
    let mut result = run(args, target, mode).await?;
    if !warnings.is_empty() {
        result = result.with("warnings", warnings);
    }
    Ok(result)
}

/// Ansible's warnings for service's arguments systemd ignores; a `use` other
/// than systemd is refused (stockman has no other service manager).
fn service_warnings(args: &Args) -> Result<Vec<String>, ModuleError> {
    match args.str("use").as_deref() {
        None | Some("auto") | Some("systemd") => {}
        Some(other) => {
            return Err(ModuleError::BadArgs(format!("service `use: {other}` is not supported: stockman's service module manages systemd units only (use: auto or systemd)")))
        }
    }
    Ok(IGNORED_BY_SYSTEMD.iter().filter(|name| args.get(name).is_some()).map(|name| format!("Ignoring \"{name}\" as it is not used in \"systemd\"")).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Started,
    Stopped,
    Restarted,
    Reloaded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    System,
    User,
    Global,
}

#[derive(Debug, Clone)]
struct Request {
    name: Option<String>,
    state: Option<State>,
    enabled: Option<bool>,
    masked: Option<bool>,
    daemon_reload: bool,
    daemon_reexec: bool,
    scope: Scope,
    no_block: bool,
}

impl Request {
    fn from_args(args: &Args) -> Result<Self, ModuleError> {
        let state = match choice(args, "state", &["started", "stopped", "restarted", "reloaded"])? {
            None => None,
            Some("started") => Some(State::Started),
            Some("stopped") => Some(State::Stopped),
            Some("restarted") => Some(State::Restarted),
            Some(_) => Some(State::Reloaded),
        };
        let optional_bool = |name: &str| args.get(name).map(|_| args.bool(name, false)).transpose();
        let scope = match choice(args, "scope", &["system", "user", "global"])? {
            Some("user") => Scope::User,
            Some("global") => Scope::Global,
            _ => Scope::System,
        };
        let request = Request {
            name: args.str("name"),
            state,
            enabled: optional_bool("enabled")?,
            masked: optional_bool("masked")?,
            daemon_reload: args.bool("daemon_reload", false)?,
            daemon_reexec: args.bool("daemon_reexec", false)?,
            scope,
            no_block: args.bool("no_block", false)?,
        };
        let acts_on_unit = request.state.is_some() || request.enabled.is_some() || request.masked.is_some();
        if acts_on_unit && request.name.is_none() {
            return Err(ModuleError::BadArgs("missing parameter(s) required by 'state', 'enabled', 'masked': name".into()));
        }
        if !acts_on_unit && !request.daemon_reload && !request.daemon_reexec {
            return Err(ModuleError::BadArgs(
                "one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec".into(),
            ));
        }
        if request.scope == Scope::Global && request.state.is_some() {
            return Err(ModuleError::BadArgs("scope=global cannot start or stop units; use enabled or masked".into()));
        }
        Ok(request)
    }

    fn systemctl(&self) -> Cmd {
        let cmd = Cmd::new("systemctl");
        match self.scope {
            Scope::System => cmd,
            Scope::User => cmd.flag("--user"),
            Scope::Global => cmd.flag("--global"),
        }
    }
}

/// `Key=Value` lines of `systemctl show`, in order.
fn parse_show(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect()
}

fn prop<'a>(status: &'a Map<String, Value>, key: &str) -> &'a str {
    status.get(key).and_then(Value::as_str).unwrap_or("")
}

fn is_running(status: &Map<String, Value>) -> bool {
    matches!(prop(status, "ActiveState"), "active" | "activating" | "reloading")
}

/// `systemctl is-enabled` succeeds for these unit file states.
fn is_enabled(status: &Map<String, Value>) -> bool {
    matches!(
        prop(status, "UnitFileState"),
        "enabled" | "enabled-runtime" | "static" | "alias" | "indirect" | "generated" | "linked" | "linked-runtime"
    )
}

fn is_masked(status: &Map<String, Value>) -> bool {
    prop(status, "LoadState") == "masked" || prop(status, "UnitFileState").starts_with("masked")
}

/// The `systemctl` calls that bring the unit to the wanted state, in order.
fn plan(request: &Request, name: &str, status: &Map<String, Value>) -> Vec<Cmd> {
    let verb = |v: &'static str| request.systemctl().flag(v).flag("--").arg(name);
    let mut steps = Vec::new();
    match request.masked {
        Some(true) if !is_masked(status) => steps.push(verb("mask")),
        Some(false) if is_masked(status) => steps.push(verb("unmask")),
        _ => {}
    }
    match request.enabled {
        Some(true) if !is_enabled(status) => steps.push(verb("enable")),
        Some(false) if is_enabled(status) && prop(status, "UnitFileState") != "static" => steps.push(verb("disable")),
        _ => {}
    }
    let action = match request.state {
        Some(State::Started) if !is_running(status) => Some("start"),
        Some(State::Stopped) if is_running(status) || prop(status, "ActiveState") == "deactivating" => Some("stop"),
        Some(State::Restarted) => Some("restart"),
        Some(State::Reloaded) if is_running(status) => Some("reload"),
        Some(State::Reloaded) => Some("start"),
        _ => None,
    };
    if let Some(action) = action {
        let cmd = request.systemctl();
        let cmd = if request.no_block { cmd.flag("--no-block") } else { cmd };
        let cmd = match action {
            "start" => cmd.flag("start"),
            "stop" => cmd.flag("stop"),
            "restart" => cmd.flag("restart"),
            _ => cmd.flag("reload"),
        };
        steps.push(cmd.flag("--").arg(name));
    }
    steps
}

/// Printed after a reload merged into the probe: success, or the failure's status.
const RELOADED: &str = "@@stockman-reloaded@@";
const RELOAD_FAILED: &str = "@@stockman-reload-failed@@";

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let request = Request::from_args(args)?;
    let verbs = reload_verbs(&request, mode);
    // The usual case (one reload, then the unit) costs one round trip, not two.
    let merged = (verbs.len() == 1 && request.name.is_some()).then(|| verbs[0]);
    if merged.is_none() {
        for verb in verbs {
            let out = target.exec(request.systemctl().flag(verb).as_str(), None).await?;
            if out.rc != 0 {
                return Ok(reload_failure(verb, out.rc, &out));
            }
        }
    }
    let Some(name) = request.name.clone() else {
        return Ok(ModuleResult::ok());
    };
    let show = request.systemctl().flag("show").flag("--").arg(&name);
    let show = match merged {
        Some(verb) => request
            .systemctl()
            .flag(verb)
            .then("&&", Cmd::new("echo").flag(RELOADED))
            .then("||", Cmd::new("echo").flag("@@stockman-reload-failed@@ $?"))
            .then(";", show),
        None => show,
    };
    let mut out = target.exec(show.as_str(), None).await?;
    if let Some(verb) = merged {
        match take_reload_line(&mut out) {
            Ok(()) => {}
            Err(rc) => return Ok(reload_failure(verb, rc, &out)),
        }
    }
    let status = parse_show(&out.stdout_str());
    let base = ModuleResult::ok().with("name", name.clone());
    let unknown = out.rc != 0 || matches!(prop(&status, "LoadState"), "not-found" | "");
    // Masking works on a unit with no file (Ansible allows it); nothing else does.
    if unknown && request.masked != Some(true) {
        let why = out.stderr_str();
        let why = if why.trim().is_empty() { "unit not found".to_string() } else { why.trim().to_string() };
        return Ok(ModuleResult { failed: true, msg: Some(format!("Could not find the requested service {name}: {why}")), ..base });
    }
    let steps = plan(&request, &name, &status);
    let result = with_fields(base, &request, status);
    if steps.is_empty() {
        return Ok(result);
    }
    let mut result = ModuleResult { changed: true, ..result };
    if mode.check {
        return Ok(result);
    }
    let mut steps = steps.into_iter();
    let first = steps.next().unwrap_or_else(|| Cmd::new("true"));
    let cmd = steps.fold(first, |acc, step| acc.then("&&", step));
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        result.failed = true;
        result.changed = false;
        result.msg = Some(format!("Unable to change the state of unit `{name}`: {}", out.stderr_str().trim()));
    }
    Ok(result)
}

/// `daemon-reexec` and `daemon-reload` as asked, in that order; none in check mode.
fn reload_verbs(request: &Request, mode: RunMode) -> Vec<&'static str> {
    let wanted = [(request.daemon_reexec, "daemon-reexec"), (request.daemon_reload, "daemon-reload")];
    wanted.into_iter().filter(|(want, _)| *want && !mode.check).map(|(_, verb)| verb).collect()
}

fn reload_failure(verb: &str, rc: i32, out: &ExecOutput) -> ModuleResult {
    ModuleResult::failed(format!("failure {rc} during {verb}: {}", out.stderr_str().trim()))
}

/// Removes the merged reload's first line from the output; its status when it failed.
fn take_reload_line(out: &mut ExecOutput) -> Result<(), i32> {
    let end = out.stdout.iter().position(|&b| b == b'\n').unwrap_or(out.stdout.len());
    let line = String::from_utf8_lossy(&out.stdout[..end]).into_owned();
    out.stdout.drain(..(end + 1).min(out.stdout.len()));
    if line == RELOADED {
        return Ok(());
    }
    let rc = line.strip_prefix(RELOAD_FAILED).and_then(|rc| rc.trim().parse().ok());
    Err(rc.unwrap_or(-1))
}

fn with_fields(result: ModuleResult, request: &Request, status: Map<String, Value>) -> ModuleResult {
    let mut result = result;
    if let Some(state) = request.state {
        let word = match state {
            State::Started => "started",
            State::Stopped => "stopped",
            State::Restarted => "started",
            State::Reloaded => "started",
        };
        result = result.with("state", word);
    }
    if let Some(enabled) = request.enabled {
        result = result.with("enabled", enabled);
    }
    result.with("status", Value::Object(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merged_reload_reports_its_own_line() {
        let mut ok = ExecOutput { rc: 0, stdout: b"@@stockman-reloaded@@\nId=x\n".to_vec(), stderr: Vec::new() };
        assert_eq!(take_reload_line(&mut ok), Ok(()));
        assert_eq!(ok.stdout, b"Id=x\n");
        let mut failed = ExecOutput { rc: 0, stdout: b"@@stockman-reload-failed@@ 3\nId=x\n".to_vec(), stderr: Vec::new() };
        assert_eq!(take_reload_line(&mut failed), Err(3));
        let mut cut = ExecOutput { rc: -1, stdout: Vec::new(), stderr: Vec::new() };
        assert_eq!(take_reload_line(&mut cut), Err(-1));
    }

    #[test]
    fn service_drops_what_systemd_ignores_with_ansibles_warning() {
        let args = |v: serde_json::Value| Args::new(v.as_object().unwrap().clone());
        let warned = service_warnings(&args(json!({"name": "cron", "pattern": "cron", "sleep": 2, "use": "auto"}))).unwrap();
        assert_eq!(warned, ["Ignoring \"pattern\" as it is not used in \"systemd\"", "Ignoring \"sleep\" as it is not used in \"systemd\""]);
        assert!(service_warnings(&args(json!({"name": "cron", "daemon_reload": true}))).unwrap().is_empty());
        let refused = service_warnings(&args(json!({"name": "cron", "use": "sysvinit"}))).unwrap_err();
        assert!(format!("{refused:?}").contains("systemd units only"), "{refused:?}");
    }

    fn request(v: serde_json::Value) -> Request {
        Request::from_args(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    fn status(active: &str, file: &str) -> Map<String, Value> {
        parse_show(&format!("Id=demo.service\nLoadState=loaded\nActiveState={active}\nSubState=x\nUnitFileState={file}\nExecStart={{ path=/bin/sleep ; argv[]=/bin/sleep a=b }}\n"))
    }

    fn plan_of(v: serde_json::Value, s: &Map<String, Value>) -> Vec<String> {
        let r = request(v);
        plan(&r, r.name.as_deref().unwrap(), s).into_iter().map(Cmd::into_string).collect()
    }

    #[test]
    fn show_output_keeps_values_with_equals_signs() {
        let s = status("active", "enabled");
        assert_eq!(prop(&s, "ExecStart"), "{ path=/bin/sleep ; argv[]=/bin/sleep a=b }");
        assert!(is_running(&s) && is_enabled(&s) && !is_masked(&s));
    }

    #[test]
    fn plans_follow_ansible_order_and_skip_what_is_in_state() {
        let s = status("inactive", "disabled");
        assert_eq!(
            plan_of(json!({"name": "a b;$(x)", "state": "started", "enabled": true, "masked": false}), &s),
            ["systemctl enable -- 'a b;$(x)'", "systemctl start -- 'a b;$(x)'"]
        );
        let s = status("active", "enabled");
        assert!(plan_of(json!({"name": "demo", "state": "started", "enabled": true}), &s).is_empty());
        assert_eq!(plan_of(json!({"name": "demo", "state": "restarted", "no_block": true}), &s), ["systemctl --no-block restart -- demo"]);
        assert_eq!(plan_of(json!({"name": "demo", "state": "reloaded", "scope": "user"}), &s), ["systemctl --user reload -- demo"]);
        assert_eq!(plan_of(json!({"name": "demo", "masked": true, "state": "stopped"}), &s), ["systemctl mask -- demo", "systemctl stop -- demo"]);
    }

    #[test]
    fn arguments_are_checked() {
        let args = |v: serde_json::Value| Args::new(v.as_object().unwrap().clone());
        assert!(Request::from_args(&args(json!({"state": "started"}))).is_err());
        assert!(Request::from_args(&args(json!({"name": "x"}))).is_err());
        assert!(Request::from_args(&args(json!({"daemon_reload": true}))).is_ok());
        assert!(Request::from_args(&args(json!({"name": "x", "state": "running"}))).is_err());
    }
}
