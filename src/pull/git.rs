//! Brings the checkout to the wanted revision with the host's own `git` (see the
//! README for why not a Rust git library). Every value goes to git as its own
//! argument (std::process::Command, no shell), and the only command line git
//! passes to a shell, `GIT_SSH_COMMAND`, is built with the quoting builder.
//!
//! The steps mirror what ansible-pull's git module call does: init or reuse the
//! checkout, refuse local modifications unless `--clean`, fetch (shallow unless
//! `--full`), verify the signature when asked, check out, update submodules.
//! Nothing in the work tree moves before the fetched commit is known and verified.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use stockman_modules::shell::Cmd;

use super::lock::LOCK_FILE;

/// What to check out, from pull's flags.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub url: String,
    pub dest: PathBuf,
    /// `-C`: a branch, tag or commit; the remote's HEAD when absent.
    pub version: Option<String>,
    pub full: bool,
    pub clean: bool,
    pub verify_commit: bool,
    pub track_subs: bool,
    pub accept_host_key: bool,
    pub key_file: Option<PathBuf>,
}

/// The revision before and after the sync (`before` is `None` on the first run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub before: Option<String>,
    pub after: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run `git` ({0}): stockman pull uses the host's git; install it (e.g. `apt-get install git`)")]
    Missing(std::io::Error),
    #[error("`git {args}` failed in `{dir}`: {stderr}")]
    Failed { args: String, dir: PathBuf, stderr: String },
    #[error("local modifications exist in the checkout `{0}`; --clean discards them")]
    Modified(PathBuf),
    #[error("commit {commit} is not signed with a trusted key (--verify-commit); nothing was checked out: {stderr}")]
    Unverified { commit: String, stderr: String },
}

/// Brings `request.dest` to the wanted revision.
pub fn sync(request: &Request) -> Result<Synced, GitError> {
    let git = Git::new(request);
    let dest = &request.dest;
    if dest.join(".git").is_dir() {
        git.run(&["remote", "set-url", "--", "origin", &request.url])?;
    } else {
        // init + fetch rather than clone: the directory already holds the lock file.
        git.run(&["init", "-q"])?;
        git.run(&["remote", "add", "--", "origin", &request.url])?;
    }
    ignore_lock_file(dest);
    let before = git.try_text(&["rev-parse", "-q", "--verify", "HEAD^{commit}"]);
    if before.is_some() && !request.clean && !git.text(&["status", "--porcelain", "--untracked-files=no"])?.is_empty() {
        return Err(GitError::Modified(dest.clone()));
    }
    let after = fetch(&git, request)?;
    if request.verify_commit {
        if let Err(GitError::Failed { stderr, .. }) = git.run(&["verify-commit", &after]) {
            return Err(GitError::Unverified { commit: after, stderr });
        }
    }
    let checkout: &[&str] = if request.clean { &["checkout", "-q", "--force", "--detach"] } else { &["checkout", "-q", "--detach"] };
    git.run(&[checkout, &[after.as_str()]].concat())?;
    if dest.join(".gitmodules").is_file() {
        git.run(&["submodule", "sync", "--recursive"])?;
        let update: &[&str] = if request.track_subs { &["submodule", "update", "--init", "--recursive", "--remote"] } else { &["submodule", "update", "--init", "--recursive"] };
        git.run(update)?;
    }
    Ok(Synced { before, after })
}

/// Fetches the wanted revision and returns its commit id. A commit id that the
/// server will not send alone is found by fetching every branch and tag.
fn fetch(git: &Git, request: &Request) -> Result<String, GitError> {
    let wanted = request.version.as_deref().unwrap_or("HEAD");
    let mut args = vec!["fetch", "-q", "--no-tags"];
    if !request.full {
        args.push("--depth=1");
    } else if request.dest.join(".git/shallow").exists() {
        // A checkout that earlier runs fetched shallow gets its whole history now.
        args.push("--unshallow");
    }
    args.extend(["origin", "--", wanted]);
    match git.run(&args) {
        Ok(_) => git.text(&["rev-parse", "--verify", "FETCH_HEAD^{commit}"]),
        Err(first) if looks_like_commit(wanted) => {
            git.run(&["fetch", "-q", "--tags", "origin"]).map_err(|_| first)?;
            git.text(&["rev-parse", "--verify", &format!("{wanted}^{{commit}}")])
        }
        Err(e) => Err(e),
    }
}

fn looks_like_commit(version: &str) -> bool {
    (7..=64).contains(&version.len()) && version.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The lock file lives in the work tree: keep it out of `git status` and `--clean`.
fn ignore_lock_file(dest: &Path) {
    let exclude = dest.join(".git/info/exclude");
    let current = std::fs::read_to_string(&exclude).unwrap_or_default();
    let line = format!("/{LOCK_FILE}");
    if !current.lines().any(|l| l == line) {
        let _ = std::fs::create_dir_all(dest.join(".git/info"));
        let _ = std::fs::write(&exclude, format!("{current}{}{line}\n", if current.is_empty() || current.ends_with('\n') { "" } else { "\n" }));
    }
}

/// `git -C DEST ...` with a fixed environment: never prompt, ssh as asked.
struct Git {
    dest: PathBuf,
    ssh_command: Option<String>,
}

impl Git {
    fn new(request: &Request) -> Git {
        Git { dest: request.dest.clone(), ssh_command: ssh_command(request) }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dest).args(args).stdin(Stdio::null());
        // A missing credential fails instead of waiting for an answer nobody types.
        cmd.env("GIT_TERMINAL_PROMPT", "0").env("LC_ALL", "C");
        if let Some(ssh) = &self.ssh_command {
            cmd.env("GIT_SSH_COMMAND", ssh);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Result<Output, GitError> {
        let out = self.command(args).output().map_err(GitError::Missing)?;
        if out.status.success() {
            return Ok(out);
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(GitError::Failed { args: args.join(" "), dir: self.dest.clone(), stderr: if stderr.is_empty() { out.status.to_string() } else { stderr } })
    }

    fn text(&self, args: &[&str]) -> Result<String, GitError> {
        self.run(args).map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn try_text(&self, args: &[&str]) -> Option<String> {
        self.text(args).ok().filter(|s| !s.is_empty())
    }
}

/// `GIT_SSH_COMMAND` (a shell command line to git) for `--accept-host-key` and
/// `--private-key`; `None` leaves git's own ssh settings alone.
fn ssh_command(request: &Request) -> Option<String> {
    if !request.accept_host_key && request.key_file.is_none() {
        return None;
    }
    let mut cmd = Cmd::new("ssh").flag("-o").flag("BatchMode=yes");
    if request.accept_host_key {
        // accept-new: unknown keys are added, a changed key still fails.
        cmd = cmd.flag("-o").flag("StrictHostKeyChecking=accept-new");
    }
    if let Some(key) = &request.key_file {
        cmd = cmd.flag("-i").arg(key.display().to_string()).flag("-o").flag("IdentitiesOnly=yes");
    }
    Some(cmd.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_key_path_stays_one_word_of_the_ssh_command() {
        let request = Request { key_file: Some("/tmp/k'; touch /tmp/pwned #".into()), ..Request::default() };
        assert_eq!(ssh_command(&request).unwrap(), "ssh -o BatchMode=yes -i '/tmp/k'\\''; touch /tmp/pwned #' -o IdentitiesOnly=yes");
    }

    #[test]
    fn only_hex_words_are_taken_for_commit_ids() {
        assert!(looks_like_commit("1a2b3c4"));
        assert!(!looks_like_commit("main"));
        assert!(!looks_like_commit("abc"));
    }
}
