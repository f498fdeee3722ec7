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
//! - `auth`: public key authentication (key file, ssh-agent, default identities).
//! - `host_keys`: strict known_hosts checking.
//! - `local`: `/bin/sh -c` on the controller.

use std::path::PathBuf;
use std::time::Duration;

use stockman_modules::{ExecOutput, Target, TargetError};

mod auth;
mod exec_channel;
mod host_keys;
pub mod local;
pub mod ssh;

pub use auth::IdentitySources;

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
    /// `ansible_ssh_private_key_file` / `--private-key`.
    pub private_key: Option<PathBuf>,
    /// False with `ansible_host_key_checking=false` or ANSIBLE_HOST_KEY_CHECKING=False.
    pub host_key_checking: bool,
    /// Default ~/.ssh/known_hosts.
    pub known_hosts: PathBuf,
    pub connect_timeout: Duration,
    pub kind: ConnectionKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    Ssh,
    Local,
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
         add it with `ssh-keyscan -p {port} {address} >> {file}`, or set \
         ansible_host_key_checking=false"
    )]
    HostKeyUnknown {
        host: String,
        address: String,
        port: u16,
        file: String,
        fingerprint: String,
    },
    #[error("cannot check host keys: cannot read {file}: {reason}")]
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
            ConnectionKind::Ssh => Ok(Connection::Ssh(
                ssh::SshConnection::connect_with(spec, sources).await?,
            )),
        }
    }

    pub async fn close(self) {
        if let Connection::Ssh(c) = self {
            c.close().await;
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
