//! The SSH connection (russh): one session per host, reused for all of the
//! host's commands; commands may run concurrently, each on its own channel
//! (a persistent shell by default, see `persistent_shell`).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use russh::{kex, Disconnect, Preferred};
use stockman_modules::{ExecOutput, TargetError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::timeout;

use super::auth::{self, IdentitySources};
use super::exec_channel;
use super::persistent_shell::ShellPool;
use super::host_keys::{HandlerError, HostKeyCheck, HostKeyJudge, HostKeyPolicy};
use super::known_hosts::{self, KnownHosts};
use super::{ConnectSpec, TransportError};

/// OpenSSH's sshd serves at most 10 sessions per connection (`MaxSessions`);
/// more concurrent channels would be refused, so they wait here instead.
const MAX_CONCURRENT_CHANNELS: usize = 10;

/// Shells a host keeps open at most; the other session slots stay free for
/// commands that need a channel of their own (become).
const MAX_SHELLS: usize = MAX_CONCURRENT_CHANNELS - 2;

/// Set to `channel` to run every command on its own exec channel instead of
/// the persistent shells (the escape hatch, and the reference behaviour).
pub const EXEC_MODE_ENV: &str = "STOCKMAN_SSH_EXEC";

/// How a command travels over the session, chosen at connect time; callers
/// and modules call [`SshConnection::exec`] either way.
enum ExecPath {
    /// One `exec` channel per command (OpenSSH `ssh host cmd` semantics):
    /// sshd forks a session and a login shell for each.
    ChannelPerCommand,
    /// Long-lived `/bin/sh`s on their own channels, fed framed commands.
    PersistentShell(ShellPool),
}

impl ExecPath {
    fn from_env() -> ExecPath {
        match std::env::var(EXEC_MODE_ENV).as_deref() {
            Ok("channel") => ExecPath::ChannelPerCommand,
            _ => ExecPath::PersistentShell(ShellPool::new(MAX_SHELLS)),
        }
    }
}

pub struct SshConnection {
    session: Handle<HostKeyCheck>,
    /// ProxyJump sessions the main one tunnels through, first hop first; they
    /// must live as long as it does.
    jumps: Vec<Handle<HostKeyCheck>>,
    /// `name (address:port)`, for messages.
    label: String,
    path: ExecPath,
    channel_slots: Arc<Semaphore>,
}

impl SshConnection {
    /// Connects and authenticates with identities from the environment.
    pub async fn connect(spec: &ConnectSpec) -> Result<SshConnection, TransportError> {
        Self::connect_with(spec, &IdentitySources::from_env()).await
    }

    /// Connects (each hop's TCP, key exchange and authentication bounded by
    /// its `connect_timeout`), through the ProxyJump hops if any.
    pub async fn connect_with(
        spec: &ConnectSpec,
        sources: &IdentitySources,
    ) -> Result<SshConnection, TransportError> {
        let mut jumps: Vec<Handle<HostKeyCheck>> = Vec::new();
        for (index, hop) in spec.jumps.iter().chain([spec]).enumerate() {
            let session = match jumps.last() {
                None => {
                    let stream = tcp_connect(hop).await?;
                    login(hop, stream, sources).await?
                }
                Some(via) => {
                    let stream = tunnel(via, &spec.jumps[index - 1], hop).await?;
                    login(hop, stream, sources).await?
                }
            };
            jumps.push(session);
        }
        let session = jumps.pop().expect("at least the target itself");
        Ok(SshConnection {
            session,
            jumps,
            label: format!("{} ({}:{})", spec.name, spec.address, spec.port),
            path: ExecPath::from_env(),
            channel_slots: Arc::new(Semaphore::new(MAX_CONCURRENT_CHANNELS)),
        })
    }

    /// The session, for callers that need a channel of their own (become).
    pub(crate) fn session(&self) -> &Handle<HostKeyCheck> {
        &self.session
    }

    /// Waits for a free channel slot (sshd's MaxSessions).
    pub(crate) async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, TargetError> {
        self.channel_slots.acquire().await.map_err(|_| self.lost("closed"))
    }

    /// Runs `command` with the login shell's `-c`, feeding `stdin` then EOF.
    pub async fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, TargetError> {
        let result = match &self.path {
            ExecPath::ChannelPerCommand => {
                let _slot = self.slot().await?;
                exec_channel::run(&self.session, command, stdin).await
            }
            ExecPath::PersistentShell(pool) => {
                pool.exec(&self.session, &self.channel_slots, command, stdin).await
            }
        };
        result.map_err(|e| self.lost(&e.to_string()))
    }

    /// Says goodbye to the server and waits (briefly) for the session to end.
    /// Bounded as a whole: on a dead link the session's socket may be full,
    /// and then even handing it the goodbye would wait forever.
    pub async fn close(self) {
        let SshConnection { session, jumps, .. } = self;
        let goodbye = async move {
            let _ = session.disconnect(Disconnect::ByApplication, "", "en").await;
            let _ = session.await;
            for jump in jumps.into_iter().rev() {
                let _ = jump.disconnect(Disconnect::ByApplication, "", "en").await;
            }
        };
        let _ = timeout(Duration::from_secs(2), goodbye).await;
    }

    pub(crate) fn lost(&self, why: &str) -> TargetError {
        TargetError(format!(
            "Failed to run a command on {} over ssh: {why}",
            self.label
        ))
    }
}

/// Key exchange, host key judgement and authentication for one hop over `stream`.
async fn login<S>(
    spec: &ConnectSpec,
    stream: S,
    sources: &IdentitySources,
) -> Result<Handle<HostKeyCheck>, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let judge = host_key_judge(spec)?;
    let config = client_config(spec, &judge);
    let handshake = client::connect_stream(Arc::new(config), stream, HostKeyCheck { judge });
    let mut session = timeout(spec.connect_timeout, handshake)
        .await
        .map_err(|_| timed_out(spec))?
        .map_err(|e| match e {
            HandlerError::HostKey(e) => e,
            HandlerError::Ssh(e) => connect_failed(spec, &e.to_string()),
        })?;
    auth::authenticate(&mut session, spec, sources).await?;
    Ok(session)
}

async fn tcp_connect(spec: &ConnectSpec) -> Result<TcpStream, TransportError> {
    let connect = TcpStream::connect((spec.address.as_str(), spec.port));
    let stream = timeout(spec.connect_timeout, connect)
        .await
        .map_err(|_| timed_out(spec))?
        .map_err(|e| connect_failed(spec, &strerror(&e)))?;
    // Commands are small request/response exchanges: don't let Nagle delay them.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// A direct-tcpip channel from the jump host `via` to `to` (what `ssh -W` does).
async fn tunnel(
    via: &Handle<HostKeyCheck>,
    via_spec: &ConnectSpec,
    to: &ConnectSpec,
) -> Result<russh::ChannelStream<client::Msg>, TransportError> {
    let open = via.channel_open_direct_tcpip(to.address.clone(), u32::from(to.port), "127.0.0.1", 0);
    let channel = timeout(to.connect_timeout, open)
        .await
        .map_err(|_| timed_out(to))?
        .map_err(|e| {
            connect_failed(
                to,
                &format!("the jump host `{}` could not open a tunnel: {e}", via_spec.name),
            )
        })?;
    Ok(channel.into_stream())
}

/// Loads the known_hosts files (unless checking is off) for this hop.
fn host_key_judge(spec: &ConnectSpec) -> Result<HostKeyJudge, TransportError> {
    let known = if spec.host_key_policy == HostKeyPolicy::Off {
        KnownHosts::default()
    } else {
        let files: Vec<_> = spec.known_hosts.iter().chain(&spec.global_known_hosts).cloned().collect();
        KnownHosts::load(&files)?
    };
    Ok(HostKeyJudge {
        name: known_hosts::host_name(&spec.address, spec.port),
        address: spec.address.clone(),
        port: spec.port,
        policy: spec.host_key_policy,
        known,
        record_to: spec.known_hosts.first().cloned().unwrap_or_else(super::default_known_hosts),
    })
}

fn client_config(spec: &ConnectSpec, judge: &HostKeyJudge) -> client::Config {
    let keepalive = !spec.keepalive_interval.is_zero();
    client::Config {
        keepalive_interval: keepalive.then_some(spec.keepalive_interval),
        keepalive_max: spec.keepalive_max,
        nodelay: true,
        preferred: Preferred {
            kex: Cow::Owned(kex_order()),
            key: judge.preferred_algorithms(),
            host_key_certificates: judge.certificate_algorithms(),
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

/// The system's message as OpenSSH prints it ("Connection refused"), without Rust's " (os error 111)".
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
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
