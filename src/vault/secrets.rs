//! Where vault passwords come from: `--vault-id [label@]SOURCE`,
//! `--vault-password-file`, `--ask-vault-pass`, ANSIBLE_VAULT_PASSWORD_FILE and
//! ANSIBLE_VAULT_IDENTITY_LIST,
//! resolved as ansible's `setup_vault_secrets` does.
//!
//! A SOURCE is `prompt` (asked on the terminal without echo), an executable
//! (run without arguments, its stdout is the password; `*-client` scripts get
//! `--vault-id LABEL`, never a secret) or a file (its stripped content).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use super::envelope::DEFAULT_ID;
use super::VaultError;

/// One vault password with the id it answers to.
#[derive(Clone)]
pub struct Secret {
    pub id: String,
    password: Zeroizing<Vec<u8>>,
}

impl Secret {
    pub fn new(id: impl Into<String>, password: Vec<u8>) -> Secret {
        Secret { id: id.into(), password: Zeroizing::new(password) }
    }

    pub fn password(&self) -> &[u8] {
        &self.password
    }
}

/// Never shows the password, so a `{:?}` anywhere cannot leak it.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({}, ********)", self.id)
    }
}

/// Where one password comes from: a validated `--vault-id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSource {
    /// The vault id (`default` unless `label@` was given).
    pub id: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `prompt`; `ask_vault_pass` keeps ansible's older `Vault password: ` wording.
    Prompt { ask_vault_pass: bool },
    /// A password file, or an executable printing the password.
    File(PathBuf),
}

/// Whether a password is being read to decrypt or chosen to encrypt (asked twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Decrypt,
    NewPassword,
}

impl SecretSource {
    /// Parses `[label@]SOURCE`; `;` is refused as ansible refuses it (it
    /// separates the header fields).
    pub fn parse_vault_id(spec: &str) -> Result<SecretSource, VaultError> {
        if spec.contains(';') {
            return Err(VaultError::Usage(format!(
                "`{spec}` is not a valid vault id: the character `;` is not allowed in vault ids"
            )));
        }
        let (label, source_text) = match spec.split_once('@') {
            Some((label, source)) => (label, source),
            None => (DEFAULT_ID, spec),
        };
        let from = match source_text {
            "prompt" => Source::Prompt { ask_vault_pass: false },
            "prompt_ask_vault_pass" => Source::Prompt { ask_vault_pass: true },
            "" => return Err(VaultError::Usage(format!("--vault-id `{spec}` names no password source"))),
            file => Source::File(PathBuf::from(file)),
        };
        Ok(SecretSource { id: label.to_string(), source: from })
    }

    pub fn file(path: impl Into<PathBuf>) -> SecretSource {
        SecretSource { id: DEFAULT_ID.into(), source: Source::File(path.into()) }
    }

    pub fn ask() -> SecretSource {
        SecretSource { id: DEFAULT_ID.into(), source: Source::Prompt { ask_vault_pass: true } }
    }

    /// Reads the password (runs the script, asks on the terminal).
    pub fn load(&self, purpose: Purpose) -> Result<Secret, VaultError> {
        let password = match &self.source {
            Source::Prompt { ask_vault_pass } => prompt(&self.id, *ask_vault_pass, purpose)?,
            Source::File(path) => from_file(path, &self.id)?,
        };
        Ok(Secret { id: self.id.clone(), password })
    }
}

/// The vault settings of ansible.cfg and the environment (vault_identity_list,
/// vault_password_file, ask_vault_pass), used together with the flags.
#[derive(Debug, Clone, Default)]
pub struct VaultDefaults {
    pub identity_list: Vec<String>,
    pub password_file: Option<PathBuf>,
    pub ask_vault_pass: bool,
}

/// Ansible's order: the configured identity list, `--vault-id`s, then
/// `--vault-password-file`s (and the configured file), then `--ask-vault-pass`.
pub fn ordered_sources(
    vault_ids: &[String],
    password_files: &[PathBuf],
    ask_vault_pass: bool,
    configured: &VaultDefaults,
) -> Result<Vec<SecretSource>, VaultError> {
    let specs: Vec<&String> = configured.identity_list.iter().chain(vault_ids).collect();
    let mut sources = specs.iter().map(|s| SecretSource::parse_vault_id(s)).collect::<Result<Vec<_>, _>>()?;
    sources.extend(password_files.iter().chain(&configured.password_file).map(SecretSource::file));
    if ask_vault_pass || configured.ask_vault_pass {
        sources.push(SecretSource::ask());
    }
    Ok(sources)
}

fn prompt(id: &str, ask_vault_pass: bool, purpose: Purpose) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let prompts: Vec<String> = match (ask_vault_pass, purpose) {
        (true, Purpose::Decrypt) => vec!["Vault password: ".into()],
        (true, Purpose::NewPassword) => vec!["New Vault password: ".into(), "Confirm New Vault password: ".into()],
        (false, Purpose::Decrypt) => vec![format!("Vault password ({id}): ")],
        (false, Purpose::NewPassword) => {
            vec![format!("New vault password ({id}): "), format!("Confirm new vault password ({id}): ")]
        }
    };
    let mut first: Option<Zeroizing<Vec<u8>>> = None;
    for text in prompts {
        let answer = rpassword::prompt_password(&text).map_err(|e| {
            VaultError::Usage(format!(
                "cannot ask for the vault password ({id}) without a terminal ({e}); \
                 use --vault-password-file FILE or --vault-id {id}@FILE instead"
            ))
        })?;
        let answer = Zeroizing::new(answer.trim().as_bytes().to_vec());
        if answer.is_empty() {
            return Err(VaultError::Usage("Invalid vault password was provided: it is empty".into()));
        }
        match &first {
            Some(first) if *first != answer => return Err(VaultError::Usage("Passwords do not match".into())),
            Some(_) => {}
            None => first = Some(answer),
        }
    }
    Ok(first.unwrap_or_default())
}

fn from_file(path: &Path, id: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| VaultError::Usage(format!("The vault password file `{}` was not found ({e})", path.display())))?;
    if meta.is_dir() {
        return Err(VaultError::Usage(format!("The vault password file `{}` is a directory", path.display())));
    }
    let password = if is_executable(&meta) {
        run_script(path, id)?
    } else {
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| VaultError::Usage(format!("Could not read vault password file `{}`: {e}", path.display())))?,
        );
        Zeroizing::new(bytes.trim_ascii().to_vec())
    };
    if password.is_empty() {
        return Err(VaultError::Usage(format!("Invalid vault password was provided from file `{}`: it is empty", path.display())));
    }
    Ok(password)
}

#[cfg(unix)]
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub(crate) fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

/// Runs a password script. Its stderr goes to the user's terminal (scripts
/// may prompt there); only its stdout is read, and no secret is passed in.
fn run_script(path: &Path, id: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    // Absolute, so `pw.sh` runs the file named rather than a `pw.sh` on $PATH.
    let program = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut command = Command::new(program);
    if is_client_script(path) {
        command.args(["--vault-id", id]);
    }
    command.stdin(Stdio::inherit()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let output = crate::process::output(&mut command).map_err(|e| {
            VaultError::Usage(format!(
                "Problem running vault password script `{}` ({e}). If this is not a script, remove the executable bit from the file",
                path.display()
            ))
        })?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(VaultError::Usage(format!("Vault password script `{}` failed ({})", path.display(), output.status)));
    }
    Ok(Zeroizing::new(trim_crlf(&stdout).to_vec()))
}

/// Python's `bytes.strip(b'\r\n')`: CR and LF off both ends.
fn trim_crlf(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b"\r\n".contains(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b"\r\n".contains(b)).map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// `something-client` or `something-client.ext` is told which vault id is wanted.
fn is_client_script(path: &Path) -> bool {
    path.file_stem().is_some_and(|stem| stem.to_string_lossy().ends_with("-client"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_id_specs() {
        let s = SecretSource::parse_vault_id("prod@/x/pw").unwrap();
        assert_eq!((s.id.as_str(), s.source), ("prod", Source::File("/x/pw".into())));
        let s = SecretSource::parse_vault_id("prompt").unwrap();
        assert_eq!((s.id.as_str(), s.source), ("default", Source::Prompt { ask_vault_pass: false }));
        assert!(SecretSource::parse_vault_id("a;b@x").is_err());
        assert!(SecretSource::parse_vault_id("dev@").is_err());
    }

    #[test]
    fn files_are_stripped_and_scripts_run() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("pw");
        std::fs::write(&file, "  s3cret \n").unwrap();
        assert_eq!(SecretSource::file(&file).load(Purpose::Decrypt).unwrap().password(), b"s3cret");

        let script = tmp.path().join("pw.sh");
        std::fs::write(&script, "#!/bin/sh\nprintf ' from script \\n'\n").unwrap();
        set_mode(&script, 0o700);
        assert_eq!(SecretSource::file(&script).load(Purpose::Decrypt).unwrap().password(), b" from script ");

        std::fs::write(&file, "\n").unwrap();
        let err = SecretSource::file(&file).load(Purpose::Decrypt).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn client_scripts_get_the_vault_id() {
        let tmp = tempfile::tempdir().unwrap();
        let script = tmp.path().join("keys-client.sh");
        std::fs::write(&script, "#!/bin/sh\n[ \"$1\" = --vault-id ] && echo \"pw-$2\"\n").unwrap();
        set_mode(&script, 0o700);
        let spec = format!("prod@{}", script.display());
        let secret = SecretSource::parse_vault_id(&spec).unwrap().load(Purpose::Decrypt).unwrap();
        assert_eq!(secret.password(), b"pw-prod");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let shown = format!("{:?}", Secret::new("default", b"hunter2".to_vec()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}
