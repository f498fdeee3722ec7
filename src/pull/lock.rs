//! One `stockman pull` at a time per checkout: an exclusive flock on a file in the
//! checkout directory, held until the run ends (the kernel drops it when the
//! process exits, even on a crash). A second run waits up to `--lock-wait`
//! seconds, then gives up with a message naming the holder.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file's name inside the checkout directory (git ignores it: see `git::sync`).
pub const LOCK_FILE: &str = ".stockman-pull.lock";
const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot open the lock file `{path}`: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("another `stockman pull` ({holder}) is running on `{dir}`; gave up after waiting {waited}s (--lock-wait SECONDS waits longer)")]
    Busy { dir: PathBuf, holder: String, waited: u64 },
}

/// Held for the whole run; dropping it (or exiting) releases the lock.
#[derive(Debug)]
pub struct PullLock {
    _file: File,
}

impl PullLock {
    /// Takes the lock of `dir`, waiting up to `wait`; `on_wait` is called once if
    /// the lock is busy, so the caller can say why nothing happens yet.
    pub fn acquire(dir: &Path, wait: Duration, on_wait: impl FnOnce(&str)) -> Result<PullLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let deadline = Instant::now() + wait;
        let mut on_wait = Some(on_wait);
        loop {
            let file = open(&path)?;
            if try_flock(&file) {
                // A run that purged the checkout unlinked the file we locked: lock the new one.
                if same_file(&file, &path) {
                    return Ok(PullLock { _file: stamped(file) });
                }
                continue;
            }
            if Instant::now() >= deadline {
                return Err(LockError::Busy { dir: dir.to_path_buf(), holder: holder(&path), waited: wait.as_secs() });
            }
            if let Some(tell) = on_wait.take() {
                tell(&holder(&path));
            }
            std::thread::sleep(POLL);
        }
    }
}

fn open(path: &Path) -> Result<File, LockError> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(|source| LockError::Open { path: path.to_path_buf(), source })
}

fn try_flock(file: &File) -> bool {
    // SAFETY: flock on a descriptor this File owns; no memory is involved.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(named)) => held.ino() == named.ino() && held.dev() == named.dev(),
        _ => false,
    }
}

/// Writes the holder's pid into the lock file, for the message of a waiting run.
fn stamped(mut file: File) -> File {
    let _ = file.set_len(0);
    let _ = writeln!(file, "pid {}", std::process::id());
    file
}

fn holder(path: &Path) -> String {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| "pid unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_waits_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let _held = PullLock::acquire(dir.path(), Duration::ZERO, |_| {}).unwrap();
        let mut told = false;
        let err = PullLock::acquire(dir.path(), Duration::from_millis(300), |_| told = true).unwrap_err();
        assert!(told);
        assert!(err.to_string().contains(&format!("pid {}", std::process::id())), "{err}");
    }
}
