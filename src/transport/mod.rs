//! How commands reach a host: SSH (russh) or the local machine.
//!
//! Both implement [`stockman_modules::Target`]. A [`Connection`] is opened once
//! per host and reused for all of that host's tasks; over SSH several commands
//! may run on it at once (one channel each).
//!
//! ```text
//! let conn = Connection::open(&spec).await?;          // TransportError → UNREACHABLE
//! let out = conn.exec("uname -r", None).await?;       // TargetError → UNREACHABLE
//! conn.close().await;
//! ```
//!
//! # Layout
//! - `ssh`: connect (timeout, keepalives, kex order), the session, exec dispatch.
//! - `exec_channel`: one command on one exec channel: stdin, EOF, output, exit status.
//! - `persistent_shell`: long-lived remote shells running framed commands (the default;
//!   `STOCKMAN_SSH_EXEC=channel` goes back to one exec channel per command).
//! - `auth`: authentication (key files and certificates, ssh-agent, default identities, password).
//! - `known_hosts`: reading, matching and appending known_hosts files.
//! - `host_keys`: judging a host key or certificate under a [`HostKeyPolicy`].
//! - `ssh_config`: OpenSSH client configuration → [`ConnectSpec`].
//! - `become`: sudo/su around commands ([`BecomeTarget`]).
//! - `local`: `/bin/sh -c` on the controller.
//! - `stream`: commands whose stdin is a controller file, streamed in chunks (big copies).

use std::path::PathBuf;
use std::time::Duration;

use stockman_modules::{ExecOutput, Target, TargetError};

mod auth;
pub mod r#become;
mod exec_channel;
mod host_keys;
mod known_hosts;
pub(crate) use known_hosts::write_atomically;
pub mod local;
mod persistent_shell;
mod pty;
pub mod ssh;
pub mod ssh_config;
mod stream;

pub use auth::IdentitySources;
pub use host_keys::HostKeyPolicy;
pub use r#become::{BecomeError, BecomeMethod, BecomeSpec, BecomeTarget, RefusalWatch};
pub use ssh_config::SshInputs;



/// Everything needed to open a connection to one host, resolved from the
/// inventory, the play and the command line.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    /// The inventory name, for messages.
    pub name: String,
    /// `ansible_host`, or the inventory name.
    pub address: String,
    /// `ansible_port`, default 22.
    pub port: u16,
    /// `ansible_user` / `-u`; None means the controller's user name.
    pub user: Option<String>,
    /// `ansible_ssh_private_key_file` / `--private-key`: tried first.
    pub private_key: Option<PathBuf>,
    /// `IdentityFile`s from ssh_config, tried after `private_key`.
    pub identity_files: Vec<PathBuf>,
    /// `IdentitiesOnly`: only the files above, and agent keys matching them.
    pub identities_only: bool,
    /// `CertificateFile`s: OpenSSH user certificates for the keys above
    /// (`KEY-cert.pub` beside a key file is found without being listed).
    pub certificate_files: Vec<PathBuf>,
    /// StrictHostKeyChecking; Off with `ansible_host_key_checking=false`.
    pub host_key_policy: HostKeyPolicy,
    /// `UserKnownHostsFile`s (default ~/.ssh/known_hosts); accept-new writes to the first.
    pub known_hosts: Vec<PathBuf>,
    /// `GlobalKnownHostsFile`s (default /etc/ssh/ssh_known_hosts).
    pub global_known_hosts: Vec<PathBuf>,
    pub connect_timeout: Duration,
    /// ServerAliveInterval/CountMax: a silent host is lost after about their product.
    pub keepalive_interval: Duration,
    pub keepalive_max: usize,
    /// `ansible_password` / -k: tried after public keys (password, keyboard-interactive).
    pub password: Option<Secret>,
    /// --private-key-passphrase-file: decrypts encrypted key files.
    pub key_passphrase: Option<Secret>,
    /// ProxyJump hops, in order, each fully resolved (and with no hops of its own).
    pub jumps: Vec<ConnectSpec>,
    /// `ansible_ssh_retries`: further attempts after a failed connection (not after
    /// a host key or authentication failure).
    pub retries: u32,
    pub kind: ConnectionKind,
}

impl Default for ConnectSpec {
    fn default() -> Self {
        ConnectSpec {
            name: String::new(),
            address: String::new(),
            port: 22,
            user: None,
            private_key: None,
            identity_files: Vec::new(),
            identities_only: false,
            certificate_files: Vec::new(),
            host_key_policy: HostKeyPolicy::Strict,
            known_hosts: vec![default_known_hosts()],
            global_known_hosts: vec![PathBuf::from("/etc/ssh/ssh_known_hosts")],
            connect_timeout: Duration::from_secs(10),
            keepalive_interval: Duration::from_secs(15),
            keepalive_max: 3,
            password: None,
            key_passphrase: None,
            jumps: Vec::new(),
            retries: 0,
            kind: ConnectionKind::Ssh,
        }
    }
}

/// A password or passphrase: never printed (its Debug is a placeholder).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    Ssh,
    Local,
}

impl ConnectionKind {
    /// A connection plugin's name as Ansible spells it (`smart` and `paramiko` are ssh here).
    pub fn parse(name: &str) -> Option<ConnectionKind> {
        match name {
            "ssh" | "smart" | "paramiko" | "ansible.builtin.ssh" | "ansible.builtin.paramiko_ssh" => Some(ConnectionKind::Ssh),
            "local" | "ansible.builtin.local" => Some(ConnectionKind::Local),
            _ => None,
        }
    }
}

/// Why a host could not be connected to.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("Failed to connect to the host via ssh: {0}")]
    Connect(String),
    #[error(
        "host key for `{host}` has changed and you have requested strict checking: \
         the key in {file} line {line} does not match the key the host presented ({fingerprint}) \
         (a man-in-the-middle attack, or the host was reinstalled; remove that line if you \
         trust the new key)"
    )]
    HostKeyChanged {
        host: String,
        file: String,
        line: usize,
        fingerprint: String,
    },
    #[error(
        "host key for `{host}` ({fingerprint}) is not in {file} (strict host key checking): \
         add it with `ssh-keyscan -p {port} {address} >> {file}`, or use \
         StrictHostKeyChecking=accept-new (ssh_config or -o in ansible_ssh_common_args)"
    )]
    HostKeyUnknown {
        host: String,
        address: String,
        port: u16,
        file: String,
        fingerprint: String,
    },
    #[error(
        "host key for `{host}` ({fingerprint}) is REVOKED in {file} line {line}: \
         refusing to connect"
    )]
    HostKeyRevoked {
        host: String,
        file: String,
        line: usize,
        fingerprint: String,
    },
    #[error("host certificate of `{host}` refused: {reason}")]
    HostCertificate { host: String, reason: String },
    #[error("cannot check host keys: cannot use {file}: {reason}")]
    KnownHosts { file: String, reason: String },
    #[error("Failed to authenticate as `{user}`: tried {tried}")]
    Auth { user: String, tried: String },
}

/// An open connection to one host.
pub enum Connection {
    Ssh(ssh::SshConnection),
    Local(local::LocalConnection),
}

impl Connection {
    /// Opens a connection with identities (ssh-agent, ~/.ssh/id_*) from the environment.
    pub async fn open(spec: &ConnectSpec) -> Result<Connection, TransportError> {
        Self::open_with(spec, &IdentitySources::from_env()).await
    }

    /// Opens a connection with the given identity sources (read the
    /// environment once per run with [`IdentitySources::from_env`]).
    pub async fn open_with(
        spec: &ConnectSpec,
        sources: &IdentitySources,
    ) -> Result<Connection, TransportError> {
        match spec.kind {
            ConnectionKind::Local => Ok(Connection::Local(local::LocalConnection::new())),
            ConnectionKind::Ssh => Ok(Connection::Ssh(connect_retrying(spec, sources).await?)),
        }
    }

    pub async fn close(self) {
        if let Connection::Ssh(c) = self {
            c.close().await;
        }
    }
}

/// Connects, trying again `spec.retries` times (1 s, 2 s, 4 s... apart, as
/// Ansible does) when the host could not be reached; a host key or
/// authentication failure is final.
async fn connect_retrying(
    spec: &ConnectSpec,
    sources: &IdentitySources,
) -> Result<ssh::SshConnection, TransportError> {
    let mut attempt = 0;
    loop {
        match ssh::SshConnection::connect_with(spec, sources).await {
            Err(TransportError::Connect(_)) if attempt < spec.retries => {
                tokio::time::sleep(Duration::from_secs(1 << attempt.min(5))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl Target for Connection {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        match self {
            Connection::Ssh(c) => c.exec(command, stdin).await,
            Connection::Local(c) => c.exec(command, stdin).await,
        }
    }

    async fn exec_file_stdin(&self, command: &str, source: &std::path::Path) -> Result<Option<ExecOutput>, TargetError> {
        match self {
            Connection::Ssh(c) => c.exec_file_stdin(command, source).await.map(Some),
            Connection::Local(c) => c.exec_file_stdin(command, source).await.map(Some),
        }
    }
}

/// `~/.ssh/known_hosts`, the default for [`ConnectSpec::known_hosts`].
pub fn default_known_hosts() -> PathBuf {
    home_dir()
        .unwrap_or_default()
        .join(".ssh")
        .join("known_hosts")
}

/// The user name on the controller: the default remote user, as for `ssh`.
pub fn controller_user() -> String {
    let from_env = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty());
    from_env
        .or_else(user_from_id)
        .unwrap_or_else(|| "root".to_string())
}

fn user_from_id() -> Option<String> {
    let out = std::process::Command::new("id").arg("-un").output().ok()?;
    let name = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !name.is_empty()).then_some(name)
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}
