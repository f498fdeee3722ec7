//! `unarchive`: a tar (gz, bz2, xz, zst or plain) or zip archive unpacked
//! into an existing directory on the host, with GNU tar or unzip there, as
//! Ansible's module decides it: a tar archive is unpacked when `tar --diff`
//! reports a difference that matters, a zip archive when a member differs
//! from its file (type, mtime, size, CRC-32, mode, owner) as `zipinfo` lists
//! it. The archive comes from the controller (streamed into a private temp
//! dir on the host, like `copy`), is already there (`remote_src`), or is
//! downloaded there by curl (`remote_src` and a URL, the request described on
//! stdin as `get_url` does). The temp dir is removed whatever happens.
//!
//! Round trips: a prepare command (`creates`, `dest`, temp dir) unless the
//! archive is already on the host; the upload or download; one command that
//! picks the handler; one that lists and compares; the extraction when due;
//! `owner`/`group`/`mode` fixes when asked for.

use serde_json::{json, Value};

use crate::http::{self, Connection, Method};
use crate::remote_file::{self, Fields, FileKind, Follow, WantedAttrs};
use crate::shell::Cmd;
use crate::spec::{p, Param, Rules};
use crate::upload::{self, Content, LocalFile};
use crate::{Args, Controller, ModuleError, ModuleResult, RunMode, Target};

/// The arguments of `unarchive`, typed as ansible.builtin.unarchive's docs.
/// `src` and `dest` are not required here: Ansible's action plugin fails
/// the task with its own message when they are missing.
pub const PARAMS: &[Param] = &[
    p("src").path(),
    p("dest").path(),
    p("remote_src").bool(),
    p("copy").bool(),
    p("creates").path(),
    p("list_files").bool(),
    p("keep_newer").bool(),
    p("exclude").list(),
    p("include").list(),
    p("extra_opts").list(),
    p("validate_certs").bool(),
    // Python's read size for zip CRCs: accepted, gzip reads the files here.
    p("io_buffer_size").int(),
    p("decrypt").bool(),
    crate::spec::FILE_ATTRS[0],
    crate::spec::FILE_ATTRS[1],
    crate::spec::FILE_ATTRS[2],
];

pub const RULES: Rules = Rules { mutually_exclusive: &[&["include", "exclude"]], ..Rules::NONE };

/// Paths of files set up per call of the attribute fixer: bounds a command line.
const ATTR_CHUNK: usize = 200;

/// Most members listed or compared: a bigger archive is refused, not half done.
pub const MAX_MEMBERS: usize = 100_000;

/// Where the archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A controller file (the playbook's files/), streamed to the host.
    Controller(String),
    /// A file already on the host.
    Remote(String),
    /// A URL the host downloads (`remote_src` with `://`).
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub source: Source,
    pub dest: String,
    pub creates: Option<String>,
    pub list_files: bool,
    pub keep_newer: bool,
    pub exclude: Vec<String>,
    pub include: Vec<String>,
    pub extra_opts: Vec<String>,
    pub attrs: WantedAttrs,
    pub validate_certs: bool,
    pub decrypt: bool,
}

/// The request, or the failure Ansible's action plugin raises.
pub fn request(args: &Args) -> Result<Result<Request, String>, ModuleError> {
    let remote_src = match (args.get("copy"), args.get("remote_src")) {
        (Some(_), Some(_)) => return Ok(Err("parameters are mutually exclusive: ('copy', 'remote_src')".into())),
        (Some(_), None) => !args.bool("copy", true)?,
        _ => args.bool("remote_src", false)?,
    };
    let (Some(src), Some(dest)) = (args.str("src"), args.str("dest")) else {
        return Ok(Err("src (or content) and dest are required".into()));
    };
    let source = match (remote_src, src.contains("://")) {
        (false, true) => {
            return Ok(Err(format!("Unsupported option, an URI src ({}) is only supported when remote_src is True", http::mask_url(&src))))
        }
        (false, false) => Source::Controller(src),
        (true, true) => Source::Url(src),
        (true, false) => Source::Remote(src),
    };
    Ok(Ok(Request {
        source,
        dest,
        creates: args.str("creates").filter(|c| !c.is_empty()),
        list_files: args.bool("list_files", false)?,
        keep_newer: args.bool("keep_newer", false)?,
        exclude: crate::listarg::list(args, "exclude")?,
        include: crate::listarg::list(args, "include")?,
        extra_opts: crate::listarg::list(args, "extra_opts")?,
        attrs: WantedAttrs::from_args(args)?,
        validate_certs: args.bool("validate_certs", true)?,
        decrypt: args.bool("decrypt", true)?,
    }))
}

/// `$1` creates (may be empty), `$2` dest, `$3` 1 to make a private temp dir.
/// Prints `exists`, `nodest`, or `ok` and the temp dir, NUL-terminated.
const PREPARE_SCRIPT: &str = r#"creates=$1 dest=$2 mk=$3
if [ -n "$creates" ] && { [ -e "$creates" ] || [ -L "$creates" ]; }; then printf 'exists\0'; exit 0; fi
if [ ! -d "$dest" ]; then printf 'nodest\0'; exit 0; fi
d=
if [ "$mk" = 1 ]; then d=$(mktemp -d) || exit 1; fi
printf 'ok\0%s\0' "$d""#;

/// Sets the locale Ansible's `get_best_parsable_locale` picks: the first of
/// C.utf8, C.UTF-8, en_US.utf8, en_US.UTF-8 the host has, else C.
const LOCALE: &str = r#"a=$(locale -a 2>/dev/null); L=C
for c in C.utf8 C.UTF-8 en_US.utf8 en_US.UTF-8; do if printf '%s\n' "$a" | grep -qx "$c"; then L=$c; break; fi; done
export LANG=$L LC_ALL=$L LC_MESSAGES=$L LANGUAGE=$L
"#;

/// `$1` creates, `$2` dest, `$3` src, then the tar options and members of
/// the task. Checks them as Ansible's module does, then tries the handlers
/// in its order: unzip (with zipinfo, or `unzip -Z`), then GNU tar with -z,
/// none, -j, -J, zstd, listing as the task will. Prints the working
/// directory (a relative `dest` is under it), then `exists`, `nodest`,
/// `nosrc`, `unreadable`, `empty`, or `handler`, its name, the program and
/// the tar flag; or `none` and the reasons, each NUL-terminated.
const DETECT_SCRIPT: &str = r#"creates=$1 dest=$2 src=$3; shift 3
printf '%s\0' "$PWD"
if [ -n "$creates" ] && { [ -e "$creates" ] || [ -L "$creates" ]; }; then printf 'exists\0'; exit 0; fi
if [ ! -e "$src" ]; then printf 'nosrc\0'; exit 0; fi
if [ ! -r "$src" ]; then printf 'unreadable\0'; exit 0; fi
if [ ! -s "$src" ]; then printf 'empty\0'; exit 0; fi
if [ ! -d "$dest" ]; then printf 'nodest\0'; exit 0; fi
e=$(mktemp) || exit 1
trap 'rm -f -- "$e"' EXIT
u=$(command -v unzip) z=$(command -v zipinfo) r=
if [ -z "$u" ] && [ -z "$z" ]; then r="Unable to find required 'unzip' or 'zipinfo' binary in the path."
elif [ -z "$u" ]; then r="Unable to find required 'unzip' binary in the path."
elif "$u" -l "$src" >/dev/null 2>"$e"; then
  if [ -n "$z" ]; then printf 'handler\0ZipArchive\0%s\0%s\0' "$u" "$z"; exit 0; fi
  if "$u" -Zl 2>/dev/null | grep -qi zipinfo; then printf 'handler\0ZipZArchive\0%s\0%s\0' "$u" "$u"; exit 0; fi
  printf 'none\0Command "unzip -Z" could not handle archive: \0' > "$e.r"
else { printf 'none\0Command "%s" could not handle archive: ' "$u"; cat -- "$e"; printf '\0'; } > "$e.r"; fi
if [ -n "$r" ]; then printf 'none\0%s\0' "$r" > "$e.r"; fi
t=$(command -v gtar || command -v tar)
if [ -z "$t" ]; then cat -- "$e.r"; rm -f -- "$e.r"; printf '%s\0' "Unable to find required 'gtar' or 'tar' binary in the path"; exit 0; fi
case $("$t" --version 2>/dev/null | head -n 1) in
  *GNU*) ;;
  *) cat -- "$e.r"; rm -f -- "$e.r"; printf '%s\0' "Command \"$t\" detected as tar type None. GNU tar required."; exit 0 ;;
esac
for h in TgzArchive:-z TarArchive: TarBzipArchive:-j TarXzArchive:-J TarZstdArchive:--use-compress-program=zstd; do
  f=${h#*:}
  if l=$("$t" --list -C "$dest" $f "$@" 2>"$e"); then
    if [ -n "$l" ]; then rm -f -- "$e.r"; printf 'handler\0%s\0%s\0%s\0' "${h%%:*}" "$t" "$f"; exit 0; fi
    printf '%s\0' "Command \"$t\" found no files in archive. Empty archive files are not supported." >> "$e.r"
  else { printf 'Command "%s" could not handle archive: Unable to list files in the archive: ' "$t"; cat -- "$e"; printf '\0'; } >> "$e.r"; fi
done
cat -- "$e.r"; rm -f -- "$e.r"
exit 0"#;

/// Runs tar in `$3` (dest) with C messages: `$1` list+diff or extract, `$2`
/// the program, `$4` the compression flag, `$5`..`$7` --owner, --group and
/// --keep-newer-files (each may be empty), then the options and members
/// every tar call shares. Prints (when inspecting, the user's uid first) rc,
/// stdout and stderr of each call, NUL-terminated.
const TAR_SCRIPT: &str = r#"op=$1 t=$2 dest=$3 z=$4 o=$5 g=$6 k=$7; shift 7
cd "$dest" || exit 1
e=$(mktemp) || exit 1
trap 'rm -f -- "$e"' EXIT
emit() { out=$("$@" 2>"$e"; echo "x$?"); printf '%s\0%s\0' "${out##*x}" "${out%x*}"; cat -- "$e"; printf '\0'; }
if [ "$op" = inspect ]; then
  printf '%s\0' "$(id -u)"
  emit "$t" --list -C "$dest" $z "$@"
  emit "$t" --diff -C "$dest" $z ${o:+"$o"} ${g:+"$g"} ${k:+"$k"} "$@"
else
  emit "$t" --extract -C "$dest" $z ${o:+"$o"} ${g:+"$g"} ${k:+"$k"} "$@"
fi"#;

/// `$1` zipinfo (or unzip for `-Z`), `$2` 1 for `-Zl`, `$3` src, `$4` dest,
/// then zipinfo's `-x` excludes and includes. Prints the user, uid, group,
/// gid and umask; zipinfo's rc and listing; unzip -v's listing (CRCs); then
/// per member (unzip -Z1) its name and `absent` or its type, mode, uid,
/// owner, gid, group, size, mtime (epoch and local yyyymmdd.HHMMSS) and CRC-32.
const ZIP_SCRIPT: &str = r#"zi=$1 zl=$2 src=$3 dest=$4; shift 4
printf '%s\0%s\0%s\0%s\0%s\0' "$(id -un)" "$(id -u)" "$(id -gn)" "$(id -g)" "$(umask)"
if [ "$zl" = 1 ]; then l=$("$zi" -Zl -T -s "$src" "$@" 2>/dev/null; echo "x$?"); else l=$("$zi" -T -s "$src" "$@" 2>/dev/null; echo "x$?"); fi
printf '%s\0%s\0' "${l##*x}" "${l%x*}"
v=$(unzip -v "$src" 2>/dev/null); printf '%s\0' "$v"
unzip -Z1 "$src" 2>/dev/null | while IFS= read -r n; do
  p="$dest/$n"
  printf '%s\0' "$n"
  if [ ! -e "$p" ] && [ ! -L "$p" ]; then printf 'absent\0'; continue; fi
  s=$(stat -c '%F|%a|%u|%U|%g|%G|%s|%.9Y' -- "$p") || { printf 'absent\0'; continue; }
  m=$(date -r "$p" +%Y%m%d.%H%M%S 2>/dev/null)
  c=; if [ -f "$p" ] && [ ! -L "$p" ]; then c=$(gzip -c < "$p" | tail -c 8 | od -An -tu4 -N4 | tr -d ' '); fi
  printf '%s|%s|%s\0' "$s" "$m" "$c"
done"#;

pub async fn run<T: Target>(args: &Args, target: &T, controller: &dyn Controller, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    if let Some(failure) = bad_mode(args) {
        return Ok(failure);
    }
    let req = match request(args)? {
        Ok(req) => req,
        Err(msg) => return Ok(ModuleResult::raised(msg)),
    };
    let (src, tmpdir) = match stage(&req, target, controller).await? {
        Staged::Done(result) => return Ok(result),
        Staged::At { src, tmpdir } => (src, tmpdir),
    };
    let result = unpack(&req, &src, target, mode).await;
    if let Some(dir) = tmpdir {
        target.exec(Cmd::new("rm").flag("-rf").flag("--").arg(&dir).as_str(), None).await?;
    }
    let result = result?;
    Ok(match &req.source {
        Source::Url(url) => mask_url_credentials(result, url),
        _ => result,
    })
}

/// A `mode` that is neither octal nor symbolic fails as Ansible's file
/// attributes do: `details` names the first bad clause.
fn bad_mode(args: &Args) -> Option<ModuleResult> {
    let mode = args.get("mode").filter(|m| m.is_string())?.as_str()?.to_string();
    crate::mode::ModeSpec::parse(&mode).err()?;
    let clause = mode.split(',').find(|c| crate::mode::ModeSpec::parse(c).is_err()).unwrap_or(&mode);
    Some(ModuleResult::failed("mode must be in octal or symbolic form").with("details", format!("bad symbolic permission for mode: {clause}")))
}

/// Where the archive is on the host, or the task's result already.
enum Staged {
    Done(ModuleResult),
    At { src: String, tmpdir: Option<String> },
}

fn skipped(msg: String) -> ModuleResult {
    ModuleResult { skipped: true, msg: Some(msg), ..ModuleResult::ok() }
}

/// `creates` and `dest` first (as the action plugin, before any transfer),
/// then the archive put in a private temp dir when it is not on the host.
async fn stage<T: Target>(req: &Request, target: &T, controller: &dyn Controller) -> Result<Staged, ModuleError> {
    if let Source::Remote(src) = &req.source {
        return Ok(Staged::At { src: src.clone(), tmpdir: None });
    }
    let local = match &req.source {
        Source::Controller(src) => match controller_file(src, req.decrypt, controller) {
            Ok(file) => Some(file),
            Err(msg) => return Ok(Staged::Done(ModuleResult::raised(msg))),
        },
        _ => None,
    };
    let cmd = Cmd::new("/bin/sh").flag("-c").arg(PREPARE_SCRIPT).arg("sh").arg(req.creates.as_deref().unwrap_or("")).arg(&req.dest).arg("1");
    let out = target.exec(cmd.as_str(), None).await?;
    let mut fields = Fields::new(&out.stdout);
    let tmpdir = match fields.next_field().as_deref() {
        Some("exists") => return Ok(Staged::Done(skipped(format!("skipped, since {} exists", req.creates.as_deref().unwrap_or_default())))),
        Some("nodest") => return Ok(Staged::Done(ModuleResult::raised(format!("dest '{}' must be an existing dir", req.dest)))),
        Some("ok") => fields.next_field().unwrap_or_default(),
        _ => return Err(ModuleError::BadArgs(format!("unarchive: cannot make a temp dir on the host: {}", out.stderr_str().trim()))),
    };
    let fetched = match (&req.source, local) {
        (_, Some(file)) => upload::stage(target, &Content::Local(file), &tmpdir, false).await?,
        (Source::Url(url), None) => download(req, url, &tmpdir, target).await?,
        _ => Err("internal: no source to stage".into()),
    };
    Ok(match fetched {
        Ok(src) => Staged::At { src, tmpdir: Some(tmpdir) },
        Err(msg) => {
            target.exec(Cmd::new("rm").flag("-rf").flag("--").arg(&tmpdir).as_str(), None).await?;
            Staged::Done(ModuleResult::failed(msg))
        }
    })
}

/// The controller file of `src`; a vaulted one is refused (stockman streams
/// controller files as they are) unless `decrypt: false` asks for it as is.
fn controller_file(src: &str, decrypt: bool, controller: &dyn Controller) -> Result<LocalFile, String> {
    let path = match controller.locate_src(src) {
        Some(path) => path?,
        None => return Err(format!("Could not find or access '{src}' on the controller")),
    };
    if path.is_dir() {
        return Err(format!("Source '{src}' is a directory, not an archive"));
    }
    if decrypt && std::fs::read(&path).is_ok_and(|b| b.starts_with(b"$ANSIBLE_VAULT;")) {
        return Err(format!("'{src}' is vault-encrypted: stockman's native unarchive does not decrypt archives; decrypt it beforehand (or set decrypt: false to unpack it as it is)"));
    }
    LocalFile::hash(&path)
}

/// Downloads `url` into `dir` on the host with curl (the request on stdin),
/// named after the URL's file as Ansible's fetch_file names it.
async fn download<T: Target>(req: &Request, url: &str, dir: &str, target: &T) -> Result<Result<String, String>, ModuleError> {
    let mut conn_args = serde_json::Map::new();
    conn_args.insert("url".into(), Value::from(url));
    conn_args.insert("validate_certs".into(), Value::from(req.validate_certs));
    let conn = Connection::from_args(&Args::new(conn_args), 10)?;
    let name = http::url_filename(url);
    let name = if name.is_empty() || name.starts_with('.') { "archive".to_string() } else { name };
    let path = format!("{}/{name}", dir.trim_end_matches('/'));
    let config = http::curl_config(&conn, url, Method::Get);
    let out = target.exec(Cmd::new("/bin/sh").flag("-c").arg(DOWNLOAD_SCRIPT).arg("sh").arg(&path).as_str(), Some(config.as_bytes())).await?;
    if out.rc == 127 {
        return Ok(Err(out.stderr_str().trim().to_string()));
    }
    let failure = |why: String| Err(format!("Failure downloading {}, {why}", http::mask_url(url)));
    Ok(match http::Response::parse_dump(&out.stdout_str()) {
        _ if out.rc != 0 => failure(http::curl_failure(out.rc, &out.stderr_str())),
        Some(response) if response.status >= 400 => failure(response.message()),
        _ => Ok(path),
    })
}

/// Downloads the request on stdin (a curl config) to `$1`; the headers on stdout.
const DOWNLOAD_SCRIPT: &str = r#"command -v curl >/dev/null 2>&1 || { echo 'unarchive of a URL needs curl on the host (stockman runs it natively, without Python); install curl' >&2; exit 127; }
exec curl --config - -o "$1" -D -"#;

/// Credentials of a URL `src` never reach the output.
fn mask_url_credentials(result: ModuleResult, url: &str) -> ModuleResult {
    match url_password(url) {
        Some(secret) if !secret.is_empty() => http::mask_secret(result, secret),
        _ => result,
    }
}

/// The password of a URL's `user:password@` part.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rsplit_once('@')?.0.split_once(':').map(|(_, password)| password)
}

/// `sh -c` of one of the scripts above, in the locale Ansible's module uses.
pub(crate) fn script(body: &str) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(format!("{LOCALE}{body}")).arg("sh")
}

/// The handler the host picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    pub name: String,
    /// tar or unzip, as found on the host's PATH.
    pub program: String,
    /// For tar: the compression flag (may be empty). For zip: zipinfo (or unzip for `-Z`).
    pub extra: String,
}

impl Handler {
    pub fn is_zip(&self) -> bool {
        self.name.starts_with("Zip")
    }
}

/// Picks the handler, compares, extracts when due, fixes attributes.
async fn unpack<T: Target>(req: &Request, src: &str, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    // The module's own argument check (after the action's transfer, as in Ansible).
    if !req.include.is_empty() && !req.exclude.is_empty() {
        return Ok(ModuleResult::failed("parameters are mutually exclusive: include|exclude"));
    }
    let cmd = script(DETECT_SCRIPT).arg(req.creates.as_deref().unwrap_or("")).arg(&req.dest).arg(src).args(tar::shared_args(req, src));
    let out = target.exec(cmd.as_str(), None).await?;
    let mut fields = Fields::new(&out.stdout);
    let cwd = fields.next_field().unwrap_or_default();
    let handler = match fields.next_field().as_deref() {
        Some("exists") => return Ok(skipped(format!("skipped, since {} exists", req.creates.as_deref().unwrap_or_default()))),
        Some("nodest") => return Ok(ModuleResult::raised(format!("dest '{}' must be an existing dir", req.dest))),
        Some("nosrc") => return Ok(ModuleResult::failed(format!("Source '{src}' does not exist"))),
        Some("unreadable") => return Ok(ModuleResult::failed(format!("Source '{src}' not readable"))),
        Some("empty") => return Ok(ModuleResult::failed(format!("Invalid archive '{src}', the file is 0 bytes"))),
        Some("handler") => Handler {
            name: fields.next_field().unwrap_or_default(),
            program: fields.next_field().unwrap_or_default(),
            extra: fields.next_field().unwrap_or_default(),
        },
        Some("none") => {
            let reasons: Vec<String> = std::iter::from_fn(|| fields.next_field()).collect();
            return Ok(ModuleResult::failed(format!(
                "Failed to find handler for \"{src}\". Make sure the required command to extract the file is installed.\n{}",
                reasons.join("\n")
            )));
        }
        _ => return Err(ModuleError::BadArgs(format!("unarchive: unexpected output from the host: {}", out.stderr_str().trim()))),
    };
    // Ansible's tar handler does not support check mode: the task is skipped.
    if mode.check && !handler.is_zip() {
        return Ok(skipped("remote module (ansible.legacy.unarchive) does not support check mode when using gtar".into()));
    }
    // Relative paths are the login's working directory's, made absolute
    // (tar runs in dest), as Ansible's module does.
    let absolute = |path: &str| if path.starts_with('/') { path.to_string() } else { format!("{}/{}", cwd.trim_end_matches('/'), path.trim_end_matches('/')) };
    let (src, work) = (absolute(src), Request { dest: absolute(&req.dest), ..req.clone() });
    let mut base = ModuleResult::ok().with("handler", handler.name.clone()).with("dest", req.dest.clone()).with("src", src.clone());
    if !req.dest.starts_with('/') {
        base = base.with("warnings", vec![format!("Relative destination path '{}' was resolved to absolute path '{}'.", req.dest, work.dest)]);
    }
    let (req, src) = (&work, src.as_str());
    let inspected = match handler.is_zip() {
        true => zip::inspect(req, src, &handler, target).await?,
        false => tar::inspect(req, src, &handler, target).await?,
    };
    let inspected = match inspected {
        Ok(inspected) => inspected,
        Err(msg) => return Ok(ModuleResult { failed: true, msg: Some(msg), ..base }),
    };
    finish(req, src, &handler, inspected, base, target, mode).await
}

/// What the comparison found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// The members Ansible's `files` lists (after include/exclude).
    pub files: Vec<String>,
    pub unarchived: bool,
    /// zip's itemized changes (Ansible's `diff.prepared`); None for tar.
    pub diff: Option<String>,
    /// zip members newer on disk under `keep_newer`: left out of the unzip.
    pub newer: Vec<String>,
}

async fn finish<T: Target>(
    req: &Request,
    src: &str,
    handler: &Handler,
    inspected: Inspected,
    base: ModuleResult,
    target: &T,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    let mut result = base;
    if mode.check {
        result.changed = !inspected.unarchived;
    } else if !inspected.unarchived {
        let (cmd, out) = match handler.is_zip() {
            true => zip::extract(req, src, handler, &inspected.newer, target).await?,
            false => tar::extract(req, src, handler, target).await?,
        };
        let extract = json!({"cmd": cmd, "rc": out.0, "out": out.1, "err": out.2});
        result = result.with("extract_results", extract);
        if out.0 != 0 {
            return Ok(ModuleResult { failed: true, msg: Some(format!("failed to unpack {src} to {}", req.dest)), ..result });
        }
        result.changed = true;
    }
    if let Some(diff) = inspected.diff.as_deref().filter(|d| !d.is_empty()) {
        result = result.with("diff", json!({"prepared": diff}));
    }
    let attrs_due = inspected.diff.as_deref().is_none_or(|d| !d.is_empty()) && !mode.check;
    if attrs_due && req.attrs != WantedAttrs::default() {
        match fix_attrs(req, &inspected.files, target).await? {
            Ok(changed) => result.changed |= changed,
            Err(msg) => return Ok(ModuleResult { failed: true, msg: Some(msg), ..result }),
        }
    }
    if req.list_files {
        result = result.with("files", inspected.files.clone());
    }
    let probe = remote_file::probe(target, &[&req.dest], Follow::Yes, false).await?;
    Ok(remote_file::with_file_fields(result, &probe.files[0]))
}

/// The paths whose attributes Ansible sets: every listed member, then each
/// top folder of a member in a folder.
pub fn attr_paths(dest: &str, files: &[String]) -> Vec<String> {
    let dest = dest.trim_end_matches('/');
    let mut paths: Vec<String> = files.iter().map(|f| format!("{dest}/{f}")).collect();
    let mut tops: Vec<&str> = Vec::new();
    for f in files {
        if let Some((top, _)) = f.split_once('/') {
            if !tops.contains(&top) {
                tops.push(top);
            }
        }
    }
    paths.extend(tops.iter().map(|t| format!("{dest}/{t}")));
    paths
}

/// Sets `owner`, `group` and `mode` on what was unpacked, where they differ.
async fn fix_attrs<T: Target>(req: &Request, files: &[String], target: &T) -> Result<Result<bool, String>, ModuleError> {
    let paths = attr_paths(&req.dest, files);
    let mut changed = false;
    for chunk in paths.chunks(ATTR_CHUNK) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let probe = remote_file::probe(target, &refs, Follow::No, false).await?;
        let fixes: Vec<Cmd> = chunk
            .iter()
            .zip(&probe.files)
            .filter(|(_, facts)| facts.exists())
            .filter_map(|(path, facts)| {
                let mut changes = req.attrs.changes(facts, probe.umask);
                // A symlink's own mode is not a thing on Linux.
                if facts.kind == FileKind::Link {
                    changes.mode = None;
                }
                changes.apply_cmd(path, true)
            })
            .collect();
        let Some(first) = fixes.first().cloned() else { continue };
        let cmd = fixes.into_iter().skip(1).fold(first, |all, next| all.then("&&", next));
        let out = target.exec(cmd.as_str(), None).await?;
        if out.rc != 0 {
            return Ok(Err(format!("Unexpected error when accessing exploded file: {}", out.stderr_str().trim())));
        }
        changed = true;
    }
    Ok(Ok(changed))
}

/// GNU tar's listing and `--diff`, read as Ansible's TgzArchive reads them.
pub mod tar {
    use super::*;

    /// The options and members every tar call of the task shares.
    pub fn shared_args(req: &Request, src: &str) -> Vec<String> {
        let mut args = Vec::new();
        if !req.extra_opts.is_empty() {
            args.push("--show-transformed-names".to_string());
            args.extend(req.extra_opts.iter().cloned());
        }
        args.extend(excludes(req).iter().map(|e| format!("--exclude={e}")));
        args.extend(["-f".to_string(), src.to_string()]);
        args.extend(req.include.iter().cloned());
        args
    }

    fn excludes(req: &Request) -> Vec<String> {
        req.exclude.iter().map(|e| e.trim_end_matches('/').to_string()).collect()
    }

    /// `--owner=`, `--group=` and `--keep-newer-files`, as given.
    fn ownership_args(req: &Request) -> [String; 3] {
        [
            req.attrs.owner.as_ref().map(|o| format!("--owner={o}")).unwrap_or_default(),
            req.attrs.group.as_ref().map(|g| format!("--group={g}")).unwrap_or_default(),
            if req.keep_newer { "--keep-newer-files".into() } else { String::new() },
        ]
    }

    pub fn cmd(op: &str, req: &Request, src: &str, handler: &Handler) -> Cmd {
        let [o, g, k] = ownership_args(req);
        script(TAR_SCRIPT)
            .arg(op)
            .arg(&handler.program)
            .arg(&req.dest)
            .arg(&handler.extra)
            .arg(o)
            .arg(g)
            .arg(k)
            .args(shared_args(req, src))
    }

    /// The command as Ansible reports it (`extract_results.cmd`).
    pub fn reported_cmd(req: &Request, src: &str, handler: &Handler) -> Vec<String> {
        let mut cmd = vec![handler.program.clone(), "--extract".into(), "-C".into(), req.dest.clone()];
        cmd.extend((!handler.extra.is_empty()).then(|| handler.extra.clone()));
        let shared = shared_args(req, src);
        let split = shared.iter().position(|a| a.starts_with("--exclude=") || a == "-f").unwrap_or(shared.len());
        cmd.extend(shared[..split].iter().cloned());
        cmd.extend(ownership_args(req).into_iter().filter(|a| !a.is_empty()));
        cmd.extend(shared[split..].iter().cloned());
        cmd
    }

    /// One call's rc, stdout and stderr.
    pub(crate) fn call(fields: &mut Fields<'_>) -> Option<(i32, String, String)> {
        let rc = fields.next_field()?.parse().ok()?;
        Some((rc, fields.next_field()?, fields.next_field()?))
    }

    pub async fn inspect<T: Target>(req: &Request, src: &str, handler: &Handler, target: &T) -> Result<Result<Inspected, String>, ModuleError> {
        let out = target.exec(cmd("inspect", req, src, handler).as_str(), None).await?;
        let mut fields = Fields::new(&out.stdout);
        let as_root = fields.next_field().as_deref() == Some("0");
        let (Some(list), Some(diff)) = (call(&mut fields), call(&mut fields)) else {
            return Ok(Err(format!("cannot run tar in {}: {}", req.dest, out.stderr_str().trim())));
        };
        if list.0 != 0 {
            return Ok(Err(format!("Unable to list files in the archive: {}", list.2)));
        }
        let files = files_in_archive(&list.1, &excludes(req));
        if files.len() > MAX_MEMBERS {
            return Ok(Err(format!("the archive has {} members, more than stockman's bound of {MAX_MEMBERS}", files.len())));
        }
        let unarchived = differences(&diff.1, &diff.2, req, as_root).is_empty();
        Ok(Ok(Inspected { files, unarchived, diff: None, newer: Vec::new() }))
    }

    pub async fn extract<T: Target>(req: &Request, src: &str, handler: &Handler, target: &T) -> Result<(Vec<String>, (i32, String, String)), ModuleError> {
        let out = target.exec(cmd("extract", req, src, handler).as_str(), None).await?;
        let result = call(&mut Fields::new(&out.stdout)).unwrap_or((out.rc.max(1), String::new(), out.stderr_str()));
        Ok((reported_cmd(req, src, handler), result))
    }

    /// The members tar lists: escapes decoded, a leading `/` dropped, excludes matched.
    pub fn files_in_archive(listing: &str, excludes: &[String]) -> Vec<String> {
        listing
            .lines()
            .map(unescape)
            .map(|name| name.strip_prefix('/').map(str::to_string).unwrap_or(name))
            .filter(|name| !excludes.iter().any(|e| crate::fnmatch::matches(e, name)))
            .collect()
    }

    /// GNU tar's escape quoting (`\\`, `\n`, `\t`, `\NNN` octal) back to the name.
    pub fn unescape(line: &str) -> String {
        let bytes = line.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'\\' || i + 1 == bytes.len() {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            let next = bytes[i + 1];
            let octal = bytes[i + 1..].iter().take(3).take_while(|b| (b'0'..=b'7').contains(b)).count();
            if octal == 3 {
                let value = bytes[i + 1..i + 4].iter().fold(0u32, |v, b| v * 8 + u32::from(b - b'0'));
                out.push(value as u8);
                i += 4;
                continue;
            }
            out.push(match next {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'f' => 0x0c,
                b'v' => 0x0b,
                b'a' => 0x07,
                b'b' => 0x08,
                other => other,
            });
            i += 2;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The `--diff` lines that mean the archive is not unpacked, as Ansible
    /// weighs them: ownership only when root and not set by the task, mode
    /// only when not set by the task; mtime, missing files, symlinks,
    /// contents and sizes always.
    pub fn differences(out: &str, err: &str, req: &Request, as_root: bool) -> Vec<String> {
        const ALWAYS: &[&str] = &[": Mod time differs", ": Symlink differs", ": Contents differ", ": Size differs"];
        out.lines()
            .chain(err.lines())
            .filter(|line| !line.ends_with(": : Warning: Cannot stat: No such file or directory"))
            .filter(|line| {
                (as_root && req.attrs.owner.is_none() && line.ends_with(": Uid differs"))
                    || (as_root && req.attrs.group.is_none() && line.ends_with(": Gid differs"))
                    || (req.attrs.mode.is_none() && line.ends_with(": Mode differs"))
                    || ALWAYS.iter().any(|s| line.ends_with(s))
                    || line.ends_with(": Warning: Cannot stat: No such file or directory")
                    || line.contains(": Invalid owner")
                    || line.contains(": Invalid group")
            })
            .map(str::to_string)
            .collect()
    }
}

/// unzip's listings, compared with the files as Ansible's ZipArchive does.
pub mod zip;

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Result<Request, String> {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn sources_and_refusals_use_ansibles_words() {
        let r = req(json!({"src": "a.tgz", "dest": "/d"})).unwrap();
        assert_eq!(r.source, Source::Controller("a.tgz".into()));
        assert_eq!(req(json!({"src": "/x.zip", "dest": "/d", "remote_src": true})).unwrap().source, Source::Remote("/x.zip".into()));
        assert_eq!(req(json!({"src": "/x.zip", "dest": "/d", "copy": false})).unwrap().source, Source::Remote("/x.zip".into()));
        assert_eq!(req(json!({"src": "https://h/x.zip", "dest": "/d", "remote_src": "yes"})).unwrap().source, Source::Url("https://h/x.zip".into()));
        assert_eq!(req(json!({"dest": "/d"})).unwrap_err(), "src (or content) and dest are required");
        assert_eq!(
            req(json!({"src": "https://u:secret@h/x.zip", "dest": "/d"})).unwrap_err(),
            "Unsupported option, an URI src (https://u:********@h/x.zip) is only supported when remote_src is True"
        );
        assert!(req(json!({"src": "a", "dest": "/d", "copy": true, "remote_src": false})).unwrap_err().contains("mutually exclusive"));
    }

    #[test]
    fn tar_commands_quote_every_value_and_keep_ansibles_order() {
        let r = req(json!({"src": "a", "dest": "/d $(x)", "exclude": ["b/", "*.log"], "extra_opts": ["--strip-components=1"], "owner": "o'x", "keep_newer": true})).unwrap();
        let h = Handler { name: "TgzArchive".into(), program: "/usr/bin/tar".into(), extra: "-z".into() };
        let line = tar::cmd("inspect", &r, "/t/a b", &h).into_string();
        assert!(line.ends_with(r#" inspect /usr/bin/tar '/d $(x)' -z '--owner=o'\''x' '' --keep-newer-files --show-transformed-names --strip-components=1 --exclude=b '--exclude=*.log' -f '/t/a b'"#), "{line}");
        assert_eq!(
            tar::reported_cmd(&r, "/t/a", &h),
            ["/usr/bin/tar", "--extract", "-C", "/d $(x)", "-z", "--show-transformed-names", "--strip-components=1", "--owner=o'x", "--keep-newer-files", "--exclude=b", "--exclude=*.log", "-f", "/t/a"]
        );
    }

    #[test]
    fn tar_listing_and_diff_read_as_ansible() {
        assert_eq!(tar::files_in_archive("a/\na/b\\303\\251\n/abs\nx.log\n", &["*.log".into()]), ["a/", "a/bé", "abs"]);
        assert_eq!(tar::unescape(r"new\nline\\x"), "new\nline\\x");
        let plain = req(json!({"src": "a", "dest": "/d"})).unwrap();
        let moded = req(json!({"src": "a", "dest": "/d", "mode": "0600", "owner": "root"})).unwrap();
        let out = "a/f: Mode differs\na/g: Uid differs\n";
        assert_eq!(tar::differences(out, "", &plain, true).len(), 2);
        assert!(tar::differences(out, "", &plain, false).len() == 1, "ownership only counts as root");
        assert!(tar::differences(out, "", &moded, true).is_empty(), "the task sets them anyway");
        assert_eq!(tar::differences("", "tar: a/h: Warning: Cannot stat: No such file or directory\n", &moded, true).len(), 1);
        assert!(tar::differences("", "tar: : Warning: Cannot stat: No such file or directory\n", &plain, true).is_empty());
    }

    #[test]
    fn bad_modes_fail_with_ansibles_details() {
        let bad = |m: &str| bad_mode(&Args::new(json!({"mode": m}).as_object().unwrap().clone())).map(|r| r.data["details"].clone());
        assert_eq!(bad("u+rwX,ao=r"), Some(json!("bad symbolic permission for mode: ao=r")), "`a` stands alone");
        assert_eq!(bad("u=foo"), Some(json!("bad symbolic permission for mode: u=foo")));
        assert_eq!((bad("0640"), bad("a+rX,g-w")), (None, None));
    }

    #[test]
    fn attributes_go_to_members_and_their_top_folders() {
        let files = vec!["top/".to_string(), "top/a".into(), "other/b/c".into(), "f".into()];
        assert_eq!(attr_paths("/d/", &files), ["/d/top/", "/d/top/a", "/d/other/b/c", "/d/f", "/d/top", "/d/other"]);
    }
}
