//! `ansible.builtin.apt_repository`: one `deb`/`deb-src` line added to (or
//! removed from) apt's one-line sources, as Ansible's module does it, with no
//! Python on the host. One command reads `/etc/apt/sources.list` and every
//! `/etc/apt/sources.list.d/*.list` (plus the umask and each file's mode and
//! owner); the edit is planned here on the parsed lines; then each file whose
//! text changes is replaced atomically (a file left with no line is removed),
//! and `apt-get update` runs, with Ansible's retries, when something changed.
//! A failed update puts the files back as they were, as Ansible does.
//!
//! Lines are parsed and written back as the module does: a leading `#`
//! disables a line, a later `#` starts a comment, a source's words are joined
//! by single spaces, and every file written is written normalised.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::listarg;
use crate::mode::ModeSpec;
use crate::remote_file::{self, Fields, WritePlan};
use crate::shell::Cmd;
use crate::spec::{alias, p, req, Param};
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};

/// The arguments of `apt_repository`, as ansible-core declares them.
pub const PARAMS: &[Param] = &[
    req("repo").str(),
    p("state").choices(&["absent", "present"]).default("present"),
    p("mode"),
    alias("update_cache", &["update-cache"], false).bool(),
    p("update_cache_retries").int(),
    p("update_cache_retry_max_delay").int(),
    p("filename").str(),
    // Only Ansible's Python needs these (python3-apt, PPA look-ups): accepted, unused.
    p("install_python_apt").bool(),
    p("validate_certs").bool(),
    p("codename").str(),
];

/// Where apt reads one-line sources (Debian's defaults of `Dir::Etc::*`).
pub const SOURCES_LIST: &str = "/etc/apt/sources.list";
pub const SOURCES_DIR: &str = "/etc/apt/sources.list.d";

/// Prints the umask, then per sources file: its path, the path writes go
/// to (links resolved), `mode uid gid` and its text, each NUL-terminated.
const PROBE_SCRIPT: &str = r#"umask; printf '\0'
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  r=$(readlink -f -- "$f" && echo x); r=${r%?x}
  printf '%s\0%s\0%s\0' "$f" "$r" "$(stat -L -c '%a %u %g' -- "$f")"
  cat -- "$f" || exit 1
  printf '\0'
done"#;

/// `apt-get update` up to `$1` times; before each retry it prints Ansible's
/// two warnings (NUL-terminated) and sleeps as Ansible does (2^n seconds,
/// at most `$2`). Exits 1 after the last failure with apt's errors on stderr,
/// as python-apt reports them: each `W:`/`E:` once (apt-get repeats its
/// warnings at the end), `W:text` joined by ", ".
const UPDATE_SCRIPT: &str = r#"n=$1 max=$2 i=0 err=
while [ "$i" -lt "$n" ]; do
  out=$(LANG=C LC_ALL=C apt-get update -q 2>&1) && exit 0
  err=$(printf '%s\n' "$out" | sed -n 's/^\([EW]\): /\1:/p' | awk '!s[$0]++ { printf "%s%s", (n++ ? ", " : ""), $0 }')
  i=$((i + 1))
  printf 'Failed to update cache after %s due to %s retry, retrying\0' "$i" "$err"
  d=$((1 << (i - 1))); [ "$d" -gt "$max" ] && d=$max
  sleep "$d"
  printf 'Sleeping for %s seconds, before attempting to update the cache again\0' "$d"
done
printf '%s' "$err" >&2
exit 1"#;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub repo: String,
    pub present: bool,
    pub mode: Option<ModeSpec>,
    pub update_cache: bool,
    pub retries: i64,
    pub retry_max_delay: i64,
    pub filename: Option<String>,
}

pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let repo = args.required_str("repo")?;
    if repo.is_empty() {
        return Err(ModuleError::BadArgs("Please set argument 'repo' to a non-empty value".into()));
    }
    let state = listarg::choice(args, "state", &["absent", "present"])?.unwrap_or("present");
    let mode = args.get("mode").filter(|v| !v.is_null()).map(ModeSpec::from_value).transpose().map_err(|e| ModuleError::BadArgs(e.to_string()))?;
    Ok(Request {
        repo,
        present: state == "present",
        mode,
        update_cache: args.bool("update_cache", true)?,
        retries: listarg::int(args, "update_cache_retries")?.unwrap_or(5),
        retry_max_delay: listarg::int(args, "update_cache_retry_max_delay")?.unwrap_or(12),
        filename: args.str("filename"),
    })
}

/// One line of a sources file, parsed as the module parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// A `deb`/`deb-src` entry (enabled or not).
    pub valid: bool,
    pub enabled: bool,
    pub source: String,
    pub comment: String,
}

/// Parses one line. `Err` holds the text Ansible names in "Invalid
/// repository string" (the line without its `#` and comment).
pub fn parse_line(line: &str) -> (Line, Result<(), String>) {
    let mut rest = line.trim();
    let enabled = !rest.starts_with('#');
    if !enabled {
        rest = &rest[1..];
    }
    let mut comment = String::new();
    if let Some(i) = rest.find('#').filter(|&i| i > 0) {
        comment = rest[i + 1..].trim().to_string();
        rest = &rest[..i];
    }
    let mut source = rest.trim().to_string();
    let words: Vec<&str> = source.split_whitespace().collect();
    let valid = words.first().is_some_and(|w| *w == "deb" || *w == "deb-src");
    if valid {
        source = words.join(" ");
    }
    let check = if valid && enabled { Ok(()) } else { Err(rest.to_string()) };
    (Line { valid, enabled, source, comment }, check)
}

/// A line as the module writes it back.
fn render_line(line: &Line) -> String {
    let mut out = String::new();
    if !line.enabled {
        out.push_str("# ");
    }
    out.push_str(&line.source);
    if !line.comment.is_empty() {
        out.push_str(" # ");
        out.push_str(&line.comment);
    }
    out.push('\n');
    out
}

fn render(lines: &[Line]) -> String {
    lines.iter().map(render_line).collect()
}

/// A sources file as read from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcesFile {
    pub path: String,
    /// Where a write goes (a link's target, as Ansible writes through links).
    pub real_path: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub text: String,
}

/// What [`PROBE_SCRIPT`] printed: the umask and the files.
pub fn parse_probe(output: &[u8]) -> Option<(u32, Vec<SourcesFile>)> {
    let mut fields = Fields::new(output);
    let umask = u32::from_str_radix(fields.next_field()?.trim(), 8).ok()?;
    let mut files = Vec::new();
    while let Some(path) = fields.next_field() {
        let real = fields.next_field()?;
        let stat = fields.next_field()?;
        let text = fields.next_field()?;
        let mut stat = stat.split_whitespace();
        let mode = u32::from_str_radix(stat.next()?, 8).ok()?;
        let uid = stat.next()?.parse().ok()?;
        let gid = stat.next()?.parse().ok()?;
        files.push(SourcesFile { real_path: if real.is_empty() { path.clone() } else { real }, path, mode, uid, gid, text });
    }
    Some((umask, files))
}

/// The default file of a new line (`deb http://x.org/debian y` gives
/// `x_org_debian.list`), or `filename` + `.list`; a name without `/` is
/// under sources.list.d.
pub fn default_file(source: &str, filename: Option<&str>) -> String {
    let name = match filename {
        Some(name) => format!("{name}.list"),
        None => format!("{}.list", suggested_name(source)),
    };
    if name.contains('/') {
        name
    } else {
        format!("{SOURCES_DIR}/{name}")
    }
}

/// The first word after options, scheme, type and credentials, with every
/// run of other characters than ASCII letters and digits made one `_`.
fn suggested_name(source: &str) -> String {
    let no_options = drop_options(source);
    let no_scheme = drop_schemes(&no_options);
    let first = no_scheme.split_whitespace().find(|w| *w != "deb" && *w != "deb-src").unwrap_or("");
    let host = first.split_once('@').map_or(first, |(_, h)| h);
    host.split(|c: char| !c.is_ascii_alphanumeric()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("_")
}

/// Removes every `[...]` (with at least one character inside).
fn drop_options(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        match after.find(']').filter(|&end| end > 0) {
            Some(end) => {
                out.push_str(&rest[..start]);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[..=start]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes every `word://` (word characters before `://`).
fn drop_schemes(s: &str) -> String {
    let mut out = s.to_string();
    while let Some(i) = out.find("://") {
        let start = out[..i].rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |j| j + out[j..].chars().next().map_or(1, char::len_utf8));
        if start == i {
            // No word before `://`: keep it and look further.
            let tail = drop_schemes(&out[i + 3..]);
            return format!("{}://{tail}", &out[..i]);
        }
        out.replace_range(start..i + 3, "");
    }
    out
}

/// The edit, pure: every file's lines before and after, and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub changed: bool,
    /// Files to write (path as read or new, new text), in path order.
    pub writes: Vec<(String, String)>,
    /// Files to remove: left with no line.
    pub removes: Vec<String>,
    /// The file that got a new line (its mode is then set when `mode` is given).
    pub new_line_in: Option<String>,
    pub sources_added: Vec<String>,
    pub sources_removed: Vec<String>,
    pub diff: Vec<FileDiff>,
}

/// Plans `req` on `files`. `Err`: the task's failure message.
pub fn plan(req: &Request, files: &[SourcesFile]) -> Result<Plan, String> {
    if req.repo.starts_with("ppa:") {
        return Err(format!("`{}`: PPA repositories are not supported natively (they need Launchpad's API and a key fetched from a key server); give the `deb` line and its key instead", req.repo));
    }
    let (line, check) = parse_line(&req.repo);
    if let Err(text) = check {
        return Err(format!("Invalid repository string: {text}"));
    }
    let mut parsed: BTreeMap<String, Vec<Line>> = files.iter().map(|f| (f.path.clone(), f.text.lines().map(|l| parse_line(l).0).collect())).collect();
    let before = dump(&parsed);
    let mut new_line_in = None;
    if req.present {
        let mut found = false;
        for l in parsed.values_mut().flatten().filter(|l| l.valid && l.source == line.source) {
            l.enabled = true;
            found = true;
        }
        if !found {
            let file = default_file(&line.source, req.filename.as_deref());
            parsed.entry(file.clone()).or_default().push(Line { valid: true, enabled: true, source: line.source.clone(), comment: String::new() });
            new_line_in = Some(file);
        }
    } else {
        for lines in parsed.values_mut() {
            lines.retain(|l| !(l.valid && l.enabled && l.source == line.source));
        }
    }
    let after = dump(&parsed);
    let mut plan = Plan { changed: before != after, ..Plan::default() };
    if !plan.changed {
        return Ok(plan);
    }
    plan.new_line_in = new_line_in;
    plan.sources_added = after.keys().filter(|k| !before.contains_key(*k)).cloned().collect();
    plan.sources_removed = before.keys().filter(|k| !after.contains_key(*k)).cloned().collect();
    for name in plan.sources_added.iter().chain(&plan.sources_removed) {
        let header = |map: &BTreeMap<String, String>| if map.contains_key(name) { name.clone() } else { "/dev/null".into() };
        let text = |map: &BTreeMap<String, String>| map.get(name).cloned().unwrap_or_default();
        plan.diff.push(FileDiff { before_header: header(&before), after_header: header(&after), before: text(&before), after: text(&after) });
    }
    // Ansible writes every file back normalised; one whose text is already
    // what it would write is left alone (same bytes).
    let raw = |path: &str| files.iter().find(|f| f.path == path).map(|f| f.text.as_str());
    for (path, lines) in &parsed {
        if lines.is_empty() {
            if raw(path).is_some() {
                plan.removes.push(path.clone());
            }
        } else if raw(path) != Some(render(lines).as_str()) || plan.new_line_in.as_deref() == Some(path) {
            plan.writes.push((path.clone(), render(lines)));
        }
    }
    Ok(plan)
}

/// Each file with at least one line, as it would be written.
fn dump(files: &BTreeMap<String, Vec<Line>>) -> BTreeMap<String, String> {
    files.iter().filter(|(_, lines)| !lines.is_empty()).map(|(path, lines)| (path.clone(), render(lines))).collect()
}

pub fn probe_cmd() -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(PROBE_SCRIPT)
}

pub fn update_cmd(retries: i64, max_delay: i64) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(UPDATE_SCRIPT).arg("sh").arg(retries.to_string()).arg(max_delay.to_string())
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let out = target.exec(probe_cmd().as_str(), None).await?;
    let parsed = (out.rc == 0).then(|| parse_probe(&out.stdout)).flatten();
    let Some((umask, files)) = parsed else {
        return Ok(ModuleResult::failed(format!("could not read apt's sources: {}", out.stderr_str().trim())));
    };
    let plan = match plan(&req, &files) {
        Ok(plan) => plan,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let mut result = ModuleResult::changed(plan.changed)
        .with("repo", req.repo.clone())
        .with("sources_added", plan.sources_added.clone())
        .with("sources_removed", plan.sources_removed.clone())
        .with("state", if req.present { "present" } else { "absent" });
    let shown: Vec<Value> = if mode.diff { plan.diff.iter().map(|d| json!({"before": d.before, "after": d.after, "before_header": d.before_header, "after_header": d.after_header})).collect() } else { Vec::new() };
    result = result.with("diff", shown);
    if mode.diff {
        result.diff = plan.diff.clone();
    }
    if !plan.changed || mode.check {
        return Ok(result);
    }
    if let Err(msg) = save(&req, &plan, &files, umask, target).await? {
        return Ok(ModuleResult::failed(msg));
    }
    if req.update_cache {
        let out = target.exec(update_cmd(req.retries, req.retry_max_delay).as_str(), None).await?;
        let warnings: Vec<Value> = out.stdout.split(|&b| b == 0).filter(|w| !w.is_empty()).map(|w| Value::from(String::from_utf8_lossy(w).into_owned())).collect();
        if !warnings.is_empty() {
            result = result.with("warnings", warnings.clone());
        }
        if out.rc != 0 {
            revert(&plan, &files, target).await?;
            let err = out.stderr_str();
            let reason = if err.trim().is_empty() { "unknown reason".to_string() } else { err.trim().to_string() };
            let mut failed = ModuleResult::failed(format!("Failed to update apt cache after {} retries: {reason}", req.retries));
            if !warnings.is_empty() {
                failed = failed.with("warnings", warnings);
            }
            return Ok(failed);
        }
    }
    Ok(result)
}

/// Writes and removes the planned files. A file keeps its mode and owner;
/// a new one gets 0666 minus the umask; the file that got the new line gets
/// `mode` when it is given (Ansible sets it only there).
async fn save<T: Target>(req: &Request, plan: &Plan, files: &[SourcesFile], umask: u32, target: &T) -> Result<Result<(), String>, ModuleError> {
    for (path, text) in &plan.writes {
        let old = files.iter().find(|f| &f.path == path);
        let base = old.map_or(0o666 & !umask, |f| f.mode);
        let wanted = match (&req.mode, plan.new_line_in.as_deref() == Some(path)) {
            (Some(m), true) => m.resolve(base, false, umask),
            _ => base,
        };
        let write = WritePlan {
            dest: old.map_or(path.clone(), |f| f.real_path.clone()),
            mode: wanted,
            chown: None,
            keep_ids: old.map(|f| (f.uid, f.gid)),
            create_dir: true,
            backup: false,
            size: text.len(),
        };
        if let Err(msg) = remote_file::apply(target, &write.cmd(), Some(text.as_bytes()), 1, path).await? {
            return Ok(Err(msg));
        }
    }
    if !plan.removes.is_empty() {
        let out = target.exec(Cmd::new("rm").flag("-f").flag("--").args(&plan.removes).as_str(), None).await?;
        if out.rc != 0 {
            return Ok(Err(format!("could not remove {}: {}", plan.removes.join(", "), out.stderr_str().trim())));
        }
    }
    Ok(Ok(()))
}

/// Puts the sources back as they were read: new files removed, the others
/// written with their old text (Ansible's revert after a failed update).
async fn revert<T: Target>(plan: &Plan, files: &[SourcesFile], target: &T) -> Result<(), ModuleError> {
    let touched = plan.writes.iter().map(|(p, _)| p).chain(&plan.removes);
    let mut remove = Vec::new();
    for path in touched {
        match files.iter().find(|f| &f.path == path) {
            None => remove.push(path.clone()),
            Some(old) => {
                let write = WritePlan { dest: old.real_path.clone(), mode: old.mode, chown: None, keep_ids: Some((old.uid, old.gid)), create_dir: true, backup: false, size: old.text.len() };
                // Best effort: the update's failure is what the task reports.
                let _ = remote_file::apply(target, &write.cmd(), Some(old.text.as_bytes()), 1, path).await?;
            }
        }
    }
    if !remove.is_empty() {
        target.exec(Cmd::new("rm").flag("-f").flag("--").args(&remove).as_str(), None).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Request {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    fn file(path: &str, text: &str) -> SourcesFile {
        SourcesFile { path: path.into(), real_path: path.into(), mode: 0o644, uid: 0, gid: 0, text: text.into() }
    }

    #[test]
    fn lines_parse_and_render_as_the_module_writes_them() {
        let (l, ok) = parse_line("  #deb   http://a/x  y main # my repo ");
        assert_eq!(l, Line { valid: true, enabled: false, source: "deb http://a/x y main".into(), comment: "my repo".into() });
        assert!(ok.is_err());
        assert_eq!(render_line(&l), "# deb http://a/x y main # my repo\n");
        assert_eq!(render_line(&parse_line("## two  spaces").0), "# # two  spaces\n");
        assert_eq!(render_line(&parse_line("").0), "\n");
        assert_eq!(parse_line("foo bar").1, Err("foo bar".into()));
        assert_eq!(parse_line("# deb x # c").1, Err(" deb x ".into()));
    }

    #[test]
    fn default_file_names_follow_the_first_word() {
        assert_eq!(default_file("deb [trusted=yes] file:/srv/repo ./", None), "/etc/apt/sources.list.d/file_srv_repo.list");
        assert_eq!(default_file("deb http://user:pw@dl.google.com/linux/chrome/deb/ stable main", None), "/etc/apt/sources.list.d/dl_google_com_linux_chrome_deb.list");
        assert_eq!(default_file("deb-src https://x.org/debian bookworm main", Some("mine")), "/etc/apt/sources.list.d/mine.list");
        assert_eq!(default_file("deb http://x y", Some("/tmp/a")), "/tmp/a.list");
    }

    #[test]
    fn present_adds_a_file_enables_a_disabled_line_and_is_idempotent() {
        let r = req(json!({"repo": "deb [trusted=yes] file:/srv/repo ./", "filename": "offline"}));
        let p = plan(&r, &[file(SOURCES_LIST, "deb http://deb.debian.org/debian bookworm main\n")]).unwrap();
        assert!(p.changed);
        assert_eq!(p.writes, [("/etc/apt/sources.list.d/offline.list".to_string(), "deb [trusted=yes] file:/srv/repo ./\n".to_string())]);
        assert_eq!(p.sources_added, ["/etc/apt/sources.list.d/offline.list"]);
        assert_eq!(p.diff[0].before_header, "/dev/null");
        // Already there (spacing aside), anywhere: nothing to do.
        let same = plan(&r, &[file(SOURCES_LIST, "deb  [trusted=yes]  file:/srv/repo ./ # ours\n")]).unwrap();
        assert_eq!(same, Plan::default());
        // Disabled: enabled in place, the file normalised; no file added, so no diff.
        let off = plan(&r, &[file(SOURCES_LIST, "#deb [trusted=yes] file:/srv/repo ./\n#  other   words\n")]).unwrap();
        assert_eq!(off.writes, [(SOURCES_LIST.to_string(), "deb [trusted=yes] file:/srv/repo ./\n# other   words\n".to_string())]);
        assert!(off.changed && off.sources_added.is_empty() && off.diff.is_empty() && off.new_line_in.is_none());
    }

    #[test]
    fn absent_removes_enabled_lines_and_empty_files() {
        let r = req(json!({"repo": "deb http://x/d s main", "state": "absent"}));
        let files = [file(SOURCES_LIST, "deb http://x/d s main\n"), file("/etc/apt/sources.list.d/a.list", "# keep\ndeb http://x/d s main\n"), file("/etc/apt/sources.list.d/b.list", "#deb http://x/d s main\n")];
        let p = plan(&r, &files).unwrap();
        assert_eq!(p.removes, [SOURCES_LIST]);
        // Every file is written back normalised, as Ansible saves them all.
        assert_eq!(p.writes, [("/etc/apt/sources.list.d/a.list".to_string(), "# keep\n".to_string()), ("/etc/apt/sources.list.d/b.list".to_string(), "# deb http://x/d s main\n".to_string())]);
        assert_eq!(p.sources_removed, [SOURCES_LIST]);
        assert_eq!((p.diff[0].after_header.as_str(), p.diff[0].after.as_str()), ("/dev/null", ""));
        assert!(!plan(&r, &files[2..]).unwrap().changed, "a disabled line stays");
    }

    #[test]
    fn refusals_use_ansibles_words() {
        let r = |repo: &str| plan(&req(json!({"repo": repo})), &[]).unwrap_err();
        assert_eq!(r("foo bar"), "Invalid repository string: foo bar");
        assert_eq!(r("# deb http://x y"), "Invalid repository string:  deb http://x y");
        assert!(r("ppa:a/b").contains("not supported natively"));
        let empty = request(&Args::new(json!({"repo": ""}).as_object().unwrap().clone())).unwrap_err();
        assert_eq!(empty.to_string(), "Please set argument 'repo' to a non-empty value");
    }

    #[test]
    fn probe_output_and_commands() {
        let out = b"0022\n\0/etc/apt/sources.list\0/etc/apt/sources.list\0644 0 0\0deb x y\n\0/etc/apt/sources.list.d/l.list\0/srv/t.list\0600 1 2\0\0";
        let (umask, files) = parse_probe(out).unwrap();
        assert_eq!(umask, 0o022);
        assert_eq!(files[1], SourcesFile { path: "/etc/apt/sources.list.d/l.list".into(), real_path: "/srv/t.list".into(), mode: 0o600, uid: 1, gid: 2, text: String::new() });
        assert_eq!(update_cmd(5, 12).as_str(), format!("/bin/sh -c {} sh 5 12", crate::shell::quote(UPDATE_SCRIPT)));
    }
}
