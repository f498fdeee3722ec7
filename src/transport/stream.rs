//! Commands whose stdin is a controller file, streamed in chunks (large
//! `copy` sources): the file is never held in memory.
//!
//! Over SSH the command gets an `exec` channel of its own, whatever the
//! default exec path is: the persistent shell base64-frames stdin in one
//! buffer, which is fine for small inputs but not for a 200 MB file. Locally
//! the file simply becomes the command's stdin.

use std::path::Path;
use std::process::Stdio;

use stockman_modules::{ExecOutput, TargetError};
use tokio::io::AsyncReadExt;

use super::exec_channel::{self, ExecError};
use super::local::{self, LocalConnection};
use super::ssh::SshConnection;

/// Bytes read from the file per channel write.
const CHUNK: usize = 1 << 20;

impl SshConnection {
    /// Runs `command` on its own exec channel, its stdin read from `source`.
    pub async fn exec_file_stdin(&self, command: &str, source: &Path) -> Result<ExecOutput, TargetError> {
        let mut file = tokio::fs::File::open(source)
            .await
            .map_err(|e| TargetError(format!("cannot read {} on the controller: {e}", source.display())))?;
        let _slot = self.slot().await?;
        let channel = exec_channel::open(self.session(), command).await.map_err(|e| self.lost(&e.to_string()))?;
        let (mut reader, writer) = channel.split();
        let feed = async {
            let mut buf = vec![0u8; CHUNK];
            loop {
                // A read error ends the input early: the command's size check fails.
                let n = file.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                exec_channel::send_data(&writer, &buf[..n]).await?;
            }
            writer.eof().await.map_err(|_| ExecError::Lost)
        };
        let collect = exec_channel::collect(&mut reader);
        tokio::pin!(collect);
        let collected = tokio::select! {
            // The command ended (maybe without reading all its input): stop feeding it.
            collected = &mut collect => collected,
            fed = feed => match fed {
                Err(ExecError::Stalled) => Err(ExecError::Stalled),
                _ => collect.await,
            },
        };
        exec_channel::finish(collected, &writer).await.map_err(|e| self.lost(&e.to_string()))
    }
}

impl LocalConnection {
    /// Runs `command` with `/bin/sh -c`, its stdin the file `source`.
    pub async fn exec_file_stdin(&self, command: &str, source: &Path) -> Result<ExecOutput, TargetError> {
        let file = std::fs::File::open(source)
            .map_err(|e| TargetError(format!("cannot read {} on the controller: {e}", source.display())))?;
        let output = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::from(file))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| TargetError(format!("could not run /bin/sh on the controller: {e}")))?;
        let mut result = ExecOutput { rc: 0, stdout: output.stdout, stderr: output.stderr };
        result.rc = local::exit_code(output.status, &mut result.stderr);
        Ok(result)
    }
}
