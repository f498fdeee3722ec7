//! Authentication beyond plain keys against a real sshd: OpenSSH user
//! certificates, passphrase files, and ssh_config resolution end to end.

use std::fs;
use std::time::Duration;

use stockman::transport::ssh_config::{self, SshInputs};
use stockman::transport::{ConnectSpec, Connection, IdentitySources, Secret, TransportError};
use stockman_modules::Target;

use crate::sshd::{ssh_keygen, TestSshd};

async fn open(spec: &ConnectSpec) -> Result<Connection, TransportError> {
    Connection::open_with(spec, &IdentitySources::default()).await
}

/// sshd trusting user certificates from `user_ca`; `cert_key` is in no authorized_keys.
fn sshd_with_user_ca() -> TestSshd {
    TestSshd::start_with(|dir| {
        let d = |n: &str| dir.join(n).display().to_string();
        let user = stockman::transport::controller_user();
        ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", &d("user_ca")]);
        ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", &d("cert_key")]);
        ssh_keygen(&["-q", "-s", &d("user_ca"), "-I", "tier1-user", "-n", &user, &d("cert_key.pub")]);
        format!("TrustedUserCAKeys {}\n", d("user_ca.pub"))
    })
}

#[tokio::test]
async fn user_certificate_beside_the_key_authenticates() {
    let sshd = sshd_with_user_ca();
    let spec = ConnectSpec { private_key: Some(sshd.path("cert_key")), ..sshd.spec() };
    let conn = open(&spec).await.expect("certificate login");
    assert_eq!(conn.exec("echo ok", None).await.unwrap().stdout_str(), "ok\n");
    let log = fs::read_to_string(sshd.path("sshd.log")).unwrap();
    assert!(log.contains("Accepted publickey") && log.contains("ED25519-CERT"), "{log}");
}

#[tokio::test]
async fn certificate_file_elsewhere_is_used_and_without_it_the_key_is_refused() {
    let sshd = sshd_with_user_ca();
    let moved = sshd.path("elsewhere-cert.pub");
    fs::rename(sshd.path("cert_key-cert.pub"), &moved).unwrap();
    let bare = ConnectSpec { private_key: Some(sshd.path("cert_key")), ..sshd.spec() };
    let err = open(&bare).await.err().expect("no certificate, no login");
    assert!(matches!(err, TransportError::Auth { .. }), "{err}");
    let spec = ConnectSpec { certificate_files: vec![moved], ..bare };
    open(&spec).await.expect("CertificateFile login");
}

#[tokio::test]
async fn passphrase_file_decrypts_an_encrypted_key_and_never_shows_in_errors() {
    let sshd = TestSshd::start();
    let key = sshd.path("locked");
    ssh_keygen(&["-q", "-t", "ed25519", "-N", "s3cret-pass", "-f", &key.display().to_string()]);
    fs::write(sshd.path("authorized_keys"), fs::read_to_string(sshd.path("locked.pub")).unwrap()).unwrap();
    let spec = ConnectSpec {
        private_key: Some(key),
        key_passphrase: Some(Secret::new("s3cret-pass")),
        ..sshd.spec()
    };
    open(&spec).await.expect("decrypted with the passphrase");
    // Another path: a key decrypted once is kept for the rest of the process.
    let copy = sshd.path("locked-copy");
    fs::copy(sshd.path("locked"), &copy).unwrap();
    let wrong = ConnectSpec { private_key: Some(copy), key_passphrase: Some(Secret::new("n0pe-pass")), ..spec };
    let msg = open(&wrong).await.err().expect("wrong passphrase").to_string();
    assert!(msg.contains("does not decrypt") && !msg.contains("n0pe-pass"), "{msg}");
}

#[tokio::test]
async fn ssh_config_with_include_and_wildcards_reaches_the_server() {
    let sshd = TestSshd::start();
    let dir = sshd.dir.path();
    fs::create_dir(dir.join("config.d")).unwrap();
    fs::write(
        dir.join("config.d/50-tier1.conf"),
        format!(
            "Host tier1-*\n  HostName 127.0.0.1\n  Port {}\n  IdentityFile {}\n  UserKnownHostsFile {}\n  ServerAliveInterval 7\n",
            sshd.port,
            sshd.client_key.display(),
            sshd.known_hosts.display()
        ),
    )
    .unwrap();
    fs::write(
        dir.join("config"),
        format!(
            "Host nothing-here\n  Port 1\nHost * !tier1-bad\n  Include {}/config.d/*.conf\n  User {}\n  Port 2\n  GlobalKnownHostsFile none\n",
            dir.display(),
            sshd.user
        ),
    )
    .unwrap();
    let inputs = SshInputs {
        name: "web".into(),
        host: "tier1-web".into(),
        default_timeout: Duration::from_secs(5),
        ssh_args: vec![format!("-F {}", dir.join("config").display())],
        ..SshInputs::default()
    };
    let spec = ssh_config::resolve(&inputs).expect("config resolves");
    assert_eq!((spec.address.as_str(), spec.port), ("127.0.0.1", sshd.port));
    assert_eq!(spec.keepalive_interval, Duration::from_secs(7));
    let conn = open(&spec).await.expect("connects as the config says");
    assert_eq!(conn.exec("echo ok", None).await.unwrap().stdout_str(), "ok\n");
}
