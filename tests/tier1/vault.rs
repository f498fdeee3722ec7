//! Ansible Vault compatibility, checked against the real ansible-vault of
//! ansible-core (installed by tests/run-all.sh; these tests fail without it),
//! and vaulted variables used by a real playbook run against the real sshd.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const VENV_BIN: &str = "/var/cache/stockman/ansible-venv/bin";

/// ansible-core's tool; missing is a failure, not a skip.
fn ansible(tool: &str) -> PathBuf {
    let path = Path::new(VENV_BIN).join(tool);
    assert!(path.exists(), "{} is missing: install ansible-core with tests/run-all.sh", path.display());
    path
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

fn finish(out: Output) -> Out {
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn command(program: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("ANSIBLE_VAULT_PASSWORD_FILE")
        .env_remove("ANSIBLE_VAULT_IDENTITY_LIST")
        .env("ANSIBLE_LOCAL_TEMP", dir.join(".ansible-tmp"))
        .env("HOME", dir)
        .stdin(Stdio::null());
    cmd
}

fn stockman_vault(dir: &Path, args: &[&str]) -> Out {
    let mut full = vec!["vault"];
    full.extend_from_slice(args);
    finish(command(Path::new(env!("CARGO_BIN_EXE_stockman")), dir, &full).output().unwrap())
}

fn ansible_vault(dir: &Path, args: &[&str]) -> Out {
    finish(command(&ansible("ansible-vault"), dir, args).output().unwrap())
}

/// A project directory with password files `pw` (default id) and `prod-pw`.
fn scratch() -> Project {
    let p = Project::new();
    p.write("pw", "correct horse\n").write("prod-pw", "battery staple\n").write("plain.yml", PLAIN);
    p
}

const PLAIN: &str = "db_user: app\ndb_password: \"p@ss; $(rm -rf /) `x`\"\n";

fn read(p: &Project, rel: &str) -> String {
    std::fs::read_to_string(p.path(rel)).unwrap()
}

#[test]
fn files_from_ansible_vault_open_in_stockman() {
    let p = scratch();
    let dir = p.dir.path();
    std::fs::copy(p.path("plain.yml"), p.path("v11.yml")).unwrap();
    ansible_vault(dir, &["encrypt", "--vault-password-file", "pw", "v11.yml"]).ok();
    assert!(read(&p, "v11.yml").starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
    let view = stockman_vault(dir, &["view", "--vault-password-file", "pw", "v11.yml"]).ok();
    assert_eq!(view.stdout, PLAIN);

    ansible_vault(dir, &["encrypt", "--vault-id", "prod@prod-pw", "--output", "v12.yml", "plain.yml"]).ok();
    assert!(read(&p, "v12.yml").starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
    // Several ids: the one named in the header is found among them.
    stockman_vault(dir, &["decrypt", "--vault-id", "dev@pw", "--vault-id", "prod@prod-pw", "v12.yml"]).ok();
    assert_eq!(read(&p, "v12.yml"), PLAIN);
}

#[test]
fn files_from_stockman_open_in_ansible_vault() {
    let p = scratch();
    let dir = p.dir.path();
    stockman_vault(dir, &["encrypt", "--vault-password-file", "pw", "--output", "v11.yml", "plain.yml"]).ok();
    let text = read(&p, "v11.yml");
    assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n") && text.ends_with('\n'), "{text}");
    assert!(text.lines().skip(1).all(|l| l.len() <= 80 && l.bytes().all(|b| b.is_ascii_hexdigit())), "{text}");
    assert_eq!(ansible_vault(dir, &["view", "--vault-password-file", "pw", "v11.yml"]).ok().stdout, PLAIN);

    std::fs::copy(p.path("plain.yml"), p.path("v12.yml")).unwrap();
    stockman_vault(dir, &["encrypt", "--vault-id", "prod@prod-pw", "v12.yml"]).ok();
    assert!(read(&p, "v12.yml").starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
    assert_eq!(mode(&p.path("v12.yml")), 0o600, "encrypted files are owner-only, as ansible-vault writes them");
    ansible_vault(dir, &["decrypt", "--vault-id", "prod@prod-pw", "v12.yml"]).ok();
    assert_eq!(read(&p, "v12.yml"), PLAIN);
}

#[test]
fn encrypt_string_round_trips_through_ansible() {
    let p = scratch();
    let dir = p.dir.path();
    let out = stockman_vault(dir, &["encrypt_string", "--vault-password-file", "pw", "--name", "api_token", "tok-3n; $(id)"]).ok();
    assert!(out.stdout.starts_with("api_token: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n"), "{}", out.stdout);
    p.write("es.yml", &out.stdout);
    let mut stdin_run = command(Path::new(env!("CARGO_BIN_EXE_stockman")), dir, &[
        "vault", "encrypt_string", "--vault-id", "prod@prod-pw", "--stdin-name", "from_stdin",
    ]);
    let stdin_out = finish(pipe_stdin(&mut stdin_run, b"line one\nline two")).ok();
    assert!(stdin_out.stdout.starts_with("from_stdin: !vault |\n          $ANSIBLE_VAULT;1.2;AES256;prod\n"), "{}", stdin_out.stdout);
    p.write("es2.yml", &stdin_out.stdout);

    // ansible itself reads both values from the YAML stockman wrote.
    let debug = finish(
        command(&ansible("ansible"), dir, &[
            "localhost", "-c", "local", "-m", "debug", "-a", "msg={{ api_token }}|{{ from_stdin }}",
            "-e", "@es.yml", "-e", "@es2.yml", "--vault-password-file", "pw", "--vault-id", "prod@prod-pw",
        ])
        .output()
        .unwrap(),
    )
    .ok();
    assert!(debug.stdout.contains(r#""msg": "tok-3n; $(id)|line one\nline two""#), "{}", debug.stdout);
}

#[test]
fn rekey_both_ways() {
    let p = scratch();
    let dir = p.dir.path();
    std::fs::copy(p.path("plain.yml"), p.path("a.yml")).unwrap();
    ansible_vault(dir, &["encrypt", "--vault-password-file", "pw", "a.yml"]).ok();
    std::fs::set_permissions(p.path("a.yml"), std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    stockman_vault(dir, &["rekey", "--vault-password-file", "pw", "--new-vault-id", "prod@prod-pw", "a.yml"]).ok();
    assert!(read(&p, "a.yml").starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
    assert_eq!(mode(&p.path("a.yml")), 0o640, "rekey keeps the file's mode");
    assert_eq!(ansible_vault(dir, &["view", "--vault-id", "prod@prod-pw", "a.yml"]).ok().stdout, PLAIN);
    assert_ne!(ansible_vault(dir, &["view", "--vault-password-file", "pw", "a.yml"]).code, 0, "the old password no longer opens it");

    ansible_vault(dir, &["rekey", "--vault-id", "prod@prod-pw", "--new-vault-password-file", "pw", "a.yml"]).ok();
    assert_eq!(stockman_vault(dir, &["view", "--vault-password-file", "pw", "a.yml"]).ok().stdout, PLAIN);
}

#[test]
fn wrong_and_missing_passwords_are_clear_errors() {
    let p = scratch();
    let dir = p.dir.path();
    stockman_vault(dir, &["encrypt", "--vault-password-file", "pw", "--output", "v.yml", "plain.yml"]).ok();
    let wrong = stockman_vault(dir, &["view", "--vault-password-file", "prod-pw", "v.yml"]);
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.contains("v.yml: Decryption failed (no vault secrets were found that could decrypt)"), "{}", wrong.stderr);
    assert!(!wrong.stderr.contains("battery") && !wrong.stdout.contains("p@ss"), "{}", wrong.stderr);

    let missing = stockman_vault(dir, &["view", "--vault-password-file", "nope", "v.yml"]);
    assert!(missing.code != 0 && missing.stderr.contains("The vault password file `nope` was not found"), "{}", missing.stderr);

    // --ask-vault-pass (and the prompt ansible-vault falls back to) needs a terminal: say so.
    let no_tty = finish(
        command(Path::new("setsid"), dir, &["-w", env!("CARGO_BIN_EXE_stockman"), "vault", "view", "v.yml"]).output().unwrap(),
    );
    assert!(no_tty.code != 0 && no_tty.stderr.contains("without a terminal"), "{}", no_tty.stderr);
}

#[test]
fn password_scripts_and_the_environment_supply_passwords() {
    let p = scratch();
    let dir = p.dir.path();
    p.write("pw.sh", "#!/bin/sh\necho 'correct horse'\n");
    set_mode(&p.path("pw.sh"), 0o700);
    stockman_vault(dir, &["encrypt", "--vault-password-file", "pw.sh", "--output", "v.yml", "plain.yml"]).ok();
    assert_eq!(ansible_vault(dir, &["view", "--vault-password-file", "pw", "v.yml"]).ok().stdout, PLAIN);
    let mut env_run = command(Path::new(env!("CARGO_BIN_EXE_stockman")), dir, &["vault", "view", "v.yml"]);
    env_run.env("ANSIBLE_VAULT_PASSWORD_FILE", p.path("pw"));
    assert_eq!(finish(env_run.output().unwrap()).ok().stdout, PLAIN);
}

#[test]
fn edit_reencrypts_through_a_private_temp_file() {
    let p = scratch();
    let dir = p.dir.path();
    std::fs::copy(p.path("plain.yml"), p.path("e.yml")).unwrap();
    ansible_vault(dir, &["encrypt", "--vault-id", "prod@prod-pw", "e.yml"]).ok();
    // The "editor" records where and how it found the plaintext, then edits it.
    p.write("editor.sh", "#!/bin/sh\nstat -c %a \"$1\" > \"$LOG\"\necho \"$1\" >> \"$LOG\"\necho 'added: 1' >> \"$1\"\n");
    set_mode(&p.path("editor.sh"), 0o700);
    let mut edit = command(Path::new(env!("CARGO_BIN_EXE_stockman")), dir, &["vault", "edit", "--vault-id", "prod@prod-pw", "e.yml"]);
    edit.env("EDITOR", p.path("editor.sh")).env("LOG", p.path("editor.log"));
    finish(edit.output().unwrap()).ok();
    let log = read(&p, "editor.log");
    let mut lines = log.lines();
    assert_eq!(lines.next(), Some("600"), "{log}");
    let temp = lines.next().unwrap();
    assert!(temp.ends_with(".yml") && !Path::new(temp).exists(), "the temp file is removed: {log}");
    assert!(read(&p, "e.yml").starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"), "keeps its vault id");
    let view = ansible_vault(dir, &["view", "--vault-id", "prod@prod-pw", "e.yml"]).ok();
    assert_eq!(view.stdout, format!("{PLAIN}added: 1\n"));

    let mut create = command(Path::new(env!("CARGO_BIN_EXE_stockman")), dir, &["vault", "create", "--vault-password-file", "pw", "new.yml"]);
    create.env("EDITOR", p.path("editor.sh")).env("LOG", p.path("editor.log"));
    finish(create.output().unwrap()).ok();
    assert_eq!(ansible_vault(dir, &["view", "--vault-password-file", "pw", "new.yml"]).ok().stdout, "added: 1\n");
}

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    db_password: !vault |
INLINE
  tasks:
    - name: write the secrets where the app reads them
      copy:
        content: "{{ db_password }}|{{ api_token }}|{{ group_secret }}|{{ host_secret }}\n"
        dest: "{{ remote }}/app.secret"
        mode: "0600"
"#;

/// An inline `!vault` play variable (from ansible-vault encrypt_string), a
/// vaulted `-e @file`, a vaulted group_vars file and an inline `!vault` in
/// host_vars under another vault id reach the host, and no output shows them.
#[test]
fn a_playbook_uses_vaulted_variables_without_showing_them() {
    let sshd = TestSshd::start();
    let p = scratch();
    let dir = p.dir.path();
    p.inventory(&sshd, &["h"]);
    let mut es = command(&ansible("ansible-vault"), dir, &["encrypt_string", "--vault-password-file", "pw", "--stdin-name", "x"]);
    let inline = finish(pipe_stdin(&mut es, b"inl1ne-db-pa55")).ok().stdout;
    let block: String = inline.lines().skip(1).map(|l| format!("    {l}\n")).collect();
    p.write("site.yml", &PLAY.replace("INLINE\n", &block));
    p.write("secrets.yml", "api_token: t0ken-fr0m-file\n");
    ansible_vault(dir, &["encrypt", "--vault-password-file", "pw", "secrets.yml"]).ok();
    p.write("group_vars/test.yml", "group_secret: gr0up-s3cret\n");
    stockman_vault(dir, &["encrypt", "--vault-password-file", "pw", "group_vars/test.yml"]).ok();
    let host_secret = stockman_vault(dir, &["encrypt_string", "--vault-id", "prod@prod-pw", "--name", "host_secret", "h0st-s3cret"]).ok();
    p.write("host_vars/h.yml", &format!("plain_note: hello\n{}", host_secret.stdout));

    let remote = format!("remote={}", p.remote_str());
    for verbosity in ["-v", "-vvv"] {
        let run = p.run(&sshd, "site.yml", &["-e", &remote, "-e", "@secrets.yml", "--vault-password-file", "pw", "--vault-id", "prod@prod-pw", verbosity]);
        run.assert_code(0);
        let all = format!("{}{}", run.stdout, run.stderr);
        for secret in ["inl1ne", "t0ken", "gr0up", "h0st", "correct horse", "battery"] {
            assert!(!all.contains(secret), "`{secret}` leaked at {verbosity}:\n{all}");
        }
        assert_eq!(read_remote(&p), "inl1ne-db-pa55|t0ken-fr0m-file|gr0up-s3cret|h0st-s3cret\n");
        std::fs::remove_file(p.remote("app.secret")).unwrap();
        assert_eq!(run.recap("h"), recap("h", 1, 1, 0, 0, 0, 0));
    }

    let none = p.run(&sshd, "site.yml", &["-e", &remote]);
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("site.yml:5:18") && none.stderr.contains("no vault secrets found"), "{}", none.stderr);
    let wrong = p.run(&sshd, "site.yml", &["-e", &remote, "--vault-password-file", "prod-pw"]);
    assert_ne!(wrong.code, 0);
    assert!(wrong.stderr.contains("Decryption failed (no vault secrets were found that could decrypt)"), "{}", wrong.stderr);
    assert!(!format!("{}{}", wrong.stdout, wrong.stderr).contains("battery"), "{}", wrong.stderr);
    // Issue 13 item 6: a decryption failure, not a syntax error, naming the vault ids (never a password).
    let named = p.run(&sshd, "site.yml", &["-e", &remote, "--vault-id", "dev@prod-pw"]);
    assert_ne!(named.code, 0);
    assert!(named.stderr.contains("site.yml:5:18") && !named.stderr.contains("YAML syntax error"), "{}", named.stderr);
    assert!(named.stderr.contains("the data is for vault id `default`, tried the vault secrets `dev`"), "{}", named.stderr);
    assert!(!format!("{}{}", named.stdout, named.stderr).contains("battery"), "{}", named.stderr);
}

fn read_remote(p: &Project) -> String {
    std::fs::read_to_string(p.remote("app.secret")).unwrap()
}

fn pipe_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
