//! The local connection: runs commands on the controller with `/bin/sh -c`.

use stockman_modules::{ExecOutput, TargetError};

pub struct LocalConnection;

impl LocalConnection {
    pub fn new() -> Self {
        LocalConnection
    }

    pub async fn exec(&self, _command: &str, _stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        todo!("local exec")
    }
}
