//! `command` and `shell`: run something on the host.
//!
//! `command` never goes through a shell: its words (split like Python's shlex, or
//! given as `argv`) are each quoted, so `;`, `|` and `$()` reach the program as
//! literal arguments; only `$VARS` and a leading `~` are expanded, as Ansible
//! does (unless `expand_argument_vars: false`). `shell` hands the whole script to `/bin/sh -c` (or
//! `executable`). `creates`/`removes` are tested on the host (globs, relative to
//! `chdir`) in one extra command only when given; a run costs one command.

use std::time::{Instant, SystemTime};

use serde_json::{json, Map, Value};

use crate::clock::{format_delta, format_timestamp};
use crate::shell::Cmd;
use crate::{shlex, Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{p, Param, Rules};

/// The arguments of `command` and `shell` (ansible.builtin.command's spec;
/// `shell` adds nothing stockman reads).
pub const PARAMS: &[Param] = &[
    p("_raw_params").str(),
    p("cmd").str(),
    p("argv").list(),
    p("chdir").path(),
    p("creates").path(),
    p("removes").path(),
    p("stdin").str(),
    p("stdin_add_newline").bool().default("true"),
    p("strip_empty_ends").bool().default("true"),
    p("executable").str(),
    p("expand_argument_vars").bool().default("true"),
];

/// Exactly one way of giving the command, as Ansible requires.
pub const RULES: Rules = Rules {
    mutually_exclusive: &[&["_raw_params", "cmd", "argv"]],
    required_one_of: &[&["_raw_params", "cmd", "argv"]],
    ..Rules::NONE
};

/// What to run and how, from the task's arguments.
#[derive(Debug, Clone, PartialEq)]
struct Request {
    /// The command line (without `chdir`).
    line: Cmd,
    /// What Ansible reports as `cmd`: the script for shell, the word list for command.
    reported: Value,
    chdir: Option<String>,
    creates: Option<String>,
    removes: Option<String>,
    stdin: Option<Vec<u8>>,
    strip_empty_ends: bool,
}

/// Why a command is not run (Ansible's `creates`/`removes` semantics).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Guard {
    Run,
    Exists(String),
    Missing(String),
    NoChdir(String),
}

pub async fn run<T: Target>(
    args: &Args,
    target: &T,
    mode: RunMode,
    shell: bool,
) -> Result<ModuleResult, ModuleError> {
    let request = match Request::from_args(args, shell)? {
        Ok(r) => r,
        Err(failure) => return Ok(failure),
    };
    let guard = if request.creates.is_some() || request.removes.is_some() {
        check_guard(target, &request).await?
    } else {
        Guard::Run
    };
    let verb = if mode.check { "Would" } else { "Did" };
    match guard {
        Guard::Run => {}
        Guard::NoChdir(err) => {
            return Ok(base_result(&request).failed_with(format!(
                "Unable to change directory before execution: {err}"
            )));
        }
        Guard::Exists(pattern) => return Ok(skipped_by_guard(&request, verb, &pattern, "exists")),
        Guard::Missing(pattern) => {
            return Ok(skipped_by_guard(&request, verb, &pattern, "does not exist"))
        }
    }
    if mode.check {
        return Ok(would_run(&request));
    }
    execute(target, &request).await
}

impl Request {
    /// Reads the arguments; `Ok(Err(result))` is a task failure with Ansible's fields.
    fn from_args(args: &Args, shell: bool) -> Result<Result<Self, ModuleResult>, ModuleError> {
        let raw = args.str("_raw_params").or_else(|| args.str("cmd"));
        let argv = argv_of(args)?;
        let raw = raw.filter(|r| !r.trim().is_empty());
        let expand = args.bool("expand_argument_vars", true)?;
        let (line, reported) = match (raw, argv) {
            (Some(_), Some(_)) => {
                return Ok(Err(ModuleResult::failed(
                    "only command or argv can be given, not both",
                )
                .with("rc", 256)))
            }
            (None, None) => {
                return Ok(Err(ModuleResult::failed("no command given").with("rc", 256)))
            }
            (Some(script), None) if shell => (shell_line(args, &script), Value::String(script)),
            (Some(text), None) => match shlex::split(&text) {
                Ok(words) => words_line(words, expand),
                Err(e) => {
                    return Ok(Err(ModuleResult::failed(format!(
                        "cannot split command `{text}`: {e}"
                    ))))
                }
            },
            (None, Some(words)) => words_line(words, expand),
        };
        let stdin = args.str("stdin").map(|s| {
            let mut bytes = s.into_bytes();
            bytes.extend_from_slice(b"\n");
            bytes
        });
        let stdin = match (stdin, args.bool("stdin_add_newline", true)?) {
            (Some(mut bytes), false) => {
                bytes.pop();
                Some(bytes)
            }
            (other, _) => other,
        };
        Ok(Ok(Self {
            line,
            reported,
            chdir: args.str("chdir"),
            creates: args.str("creates"),
            removes: args.str("removes"),
            stdin,
            strip_empty_ends: args.bool("strip_empty_ends", true)?,
        }))
    }

    /// The line as sent to the host, with `cd` in front when `chdir` is set.
    fn full_line(&self) -> String {
        match &self.chdir {
            Some(dir) => Cmd::new("cd")
                .flag("--")
                .arg(dir)
                .then("&&", self.line.clone())
                .into_string(),
            None => self.line.as_str().to_string(),
        }
    }
}

fn argv_of(args: &Args) -> Result<Option<Vec<String>>, ModuleError> {
    match args.get("argv") {
        None => Ok(None),
        Some(Value::Array(items)) if items.is_empty() => Ok(None),
        Some(Value::Array(items)) => Ok(Some(
            items.iter().map(crate::args::value_to_string).collect(),
        )),
        Some(other) => Err(ModuleError::BadArgs(format!(
            "argument 'argv' must be a list, got {other}"
        ))),
    }
}

/// `command -- word...`: the `command` builtin skips shell functions and aliases,
/// and every word (the program too) is quoted; with `expand_argument_vars` (on
/// by default, as in Ansible) the host expands each word's `$VARS` and leading
/// `~`, as values: nothing is split or run.
fn words_line(words: Vec<String>, expand: bool) -> (Cmd, Value) {
    let start = Cmd::new("command").flag("--");
    let line = match expand {
        true => words.iter().fold(start, Cmd::arg_expanding),
        false => start.args(&words),
    };
    (
        line,
        Value::Array(words.into_iter().map(Value::String).collect()),
    )
}

fn shell_line(args: &Args, script: &str) -> Cmd {
    match args.str("executable") {
        Some(exe) => Cmd::new("command")
            .flag("--")
            .arg(exe)
            .flag("-c")
            .arg(script),
        None => Cmd::sh(script),
    }
}

/// Tests `creates`/`removes` (shell globs, never evaluated as code) after `cd`.
async fn check_guard<T: Target>(target: &T, request: &Request) -> Result<Guard, ModuleError> {
    // $1 = dir (may be empty), $2 = creates, $3 = removes. IFS= keeps a pattern as
    // one word; unquoted expansion then only globs, it never runs `$()`.
    const SCRIPT: &str = r#"if [ -n "$1" ]; then cd -- "$1" || exit 3; fi
IFS=
found() { for f in $1; do if [ -e "$f" ] || [ -L "$f" ]; then return 0; fi; done; return 1; }
if [ -n "$2" ] && found "$2"; then echo exists; exit 0; fi
if [ -n "$3" ] && ! found "$3"; then echo missing; exit 0; fi
echo run"#;
    let probe = Cmd::new("/bin/sh")
        .flag("-c")
        .arg(SCRIPT)
        .arg("sh")
        .arg(request.chdir.as_deref().unwrap_or(""))
        .arg(request.creates.as_deref().unwrap_or(""))
        .arg(request.removes.as_deref().unwrap_or(""));
    let out = target.exec(probe.as_str(), None).await?;
    Ok(match (out.rc, out.stdout_str().trim()) {
        (3, _) => Guard::NoChdir(out.stderr_str().trim().to_string()),
        (0, "exists") => Guard::Exists(request.creates.clone().unwrap_or_default()),
        (0, "missing") => Guard::Missing(request.removes.clone().unwrap_or_default()),
        (0, "run") => Guard::Run,
        (rc, _) => Guard::NoChdir(format!(
            "probe failed with rc {rc}: {}",
            out.stderr_str().trim()
        )),
    })
}

/// Ansible's result skeleton: every field present, unknown ones null.
fn base_result(request: &Request) -> ModuleResult {
    let mut data = Map::new();
    for (key, value) in [
        ("stdout", json!("")),
        ("stderr", json!("")),
        ("rc", Value::Null),
        ("cmd", request.reported.clone()),
        ("start", Value::Null),
        ("end", Value::Null),
        ("delta", Value::Null),
        ("stdout_lines", json!([])),
        ("stderr_lines", json!([])),
    ] {
        data.insert(key.to_string(), value);
    }
    ModuleResult {
        msg: Some(String::new()),
        data,
        ..ModuleResult::default()
    }
}

trait FailedWith {
    fn failed_with(self, msg: String) -> Self;
}

impl FailedWith for ModuleResult {
    fn failed_with(mut self, msg: String) -> Self {
        self.failed = true;
        self.msg = Some(msg);
        self
    }
}

fn skipped_by_guard(request: &Request, verb: &str, pattern: &str, why: &str) -> ModuleResult {
    let stdout = format!("skipped, since {pattern} {why}");
    let mut result = base_result(request)
        .with("rc", 0)
        .with("stdout_lines", json!([stdout]));
    result = result.with("stdout", stdout);
    result.msg = Some(format!("{verb} not run command since '{pattern}' {why}"));
    result
}

/// Check mode: Ansible skips the task unless `creates`/`removes` let it decide.
fn would_run(request: &Request) -> ModuleResult {
    let mut result = base_result(request).with("rc", 0);
    result.msg = Some("Command would have run if not in check mode".to_string());
    if request.creates.is_none() && request.removes.is_none() {
        result.skipped = true;
    } else {
        result.changed = true;
    }
    result
}

async fn execute<T: Target>(target: &T, request: &Request) -> Result<ModuleResult, ModuleError> {
    let started_at = SystemTime::now();
    let timer = Instant::now();
    let out = target
        .exec_task_command(&request.full_line(), request.stdin.as_deref())
        .await?;
    let elapsed = timer.elapsed();
    let ended_at = SystemTime::now();
    let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
    let (stdout, stderr) = if request.strip_empty_ends {
        (
            stdout.trim_end_matches(['\r', '\n']).to_string(),
            stderr.trim_end_matches(['\r', '\n']).to_string(),
        )
    } else {
        (stdout, stderr)
    };
    let mut result = base_result(request)
        .with("stdout_lines", lines(&stdout))
        .with("stderr_lines", lines(&stderr))
        .with("stdout", stdout)
        .with("stderr", stderr)
        .with("rc", out.rc)
        .with("start", format_timestamp(started_at))
        .with("end", format_timestamp(ended_at))
        .with("delta", format_delta(elapsed));
    result.changed = true;
    if out.rc != 0 {
        result = result.failed_with("non-zero return code".to_string());
    }
    Ok(result)
}

/// What `raw` and `script` report for a command they ran: always changed,
/// failed on a non-zero rc, Ansible's output fields.
pub fn ran(out: &crate::ExecOutput) -> ModuleResult {
    let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
    let mut result = ModuleResult::changed(true)
        .with("rc", out.rc)
        .with("stdout_lines", lines(&stdout))
        .with("stdout", stdout)
        .with("stderr_lines", lines(&stderr))
        .with("stderr", stderr);
    if out.rc != 0 {
        result.failed = true;
        result.msg = Some("non-zero return code".into());
    }
    result
}

/// Python's `splitlines()` for the common line ends.
pub fn lines(text: &str) -> Value {
    Value::Array(text.lines().map(|l| Value::String(l.to_string())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> Args {
        Args::new(value.as_object().unwrap().clone())
    }

    fn request(value: Value, shell: bool) -> Request {
        Request::from_args(&args(value), shell).unwrap().unwrap()
    }

    #[test]
    fn command_words_are_quoted_one_by_one() {
        let r = request(json!({"_raw_params": "echo $HOME ';' 'a b'"}), false);
        assert_eq!(r.line.as_str(), r#"command -- echo "${HOME-\$HOME}" ';' 'a b'"#);
        assert_eq!(r.reported, json!(["echo", "$HOME", ";", "a b"]));
    }

    #[test]
    fn variables_stay_as_written_without_expand_argument_vars() {
        let r = request(json!({"argv": ["echo", "$HOME", "~"], "expand_argument_vars": false}), false);
        assert_eq!(r.line.as_str(), "command -- echo '$HOME' '~'");
        let r = request(json!({"argv": ["echo", "~/x"]}), false);
        assert_eq!(r.line.as_str(), "command -- echo ~/x");
    }

    #[test]
    fn argv_is_taken_verbatim() {
        let r = request(json!({"argv": ["printf", "%s", "x y"]}), false);
        assert_eq!(r.line.as_str(), "command -- printf %s 'x y'");
    }

    #[test]
    fn shell_script_is_one_quoted_word() {
        let r = request(
            json!({"cmd": "echo $HOME | wc -c", "chdir": "/tmp/a b"}),
            true,
        );
        assert_eq!(
            r.full_line(),
            "cd -- '/tmp/a b' && /bin/sh -c 'echo $HOME | wc -c'"
        );
        assert_eq!(r.reported, json!("echo $HOME | wc -c"));
    }

    #[test]
    fn stdin_gets_a_newline_unless_disabled() {
        assert_eq!(
            request(json!({"cmd": "cat", "stdin": "x"}), true)
                .stdin
                .unwrap(),
            b"x\n"
        );
        let r = request(
            json!({"cmd": "cat", "stdin": "x", "stdin_add_newline": false}),
            true,
        );
        assert_eq!(r.stdin.unwrap(), b"x");
    }

    #[test]
    fn missing_or_conflicting_commands_fail_like_ansible() {
        let none = Request::from_args(&args(json!({"_raw_params": "  "})), false)
            .unwrap()
            .unwrap_err();
        assert_eq!(none.msg.as_deref(), Some("no command given"));
        let both = Request::from_args(&args(json!({"cmd": "ls", "argv": ["ls"]})), false)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            both.msg.as_deref(),
            Some("only command or argv can be given, not both")
        );
    }
}
