//! The SSH connection (russh): one session per host, one exec channel per command.

use stockman_modules::{ExecOutput, TargetError};

use super::{ConnectSpec, TransportError};

pub struct SshConnection;

impl SshConnection {
    pub async fn connect(_spec: &ConnectSpec) -> Result<SshConnection, TransportError> {
        todo!("ssh connect")
    }

    pub async fn exec(&self, _command: &str, _stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        todo!("ssh exec")
    }

    pub async fn close(self) {}
}
