//! TODO
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
pub async fn run<T: Target>(_args: &Args, _t: &T, _m: RunMode, _shell: bool) -> Result<ModuleResult, ModuleError> { todo!() }
