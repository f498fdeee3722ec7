//! The local connection: runs commands on the controller with `/bin/sh -c`.
//!
//! become with a password uses the same protocol as over ssh (see
//! `become`): sudo -S with a random prompt on stderr, the password written to
//! its stdin only when that prompt appears, the command's stdin only after
//! the success marker ([`LocalConnection::run_gated`]).

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use stockman_modules::{ExecOutput, TargetError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};

use super::exec_channel::{Gate, GateStep};

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
        let mut child = spawn(command)?;
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

impl LocalConnection {
    /// Runs `command` holding `stdin` back until `gate` opens on its stderr
    /// (answering prompts meanwhile); the gate phase is bounded by
    /// `gate_timeout`. Ok(Err) is the gate's refusal.
    pub(crate) async fn run_gated(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        gate: &mut dyn Gate,
        gate_timeout: std::time::Duration,
    ) -> Result<Result<ExecOutput, String>, TargetError> {
        let mut child = spawn(command)?;
        let (Some(mut input), Some(mut stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(TargetError("the local command's pipes were not set up".into()));
        };
        let gated = tokio::time::timeout(gate_timeout, pass_gate(&mut child, &mut input, &mut stderr, gate)).await;
        let early_stderr = match gated {
            Err(_) => {
                return Ok(Err(format!(
                    "Timeout ({}s) waiting for privilege escalation prompt",
                    gate_timeout.as_secs()
                )))
            }
            Ok(Err(message)) => return Ok(Err(message)),
            Ok(Ok(rest)) => rest,
        };
        let (_, out, err) = tokio::join!(feed(Some(input), stdin), read_all(&mut stdout), read_all(&mut stderr));
        let status = child.wait().await.map_err(|e| TargetError(format!("lost the local command: {e}")))?;
        let mut result = ExecOutput { rc: 0, stdout: out, stderr: early_stderr };
        result.stderr.extend_from_slice(&err);
        result.rc = exit_code(status, &mut result.stderr);
        Ok(Ok(result))
    }
}

fn spawn(command: &str) -> Result<Child, TargetError> {
    Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| TargetError(format!("could not start /bin/sh on the controller: {e}")))
}

/// Reads stderr until the gate opens: Ok(stderr after the marker), or Err(why).
async fn pass_gate(
    child: &mut Child,
    input: &mut ChildStdin,
    stderr: &mut (impl AsyncRead + Unpin),
    gate: &mut dyn Gate,
) -> Result<Vec<u8>, String> {
    let mut early = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stderr.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            let rc = child.wait().await.ok().and_then(|s| s.code()).and_then(|c| u32::try_from(c).ok());
            return Err(gate.closed(&early, rc));
        }
        early.extend_from_slice(&chunk[..n]);
        match gate.step(&early) {
            GateStep::Wait => {}
            GateStep::Reply(bytes) => {
                let _ = input.write_all(&bytes).await;
            }
            GateStep::Open { consumed } => return Ok(early.split_off(consumed.min(early.len()))),
            GateStep::Fail(message) => return Err(message),
        }
    }
}

async fn read_all(pipe: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut data = Vec::new();
    let _ = pipe.read_to_end(&mut data).await;
    data
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
