//! `apt`: install, upgrade and remove Debian packages with apt-get.
//!
//! One probe (`date`, the cache's age, `dpkg-query` and `apt-cache policy` for all
//! named packages) gives the facts; the plan is the list of package specs to
//! install or remove; one `apt-get` transaction applies it. A cache update
//! (when due) runs first and is followed by a fresh probe. Without Python on the
//! target, the cache's age is the mtime of apt's success stamp or of its lists
//! directory, as in Ansible.

use std::collections::HashMap;

use crate::listarg::{choice, int, list};
use crate::shell::Cmd;
use crate::{Args, ExecOutput, FileDiff, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, Param};

/// The arguments of `apt`, typed as ansible.builtin.apt's docs.
pub const PARAMS: &[Param] = &[
    alias("name", &["package", "pkg"], false).list(),
    p("state").choices(&["absent", "build-dep", "latest", "present", "fixed"]).default("present"),
    alias("update_cache", &["update-cache"], false).bool(),
    p("cache_valid_time").int(),
    p("purge").bool(),
    p("autoremove").bool(),
    p("autoclean").bool(),
    alias("install_recommends", &["install-recommends"], false).bool(),
    p("deb").path(),
    p("upgrade").choices(&["dist", "full", "no", "safe", "yes"]).default("no"),
    alias("default_release", &["default-release"], false).str(),
    alias("allow_downgrade", &["allow-downgrade", "allow_downgrades", "allow-downgrades"], false).bool(),
    p("only_upgrade").bool(),
    p("dpkg_options").str(),
    p("lock_timeout").int(),
];

const MARK: &str = "@@stockman-apt@@";
const STAMP: &str = "/var/lib/apt/periodic/update-success-stamp";
const LISTS: &str = "/var/lib/apt/lists";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Present,
    Absent,
    Latest,
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    Safe,
    Dist,
}

/// `name` or `name=version` (a version may end in `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PkgSpec {
    name: String,
    version: Option<String>,
}

impl PkgSpec {
    fn parse(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            Some((_, v)) if v.contains('=') => Err(format!("invalid package spec: {text}")),
            Some((name, version)) => Ok(PkgSpec { name: name.into(), version: Some(version.into()) }),
            None => Ok(PkgSpec { name: text.into(), version: None }),
        }
    }

    /// The name without an `:arch` qualifier, as dpkg-query prints it.
    fn bare_name(&self) -> &str {
        self.name.split(':').next().unwrap_or(&self.name)
    }

    fn display(&self) -> String {
        match &self.version {
            Some(v) => format!("{}={v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Debian policy for package names (plus an optional `:arch`); anything else
/// cannot exist, and is refused before reaching apt.
fn valid_name(name: &str) -> bool {
    let (pkg, arch) = match name.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (name, None),
    };
    let pkg_ok = pkg.len() >= 2
        && pkg.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && pkg.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    let arch_ok = arch.is_none_or(|a| {
        !a.is_empty() && a.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    pkg_ok && arch_ok
}

#[derive(Debug, Clone)]
struct Request {
    packages: Vec<PkgSpec>,
    state: State,
    update_cache: bool,
    cache_valid_time: i64,
    purge: bool,
    autoremove: bool,
    autoclean: bool,
    install_recommends: Option<bool>,
    deb: Option<String>,
    upgrade: Option<Upgrade>,
    default_release: Option<String>,
    allow_downgrade: bool,
    only_upgrade: bool,
    dpkg_options: Vec<String>,
    lock_timeout: i64,
}

impl Request {
    fn from_args(args: &Args) -> Result<Result<Self, String>, ModuleError> {
        let state = match choice(args, "state", &["present", "installed", "absent", "removed", "latest", "fixed", "build-dep"])? {
            None | Some("present" | "installed") => State::Present,
            Some("absent" | "removed") => State::Absent,
            Some("latest") => State::Latest,
            Some("fixed") => State::Fixed,
            Some(_) => return Err(ModuleError::BadArgs("state=build-dep is not supported by stockman".into())),
        };
        let upgrade = match args.str("upgrade").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("no" | "false" | "off" | "0") => None,
            Some("yes" | "true" | "on" | "1" | "safe") => Some(Upgrade::Safe),
            Some("full" | "dist") => Some(Upgrade::Dist),
            Some(other) => {
                return Err(ModuleError::BadArgs(format!(
                    "value of upgrade must be one of: dist, full, no, safe, yes, got: {other}"
                )))
            }
        };
        let install_recommends = match args.get("install_recommends") {
            None => None,
            Some(_) => Some(args.bool("install_recommends", false)?),
        };
        let mut packages = Vec::new();
        for text in list(args, "name")? {
            match PkgSpec::parse(&text) {
                Ok(spec) => packages.push(spec),
                Err(msg) => return Ok(Err(msg)),
            }
        }
        let dpkg_options = match args.str("dpkg_options") {
            Some(text) => text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            None => vec!["force-confdef".to_string(), "force-confold".to_string()],
        };
        let request = Request {
            packages,
            state,
            update_cache: args.bool("update_cache", false)?,
            cache_valid_time: int(args, "cache_valid_time")?.unwrap_or(0),
            purge: args.bool("purge", false)?,
            autoremove: args.bool("autoremove", false)?,
            autoclean: args.bool("autoclean", false)?,
            install_recommends,
            deb: args.str("deb"),
            upgrade,
            default_release: args.str("default_release"),
            allow_downgrade: args.bool("allow_downgrade", false)?,
            only_upgrade: args.bool("only_upgrade", false)?,
            dpkg_options,
            lock_timeout: int(args, "lock_timeout")?.unwrap_or(60),
        };
        if request.deb.is_some() && state != State::Present {
            return Ok(Err("deb only supports state=present".into()));
        }
        Ok(Ok(request))
    }

    /// `apt-get` with the options every transaction shares.
    fn apt_get(&self) -> Cmd {
        let mut cmd = Cmd::new("apt-get")
            .flag("-y -q -o")
            .arg(format!("DPkg::Lock::Timeout={}", self.lock_timeout));
        for option in &self.dpkg_options {
            cmd = cmd.flag("-o").arg(format!("Dpkg::Options::=--{option}"));
        }
        if let Some(release) = &self.default_release {
            cmd = cmd.flag("-t").arg(release);
        }
        cmd = match self.install_recommends {
            Some(true) => cmd.flag("--install-recommends"),
            Some(false) => cmd.flag("--no-install-recommends"),
            None => cmd,
        };
        if self.allow_downgrade {
            cmd = cmd.flag("--allow-downgrades");
        }
        if self.autoremove {
            cmd = cmd.flag("--auto-remove");
        }
        cmd
    }
}

/// What dpkg knows about one package.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Installed {
    /// `db:Status-Abbrev`, e.g. `ii `, `rc `.
    status: String,
    version: String,
}

impl Installed {
    fn is_installed(&self) -> bool {
        !matches!(self.status.as_bytes().get(1), Some(b'n' | b'c') | None)
    }
    fn has_config_files(&self) -> bool {
        self.status.as_bytes().get(1) == Some(&b'c')
    }
}

/// What apt knows about one package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Policy {
    candidate: Option<String>,
    /// Every version apt can install, best first.
    versions: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Facts {
    now: i64,
    cache_time: i64,
    dpkg: HashMap<String, Installed>,
    policy: HashMap<String, Policy>,
}

impl Facts {
    fn installed(&self, name: &str) -> Option<&Installed> {
        self.dpkg.get(name).filter(|i| i.is_installed())
    }
}

/// `dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Version}\n'` lines.
fn parse_dpkg(text: &str) -> HashMap<String, Installed> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split('\t');
            let name = f.next()?.to_string();
            let status = f.next()?.to_string();
            let version = f.next()?.to_string();
            Some((name, Installed { status, version }))
        })
        .collect()
}

/// `apt-cache policy` blocks: `name:`, `  Candidate: V`, a version table.
fn parse_policy(text: &str) -> HashMap<String, Policy> {
    let mut out: HashMap<String, Policy> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') {
            current = line.strip_suffix(':').map(str::to_string);
            if let Some(name) = &current {
                out.entry(name.clone()).or_default();
            }
            continue;
        }
        let Some(policy) = current.as_ref().and_then(|n| out.get_mut(n)) else { continue };
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(candidate) = trimmed.strip_prefix("Candidate: ") {
            policy.candidate = Some(candidate.to_string()).filter(|c| c != "(none)");
        } else if let Some(rest) = trimmed.strip_prefix("*** ") {
            policy.versions.extend(rest.split_whitespace().next().map(str::to_string));
        } else if indent == 5 {
            policy.versions.extend(trimmed.split_whitespace().next().map(str::to_string));
        }
    }
    out
}

/// Splits the probe's output into its marked sections.
fn parse_facts(stdout: &str) -> Option<Facts> {
    let separator = format!("{MARK}\n");
    let mut sections = stdout.split(separator.as_str());
    let mut times = sections.next()?.split_whitespace();
    let now = times.next()?.parse().ok()?;
    let cache_time = times.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    let dpkg = parse_dpkg(sections.next()?);
    let policy = parse_policy(sections.next().unwrap_or(""));
    Some(Facts { now, cache_time, dpkg, policy })
}

/// When the probe runs: first, or just after a successful `apt-get update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeAfter {
    Start,
    CacheUpdate,
}

fn probe_cmd(request: &Request, names: &[&str], after: ProbeAfter) -> Cmd {
    let cache_time = Cmd::new("stat").flag("-c %Y").arg(STAMP).quiet().then("||", Cmd::new("stat").flag("-c %Y").arg(LISTS));
    let mut cmd = Cmd::new("date").flag("+%s").then(";", cache_time).then(";", Cmd::new("echo").arg(MARK));
    if after == ProbeAfter::CacheUpdate {
        cmd = record_update().then(";", cmd);
    }
    if !names.is_empty() {
        let dpkg = Cmd::new("dpkg-query")
            .flag("-W -f")
            .arg("${Package}\\t${db:Status-Abbrev}\\t${Version}\\n")
            .flag("--")
            .args(names)
            .quiet();
        cmd = cmd.then(";", dpkg).then(";", Cmd::new("echo").arg(MARK));
        if policy_always_needed(request) {
            cmd = cmd.then(";", policy_cmd(request, names));
        }
    }
    cmd
}

/// Touches apt's success stamp (the file Ubuntu's apt hook and apt's daily job
/// touch) so `cache_valid_time` counts from this update. On Debian an update
/// that fetched nothing new leaves the lists' mtime alone, and Ansible then
/// updates again on every run (ansible/ansible#27798).
fn record_update() -> Cmd {
    let dir = STAMP.rsplit_once('/').map_or(STAMP, |(dir, _)| dir);
    Cmd::new("mkdir").flag("-p").arg(dir).quiet().then("&&", Cmd::new("touch").arg(STAMP).quiet())
}

fn policy_cmd(request: &Request, names: &[&str]) -> Cmd {
    let mut policy = Cmd::new("apt-cache");
    if let Some(release) = &request.default_release {
        policy = policy.flag("-o").arg(format!("APT::Default-Release={release}"));
    }
    policy.flag("policy --").args(names).quiet()
}

/// `latest` and `fixed` compare with the candidate whatever is installed.
fn policy_always_needed(request: &Request) -> bool {
    matches!(request.state, State::Latest | State::Fixed)
}

/// Whether the plan needs apt's candidates: `apt-cache policy` loads the whole
/// cache, the costliest part of a no-op run, so it is asked only when some
/// package is missing or doesn't match its pin.
fn policy_needed(request: &Request, facts: &Facts) -> bool {
    request.state != State::Absent
        && request.packages.iter().filter(|p| valid_name(&p.name)).any(|pkg| match facts.installed(pkg.bare_name()) {
            None => true,
            Some(installed) => pkg.version.as_deref().is_some_and(|pin| !version_matches(pin, &installed.version)),
        })
}

async fn probe<T: Target>(target: &T, request: &Request, names: &[&str], after: ProbeAfter) -> Result<Result<Facts, String>, ModuleError> {
    let out = target.exec(probe_cmd(request, names, after).as_str(), None).await?;
    let Some(mut facts) = parse_facts(&out.stdout_str()) else {
        return Ok(Err(format!("could not read the package state on the host: {}", out.stderr_str().trim())));
    };
    if !names.is_empty() && !policy_always_needed(request) && policy_needed(request, &facts) {
        let out = target.exec(policy_cmd(request, names).as_str(), None).await?;
        facts.policy = parse_policy(&out.stdout_str());
    }
    Ok(Ok(facts))
}

/// One package change, for the plan and the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    name: String,
    /// What apt-get is given (`name` or `name=version`).
    spec: String,
    before: Option<String>,
    after: Option<String>,
}

/// What to install (present/latest/fixed) or remove (absent); errors name the package.
fn plan(request: &Request, facts: &Facts) -> Result<Vec<Change>, String> {
    let mut changes = Vec::new();
    for pkg in &request.packages {
        if !valid_name(&pkg.name) {
            return Err(format!("No package matching '{}' is available", pkg.name));
        }
        let installed = facts.installed(pkg.bare_name());
        let before = installed.map(|i| i.version.clone());
        if request.state == State::Absent {
            let config_left = facts.dpkg.get(pkg.bare_name()).is_some_and(Installed::has_config_files);
            if installed.is_some() || (request.purge && config_left) {
                changes.push(Change { name: pkg.name.clone(), spec: pkg.name.clone(), before, after: None });
            }
            continue;
        }
        if let Some(change) = install_change(request, facts, pkg, before)? {
            changes.push(change);
        }
    }
    Ok(changes)
}

fn install_change(request: &Request, facts: &Facts, pkg: &PkgSpec, before: Option<String>) -> Result<Option<Change>, String> {
    let policy = facts.policy.get(&pkg.name).or_else(|| facts.policy.get(pkg.bare_name()));
    let Some(policy) = policy.filter(|p| p.candidate.is_some() || !p.versions.is_empty()) else {
        if before.is_some() {
            return Ok(None);
        }
        return Err(format!("No package matching '{}' is available", pkg.name));
    };
    if before.is_none() && request.only_upgrade {
        return Ok(None);
    }
    let wanted = match &pkg.version {
        Some(pin) => {
            if before.as_deref().is_some_and(|v| version_matches(pin, v)) {
                return Ok(None);
            }
            policy
                .versions
                .iter()
                .find(|v| version_matches(pin, v))
                .cloned()
                .ok_or_else(|| format!("no available installation candidate for {}", pkg.display()))?
        }
        None => {
            let candidate = policy
                .candidate
                .clone()
                .ok_or_else(|| format!("no available installation candidate for {}", pkg.name))?;
            let latest = matches!(request.state, State::Latest);
            match &before {
                Some(v) if !latest || *v == candidate => return Ok(None),
                _ => candidate,
            }
        }
    };
    let spec = match &pkg.version {
        Some(_) => format!("{}={wanted}", pkg.name),
        None => pkg.name.clone(),
    };
    Ok(Some(Change { name: pkg.name.clone(), spec, before, after: Some(wanted) }))
}

/// An exact version, or a prefix ending in `*`.
fn version_matches(pin: &str, version: &str) -> bool {
    match pin.strip_suffix('*') {
        Some(prefix) => version.starts_with(prefix),
        None => pin == version,
    }
}

fn package_diff(changes: &[Change]) -> FileDiff {
    let render = |pick: fn(&Change) -> &Option<String>| {
        changes
            .iter()
            .map(|c| format!("{}: {}\n", c.name, pick(c).as_deref().unwrap_or("(not installed)")))
            .collect::<String>()
    };
    FileDiff {
        before_header: "packages".into(),
        after_header: "packages".into(),
        before: render(|c| &c.before),
        after: render(|c| &c.after),
    }
}

/// The outcome of the cache step.
#[derive(Debug, Clone, Copy)]
struct CacheStep {
    updated: bool,
    time: i64,
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let request = match Request::from_args(args)? {
        Ok(r) => r,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    if let Some(refused) = refused_release(target, &request).await? {
        return Ok(refused);
    }
    let names: Vec<&str> = request.packages.iter().filter(|p| valid_name(&p.name)).map(|p| p.name.as_str()).collect();
    let mut facts = match probe(target, &request, &names, ProbeAfter::Start).await? {
        Ok(f) => f,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let mut cache = CacheStep { updated: false, time: facts.cache_time };
    if cache_due(&request, &facts) {
        if !mode.check {
            let out = target.exec(request.apt_get().flag("update").as_str(), None).await?;
            if out.rc != 0 {
                return Ok(apt_failure("Failed to update apt cache", &out));
            }
            facts = match probe(target, &request, &names, ProbeAfter::CacheUpdate).await? {
                Ok(f) => f,
                Err(msg) => return Ok(ModuleResult::failed(msg)),
            };
        }
        // It ran (or would run): the stamp says so even when no index changed.
        cache = CacheStep { updated: true, time: facts.cache_time };
        if request.packages.is_empty() && request.upgrade.is_none() && request.deb.is_none() {
            return Ok(cache_fields(ModuleResult::changed(cache.updated), cache));
        }
    }
    let result = if let Some(kind) = request.upgrade {
        upgrade(target, &request, kind, mode).await?
    } else if let Some(deb) = &request.deb {
        install_deb(target, &request, deb, mode).await?
    } else if request.packages.is_empty() {
        cleanup(target, &request, mode).await?
    } else {
        packages(target, &request, &facts, mode).await?
    };
    Ok(cache_fields(result, cache))
}

/// Whether to update the cache: `update_cache` alone always does (the stamp
/// of an update earlier in the same second must not count as fresh); with
/// `cache_valid_time`, only a cache older than that.
fn cache_due(request: &Request, facts: &Facts) -> bool {
    match request.cache_valid_time {
        0 => request.update_cache,
        valid => facts.cache_time + valid < facts.now,
    }
}

/// A `default_release` no source carries makes apt refuse its cache: Ansible
/// fails the task then, whatever it would do, and so does stockman.
async fn refused_release<T: Target>(target: &T, request: &Request) -> Result<Option<ModuleResult>, ModuleError> {
    let Some(release) = &request.default_release else { return Ok(None) };
    let check = Cmd::new("apt-cache").flag("-o").arg(format!("APT::Default-Release={release}")).flag("policy");
    let out = target.exec(check.as_str(), None).await?;
    if out.rc == 0 {
        return Ok(None);
    }
    let what = format!("default_release `{release}` is refused by apt (name a release your sources carry, see `apt-cache policy`)");
    Ok(Some(apt_failure(&what, &ExecOutput { stdout: Vec::new(), ..out })))
}

fn cache_fields(result: ModuleResult, cache: CacheStep) -> ModuleResult {
    result.with("cache_updated", cache.updated).with("cache_update_time", cache.time)
}

fn apt_failure(what: &str, out: &ExecOutput) -> ModuleResult {
    let stderr = out.stderr_str();
    let reason = stderr.lines().filter(|l| l.starts_with("E:")).collect::<Vec<_>>().join("; ");
    let reason = if reason.is_empty() { stderr.trim().to_string() } else { reason };
    ModuleResult::failed(format!("{what}: {reason}"))
        .with("rc", out.rc)
        .with("stdout", out.stdout_str())
        .with("stderr", stderr)
}

async fn packages<T: Target>(target: &T, request: &Request, facts: &Facts, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let changes = match plan(request, facts) {
        Ok(c) => c,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    if changes.is_empty() && request.state != State::Fixed {
        return Ok(ModuleResult::ok());
    }
    let diff = if mode.diff && !changes.is_empty() { vec![package_diff(&changes)] } else { Vec::new() };
    if mode.check {
        let mut result = ModuleResult::changed(!changes.is_empty());
        result.diff = diff;
        return Ok(result);
    }
    let specs = changes.iter().map(|c| c.spec.as_str());
    let cmd = match request.state {
        State::Absent if request.purge => request.apt_get().flag("--purge remove --").args(specs),
        State::Absent => request.apt_get().flag("remove --").args(specs),
        State::Fixed => request.apt_get().flag("--fix-broken install --").args(specs),
        _ => request.apt_get().flag("install --").args(specs),
    };
    let out = target.exec(cmd.env("DEBIAN_FRONTEND", "noninteractive").as_str(), None).await?;
    let names: Vec<&str> = changes.iter().map(|c| c.spec.as_str()).collect();
    if out.rc != 0 {
        let verb = if request.state == State::Absent { "remove" } else { "install" };
        return Ok(apt_failure(&format!("apt-get could not {verb} {}", names.join(", ")), &out));
    }
    let stdout = out.stdout_str();
    let changed = !changes.is_empty() || !summary_is_empty(&stdout);
    let mut result = ModuleResult::changed(changed).with("stdout", stdout).with("stderr", out.stderr_str());
    result.diff = diff;
    Ok(result)
}

/// Whether apt-get's `N upgraded, N newly installed, N to remove` line says nothing happened.
fn summary_is_empty(stdout: &str) -> bool {
    stdout
        .lines()
        .find(|l| l.contains(" upgraded, ") && l.contains(" newly installed, "))
        .is_none_or(|line| line.starts_with("0 upgraded, 0 newly installed, 0 to remove"))
}

async fn upgrade<T: Target>(target: &T, request: &Request, kind: Upgrade, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let mut cmd = request.apt_get();
    if mode.check {
        cmd = cmd.flag("-s");
    }
    cmd = match kind {
        Upgrade::Safe => cmd.flag("upgrade --with-new-pkgs"),
        Upgrade::Dist => cmd.flag("dist-upgrade"),
    };
    let out = target.exec(cmd.env("DEBIAN_FRONTEND", "noninteractive").as_str(), None).await?;
    if out.rc != 0 {
        return Ok(apt_failure("apt-get upgrade failed", &out));
    }
    let stdout = out.stdout_str();
    let changed = !summary_is_empty(&stdout);
    let msg = if changed { "upgraded packages" } else { "Nothing to upgrade" };
    let mut result = ModuleResult::changed(changed).with("stdout", stdout).with("stderr", out.stderr_str());
    result.msg = Some(msg.into());
    Ok(result)
}

/// `autoremove`/`autoclean` without package names.
async fn cleanup<T: Target>(target: &T, request: &Request, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let mut result = ModuleResult::ok();
    let mut ops = Vec::new();
    if request.autoclean {
        ops.push(("autoclean", "Del "));
    }
    if request.autoremove {
        ops.push(("autoremove", if mode.check { "Remv " } else { "Removing " }));
    }
    for (op, marker) in ops {
        let mut cmd = Request { autoremove: false, ..request.clone() }.apt_get();
        if request.purge {
            cmd = cmd.flag("--purge");
        }
        if mode.check {
            cmd = cmd.flag("-s");
        }
        let cmd = match op {
            "autoclean" => cmd.flag("autoclean"),
            _ => cmd.flag("autoremove"),
        };
        let out = target.exec(cmd.env("DEBIAN_FRONTEND", "noninteractive").as_str(), None).await?;
        if out.rc != 0 {
            return Ok(apt_failure(&format!("apt-get {op} failed"), &out));
        }
        let stdout = out.stdout_str();
        result.changed |= stdout.lines().any(|l| l.starts_with(marker));
        result = result.with("stdout", stdout).with("stderr", out.stderr_str());
    }
    Ok(result)
}

/// Downloads `$1` into a new temp dir with whatever the host has (curl,
/// wget, or apt's own apt-helper, present wherever apt is); prints the file.
const DOWNLOAD_SCRIPT: &str = r#"url=$1
d=$(mktemp -d) || exit 1
f="$d/package.deb"
if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$f" "$url"
elif command -v wget >/dev/null 2>&1; then wget -q -O "$f" "$url"
elif [ -x /usr/lib/apt/apt-helper ]; then /usr/lib/apt/apt-helper download-file "$url" "$f" >/dev/null
else echo "no downloader on the host (curl, wget or /usr/lib/apt/apt-helper): install one, or copy the .deb to the host and give its path" >&2; false; fi || { rm -rf -- "$d"; exit 1; }
printf '%s' "$f""#;

/// `deb:` a URL: downloaded on the host, installed, then removed.
async fn install_deb_url<T: Target>(target: &T, request: &Request, url: &str, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let download = Cmd::new("/bin/sh").flag("-c").arg(DOWNLOAD_SCRIPT).arg("sh").arg(url);
    let out = target.exec(download.as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("could not download `{url}` on the host: {}", out.stderr_str().trim())));
    }
    let file = out.stdout_str();
    let result = install_deb(target, request, &file, mode).await;
    let dir = crate::remote_file::parent_dir(&file);
    target.exec(Cmd::new("rm").flag("-rf --").arg(&dir).as_str(), None).await?;
    result
}

/// `deb:` a package file on the host (or a URL): installed unless that exact version is.
async fn install_deb<T: Target>(target: &T, request: &Request, deb: &str, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    if deb.contains("://") {
        return Box::pin(install_deb_url(target, request, deb, mode)).await;
    }
    // apt-get treats an argument as a file only when it contains a slash.
    let path = if deb.contains('/') { deb.to_string() } else { format!("./{deb}") };
    let fields = Cmd::new("dpkg-deb").flag("-f").arg(&path).flag("Package Version");
    let out = target.exec(fields.as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("cannot read the package file `{deb}`: {}", out.stderr_str().trim())));
    }
    let text = out.stdout_str();
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string());
    let (Some(name), Some(version)) = (field("Package:"), field("Version:")) else {
        return Ok(ModuleResult::failed(format!("`{deb}` is not a Debian package (no Package/Version fields)")));
    };
    let query = Cmd::new("dpkg-query").flag("-W -f").arg("${db:Status-Abbrev}\\t${Version}").flag("--").arg(&name).quiet();
    let out = target.exec(query.as_str(), None).await?;
    let status = out.stdout_str();
    let mut f = status.split('\t');
    let installed = Installed { status: f.next().unwrap_or("").into(), version: f.next().unwrap_or("").into() };
    if installed.is_installed() && installed.version == version {
        return Ok(ModuleResult::ok());
    }
    let change = Change {
        name: name.clone(),
        spec: path.clone(),
        before: installed.is_installed().then(|| installed.version.clone()),
        after: Some(version),
    };
    let diff = if mode.diff { vec![package_diff(std::slice::from_ref(&change))] } else { Vec::new() };
    if mode.check {
        let mut result = ModuleResult::changed(true);
        result.diff = diff;
        return Ok(result);
    }
    let cmd = request.apt_get().flag("install --").arg(&path).env("DEBIAN_FRONTEND", "noninteractive");
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        return Ok(apt_failure(&format!("apt-get could not install `{deb}`"), &out));
    }
    let mut result = ModuleResult::changed(true).with("stdout", out.stdout_str()).with("stderr", out.stderr_str());
    result.diff = diff;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POLICY: &str = "hello:\n  Installed: (none)\n  Candidate: 2.10-3\n  Version table:\n     2.10-3 500\n        500 file:/srv/repo ./ Packages\n     2.10-2 100\n        100 file:/srv/old ./ Packages\ngit:\n  Installed: 1:2.39.5-0+deb12u3\n  Candidate: 1:2.39.5-0+deb12u3\n  Version table:\n *** 1:2.39.5-0+deb12u3 100\n        100 /var/lib/dpkg/status\n";

    fn request(v: serde_json::Value) -> Request {
        Request::from_args(&Args::new(v.as_object().unwrap().clone())).unwrap().unwrap()
    }

    fn facts() -> Facts {
        let dpkg = "git\tii \t1:2.39.5-0+deb12u3\ntree\trc \t2.1.0-1\n";
        Facts { now: 0, cache_time: 0, dpkg: parse_dpkg(dpkg), policy: parse_policy(POLICY) }
    }

    #[test]
    fn policy_blocks_give_candidate_and_versions() {
        let p = parse_policy(POLICY);
        assert_eq!(p["hello"].candidate.as_deref(), Some("2.10-3"));
        assert_eq!(p["hello"].versions, ["2.10-3", "2.10-2"]);
        assert_eq!(p["git"].versions, ["1:2.39.5-0+deb12u3"]);
        assert!(!p.contains_key("nosuch"));
    }

    #[test]
    fn probe_sections_parse() {
        let out = format!("1700000000\n1690000000\n{MARK}\ngit\tii \t1:2.39\n{MARK}\n{POLICY}");
        let f = parse_facts(&out).unwrap();
        assert_eq!((f.now, f.cache_time), (1_700_000_000, 1_690_000_000));
        assert!(f.installed("git").is_some());
        assert!(f.policy.contains_key("hello"));
    }

    #[test]
    fn present_installs_only_missing_and_unknown_fails_by_name() {
        let changes = plan(&request(json!({"name": ["git", "hello"]})), &facts()).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].spec, "hello");
        assert_eq!(plan(&request(json!({"name": "hello,nosuch"})), &facts()).unwrap_err(), "No package matching 'nosuch' is available");
        assert_eq!(plan(&request(json!({"name": "x;$(reboot)"})), &facts()).unwrap_err(), "No package matching 'x;$(reboot)' is available");
    }

    #[test]
    fn pins_resolve_wildcards_and_missing_versions_fail() {
        let c = plan(&request(json!({"name": "hello=2.10-2"})), &facts()).unwrap();
        assert_eq!(c[0].spec, "hello=2.10-2");
        let c = plan(&request(json!({"name": "hello=2.10*"})), &facts()).unwrap();
        assert_eq!(c[0].spec, "hello=2.10-3");
        assert!(plan(&request(json!({"name": "hello=9"})), &facts()).unwrap_err().contains("hello=9"));
        assert!(plan(&request(json!({"name": "git=1:2.39*"})), &facts()).unwrap().is_empty());
        assert!(Request::from_args(&Args::new(json!({"name": "a=1=2"}).as_object().unwrap().clone())).unwrap().is_err());
    }

    #[test]
    fn candidates_are_asked_only_for_missing_or_mispinned_packages() {
        let f = facts();
        assert!(!policy_needed(&request(json!({"name": "git"})), &f));
        assert!(!policy_needed(&request(json!({"name": "git=1:2.39*"})), &f));
        assert!(policy_needed(&request(json!({"name": "git=1:2.40*"})), &f));
        assert!(policy_needed(&request(json!({"name": ["git", "tree"]})), &f), "tree has only config files left");
        assert!(!policy_needed(&request(json!({"name": ["git", "hello"], "state": "absent"})), &f));
        assert!(policy_always_needed(&request(json!({"name": "git", "state": "latest"}))));
    }

    #[test]
    fn update_cache_alone_always_updates_and_cache_valid_time_waits() {
        let fresh = Facts { now: 100, cache_time: 100, ..facts() };
        assert!(cache_due(&request(json!({"name": "git", "update_cache": true})), &fresh));
        assert!(!cache_due(&request(json!({"name": "git"})), &fresh));
        assert!(!cache_due(&request(json!({"name": "git", "update_cache": true, "cache_valid_time": 60})), &fresh));
        let old = Facts { now: 1000, cache_time: 100, ..facts() };
        assert!(cache_due(&request(json!({"name": "git", "cache_valid_time": 60})), &old));
    }

    #[test]
    fn the_probe_after_an_update_records_it_first() {
        let r = request(json!({"name": "git"}));
        let after = probe_cmd(&r, &["git"], ProbeAfter::CacheUpdate).into_string();
        assert!(after.starts_with("mkdir -p /var/lib/apt/periodic 2>/dev/null && touch /var/lib/apt/periodic/update-success-stamp"), "{after}");
        let start = probe_cmd(&r, &["git"], ProbeAfter::Start).into_string();
        assert!(!start.contains("touch") && !start.contains("apt-cache"), "{start}");
    }

    #[test]
    fn absent_removes_installed_and_purges_config_files() {
        let r = request(json!({"name": ["git", "tree", "hello"], "state": "absent"}));
        assert_eq!(plan(&r, &facts()).unwrap().len(), 1);
        let r = request(json!({"name": ["git", "tree", "hello"], "state": "absent", "purge": true}));
        let names: Vec<_> = plan(&r, &facts()).unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["git", "tree"]);
    }

    #[test]
    fn commands_quote_values_and_set_options() {
        let r = request(json!({"name": "hello", "default_release": "a b", "install_recommends": false, "dpkg_options": "force-confnew"}));
        let cmd = r.apt_get().flag("install --").arg("hello").env("DEBIAN_FRONTEND", "noninteractive");
        assert_eq!(
            cmd.as_str(),
            "DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=60 -o Dpkg::Options::=--force-confnew -t 'a b' --no-install-recommends install -- hello"
        );
    }

    #[test]
    fn summary_line_decides_change() {
        assert!(summary_is_empty("Calculating upgrade...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"));
        assert!(!summary_is_empty("1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"));
    }

    #[test]
    fn names_follow_debian_policy() {
        assert!(valid_name("libc6:amd64") && valid_name("g++") && valid_name("nginx-common"));
        assert!(!valid_name("Hello") && !valid_name("-x") && !valid_name("a b") && !valid_name("x"));
    }
}
