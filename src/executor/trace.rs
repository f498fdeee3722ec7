//! -vv/-vvvv detail: every command a module runs, and what came back.

use stockman_modules::{ExecOutput, Target, TargetError};

use crate::report::{Event, Reporter};

/// A target that reports each command before running it (never for `no_log` tasks).
pub(super) struct Traced<'a, T> {
    pub inner: &'a T,
    pub host: &'a str,
    pub reporter: &'a dyn Reporter,
    pub enabled: bool,
}

impl<T: Target> Target for Traced<'_, T> {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        if !self.enabled {
            return self.inner.exec(command, stdin).await;
        }
        let stdin_note = stdin.map(|s| format!(" (stdin: {} bytes)", s.len())).unwrap_or_default();
        self.detail(2, format!("EXEC {command}{stdin_note}"));
        let out = self.inner.exec(command, stdin).await;
        match &out {
            Ok(o) => self.detail(4, format!("rc={} stdout={} bytes stderr={} bytes", o.rc, o.stdout.len(), o.stderr.len())),
            Err(e) => self.detail(4, format!("failed: {e}")),
        }
        out
    }

    async fn exec_file_stdin(&self, command: &str, source: &std::path::Path) -> Result<Option<ExecOutput>, TargetError> {
        if self.enabled {
            self.detail(2, format!("EXEC {command} (stdin: {})", source.display()));
        }
        self.inner.exec_file_stdin(command, source).await
    }
}

impl<T> Traced<'_, T> {
    fn detail(&self, level: u8, text: String) {
        self.reporter.event(&Event::Detail { host: self.host.to_string(), level, text });
    }
}
