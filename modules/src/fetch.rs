//! `fetch`: a file of the host copied to the controller, under
//! `dest/HOSTNAME/SRC` (or `dest` itself with `flat`). One command asks for
//! the remote sha1; only when it differs from the local copy's does a second
//! command send the bytes (`cat`), which are checked against that sha1
//! (`validate_checksum`) and written atomically (a temp file beside `dest`,
//! then a rename). Like Ansible's action, check mode skips it.

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use crate::shell::Cmd;
use crate::spec::{p, req, Param};

/// The fetch action's arguments. Its flags are read leniently by the action
/// (not type-checked), so they stay `raw` here.
pub const PARAMS: &[Param] = &[req("src").str(), req("dest").str(), p("flat"), p("fail_on_missing"), p("validate_checksum")];
use crate::{Args, Controller, ModuleError, ModuleResult, RunMode, Target};

/// Prints the path with `~` expanded, then `absent`, `dir`, or `file` and its sha1.
const CHECKSUM_SCRIPT: &str = r#"p=$1
case $p in "~"|"~/"*) p=$HOME${p#"~"} ;; esac
printf '%s\0' "$p"
if [ -d "$p" ]; then printf 'dir\0'
elif [ ! -e "$p" ]; then printf 'absent\0'
else h=$(sha1sum < "$p") || exit 1; printf 'file\0%s\0' "${h%% *}"; fi"#;

const MISSING: &str = "the remote file does not exist, not transferring, ignored";
const DIRECTORY: &str = "remote file is a directory, fetch cannot work on directories";

/// What the host said about `src`.
#[derive(Debug, PartialEq, Eq)]
enum Remote {
    Absent,
    Directory,
    File(String),
}

fn parse_remote(stdout: &[u8]) -> Option<(String, Remote)> {
    let mut fields = crate::remote_file::Fields::new(stdout);
    let path = fields.next_field()?;
    let remote = match fields.next_field()?.as_str() {
        "absent" => Remote::Absent,
        "dir" => Remote::Directory,
        "file" => Remote::File(fields.next_field()?),
        _ => return None,
    };
    Some((path, remote))
}

/// Where the copy goes on the controller, as Ansible's action computes it.
pub fn local_dest(dest: &str, source: &str, flat: bool, host: &str, base: &Path) -> Result<PathBuf, String> {
    let dwim = |p: &str| -> PathBuf {
        match p.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                PathBuf::from(format!("{}{rest}", std::env::var("HOME").unwrap_or_default()))
            }
            _ if p.starts_with('/') => PathBuf::from(p),
            _ => base.join(p),
        }
    };
    let path = if flat {
        let mut dest = dest.to_string();
        if Path::new(&dest).is_dir() && !dest.ends_with('/') {
            return Err("dest is an existing directory, use a trailing slash if you want to fetch src into that directory".into());
        }
        if dest.ends_with('/') {
            dest.push_str(source.rsplit('/').next().unwrap_or(source));
            if Path::new(&dest).is_dir() {
                return Err(format!("calculated dest '{dest}' is an existing directory, use another path that does not point to an existing directory"));
            }
        }
        dwim(&dest)
    } else {
        // Ansible would let `..` in src climb out of dest/HOST; stockman refuses it.
        if source.split('/').any(|part| part == "..") {
            return Err(format!("refusing src `{source}`: its `..` would put the copy outside {dest}/{host}/; name the file without `..`"));
        }
        PathBuf::from(format!("{}/{host}/{source}", dwim(dest).display()))
    };
    Ok(normalise(&path))
}

/// `os.path.normpath` on the controller path (no `..` may climb out of `dest`).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", md5::compute(bytes))
}

pub async fn run<T: Target>(args: &Args, target: &T, controller: &dyn Controller, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    if mode.check {
        let mut r = ModuleResult::ok();
        r.skipped = true;
        r.msg = Some("check mode not (yet) supported for this module".into());
        return Ok(r);
    }
    let (Some(src), Some(dest)) = (args.str("src"), args.str("dest")) else {
        return Ok(ModuleResult::failed("src and dest are required"));
    };
    let flat = args.bool("flat", false)?;
    let fail_on_missing = args.bool("fail_on_missing", true)?;
    let validate = args.bool("validate_checksum", true)?;
    let probe = Cmd::new("/bin/sh").flag("-c").arg(CHECKSUM_SCRIPT).arg("sh").arg(&src);
    let out = target.exec(probe.as_str(), None).await?;
    let Some((source, remote)) = parse_remote(&out.stdout).filter(|_| out.rc == 0) else {
        return Ok(ModuleResult::failed(format!("could not read `{src}` on the host: {}", out.stderr_str().trim())));
    };
    let remote_sum = match remote {
        Remote::File(sum) => sum,
        Remote::Absent if fail_on_missing => return Ok(ModuleResult::failed(MISSING).with("file", source)),
        Remote::Absent => return Ok(message(MISSING).with("file", source)),
        Remote::Directory if fail_on_missing => return Ok(ModuleResult::failed(DIRECTORY)),
        Remote::Directory => return Ok(message(&format!("{DIRECTORY}, not transferring, ignored"))),
    };
    let host = controller.eval_var("inventory_hostname").ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let base = controller.base_dir();
    let dest = match local_dest(&dest, &source, flat, &host, &base) {
        Ok(d) => d,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let dest_text = dest.display().to_string();
    let local = std::fs::read(&dest).ok();
    if let Some(bytes) = local.as_deref().filter(|b| sha1_hex(b) == remote_sum) {
        return Ok(ModuleResult::changed(false)
            .with("md5sum", md5_hex(bytes))
            .with("file", source)
            .with("dest", dest_text)
            .with("checksum", remote_sum));
    }
    let read = target.exec(Cmd::new("cat").arg("--").arg(&source).as_str(), None).await?;
    if read.rc != 0 {
        return Ok(ModuleResult::failed(format!("could not read `{source}` on the host: {}", read.stderr_str().trim())));
    }
    let checksum = sha1_hex(&read.stdout);
    let md5sum = md5_hex(&read.stdout);
    if validate && checksum != remote_sum {
        return Ok(ModuleResult::failed("checksum mismatch")
            .with("md5sum", md5sum)
            .with("file", source)
            .with("dest", dest_text)
            .with("remote_md5sum", serde_json::Value::Null)
            .with("checksum", checksum)
            .with("remote_checksum", remote_sum));
    }
    if let Err(e) = write_atomically(&dest, &read.stdout) {
        return Ok(ModuleResult::failed(format!("Failed to fetch the file: cannot write {dest_text}: {e}")));
    }
    Ok(ModuleResult::changed(true)
        .with("md5sum", md5sum)
        .with("dest", dest_text)
        .with("remote_md5sum", serde_json::Value::Null)
        .with("checksum", checksum)
        .with("remote_checksum", remote_sum))
}

/// An ok result with a message (the `fail_on_missing: false` cases).
fn message(msg: &str) -> ModuleResult {
    let mut r = ModuleResult::ok();
    r.msg = Some(msg.into());
    r
}

/// The bytes in a temp file beside `dest`, renamed onto it: a reader never
/// sees half a file, and a failure leaves the old copy.
fn write_atomically(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.stockman-{}", std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, dest));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_layout_is_ansibles() {
        let base = Path::new("/play");
        assert_eq!(local_dest("out", "/etc/hosts", false, "web1", base).unwrap(), PathBuf::from("/play/out/web1/etc/hosts"));
        assert_eq!(local_dest("/abs/", "/etc/hosts", true, "web1", base).unwrap(), PathBuf::from("/abs/hosts"));
        assert_eq!(local_dest("x/y.txt", "/etc/hosts", true, "web1", base).unwrap(), PathBuf::from("/play/x/y.txt"));
        assert_eq!(local_dest("out", "/a/./b", false, "h", base).unwrap(), PathBuf::from("/play/out/h/a/b"));
        assert!(local_dest("out", "/a/../../etc/x", false, "h", base).unwrap_err().contains("refusing src"));
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().display().to_string();
        assert!(local_dest(&dir, "/etc/hosts", true, "h", base).unwrap_err().contains("use a trailing slash"));
    }

    #[test]
    fn the_probe_is_parsed_and_hostile_sources_are_one_word() {
        assert_eq!(parse_remote(b"/x\0file\0abc\0"), Some(("/x".into(), Remote::File("abc".into()))));
        assert_eq!(parse_remote(b"/x\0absent\0"), Some(("/x".into(), Remote::Absent)));
        let line = Cmd::new("/bin/sh").flag("-c").arg(CHECKSUM_SCRIPT).arg("sh").arg("/tmp/$(id)'x").into_string();
        assert!(line.ends_with(r#" sh '/tmp/$(id)'\''x'"#), "{line}");
    }
}
