//! The ad-hoc command's output (`stockman adhoc`, `ansible`): one block or
//! line per host as ansible-core 2.19's `minimal` callback prints it, or its
//! `oneline` callback with `-o`, and `-t TREE`'s one JSON file per host.
//! Playbooks with `stdout_callback = minimal` or `oneline` print through it too
//! ([`AdhocOptions::playbook`]): no banners, no recap, one block per host and task.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::human::{displayed_result, error_text, origin_block};
use super::palette;
use super::{diff, pyjson, Event, HostResult, Reporter, Status, TaskHeader};

/// How the ad-hoc run looks.
#[derive(Debug, Clone)]
pub struct AdhocOptions {
    /// The module as typed (`shell`, `ansible.builtin.command`).
    pub module: String,
    /// `Origin:`'s second part: the task as Ansible prints it (Python repr).
    pub task_repr: String,
    pub one_line: bool,
    pub tree: Option<PathBuf>,
    pub no_color: bool,
    /// `-vvv` shows connections, `-vv` commands, as in playbook runs.
    pub verbosity: u8,
    /// A playbook's tasks (stdout_callback = minimal/oneline): the module, and
    /// `Origin:`, change with each task.
    pub in_playbook: bool,
}

impl AdhocOptions {
    /// ansible-playbook's `minimal` (or, `one_line`, `oneline`) stdout callback.
    pub fn playbook(one_line: bool, no_color: bool, verbosity: u8) -> AdhocOptions {
        AdhocOptions { module: String::new(), task_repr: String::new(), one_line, tree: None, no_color, verbosity, in_playbook: true }
    }
}

/// The task whose results are being printed.
#[derive(Default)]
struct TaskNow {
    /// command/shell/raw print their output as text (`rc=0 >>`), not JSON.
    text_output: bool,
    /// debug's results keep only their message (minimal cleans them, as the default callback).
    is_debug: bool,
    span: Option<crate::yaml::Span>,
}

pub struct Adhoc {
    options: AdhocOptions,
    task: Mutex<TaskNow>,
    color: bool,
    /// `[ERROR]` texts already shown (ansible-core shows each once per task).
    errors: Mutex<Vec<String>>,
    /// log_path (the minimal and oneline callbacks in a playbook run): every line shown, also logged.
    log: Option<std::sync::Arc<super::run_log::RunLog>>,
}

impl Adhoc {
    pub fn new(options: AdhocOptions) -> Self {
        let text_output = prints_text(&options.module);
        let color = std::io::stdout().is_terminal() && !options.no_color && std::env::var_os("NO_COLOR").is_none();
        Adhoc { options, task: Mutex::new(TaskNow { text_output, ..TaskNow::default() }), color, errors: Mutex::default(), log: None }
    }

    /// force_color: colour even when the output is not a terminal (beats nocolor, as in Ansible).
    pub fn forcing_color(mut self, force: bool) -> Self {
        self.color |= force;
        self
    }

    /// Also logs every line shown to `log` (ansible.cfg's log_path).
    pub fn logging_to(mut self, log: Option<std::sync::Arc<super::run_log::RunLog>>) -> Self {
        self.log = log;
        self
    }

    fn task_start(&self, header: &TaskHeader) {
        let action = header.action.as_deref().unwrap_or("setup");
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = TaskNow { text_output: prints_text(action), is_debug: action == "debug", span: header.span.clone() };
        self.errors.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color { palette::paint(text, code) } else { text.to_string() }
    }

    fn out(&self, text: &str) {
        let text = crate::vault::redact(text);
        if let Some(log) = &self.log {
            log.line(&text);
        }
        let _ = writeln!(std::io::stdout().lock(), "{text}").and_then(|_| std::io::stdout().flush());
    }

    fn host_result(&self, r: &HostResult) {
        let pal = palette::get();
        if let Some(dir) = &self.options.tree {
            self.write_tree(dir, r);
        }
        // The callbacks print a loop's summary, not its items.
        if self.options.in_playbook && r.item.is_some() {
            return;
        }
        if self.options.one_line {
            self.one_line(r);
            return;
        }
        // As the minimal callback: one block for all the result's diffs, an
        // empty line when they show no difference.
        if !r.diff.is_empty() && !r.no_log {
            let texts: Vec<String> = r.diff.iter().filter_map(diff::unified).map(|t| format!("{t}\n")).collect();
            self.out(&texts.concat());
        }
        if matches!(r.status, Status::Failed | Status::Unreachable) {
            self.error_block(r);
        }
        let (text_output, is_debug) = self.text_and_debug();
        let shown = shown(r, is_debug);
        let host = &r.host;
        let line = match r.status {
            Status::Ok | Status::Changed => {
                let (state, code) = if r.status == Status::Changed { ("CHANGED", &pal.changed) } else { ("SUCCESS", &pal.ok) };
                if text_output && !shown.contains_key("ansible_job_id") {
                    self.paint(&command_text(host, &shown, state), code)
                } else {
                    self.paint(&format!("{host} | {state} => {}", dump(&shown, Some(4))), code)
                }
            }
            Status::Failed if text_output && !shown.contains_key("module_stderr") => self.paint(&command_text(host, &shown, "FAILED"), &pal.error),
            Status::Failed => self.paint(&format!("{host} | FAILED! => {}", dump(&shown, Some(4))), &pal.error),
            Status::Skipped => self.paint(&format!("{host} | SKIPPED"), &pal.skip),
            Status::Unreachable => self.paint(&format!("{host} | UNREACHABLE! => {}", dump(&shown, Some(4))), &pal.unreachable),
        };
        self.out(&line);
    }

    fn text_and_debug(&self) -> (bool, bool) {
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        (task.text_output, task.is_debug)
    }

    /// `-o`: the oneline callback's forms (no diffs, no error blocks).
    fn one_line(&self, r: &HostResult) {
        let pal = palette::get();
        let text_output = self.text_and_debug().0;
        let shown = shown(r, false);
        let host = &r.host;
        // Results always shown (debug's) are dumped indented, then joined into one line.
        let indent = if r.verbose_always && !r.no_log { 4 } else { 0 };
        let compact = || dump(&shown, Some(indent)).replace('\n', "");
        match r.status {
            Status::Ok | Status::Changed => {
                let (state, code) = if r.status == Status::Changed { ("CHANGED", &pal.changed) } else { ("SUCCESS", &pal.ok) };
                if text_output && !shown.contains_key("ansible_job_id") {
                    self.out(&self.paint(&command_line(host, &shown, state), code));
                } else {
                    self.out(&self.paint(&format!("{host} | {state} => {}", compact()), code));
                }
            }
            Status::Failed => {
                // ansible-core 2.19 attaches an (unavailable) traceback to every module failure.
                if r.module_failed {
                    let first = if text_output && !shown.contains_key("module_stderr") {
                        command_line(host, &shown, "FAILED")
                    } else {
                        "An exception occurred during task execution. To see the full traceback, use -vvv. The error was: (traceback unavailable)".into()
                    };
                    self.out(&self.paint(&first, &pal.error));
                }
                self.out(&self.paint(&format!("{host} | FAILED! => {}", compact()), &pal.error));
            }
            Status::Skipped => self.out(&self.paint(&format!("{host} | SKIPPED"), &pal.skip)),
            Status::Unreachable => {
                let msg = shown.get("msg").map(stockman_modules::args::value_to_string).unwrap_or_default();
                self.out(&self.paint(&format!("{host} | UNREACHABLE!: {msg}"), &pal.unreachable));
            }
        }
    }

    /// `[ERROR]: Task failed: ...` with the ad-hoc task as its origin, once per distinct text.
    fn error_block(&self, r: &HostResult) {
        let pal = palette::get();
        let text = error_text(r);
        {
            let mut seen = self.errors.lock().unwrap_or_else(|e| e.into_inner());
            if seen.contains(&text) {
                return;
            }
            seen.push(text.clone());
        }
        // Ansible paints the whole block, its origin lines too.
        let origin = if self.options.in_playbook {
            let span = self.task.lock().unwrap_or_else(|e| e.into_inner()).span.clone();
            span.map(|s| origin_block(&s)).unwrap_or_default()
        } else {
            format!("\nOrigin: <adhoc {} task>\n\n{}\n", crate::template::py::str_repr(&self.options.module), self.options.task_repr)
        };
        self.out(&self.paint(&format!("[ERROR]: {text}{origin}"), &pal.error));
    }

    /// `-t TREE`: the host's result as compact JSON in TREE/HOST, as the tree callback writes it.
    fn write_tree(&self, dir: &std::path::Path, r: &HostResult) {
        if r.status == Status::Skipped {
            return;
        }
        let text = crate::vault::redact(&dump(&shown(r, false), None)).into_owned();
        let written = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(dir.join(&r.host), text));
        if let Err(e) = written {
            self.warn(&format!("Unable to write to {}'s file: {e}", r.host));
        }
    }

    fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", self.paint(&format!("[WARNING]: {text}"), &palette::get().warn));
    }
}

impl Reporter for Adhoc {
    fn event(&self, event: &Event) {
        match event {
            Event::HostResult(r) => self.host_result(r),
            Event::TaskStart(header) if self.options.in_playbook => self.task_start(header),
            Event::Warning(text) => self.warn(text),
            // The minimal and oneline callbacks have no async hooks: no `ASYNC OK/POLL` lines.
            Event::Display(text) if text.starts_with("ASYNC ") => {}
            Event::Display(text) => self.out(text),
            Event::Detail { host, level, text } if self.options.verbosity >= *level => self.out(&format!("<{host}> {text}")),
            _ => {}
        }
    }
}

/// Modules whose results print as text (`rc=0 >>`): the builtin command, shell and raw.
fn prints_text(module: &str) -> bool {
    let short = module.rsplit('.').next().unwrap_or_default();
    let builtin = !module.contains('.') || module.starts_with("ansible.builtin.") || module.starts_with("ansible.legacy.");
    builtin && ["command", "shell", "raw"].contains(&short)
}

/// What the callbacks show of a result (no `failed`, `diff`, `invocation`, warnings).
fn shown(r: &HostResult, is_debug: bool) -> Map<String, Value> {
    let mut shown = displayed_result(&r.visible(), is_debug && !r.no_log);
    shown.remove("warnings");
    shown.remove("deprecations");
    shown
}

fn dump(result: &Map<String, Value>, indent: Option<usize>) -> String {
    pyjson::dumps(&Value::Object(result.clone()), indent)
}

fn field<'a>(result: &'a Map<String, Value>, key: &str) -> std::borrow::Cow<'a, str> {
    match result.get(key) {
        Some(Value::String(s)) => std::borrow::Cow::Borrowed(s),
        Some(Value::Null) | None => std::borrow::Cow::Borrowed(""),
        Some(other) => std::borrow::Cow::Owned(stockman_modules::args::value_to_string(other)),
    }
}

fn rc(result: &Map<String, Value>) -> String {
    result.get("rc").map(|v| v.to_string()).unwrap_or_else(|| "-1".into())
}

/// minimal's `host | STATE | rc=N >>` then stdout, stderr and msg run together.
fn command_text(host: &str, result: &Map<String, Value>, state: &str) -> String {
    format!("{host} | {state} | rc={} >>\n{}{}{}", rc(result), field(result, "stdout"), field(result, "stderr"), field(result, "msg"))
}

/// oneline's `host | STATE | rc=N | (stdout) ...`, newlines escaped.
fn command_line(host: &str, result: &Map<String, Value>, state: &str) -> String {
    let escape = |s: &str| s.replace('\n', "\\n").replace('\r', "\\r");
    let stdout = escape(&field(result, "stdout"));
    let stderr = field(result, "stderr");
    if stderr.is_empty() {
        format!("{host} | {state} | rc={} | (stdout) {stdout}", rc(result))
    } else {
        format!("{host} | {state} | rc={} | (stdout) {stdout} (stderr) {}", rc(result), escape(&stderr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn command_results_print_as_the_minimal_and_oneline_callbacks_do() {
        let r = map(json!({"rc": 0, "stdout": "a\nb", "stderr": "e"}));
        assert_eq!(command_text("h", &r, "CHANGED"), "h | CHANGED | rc=0 >>\na\nbe");
        assert_eq!(command_line("h", &r, "CHANGED"), "h | CHANGED | rc=0 | (stdout) a\\nb (stderr) e");
        assert_eq!(command_line("h", &map(json!({"rc": 1, "stdout": ""})), "FAILED"), "h | FAILED | rc=1 | (stdout) ");
    }

    #[test]
    fn one_line_json_has_no_space_after_commas() {
        let r = map(json!({"changed": false, "ping": "pong", "l": ["a", "b"], "e": []}));
        assert_eq!(dump(&r, Some(0)).replace('\n', ""), r#"{"changed": false,"e": [],"l": ["a","b"],"ping": "pong"}"#);
    }
}
