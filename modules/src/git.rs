//! `git`: a checkout of `repo` at `version` in `dest`.
//!
//! One probe: the checkout's HEAD, remote URL and local modifications, plus
//! `git ls-remote` of the repository (so the wanted commit is known without
//! fetching). One apply command: clone, or set-url + fetch + checkout, ending
//! with `git rev-parse HEAD` for `after`.

use std::collections::HashMap;

use crate::listarg::int;
use crate::shell::{quote, Cmd};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, req, Param};

/// The arguments of `git`, typed as ansible.builtin.git's docs.
pub const PARAMS: &[Param] = &[
    alias("repo", &["name"], true).str(),
    req("dest").path(),
    p("version").str(),
    p("remote").str(),
    p("force").bool(),
    p("update").bool(),
    p("clone").bool(),
    p("bare").bool(),
    p("depth").int(),
    p("single_branch").bool(),
    p("refspec").str(),
    p("recursive").bool(),
    p("accept_hostkey").bool(),
    p("accept_newhostkey").bool(),
    p("key_file").path(),
    p("umask"),
];

const MARK: &str = "@@stockman-git@@";

#[derive(Debug, Clone)]
struct Request {
    repo: String,
    dest: String,
    version: String,
    remote: String,
    force: bool,
    update: bool,
    clone: bool,
    bare: bool,
    depth: Option<i64>,
    single_branch: bool,
    refspec: Option<String>,
    recursive: bool,
    ssh_command: Option<String>,
    umask: Option<String>,
}

impl Request {
    fn from_args(args: &Args) -> Result<Self, ModuleError> {
        let key_file = args.str("key_file");
        let host_key = if args.bool("accept_hostkey", false)? {
            Some("no")
        } else if args.bool("accept_newhostkey", false)? {
            Some("accept-new")
        } else {
            None
        };
        // GIT_SSH_COMMAND is run by a shell: the key path is quoted for it.
        let ssh_command = (key_file.is_some() || host_key.is_some()).then(|| {
            let mut line = String::from("ssh");
            if let Some(policy) = host_key {
                line.push_str(&format!(" -o StrictHostKeyChecking={policy}"));
            }
            if let Some(key) = &key_file {
                line.push_str(&format!(" -o IdentitiesOnly=yes -i {}", quote(key)));
            }
            line
        });
        let umask = args.str("umask");
        if let Some(u) = &umask {
            if u.is_empty() || !u.chars().all(|c| ('0'..='7').contains(&c)) {
                return Err(ModuleError::BadArgs(format!("umask must be an octal string, got: {u}")));
            }
        }
        Ok(Request {
            repo: with_file_scheme(args.required_str("repo")?),
            dest: args.required_str("dest")?,
            version: args.str("version").unwrap_or_else(|| "HEAD".into()),
            remote: args.str("remote").unwrap_or_else(|| "origin".into()),
            force: args.bool("force", false)?,
            update: args.bool("update", true)?,
            clone: args.bool("clone", true)?,
            bare: args.bool("bare", false)?,
            depth: int(args, "depth")?,
            single_branch: args.bool("single_branch", false)?,
            refspec: args.str("refspec"),
            recursive: args.bool("recursive", true)?,
            ssh_command,
            umask,
        })
    }

    /// `git` with the environment the task asks for.
    fn git(&self) -> Cmd {
        match &self.ssh_command {
            Some(ssh) => Cmd::new("git").env("GIT_SSH_COMMAND", ssh),
            None => Cmd::new("git"),
        }
    }

    fn git_in_dest(&self) -> Cmd {
        self.git().flag("-C").arg(&self.dest)
    }
}

/// What the probe found.
#[derive(Debug, Clone, Default, PartialEq)]
struct Found {
    head: Option<String>,
    url: Option<String>,
    modified: bool,
    /// `ls-remote` refs: ref name -> sha.
    refs: HashMap<String, String>,
}

fn probe_cmd(request: &Request) -> Cmd {
    let mark = || Cmd::new("echo").arg(MARK);
    let head = request.git_in_dest().flag("rev-parse --verify -q HEAD").quiet();
    let url = request.git_in_dest().flag("config --get").arg(format!("remote.{}.url", request.remote)).quiet();
    let status = request.git_in_dest().flag("status --porcelain --untracked-files=no").quiet();
    let remote = request.git().flag("ls-remote --").arg(&request.repo);
    head.then(";", mark())
        .then(";", url)
        .then(";", mark())
        .then(";", status)
        .then(";", mark())
        .then(";", remote)
}

fn parse_found(stdout: &str) -> Found {
    let parts: Vec<&str> = stdout.split(&format!("{MARK}\n")).collect();
    let nonempty = |i: usize| parts.get(i).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let refs = parts
        .get(3)
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(sha, name)| (name.to_string(), sha.to_string()))
                .collect()
        })
        .unwrap_or_default();
    Found { head: nonempty(0), url: nonempty(1), modified: nonempty(2).is_some(), refs }
}

/// What `version` names on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    Branch(String, String),
    Tag(String, String),
    /// The remote's HEAD (its default branch).
    Head(String),
    /// A full or short sha, not necessarily advertised.
    Commit(String),
}

impl Wanted {
    fn sha(&self) -> &str {
        match self {
            Wanted::Branch(_, s) | Wanted::Tag(_, s) | Wanted::Head(s) | Wanted::Commit(s) => s,
        }
    }
}

fn resolve(version: &str, refs: &HashMap<String, String>) -> Option<Wanted> {
    if version == "HEAD" {
        return refs.get("HEAD").map(|s| Wanted::Head(s.clone()));
    }
    if let Some(sha) = refs.get(&format!("refs/heads/{version}")) {
        return Some(Wanted::Branch(version.into(), sha.clone()));
    }
    let peeled = refs.get(&format!("refs/tags/{version}^{{}}")).or_else(|| refs.get(&format!("refs/tags/{version}")));
    if let Some(sha) = peeled {
        return Some(Wanted::Tag(version.into(), sha.clone()));
    }
    let is_sha = version.len() >= 4 && version.len() <= 40 && version.chars().all(|c| c.is_ascii_hexdigit());
    is_sha.then(|| Wanted::Commit(version.to_ascii_lowercase()))
}

fn at_wanted(head: &str, wanted: &Wanted) -> bool {
    head.starts_with(wanted.sha())
}

fn clone_cmd(request: &Request, wanted: &Wanted) -> Cmd {
    let mut clone = request.git().flag("clone");
    if request.bare {
        clone = clone.flag("--bare");
    }
    if let Some(depth) = request.depth {
        clone = clone.flag("--depth").arg(depth.to_string());
    }
    if request.single_branch {
        clone = clone.flag("--single-branch");
    }
    if !request.bare {
        clone = clone.flag("--origin").arg(&request.remote);
    }
    // As Ansible: only a shallow or single-branch clone fetches just the
    // version; a full clone keeps a local branch for the remote's HEAD and
    // then checks the version out.
    let by_branch = request.depth.is_some() || request.single_branch;
    if let (Wanted::Branch(name, _) | Wanted::Tag(name, _), true) = (wanted, by_branch) {
        clone = clone.flag("--branch").arg(name);
    }
    let cmd = clone.flag("--").arg(&request.repo).arg(&request.dest);
    if request.bare {
        return cmd;
    }
    match wanted {
        Wanted::Branch(name, _) if !by_branch => cmd.then(
            "&&",
            request.git_in_dest().flag("checkout -q -B").arg(name).arg(format!("{}/{name}", request.remote)),
        ),
        Wanted::Tag(_, sha) if !by_branch => cmd.then("&&", request.git_in_dest().flag("checkout -q --detach").arg(sha)),
        Wanted::Commit(sha) => cmd.then("&&", request.git_in_dest().flag("checkout -q --detach").arg(sha)),
        _ => cmd,
    }
}

fn update_cmd(request: &Request, found: &Found, wanted: &Wanted) -> Cmd {
    let mut cmd = Cmd::new("true");
    if found.url.as_deref() != Some(request.repo.as_str()) {
        cmd = cmd.then("&&", request.git_in_dest().flag("remote set-url --").arg(&request.remote).arg(&request.repo));
    }
    let mut fetch = request.git_in_dest().flag("fetch -q --tags");
    if let Some(depth) = request.depth {
        fetch = fetch.flag("--depth").arg(depth.to_string());
    }
    fetch = fetch.flag("--").arg(&request.remote);
    if request.bare {
        fetch = fetch.arg("+refs/heads/*:refs/heads/*");
    }
    if let Some(refspec) = &request.refspec {
        fetch = fetch.arg(refspec);
    }
    cmd = cmd.then("&&", fetch);
    if request.bare {
        return cmd;
    }
    if request.force {
        cmd = cmd.then("&&", request.git_in_dest().flag("reset -q --hard"));
    }
    let checkout = match wanted {
        Wanted::Branch(name, _) => request
            .git_in_dest()
            .flag("checkout -q -B")
            .arg(name)
            .arg(format!("{}/{name}", request.remote)),
        _ => request.git_in_dest().flag("checkout -q --detach").arg(wanted.sha()),
    };
    cmd.then("&&", checkout)
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let request = Request::from_args(args)?;
    let out = target.exec(probe_cmd(&request).as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!(
            "cannot read the repository `{}` (git ls-remote failed): {}",
            request.repo,
            out.stderr_str().trim()
        )));
    }
    let found = parse_found(&out.stdout_str());
    let before = found.head.clone();
    let base = ModuleResult::ok().with("before", before.clone().map_or(serde_json::Value::Null, Into::into));
    let Some(wanted) = resolve(&request.version, &found.refs) else {
        return Ok(ModuleResult::failed(format!(
            "Failed to find version `{}` in the repository `{}` (not a branch, tag or commit sha)",
            request.version, request.repo
        )));
    };
    let url_changed = before.is_some() && found.url.as_deref() != Some(request.repo.as_str());
    let steps = match &before {
        // As Ansible: clone=false only reports what a clone would check out.
        None if !request.clone => {
            let mut result = base.with("after", wanted.sha().to_string());
            result.changed = true;
            return Ok(result);
        }
        None => Some(clone_cmd(&request, &wanted)),
        Some(head) if !request.update => return Ok(base.with("after", head.clone())),
        Some(_) if found.modified && !request.force && !request.bare => {
            return Ok(ModuleResult::failed(format!(
                "Local modifications exist in the destination: {} (force=no).",
                request.dest
            ))
            .with("before", before.clone().unwrap_or_default()))
        }
        // As Ansible, check mode does not count modifications that force would discard.
        Some(head) if at_wanted(head, &wanted) && !url_changed && !(discards(&request, &found) && !mode.check) => {
            return Ok(base.with("after", head.clone()).with("remote_url_changed", false))
        }
        // At the wanted commit, discarding is all there is to do: the checkout
        // stays on its branch (a checkout of HEAD's sha would detach it).
        Some(head) if at_wanted(head, &wanted) && !url_changed => Some(request.git_in_dest().flag("reset -q --hard")),
        Some(_) => Some(update_cmd(&request, &found, &wanted)),
    };
    let mut result = base.with("remote_url_changed", url_changed);
    result.changed = true;
    if mode.check {
        return Ok(result.with("after", wanted.sha().to_string()));
    }
    let mut cmd = steps.unwrap_or_else(|| Cmd::new("true"));
    if request.recursive && !request.bare {
        cmd = cmd.then("&&", request.git_in_dest().flag("submodule -q update --init --recursive"));
    }
    cmd = cmd.then("&&", request.git_in_dest().flag("rev-parse HEAD"));
    if let Some(umask) = &request.umask {
        cmd = Cmd::new("umask").arg(umask).then("&&", cmd);
    }
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("git failed for `{}`: {}", request.dest, out.stderr_str().trim()))
            .with("rc", out.rc));
    }
    let after = out.stdout_str().lines().last().unwrap_or("").trim().to_string();
    let discarded = discards(&request, &found);
    result.changed = before.as_deref() != Some(after.as_str()) || url_changed || discarded;
    if discarded {
        result = result.with("msg", format!("Local modifications exist in the destination: {}", request.dest));
    }
    Ok(result.with("after", after))
}

/// `force` over a checkout with modified tracked files: they are reset away,
/// which is a change even at the same commit (untracked files stay and do not count).
fn discards(request: &Request, found: &Found) -> bool {
    request.force && found.modified && !request.bare
}

/// A local path becomes a `file://` URL, as Ansible's module does: git
/// ignores `depth` and `single_branch` for plain paths (it hard-links instead).
fn with_file_scheme(repo: String) -> String {
    if repo.starts_with('/') {
        format!("file://{repo}")
    } else {
        repo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refs() -> HashMap<String, String> {
        parse_found(&format!(
            "{MARK}\n{MARK}\n{MARK}\naaaa1111\tHEAD\naaaa1111\trefs/heads/main\nbbbb2222\trefs/heads/dev\ncccc0000\trefs/tags/v1.0\ncccc3333\trefs/tags/v1.0^{{}}\n"
        ))
        .refs
    }

    #[test]
    fn versions_resolve_like_ansible() {
        let r = refs();
        assert_eq!(resolve("HEAD", &r), Some(Wanted::Head("aaaa1111".into())));
        assert_eq!(resolve("dev", &r), Some(Wanted::Branch("dev".into(), "bbbb2222".into())));
        assert_eq!(resolve("v1.0", &r), Some(Wanted::Tag("v1.0".into(), "cccc3333".into())));
        assert_eq!(resolve("ABCDEF12", &r), Some(Wanted::Commit("abcdef12".into())));
        assert_eq!(resolve("nosuch", &r), None);
    }

    #[test]
    fn probe_output_parses() {
        let f = parse_found(&format!("abc\n{MARK}\n/srv/r.git\n{MARK}\n M README\n{MARK}\n"));
        assert_eq!(f.head.as_deref(), Some("abc"));
        assert_eq!(f.url.as_deref(), Some("/srv/r.git"));
        assert!(f.modified);
        assert!(parse_found(&format!("{MARK}\n{MARK}\n{MARK}\n")).head.is_none());
    }

    #[test]
    fn commands_quote_paths_and_key_files() {
        let args = Args::new(
            json!({"repo": "/srv/r.git", "dest": "/tmp/a b;$(x)", "key_file": "/k y", "accept_newhostkey": true, "depth": 1})
                .as_object()
                .unwrap()
                .clone(),
        );
        let r = Request::from_args(&args).unwrap();
        let cmd = clone_cmd(&r, &Wanted::Branch("dev".into(), "b".into()));
        assert_eq!(
            cmd.as_str(),
            "GIT_SSH_COMMAND='ssh -o StrictHostKeyChecking=accept-new -o IdentitiesOnly=yes -i '\\''/k y'\\''' git clone --depth 1 --origin origin --branch dev -- file:///srv/r.git '/tmp/a b;$(x)'"
        );
    }

    #[test]
    fn a_full_clone_keeps_the_default_branch_and_then_checks_out_the_version() {
        let args = Args::new(json!({"repo": "/srv/r.git", "dest": "/d"}).as_object().unwrap().clone());
        let r = Request::from_args(&args).unwrap();
        let tag = clone_cmd(&r, &Wanted::Tag("v1.0".into(), "cccc3333".into()));
        assert!(!tag.as_str().contains("--branch"), "{}", tag.as_str());
        assert!(tag.as_str().ends_with("checkout -q --detach cccc3333"), "{}", tag.as_str());
        let branch = clone_cmd(&r, &Wanted::Branch("dev".into(), "b".into()));
        assert!(branch.as_str().ends_with("checkout -q -B dev origin/dev"), "{}", branch.as_str());
        let head = clone_cmd(&r, &Wanted::Head("a".into()));
        assert!(head.as_str().ends_with("-- file:///srv/r.git /d"), "{}", head.as_str());
    }
}
