//! Ansible Vault: files and `!vault` strings encrypted by ansible-vault, read
//! and written byte-compatibly.
//!
//! - [`envelope`]: the `$ANSIBLE_VAULT;1.1;AES256` / `1.2;AES256;ID` text around the payload.
//! - [`aes256`]: PBKDF2 → AES-256-CTR + HMAC-SHA256, as Ansible's `VaultAES256`.
//! - [`secrets`]: vault passwords from files, scripts and the terminal.
//! - [`keyring`]: the passwords of a run; the CLI installs one for the YAML reader.
//! - [`command`]: `stockman vault encrypt|decrypt|view|edit|rekey|encrypt_string`.
//!
//! Decrypted values are plain strings to the engine: like Ansible, a vaulted
//! variable is not `no_log` by itself. As a last line of defence the YAML
//! reader remembers inline `!vault` plaintexts (4 characters or more) and
//! [`redact`] replaces them with `********` in any text; the reporter should
//! pass what it prints through it.
//!
//! Passwords live in [`zeroize::Zeroizing`] buffers, are never formatted
//! (`Secret`'s `Debug` hides them) and never passed to a process we start.
//!
//! ```text
//! let keyring = Keyring::new(vec![SecretSource::file("pw.txt").load(Purpose::Decrypt)?]);
//! let text = keyring::seal(b"hello", keyring.encrypting_secret(None)?, None)?;
//! assert_eq!(&*keyring.open(text.as_bytes())?.plaintext, b"hello");
//! ```

pub mod aes256;
pub mod command;
pub mod envelope;
mod files;
pub mod keyring;
pub mod secrets;

pub use envelope::is_vault;
pub use keyring::{decrypt_loaded, redact, Keyring};
pub use secrets::{Purpose, Secret, SecretSource, VaultDefaults};

/// Why vault data could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VaultError {
    #[error(
        "Attempting to decrypt but no vault secrets found; \
         pass --vault-password-file FILE, --vault-id [LABEL@]FILE or --ask-vault-pass"
    )]
    NoSecrets,
    /// `data_id` is the vault id the data's header names (`default` without
    /// one), `tried` the ids of the secrets tried: ids only, never a password.
    #[error(
        "Decryption failed (no vault secrets were found that could decrypt): the data is for vault id `{data_id}`, \
         tried the vault secrets {tried}; check that the vault password (or --vault-id) is the one this was encrypted with"
    )]
    NoMatch { data_id: String, tried: String },
    #[error("Vault format error: {0}")]
    Format(String),
    #[error("the decrypted vault data is not UTF-8 text, so it cannot be read as YAML")]
    NotUtf8,
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(String),
}

/// Loads every password source (in order) into a keyring.
pub fn load_keyring(sources: &[SecretSource], purpose: Purpose) -> Result<Keyring, VaultError> {
    let secrets = sources.iter().map(|s| s.load(purpose)).collect::<Result<Vec<_>, _>>()?;
    Ok(Keyring::new(secrets))
}

/// Loads the passwords of a run and installs them for the YAML reader; call
/// once, before any file is read.
pub fn install_for_run(sources: &[SecretSource]) -> Result<(), VaultError> {
    keyring::install(load_keyring(sources, Purpose::Decrypt)?)
}
