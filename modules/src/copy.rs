//! `copy`: put bytes (`content`, or a controller file `src`) at `dest`, atomically.
//!
//! One probe reads the destination (type, sha1, attributes); an unchanged file
//! costs nothing more. A different checksum is written through a temp file in
//! the same directory and renamed over `dest`; equal content with other
//! attributes is fixed in place. `template` shares [`put`].

use sha1::Digest;

use crate::copy_tree;
use crate::mode::ModeSpec;
use crate::remote_file::{
    self, apply, basename, chown_spec, content_bytes, diff_text, validate_script, with_file_fields, FileFacts,
    FileKind, Follow, WantedAttrs, WritePlan, MAX_DIFF_BYTES,
};
use crate::shell::Cmd;
use crate::upload::{self, Content, LocalFile, RemoteFile};
use crate::{Args, Controller, FileDiff, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, Param};

/// The arguments of `copy`, typed as ansible.builtin.copy's docs.
pub const PARAMS: &[Param] = &[
    p("src").path(),
    p("content").str(),
    alias("dest", &["path"], true).path(),
    crate::spec::FILE_ATTRS[0],
    crate::spec::FILE_ATTRS[1],
    crate::spec::FILE_ATTRS[2],
    p("backup").bool(),
    p("force").bool(),
    p("validate").str(),
    p("remote_src").bool(),
    p("directory_mode"),
    p("follow").bool(),
    p("local_follow").bool(),
];

pub async fn run<T: Target>(
    args: &Args,
    target: &T,
    controller: &dyn Controller,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let src = args.str("src");
    let content = match (&src, args.get("content")) {
        (Some(_), Some(_)) => return Ok(ModuleResult::failed("src and content are mutually exclusive")),
        (None, None) => return Ok(ModuleResult::failed("src (or content) is required")),
        (None, Some(value)) => Content::Bytes(content_bytes(value)),
        (Some(src), None) if args.bool("remote_src", false)? => {
            return from_target(args, target, src, mode).await;
        }
        (Some(src), None) => match controller.locate_src(src) {
            None => match controller.read_src(src) {
                Ok(bytes) => Content::Bytes(bytes),
                Err(msg) => return Ok(ModuleResult::failed(msg)),
            },
            Some(Err(msg)) => return Ok(ModuleResult::failed(msg)),
            Some(Ok(path)) if path.is_dir() => {
                return copy_tree::from_controller(args, target, src, &path, mode).await;
            }
            Some(Ok(path)) => match LocalFile::hash(&path) {
                Ok(file) => Content::Local(file),
                Err(msg) => return Ok(ModuleResult::failed(msg)),
            },
        },
    };
    let after_header = src.clone().unwrap_or_else(|| "dynamically generated".to_string());
    let request = match PutRequest::from_args(args, content, src, after_header)? {
        Ok(request) => request,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    put(target, &request, mode).await
}

/// `remote_src: true`: the source is a file or a directory on the target.
async fn from_target<T: Target>(
    args: &Args,
    target: &T,
    src: &str,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let probe = remote_file::probe(target, &[src], Follow::Yes, true).await?;
    let facts = &probe.files[0];
    let content = match facts.kind {
        FileKind::Directory => return copy_tree::from_target(args, target, src, mode).await,
        FileKind::File => Content::Remote(RemoteFile {
            path: src.to_string(),
            size: facts.size,
            sha1: facts.sha1.clone().unwrap_or_default(),
            mode: facts.mode,
        }),
        FileKind::Absent => return Ok(ModuleResult::failed(format!("Source {src} not found"))),
        _ => return Ok(ModuleResult::failed(format!("Source {src} is not a regular file or a directory"))),
    };
    let request = match PutRequest::from_args(args, content, Some(src.to_string()), src.to_string())? {
        Ok(request) => request,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    put(target, &request, mode).await
}

/// New content for a file, and how to treat what is there.
#[derive(Debug, Clone)]
pub struct PutRequest {
    pub dest: String,
    pub content: Content,
    /// The source as the task named it: reported as `src`, and its basename is
    /// used when `dest` is a directory.
    pub src: Option<String>,
    /// Diff header for the new content.
    pub after_header: String,
    pub attrs: WantedAttrs,
    pub backup: bool,
    /// false: never replace an existing file.
    pub force: bool,
    /// `validate` as a script taking the temp file as `$1` ([`validate_script`]).
    pub validate: Option<String>,
    /// `follow`: write through a symlink at `dest` instead of replacing it.
    pub follow: bool,
}

impl PutRequest {
    /// `dest`, `mode` (also `preserve`), `owner`, `group`, `backup`, `force`,
    /// `validate`, `follow` from a task's arguments; Ok(Err) is a task failure.
    pub fn from_args(
        args: &Args,
        content: Content,
        src: Option<String>,
        after_header: String,
    ) -> Result<Result<Self, String>, ModuleError> {
        let source_mode = content.source_mode();
        Self::from_args_with_mode(args, content, source_mode, src, after_header)
    }

    /// [`PutRequest::from_args`] with the mode `mode: preserve` takes given
    /// (a template's source file, whose content is rendered bytes).
    pub fn from_args_with_mode(
        args: &Args,
        content: Content,
        source_mode: Option<u32>,
        src: Option<String>,
        after_header: String,
    ) -> Result<Result<Self, String>, ModuleError> {
        let attrs = match wanted_attrs(args, source_mode) {
            Ok(attrs) => attrs,
            Err(msg) => return Ok(Err(msg)),
        };
        let validate = match args.str("validate").map(|v| validate_script(&v)).transpose() {
            Ok(validate) => validate,
            Err(msg) => return Ok(Err(msg)),
        };
        Ok(Ok(PutRequest {
            dest: args.required_str("dest")?,
            content,
            src,
            after_header,
            attrs,
            backup: args.bool("backup", false)?,
            force: args.bool("force", true)?,
            validate,
            follow: args.bool("follow", false)?,
        }))
    }
}

/// `mode`, `owner`, `group`; `mode: preserve` takes the source's mode (0600 for `content`).
pub fn wanted_attrs(args: &Args, source_mode: Option<u32>) -> Result<WantedAttrs, String> {
    if args.str("mode").as_deref() != Some("preserve") {
        return WantedAttrs::from_args(args).map_err(|e| e.to_string());
    }
    // `content` has no source file: Ansible's action writes it to a mkstemp
    // file on the controller (0600) and preserves that file's mode.
    let mode = source_mode.unwrap_or(0o600);
    Ok(WantedAttrs { mode: Some(ModeSpec::Octal(mode)), owner: args.str("owner"), group: args.str("group") })
}

/// What `put` will do to the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    Nothing,
    Write(WritePlan),
    Attrs(Cmd),
}

/// Makes `request.dest` hold `request.content` with the wanted attributes.
pub async fn put<T: Target>(
    target: &T,
    request: &PutRequest,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let Some(candidates) = dest_candidates(request) else {
        return Ok(ModuleResult::failed(
            "can not use content with a dir as dest",
        ));
    };
    let paths: Vec<&str> = candidates.iter().map(String::as_str).collect();
    // A killed earlier write may have left its temp file beside the dest.
    let probe = remote_file::probe_sweeping(target, &paths, Follow::Yes, true).await?;
    let use_second = paths.len() == 2 && probe.files[0].kind == FileKind::Directory;
    if paths.len() == 1 && probe.files[0].kind == FileKind::Directory && request.src.is_none() {
        return Ok(ModuleResult::failed(
            "can not use content with a dir as dest",
        ));
    }
    let index = usize::from(use_second);
    let (dest, mut facts) = (candidates[index].clone(), probe.files[index].clone());
    let dest = match request.follow {
        true => resolve_link(target, &dest).await?,
        false => dest,
    };
    if dest != candidates[index] {
        facts = remote_file::probe(target, &[&dest], Follow::Yes, true).await?.files.remove(0);
    }
    let facts = &facts;
    if !matches!(facts.kind, FileKind::Absent | FileKind::File) {
        return Ok(ModuleResult::failed(format!(
            "`{dest}` exists and is a {}, not a file; remove it or choose another dest",
            facts.kind.state()
        )));
    }
    let checksum = request.content.sha1();
    let plan = plan(
        request,
        &dest,
        facts,
        &checksum,
        probe.umask,
        request.dest.ends_with('/'),
    );
    let base = ModuleResult::ok().with("dest", dest.clone());
    let base = match &request.src {
        Some(src) => base.with("src", src.clone()),
        None => base,
    };
    let base = base.with("checksum", checksum.clone());
    let predicted = predict(&plan, facts, request, &checksum, probe.umask);
    // Ansible's copy module (always run for remote_src) reports the source's md5.
    let base = match (&plan, &request.content) {
        (Plan::Write(_), _) => base,
        (_, Content::Remote(file)) if !mode.check => match remote_md5(target, &file.path).await? {
            Some(md5) => base.with("md5sum", md5),
            None => base,
        },
        _ => base,
    };
    match plan {
        Plan::Nothing => Ok(with_file_fields(base, facts)),
        _ if mode.check => {
            let mut result = with_file_fields(base, &predicted);
            result.changed = true;
            result.diff = diff(target, request, &dest, facts, &plan, mode).await?;
            Ok(result)
        }
        Plan::Write(write) => {
            let diff = diff(
                target,
                request,
                &dest,
                facts,
                &Plan::Write(write.clone()),
                mode,
            )
            .await?;
            let applied = match write_content(target, request, &write).await? {
                Ok(applied) => applied,
                // As Ansible's failure (e.g. validate), it names the content that was refused.
                Err(msg) => return Ok(ModuleResult::failed(msg).with("checksum", checksum)),
            };
            let mut result = with_file_fields(base, &applied.facts).with("md5sum", applied.leading[1].clone());
            if !applied.leading[0].is_empty() {
                result = result.with("backup_file", applied.leading[0].clone());
            }
            result.changed = true;
            result.diff = diff;
            Ok(result)
        }
        Plan::Attrs(cmd) => {
            let cmd = cmd.then("&&", remote_file::probe_cmd(&[&dest], Follow::No, false));
            let applied = match apply(target, &cmd, None, 0, &dest).await? {
                Ok(applied) => applied,
                Err(msg) => return Ok(ModuleResult::failed(msg)),
            };
            let mut result = with_file_fields(base, &applied.facts);
            result.changed = true;
            Ok(result)
        }
    }
}

/// The paths to probe: `dest`, plus `dest/basename(src)` in case `dest` is a
/// directory. None when content is aimed at a directory.
fn dest_candidates(request: &PutRequest) -> Option<Vec<String>> {
    let dest = &request.dest;
    match (&request.src, dest.ends_with('/')) {
        (None, true) => None,
        (Some(src), true) => Some(vec![format!("{dest}{}", basename(src))]),
        (Some(src), false) => Some(vec![dest.clone(), format!("{dest}/{}", basename(src))]),
        (None, false) => Some(vec![dest.clone()]),
    }
}

fn plan(
    request: &PutRequest,
    dest: &str,
    facts: &FileFacts,
    checksum: &str,
    umask: u32,
    create_dir: bool,
) -> Plan {
    if facts.exists() && !request.force {
        return Plan::Nothing;
    }
    if facts.sha1.as_deref() == Some(checksum) {
        return match request.attrs.changes(facts, umask).apply_cmd(dest, false) {
            Some(cmd) => Plan::Attrs(cmd),
            None => Plan::Nothing,
        };
    }
    // A new file gets Ansible's default (0666 minus umask); a replaced one keeps its mode.
    let current = if facts.exists() {
        facts.mode
    } else {
        0o666 & !umask
    };
    let mode = request
        .attrs
        .mode
        .as_ref()
        .map_or(current, |m| m.resolve(current, false, umask));
    Plan::Write(WritePlan {
        dest: dest.to_string(),
        mode,
        chown: chown_spec(
            request.attrs.owner.as_deref(),
            request.attrs.group.as_deref(),
        ),
        keep_ids: facts.exists().then_some((facts.uid, facts.gid)),
        create_dir,
        backup: request.backup && facts.exists(),
        size: usize::try_from(request.content.size()).unwrap_or(usize::MAX),
    })
}

/// The destination as check mode expects it to end up.
fn predict(
    plan: &Plan,
    facts: &FileFacts,
    request: &PutRequest,
    checksum: &str,
    umask: u32,
) -> FileFacts {
    let changes = request.attrs.changes(facts, umask);
    let mut after = changes.predict(facts);
    after.kind = FileKind::File;
    if let Plan::Write(write) = plan {
        after.mode = write.mode;
        after.size = request.content.size();
        after.sha1 = Some(checksum.to_string());
    }
    after
}

/// Before/after text for --diff (reads the old content: one extra command, only with --diff).
async fn diff<T: Target>(
    target: &T,
    request: &PutRequest,
    dest: &str,
    facts: &FileFacts,
    plan: &Plan,
    mode: RunMode,
) -> Result<Vec<FileDiff>, ModuleError> {
    if !mode.diff || !matches!(plan, Plan::Write(_)) {
        return Ok(Vec::new());
    }
    let before = if !facts.exists() {
        String::new()
    } else if facts.size as usize > MAX_DIFF_BYTES {
        format!("(diff skipped: `{dest}` is larger than {MAX_DIFF_BYTES} bytes)\n")
    } else {
        let out = target
            .exec(Cmd::new("cat").flag("--").arg(dest).as_str(), None)
            .await?;
        if out.rc == 0 {
            diff_text(&out.stdout)
        } else {
            format!(
                "(diff skipped: could not read `{dest}`: {})\n",
                out.stderr_str().trim()
            )
        }
    };
    Ok(vec![FileDiff {
        before_header: dest.to_string(),
        after_header: request.after_header.clone(),
        before,
        after: request.content.diff_text(target).await?,
    }])
}

/// Writes the new content: bytes travel with the write command; files are
/// first staged (streamed and verified) beside `dest`.
async fn write_content<T: Target>(
    target: &T,
    request: &PutRequest,
    write: &WritePlan,
) -> Result<Result<remote_file::Applied, String>, ModuleError> {
    let validate = request.validate.as_deref();
    if let Content::Bytes(bytes) = &request.content {
        return apply(target, &write.cmd_with_md5(None, validate), Some(bytes), 2, &write.dest).await;
    }
    let dir = remote_file::parent_dir(&write.dest);
    let tmp = match upload::stage(target, &request.content, &dir, write.create_dir).await? {
        Ok(tmp) => tmp,
        Err(msg) => return Ok(Err(format!("could not change `{}`: {msg}", write.dest))),
    };
    apply(target, &write.cmd_with_md5(Some(&tmp), validate), None, 2, &write.dest).await
}

/// The md5 of a file on the target (None when it cannot be read).
async fn remote_md5<T: Target>(target: &T, path: &str) -> Result<Option<String>, ModuleError> {
    // Read through stdin: md5sum escapes the output line of an odd file name.
    let out = target.exec(Cmd::new("md5sum").flag("<").arg(path).as_str(), None).await?;
    let sum = out.stdout_str().split(' ').next().unwrap_or_default().to_string();
    Ok((out.rc == 0 && sum.len() == 32).then_some(sum))
}

/// `follow: true`: the file a symlink at `dest` finally points to (or `dest`).
async fn resolve_link<T: Target>(target: &T, dest: &str) -> Result<String, ModuleError> {
    let cmd = Cmd::new("readlink").flag("-m --").arg(dest);
    let out = target.exec(cmd.as_str(), None).await?;
    let resolved = out.stdout_str().trim_end_matches('\n').to_string();
    Ok(if out.rc == 0 && !resolved.is_empty() { resolved } else { dest.to_string() })
}

/// The sha1 Ansible reports as `checksum`.
pub fn sha1_hex(bytes: &[u8]) -> String {
    upload::hex(&sha1::Sha1::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_known_values() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            sha1_hex(b"hello\n"),
            "f572d396fae9206628714fb2ce00f72e94f2258f"
        );
    }

    fn request(dest: &str, src: Option<&str>) -> PutRequest {
        PutRequest {
            dest: dest.into(),
            content: Content::Bytes(b"x".to_vec()),
            src: src.map(Into::into),
            after_header: String::new(),
            attrs: WantedAttrs::default(),
            backup: false,
            force: true,
            validate: None,
            follow: false,
        }
    }

    #[test]
    fn directory_destinations() {
        assert_eq!(
            dest_candidates(&request("/d/", Some("f/a.txt"))).unwrap(),
            ["/d/a.txt"]
        );
        assert_eq!(
            dest_candidates(&request("/d", Some("a.txt"))).unwrap(),
            ["/d", "/d/a.txt"]
        );
        assert_eq!(dest_candidates(&request("/d", None)).unwrap(), ["/d"]);
        assert!(dest_candidates(&request("/d/", None)).is_none());
    }

    #[test]
    fn new_file_gets_umask_default_mode() {
        let plan = plan(
            &request("/x", None),
            "/x",
            &FileFacts::absent(),
            "abc",
            0o027,
            false,
        );
        let Plan::Write(write) = plan else {
            panic!("expected a write")
        };
        assert_eq!(write.mode, 0o640);
        assert_eq!(write.keep_ids, None);
    }

    #[test]
    fn same_checksum_and_attrs_is_nothing() {
        let facts = FileFacts {
            kind: FileKind::File,
            mode: 0o600,
            sha1: Some("abc".into()),
            ..FileFacts::absent()
        };
        assert_eq!(
            plan(&request("/x", None), "/x", &facts, "abc", 0o022, false),
            Plan::Nothing
        );
        let mut keep = request("/x", None);
        keep.force = false;
        assert_eq!(
            plan(&keep, "/x", &facts, "other", 0o022, false),
            Plan::Nothing
        );
    }
}
