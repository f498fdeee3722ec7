//! The loaded vault passwords, and the one process-wide keyring the YAML
//! reader consults.
//!
//! Why global: any YAML file (playbook, inventory, group_vars, `-e @file`) may
//! hold vault data, and threading a keyring through every loader would touch
//! every signature for one rarely used capability. The CLI installs the
//! keyring once, before anything is loaded; afterwards it is read-only.

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

use zeroize::Zeroizing;

use super::aes256::{self, Failure};
use super::envelope::{self, Envelope, CIPHER};
use super::secrets::Secret;
use super::VaultError;

/// Vault passwords in the order they were given.
#[derive(Debug, Default)]
pub struct Keyring {
    secrets: Vec<Secret>,
}

/// A decrypted vault text, and which secret opened it.
pub struct Opened<'k> {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub secret: &'k Secret,
    pub envelope: Envelope,
}

impl Keyring {
    pub fn new(secrets: Vec<Secret>) -> Keyring {
        Keyring { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Decrypts vault text with the secret whose id the header names, then
    /// with every other secret, as Ansible does (the id is only a hint: it is
    /// not authenticated).
    pub fn open(&self, text: &[u8]) -> Result<Opened<'_>, VaultError> {
        let envelope = Envelope::parse(text)?;
        if envelope.cipher != CIPHER {
            return Err(VaultError::Format(format!("unknown vault cipher `{}`", envelope.cipher)));
        }
        if self.secrets.is_empty() {
            return Err(VaultError::NoSecrets);
        }
        let wanted = envelope.id();
        let candidates = self.secrets.iter().filter(|s| s.id == wanted).chain(self.secrets.iter().filter(|s| s.id != wanted));
        for secret in candidates {
            match aes256::decrypt(&envelope.payload, secret.password()) {
                Ok(plaintext) => return Ok(Opened { plaintext, secret, envelope }),
                Err(Failure::Mac) => continue,
                Err(Failure::Format(why)) => return Err(VaultError::Format(why)),
            }
        }
        let tried = self.secrets.iter().map(|s| format!("`{}`", s.id)).collect::<Vec<_>>().join(", ");
        Err(VaultError::NoMatch { data_id: wanted.to_string(), tried })
    }

    /// The secret to encrypt with: the one named by `--encrypt-vault-id`, or
    /// the only one there is.
    pub fn encrypting_secret(&self, encrypt_vault_id: Option<&str>) -> Result<&Secret, VaultError> {
        if let Some(id) = encrypt_vault_id {
            return self.secrets.iter().find(|s| s.id == id).ok_or_else(|| {
                VaultError::Usage(format!("Did not find a match for --encrypt-vault-id={id} in the known vault-ids {}", self.ids()))
            });
        }
        match self.secrets.as_slice() {
            [] => Err(VaultError::Usage("A vault password is required to use Ansible's Vault".into())),
            [only] => Ok(only),
            _ => Err(VaultError::Usage(format!(
                "The vault-ids {} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id",
                self.ids()
            ))),
        }
    }

    fn ids(&self) -> String {
        self.secrets.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// Encrypts `plaintext` into a complete vault text; a `vault_id` other than
/// `default` makes it format 1.2.
pub fn seal(plaintext: &[u8], secret: &Secret, vault_id: Option<&str>) -> Result<String, VaultError> {
    if envelope::is_vault(plaintext) {
        return Err(VaultError::Usage("input is already encrypted".into()));
    }
    let payload = aes256::encrypt(plaintext, secret.password(), &aes256::random_salt()?);
    Ok(envelope::format(&payload, vault_id))
}

static KEYRING: OnceLock<Keyring> = OnceLock::new();

/// Makes `keyring` the one the YAML reader uses. Set once per process; a
/// second call is refused so no loaded file can have seen another keyring.
pub fn install(keyring: Keyring) -> Result<(), VaultError> {
    KEYRING.set(keyring).map_err(|_| VaultError::Usage("the vault keyring was already set up".into()))
}

/// Decrypts vault text found while loading YAML, with the installed keyring.
pub fn decrypt_loaded(text: &[u8]) -> Result<Zeroizing<String>, VaultError> {
    let keyring = KEYRING.get().ok_or(VaultError::NoSecrets)?;
    let opened = keyring.open(text)?;
    let text = std::str::from_utf8(&opened.plaintext).map_err(|_| VaultError::NotUtf8)?;
    Ok(Zeroizing::new(text.to_string()))
}

/// Plaintexts of inline `!vault` values seen so far, for [`redact`].
static REVEALED: Mutex<Vec<Zeroizing<String>>> = Mutex::new(Vec::new());

/// Notes an inline vault value, so output can censor it (see [`redact`]).
pub fn remember_secret(plaintext: &str) {
    // Very short values ("1", "yes") would censor unrelated output.
    if plaintext.chars().count() >= 4 {
        if let Ok(mut seen) = REVEALED.lock() {
            seen.push(Zeroizing::new(plaintext.to_string()));
        }
    }
}

/// Inline `!vault` values as written (plaintext, vault text), for
/// `stockman inventory`, which shows them encrypted as ansible-inventory does.
static CIPHERTEXTS: Mutex<Vec<(Zeroizing<String>, String)>> = Mutex::new(Vec::new());

/// Notes the vault text an inline value was decrypted from.
pub fn remember_ciphertext(plaintext: &str, vault_text: &str) {
    if let Ok(mut seen) = CIPHERTEXTS.lock() {
        seen.push((Zeroizing::new(plaintext.to_string()), vault_text.to_string()));
    }
}

/// The vault text a value loaded from an inline `!vault` was decrypted from.
pub fn ciphertext_of(plaintext: &str) -> Option<String> {
    let seen = CIPHERTEXTS.lock().ok()?;
    seen.iter().find(|(p, _)| p.as_str() == plaintext).map(|(_, c)| c.clone())
}

/// Replaces every inline vault value that occurs in `text` with `********`.
/// The reporter can run its lines through this as a last line of defence.
pub fn redact(text: &str) -> Cow<'_, str> {
    let Ok(seen) = REVEALED.lock() else { return Cow::Borrowed(text) };
    let mut out = Cow::Borrowed(text);
    for secret in seen.iter().filter(|s| text.contains(s.as_str())) {
        out = Cow::Owned(out.replace(secret.as_str(), "********"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(entries: &[(&str, &str)]) -> Keyring {
        Keyring::new(entries.iter().map(|(id, pw)| Secret::new(*id, pw.as_bytes().to_vec())).collect())
    }

    #[test]
    fn opens_with_any_secret_preferring_the_named_id() {
        let text = seal(b"data", &Secret::new("prod", b"p".to_vec()), Some("prod")).unwrap();
        assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
        let keyring = ring(&[("dev", "d"), ("other", "p")]);
        let opened = keyring.open(text.as_bytes()).unwrap();
        assert_eq!((&opened.plaintext[..], opened.secret.id.as_str()), (&b"data"[..], "other"));
    }

    #[test]
    fn missing_and_wrong_passwords_say_so_like_ansible() {
        let text = seal(b"data", &Secret::new("default", b"p".to_vec()), None).unwrap();
        let none = Keyring::default().open(text.as_bytes()).err().unwrap().to_string();
        assert!(none.contains("Attempting to decrypt but no vault secrets found"), "{none}");
        let wrong = ring(&[("default", "x")]).open(text.as_bytes()).err().unwrap().to_string();
        assert!(wrong.contains("Decryption failed (no vault secrets were found that could decrypt)"), "{wrong}");
        let sealed = seal(b"data", &Secret::new("prod", b"p".to_vec()), Some("prod")).unwrap();
        let named = ring(&[("dev", "x"), ("qa", "y")]).open(sealed.as_bytes()).err().unwrap().to_string();
        assert!(named.contains("for vault id `prod`, tried the vault secrets `dev`, `qa`"), "{named}");
    }

    #[test]
    fn encrypting_secret_needs_a_choice_among_several() {
        let keyring = ring(&[("a", "1"), ("b", "2")]);
        assert!(keyring.encrypting_secret(None).is_err());
        assert_eq!(keyring.encrypting_secret(Some("b")).unwrap().id, "b");
        assert!(keyring.encrypting_secret(Some("c")).is_err());
        assert!(seal(b"$ANSIBLE_VAULT;1.1;AES256\n", &Secret::new("a", b"1".to_vec()), None).is_err());
    }

    #[test]
    fn redact_hides_remembered_values() {
        remember_secret("t0p-s3cret-value");
        assert_eq!(redact("pw=t0p-s3cret-value!"), "pw=********!");
        assert_eq!(redact("nothing here"), "nothing here");
    }
}
