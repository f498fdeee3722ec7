//! `script`: a controller file (looked up in `files/`) sent to the host and
//! run there with the rest of the line as its arguments, in one command that
//! writes it to a private temp dir, runs it and removes the dir. `creates`,
//! `removes`, `chdir`, `executable` as in Ansible; always changed.

use crate::shell::{quote, Cmd};
use crate::spec::{p, Param, Rules};
use crate::{Args, Controller, ModuleError, ModuleResult, RunMode, Target};

/// The script action's arguments (its own spec, not the module docs': `decrypt` too).
pub const PARAMS: &[Param] = &[
    p("_raw_params"),
    p("cmd").str(),
    p("creates").str(),
    p("removes").str(),
    p("chdir").str(),
    p("executable").str(),
    p("decrypt").bool().default("true"),
];

/// One of the line or `cmd`, not both.
pub const RULES: Rules = Rules {
    mutually_exclusive: &[&["_raw_params", "cmd"]],
    required_one_of: &[&["_raw_params", "cmd"]],
    ..Rules::NONE
};

/// Writes stdin to `$d/NAME`, runs it (`$1` the executable or empty, `$2` the
/// directory or empty, `$3` the rest of the line, shell words as the user
/// wrote them, as in Ansible), and removes the temp dir whatever happened.
const SCRIPT: &str = r#"name=$1 exe=$2 dir=$3 rest=$4
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
cat >"$d/$name" && chmod 0700 "$d/$name" || exit 1
if [ -n "$dir" ]; then cd "$dir" || exit 1; fi
t="$d/$name"
if [ -n "$exe" ]; then eval "\"\$exe\" \"\$t\" $rest"; else eval "\"\$t\" $rest"; fi"#;

/// The validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The script's name as given (looked up on the controller).
    pub source: String,
    /// What follows the script's name on the line, as written.
    pub rest: String,
    pub creates: Option<String>,
    pub removes: Option<String>,
    pub chdir: Option<String>,
    pub executable: Option<String>,
}

pub fn request(args: &Args) -> Result<Request, String> {
    let line = args.str("_raw_params").or_else(|| args.str("cmd")).ok_or("one of the following is required: _raw_params, cmd")?;
    let line = line.trim();
    let words = crate::shlex::split(line).map_err(|e| format!("cannot parse the script line `{line}`: {e}"))?;
    let source = words.first().cloned().ok_or("the script line names no script")?;
    let rest = match line.strip_prefix(source.as_str()) {
        Some(rest) => rest.to_string(),
        // A quoted name: pass the other words on quoted.
        None => words[1..].iter().map(|w| format!(" {}", quote(w))).collect(),
    };
    let chdir = args.str("chdir").filter(|d| !d.is_empty());
    if let Some(dir) = chdir.as_deref().filter(|d| !d.starts_with('/')) {
        return Err(format!("chdir {dir} must be an absolute path for a Unix-aware remote node"));
    }
    Ok(Request {
        source,
        rest,
        creates: args.str("creates").filter(|p| !p.is_empty()),
        removes: args.str("removes").filter(|p| !p.is_empty()),
        chdir,
        executable: args.str("executable").filter(|e| !e.is_empty()),
    })
}

/// The command that writes, runs and removes the script (sent on stdin).
pub fn plan(req: &Request) -> Cmd {
    let name = req.source.rsplit('/').next().unwrap_or("script").to_string();
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(SCRIPT)
        .arg("sh")
        .arg(if name.is_empty() { "script".into() } else { name })
        .arg(req.executable.as_deref().unwrap_or(""))
        .arg(req.chdir.as_deref().unwrap_or(""))
        .arg(&req.rest)
}

pub async fn run<T: Target>(args: &Args, target: &T, controller: &dyn Controller, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = match request(args) {
        Ok(req) => req,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    if let Some(skip) = skip_reason(target, &req).await? {
        let mut r = ModuleResult::ok();
        r.skipped = true;
        r.msg = Some(skip);
        return Ok(r);
    }
    let content = match controller.read_src(&req.source) {
        Ok(bytes) => bytes,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    if mode.check {
        if req.creates.is_some() || req.removes.is_some() {
            return Ok(ModuleResult::changed(true));
        }
        let mut r = ModuleResult::ok();
        r.skipped = true;
        r.msg = Some("Check mode is not supported for this task.".into());
        return Ok(r);
    }
    let out = target.exec_task_command(plan(&req).as_str(), Some(&content)).await?;
    Ok(crate::command::ran(&out))
}

/// `creates` that exists or `removes` that does not: Ansible's skip message.
async fn skip_reason<T: Target>(target: &T, req: &Request) -> Result<Option<String>, ModuleError> {
    if let Some(path) = &req.creates {
        if exists(target, path).await? {
            return Ok(Some(format!("{path} exists, matching creates option")));
        }
    }
    if let Some(path) = &req.removes {
        if !exists(target, path).await? {
            return Ok(Some(format!("{path} does not exist, matching removes option")));
        }
    }
    Ok(None)
}

async fn exists<T: Target>(target: &T, path: &str) -> Result<bool, ModuleError> {
    Ok(target.exec(Cmd::new("test").flag("-e").arg(path).as_str(), None).await?.rc == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: serde_json::Value) -> Args {
        Args::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn the_line_splits_into_script_and_its_arguments() {
        let req = request(&args(json!({"_raw_params": " run.sh a 'b c' $HOME ", "chdir": "/tmp"}))).unwrap();
        assert_eq!((req.source.as_str(), req.rest.as_str()), ("run.sh", " a 'b c' $HOME"));
        let req = request(&args(json!({"cmd": "'my script.sh' x"}))).unwrap();
        assert_eq!((req.source.as_str(), req.rest.as_str()), ("my script.sh", " x"));
    }

    #[test]
    fn relative_chdir_is_refused() {
        let e = request(&args(json!({"_raw_params": "a.sh", "chdir": "tmp"}))).unwrap_err();
        assert_eq!(e, "chdir tmp must be an absolute path for a Unix-aware remote node");
    }

    #[test]
    fn names_and_paths_are_single_words() {
        let req = request(&args(json!({"_raw_params": "x$(id).sh", "chdir": "/a b", "executable": "/bin/ba sh"}))).unwrap();
        let line = plan(&req).into_string();
        assert!(line.contains(" 'x$(id).sh' '/bin/ba sh' '/a b' ''"), "{line}");
    }
}
