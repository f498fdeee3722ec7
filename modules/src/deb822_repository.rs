//! `ansible.builtin.deb822_repository`: one apt source as a deb822
//! `.sources` file under /etc/apt/sources.list.d, as Ansible's module writes
//! it, with no Python (nor python3-debian) on the host. The file's text is
//! made here from the arguments (fields in the order of their argument
//! names, lists joined by spaces, booleans `yes`/`no`, multi-line values
//! indented with `.` for blank lines); one command reads what is there; one
//! atomic write (mode `0644` unless asked) applies a difference.
//!
//! `signed_by` is kept as given when it is a file on the host or key text;
//! a URL is downloaded on the host (curl) into /etc/apt/keyrings/NAME.asc
//! (armored) or NAME.gpg, replaced only when its bytes differ.

use serde_json::Value;

use crate::listarg;
use crate::mode::ModeSpec;
use crate::path_info;
use crate::remote_file::{self, Fields, WritePlan};
use crate::shell::Cmd;
use crate::spec::{p, req, Param};
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};

/// The arguments, as ansible-core declares them (all deb822 fields but
/// `mode` and `state`).
pub const PARAMS: &[Param] = &[
    p("allow_downgrade_to_insecure").bool(),
    p("allow_insecure").bool(),
    p("allow_weak").bool(),
    p("architectures").list(),
    p("by_hash").bool(),
    p("check_date").bool(),
    p("check_valid_until").bool(),
    p("components").list(),
    p("date_max_future").int(),
    p("enabled").bool(),
    p("inrelease_path").str(),
    p("languages").list(),
    req("name").str(),
    p("pdiffs").bool(),
    p("signed_by").str(),
    p("suites").list(),
    p("targets").list(),
    p("trusted").bool(),
    p("types").list(),
    p("uris").list(),
    p("mode"),
    p("state").choices(&["present", "absent"]).default("present"),
];

/// How each deb822 field's value is typed, in the (sorted) order of the
/// argument names, which is the order Ansible writes them in.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    List,
    Int,
    Str,
}

const FIELDS: &[(&str, Kind)] = &[
    ("allow_downgrade_to_insecure", Kind::Bool),
    ("allow_insecure", Kind::Bool),
    ("allow_weak", Kind::Bool),
    ("architectures", Kind::List),
    ("by_hash", Kind::Bool),
    ("check_date", Kind::Bool),
    ("check_valid_until", Kind::Bool),
    ("components", Kind::List),
    ("date_max_future", Kind::Int),
    ("enabled", Kind::Bool),
    ("inrelease_path", Kind::Str),
    ("languages", Kind::List),
    ("name", Kind::Str),
    ("pdiffs", Kind::Bool),
    ("signed_by", Kind::Str),
    ("suites", Kind::List),
    ("targets", Kind::List),
    ("trusted", Kind::Bool),
    ("types", Kind::List),
    ("uris", Kind::List),
];

pub const KEYRINGS_DIR: &str = "/etc/apt/keyrings";

/// Prints the umask, whether `$2` (signed_by) is a file, whether `$3.asc`
/// and `$3.gpg` exist, then the sources file `$1`: `absent`, or its mode
/// and text. Every field NUL-terminated.
const PROBE_SCRIPT: &str = r#"umask; printf '\0'
if [ -n "$2" ] && [ -f "$2" ]; then printf 'file\0'; else printf 'no\0'; fi
for k in "$3.asc" "$3.gpg"; do if [ -e "$k" ]; then printf 'y\0'; else printf 'n\0'; fi; done
if [ -e "$1" ]; then stat -L -c '%a' -- "$1" | tr -d '\n'; printf '\0'; cat -- "$1" 2>/dev/null; printf '\0'; else printf 'absent\0'; fi"#;

/// Downloads `$1` into a temp file, names it `$2.asc` (armored) or
/// `$2.gpg`, and (unless `$3` is 1, check mode) puts it there when its bytes
/// differ, in a 0755 root-owned keyrings dir, mode 0644. Prints the key
/// file's name and `changed` or `same`.
const KEY_SCRIPT: &str = r#"command -v curl >/dev/null 2>&1 || { echo 'curl is needed on the host to download signed_by' >&2; exit 2; }
t=$(mktemp) || exit 1
curl -fsSL -o "$t" -- "$1" || { rm -f -- "$t"; exit 1; }
if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$t"; then k=$2.asc; else k=$2.gpg; fi
state=same
if ! cmp -s -- "$t" "$k"; then
  state=changed
  if [ "$3" != 1 ]; then
    d=${k%/*}; [ -d "$d" ] || mkdir -m 0755 -- "$d" || exit 1
    chown root:root -- "$d" && chmod 0755 -- "$d" || exit 1
    chmod 0644 -- "$t" && mv -f -- "$t" "$k" || { rm -f -- "$t"; exit 1; }
  fi
fi
rm -f -- "$t"
if [ -e "$k" ] && [ "$(stat -c '%a' -- "$k")" != 644 ]; then state=changed; [ "$3" = 1 ] || chmod 0644 -- "$k"; fi
printf '%s\0%s\0' "$k" "$state""#;

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub name: String,
    pub present: bool,
    pub mode: ModeSpec,
    /// Each field given, in writing order: (argument name, value as written).
    pub fields: Vec<(&'static str, String)>,
    pub signed_by: Option<String>,
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let name = args.required_str("name")?;
    let state = listarg::choice(args, "state", &["present", "absent"])?.unwrap_or("present");
    let mode = match args.get("mode").filter(|v| !v.is_null()) {
        Some(v) => ModeSpec::from_value(v),
        None => ModeSpec::parse("0644"),
    }
    .map_err(|e| ModuleError::BadArgs(e.to_string()))?;
    let mut fields = Vec::new();
    for (key, kind) in FIELDS {
        let value = match (kind, args.get(key).filter(|v| !v.is_null())) {
            (_, None) if *key == "types" => "deb".to_string(),
            (_, None) => continue,
            (Kind::Bool, Some(_)) => if args.bool(key, false)? { "yes" } else { "no" }.to_string(),
            (Kind::Int, Some(_)) => listarg::int(args, key)?.unwrap_or_default().to_string(),
            (Kind::List, Some(_)) => listarg::list(args, key)?.join(" "),
            (Kind::Str, Some(v)) => crate::args::value_to_string(v),
        };
        fields.push((*key, value));
    }
    if let Some((_, types)) = fields.iter().find(|(k, _)| *k == "types") {
        if let Some(bad) = types.split(' ').find(|t| !t.is_empty() && *t != "deb" && *t != "deb-src") {
            return Err(ModuleError::BadArgs(format!("value of types must be one of: deb, deb-src, got: {bad}")));
        }
    }
    Ok(Request { name, present: state == "present", mode, fields, signed_by: args.str("signed_by") })
}

/// The name's slug: lower case, runs of `_` and spaces as `-`, then only
/// `a-z`, `0-9` and `-` kept.
pub fn slug(name: &str) -> String {
    let mut dashed = String::new();
    let mut in_run = false;
    for c in name.to_lowercase().chars() {
        if c == '_' || c.is_whitespace() {
            if !in_run {
                dashed.push('-');
            }
            in_run = true;
        } else {
            dashed.push(c);
            in_run = false;
        }
    }
    dashed.chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-').collect()
}

pub fn sources_path(slug: &str) -> String {
    format!("/etc/apt/sources.list.d/{slug}.sources")
}

pub fn key_base(slug: &str) -> String {
    format!("{KEYRINGS_DIR}/{slug}")
}

/// `allow_weak` → `Allow-Weak`, `name` → `X-Repolib-Name`, `uris` → `URIs`.
fn field_name(key: &str) -> String {
    match key {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        _ => key.split('_').map(title).collect::<Vec<_>>().join("-"),
    }
}

fn title(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
}

/// A value over several lines: each line trimmed (`.` for a blank one) and
/// indented by four spaces on lines of their own.
fn multiline(value: &str) -> String {
    value.trim().lines().map(|l| format!("\n    {}", if l.trim().is_empty() { "." } else { l.trim() })).collect()
}

/// The `.sources` text; `signed_by` is what goes in its field (a key
/// file's path, or the text as given).
pub fn render(req: &Request, signed_by: Option<&str>) -> String {
    let mut out = String::new();
    for (key, value) in &req.fields {
        let value = if *key == "signed_by" { signed_by.unwrap_or(value) } else { value };
        let value = if value.contains('\n') { multiline(value) } else { value.to_string() };
        let sep = if value.is_empty() || value.starts_with('\n') { ":" } else { ": " };
        out.push_str(&format!("{}{sep}{value}\n", field_name(key)));
    }
    out
}

/// Whether `signed_by` is a URL (a scheme before `:`, as urlparse finds one).
pub fn is_url(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else { return false };
    scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub umask: u32,
    pub signed_by_is_file: bool,
    pub keys: [bool; 2],
    /// The sources file's mode and text.
    pub sources: Option<(u32, String)>,
}

pub fn parse_probe(output: &[u8]) -> Option<Found> {
    let mut f = Fields::new(output);
    let umask = u32::from_str_radix(f.next_field()?.trim(), 8).ok()?;
    let signed_by_is_file = f.next_field()? == "file";
    let keys = [f.next_field()? == "y", f.next_field()? == "y"];
    let first = f.next_field()?;
    let sources = if first == "absent" { None } else { Some((u32::from_str_radix(first.trim(), 8).ok()?, f.next_field()?)) };
    Some(Found { umask, signed_by_is_file, keys, sources })
}

pub fn probe_cmd(slug: &str, signed_by: Option<&str>) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(PROBE_SCRIPT).arg("sh").arg(sources_path(slug)).arg(signed_by.unwrap_or("")).arg(key_base(slug))
}

pub fn key_cmd(url: &str, slug: &str, check: bool) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(KEY_SCRIPT).arg("sh").arg(url).arg(key_base(slug)).arg(if check { "1" } else { "0" })
}

/// The write, pure: the new text when it differs and the final mode when
/// that differs. `None`: nothing to do.
pub fn plan(req: &Request, found: &Found, text: &str) -> (Option<String>, Option<u32>) {
    let base = found.sources.as_ref().map_or(0o666 & !found.umask, |(m, _)| *m);
    let wanted = req.mode.resolve(base, false, found.umask);
    let content = match &found.sources {
        Some((_, old)) if old == text => None,
        _ => Some(text.to_string()),
    };
    let mode = (found.sources.is_none() || wanted != base).then_some(wanted);
    (content, mode)
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let dest = sources_path(&slug(&req.name));
    let result = apply(&req, &dest, target, mode).await?;
    if result.failed {
        return Ok(result);
    }
    // As Ansible's result with a `dest`: the file's attributes when it is there at the end.
    let out = target.exec(path_info::info_cmd(&dest).as_str(), None).await?;
    Ok(path_info::with_info(result, &out.stdout_str()))
}

async fn apply<T: Target>(req: &Request, dest: &str, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let slug = slug(&req.name);
    let out = target.exec(probe_cmd(&slug, req.signed_by.as_deref()).as_str(), None).await?;
    let Some(found) = (out.rc == 0).then(|| parse_probe(&out.stdout)).flatten() else {
        return Ok(ModuleResult::failed(format!("could not read `{dest}`: {}", out.stderr_str().trim())));
    };
    if !req.present {
        return absent(&slug, dest, &found, target, mode).await;
    }
    let mut changed = false;
    let mut key_filename: Option<String> = None;
    let mut signed_by_value = req.signed_by.clone();
    if let Some(signed_by) = &req.signed_by {
        if found.signed_by_is_file {
            key_filename = Some(signed_by.clone());
        } else if is_url(signed_by) {
            let out = target.exec(key_cmd(signed_by, &slug, mode.check).as_str(), None).await?;
            let mut f = Fields::new(&out.stdout);
            match (out.rc, f.next_field(), f.next_field()) {
                (0, Some(k), Some(state)) => {
                    changed |= state == "changed";
                    signed_by_value = Some(k.clone());
                    key_filename = Some(k);
                }
                _ => return Ok(ModuleResult::failed(format!("Could not fetch signed_by key: {}", out.stderr_str().trim()))),
            }
        }
    }
    let text = render(&req, signed_by_value.as_deref());
    let (content, new_mode) = plan(&req, &found, &text);
    changed |= content.is_some() || new_mode.is_some();
    if !mode.check {
        if let Err(msg) = write(dest, &found, content.as_deref(), new_mode, target).await? {
            return Ok(ModuleResult::failed(msg));
        }
    }
    Ok(ModuleResult::changed(changed).with("repo", text).with("dest", dest).with("key_filename", key_filename.map_or(Value::Null, Value::from)))
}

/// Replaces the file's text (atomic, mode as wanted) or only its mode.
async fn write<T: Target>(dest: &str, found: &Found, content: Option<&str>, mode: Option<u32>, target: &T) -> Result<Result<(), String>, ModuleError> {
    let current = found.sources.as_ref().map_or(0o666 & !found.umask, |(m, _)| *m);
    let Some(content) = content else {
        let Some(m) = mode else { return Ok(Ok(())) };
        let out = target.exec(Cmd::new("chmod").arg(remote_file::chmod_arg(m)).flag("--").arg(dest).as_str(), None).await?;
        return Ok(if out.rc == 0 { Ok(()) } else { Err(format!("could not change `{dest}`: {}", out.stderr_str().trim())) });
    };
    let plan = WritePlan { dest: dest.to_string(), mode: mode.unwrap_or(current), chown: None, keep_ids: None, create_dir: false, backup: false, size: content.len() };
    Ok(remote_file::apply(target, &plan.cmd(), Some(content.as_bytes()), 1, dest).await?.map(|_| ()))
}

/// Removes the sources file and both possible key files.
async fn absent<T: Target>(slug: &str, dest: &str, found: &Found, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let base = key_base(slug);
    let mut gone: Vec<String> = Vec::new();
    if found.sources.is_some() {
        gone.push(dest.to_string());
    }
    for (i, ext) in ["asc", "gpg"].iter().enumerate() {
        if found.keys[i] {
            gone.push(format!("{base}.{ext}"));
        }
    }
    if !gone.is_empty() && !mode.check {
        let out = target.exec(Cmd::new("rm").flag("-f").flag("--").args(&gone).as_str(), None).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::failed(format!("could not remove {}: {}", gone.join(", "), out.stderr_str().trim())));
        }
    }
    Ok(ModuleResult::changed(!gone.is_empty()).with("repo", Value::Null).with("dest", dest).with("key_filename", format!("{base}.gpg")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> Request {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn the_file_is_written_as_ansibles_module_writes_it() {
        let r = req(json!({"name": "ansible-test focal archive", "uris": "http://us.archive.ubuntu.com/ubuntu", "suites": ["focal", "focal-updates"], "components": ["main", "restricted"], "date_max_future": 10, "trusted": true, "allow_weak": false}));
        assert_eq!(
            render(&r, None),
            "Allow-Weak: no\nComponents: main restricted\nDate-Max-Future: 10\nX-Repolib-Name: ansible-test focal archive\nSuites: focal focal-updates\nTrusted: yes\nTypes: deb\nURIs: http://us.archive.ubuntu.com/ubuntu\n"
        );
        let key = req(json!({"name": "k", "signed_by": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nabc\n-----END PGP PUBLIC KEY BLOCK-----\n", "types": ["deb", "deb-src"]}));
        assert_eq!(render(&key, key.signed_by.as_deref()), "X-Repolib-Name: k\nSigned-By:\n    -----BEGIN PGP PUBLIC KEY BLOCK-----\n    .\n    abc\n    -----END PGP PUBLIC KEY BLOCK-----\nTypes: deb deb-src\n");
        assert_eq!(field_name("check_valid_until"), "Check-Valid-Until");
        assert_eq!(field_name("inrelease_path"), "Inrelease-Path");
    }

    #[test]
    fn names_become_slugs() {
        assert_eq!(slug("Ansible-Test  focal_archive"), "ansible-test-focal-archive");
        assert_eq!(slug("a$(b);c"), "abc");
        assert_eq!(sources_path(&slug("x y")), "/etc/apt/sources.list.d/x-y.sources");
    }

    #[test]
    fn plans_content_and_mode() {
        let r = req(json!({"name": "n", "uris": "file:/srv/repo", "suites": "./"}));
        let text = render(&r, None);
        let new = Found { umask: 0o022, signed_by_is_file: false, keys: [false, false], sources: None };
        assert_eq!(plan(&r, &new, &text), (Some(text.clone()), Some(0o644)));
        let same = Found { sources: Some((0o644, text.clone())), ..new.clone() };
        assert_eq!(plan(&r, &same, &text), (None, None));
        let other = req(json!({"name": "n", "uris": "file:/srv/repo", "suites": "./", "mode": "0600"}));
        assert_eq!(plan(&other, &same, &text), (None, Some(0o600)));
        assert!(is_url("https://x/k.asc") && !is_url("/etc/k.gpg") && !is_url("-----BEGIN PGP x: y"));
    }

    #[test]
    fn probe_and_refusals() {
        let f = parse_probe(b"0022\n\0no\0n\0y\0644\0Types: deb\n\0").unwrap();
        assert_eq!(f, Found { umask: 0o022, signed_by_is_file: false, keys: [false, true], sources: Some((0o644, "Types: deb\n".into())) });
        assert_eq!(parse_probe(b"0022\0file\0n\0n\0absent\0").unwrap().sources, None);
        let bad = request(&Args::new(json!({"name": "n", "types": ["rpm"]}).as_object().unwrap().clone())).unwrap_err();
        assert_eq!(bad.to_string(), "value of types must be one of: deb, deb-src, got: rpm");
        assert!(probe_cmd("n", Some("$(x)")).as_str().ends_with("sh /etc/apt/sources.list.d/n.sources '$(x)' /etc/apt/keyrings/n"));
    }
}
