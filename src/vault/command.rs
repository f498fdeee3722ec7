//! `stockman vault ACTION`: ansible-vault's encrypt, decrypt, view, edit,
//! rekey and encrypt_string, with its option names and its file format.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{ArgAction, Args, Subcommand};
use zeroize::Zeroizing;

use super::files::{self, PlainTemp};
use super::keyring::seal;
use super::secrets::{ordered_sources, Purpose, SecretSource, VaultDefaults};
use super::{load_keyring, Keyring, Secret, VaultError};

/// Where vault passwords come from; shared by `playbook` and `vault`.
#[derive(Args, Debug, Clone, Default)]
pub struct VaultFlags {
    /// A vault password: [LABEL@]SOURCE, SOURCE being a file, an executable printing it, or `prompt`; repeatable.
    #[arg(long = "vault-id", value_name = "[LABEL@]SOURCE", action = ArgAction::Append)]
    pub vault_ids: Vec<String>,
    /// File holding the vault password (or an executable printing it); repeatable.
    #[arg(long = "vault-password-file", visible_alias = "vault-pass-file", value_name = "FILE", action = ArgAction::Append)]
    pub vault_password_files: Vec<PathBuf>,
    /// Ask for the vault password on the terminal.
    #[arg(short = 'J', long = "ask-vault-pass", visible_alias = "ask-vault-password")]
    pub ask_vault_pass: bool,
}

impl VaultFlags {
    /// The validated password sources, in Ansible's order (with the configured ones).
    pub fn sources(&self, configured: &VaultDefaults) -> Result<Vec<SecretSource>, VaultError> {
        ordered_sources(&self.vault_ids, &self.vault_password_files, self.ask_vault_pass, configured)
    }

    /// Like [`sources`](Self::sources), but asks on the terminal when nothing
    /// was given, as ansible-vault does.
    fn sources_or_prompt(&self) -> Result<Vec<SecretSource>, VaultError> {
        // ansible-vault reads ansible.cfg and ANSIBLE_* too.
        let loaded = crate::config::load_reporting().map_err(VaultError::Usage)?;
        let mut sources = self.sources(&crate::config::vault_defaults(&loaded))?;
        if sources.is_empty() {
            sources.push(SecretSource::ask());
        }
        Ok(sources)
    }
}

#[derive(Args, Debug)]
pub struct VaultArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Encrypt files (stdin when none) in place or to --output.
    Encrypt(EncryptArgs),
    /// Decrypt vault files (stdin when none) in place or to --output.
    Decrypt(DecryptArgs),
    /// Show the plaintext of vault files.
    View(ViewArgs),
    /// Decrypt into $EDITOR (a 0600 temp file), re-encrypt on save.
    Edit(EditArgs),
    /// Write a new vault file with $EDITOR.
    Create(CreateArgs),
    /// Re-encrypt vault files with a new password.
    Rekey(RekeyArgs),
    /// Encrypt strings into `!vault |` YAML values.
    #[command(name = "encrypt_string", visible_alias = "encrypt-string")]
    EncryptString(EncryptStringArgs),
}

#[derive(Args, Debug)]
struct EncryptArgs {
    #[command(flatten)]
    flags: VaultFlags,
    /// The vault id to encrypt with (required when several are given).
    #[arg(long = "encrypt-vault-id", value_name = "ID")]
    encrypt_vault_id: Option<String>,
    /// Write here instead of in place; `-` is stdout.
    #[arg(long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct DecryptArgs {
    #[command(flatten)]
    flags: VaultFlags,
    /// Write here instead of in place; `-` is stdout.
    #[arg(long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct ViewArgs {
    #[command(flatten)]
    flags: VaultFlags,
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct EditArgs {
    #[command(flatten)]
    flags: VaultFlags,
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct CreateArgs {
    #[command(flatten)]
    flags: VaultFlags,
    /// The vault id to encrypt with (required when several are given).
    #[arg(long = "encrypt-vault-id", value_name = "ID")]
    encrypt_vault_id: Option<String>,
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Args, Debug)]
struct RekeyArgs {
    #[command(flatten)]
    flags: VaultFlags,
    /// The new vault id to encrypt with (among the new ones).
    #[arg(long = "encrypt-vault-id", value_name = "ID")]
    encrypt_vault_id: Option<String>,
    /// File (or executable) with the new password.
    #[arg(long = "new-vault-password-file", value_name = "FILE", conflicts_with = "new_vault_id")]
    new_vault_password_file: Option<PathBuf>,
    /// The new vault identity: [LABEL@]SOURCE.
    #[arg(long = "new-vault-id", value_name = "[LABEL@]SOURCE")]
    new_vault_id: Option<String>,
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct EncryptStringArgs {
    #[command(flatten)]
    flags: VaultFlags,
    /// The vault id to encrypt with (required when several are given).
    #[arg(long = "encrypt-vault-id", value_name = "ID")]
    encrypt_vault_id: Option<String>,
    /// Write here instead of stdout.
    #[arg(long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The variable name of each string, in order; repeatable.
    #[arg(short = 'n', long = "name", value_name = "NAME", action = ArgAction::Append)]
    names: Vec<String>,
    /// The variable name for the string read from stdin (implies reading stdin).
    #[arg(long = "stdin-name", value_name = "NAME")]
    stdin_name: Option<String>,
    /// Strings to encrypt; `-` or none reads stdin.
    #[arg(value_name = "STRING")]
    strings: Vec<String>,
}

/// Runs `stockman vault ...`; returns the exit code.
pub fn run(args: VaultArgs) -> u8 {
    let result = match args.action {
        Action::Encrypt(a) => encrypt(a),
        Action::Decrypt(a) => decrypt(a),
        Action::View(a) => view(a),
        Action::Edit(a) => edit(a),
        Action::Create(a) => create(a),
        Action::Rekey(a) => rekey(a),
        Action::EncryptString(a) => encrypt_string(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => crate::report::error::fatal(&e.to_string(), 1),
    }
}

/// A status line on stderr, only when a person watches stdout (as ansible-vault).
fn status(text: &str) {
    if std::io::stdout().is_terminal() {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

fn inputs(files: &[PathBuf]) -> Vec<PathBuf> {
    if files.is_empty() { vec![PathBuf::from("-")] } else { files.to_vec() }
}

fn check_output(output: &Option<PathBuf>, inputs: &[PathBuf]) -> Result<(), VaultError> {
    if output.is_some() && inputs.len() > 1 {
        return Err(VaultError::Usage("At most one input file may be used with the --output option".into()));
    }
    Ok(())
}

fn with_file(path: &Path) -> impl Fn(VaultError) -> VaultError + '_ {
    move |e| match e {
        VaultError::Usage(_) | VaultError::Io(_) => e,
        _ => VaultError::Usage(format!("{}: {e}", path.display())),
    }
}

fn encrypting(sources: Vec<SecretSource>, id: Option<&str>) -> Result<Secret, VaultError> {
    let keyring = load_keyring(&sources, Purpose::NewPassword)?;
    keyring.encrypting_secret(id).cloned()
}

fn encrypt(a: EncryptArgs) -> Result<(), VaultError> {
    let inputs = inputs(&a.files);
    check_output(&a.output, &inputs)?;
    let secret = encrypting(a.flags.sources_or_prompt()?, a.encrypt_vault_id.as_deref())?;
    for input in &inputs {
        let input = files::real_path(input);
        let text = seal(&files::read_input(&input)?, &secret, Some(&secret.id)).map_err(with_file(&input))?;
        files::write_output(a.output.as_deref().unwrap_or(&input), text.as_bytes(), 0o600)?;
    }
    status("Encryption successful");
    Ok(())
}

fn decrypt(a: DecryptArgs) -> Result<(), VaultError> {
    let inputs = inputs(&a.files);
    check_output(&a.output, &inputs)?;
    let keyring = load_keyring(&a.flags.sources_or_prompt()?, Purpose::Decrypt)?;
    for input in &inputs {
        let input = files::real_path(input);
        let opened = keyring.open(&files::read_input(&input)?).map_err(with_file(&input))?;
        files::write_output(a.output.as_deref().unwrap_or(&input), &opened.plaintext, 0o600)?;
    }
    status("Decryption successful");
    Ok(())
}

fn view(a: ViewArgs) -> Result<(), VaultError> {
    let keyring = load_keyring(&a.flags.sources_or_prompt()?, Purpose::Decrypt)?;
    for input in &a.files {
        let opened = keyring.open(&files::read_input(input)?).map_err(with_file(input))?;
        files::write_output(Path::new("-"), &opened.plaintext, 0)?;
    }
    Ok(())
}

fn edit(a: EditArgs) -> Result<(), VaultError> {
    let keyring = load_keyring(&a.flags.sources_or_prompt()?, Purpose::Decrypt)?;
    for input in &a.files {
        edit_one(&keyring, &files::real_path(input))?;
    }
    Ok(())
}

/// Decrypts into a private temp file, runs the editor, and re-encrypts with
/// the same secret and vault id when the content changed.
fn edit_one(keyring: &Keyring, path: &Path) -> Result<(), VaultError> {
    let opened = keyring.open(&files::read_input(path)?).map_err(with_file(path))?;
    let temp = PlainTemp::create(path, &opened.plaintext)?;
    run_editor(&temp.path)?;
    let edited = temp.read()?;
    if *edited == *opened.plaintext {
        return Ok(());
    }
    let text = seal(&edited, opened.secret, opened.envelope.vault_id.as_deref())?;
    files::write_output(path, text.as_bytes(), files::existing_mode(path))
}

/// Like edit, starting from nothing; an existing file is refused.
fn create(a: CreateArgs) -> Result<(), VaultError> {
    if a.file.exists() {
        return Err(VaultError::Usage(format!("{} exists, please use 'edit' instead", a.file.display())));
    }
    let secret = encrypting(a.flags.sources_or_prompt()?, a.encrypt_vault_id.as_deref())?;
    let temp = PlainTemp::create(&a.file, b"")?;
    run_editor(&temp.path)?;
    let text = seal(&temp.read()?, &secret, Some(&secret.id))?;
    files::write_output(&a.file, text.as_bytes(), 0o600)
}

/// `$EDITOR` (split on spaces, e.g. `code --wait`) or vi, with the temp file
/// as its last argument; the file name is the only thing it is given.
fn run_editor(file: &Path) -> Result<(), VaultError> {
    let editor = std::env::var("EDITOR").ok().filter(|e| !e.trim().is_empty()).unwrap_or_else(|| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let mut command = Command::new(program);
    command.args(words).arg(file);
    let status = crate::process::spawn(&mut command)
        .and_then(|mut child| child.wait())
        .map_err(|e| VaultError::Usage(format!("Unable to execute the editor `{editor}`: {e}; set $EDITOR")))?;
    if !status.success() {
        return Err(VaultError::Usage(format!("the editor `{editor}` failed ({status}); the file was left unchanged")));
    }
    Ok(())
}

fn rekey(a: RekeyArgs) -> Result<(), VaultError> {
    let keyring = load_keyring(&a.flags.sources_or_prompt()?, Purpose::Decrypt)?;
    let new_sources = match (&a.new_vault_password_file, &a.new_vault_id) {
        (Some(file), _) => vec![SecretSource::file(file)],
        (None, Some(spec)) => vec![SecretSource::parse_vault_id(spec)?],
        (None, None) => vec![SecretSource::ask()],
    };
    let secret = encrypting(new_sources, a.encrypt_vault_id.as_deref())?;
    for input in &a.files {
        let input = files::real_path(input);
        let opened = keyring.open(&files::read_input(&input)?).map_err(with_file(&input))?;
        let text = seal(&opened.plaintext, &secret, Some(&secret.id))?;
        files::write_output(&input, text.as_bytes(), files::existing_mode(&input))?;
    }
    let _ = writeln!(std::io::stderr(), "Rekey successful");
    Ok(())
}

/// One string to encrypt and the variable name it gets.
struct Plain {
    text: Zeroizing<Vec<u8>>,
    name: Option<String>,
    from: &'static str,
}

fn encrypt_string(a: EncryptStringArgs) -> Result<(), VaultError> {
    let secret = encrypting(a.flags.sources_or_prompt()?, a.encrypt_vault_id.as_deref())?;
    let plains = string_inputs(&a)?;
    let mut out = String::new();
    for (index, plain) in plains.iter().enumerate() {
        if plains.len() > 1 {
            delimiter(index + 1, plain);
        }
        let text = seal(&plain.text, &secret, Some(&secret.id))?;
        out.push_str(&yaml_block(&text, plain.name.as_deref()));
        out.push('\n');
    }
    files::write_output(a.output.as_deref().unwrap_or(Path::new("-")), out.as_bytes(), 0o600)?;
    status("Encryption successful");
    Ok(())
}

/// The strings of `encrypt_string`: stdin first (when `-`, --stdin-name or no
/// arguments), then the arguments paired with --name in order.
fn string_inputs(a: &EncryptStringArgs) -> Result<Vec<Plain>, VaultError> {
    let mut plains = Vec::new();
    let args: Vec<&String> = a.strings.iter().filter(|s| *s != "-").collect();
    if a.strings.iter().any(|s| s == "-") || a.stdin_name.is_some() || a.strings.is_empty() {
        let mut text = Zeroizing::new(Vec::new());
        std::io::stdin().read_to_end(&mut text).map_err(|e| VaultError::Io(format!("Unable to read stdin: {e}")))?;
        if text.is_empty() {
            return Err(VaultError::Usage("stdin was empty, not encrypting".into()));
        }
        plains.push(Plain { text, name: a.stdin_name.clone(), from: "stdin" });
    }
    for (i, arg) in args.into_iter().enumerate() {
        if arg.is_empty() {
            return Err(VaultError::Usage("The plaintext provided from the command line args was empty, not encrypting".into()));
        }
        let text = Zeroizing::new(arg.as_bytes().to_vec());
        plains.push(Plain { text, name: a.names.get(i).cloned(), from: "the command line args" });
    }
    Ok(plains)
}

fn delimiter(number: usize, plain: &Plain) {
    let line = match &plain.name {
        Some(name) => format!("# The encrypted version of variable (\"{name}\", the string #{number} from {}).", plain.from),
        None => format!("# The encrypted version of the string #{number} from {}.)", plain.from),
    };
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `name: !vault |` and the vault text indented by 10, as ansible-vault prints it.
pub fn yaml_block(vault_text: &str, name: Option<&str>) -> String {
    let mut out = match name {
        Some(name) => format!("{name}: !vault |"),
        None => "!vault |".to_string(),
    };
    for line in vault_text.lines() {
        out.push_str("\n          ");
        out.push_str(line);
    }
    out
}
