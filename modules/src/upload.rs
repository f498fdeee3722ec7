//! Where a file's new content comes from, and how it reaches a temp file
//! beside its destination.
//!
//! [`Content`] is bytes in memory (`content:`, a rendered template), a file on
//! the controller (`copy` `src`), or a file on the target (`remote_src`).
//! [`stage`] puts a controller or target file into a fresh temp file in the
//! destination's directory and verifies it there (size, and sha1 for
//! controller files) before anything is renamed, so a cut or corrupted
//! transfer fails and leaves the destination untouched. Controller files are
//! read in chunks, never whole: through [`Target::exec_file_stdin`] when the
//! target can stream, else in [`PIECE`]-sized `exec` calls.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use crate::remote_file::{diff_text, Fields, MAX_DIFF_BYTES};
use crate::shell::Cmd;
use crate::{ExecOutput, ModuleError, Target};

/// New content for a file.
#[derive(Debug, Clone)]
pub enum Content {
    Bytes(Vec<u8>),
    /// A file on the controller, streamed.
    Local(LocalFile),
    /// A file already on the target (`remote_src`), copied there.
    Remote(RemoteFile),
}

/// A controller file, hashed once without being held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    pub path: PathBuf,
    pub size: u64,
    /// Ansible's `checksum`, and the transfer check on the target.
    pub sha1: String,
    /// Permission bits, for `mode: preserve`.
    pub mode: u32,
}

/// A file on the target, as its probe saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub path: String,
    pub size: u64,
    pub sha1: String,
    pub mode: u32,
}

/// Read size for hashing and streaming controller files.
const READ_CHUNK: usize = 1 << 20;

/// Bytes per `exec` when the target cannot stream: bounds the controller's memory.
pub const PIECE: usize = 2 << 20;

impl LocalFile {
    /// Hashes `path`: sha1, Ansible's `checksum`, also checks the transfer
    /// (against corruption, not an adversary: the channel is authenticated).
    pub fn hash(path: &Path) -> Result<LocalFile, String> {
        let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
        let mut file = File::open(path).map_err(cannot)?;
        let mode = file.metadata().map_err(cannot)?.permissions().mode() & 0o7777;
        let (mut sha1, mut size) = (Sha1::new(), 0u64);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = file.read(&mut buf).map_err(cannot)?;
            if n == 0 {
                break;
            }
            sha1.update(&buf[..n]);
            size += n as u64;
        }
        Ok(LocalFile {
            path: path.to_path_buf(),
            size,
            sha1: hex(&sha1.finalize()),
            mode,
        })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Content {
    /// The sha1 Ansible reports as `checksum`.
    pub fn sha1(&self) -> String {
        match self {
            Content::Bytes(bytes) => hex(&Sha1::digest(bytes)),
            Content::Local(file) => file.sha1.clone(),
            Content::Remote(file) => file.sha1.clone(),
        }
    }

    pub fn size(&self) -> u64 {
        match self {
            Content::Bytes(bytes) => bytes.len() as u64,
            Content::Local(file) => file.size,
            Content::Remote(file) => file.size,
        }
    }

    /// The source's own mode (`mode: preserve`); None for bytes.
    pub fn source_mode(&self) -> Option<u32> {
        match self {
            Content::Bytes(_) => None,
            Content::Local(file) => Some(file.mode),
            Content::Remote(file) => Some(file.mode),
        }
    }

    /// The "after" side of a diff (reads a small file; notes a large one).
    pub async fn diff_text<T: Target>(&self, target: &T) -> Result<String, ModuleError> {
        if self.size() > MAX_DIFF_BYTES as u64 {
            return Ok(format!("(diff skipped: content is larger than {MAX_DIFF_BYTES} bytes)\n"));
        }
        match self {
            Content::Bytes(bytes) => Ok(diff_text(bytes)),
            Content::Local(file) => Ok(std::fs::read(&file.path)
                .map(|bytes| diff_text(&bytes))
                .unwrap_or_else(|e| format!("(diff skipped: cannot read {}: {e})\n", file.path.display()))),
            Content::Remote(file) => {
                let out = target.exec(Cmd::new("cat").flag("--").arg(&file.path).as_str(), None).await?;
                Ok(if out.rc == 0 { diff_text(&out.stdout) } else { "(diff skipped: source unreadable)\n".into() })
            }
        }
    }
}

/// Creates a temp file in `$dir` (after `mkdir -p` when `$mk` is 1) and fills it
/// according to `$op`: `stream` from stdin (hashed as it arrives, on another
/// core), `copy` from the target file `$6`, `new` leaves it empty (filled by
/// `append` calls, then `verify`). Checks the size `$4` and, if given, the sha1
/// `$5`; on success prints the temp path (NUL-terminated) and keeps it, on any
/// failure removes it.
const STAGE_SCRIPT: &str = r#"op=$1 dir=$2 mk=$3 size=$4 sum=$5 arg=$6 h=
case $op in
new|stream|copy)
  if [ "$mk" = 1 ]; then mkdir -p -- "$dir" || exit 1; fi
  tmp=$(mktemp -- "$dir/.stockman.XXXXXXXX") || exit 1;;
*) tmp=$arg;;
esac
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 1' HUP INT TERM PIPE
case $op in
new) trap - EXIT; printf '%s\0' "$tmp"; exit 0;;
append) cat >> "$tmp" || exit 1; trap - EXIT; exit 0;;
stream) h=$(tee -- "$tmp" | sha1sum) || exit 1;;
copy) cp -- "$arg" "$tmp" || exit 1;;
esac
got=$(wc -c < "$tmp") || exit 1
if [ "$got" -ne "$size" ]; then echo "incomplete transfer: $got of $size bytes arrived" >&2; exit 1; fi
if [ -n "$sum" ]; then
  if [ -z "$h" ]; then h=$(sha1sum < "$tmp") || exit 1; fi
  if [ "${h%% *}" != "$sum" ]; then echo "checksum mismatch after transfer: sha1 ${h%% *}, expected $sum" >&2; exit 1; fi
fi
trap - EXIT
printf '%s\0' "$tmp""#;

fn stage_cmd(op: &str, dir: &str, create_dir: bool, size: u64, sha1: &str, arg: &str) -> Cmd {
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(STAGE_SCRIPT)
        .arg("sh")
        .arg(op)
        .arg(dir)
        .arg(if create_dir { "1" } else { "0" })
        .arg(size.to_string())
        .arg(sha1)
        .arg(arg)
}

/// Puts a controller or target file into a verified temp file in `dir` on the
/// target: Ok(Ok(temp path)), or Ok(Err(why)) with nothing left behind.
/// Bytes are not staged (they travel with the write itself).
pub async fn stage<T: Target>(
    target: &T,
    content: &Content,
    dir: &str,
    create_dir: bool,
) -> Result<Result<String, String>, ModuleError> {
    match content {
        Content::Bytes(_) => Err(ModuleError::BadArgs("internal: bytes are written, not staged".into())),
        Content::Remote(file) => {
            let cmd = stage_cmd("copy", dir, create_dir, file.size, "", &file.path);
            Ok(temp_path(target.exec(cmd.as_str(), None).await?))
        }
        Content::Local(file) => {
            let cmd = stage_cmd("stream", dir, create_dir, file.size, &file.sha1, "");
            match target.exec_file_stdin(cmd.as_str(), &file.path).await? {
                Some(out) => Ok(temp_path(out)),
                None => stage_in_pieces(target, file, dir, create_dir).await,
            }
        }
    }
}

/// The fallback for targets that cannot stream: an empty temp file, then
/// [`PIECE`]-sized appends, then the same verification.
async fn stage_in_pieces<T: Target>(
    target: &T,
    file: &LocalFile,
    dir: &str,
    create_dir: bool,
) -> Result<Result<String, String>, ModuleError> {
    let created = target.exec(stage_cmd("new", dir, create_dir, 0, "", "").as_str(), None).await?;
    let tmp = match temp_path(created) {
        Ok(tmp) => tmp,
        Err(why) => return Ok(Err(why)),
    };
    let mut source = match File::open(&file.path) {
        Ok(source) => source,
        Err(e) => return discard(target, &tmp, format!("cannot read {}: {e}", file.path.display())).await,
    };
    let append = stage_cmd("append", dir, false, 0, "", &tmp);
    let mut piece = vec![0u8; PIECE];
    loop {
        let n = match read_full(&mut source, &mut piece) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return discard(target, &tmp, format!("cannot read {}: {e}", file.path.display())).await,
        };
        let out = target.exec(append.as_str(), Some(&piece[..n])).await?;
        if out.rc != 0 {
            return Ok(Err(format!("transfer failed: {}", out.stderr_str().trim())));
        }
    }
    let verify = stage_cmd("verify", dir, false, file.size, &file.sha1, &tmp);
    Ok(temp_path(target.exec(verify.as_str(), None).await?))
}

/// Fills `buf` as far as the file allows (a short read is not the end).
fn read_full(source: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

async fn discard<T: Target>(target: &T, tmp: &str, why: String) -> Result<Result<String, String>, ModuleError> {
    target.exec(Cmd::new("rm").flag("-f --").arg(tmp).as_str(), None).await?;
    Ok(Err(why))
}

/// The temp path a stage command printed, or why it failed.
fn temp_path(out: ExecOutput) -> Result<String, String> {
    if out.rc != 0 {
        return Err(format!("transfer failed: {}", out.stderr_str().trim()));
    }
    match Fields::new(&out.stdout).next_field() {
        Some(tmp) if !tmp.is_empty() => Ok(tmp),
        _ => Err(format!("transfer failed: unexpected output {:?}", out.stdout_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_a_file_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello\n").unwrap();
        let file = LocalFile::hash(&path).unwrap();
        assert_eq!(file.size, 6);
        assert_eq!(file.sha1, "f572d396fae9206628714fb2ce00f72e94f2258f");
    }

    #[test]
    fn unreadable_file_is_named() {
        let err = LocalFile::hash(Path::new("/nonexistent/x")).unwrap_err();
        assert!(err.contains("/nonexistent/x"), "{err}");
    }
}
