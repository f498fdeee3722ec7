//! TODO
use crate::{Args, Controller, ModuleError, ModuleResult};
pub fn run(_args: &Args, _c: &dyn Controller) -> Result<ModuleResult, ModuleError> { todo!() }
