//! The reporters a run writes to, chosen by the output flags, and the exit
//! code policy of `--detailed-exitcode`.

use std::path::PathBuf;
use std::sync::Mutex;

use super::human::{Human, Sink};
use super::json::Json;
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
    human: Human,
    json: Option<Json>,
    junit: Option<(PathBuf, Junit)>,
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
            human: Human::to(sink, options.verbosity, options.no_color, options.profile).showing(options.shown),
            json: (options.format == Format::Json).then(|| Json::stdout(options.check)),
            junit,
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
        code
    }
}

impl Reporter for Outputs {
    fn event(&self, event: &Event) {
        if let Event::Recap(stats) = event {
            *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = stats.clone();
        }
        self.human.event(event);
        if let Some(json) = &self.json {
            json.event(event);
        }
        if let Some((_, junit)) = &self.junit {
            junit.event(event);
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
