//! `ansible.posix.authorized_key`: keys added to or removed from a user's
//! authorized_keys, as Ansible's module does. One command reads the user's
//! passwd entry, the file's path (resolved when `follow`) and its content;
//! the edit is planned here; one command creates the `.ssh` directory (when
//! `manage_dir`) and replaces the file atomically, 0600 and owned by the user.
//!
//! Ansible's model is kept because files written by it must not change when
//! stockman takes over: lines are keyed by the key's base64 blob (or, for
//! comments and other lines, by the line itself, so duplicates collapse), a
//! key whose options or comment change moves to the end, a key without a
//! comment is written with a trailing space, `exclusive` also drops comments.
//! A `key` that is a URL (http, https, file) is refused: stockman does not
//! fetch on the target for this module.

use regex::Regex;
use serde_json::{json, Value};

use crate::path_info::{info_cmd, with_info, INFO_FN};
use crate::remote_file::{self, WritePlan};
use crate::shell::Cmd;
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{p, req, Param};

/// The arguments of `authorized_key`, typed as ansible.posix.authorized_key's docs.
pub const PARAMS: &[Param] = &[
    req("user").str(),
    req("key").str(),
    p("path").path(),
    p("manage_dir").bool(),
    p("state").choices(&["absent", "present"]).default("present"),
    p("key_options").str(),
    p("exclusive").bool(),
    p("comment").str(),
    p("validate_certs").bool(),
    p("follow").bool(),
];

const KEY_TYPES: &[&str] = &[
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "ssh-dss",
    "ssh-rsa",
    "ssh-xmss@openssh.com",
    "ssh-xmss-cert-v01@openssh.com",
    "rsa-sha2-256",
    "rsa-sha2-512",
    "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
];

/// Prints the user's passwd entry, the keys file's path (`~` is the login's
/// home, as Ansible's `path` type; the user's ~/.ssh/authorized_keys when
/// none is given), the path with links resolved, the given path's `info`,
/// then the file's content.
const READ_SCRIPT: &str = r#"ent=$(getent passwd "$1")
printf '%s\0' "$ent"
p=$2
case $p in "~"|"~/"*) p=$HOME${p#"~"} ;; esac
if [ -z "$p" ] && [ -n "$ent" ]; then h=${ent#*:*:*:*:*:}; p=${h%%:*}/.ssh/authorized_keys; fi
printf '%s\0' "$p"
r=$(readlink -f -- "$p" && echo x); printf '%s\0' "${r%?x}"
if [ -n "$2" ]; then info "$p"; else printf '\0'; fi
if [ -n "$p" ] && [ -f "$p" ]; then exec cat -- "$p"; fi"#;

/// Before the write: `$1` the .ssh directory to create and own (empty: not
/// managed), `$2` the keys file, `$3` uid:gid. The file (a link's target:
/// chown and chmod follow links) is made 0600 and the user's; failures of
/// that are ignored, as Ansible ignores them.
const PREPARE_SCRIPT: &str = r#"if [ -n "$1" ]; then
  [ -e "$1" ] || mkdir -m 0700 -- "$1" || exit 1
  chown -- "$3" "$1" && chmod 0700 -- "$1" || exit 1
fi
if [ ! -e "$2" ]; then mkdir -p -- "$(dirname -- "$2")" && : > "$2" || exit 1; fi
chown -- "$3" "$2" 2>/dev/null; chmod 0600 -- "$2" 2>/dev/null; :"#;

/// One line of an authorized_keys file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A comment, a blank line or anything without a key: kept as written.
    Other(String),
    Key(Key),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub options: Vec<(String, Option<String>)>,
    pub key_type: String,
    pub blob: String,
    pub comment: String,
}

impl Key {
    /// Ansible compares options as a dict of lists: the order of different
    /// names does not matter, that of one name's values does.
    fn same_as(&self, other: &Key) -> bool {
        fn grouped(opts: &[(String, Option<String>)]) -> std::collections::BTreeMap<&str, Vec<&Option<String>>> {
            let mut map: std::collections::BTreeMap<&str, Vec<&Option<String>>> = Default::default();
            for (k, v) in opts {
                map.entry(k.as_str()).or_default().push(v);
            }
            map
        }
        self.blob == other.blob && self.key_type == other.key_type && self.comment == other.comment && grouped(&self.options) == grouped(&other.options)
    }

    fn render(&self) -> String {
        let options = self.options.iter().map(|(k, v)| v.as_ref().map_or(k.clone(), |v| format!("{k}={v}"))).collect::<Vec<_>>().join(",");
        let options = if options.is_empty() { options } else { options + " " };
        format!("{options}{} {} {}\n", self.key_type, self.blob, self.comment)
    }
}

/// `key_options` (`from="a,b",no-pty`) split on commas outside quotes, as Ansible does.
pub fn parse_options(text: &str) -> Vec<(String, Option<String>)> {
    let part = Regex::new(r#"((?:[^,"']|"[^"]*"|'[^']*')+)"#).unwrap();
    // Python's re.split keeping the matches, without its first and last pieces.
    let mut parts = Vec::new();
    let mut last = None;
    for m in part.find_iter(text) {
        if let Some(end) = last {
            parts.push(&text[end..m.start()]);
        }
        parts.push(m.as_str());
        last = Some(m.end());
    }
    parts
        .into_iter()
        .filter_map(|p| match p.split_once('=') {
            Some((k, v)) => Some((k.to_string(), Some(v.to_string()))),
            None if p != "," => Some((p.to_string(), None)),
            None => None,
        })
        .collect()
}

/// A line read as a key (None: no key type in it, or no key after the type).
pub fn parse_key(raw: &str) -> Option<Result<Key, String>> {
    let raw = raw.replace(r"\#", "#");
    let parts: Vec<&str> = raw.split([' ', '\t', '\r', '\n']).filter(|p| !p.is_empty()).collect();
    if parts.first() == Some(&"#") {
        return Some(Err(raw));
    }
    let at = parts.iter().position(|p| KEY_TYPES.contains(p))?;
    let blob = parts.get(at + 1)?;
    Some(Ok(Key {
        options: if at > 0 { parse_options(&parts[..at].join(" ")) } else { Vec::new() },
        key_type: parts[at].to_string(),
        blob: blob.to_string(),
        comment: parts[at + 2..].join(" "),
    }))
}

/// The file as Ansible holds it: entries keyed by blob (or line), each with
/// the rank it is written at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFile {
    entries: Vec<(String, Line, usize)>,
}

impl KeyFile {
    pub fn parse(content: &str) -> Self {
        let mut file = KeyFile::default();
        for (rank, line) in content.split_inclusive('\n').enumerate() {
            match parse_key(line) {
                Some(Ok(key)) => file.set(key.blob.clone(), Line::Key(key), rank),
                Some(Err(raw)) => file.set(raw.clone(), Line::Other(raw), rank),
                None => file.set(line.to_string(), Line::Other(line.to_string()), rank),
            }
        }
        file
    }

    /// A dict assignment: an existing id keeps its place, takes the new value.
    fn set(&mut self, id: String, line: Line, rank: usize) {
        match self.entries.iter_mut().find(|(i, _, _)| *i == id) {
            Some(entry) => *entry = (id, line, rank),
            None => self.entries.push((id, line, rank)),
        }
    }

    fn get(&self, id: &str) -> Option<&Line> {
        self.entries.iter().find(|(i, _, _)| i == id).map(|(_, l, _)| l)
    }

    fn remove(&mut self, id: &str) {
        self.entries.retain(|(i, _, _)| i != id);
    }

    pub fn render(&self) -> String {
        let mut sorted: Vec<&(String, Line, usize)> = self.entries.iter().collect();
        sorted.sort_by_key(|(_, _, rank)| *rank);
        sorted
            .into_iter()
            .map(|(_, line, _)| match line {
                Line::Other(text) => text.clone(),
                Line::Key(key) => key.render(),
            })
            .collect()
    }
}

/// The validated request.
#[derive(Debug, Clone)]
pub struct Request {
    pub user: String,
    pub keys: Vec<Key>,
    pub path: Option<String>,
    pub manage_dir: bool,
    pub present: bool,
    pub exclusive: bool,
    pub follow: bool,
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let user = args.required_str("user")?;
    let key = args.required_str("key")?;
    let state = args.str("state").unwrap_or_else(|| "present".into());
    if state != "present" && state != "absent" {
        return Err(ModuleError::BadArgs(format!("value of state must be one of: absent, present, got: {state}")));
    }
    if key.starts_with("http") || key.starts_with("file") {
        return Err(ModuleError::BadArgs(format!(
            "`key` {key} is a URL: stockman's native authorized_key does not fetch keys; read it with a lookup on the controller (`lookup('url', ...)` or `lookup('file', ...)`)"
        )));
    }
    let options = args.str("key_options").map(|o| parse_options(&o));
    let comment = args.str("comment");
    let mut keys = Vec::new();
    for line in key.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let Some(Ok(mut parsed)) = parse_key(line) else {
            return Err(ModuleError::BadArgs(format!("invalid key specified: {line}")));
        };
        if let Some(options) = &options {
            parsed.options = options.clone();
        }
        if let Some(comment) = &comment {
            parsed.comment = comment.clone();
        }
        keys.push(parsed);
    }
    Ok(Request {
        user,
        keys,
        path: args.str("path"),
        manage_dir: args.bool("manage_dir", true)?,
        present: state == "present",
        exclusive: args.bool("exclusive", false)?,
        follow: args.bool("follow", false)?,
    })
}

/// Plans the edit, pure: the new file, or None when nothing changes.
pub fn plan(req: &Request, mut file: KeyFile) -> Option<KeyFile> {
    let mut changed = false;
    let base_rank = file.entries.len();
    let mut wanted = Vec::new();
    for (i, key) in req.keys.iter().enumerate() {
        let matched = match file.get(&key.blob) {
            Some(Line::Key(old)) => !req.present || old.same_as(key),
            Some(Line::Other(_)) => !req.present,
            None => false,
        };
        if req.present {
            wanted.push(key.blob.clone());
            if !matched {
                // A key whose options or comment differ goes, and comes back last.
                file.remove(&key.blob);
                file.set(key.blob.clone(), Line::Key(key.clone()), base_rank + i);
                changed = true;
            }
        } else if matched {
            file.remove(&key.blob);
            changed = true;
        }
    }
    if req.present && req.exclusive {
        let before = file.entries.len();
        file.entries.retain(|(id, _, _)| wanted.contains(id));
        changed |= file.entries.len() != before;
    }
    changed.then_some(file)
}

/// What the read command found.
struct Found {
    /// uid, gid and home of the user (None: no such user).
    user: Option<(u32, u32)>,
    path: String,
    real_path: String,
    /// [`INFO_FN`]'s line for a given `path`.
    info: String,
    content: String,
}

fn parse_found(out: &[u8]) -> Option<Found> {
    let mut fields = out.splitn(5, |&b| b == 0);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let ent = text(fields.next()?);
    let path = text(fields.next()?);
    let real_path = text(fields.next()?);
    let info = text(fields.next()?);
    let content = text(fields.next().unwrap_or_default());
    let user = (!ent.is_empty()).then(|| {
        let f: Vec<&str> = ent.split(':').collect();
        Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
    });
    Some(Found { user: user.flatten(), path, real_path, info, content })
}

/// The result Ansible returns: the module's parameters with `keyfile`.
fn base_result(args: &Args, req: &Request, keyfile: &str) -> ModuleResult {
    let mut result = ModuleResult::ok();
    for name in ["user", "key", "path", "key_options", "comment"] {
        result = result.with(name, args.str(name).map_or(Value::Null, Value::String));
    }
    result
        .with("manage_dir", req.manage_dir)
        .with("state", if req.present { "present" } else { "absent" })
        .with("exclusive", req.exclusive)
        .with("validate_certs", args.bool("validate_certs", true).unwrap_or(true))
        .with("follow", req.follow)
        .with("keyfile", keyfile)
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let cmd = Cmd::new("/bin/sh").flag("-c").arg(format!("{INFO_FN}\n{READ_SCRIPT}")).arg("sh").arg(&req.user).arg(req.path.as_deref().unwrap_or_default());
    let out = target.exec(cmd.as_str(), None).await?;
    let Some(found) = parse_found(&out.stdout).filter(|_| out.rc == 0) else {
        return Ok(ModuleResult::failed(format!("could not read the authorized keys of `{}`: {}", req.user, out.stderr_str().trim())));
    };
    // Check mode with a path needs no user (Ansible looks none up there).
    let ids = match found.user {
        Some(ids) => Some(ids),
        None if mode.check && req.path.is_some() => None,
        None if mode.check => return Ok(ModuleResult::failed("Either user must exist or you must provide full path to key file in check mode")),
        None => return Ok(ModuleResult::failed(format!("Failed to lookup user {}: \"getpwnam(): name not found: '{}'\"", req.user, req.user))),
    };
    let mut result = base_result(args, &req, &found.path);
    let Some(new) = plan(&req, KeyFile::parse(&found.content)) else { return Ok(with_info(result, &found.info)) };
    let filename = if req.follow && !found.real_path.is_empty() { found.real_path.clone() } else { found.path.clone() };
    let after = new.render();
    result.changed = true;
    if mode.diff {
        result = result.with("diff", json!({"before_header": found.path, "after_header": filename, "before": found.content, "after": after}));
        result.diff.push(FileDiff { before_header: found.path.clone(), after_header: filename.clone(), before: found.content.clone(), after: after.clone() });
    }
    if mode.check {
        return Ok(with_info(result, &found.info));
    }
    let (uid, gid) = ids.expect("a user outside check mode");
    if let Err(msg) = write(target, &req, &filename, (uid, gid), &after).await? {
        return Ok(ModuleResult::failed(msg));
    }
    if req.path.is_none() {
        return Ok(result);
    }
    // The given path's attributes once written (one more command, on a change only).
    let out = target.exec(info_cmd(&found.path).as_str(), None).await?;
    Ok(with_info(result, out.stdout_str().trim_end_matches('\0')))
}

/// Creates the .ssh directory when managed, then replaces the file atomically.
async fn write<T: Target>(target: &T, req: &Request, filename: &str, (uid, gid): (u32, u32), content: &str) -> Result<Result<(), String>, ModuleError> {
    let ssh_dir = if req.manage_dir { parent(filename) } else { String::new() };
    let ids = format!("{uid}:{gid}");
    let prepare = Cmd::new("/bin/sh").flag("-c").arg(PREPARE_SCRIPT).arg("sh").arg(&ssh_dir).arg(filename).arg(&ids);
    let plan = WritePlan {
        dest: filename.to_string(),
        mode: 0o600,
        chown: None,
        keep_ids: Some((uid, gid)),
        create_dir: false,
        backup: false,
        size: content.len(),
    };
    let cmd = prepare.then("&&", plan.cmd());
    Ok(remote_file::apply(target, &cmd, Some(content.as_bytes()), 1, filename).await?.map(|_| ()))
}

/// The directory Ansible manages: the keys file's parent (`os.path.dirname`).
fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => path[..i].to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> Request {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn options_split_on_commas_outside_quotes() {
        assert_eq!(
            parse_options(r#"from="a,b",no-pty,command='x,y'"#),
            vec![("from".into(), Some("\"a,b\"".into())), ("no-pty".into(), None), ("command".into(), Some("'x,y'".into()))]
        );
    }

    #[test]
    fn keys_parse_with_options_and_comments() {
        let k = parse_key("no-pty ssh-ed25519 AAAA me@host extra\n").unwrap().unwrap();
        assert_eq!((k.key_type.as_str(), k.blob.as_str(), k.comment.as_str()), ("ssh-ed25519", "AAAA", "me@host extra"));
        assert_eq!(k.render(), "no-pty ssh-ed25519 AAAA me@host extra\n");
        assert!(parse_key("# a comment\n").unwrap().is_err());
        assert!(parse_key("garbage\n").is_none());
        // No comment: Ansible writes a trailing space.
        assert_eq!(parse_key("ssh-rsa BBBB").unwrap().unwrap().render(), "ssh-rsa BBBB \n");
    }

    #[test]
    fn present_adds_once_and_a_changed_key_moves_last() {
        let r = req(json!({"user": "u", "key": "ssh-ed25519 AAAA new"}));
        let file = KeyFile::parse("# keys\nssh-rsa BBBB old\n");
        assert_eq!(plan(&r, file).unwrap().render(), "# keys\nssh-rsa BBBB old\nssh-ed25519 AAAA new\n");
        assert!(plan(&r, KeyFile::parse("ssh-ed25519 AAAA new\n")).is_none());
        let moved = plan(&r, KeyFile::parse("ssh-ed25519 AAAA other\nssh-rsa BBBB\n")).unwrap();
        assert_eq!(moved.render(), "ssh-rsa BBBB \nssh-ed25519 AAAA new\n");
    }

    #[test]
    fn absent_exclusive_options_and_comment_override() {
        let gone = req(json!({"user": "u", "key": "ssh-rsa BBBB", "state": "absent"}));
        assert_eq!(plan(&gone, KeyFile::parse("ssh-rsa BBBB x\n#c\n")).unwrap().render(), "#c\n");
        assert!(plan(&gone, KeyFile::parse("#c\n")).is_none());
        let only = req(json!({"user": "u", "key": "ssh-rsa BBBB x\nssh-ed25519 AAAA y", "exclusive": true}));
        assert_eq!(plan(&only, KeyFile::parse("#c\nssh-rsa CCCC z\nssh-rsa BBBB x\n")).unwrap().render(), "ssh-rsa BBBB x\nssh-ed25519 AAAA y\n");
        let opts = req(json!({"user": "u", "key": "ssh-rsa BBBB x", "key_options": "no-pty,from=\"10.0.0.1\"", "comment": "c"}));
        assert_eq!(plan(&opts, KeyFile::default()).unwrap().render(), "no-pty,from=\"10.0.0.1\" ssh-rsa BBBB c\n");
        // Option order of different names does not matter.
        assert!(plan(&opts, KeyFile::parse("from=\"10.0.0.1\",no-pty ssh-rsa BBBB c\n")).is_none());
    }

    #[test]
    fn bad_keys_and_urls_are_refused() {
        let refused = |v: Value| request(&Args::new(v.as_object().unwrap().clone())).unwrap_err().to_string();
        assert_eq!(refused(json!({"user": "u", "key": "nokey here"})), "invalid key specified: nokey here");
        assert!(refused(json!({"user": "u", "key": "https://example.org/keys"})).contains("does not fetch"));
    }

    #[test]
    fn the_read_output_gives_ids_and_paths() {
        let found = parse_found(b"bob:x:1001:1002::/home/bob:/bin/sh\0/home/bob/.ssh/authorized_keys\0/home/bob/.ssh/authorized_keys\0\0ssh-rsa A\n").unwrap();
        assert_eq!(found.user, Some((1001, 1002)));
        assert_eq!(found.content, "ssh-rsa A\n");
        assert_eq!(parse_found(b"\0/k\0\0\0").unwrap().user, None);
        assert_eq!(parent("/home/bob/.ssh/authorized_keys"), "/home/bob/.ssh");
    }
}
