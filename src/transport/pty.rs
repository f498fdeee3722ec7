//! Commands run through a pseudo-terminal, for become methods that insist on
//! one: `su` (which reads its password from a terminal) and `sudo` on hosts
//! with `Defaults requiretty`.
//!
//! A pty is a poor pipe: it echoes, it turns `\n` into `\r\n`, it merges
//! stdout and stderr, and its line discipline interprets control bytes. So
//! the pty carries only what needs a terminal, and everything else is framed:
//!
//! - The channel asks for a pty with echo and output processing off, so the
//!   password is never echoed and output bytes arrive unchanged; the wrapper
//!   repeats that with `stty -echo -opost` as the become user (sudo may
//!   put its own pty in between).
//! - Until the wrapper prints a random *open* marker, the output is
//!   sudo's or su's: a [`Gate`] answers the password prompt (once) and fails
//!   on a second prompt or an early exit. Nothing of this part is kept.
//! - The module's stdin is sent only after the open marker, as base64 lines
//!   (plain ASCII, which the line discipline passes untouched) ended by ^D,
//!   and decoded by `base64 -d` on the host into the command's stdin; a
//!   command without stdin gets `/dev/null`.
//! - The command's stderr goes to a private temp file of the become user; the
//!   wrapper prints a random *end* marker with the exit status after the
//!   command, then that file. stdout is what came between the markers, byte
//!   for byte: the pty adds nothing once output processing is off.
//!
//! Every wait before the command starts is bounded by the gate timeout; after
//! that, as for any command, a dead peer ends the wait through keepalives.

use russh::client::{Handle, Msg};
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Pty};
use stockman_modules::shell::quote;
use stockman_modules::ExecOutput;

use super::exec_channel::{send_data, ExecError, Gate, GateStep};
use super::host_keys::HostKeyCheck;

/// The two markers that frame the command's output, random per command.
pub(crate) struct Markers {
    pub open: String,
    pub end: String,
}

impl Markers {
    pub(crate) fn new(token: &str) -> Markers {
        Markers { open: format!("STOCKMAN-PTY-OPEN-{token}"), end: format!("STOCKMAN-PTY-END-{token}") }
    }
}

/// The shell script (for `/bin/sh -c`, run as the become user) that runs
/// `command` with the framing described in the module documentation.
pub(crate) fn wrapper(command: &str, has_stdin: bool, markers: &Markers) -> String {
    let run = format!("/bin/sh -c {}", quote(command));
    let run = if has_stdin { format!("base64 -d 2>/dev/null | {run}") } else { format!("{run} </dev/null") };
    format!(
        "stty -echo -opost || exit 1; e=$(mktemp) || exit 1; trap 'rm -f -- \"$e\"' EXIT; \
         printf '%s\\n' {open}; {run} 2>\"$e\"; printf '%s %d\\n' {end} $?; cat -- \"$e\"",
        open = quote(&markers.open),
        end = quote(&markers.end),
    )
}

/// Runs `command` (which runs [`wrapper`] through sudo or su) on a channel
/// with a pty; `gate` handles the password exchange until the open marker.
/// Ok(Err) is a become failure (the gate's message), Err a lost connection.
pub(crate) async fn run(
    session: &Handle<HostKeyCheck>,
    command: &str,
    stdin: Option<&[u8]>,
    gate: &mut dyn Gate,
    markers: &Markers,
    gate_timeout: std::time::Duration,
) -> Result<Result<ExecOutput, String>, ExecError> {
    let channel = open(session, command).await?;
    let (mut reader, writer) = channel.split();
    let opened = tokio::time::timeout(gate_timeout, pass_gate(&mut reader, &writer, gate)).await;
    let early = match opened {
        Err(_) => {
            let _ = writer.close().await;
            return Ok(Err(format!(
                "Timeout ({}s) waiting for privilege escalation prompt",
                gate_timeout.as_secs()
            )));
        }
        Ok(Err(e)) => return Err(e),
        Ok(Ok(Err(message))) => {
            let _ = writer.close().await;
            return Ok(Err(message));
        }
        Ok(Ok(Ok(after_open))) => after_open,
    };
    let feed = async {
        if let Some(data) = stdin {
            send_data(&writer, &encode_stdin(data)).await?;
        }
        Ok::<(), ExecError>(())
    };
    let collect = collect(&mut reader, early);
    tokio::pin!(collect);
    tokio::select! {
        collected = &mut collect => return framed(&collected?, markers),
        fed = feed => fed?,
    }
    let collected = collect.await?;
    framed(&collected, markers)
}

/// The command's result; output without the end marker means the session
/// ended mid-command (the host or its sshd went away).
fn framed(output: &[u8], markers: &Markers) -> Result<Result<ExecOutput, String>, ExecError> {
    split_output(output, markers).map(Ok).ok_or(ExecError::Lost)
}

/// stdin as base64 lines then ^D (end of file for a canonical-mode terminal).
fn encode_stdin(data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / 76 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.push(0x04);
    out
}

async fn open(session: &Handle<HostKeyCheck>, command: &str) -> Result<Channel<Msg>, ExecError> {
    let channel = session.channel_open_session().await.map_err(|e| match e {
        russh::Error::ChannelOpenFailure(reason) => ExecError::Open(format!("{reason:?}")),
        _ => ExecError::Lost,
    })?;
    // Echo and output processing off from the start: no password echo, no \r\n.
    let modes = [(Pty::ECHO, 0), (Pty::ECHONL, 0), (Pty::OPOST, 0)];
    channel
        .request_pty(false, "dumb", 1000, 50, 0, 0, &modes)
        .await
        .map_err(|_| ExecError::Lost)?;
    channel.exec(true, command.as_bytes()).await.map_err(|_| ExecError::Lost)?;
    Ok(channel)
}

/// Reads the pty until the gate opens: Ok(Ok(output after the open marker)).
async fn pass_gate(
    reader: &mut ChannelReadHalf,
    writer: &ChannelWriteHalf<Msg>,
    gate: &mut dyn Gate,
) -> Result<Result<Vec<u8>, String>, ExecError> {
    let mut early = Vec::new();
    let mut status = None;
    loop {
        match reader.wait().await {
            Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                early.extend_from_slice(&data);
                match gate.step(&early) {
                    GateStep::Wait => {}
                    GateStep::Reply(bytes) => send_data(writer, &bytes).await?,
                    GateStep::Open { consumed } => return Ok(Ok(early.split_off(consumed.min(early.len())))),
                    GateStep::Fail(message) => return Ok(Err(message)),
                }
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(ChannelMsg::Close) => return Ok(Err(gate.closed(&early, status))),
            Some(ChannelMsg::Failure) => return Err(ExecError::Refused),
            None => return Err(ExecError::Lost),
            Some(_) => {}
        }
    }
}

/// Everything the pty says until the channel closes.
async fn collect(reader: &mut ChannelReadHalf, mut got: Vec<u8>) -> Result<Vec<u8>, ExecError> {
    loop {
        match reader.wait().await {
            Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                got.extend_from_slice(&data);
            }
            Some(ChannelMsg::Close) => return Ok(got),
            Some(ChannelMsg::Failure) => return Err(ExecError::Refused),
            None => return Err(ExecError::Lost),
            Some(_) => {}
        }
    }
}

/// stdout before the end marker; the status on its line; stderr after it.
fn split_output(output: &[u8], markers: &Markers) -> Option<ExecOutput> {
    let end = markers.end.as_bytes();
    let at = output.windows(end.len()).position(|w| w == end)?;
    let rest = &output[at + end.len()..];
    let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let rc = std::str::from_utf8(&rest[..line_end]).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(-1);
    Some(ExecOutput {
        rc,
        stdout: output[..at].to_vec(),
        stderr: rest.get(line_end + 1..).unwrap_or_default().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_split_at_the_end_marker_byte_for_byte() {
        let m = Markers::new("t");
        let raw = format!("a\r\nno newline{} 3\nerr\n", m.end);
        let out = split_output(raw.as_bytes(), &m).unwrap();
        assert_eq!((out.stdout_str().as_str(), out.rc, out.stderr_str().as_str()), ("a\r\nno newline", 3, "err\n"));
        assert!(split_output(b"cut short", &m).is_none());
    }

    #[test]
    fn stdin_is_ascii_lines_then_eof() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let encoded = encode_stdin(&data);
        assert_eq!(encoded.last(), Some(&0x04));
        let body = &encoded[..encoded.len() - 1];
        assert!(body.iter().all(|b| b.is_ascii_alphanumeric() || b"+/=\n".contains(b)));
        assert!(body.split(|&b| b == b'\n').all(|line| line.len() <= 76));
    }

    #[test]
    fn wrapper_quotes_the_command() {
        let m = Markers::new("t");
        let script = wrapper("echo 'x'; $(y)", true, &m);
        assert!(script.contains("base64 -d 2>/dev/null | /bin/sh -c 'echo '\\''x'\\''; $(y)' 2>\"$e\""), "{script}");
        assert!(wrapper("id", false, &m).contains("/bin/sh -c id </dev/null"));
    }
}
