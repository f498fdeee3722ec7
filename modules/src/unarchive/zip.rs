//! A zip archive: one command prints zipinfo's listing (`-T -s`: Unix mode
//! strings, sizes, timestamps), unzip's CRCs and, per member, the file that
//! is there (type, mode, owner, size, mtime, CRC-32 by gzip's trailer);
//! [`compare`] then decides, member by member, as Ansible's ZipArchive does.

use super::{Handler, Inspected, Request, MAX_MEMBERS, ZIP_SCRIPT};
use crate::remote_file::Fields;
use crate::shell::Cmd;
use crate::{ModuleError, Target};

/// The user the module runs as, and its umask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunUser {
    pub name: String,
    pub uid: u32,
    pub group: String,
    pub gid: u32,
    pub umask: u32,
}

/// A member's file on the host, as the zip script printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnDisk {
    /// `d`, `f`, `L` or `?` (anything else).
    pub kind: char,
    pub mode: u32,
    pub uid: u32,
    pub owner: String,
    pub gid: u32,
    pub group: String,
    pub size: u64,
    /// mtime in the host's local time, `yyyymmdd.HHMMSS`, and whether it has a fraction of a second.
    pub mtime: String,
    pub fractional: bool,
    pub crc: Option<u32>,
}

/// Parses one `%F|%a|%u|%U|%g|%G|%s|%.9Y|local|crc` line.
pub fn parse_on_disk(line: &str) -> Option<OnDisk> {
    let f: Vec<&str> = line.split('|').collect();
    if f.len() != 10 {
        return None;
    }
    let kind = match f[0] {
        "directory" => 'd',
        "symbolic link" => 'L',
        t if t.starts_with("regular") => 'f',
        _ => '?',
    };
    let fraction = f[7].split_once('.').map_or("", |(_, frac)| frac);
    Some(OnDisk {
        kind,
        mode: u32::from_str_radix(f[1], 8).ok()?,
        uid: f[2].parse().ok()?,
        owner: f[3].to_string(),
        gid: f[4].parse().ok()?,
        group: f[5].to_string(),
        size: f[6].parse().ok()?,
        mtime: f[8].to_string(),
        fractional: fraction.bytes().any(|b| b != b'0'),
        crc: f[9].parse().ok(),
    })
}

/// What the comparison decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Members to unpack (Ansible's `includes`).
    pub changed: Vec<String>,
    /// Itemized changes, one line per member, as Ansible's `diff.prepared`.
    pub diff: String,
    /// Members newer on disk, kept under `keep_newer`: excluded from the unzip.
    pub newer: Vec<String>,
}

/// The zipinfo timestamp as Ansible's `_valid_time_stamp` clamps it.
fn clamp_time(stamp: &str) -> String {
    let valid = stamp.len() == 15 && stamp.as_bytes()[8] == b'.' && stamp.bytes().enumerate().all(|(i, b)| i == 8 || b.is_ascii_digit());
    match stamp.get(..4).and_then(|y| y.parse::<u32>().ok()) {
        Some(year) if valid && (1980..=2107).contains(&year) => stamp.to_string(),
        Some(year) if valid && year > 2107 => "21071231.235959".into(),
        _ => "19800101.000000".into(),
    }
}

/// Unix permission bits of a zipinfo mode string (`rwxr-x---`), `s`/`t` as `x`.
fn perm_bits(perms: &str) -> u32 {
    perms.bytes().rev().enumerate().filter(|(_, c)| b"rwxst".contains(c)).fold(0, |m, (i, _)| m | (1 << i))
}

/// Compares every listed member with its file on the host.
pub fn compare(listing: &str, crcs: &[(String, u32)], disk: &[(String, Option<OnDisk>)], req: &Request, user: &RunUser) -> Result<Verdict, String> {
    let mut v = Verdict::default();
    for line in listing.lines() {
        let pcs = split8(line);
        if pcs.len() != 8 || ![7, 8, 10].contains(&pcs[0].len()) || pcs[6].len() != 15 {
            continue;
        }
        let (ztype, perms) = pcs[0].split_at(1);
        if !"dl-?".contains(ztype) || !perms.chars().all(|c| "rwxstah-".contains(c)) {
            continue;
        }
        let path = pcs[7];
        if req.exclude.iter().any(|e| e == path) {
            continue;
        }
        let ftype = if path.ends_with('/') { 'd' } else if ztype == "l" { 'L' } else { 'f' };
        let Some(Some(st)) = disk.iter().find(|(n, _)| n == path).map(|(_, d)| d.clone()) else {
            v.changed.push(path.to_string());
            v.diff.push_str(&format!(">{ftype}++++++.?? {path}\n"));
            continue;
        };
        if st.kind != ftype {
            v.changed.push(path.to_string());
            v.diff.push_str(&format!("c{ftype}++++++.?? {path}\n"));
            continue;
        }
        let (perms, umask) = match perms.len() {
            6 if path.ends_with('/') || perms == "rwx---" => ("rwxrwxrwx", user.umask),
            6 => ("rw-rw-rw-", user.umask),
            7 if perms == "rwxa---" => ("rwxrwxrwx", user.umask),
            7 => ("rw-rw-rw-", user.umask),
            _ => (perms, 0),
        };
        let mut item: Vec<char> = format!(".{ftype}.......??").chars().collect();
        let mut change = false;
        let stamp = clamp_time(pcs[6]);
        if st.kind == 'f' {
            let older = stamp > st.mtime || (stamp == st.mtime && st.fractional);
            if req.keep_newer && !older && stamp != st.mtime {
                v.newer.push(path.to_string());
                continue;
            }
            if (req.keep_newer && older) || (!req.keep_newer && (stamp != st.mtime || st.fractional)) {
                change = true;
                item[4] = 't';
            }
            if pcs[3].parse::<u64>().ok() != Some(st.size) {
                change = true;
                item[3] = 's';
            }
            let crc = crcs.iter().find(|(n, _)| n == path).map(|(_, c)| *c);
            if crc != st.crc {
                change = true;
                item[2] = 'c';
            }
        }
        if ftype != 'L' {
            let want = match &req.attrs.mode {
                Some(mode) => mode.resolve(st.mode, st.kind == 'd', user.umask),
                None if ztype == "?" => perm_bits(perms),
                None => perm_bits(perms) & !umask,
            };
            if want != st.mode {
                change = true;
                item[5] = 'p';
            }
        }
        let (fut_owner, fut_uid) = future(req.attrs.owner.as_deref(), &user.name, user.uid);
        if user.uid != 0 && (fut_owner.as_deref().is_some_and(|o| o != user.name) || fut_uid != user.uid) {
            return Err(format!("Cannot change ownership of {path} to {}, as user {}", req.attrs.owner.as_deref().unwrap_or_default(), user.name));
        }
        if fut_owner.as_deref().map_or(st.uid != fut_uid, |o| o != st.owner) {
            change = true;
            item[6] = 'o';
        }
        let (fut_group, fut_gid) = future(req.attrs.group.as_deref(), &user.group, user.gid);
        if fut_group.as_deref().map_or(st.gid != fut_gid, |g| g != st.group) {
            change = true;
            item[6] = 'g';
        }
        if change {
            v.changed.push(path.to_string());
            v.diff.push_str(&format!("{} {path}\n", item.iter().collect::<String>()));
        }
    }
    Ok(v)
}

/// zipinfo separates columns with runs of spaces: the first 7 words, then the name.
fn split8(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while out.len() < 7 {
        let Some(end) = rest.find(char::is_whitespace) else { break };
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The owner (or group) a member should have: a name (compared by name),
/// or a numeric id (compared by id); the running user's when not asked.
fn future(wanted: Option<&str>, run_name: &str, run_id: u32) -> (Option<String>, u32) {
    match wanted {
        None => (Some(run_name.to_string()), run_id),
        Some(w) => match w.parse::<u32>() {
            Ok(id) => (None, id),
            Err(_) => (Some(w.to_string()), run_id),
        },
    }
}

/// `unzip -v`'s CRC-32 column, by member name.
pub fn parse_crcs(listing: &str) -> Vec<(String, u32)> {
    listing
        .lines()
        .filter_map(|line| {
            let f = split8(line);
            (f.len() == 8 && f[6].len() == 8).then(|| u32::from_str_radix(f[6], 16).ok().map(|c| (f[7].to_string(), c))).flatten()
        })
        .collect()
}

/// The members Ansible lists: matching an include, else not matching an exclude.
pub fn files_in_archive(names: &[String], req: &Request) -> Vec<String> {
    let mut files = Vec::new();
    for name in names {
        if !req.include.is_empty() {
            files.extend(req.include.iter().filter(|i| crate::fnmatch::matches(i, name)).map(|_| name.clone()));
        } else if !req.exclude.iter().any(|e| crate::fnmatch::matches(e, name)) {
            files.push(name.clone());
        }
    }
    files
}

fn zipinfo_cmd(req: &Request, src: &str, handler: &Handler) -> Cmd {
    let mut tail = Vec::new();
    if !req.exclude.is_empty() {
        tail.push("-x".to_string());
        tail.extend(req.exclude.iter().cloned());
    }
    tail.extend(req.include.iter().cloned());
    super::script(ZIP_SCRIPT)
        .arg(&handler.extra)
        .arg(if handler.name == "ZipZArchive" { "1" } else { "0" })
        .arg(src)
        .arg(req.dest.trim_end_matches('/'))
        .args(tail)
}

pub async fn inspect<T: Target>(req: &Request, src: &str, handler: &Handler, target: &T) -> Result<Result<Inspected, String>, ModuleError> {
    let out = target.exec(zipinfo_cmd(req, src, handler).as_str(), None).await?;
    let mut fields = Fields::new(&out.stdout);
    let head: Vec<String> = (0..8).map_while(|_| fields.next_field()).collect();
    if head.len() < 8 {
        return Ok(Err(format!("cannot list the zip archive on the host: {}", out.stderr_str().trim())));
    }
    let user = RunUser {
        name: head[0].clone(),
        uid: head[1].parse().unwrap_or(u32::MAX),
        group: head[2].clone(),
        gid: head[3].parse().unwrap_or(u32::MAX),
        umask: u32::from_str_radix(head[4].trim(), 8).unwrap_or(0o022),
    };
    let mut disk = Vec::new();
    while let (Some(name), Some(line)) = (fields.next_field(), fields.next_field()) {
        if disk.len() == MAX_MEMBERS {
            return Ok(Err(format!("the archive has more than stockman's bound of {MAX_MEMBERS} members")));
        }
        disk.push((name, parse_on_disk(&line)));
    }
    let names: Vec<String> = disk.iter().map(|(n, _)| n.clone()).collect();
    let files = files_in_archive(&names, req);
    let verdict = match compare(&head[6], &parse_crcs(&head[7]), &disk, req, &user) {
        Ok(verdict) => verdict,
        Err(msg) => return Ok(Err(msg)),
    };
    let unarchived = head[5] == "0" && verdict.changed.is_empty();
    Ok(Ok(Inspected { files, unarchived, diff: Some(verdict.diff), newer: verdict.newer }))
}

/// Runs its arguments; prints rc, stdout and stderr, NUL-terminated.
const EXTRACT_SCRIPT: &str = r#"e=$(mktemp) || exit 1; trap 'rm -f -- "$e"' EXIT
out=$("$@" 2>"$e"; echo "x$?"); printf '%s\0%s\0' "${out##*x}" "${out%x*}"; cat -- "$e"; printf '\0'"#;

/// `unzip -o [opts] src [-x excludes] [includes] -d dest`, as Ansible runs it.
pub fn extract_argv(req: &Request, src: &str, handler: &Handler, newer: &[String]) -> Vec<String> {
    let mut argv = vec![handler.program.clone(), "-o".into()];
    argv.extend(req.extra_opts.iter().cloned());
    argv.push(src.to_string());
    let excludes: Vec<&String> = req.exclude.iter().chain(newer).collect();
    if !excludes.is_empty() {
        argv.push("-x".into());
        argv.extend(excludes.into_iter().cloned());
    }
    argv.extend(req.include.iter().cloned());
    argv.extend(["-d".to_string(), req.dest.clone()]);
    argv
}

pub async fn extract<T: Target>(req: &Request, src: &str, handler: &Handler, newer: &[String], target: &T) -> Result<(Vec<String>, (i32, String, String)), ModuleError> {
    let argv = extract_argv(req, src, handler, newer);
    let cmd = super::script(EXTRACT_SCRIPT).args(&argv);
    let out = target.exec(cmd.as_str(), None).await?;
    let result = super::tar::call(&mut Fields::new(&out.stdout)).unwrap_or((out.rc.max(1), String::new(), out.stderr_str()));
    Ok((argv, result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const LISTING: &str = "Archive:  z.zip\nZip file size: 764 bytes, number of entries: 3\n\
drwxr-xr-x  3.0 unx        0 bx stor 20261202.145806 top/\n\
-rw-r--r--  3.0 unx        6 tx stor 20261202.145806 top/a b.txt\n\
-rwxr-x---  3.0 unx        4 tx stor 19700101.000000 top/old\n\
3 files, 10 bytes uncompressed, 10 bytes compressed:  0.0%\n";

    fn req(v: Value) -> Request {
        super::super::request(&crate::Args::new(v.as_object().unwrap().clone())).unwrap().unwrap()
    }

    fn root() -> RunUser {
        RunUser { name: "root".into(), uid: 0, group: "root".into(), gid: 0, umask: 0o022 }
    }

    fn on_disk(kind: char, mode: u32, size: u64, mtime: &str, crc: Option<u32>) -> Option<OnDisk> {
        Some(OnDisk { kind, mode, uid: 0, owner: "root".into(), gid: 0, group: "root".into(), size, mtime: mtime.into(), fractional: false, crc })
    }

    #[test]
    fn members_that_match_their_files_change_nothing() {
        let crcs = parse_crcs("  Length ...\n       6  Stored        6   0% 2026-12-02 14:58 363a3020  top/a b.txt\n       4  Stored        4   0% 1980-01-01 00:00 0000abcd  top/old\n");
        assert_eq!(crcs, [("top/a b.txt".to_string(), 0x363a3020), ("top/old".to_string(), 0xabcd)]);
        let disk = vec![
            ("top/".to_string(), on_disk('d', 0o755, 4096, "20261202.145806", None)),
            ("top/a b.txt".to_string(), on_disk('f', 0o644, 6, "20261202.145806", Some(0x363a3020))),
            ("top/old".to_string(), on_disk('f', 0o750, 4, "19800101.000000", Some(0xabcd))),
        ];
        let v = compare(LISTING, &crcs, &disk, &req(json!({"src": "z", "dest": "/d"})), &root()).unwrap();
        assert_eq!(v, Verdict::default(), "a date before 1980 counts as 1980-01-01");
    }

    #[test]
    fn differences_are_itemized_as_ansible() {
        let crcs = vec![("top/a b.txt".to_string(), 1)];
        let disk = vec![
            ("top/".to_string(), on_disk('f', 0o644, 0, "20261202.145806", Some(0))),
            ("top/a b.txt".to_string(), on_disk('f', 0o600, 7, "20261202.145807", Some(2))),
        ];
        let v = compare(LISTING, &crcs, &disk, &req(json!({"src": "z", "dest": "/d"})), &root()).unwrap();
        assert_eq!(v.changed, ["top/", "top/a b.txt", "top/old"]);
        assert_eq!(v.diff, "cd++++++.?? top/\n.fcstp...?? top/a b.txt\n>f++++++.?? top/old\n");
        // keep_newer: a newer file is left out of the unzip.
        let v = compare(LISTING, &crcs, &disk, &req(json!({"src": "z", "dest": "/d", "keep_newer": true})), &root()).unwrap();
        assert_eq!(v.newer, ["top/a b.txt"]);
        let as_user = RunUser { name: "u".into(), uid: 1000, ..root() };
        assert!(compare(LISTING, &crcs, &disk, &req(json!({"src": "z", "dest": "/d", "owner": "root"})), &as_user).unwrap_err().contains("Cannot change ownership"));
    }

    #[test]
    fn stat_lines_and_includes() {
        let st = parse_on_disk("regular empty file|644|0|root|0|root|0|1700000000.500000000|20231114.221320|0").unwrap();
        assert!(st.kind == 'f' && st.fractional && st.crc == Some(0));
        assert_eq!(parse_on_disk("symbolic link|777|0|root|0|root|3|1.000000000|19700101.000001|").unwrap().kind, 'L');
        let names: Vec<String> = ["a/", "a/x.txt", "a/y.log"].iter().map(|s| s.to_string()).collect();
        assert_eq!(files_in_archive(&names, &req(json!({"src": "z", "dest": "/d", "exclude": ["*.log"]}))), ["a/", "a/x.txt"]);
        assert_eq!(files_in_archive(&names, &req(json!({"src": "z", "dest": "/d", "include": ["a/x*"]}))), ["a/x.txt"]);
        let h = Handler { name: "ZipArchive".into(), program: "/usr/bin/unzip".into(), extra: "/usr/bin/zipinfo".into() };
        let r = req(json!({"src": "z", "dest": "/d", "exclude": ["b"], "extra_opts": ["-L"]}));
        assert_eq!(extract_argv(&r, "/t/z", &h, &["n".into()]), ["/usr/bin/unzip", "-o", "-L", "/t/z", "-x", "b", "n", "-d", "/d"]);
    }
}
