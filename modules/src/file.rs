//! `file`: make a path a file, directory, symlink or hard link, touch it, or
//! remove it; and set its mode/owner/group.
//!
//! One probe (the path, `src` for links, and with `recurse` a listing of the
//! tree) decides the plan; one apply command (ending with a probe, for the
//! result) carries it out.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::file_times::{self, Times};
use crate::mode::{format_mode, ModeSpec};
use crate::remote_file::{
    self, apply, chmod_arg, parent_dir, with_file_fields, Fields, FileFacts, FileKind, Follow,
    WantedAttrs,
};
use crate::shell::Cmd;
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, Param};

/// The arguments of `file`, typed as ansible.builtin.file's docs.
pub const PARAMS: &[Param] = &[
    alias("path", &["dest", "name"], true).path(),
    p("state").choices(&["absent", "directory", "file", "hard", "link", "touch"]),
    p("src").path(),
    p("mode").ty(crate::spec::ParamType::Raw),
    p("owner").str(),
    p("group").str(),
    p("recurse").bool().default("false"),
    p("force").bool().default("false"),
    p("follow").bool().default("true"),
    p("access_time").str(),
    p("modification_time").str(),
    p("access_time_format").str(),
    p("modification_time_format").str(),
    // Internal to Ansible (its copy and template actions ask it for diffs), and its own file target uses it.
    p("_diff_peek").bool(),
];

/// The `state` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    File,
    Directory,
    Touch,
    Absent,
    Link,
    Hard,
}

impl State {
    fn parse(text: &str) -> Result<Self, ModuleError> {
        Ok(match text {
            "file" => State::File,
            "directory" => State::Directory,
            "touch" => State::Touch,
            "absent" => State::Absent,
            "link" => State::Link,
            "hard" => State::Hard,
            other => {
                return Err(ModuleError::BadArgs(format!(
                    "value of state must be one of: absent, directory, file, hard, link, touch, got: {other}"
                )))
            }
        })
    }
}

/// The task's arguments, validated.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    state: Option<State>,
    src: Option<String>,
    attrs: WantedAttrs,
    /// `mode` as written, for `chmod -R` with a symbolic mode.
    mode_text: Option<String>,
    follow: bool,
    recurse: bool,
    force: bool,
    times: Times,
}

impl Request {
    fn from_args(args: &Args) -> Result<Self, ModuleError> {
        let state = args.str("state").map(|s| State::parse(&s)).transpose()?;
        let request = Request {
            path: args.required_str("path")?,
            state,
            src: args.str("src"),
            attrs: WantedAttrs::from_args(args)?,
            mode_text: args.str("mode"),
            follow: args.bool("follow", true)?,
            recurse: args.bool("recurse", false)?,
            force: args.bool("force", false)?,
            times: Times::from_args(args, state == Some(State::Touch))?,
        };
        if request.recurse && !matches!(state, None | Some(State::Directory)) {
            return Err(ModuleError::BadArgs(
                "recurse option requires state to be 'directory'".into(),
            ));
        }
        if request.src.is_some() && !matches!(state, Some(State::Link | State::Hard)) {
            return Err(ModuleError::BadArgs(
                "src option requires state to be 'link' or 'hard'".into(),
            ));
        }
        Ok(request)
    }

    /// Where `src` is, seen from the host's current directory (a relative
    /// symlink target is relative to the link's directory, like `ln -s`).
    fn src_on_host(&self) -> Option<String> {
        let src = self.src.as_deref()?;
        Some(match self.state {
            Some(State::Link) if !src.starts_with('/') => {
                format!("{}/{src}", parent_dir(&self.path))
            }
            _ => src.to_string(),
        })
    }

    fn follow(&self) -> Follow {
        match self.state {
            Some(State::Link | State::Hard | State::Absent) => Follow::No,
            _ if self.follow => Follow::Yes,
            _ => Follow::No,
        }
    }
}

/// What the probe found.
#[derive(Debug, Clone)]
struct Found {
    umask: u32,
    path: FileFacts,
    /// The path itself (not followed), when `path` was probed through a link
    /// (no `state`, `follow: true`): Ansible keeps an existing link a link.
    lstat: Option<FileFacts>,
    src: Option<FileFacts>,
    /// With `recurse`: type, mode and owner of everything below (symlinks skipped).
    tree: Vec<TreeEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TreeEntry {
    facts: FileFacts,
}

/// The steps to take, in order; empty means unchanged.
#[derive(Debug, Clone, Default)]
struct Plan {
    steps: Vec<Cmd>,
    /// The state the path ends in.
    state: &'static str,
    /// Always changed even with no attribute change (`touch`).
    always_changed: bool,
    /// Predicted facts after applying (for check mode and diff).
    after: Option<FileFacts>,
}

/// `_diff_peek`: whether the path's first 8 KiB hold a NUL byte (Ansible's
/// test for a binary file); nothing is changed, a missing file is not binary.
async fn diff_peek<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let path = args.str("path").unwrap_or_default();
    let out = target.exec(diff_peek_cmd(&path).as_str(), None).await?;
    let binary = out.rc == 0 && String::from_utf8_lossy(&out.stdout).trim() == "binary";
    Ok(ModuleResult::ok().with("path", path).with("appears_binary", binary))
}

fn diff_peek_cmd(path: &str) -> Cmd {
    let head = Cmd::new("head").flag("-c").flag("8192").flag("--").arg(path).quiet();
    let dump = Cmd::new("od").flag("-An").flag("-v").flag("-tx1");
    head.then("|", dump).then("|", Cmd::new("grep").flag("-q").flag("-w").flag("00")).then("&&", Cmd::new("echo").flag("binary"))
}

pub async fn run<T: Target>(
    args: &Args,
    target: &T,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    if args.get("_diff_peek").is_some_and(|v| !v.is_null()) {
        return diff_peek(args, target).await;
    }
    let request = Request::from_args(args)?;
    let found = probe(target, &request).await?;
    let state = request.state.unwrap_or(match found.own().kind {
        FileKind::Absent if request.recurse => State::Directory,
        FileKind::Absent | FileKind::File | FileKind::Other => State::File,
        FileKind::Directory => State::Directory,
        FileKind::Link => State::Link,
    });
    let mut plan = match plan(&request, state, &found) {
        Ok(plan) => plan,
        Err(refusal) => return Ok(refusal.into_result(&request.path)),
    };
    if matches!(state, State::File | State::Directory | State::Touch) {
        let exists = found.path.exists();
        plan.steps.extend(file_times::steps(target, &request.path, request.follow, &request.times, exists).await?);
    }
    let base = ModuleResult::ok().with("path", request.path.clone());
    // Ansible's touch and link results name the path `dest`.
    let base = match state {
        State::Touch | State::Link | State::Hard => base.with("dest", request.path.clone()),
        _ => base,
    };
    let src = request.src.clone().or_else(|| (state == State::Link && request.follow).then(|| found.own().link_target.clone()).flatten());
    let base = match (src, state) {
        (Some(src), State::Link | State::Hard) => base.with("src", src),
        _ => base,
    };
    if plan.steps.is_empty() && !plan.always_changed {
        let now = if state == State::Link { found.own() } else { &found.path };
        return Ok(with_file_fields(base, now).with("state", reported_state(plan.state, now)));
    }
    let after = plan.after.clone().unwrap_or_else(FileFacts::absent);
    let diff = if mode.diff {
        vec![state_diff(&request.path, &found.path, &after, plan.state)]
    } else {
        Vec::new()
    };
    if mode.check {
        let mut result = with_file_fields(base, &after).with("state", reported_state(plan.state, &after));
        result.changed = true;
        result.diff = diff;
        return Ok(result);
    }
    let mut result = match execute(target, &request, &plan).await? {
        Ok(facts) => with_file_fields(base, &facts).with("state", reported_state(plan.state, &facts)),
        Err(msg) => return Ok(ModuleResult::failed(msg).with("path", request.path.clone())),
    };
    result.changed = true;
    result.diff = diff;
    Ok(result)
}

/// The `state` Ansible reports: a regular file with other hard links is `hard`.
fn reported_state(planned: &'static str, facts: &FileFacts) -> &'static str {
    match planned {
        "file" => facts.state(),
        other => other,
    }
}

/// One command: the path, `src` (for links), and the tree below (for `recurse`).
async fn probe<T: Target>(target: &T, request: &Request) -> Result<Found, ModuleError> {
    let src = request.src_on_host();
    let mut paths = vec![request.path.as_str()];
    paths.extend(src.as_deref());
    let mut cmd = remote_file::probe_cmd(&paths, request.follow(), false);
    // With no state, whether the path itself is a link decides the state.
    let lstat = request.state.is_none() && request.follow() == Follow::Yes;
    if lstat {
        cmd = cmd.then("&&", remote_file::probe_cmd(&[&request.path], Follow::No, false));
    }
    if request.recurse {
        // Entries below the directory, each as a probe-like record; a missing
        // directory lists nothing.
        let list = Cmd::new("find")
            .arg(find_path(&request.path))
            .flag("-mindepth 1 ! -type l -printf")
            .arg(r"%y\0%m %U %G\0%u\0%g\0");
        cmd = cmd.then("&&", list.quiet().then("||", Cmd::new("true")));
    }
    let out = target.exec(cmd.as_str(), None).await?;
    let unexpected = || {
        ModuleError::BadArgs(format!(
            "could not inspect `{}` on the host: {}",
            request.path,
            out.stderr_str().trim()
        ))
    };
    let mut fields = Fields::new(&out.stdout);
    let probe = remote_file::parse_probe(&mut fields, paths.len()).ok_or_else(unexpected)?;
    let lstat = match lstat {
        true => Some(remote_file::parse_probe(&mut fields, 1).ok_or_else(unexpected)?.files.remove(0)),
        false => None,
    };
    let tree = if request.recurse {
        parse_tree(&mut fields).ok_or_else(unexpected)?
    } else {
        Vec::new()
    };
    let mut files = probe.files.into_iter();
    Ok(Found {
        umask: probe.umask,
        path: files.next().ok_or_else(unexpected)?,
        lstat,
        src: files.next(),
        tree,
    })
}

/// `find` takes no `--`: a path starting with `-` is made relative-explicit.
fn find_path(path: &str) -> String {
    if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_string()
    }
}

fn parse_tree(fields: &mut Fields<'_>) -> Option<Vec<TreeEntry>> {
    let mut entries = Vec::new();
    while let Some(kind) = fields.next_field() {
        let numbers = fields.next_field()?;
        let mut n = numbers.split(' ');
        let mode = u32::from_str_radix(n.next()?, 8).ok()?;
        let uid = n.next()?.parse().ok()?;
        let gid = n.next()?.parse().ok()?;
        let owner = fields.next_field()?;
        let group = fields.next_field()?;
        let kind = if kind == "d" {
            FileKind::Directory
        } else {
            FileKind::File
        };
        entries.push(TreeEntry {
            facts: FileFacts {
                kind,
                mode,
                uid,
                gid,
                owner,
                group,
                ..FileFacts::absent()
            },
        });
    }
    Some(entries)
}

impl Found {
    /// The path itself, not followed.
    fn own(&self) -> &FileFacts {
        self.lstat.as_ref().unwrap_or(&self.path)
    }
}

/// Decides the steps for `state`; `Err` is the task's failure.
fn plan(request: &Request, state: State, found: &Found) -> Result<Plan, Refusal> {
    match state {
        State::Absent => Ok(plan_absent(request, found)),
        State::File => plan_file(request, found),
        State::Directory => plan_directory(request, found),
        State::Touch => Ok(plan_touch(request, found)),
        State::Link => plan_link(request, found),
        State::Hard => plan_hard(request, found),
    }
}

/// Why the path cannot be brought to the wanted state (the task fails).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    msg: String,
    /// The state the path is in, reported like Ansible for `state: file`.
    state: Option<&'static str>,
}

impl Refusal {
    fn into_result(self, path: &str) -> ModuleResult {
        let result = ModuleResult::failed(self.msg).with("path", path.to_string());
        match self.state {
            Some(state) => result.with("state", state),
            None => result,
        }
    }
}

fn fail(msg: String) -> Refusal {
    Refusal { msg, state: None }
}

fn plan_absent(request: &Request, found: &Found) -> Plan {
    if !found.path.exists() {
        return Plan {
            state: "absent",
            ..Plan::default()
        };
    }
    Plan {
        steps: vec![Cmd::new("rm").flag("-rf --").arg(&request.path)],
        state: "absent",
        after: Some(FileFacts::absent()),
        ..Plan::default()
    }
}

fn plan_file(request: &Request, found: &Found) -> Result<Plan, Refusal> {
    let facts = &found.path;
    if facts.kind != FileKind::File {
        let what = facts.kind.state();
        let msg = format!("file ({}) is {what}, cannot continue", request.path);
        return Err(Refusal {
            msg,
            state: Some(what),
        });
    }
    Ok(attrs_plan(request, found, facts, "file", Vec::new()))
}

fn plan_directory(request: &Request, found: &Found) -> Result<Plan, Refusal> {
    let facts = &found.path;
    match facts.kind {
        FileKind::Directory => {
            let mut plan = attrs_plan(request, found, facts, "directory", Vec::new());
            if request.recurse {
                plan.steps.extend(recurse_steps(request, found));
            }
            Ok(plan)
        }
        FileKind::Absent => {
            let new_dir = FileFacts {
                kind: FileKind::Directory,
                mode: 0o777 & !found.umask,
                ..FileFacts::absent()
            };
            // Every directory created, parents included, gets mode and owner (as Ansible).
            let changes = request.attrs.changes(&new_dir, found.umask);
            let chown = changes.chown_spec();
            let mkdirs = remote_file::mkdirs_cmd(&request.path, changes.mode, chown.as_deref());
            Ok(Plan {
                steps: vec![mkdirs],
                state: "directory",
                after: Some(changes.predict(&new_dir)),
                ..Plan::default()
            })
        }
        other => Err(fail(format!(
            "{} already exists as a {}",
            request.path,
            other.state()
        ))),
    }
}

fn plan_touch(request: &Request, found: &Found) -> Plan {
    let facts = &found.path;
    let touch = if request.follow {
        Cmd::new("touch").flag("--")
    } else {
        Cmd::new("touch").flag("-h --")
    };
    let base = if facts.exists() {
        facts.clone()
    } else {
        FileFacts {
            kind: FileKind::File,
            mode: 0o666 & !found.umask,
            ..FileFacts::absent()
        }
    };
    let state = if facts.exists() {
        base.kind.state()
    } else {
        "file"
    };
    // An existing file is touched by the time steps (none with `preserve`).
    let create = (!facts.exists()).then(|| touch.arg(&request.path));
    let mut plan = attrs_plan(request, found, &base, state, create.into_iter().collect());
    plan.always_changed = !facts.exists();
    plan
}

fn plan_link(request: &Request, found: &Found) -> Result<Plan, Refusal> {
    let path = &request.path;
    let facts = found.own();
    let Some(src) = request.src.clone() else {
        return match facts.kind {
            FileKind::Link => Ok(existing_link_plan(request, found)),
            _ => Err(fail("src is required for creating a link".into())),
        };
    };
    if facts.kind == FileKind::Link && facts.link_target.as_deref() == Some(src.as_str()) {
        return Ok(link_attrs_plan(request, found, facts, Vec::new()));
    }
    let src_exists = found.src.as_ref().is_some_and(FileFacts::exists);
    if !src_exists && !request.force {
        return Err(fail(format!(
            "src file does not exist, use \"force=yes\" if you really want to create the link: {src}"
        )));
    }
    let mut steps = Vec::new();
    match facts.kind {
        FileKind::Absent | FileKind::Link => {}
        FileKind::Directory if request.force => steps.push(Cmd::new("rmdir").flag("--").arg(path)),
        FileKind::Directory => {
            return Err(fail(format!(
                "refusing to convert from directory to symlink for {path}"
            )))
        }
        _ if request.force => {}
        other => {
            return Err(fail(format!(
                "refusing to convert from {} to symlink for {path}",
                other.state()
            )))
        }
    }
    steps.push(replace_with_link(&src, path, false));
    let new_link = FileFacts {
        kind: FileKind::Link,
        link_target: Some(src),
        ..facts.clone()
    };
    Ok(link_attrs_plan(request, found, &new_link, steps))
}

fn plan_hard(request: &Request, found: &Found) -> Result<Plan, Refusal> {
    let path = &request.path;
    let Some(src) = request.src.clone() else {
        return Err(fail("src is required for creating a hard link".into()));
    };
    let facts = &found.path;
    let src_facts = found.src.clone().unwrap_or_else(FileFacts::absent);
    if !src_facts.exists() {
        return Err(fail(format!("src does not exist: {src}")));
    }
    if facts.exists() && facts.inode == src_facts.inode {
        return Ok(attrs_plan(request, found, facts, "hard", Vec::new()));
    }
    if facts.exists() && !request.force {
        return Err(fail(format!(
            "Cannot link, {} exists at destination",
            facts.kind.state()
        )));
    }
    let steps = vec![replace_with_link(&src, path, true)];
    Ok(attrs_plan(request, found, &src_facts, "hard", steps))
}

/// No `src` on an existing link (no `state`, or `state: link` alone): the link
/// stays; with `follow` (and a target) the attributes go to what it points to,
/// else to the link itself, as Ansible's module does.
fn existing_link_plan(request: &Request, found: &Found) -> Plan {
    let link = found.own();
    let target = &found.path;
    if !(request.follow && found.lstat.is_some() && target.exists() && target.kind != FileKind::Link) {
        return link_attrs_plan(request, found, link, Vec::new());
    }
    let changes = request.attrs.changes(target, found.umask);
    Plan {
        steps: changes.apply_cmd(&request.path, false).into_iter().collect(),
        state: "link",
        after: Some(link.clone()),
        ..Plan::default()
    }
}

/// Creates the link in a temp directory beside `path` and renames it over `path`.
fn replace_with_link(src: &str, path: &str, hard: bool) -> Cmd {
    const SCRIPT: &str = r#"t=$(mktemp -d -- "$3/.stockman.XXXXXXXX") || exit 1
if [ "$4" = hard ]; then ln -- "$1" "$t/l"; else ln -s -- "$1" "$t/l"; fi && mv -fT -- "$t/l" "$2"
r=$?; rm -rf -- "$t"; exit $r"#;
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(SCRIPT)
        .arg("sh")
        .arg(src)
        .arg(path)
        .arg(parent_dir(path))
        .arg(if hard { "hard" } else { "soft" })
}

/// `steps`, then whatever chmod/chown `facts` needs.
fn attrs_plan(
    request: &Request,
    found: &Found,
    facts: &FileFacts,
    state: &'static str,
    mut steps: Vec<Cmd>,
) -> Plan {
    let changes = request.attrs.changes(facts, found.umask);
    let mut after = changes.predict(facts);
    if after.kind == FileKind::Absent {
        after.kind = FileKind::File;
    }
    steps.extend(changes.apply_cmd(&request.path, false));
    Plan {
        steps,
        state,
        after: Some(after),
        ..Plan::default()
    }
}

/// Symlinks: only owner/group (of the link itself); a link has no mode of its own.
fn link_attrs_plan(
    request: &Request,
    found: &Found,
    facts: &FileFacts,
    mut steps: Vec<Cmd>,
) -> Plan {
    let mut changes = request.attrs.changes(facts, found.umask);
    changes.mode = None;
    let after = changes.predict(facts);
    steps.extend(changes.apply_cmd(&request.path, true));
    Plan {
        steps,
        state: "link",
        after: Some(after),
        ..Plan::default()
    }
}

/// `chmod -R`/`chown -R` when anything below the directory differs.
fn recurse_steps(request: &Request, found: &Found) -> Vec<Cmd> {
    let attrs = &request.attrs;
    let differs = |entry: &TreeEntry| !attrs.changes(&entry.facts, found.umask).is_empty();
    if !found.tree.iter().any(differs) {
        return Vec::new();
    }
    let path = &request.path;
    let mut steps = Vec::new();
    if let Some(mode) = &attrs.mode {
        let arg = match (mode, mode_text(request)) {
            (ModeSpec::Octal(m), _) => chmod_arg(*m),
            (ModeSpec::Symbolic(_), Some(text)) => text,
            (ModeSpec::Symbolic(_), None) => String::new(),
        };
        steps.push(Cmd::new("chmod").flag("-R --").arg(arg).arg(path));
    }
    if let Some(spec) = remote_file::chown_spec(attrs.owner.as_deref(), attrs.group.as_deref()) {
        steps.push(Cmd::new("chown").flag("-R --").arg(spec).arg(path));
    }
    steps
}

/// The symbolic mode as written (chmod -R applies it per entry, like Ansible).
fn mode_text(request: &Request) -> Option<String> {
    request.mode_text.clone()
}

/// Runs the plan's steps, then probes the path for the result.
async fn execute<T: Target>(
    target: &T,
    request: &Request,
    plan: &Plan,
) -> Result<Result<FileFacts, String>, ModuleError> {
    let mut steps = plan.steps.iter().cloned();
    let Some(first) = steps.next() else {
        return Ok(Err("nothing to do".into()));
    };
    let chained = steps.fold(first, |acc, step| acc.then("&&", step));
    let follow = if plan.state == "link" {
        Follow::No
    } else {
        request.follow()
    };
    let cmd = chained.then(
        "&&",
        remote_file::probe_cmd(&[&request.path], follow, false),
    );
    Ok(apply(target, &cmd, None, 0, &request.path)
        .await?
        .map(|applied| applied.facts))
}

/// Ansible's file diff: {path, state[, mode, owner, group]} before and after, as
/// sorted, 4-space-indented JSON.
fn state_diff(path: &str, before: &FileFacts, after: &FileFacts, state: &str) -> FileDiff {
    let mut b = BTreeMap::from([
        ("path", Value::from(path)),
        ("state", Value::from(before.kind.state())),
    ]);
    let mut a = BTreeMap::from([("path", Value::from(path)), ("state", Value::from(state))]);
    if before.exists() && after.exists() {
        if before.mode != after.mode {
            b.insert("mode", format_mode(before.mode).into());
            a.insert("mode", format_mode(after.mode).into());
        }
        if before.uid != after.uid || before.owner != after.owner {
            b.insert("owner", before.uid.into());
            a.insert("owner", after.uid.into());
        }
        if before.gid != after.gid || before.group != after.group {
            b.insert("group", before.gid.into());
            a.insert("group", after.gid.into());
        }
    }
    FileDiff {
        before_header: String::new(),
        after_header: String::new(),
        before: pretty(&b),
        after: pretty(&a),
    }
}

fn pretty(map: &BTreeMap<&str, Value>) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(map, &mut ser).expect("a map of JSON values serializes");
    String::from_utf8(out).expect("JSON is UTF-8") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_peek_reads_the_first_8_kib_and_quotes_the_path() {
        assert_eq!(
            diff_peek_cmd("/tmp/a b;$(x)").into_string(),
            "head -c 8192 -- '/tmp/a b;$(x)' 2>/dev/null | od -An -v -tx1 | grep -q -w 00 && echo binary"
        );
        // The pipeline, run here on a text and a binary file.
        let dir = tempfile::tempdir().unwrap();
        let (text, binary) = (dir.path().join("t"), dir.path().join("b"));
        std::fs::write(&text, "plain\n").unwrap();
        std::fs::write(&binary, b"x\x00y").unwrap();
        let run = |p: &std::path::Path| std::process::Command::new("sh").arg("-c").arg(diff_peek_cmd(p.to_str().unwrap()).into_string()).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&run(&binary).stdout).trim(), "binary");
        assert_eq!(run(&text).stdout, b"");
        assert_eq!(run(&dir.path().join("missing")).stdout, b"");
    }

    fn request(args: Value) -> Request {
        Request::from_args(&Args::new(args.as_object().unwrap().clone())).unwrap()
    }

    fn found(path: FileFacts) -> Found {
        Found {
            umask: 0o022,
            path,
            lstat: None,
            src: None,
            tree: Vec::new(),
        }
    }

    fn file(mode: u32) -> FileFacts {
        FileFacts {
            kind: FileKind::File,
            mode,
            owner: "root".into(),
            group: "root".into(),
            ..FileFacts::absent()
        }
    }

    #[test]
    fn state_file_on_missing_path_fails_like_ansible() {
        let r = request(json!({"path": "/nope", "state": "file"}));
        let err = plan(&r, State::File, &found(FileFacts::absent())).unwrap_err();
        assert_eq!(err.msg, "file (/nope) is absent, cannot continue");
    }

    #[test]
    fn symbolic_mode_is_idempotent_once_applied() {
        let r = request(json!({"path": "/f", "mode": "u=rw,g=r,o="}));
        assert_eq!(
            plan(&r, State::File, &found(file(0o644)))
                .unwrap()
                .steps
                .len(),
            1
        );
        assert!(plan(&r, State::File, &found(file(0o640)))
            .unwrap()
            .steps
            .is_empty());
    }

    #[test]
    fn link_to_same_target_is_unchanged() {
        let r = request(json!({"path": "/l", "state": "link", "src": "/t"}));
        let link = FileFacts {
            kind: FileKind::Link,
            link_target: Some("/t".into()),
            ..file(0o777)
        };
        assert!(plan(&r, State::Link, &found(link))
            .unwrap()
            .steps
            .is_empty());
    }

    #[test]
    fn bad_state_and_misplaced_options_are_rejected() {
        let args = |v: Value| Args::new(v.as_object().unwrap().clone());
        assert!(Request::from_args(&args(json!({"path": "/x", "state": "dir"}))).is_err());
        assert!(Request::from_args(&args(
            json!({"path": "/x", "state": "file", "recurse": true})
        ))
        .is_err());
        assert!(Request::from_args(&args(json!({"path": "/x", "src": "/y"}))).is_err());
    }

    #[test]
    fn missing_parents_are_created_one_by_one_with_mode_and_owner() {
        let r = request(json!({"path": "/a/b", "state": "directory", "mode": "u=rwx,g=rx,o=", "owner": "nobody"}));
        let p = plan(&r, State::Directory, &found(FileFacts::absent())).unwrap();
        assert_eq!(p.steps.len(), 1);
        let line = p.steps[0].as_str();
        assert!(line.ends_with(" sh 00750 nobody /a /a/b"), "{line}");
        assert_eq!(p.after.unwrap().mode, 0o750);
    }

    #[test]
    fn an_existing_link_without_src_stays_a_link() {
        let link = FileFacts {
            kind: FileKind::Link,
            link_target: Some("/t".into()),
            ..file(0o777)
        };
        // follow=false: owner of the link itself (chown -h), no mode.
        let r = request(json!({"path": "/l", "owner": "daemon", "mode": "0600", "follow": false}));
        let p = plan(&r, State::Link, &found(link.clone())).unwrap();
        assert_eq!(p.state, "link");
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].as_str(), "chown -h -- daemon /l");
        // follow=true: the attributes go to what the link points to.
        let r = request(json!({"path": "/l", "mode": "0604"}));
        let through = Found { lstat: Some(link.clone()), ..found(file(0o644)) };
        let p = plan(&r, State::Link, &through).unwrap();
        assert_eq!(p.steps[0].as_str(), "chmod -- 00604 /l");
        assert_eq!(p.after.unwrap().kind, FileKind::Link, "the result is the link's own stat");
        // Nothing to change: unchanged.
        let r = request(json!({"path": "/l", "mode": "0644"}));
        assert!(plan(&r, State::Link, &through).unwrap().steps.is_empty());
    }

    #[test]
    fn a_file_with_other_hard_links_is_reported_hard() {
        let linked = FileFacts { nlink: 2, ..file(0o644) };
        assert_eq!(reported_state("file", &linked), "hard");
        assert_eq!(reported_state("file", &file(0o644)), "file");
        assert_eq!(reported_state("link", &linked), "link");
    }

    #[test]
    fn diff_is_ansible_shaped_json() {
        let d = state_diff("/x", &FileFacts::absent(), &file(0o755), "directory");
        assert_eq!(
            d.before,
            "{\n    \"path\": \"/x\",\n    \"state\": \"absent\"\n}\n"
        );
        assert!(d.after.contains("\"state\": \"directory\""));
    }
}
