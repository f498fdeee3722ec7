//! `template`: render a controller-side template, then write it exactly as `copy`
//! writes content (same probe, same atomic write, same results).

use crate::copy::{put, PutRequest};
use crate::upload::Content;
use crate::{Args, Controller, ModuleError, ModuleResult, RunMode, Target};

pub async fn run<T: Target>(
    args: &Args,
    target: &T,
    controller: &dyn Controller,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let src = args.required_str("src")?;
    let rendered = match controller.render_template(&src) {
        Ok(text) => text,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let content = Content::Bytes(rendered.into_bytes());
    let request = match PutRequest::from_args(args, content, Some(src.clone()), src)? {
        Ok(request) => request,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    put(target, &request, mode).await
}
