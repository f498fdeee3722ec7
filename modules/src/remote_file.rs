//! Facts about files on the target, their attributes, and atomic writes; shared by
//! `copy`, `template` and `file`.
//!
//! One probe command reports, per path: type, mode, owner/group (ids and names),
//! size, device/inode, link target and (optionally) the sha1 of a regular file,
//! plus the umask. Fields are NUL-terminated so any path or name is data.
//! Apply commands end with the same probe, so a change costs one command and
//! the result reports the file as it really is afterwards.

use serde_json::Value;

use crate::args::value_to_string;
use crate::mode::{format_mode, ModeSpec};
use crate::shell::{quote, Cmd};
use crate::{Args, ExecOutput, ModuleError, ModuleResult, Target};

/// The probe, as a script: `$1` = P (lstat) or L (follow links), `$2` = 1 to
/// checksum regular files, then the paths. Output: umask, then per path either
/// `absent` or `present`, `MODEHEX UID GID SIZE DEV INO NLINK`, owner, group, link
/// target (empty unless an unfollowed link), sha1 (or empty); each NUL-terminated.
pub(crate) const PROBE_SCRIPT: &str = r#"f=$1 s=$2; shift 2
printf '%s\0' "$(umask)"
for p do
  if [ -L "$p" ] && { [ "$f" = P ] || [ ! -e "$p" ]; }; then o=
  elif [ -e "$p" ]; then o=-L
  else printf 'absent\0'; continue; fi
  stat $o --printf 'present\0%f %u %g %s %d %i %h\0%U\0%G\0' -- "$p" || exit 1
  if [ -L "$p" ] && [ -z "$o" ]; then l=$(readlink -- "$p"; echo x); printf '%s\0' "${l%?x}"; else printf '\0'; fi
  if [ "$s" = 1 ] && [ -f "$p" ]; then h=$(sha1sum < "$p") || exit 1; printf '%s\0' "${h%% *}"; else printf '\0'; fi
done"#;

/// Writes stdin to a temp file beside `dest` (or takes the already staged and
/// verified temp file `$9`), sets its attributes (first the POSIX ACL entries
/// `dest` has beyond its mode, kept as Ansible's atomic_move keeps them, then the mode), runs the validator `$10` on
/// it (a script taking the temp path as `$1`), optionally backs `dest` up, then
/// renames it onto `dest`; the temp file is removed on any failure. Args: dest,
/// dir, mode (octal), explicit `owner[:group]` (may be empty), old `uid:gid` to
/// keep best-effort (may be empty), mkdir flag, backup flag, size, staged temp,
/// validator, md5 flag. Prints the backup path (or nothing), then with the md5
/// flag the new content's md5 (Ansible's `md5sum`), each NUL-terminated.
// The size check matters: when the connection dies mid-transfer, sshd closes
// the command's stdin, so `cat` sees a normal EOF after a partial content.
const WRITE_SCRIPT: &str = r#"dest=$1 dir=$2 mode=$3 own=$4 keep=$5 mk=$6 backup=$7 size=$8 staged=${9-} val=${10-} md5=${11-}
tmp=$staged
if [ -z "$tmp" ]; then
  if [ "$mk" = 1 ]; then mkdir -p -- "$dir" || exit 1; fi
  tmp=$(mktemp -- "$dir/.stockman.XXXXXXXX") || exit 1
fi
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 1' HUP INT TERM PIPE
if [ -z "$staged" ]; then
  cat > "$tmp" || exit 1
  got=$(wc -c < "$tmp") || exit 1
  if [ $got -ne "$size" ]; then echo "incomplete transfer: $got of $size bytes arrived" >&2; exit 1; fi
fi
if [ -e "$dest" ] && command -v getfacl >/dev/null 2>&1; then
  a=$(getfacl -cps -- "$dest" 2>/dev/null)
  if [ -n "$a" ]; then printf '%s\n' "$a" | setfacl --set-file=- -- "$tmp" || exit 1; fi
fi
chmod -- "$mode" "$tmp" || exit 1
if [ -n "$keep" ]; then chown -- "$keep" "$tmp" 2>/dev/null; fi
if [ -n "$own" ]; then chown -- "$own" "$tmp" || exit 1; fi
if [ -n "$val" ]; then
  out=$(/bin/sh -c "$val" sh "$tmp" 2>&1 </dev/null); rc=$?
  if [ $rc -ne 0 ]; then printf 'failed to validate (exit status %d): %s\n' "$rc" "$out" >&2; exit 1; fi
fi
b=
if [ "$backup" = 1 ] && [ -e "$dest" ]; then
  b="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S~)"; cp -p -- "$dest" "$b" || exit 1
fi
if [ "$md5" = 1 ]; then m=$(md5sum < "$tmp") || exit 1; fi
mv -fT -- "$tmp" "$dest" || exit 1
printf '%s\0' "$b"
if [ "$md5" = 1 ]; then printf '%s\0' "${m%% *}"; fi"#;

/// What a path is on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Absent,
    File,
    Directory,
    Link,
    Other,
}

impl FileKind {
    /// Ansible's name for it (`state` in results).
    pub fn state(self) -> &'static str {
        match self {
            FileKind::Absent => "absent",
            FileKind::File => "file",
            FileKind::Directory => "directory",
            FileKind::Link => "link",
            FileKind::Other => "file",
        }
    }
}

/// One probed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    pub kind: FileKind,
    /// Permission bits (07777).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub owner: String,
    pub group: String,
    pub size: u64,
    /// (device, inode), to recognise hard links.
    pub inode: (u64, u64),
    /// Link count: a regular file with more than one is reported as `hard`.
    pub nlink: u64,
    /// Target of an unfollowed symlink.
    pub link_target: Option<String>,
    /// sha1 of a regular file, when asked for.
    pub sha1: Option<String>,
}

/// Owner/group id not known yet (a path about to be created): matches no wanted id.
pub const UNKNOWN_ID: u32 = u32::MAX;

impl FileFacts {
    pub fn absent() -> Self {
        FileFacts {
            kind: FileKind::Absent,
            mode: 0,
            uid: UNKNOWN_ID,
            gid: UNKNOWN_ID,
            owner: String::new(),
            group: String::new(),
            size: 0,
            inode: (0, 0),
            nlink: 0,
            link_target: None,
            sha1: None,
        }
    }

    pub fn exists(&self) -> bool {
        self.kind != FileKind::Absent
    }

    /// Ansible's `state` of the path: a regular file with other hard links is `hard`.
    pub fn state(&self) -> &'static str {
        match self.kind {
            FileKind::File if self.nlink > 1 => "hard",
            kind => kind.state(),
        }
    }
}

/// The probe's answer: the umask and one [`FileFacts`] per path, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub umask: u32,
    pub files: Vec<FileFacts>,
}

/// Whether the probe follows symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    Yes,
    No,
}

/// The probe command for `paths`.
pub fn probe_cmd(paths: &[&str], follow: Follow, checksum: bool) -> Cmd {
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(PROBE_SCRIPT)
        .arg("sh")
        .arg(if follow == Follow::Yes { "L" } else { "P" })
        .arg(if checksum { "1" } else { "0" })
        .args(paths)
}

/// Minutes after its last write a `.stockman.XXXXXXXX` temp file counts as
/// orphaned (its run was killed before the rename): a live transfer writes
/// continuously and a staged file is renamed within seconds, so a concurrent
/// run's temp file is never this old.
pub const ORPHAN_MINUTES: u32 = 60;

/// Removes this tool's orphaned temp files in each directory: only regular
/// files named exactly as `mktemp .stockman.XXXXXXXX` names them, and only
/// when untouched for [`ORPHAN_MINUTES`]. Never fails (a missing or unreadable
/// directory is simply skipped).
const SWEEP_SCRIPT: &str = r#"age=$1; shift
for d do
  case $d in -*) d=./$d;; esac
  LC_ALL=C find "$d" -maxdepth 1 -type f -name '.stockman.[0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z]' -mmin "+$age" -delete 2>/dev/null
done
:"#;

/// The sweep of orphaned temp files in `dirs` (see [`SWEEP_SCRIPT`]).
pub fn sweep_orphans_cmd(dirs: &[String]) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(SWEEP_SCRIPT).arg("sh").arg(ORPHAN_MINUTES.to_string()).args(dirs)
}

/// [`probe`] that first sweeps the orphaned temp files of a write to
/// `paths` (in their directories), in the same round trip.
pub async fn probe_sweeping<T: Target>(
    target: &T,
    paths: &[&str],
    follow: Follow,
    checksum: bool,
) -> Result<Probe, ModuleError> {
    let mut dirs: Vec<String> = paths.iter().map(|p| parent_dir(p)).collect();
    dirs.dedup();
    let cmd = sweep_orphans_cmd(&dirs).then(";", probe_cmd(paths, follow, checksum));
    run_probe(target, cmd, paths).await
}

/// Runs the probe for `paths` (one command).
pub async fn probe<T: Target>(
    target: &T,
    paths: &[&str],
    follow: Follow,
    checksum: bool,
) -> Result<Probe, ModuleError> {
    run_probe(target, probe_cmd(paths, follow, checksum), paths).await
}

async fn run_probe<T: Target>(target: &T, cmd: Cmd, paths: &[&str]) -> Result<Probe, ModuleError> {
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        return Err(ModuleError::BadArgs(format!(
            "could not inspect `{}` on the host: {}",
            paths.join("`, `"),
            out.stderr_str().trim()
        )));
    }
    parse_probe(&mut Fields::new(&out.stdout), paths.len()).ok_or_else(|| {
        ModuleError::BadArgs(format!("unexpected probe output: {:?}", out.stdout_str()))
    })
}

/// NUL-terminated fields of a command's output.
pub(crate) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Fields { rest: bytes }
    }

    pub(crate) fn next_field(&mut self) -> Option<String> {
        let end = self.rest.iter().position(|&b| b == 0)?;
        let field = String::from_utf8_lossy(&self.rest[..end]).into_owned();
        self.rest = &self.rest[end + 1..];
        Some(field)
    }
}

/// Parses the probe's output for `count` paths.
pub(crate) fn parse_probe(fields: &mut Fields<'_>, count: usize) -> Option<Probe> {
    let umask = u32::from_str_radix(fields.next_field()?.trim(), 8).ok()?;
    let files = (0..count)
        .map(|_| parse_one(fields))
        .collect::<Option<Vec<_>>>()?;
    Some(Probe { umask, files })
}

fn parse_one(fields: &mut Fields<'_>) -> Option<FileFacts> {
    if fields.next_field()? == "absent" {
        return Some(FileFacts::absent());
    }
    let numbers = fields.next_field()?;
    let mut n = numbers.split(' ');
    let raw_mode = u32::from_str_radix(n.next()?, 16).ok()?;
    let uid = n.next()?.parse().ok()?;
    let gid = n.next()?.parse().ok()?;
    let size = n.next()?.parse().ok()?;
    let inode = (n.next()?.parse().ok()?, n.next()?.parse().ok()?);
    // Optional so that older probe records (and their fixtures) still parse.
    let nlink = n.next().and_then(|count| count.parse().ok()).unwrap_or(1);
    let owner = fields.next_field()?;
    let group = fields.next_field()?;
    let link = fields.next_field()?;
    let sum = fields.next_field()?;
    let kind = match raw_mode & 0o170000 {
        0o100000 => FileKind::File,
        0o040000 => FileKind::Directory,
        0o120000 => FileKind::Link,
        _ => FileKind::Other,
    };
    Some(FileFacts {
        kind,
        mode: raw_mode & 0o7777,
        uid,
        gid,
        owner,
        group,
        size,
        inode,
        nlink,
        link_target: (kind == FileKind::Link).then_some(link),
        sha1: (!sum.is_empty()).then_some(sum),
    })
}

/// The `mode`, `owner` and `group` a task asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WantedAttrs {
    pub mode: Option<ModeSpec>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl WantedAttrs {
    pub fn from_args(args: &Args) -> Result<Self, ModuleError> {
        let mode = args
            .get("mode")
            .map(ModeSpec::from_value)
            .transpose()
            .map_err(|e| ModuleError::BadArgs(e.to_string()))?;
        Ok(WantedAttrs {
            mode,
            owner: args.str("owner"),
            group: args.str("group"),
        })
    }

    /// The attributes of `facts` that differ from what is wanted.
    pub fn changes(&self, facts: &FileFacts, umask: u32) -> AttrChanges {
        let is_dir = facts.kind == FileKind::Directory;
        AttrChanges {
            mode: self
                .mode
                .as_ref()
                .map(|m| m.resolve(facts.mode, is_dir, umask))
                .filter(|&m| m != facts.mode),
            owner: self
                .owner
                .clone()
                .filter(|o| !names_match(o, &facts.owner, facts.uid)),
            group: self
                .group
                .clone()
                .filter(|g| !names_match(g, &facts.group, facts.gid)),
        }
    }
}

/// `wanted` is a name or a numeric id.
fn names_match(wanted: &str, name: &str, id: u32) -> bool {
    match wanted.parse::<u32>() {
        Ok(n) => n == id,
        Err(_) => wanted == name,
    }
}

/// Attribute fixes to apply to an existing path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrChanges {
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl AttrChanges {
    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none()
    }

    /// `owner:group`, `owner` or `:group` for chown, if any.
    /// An exact numeric mode for GNU chmod: five digits, because with fewer it keeps
    /// a directory's setuid/setgid bits.
    pub fn chmod_arg(mode: u32) -> String {
        format!("0{:04o}", mode & 0o7777)
    }

    pub fn chown_spec(&self) -> Option<String> {
        chown_spec(self.owner.as_deref(), self.group.as_deref())
    }

    /// `chmod`/`chown` commands (joined with `&&`); `no_deref` changes a symlink itself.
    pub fn apply_cmd(&self, path: &str, no_deref: bool) -> Option<Cmd> {
        let chmod = self
            .mode
            .map(|m| Cmd::new("chmod").flag("--").arg(chmod_arg(m)).arg(path));
        let chown = self.chown_spec().map(|spec| {
            let base = if no_deref {
                Cmd::new("chown").flag("-h")
            } else {
                Cmd::new("chown")
            };
            base.flag("--").arg(spec).arg(path)
        });
        match (chmod, chown) {
            (Some(a), Some(b)) => Some(a.then("&&", b)),
            (a, b) => a.or(b),
        }
    }

    /// `facts` as they will be once these changes are applied (for check mode).
    pub fn predict(&self, facts: &FileFacts) -> FileFacts {
        let mut after = facts.clone();
        if let Some(m) = self.mode {
            after.mode = m;
        }
        if let Some(o) = &self.owner {
            set_name_or_id(o, &mut after.owner, &mut after.uid);
        }
        if let Some(g) = &self.group {
            set_name_or_id(g, &mut after.group, &mut after.gid);
        }
        after
    }
}

fn set_name_or_id(wanted: &str, name: &mut String, id: &mut u32) {
    match wanted.parse::<u32>() {
        Ok(n) => *id = n,
        Err(_) => *name = wanted.to_string(),
    }
}

/// An exact numeric mode for GNU chmod: five digits, because with fewer it keeps
/// a directory's setuid/setgid bits.
pub fn chmod_arg(mode: u32) -> String {
    format!("0{:04o}", mode & 0o7777)
}

pub fn chown_spec(owner: Option<&str>, group: Option<&str>) -> Option<String> {
    match (owner, group) {
        (Some(o), Some(g)) => Some(format!("{o}:{g}")),
        (Some(o), None) => Some(o.to_string()),
        (None, Some(g)) => Some(format!(":{g}")),
        (None, None) => None,
    }
}

/// The directory part of a path as the write script needs it ("." for a bare name).
pub fn parent_dir(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => trimmed[..i].to_string(),
        None => ".".to_string(),
    }
}

/// The last component of a path.
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// An atomic replacement of a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritePlan {
    pub dest: String,
    /// Final permission bits of the new file.
    pub mode: u32,
    /// Explicit `owner[:group]`; failure to set it fails the task.
    pub chown: Option<String>,
    /// The replaced file's `uid:gid`, kept when allowed (Ansible keeps them too).
    pub keep_ids: Option<(u32, u32)>,
    pub create_dir: bool,
    pub backup: bool,
    /// Bytes of the new content: a shorter arrival (a cut transfer) is refused.
    pub size: usize,
}

impl WritePlan {
    /// The write command; its stdin is the new content. Ends with a probe of `dest`.
    pub fn cmd(&self) -> Cmd {
        self.cmd_with(None, None)
    }

    /// [`WritePlan::cmd`] taking an already staged temp file (no stdin) and/or
    /// running a validator script (see [`validate_script`]) before the rename.
    pub fn cmd_with(&self, staged: Option<&str>, validate: Option<&str>) -> Cmd {
        self.script(staged, validate, false)
    }

    /// [`WritePlan::cmd_with`] that also prints the new content's md5 after
    /// the backup path (two leading fields before the probe).
    pub fn cmd_with_md5(&self, staged: Option<&str>, validate: Option<&str>) -> Cmd {
        self.script(staged, validate, true)
    }

    fn script(&self, staged: Option<&str>, validate: Option<&str>, md5: bool) -> Cmd {
        let keep = self
            .keep_ids
            .map(|(u, g)| format!("{u}:{g}"))
            .unwrap_or_default();
        Cmd::new("/bin/sh")
            .flag("-c")
            .arg(WRITE_SCRIPT)
            .arg("sh")
            .arg(&self.dest)
            .arg(parent_dir(&self.dest))
            .arg(chmod_arg(self.mode))
            .arg(self.chown.as_deref().unwrap_or(""))
            .arg(keep)
            .arg(if self.create_dir { "1" } else { "0" })
            .arg(if self.backup { "1" } else { "0" })
            .arg(self.size.to_string())
            .arg(staged.unwrap_or(""))
            .arg(validate.unwrap_or(""))
            .arg(if md5 { "1" } else { "0" })
            .then("&&", probe_cmd(&[&self.dest], Follow::No, false))
    }
}

/// A `validate` argument (`visudo -cf %s`) as a script that gets the file to
/// check as `$1`: split into words as Ansible does (no shell), every word
/// quoted, each `%s` replaced by `"$1"`.
pub fn validate_script(validate: &str) -> Result<String, String> {
    if !validate.contains("%s") {
        return Err(format!("validate must contain %s: {validate}"));
    }
    let words = crate::shlex::split(validate).map_err(|e| format!("cannot parse validate `{validate}`: {e}"))?;
    let quoted: Vec<String> = words
        .iter()
        .map(|word| match word.as_str() {
            "" => quote(""),
            _ => word.split("%s").map(|part| if part.is_empty() { String::new() } else { quote(part) }).collect::<Vec<_>>().join("\"$1\""),
        })
        .collect();
    Ok(quoted.join(" "))
}

/// What an apply command that ends with a probe reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Leading fields printed before the probe (e.g. the backup path).
    pub leading: Vec<String>,
    pub facts: FileFacts,
}

/// A staged temp file put in place of `dest`, as a download is: renamed onto
/// it (atomic) only when its sha1 differs, else removed; then the wanted
/// attributes. `Err`: why it failed (the temp file is gone either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub replaced: bool,
    pub changed: bool,
    pub backup_file: Option<String>,
    pub facts: FileFacts,
}

#[allow(clippy::too_many_arguments)]
pub async fn place_staged<T: Target>(
    target: &T,
    tmp: &str,
    tmp_sha1: &str,
    dest: &str,
    current: &FileFacts,
    umask: u32,
    attrs: &WantedAttrs,
    backup: bool,
) -> Result<Result<Placed, String>, ModuleError> {
    if current.sha1.as_deref() == Some(tmp_sha1) {
        target.exec(Cmd::new("rm").flag("-f").flag("--").arg(tmp).as_str(), None).await?;
        let changes = attrs.changes(current, umask);
        let Some(cmd) = changes.apply_cmd(dest, false) else {
            return Ok(Ok(Placed { replaced: false, changed: false, backup_file: None, facts: current.clone() }));
        };
        let out = target.exec(cmd.as_str(), None).await?;
        if out.rc != 0 {
            return Ok(Err(format!("could not change `{dest}`: {}", out.stderr_str().trim())));
        }
        return Ok(Ok(Placed { replaced: false, changed: true, backup_file: None, facts: changes.predict(current) }));
    }
    let base = if current.kind == FileKind::File { current.mode } else { 0o666 & !umask };
    let plan = WritePlan {
        dest: dest.to_string(),
        mode: attrs.mode.as_ref().map_or(base, |m| m.resolve(base, false, umask)),
        chown: chown_spec(attrs.owner.as_deref(), attrs.group.as_deref()),
        keep_ids: current.exists().then_some((current.uid, current.gid)),
        create_dir: false,
        backup,
        size: 0,
    };
    match apply(target, &plan.cmd_with(Some(tmp), None), None, 1, dest).await? {
        Err(msg) => {
            target.exec(Cmd::new("rm").flag("-f").flag("--").arg(tmp).as_str(), None).await?;
            Ok(Err(msg))
        }
        Ok(applied) => Ok(Ok(Placed {
            replaced: true,
            changed: true,
            backup_file: applied.leading.first().filter(|b| !b.is_empty()).cloned(),
            facts: applied.facts,
        })),
    }
}

/// Runs an apply command ending with a probe of one path; a failure names `path`.
pub async fn apply<T: Target>(
    target: &T,
    cmd: &Cmd,
    stdin: Option<&[u8]>,
    leading: usize,
    path: &str,
) -> Result<Result<Applied, String>, ModuleError> {
    let out: ExecOutput = target.exec(cmd.as_str(), stdin).await?;
    if out.rc != 0 {
        return Ok(Err(format!(
            "could not change `{path}`: {}",
            out.stderr_str().trim()
        )));
    }
    let mut fields = Fields::new(&out.stdout);
    let leading = (0..leading)
        .map(|_| fields.next_field())
        .collect::<Option<Vec<_>>>();
    let parsed = leading.and_then(|l| parse_probe(&mut fields, 1).map(|p| (l, p)));
    match parsed {
        Some((leading, mut probe)) => Ok(Ok(Applied {
            leading,
            facts: probe.files.remove(0),
        })),
        None => Ok(Err(format!(
            "unexpected output after changing `{path}`: {:?}",
            out.stdout_str()
        ))),
    }
}

/// Adds Ansible's file fields (mode, owner, group, uid, gid, size, state) to a result.
pub fn with_file_fields(result: ModuleResult, facts: &FileFacts) -> ModuleResult {
    if !facts.exists() {
        return result.with("state", "absent");
    }
    let mut result = result.with("mode", format_mode(facts.mode));
    // Check mode may not know who will own a file it has not created.
    if !facts.owner.is_empty() {
        result = result.with("owner", facts.owner.clone());
    }
    if !facts.group.is_empty() {
        result = result.with("group", facts.group.clone());
    }
    if facts.uid != UNKNOWN_ID {
        result = result.with("uid", facts.uid);
    }
    if facts.gid != UNKNOWN_ID {
        result = result.with("gid", facts.gid);
    }
    result
        .with("size", facts.size)
        .with("state", facts.state())
}

/// Creates `path` and each missing parent one by one (as Ansible's `file` and
/// `copy` do, unlike `mkdir -p`), giving every directory it creates `mode` and
/// `owner[:group]`. Existing directories are left alone.
pub fn mkdirs_cmd(path: &str, mode: Option<u32>, chown: Option<&str>) -> Cmd {
    const SCRIPT: &str = r#"m=$1 o=$2; shift 2
for d do
  [ -e "$d" ] && continue
  mkdir -- "$d" || [ -d "$d" ] || exit 1
  if [ -n "$m" ]; then chmod -- "$m" "$d" || exit 1; fi
  if [ -n "$o" ]; then chown -- "$o" "$d" || exit 1; fi
done"#;
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(SCRIPT)
        .arg("sh")
        .arg(mode.map(chmod_arg).unwrap_or_default())
        .arg(chown.unwrap_or(""))
        .args(path_prefixes(path))
}

/// `/a/b/c` → `/a`, `/a/b`, `/a/b/c`; `a/b` → `a`, `a/b` (empty components skipped).
pub fn path_prefixes(path: &str) -> Vec<String> {
    let mut current = if path.starts_with('/') { "/".to_string() } else { String::new() };
    let mut out = Vec::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !current.is_empty() && !current.ends_with('/') {
            current.push('/');
        }
        current.push_str(part);
        out.push(current.clone());
    }
    out
}

/// Above this size (or with NUL bytes) a diff shows a note instead of content.
pub const MAX_DIFF_BYTES: usize = 64 * 1024;

/// Text for one side of a diff, or a note saying why it is left out.
pub fn diff_text(bytes: &[u8]) -> String {
    if bytes.len() > MAX_DIFF_BYTES {
        format!("(diff skipped: content is larger than {MAX_DIFF_BYTES} bytes)\n")
    } else if bytes.contains(&0) || std::str::from_utf8(bytes).is_err() {
        "(diff skipped: content appears to be binary)\n".to_string()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// A content argument as text (`content: {a: 1}` becomes JSON, as in Ansible).
pub fn content_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Array(_) | Value::Object(_) => value.to_string().into_bytes(),
        other => value_to_string(other).into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_present_absent_and_links() {
        let out = b"0022\0present\x0081a4 1000 1000 12 2049 77 2\0alice\0staff\0\0da39a3ee5e6b4b0d3255bfef95601890afd80709\0absent\0present\0a1ff 0 0 4 2049 78 1\0root\0root\0a\nb\0\0";
        let probe = parse_probe(&mut Fields::new(out), 3).unwrap();
        assert_eq!(probe.umask, 0o022);
        let f = &probe.files[0];
        assert_eq!(
            (f.kind, f.mode, f.uid, f.size),
            (FileKind::File, 0o644, 1000, 12)
        );
        assert_eq!((f.owner.as_str(), f.group.as_str()), ("alice", "staff"));
        assert_eq!(
            f.sha1.as_deref(),
            Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")
        );
        assert_eq!(f.state(), "hard", "a file with two links");
        assert_eq!(probe.files[1].kind, FileKind::Absent);
        assert_eq!(probe.files[2].kind, FileKind::Link);
        assert_eq!(probe.files[2].state(), "link");
        assert_eq!(probe.files[2].link_target.as_deref(), Some("a\nb"));
    }

    #[test]
    fn truncated_output_is_rejected() {
        assert!(parse_probe(&mut Fields::new(b"0022\0present\x0081a4 1000"), 1).is_none());
        assert!(parse_probe(&mut Fields::new(b"0022\0"), 1).is_none());
    }

    #[test]
    fn attr_changes_compare_names_or_ids() {
        let facts = FileFacts {
            kind: FileKind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            owner: "root".into(),
            group: "root".into(),
            ..FileFacts::absent()
        };
        let new = FileFacts {
            kind: FileKind::File,
            ..FileFacts::absent()
        };
        let root = WantedAttrs {
            mode: None,
            owner: Some("0".into()),
            group: Some("0".into()),
        };
        assert_eq!(
            root.changes(&new, 0o022).chown_spec().as_deref(),
            Some("0:0"),
            "a new path always gets chown"
        );
        let wanted = WantedAttrs {
            mode: Some(ModeSpec::Octal(0o644)),
            owner: Some("0".into()),
            group: Some("root".into()),
        };
        assert!(wanted.changes(&facts, 0o022).is_empty());
        let wanted = WantedAttrs {
            mode: Some(ModeSpec::parse("g+w").unwrap()),
            owner: Some("bob".into()),
            group: None,
        };
        let changes = wanted.changes(&facts, 0o022);
        assert_eq!(changes.mode, Some(0o664));
        assert_eq!(changes.chown_spec().as_deref(), Some("bob"));
        assert_eq!(
            changes.apply_cmd("-x", false).unwrap().as_str(),
            "chmod -- 00664 -x && chown -- bob -x"
        );
    }

    #[test]
    fn validate_words_are_quoted_and_take_the_path() {
        assert_eq!(validate_script("visudo -cf %s").unwrap(), "visudo -cf \"$1\"");
        assert_eq!(validate_script("check --file=%s.x 'a b'").unwrap(), "check --file=\"$1\".x 'a b'");
        assert_eq!(validate_script("x $(reboot) %s").unwrap(), "x '$(reboot)' \"$1\"");
        assert!(validate_script("visudo -c").unwrap_err().contains("must contain %s"));
    }

    #[test]
    fn every_missing_parent_is_created_with_the_attributes() {
        assert_eq!(path_prefixes("/a/b//c/"), ["/a", "/a/b", "/a/b/c"]);
        assert_eq!(path_prefixes("a/b"), ["a", "a/b"]);
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().join("x y");
        let deep = top.join("$(id)/c");
        let cmd = mkdirs_cmd(deep.to_str().unwrap(), Some(0o750), None);
        let out = std::process::Command::new("/bin/sh").arg("-c").arg(cmd.as_str()).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        use std::os::unix::fs::PermissionsExt;
        for made in [&top, &top.join("$(id)"), &deep] {
            assert_eq!(std::fs::metadata(made).unwrap().permissions().mode() & 0o7777, 0o750, "{made:?}");
        }
        assert_ne!(std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o7777, 0o750, "existing dirs are left alone");
    }

    #[test]
    fn the_sweep_takes_quoted_dirs_and_only_mktemp_names() {
        let cmd = sweep_orphans_cmd(&["/srv/it's".to_string(), "-d".to_string()]).into_string();
        assert!(cmd.starts_with("/bin/sh -c "), "{cmd}");
        assert!(cmd.ends_with(" sh 60 '/srv/it'\\''s' -d"), "{cmd}");
        assert!(SWEEP_SCRIPT.contains("-name '.stockman.[0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z][0-9A-Za-z]'"));
        assert!(SWEEP_SCRIPT.contains("-type f") && SWEEP_SCRIPT.contains("-mmin \"+$age\""));
    }

    #[test]
    fn path_parts() {
        assert_eq!(parent_dir("/etc/motd"), "/etc");
        assert_eq!(parent_dir("/motd"), "/");
        assert_eq!(parent_dir("motd"), ".");
        assert_eq!(parent_dir("a/b/"), "a");
        assert_eq!(basename("files/x.conf"), "x.conf");
        assert_eq!(basename("x.conf"), "x.conf");
    }

    #[test]
    fn diff_text_skips_binary_and_large() {
        assert_eq!(diff_text(b"hi\n"), "hi\n");
        assert!(diff_text(b"a\0b").contains("binary"));
        assert!(diff_text(&vec![b'a'; MAX_DIFF_BYTES + 1]).contains("larger"));
    }
}
