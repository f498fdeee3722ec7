//! `ansible.posix.mount`, as Ansible's module on Linux: an entry of an fstab
//! file and what is mounted at its point. One command creates the fstab when
//! it is missing (as Ansible does, except in check mode), tells whether the
//! point is a mount point (Ansible's `ismount`: another device, or the same
//! inode as its parent), reads /proc/self/mountinfo and the fstab. The fstab
//! edit is planned here by pure functions (which lines Ansible counts as an
//! entry, which one is "the" entry of a point, how a changed entry is
//! rewritten, what removal drops; each case checked against the module's own
//! `set_mount`/`unset_mount`), written atomically (temp file beside, rename,
//! mode and owner kept); then `mount`, `umount`, a remount (falling back to
//! umount + mount, as Ansible) or `rmdir` as the state asks. Options reach
//! `mount` on stdin, never on its command line (`opts_no_log` hides them
//! from results too). Ansible's module has no --diff: neither has this one.

use serde_json::Value;

use crate::remote_file::{self, WritePlan};
use crate::shell::Cmd;
use crate::spec::{alias, p, req, Param, RequiredIf, Rules};
use crate::text_edit::{self, TextFile};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};

/// The arguments of `mount`, typed as ansible.posix.mount's spec.
pub const PARAMS: &[Param] = &[
    p("boot").bool(),
    p("dump").str(),
    p("fstab").str(),
    p("fstype").str(),
    alias("path", &["name"], true).path(),
    p("opts").str(),
    p("opts_no_log").bool(),
    p("passno").str(),
    p("src").path(),
    p("backup").bool(),
    req("state").choices(&["absent", "absent_from_fstab", "mounted", "present", "unmounted", "remounted", "ephemeral"]),
];

const NEEDS_SOURCE: &[&str] = &["src", "fstype"];

/// Ansible's `required_if`: the states that write or mount an entry need its source and type.
pub const RULES: Rules = Rules {
    required_if: &[
        RequiredIf { param: "state", value: "mounted", then: NEEDS_SOURCE, any: false },
        RequiredIf { param: "state", value: "present", then: NEEDS_SOURCE, any: false },
        RequiredIf { param: "state", value: "ephemeral", then: NEEDS_SOURCE, any: false },
    ],
    ..Rules::NONE
};

/// What the task asks for, with Ansible's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub state: State,
    /// The mount point (`path`, `name`), unescaped.
    pub name: String,
    pub src: Option<String>,
    pub fstype: Option<String>,
    /// With `noauto` added when `boot: false`.
    pub opts: String,
    pub dump: String,
    pub passno: String,
    pub fstab: String,
    /// `fstab` was given: `mount` is told to read it (`-T`) unless it is /etc/fstab.
    pub custom_fstab: bool,
    pub boot: bool,
    pub backup: bool,
    pub opts_no_log: bool,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Absent,
    AbsentFromFstab,
    Mounted,
    Present,
    Unmounted,
    Remounted,
    Ephemeral,
}

impl State {
    fn parse(state: &str) -> Option<State> {
        Some(match state {
            "absent" => State::Absent,
            "absent_from_fstab" => State::AbsentFromFstab,
            "mounted" => State::Mounted,
            "present" => State::Present,
            "unmounted" => State::Unmounted,
            "remounted" => State::Remounted,
            "ephemeral" => State::Ephemeral,
            _ => return None,
        })
    }

    fn uses_fstab(self) -> bool {
        self != State::Ephemeral
    }
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let name = args.required_str("path")?;
    let state_text = args.required_str("state")?;
    let state = State::parse(&state_text).ok_or_else(|| {
        ModuleError::BadArgs(format!("value of state must be one of: absent, absent_from_fstab, mounted, present, unmounted, remounted, ephemeral, got: {state_text}"))
    })?;
    let (src, fstype) = (args.str("src"), args.str("fstype"));
    if matches!(state, State::Mounted | State::Present | State::Ephemeral) {
        let missing: Vec<&str> = [("src", &src), ("fstype", &fstype)].iter().filter(|(_, v)| v.is_none()).map(|(n, _)| *n).collect();
        if !missing.is_empty() {
            return Err(ModuleError::BadArgs(format!("state is {state_text} but all of the following are missing: {}", missing.join(", "))));
        }
    }
    let boot = args.bool("boot", true)?;
    let mut opts = args.str("opts").unwrap_or_else(|| "defaults".into());
    let mut warnings = Vec::new();
    if boot && opts.split(',').any(|o| o == "noauto") {
        warnings.push("Ignore the 'boot' due to 'opts' contains 'noauto'.".to_string());
    } else if !boot {
        opts.push_str(",noauto");
    }
    let given_fstab = args.str("fstab");
    Ok(Request {
        state,
        name,
        src,
        fstype,
        opts,
        dump: args.str("dump").unwrap_or_else(|| "0".into()),
        passno: args.str("passno").unwrap_or_else(|| "0".into()),
        custom_fstab: given_fstab.as_deref().is_some_and(|f| !f.is_empty() && f != "/etc/fstab"),
        fstab: given_fstab.unwrap_or_else(|| "/etc/fstab".into()),
        boot,
        backup: args.bool("backup", false)?,
        opts_no_log: args.bool("opts_no_log", false)?,
        warnings,
    })
}

impl Request {
    /// The entry as Ansible writes it (every field escaped).
    fn entry(&self) -> Entry {
        let field = |v: &Option<String>| escape(v.as_deref().unwrap_or_default());
        Entry {
            src: field(&self.src),
            name: escape(&self.name),
            fstype: field(&self.fstype),
            opts: escape(&self.opts),
            dump: escape(&self.dump),
            passno: escape(&self.passno),
        }
    }
}

/// One entry as written to fstab: the six Linux fields, already escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub src: String,
    pub name: String,
    pub fstype: String,
    pub opts: String,
    pub dump: String,
    pub passno: String,
}

impl Entry {
    /// Ansible's line: fields separated by one space.
    fn line(&self) -> String {
        format!("{} {} {} {} {} {}\n", self.src, self.name, self.fstype, self.opts, self.dump, self.passno)
    }
}

/// fstab's octal escapes for the characters a field cannot hold as is
/// (backslash first, so the others' escapes stay intact).
pub fn escape(field: &str) -> String {
    field.replace('\\', "\\134").replace(' ', "\\040").replace('&', "\\046")
}

/// A blank line or a comment: kept as is.
fn is_text(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Whether a parsed line is the entry of mount point `name`: same point,
/// except that swap lines (`none` ... `swap`) are told apart by their source.
fn same_point(fields: &[&str], name: &str, src: Option<&str>) -> bool {
    let (line_src, line_name, line_type) = (fields[0], fields[1], fields[2]);
    line_name == name && !(line_name == "none" && line_type == "swap" && src.is_some_and(|s| s != line_src))
}

/// The new fstab with `want` set, and whether it changed. As Ansible: lines
/// with 4 to 6 fields (before a `#`) are entries, missing dump/passno count
/// as different (so such an entry is rewritten whole), and once a change is
/// seen every later entry of the point is rewritten too. `src` is the
/// unescaped source (Ansible compares swap sources unescaped).
pub fn set(fstab: &str, want: &Entry, src: &str) -> (String, bool) {
    let mut out = String::new();
    let (mut exists, mut changed) = (false, false);
    for raw in fstab.split_inclusive('\n') {
        let line = if raw.ends_with('\n') { raw.to_string() } else { format!("{raw}\n") };
        let fields: Vec<&str> = line.split('#').next().unwrap_or_default().split_whitespace().collect();
        if is_text(&line) || !(4..=6).contains(&fields.len()) || !same_point(&fields, &want.name, Some(src)) {
            out.push_str(&line);
            continue;
        }
        exists = true;
        let have = [fields[0], fields[2], fields[3], fields.get(4).copied().unwrap_or(""), fields.get(5).copied().unwrap_or("")];
        let wanted = [&want.src, &want.fstype, &want.opts, &want.dump, &want.passno];
        changed |= have.iter().zip(wanted).any(|(h, w)| h != w);
        if changed {
            out.push_str(&Entry { name: fields[1].to_string(), ..want.clone() }.line());
        } else {
            out.push_str(&line);
        }
    }
    if !exists {
        out.push_str(&want.line());
        changed = true;
    }
    (out, changed)
}

/// The new fstab without mount point `name` (escaped), and whether it
/// changed. As Ansible: only lines of exactly six whitespace-separated
/// words count (a trailing comment makes a line not an entry), and the
/// kept lines are left byte for byte.
pub fn unset(fstab: &str, name: &str, src: Option<&str>) -> (String, bool) {
    let mut out = String::new();
    let mut changed = false;
    for line in fstab.split_inclusive('\n') {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !is_text(line) && fields.len() == 6 && same_point(&fields, name, src) {
            changed = true;
        } else {
            out.push_str(line);
        }
    }
    (out, changed)
}

/// What /proc/self/mountinfo says is mounted at one point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// The device, or for a mount whose parent is not the root mount (a
    /// bind mount), the source path worked out as Ansible does.
    pub src: String,
    pub opts: String,
    pub fstype: String,
}

/// Ansible's reading of mountinfo: mount point -> what is mounted there
/// (the last line of a point wins). Malformed lines are skipped.
pub fn mounts(mountinfo: &str) -> std::collections::HashMap<String, Mounted> {
    struct Line<'a> { id: u64, parent: u64, root: &'a str, dst: &'a str, opts: &'a str, fs: &'a str, src: &'a str }
    let lines: Vec<Line> = mountinfo
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            Some(Line { id: f[0].parse().ok()?, parent: f[1].parse().ok()?, root: f[3], dst: f[4], opts: f[5], fs: f[f.len() - 3], src: f[f.len() - 2] })
        })
        .collect();
    let by_id: std::collections::HashMap<u64, &Line> = lines.iter().map(|l| (l.id, l)).collect();
    let mut out = std::collections::HashMap::new();
    for line in &lines {
        let src = match by_id.get(&line.parent).filter(|_| line.parent != 1) {
            Some(parent) => {
                let prefix = format!("{}/", parent.root);
                let root = if parent.root.len() > 1 && line.root.starts_with(&prefix) { &line.root[parent.root.len()..] } else { line.root };
                if parent.dst == "/" { root.to_string() } else { format!("{}{root}", parent.dst) }
            }
            None => line.src.to_string(),
        };
        out.insert(line.dst.to_string(), Mounted { src, opts: line.opts.to_string(), fstype: line.fs.to_string() });
    }
    out
}

/// Whether `mount -v` (Ansible's last resort for `ephemeral`) lists `src`
/// mounted at `dst`: the source field of mountinfo, before any reading of
/// bind mounts.
fn listed(mountinfo: &str, src: &str, dst: &str) -> bool {
    mountinfo.lines().map(|l| l.split_whitespace().collect::<Vec<_>>()).any(|f| f.len() >= 8 && f[4] == dst && f[f.len() - 2] == src)
}

/// Prints whether `$1` is a mount point as Ansible's `ismount` decides (not a
/// symlink; another device than its parent, or the same inode), whether it
/// exists, then `1` and /proc/self/mountinfo (nothing when unreadable). With
/// `$2`, a missing fstab file is created (and its directory), as Ansible does.
const PROBE_SCRIPT: &str = r#"p=$1 m=0 e=0
if [ -e "$p" ]; then e=1; fi
if [ ! -L "$p" ] && a=$(stat -c %d:%i -- "$p" 2>/dev/null) && u=$(readlink -f -- "$p/..") && b=$(stat -c %d:%i -- "$u" 2>/dev/null); then
  if [ "${a%:*}" != "${b%:*}" ] || [ "$a" = "$b" ]; then m=1; fi
fi
printf '%s\0%s\0' "$m" "$e"
if [ -r /proc/self/mountinfo ]; then printf 1; cat /proc/self/mountinfo; fi
printf '\0'
if [ -n "$2" ] && [ ! -e "$2" ]; then
  d=$(dirname -- "$2")
  { [ -e "$d" ] || mkdir -p -- "$d"; } && : >> "$2" || exit 3
fi"#;

/// `mount [-o remount] [-o OPTS] ARGS...`: `$1` is `remount` or empty, the
/// options come on stdin so that they never show on a command line.
const MOUNT_SCRIPT: &str = r#"r=$1; shift
o=$(cat)
if [ -n "$o" ]; then set -- -o "$o" "$@"; fi
if [ -n "$r" ]; then set -- -o remount "$@"; fi
command -v mount >/dev/null 2>&1 || { echo 'Failed to find required executable "mount"' >&2; exit 127; }
LC_ALL=C exec mount "$@""#;

/// Creates each missing directory of the mount point (Ansible's mkdir loop),
/// printing each one created so that a failed mount can remove them again.
const MKDIRS_SCRIPT: &str = r#"for d do
  if [ ! -e "$d" ]; then LC_ALL=C mkdir -- "$d" || [ -d "$d" ] || exit 1; printf '%s\0' "$d"; fi
done"#;

/// What the probe found on the host.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Ansible's `ismount(path)`.
    pub is_mount: bool,
    pub exists: bool,
    /// None: /proc/self/mountinfo could not be read.
    pub mountinfo: Option<String>,
    /// None for `ephemeral`, which leaves fstab alone.
    pub fstab: Option<TextFile>,
}

impl Facts {
    fn fstab_text(&self) -> String {
        self.fstab.as_ref().map(|f| String::from_utf8_lossy(&f.content).into_owned()).unwrap_or_default()
    }
}

/// One change on the host, in the order Ansible makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    MakeDirs,
    WriteFstab(String),
    Mount,
    Remount,
    Umount,
    Rmdir,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub changed: bool,
    pub steps: Vec<Step>,
}

/// Ansible's refusal to remount an ephemeral point that holds something else.
const EPHEMERAL_BUSY: &str = "Ephemeral mount point is already mounted with a different source than the specified one. Failing in order to prevent an unwanted unmount or override operation. Try replacing this command with a \"state: unmounted\" followed by a \"state: ephemeral\", or use a different destination path.";

/// Ansible's refusal to fall back to umount + mount when options were given.
const REMOUNT_WITH_OPTS: &str = "Options were specified with remounted, but the remount command failed. Failing in order to prevent an unexpected mount result. Try replacing this command with a \"state: unmounted\" followed by a \"state: mounted\" using the full desired mount options instead.";

/// What to do, pure: the state's decision table of Ansible's `main()`.
pub fn plan(req: &Request, facts: &Facts) -> Result<Plan, String> {
    let table = facts.mountinfo.as_deref().map(mounts).unwrap_or_default();
    let src = req.src.as_deref().unwrap_or_default();
    let mounted_any = facts.is_mount || table.contains_key(&req.name);
    let mounted_src = facts.is_mount || table.get(&req.name).is_some_and(|m| m.src == src);
    let fstab = facts.fstab_text();
    let mut steps = Vec::new();
    let unset = |steps: &mut Vec<Step>| {
        let (new, changed) = unset(&fstab, &escape(&req.name), req.src.as_deref());
        if changed {
            steps.push(Step::WriteFstab(new));
        }
        changed
    };
    let set = |steps: &mut Vec<Step>| {
        let (new, changed) = set(&fstab, &req.entry(), src);
        if changed {
            steps.push(Step::WriteFstab(new));
        }
        changed
    };
    let changed = match req.state {
        State::AbsentFromFstab => unset(&mut steps),
        State::Absent => {
            let changed = unset(&mut steps);
            if changed && mounted_any {
                steps.push(Step::Umount);
            }
            if changed && facts.exists {
                steps.push(Step::Rmdir);
            }
            changed
        }
        State::Unmounted => {
            if mounted_any {
                steps.push(Step::Umount);
            }
            mounted_any
        }
        State::Present => set(&mut steps),
        State::Remounted => {
            steps.push(Step::Remount);
            true
        }
        State::Mounted | State::Ephemeral => {
            if !facts.exists {
                steps.push(Step::MakeDirs);
            }
            let changed = req.state == State::Mounted && set(&mut steps);
            if !mounted_src {
                steps.push(Step::Mount);
                true
            } else if req.state == State::Mounted {
                if changed {
                    steps.push(Step::Remount);
                }
                changed
            } else if mounted_any && (table.get(&req.name).is_some_and(|m| m.src == src) || facts.mountinfo.as_deref().is_some_and(|i| listed(i, src, &req.name))) {
                steps.push(Step::Remount);
                true
            } else {
                return Err(EPHEMERAL_BUSY.to_string());
            }
        }
    };
    Ok(Plan { changed, steps })
}

/// The `mount` command (and its stdin) Ansible's `mount()`/`remount()` run.
pub fn mount_cmd(req: &Request, remount: bool) -> (Cmd, String) {
    let mut cmd = Cmd::new("/bin/sh").flag("-c").arg(MOUNT_SCRIPT).arg("sh").arg(if remount { "remount" } else { "" });
    let with_opts = req.opts != "defaults" && (req.state == State::Ephemeral || (remount && req.state == State::Remounted));
    if req.state == State::Ephemeral {
        cmd = cmd.flag("-t").arg(req.fstype.as_deref().unwrap_or_default()).flag("--").arg(req.src.as_deref().unwrap_or_default());
    } else if req.custom_fstab {
        cmd = cmd.flag("-T").arg(&req.fstab).flag("--");
    } else {
        cmd = cmd.flag("--");
    }
    (cmd.arg(&req.name), if with_opts { req.opts.clone() } else { String::new() })
}

fn umount_cmd(name: &str) -> Cmd {
    Cmd::new("umount").flag("--").arg(name).env("LC_ALL", "C")
}

/// What applying has done so far: undone when a mount fails.
#[derive(Debug, Default)]
struct Done {
    dirs: Vec<String>,
    wrote: bool,
    backup_file: String,
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let facts = match probe(&req, target, mode.check).await? {
        Ok(facts) => facts,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let plan = match plan(&req, &facts) {
        Ok(plan) => plan,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let mut req = req;
    if facts.mountinfo.is_none() {
        req.warnings.insert(0, "Cannot open file /proc/self/mountinfo. Bind mounts might be misinterpreted.".into());
    }
    let mut done = Done::default();
    if !mode.check {
        if let Err(msg) = apply(&req, &plan, &facts, target, &mut done).await? {
            return Ok(ModuleResult::failed(req.hide(&msg)));
        }
    }
    Ok(result(&req, plan.changed, &done.backup_file))
}

impl Request {
    /// `msg` with the options masked when they are secret (`opts_no_log`).
    fn hide(&self, msg: &str) -> String {
        if self.opts_no_log && !self.opts.is_empty() { msg.replace(&self.opts, "********") } else { msg.to_string() }
    }
}

/// Ansible's return values: the arguments as the module settled them.
fn result(req: &Request, changed: bool, backup_file: &str) -> ModuleResult {
    let mut r = ModuleResult::changed(changed)
        .with("name", req.name.as_str())
        .with("opts", if req.opts_no_log { "********" } else { req.opts.as_str() })
        .with("dump", req.dump.as_str())
        .with("passno", req.passno.as_str())
        .with("fstab", req.fstab.as_str())
        .with("boot", if req.boot { "yes" } else { "no" })
        .with("backup_file", backup_file);
    for (key, value) in [("src", &req.src), ("fstype", &req.fstype)] {
        if let Some(value) = value {
            r = r.with(key, value.as_str());
        }
    }
    if !req.warnings.is_empty() {
        r = r.with("warnings", req.warnings.iter().map(|w| Value::from(w.as_str())).collect::<Vec<_>>());
    }
    r
}

/// The one probe round trip (see [`PROBE_SCRIPT`]), then the fstab's read.
async fn probe<T: Target>(req: &Request, target: &T, check: bool) -> Result<Result<Facts, String>, ModuleError> {
    let create = if req.state.uses_fstab() && !check { req.fstab.as_str() } else { "" };
    let mut cmd = Cmd::new("/bin/sh").flag("-c").arg(PROBE_SCRIPT).arg("sh").arg(&req.name).arg(create);
    if req.state.uses_fstab() {
        cmd = cmd.then("&&", text_edit::read_cmd(&req.fstab));
    }
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc == 3 {
        let err = out.stderr_str();
        let why = if err.contains("Permission denied") { "permission issue".to_string() } else { err.trim().to_string() };
        return Ok(Err(format!("Failed to open {} due to {why}", req.fstab)));
    }
    let mut fields = out.stdout.splitn(4, |&b| b == 0);
    let (is_mount, exists, info, rest) = (fields.next(), fields.next(), fields.next(), fields.next());
    let (Some(is_mount), Some(exists), Some(info)) = (is_mount, exists, info) else {
        return Ok(Err(format!("could not probe mount point `{}`: {}", req.name, out.stderr_str().trim())));
    };
    let fstab = match (req.state.uses_fstab(), out.rc) {
        (false, _) => None,
        (true, 0) => match text_edit::parse_read(rest.unwrap_or_default(), &req.fstab) {
            Some(file) => Some(file),
            None => return Ok(Err(format!("unexpected output reading `{}`", req.fstab))),
        },
        (true, _) => return Ok(Err(format!("Failed to open {} due to {}", req.fstab, out.stderr_str().trim()))),
    };
    Ok(Ok(Facts {
        is_mount: is_mount == b"1",
        exists: exists == b"1",
        mountinfo: info.strip_prefix(b"1").map(|i| String::from_utf8_lossy(i).into_owned()),
        fstab,
    }))
}

/// Runs the plan's steps; a failure is the task's message. A failed mount
/// puts the fstab back and removes the directories made for it, as Ansible.
async fn apply<T: Target>(req: &Request, plan: &Plan, facts: &Facts, target: &T, done: &mut Done) -> Result<Result<(), String>, ModuleError> {
    for step in &plan.steps {
        let failure = match step {
            Step::MakeDirs => make_dirs(req, target, done).await?,
            Step::WriteFstab(content) => write_fstab(facts, content, req.backup, target, done).await?,
            Step::Mount => mount(req, target, false).await?.map(|msg| format!("Error mounting {}: {msg}", req.name)),
            Step::Remount => remount(req, target).await?,
            Step::Umount => run_for_msg(target, &umount_cmd(&req.name), "").await?.map(|msg| format!("Error unmounting {}: {msg}", req.name)),
            Step::Rmdir => run_for_msg(target, &Cmd::new("rmdir").flag("--").arg(&req.name).env("LC_ALL", "C"), "").await?.map(|msg| format!("Error rmdir {}: {}", req.name, os_error(&msg, &req.name))),
        };
        if let Some(msg) = failure {
            if matches!(step, Step::Mount | Step::Remount) && req.state != State::Remounted {
                undo(facts, target, done).await?;
            }
            return Ok(Err(msg));
        }
    }
    Ok(Ok(()))
}

/// Runs `cmd`; on failure, its stdout and stderr (Ansible's `out + err`).
async fn run_for_msg<T: Target>(target: &T, cmd: &Cmd, stdin: &str) -> Result<Option<String>, ModuleError> {
    let out = target.exec(cmd.as_str(), Some(stdin.as_bytes())).await?;
    Ok((out.rc != 0).then(|| format!("{}{}", out.stdout_str(), out.stderr_str())))
}

async fn mount<T: Target>(req: &Request, target: &T, remount: bool) -> Result<Option<String>, ModuleError> {
    let (cmd, opts) = mount_cmd(req, remount);
    run_for_msg(target, &cmd, &opts).await
}

/// Ansible's `remount()`: `mount -o remount`, else umount and mount, except
/// that `remounted` with options refuses the fallback.
async fn remount<T: Target>(req: &Request, target: &T) -> Result<Option<String>, ModuleError> {
    if mount(req, target, true).await?.is_none() {
        return Ok(None);
    }
    if req.state == State::Remounted && req.opts != "defaults" {
        return Ok(Some(REMOUNT_WITH_OPTS.to_string()));
    }
    let msg = match run_for_msg(target, &umount_cmd(&req.name), "").await? {
        Some(msg) => Some(msg),
        None => mount(req, target, false).await?,
    };
    let verb = if req.state == State::Remounted { "remounting" } else { "mounting" };
    Ok(msg.map(|msg| format!("Error {verb} {}: {msg}", req.name)))
}

async fn make_dirs<T: Target>(req: &Request, target: &T, done: &mut Done) -> Result<Option<String>, ModuleError> {
    let cmd = Cmd::new("/bin/sh").flag("-c").arg(MKDIRS_SCRIPT).arg("sh").args(remote_file::path_prefixes(&req.name));
    let out = target.exec(cmd.as_str(), None).await?;
    done.dirs = out.stdout.split(|&b| b == 0).filter(|d| !d.is_empty()).map(|d| String::from_utf8_lossy(d).into_owned()).collect();
    Ok((out.rc != 0).then(|| format!("Error making dir {}: {}", req.name, out.stderr_str().trim())))
}

async fn write_fstab<T: Target>(facts: &Facts, content: &str, backup: bool, target: &T, done: &mut Done) -> Result<Option<String>, ModuleError> {
    let Some(file) = &facts.fstab else { return Ok(Some("no fstab was read".into())) };
    let exists = file.facts.exists();
    let write = WritePlan {
        dest: file.real_path.clone(),
        mode: if exists { file.facts.mode } else { 0o666 & !file.umask },
        chown: None,
        keep_ids: exists.then_some((file.facts.uid, file.facts.gid)),
        create_dir: false,
        backup,
        size: content.len(),
    };
    match remote_file::apply(target, &write.cmd(), Some(content.as_bytes()), 1, &file.real_path).await? {
        Ok(applied) => {
            done.wrote = true;
            if backup {
                done.backup_file = applied.leading.into_iter().next().unwrap_or_default();
            }
            Ok(None)
        }
        Err(msg) => Ok(Some(msg)),
    }
}

/// After a failed mount: the old fstab back, the new directories gone
/// (best effort, as Ansible's).
async fn undo<T: Target>(facts: &Facts, target: &T, done: &mut Done) -> Result<(), ModuleError> {
    if done.wrote {
        let old = facts.fstab.as_ref().map(|f| String::from_utf8_lossy(&f.content).into_owned()).unwrap_or_default();
        let mut ignored = Done::default();
        write_fstab(facts, &old, false, target, &mut ignored).await?;
    }
    if !done.dirs.is_empty() {
        let cmd = Cmd::new("rmdir").flag("--").args(done.dirs.iter().rev()).quiet();
        target.exec(cmd.as_str(), None).await?;
    }
    Ok(())
}

/// Python's wording of an `rmdir` failure (`[Errno 39] Directory not
/// empty: 'PATH'`), from GNU rmdir's message.
fn os_error(rmdir_msg: &str, path: &str) -> String {
    const ERRNOS: &[(i32, &str)] = &[(39, "Directory not empty"), (20, "Not a directory"), (16, "Device or resource busy"), (13, "Permission denied"), (1, "Operation not permitted"), (30, "Read-only file system")];
    match ERRNOS.iter().find(|(_, text)| rmdir_msg.contains(text)) {
        Some((errno, text)) => format!("[Errno {errno}] {text}: '{path}'"),
        None => rmdir_msg.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpfs(opts: &str) -> Entry {
        Entry { src: "tmpfs".into(), name: "/mnt/t".into(), fstype: "tmpfs".into(), opts: opts.into(), dump: "0".into(), passno: "0".into() }
    }

    #[test]
    fn set_appends_keeps_and_rewrites_as_ansible() {
        let (out, changed) = set("# c\n\nUUID=1 / ext4 defaults 0 1", &tmpfs("size=1m"), "tmpfs");
        assert_eq!(out, "# c\n\nUUID=1 / ext4 defaults 0 1\ntmpfs /mnt/t tmpfs size=1m 0 0\n");
        assert!(changed);
        assert_eq!(set(&out, &tmpfs("size=1m"), "tmpfs"), (out.clone(), false), "idempotent, spacing kept");
        let (edited, changed) = set("tmpfs   /mnt/t  tmpfs size=1m 0 0 # note\n", &tmpfs("size=2m"), "tmpfs");
        assert_eq!((edited.as_str(), changed), ("tmpfs /mnt/t tmpfs size=2m 0 0\n", true));
        // Four fields: dump and passno are missing, so the entry is rewritten.
        assert_eq!(set("tmpfs /mnt/t tmpfs size=1m\n", &tmpfs("size=1m"), "tmpfs"), ("tmpfs /mnt/t tmpfs size=1m 0 0\n".into(), true));
        // Three fields are not an entry.
        assert_eq!(set("tmpfs /mnt/t tmpfs\n", &tmpfs("a"), "tmpfs").0, "tmpfs /mnt/t tmpfs\ntmpfs /mnt/t tmpfs a 0 0\n");
    }

    #[test]
    fn swap_lines_are_told_apart_by_source() {
        let swap = |src: &str| Entry { src: src.into(), name: "none".into(), fstype: "swap".into(), opts: "sw".into(), dump: "0".into(), passno: "0".into() };
        let (out, changed) = set("/dev/a none swap sw 0 0\n", &swap("/dev/b"), "/dev/b");
        assert_eq!((out.as_str(), changed), ("/dev/a none swap sw 0 0\n/dev/b none swap sw 0 0\n", true));
        assert_eq!(unset(&out, "none", Some("/dev/a")), ("/dev/b none swap sw 0 0\n".into(), true));
    }

    #[test]
    fn unset_drops_only_six_field_entries() {
        let fstab = "# tmpfs /mnt/t tmpfs a 0 0\ntmpfs /mnt/t tmpfs a 0 0\ntmpfs /mnt/t tmpfs a\ntmpfs /mnt/t tmpfs a 0 0 #c\n/x /y ext4 a 0 0";
        assert_eq!(unset(fstab, "/mnt/t", None), ("# tmpfs /mnt/t tmpfs a 0 0\ntmpfs /mnt/t tmpfs a\ntmpfs /mnt/t tmpfs a 0 0 #c\n/x /y ext4 a 0 0".into(), true));
        assert_eq!(unset("/x /y ext4 a 0 0\n", "/mnt/t", None), ("/x /y ext4 a 0 0\n".into(), false));
    }

    #[test]
    fn fields_are_escaped_as_fstab_wants() {
        assert_eq!(escape(r"/mnt/a b&c\d"), r"/mnt/a\040b\046c\134d");
        let spaced = Entry { name: escape("/mnt/a b"), ..tmpfs("defaults") };
        assert_eq!(set("", &spaced, "tmpfs").0, "tmpfs /mnt/a\\040b tmpfs defaults 0 0\n");
        assert!(unset("tmpfs /mnt/a\\040b tmpfs defaults 0 0\n", &escape("/mnt/a b"), None).1);
    }

    fn request_of(v: serde_json::Value) -> Result<Request, String> {
        request(&Args::new(v.as_object().unwrap().clone())).map_err(|e| e.to_string())
    }

    fn facts(is_mount: bool, exists: bool, mountinfo: &str, fstab: &str) -> Facts {
        let file = TextFile { path: "/f".into(), real_path: "/f".into(), facts: remote_file::FileFacts::absent(), umask: 0o22, content: fstab.as_bytes().to_vec() };
        Facts { is_mount, exists, mountinfo: Some(mountinfo.into()), fstab: Some(file) }
    }

    const TMPFS_AT_T: &str = "1 0 0:1 / / rw - ext4 /dev/sda1 rw\n230 1 0:57 / /mnt/t rw,relatime - tmpfs tmpfs rw\n";

    #[test]
    fn arguments_as_ansible_settles_them() {
        let r = request_of(serde_json::json!({"path": "/mnt/t", "src": "tmpfs", "fstype": "tmpfs", "state": "mounted", "boot": false})).unwrap();
        assert_eq!((r.opts.as_str(), r.dump.as_str(), r.fstab.as_str(), r.custom_fstab), ("defaults,noauto", "0", "/etc/fstab", false));
        let noauto = request_of(serde_json::json!({"path": "/m", "state": "unmounted", "opts": "ro,noauto", "fstab": "/tmp/f"})).unwrap();
        assert_eq!(noauto.warnings, vec!["Ignore the 'boot' due to 'opts' contains 'noauto'."]);
        assert!(noauto.custom_fstab);
        assert_eq!(request_of(serde_json::json!({"path": "/m", "state": "present", "src": "x"})).unwrap_err(), "state is present but all of the following are missing: fstype");
    }

    #[test]
    fn each_state_plans_ansibles_steps() {
        let tmpfs = serde_json::json!({"path": "/mnt/t", "src": "tmpfs", "fstype": "tmpfs", "state": "mounted", "opts": "size=1m"});
        let mounted = request_of(tmpfs.clone()).unwrap();
        let fresh = plan(&mounted, &facts(false, false, TMPFS_AT_T.split_once('\n').unwrap().0, "")).unwrap();
        assert_eq!(fresh, Plan { changed: true, steps: vec![Step::MakeDirs, Step::WriteFstab("tmpfs /mnt/t tmpfs size=1m 0 0\n".into()), Step::Mount] });
        let same = plan(&mounted, &facts(true, true, TMPFS_AT_T, "tmpfs /mnt/t tmpfs size=1m 0 0\n")).unwrap();
        assert_eq!(same, Plan { changed: false, steps: vec![] }, "a no-op is the probe alone");
        let other = plan(&mounted, &facts(true, true, TMPFS_AT_T, "tmpfs /mnt/t tmpfs size=2m 0 0\n")).unwrap();
        assert_eq!(other.steps, vec![Step::WriteFstab("tmpfs /mnt/t tmpfs size=1m 0 0\n".into()), Step::Remount]);

        let with_state = |state: &str| request_of(serde_json::json!({"path": "/mnt/t", "src": "tmpfs", "fstype": "tmpfs", "state": state})).unwrap();
        let absent = plan(&with_state("absent"), &facts(true, true, TMPFS_AT_T, "tmpfs /mnt/t tmpfs a 0 0\n")).unwrap();
        assert_eq!(absent.steps, vec![Step::WriteFstab(String::new()), Step::Umount, Step::Rmdir]);
        assert!(!plan(&with_state("absent"), &facts(true, true, TMPFS_AT_T, "")).unwrap().changed, "not in fstab: left mounted, as Ansible");
        assert_eq!(plan(&with_state("unmounted"), &facts(false, true, TMPFS_AT_T, "")).unwrap().steps, vec![Step::Umount], "mountinfo knows the point");
        assert!(!plan(&with_state("unmounted"), &facts(false, true, "", "")).unwrap().changed);
        assert_eq!(plan(&with_state("remounted"), &facts(false, false, "", "")).unwrap(), Plan { changed: true, steps: vec![Step::Remount] });
        assert_eq!(plan(&with_state("ephemeral"), &facts(true, true, TMPFS_AT_T, "")).unwrap().steps, vec![Step::Remount]);
        let busy = request_of(serde_json::json!({"path": "/mnt/t", "src": "/srv/a", "fstype": "none", "state": "ephemeral"})).unwrap();
        assert_eq!(plan(&busy, &facts(true, true, TMPFS_AT_T, "")).unwrap_err(), EPHEMERAL_BUSY);
    }

    #[test]
    fn mount_commands_keep_options_off_the_command_line() {
        let eph = request_of(serde_json::json!({"path": "/mnt/a b", "src": "$(id)", "fstype": "tmpfs", "state": "ephemeral", "opts": "size=1m"})).unwrap();
        let (cmd, stdin) = mount_cmd(&eph, false);
        assert!(cmd.as_str().ends_with(" sh '' -t tmpfs -- '$(id)' '/mnt/a b'"), "{cmd}");
        assert_eq!(stdin, "size=1m");
        let remounted = request_of(serde_json::json!({"path": "/m", "state": "remounted", "opts": "ro", "fstab": "/tmp/f"})).unwrap();
        let (cmd, stdin) = mount_cmd(&remounted, true);
        assert!(cmd.as_str().ends_with(" sh remount -T /tmp/f -- /m"), "{cmd}");
        assert_eq!(stdin, "ro");
        assert_eq!(mount_cmd(&remounted, false).1, "", "the fallback mount reads the fstab's options");
        assert_eq!(os_error("rmdir: failed to remove '/m': Directory not empty\n", "/m"), "[Errno 39] Directory not empty: '/m'");
    }

    #[test]
    fn mountinfo_sources_as_ansible_reads_them() {
        let info = "1 0 0:1 / / rw - ext4 /dev/sda1 rw\n42 60 0:35 / /tmp rw - tmpfs tmpfs rw\n60 1 8:1 / /x rw - ext4 /dev/sda2 rw\n78 42 0:35 /aaa /tmp/bbb rw - tmpfs tmpfs rw\n140 136 253:2 /rootfs / rw - ext4 /dev/sdb2 rw\n141 140 253:2 /rootfs/tmp/aaa /tmp/ccc rw - ext4 /dev/sdb2 rw\n230 110 0:57 / /mnt/t rw,relatime shared:63 - tmpfs tmpfs rw,size=2048k\nbad\n";
        let m = mounts(info);
        assert_eq!(m["/tmp/bbb"].src, "/tmp/aaa");
        assert_eq!(m["/tmp/ccc"].src, "/tmp/aaa");
        assert_eq!(m["/x"].src, "/dev/sda2", "parent 1: the device");
        assert_eq!(m["/tmp"].src, "/x/", "parent 60 is known and not mount 1: its dst + root, as Ansible");
        assert_eq!(m["/"].src, "/dev/sdb2", "the last line of a point wins");
        assert_eq!(m["/mnt/t"], Mounted { src: "tmpfs".into(), opts: "rw,relatime".into(), fstype: "tmpfs".into() });
        assert_eq!(m.len(), 6, "a malformed line is skipped (Ansible would crash on it)");
    }
}
