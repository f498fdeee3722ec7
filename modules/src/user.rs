//! `user`: a local account present with the wanted attributes, or absent.
//!
//! One probe (`getent passwd`, `getent shadow`, `getent group`), one `useradd`/`usermod`/`userdel`, and after a change one more
//! probe for the values returned. Password hashes are compared, never shown.

use std::collections::BTreeSet;

use crate::group::{parse_group_lines, GroupEntry};
use crate::listarg::{choice, int, list};
use crate::shell::Cmd;
use crate::user_ssh_key::{self, KeyRequest};
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, Param};

/// The arguments of `user`, typed as ansible.builtin.user's docs.
pub const PARAMS: &[Param] = &[
    alias("name", &["user"], true).str(),
    p("state").choices(&["absent", "present"]).default("present"),
    p("uid").int(),
    p("group").str(),
    p("groups").list(),
    p("append").bool(),
    p("shell").path(),
    alias("home", &[], false).path(),
    alias("create_home", &["createhome"], false).bool(),
    p("move_home").bool(),
    p("system").bool(),
    p("comment").str(),
    p("password").str().no_log(),
    p("update_password").choices(&["always", "on_create"]).default("always"),
    p("password_lock").bool(),
    p("remove").bool(),
    p("force").bool(),
    p("expires").float(),
    p("non_unique").bool(),
    p("generate_ssh_key").bool(),
    p("ssh_key_bits").int(),
    p("ssh_key_type").str(),
    p("ssh_key_file").path(),
    p("ssh_key_comment").str(),
    p("ssh_key_passphrase").str().no_log(),
];

const MARK: &str = "@@stockman-user@@";

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwd {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub comment: String,
    pub home: String,
    pub shell: String,
}

pub fn parse_passwd(line: &str) -> Option<Passwd> {
    let f: Vec<&str> = line.trim_end_matches('\n').split(':').collect();
    let [name, _, uid, gid, comment, home, shell] = f.as_slice() else { return None };
    Some(Passwd {
        name: name.to_string(),
        uid: uid.parse().ok()?,
        gid: gid.parse().ok()?,
        comment: comment.to_string(),
        home: home.to_string(),
        shell: shell.to_string(),
    })
}

/// The shadow fields we compare: the hash and the expiry day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Shadow {
    hash: String,
    /// Days since the epoch; None when unset.
    expire: Option<i64>,
}

fn parse_shadow(line: &str) -> Option<Shadow> {
    let f: Vec<&str> = line.trim_end().split(':').collect();
    (f.len() >= 8).then(|| Shadow { hash: f[1].to_string(), expire: f[7].parse().ok() })
}

#[derive(Debug, Clone, Default)]
struct Found {
    passwd: Option<Passwd>,
    shadow: Option<Shadow>,
    /// Groups that list the user as a member (its supplementary groups).
    member_of: BTreeSet<String>,
    /// Every group on the host (`getent group`).
    groups: Vec<GroupEntry>,
    /// Whether the home directory (the wanted one, else the current one) exists.
    home_exists: bool,
}

impl Found {
    fn group(&self, name_or_gid: &str) -> Option<&GroupEntry> {
        self.groups.iter().find(|g| g.name == name_or_gid || g.gid.to_string() == name_or_gid)
    }
}

#[derive(Debug, Clone)]
struct Request {
    name: String,
    present: bool,
    uid: Option<i64>,
    group: Option<String>,
    /// None: leave supplementary groups alone.
    groups: Option<Vec<String>>,
    append: bool,
    shell: Option<String>,
    home: Option<String>,
    create_home: bool,
    move_home: bool,
    system: bool,
    comment: Option<String>,
    password: Option<String>,
    update_always: bool,
    password_lock: Option<bool>,
    remove: bool,
    force: bool,
    /// Days since the epoch; Some(None) clears the expiry (a negative `expires`).
    expires: Option<Option<i64>>,
    non_unique: bool,
}

impl Request {
    fn from_args(args: &Args) -> Result<Self, ModuleError> {
        let expires = match args.str("expires") {
            None => None,
            Some(text) => {
                let secs: f64 = text.trim().parse().map_err(|_| {
                    ModuleError::BadArgs(format!("argument 'expires' must be a number of seconds since the epoch, got: {text}"))
                })?;
                Some((secs >= 0.0).then(|| (secs / 86400.0).floor() as i64))
            }
        };
        Ok(Request {
            name: args.required_str("name")?,
            present: choice(args, "state", &["present", "absent"])? != Some("absent"),
            uid: int(args, "uid")?,
            group: args.str("group"),
            groups: args.get("groups").map(|_| list(args, "groups")).transpose()?,
            append: args.bool("append", false)?,
            shell: args.str("shell"),
            home: args.str("home"),
            create_home: args.bool("create_home", true)?,
            move_home: args.bool("move_home", false)?,
            system: args.bool("system", false)?,
            comment: args.str("comment"),
            password: args.str("password"),
            update_always: choice(args, "update_password", &["always", "on_create"])? != Some("on_create"),
            password_lock: args.get("password_lock").map(|_| args.bool("password_lock", false)).transpose()?,
            remove: args.bool("remove", false)?,
            force: args.bool("force", false)?,
            expires,
            non_unique: args.bool("non_unique", false)?,
        })
    }

    fn wanted_groups(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.group.iter().map(String::as_str).collect();
        names.extend(self.groups.iter().flatten().map(String::as_str));
        names
    }
}

/// Prints `home` when the directory exists: `$2`, or else the account's home.
const HOME_SCRIPT: &str = r#"h=$2; [ -n "$h" ] || h=$(getent passwd -- "$1" | cut -d: -f6); [ -n "$h" ] && [ -e "$h" ] && echo home"#;

fn probe_cmd(request: &Request) -> Cmd {
    let mark = || Cmd::new("echo").arg(MARK);
    let home = Cmd::new("/bin/sh").flag("-c").arg(HOME_SCRIPT).arg("sh").arg(&request.name).arg(request.home.as_deref().unwrap_or(""));
    Cmd::new("getent")
        .flag("passwd --")
        .arg(&request.name)
        .then(";", mark())
        .then(";", Cmd::new("getent").flag("shadow --").arg(&request.name))
        .then(";", mark())
        .then(";", Cmd::new("getent").flag("group"))
        .then(";", mark())
        .then(";", home)
}

fn parse_found(stdout: &str, name: &str) -> Found {
    let mut sections = stdout.split(&format!("{MARK}\n")).map(str::to_string).collect::<Vec<_>>().into_iter();
    let passwd = sections.next().and_then(|s| s.lines().filter_map(parse_passwd).find(|p| p.name == name));
    let shadow = sections.next().and_then(|s| s.lines().find_map(parse_shadow));
    let groups = sections.next().map(|s| parse_group_lines(&s)).unwrap_or_default();
    let member_of = groups.iter().filter(|g| g.members.iter().any(|m| m == name)).map(|g| g.name.clone()).collect();
    let home_exists = sections.next().is_some_and(|s| s.trim() == "home");
    Found { passwd, shadow, member_of, groups, home_exists }
}

async fn probe<T: Target>(target: &T, request: &Request) -> Result<Found, ModuleError> {
    let out = target.exec(probe_cmd(request).as_str(), None).await?;
    Ok(parse_found(&out.stdout_str(), &request.name))
}

/// `YYYY-MM-DD` for a day count since 1970-01-01 (what useradd -e takes).
fn date_of_day(days: i64) -> String {
    let (y, m, d) = crate::clock::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// One attribute that differs, for the command and the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    field: &'static str,
    before: String,
    after: String,
}

/// The command to run (None: in state) and what it changes; Err: a task failure.
/// In check mode an account still to be created is not held to its groups
/// existing, as in Ansible's module (it reports "would create" before looking at
/// them): a role that creates the group in the task before still passes --check.
fn plan(request: &Request, found: &Found, check: bool) -> Result<Option<(Cmd, Vec<Change>)>, String> {
    let creating = request.present && found.passwd.is_none();
    if !(check && creating) {
        if let Some(g) = request.wanted_groups().into_iter().find(|g| found.group(g).is_none()) {
            return Err(format!("Group {g} does not exist"));
        }
    }
    match (&found.passwd, request.present) {
        (None, false) => Ok(None),
        (Some(p), false) => {
            let mut cmd = Cmd::new("userdel");
            if request.remove {
                cmd = cmd.flag("-r");
            }
            if request.force {
                cmd = cmd.flag("-f");
            }
            let change = Change { field: "state", before: format!("present (uid {})", p.uid), after: "absent".into() };
            Ok(Some((cmd.flag("--").arg(&request.name), vec![change])))
        }
        (None, true) => Ok(Some(useradd(request))),
        (Some(p), true) => Ok(usermod(request, p, found)),
    }
}

fn useradd(request: &Request) -> (Cmd, Vec<Change>) {
    let mut cmd = Cmd::new("useradd");
    let mut changes = vec![Change { field: "state", before: "absent".into(), after: "present".into() }];
    let mut set = |cmd: Cmd, field: &'static str, flag: &'static str, value: &str, shown: &str| {
        changes.push(Change { field, before: String::new(), after: shown.to_string() });
        cmd.flag(flag).arg(value)
    };
    if let Some(uid) = request.uid {
        cmd = set(cmd, "uid", "-u", &uid.to_string(), &uid.to_string());
        if request.non_unique {
            cmd = cmd.flag("-o");
        }
    }
    if let Some(g) = &request.group {
        cmd = set(cmd, "group", "-g", g, g);
    }
    if let Some(groups) = request.groups.as_ref().filter(|g| !g.is_empty()) {
        let joined = groups.join(",");
        cmd = set(cmd, "groups", "-G", &joined, &joined);
    }
    if let Some(shell) = &request.shell {
        cmd = set(cmd, "shell", "-s", shell, shell);
    }
    if let Some(home) = &request.home {
        cmd = set(cmd, "home", "-d", home, home);
    }
    if let Some(comment) = &request.comment {
        cmd = set(cmd, "comment", "-c", comment, comment);
    }
    if let Some(password) = locked_password(request, request.password.as_deref()) {
        cmd = set(cmd, "password", "-p", &password, "(set)");
    }
    if let Some(expire) = request.expires.flatten() {
        cmd = set(cmd, "expires", "-e", &date_of_day(expire), &date_of_day(expire));
    }
    cmd = if request.create_home { cmd.flag("-m") } else { cmd.flag("-M") };
    if request.system {
        cmd = cmd.flag("-r");
    }
    (cmd.flag("--").arg(&request.name), changes)
}

/// The hash to store: with `password_lock`, prefixed by `!` (usermod cannot
/// combine -p and -L).
fn locked_password(request: &Request, hash: Option<&str>) -> Option<String> {
    let hash = hash?;
    Some(match request.password_lock {
        Some(true) if !hash.starts_with('!') => format!("!{hash}"),
        _ => hash.to_string(),
    })
}

fn usermod(request: &Request, p: &Passwd, found: &Found) -> Option<(Cmd, Vec<Change>)> {
    let mut cmd = Cmd::new("usermod");
    let mut changes = Vec::new();
    let mut set = |cmd: Cmd, field: &'static str, flag: &'static str, before: String, after: &str| {
        changes.push(Change { field, before, after: after.to_string() });
        cmd.flag(flag).arg(after)
    };
    if let Some(uid) = request.uid.filter(|u| *u != i64::from(p.uid)) {
        cmd = set(cmd, "uid", "-u", p.uid.to_string(), &uid.to_string());
        if request.non_unique {
            cmd = cmd.flag("-o");
        }
    }
    if let Some(g) = request.group.as_deref().and_then(|g| found.group(g)).filter(|g| g.gid != p.gid) {
        cmd = set(cmd, "group", "-g", p.gid.to_string(), &g.name);
    }
    if let Some(wanted) = &request.groups {
        let wanted: BTreeSet<String> = wanted.iter().map(|g| found.group(g).map_or(g.clone(), |e| e.name.clone())).collect();
        let primary = found.group(&p.gid.to_string()).map(|g| g.name.clone());
        let current: BTreeSet<String> = found.member_of.iter().filter(|g| Some(*g) != primary.as_ref()).cloned().collect();
        let missing = !wanted.is_subset(&current);
        let extra = !request.append && !current.is_subset(&wanted);
        if missing || extra {
            let joined = wanted.iter().cloned().collect::<Vec<_>>().join(",");
            let before = current.iter().cloned().collect::<Vec<_>>().join(",");
            if request.append {
                cmd = cmd.flag("-a");
            }
            cmd = set(cmd, "groups", "-G", before, &joined);
        }
    }
    if let Some(shell) = request.shell.as_deref().filter(|s| *s != p.shell) {
        cmd = set(cmd, "shell", "-s", p.shell.clone(), shell);
    }
    if let Some(home) = request.home.as_deref().filter(|h| *h != p.home) {
        if request.move_home {
            cmd = cmd.flag("-m");
        }
        cmd = set(cmd, "home", "-d", p.home.clone(), home);
    }
    if let Some(comment) = request.comment.as_deref().filter(|c| *c != p.comment) {
        cmd = set(cmd, "comment", "-c", p.comment.clone(), comment);
    }
    let shadow = found.shadow.clone().unwrap_or_default();
    let new_hash = request.password.as_deref().filter(|_| request.update_always);
    let wanted_hash = locked_password(request, new_hash);
    let lock_only = request.password_lock.filter(|_| wanted_hash.is_none());
    if let Some(hash) = wanted_hash.filter(|h| *h != shadow.hash) {
        changes.push(Change { field: "password", before: "(set)".into(), after: "(changed)".into() });
        cmd = cmd.flag("-p").arg(hash);
    } else if lock_only == Some(true) && !shadow.hash.starts_with('!') {
        changes.push(Change { field: "password_lock", before: "false".into(), after: "true".into() });
        cmd = cmd.flag("-L");
    } else if lock_only == Some(false) && shadow.hash.starts_with('!') {
        changes.push(Change { field: "password_lock", before: "true".into(), after: "false".into() });
        cmd = cmd.flag("-U");
    }
    match request.expires {
        Some(Some(day)) if shadow.expire != Some(day) => {
            let before = shadow.expire.map(date_of_day).unwrap_or_default();
            changes.push(Change { field: "expires", before, after: date_of_day(day) });
            cmd = cmd.flag("-e").arg(date_of_day(day));
        }
        Some(None) if shadow.expire.is_some() => {
            changes.push(Change { field: "expires", before: shadow.expire.map(date_of_day).unwrap_or_default(), after: String::new() });
            cmd = cmd.flag("-e").arg("");
        }
        _ => {}
    }
    (!changes.is_empty()).then(|| (cmd.flag("--").arg(&request.name), changes))
}

fn diff(request: &Request, changes: &[Change]) -> FileDiff {
    let render = |pick: fn(&Change) -> &String| changes.iter().map(|c| format!("{}: {}\n", c.field, pick(c))).collect();
    FileDiff {
        before_header: format!("user {}", request.name),
        after_header: format!("user {}", request.name),
        before: render(|c| &c.before),
        after: render(|c| &c.after),
    }
}

/// The values Ansible returns, from the facts (after the change when not in check mode).
fn result(request: &Request, found: &Found, created: bool) -> ModuleResult {
    let res = ModuleResult::ok()
        .with("name", request.name.clone())
        .with("state", if request.present { "present" } else { "absent" });
    if !request.present {
        return if request.remove { res.with("remove", true) } else { res };
    }
    let res = res.with("append", request.append).with("system", request.system).with("move_home", request.move_home);
    let res = if created { res.with("createhome", request.create_home) } else { res };
    let Some(p) = &found.passwd else { return res };
    let primary = found.group(&p.gid.to_string()).map(|g| g.name.clone());
    let current: Vec<&str> = found.member_of.iter().filter(|g| Some(*g) != primary.as_ref()).map(String::as_str).collect();
    // Ansible returns `groups` as the task gave them; without them, stockman adds the current ones.
    let groups = match &request.groups {
        Some(given) => given.join(","),
        None => current.join(","),
    };
    res.with("uid", p.uid)
        .with("group", p.gid)
        .with("groups", groups)
        .with("home", p.home.clone())
        .with("shell", p.shell.clone())
        .with("comment", p.comment.clone())
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let key = KeyRequest::from_args(args)?;
    let res = account(args, target, mode).await?;
    match key {
        Some(key) if !res.failed && res.data.get("state").and_then(|s| s.as_str()) == Some("present") => {
            with_key(target, &key, res, mode).await
        }
        _ => Ok(res),
    }
}

/// `generate_ssh_key` for the account `res` describes (its home and name).
async fn with_key<T: Target>(target: &T, key: &KeyRequest, res: ModuleResult, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let name = res.data.get("name").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let Some(home) = res.data.get("home").and_then(|v| v.as_str()).map(str::to_string) else {
        // Check mode for an account not created yet: nothing to look at.
        return Ok(res);
    };
    let changed = res.changed;
    let mut out = user_ssh_key::ensure(target, key, &name, &home, mode.check, res).await?;
    out.changed |= changed;
    Ok(out)
}

/// The account itself: present with the wanted attributes, or absent.
async fn account<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let request = Request::from_args(args)?;
    let found = probe(target, &request).await?;
    let planned = match plan(&request, &found, mode.check) {
        Ok(p) => p,
        Err(msg) => return Ok(ModuleResult::failed(msg).with("name", request.name.clone())),
    };
    let Some((cmd, changes)) = planned else {
        let res = result(&request, &found, false);
        return missing_home(target, &request, &found, res, mode).await;
    };
    let created = found.passwd.is_none();
    let diff = if mode.diff { vec![diff(&request, &changes)] } else { Vec::new() };
    if mode.check {
        let mut res = result(&request, &found, created);
        res.changed = true;
        res.diff = diff;
        return Ok(res);
    }
    let out = target.exec(cmd.as_str(), None).await?;
    // userdel exits 12 when only the mail spool was missing: the user is gone.
    let ok = out.rc == 0 || (!request.present && out.rc == 12);
    if !ok {
        let program = cmd.as_str().split(' ').next().unwrap_or("user command");
        return Ok(ModuleResult::failed(format!("{program} failed for `{}`: {}", request.name, out.stderr_str().trim()))
            .with("name", request.name.clone())
            .with("rc", out.rc));
    }
    let after = probe(target, &request).await?;
    let mut res = result(&request, &after, created);
    res.changed = true;
    res.diff = diff;
    missing_home(target, &request, &after, res, mode).await
}

/// Creates the home directory of a present account when it is missing and
/// `create_home` holds (e.g. after `home` changed without `move_home`), as
/// Ansible's module does: a copy of /etc/skel (or an empty directory), its
/// mode from /etc/login.defs (HOME_MODE, else UMASK), owned by the user.
const CREATE_HOME_SCRIPT: &str = r#"h=$1 ids=$2
if [ -d /etc/skel ]; then
  mkdir -p -- "$(dirname -- "$h")" && cp -a -- /etc/skel "$h" || exit 1
else
  mkdir -p -- "$h" || exit 1
fi
if [ -f /etc/login.defs ]; then
  m=$(sed -n 's/^HOME_MODE[[:space:]]\{1,\}\([0-9]\{1,\}\)$//p' /etc/login.defs | head -n 1)
  u=$(sed -n 's/^UMASK[[:space:]]\{1,\}\([0-9]\{1,\}\)$//p' /etc/login.defs | tail -n 1)
  if [ -z "$m" ] && [ -n "$u" ]; then m=$(printf '%o' $(( 0777 & ~0$u ))); fi
  chmod -- "${m:-755}" "$h" || exit 1
fi
chown -R -- "$ids" "$h""#;

async fn missing_home<T: Target>(
    target: &T,
    request: &Request,
    found: &Found,
    mut res: ModuleResult,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let Some(p) = found.passwd.as_ref().filter(|_| request.present && request.create_home && !found.home_exists) else {
        return Ok(res);
    };
    // Check mode for a change already reports changed; nothing more to plan.
    if mode.check {
        res.changed = true;
        return Ok(res);
    }
    let home = request.home.clone().unwrap_or_else(|| p.home.clone());
    let cmd = Cmd::new("/bin/sh").flag("-c").arg(CREATE_HOME_SCRIPT).arg("sh").arg(&home).arg(format!("{}:{}", p.uid, p.gid));
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("could not create the home directory `{home}` of `{}`: {}", request.name, out.stderr_str().trim()))
            .with("name", request.name.clone()));
    }
    res.changed = true;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(v: serde_json::Value) -> Request {
        Request::from_args(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    fn found() -> Found {
        let out = format!(
            "alice:x:1001:1001:Alice A:/home/alice:/bin/sh\n{MARK}\nalice:$y$hash:19000:0:99999:7:::\n{MARK}\nalice:x:1001:\nsudo:x:27:bob,alice\nstaff:x:50:\n"
        );
        parse_found(&out, "alice")
    }

    #[test]
    fn probe_output_parses() {
        let f = found();
        assert_eq!(f.passwd.as_ref().unwrap().home, "/home/alice");
        assert_eq!(f.shadow.as_ref().unwrap().hash, "$y$hash");
        assert_eq!(f.member_of.iter().collect::<Vec<_>>(), ["sudo"]);
        assert_eq!(f.groups.len(), 3);
    }

    #[test]
    fn in_state_user_plans_nothing() {
        let r = request(json!({"name": "alice", "groups": ["sudo"], "shell": "/bin/sh", "comment": "Alice A", "password": "$y$hash"}));
        assert!(plan(&r, &found(), false).unwrap().is_none());
    }

    #[test]
    fn changes_become_one_usermod_with_quoted_values() {
        let r = request(json!({"name": "alice", "groups": "staff", "append": true, "comment": "it's $(id)", "password_lock": true}));
        let (cmd, changes) = plan(&r, &found(), false).unwrap().unwrap();
        assert_eq!(cmd.as_str(), "usermod -a -G staff -c 'it'\\''s $(id)' -L -- alice");
        assert_eq!(changes.len(), 3);
        let r = request(json!({"name": "alice", "groups": []}));
        assert_eq!(plan(&r, &found(), false).unwrap().unwrap().0.as_str(), "usermod -G '' -- alice");
    }

    #[test]
    fn password_hash_never_in_diff_and_on_create_respected() {
        let r = request(json!({"name": "alice", "password": "$6$new"}));
        let (_, changes) = plan(&r, &found(), false).unwrap().unwrap();
        let d = diff(&r, &changes);
        assert!(!d.before.contains("$6$") && !d.after.contains("$6$"));
        let r = request(json!({"name": "alice", "password": "$6$new", "update_password": "on_create"}));
        assert!(plan(&r, &found(), false).unwrap().is_none());
    }

    #[test]
    fn missing_group_fails_by_name_and_new_user_uses_useradd() {
        let r = request(json!({"name": "carol", "groups": "nope"}));
        assert_eq!(plan(&r, &Found::default(), false).unwrap_err(), "Group nope does not exist");
        assert!(plan(&r, &Found::default(), true).unwrap().is_some(), "check mode: the group may come from an earlier task");
        let alice = request(json!({"name": "alice", "groups": "nope"}));
        assert_eq!(plan(&alice, &found(), true).unwrap_err(), "Group nope does not exist", "an existing account is still held to it");
        let r = request(json!({"name": "carol", "uid": 2000, "system": true, "expires": 86400 * 365}));
        let (cmd, _) = plan(&r, &Found::default(), false).unwrap().unwrap();
        assert_eq!(cmd.as_str(), "useradd -u 2000 -e 1971-01-01 -m -r -- carol");
    }

    #[test]
    fn groups_are_returned_as_given_and_home_presence_is_probed() {
        let f = found();
        assert!(!f.home_exists, "no home section: not known to exist");
        let r = request(json!({"name": "alice", "groups": ["staff"], "append": true}));
        assert_eq!(result(&r, &f, false).data["groups"], "staff");
        let r = request(json!({"name": "alice"}));
        assert_eq!(result(&r, &f, false).data["groups"], "sudo", "without groups: the current ones");
        let out = format!("alice:x:1001:1001::/home/alice:/bin/sh\n{MARK}\n{MARK}\n{MARK}\nhome\n");
        assert!(parse_found(&out, "alice").home_exists);
        let cmd = probe_cmd(&request(json!({"name": "a'b", "home": "/h $(x)"})));
        assert!(cmd.as_str().ends_with(" sh 'a'\\''b' '/h $(x)'"), "{}", cmd.as_str());
    }

    #[test]
    fn days_become_dates() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(19723), "2024-01-01");
    }
}
