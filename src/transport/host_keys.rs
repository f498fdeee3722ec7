//! Judging the server's host key (or host certificate) as OpenSSH does.
//!
//! Keys come from the user and global known_hosts files ([`super::known_hosts`]).
//! A revoked key is refused whatever the policy. A plain key is trusted when a
//! line for the host holds it, has *changed* when a line holds another key of
//! the same type, and is *unknown* otherwise. A certificate is trusted when it
//! is a valid host certificate for this host signed by a `@cert-authority`
//! for it. Unknown hosts are refused (strict) or recorded (accept-new);
//! changed keys are always refused. We never prompt.

use std::borrow::Cow;
use std::path::PathBuf;

use russh::client;
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::{Algorithm, Certificate, HashAlg, PublicKey, PublicKeyOrCertificate};

use super::known_hosts::{self, KnownHosts, Marker};
use super::TransportError;

/// What to do with a host whose key is not recorded (StrictHostKeyChecking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Refuse unknown and changed keys (`yes`).
    #[default]
    Strict,
    /// Record an unknown host's key in the user file; refuse changed keys (`accept-new`).
    AcceptNew,
    /// Accept any key (`no`/`off`, or ansible_host_key_checking=false).
    Off,
}

impl HostKeyPolicy {
    /// The StrictHostKeyChecking value: yes, accept-new, no/off (ask counts as yes: we never prompt).
    pub fn parse(value: &str) -> Option<HostKeyPolicy> {
        match value.to_ascii_lowercase().as_str() {
            "yes" | "true" | "ask" | "strict" => Some(HostKeyPolicy::Strict),
            "accept-new" => Some(HostKeyPolicy::AcceptNew),
            "no" | "off" | "false" => Some(HostKeyPolicy::Off),
            _ => None,
        }
    }
}

/// Everything needed to judge one host's key.
#[derive(Debug, Clone)]
pub(crate) struct HostKeyJudge {
    /// `host` or `[host]:port`.
    pub name: String,
    /// The host as addressed (for certificate principals and messages).
    pub address: String,
    pub port: u16,
    pub policy: HostKeyPolicy,
    pub known: KnownHosts,
    /// Where accept-new records a new host (the first user file).
    pub record_to: PathBuf,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Trusted,
    Revoked { file: String, line: usize },
    Changed { file: String, line: usize },
    Unknown,
    BadCertificate(String),
}

impl HostKeyJudge {
    /// Host key algorithms to offer: those recorded for the host first (as OpenSSH
    /// does), so a host known by its RSA key is not called unknown because it also
    /// has an ed25519 key.
    pub fn preferred_algorithms(&self) -> Cow<'static, [Algorithm]> {
        let recorded: Vec<Algorithm> = self
            .known
            .for_host(&self.name, Marker::Host)
            .map(|e| e.key.algorithm())
            .collect();
        order_by_recorded(&recorded)
    }

    /// Certificate algorithms to offer: only when a CA is trusted for this host,
    /// since a server then proves itself with its certificate instead of its key.
    pub fn certificate_algorithms(&self) -> Cow<'static, [Algorithm]> {
        if self.policy == HostKeyPolicy::Off
            || self.known.for_host(&self.name, Marker::CertAuthority).next().is_none()
        {
            return Cow::Borrowed(&[]);
        }
        russh::Preferred::DEFAULT.key
    }

    /// Ok if the presented key or certificate is trusted (recording it under accept-new).
    pub fn judge(&self, presented: &PublicKeyOrCertificate) -> Result<(), TransportError> {
        if self.policy == HostKeyPolicy::Off {
            return Ok(());
        }
        let (key, verdict) = match presented {
            PublicKeyOrCertificate::PublicKey { key, .. } => (key.clone(), self.judge_key(key)),
            PublicKeyOrCertificate::Certificate(cert) => {
                let key = PublicKey::new(cert.public_key().clone(), "");
                (key, self.judge_certificate(cert))
            }
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        match verdict {
            Verdict::Trusted => Ok(()),
            Verdict::Unknown if self.policy == HostKeyPolicy::AcceptNew => {
                known_hosts::append(&self.record_to, &self.name, &key)
            }
            Verdict::Unknown => Err(TransportError::HostKeyUnknown {
                host: self.name.clone(),
                address: self.address.clone(),
                port: self.port,
                file: self.record_to.display().to_string(),
                fingerprint,
            }),
            Verdict::Changed { file, line } => Err(TransportError::HostKeyChanged {
                host: self.name.clone(),
                file,
                line,
                fingerprint,
            }),
            Verdict::Revoked { file, line } => Err(TransportError::HostKeyRevoked {
                host: self.name.clone(),
                file,
                line,
                fingerprint,
            }),
            Verdict::BadCertificate(reason) => Err(TransportError::HostCertificate {
                host: self.name.clone(),
                reason,
            }),
        }
    }

    fn revoked(&self, key: &PublicKey) -> Option<Verdict> {
        self.known
            .for_host(&self.name, Marker::Revoked)
            .find(|e| e.key.key_data() == key.key_data())
            .map(|e| Verdict::Revoked { file: e.file.display().to_string(), line: e.line })
    }

    fn judge_key(&self, presented: &PublicKey) -> Verdict {
        if let Some(revoked) = self.revoked(presented) {
            return revoked;
        }
        let recorded: Vec<_> = self.known.for_host(&self.name, Marker::Host).collect();
        if recorded.iter().any(|e| e.key.key_data() == presented.key_data()) {
            return Verdict::Trusted;
        }
        let same_type = |e: &&&known_hosts::Entry| {
            same_key_type(&e.key.algorithm(), &presented.algorithm())
        };
        match recorded.iter().find(same_type) {
            Some(e) => Verdict::Changed { file: e.file.display().to_string(), line: e.line },
            None => Verdict::Unknown,
        }
    }

    fn judge_certificate(&self, cert: &Certificate) -> Verdict {
        let signer = PublicKey::new(cert.signature_key().clone(), "");
        let certified = PublicKey::new(cert.public_key().clone(), "");
        for key in [&signer, &certified] {
            if let Some(revoked) = self.revoked(key) {
                return revoked;
            }
        }
        let Some(ca) = self
            .known
            .for_host(&self.name, Marker::CertAuthority)
            .find(|e| e.key.key_data() == signer.key_data())
        else {
            // Signed by a CA we do not trust for this host: judge the key inside, as OpenSSH does.
            return self.judge_key(&certified);
        };
        match self.certificate_problem(cert, &ca.key) {
            None => Verdict::Trusted,
            Some(problem) => Verdict::BadCertificate(format!(
                "{problem} (CA in {})",
                ca.location()
            )),
        }
    }

    fn certificate_problem(&self, cert: &Certificate, ca: &PublicKey) -> Option<String> {
        if cert.cert_type() != CertType::Host {
            return Some("the certificate is not a host certificate".into());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if cert.validate_at(now, [&ca.fingerprint(HashAlg::Sha256)]).is_err() {
            return Some("the certificate is expired, not yet valid, or its signature is wrong".into());
        }
        let principals = cert.valid_principals();
        if !principals.is_empty() && !principals.iter().any(|p| p == &self.address) {
            return Some(format!(
                "the certificate is not valid for `{}` (principals: {})",
                self.address,
                principals.join(",")
            ));
        }
        if !cert.critical_options().is_empty() {
            return Some("the certificate has critical options".into());
        }
        None
    }
}

fn same_key_type(a: &Algorithm, b: &Algorithm) -> bool {
    match (a, b) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        _ => a == b,
    }
}

fn order_by_recorded(recorded: &[Algorithm]) -> Cow<'static, [Algorithm]> {
    let default = russh::Preferred::DEFAULT.key;
    if recorded.is_empty() {
        return default;
    }
    let is_recorded = |alg: &Algorithm| recorded.iter().any(|r| same_key_type(r, alg));
    let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) =
        default.iter().cloned().partition(|alg| is_recorded(alg));
    first.extend(rest);
    Cow::Owned(first)
}

/// The russh client handler: it only has to judge the host key.
pub(crate) struct HostKeyCheck {
    pub judge: HostKeyJudge,
}

/// What can stop a session from the handler's side.
#[derive(Debug)]
pub(crate) enum HandlerError {
    Ssh(russh::Error),
    HostKey(TransportError),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Ssh(e)
    }
}

impl client::Handler for HostKeyCheck {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let judge = self.judge.clone();
        let presented = match server_key {
            PublicKeyOrCertificate::PublicKey { key, hash_alg } => {
                PublicKeyOrCertificate::PublicKey { key: key.clone(), hash_alg: *hash_alg }
            }
            PublicKeyOrCertificate::Certificate(cert) => {
                PublicKeyOrCertificate::Certificate(cert.clone())
            }
        };
        // accept-new may write a file: keep that off the async threads.
        tokio::task::spawn_blocking(move || judge.judge(&presented))
            .await
            .map_err(|e| HandlerError::HostKey(TransportError::Connect(e.to_string())))?
            .map(|()| true)
            .map_err(HandlerError::HostKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::parse_public_key_base64;

    // Two ed25519 keys made with ssh-keygen for these tests.
    const ED_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAICmQYM7jet/zXzu9zyq7DxvFVeZ1a3/a7Cfzv7BeW6UW";
    const ED_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAINHGyg+K5+6dOttdZSu8571fVF5bVR7KaSJxWMwgla/Z";

    fn key(b64: &str) -> PublicKey {
        parse_public_key_base64(b64).unwrap()
    }

    fn judge_with(text: &str) -> (tempfile::TempDir, HostKeyJudge) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kh");
        std::fs::write(&file, text).unwrap();
        let judge = HostKeyJudge {
            name: "[h]:2222".into(),
            address: "h".into(),
            port: 2222,
            policy: HostKeyPolicy::Strict,
            known: KnownHosts::load(std::slice::from_ref(&file)).unwrap(),
            record_to: file,
        };
        (dir, judge)
    }

    #[test]
    fn matching_key_is_trusted_even_beside_a_stale_one() {
        let (_d, j) = judge_with(&format!("[h]:2222 ssh-ed25519 {ED_B}\n[h]:2222 ssh-ed25519 {ED_A}\n"));
        assert_eq!(j.judge_key(&key(ED_A)), Verdict::Trusted);
    }

    #[test]
    fn different_key_of_same_type_has_changed_at_its_line() {
        let (_d, j) = judge_with(&format!("# c\n[h]:*,!x ssh-ed25519 {ED_B}\n"));
        match j.judge_key(&key(ED_A)) {
            Verdict::Changed { line, .. } => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn revoked_wins_over_a_matching_line() {
        let (_d, j) = judge_with(&format!("[h]:2222 ssh-ed25519 {ED_A}\n@revoked * ssh-ed25519 {ED_A}\n"));
        assert!(matches!(j.judge_key(&key(ED_A)), Verdict::Revoked { line: 2, .. }));
    }

    #[test]
    fn other_hosts_and_negated_lines_make_it_unknown() {
        let (_d, j) = judge_with(&format!("h ssh-ed25519 {ED_B}\n[h]:*,![h]:2222 ssh-ed25519 {ED_B}\n"));
        assert_eq!(j.judge_key(&key(ED_A)), Verdict::Unknown);
    }

    #[test]
    fn accept_new_records_the_host_then_trusts_it() {
        let (_d, mut j) = judge_with("");
        j.policy = HostKeyPolicy::AcceptNew;
        let presented = PublicKeyOrCertificate::from(key(ED_A));
        j.judge(&presented).unwrap();
        let reloaded = KnownHosts::load(std::slice::from_ref(&j.record_to)).unwrap();
        j.known = reloaded;
        assert_eq!(j.judge_key(&key(ED_A)), Verdict::Trusted);
        assert!(matches!(j.judge(&PublicKeyOrCertificate::from(key(ED_B))), Err(TransportError::HostKeyChanged { .. })));
    }

    #[test]
    fn policies_parse_like_strict_host_key_checking() {
        assert_eq!(HostKeyPolicy::parse("accept-new"), Some(HostKeyPolicy::AcceptNew));
        assert_eq!(HostKeyPolicy::parse("No"), Some(HostKeyPolicy::Off));
        assert_eq!(HostKeyPolicy::parse("ask"), Some(HostKeyPolicy::Strict));
        assert_eq!(HostKeyPolicy::parse("maybe"), None);
    }

    #[test]
    fn recorded_algorithms_are_offered_first() {
        let ecdsa = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGWurpDwvamlVQ//OWNIMevzRvIqHsM7tjreIahh1AV5lqtb6P/+UmMwjDkZNuQE64bn/SASfLEAeosiqWYB85c=";
        let order = order_by_recorded(&[key(ecdsa).algorithm()]);
        assert_eq!(order[0], Algorithm::Ecdsa { curve: russh::keys::EcdsaCurve::NistP256 });
        assert!(order.contains(&Algorithm::Ed25519));
        assert_eq!(order_by_recorded(&[])[0], Algorithm::Ed25519);
    }
}
