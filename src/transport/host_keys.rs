//! Checking the server's host key against a known_hosts file, strictly.
//!
//! Reading and matching entries (plain and hashed `|1|` names, `[host]:port`
//! for ports other than 22) is done by `russh::keys::known_hosts`; this module
//! decides what a set of recorded keys means for the presented one, like
//! OpenSSH: a matching key trusts the host; a different key of the same type
//! means it changed; no key of that type means the host is unknown. We never
//! prompt and never write the file.

use std::borrow::Cow;
use std::path::PathBuf;

use russh::client;
use russh::keys::known_hosts::known_host_keys_path;
use russh::keys::{Algorithm, HashAlg, PublicKey, PublicKeyOrCertificate};

use super::TransportError;

/// Where and under which name a host's key is looked up.
#[derive(Debug, Clone)]
pub(crate) struct KnownHostsEntry {
    pub file: PathBuf,
    pub address: String,
    pub port: u16,
}

impl KnownHostsEntry {
    /// The name known_hosts uses for this host (`[host]:port` unless port 22).
    pub fn host_pattern(&self) -> String {
        if self.port == 22 {
            self.address.clone()
        } else {
            format!("[{}]:{}", self.address, self.port)
        }
    }

    /// The keys recorded for this host, with their (1-based) line numbers in the file.
    pub fn recorded_keys(&self) -> Result<Vec<(usize, PublicKey)>, TransportError> {
        let unreadable = |reason: String| TransportError::KnownHosts {
            file: self.file.display().to_string(),
            reason,
        };
        let keys = known_host_keys_path(&self.address, self.port, &self.file)
            .map_err(|e| unreadable(e.to_string()))?;
        if keys.is_empty() {
            return Ok(keys);
        }
        // russh numbers lines without counting `#` comment lines: map back to
        // the file's real line numbers so the error points at the right one.
        let text = std::fs::read_to_string(&self.file).map_err(|e| unreadable(e.to_string()))?;
        Ok(keys
            .into_iter()
            .map(|(n, key)| (physical_line(&text, n), key))
            .collect())
    }

    /// The verdict for `presented` given the `recorded` keys, as a connection error unless trusted.
    pub fn check(
        &self,
        recorded: &[(usize, PublicKey)],
        presented: &PublicKey,
    ) -> Result<(), TransportError> {
        match verdict(recorded, presented) {
            Verdict::Trusted => Ok(()),
            Verdict::Changed { line } => Err(TransportError::HostKeyChanged {
                host: self.host_pattern(),
                file: self.file.display().to_string(),
                line,
                fingerprint: presented.fingerprint(HashAlg::Sha256).to_string(),
            }),
            Verdict::Unknown => Err(TransportError::HostKeyUnknown {
                host: self.host_pattern(),
                address: self.address.clone(),
                port: self.port,
                file: self.file.display().to_string(),
                fingerprint: presented.fingerprint(HashAlg::Sha256).to_string(),
            }),
        }
    }
}

/// The real line number of the `nth` line that does not start with `#`
/// (russh's numbering); `nth` itself if the file changed under us.
fn physical_line(text: &str, nth: usize) -> usize {
    text.split_inclusive('\n')
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#'))
        .nth(nth.saturating_sub(1))
        .map_or(nth, |(index, _)| index + 1)
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Trusted,
    Changed { line: usize },
    Unknown,
}

fn verdict(recorded: &[(usize, PublicKey)], presented: &PublicKey) -> Verdict {
    if recorded
        .iter()
        .any(|(_, key)| key.key_data() == presented.key_data())
    {
        return Verdict::Trusted;
    }
    let same_type = |key: &PublicKey| same_key_type(&key.algorithm(), &presented.algorithm());
    match recorded.iter().find(|(_, key)| same_type(key)) {
        Some((line, _)) => Verdict::Changed { line: *line },
        None => Verdict::Unknown,
    }
}

fn same_key_type(a: &Algorithm, b: &Algorithm) -> bool {
    match (a, b) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        _ => a == b,
    }
}

/// Host key algorithms to offer, those already recorded for the host first
/// (as OpenSSH does), so a host known by its RSA key is not reported as
/// unknown just because it also has an ed25519 key.
pub(crate) fn preferred_host_key_algorithms(
    recorded: &[(usize, PublicKey)],
) -> Cow<'static, [Algorithm]> {
    let default = russh::Preferred::DEFAULT.key;
    if recorded.is_empty() {
        return default;
    }
    let is_recorded = |alg: &Algorithm| {
        recorded
            .iter()
            .any(|(_, key)| same_key_type(&key.algorithm(), alg))
    };
    let (mut first, rest): (Vec<Algorithm>, Vec<Algorithm>) =
        default.iter().cloned().partition(|alg| is_recorded(alg));
    first.extend(rest);
    Cow::Owned(first)
}

/// The russh client handler: it only has to judge the host key.
pub(crate) struct HostKeyCheck {
    /// The host's entry and the keys recorded for it; None when checking is off.
    pub known: Option<(KnownHostsEntry, Vec<(usize, PublicKey)>)>,
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
        let Some((entry, recorded)) = &self.known else {
            return Ok(true);
        };
        // We never advertise certificate host key algorithms, so a plain key is expected.
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            return Ok(false);
        };
        entry
            .check(recorded, key)
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

    #[test]
    fn physical_line_skips_comments() {
        let text = "# header\n# more\nhostA ssh-ed25519 X\n#c\nhostB ssh-ed25519 Y\n";
        assert_eq!(physical_line(text, 1), 3);
        assert_eq!(physical_line(text, 2), 5);
        assert_eq!(physical_line("a\nb\n", 2), 2);
    }

    #[test]
    fn physical_line_falls_back_when_out_of_range() {
        assert_eq!(physical_line("a\n", 7), 7);
    }

    #[test]
    fn matching_key_is_trusted_even_beside_a_stale_one() {
        let recorded = vec![(2, key(ED_B)), (5, key(ED_A))];
        assert_eq!(verdict(&recorded, &key(ED_A)), Verdict::Trusted);
    }

    #[test]
    fn different_key_of_same_type_has_changed_at_its_line() {
        let recorded = vec![(4, key(ED_B))];
        assert_eq!(verdict(&recorded, &key(ED_A)), Verdict::Changed { line: 4 });
    }

    #[test]
    fn no_entry_is_unknown() {
        assert_eq!(verdict(&[], &key(ED_A)), Verdict::Unknown);
    }

    #[test]
    fn host_pattern_brackets_non_default_ports() {
        let entry = |port| KnownHostsEntry {
            file: "k".into(),
            address: "h.example".into(),
            port,
        };
        assert_eq!(entry(22).host_pattern(), "h.example");
        assert_eq!(entry(2222).host_pattern(), "[h.example]:2222");
    }

    #[test]
    fn recorded_algorithms_are_offered_first() {
        let ecdsa = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGWurpDwvamlVQ//OWNIMevzRvIqHsM7tjreIahh1AV5lqtb6P/+UmMwjDkZNuQE64bn/SASfLEAeosiqWYB85c=";
        let recorded = vec![(1, key(ecdsa))];
        let order = preferred_host_key_algorithms(&recorded);
        assert_eq!(
            order[0],
            Algorithm::Ecdsa {
                curve: russh::keys::EcdsaCurve::NistP256
            }
        );
        assert!(order.contains(&Algorithm::Ed25519));
        assert_eq!(preferred_host_key_algorithms(&[])[0], Algorithm::Ed25519);
    }
}
