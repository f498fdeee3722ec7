//! `template`: render a controller-side template, then write it exactly as `copy`
//! writes content (same probe, same atomic write, same results).
//!
//! Ansible's extras: the variables `ansible_managed`, `template_path`,
//! `template_fullpath`, `template_host`, `template_uid`, `template_run_date`
//! and `template_destpath`; the arguments `newline_sequence`, `trim_blocks`,
//! `lstrip_blocks` and `output_encoding` (utf-8 only); `validate`, `backup`,
//! `mode: preserve` and `follow` as for `copy`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde_json::{Map, Value};

use crate::copy::{put, PutRequest};
use crate::upload::Content;
use crate::{Args, Controller, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, req, Param};

/// The arguments of `template`, typed as ansible.builtin.template's docs.
pub const PARAMS: &[Param] = &[
    req("src").path(),
    alias("dest", &["path"], true).path(),
    crate::spec::FILE_ATTRS[0],
    crate::spec::FILE_ATTRS[1],
    crate::spec::FILE_ATTRS[2],
    p("backup").bool(),
    p("force").bool(),
    p("validate").str(),
    p("follow").bool(),
    p("newline_sequence").choices(&["\n", "\r", "\r\n"]).default("\n"),
    p("trim_blocks").bool(),
    p("lstrip_blocks").bool(),
    p("output_encoding").str(),
];

/// What the controller needs to render a template like Ansible's module does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderOptions {
    /// Variables added to the host's for this render (`template_path`, ...).
    pub extra_vars: Map<String, Value>,
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
}

/// Ansible's default `ansible_managed` string (ansible-core 2.19).
pub const ANSIBLE_MANAGED: &str = "Ansible managed";

pub async fn run<T: Target>(
    args: &Args,
    target: &T,
    controller: &dyn Controller,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let src = args.required_str("src")?;
    let newline = match newline_sequence(args) {
        Ok(newline) => newline,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    if let Err(msg) = check_encoding(args) {
        return Ok(ModuleResult::failed(msg));
    }
    let path = match controller.locate_template(&src) {
        Some(Err(msg)) => return Ok(ModuleResult::failed(msg)),
        Some(Ok(path)) => Some(path),
        None => None,
    };
    let options = RenderOptions {
        extra_vars: extra_vars(path.as_deref(), &args.required_str("dest")?),
        trim_blocks: args.bool("trim_blocks", true)?,
        lstrip_blocks: args.bool("lstrip_blocks", false)?,
    };
    let rendered = match controller.render_template_with(&src, &options) {
        Some(result) => result,
        None => controller.render_template(&src),
    };
    let rendered = match rendered {
        Ok(text) => convert_newlines(&text, newline),
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let source_mode = path.as_deref().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.mode() & 0o7777);
    let content = Content::Bytes(rendered.into_bytes());
    let request = match PutRequest::from_args_with_mode(args, content, source_mode, Some(src.clone()), src)? {
        Ok(request) => request,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    put(target, &request, mode).await
}

/// `newline_sequence`: `\n` (default), `\r` or `\r\n`.
fn newline_sequence(args: &Args) -> Result<&'static str, String> {
    match args.str("newline_sequence").as_deref() {
        None | Some("\n") | Some("\\n") => Ok("\n"),
        Some("\r") | Some("\\r") => Ok("\r"),
        Some("\r\n") | Some("\\r\\n") => Ok("\r\n"),
        Some(other) => Err(format!("newline_sequence must be one of \\n, \\r, \\r\\n, not {other:?}")),
    }
}

/// `output_encoding`: only utf-8 is written (templates render to UTF-8 text).
fn check_encoding(args: &Args) -> Result<(), String> {
    match args.str("output_encoding") {
        None => Ok(()),
        Some(name) if matches!(name.to_ascii_lowercase().replace('_', "-").as_str(), "utf-8" | "utf8") => Ok(()),
        Some(name) => Err(format!(
            "output_encoding `{name}` is not supported: stockman writes templates as utf-8 only; remove output_encoding or convert the file afterwards (e.g. with iconv)"
        )),
    }
}

/// Every line ending of the rendered text as `newline`.
fn convert_newlines(text: &str, newline: &str) -> String {
    if newline == "\n" {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n").replace('\n', newline)
}

/// The variables Ansible's template action adds to the host's.
fn extra_vars(path: Option<&Path>, dest: &str) -> Map<String, Value> {
    let mut vars = Map::new();
    vars.insert("ansible_managed".into(), ANSIBLE_MANAGED.into());
    vars.insert("template_host".into(), controller_hostname().into());
    vars.insert("template_destpath".into(), dest.into());
    vars.insert("template_run_date".into(), crate::clock::format_timestamp(std::time::SystemTime::now()).into());
    if let Some(path) = path {
        let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        vars.insert("template_path".into(), path.display().to_string().into());
        vars.insert("template_fullpath".into(), full.display().to_string().into());
        let uid = std::fs::metadata(path).map(|m| m.uid()).ok();
        let name = uid.map(|uid| user_name(uid).unwrap_or_else(|| uid.to_string()));
        vars.insert("template_uid".into(), name.unwrap_or_default().into());
    }
    vars
}

fn controller_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// The controller user name of `uid`, from /etc/passwd.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// A template's source as the environment should render it: Jinja2 (as
/// Ansible configures it) drops one trailing newline before rendering;
/// [`finish_output`] adds it back. Block options as [`apply_block_options`].
pub fn prepare_source(source: &str, options: &RenderOptions) -> String {
    let body = source.strip_suffix('\n').unwrap_or(source);
    apply_block_options(body, options.trim_blocks, options.lstrip_blocks)
}

/// Ansible keeps a template's final newline: added back when the source had
/// one and the output (whose last tag may have eaten it) has not.
pub fn finish_output(source: &str, mut rendered: String) -> String {
    if source.ends_with('\n') && !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    rendered
}

/// Rewrites a template's source so that an environment with Jinja2's
/// `trim_blocks` on and `lstrip_blocks` off renders it as `trim_blocks` and
/// `lstrip_blocks` ask. Tags inside `{% raw %}` are not told apart (rare).
pub fn apply_block_options(source: &str, trim_blocks: bool, lstrip_blocks: bool) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '\t']);
        let is_block = (body.starts_with("{%") || body.starts_with("{#")) && !body.starts_with("{%+") && !body.starts_with("{#+");
        out.push_str(if lstrip_blocks && is_block { body } else { line });
    }
    if trim_blocks {
        return out;
    }
    // The environment drops the newline right after a tag: double it to keep one.
    let mut kept = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find(['%', '#']) {
        let (head, tail) = rest.split_at(at);
        kept.push_str(head);
        let tag_end = tail.starts_with("%}\n") || tail.starts_with("#}\n");
        if tag_end && !head.ends_with('-') {
            kept.push_str(&tail[..3]);
            kept.push('\n');
            rest = &tail[3..];
        } else {
            kept.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    kept.push_str(rest);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstrip_removes_indentation_before_block_tags_only() {
        let src = "a\n  {% if x %}\n  {{ y }}\n\t{# c #}\n";
        assert_eq!(apply_block_options(src, true, true), "a\n{% if x %}\n  {{ y }}\n{# c #}\n");
        assert_eq!(apply_block_options(src, true, false), src);
    }

    #[test]
    fn trim_blocks_off_keeps_the_newline_after_a_tag() {
        assert_eq!(apply_block_options("{% if x %}\nA\n{% endif -%}\n", false, false), "{% if x %}\n\nA\n{% endif -%}\n");
        assert_eq!(apply_block_options("100%}\n", true, false), "100%}\n");
    }

    #[test]
    fn the_final_newline_survives_a_last_tag() {
        let options = RenderOptions { trim_blocks: true, ..RenderOptions::default() };
        let source = "{% if x %}\nA\n{% endif %}\n";
        assert_eq!(prepare_source(source, &options), "{% if x %}\nA\n{% endif %}");
        assert_eq!(finish_output(source, "A\n".into()), "A\n");
        assert_eq!(finish_output(source, "A".into()), "A\n");
        assert_eq!(finish_output("no newline", "x".into()), "x");
    }

    #[test]
    fn newline_sequences() {
        assert_eq!(convert_newlines("a\nb\r\nc", "\r\n"), "a\r\nb\r\nc");
        assert_eq!(convert_newlines("a\nb", "\n"), "a\nb");
    }
}
