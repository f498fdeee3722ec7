//! `get_url`: a URL downloaded on the host with curl, as Ansible's module
//! does with Python: straight into a temp file beside `dest` (renamed onto it
//! only when the bytes differ, so `dest` is replaced atomically or not at
//! all), `If-Modified-Since` from `dest` unless `force`, a `checksum` checked
//! first against `dest` (a match: nothing is downloaded) and then against the
//! download, `dest` as a directory named from Content-Disposition or the URL.
//!
//! One command does the common case: the checksum check, the download, the
//! digests and a probe of `dest`; a second one moves the download into place
//! or removes it. URLs, headers and credentials go to curl as a config file
//! on stdin ([`crate::http`]): never on a command line.

use serde_json::Value;

use crate::http::{self, Connection, Method, Response};
use crate::remote_file::{self, parent_dir, FileFacts, FileKind, Follow, WantedAttrs, WritePlan};
use crate::shell::Cmd;
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, req, Param, FILE_ATTRS};

/// ansible.builtin.get_url's arguments (`ansible-doc -j get_url`), Ansible's
/// `url_argument_spec` first.
pub const PARAMS: &[Param] = &[
    req("url").str(),
    p("force").bool().default("false"),
    p("http_agent").str().default("ansible-httpget"),
    p("use_proxy").bool().default("true"),
    p("validate_certs").bool().default("true"),
    alias("url_username", &["username"], false).str(),
    alias("url_password", &["password"], false).str().no_log(),
    p("force_basic_auth").bool().default("false"),
    p("client_cert").path(),
    p("client_key").path(),
    p("use_gssapi").bool().default("false"),
    req("dest").path(),
    p("backup").bool().default("false"),
    p("checksum").str().default(""),
    p("timeout").int().default("10"),
    p("headers").dict(),
    p("tmp_dest").path(),
    p("unredirected_headers").list(),
    p("decompress").bool().default("true"),
    p("ciphers").list(),
    p("use_netrc").bool().default("true"),
    FILE_ATTRS[0],
    FILE_ATTRS[1],
    FILE_ATTRS[2],
];

/// Ansible's algorithm names the host can compute: coreutils' `ALGsum`, and
/// SHA-3 through `openssl dgst` (Debian's ca-certificates brings openssl).
const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512"];

/// `$1` dest, `$2` algorithm, `$3` wanted digest (may be empty), `$4` force
/// (0/1), `$5` head (0/1: check mode asks HEAD, as Ansible). Stdin: the curl
/// config. Prints NUL-terminated fields: `dir`|`file`, then either `exists`
/// (the digest of dest matched), `nodir`, `nocurl`, or `fetched` followed by
/// curl's exit status, its write-out (status code, final URL), stderr, the
/// temp file, its sha1, its digest and the header dump. Always exits 0 once
/// the first field is out, so the probe chained after it runs.
const FETCH_SCRIPT: &str = r#"dest=$1 alg=$2 want=$3 force=$4 head=$5
dg() { case $alg in sha3_*) openssl dgst -r "-sha3-${alg#sha3_}" ;; *) "${alg}sum" ;; esac; }
if [ -d "$dest" ]; then dir=$dest; printf 'dir\0'; else dir=$(dirname -- "$dest"); printf 'file\0'; fi
if [ ! -d "$dest" ] && [ -f "$dest" ] && [ "$force" = 0 ] && [ -n "$want" ]; then
  h=$(dg < "$dest") || exit 1
  if [ "${h%% *}" = "$want" ]; then printf 'exists\0'; exit 0; fi
  force=1
fi
if [ ! -d "$dir" ]; then printf 'nodir\0'; exit 0; fi
if ! command -v curl >/dev/null 2>&1; then printf 'nocurl\0'; exit 0; fi
tmp=$(mktemp -- "$dir/.stockman.XXXXXXXX") || exit 1
hdr=$(mktemp) || { rm -f -- "$tmp"; exit 1; }
trap 'rm -f -- "$hdr" "$hdr.err"' EXIT
set -- --config - -o "$tmp" -D "$hdr" -w '%{http_code}\n%{url_effective}'
if [ "$head" = 1 ]; then set -- "$@" --head; fi
if [ ! -d "$dest" ] && [ -f "$dest" ] && [ "$force" = 0 ]; then set -- "$@" -z "$dest"; fi
out=$(curl "$@" 2>"$hdr.err"); rc=$?
# curl --head writes the headers to -o too; Ansible's HEAD leaves an empty file.
if [ "$head" = 1 ]; then : > "$tmp"; fi
printf 'fetched\0%s\0%s\0%s\0%s\0' "$rc" "$out" "$(cat "$hdr.err")" "$tmp"
s=$(sha1sum < "$tmp"); printf '%s\0' "${s%% *}"
if [ -n "$want" ]; then s=$(dg < "$tmp"); printf '%s\0' "${s%% *}"; else printf '\0'; fi
cat "$hdr"; printf '\0'
if [ "$rc" != 0 ]; then rm -f -- "$tmp"; fi
exit 0"#;

/// `checksum:` as given: a digest, or the URL of a checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    Digest { algorithm: String, digest: String },
    Url { algorithm: String, url: String },
}

/// The validated request.
#[derive(Debug, Clone)]
pub struct Request {
    pub conn: Connection,
    pub dest: String,
    pub force: bool,
    pub backup: bool,
    pub checksum: Option<Checksum>,
    pub attrs: WantedAttrs,
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    http::refuse_unsupported(args)?;
    let conn = Connection::from_args(args, 10)?;
    let dest = args.required_str("dest")?;
    let checksum = match args.str("checksum").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(parse_checksum(&c).map_err(ModuleError::BadArgs)?),
    };
    Ok(Request {
        conn,
        dest,
        force: args.bool("force", false)?,
        backup: args.bool("backup", false)?,
        checksum,
        attrs: WantedAttrs::from_args(args)?,
    })
}

pub fn parse_checksum(text: &str) -> Result<Checksum, String> {
    let (algorithm, value) = text
        .split_once(':')
        .ok_or("The checksum parameter has to be in format <algorithm>:<checksum>")?;
    let algorithm = algorithm.to_ascii_lowercase();
    if !ALGORITHMS.contains(&algorithm.as_str()) {
        return Err(format!(
            "checksum algorithm `{algorithm}` is not one stockman's get_url supports ({})",
            ALGORITHMS.join(", ")
        ));
    }
    if ["http://", "https://", "ftp://", "file://"].iter().any(|s| value.starts_with(s)) {
        return Ok(Checksum::Url { algorithm, url: value.to_string() });
    }
    Ok(Checksum::Digest { algorithm, digest: normalize_digest(value)? })
}

/// Non-word characters dropped, lower-cased, then it must be hex (as Ansible).
fn normalize_digest(value: &str) -> Result<String, String> {
    let digest: String = value.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect::<String>().to_lowercase();
    if digest.is_empty() || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("The checksum format is invalid".into());
    }
    Ok(digest)
}

/// The digest for `filename` in a checksum file: one bare digest, or lines
/// in GNU (`DIGEST  name`, `*name`, `./name`) or BSD (`ALG (name) = DIGEST`) form.
pub fn digest_for(filename: &str, text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() == 1 && lines[0].split_whitespace().count() == 1 {
        return Some(lines[0].trim().to_string());
    }
    lines.iter().find_map(|line| {
        let (digest, path) = bsd_line(line).or_else(|| gnu_line(line))?;
        (path == filename).then(|| digest.to_string())
    })
}

fn bsd_line(line: &str) -> Option<(&str, &str)> {
    let (head, digest) = line.rsplit_once(" = ").or_else(|| line.rsplit_once(")= "))?;
    let open = head.find('(')?;
    let algo = head[..open].trim_end();
    if algo.is_empty() || !algo.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let path = head[open + 1..].trim_end().strip_suffix(')').unwrap_or(&head[open + 1..]);
    Some((digest.trim(), path))
}

fn gnu_line(line: &str) -> Option<(&str, &str)> {
    let (digest, rest) = line.split_once(char::is_whitespace)?;
    if digest.is_empty() || !digest.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        return None;
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('*').or_else(|| rest.strip_prefix("./")).or_else(|| rest.strip_prefix('.')).unwrap_or(rest);
    let path = rest.trim_start_matches("./");
    (!path.is_empty()).then_some((digest, path))
}

/// The fetch command (stdin: [`http::curl_config`]).
pub fn fetch_cmd(dest: &str, checksum: Option<(&str, &str)>, force: bool, head: bool) -> Cmd {
    let (algorithm, digest) = checksum.unwrap_or(("sha1", ""));
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(FETCH_SCRIPT)
        .arg("sh")
        .arg(dest)
        .arg(algorithm)
        .arg(digest)
        .arg(if force { "1" } else { "0" })
        .arg(if head { "1" } else { "0" })
        .then(";", remote_file::probe_cmd(&[dest], Follow::Yes, true))
}

/// What the fetch command reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// `dest`'s digest is the one asked for.
    Exists,
    /// `dest`'s directory does not exist.
    NoDir,
    NoCurl,
    Done(Download),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub curl_rc: i32,
    pub final_url: String,
    pub curl_error: String,
    pub tmp: String,
    pub sha1: String,
    pub digest: String,
    pub response: Option<Response>,
}

/// Parses the fetch command's fields; the probe of `dest` follows them.
pub(crate) fn parse_fetch(fields: &mut remote_file::Fields<'_>) -> Option<(bool, Fetched)> {
    let is_dir = fields.next_field()? == "dir";
    let fetched = match fields.next_field()?.as_str() {
        "exists" => Fetched::Exists,
        "nodir" => Fetched::NoDir,
        "nocurl" => Fetched::NoCurl,
        "fetched" => {
            let curl_rc = fields.next_field()?.parse().ok()?;
            let out = fields.next_field()?;
            let curl_error = fields.next_field()?;
            let tmp = fields.next_field()?;
            let sha1 = fields.next_field()?;
            let digest = fields.next_field()?;
            let dump = fields.next_field()?;
            let final_url = out.split_once('\n').map(|(_, u)| u.to_string()).unwrap_or_default();
            let response = Response::parse_dump(&dump).or_else(|| final_url.starts_with("file:").then(|| Response::parse_file_dump(&dump)));
            Fetched::Done(Download { curl_rc, final_url, curl_error, tmp, sha1, digest, response })
        }
        _ => return None,
    };
    Some((is_dir, fetched))
}

/// A fresh result with the keys Ansible always returns.
fn base_result(req: &Request, dest: &str) -> ModuleResult {
    ModuleResult::ok()
        .with("checksum_dest", Value::Null)
        .with("checksum_src", Value::Null)
        .with("dest", dest)
        .with("elapsed", 0)
        .with("url", http::mask_url(&req.conn.url))
}

fn fail(result: ModuleResult, msg: impl Into<String>) -> ModuleResult {
    ModuleResult { failed: true, msg: Some(msg.into()), ..result }
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let secret = req.conn.credentials.as_ref().map(|(_, password)| password.clone());
    let result = download(req, target, mode).await?;
    Ok(match secret {
        Some(secret) => http::mask_secret(result, &secret),
        None => result,
    })
}

async fn download<T: Target>(mut req: Request, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let started = std::time::Instant::now();
    // A checksum file is fetched first (even in check mode, as Ansible).
    let digest = match req.checksum.clone() {
        None => None,
        Some(Checksum::Digest { algorithm, digest }) => Some((algorithm, digest)),
        Some(Checksum::Url { algorithm, url }) => match checksum_from_url(&req, &url, target).await? {
            Ok(digest) => Some((algorithm, digest)),
            Err(msg) => return Ok(fail(base_result(&req, &req.dest), msg)),
        },
    };
    let config = http::curl_config(&req.conn, &req.conn.url, if mode.check { Method::Head } else { Method::Get });
    let cmd = fetch_cmd(&req.dest, digest.as_ref().map(|(a, d)| (a.as_str(), d.as_str())), req.force, mode.check);
    let out = target.exec(cmd.as_str(), Some(config.as_bytes())).await?;
    let mut fields = remote_file::Fields::new(&out.stdout);
    let Some((is_dir, fetched)) = parse_fetch(&mut fields) else {
        return Err(ModuleError::BadArgs(format!("get_url: unexpected output from the host: {}", out.stderr_str().trim())));
    };
    let probe = remote_file::parse_probe(&mut fields, 1);
    let elapsed = started.elapsed().as_secs();
    let result = base_result(&req, &req.dest);
    let download = match fetched {
        Fetched::NoCurl => return Ok(fail(result, "get_url needs curl on the host (stockman runs it natively, without Python); install curl")),
        Fetched::NoDir => return Ok(fail(result, format!("Destination {} does not exist", parent_dir(&req.dest)))),
        Fetched::Exists => {
            let facts = probe.ok_or_else(|| ModuleError::BadArgs("get_url: unexpected probe output".into()))?;
            return finish_attrs(&req, &req.dest.clone(), &facts.files[0], facts.umask, result, target, mode, "file already exists").await;
        }
        Fetched::Done(d) => d,
    };
    let result = result.with("elapsed", elapsed);
    let Some(response) = download.response.clone().filter(|_| download.curl_rc == 0) else {
        return Ok(fail(result, http::curl_failure(download.curl_rc, &download.curl_error)));
    };
    if response.status == 304 {
        let r = ModuleResult::ok()
            .with("url", http::mask_url(&req.conn.url))
            .with("dest", req.dest.clone())
            .with("status_code", 304)
            .with("elapsed", elapsed);
        let r = ModuleResult { msg: Some(response.message()), ..r };
        remove(target, &download.tmp).await?;
        return Ok(match probe.filter(|p| p.files[0].exists()) {
            Some(p) => remote_file::with_file_fields(r, &p.files[0]),
            None => r,
        });
    }
    if response.status != 200 {
        remove(target, &download.tmp).await?;
        return Ok(fail(result.with("status_code", response.status).with("response", response.message()), "Request failed"));
    }
    // dest as a directory: the file's name comes from the response.
    let (dest, facts) = if is_dir {
        let name = response
            .header("content-disposition")
            .and_then(http::disposition_filename)
            .unwrap_or_else(|| http::url_filename(&download.final_url));
        let dest = format!("{}/{name}", req.dest.trim_end_matches('/'));
        let p = remote_file::probe(target, &[&dest], Follow::Yes, true).await?;
        (dest, p)
    } else {
        (req.dest.clone(), probe.ok_or_else(|| ModuleError::BadArgs("get_url: unexpected probe output".into()))?)
    };
    req.dest = dest.clone();
    let current = &facts.files[0];
    let mut result = result.with("dest", dest.clone()).with("src", download.tmp.clone()).with("checksum_src", download.sha1.clone());
    if current.exists() {
        result = result.with("checksum_dest", current.sha1.clone().map_or(Value::Null, Value::from));
    }
    if mode.check {
        remove(target, &download.tmp).await?;
        let changed = current.sha1.as_deref() != Some(download.sha1.as_str());
        let r = ModuleResult { changed, msg: Some(response.message()), ..result };
        return Ok(if current.exists() { remote_file::with_file_fields(r, current) } else { r });
    }
    if let Some((_, want)) = &digest {
        if &download.digest != want {
            remove(target, &download.tmp).await?;
            let msg = format!("The checksum for {} did not match {want}; it was {}.", download.tmp, download.digest);
            return Ok(fail(result, msg));
        }
    }
    let result = result.with("status_code", response.status);
    if current.sha1.as_deref() == Some(download.sha1.as_str()) {
        remove(target, &download.tmp).await?;
        let r = finish_attrs(&req, &dest, current, facts.umask, result, target, mode, &response.message()).await?;
        return Ok(r.with("md5sum", md5_of(target, &dest).await?));
    }
    replace(&req, &dest, current, facts.umask, &download.tmp, result, target, &response.message()).await
}

/// The digest for the URL's file in the checksum file at `url`.
async fn checksum_from_url<T: Target>(req: &Request, url: &str, target: &T) -> Result<Result<String, String>, ModuleError> {
    let config = http::curl_config(&req.conn, url, Method::Get);
    let cmd = Cmd::new("curl").flag("--config").flag("-").flag("--fail");
    let out = target.exec(cmd.as_str(), Some(config.as_bytes())).await?;
    if out.rc != 0 {
        return Ok(Err(http::curl_failure(out.rc, &out.stderr_str())));
    }
    let filename = http::url_filename(&req.conn.url);
    Ok(match digest_for(&filename, &out.stdout_str()) {
        Some(d) => normalize_digest(&d),
        None => Err(format!("Unable to find a checksum for file '{filename}' in '{}'", http::mask_url(url))),
    })
}

async fn remove<T: Target>(target: &T, tmp: &str) -> Result<(), ModuleError> {
    if !tmp.is_empty() {
        target.exec(Cmd::new("rm").flag("-f").flag("--").arg(tmp).as_str(), None).await?;
    }
    Ok(())
}

async fn md5_of<T: Target>(target: &T, path: &str) -> Result<Value, ModuleError> {
    let out = target.exec(Cmd::new("md5sum").flag("--").arg(path).as_str(), None).await?;
    Ok(out.stdout_str().split_whitespace().next().map_or(Value::Null, |s| Value::from(s.to_string())))
}

/// The content is right: only mode/owner/group may change.
#[allow(clippy::too_many_arguments)]
async fn finish_attrs<T: Target>(
    req: &Request,
    dest: &str,
    facts: &FileFacts,
    umask: u32,
    result: ModuleResult,
    target: &T,
    mode: RunMode,
    msg: &str,
) -> Result<ModuleResult, ModuleError> {
    let changes = req.attrs.changes(facts, umask);
    if changes.is_empty() {
        return Ok(remote_file::with_file_fields(ModuleResult { msg: Some(msg.to_string()), ..result }, facts));
    }
    let msg = if msg == "file already exists" { "file already exists but file attributes changed" } else { msg };
    let after = changes.predict(facts);
    if !mode.check {
        let cmd = changes.apply_cmd(dest, false).expect("non-empty changes have a command");
        let out = target.exec(cmd.as_str(), None).await?;
        if out.rc != 0 {
            return Ok(fail(result, format!("could not change `{dest}`: {}", out.stderr_str().trim())));
        }
    }
    Ok(remote_file::with_file_fields(ModuleResult { changed: true, msg: Some(msg.to_string()), ..result }, &after))
}

/// The download differs from `dest`: rename it onto `dest` with its final
/// attributes (a new file gets 0666 less the umask, as Ansible's atomic_move;
/// a replaced one keeps its mode and owner), backing `dest` up if asked.
#[allow(clippy::too_many_arguments)]
async fn replace<T: Target>(
    req: &Request,
    dest: &str,
    current: &FileFacts,
    umask: u32,
    tmp: &str,
    result: ModuleResult,
    target: &T,
    msg: &str,
) -> Result<ModuleResult, ModuleError> {
    let base = if current.kind == FileKind::File { current.mode } else { 0o666 & !umask };
    let mode = req.attrs.mode.as_ref().map_or(base, |m| m.resolve(base, false, umask));
    let plan = WritePlan {
        dest: dest.to_string(),
        mode,
        chown: remote_file::chown_spec(req.attrs.owner.as_deref(), req.attrs.group.as_deref()),
        keep_ids: current.exists().then_some((current.uid, current.gid)),
        create_dir: false,
        backup: req.backup,
        size: 0,
    };
    match remote_file::apply(target, &plan.cmd_with_md5(Some(tmp), None), None, 2, dest).await? {
        Err(msg) => {
            remove(target, tmp).await?;
            Ok(fail(result, msg))
        }
        Ok(applied) => {
            let mut r = ModuleResult { changed: true, msg: Some(msg.to_string()), ..result };
            if !applied.leading[0].is_empty() {
                r = r.with("backup_file", applied.leading[0].clone());
            }
            r = r.with("md5sum", applied.leading[1].clone());
            Ok(remote_file::with_file_fields(r, &applied.facts))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_parse_as_ansible() {
        assert_eq!(
            parse_checksum("SHA256:AB:cd").unwrap(),
            Checksum::Digest { algorithm: "sha256".into(), digest: "abcd".into() }
        );
        assert!(matches!(parse_checksum("sha1:http://h/sums"), Ok(Checksum::Url { .. })));
        assert_eq!(parse_checksum("abc").unwrap_err(), "The checksum parameter has to be in format <algorithm>:<checksum>");
        assert_eq!(parse_checksum("sha1:xyz").unwrap_err(), "The checksum format is invalid");
        assert!(parse_checksum("whirlpool:ab").is_err());
    }

    #[test]
    fn checksum_files_in_gnu_and_bsd_forms() {
        let gnu = "aaa  other.txt\nbbb *f.txt\n";
        assert_eq!(digest_for("f.txt", gnu).as_deref(), Some("bbb"));
        assert_eq!(digest_for("f.txt", "ccc ./f.txt\n").as_deref(), Some("ccc"));
        assert_eq!(digest_for("f.txt", "SHA256 (f.txt) = ddd\nx\n").as_deref(), Some("ddd"));
        assert_eq!(digest_for("f.txt", "eee\n").as_deref(), Some("eee"));
        assert_eq!(digest_for("g.txt", gnu), None);
    }

    #[test]
    fn the_fetch_command_holds_no_url_and_quotes_dest() {
        let line = fetch_cmd("/tmp/$(id) x", Some(("sha256", "ab")), false, false).into_string();
        assert!(line.contains(r#" sh '/tmp/$(id) x' sha256 ab 0 0"#), "{line}");
        assert!(!line.contains("://"), "{line}");
    }

    #[test]
    fn fetch_output_parses() {
        let out = b"file\0fetched\x000\x00200\nhttp://h/f\0\0/d/.stockman.X\0sha\0\0HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\0";
        let (is_dir, fetched) = parse_fetch(&mut remote_file::Fields::new(out)).unwrap();
        assert!(!is_dir);
        let Fetched::Done(d) = fetched else { panic!("{fetched:?}") };
        assert_eq!((d.final_url.as_str(), d.tmp.as_str(), d.response.unwrap().status), ("http://h/f", "/d/.stockman.X", 200));
    }
}
