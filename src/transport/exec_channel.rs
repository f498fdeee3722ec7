//! Running one command on its own SSH session channel (`exec` request).
//!
//! Stdin is fed while the output is read: a command may fill its output
//! window before it has read all its input, so doing one after the other
//! could deadlock. EOF is always sent. Output is drained until the server
//! closes the channel, since data may follow the exit status. Every wait ends
//! when the session dies (russh then drops the channel), and a dead peer is
//! detected by the session's keepalives.

use russh::client::{Handle, Msg};
use russh::{Channel, ChannelMsg, ChannelReadHalf, Sig};
use stockman_modules::ExecOutput;

use super::host_keys::HostKeyCheck;

/// Why a command did not give a result.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExecError {
    #[error("could not open a channel: {0}")]
    Open(String),
    #[error("the server refused to run the command")]
    Refused,
    #[error("the connection was lost while the command ran")]
    Lost,
    #[error("the host stopped accepting data for {} s (the link is down?)", STALL.as_secs())]
    Stalled,
}

/// Longest one chunk of input may wait for the peer. A dead link must not
/// block a run forever, and keepalives cannot help: russh's session loop is
/// itself stuck on the full socket.
const STALL: std::time::Duration = std::time::Duration::from_secs(45);
const CHUNK: usize = 256 * 1024;

/// Writes `data` to the channel in chunks, each bounded by [`STALL`].
pub(crate) async fn send_data(writer: &russh::ChannelWriteHalf<Msg>, data: &[u8]) -> Result<(), ExecError> {
    for chunk in data.chunks(CHUNK) {
        match tokio::time::timeout(STALL, writer.data_bytes(chunk.to_vec())).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(ExecError::Lost),
            Err(_) => return Err(ExecError::Stalled),
        }
    }
    Ok(())
}

/// Runs `command` (the remote login shell runs it with `-c`) and collects its result.
pub(crate) async fn run(
    session: &Handle<HostKeyCheck>,
    command: &str,
    stdin: Option<&[u8]>,
) -> Result<ExecOutput, ExecError> {
    let channel = open(session, command).await?;
    let (mut reader, writer) = channel.split();
    let feed = async {
        if let Some(data) = stdin {
            send_data(&writer, data).await?;
        }
        writer.eof().await.map_err(|_| ExecError::Lost)
    };
    let collect = collect(&mut reader);
    tokio::pin!(collect);
    tokio::select! {
        // The command ended (maybe without reading all its input): stop feeding it.
        collected = &mut collect => return finish(collected, &writer).await,
        // A closed channel shows in the reader; a stalled link must end the wait here.
        fed = feed => {
            if let Err(ExecError::Stalled) = fed {
                return Err(ExecError::Stalled);
            }
        }
    }
    let collected = collect.await;
    finish(collected, &writer).await
}

/// What a [`Gate`] decides after seeing the command's first stderr output.
pub(crate) enum GateStep {
    /// Not decided yet: read more.
    Wait,
    /// Write these bytes to the command's stdin (an answer to a prompt), keep reading.
    Reply(Vec<u8>),
    /// The real command starts after the first `consumed` bytes of stderr
    /// (which are dropped): feed its stdin now.
    Open { consumed: usize },
    /// Give up with this message (the channel is closed).
    Fail(String),
}

/// Watches a wrapper's stderr before the wrapped command runs (become's
/// password prompt and success marker).
pub(crate) trait Gate: Send {
    fn step(&mut self, stderr: &[u8]) -> GateStep;
    /// The command ended before the gate opened: why, from its stderr.
    fn closed(&mut self, stderr: &[u8], rc: Option<u32>) -> String;
}

/// Like [`run`], but `stdin` is held back until `gate` opens; the gate may
/// answer prompts in the meantime. The gate phase is bounded by `gate_timeout`.
pub(crate) async fn run_gated(
    session: &Handle<HostKeyCheck>,
    command: &str,
    stdin: Option<&[u8]>,
    gate: &mut dyn Gate,
    gate_timeout: std::time::Duration,
) -> Result<Result<ExecOutput, String>, ExecError> {
    let channel = open(session, command).await?;
    let (mut reader, writer) = channel.split();
    let opened = tokio::time::timeout(gate_timeout, pass_gate(&mut reader, &writer, gate)).await;
    let got = match opened {
        Err(_) => {
            let _ = writer.close().await;
            return Ok(Err(format!("no answer within {gate_timeout:?} (is the command waiting for a password?)")));
        }
        Ok(Err(e)) => return Err(e),
        Ok(Ok(Err(message))) => {
            let _ = writer.close().await;
            return Ok(Err(message));
        }
        Ok(Ok(Ok(got))) => got,
    };
    let feed = async {
        if let Some(data) = stdin {
            send_data(&writer, data).await?;
        }
        writer.eof().await.map_err(|_| ExecError::Lost)
    };
    let collect = collect_from(&mut reader, got);
    tokio::pin!(collect);
    tokio::select! {
        collected = &mut collect => return finish(collected, &writer).await.map(Ok),
        fed = feed => {
            if let Err(ExecError::Stalled) = fed {
                return Err(ExecError::Stalled);
            }
        }
    }
    let collected = collect.await;
    finish(collected, &writer).await.map(Ok)
}

/// Reads until the gate opens; Ok(Err) when it fails or the command ends first.
async fn pass_gate(
    reader: &mut ChannelReadHalf,
    writer: &russh::ChannelWriteHalf<Msg>,
    gate: &mut dyn Gate,
) -> Result<Result<Gathered, String>, ExecError> {
    let mut got = Gathered::default();
    let mut early = Vec::new();
    loop {
        match reader.wait().await {
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                early.extend_from_slice(&data);
                match gate.step(&early) {
                    GateStep::Wait => {}
                    GateStep::Reply(bytes) => {
                        writer.data_bytes(bytes).await.map_err(|_| ExecError::Lost)?;
                    }
                    GateStep::Open { consumed } => {
                        got.output.stderr = early.split_off(consumed.min(early.len()));
                        return Ok(Ok(got));
                    }
                    GateStep::Fail(message) => return Ok(Err(message)),
                }
            }
            Some(ChannelMsg::Data { data }) => got.output.stdout.extend_from_slice(&data),
            Some(ChannelMsg::ExitStatus { exit_status }) => got.exit_status = Some(exit_status),
            Some(ChannelMsg::Close) => {
                return Ok(Err(gate.closed(&early, got.exit_status)))
            }
            Some(ChannelMsg::Failure) => return Err(ExecError::Refused),
            None => return Err(ExecError::Lost),
            Some(_) => {}
        }
    }
}

pub(crate) async fn open(session: &Handle<HostKeyCheck>, command: &str) -> Result<Channel<Msg>, ExecError> {
    let channel = session.channel_open_session().await.map_err(|e| match e {
        russh::Error::ChannelOpenFailure(reason) => ExecError::Open(format!("{reason:?}")),
        _ => ExecError::Lost,
    })?;
    channel
        .exec(true, command.as_bytes())
        .await
        .map_err(|_| ExecError::Lost)?;
    Ok(channel)
}

pub(crate) async fn finish(
    collected: Result<ExecOutput, ExecError>,
    writer: &russh::ChannelWriteHalf<Msg>,
) -> Result<ExecOutput, ExecError> {
    if matches!(collected, Err(ExecError::Refused)) {
        // The server leaves a refused channel open: close it to free the session slot.
        let _ = writer.close().await;
    }
    collected
}

/// What the channel said, gathered until it closes.
#[derive(Default)]
struct Gathered {
    output: ExecOutput,
    exit_status: Option<u32>,
    signal: Option<String>,
}

pub(crate) async fn collect(reader: &mut ChannelReadHalf) -> Result<ExecOutput, ExecError> {
    collect_from(reader, Gathered::default()).await
}

async fn collect_from(reader: &mut ChannelReadHalf, mut got: Gathered) -> Result<ExecOutput, ExecError> {
    loop {
        match reader.wait().await {
            Some(ChannelMsg::Data { data }) => got.output.stdout.extend_from_slice(&data),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                got.output.stderr.extend_from_slice(&data);
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => got.exit_status = Some(exit_status),
            Some(ChannelMsg::ExitSignal {
                signal_name,
                core_dumped,
                error_message,
                ..
            }) => {
                got.signal = Some(describe_signal(&signal_name, core_dumped, &error_message));
            }
            Some(ChannelMsg::Failure) => return Err(ExecError::Refused),
            Some(ChannelMsg::Close) => return Ok(got.into_output()),
            // The session ended without closing the channel: the host went away.
            None => return Err(ExecError::Lost),
            Some(_) => {}
        }
    }
}

impl Gathered {
    fn into_output(mut self) -> ExecOutput {
        self.output.rc = match (self.exit_status, &self.signal) {
            (Some(status), _) => i32::try_from(status).unwrap_or(-1),
            (None, Some(signal)) => {
                if !self.output.stderr.is_empty() && !self.output.stderr.ends_with(b"\n") {
                    self.output.stderr.push(b'\n');
                }
                self.output.stderr.extend_from_slice(signal.as_bytes());
                -1
            }
            (None, None) => -1,
        };
        self.output
    }
}

fn describe_signal(signal: &Sig, core_dumped: bool, message: &str) -> String {
    let name = match signal {
        Sig::Custom(name) => name.clone(),
        known => format!("{known:?}"),
    };
    let mut text = format!("killed by signal SIG{name}");
    if core_dumped {
        text.push_str(" (core dumped)");
    }
    if !message.is_empty() {
        text.push_str(": ");
        text.push_str(message);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_wins_over_signal() {
        let got = Gathered {
            exit_status: Some(3),
            ..Gathered::default()
        };
        assert_eq!(got.into_output().rc, 3);
    }

    #[test]
    fn signal_gives_rc_minus_one_and_a_note() {
        let mut got = Gathered {
            signal: Some(describe_signal(&Sig::TERM, false, "")),
            ..Default::default()
        };
        got.output.stderr = b"partial".to_vec();
        let out = got.into_output();
        assert_eq!(out.rc, -1);
        assert_eq!(out.stderr_str(), "partial\nkilled by signal SIGTERM");
    }

    #[test]
    fn custom_signal_and_core_dump_are_described() {
        let text = describe_signal(&Sig::Custom("XCPU".into()), true, "limit");
        assert_eq!(text, "killed by signal SIGXCPU (core dumped): limit");
    }
}
