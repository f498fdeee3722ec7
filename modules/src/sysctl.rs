//! `ansible.posix.sysctl`: one kernel parameter in a sysctl file (and, with
//! `sysctl_set`, in the running kernel), as Ansible's module on Linux. One
//! command reads the running value (`sysctl -e -n`) and the file; the
//! change is planned here: the file's lines normalised as Ansible writes them
//! (`key=value`, later duplicates dropped), replaced atomically; then
//! `sysctl -w` and `sysctl -p FILE` (`reload`) when they are due.

use crate::remote_file::{self, WritePlan};
use crate::shell::Cmd;
use crate::text_edit::{self, TextFile};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, Param};

/// The arguments of `sysctl`, typed as ansible.posix.sysctl's docs.
pub const PARAMS: &[Param] = &[
    alias("name", &["key"], true).str(),
    alias("value", &["val"], false).str(),
    p("state").choices(&["present", "absent"]).default("present"),
    p("reload").bool(),
    p("sysctl_set").bool(),
    p("ignoreerrors").bool(),
    p("sysctl_file").path(),
];

/// Prints `sysctl -e -n NAME`'s exit status and output as two fields; 127
/// and nothing else when the host has no sysctl.
const PROBE_SCRIPT: &str = r#"command -v sysctl >/dev/null 2>&1 || { echo 'Failed to find required executable "sysctl"' >&2; exit 127; }
v=$(LANG=C LC_ALL=C sysctl -e -n "$1" 2>/dev/null && echo x); rc=$?
printf '%s\0%s\0' "$rc" "${v%x}""#;

/// Runs sysctl in the C locale with the given arguments; a failure (or
/// Ansible's "setting key" errors on stderr) exits 1 with both outputs.
const RUN_SCRIPT: &str = r#"out=$(LANG=C LC_ALL=C sysctl "$@" 2>&1; echo "x$?"); rc=${out##*x}; out=${out%x*}
printf '%s' "$out"
if [ $rc -ne 0 ]; then exit 1; fi
if printf '%s\n' "$out" | grep -Eq '^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$'; then exit 1; fi"#;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub name: String,
    pub value: String,
    pub present: bool,
    pub reload: bool,
    pub sysctl_set: bool,
    pub ignoreerrors: bool,
    pub file: String,
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let bad = |m: &str| ModuleError::BadArgs(m.to_string());
    let name = args.required_str("name")?;
    let state = args.str("state").unwrap_or_else(|| "present".into());
    if state != "present" && state != "absent" {
        return Err(ModuleError::BadArgs(format!("value of state must be one of: present, absent, got: {state}")));
    }
    let value = args.str("value");
    if state == "present" && value.is_none() {
        return Err(bad("state is present but all of the following are missing: value"));
    }
    if name.is_empty() {
        return Err(bad("name cannot be blank"));
    }
    // `sysctl -n a=b` writes `a` (procps reads any argument with `=` as a
    // setting): Ansible's probe would change the kernel, even in check mode.
    if name.contains('=') {
        return Err(ModuleError::BadArgs(format!("name `{name}` contains `=`: a kernel parameter's name cannot, and sysctl would read it as a setting; give the value in `value`")));
    }
    if state == "present" && value.as_deref() == Some("") {
        return Err(bad("value cannot be blank"));
    }
    Ok(Request {
        name: name.trim().to_string(),
        value: normalise_value(value.as_deref()),
        present: state == "present",
        reload: args.bool("reload", true)?,
        sysctl_set: args.bool("sysctl_set", false)?,
        ignoreerrors: args.bool("ignoreerrors", false)?,
        file: args.str("sysctl_file").unwrap_or_else(|| "/etc/sysctl.conf".into()),
    })
}

/// Ansible's booleans become 1 and 0; anything else is trimmed.
fn normalise_value(value: Option<&str>) -> String {
    let Some(value) = value else { return String::new() };
    match value.to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" | "1.0" => "1".into(),
        "n" | "no" | "off" | "0" | "false" | "f" | "0.0" => "0".into(),
        _ => value.trim().to_string(),
    }
}

/// Same words in the same order (Ansible compares whitespace-split values).
fn same_value(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.split_whitespace().eq(b.split_whitespace()))
}

/// What to do, pure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub changed: bool,
    /// The file's new content, when it is to be written.
    pub write: Option<String>,
    pub set_proc: bool,
    pub reload: bool,
}

/// `key = value` of a line that sets something (not blank, `#`/`;` comments, no `=`).
fn setting(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with(['#', ';']) {
        return None;
    }
    line.split_once('=').map(|(k, v)| (k.trim(), v.trim()))
}

pub fn plan(req: &Request, proc_value: Option<&str>, file: &str) -> Plan {
    let lines: Vec<&str> = file.split_inclusive('\n').map(str::trim).collect();
    let in_file = lines.iter().filter_map(|l| setting(l)).rfind(|(k, _)| *k == req.name).map(|(_, v)| v);
    let mut fixed = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for line in &lines {
        let Some((k, v)) = setting(line) else {
            fixed.push(line.to_string());
            continue;
        };
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        if k != req.name {
            fixed.push(format!("{k}={v}"));
        } else if req.present {
            fixed.push(format!("{k}={}", req.value));
        }
    }
    if req.present && !seen.contains(&req.name.as_str()) {
        fixed.push(format!("{}={}", req.name, req.value));
    }
    let (mut changed, write) = match (in_file, req.present) {
        (None, true) => (true, true),
        (None, false) => (false, false),
        (Some(v), false) if !v.is_empty() => (true, true),
        (Some(v), _) if v != req.value => (true, true),
        _ => (req.reload && !same_value(proc_value, &req.value), false),
    };
    let mut set_proc = false;
    if req.sysctl_set && req.present && !same_value(proc_value, &req.value) {
        changed = true;
        set_proc = proc_value.is_some();
    }
    let content = fixed.iter().map(|l| format!("{}\n", l.trim())).collect();
    Plan { changed, write: write.then_some(content), set_proc, reload: changed && req.reload }
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let probe = Cmd::new("/bin/sh").flag("-c").arg(PROBE_SCRIPT).arg("sh").arg(&req.name).then("&&", text_edit::read_cmd(&req.file));
    let out = target.exec(probe.as_str(), None).await?;
    if out.rc == 127 {
        return Ok(ModuleResult::failed(out.stderr_str().trim()));
    }
    let mut fields = out.stdout.splitn(3, |&b| b == 0);
    let (rc, value, rest) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
    let file = match (out.rc, text_edit::parse_read(rest, &req.file)) {
        (0, Some(file)) => file,
        _ => return Ok(ModuleResult::failed(format!("Failed to open {}: {}", req.file, out.stderr_str().trim()))),
    };
    let proc_value = (rc == b"0").then(|| String::from_utf8_lossy(value).into_owned());
    let plan = plan(&req, proc_value.as_deref(), &String::from_utf8_lossy(&file.content));
    if !mode.check {
        if let Some(failure) = apply(&req, &plan, &file, target).await? {
            return Ok(failure);
        }
    }
    Ok(ModuleResult::changed(plan.changed))
}

/// Sets the running value, writes the file, reloads it: in Ansible's order.
async fn apply<T: Target>(req: &Request, plan: &Plan, file: &TextFile, target: &T) -> Result<Option<ModuleResult>, ModuleError> {
    let ignore = if req.ignoreerrors { "-e" } else { "" };
    let sysctl = |args: &[&str]| Cmd::new("/bin/sh").flag("-c").arg(RUN_SCRIPT).arg("sh").args(args.iter().filter(|a| !a.is_empty()));
    if plan.set_proc {
        let out = target.exec(sysctl(&[ignore, "-w", &format!("{}={}", req.name, req.value)]).as_str(), None).await?;
        if out.rc != 0 {
            return Ok(Some(ModuleResult::failed(format!("setting {} failed: {}", req.name, out.stdout_str()))));
        }
    }
    if let Some(content) = &plan.write {
        let exists = file.facts.exists();
        let write = WritePlan {
            dest: file.real_path.clone(),
            mode: if exists { file.facts.mode } else { 0o666 & !file.umask },
            chown: None,
            keep_ids: exists.then_some((file.facts.uid, file.facts.gid)),
            create_dir: false,
            backup: false,
            size: content.len(),
        };
        if let Err(msg) = remote_file::apply(target, &write.cmd(), Some(content.as_bytes()), 1, &file.real_path).await? {
            return Ok(Some(ModuleResult::failed(msg)));
        }
    }
    if plan.reload {
        let out = target.exec(sysctl(&[ignore, "-p", &req.file]).as_str(), None).await?;
        if out.rc != 0 {
            return Ok(Some(ModuleResult::failed(format!("Failed to reload sysctl: {}", out.stdout_str()))));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn req(v: Value) -> Request {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn the_file_is_normalised_as_ansible_writes_it() {
        let r = req(json!({"name": "vm.swappiness", "value": "10", "reload": false}));
        let p = plan(&r, Some("60\n"), "# c\n vm.swappiness = 60\nnet.x= 1\nvm.swappiness=5\n\n");
        assert_eq!(p.write.as_deref(), Some("# c\nvm.swappiness=10\nnet.x=1\n\n"));
        assert!(p.changed && !p.set_proc && !p.reload);
        let same = plan(&r, Some("60\n"), "vm.swappiness=10\n");
        assert_eq!((same.changed, same.write), (false, None));
    }

    #[test]
    fn absent_sysctl_set_and_reload() {
        let gone = req(json!({"name": "a.b", "state": "absent", "reload": false}));
        assert_eq!(plan(&gone, None, "a.b=1\nc=2\n").write.as_deref(), Some("c=2\n"));
        assert!(!plan(&gone, None, "c=2\n").changed);
        let set = req(json!({"name": "a.b", "value": true, "sysctl_set": true}));
        assert_eq!(set.value, "1");
        let p = plan(&set, Some("0\n"), "a.b=1\n");
        assert!(p.changed && p.set_proc && p.reload && p.write.is_none());
        // Values are compared word by word.
        let words = req(json!({"name": "r", "value": "4096  87380 6291456", "sysctl_set": true, "reload": false}));
        assert!(!plan(&words, Some("4096\t87380\t6291456\n"), "r=4096  87380 6291456\n").changed);
    }

    #[test]
    fn bad_arguments_use_ansibles_words() {
        let refused = |v: Value| request(&Args::new(v.as_object().unwrap().clone())).unwrap_err().to_string();
        assert_eq!(refused(json!({"name": "a"})), "state is present but all of the following are missing: value");
        assert_eq!(refused(json!({"name": "a", "value": ""})), "value cannot be blank");
        assert_eq!(refused(json!({"name": "", "value": "1"})), "name cannot be blank");
        assert!(refused(json!({"name": "vm.swappiness=1", "value": "1"})).contains("contains `=`"));
    }
}
