//! ansible-playbook's default output, byte for byte where it matters (banners,
//! result lines, the PLAY RECAP), with colour only on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde_json::{Map, Value};

use super::palette::{self, Palette};
use super::{diff, profile, pyjson, Event, HostResult, Reporter, Stats, Status, TaskHeader, TaskKind};


/// The process's colours ([colors] in ansible.cfg).
fn colors() -> &'static Palette {
    palette::get()
}

/// What the reporter remembers of the running task.
#[derive(Default)]
struct Current {
    span: Option<crate::yaml::Span>,
    is_debug: bool,
    /// Error texts already shown (ansible-core shows each once per task).
    errors: Vec<String>,
    /// The task's banner, held back until a result is shown (display_ok_hosts or
    /// display_skipped_hosts off), as Ansible's default callback does.
    pending_banner: Option<Vec<String>>,
}

/// Where human output goes: stdout normally, stderr when stdout carries JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    Stderr,
}

impl Sink {
    fn is_terminal(self) -> bool {
        match self {
            Sink::Stdout => std::io::stdout().is_terminal(),
            Sink::Stderr => std::io::stderr().is_terminal(),
        }
    }

    pub(super) fn write_line(self, text: &str) {
        // A closed stream (e.g. piped into `head`) must not abort the run.
        let _ = match self {
            Sink::Stdout => writeln!(std::io::stdout().lock(), "{text}").and_then(|_| std::io::stdout().flush()),
            Sink::Stderr => writeln!(std::io::stderr().lock(), "{text}"),
        };
    }

    fn draw_target(self) -> ProgressDrawTarget {
        match self {
            Sink::Stdout => ProgressDrawTarget::stdout(),
            Sink::Stderr => ProgressDrawTarget::stderr(),
        }
    }
}

/// Writes human output to its sink (warnings to stderr).
pub struct Human {
    verbosity: u8,
    color: bool,
    progress: bool,
    sink: Sink,
    /// Ansible's banner width: terminal columns - 1, at least 79.
    columns: usize,
    bar: Mutex<Option<ProgressBar>>,
    /// Hosts working on the current task, for the progress bar's "slowest".
    running: Arc<Mutex<Running>>,
    /// The running task's position and the error texts already shown for it.
    current: Mutex<Current>,
    profile: Option<Mutex<profile::Clock>>,
    /// ansible.cfg's display_ok_hosts and display_skipped_hosts.
    shown: Shown,
    /// stdout_callback = yaml: results as community.general.yaml prints them.
    yaml: bool,
    /// The default callback's result_format and pretty_results.
    style: ResultStyle,
    /// display_args_to_stdout: task banners show the task's arguments.
    display_args: bool,
    /// log_path: every line shown, also logged.
    log: Option<std::sync::Arc<super::run_log::RunLog>>,
}

/// How the default callback dumps results (ansible.cfg's callback_result_format and
/// callback_format_pretty, ansible.builtin.default's result_format and pretty_results).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultStyle {
    /// result_format = yaml (else json).
    pub yaml: bool,
    /// pretty_results when set: true indents every result, false none (not even debug's).
    pub pretty: Option<bool>,
}

impl ResultStyle {
    /// The JSON indent: `indent` as verbosity and debug ask, unless pretty_results says.
    fn json_indent(self, indent: Option<usize>) -> Option<usize> {
        match self.pretty {
            Some(true) => Some(4),
            Some(false) => None,
            None => indent,
        }
    }

    /// result_format = yaml: a line break, then the result as YAML (4 spaces a
    /// level unless pretty_results is false), every line indented by 4. Pretty
    /// (the default) drops `stdout_lines`/`stderr_lines` when the text is there
    /// and tidies multi-line strings into `|` blocks, as the default callback does.
    fn yaml_dump(self, mut shown: Map<String, Value>) -> String {
        let pretty = self.pretty != Some(false);
        if pretty {
            omit_lines_beside_text(&mut shown);
        }
        let indent = if pretty { 4 } else { 2 };
        let layout = crate::template::yaml_emit::Layout { indent, all_block: true, width: 80, literal_multiline: true };
        let text = crate::template::yaml_emit::dump(&Value::Object(shown), layout);
        let body: Vec<String> = text.trim_end_matches('\n').split('\n').map(|l| if l.is_empty() { String::new() } else { format!("    {l}") }).collect();
        format!("\n{}", body.join("\n"))
    }
}

/// `stdout_lines`/`stderr_lines` shown as `<omitted>` when `stdout`/`stderr` are there.
fn omit_lines_beside_text(shown: &mut Map<String, Value>) {
    for stream in ["stdout", "stderr"] {
        let lines = format!("{stream}_lines");
        if shown.contains_key(stream) && shown.contains_key(&lines) {
            shown.insert(lines, "<omitted>".into());
        }
    }
}

/// Which results get a line (ansible.cfg's display_ok_hosts, display_skipped_hosts).
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub ok_hosts: bool,
    pub skipped_hosts: bool,
}

impl Default for Shown {
    fn default() -> Self {
        Shown { ok_hosts: true, skipped_hosts: true }
    }
}

/// When each still-running host started the current task.
#[derive(Default)]
struct Running(Vec<(String, Instant)>);

impl Running {
    /// The host that has been running longest, and for how long.
    fn slowest(&self) -> Option<(&str, Duration)> {
        self.0.iter().min_by_key(|(_, t)| *t).map(|(h, t)| (h.as_str(), t.elapsed()))
    }
}

impl Human {
    pub fn new(verbosity: u8, no_color: bool) -> Self {
        Human::to(Sink::Stdout, verbosity, no_color, false)
    }

    /// Human output on `sink`; colour and the progress bar only when it is a terminal.
    pub fn to(sink: Sink, verbosity: u8, no_color: bool, profile: bool) -> Self {
        let tty = sink.is_terminal();
        let color = tty && !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Human {
            verbosity,
            color,
            progress: tty,
            sink,
            columns: banner_columns(sink),
            bar: Mutex::new(None),
            running: Arc::default(),
            profile: profile.then(Mutex::default),
            current: Mutex::new(Current::default()),
            shown: Shown::default(),
            yaml: false,
            style: ResultStyle::default(),
            display_args: false,
            log: None,
        }
    }

    /// Also logs every line shown to `log` (ansible.cfg's log_path).
    pub fn logging_to(mut self, log: Option<std::sync::Arc<super::run_log::RunLog>>) -> Self {
        self.log = log;
        self
    }

    /// force_color: colour even when the output is not a terminal (beats nocolor, as in Ansible).
    pub fn forcing_color(mut self, force: bool) -> Self {
        self.color |= force;
        self
    }

    /// Results dumped as YAML (stdout_callback = yaml) instead of JSON.
    pub fn yaml_results(mut self, yaml: bool) -> Self {
        self.yaml = yaml;
        self
    }

    /// The default callback's result_format and pretty_results.
    pub fn result_style(mut self, style: ResultStyle) -> Self {
        self.style = style;
        self
    }

    /// display_args_to_stdout: the task's arguments in its banner.
    pub fn displaying_args(mut self, display_args: bool) -> Self {
        self.display_args = display_args;
        self
    }

    /// Hides ok or skipped results (and the banners of tasks with nothing shown).
    pub fn showing(mut self, shown: Shown) -> Self {
        self.shown = shown;
        self
    }

    /// Prints the held-back banner of the current task, if any.
    fn flush_banner(&self) {
        let pending = self.current.lock().unwrap_or_else(|e| e.into_inner()).pending_banner.take();
        for line in pending.into_iter().flatten() {
            self.out(&line);
        }
    }

    /// `text` in colour `code`, each line on its own, as Ansible's stringc colours it.
    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            palette::paint(text, code)
        } else {
            text.to_string()
        }
    }

    /// A unified diff with its `+`, `-` and `@@` lines painted, as Ansible's callbacks paint
    /// them: Ansible paints each line with its newline, so the next line starts with an
    /// empty pair of escapes in the same colour.
    fn painted_diff(&self, text: &str) -> String {
        let pal = colors();
        let mut carry = String::new();
        let mut out = Vec::new();
        for line in text.split('\n') {
            match pal.diff_line(line).filter(|_| self.color) {
                Some(code) => {
                    out.push(format!("{carry}{}", palette::paint(line, code)));
                    carry = palette::paint("", code);
                }
                None => out.push(format!("{}{line}", std::mem::take(&mut carry))),
            }
        }
        if !carry.is_empty() {
            out.push(carry);
        }
        out.join("\n")
    }

    fn out(&self, text: &str) {
        // Values decrypted from inline `!vault` strings never reach the screen.
        let text = crate::vault::redact(text);
        if let Some(log) = &self.log {
            log.line(&text);
        }
        let bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let write = || self.sink.write_line(&text);
        match bar.as_ref() {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }

    fn banner(&self, title: &str, code: Option<&str>) {
        self.out(&self.banner_line(title, code));
    }

    fn banner_line(&self, title: &str, code: Option<&str>) -> String {
        let line = banner_text(title, self.columns);
        match code {
            Some(c) => self.paint(&line, c),
            None => line,
        }
    }

    /// A warning (`label`: WARNING, DEPRECATION WARNING) on stderr, without tearing the progress bar.
    fn warn(&self, label: &str, text: &str, code: &str) {
        let line = self.paint(&format!("[{label}]: {text}"), code);
        if let Some(log) = &self.log {
            log.line(&line);
        }
        let bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let write = || Sink::Stderr.write_line(&line);
        match bar.as_ref() {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }

    fn profile_line(&self, name: &str) {
        if let Some(clock) = &self.profile {
            let line = clock.lock().unwrap_or_else(|e| e.into_inner()).start(name);
            self.out(&line);
        }
    }

    fn profile_stop(&self) {
        if let Some(clock) = &self.profile {
            clock.lock().unwrap_or_else(|e| e.into_inner()).stop();
        }
    }

    fn end_progress(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }

    fn task_start(&self, header: &TaskHeader) {
        self.end_progress();
        let name = match header.args.as_deref().filter(|_| self.display_args) {
            Some(args) => format!("{} {args}", header.name),
            None => header.name.clone(),
        };
        let title = match header.kind {
            TaskKind::Handler => format!("RUNNING HANDLER [{name}]"),
            _ => format!("TASK [{name}]"),
        };
        let mut banner = vec![self.banner_line(&title, None)];
        if self.verbosity >= 2 {
            if let Some(span) = &header.span {
                banner.push(format!("task path: {}:{}", span.file, span.line));
            }
        }
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) =
            Current { span: header.span.clone(), is_debug: header.action.as_deref() == Some("debug"), errors: Vec::new(), pending_banner: Some(banner) };
        if self.shown.ok_hosts && self.shown.skipped_hosts {
            self.flush_banner();
        }
        self.profile_line(&header.name);
        self.running.lock().unwrap_or_else(|e| e.into_inner()).0.clear();
        if self.progress && header.hosts > 1 {
            let bar = ProgressBar::with_draw_target(Some(header.hosts as u64), self.sink.draw_target());
            bar.set_style(self.bar_style());
            bar.enable_steady_tick(Duration::from_millis(120));
            *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
        }
    }

    /// `⠙ 3/10 hosts done, 00:00:04, slowest: web7 (4s)`: kept short so it never wraps.
    fn bar_style(&self) -> ProgressStyle {
        let running = Arc::clone(&self.running);
        let slowest = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let running = running.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((host, took)) = running.slowest() {
                let host: String = host.chars().take(30).collect();
                let _ = write!(w, ", slowest: {host} ({}s)", took.as_secs());
            }
        };
        ProgressStyle::with_template("{spinner} {pos}/{len} hosts done, {elapsed_precise}{slowest}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key("slowest", slowest)
    }

    fn host_start(&self, host: &str) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).0.push((host.to_string(), Instant::now()));
    }

    fn host_result(&self, r: &HostResult) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).0.retain(|(h, _)| *h != r.host);
        let hidden = match r.status {
            Status::Ok => !self.shown.ok_hosts,
            Status::Skipped => !self.shown.skipped_hosts,
            _ => false,
        };
        if hidden {
            if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                bar.inc(1);
            }
            return;
        }
        self.flush_banner();
        for diff in r.diff.iter().filter(|_| !r.no_log) {
            if let Some(text) = diff::unified(diff) {
                self.out(&self.painted_diff(&text));
            }
        }
        let is_debug = self.current.lock().unwrap_or_else(|e| e.into_inner()).is_debug;
        // A censored result loses debug's always-verbose flag, as in Ansible.
        let verbose_always = r.verbose_always && !r.no_log;
        let indent = (verbose_always || self.verbosity > 2).then_some(4);
        // Made only when printed: a loop's summary holds every item's result.
        let dump = || {
            let shown = displayed_result(&r.visible(), is_debug && !r.no_log);
            if self.yaml {
                yaml_result(shown, r.no_log)
            } else if self.style.yaml {
                self.style.yaml_dump(shown)
            } else {
                pyjson::dumps(&Value::Object(shown), self.style.json_indent(indent))
            }
        };
        let verbose = self.verbosity > 0 || verbose_always;
        if matches!(r.status, Status::Failed | Status::Unreachable) && (!r.loop_summary || r.status == Status::Unreachable) && !r.bare_failure {
            self.error_block(r);
        }
        // A looped task's items were shown one by one; Ansible prints no summary
        // line, but for a loop whose every item was skipped.
        if !r.loop_summary || matches!(r.status, Status::Unreachable | Status::Skipped) {
            self.out(&self.result_line(r, verbose, &dump));
        }
        // A loop's failed items are ignored once, after its last item.
        if r.ignored && r.item.is_none() {
            self.out(&self.paint("...ignoring", &colors().skip));
        }
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            bar.inc(1);
        }
    }

    /// ansible-core 2.19's `[ERROR]: Task failed: ...` with the task's origin
    /// and source lines, once per distinct message within a task.
    fn error_block(&self, r: &HostResult) {
        let text = error_text(r);
        let span = {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            if current.errors.contains(&text) {
                return;
            }
            current.errors.push(text.clone());
            current.span.clone()
        };
        // Ansible paints the whole block, its origin lines too.
        let origin = span.map(|span| origin_block(&span)).unwrap_or_default();
        self.out(&self.paint(&format!("[ERROR]: {text}{origin}"), &colors().error));
    }

    /// `ok: [h]`, `changed: [h] => (item=x)`, `failed: [h] (item=x) => {...}`, `fatal: [h]: FAILED! => {...}`.
    fn result_line(&self, r: &HostResult, verbose: bool, dump: &dyn Fn() -> String) -> String {
        let item = r.shown_item().map(|label| format!("(item={label})"));
        match r.status {
            Status::Ok | Status::Changed | Status::Skipped => {
                let (word, code) = match r.status {
                    Status::Ok => ("ok", &colors().ok),
                    Status::Changed => ("changed", &colors().changed),
                    _ => ("skipping", &colors().skip),
                };
                let mut line = format!("{word}: [{}]", host_label(r));
                if let Some(item) = &item {
                    line.push_str(&format!(" => {item}"));
                    if r.status == Status::Skipped {
                        line.push(' ');
                    }
                }
                if verbose {
                    line.push_str(&format!(" => {}", dump()));
                }
                self.paint(&line, code)
            }
            Status::Failed => match &item {
                Some(item) => self.paint(&format!("failed: [{}] {item} => {}", host_label(r), dump()), &colors().error),
                None => self.paint(&format!("fatal: [{}]: FAILED! => {}", host_label(r), dump()), &colors().error),
            },
            Status::Unreachable => self.paint(&format!("fatal: [{}]: UNREACHABLE! => {}", host_label(r), dump()), &colors().unreachable),
        }
    }

    fn recap(&self, stats: &Stats) {
        self.end_progress();
        self.banner("PLAY RECAP", None);
        let pal = colors();
        for (host, s) in &stats.hosts {
            let host_text = if self.color {
                let code = if s.failed > 0 || s.unreachable > 0 {
                    &pal.error
                } else if s.changed > 0 {
                    &pal.changed
                } else {
                    &pal.ok
                };
                format!("{:<37}", self.paint(host, code))
            } else {
                format!("{host:<26}")
            };
            let counter = |name: &str, n: u32, code: &str| {
                let text = format!("{name}={n:<4}");
                if n != 0 { self.paint(&text, code) } else { text }
            };
            self.out(&format!(
                "{host_text} : {} {} {} {} {} {} {}",
                counter("ok", s.ok, &pal.ok),
                counter("changed", s.changed, &pal.changed),
                counter("unreachable", s.unreachable, &pal.unreachable),
                counter("failed", s.failed, &pal.error),
                counter("skipped", s.skipped, &pal.skip),
                counter("rescued", s.rescued, &pal.ok),
                counter("ignored", s.ignored, &pal.warn),
            ));
        }
        self.out("");
        if let Some(clock) = &self.profile {
            let summary = clock.lock().unwrap_or_else(|e| e.into_inner()).summary(self.columns);
            self.out(&summary);
        }
    }
}

impl Reporter for Human {
    fn event(&self, event: &Event) {
        match event {
            Event::PlaybookStart { path } => {
                // From -vv, as Ansible's default callback.
                if self.verbosity >= 2 {
                    self.out(&format!("\nPLAYBOOK: {path} {}", "*".repeat(self.columns.saturating_sub(10 + path.len()).max(3))));
                }
            }
            Event::PlayStart { name, .. } => {
                self.end_progress();
                self.profile_stop();
                self.banner(&format!("PLAY [{name}]"), None);
            }
            Event::NoHostsMatched => self.out(&self.paint("skipping: no hosts matched", &colors().skip)),
            Event::TaskStart(header) => self.task_start(header),
            Event::HostResult(r) => self.host_result(r),
            Event::HostStart { host } => self.host_start(host),
            Event::Detail { host, level, text } => {
                if self.verbosity >= *level {
                    self.out(&self.paint(&format!("<{host}> {text}"), &colors().verbose));
                }
            }
            Event::Included { file, hosts, item } => {
                self.flush_banner();
                let item = item.as_ref().map(|i| format!(" => (item={i})")).unwrap_or_default();
                self.out(&self.paint(&format!("included: {file} for {}{item}", hosts.join(", ")), &colors().included));
            }
            Event::NoMoreHosts => {
                self.end_progress();
                self.profile_stop();
                self.banner("NO MORE HOSTS LEFT", Some(&colors().error));
            }
            Event::Warning(text) => self.warn("WARNING", text, &colors().warn),
            Event::PlayError { message, span } => {
                self.end_progress();
                self.warn("ERROR", &format!("{message}{}", origin_block(span)), &colors().error);
            }
            Event::Deprecation(text) => self.warn("DEPRECATION WARNING", text, &colors().deprecate),
            Event::Display(text) => {
                self.end_progress();
                self.out(text);
            }
            Event::Banner(text) => {
                self.end_progress();
                self.banner(text, None);
            }
            Event::Recap(stats) => self.recap(stats),
            Event::Retry { host, task, retries_left } => {
                self.out(&self.paint(&format!("FAILED - RETRYING: [{host}]: {task} ({retries_left} retries left)."), &colors().debug));
            }
            Event::Exit { .. } | Event::Shard(_) => {}
        }
    }
}

/// The text of ansible-core 2.19's `[ERROR]: ...` line for a failed or unreachable result.
pub(super) fn error_text(r: &HostResult) -> String {
    let shown = r.visible();
    let msg = shown.get("msg").map(stockman_modules::args::value_to_string).unwrap_or_default();
    match (r.status, r.module_failed) {
        // The connection error may carry secrets (a URL's password): said to be hidden, as Ansible does.
        (Status::Unreachable, _) if r.no_log => "Task failed: <error censored due to no log>".to_string(),
        (Status::Unreachable, _) => msg,
        // Already Ansible's whole message (a refused become, a module's
        // exception such as ping's `data: crash`).
        _ if msg.starts_with("Task failed: ") => msg,
        _ if r.raised => format!("Task failed: {msg}"),
        (_, true) => format!("Task failed: Module failed{}", if msg.is_empty() { ".".into() } else { format!(": {msg}") }),
        (_, false) => format!("Task failed: Action failed{}", if msg.is_empty() { ".".into() } else { format!(": {msg}") }),
    }
}

/// What the screen shows of a result: no `failed` flag, no diff; debug
/// (and assert) keep only their message, as Ansible's callback does.
pub(super) fn displayed_result(result: &Map<String, Value>, debug: bool) -> Map<String, Value> {
    if debug && result.contains_key("msg") {
        let keep = ["msg", "exception", "warnings", "deprecations"];
        return result.iter().filter(|(k, _)| keep.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    let hidden: &[&str] = if debug {
        &["changed", "failed", "skipped", "invocation", "skip_reason", "diff", "ansible_loop_var", "ansible_index_var", "ansible_loop"]
    } else {
        // `failed` and `skipped` are said by the line itself, as Ansible's callback drops them.
        &["failed", "skipped", "diff", "invocation", "exception"]
    };
    result.iter().filter(|(k, _)| !hidden.contains(&k.as_str()) && !k.starts_with("_ansible")).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A result as the yaml callback (community.general.yaml) dumps it: `changed=`
/// and `skipped=` on the first line, the rest as YAML indented by two spaces.
fn yaml_result(mut shown: Map<String, Value>, no_log: bool) -> String {
    if no_log {
        return r#"{"censored": "The output has been hidden due to the fact that 'no_log: true' was specified for this result"}"#.into();
    }
    let mut dumped = String::new();
    for key in ["changed", "skipped"] {
        if let Some(v) = shown.remove(key) {
            dumped.push_str(&format!("{key}={} ", pyjson::dumps(&v, None).to_lowercase()));
        }
    }
    omit_lines_beside_text(&mut shown);
    if !shown.is_empty() {
        dumped.push('\n');
        dumped.push_str(&crate::template::yaml_emit::dump(&Value::Object(shown), crate::template::yaml_emit::Layout::CALLBACK));
    }
    dumped.split('\n').collect::<Vec<_>>().join("\n  ").trim_end().to_string()
}

/// `host`, or `host -> delegate` for a delegated task, as Ansible labels it.
fn host_label(r: &HostResult) -> String {
    match &r.delegated_to {
        Some(d) if *d != r.host => format!("{} -> {d}", r.host),
        _ => r.host.clone(),
    }
}

/// What follows `[ERROR]: ...`: `Origin: FILE:LINE:COL` and the source excerpt.
pub(super) fn origin_block(span: &crate::yaml::Span) -> String {
    let mut block = format!("\nOrigin: {span}\n");
    if let Some(excerpt) = source_excerpt(span) {
        block.push_str(&format!("\n{excerpt}\n"));
    }
    block
}

/// Two lines before the task, its first line, and a caret at its column;
/// line numbers right-aligned, as Ansible prints them.
fn source_excerpt(span: &crate::yaml::Span) -> Option<String> {
    let text = std::fs::read_to_string(&*span.file).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let last = span.line.min(lines.len());
    let first = last.saturating_sub(2).max(1);
    let width = last.to_string().len();
    let start = super::error::window_start(span.col);
    let mut out = String::new();
    for n in first..=last {
        out.push_str(&format!("{n:>width$} {}\n", super::error::window(lines[n - 1], start)));
    }
    let caret = super::error::caret_offset(lines.get(last.wrapping_sub(1)).copied().unwrap_or_default(), start, span.col) + 1;
    out.push_str(&format!("{}^ column {}", " ".repeat(width + caret), span.col));
    Some(out)
}

/// Ansible's banner width on `sink`: terminal columns - 1, at least 79.
pub(super) fn banner_columns(sink: Sink) -> usize {
    let width = if sink.is_terminal() { terminal_width().unwrap_or(80) } else { 0 };
    width.saturating_sub(1).max(79)
}

/// `\nTITLE ****` to `columns`.
pub(super) fn banner_text(title: &str, columns: usize) -> String {
    // Control characters (a line break in a banner's task arguments) take no width, as in Ansible's get_text_width.
    let width = title.chars().filter(|c| !c.is_control()).count();
    let stars = "*".repeat(columns.saturating_sub(width).max(3));
    format!("\n{title} {stars}")
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}
