//! `raw`: the user's command line as is, through the host's shell (or
//! `executable -c`), with no module logic around it. Like Ansible's it always
//! reports changed, fails on a non-zero rc, and is skipped in check mode.

use crate::shell::Cmd;
use crate::spec::{p, req, Param};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};

/// ansible.builtin.raw's arguments: the free-form line is required.
pub const PARAMS: &[Param] = &[req("_raw_params").str(), p("executable").str()];

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
    Ok(crate::command::ran(&out))
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
