//! The SSH connection (russh): one session per host, reused for all of the
//! host's commands; commands may run concurrently, one channel each.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::PublicKey;
use russh::{kex, Disconnect, Preferred};
use stockman_modules::{ExecOutput, TargetError};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::timeout;

use super::auth::{self, IdentitySources};
use super::exec_channel;
use super::host_keys::{
    preferred_host_key_algorithms, HandlerError, HostKeyCheck, KnownHostsEntry,
};
use super::{ConnectSpec, TransportError};

/// Keepalive probes: a host that stops answering is declared lost after
/// about `KEEPALIVE_INTERVAL * KEEPALIVE_MAX` instead of hanging a command forever.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
const KEEPALIVE_MAX: usize = 3;

/// OpenSSH's sshd serves at most 10 sessions per connection (`MaxSessions`);
/// more concurrent channels would be refused, so they wait here instead.
const MAX_CONCURRENT_CHANNELS: usize = 10;

/// How a command travels over the session.
///
/// This is the seam for the planned "persistent shell" mode: a second variant
/// would hold one long-lived `sh` channel per host (behind a mutex, commands
/// written to its stdin framed by unique markers carrying the exit status,
/// stdin data passed with an explicit length), chosen at connect time.
/// Callers and modules keep calling [`SshConnection::exec`] unchanged.
enum ExecPath {
    /// One `exec` channel per command (OpenSSH `ssh host cmd` semantics).
    ChannelPerCommand,
}

pub struct SshConnection {
    session: Handle<HostKeyCheck>,
    /// `name (address:port)`, for messages.
    label: String,
    path: ExecPath,
    channel_slots: Semaphore,
}

impl SshConnection {
    /// Connects and authenticates with identities from the environment.
    pub async fn connect(spec: &ConnectSpec) -> Result<SshConnection, TransportError> {
        Self::connect_with(spec, &IdentitySources::from_env()).await
    }

    /// Connects (TCP and key exchange bounded by `spec.connect_timeout`),
    /// checks the host key, and authenticates.
    pub async fn connect_with(
        spec: &ConnectSpec,
        sources: &IdentitySources,
    ) -> Result<SshConnection, TransportError> {
        let known = if spec.host_key_checking {
            Some(known_host(spec)?)
        } else {
            None
        };
        let recorded = known.as_ref().map_or(&[][..], |(_, keys)| keys.as_slice());
        let config = client_config(preferred_host_key_algorithms(recorded));
        let handshake = open_session(spec, config, HostKeyCheck { known });
        let mut session = timeout(spec.connect_timeout, handshake)
            .await
            .map_err(|_| timed_out(spec))??;
        let user = spec.user.clone().unwrap_or_else(super::controller_user);
        let key_file = spec.private_key.as_deref();
        auth::authenticate(&mut session, &user, key_file, sources, spec.connect_timeout).await?;
        Ok(SshConnection {
            session,
            label: format!("{} ({}:{})", spec.name, spec.address, spec.port),
            path: ExecPath::ChannelPerCommand,
            channel_slots: Semaphore::new(MAX_CONCURRENT_CHANNELS),
        })
    }

    /// Runs `command` with the login shell's `-c`, feeding `stdin` then EOF.
    pub async fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, TargetError> {
        let _slot = self
            .channel_slots
            .acquire()
            .await
            .map_err(|_| self.lost("closed"))?;
        match self.path {
            ExecPath::ChannelPerCommand => exec_channel::run(&self.session, command, stdin)
                .await
                .map_err(|e| self.lost(&e.to_string())),
        }
    }

    /// Says goodbye to the server and waits (briefly) for the session to end.
    pub async fn close(self) {
        let _ = self
            .session
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
        let _ = timeout(Duration::from_secs(2), self.session).await;
    }

    fn lost(&self, why: &str) -> TargetError {
        TargetError(format!(
            "Failed to run a command on {} over ssh: {why}",
            self.label
        ))
    }
}

/// The host's known_hosts entry and the keys recorded for it.
fn known_host(
    spec: &ConnectSpec,
) -> Result<(KnownHostsEntry, Vec<(usize, PublicKey)>), TransportError> {
    let entry = KnownHostsEntry {
        file: spec.known_hosts.clone(),
        address: spec.address.clone(),
        port: spec.port,
    };
    let recorded = entry.recorded_keys()?;
    Ok((entry, recorded))
}

async fn open_session(
    spec: &ConnectSpec,
    config: client::Config,
    handler: HostKeyCheck,
) -> Result<Handle<HostKeyCheck>, TransportError> {
    let stream = TcpStream::connect((spec.address.as_str(), spec.port))
        .await
        .map_err(|e| connect_failed(spec, &e.to_string()))?;
    // Commands are small request/response exchanges: don't let Nagle delay them.
    let _ = stream.set_nodelay(true);
    client::connect_stream(Arc::new(config), stream, handler)
        .await
        .map_err(|e| match e {
            HandlerError::HostKey(e) => e,
            HandlerError::Ssh(e) => connect_failed(spec, &e.to_string()),
        })
}

fn client_config(host_key_algorithms: Cow<'static, [russh::keys::Algorithm]>) -> client::Config {
    client::Config {
        keepalive_interval: Some(KEEPALIVE_INTERVAL),
        keepalive_max: KEEPALIVE_MAX,
        nodelay: true,
        preferred: Preferred {
            kex: Cow::Owned(kex_order()),
            key: host_key_algorithms,
            ..Preferred::DEFAULT
        },
        ..client::Config::default()
    }
}

/// curve25519-sha256 first: it costs a fraction of the post-quantum hybrids'
/// CPU per connection, which adds up over hundreds of hosts.
fn kex_order() -> Vec<kex::Name> {
    let cheap = [kex::CURVE25519, kex::CURVE25519_PRE_RFC_8731];
    let rest = Preferred::DEFAULT
        .kex
        .iter()
        .filter(|name| !cheap.contains(name));
    cheap.iter().chain(rest).cloned().collect()
}

fn connect_failed(spec: &ConnectSpec, why: &str) -> TransportError {
    TransportError::Connect(format!(
        "ssh: connect to host {} port {}: {why}",
        spec.address, spec.port
    ))
}

fn timed_out(spec: &ConnectSpec) -> TransportError {
    connect_failed(
        spec,
        &format!("Connection timed out (after {:?})", spec.connect_timeout),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve25519_is_offered_first_and_nothing_is_lost() {
        let order = kex_order();
        assert_eq!(order[0], kex::CURVE25519);
        assert_eq!(order.len(), Preferred::DEFAULT.kex.len());
    }
}
