//! become: running commands as another user through sudo (default) or su.
//!
//! [`BecomeTarget`] wraps a [`Connection`] and is itself a
//! [`stockman_modules::Target`], so modules run unchanged:
//!
//! ```text
//! let spec = BecomeSpec { method: BecomeMethod::Sudo, user: "root".into(), password: None };
//! let root = BecomeTarget { conn: &conn, spec: &spec };
//! root.exec("id -u", None).await?;   // sudo -H -n -u root -- /bin/sh -c 'id -u'
//! ```
//!
//! Without a password, sudo runs with `-n`: NOPASSWD works, and a sudo that
//! wants a password fails at once with a clear message instead of waiting.
//! With a password, sudo gets `-S -p PROMPT` with a random prompt; the wrapped
//! shell first prints a random success marker on stderr. The password is
//! written to the command's stdin only when the prompt appears, the module's
//! stdin only once the marker has appeared; a second prompt means the
//! password is wrong. The password never appears on a command line or in a
//! message, and the whole exchange is bounded in time.

use std::time::Duration;

use stockman_modules::shell::Cmd;
use stockman_modules::{ExecOutput, Target, TargetError};

use super::exec_channel::{self, Gate, GateStep};
use super::{Connection, Secret};

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

impl Target for BecomeTarget<'_> {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        match (&self.spec.password, self.spec.method) {
            (None, BecomeMethod::Sudo) => {
                let out = self.conn.exec(&sudo_without_password(&self.spec.user, command), stdin).await?;
                refuse_if_sudo_failed(out, &self.spec.user)
            }
            (None, BecomeMethod::Su) => self.conn.exec(&su(&self.spec.user, command), stdin).await,
            (Some(password), method) => self.exec_with_password(method, password, command, stdin).await,
        }
    }
}

impl BecomeTarget<'_> {
    async fn exec_with_password(
        &self,
        method: BecomeMethod,
        password: &Secret,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, TargetError> {
        let Connection::Ssh(ssh) = self.conn else {
            return Err(TargetError(format!(
                "become with a password ({}) is only supported over ssh, not on the local connection",
                method.name()
            )));
        };
        if method == BecomeMethod::Su {
            return Err(TargetError(
                "become_method su with a password needs a terminal, which stockman does not \
                 allocate: use sudo, or su from root without a password"
                    .into(),
            ));
        }
        let mut gate = SudoGate::new(password.clone(), &self.spec.user);
        let wrapped = sudo_with_password(&self.spec.user, &gate.prompt, &gate.marker, command);
        let _slot = ssh.slot().await?;
        let result = exec_channel::run_gated(ssh.session(), &wrapped, stdin, &mut gate, BECOME_TIMEOUT)
            .await
            .map_err(|e| ssh.lost(&e.to_string()))?;
        result.map_err(|why| TargetError(format!("become (sudo to `{}`) failed: {why}", self.spec.user)))
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

/// sudo -n ends with status 1 and one of these messages when it cannot run the command.
fn refuse_if_sudo_failed(out: ExecOutput, user: &str) -> Result<ExecOutput, TargetError> {
    if out.rc != 1 || !out.stderr_str().starts_with("sudo: ") {
        return Ok(out);
    }
    let stderr = out.stderr_str();
    let why = if stderr.contains("a password is required") {
        "sudo asks for a password: give it with -K/--ask-become-pass or ansible_become_password".to_string()
    } else if stderr.contains("a terminal is required") || stderr.contains("must have a tty") {
        "sudo requires a terminal (requiretty): remove `Defaults requiretty` for this user".to_string()
    } else {
        stderr.trim().to_string()
    };
    Err(TargetError(format!("become (sudo to `{user}`) failed: {why}")))
}

/// Answers sudo's prompt once and opens on the marker.
struct SudoGate {
    password: Secret,
    prompt: String,
    marker: String,
    answered: bool,
    user: String,
}

impl SudoGate {
    fn new(password: Secret, user: &str) -> SudoGate {
        let token = random_token();
        SudoGate {
            password,
            prompt: format!("[stockman-sudo-{token}] password: "),
            marker: format!("STOCKMAN-BECOME-{token}"),
            answered: false,
            user: user.to_string(),
        }
    }
}

impl Gate for SudoGate {
    fn step(&mut self, stderr: &[u8]) -> GateStep {
        let text = String::from_utf8_lossy(stderr);
        if let Some(at) = text.find(&format!("{}\n", self.marker)) {
            return GateStep::Open { consumed: at + self.marker.len() + 1 };
        }
        let prompts = text.matches(self.prompt.as_str()).count();
        match (prompts, self.answered) {
            (0, _) => GateStep::Wait,
            (1, false) => {
                self.answered = true;
                GateStep::Reply(format!("{}\n", self.password.expose()).into_bytes())
            }
            (1, true) => GateStep::Wait,
            _ => GateStep::Fail(format!("incorrect sudo password for the login user (becoming `{}`)", self.user)),
        }
    }

    fn closed(&mut self, stderr: &[u8], rc: Option<u32>) -> String {
        let text = String::from_utf8_lossy(stderr).replace(self.prompt.as_str(), "");
        let text = text.trim();
        if text.contains("incorrect password") || text.contains("Sorry, try again") {
            return format!("incorrect sudo password for the login user (becoming `{}`)", self.user);
        }
        if text.contains("must have a tty") || text.contains("a terminal is required") {
            return "sudo requires a terminal (requiretty): remove `Defaults requiretty` for this user".into();
        }
        match rc {
            Some(rc) if !text.is_empty() => format!("sudo exited with status {rc}: {text}"),
            Some(rc) => format!("sudo exited with status {rc}"),
            None => format!("sudo ended without running the command: {text}"),
        }
    }
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
    }

    #[test]
    fn gate_answers_once_then_fails_on_a_second_prompt() {
        let mut gate = SudoGate::new(Secret::new("pw"), "root");
        let prompt = gate.prompt.clone();
        assert!(matches!(gate.step(b"lecture\n"), GateStep::Wait));
        assert!(matches!(gate.step(prompt.as_bytes()), GateStep::Reply(r) if r == b"pw\n"));
        let twice = format!("{prompt}\nSorry, try again.\n{prompt}");
        match gate.step(twice.as_bytes()) {
            GateStep::Fail(msg) => assert!(msg.contains("incorrect") && !msg.contains("pw\n")),
            _ => panic!("expected a failure"),
        }
    }

    #[test]
    fn gate_opens_after_the_marker_keeping_later_stderr() {
        let mut gate = SudoGate::new(Secret::new("pw"), "root");
        let text = format!("{}{}\nreal stderr", gate.prompt, gate.marker);
        match gate.step(text.as_bytes()) {
            GateStep::Open { consumed } => assert_eq!(&text[consumed..], "real stderr"),
            _ => panic!("expected the gate to open"),
        }
    }
}
