//! TODO
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
pub async fn run<T: Target>(_args: &Args, _t: &T, _m: RunMode) -> Result<ModuleResult, ModuleError> { todo!() }
