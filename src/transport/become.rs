//! become: running commands as another user through sudo (default) or su.
//!
//! [`BecomeTarget`] wraps a [`Connection`] and is itself a
//! [`stockman_modules::Target`], so modules run unchanged:
//!
//! ```text
//! let spec = BecomeSpec { method: BecomeMethod::Sudo, user: "root".into(), password: None };
//! let root = BecomeTarget { conn: &conn, spec: &spec };
//! root.exec("id -u", None).await?;   // sudo -H -n -u root -- /bin/sh -c 'id -u'
//! root.run("id -u", None).await?;    // the same, telling a refusal (BecomeError::Refused) from a lost host
//! ```
//!
//! Without a password, sudo runs with `-n`: NOPASSWD works, and a sudo that
//! wants a password fails at once (`Missing sudo password`) instead of
//! waiting. With a password, sudo gets `-S -p PROMPT` with a random prompt;
//! the wrapped shell first prints a random success marker on stderr. The
//! password is written to the command's stdin only when the prompt appears,
//! the module's stdin only once the marker has appeared; a second prompt means
//! the password is wrong (`Incorrect sudo password`). This works over ssh and
//! on the local connection alike.
//!
//! su (with or without a password), and sudo on hosts with `Defaults requiretty` (detected
//! from sudo's complaint, then retried), go through a pseudo-terminal instead:
//! see `pty` for how stdin, stdout and stderr stay exact there.
//!
//! The password never appears on a command line or in a message, and the
//! whole exchange is bounded in time. A refusal is a FAILED task with
//! Ansible's message ([`RefusalWatch`]); a lost connection is UNREACHABLE.

use std::time::Duration;

use stockman_modules::shell::Cmd;
use stockman_modules::{ExecOutput, Target, TargetError};

use super::exec_channel::{self, Gate, GateStep};
use super::{pty, Connection, Secret};

/// How long sudo/su may take to ask for, check, and accept the password.
const BECOME_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BecomeMethod {
    #[default]
    Sudo,
    Su,
}

impl BecomeMethod {
    /// `become_method`: sudo or su.
    pub fn parse(name: &str) -> Option<BecomeMethod> {
        match name {
            "sudo" => Some(BecomeMethod::Sudo),
            "su" => Some(BecomeMethod::Su),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            BecomeMethod::Sudo => "sudo",
            BecomeMethod::Su => "su",
        }
    }
}

/// Whom to become, how, and with which password (-K / ansible_become_password).
#[derive(Debug, Clone)]
pub struct BecomeSpec {
    pub method: BecomeMethod,
    /// `become_user`, default root.
    pub user: String,
    pub password: Option<Secret>,
}

impl Default for BecomeSpec {
    fn default() -> Self {
        BecomeSpec { method: BecomeMethod::Sudo, user: "root".into(), password: None }
    }
}

/// A connection whose commands run as `spec.user`.
pub struct BecomeTarget<'a> {
    pub conn: &'a Connection,
    pub spec: &'a BecomeSpec,
}

/// Why a command did not run as the become user.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BecomeError {
    /// The host could not be talked to: UNREACHABLE.
    #[error(transparent)]
    Unreachable(#[from] TargetError),
    /// sudo or su refused (wrong or missing password...): the task FAILS,
    /// with Ansible's message (`Incorrect sudo password`).
    #[error("{0}")]
    Refused(String),
}

impl Target for BecomeTarget<'_> {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        self.run(command, stdin).await.map_err(|e| match e {
            BecomeError::Unreachable(e) => e,
            BecomeError::Refused(why) => TargetError(format!(
                "become ({} to `{}`) failed: {}",
                self.spec.method.name(),
                self.spec.user,
                lowercase_first(&why)
            )),
        })
    }

    async fn exec_file_stdin(&self, command: &str, source: &std::path::Path) -> Result<Option<ExecOutput>, TargetError> {
        match self.stream(command, source).await {
            Ok(out) => Ok(out),
            Err(BecomeError::Unreachable(e)) => Err(e),
            Err(BecomeError::Refused(why)) => Err(TargetError(why)),
        }
    }
}

impl BecomeTarget<'_> {
    /// Runs `command` as the become user, telling a refusal from a lost host.
    pub async fn run(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, BecomeError> {
        let password = self.spec.password.as_ref();
        match (self.conn, self.spec.method, password) {
            (Connection::Ssh(ssh), BecomeMethod::Sudo, _) => match self.sudo_over_pipes(command, stdin).await {
                Err(NeedsTty) => self.through_pty(ssh, command, stdin).await,
                Ok(result) => result,
            },
            // Even without a password: su asks on a terminal unless the login
            // user is root, and a prompt must fail clearly, not eat stdin.
            (Connection::Ssh(ssh), BecomeMethod::Su, _) => self.through_pty(ssh, command, stdin).await,
            (Connection::Local(_), BecomeMethod::Su, None) => Ok(self.conn.exec(&su(&self.spec.user, command), stdin).await?),
            (Connection::Local(_), BecomeMethod::Sudo, _) => match self.sudo_over_pipes(command, stdin).await {
                Err(NeedsTty) => Err(BecomeError::Refused(
                    "sudo requires a terminal (requiretty) and the local connection has none: \
                     remove `Defaults requiretty` for this user"
                        .into(),
                )),
                Ok(result) => result,
            },
            (Connection::Local(_), BecomeMethod::Su, Some(_)) => Err(BecomeError::Refused(
                "become_method su with a password needs a terminal, which the local connection \
                 does not have: use sudo"
                    .into(),
            )),
        }
    }

    /// A file streamed to `command`'s stdin: only through passwordless sudo,
    /// whose stdin is the command's own; None (send it in pieces) otherwise,
    /// and when sudo turns out to need a terminal.
    async fn stream(&self, command: &str, source: &std::path::Path) -> Result<Option<ExecOutput>, BecomeError> {
        if self.spec.method != BecomeMethod::Sudo || self.spec.password.is_some() {
            return Ok(None);
        }
        let Some(out) = self.conn.exec_file_stdin(&sudo_without_password(&self.spec.user, command), source).await? else {
            return Ok(None);
        };
        match refuse_if_sudo_failed(out) {
            Ok(Ok(out)) => Ok(Some(out)),
            Ok(Err(why)) => Err(BecomeError::Refused(why)),
            Err(NeedsTty) => Ok(None),
        }
    }

    /// sudo with plain pipes (-n, or -S with a password); Err(NeedsTty) when
    /// the host's sudoers say requiretty.
    async fn sudo_over_pipes(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<Result<ExecOutput, BecomeError>, NeedsTty> {
        let user = &self.spec.user;
        let Some(password) = &self.spec.password else {
            let out = match self.conn.exec(&sudo_without_password(user, command), stdin).await {
                Ok(out) => out,
                Err(e) => return Ok(Err(e.into())),
            };
            return refuse_if_sudo_failed(out).map(|r| r.map_err(BecomeError::Refused));
        };
        let mut gate = SudoGate::new(Some(password.clone()));
        let wrapped = sudo_with_password(user, &gate.prompt, &gate.marker, command);
        let result = match self.conn {
            Connection::Ssh(ssh) => {
                let _slot = match ssh.slot().await {
                    Ok(slot) => slot,
                    Err(e) => return Ok(Err(e.into())),
                };
                exec_channel::run_gated(ssh.session(), &wrapped, stdin, &mut gate, BECOME_TIMEOUT)
                    .await
                    .map_err(|e| ssh.lost(&e.to_string()))
            }
            Connection::Local(local) => local.run_gated(&wrapped, stdin, &mut gate, BECOME_TIMEOUT).await,
        };
        match result {
            Err(e) => Ok(Err(e.into())),
            Ok(Ok(out)) => Ok(Ok(out)),
            Ok(Err(_)) if gate.needs_tty => Err(NeedsTty),
            Ok(Err(why)) => Ok(Err(BecomeError::Refused(why))),
        }
    }

    /// sudo or su on a channel with a pseudo-terminal (see `pty`).
    async fn through_pty(
        &self,
        ssh: &super::ssh::SshConnection,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, BecomeError> {
        let token = random_token();
        let markers = pty::Markers::new(&token);
        let script = pty::wrapper(command, stdin.is_some(), &markers);
        let password = self.spec.password.clone();
        let user = &self.spec.user;
        let (wrapped, mut gate): (String, Box<dyn Gate>) = match self.spec.method {
            BecomeMethod::Sudo => {
                let mut gate = SudoGate::new(password);
                gate.marker = markers.open.clone();
                (sudo_in_pty(user, gate.password.is_some().then_some(gate.prompt.as_str()), &script), Box::new(gate))
            }
            BecomeMethod::Su => (su(user, &script), Box::new(SuGate::new(password, &markers.open))),
        };
        let _slot = ssh.slot().await?;
        let result = pty::run(ssh.session(), &wrapped, stdin, gate.as_mut(), &markers, BECOME_TIMEOUT)
            .await
            .map_err(|e| ssh.lost(&e.to_string()))?;
        result.map_err(BecomeError::Refused)
    }
}

/// sudo said it needs a terminal (`Defaults requiretty`).
struct NeedsTty;

/// A [`BecomeTarget`] that remembers why become was refused, so the engine
/// reports a FAILED task (as Ansible does) rather than an UNREACHABLE host.
pub struct RefusalWatch<'a> {
    target: &'a BecomeTarget<'a>,
    refusal: std::sync::Mutex<Option<String>>,
}

impl<'a> RefusalWatch<'a> {
    pub fn new(target: &'a BecomeTarget<'a>) -> Self {
        RefusalWatch { target, refusal: std::sync::Mutex::new(None) }
    }

    /// The first refusal seen (`Incorrect sudo password`...), if any.
    pub fn refusal(&self) -> Option<String> {
        self.refusal.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// A target error, keeping the first refusal for [`RefusalWatch::refusal`].
    fn remember<T>(&self, result: Result<T, BecomeError>) -> Result<T, TargetError> {
        match result {
            Ok(out) => Ok(out),
            Err(BecomeError::Unreachable(e)) => Err(e),
            Err(BecomeError::Refused(why)) => {
                let mut slot = self.refusal.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                slot.get_or_insert_with(|| why.clone());
                Err(TargetError(why))
            }
        }
    }
}

impl Target for RefusalWatch<'_> {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        self.remember(self.target.run(command, stdin).await)
    }

    async fn exec_file_stdin(&self, command: &str, source: &std::path::Path) -> Result<Option<ExecOutput>, TargetError> {
        self.remember(self.target.stream(command, source).await)
    }
}

/// `sudo -H -n -u USER -- /bin/sh -c COMMAND`.
fn sudo_without_password(user: &str, command: &str) -> String {
    Cmd::new("sudo")
        .flag("-H -n -u")
        .arg(user)
        .flag("-- /bin/sh -c")
        .arg(command)
        .into_string()
}

/// sudo reading the password from stdin after printing `prompt`; the shell
/// prints `marker` on stderr before running `command` (passed as `$1`).
fn sudo_with_password(user: &str, prompt: &str, marker: &str, command: &str) -> String {
    let announce = format!("printf '%s\\n' {marker} >&2; exec /bin/sh -c \"$1\"");
    Cmd::new("sudo")
        .flag("-H -S -p")
        .arg(prompt)
        .flag("-u")
        .arg(user)
        .flag("-- /bin/sh -c")
        .arg(announce)
        .arg("sh")
        .arg(command)
        .into_string()
}

/// `su -s /bin/sh -c COMMAND USER` (works without a terminal only from root).
fn su(user: &str, command: &str) -> String {
    Cmd::new("su")
        .flag("-s /bin/sh -c")
        .arg(command)
        .arg(user)
        .into_string()
}

/// sudo on a terminal: `-p PROMPT` with a password, `-n` without one.
fn sudo_in_pty(user: &str, prompt: Option<&str>, script: &str) -> String {
    let cmd = match prompt {
        Some(prompt) => Cmd::new("sudo").flag("-H -p").arg(prompt),
        None => Cmd::new("sudo").flag("-H -n"),
    };
    cmd.flag("-u").arg(user).flag("-- /bin/sh -c").arg(script).into_string()
}

/// Ansible's messages for a refused become (`Incorrect sudo password`).
const INCORRECT_SUDO: &str = "Incorrect sudo password";
const MISSING_SUDO: &str =
    "Missing sudo password: give it with -K/--ask-become-pass or ansible_become_password";
const INCORRECT_SU: &str = "Incorrect su password";
const MISSING_SU: &str =
    "Missing su password: give it with -K/--ask-become-pass or ansible_become_password";

/// sudo -n ends with status 1 and one of these messages when it cannot run
/// the command: Ok(Err(why)) then, Err(NeedsTty) for requiretty.
fn refuse_if_sudo_failed(out: ExecOutput) -> Result<Result<ExecOutput, String>, NeedsTty> {
    if out.rc != 1 || !out.stderr_str().starts_with("sudo: ") {
        return Ok(Ok(out));
    }
    let stderr = out.stderr_str();
    if needs_tty(&stderr) {
        return Err(NeedsTty);
    }
    if stderr.contains("a password is required") {
        return Ok(Err(MISSING_SUDO.to_string()));
    }
    Ok(Err(stderr.trim().to_string()))
}

/// sudo's words for `Defaults requiretty` (1.8 and 1.9).
fn needs_tty(stderr: &str) -> bool {
    stderr.contains("must have a tty") || stderr.contains("a terminal is required")
}

/// Answers sudo's prompt once and opens on the marker.
struct SudoGate {
    password: Option<Secret>,
    prompt: String,
    marker: String,
    answered: bool,
    /// Set by `closed` when sudo wants a terminal: retry through a pty.
    needs_tty: bool,
}

impl SudoGate {
    fn new(password: Option<Secret>) -> SudoGate {
        let token = random_token();
        SudoGate {
            password,
            prompt: format!("[stockman-sudo-{token}] password: "),
            marker: format!("STOCKMAN-BECOME-{token}"),
            answered: false,
            needs_tty: false,
        }
    }
}

impl Gate for SudoGate {
    fn step(&mut self, output: &[u8]) -> GateStep {
        let text = String::from_utf8_lossy(output);
        if let Some(at) = text.find(&format!("{}\n", self.marker)) {
            return GateStep::Open { consumed: at + self.marker.len() + 1 };
        }
        let prompts = text.matches(self.prompt.as_str()).count();
        match (prompts, self.answered, &self.password) {
            (0, _, _) => GateStep::Wait,
            (1, false, Some(password)) => {
                self.answered = true;
                GateStep::Reply(format!("{}\n", password.expose()).into_bytes())
            }
            (1, false, None) => GateStep::Fail(MISSING_SUDO.into()),
            (1, true, _) => GateStep::Wait,
            _ => GateStep::Fail(INCORRECT_SUDO.into()),
        }
    }

    fn closed(&mut self, output: &[u8], rc: Option<u32>) -> String {
        let text = String::from_utf8_lossy(output).replace(self.prompt.as_str(), "");
        let text = text.trim();
        if text.contains("incorrect password") || text.contains("Sorry, try again") {
            return INCORRECT_SUDO.into();
        }
        if text.contains("a password is required") {
            return MISSING_SUDO.into();
        }
        if needs_tty(text) {
            self.needs_tty = true;
            return "sudo requires a terminal (requiretty)".into();
        }
        ended_early("sudo", text, rc)
    }
}

/// Answers su's password prompt (`Password:` or a translation: a last line
/// ending in a colon) once, and opens on the marker.
struct SuGate {
    password: Option<Secret>,
    marker: String,
    /// How much output had been seen when the password was sent.
    answered_at: Option<usize>,
}

impl SuGate {
    fn new(password: Option<Secret>, marker: &str) -> SuGate {
        SuGate { password, marker: marker.to_string(), answered_at: None }
    }
}

impl Gate for SuGate {
    fn step(&mut self, output: &[u8]) -> GateStep {
        let text = String::from_utf8_lossy(output);
        if let Some(at) = text.find(&format!("{}\n", self.marker)) {
            return GateStep::Open { consumed: at + self.marker.len() + 1 };
        }
        let since_answer = &text[self.answered_at.unwrap_or(0).min(text.len())..];
        if !ends_with_prompt(since_answer) {
            return GateStep::Wait;
        }
        match (self.answered_at, &self.password) {
            (Some(_), _) => GateStep::Fail(INCORRECT_SU.into()),
            (None, None) => GateStep::Fail(MISSING_SU.into()),
            (None, Some(password)) => {
                self.answered_at = Some(text.len());
                GateStep::Reply(format!("{}\n", password.expose()).into_bytes())
            }
        }
    }

    fn closed(&mut self, output: &[u8], rc: Option<u32>) -> String {
        let text = String::from_utf8_lossy(output);
        let text = text.trim();
        if self.answered_at.is_some() && (text.contains("Authentication failure") || rc == Some(1)) {
            return INCORRECT_SU.into();
        }
        ended_early("su", text, rc)
    }
}

/// A password prompt: the last line, without trailing blanks, ends with a colon.
fn ends_with_prompt(text: &str) -> bool {
    let last = text.rsplit(['\n', '\r']).next().unwrap_or("").trim_end();
    !last.is_empty() && (last.ends_with(':') || last.ends_with('\u{ff1a}'))
}

fn ended_early(what: &str, text: &str, rc: Option<u32>) -> String {
    match rc {
        Some(rc) if !text.is_empty() => format!("{what} exited with status {rc}: {text}"),
        Some(rc) => format!("{what} exited with status {rc}"),
        None => format!("{what} ended without running the command: {text}"),
    }
}

/// `Incorrect sudo password` → `incorrect sudo password`, inside a sentence.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 12];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quoted_and_carry_no_password() {
        let cmd = sudo_with_password("ad min", "[p] password: ", "M", "echo 'x'; id");
        assert!(cmd.starts_with("sudo -H -S -p '[p] password: ' -u 'ad min' -- /bin/sh -c "), "{cmd}");
        assert!(cmd.ends_with(" sh 'echo '\\''x'\\''; id'"), "{cmd}");
        assert_eq!(sudo_without_password("root", "id -u"), "sudo -H -n -u root -- /bin/sh -c 'id -u'");
        assert_eq!(sudo_in_pty("root", None, "id"), "sudo -H -n -u root -- /bin/sh -c id");
    }

    #[test]
    fn gate_answers_once_then_fails_on_a_second_prompt() {
        let mut gate = SudoGate::new(Some(Secret::new("pw")));
        let prompt = gate.prompt.clone();
        assert!(matches!(gate.step(b"lecture\n"), GateStep::Wait));
        assert!(matches!(gate.step(prompt.as_bytes()), GateStep::Reply(r) if r == b"pw\n"));
        let twice = format!("{prompt}\nSorry, try again.\n{prompt}");
        match gate.step(twice.as_bytes()) {
            GateStep::Fail(msg) => assert_eq!(msg, "Incorrect sudo password"),
            _ => panic!("expected a failure"),
        }
    }

    #[test]
    fn gate_opens_after_the_marker_keeping_later_stderr() {
        let mut gate = SudoGate::new(Some(Secret::new("pw")));
        let text = format!("{}{}\nreal stderr", gate.prompt, gate.marker);
        match gate.step(text.as_bytes()) {
            GateStep::Open { consumed } => assert_eq!(&text[consumed..], "real stderr"),
            _ => panic!("expected the gate to open"),
        }
    }

    #[test]
    fn requiretty_is_recognised_for_a_retry() {
        let mut gate = SudoGate::new(Some(Secret::new("pw")));
        gate.closed(b"sudo: sorry, you must have a tty to run sudo\n", Some(1));
        assert!(gate.needs_tty);
        let out = ExecOutput { rc: 1, stdout: vec![], stderr: b"sudo: sorry, you must have a tty to run sudo\n".to_vec() };
        assert!(refuse_if_sudo_failed(out).is_err());
    }

    #[test]
    fn su_prompts_in_any_language_are_answered_once() {
        for prompt in ["Password: ", "Passwort:", "Mot de passe : ", "\u{5bc6}\u{7801}\u{ff1a}"] {
            let mut gate = SuGate::new(Some(Secret::new("pw")), "M");
            assert!(matches!(gate.step(prompt.as_bytes()), GateStep::Reply(r) if r == b"pw\n"), "{prompt}");
            let again = format!("{prompt}\nsu: Authentication failure\n{prompt}");
            assert!(matches!(gate.step(again.as_bytes()), GateStep::Fail(m) if m == "Incorrect su password"));
        }
        let mut gate = SuGate::new(Some(Secret::new("pw")), "M");
        assert!(matches!(gate.step(b"Password: "), GateStep::Reply(_)));
        assert!(matches!(gate.step(b"Password: \nM\nout"), GateStep::Open { consumed: 13 }));
        let mut gate = SuGate::new(None, "M");
        assert!(matches!(gate.step(b"Password: "), GateStep::Fail(m) if m.starts_with("Missing su password")));
    }
}
