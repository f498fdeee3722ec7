//! How commands reach a host: SSH (russh) or the local machine.
//!
//! Both implement [`stockman_modules::Target`]. A [`Connection`] is opened once
//! per host and reused for all of that host's tasks.

use std::path::PathBuf;
use std::time::Duration;

use stockman_modules::{ExecOutput, Target, TargetError};

pub mod local;
pub mod ssh;

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
         the key in {file} line {line} does not match (a man-in-the-middle attack, or the host \
         was reinstalled; remove that line if you trust the new key)"
    )]
    HostKeyChanged { host: String, file: String, line: usize },
    #[error(
        "host key for `{host}` is not in {file} (strict host key checking): add it with \
         `ssh-keyscan -p {port} {address} >> {file}`, or set ansible_host_key_checking=false"
    )]
    HostKeyUnknown { host: String, address: String, port: u16, file: String },
    #[error("Failed to authenticate as `{user}`: tried {tried}")]
    Auth { user: String, tried: String },
    #[error("{0}")]
    Key(String),
}

/// An open connection to one host.
pub enum Connection {
    Ssh(ssh::SshConnection),
    Local(local::LocalConnection),
}

impl Connection {
    pub async fn open(spec: &ConnectSpec) -> Result<Connection, TransportError> {
        match spec.kind {
            ConnectionKind::Local => Ok(Connection::Local(local::LocalConnection::new())),
            ConnectionKind::Ssh => Ok(Connection::Ssh(ssh::SshConnection::connect(spec).await?)),
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
