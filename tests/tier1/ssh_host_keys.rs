//! known_hosts in full against a real sshd: host certificates signed by a CA,
//! @revoked keys, accept-new, global files and patterns.

use std::fs;
use std::path::Path;

use stockman::transport::{ConnectSpec, Connection, HostKeyPolicy, IdentitySources, TransportError};
use stockman_modules::Target;

use crate::sshd::{read, ssh_keygen, TestSshd};

async fn open(spec: &ConnectSpec) -> Result<Connection, TransportError> {
    Connection::open_with(spec, &IdentitySources::default()).await
}

async fn echo_ok(conn: &Connection) {
    let out = conn.exec("echo ok", None).await.expect("exec");
    assert_eq!(out.stdout_str(), "ok\n");
}

/// The key part (`type base64`) of a .pub file.
fn key_of(pub_file: &Path) -> String {
    read(pub_file).split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// sshd presenting a host certificate for `principal`, signed by `ca` in its dir.
fn sshd_with_host_certificate(principal: &'static str) -> TestSshd {
    TestSshd::start_with(move |dir| {
        let d = |n: &str| dir.join(n).display().to_string();
        ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", &d("ca")]);
        ssh_keygen(&["-q", "-s", &d("ca"), "-I", "tier1-host", "-h", "-n", principal, &d("hostkey.pub")]);
        format!("HostCertificate {}\n", d("hostkey-cert.pub"))
    })
}

fn with_known_hosts(sshd: &TestSshd, name: &str, text: &str) -> ConnectSpec {
    let file = sshd.path(name);
    fs::write(&file, text).unwrap();
    ConnectSpec { known_hosts: vec![file], ..sshd.spec() }
}

#[tokio::test]
async fn host_certificate_signed_by_a_trusted_ca_is_accepted_without_the_host_key() {
    let sshd = sshd_with_host_certificate("127.0.0.1");
    let ca_line = format!("@cert-authority [127.0.0.1]:*,!bad.example ssh-ed25519 {}\n", key_of(&sshd.path("ca.pub")).split_whitespace().nth(1).unwrap());
    // Only the CA is known: the plain host key alone would be an unknown host.
    let spec = with_known_hosts(&sshd, "ca_known_hosts", &ca_line);
    let conn = open(&spec).await.expect("certificate accepted");
    echo_ok(&conn).await;
    conn.close().await;
}

#[tokio::test]
async fn host_certificate_for_another_name_is_refused() {
    let sshd = sshd_with_host_certificate("other.example");
    let ca_line = format!("@cert-authority * {}\n", key_of(&sshd.path("ca.pub")));
    let spec = with_known_hosts(&sshd, "ca_known_hosts", &ca_line);
    let err = open(&spec).await.err().expect("wrong principal refused");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::HostCertificate { .. }), "{msg}");
    assert!(msg.contains("other.example") && msg.contains("ca_known_hosts line 1"), "{msg}");
}

#[tokio::test]
async fn a_revoked_ca_or_host_key_is_refused_naming_the_line() {
    let sshd = sshd_with_host_certificate("127.0.0.1");
    let ca = key_of(&sshd.path("ca.pub"));
    let text = format!("@cert-authority * {ca}\n# revoked below\n@revoked * {ca}\n");
    let err = open(&with_known_hosts(&sshd, "kh_ca", &text)).await.err().expect("revoked CA");
    assert!(matches!(&err, TransportError::HostKeyRevoked { line: 3, .. }), "{err}");

    let plain = TestSshd::start();
    let host = key_of(&plain.path("hostkey.pub"));
    let text = format!("[127.0.0.1]:{} {host}\n@revoked [127.0.0.1]:{} {host}\n", plain.port, plain.port);
    let err = open(&with_known_hosts(&plain, "kh_host", &text)).await.err().expect("revoked key");
    assert!(matches!(&err, TransportError::HostKeyRevoked { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("REVOKED"), "{err}");
}

#[tokio::test]
async fn accept_new_records_an_unknown_host_and_still_refuses_a_changed_key() {
    let sshd = TestSshd::start();
    let file = sshd.path("new_dir/known_hosts");
    let spec = ConnectSpec {
        known_hosts: vec![file.clone()],
        host_key_policy: HostKeyPolicy::AcceptNew,
        ..sshd.spec()
    };
    echo_ok(&open(&spec).await.expect("a new host is accepted")).await;
    let recorded = read(&file);
    assert_eq!(recorded, format!("[127.0.0.1]:{} {}\n", sshd.port, key_of(&sshd.path("hostkey.pub"))));
    // Now known: strict checking trusts it, and accept-new does not add it twice.
    echo_ok(&open(&ConnectSpec { host_key_policy: HostKeyPolicy::Strict, ..spec.clone() }).await.unwrap()).await;
    echo_ok(&open(&spec).await.unwrap()).await;
    assert_eq!(read(&file), recorded);

    let changed = ConnectSpec { known_hosts: vec![sshd.wrong_known_hosts.clone()], ..spec };
    let before = read(&sshd.wrong_known_hosts);
    let err = open(&changed).await.err().expect("a changed key is refused under accept-new");
    assert!(matches!(err, TransportError::HostKeyChanged { .. }), "{err}");
    assert_eq!(read(&sshd.wrong_known_hosts), before, "nothing recorded over a changed key");
}

#[tokio::test]
async fn global_file_with_wildcards_is_read_after_the_user_files() {
    let sshd = TestSshd::start();
    let global = sshd.path("ssh_known_hosts");
    fs::write(&global, format!("[127.0.0.*]:*,!127.0.0.2 {}\n", key_of(&sshd.path("hostkey.pub")))).unwrap();
    let spec = ConnectSpec {
        known_hosts: vec![sshd.path("missing"), sshd.path("missing2")],
        global_known_hosts: vec![global],
        ..sshd.spec()
    };
    echo_ok(&open(&spec).await.expect("the global file's wildcard entry is trusted")).await;
}

#[tokio::test]
async fn several_keys_for_one_host_any_matching_one_trusts_it() {
    let sshd = TestSshd::start();
    let wrong = key_of(&sshd.path("wrong_hostkey.pub"));
    let right = key_of(&sshd.path("hostkey.pub"));
    let text = format!("[127.0.0.1]:{0} {wrong}\n[127.0.0.1]:{0} {right}\n", sshd.port);
    echo_ok(&open(&with_known_hosts(&sshd, "two", &text)).await.expect("second key matches")).await;
}
