//! `tempfile`: a new temporary file or directory made by `mktemp` on the host,
//! named `PREFIX` + 8 random characters + `SUFFIX` in `path` (else `$TMPDIR` or
//! /tmp), reported with its file fields, in one command. Like Ansible's module
//! it always changes something, so check mode skips it.

use crate::remote_file::{self, parse_probe, with_file_fields, Fields};
use crate::shell::Cmd;
use crate::spec::{p, Param};

/// ansible.builtin.tempfile's arguments.
pub const PARAMS: &[Param] = &[
    p("state").choices(&["file", "directory"]).default("file"),
    p("path").path(),
    p("prefix").str().default("ansible."),
    p("suffix").str().default(""),
];
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};

/// Makes the path, prints it NUL-terminated, then the file probe of it. The
/// `x` keeps a trailing newline of the name from being eaten by `$(...)`.
const SCRIPT: &str = r#"d=$1 pre=$2 suf=$3 kind=$4 probe=$5
if [ -n "$d" ]; then set -- --tmpdir="$d"; else set -- --tmpdir; fi
if [ "$kind" = directory ]; then set -- -d "$@"; fi
p=$(mktemp "$@" --suffix="$suf" -- "${pre}XXXXXXXX" && echo x) || exit 1
p=${p%x}; p=${p%?}
printf '%s\0' "$p"
exec /bin/sh -c "$probe" sh P 0 "$p""#;

/// The validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub directory: bool,
    pub path: Option<String>,
    pub prefix: String,
    pub suffix: String,
}

pub fn request(args: &Args) -> Result<Request, String> {
    // The validator has held `state` to its choices.
    let directory = args.str("state").as_deref() == Some("directory");
    let prefix = args.str("prefix").unwrap_or_else(|| "ansible.".into());
    let suffix = args.str("suffix").unwrap_or_default();
    for (name, value) in [("prefix", &prefix), ("suffix", &suffix)] {
        if value.contains('/') {
            return Err(format!("{name} must be a valid file name component, got {}", py_repr(value)));
        }
    }
    Ok(Request { directory, path: args.str("path").filter(|p| !p.is_empty()), prefix, suffix })
}

/// The one command that makes the path and probes it.
pub fn plan(req: &Request) -> Cmd {
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(SCRIPT)
        .arg("sh")
        .arg(req.path.as_deref().unwrap_or(""))
        .arg(&req.prefix)
        .arg(&req.suffix)
        .arg(if req.directory { "directory" } else { "file" })
        .arg(remote_file::PROBE_SCRIPT)
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = match request(args) {
        Ok(req) => req,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    if mode.check {
        let mut r = ModuleResult::ok();
        r.skipped = true;
        r.msg = Some("remote module (tempfile) does not support check mode".into());
        return Ok(r);
    }
    let out = target.exec(plan(&req).as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(out.stderr_str().trim().to_string()));
    }
    let mut fields = Fields::new(&out.stdout);
    let made = fields.next_field().zip(parse_probe(&mut fields, 1));
    match made {
        Some((path, mut probe)) => Ok(with_file_fields(ModuleResult::changed(true).with("path", path), &probe.files.remove(0))),
        None => Ok(ModuleResult::failed(format!("unexpected output from mktemp: {:?}", out.stdout_str()))),
    }
}

/// Python's repr() of a str, as Ansible's message shows the value.
fn py_repr(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: serde_json::Value) -> Args {
        Args::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn defaults_are_ansibles() {
        let req = request(&args(json!({}))).unwrap();
        assert_eq!(req, Request { directory: false, path: None, prefix: "ansible.".into(), suffix: String::new() });
    }

    #[test]
    fn path_components_in_prefix_or_suffix_are_refused() {
        assert_eq!(request(&args(json!({"prefix": "../../nested"}))).unwrap_err(), "prefix must be a valid file name component, got '../../nested'");
        assert_eq!(request(&args(json!({"suffix": "../world"}))).unwrap_err(), "suffix must be a valid file name component, got '../world'");
    }

    #[test]
    fn hostile_values_are_single_words() {
        let req = request(&args(json!({"state": "directory", "path": "/tmp/a b", "prefix": "$(touch x)`id`;", "suffix": "'\n"}))).unwrap();
        let line = plan(&req).into_string();
        assert!(line.contains("'/tmp/a b'"), "{line}");
        assert!(line.contains("'$(touch x)`id`;'"), "{line}");
        assert!(line.contains(" directory "), "{line}");
    }
}
