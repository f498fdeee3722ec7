//! `copy` of a directory, from the controller or (`remote_src`) from the target.
//!
//! Ansible's trailing-slash rule: `src: dir` copies the directory itself into
//! `dest` (`dest/dir/...`), `src: dir/` copies its contents (`dest/...`). The
//! source tree is listed once, the destination probed once (in batches), and
//! only what differs is done: missing directories are created (with
//! `directory_mode`, else the umask default), links recreated, and each
//! changed file written through [`copy::put`] (streamed, atomic).

use std::path::Path;

use serde_json::Value;

use crate::copy::{put, wanted_attrs, PutRequest};
use crate::mode::ModeSpec;
use crate::remote_file::{self, basename, chown_spec, with_file_fields, FileFacts, FileKind, Follow, Probe};
use crate::shell::Cmd;
use crate::upload::{Content, LocalFile, RemoteFile};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};

/// One entry of a source tree; `rel` is relative to the copied root ("" is the root).
#[derive(Debug, Clone)]
enum Entry {
    Dir { rel: String },
    File { rel: String, content: Content, shown: String },
    Link { rel: String, to: String },
}

impl Entry {
    fn rel(&self) -> &str {
        match self {
            Entry::Dir { rel } | Entry::File { rel, .. } | Entry::Link { rel, .. } => rel,
        }
    }
}

/// Deepest tree walked: a link loop with `local_follow` must end.
const MAX_DEPTH: usize = 64;
/// Paths per probe command (well under the target's argument limits).
const PROBE_BATCH: usize = 200;

/// Copies the controller directory `path` (named `src` in the task).
pub async fn from_controller<T: Target>(
    args: &Args,
    target: &T,
    src: &str,
    path: &Path,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let mut entries = vec![Entry::Dir { rel: String::new() }];
    if let Err(msg) = walk_local(path, "", args.bool("local_follow", true)?, 0, &mut entries) {
        return Ok(ModuleResult::failed(msg));
    }
    sync(args, target, src, entries, mode).await
}

fn walk_local(dir: &Path, rel: &str, follow: bool, depth: usize, out: &mut Vec<Entry>) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("{} is nested more than {MAX_DEPTH} levels deep (a symlink loop?); use local_follow: false", dir.display()));
    }
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", dir.display());
    let mut names: Vec<_> = std::fs::read_dir(dir).map_err(cannot)?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>().map_err(cannot)?;
    names.sort();
    for name in names {
        let name = name.to_str().ok_or_else(|| format!("{}: a file name that is not UTF-8 cannot be copied", dir.display()))?;
        let (path, child) = (dir.join(name), join(rel, name));
        let meta = std::fs::symlink_metadata(&path).map_err(cannot)?;
        if meta.file_type().is_symlink() && !follow {
            let to = std::fs::read_link(&path).map_err(cannot)?;
            out.push(Entry::Link { rel: child, to: to.to_string_lossy().into_owned() });
        } else if path.is_dir() {
            out.push(Entry::Dir { rel: child.clone() });
            walk_local(&path, &child, follow, depth + 1, out)?;
        } else if path.is_file() {
            let content = Content::Local(LocalFile::hash(&path)?);
            out.push(Entry::File { rel: child, content, shown: path.display().to_string() });
        }
    }
    Ok(())
}

/// Lists a directory on the target: `d`/`f`/`l`, the relative path, the link
/// target (links only), each NUL-terminated; `-L` when following links.
const LIST_SCRIPT: &str = r#"cd -- "$1" || exit 1
find $2 . -mindepth 1 \( -type d -printf 'd\0%P\0\0' \) -o \( -type f -printf 'f\0%P\0\0' \) -o \( -type l -printf 'l\0%P\0%l\0' \)"#;

/// Copies the target directory `src` (`remote_src: true`).
pub async fn from_target<T: Target>(args: &Args, target: &T, src: &str, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let follow = if args.bool("local_follow", true)? { "-L" } else { "-P" };
    let cmd = Cmd::new("/bin/sh").flag("-c").arg(LIST_SCRIPT).arg("sh").arg(src).arg(follow);
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("cannot list `{src}` on the host: {}", out.stderr_str().trim())));
    }
    let mut fields = remote_file::Fields::new(&out.stdout);
    let mut listed = Vec::new();
    while let (Some(kind), Some(rel), Some(to)) = (fields.next_field(), fields.next_field(), fields.next_field()) {
        listed.push((kind, rel, to));
    }
    listed.sort_by(|a, b| a.1.cmp(&b.1));
    let files: Vec<String> = listed.iter().filter(|l| l.0 == "f").map(|l| join(src, &l.1)).collect();
    let mut facts = probe_all(target, &files, Follow::Yes).await?.files.into_iter();
    let mut entries = vec![Entry::Dir { rel: String::new() }];
    for (kind, rel, to) in listed {
        entries.push(match kind.as_str() {
            "d" => Entry::Dir { rel },
            "l" => Entry::Link { rel, to },
            _ => {
                let f = facts.next().unwrap_or_else(FileFacts::absent);
                let path = join(src, &rel);
                let content = Content::Remote(RemoteFile { path: path.clone(), size: f.size, sha1: f.sha1.unwrap_or_default(), mode: f.mode });
                Entry::File { rel, content, shown: path }
            }
        });
    }
    let result = sync(args, target, src, entries, mode).await?;
    if result.failed || mode.check {
        return Ok(result);
    }
    // Ansible's copy module (run on the target for remote_src) adds dest's own
    // stat, and null sums (a directory has none).
    let dest = args.required_str("dest")?;
    let probe = remote_file::probe(target, &[&dest], Follow::No, false).await?;
    Ok(with_file_fields(result, &probe.files[0]).with("checksum", Value::Null).with("md5sum", Value::Null))
}

/// Probes `paths` in batches: the umask and one [`FileFacts`] per path, in order.
async fn probe_all<T: Target>(target: &T, paths: &[String], follow: Follow) -> Result<Probe, ModuleError> {
    let mut all = Probe { umask: 0o022, files: Vec::with_capacity(paths.len()) };
    for batch in paths.chunks(PROBE_BATCH) {
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        let probe = remote_file::probe(target, &refs, follow, true).await?;
        all.umask = probe.umask;
        all.files.extend(probe.files);
    }
    Ok(all)
}

/// `dest/basename(src)` for `src: dir`, `dest` for `src: dir/`.
fn dest_root(dest: &str, src: &str) -> String {
    let dest = dest.trim_end_matches('/');
    let dest = if dest.is_empty() { "/" } else { dest };
    if src.ends_with('/') {
        dest.to_string()
    } else {
        join(dest, basename(src))
    }
}

fn join(dir: &str, name: &str) -> String {
    match (dir, name) {
        (_, "") => dir.to_string(),
        ("", _) => name.to_string(),
        (d, n) if d.ends_with('/') => format!("{d}{n}"),
        (d, n) => format!("{d}/{n}"),
    }
}

/// Makes the destination tree match `entries`.
async fn sync<T: Target>(args: &Args, target: &T, src: &str, entries: Vec<Entry>, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let root = dest_root(&args.required_str("dest")?, src);
    let paths: Vec<String> = entries.iter().map(|e| join(&root, e.rel())).collect();
    let Probe { umask, files: facts } = probe_all(target, &paths, Follow::No).await?;
    let dir_mode = match args.get("directory_mode").map(ModeSpec::from_value).transpose() {
        Ok(spec) => spec.map(|m| m.resolve(0o777 & !umask, true, umask)),
        Err(e) => return Ok(ModuleResult::failed(e.to_string())),
    };
    let owner_group = chown_spec(args.str("owner").as_deref(), args.str("group").as_deref());
    let mut setup = Vec::new();
    let mut puts = Vec::new();
    for ((entry, path), facts) in entries.into_iter().zip(paths).zip(facts) {
        match plan_entry(entry, &path, &facts, dir_mode, owner_group.as_deref()) {
            Ok(Step::Nothing) => {}
            Ok(Step::Setup(cmd)) => setup.push(cmd),
            Ok(Step::Put(content, shown)) => puts.push((path, content, shown)),
            Err(msg) => return Ok(ModuleResult::failed(msg)),
        }
    }
    // `dest` as given, as Ansible returns it (not the directory made inside it).
    let mut result = ModuleResult::changed(!setup.is_empty()).with("dest", args.required_str("dest")?).with("src", src);
    if !mode.check && !setup.is_empty() {
        let script = setup.into_iter().reduce(|a, b| a.then("&&", b)).expect("not empty");
        let out = target.exec(script.as_str(), None).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(format!("could not create the tree under `{root}`: {}", out.stderr_str().trim())));
        }
    }
    for (path, content, shown) in puts {
        let one = match file_request(args, path, content, shown)? {
            Ok(request) => put(target, &request, mode).await?,
            Err(msg) => ModuleResult::failed(msg),
        };
        if one.failed {
            return Ok(one);
        }
        result.changed |= one.changed;
        result.diff.extend(one.diff);
    }
    Ok(result)
}

/// What one entry needs.
enum Step {
    Nothing,
    /// A command creating a directory or a link (all run together, parents first).
    Setup(Cmd),
    /// A file to hand to [`put`] (it decides content and attributes itself).
    Put(Content, String),
}

fn plan_entry(entry: Entry, path: &str, facts: &FileFacts, dir_mode: Option<u32>, chown: Option<&str>) -> Result<Step, String> {
    let in_the_way = |what: &str| format!("`{path}` exists and is a {}, not a {what}; remove it first", facts.kind.state());
    match entry {
        Entry::Dir { .. } => match facts.kind {
            FileKind::Directory => Ok(Step::Nothing),
            // Missing parents of the root too get `directory_mode`, as in Ansible.
            FileKind::Absent => Ok(Step::Setup(remote_file::mkdirs_cmd(path, dir_mode, chown))),
            _ => Err(in_the_way("directory")),
        },
        Entry::Link { to, .. } => match facts.kind {
            FileKind::Link if facts.link_target.as_deref() == Some(to.as_str()) => Ok(Step::Nothing),
            FileKind::Absent | FileKind::Link | FileKind::File => Ok(Step::Setup(Cmd::new("ln").flag("-sfn --").arg(to).arg(path))),
            _ => Err(in_the_way("link")),
        },
        Entry::File { content, shown, .. } => match facts.kind {
            FileKind::Absent | FileKind::File | FileKind::Link => Ok(Step::Put(content, shown)),
            _ => Err(in_the_way("file")),
        },
    }
}

/// A `put` of one file of the tree, with the task's file arguments.
fn file_request(args: &Args, dest: String, content: Content, shown: String) -> Result<Result<PutRequest, String>, ModuleError> {
    let attrs = match wanted_attrs(args, content.source_mode()) {
        Ok(attrs) => attrs,
        Err(msg) => return Ok(Err(msg)),
    };
    Ok(Ok(PutRequest {
        dest,
        content,
        src: Some(shown.clone()),
        after_header: shown,
        attrs,
        backup: args.bool("backup", false)?,
        force: args.bool("force", true)?,
        validate: None,
        follow: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slash_decides_the_root() {
        assert_eq!(dest_root("/srv/x", "files/site"), "/srv/x/site");
        assert_eq!(dest_root("/srv/x/", "files/site"), "/srv/x/site");
        assert_eq!(dest_root("/srv/x", "files/site/"), "/srv/x");
        assert_eq!(dest_root("/", "site/"), "/");
    }

    #[test]
    fn local_walk_lists_parents_first_and_keeps_links_unless_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink("b/f", dir.path().join("a/l")).unwrap();
        let mut out = Vec::new();
        walk_local(dir.path(), "", false, 0, &mut out).unwrap();
        let rels: Vec<&str> = out.iter().map(Entry::rel).collect();
        assert_eq!(rels, ["a", "a/b", "a/b/f", "a/l"]);
        assert!(matches!(&out[3], Entry::Link { to, .. } if to == "b/f"));
        let mut followed = Vec::new();
        walk_local(dir.path(), "", true, 0, &mut followed).unwrap();
        assert!(matches!(&followed[3], Entry::File { .. }));
    }
}
