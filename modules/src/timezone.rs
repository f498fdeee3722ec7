//! `community.general.timezone`: the system time zone and whether the
//! hardware clock keeps local time, as the collection's module on a Linux
//! host where `timedatectl` works (its SystemdTimezone). One command finds
//! timedatectl, reads `timedatectl status` and checks that the zone exists
//! under /usr/share/zoneinfo; the changes (`set-local-rtc`, then
//! `set-timezone`, Ansible's order) are planned here, then the status is read
//! again and must show what was asked, as Ansible checks. Hosts where
//! timedatectl is missing or fails (the module's NosystemdTimezone, which
//! edits /etc/timezone and runs hwclock) are refused with a message: not
//! native yet.

use serde_json::{Map, Value};

use crate::shell::Cmd;
use crate::spec::{alias, p, Param, Rules};
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};

pub const PARAMS: &[Param] = &[alias("hwclock", &["rtc"], false).choices(&["local", "UTC"]), p("name").str()];

pub const RULES: Rules = Rules { required_one_of: &[&["hwclock", "name"]], ..Rules::NONE };

/// Prints timedatectl's path (empty: none), then `timedatectl status`'s
/// exit status, stdout and stderr, then whether `$1`'s zone file exists.
const PROBE_SCRIPT: &str = r#"t=$(command -v timedatectl 2>/dev/null) || t=
printf '%s\0' "$t"
if [ -n "$t" ]; then
  e=$(mktemp) || exit 1
  o=$(LC_ALL=C "$t" status 2>"$e"; echo "x$?"); rc=${o##*x}; o=${o%x*}
  printf '%s\0%s\0%s\0' "$rc" "$o" "$(cat "$e")"; rm -f "$e"
else printf '127\0\0\0'; fi
if [ -n "$1" ] && [ -f "/usr/share/zoneinfo/$1" ]; then printf 1; fi"#;

/// `timedatectl status` again, after the changes.
const STATUS_SCRIPT: &str = r#"LC_ALL=C "$1" status"#;

/// What the task asks for, in the module's key order (hwclock, name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub hwclock: Option<String>,
    pub name: Option<String>,
}

impl Request {
    fn planned(&self) -> Vec<(&'static str, String)> {
        [("hwclock", &self.hwclock), ("name", &self.name)].into_iter().filter_map(|(k, v)| v.clone().map(|v| (k, v))).collect()
    }
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let (hwclock, name) = (args.str("hwclock"), args.str("name"));
    if hwclock.is_none() && name.is_none() {
        return Err(ModuleError::BadArgs("one of the following is required: hwclock, name".into()));
    }
    if let Some(h) = hwclock.as_deref().filter(|h| *h != "local" && *h != "UTC") {
        return Err(ModuleError::BadArgs(format!("value of hwclock must be one of: local, UTC, got: {h}")));
    }
    Ok(Request { hwclock, name })
}

/// A key's value in `timedatectl status` (`Time zone:`, `RTC in local TZ:`),
/// the hardware clock as `local`/`UTC`. None: the line is missing.
pub fn status_value(status: &str, key: &str) -> Option<String> {
    let label = |line: &str| match key {
        "hwclock" => line.trim_start().strip_prefix("RTC in local TZ").map(str::to_string),
        _ => ["Time zone", "Timezone"].iter().find_map(|l| line.trim_start().strip_prefix(l)).map(str::to_string),
    };
    let value = status.lines().find_map(|line| {
        let rest = label(line)?;
        let rest = rest.trim_start().strip_prefix(':')?;
        rest.split_whitespace().next().map(str::to_string)
    })?;
    Some(match key {
        "hwclock" if crate::args::parse_bool(&Value::from(value.as_str())) == Some(true) => "local".into(),
        "hwclock" => "UTC".into(),
        _ => value,
    })
}

/// The values a status shows for the planned keys; an unreadable key fails as Ansible's regex would.
fn phase(req: &Request, status: &str) -> Result<Vec<(&'static str, String)>, String> {
    req.planned().into_iter().map(|(k, _)| status_value(status, k).map(|v| (k, v)).ok_or_else(|| format!("cannot read `{k}` from `timedatectl status`: {status:?}"))).collect()
}

/// The `timedatectl` arguments that make `before` what is planned.
pub fn plan(req: &Request, before: &[(&'static str, String)]) -> Vec<[String; 2]> {
    req.planned()
        .into_iter()
        .filter(|(k, v)| before.iter().any(|(bk, bv)| bk == k && bv != v))
        .map(|(k, v)| match k {
            "hwclock" => ["set-local-rtc".to_string(), if v == "local" { "yes" } else { "no" }.to_string()],
            _ => ["set-timezone".to_string(), v],
        })
        .collect()
}

/// Python's `str()` of a dict of strings: `{'hwclock': 'UTC', 'name': 'Etc/UTC'}`.
fn py_dict(values: &[(&str, String)]) -> String {
    let items: Vec<String> = values.iter().map(|(k, v)| format!("'{k}': '{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))).collect();
    format!("{{{}}}", items.join(", "))
}

/// The module's `abort()`: its message, then what it executed so far.
fn abort(msg: &str, executed: &[String]) -> ModuleResult {
    let mut lines = vec!["Error message:".to_string(), msg.to_string()];
    if !executed.is_empty() {
        lines.push("Other message(s):".into());
        lines.extend(executed.iter().cloned());
    }
    ModuleResult::failed(lines.join("\n"))
}

/// A before/after dict as Ansible's callback prints it (JSON, sorted, 4 spaces).
fn dict_text(values: &[(&str, String)]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort();
    let map: Map<String, Value> = sorted.into_iter().map(|(k, v)| (k.to_string(), Value::from(v))).collect();
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&Value::Object(map), &mut ser).expect("a map of strings serialises");
    format!("{}\n", String::from_utf8_lossy(&out))
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let probe = Cmd::new("/bin/sh").flag("-c").arg(PROBE_SCRIPT).arg("sh").arg(req.name.as_deref().unwrap_or(""));
    let out = target.exec(probe.as_str(), None).await?;
    let fields: Vec<String> = out.stdout.split(|&b| b == 0).map(|f| String::from_utf8_lossy(f).into_owned()).collect();
    let [timedatectl, rc, status, _err, zone_ok] = fields.as_slice() else {
        return Ok(ModuleResult::failed(format!("could not read the time zone: {}", out.stderr_str().trim())));
    };
    if timedatectl.is_empty() || rc != "0" {
        return Ok(ModuleResult::failed("timezone: this host has no working timedatectl; the module's other strategy (/etc/timezone, hwclock) is not native in stockman: run this task with community.general's module"));
    }
    if let Some(name) = req.name.as_deref().filter(|_| zone_ok != "1") {
        return Ok(abort(&format!("given timezone \"{name}\" is not available"), &[]));
    }
    let before = match phase(&req, status) {
        Ok(before) => before,
        Err(msg) => return Ok(abort(&msg, &[])),
    };
    let changes = plan(&req, &before);
    let mut executed = Vec::new();
    let after = if mode.check {
        req.planned()
    } else {
        for [sub, value] in &changes {
            let cmd = Cmd::new("/bin/sh").flag("-c").arg(r#"t=$1; shift; exec "$t" "$@""#).arg("sh").arg(timedatectl).arg(sub).arg(value);
            let run = target.exec(cmd.as_str(), None).await?;
            if run.rc != 0 {
                let stderr = run.stderr_str();
                return Ok(ModuleResult::failed(stderr.trim_end())
                    .with("rc", run.rc)
                    .with("stdout", run.stdout_str())
                    .with("stderr", stderr.as_str())
                    .with("cmd", format!("{timedatectl} {sub} {value}")));
            }
            executed.push(format!("executed `{timedatectl} {sub} {value}`"));
        }
        let again = if changes.is_empty() { status.clone() } else { status_now(target, timedatectl).await? };
        match phase(&req, &again) {
            Ok(after) if after == req.planned() => after,
            Ok(after) => return Ok(abort(&format!("still not desired state, though changes have made - planned: {}, after: {}", py_dict(&req.planned()), py_dict(&after)), &executed)),
            Err(msg) => return Ok(abort(&msg, &executed)),
        }
    };
    let as_map = |values: &[(&str, String)]| Value::Object(values.iter().map(|(k, v)| (k.to_string(), Value::from(v.as_str()))).collect());
    // Ansible's module returns its diff in every result (registered too).
    let mut result = ModuleResult::changed(before != after).with("diff", serde_json::json!({"after": as_map(&after), "before": as_map(&before)}));
    if !executed.is_empty() {
        result = result.with("msg", executed.join("\n"));
    }
    if mode.diff && result.changed {
        result.diff.push(FileDiff { before: dict_text(&before), after: dict_text(&after), ..FileDiff::default() });
    }
    Ok(result)
}

async fn status_now<T: Target>(target: &T, timedatectl: &str) -> Result<String, ModuleError> {
    let out = target.exec(Cmd::new("/bin/sh").flag("-c").arg(STATUS_SCRIPT).arg("sh").arg(timedatectl).as_str(), None).await?;
    Ok(out.stdout_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "               Local time: Wed 2026-12-02 15:15:53 UTC\n                Time zone: Etc/UTC (UTC, +0000)\n          RTC in local TZ: no\n";

    #[test]
    fn status_read_as_the_modules_regexes_read_it() {
        assert_eq!(status_value(STATUS, "name").as_deref(), Some("Etc/UTC"));
        assert_eq!(status_value(STATUS, "hwclock").as_deref(), Some("UTC"));
        assert_eq!(status_value("RTC in local TZ: yes\nTimezone: Europe/Paris\n", "hwclock").as_deref(), Some("local"));
        assert_eq!(status_value("Timezone: Europe/Paris\n", "name").as_deref(), Some("Europe/Paris"));
        assert_eq!(status_value("nothing\n", "name"), None);
    }

    #[test]
    fn changes_in_the_modules_order_and_messages() {
        let req = Request { hwclock: Some("local".into()), name: Some("Europe/Paris".into()) };
        let before = phase(&req, STATUS).unwrap();
        assert_eq!(plan(&req, &before), vec![["set-local-rtc".to_string(), "yes".to_string()], ["set-timezone".to_string(), "Europe/Paris".to_string()]]);
        let same = Request { hwclock: None, name: Some("Etc/UTC".into()) };
        assert!(plan(&same, &phase(&same, STATUS).unwrap()).is_empty());
        assert_eq!(py_dict(&before), "{'hwclock': 'UTC', 'name': 'Etc/UTC'}");
        assert_eq!(dict_text(&before), "{\n    \"hwclock\": \"UTC\",\n    \"name\": \"Etc/UTC\"\n}\n");
        assert_eq!(abort("m", &["executed `x`".into()]).msg.as_deref(), Some("Error message:\nm\nOther message(s):\nexecuted `x`"));
    }
}
