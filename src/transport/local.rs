//! The local connection: runs commands on the controller with `/bin/sh -c`.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use stockman_modules::{ExecOutput, TargetError};
use tokio::io::AsyncWriteExt;
use tokio::process::{ChildStdin, Command};

#[derive(Debug, Default)]
pub struct LocalConnection;

impl LocalConnection {
    pub fn new() -> Self {
        LocalConnection
    }

    /// Runs `command` with `/bin/sh -c`, feeding `stdin` then EOF.
    pub async fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, TargetError> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| TargetError(format!("could not start /bin/sh on the controller: {e}")))?;
        let pipe = child.stdin.take();
        // Feed stdin while collecting output: a command may fill its output
        // pipe before it has read all its input.
        let (_, output) = tokio::join!(feed(pipe, stdin), child.wait_with_output());
        let output = output.map_err(|e| TargetError(format!("lost the local command: {e}")))?;
        let mut result = ExecOutput {
            rc: 0,
            stdout: output.stdout,
            stderr: output.stderr,
        };
        result.rc = exit_code(output.status, &mut result.stderr);
        Ok(result)
    }
}

/// Writes the data (a command that exits early makes the write fail: fine),
/// then closes the pipe so the command sees EOF.
async fn feed(pipe: Option<ChildStdin>, data: Option<&[u8]>) {
    if let (Some(mut pipe), Some(data)) = (pipe, data) {
        let _ = pipe.write_all(data).await;
    }
}

/// The exit code, or -1 with a note on stderr when a signal ended the command.
pub(super) fn exit_code(status: ExitStatus, stderr: &mut Vec<u8>) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    if let Some(signal) = status.signal() {
        if !stderr.is_empty() && !stderr.ends_with(b"\n") {
            stderr.push(b'\n');
        }
        stderr.extend_from_slice(format!("killed by signal {signal}").as_bytes());
    }
    -1
}
