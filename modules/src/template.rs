//! TODO template
use crate::{Args, Controller, ModuleError, ModuleResult, RunMode, Target};
pub async fn run<T: Target>(_args: &Args, _t: &T, _c: &dyn Controller, _m: RunMode) -> Result<ModuleResult, ModuleError> { todo!() }
