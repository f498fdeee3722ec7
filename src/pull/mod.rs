//! `stockman pull`'s pieces beside the run itself: bring a git checkout up to date
//! ([`git::sync`]), keep two runs apart ([`lock::PullLock`]), pick the playbook as
//! ansible-pull does ([`select_playbooks`]), and write the systemd units that run
//! it on a timer ([`units::render`]). The flags and the run are in `cli::pull`,
//! which hands the chosen playbooks to the same path `stockman playbook` takes.

pub mod git;
pub mod host_names;
pub mod lock;
pub mod units;

use std::path::{Path, PathBuf};

/// The playbook run when none is named and no host-named one exists.
pub const DEFAULT_PLAYBOOK: &str = "local.yml";

/// Where the last revision a pull applied (ran to the end without failure, not in
/// check mode) is remembered, inside the checkout's `.git`; `--only-if-changed`
/// compares the new revision with it.
pub fn applied_marker(checkout: &Path) -> PathBuf {
    checkout.join(".git").join("stockman-pull-applied")
}

/// The revision recorded by [`record_applied`], if any.
pub fn last_applied(checkout: &Path) -> Option<String> {
    std::fs::read_to_string(applied_marker(checkout)).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Records `revision` as applied; written to a temporary file and renamed, so a
/// crash leaves the old record or the new one.
pub fn record_applied(checkout: &Path, revision: &str) -> std::io::Result<()> {
    let marker = applied_marker(checkout);
    let partial = marker.with_extension("partial");
    std::fs::write(&partial, format!("{revision}\n"))?;
    std::fs::rename(&partial, &marker)
}

/// The default `--directory`: `$XDG_STATE_HOME/stockman/pull/<fqdn>` (or
/// `~/.local/state/...`), one per host name in case the home directory is shared.
pub fn default_directory(fqdn: &str) -> PathBuf {
    state_dir().join("pull").join(fqdn)
}

/// stockman's state directory under the XDG base directory rules.
fn state_dir() -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME").filter(|v| Path::new(v).is_absolute()) {
        Some(dir) => PathBuf::from(dir).join("stockman"),
        None => crate::config::home_dir().join(".local/state/stockman"),
    }
}

/// The playbooks to run, as ansible-pull picks them: the named ones (each must
/// exist and be readable inside the checkout), else the first of `<fqdn>.yml`,
/// `<short hostname>.yml`, `local.yml`. The error lists every path tried.
pub fn select_playbooks(checkout: &Path, named: &[PathBuf], fqdn: &str) -> Result<Vec<PathBuf>, String> {
    if !named.is_empty() {
        let paths: Vec<PathBuf> = named.iter().map(|n| checkout.join(n)).collect();
        let problems: Vec<String> = paths.iter().filter_map(|p| unusable(p).map(|why| format!("{}: {why}", p.display()))).collect();
        return match problems.is_empty() {
            true => Ok(paths),
            false => Err(format!("Could not find a playbook to run: {}", problems.join("; "))),
        };
    }
    let short = fqdn.split('.').next().unwrap_or(fqdn);
    let candidates = [format!("{fqdn}.yml"), format!("{short}.yml"), DEFAULT_PLAYBOOK.to_string()];
    let mut problems = Vec::new();
    for name in candidates {
        let path = checkout.join(&name);
        match unusable(&path) {
            None => return Ok(vec![path]),
            Some(why) => problems.push(format!("{}: {why}", path.display())),
        }
    }
    problems.dedup();
    Err(format!("Could not find a playbook to run: {}", problems.join("; ")))
}

/// Why a playbook cannot be run (ansible-pull's two reasons), or `None`.
fn unusable(path: &Path) -> Option<&'static str> {
    if !path.is_file() {
        return Some("File does not exist");
    }
    std::fs::File::open(path).err().map(|_| "File is not readable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_named_playbook_wins_over_local_yml() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("local.yml"), "[]").unwrap();
        assert_eq!(select_playbooks(dir.path(), &[], "web1.example.com").unwrap(), vec![dir.path().join("local.yml")]);
        std::fs::write(dir.path().join("web1.yml"), "[]").unwrap();
        assert_eq!(select_playbooks(dir.path(), &[], "web1.example.com").unwrap(), vec![dir.path().join("web1.yml")]);
        std::fs::write(dir.path().join("web1.example.com.yml"), "[]").unwrap();
        assert_eq!(select_playbooks(dir.path(), &[], "web1.example.com").unwrap(), vec![dir.path().join("web1.example.com.yml")]);
    }

    #[test]
    fn a_missing_named_playbook_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.yml"), "[]").unwrap();
        let err = select_playbooks(dir.path(), &["site.yml".into(), "db.yml".into()], "h").unwrap_err();
        assert!(err.contains("db.yml: File does not exist"), "{err}");
        assert!(!err.contains("site.yml:"), "{err}");
    }
}
