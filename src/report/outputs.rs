//! The reporters a run writes to, chosen by the output flags, and the exit
//! code policy of `--detailed-exitcode`.

use std::path::PathBuf;
use std::sync::Mutex;

use super::adhoc::{Adhoc, AdhocOptions};
use super::history::History;
use super::human::{Human, Sink};
use super::run_log::RunLog;
use super::timer::Timer;
use super::json::Json;
use super::json_callback::JsonCallback;
use super::junit::Junit;
use super::{Event, Reporter, Stats};

/// What stdout carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// ansible-playbook's layout on stdout.
    #[default]
    Human,
    /// JSON lines on stdout; the human layout moves to stderr.
    Json,
}

/// ansible.cfg's stdout_callback: the layout of the human output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StdoutCallback {
    #[default]
    Default,
    /// The default layout with results as YAML (community.general.yaml).
    Yaml,
    /// One block per host and task, no banners or recap.
    Minimal,
    /// One line per host and task.
    Oneline,
    /// One JSON document of every play, task and host result at the end (ansible.posix.json).
    Json,
}

/// Validated output settings (from flags and environment).
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    pub format: Format,
    pub junit: Option<PathBuf>,
    /// With `--check`: 0 no drift, 2 drift, 1 a host failed, 4 one was unreachable.
    pub detailed_exitcode: bool,
    pub profile: bool,
    pub verbosity: u8,
    pub no_color: bool,
    pub check: bool,
    /// ansible.cfg's display_ok_hosts / display_skipped_hosts.
    pub shown: crate::report::human::Shown,
    pub stdout_callback: StdoutCallback,
    /// `[callback_json] json_indent` (None: one line).
    pub json_indent: Option<usize>,
    /// callbacks_enabled = timer.
    pub timer: bool,
    /// force_color: colour even off a terminal.
    pub force_color: bool,
    /// log_path: the human output's lines also appended there.
    pub log_path: Option<PathBuf>,
    /// callback_result_format / callback_format_pretty (the default callback's).
    pub result_style: crate::report::human::ResultStyle,
    /// display_args_to_stdout.
    pub display_args: bool,
    /// Where the run is recorded (None: `--no-history`, or a command that keeps none).
    pub history: Option<super::history::Options>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write the JUnit report `{path}`: {source}")]
    Junit {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Sends every event to the human reporter and to the JSON and JUnit ones when asked for.
pub struct Outputs {
    /// What people read: the default layout, or the minimal/oneline callbacks'.
    screen: Box<dyn Reporter>,
    timer: Option<Timer>,
    json: Option<Json>,
    junit: Option<(PathBuf, Junit)>,
    history: Option<History>,
    detailed_exitcode: bool,
    stats: Mutex<Stats>,
}

impl Outputs {
    /// Fails before the run when the JUnit file cannot be created, so a long run is not wasted.
    pub fn new(options: &OutputOptions) -> Result<Self, OutputError> {
        let junit = match &options.junit {
            Some(path) => {
                std::fs::write(path, "").map_err(|source| OutputError::Junit { path: path.clone(), source })?;
                Some((path.clone(), Junit::default()))
            }
            None => None,
        };
        let sink = if options.format == Format::Json { Sink::Stderr } else { Sink::Stdout };
        Ok(Outputs {
            screen: screen(options, sink),
            timer: options.timer.then(|| Timer::start(sink)),
            json: (options.format == Format::Json).then(|| Json::stdout(options.check)),
            junit,
            history: options.history.clone().map(History::start),
            detailed_exitcode: options.detailed_exitcode,
            stats: Mutex::default(),
        })
    }

    /// Writes the JUnit file, reports the final exit code and returns it.
    pub fn finish(&self, run_code: i32) -> i32 {
        let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut code = exit_code(&stats, run_code, self.detailed_exitcode);
        if let Some((path, junit)) = &self.junit {
            if let Err(source) = std::fs::write(path, junit.xml()) {
                let e = OutputError::Junit { path: path.clone(), source };
                super::error::fatal(&e.to_string(), 1);
                code = if code == 0 { 1 } else { code };
            }
        }
        self.event(&Event::Exit { code });
        // The run's outcome stands; a history that could not be written is said, not failed on.
        if let Some(Err(message)) = self.history.as_ref().map(History::finish) {
            super::error::warning(&message);
        }
        code
    }
}

impl Reporter for Outputs {
    fn event(&self, event: &Event) {
        if let Event::Recap(stats) = event {
            *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = stats.clone();
        }
        self.screen.event(event);
        if let Some(timer) = &self.timer {
            timer.event(event);
        }
        if let Some(json) = &self.json {
            json.event(event);
        }
        if let Some((_, junit)) = &self.junit {
            junit.event(event);
        }
        if let Some(history) = &self.history {
            history.event(event);
        }
    }
}

/// The human output in the layout stdout_callback asks for (JSON on stdout keeps the default on stderr).
fn screen(options: &OutputOptions, sink: Sink) -> Box<dyn Reporter> {
    let one_line = match options.stdout_callback {
        StdoutCallback::Json if sink == Sink::Stdout => return Box::new(JsonCallback::new(options.json_indent)),
        StdoutCallback::Minimal if sink == Sink::Stdout => false,
        StdoutCallback::Oneline if sink == Sink::Stdout => true,
        _ => {
            let human = Human::to(sink, options.verbosity, options.no_color, options.profile).showing(options.shown).logging_to(run_log(options));
            return Box::new(human.forcing_color(options.force_color).yaml_results(options.stdout_callback == StdoutCallback::Yaml).result_style(options.result_style).displaying_args(options.display_args));
        }
    };
    Box::new(Adhoc::new(AdhocOptions::playbook(one_line, options.no_color, options.verbosity)).forcing_color(options.force_color).logging_to(run_log(options)))
}

/// log_path's file; one that cannot be opened is warned about and the run goes on, as in Ansible.
fn run_log(options: &OutputOptions) -> Option<std::sync::Arc<RunLog>> {
    let path = options.log_path.as_ref()?;
    match RunLog::open(path) {
        Ok(log) => Some(std::sync::Arc::new(log)),
        Err(e) => {
            super::error::warning(&format!("log_path {}: cannot write the run log ({e}); the run is not logged", path.display()));
            None
        }
    }
}

/// The process exit code. Without `--detailed-exitcode`, ansible-playbook's
/// (4 unreachable, 2 failed, 0 ok). With it (always under `--check`), 2 means
/// drift only, so a failed host becomes 1; unreachable stays 4; a failure
/// wins over drift, since the drift picture is then incomplete.
pub fn exit_code(stats: &Stats, run_code: i32, detailed: bool) -> i32 {
    if !detailed {
        return run_code;
    }
    match run_code {
        0 if stats.hosts.values().any(|s| s.changed > 0) => 2,
        2 => 1,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::HostStats;

    fn stats(changed: u32, failed: u32, unreachable: u32) -> Stats {
        let mut s = Stats::default();
        s.hosts.insert("h".into(), HostStats { ok: 1, changed, failed, unreachable, ..HostStats::default() });
        s
    }

    #[test]
    fn detailed_exit_codes_never_confuse_drift_with_failure() {
        for (changed, failed, unreachable, plain, detailed) in [(0, 0, 0, 0, 0), (1, 0, 0, 0, 2), (1, 1, 0, 2, 1), (0, 1, 0, 2, 1), (1, 0, 1, 4, 4)] {
            let s = stats(changed, failed, unreachable);
            assert_eq!(exit_code(&s, s.exit_code(), false), plain);
            assert_eq!(exit_code(&s, s.exit_code(), true), detailed, "changed={changed} failed={failed} unreachable={unreachable}");
        }
    }
}
