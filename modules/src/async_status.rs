//! Background jobs (`async:`) of `command`/`shell` without Python on the
//! target (and of the engine's fallback modules, which bring their own
//! Python code), and the `async_status` module that reports on them.
//!
//! A job lives in `~/.ansible_async/<jid>/` (Ansible's directory, or
//! `ansible_async_dir`; here a directory of plain files, not one JSON file): `args.json` (the module and
//! its arguments), `stdin`, `pid`, `start`, `stdout`, `stderr`, then `end`
//! and, last and atomically, `rc`. A job is finished once `rc` exists. A
//! detached POSIX `sh` runner starts the command in its own session
//! (`setsid` when the host has it) and a watchdog kills its process group
//! after the time limit, leaving a `timedout` mark.
//!
//! `async_status` rebuilds the module's result by replaying the module's own
//! result-building against the recorded output ([`Replay`]), so a background
//! `command` registers exactly what a foreground one would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::clock::{format_delta, format_timestamp};
use crate::shell::Cmd;
use crate::{Args, ExecOutput, ModuleError, ModuleResult, RunMode, Target, TargetError};

/// Every job script starts here: $1 jid, $2 the jobs' directory (`~/...` is
/// the user's home), $d the job's directory.
const JOB_DIR: &str = r#"case $2 in "~"|"~/"*) base=$HOME${2#"~"} ;; *) base=$2 ;; esac
d="$base/$1"
"#;

/// Creates the job directory (private to the user) and stores the module and
/// its arguments (stdin); prints the directory's absolute path.
const PREPARE: &str = r#"
(umask 077 && mkdir -p -- "$d") || exit 3
cat > "$d/args.json" || exit 3
printf '%s\n' "$d""#;

/// $1 job dir, $2 time limit (seconds, 0: none), $3 the command line,
/// $4 1 when the command has stdin (read now from ours), $5 the runner script.
/// Starts the runner detached from this session and returns at once.
const LAUNCH: &str = r#"if [ "$4" = 1 ]; then cat > "$1/stdin" || exit 3; fi
if command -v setsid >/dev/null 2>&1; then
  setsid /bin/sh -c "$5" sh "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &
else
  /bin/sh -c "$5" sh "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &
fi
echo started"#;

/// The detached runner: $1 job dir, $2 time limit, $3 the command line.
/// The watchdog's `sleep` dies with it when the job ends first (no stray
/// `sleep 3600` left behind).
const RUNNER: &str = r#"d=$1
trap '' HUP
date +%s.%N > "$d/start" 2>/dev/null
in=/dev/null
if [ -f "$d/stdin" ]; then in=$d/stdin; fi
if command -v setsid >/dev/null 2>&1; then
  setsid /bin/sh -c "$3" < "$in" > "$d/stdout" 2> "$d/stderr" &
else
  /bin/sh -c "$3" < "$in" > "$d/stdout" 2> "$d/stderr" &
fi
job=$!
echo "$job" > "$d/pid"
watchdog=
if [ "$2" -gt 0 ] 2>/dev/null; then
  (trap 'kill "$s" 2>/dev/null; exit 0' TERM
   sleep "$2" & s=$!; wait "$s"
   : > "$d/timedout"; kill -TERM "-$job" 2>/dev/null || kill -TERM "$job" 2>/dev/null
   sleep 2; kill -KILL "-$job" 2>/dev/null || kill -KILL "$job" 2>/dev/null) </dev/null >/dev/null 2>&1 &
  watchdog=$!
fi
wait "$job"
rc=$?
if [ -n "$watchdog" ]; then kill "$watchdog" 2>/dev/null; fi
date +%s.%N > "$d/end" 2>/dev/null
printf '%s\n' "$rc" > "$d/rc.tmp" && mv -f -- "$d/rc.tmp" "$d/rc""#;

/// The files of a finished job, in the order [`READ`] sends them.
const FILES: [&str; 7] = ["rc", "start", "end", "timedout", "args.json", "stdout", "stderr"];

/// Prints the job directory, then `missing`, `running` or
/// `finished`; for a finished job the size of each of [`FILES`] (-1: absent)
/// on a line each, then their bytes back to back.
const READ: &str = r#"
printf '%s\n' "$d"
if [ ! -d "$d" ]; then echo missing; exit 0; fi
if [ ! -f "$d/rc" ]; then echo running; exit 0; fi
echo finished
for f in rc start end timedout args.json stdout stderr; do
  if [ -f "$d/$f" ]; then wc -c < "$d/$f"; else echo -1; fi
done
for f in rc start end timedout args.json stdout stderr; do
  if [ -f "$d/$f" ]; then cat "$d/$f"; fi
done"#;

/// Kills a running job's process group, marks it timed out. (`kill -TERM -PGID`:
/// dash takes neither `--` nor `-s` before a negative pid.)
const KILL: &str = r#"
[ -f "$d/pid" ] || exit 0
: > "$d/timedout"
job=$(cat "$d/pid")
kill -TERM "-$job" 2>/dev/null || kill -TERM "$job" 2>/dev/null
sleep 1
kill -KILL "-$job" 2>/dev/null || kill -KILL "$job" 2>/dev/null
exit 0"#;

/// Removes the job directory; prints it.
const CLEANUP: &str = r#"
rm -rf -- "$d"
printf '%s\n' "$d""#;

/// A job's state as read from the host.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    Missing { dir: String },
    Running { dir: String },
    Finished(Finished),
}

/// What a finished job left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub dir: String,
    pub output: ExecOutput,
    pub start: Option<SystemTime>,
    pub end: Option<SystemTime>,
    /// Killed by the time limit.
    pub timed_out: bool,
    /// `args.json`: `{"module": "shell", "args": {...}, "check": false}`.
    pub request: Value,
}

impl Job {
    pub fn dir(&self) -> &str {
        match self {
            Job::Missing { dir } | Job::Running { dir } => dir,
            Job::Finished(f) => &f.dir,
        }
    }
}

/// A job id: `j` and digits, `.`, digits, as Ansible makes them. Anything else
/// is refused, so a jid can never name a path outside the job directory.
pub fn valid_jid(jid: &str) -> bool {
    !jid.is_empty() && jid.len() <= 64 && jid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_') && !jid.starts_with('.')
}

fn check_jid(jid: &str) -> Result<(), ModuleError> {
    if valid_jid(jid) {
        Ok(())
    } else {
        Err(ModuleError::BadArgs(format!("`{jid}` is not a job id (expected the `ansible_job_id` an async task registered, like j123456789012.345)")))
    }
}

/// Where jobs live on a host: `~/.ansible_async` or `ansible_async_dir`.
pub const DEFAULT_DIR: &str = "~/.ansible_async";

/// One of the job scripts for job `jid` under `base`.
fn job_script(body: &'static str, jid: &str, base: &str) -> Result<Cmd, ModuleError> {
    check_jid(jid)?;
    Ok(Cmd::new("/bin/sh").flag("-c").arg(format!("{JOB_DIR}{body}")).arg("sh").arg(jid).arg(base))
}

/// Starts `line` (a command line built with [`Cmd`]) as background job `jid`
/// killed after `limit` seconds; `request` is stored for `async_status`.
/// Returns the job directory.
pub async fn launch<T: Target>(target: &T, base: &str, jid: &str, limit: u64, line: &str, stdin: Option<&[u8]>, request: &Value) -> Result<String, ModuleError> {
    let prepared = target.exec(job_script(PREPARE, jid, base)?.as_str(), Some(request.to_string().as_bytes())).await?;
    if prepared.rc != 0 {
        return Err(ModuleError::BadArgs(format!("cannot create the async job directory: {}", prepared.stderr_str().trim())));
    }
    let dir = prepared.stdout_str().trim_end_matches('\n').to_string();
    let has_stdin = if stdin.is_some() { "1" } else { "0" };
    let launch = Cmd::new("/bin/sh").flag("-c").arg(LAUNCH).arg("sh").arg(&dir).arg(limit.to_string()).arg(line).arg(has_stdin).arg(RUNNER);
    let started = target.exec(launch.as_str(), Some(stdin.unwrap_or_default())).await?;
    if started.rc != 0 || started.stdout_str().trim() != "started" {
        return Err(ModuleError::BadArgs(format!("cannot start the async job: {}", started.stderr_str().trim())));
    }
    Ok(dir)
}

/// Reads job `jid`'s state (one command).
pub async fn read<T: Target>(target: &T, base: &str, jid: &str) -> Result<Job, ModuleError> {
    let out = target.exec(job_script(READ, jid, base)?.as_str(), None).await?;
    parse_read(&out.stdout).ok_or_else(|| ModuleError::BadArgs(format!("unreadable async job state: {}", out.stderr_str().trim())))
}

/// Kills job `jid` (its whole process group) and marks it timed out.
pub async fn kill<T: Target>(target: &T, base: &str, jid: &str) -> Result<(), ModuleError> {
    target.exec(job_script(KILL, jid, base)?.as_str(), None).await?;
    Ok(())
}

/// Removes job `jid`'s directory; returns its path.
pub async fn cleanup<T: Target>(target: &T, base: &str, jid: &str) -> Result<String, ModuleError> {
    let out = target.exec(job_script(CLEANUP, jid, base)?.as_str(), None).await?;
    Ok(out.stdout_str().trim_end_matches('\n').to_string())
}

fn parse_read(bytes: &[u8]) -> Option<Job> {
    let mut rest = bytes;
    let mut line = || -> Option<String> {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let text = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        Some(text)
    };
    let dir = line()?;
    match line()?.as_str() {
        "missing" => return Some(Job::Missing { dir }),
        "running" => return Some(Job::Running { dir }),
        "finished" => {}
        _ => return None,
    }
    let mut sizes = Vec::with_capacity(FILES.len());
    for _ in FILES {
        sizes.push(line()?.trim().parse::<i64>().ok()?);
    }
    let mut files: Vec<Option<&[u8]>> = Vec::with_capacity(FILES.len());
    for size in sizes {
        if size < 0 {
            files.push(None);
            continue;
        }
        let size = usize::try_from(size).ok()?;
        files.push(Some(rest.get(..size)?));
        rest = &rest[size..];
    }
    let text = |i: usize| files[i].map(|b| String::from_utf8_lossy(b).trim().to_string());
    let time = |i: usize| text(i).and_then(|t| parse_epoch(&t));
    Some(Job::Finished(Finished {
        dir,
        output: ExecOutput {
            rc: text(0).and_then(|t| t.parse().ok()).unwrap_or(-1),
            stdout: files[5].unwrap_or_default().to_vec(),
            stderr: files[6].unwrap_or_default().to_vec(),
        },
        start: time(1),
        end: time(2),
        timed_out: files[3].is_some(),
        request: text(4).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null),
    }))
}

/// `date +%s.%N` (a `date` without `%N` leaves the letter: whole seconds then).
fn parse_epoch(text: &str) -> Option<SystemTime> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: u64 = secs.parse().ok()?;
    let nanos = frac.parse::<u32>().ok().filter(|_| frac.len() == 9).unwrap_or(0);
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// The fields every job result carries.
fn job_fields(jid: &str, dir: &str, started: bool, finished: bool) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("ansible_job_id".into(), jid.into());
    data.insert("started".into(), started.into());
    data.insert("finished".into(), finished.into());
    data.insert("results_file".into(), dir.into());
    data
}

/// What a task registers when it started job `jid` with `poll: 0`.
pub fn started_result(jid: &str, dir: &str) -> ModuleResult {
    ModuleResult { changed: true, data: job_fields(jid, dir, true, false), ..ModuleResult::default() }
}

/// The result of a job not finished (yet): empty output, `finished: false`.
pub fn unfinished_result(jid: &str, dir: &str) -> ModuleResult {
    let mut data = job_fields(jid, dir, true, false);
    data.extend(empty_output());
    ModuleResult { data, ..ModuleResult::default() }
}

fn empty_output() -> Map<String, Value> {
    let mut data = Map::new();
    for key in ["stdout", "stderr"] {
        data.insert(key.into(), "".into());
        data.insert(format!("{key}_lines"), json!([]));
    }
    data
}

/// The result of a finished job: the module's own result (as if it had run in
/// the foreground), with the job's fields.
pub async fn finished_result(jid: &str, job: &Finished) -> ModuleResult {
    let mut result = if job.timed_out {
        let mut r = ModuleResult::failed("Timeout exceeded");
        r.data.extend(empty_output());
        r
    } else {
        replay(job).await
    };
    if let (Some(start), Some(end)) = (job.start, job.end) {
        // Only where the module timed its command (a check-mode plan has null times).
        if result.data.get("start").is_some_and(|v| !v.is_null()) {
            result.data.insert("start".into(), format_timestamp(start).into());
            result.data.insert("end".into(), format_timestamp(end).into());
            result.data.insert("delta".into(), format_delta(end.duration_since(start).unwrap_or_default()).into());
        }
    }
    result.data.extend(job_fields(jid, &job.dir, true, true));
    result
}

/// Runs the recorded module's result-building against the recorded output.
async fn replay(job: &Finished) -> ModuleResult {
    let module = job.request.get("module").and_then(Value::as_str).unwrap_or_default();
    if job.request.get("python").and_then(Value::as_bool) == Some(true) {
        return replay_python(job);
    }
    let args = Args::new(job.request.get("args").and_then(Value::as_object).cloned().unwrap_or_default());
    let shell = match module {
        "shell" => true,
        "command" => false,
        other => return ModuleResult::failed(format!("async job of unknown module `{other}`")),
    };
    let target = Replay { output: job.output.clone() };
    let mode = RunMode { check: job.request.get("check").and_then(Value::as_bool).unwrap_or(false), diff: false };
    match crate::command::run(&args, &target, mode, shell).await {
        Ok(result) => result,
        Err(e) => ModuleResult::failed(e.to_string()),
    }
}

/// A module run by the engine's fallback: the JSON it printed, over
/// async_status's empty output (as Ansible's action merges them).
fn replay_python(job: &Finished) -> ModuleResult {
    let (stderr, _) = crate::module_json::split_marks(&job.output.stderr_str());
    let diff = job.request.get("diff").and_then(Value::as_bool).unwrap_or(false);
    let mut result = crate::module_json::read(&job.output.stdout_str(), &stderr, job.output.rc, diff);
    let mut data = empty_output();
    data.append(&mut result.data);
    result.data = data;
    result
}

/// A target that answers with what a job recorded: its command's output, and
/// "go ahead" to the `creates`/`removes` probe (the job ran, so it passed).
struct Replay {
    output: ExecOutput,
}

impl Target for Replay {
    async fn exec(&self, _: &str, _: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        Ok(ExecOutput { rc: 0, stdout: b"run\n".to_vec(), stderr: Vec::new() })
    }

    async fn exec_task_command(&self, _: &str, _: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        Ok(self.output.clone())
    }
}

/// The `async_status` module: `jid`, `mode: status` (default) or `cleanup`;
/// `_async_dir` (set by the engine from `ansible_async_dir`).
pub async fn run<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let jid = args.str("jid").ok_or_else(|| ModuleError::BadArgs("missing required arguments: jid".into()))?;
    check_jid(&jid)?;
    let base = args.str("_async_dir").unwrap_or_else(|| DEFAULT_DIR.to_string());
    match args.str("mode").as_deref().unwrap_or("status") {
        "status" => status(&jid, &base, target).await,
        "cleanup" => {
            let dir = cleanup(target, &base, &jid).await?;
            let mut data = job_fields(&jid, &dir, false, false);
            data.remove("results_file");
            data.insert("erased".into(), dir.into());
            data.extend(empty_output());
            Ok(ModuleResult { data, ..ModuleResult::default() })
        }
        other => Err(ModuleError::BadArgs(format!("value of mode must be one of: status, cleanup, got: {other}"))),
    }
}

async fn status<T: Target>(jid: &str, base: &str, target: &T) -> Result<ModuleResult, ModuleError> {
    Ok(match read(target, base, jid).await? {
        Job::Missing { dir } => {
            let mut r = ModuleResult::failed("could not find job");
            r.data = job_fields(jid, &dir, true, true);
            r.data.extend(empty_output());
            r
        }
        Job::Running { dir } => unfinished_result(jid, &dir),
        Job::Finished(job) => finished_result(jid, &job).await,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jids_cannot_name_other_paths() {
        assert!(valid_jid("j718900478497.6275"));
        for bad in ["", "../x", "a/b", ".hidden", "j1;rm", "j 1", "$(id)"] {
            assert!(!valid_jid(bad), "{bad}");
        }
    }

    #[test]
    fn reads_a_finished_job() {
        let bytes = b"/h/.ansible_async/j1.2\nfinished\n2\n21\n21\n-1\n37\n3\n0\n0\n1700000000.000000000\n1700000002.500000000\n{\"module\":\"shell\",\"args\":{\"cmd\":\"x\"}}hi\n";
        let Some(Job::Finished(job)) = parse_read(bytes) else { panic!("not finished") };
        assert_eq!(job.output.rc, 0);
        assert_eq!(job.output.stdout, b"hi\n");
        assert!(job.output.stderr.is_empty() && !job.timed_out);
        assert_eq!(job.end.unwrap().duration_since(job.start.unwrap()).unwrap(), Duration::from_millis(2500));
        assert_eq!(job.request["module"], "shell");
        assert_eq!(parse_read(b"/d\nrunning\n"), Some(Job::Running { dir: "/d".into() }));
        assert_eq!(parse_read(b"/d\nfinished\n5\n"), None);
    }

    #[test]
    fn epochs_without_nanoseconds_still_parse() {
        assert_eq!(parse_epoch("1700000000.N"), Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
        assert_eq!(parse_epoch("junk"), None);
    }
}
