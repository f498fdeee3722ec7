//! `raw`: the user's command line as is, through the host's shell (or
//! `executable -c`), with no module logic around it. Like Ansible's it always
//! reports changed, fails on a non-zero rc, and is skipped in check mode.

use serde_json::Value;

use crate::shell::Cmd;
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};

/// The command: `/bin/sh -c LINE`, or `EXECUTABLE -c LINE`.
pub fn plan(line: &str, executable: Option<&str>) -> String {
    match executable {
        Some(exe) => format!("{} -c {}", crate::shell::quote(exe), crate::shell::quote(line)),
        None => Cmd::sh(line).into_string(),
    }
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let line = args.required_str("_raw_params")?;
    if mode.check {
        let mut r = ModuleResult::ok();
        r.skipped = true;
        return Ok(r);
    }
    let executable = args.str("executable").filter(|e| !e.is_empty());
    let out = target.exec_task_command(&plan(&line, executable.as_deref()), None).await?;
    let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
    let mut result = ModuleResult::changed(true)
        .with("rc", out.rc)
        .with("stdout", stdout.clone())
        .with("stdout_lines", lines(&stdout))
        .with("stderr", stderr.clone())
        .with("stderr_lines", lines(&stderr));
    if out.rc != 0 {
        result.failed = true;
        result.msg = Some("non-zero return code".into());
    }
    Ok(result)
}

fn lines(text: &str) -> Value {
    Value::Array(text.lines().map(|l| Value::String(l.to_string())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_one_word_for_the_shell() {
        assert_eq!(plan("echo $HOME; ls", None), "/bin/sh -c 'echo $HOME; ls'");
        assert_eq!(plan("echo 'a'", Some("/bin/bash")), "/bin/bash -c 'echo '\\''a'\\'''");
    }
}
