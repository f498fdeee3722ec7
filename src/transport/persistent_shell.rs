//! The persistent-shell exec path: one long-lived `/bin/sh` per session
//! channel, reused for many commands, so sshd does not spawn a session and a
//! login shell for every command (that dominates a no-op task's cost).
//!
//! Each command is written to the shell's stdin as a small frame (see
//! [`frame`]): the command runs in a subshell of that `/bin/sh` (a fork, where
//! `$SHELL -c` would cost an exec of bash for each probe; every command
//! stockman sends is POSIX sh), its stdin comes from a here-document in base64
//! (the shell reads its script ahead, so raw bytes cannot follow on its
//! stdin), and afterwards the shell prints a per-command random marker with
//! the exit status on stdout and the marker alone on stderr. The command's
//! output is everything before the markers, byte for byte.
//!
//! A pool holds as many shells as commands run at once on the host (each
//! holds one of sshd's MaxSessions slots while it lives).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use russh::client::{Handle, Msg};
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use stockman_modules::shell::quote;
use stockman_modules::ExecOutput;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::exec_channel::ExecError;
use super::host_keys::HostKeyCheck;

/// What the channel runs: a plain POSIX shell reading commands from stdin,
/// whatever the user's login shell is.
const SHELL_COMMAND: &str = "exec /bin/sh";

/// A marker no output can contain by chance: 128 random bits, and `_` keeps
/// it out of the base64 alphabet of the stdin here-documents.
fn new_marker() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("__stockman_{hex}__")
}

/// The bytes that make the shell run `command` with exactly `stdin` (EOF
/// after it; /dev/null when None) and then report through `marker`.
pub(crate) fn frame(command: &str, stdin: Option<&[u8]>, marker: &str) -> Vec<u8> {
    let run = r#"(eval "$c")"#;
    let trailer = format!(r"; printf '\n%s %d\n' {marker} $?; printf '\n%s\n' {marker} >&2");
    let mut out = format!("c={}\n", quote(command));
    match stdin {
        None => out.push_str(&format!("{run} </dev/null{trailer}\n")),
        Some(data) => {
            // base64's complaint about a command that stopped reading is noise.
            out.push_str(&format!("base64 -d 2>/dev/null <<'{marker}' | {run}{trailer}\n"));
            let encoded = base64::engine::general_purpose::STANDARD.encode(data);
            for line in encoded.as_bytes().chunks(76) {
                out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
                out.push('\n');
            }
            out.push_str(marker);
            out.push('\n');
        }
    }
    out.push_str("unset c\n");
    out.into_bytes()
}

/// Gathers a command's stdout and stderr until both markers have come.
pub(crate) struct Collector {
    stdout_end: Vec<u8>,
    stderr_end: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Where the stdout marker starts, once seen.
    stdout_at: Option<usize>,
    stderr_at: Option<usize>,
}

impl Collector {
    pub(crate) fn new(marker: &str) -> Collector {
        Collector {
            stdout_end: format!("\n{marker} ").into_bytes(),
            stderr_end: format!("\n{marker}\n").into_bytes(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_at: None,
            stderr_at: None,
        }
    }

    pub(crate) fn stdout(&mut self, data: &[u8]) {
        if self.stdout_at.is_none() || !self.stdout_complete() {
            let from = self.stdout.len().saturating_sub(self.stdout_end.len());
            self.stdout.extend_from_slice(data);
            if self.stdout_at.is_none() {
                self.stdout_at = find(&self.stdout, &self.stdout_end, from);
            }
        }
    }

    pub(crate) fn stderr(&mut self, data: &[u8]) {
        if self.stderr_at.is_none() {
            let from = self.stderr.len().saturating_sub(self.stderr_end.len());
            self.stderr.extend_from_slice(data);
            self.stderr_at = find(&self.stderr, &self.stderr_end, from);
        }
    }

    /// The exit status after the stdout marker, once its line is complete.
    fn status(&self) -> Option<i32> {
        let at = self.stdout_at? + self.stdout_end.len();
        let rest = &self.stdout[at..];
        let end = rest.iter().position(|&b| b == b'\n')?;
        std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
    }

    fn stdout_complete(&self) -> bool {
        self.status().is_some()
    }

    pub(crate) fn done(&self) -> bool {
        self.stdout_complete() && self.stderr_at.is_some()
    }

    /// The command's result; a status of 128+N is what a shell reports for a
    /// command killed by signal N, reported as over an exec channel.
    pub(crate) fn into_output(mut self) -> ExecOutput {
        let rc = self.status().unwrap_or(-1);
        self.stdout.truncate(self.stdout_at.unwrap_or(self.stdout.len()));
        self.stderr.truncate(self.stderr_at.unwrap_or(self.stderr.len()));
        let mut output = ExecOutput { rc, stdout: self.stdout, stderr: self.stderr };
        if let Some(name) = rc.checked_sub(128).and_then(signal_name) {
            note(&mut output.stderr, &format!("killed by signal SIG{name}"));
            output.rc = -1;
        }
        output
    }

    /// What was gathered when the shell itself ended before the markers.
    fn into_cut_short(self, exit_status: Option<u32>) -> ExecOutput {
        let mut output = ExecOutput { rc: -1, stdout: self.stdout, stderr: self.stderr };
        let why = match exit_status {
            Some(status) => format!("the remote shell exited (status {status}) while the command ran"),
            None => "the remote shell ended while the command ran".to_string(),
        };
        note(&mut output.stderr, &why);
        output
    }
}

/// Appends a line of our own to a command's stderr.
fn note(stderr: &mut Vec<u8>, text: &str) {
    if !stderr.is_empty() && !stderr.ends_with(b"\n") {
        stderr.push(b'\n');
    }
    stderr.extend_from_slice(text.as_bytes());
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Linux signal numbers a shell may report as 128+N.
fn signal_name(number: i32) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    let index = usize::try_from(number.checked_sub(1)?).ok()?;
    NAMES.get(index).copied()
}

/// One long-lived shell on its own channel.
struct RemoteShell {
    reader: ChannelReadHalf,
    writer: ChannelWriteHalf<Msg>,
    /// The sshd session slot it occupies while it lives.
    _slot: OwnedSemaphorePermit,
}

/// How a shell's command ended.
enum Outcome {
    /// The shell reported: it can take the next command.
    Reported(ExecOutput),
    /// The shell itself ended: the result is what came before; drop the shell.
    ShellEnded(ExecOutput),
}

impl RemoteShell {
    /// Starts the shell and waits until it answers (whatever a login script
    /// printed before is dropped).
    async fn open(session: &Handle<HostKeyCheck>, slot: OwnedSemaphorePermit) -> Result<RemoteShell, ExecError> {
        let channel = session.channel_open_session().await.map_err(|e| match e {
            russh::Error::ChannelOpenFailure(reason) => ExecError::Open(format!("{reason:?}")),
            _ => ExecError::Lost,
        })?;
        channel.exec(true, SHELL_COMMAND).await.map_err(|_| ExecError::Lost)?;
        let (reader, writer) = channel.split();
        let mut shell = RemoteShell { reader, writer, _slot: slot };
        match shell.run("true", None).await? {
            Outcome::Reported(out) if out.rc == 0 => Ok(shell),
            _ => Err(ExecError::Refused),
        }
    }

    async fn run(&mut self, command: &str, stdin: Option<&[u8]>) -> Result<Outcome, ExecError> {
        let marker = new_marker();
        let request = frame(command, stdin, &marker);
        let writer = &self.writer;
        let send = super::exec_channel::send_data(writer, &request);
        let collect = collect(&mut self.reader, Collector::new(&marker));
        tokio::pin!(collect);
        tokio::select! {
            outcome = &mut collect => return outcome,
            // A closed channel shows in the reader; a stalled link must end the wait here.
            sent = send => {
                if let Err(ExecError::Stalled) = sent {
                    return Err(ExecError::Stalled);
                }
            }
        }
        collect.await
    }
}

async fn collect(reader: &mut ChannelReadHalf, mut got: Collector) -> Result<Outcome, ExecError> {
    let mut exit_status = None;
    loop {
        match reader.wait().await {
            Some(ChannelMsg::Data { data }) => got.stdout(&data),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => got.stderr(&data),
            Some(ChannelMsg::ExitStatus { exit_status: status }) => exit_status = Some(status),
            Some(ChannelMsg::Close) if !got.done() => {
                return Ok(Outcome::ShellEnded(got.into_cut_short(exit_status)))
            }
            Some(ChannelMsg::Failure) => return Err(ExecError::Refused),
            // The session ended without closing the channel: the host went away.
            None => return Err(ExecError::Lost),
            Some(_) => {}
        }
        if got.done() {
            return Ok(Outcome::Reported(got.into_output()));
        }
    }
}

/// The host's shells: idle ones are reused, a new one opens when all are busy
/// (up to `cap`), each taking a session slot from `slots` for its lifetime.
pub(crate) struct ShellPool {
    idle: Mutex<Vec<RemoteShell>>,
    live: AtomicUsize,
    returned: Notify,
    cap: usize,
}

impl ShellPool {
    pub(crate) fn new(cap: usize) -> ShellPool {
        ShellPool { idle: Mutex::new(Vec::new()), live: AtomicUsize::new(0), returned: Notify::new(), cap: cap.max(1) }
    }

    /// Runs `command` on an idle or new shell.
    pub(crate) async fn exec(
        &self,
        session: &Handle<HostKeyCheck>,
        slots: &Arc<Semaphore>,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, ExecError> {
        let mut shell = self.take(session, slots).await?;
        match shell.run(command, stdin).await {
            Ok(Outcome::Reported(output)) => {
                self.give_back(shell);
                Ok(output)
            }
            Ok(Outcome::ShellEnded(output)) => {
                self.discard(shell);
                Ok(output)
            }
            Err(e) => {
                self.discard(shell);
                Err(e)
            }
        }
    }

    async fn take(&self, session: &Handle<HostKeyCheck>, slots: &Arc<Semaphore>) -> Result<RemoteShell, ExecError> {
        loop {
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(shell) = self.idle().pop() {
                return Ok(shell);
            }
            let grew = self.live.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < self.cap).then_some(n + 1));
            if grew.is_ok() {
                return self.open(session, slots).await;
            }
            returned.await;
        }
    }

    async fn open(&self, session: &Handle<HostKeyCheck>, slots: &Arc<Semaphore>) -> Result<RemoteShell, ExecError> {
        let opened = async {
            let slot = Arc::clone(slots).acquire_owned().await.map_err(|_| ExecError::Lost)?;
            RemoteShell::open(session, slot).await
        };
        let shell = opened.await;
        if shell.is_err() {
            self.live.fetch_sub(1, Ordering::SeqCst);
            self.returned.notify_one();
        }
        shell
    }

    fn give_back(&self, shell: RemoteShell) {
        self.idle().push(shell);
        self.returned.notify_one();
    }

    fn discard(&self, shell: RemoteShell) {
        drop(shell);
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.returned.notify_one();
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<RemoteShell>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "__stockman_0123__";

    fn collected(stdout: &[&[u8]], stderr: &[&[u8]]) -> Collector {
        let mut c = Collector::new(M);
        for chunk in stdout {
            c.stdout(chunk);
        }
        for chunk in stderr {
            c.stderr(chunk);
        }
        c
    }

    #[test]
    fn output_and_status_come_before_the_markers() {
        let c = collected(&[b"out\n\n__stockman_0123__ 3\n"], &[b"err\n\n__stockman_0123__\n"]);
        assert!(c.done());
        let out = c.into_output();
        assert_eq!((out.rc, out.stdout_str().as_str(), out.stderr_str().as_str()), (3, "out\n", "err\n"));
    }

    #[test]
    fn markers_split_across_chunks_are_found() {
        let c = collected(&[b"no newline", b"\n__stock", b"man_0123__ 0", b"\n"], &[b"\n__stockman_", b"0123__\n"]);
        assert!(c.done());
        let out = c.into_output();
        assert_eq!((out.rc, out.stdout.as_slice(), out.stderr.as_slice()), (0, &b"no newline"[..], &b""[..]));
    }

    #[test]
    fn a_status_line_not_yet_complete_is_not_done() {
        let c = collected(&[b"\n__stockman_0123__ 1"], &[b"\n__stockman_0123__\n"]);
        assert!(!c.done());
    }

    #[test]
    fn other_markers_in_the_output_are_data() {
        let fake = b"\n__stockman_9999__ 0\n__stockman_0123_ 1\n";
        let mut stdout = fake.to_vec();
        stdout.extend_from_slice(b"\n__stockman_0123__ 0\n");
        let c = collected(&[&stdout], &[b"\n__stockman_0123__\n"]);
        assert_eq!(c.into_output().stdout, fake);
    }

    #[test]
    fn status_128_plus_n_is_a_signal() {
        let out = collected(&[b"\n__stockman_0123__ 143\n"], &[b"part\n__stockman_0123__\n"]).into_output();
        assert_eq!((out.rc, out.stderr_str().as_str()), (-1, "part\nkilled by signal SIGTERM"));
        let exit_200 = collected(&[b"\n__stockman_0123__ 200\n"], &[b"\n__stockman_0123__\n"]).into_output();
        assert_eq!(exit_200.rc, 200);
    }

    #[test]
    fn the_frame_quotes_the_command_and_ends_the_stdin_document() {
        let f = String::from_utf8(frame("echo 'a'", Some(b"\x00\xff"), M)).unwrap();
        assert!(f.starts_with("c='echo '\\''a'\\'''\n"), "{f}");
        assert!(f.contains("base64 -d 2>/dev/null <<'__stockman_0123__' | (eval \"$c\");"), "{f}");
        assert!(f.contains("\nAP8=\n__stockman_0123__\nunset c\n"), "{f}");
        let none = String::from_utf8(frame("true", None, M)).unwrap();
        assert!(none.contains("(eval \"$c\") </dev/null;"), "{none}");
    }
}
