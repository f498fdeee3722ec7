//! Shared by the fuzz targets: loaders that read files get the input through a
//! file in a private scratch directory (tmpfs when available).

use std::path::PathBuf;

/// Writes `data` to `name` in this process's scratch directory and returns its path.
/// The directory holds nothing else, so no group_vars/host_vars are picked up.
pub fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let dir = base.join(format!("stockman-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}
