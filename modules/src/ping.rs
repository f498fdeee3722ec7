//! `ping`: proves the host answers and runs a command (Ansible's checks that
//! Python runs; here the shell is all a module needs). Returns `ping: DATA`.

use crate::{Args, ModuleError, ModuleResult, Target};

pub async fn run<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let data = args.str("data").unwrap_or_else(|| "pong".into());
    let out = target.exec("true", None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("the host's shell could not run `true` (rc={})", out.rc)));
    }
    // As Ansible's ping: `data=crash` fails on purpose, to test error handling.
    if data == "crash" {
        return Ok(ModuleResult::failed("boom"));
    }
    Ok(ModuleResult::ok().with("ping", data))
}
