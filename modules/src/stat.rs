//! `stat`: facts about one path, as Ansible's `stat` module reports them, in one
//! command. Never changes anything, so check mode runs it as usual.
//!
//! The probe prints NUL-terminated fields (so any path, owner or link target is
//! data): `absent`, or `present`, the numbers, owner and group names, the
//! access tests for the connecting user, the link's real path and target, the
//! checksum (or empty fields), then what `file` says of its MIME type and
//! `lsattr` of its attributes: `n` not asked, `u` unknown (no such program,
//! or it failed, as Ansible reports them), else `m`/`a` and the answer.

use serde_json::{Map, Value};

use crate::remote_file::Fields;
use crate::shell::Cmd;
use crate::{Args, ModuleError, ModuleResult, Target};
use crate::spec::{alias, p, Param};

/// The arguments of `stat`, typed as ansible.builtin.stat's docs.
pub const PARAMS: &[Param] = &[
    alias("path", &["dest", "name"], true).path(),
    p("follow").bool(),
    p("get_checksum").bool(),
    alias("get_mime", &["mime", "mime_type", "mime-type"], false).bool(),
    alias("get_attributes", &["attr", "attributes"], false).bool(),
    alias("checksum_algorithm", &["checksum", "checksum_algo"], false).choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]).default("sha1"),
];

/// `$1` path, `$2` 1 to follow links, `$3` checksum program (or empty), `$4`
/// and `$5` 1 to ask `file` and `lsattr` (on the path as given, as Ansible does).
/// `stat` prints a name as UNKNOWN when the id has none: the script turns
/// that into an empty field so the result leaves `pw_name`/`gr_name` out.
const STAT_SCRIPT: &str = r#"p=$1 f=$2 sum=$3 mime=$4 attr=$5
if [ "$f" = 1 ]; then o=-L; [ -e "$p" ] || { printf 'absent\0'; exit 0; }
else o=; [ -e "$p" ] || [ -L "$p" ] || { printf 'absent\0'; exit 0; }; fi
stat $o --printf 'present\0%f %u %g %s %i %d %h %b %o %r %.9X %.9Y %.9Z\0' -- "$p" || exit 1
u=$(stat $o --printf '%U' -- "$p"; echo x); g=$(stat $o --printf '%G' -- "$p"; echo x)
u=${u%x} g=${g%x}; [ "$u" = UNKNOWN ] && u=; [ "$g" = UNKNOWN ] && g=
printf '%s\0%s\0' "$u" "$g"
r=0 w=0 x=0; [ -r "$p" ] && r=1; [ -w "$p" ] && w=1; [ -x "$p" ] && x=1
printf '%s%s%s\0' $r $w $x
if [ -z "$o" ] && [ -L "$p" ]; then
  s=$(readlink -f -- "$p"; echo x); t=$(readlink -- "$p"; echo x)
  printf 'link\0%s\0%s\0' "${s%?x}" "${t%?x}"
else printf 'nolink\0'; fi
if [ -n "$sum" ] && [ -f "$p" ] && [ -r "$p" ] && { [ -n "$o" ] || [ ! -L "$p" ]; }; then
  h=$("$sum" < "$p") || exit 1; printf '%s\0' "${h%% *}"
else printf '\0'; fi
if [ "$mime" != 1 ]; then printf 'n\0'
elif m=$(file -b --mime-type --mime-encoding -- "$p" 2>/dev/null); then printf 'm%s\0' "$m"
else printf 'u\0'; fi
set -f
if [ "$attr" != 1 ]; then printf 'n\0'
elif a=$(lsattr -vd -- "$p" 2>/dev/null) && set -- $a && [ $# -ge 2 ]; then printf 'a%s %s\0' "$1" "$2"
else printf 'u\0'; fi"#;

/// Checksum algorithms Ansible accepts that coreutils has a program for.
fn checksum_program(algorithm: &str) -> Option<&'static str> {
    Some(match algorithm {
        "md5" => "md5sum",
        "sha1" => "sha1sum",
        "sha224" => "sha224sum",
        "sha256" => "sha256sum",
        "sha384" => "sha384sum",
        "sha512" => "sha512sum",
        _ => return None,
    })
}

/// What to ask beyond the file's numbers.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub checksum: Option<&'static str>,
    pub mime: bool,
    pub attributes: bool,
}

/// The probe command for `path`.
pub fn probe_cmd(path: &str, follow: bool, wanted: Wanted) -> Cmd {
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(STAT_SCRIPT)
        .arg("sh")
        .arg(path)
        .arg(if follow { "1" } else { "0" })
        .arg(wanted.checksum.unwrap_or(""))
        .arg(if wanted.mime { "1" } else { "0" })
        .arg(if wanted.attributes { "1" } else { "0" })
}

pub async fn run<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let path = args.required_str("path")?;
    let follow = args.bool("follow", false)?;
    let algorithm = args.str("checksum_algorithm").unwrap_or_else(|| "sha1".into());
    let Some(program) = checksum_program(&algorithm) else {
        return Ok(ModuleResult::failed(format!(
            "value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, sha512, got: {algorithm}"
        )));
    };
    let wanted = Wanted {
        checksum: args.bool("get_checksum", true)?.then_some(program),
        mime: args.bool("get_mime", true)?,
        attributes: args.bool("get_attributes", true)?,
    };
    let out = target.exec(probe_cmd(&path, follow, wanted).as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!(
            "could not stat `{path}`: {}",
            out.stderr_str().trim()
        )));
    }
    match parse(&out.stdout, &path) {
        Some(stat) => Ok(ModuleResult::ok().with("stat", Value::Object(stat))),
        None => Ok(ModuleResult::failed(format!(
            "unexpected output from stat of `{path}`: {:?}",
            out.stdout_str()
        ))),
    }
}

/// Parses the probe's output into Ansible's `stat` dictionary.
pub fn parse(output: &[u8], path: &str) -> Option<Map<String, Value>> {
    let mut fields = Fields::new(output);
    let mut stat = Map::new();
    if fields.next_field()? == "absent" {
        stat.insert("exists".into(), false.into());
        return Some(stat);
    }
    let numbers = fields.next_field()?;
    let n: Vec<&str> = numbers.split(' ').collect();
    if n.len() != 13 {
        return None;
    }
    let raw = u32::from_str_radix(n[0], 16).ok()?;
    let int = |i: usize| n[i].parse::<u64>().ok();
    let owner = fields.next_field()?;
    let group = fields.next_field()?;
    let access = fields.next_field()?;
    let link = if fields.next_field()? == "link" {
        Some((fields.next_field()?, fields.next_field()?))
    } else {
        None
    };
    let checksum = fields.next_field()?;
    let mime = fields.next_field()?;
    let attributes = fields.next_field()?;

    let mut put = |k: &str, v: Value| {
        stat.insert(k.to_string(), v);
    };
    put("exists", true.into());
    put("path", path.into());
    put("mode", format!("{:04o}", raw & 0o7777).into());
    let kind = raw & 0o170000;
    for (name, bits) in [
        ("isdir", 0o040000),
        ("ischr", 0o020000),
        ("isblk", 0o060000),
        ("isreg", 0o100000),
        ("isfifo", 0o010000),
        ("islnk", 0o120000),
        ("issock", 0o140000),
    ] {
        put(name, (kind == bits).into());
    }
    for (name, i) in [("uid", 1), ("gid", 2), ("size", 3), ("inode", 4), ("dev", 5), ("nlink", 6)] {
        put(name, int(i)?.into());
    }
    for (name, i) in [("atime", 10), ("mtime", 11), ("ctime", 12)] {
        put(name, python_time(n[i])?);
    }
    for (name, bit) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        put(name, (raw & bit != 0).into());
    }
    for (name, i) in [("blocks", 7), ("block_size", 8), ("device_type", 9)] {
        put(name, int(i)?.into());
    }
    let access: Vec<bool> = access.chars().map(|c| c == '1').collect();
    if access.len() != 3 {
        return None;
    }
    put("readable", access[0].into());
    put("writeable", access[1].into());
    put("executable", access[2].into());
    if let Some((source, target)) = link {
        put("lnk_source", source.into());
        put("lnk_target", target.into());
    }
    if !owner.is_empty() {
        put("pw_name", owner.into());
    }
    if !group.is_empty() {
        put("gr_name", group.into());
    }
    if !checksum.is_empty() {
        put("checksum", checksum.into());
    }
    if let Some((mimetype, charset)) = mime_fields(&mime)? {
        put("mimetype", mimetype.into());
        put("charset", charset.into());
    }
    if let Some((version, flags)) = attribute_fields(&attributes)? {
        put("version", version.map_or(Value::Null, Value::from));
        put("attributes", format_attributes(&flags).into());
        put("attr_flags", flags.into());
    }
    Some(stat)
}

/// `file -b --mime-type --mime-encoding`'s `TYPE; charset=CHARSET`, read as
/// Ansible reads it: anything else is `unknown` for both. None: not asked.
fn mime_fields(field: &str) -> Option<Option<(String, String)>> {
    let unknown = || Some(Some(("unknown".to_string(), "unknown".to_string())));
    match field.split_at_checked(1)? {
        ("n", _) => Some(None),
        ("m", answer) => {
            let parts: Vec<&str> = answer.split(';').collect();
            let charset = parts.get(1).and_then(|c| c.split('=').nth(1));
            match (parts.len(), charset) {
                (2, Some(charset)) => Some(Some((parts[0].trim().to_string(), charset.trim().to_string()))),
                _ => unknown(),
            }
        }
        ("u", _) => unknown(),
        _ => None,
    }
}

/// `lsattr -vd`'s version and flags (dashes dropped); unknown is a null
/// version and no flags, as Ansible reports it. None: not asked.
fn attribute_fields(field: &str) -> Option<Option<(Option<String>, String)>> {
    match field.split_at_checked(1)? {
        ("n", _) => Some(None),
        ("a", answer) => {
            let (version, flags) = answer.split_once(' ')?;
            Some(Some((Some(version.to_string()), flags.replace('-', ""))))
        }
        ("u", _) => Some(Some((None, String::new()))),
        _ => None,
    }
}

/// The names Ansible gives `lsattr`'s flag letters, in the flags' order.
fn format_attributes(flags: &str) -> Vec<&'static str> {
    flags
        .chars()
        .filter_map(|c| {
            Some(match c {
                'A' => "noatime",
                'a' => "append",
                'c' => "compressed",
                'C' => "nocow",
                'd' => "nodump",
                'D' => "dirsync",
                'e' => "extents",
                'E' => "encrypted",
                'h' => "blocksize",
                'i' => "immutable",
                'I' => "indexed",
                'j' => "journalled",
                'N' => "inline",
                's' => "zero",
                'S' => "synchronous",
                't' => "notail",
                'T' => "blockroot",
                'u' => "undelete",
                'X' => "compressedraw",
                'Z' => "compresseddirty",
                _ => return None,
            })
        })
        .collect()
}

/// `SECONDS.NANOS` as Python's float `st_mtime` (seconds + nanos * 1e-9).
fn python_time(text: &str) -> Option<Value> {
    let (secs, nanos) = text.split_once('.').unwrap_or((text, "0"));
    let secs: i64 = secs.parse().ok()?;
    let nanos: i64 = nanos.parse().ok()?;
    let t = secs as f64 + nanos as f64 * 1e-9;
    serde_json::Number::from_f64(t).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_is_exists_false_only() {
        let stat = parse(b"absent\0", "/x").unwrap();
        assert_eq!(Value::Object(stat), serde_json::json!({"exists": false}));
    }

    #[test]
    fn parses_a_link_with_hostile_names() {
        let out = b"present\0a1ff 0 0 4 77 2049 1 0 4096 0 1.5 2.000000001 3.0\0root\0\0\x31\x310\0link\0/real/a\nb\0a\nb\0\0n\0n\0";
        let stat = parse(out, "/l").unwrap();
        assert_eq!(stat["islnk"], true);
        assert_eq!(stat["isreg"], false);
        assert_eq!(stat["mode"], "0777");
        assert_eq!(stat["lnk_target"], "a\nb");
        assert_eq!(stat["lnk_source"], "/real/a\nb");
        assert_eq!(stat["pw_name"], "root");
        assert!(!stat.contains_key("gr_name"), "unknown group is left out");
        assert!(!stat.contains_key("checksum"));
        assert_eq!((stat["readable"].clone(), stat["executable"].clone()), (true.into(), false.into()));
        assert_eq!(stat["mtime"].as_f64(), Some(2.000000001));
    }

    #[test]
    fn mime_and_attributes_as_ansible_reads_them() {
        let head = "present\0081a4 0 0 4 77 2049 1 0 4096 0 1.5 2.0 3.0\0root\0root\0110\0nolink\0\0";
        let stat = |tail: &str| parse(format!("{head}{tail}").as_bytes(), "/f").unwrap();
        let s = stat("mtext/plain; charset=us-ascii\0a1234 --------------e-------\0");
        assert_eq!((s["mimetype"].clone(), s["charset"].clone()), ("text/plain".into(), "us-ascii".into()));
        assert_eq!((s["version"].clone(), s["attr_flags"].clone()), ("1234".into(), "e".into()));
        assert_eq!(s["attributes"], serde_json::json!(["extents"]));
        let s = stat("u\0u\0");
        assert_eq!((s["mimetype"].clone(), s["charset"].clone()), ("unknown".into(), "unknown".into()));
        assert_eq!((s["version"].clone(), s["attr_flags"].clone(), s["attributes"].clone()), (Value::Null, "".into(), serde_json::json!([])));
        let s = stat("mweird\0n\0");
        assert_eq!(s["mimetype"], "unknown");
        assert!(!s.contains_key("attributes"));
        let s = stat("n\0n\0");
        assert!(!s.contains_key("mimetype") && !s.contains_key("version"));
    }

    #[test]
    fn truncated_output_is_rejected() {
        assert!(parse(b"present\0a1ff 0 0\0", "/x").is_none());
        assert!(parse(b"", "/x").is_none());
    }

    #[test]
    fn only_known_algorithms() {
        assert_eq!(checksum_program("sha256"), Some("sha256sum"));
        assert_eq!(checksum_program("$(id)"), None);
    }
}
