//! known_hosts in full against a real sshd: host certificates signed by a CA,
//! @revoked keys, accept-new, global files and patterns; and, through the
//! binary, every way to choose a host-key mode (issue 9 item 4): a changed key
//! is refused in all of them but an explicit off, and known_hosts is written
//! only under accept-new.

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

/// How a run asks for a host-key mode: the ways Ansible users have.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Nothing said: strict.
    Default,
    /// `ansible_host_key_checking=VALUE` in the inventory.
    InventoryVar(&'static str),
    /// `ANSIBLE_HOST_KEY_CHECKING=VALUE` in the environment.
    Env(&'static str),
    /// `StrictHostKeyChecking VALUE` in the file given to --ssh-config.
    SshConfig(&'static str),
    /// `ansible_ssh_common_args='-o StrictHostKeyChecking=VALUE'`.
    CommonArgs(&'static str),
}

/// What the mode amounts to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Strict,
    AcceptNew,
    Off,
}

const MODES: &[(Mode, Expect)] = &[
    (Mode::Default, Expect::Strict),
    (Mode::InventoryVar("true"), Expect::Strict),
    (Mode::InventoryVar("false"), Expect::Off),
    (Mode::Env("True"), Expect::Strict),
    (Mode::Env("False"), Expect::Off),
    (Mode::SshConfig("yes"), Expect::Strict),
    (Mode::SshConfig("ask"), Expect::Strict),
    (Mode::SshConfig("accept-new"), Expect::AcceptNew),
    (Mode::SshConfig("no"), Expect::Off),
    (Mode::SshConfig("off"), Expect::Off),
    (Mode::CommonArgs("yes"), Expect::Strict),
    (Mode::CommonArgs("accept-new"), Expect::AcceptNew),
    (Mode::CommonArgs("no"), Expect::Off),
    (Mode::CommonArgs("off"), Expect::Off),
];

/// What the user's known_hosts holds before the run.
#[derive(Clone, Copy, Debug)]
enum Known {
    /// The host's real key.
    Right,
    /// Another key for the host (it was reinstalled, or someone is in the middle).
    Changed,
    /// Nothing for this host (an empty file).
    Unknown,
}

struct Outcome {
    code: i32,
    output: String,
    before: Vec<u8>,
    after: Vec<u8>,
}

/// Runs a one-task playbook through the binary in `mode` with `known` as
/// ~/.ssh/known_hosts, in a fresh HOME.
fn run_mode(sshd: &TestSshd, mode: Mode, known: Known) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = |rel: &str| dir.path().join(rel);
    fs::create_dir_all(path("home/.ssh")).unwrap();
    let before = match known {
        Known::Right => fs::read(&sshd.known_hosts).unwrap(),
        Known::Changed => fs::read(&sshd.wrong_known_hosts).unwrap(),
        Known::Unknown => Vec::new(),
    };
    fs::write(path("home/.ssh/known_hosts"), &before).unwrap();
    let extra = match mode {
        Mode::InventoryVar(v) => format!(" ansible_host_key_checking={v}"),
        Mode::CommonArgs(v) => format!(" ansible_ssh_common_args='-o StrictHostKeyChecking={v}'"),
        _ => String::new(),
    };
    let host = format!(
        "target ansible_host=127.0.0.1 ansible_port={} ansible_user={} ansible_ssh_private_key_file={}{extra}\n",
        sshd.port,
        sshd.user,
        sshd.client_key.display()
    );
    fs::write(path("hosts.ini"), host).unwrap();
    fs::write(path("site.yml"), "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo reached\n").unwrap();
    // An empty ssh_config unless the mode is there: ~/.ssh/config and /etc/ssh/ssh_config stay out.
    let config = match mode {
        Mode::SshConfig(v) => format!("Host *\n  StrictHostKeyChecking {v}\n"),
        _ => String::new(),
    };
    fs::write(path("ssh_config"), config).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stockman"));
    cmd.args(["playbook", "-i", "hosts.ini", "--ssh-config", "ssh_config", "site.yml"])
        .current_dir(dir.path())
        .env("HOME", path("home"))
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ANSIBLE_HOST_KEY_CHECKING");
    if let Mode::Env(v) = mode {
        cmd.env("ANSIBLE_HOST_KEY_CHECKING", v);
    }
    let out = cmd.output().expect("run stockman");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        output: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        before,
        after: fs::read(path("home/.ssh/known_hosts")).unwrap_or_default(),
    }
}

/// What must hold for `expect` with `known`; None when it does.
fn judge_mode(sshd: &TestSshd, expect: Expect, known: Known, o: &Outcome) -> Option<String> {
    let reached = o.code == 0 && o.output.contains("changed: [target]");
    let refused = o.code == 4 && o.output.contains("UNREACHABLE!");
    let unchanged = o.after == o.before;
    let new_line = format!("[127.0.0.1]:{} {}\n", sshd.port, key_of(&sshd.path("hostkey.pub")));
    let (connects, file_ok, why) = match (known, expect) {
        (Known::Right, _) => (true, unchanged, "a known host is trusted, known_hosts untouched"),
        (Known::Changed, Expect::Off) => (true, unchanged, "explicit off connects, known_hosts untouched"),
        (Known::Changed, _) => (false, unchanged, "a changed key is refused, known_hosts untouched"),
        (Known::Unknown, Expect::Strict) => (false, unchanged, "an unknown host is refused, known_hosts untouched"),
        (Known::Unknown, Expect::AcceptNew) => (true, o.after == new_line.as_bytes(), "accept-new records the new key"),
        (Known::Unknown, Expect::Off) => (true, unchanged, "off connects and records nothing"),
    };
    let outcome_ok = if connects { reached } else { refused && refusal_names_the_cause(known, &o.output) };
    (!(outcome_ok && file_ok)).then(|| {
        format!(
            "{why}: exit {}, known_hosts {}\n{}",
            o.code,
            if unchanged { "unchanged".to_string() } else { format!("now {:?}", String::from_utf8_lossy(&o.after)) },
            o.output
        )
    })
}

fn refusal_names_the_cause(known: Known, output: &str) -> bool {
    match known {
        Known::Changed => output.contains("has changed"),
        _ => output.contains("is not in"),
    }
}

#[test]
fn a_changed_key_is_refused_in_every_mode_but_off_and_only_accept_new_writes_known_hosts() {
    let sshd = TestSshd::start();
    let mut failures = Vec::new();
    for &(mode, expect) in MODES {
        for known in [Known::Right, Known::Changed, Known::Unknown] {
            let outcome = run_mode(&sshd, mode, known);
            if let Some(problem) = judge_mode(&sshd, expect, known, &outcome) {
                failures.push(format!("{mode:?} ({expect:?}) with a {known:?} key: {problem}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases wrong:\n\n{}", failures.len(), MODES.len() * 3, failures.join("\n\n"));
}
