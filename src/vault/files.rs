//! Reading and writing the files `stockman vault` works on: `-` is
//! stdin/stdout, files are replaced atomically with owner-only permissions,
//! and plaintext handed to an editor lives in a 0600 temp file that is wiped.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::envelope::hex_encode;
use super::VaultError;

fn io_error(what: &str, path: &Path, e: std::io::Error) -> VaultError {
    VaultError::Io(format!("{what} `{}`: {e}", path.display()))
}

/// The bytes of `path`, or of stdin for `-`.
pub fn read_input(path: &Path) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let mut data = Zeroizing::new(Vec::new());
    if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut data).map_err(|e| io_error("Unable to read", path, e))?;
    } else {
        *data = fs::read(path).map_err(|e| io_error("Unable to read source file", path, e))?;
    }
    Ok(data)
}

/// Writes `data` to stdout for `-`, else replaces `path` atomically with a
/// file of the given mode (0600 unless an existing file's mode is kept).
pub fn write_output(path: &Path, data: &[u8], mode: u32) -> Result<(), VaultError> {
    if path == Path::new("-") {
        // The vault command's data output (like `cat`), not a report line.
        let mut out = std::io::stdout().lock();
        return out.write_all(data).and_then(|_| out.flush()).map_err(|e| io_error("Unable to write", path, e));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.{}.tmp", file_name(path), random_tag()?));
    let written = write_new(&tmp, data, mode).and_then(|_| fs::rename(&tmp, path).map_err(|e| io_error("Unable to replace", path, e)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// The mode to keep when rewriting `path` in place (rekey and edit keep it).
pub fn existing_mode(path: &Path) -> u32 {
    fs::metadata(path).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o600)
}

/// Follows symlinks, so encrypting in place rewrites the target, as ansible-vault does.
pub fn real_path(path: &Path) -> PathBuf {
    if path == Path::new("-") {
        return path.to_path_buf();
    }
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), VaultError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_error("Unable to create", path, e))?;
    file.write_all(data).and_then(|_| file.sync_all()).map_err(|e| io_error("Unable to write", path, e))?;
    fs::set_permissions(path, Permissions::from_mode(mode)).map_err(|e| io_error("Unable to set the mode of", path, e))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "vault".into())
}

fn random_tag() -> Result<String, VaultError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| VaultError::Io(format!("no system randomness: {e}")))?;
    Ok(String::from_utf8_lossy(&hex_encode(&bytes)).into_owned())
}

/// A 0600 temp file holding plaintext for an editor; overwritten with zeros
/// and removed when dropped, whatever happened in between.
pub struct PlainTemp {
    pub path: PathBuf,
}

impl PlainTemp {
    /// Creates it in the temp dir, keeping `like`'s extension so editors
    /// pick the right syntax.
    pub fn create(like: &Path, data: &[u8]) -> Result<PlainTemp, VaultError> {
        let ext = like.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let path = std::env::temp_dir().join(format!("stockman-vault-{}{ext}", random_tag()?));
        write_new(&path, data, 0o600)?;
        Ok(PlainTemp { path })
    }

    pub fn read(&self) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        read_input(&self.path)
    }
}

impl Drop for PlainTemp {
    fn drop(&mut self) {
        if let Ok(meta) = fs::metadata(&self.path) {
            let zeros = vec![0u8; usize::try_from(meta.len()).unwrap_or(0)];
            let _ = OpenOptions::new().write(true).open(&self.path).and_then(|mut f| f.write_all(&zeros).and_then(|_| f.sync_all()));
        }
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_sets_the_mode_and_leaves_no_temp() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.yml");
        fs::write(&path, "old").unwrap();
        write_output(&path, b"new", 0o640).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(existing_mode(&path), 0o640);
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn plaintext_temp_is_private_and_removed() {
        let temp = PlainTemp::create(Path::new("x/secrets.yml"), b"pw: 1").unwrap();
        let path = temp.path.clone();
        assert!(path.to_string_lossy().ends_with(".yml"));
        assert_eq!(existing_mode(&path), 0o600);
        assert_eq!(&*temp.read().unwrap(), b"pw: 1");
        drop(temp);
        assert!(!path.exists());
    }
}
