//! `cron`: one job (`#Ansible: NAME` then its line) or one variable
//! (`NAME="value"`) in a user's crontab or in a file of /etc/cron.d, as
//! ansible.builtin.cron manages them. One command reads the crontab
//! (`crontab -l`) or the file; the edit is planned here on its lines; one
//! command writes it back (`crontab FILE` of a temporary file fed on stdin,
//! or an atomic replace of the file), so a task that changes nothing is one round trip.
//!
//! Ansible's quirks are kept on purpose, since playbooks rely on them: a job
//! line found without its comment gets one, the line after the last is the
//! "previous" of the first (Python's `lines[-1]`), every job or variable of
//! the name is rewritten, a file left without jobs is deleted. Variable names
//! are matched literally (Ansible builds a regular expression from them).

use regex::Regex;
use serde_json::json;

use crate::remote_file::{self, WritePlan};
use crate::shell::Cmd;
use crate::text_edit::{self, TextFile};
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{alias, p, req, Param, Rules};

/// The arguments of `cron`, typed as ansible.builtin.cron's docs.
pub const PARAMS: &[Param] = &[
    req("name").str(),
    p("user").str(),
    alias("job", &["value"], false).str(),
    p("cron_file").path(),
    p("state").choices(&["absent", "present"]).default("present"),
    p("backup").bool(),
    p("minute").str(),
    p("hour").str(),
    alias("day", &["dom"], false).str(),
    p("month").str(),
    alias("weekday", &["dow"], false).str(),
    p("special_time").choices(&["annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly"]),
    p("disabled").bool(),
    p("env").bool(),
    p("insertafter").str(),
    p("insertbefore").str(),
];

pub const RULES: Rules = Rules { mutually_exclusive: &[&["insertafter", "insertbefore"]], ..Rules::NONE };

const COMMENT: &str = "#Ansible: ";
const CRON_D: &str = "/etc/cron.d";

/// Lists the crontab of user `$1` (as the login user when `$1` is empty or
/// the login user, as Ansible does: `-u` needs privileges); 127 when the
/// host has no crontab.
const LIST_SCRIPT: &str = r#"command -v crontab >/dev/null 2>&1 || { echo 'Failed to find required executable "crontab"' >&2; exit 127; }
if [ -n "$1" ] && [ "$(id -un)" != "$1" ]; then exec crontab -u "$1" -l; fi
exec crontab -l"#;

/// Installs stdin as user `$1`'s crontab from a temporary file, as Ansible
/// does (crontab names that file in the header it writes); prints the file's
/// name first, for the failure message.
const INSTALL_SCRIPT: &str = r#"t=$(mktemp /tmp/crontabXXXXXXXX) || exit 1
trap 'rm -f "$t"' EXIT
printf '%s\0' "$t"
cat > "$t" || exit 1
if [ -n "$1" ] && [ "$(id -un)" != "$1" ]; then crontab -u "$1" "$t"; else crontab "$t"; fi"#;

/// Copies stdin to a new private file /tmp/crontabXXXXXXXX and prints its path.
const BACKUP_SCRIPT: &str = r#"b=$(mktemp /tmp/crontabXXXXXXXX) && cat > "$b" && printf '%s' "$b""#;

/// Where the job lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A user's crontab (None: the login user's).
    User(Option<String>),
    /// A file: `cron_file` as written, and its absolute path.
    File { given: String, path: String },
}

/// The validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub name: String,
    pub user: Option<String>,
    pub job: Option<String>,
    pub place: Place,
    pub present: bool,
    pub backup: bool,
    pub times: [String; 5],
    pub special_time: Option<String>,
    pub disabled: bool,
    pub env: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub warnings: Vec<String>,
}

/// Checks the arguments as Ansible's module does, with its messages.
pub fn request(args: &Args) -> Result<Request, ModuleError> {
    let name = args.required_str("name")?;
    let user = args.str("user");
    // The spec has held state and special_time to their choices.
    let state = args.str("state").unwrap_or_else(|| "present".into());
    let special_time = args.str("special_time");
    let (insertafter, insertbefore) = (args.str("insertafter"), args.str("insertbefore"));
    let times = ["minute", "hour", "day", "month", "weekday"].map(|t| args.str(t).unwrap_or_else(|| "*".into()));
    let mut warnings = Vec::new();
    if args.str("job").is_some_and(|j| j.trim_matches(['\r', '\n']).contains(['\r', '\n'])) && state == "present" && !args.bool("env", false)? {
        warnings.push("Job should not contain line breaks".to_string());
    }
    let place = match args.str("cron_file").filter(|f| !f.is_empty()) {
        None => Place::User(user.clone()),
        Some(given) => {
            if given == "/etc/crontab" {
                return Err(bad("Will not manage /etc/crontab via cron_file, see documentation.".into()));
            }
            let base = given.rsplit('/').next().unwrap_or_default();
            if base.is_empty() || !base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                warnings.push(format!("Filename portion of cron_file (\"{base}\") should consist solely of upper- and lower-case letters, digits, underscores, and hyphens"));
            }
            let path = if given.starts_with('/') { given.clone() } else { format!("{CRON_D}/{given}") };
            Place::File { given, path }
        }
    };
    let req = Request {
        name,
        user,
        job: args.str("job"),
        place,
        present: state == "present",
        backup: args.bool("backup", false)?,
        times,
        special_time,
        disabled: args.bool("disabled", false)?,
        env: args.bool("env", false)?,
        insertafter,
        insertbefore,
        warnings,
    };
    check_combinations(&req)?;
    Ok(req)
}

fn check_combinations(req: &Request) -> Result<(), ModuleError> {
    if req.special_time.is_some() && req.times.iter().any(|t| t != "*") {
        return Err(bad("You cannot combine special_time with any of the time or day/date parameters.".into()));
    }
    if req.present {
        if matches!(req.place, Place::File { .. }) && req.user.is_none() {
            return Err(bad("To use cron_file=... parameter you must specify user=... as well".into()));
        }
        if req.job.is_none() {
            return Err(bad("You must specify 'job' to install a new cron job or variable".into()));
        }
        if (req.insertafter.is_some() || req.insertbefore.is_some()) && !req.env {
            return Err(bad("Insertafter and insertbefore parameters are valid only with env=yes".into()));
        }
    }
    if req.env && req.name.contains(' ') {
        return Err(bad("Invalid name for environment variable".into()));
    }
    Ok(())
}

fn bad(msg: String) -> ModuleError {
    ModuleError::BadArgs(msg)
}

/// A crontab as read: its text (what --diff shows as before) and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crontab {
    pub existing: String,
    pub lines: Vec<String>,
}

impl Crontab {
    /// A file's content, as is.
    pub fn from_file(text: &str) -> Self {
        Self { existing: text.to_string(), lines: split_lines(text) }
    }

    /// `crontab -l` output: the header some crons print in its first three
    /// lines (`# DO NOT EDIT THIS FILE ...`) is no part of the jobs.
    pub fn from_listing(text: &str) -> Self {
        let header = Regex::new(r"^(# DO NOT EDIT THIS FILE - edit the master and reinstall\.|# \(/tmp/.*installed on.*\)|# \(.*version.*\))").unwrap();
        let mut existing = text.to_string();
        let mut lines = Vec::new();
        for (i, line) in split_lines(text).into_iter().enumerate() {
            if i > 2 || !header.is_match(&line) {
                lines.push(line);
                continue;
            }
            if let Some(at) = existing.find(&line) {
                let mut end = at + line.len();
                if matches!(existing.as_bytes().get(end), Some(b'\r' | b'\n')) {
                    end += 1;
                }
                existing.replace_range(at..end, "");
            }
        }
        Self { existing, lines }
    }

    /// The text written back: lines joined, one final newline.
    pub fn render(&self) -> String {
        let joined = self.lines.join("\n");
        if joined.is_empty() {
            joined
        } else {
            joined.trim_end_matches(['\r', '\n']).to_string() + "\n"
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.trim().is_empty())
    }

    fn job_names(&self) -> Vec<String> {
        self.lines.iter().filter_map(|l| l.strip_prefix(COMMENT)).map(str::to_string).collect()
    }

    fn env_names(&self) -> Vec<String> {
        let decl = Regex::new(r"^\S+=").unwrap();
        self.lines.iter().filter(|l| decl.is_match(l)).map(|l| l.split('=').next().unwrap_or_default().to_string()).collect()
    }

    /// The job named `name` (its comment and line); failing that, a line equal
    /// to `job` gets the comment it lacks (`true`: the lines were changed).
    fn find_job(&mut self, name: &str, job: Option<&str>) -> Option<(String, bool)> {
        let mut comment: Option<&str> = None;
        for line in &self.lines {
            match comment {
                Some(c) if c == name => return Some((line.clone(), false)),
                Some(_) => comment = None,
                None => comment = line.strip_prefix(COMMENT),
            }
        }
        let job = job?;
        let n = self.lines.len();
        for at in 0..n {
            if self.lines[at] != job {
                continue;
            }
            let previous = (at + n - 1) % n;
            if !self.lines[previous].starts_with(COMMENT) {
                self.lines.insert(at, format!("{COMMENT}{name}"));
                return Some((job.to_string(), true));
            }
            if self.lines[previous] == format!("{COMMENT}None") {
                self.lines[previous] = format!("{COMMENT}{name}");
                return Some((job.to_string(), true));
            }
        }
        None
    }

    /// Every job of `name` replaced by `job` (removed when None); a comment on
    /// the last line, with no job after it, goes too.
    fn rewrite_job(&mut self, name: &str, job: Option<&str>) {
        let comment = format!("{COMMENT}{name}");
        let mut out = Vec::with_capacity(self.lines.len());
        let mut after_comment = false;
        for line in self.lines.drain(..) {
            if after_comment {
                if let Some(job) = job {
                    out.push(comment.clone());
                    out.push(job.to_string());
                }
                after_comment = false;
            } else if line == comment {
                after_comment = true;
            } else {
                out.push(line);
            }
        }
        self.lines = out;
    }

    fn find_env(&self, name: &str) -> Option<(usize, &String)> {
        let prefix = format!("{name}=");
        self.lines.iter().enumerate().find(|(_, l)| l.starts_with(&prefix))
    }

    /// Every declaration of `name` replaced by `decl` (removed when None).
    fn rewrite_env(&mut self, name: &str, decl: Option<&str>) {
        let prefix = format!("{name}=");
        let lines = std::mem::take(&mut self.lines);
        self.lines = lines.into_iter().filter_map(|l| if l.starts_with(&prefix) { decl.map(str::to_string) } else { Some(l) }).collect();
    }
}

/// Python's `str.splitlines()`: every line break Python knows ends a line.
pub fn split_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut current));
            }
            '\n' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}' => lines.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The job's crontab line, as Ansible formats it.
pub fn job_line(req: &Request, job: &str) -> String {
    let job = job.trim_matches(['\r', '\n']);
    let disabled = if req.disabled { "#" } else { "" };
    let user = match &req.place {
        Place::File { .. } => format!("{} ", req.user.as_deref().unwrap_or_default()),
        Place::User(_) => String::new(),
    };
    match &req.special_time {
        Some(special) => format!("{disabled}@{special} {user}{job}"),
        None => format!("{disabled}{} {user}{job}", req.times.join(" ")),
    }
}

/// What the task does to the crontab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Write the crontab (or leave it: `changed` false) and report jobs and envs.
    Edit { changed: bool, crontab: Crontab },
    /// The last job of a cron file went: the file is deleted.
    RemoveFile,
    /// The task fails with this message (Ansible's `fail_json`).
    Fail(String),
}

/// Plans the edit on `crontab`, pure.
pub fn plan(req: &Request, mut crontab: Crontab) -> Plan {
    let mut changed = false;
    if req.env {
        let decl = format!("{}=\"{}\"", req.name, req.job.as_deref().unwrap_or("None"));
        let old = crontab.find_env(&req.name).map(|(_, l)| l.clone());
        match (req.present, old) {
            (true, None) => match insert_env(&mut crontab, req, decl) {
                Ok(()) => changed = true,
                Err(msg) => return Plan::Fail(msg),
            },
            (true, Some(old)) if old != decl => {
                crontab.rewrite_env(&req.name, Some(&decl));
                changed = true;
            }
            (false, Some(_)) => {
                crontab.rewrite_env(&req.name, None);
                changed = true;
            }
            _ => {}
        }
    } else if req.present {
        let job = job_line(req, req.job.as_deref().unwrap_or_default());
        match crontab.find_job(&req.name, Some(&job)) {
            None => {
                crontab.lines.push(format!("{COMMENT}{}", req.name));
                crontab.lines.push(job);
                changed = true;
            }
            Some((old, inserted)) if old != job || inserted => {
                crontab.rewrite_job(&req.name, Some(&job));
                changed = true;
            }
            Some(_) => {}
        }
    } else if crontab.find_job(&req.name, None).is_some() {
        crontab.rewrite_job(&req.name, None);
        changed = true;
        if matches!(req.place, Place::File { .. }) && crontab.is_empty() {
            return Plan::RemoveFile;
        }
    }
    // A crontab without its final newline gets one.
    if !changed && !crontab.existing.is_empty() && !crontab.existing.ends_with(['\r', '\n']) {
        changed = true;
    }
    Plan::Edit { changed, crontab }
}

fn insert_env(crontab: &mut Crontab, req: &Request, decl: String) -> Result<(), String> {
    let Some(other) = req.insertafter.as_deref().or(req.insertbefore.as_deref()) else {
        crontab.lines.insert(0, decl);
        return Ok(());
    };
    let Some((index, _)) = crontab.find_env(other) else { return Err(format!("Variable named '{other}' not found.")) };
    crontab.lines.insert(if req.insertafter.is_some() { index + 1 } else { index }, decl);
    Ok(())
}

/// The crontab as read from the host: a user's, or a file (with its facts).
enum Source {
    User(Crontab),
    File(Box<TextFile>, Crontab),
}

impl Source {
    fn crontab(&self) -> &Crontab {
        match self {
            Source::User(c) | Source::File(_, c) => c,
        }
    }
}

fn crontab_cmd(script: &str, user: Option<&str>) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(script).arg("sh").arg(user.unwrap_or_default())
}

/// Reads the crontab in one command; Err is the task's failure.
async fn read<T: Target>(target: &T, place: &Place) -> Result<Result<Source, ModuleResult>, ModuleError> {
    match place {
        Place::User(user) => {
            let out = target.exec(crontab_cmd(LIST_SCRIPT, user.as_deref()).as_str(), None).await?;
            match out.rc {
                // 1: no crontab yet.
                0 | 1 => Ok(Ok(Source::User(Crontab::from_listing(&out.stdout_str())))),
                127 => Ok(Err(ModuleResult::failed(out.stderr_str().trim()))),
                _ => Ok(Err(ModuleResult::failed("Unable to read crontab").with("stderr", out.stderr_str()))),
            }
        }
        Place::File { path, .. } => match text_edit::read(target, path).await? {
            Ok(file) => {
                let crontab = Crontab::from_file(&String::from_utf8_lossy(&file.content));
                Ok(Ok(Source::File(Box::new(file), crontab)))
            }
            Err(msg) => Ok(Err(ModuleResult::failed(msg))),
        },
    }
}

/// The diff headers: the file's path, or the crontab's owner.
fn header(req: &Request) -> String {
    match &req.place {
        Place::File { path, .. } => path.clone(),
        Place::User(Some(user)) => format!("crontab for user \"{user}\""),
        Place::User(None) => "crontab".into(),
    }
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let req = request(args)?;
    let source = match read(target, &req.place).await? {
        Ok(source) => source,
        Err(failure) => return Ok(failure),
    };
    let mut result = match plan(&req, source.crontab().clone()) {
        Plan::Fail(msg) => ModuleResult::failed(msg),
        Plan::RemoveFile => remove_file(&req, &source, target, mode).await?,
        Plan::Edit { changed, crontab } => edit(&req, &source, crontab, changed, target, mode).await?,
    };
    if !req.warnings.is_empty() {
        result = result.with("warnings", req.warnings.clone());
    }
    Ok(result)
}

/// The last job of a cron file removed: the file goes.
async fn remove_file<T: Target>(req: &Request, source: &Source, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let Place::File { given, path } = &req.place else { unreachable!("only a cron file is removed") };
    let exists = matches!(source, Source::File(file, _) if file.facts.exists());
    let changed = if mode.check {
        exists
    } else {
        target.exec(Cmd::new("rm").flag("--").arg(path).quiet().as_str(), None).await?.rc == 0
    };
    let mut result = ModuleResult::changed(changed).with("cron_file", given.as_str()).with("state", "absent");
    if mode.diff {
        let before = source.crontab().existing.clone();
        result = result.with("diff", json!({"before": before, "before_header": header(req), "after": "", "after_header": "/dev/null"}));
        result.diff.push(FileDiff { before_header: header(req), after_header: "/dev/null".into(), before, after: String::new() });
    } else {
        result = result.with("diff", json!({}));
    }
    Ok(result)
}

async fn edit<T: Target>(req: &Request, source: &Source, crontab: Crontab, changed: bool, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let mut result = ModuleResult::changed(changed).with("jobs", crontab.job_names()).with("envs", crontab.env_names());
    let rendered = crontab.render();
    if changed && !mode.check {
        if req.backup {
            let old = source.crontab().clone();
            match backup(target, &old.render()).await? {
                Ok(path) => result = result.with("backup_file", path),
                Err(failure) => return Ok(failure),
            }
        }
        if let Some(failure) = write(req, source, &rendered, target).await? {
            return Ok(failure);
        }
    }
    if changed && mode.diff {
        let before = source.crontab().existing.clone();
        result = result.with("diff", json!({"before": before, "before_header": header(req), "after": rendered, "after_header": header(req)}));
        result.diff.push(FileDiff { before_header: header(req), after_header: header(req), before, after: rendered });
    }
    if let Place::File { given, .. } = &req.place {
        result = result.with("cron_file", given.as_str());
    }
    Ok(result)
}

/// Saves the crontab as it was to a new /tmp/crontabXXXXXXXX.
async fn backup<T: Target>(target: &T, old: &str) -> Result<Result<String, ModuleResult>, ModuleError> {
    let out = target.exec(Cmd::new("/bin/sh").flag("-c").arg(BACKUP_SCRIPT).as_str(), Some(old.as_bytes())).await?;
    if out.rc != 0 || out.stdout.is_empty() {
        return Ok(Err(ModuleResult::failed(format!("could not back the crontab up: {}", out.stderr_str().trim()))));
    }
    Ok(Ok(out.stdout_str()))
}

/// Installs the new crontab; Some is the task's failure.
async fn write<T: Target>(req: &Request, source: &Source, rendered: &str, target: &T) -> Result<Option<ModuleResult>, ModuleError> {
    match source {
        Source::User(_) => {
            let Place::User(user) = &req.place else { unreachable!("a user's crontab has a user place") };
            let out = target.exec(crontab_cmd(INSTALL_SCRIPT, user.as_deref()).as_str(), Some(rendered.as_bytes())).await?;
            if out.rc == 0 {
                return Ok(None);
            }
            let stdout = out.stdout_str();
            let (temp, stdout) = stdout.split_once('\0').unwrap_or(("", &stdout));
            let failed = ModuleResult::failed(format!("Failed to install new cronfile: {temp}"))
                .with("stderr", out.stderr_str())
                .with("stdout", stdout)
                .with("rc", out.rc);
            Ok(Some(failed))
        }
        Source::File(file, _) => {
            // Ansible opens the file for writing under umask 022: a new file is
            // 0644, an existing one keeps its mode and owner.
            let plan = WritePlan {
                dest: file.real_path.clone(),
                mode: if file.facts.exists() { file.facts.mode } else { 0o644 },
                chown: None,
                keep_ids: file.facts.exists().then_some((file.facts.uid, file.facts.gid)),
                create_dir: false,
                backup: false,
                size: rendered.len(),
            };
            match remote_file::apply(target, &plan.cmd(), Some(rendered.as_bytes()), 1, &file.real_path).await? {
                Ok(_) => Ok(None),
                Err(msg) => Ok(Some(ModuleResult::failed(msg))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn req(v: Value) -> Request {
        request(&Args::new(v.as_object().unwrap().clone())).unwrap()
    }

    fn planned(r: &Request, text: &str) -> (bool, String) {
        match plan(r, Crontab::from_listing(text)) {
            Plan::Edit { changed, crontab } => (changed, crontab.render()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_job_is_added_then_left_alone_then_changed() {
        let r = req(json!({"name": "backup", "job": "/bin/backup", "minute": 5, "hour": "2"}));
        assert_eq!(planned(&r, ""), (true, "#Ansible: backup\n5 2 * * * /bin/backup\n".into()));
        assert!(!planned(&r, "#Ansible: backup\n5 2 * * * /bin/backup\n").0);
        let other = "#Ansible: backup\n1 1 * * * /bin/backup\nMAILTO=x\n";
        assert_eq!(planned(&r, other), (true, "#Ansible: backup\n5 2 * * * /bin/backup\nMAILTO=x\n".into()));
        // No final newline: rewritten with one.
        assert_eq!(planned(&r, "#Ansible: backup\n5 2 * * * /bin/backup"), (true, "#Ansible: backup\n5 2 * * * /bin/backup\n".into()));
    }

    #[test]
    fn a_bare_job_line_gets_its_comment() {
        let r = req(json!({"name": "b", "job": "/bin/b", "special_time": "reboot"}));
        assert_eq!(planned(&r, "x=1\n@reboot /bin/b\n"), (true, "x=1\n#Ansible: b\n@reboot /bin/b\n".into()));
        // The first line's "previous" is the last one (Python's lines[-1]):
        // a comment there hides the bare line, and the job is added again.
        assert_eq!(planned(&r, "@reboot /bin/b\n#Ansible: other\n").1, "@reboot /bin/b\n#Ansible: other\n#Ansible: b\n@reboot /bin/b\n");
    }

    #[test]
    fn absent_removes_every_job_of_the_name_and_a_cron_file_goes_when_empty() {
        let r = req(json!({"name": "a", "state": "absent"}));
        assert_eq!(planned(&r, "#Ansible: a\n1 * * * * x\nK=v\n#Ansible: a\n2 * * * * y\n"), (true, "K=v\n".into()));
        assert_eq!(planned(&r, "K=v\n"), (false, "K=v\n".into()));
        let f = req(json!({"name": "a", "state": "absent", "cron_file": "app"}));
        assert_eq!(f.place, Place::File { given: "app".into(), path: "/etc/cron.d/app".into() });
        assert_eq!(plan(&f, Crontab::from_file("#Ansible: a\n* * * * * root x\n\n")), Plan::RemoveFile);
    }

    #[test]
    fn cron_file_lines_carry_the_user_and_disabled_jobs_a_hash() {
        let r = req(json!({"name": "a", "job": "run\n", "cron_file": "/tmp/x", "user": "www", "disabled": true, "weekday": "1-5"}));
        assert_eq!(job_line(&r, "run\n"), "#* * * * 1-5 www run");
    }

    #[test]
    fn variables_are_inserted_updated_and_removed() {
        let r = req(json!({"name": "PATH", "job": "/bin", "env": true}));
        assert_eq!(planned(&r, "#Ansible: a\n* * * * * a\n"), (true, "PATH=\"/bin\"\n#Ansible: a\n* * * * * a\n".into()));
        assert!(!planned(&r, "PATH=\"/bin\"\n").0);
        assert_eq!(planned(&r, "PATH=/usr/bin\nA=1\n"), (true, "PATH=\"/bin\"\nA=1\n".into()));
        let after = req(json!({"name": "B", "job": "2", "env": true, "insertafter": "A"}));
        assert_eq!(planned(&after, "A=1\nC=3\n"), (true, "A=1\nB=\"2\"\nC=3\n".into()));
        let before = req(json!({"name": "B", "job": "2", "env": true, "insertbefore": "Z"}));
        assert_eq!(plan(&before, Crontab::from_listing("A=1\n")), Plan::Fail("Variable named 'Z' not found.".into()));
        let gone = req(json!({"name": "A", "env": true, "state": "absent"}));
        assert_eq!(planned(&gone, "A=1\nB=2\n"), (true, "B=2\n".into()));
        let c = Crontab::from_listing("A=1\nB=2\n#Ansible: j\n");
        assert_eq!((c.env_names(), c.job_names()), (vec!["A".to_string(), "B".into()], vec!["j".to_string()]));
    }

    #[test]
    fn listing_headers_are_dropped() {
        let c = Crontab::from_listing("# DO NOT EDIT THIS FILE - edit the master and reinstall.\n# (/tmp/x installed on Mon)\n# (Cron version V5.0)\nA=1\n");
        assert_eq!(c.lines, ["A=1"]);
        assert_eq!(c.existing, "A=1\n");
        assert_eq!(split_lines("a\r\nb\rc\x0cd"), ["a", "b", "c", "d"]);
    }

    #[test]
    fn bad_combinations_are_refused_with_ansibles_words() {
        let refused = |v: Value| request(&Args::new(v.as_object().unwrap().clone())).unwrap_err().to_string();
        assert!(refused(json!({"name": "a", "job": "x", "special_time": "daily", "hour": "1"})).contains("cannot combine special_time"));
        assert!(refused(json!({"name": "a", "job": "x", "cron_file": "f"})).contains("must specify user"));
        assert!(refused(json!({"name": "a"})).contains("must specify 'job'"));
        assert!(refused(json!({"name": "a", "job": "x", "insertafter": "B"})).contains("valid only with env=yes"));
        assert!(refused(json!({"name": "a", "job": "x", "cron_file": "/etc/crontab", "user": "r"})).contains("Will not manage /etc/crontab"));
        let spec = crate::spec::lookup("cron").unwrap();
        let bad_state = crate::validate::checked(spec, json!({"name": "a", "job": "x", "state": "gone"}).as_object().unwrap()).unwrap_err();
        assert!(bad_state.message("cron").contains("must be one of: absent, present"), "{}", bad_state.message("cron"));
        let both = crate::validate::checked(spec, json!({"name": "a", "job": "x", "env": true, "insertafter": "A", "insertbefore": "B"}).as_object().unwrap()).unwrap_err();
        assert_eq!(both.message("cron"), "parameters are mutually exclusive: insertafter|insertbefore");
        assert!(refused(json!({"name": "a b", "job": "x", "env": true})).contains("Invalid name"));
        let warned = req(json!({"name": "a", "job": "x", "cron_file": "my.cron", "user": "root"}));
        assert_eq!(warned.warnings.len(), 1);
    }
}
