//! Public key authentication, in OpenSSH's order: the key file given, then
//! the ssh-agent's identities, then the default identity files that exist
//! (only when no key file was given, as `ssh -i` does).
//!
//! A key the agent holds is always signed by the agent, so an encrypted key
//! file that is in the agent needs no passphrase. Otherwise an encrypted key's
//! passphrase is asked once on the terminal, or, without one, the key is
//! skipped with a note telling to use ssh-agent. Every attempt is recorded so
//! a final failure can say what was tried.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{AuthResult, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{Certificate, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::MethodSet;
use tokio::net::UnixStream;
use tokio::time::timeout;

use super::host_keys::HostKeyCheck;
use super::{ConnectSpec, Secret, TransportError};

/// Where identities come from besides an explicit key file. Read from the
/// environment once with [`IdentitySources::from_env`]; tests build their own.
#[derive(Debug, Clone, Default)]
pub struct IdentitySources {
    /// The ssh-agent socket (`SSH_AUTH_SOCK`).
    pub agent_socket: Option<PathBuf>,
    /// Tried, if they exist, when no key file is given.
    pub default_identity_files: Vec<PathBuf>,
    /// Whether an encrypted key's passphrase may be asked on the terminal.
    pub can_prompt: bool,
}

impl IdentitySources {
    /// `SSH_AUTH_SOCK`, `~/.ssh/id_{ed25519,ecdsa,rsa}`, and whether stdin is a terminal.
    pub fn from_env() -> Self {
        use std::io::IsTerminal;
        let agent_socket = std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        let default_identity_files = super::home_dir()
            .map(|home| {
                ["id_ed25519", "id_ecdsa", "id_rsa"]
                    .iter()
                    .map(|name| home.join(".ssh").join(name))
                    .collect()
            })
            .unwrap_or_default();
        IdentitySources {
            agent_socket,
            default_identity_files,
            can_prompt: std::io::stdin().is_terminal(),
        }
    }
}

type Session = Handle<HostKeyCheck>;
type Agent = AgentClient<UnixStream>;

/// One authentication run on a fresh session.
struct Attempts<'a> {
    session: &'a mut Session,
    user: &'a str,
    step_timeout: Duration,
    agent: Option<(Agent, Vec<PublicKey>)>,
    /// Keys already offered (by their public key), so none is tried twice.
    offered: Vec<PublicKey>,
    /// What was tried and how it went, for the failure message.
    tried: Vec<String>,
    /// The methods the server said it would accept, from its last refusal.
    server_methods: Option<MethodSet>,
    rsa_hash: Option<Option<HashAlg>>,
    /// --private-key-passphrase-file.
    passphrase: Option<Secret>,
    /// CertificateFile entries; `KEY-cert.pub` files are found beside keys.
    certificates: Vec<PathBuf>,
}

/// Authenticates on `session` as `spec` says: key files (with their
/// certificates), agent keys, default identities, then the password.
/// An error names the user and what was tried.
pub(crate) async fn authenticate(
    session: &mut Session,
    spec: &ConnectSpec,
    sources: &IdentitySources,
) -> Result<(), TransportError> {
    let user = spec.user.clone().unwrap_or_else(super::controller_user);
    let mut run = Attempts {
        session,
        user: &user,
        step_timeout: spec.connect_timeout,
        agent: None,
        offered: Vec::new(),
        tried: Vec::new(),
        server_methods: None,
        rsa_hash: None,
        passphrase: spec.key_passphrase.clone(),
        certificates: spec.certificate_files.clone(),
    };
    run.agent = run.connect_agent(sources.agent_socket.as_deref()).await;
    let files: Vec<PathBuf> = spec.private_key.iter().chain(&spec.identity_files).cloned().collect();
    if spec.identities_only {
        run.keep_agent_keys_of(&files);
    }
    for path in &files {
        if run.with_file(path, sources.can_prompt).await? {
            return Ok(());
        }
    }
    if run.with_agent_keys().await? {
        return Ok(());
    }
    if files.is_empty() {
        for path in sources.default_identity_files.iter().filter(|p| p.exists()) {
            if run.with_file(path, sources.can_prompt).await? {
                return Ok(());
            }
        }
    }
    if let Some(password) = &spec.password {
        if run.with_password(password).await? {
            return Ok(());
        }
    }
    Err(run.failure())
}

impl Attempts<'_> {
    async fn connect_agent(&mut self, socket: Option<&Path>) -> Option<(Agent, Vec<PublicKey>)> {
        let socket = socket?;
        let listed = timeout(self.step_timeout, async {
            let mut agent = AgentClient::connect_uds(socket).await?;
            let identities = agent.request_identities().await?;
            Ok::<_, russh::keys::Error>((agent, identities))
        })
        .await;
        match listed {
            Ok(Ok((agent, identities))) => Some((agent, plain_keys(identities))),
            Ok(Err(e)) => {
                self.note(format!("ssh-agent at {}: {e}", socket.display()));
                None
            }
            Err(_) => {
                self.note(format!("ssh-agent at {}: no answer", socket.display()));
                None
            }
        }
    }

    /// Tries one key file; Ok(true) once authenticated.
    async fn with_file(&mut self, path: &Path, can_prompt: bool) -> Result<bool, TransportError> {
        if let Some(public) = file_public_key(path).filter(|k| self.agent_holds(k)) {
            return self
                .offer_agent_key(public, &format!("{} (via ssh-agent)", path.display()))
                .await;
        }
        let path_buf = path.to_path_buf();
        let passphrase = self.passphrase.clone();
        let loaded = tokio::task::spawn_blocking(move || load_key_file(&path_buf, can_prompt, passphrase.as_ref()))
            .await
            .unwrap_or_else(|e| Err(format!("could not load: {e}")));
        match loaded {
            Ok(key) => {
                if let Some((cert_path, cert)) = self.certificate_for(path, key.public_key()) {
                    let label = format!("{} with certificate {}", path.display(), cert_path.display());
                    if self.offer_certificate(key.clone(), cert, &label).await? {
                        return Ok(true);
                    }
                }
                self.offer_key(key, &path.display().to_string()).await
            }
            Err(problem) => {
                self.note(format!("{}: {problem}", path.display()));
                Ok(false)
            }
        }
    }

    /// With IdentitiesOnly, the agent may only sign for the listed files' keys.
    fn keep_agent_keys_of(&mut self, files: &[PathBuf]) {
        let listed: Vec<PublicKey> = files.iter().filter_map(|f| file_public_key(f)).collect();
        if let Some((_, keys)) = self.agent.as_mut() {
            keys.retain(|k| listed.iter().any(|l| l.key_data() == k.key_data()));
        }
    }

    /// A certificate for `key`: a CertificateFile holding it, or `PATH-cert.pub`.
    fn certificate_for(&mut self, path: &Path, key: &PublicKey) -> Option<(PathBuf, Certificate)> {
        let mut beside = path.as_os_str().to_owned();
        beside.push("-cert.pub");
        let candidates: Vec<PathBuf> = self.certificates.iter().cloned().chain([PathBuf::from(beside)]).collect();
        for candidate in candidates.into_iter().filter(|c| c.exists()) {
            match russh::keys::load_openssh_certificate(&candidate) {
                Ok(cert) if cert.public_key() == key.key_data() => return Some((candidate, cert)),
                Ok(_) => {}
                Err(e) => self.note(format!("{}: not a certificate ({e})", candidate.display())),
            }
        }
        None
    }

    async fn offer_certificate(
        &mut self,
        key: Arc<PrivateKey>,
        cert: Certificate,
        label: &str,
    ) -> Result<bool, TransportError> {
        let user = self.user.to_string();
        let reply = timeout(
            self.step_timeout,
            self.session.authenticate_openssh_cert(user, key, cert),
        )
        .await;
        let reply = self
            .bounded(reply)?
            .map_err(|e| lost_during_auth(&e.to_string()))?;
        Ok(self.record(label, reply))
    }

    /// Password, then keyboard-interactive answering every hidden prompt with it
    /// (what PAM asks for). The password itself never reaches a message.
    async fn with_password(&mut self, password: &Secret) -> Result<bool, TransportError> {
        let user = self.user.to_string();
        let reply = timeout(
            self.step_timeout,
            self.session.authenticate_password(user.clone(), password.expose()),
        )
        .await;
        let reply = self
            .bounded(reply)?
            .map_err(|e| lost_during_auth(&e.to_string()))?;
        if self.record("password", reply) {
            return Ok(true);
        }
        let interactive = timeout(self.step_timeout, self.keyboard_interactive(&user, password)).await;
        let done = self.bounded(interactive)?;
        Ok(self.record("keyboard-interactive with the password", done?))
    }

    async fn keyboard_interactive(
        &mut self,
        user: &str,
        password: &Secret,
    ) -> Result<AuthResult, TransportError> {
        use russh::client::KeyboardInteractiveAuthResponse as Reply;
        let lost = |e: russh::Error| lost_during_auth(&e.to_string());
        let mut reply = self
            .session
            .authenticate_keyboard_interactive_start(user, None::<String>)
            .await
            .map_err(lost)?;
        // A bounded number of rounds: a server that keeps asking is refused.
        for _ in 0..4 {
            match reply {
                Reply::Success => return Ok(AuthResult::Success),
                Reply::Failure { remaining_methods, partial_success } => {
                    return Ok(AuthResult::Failure { remaining_methods, partial_success })
                }
                Reply::InfoRequest { prompts, .. } => {
                    let answers = prompts
                        .iter()
                        .map(|p| if p.echo { String::new() } else { password.expose().to_string() })
                        .collect();
                    reply = self
                        .session
                        .authenticate_keyboard_interactive_respond(answers)
                        .await
                        .map_err(lost)?;
                }
            }
        }
        Ok(AuthResult::Failure { remaining_methods: MethodSet::empty(), partial_success: false })
    }

    /// Tries every agent identity not offered yet.
    async fn with_agent_keys(&mut self) -> Result<bool, TransportError> {
        let keys = self
            .agent
            .as_ref()
            .map(|(_, keys)| keys.clone())
            .unwrap_or_default();
        for key in keys {
            let label = format!("ssh-agent key {}", describe(&key));
            if self.offer_agent_key(key, &label).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn offer_key(
        &mut self,
        key: Arc<PrivateKey>,
        label: &str,
    ) -> Result<bool, TransportError> {
        if self.already_offered(key.public_key()) {
            return Ok(false);
        }
        let hash = self.hash_for(key.public_key()).await;
        let with_hash = PrivateKeyWithHashAlg::new(key, hash);
        let user = self.user.to_string();
        let reply = timeout(
            self.step_timeout,
            self.session.authenticate_publickey(user, with_hash),
        )
        .await;
        let reply = self
            .bounded(reply)?
            .map_err(|e| lost_during_auth(&e.to_string()))?;
        Ok(self.record(label, reply))
    }

    async fn offer_agent_key(
        &mut self,
        key: PublicKey,
        label: &str,
    ) -> Result<bool, TransportError> {
        if self.already_offered(&key) {
            return Ok(false);
        }
        let hash = self.hash_for(&key).await;
        let Some((agent, _)) = self.agent.as_mut() else {
            return Ok(false);
        };
        let user = self.user.to_string();
        let signed = self
            .session
            .authenticate_publickey_with(user, key, hash, agent);
        let reply = timeout(self.step_timeout, signed).await;
        match self.bounded(reply)? {
            Ok(reply) => Ok(self.record(label, reply)),
            // The agent would not sign (locked, confirm refused): try the next key.
            Err(e) => {
                self.note(format!("{label}: the agent did not sign ({e})"));
                Ok(false)
            }
        }
    }

    fn already_offered(&mut self, key: &PublicKey) -> bool {
        let seen = self.offered.iter().any(|k| k.key_data() == key.key_data());
        if !seen {
            self.offered.push(key.clone());
        }
        seen
    }

    fn agent_holds(&self, key: &PublicKey) -> bool {
        self.agent
            .as_ref()
            .is_some_and(|(_, keys)| keys.iter().any(|k| k.key_data() == key.key_data()))
    }

    /// RSA keys sign with rsa-sha2-512/256, never SHA-1 `ssh-rsa`.
    async fn hash_for(&mut self, key: &PublicKey) -> Option<HashAlg> {
        if !key.algorithm().is_rsa() {
            return None;
        }
        if self.rsa_hash.is_none() {
            let best = self
                .session
                .best_supported_rsa_hash()
                .await
                .ok()
                .flatten()
                .flatten();
            self.rsa_hash = Some(best);
        }
        Some(self.rsa_hash.flatten().unwrap_or(HashAlg::Sha256))
    }

    fn bounded<T>(
        &self,
        reply: Result<T, tokio::time::error::Elapsed>,
    ) -> Result<T, TransportError> {
        reply.map_err(|_| lost_during_auth(&format!("no answer within {:?}", self.step_timeout)))
    }

    fn record(&mut self, label: &str, reply: AuthResult) -> bool {
        match reply {
            AuthResult::Success => true,
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                self.note(format!("{label}: rejected"));
                self.server_methods = Some(remaining_methods);
                false
            }
        }
    }

    fn note(&mut self, what: String) {
        self.tried.push(what);
    }

    fn failure(self) -> TransportError {
        let mut tried = if self.tried.is_empty() {
            "no identity at all (no key file given, no ssh-agent, no ~/.ssh/id_* file)".to_string()
        } else {
            let (secret, keys): (Vec<&String>, Vec<&String>) = self
                .tried
                .iter()
                .partition(|t| t.starts_with("password") || t.starts_with("keyboard-interactive"));
            let mut parts = Vec::new();
            if !keys.is_empty() {
                parts.push(format!("publickey with {}", join(&keys)));
            }
            parts.extend(secret.into_iter().cloned());
            parts.join("; ")
        };
        if let Some(methods) = self.server_methods {
            let names: Vec<&str> = methods.iter().map(|m| m.into()).collect();
            let _ = write!(tried, " (the server accepts: {})", names.join(","));
        }
        TransportError::Auth {
            user: self.user.to_string(),
            tried,
        }
    }
}

fn join(items: &[&String]) -> String {
    items.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
}

fn lost_during_auth(why: &str) -> TransportError {
    TransportError::Connect(format!("connection lost during authentication: {why}"))
}

fn plain_keys(identities: Vec<AgentIdentity>) -> Vec<PublicKey> {
    identities
        .into_iter()
        .filter_map(|identity| match identity {
            AgentIdentity::PublicKey { key, .. } => Some(key),
            AgentIdentity::Certificate { .. } => None,
        })
        .collect()
}

fn describe(key: &PublicKey) -> String {
    let fingerprint = key.fingerprint(HashAlg::Sha256);
    match AsRef::<str>::as_ref(key.comment()) {
        "" => format!("{} {fingerprint}", key.algorithm()),
        comment => format!("{} {fingerprint} ({comment})", key.algorithm()),
    }
}

/// The public half of a key file, from `FILE.pub` or the file itself
/// (OpenSSH-format keys carry it unencrypted), without asking a passphrase.
fn file_public_key(path: &Path) -> Option<PublicKey> {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    if let Ok(key) = russh::keys::load_public_key(PathBuf::from(pub_path)) {
        return Some(key);
    }
    let text = std::fs::read_to_string(path).ok()?;
    let key = russh::keys::ssh_key::PrivateKey::from_openssh(text.trim()).ok()?;
    Some(key.public_key().clone())
}

/// Keys loaded so far in this process, by path: with many hosts, a
/// passphrase is asked once, not once per host.
static LOADED_KEYS: Mutex<BTreeMap<PathBuf, Result<Arc<PrivateKey>, String>>> =
    Mutex::new(BTreeMap::new());

/// Loads (and decrypts, asking once if allowed) a private key file. Blocking.
fn load_key_file(
    path: &Path,
    can_prompt: bool,
    passphrase: Option<&Secret>,
) -> Result<Arc<PrivateKey>, String> {
    // Held while prompting, so parallel hosts wait for the one passphrase.
    let mut loaded = LOADED_KEYS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = loaded.get(path) {
        return known.clone();
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let result = match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => Ok(Arc::new(key)),
        Err(russh::keys::Error::KeyIsEncrypted) if passphrase.is_some() => {
            russh::keys::decode_secret_key(&text, passphrase.map(Secret::expose))
                .map(Arc::new)
                .map_err(|_| "encrypted, and the passphrase file's passphrase does not decrypt it".to_string())
        }
        Err(russh::keys::Error::KeyIsEncrypted) if can_prompt => decrypt_with_prompt(path, &text),
        Err(russh::keys::Error::KeyIsEncrypted) => return Err(encrypted_without_terminal(path)),
        Err(e) => Err(format!("cannot use it as a private key: {e}")),
    };
    loaded.insert(path.to_path_buf(), result.clone());
    result
}

fn decrypt_with_prompt(path: &Path, text: &str) -> Result<Arc<PrivateKey>, String> {
    let prompt = format!("Enter passphrase for key '{}': ", path.display());
    let passphrase = rpassword::prompt_password(prompt)
        .map_err(|e| format!("encrypted, and its passphrase could not be read: {e}"))?;
    if passphrase.is_empty() {
        return Err("encrypted, and no passphrase was given".to_string());
    }
    russh::keys::decode_secret_key(text, Some(&passphrase))
        .map(Arc::new)
        .map_err(|_| "encrypted, and the passphrase given does not decrypt it".to_string())
}

fn encrypted_without_terminal(path: &Path) -> String {
    format!(
        "the key is encrypted and there is no terminal to ask its passphrase: \
         add it to ssh-agent first (`ssh-add {}`)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_file_is_reported_not_fatal() {
        let err = load_key_file(Path::new("/nonexistent/stockman/key"), false, None).unwrap_err();
        assert!(err.starts_with("cannot read it"), "{err}");
    }

    #[test]
    fn encrypted_key_message_suggests_the_agent() {
        let msg = encrypted_without_terminal(Path::new("/k/id_ed25519"));
        assert!(msg.contains("ssh-add /k/id_ed25519"), "{msg}");
    }
}
