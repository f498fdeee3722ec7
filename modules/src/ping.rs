//! `ping`: proves that stockman can log in and run a command on the host
//! (Ansible's proves its Python works; ours needs only the shell). Returns
//! `ping` = `data`; `data: crash` fails as Ansible's module does on purpose.

use crate::shell::Cmd;
use crate::spec::{p, Param};

/// ansible.builtin.ping's one argument.
pub const PARAMS: &[Param] = &[p("data").str().default("pong")];
use crate::{Args, ModuleError, ModuleResult, Target};

pub async fn run<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let data = args.str("data").unwrap_or_else(|| "pong".into());
    if data == "crash" {
        return Ok(ModuleResult::failed("Task failed: Module failed: boom"));
    }
    let out = target.exec(Cmd::new("true").as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("the host's shell could not run `true` (rc={}): {}", out.rc, out.stderr_str().trim())));
    }
    Ok(ModuleResult::ok().with("ping", data))
}
