//! Vault in templates: the `vault` and `unvault` filters (a passphrase given
//! in the template, not the run's vault secrets) and the `vault_encrypted`
//! and `vaulted_file` tests.

use super::py::type_name;
use super::{fail, py_str, to_json};
use crate::vault::{aes256, envelope, is_vault};
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::{Environment, Error};

/// The vault id both filters default to, as Ansible's.
const FILTER_DEFAULT_ID: &str = "filter_default";

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("vault", vault);
    env.add_filter("unvault", unvault);
    env.add_test("vault_encrypted", vault_encrypted);
    env.add_test("vaulted_file", vaulted_file);
}

/// `data | vault(secret, salt=None, vault_id='filter_default')`: vault text
/// (format 1.2 with the id), a random salt unless one is given.
fn vault(data: Jinja, secret: Jinja, kwargs: Kwargs) -> Result<String, Error> {
    let secret = text_of(&secret, "Secret passed is required to be a string")?;
    let data = text_of(&data, "Can only vault strings")?;
    // Ansible takes the salt's text, whatever its type (`salt=7` is b"7").
    let salt = match kwargs.get::<Option<Jinja>>("salt")?.filter(|s| !s.is_none()).map(|s| py_str(&s)) {
        Some(salt) if salt.is_empty() => return Err(fail("Unable to encrypt: Empty or invalid salt passed")),
        Some(salt) => salt.into_bytes(),
        None => aes256::random_salt().map_err(|e| fail(format!("Unable to encrypt: {e}")))?,
    };
    let vault_id = vault_id(&kwargs)?;
    // A wrapped object is the same text here: stockman's values carry no tags.
    let _wrap_object: Option<bool> = kwargs.get("wrap_object")?;
    kwargs.assert_all_used()?;
    Ok(envelope::format(&aes256::encrypt(data.as_bytes(), secret.as_bytes(), &salt), Some(&vault_id)))
}

/// `vault | unvault(secret, vault_id='filter_default')`: the plaintext of vault
/// text (or of an inline `!vault` value); any other string as it is.
fn unvault(value: Jinja, secret: Jinja, kwargs: Kwargs) -> Result<String, Error> {
    let secret = text_of(&secret, "Secret passed is required to be as string")?;
    let text = text_of(&value, "Vault should be in the form of a string")?;
    vault_id(&kwargs)?;
    kwargs.assert_all_used()?;
    // An inline `!vault` value was decrypted at load: Ansible decrypts its
    // ciphertext with the secret given here.
    let vaulted = crate::vault::keyring::ciphertext_of(&text).unwrap_or(text);
    if !is_vault(vaulted.as_bytes()) {
        return Ok(vaulted);
    }
    let undecryptable = || fail("Unable to decrypt.");
    let parsed = envelope::Envelope::parse(vaulted.as_bytes()).map_err(|_| undecryptable())?;
    let plain = aes256::decrypt(&parsed.payload, secret.as_bytes()).map_err(|_| undecryptable())?;
    String::from_utf8(plain.to_vec()).map_err(|_| fail("Unable to decrypt: the plaintext is not UTF-8."))
}

/// `vault_id=` or the deprecated `vaultid=`, as Ansible reads them.
fn vault_id(kwargs: &Kwargs) -> Result<String, Error> {
    let id = kwargs.get::<Option<String>>("vault_id")?;
    let legacy = kwargs.get::<Option<String>>("vaultid")?;
    Ok(id.or(legacy).unwrap_or_else(|| FILTER_DEFAULT_ID.into()))
}

/// A string argument, or Ansible's TypeError naming the Python type given.
fn text_of(v: &Jinja, what: &str) -> Result<String, Error> {
    match v.as_str() {
        Some(s) => Ok(s.to_string()),
        None => Err(fail(format!("{what}, instead we got <class '{}'>.", type_name(&to_json(v))))),
    }
}

/// Whether a value came from an inline `!vault` (Ansible: a vault-tagged
/// value; plain strings, vault text among them, are not).
fn vault_encrypted(v: Jinja) -> bool {
    v.as_str().is_some_and(|s| crate::vault::keyring::ciphertext_of(s).is_some())
}

/// Whether the file at `path` (on the controller) is vault text.
fn vaulted_file(path: String) -> Result<bool, Error> {
    use std::io::Read;
    let cannot = |_| fail(format!("Cannot test if the file '{path}' is a vault."));
    let mut head = Vec::with_capacity(envelope::HEADER.len());
    std::fs::File::open(&path).map_err(cannot)?.take(envelope::HEADER.len() as u64).read_to_end(&mut head).map_err(cannot)?;
    Ok(is_vault(&head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> Result<String, String> {
        let mut env = Environment::new();
        register(&mut env);
        env.render_str(text, minijinja::context! {}).map_err(|e| e.to_string())
    }

    #[test]
    fn vault_and_unvault_round_trip_with_the_given_passphrase() {
        let text = render("{{ 'hello' | vault('pw', salt='0123456789abcdef') }}").unwrap();
        assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;filter_default\n"), "{text}");
        assert_eq!(render("{{ 'hello' | vault('pw', salt='0123456789abcdef') }}").unwrap(), text, "a given salt is deterministic");
        assert_eq!(render("{{ 'hello' | vault('pw', vault_id='x') | unvault('pw', vault_id='x') }}").unwrap(), "hello");
        assert_eq!(render("{{ 'plain' | unvault('pw') }}").unwrap(), "plain");
    }

    /// The value ansible-core's own filter_encryption target expects.
    #[test]
    fn a_given_salt_gives_ansibles_vault_text() {
        let expected = "$ANSIBLE_VAULT;1.2;AES256;filter_default\n\
            33370a34333734353636633035656232613935353432656132646533346233326431346232616261\n\
            6133383034376566366261316365633931356133633337396363370a376664386236313834326561\n\
            6338373864623763613165366636633031303739\n";
        assert_eq!(render("{{ 'secret' | vault('test', salt=7) }}").unwrap(), expected);
        assert_eq!(render("{{ 'secret' | vault('test', salt=7) | unvault('test') }}").unwrap(), "secret");
    }

    #[test]
    fn a_wrong_passphrase_or_type_fails_without_echoing_the_secret() {
        let e = render("{{ 'hello' | vault('pw1') | unvault('s3cretpw') }}").unwrap_err();
        assert!(e.contains("Unable to decrypt.") && !e.contains("s3cretpw"), "{e}");
        let e = render("{{ 'hello' | vault(42) }}").unwrap_err();
        assert!(e.contains("Secret passed is required to be a string, instead we got <class 'int'>."), "{e}");
        let e = render("{{ [1] | vault('pw') }}").unwrap_err();
        assert!(e.contains("Can only vault strings, instead we got <class 'list'>."), "{e}");
    }

    #[test]
    fn vaulted_file_reads_the_header_and_names_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let (vaulted, plain) = (dir.path().join("v"), dir.path().join("p"));
        std::fs::write(&vaulted, "$ANSIBLE_VAULT;1.1;AES256\n3132\n").unwrap();
        std::fs::write(&plain, "x").unwrap();
        let test = |p: &std::path::Path| render(&format!("{{{{ '{}' is vaulted_file }}}}", p.display()));
        assert_eq!(test(&vaulted).unwrap(), "True");
        assert_eq!(test(&plain).unwrap(), "False");
        assert!(test(&dir.path().join("missing")).unwrap_err().contains("Cannot test if the file"));
        assert_eq!(render("{{ '$ANSIBLE_VAULT;1.1;AES256' is vault_encrypted }}").unwrap(), "False");
    }
}
