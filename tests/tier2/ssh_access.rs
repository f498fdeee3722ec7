//! SSH access the way OpenSSH users set it up, on real Debian hosts: a jump
//! host that is the only way to a second host, and password logins.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use stockman::transport::ssh_config::{self, SshInputs};
use stockman::transport::{ConnectSpec, Connection, IdentitySources, Secret, TransportError};
use stockman_modules::Target;

use crate::fleet::Fleet;

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(future)
}

async fn open(spec: &ConnectSpec) -> Result<Connection, TransportError> {
    Connection::open_with(spec, &IdentitySources::default()).await
}

/// Makes `host` unreachable from the controller (its replies to the bridge
/// address are dropped) while the other hosts still reach it.
fn cut_off_from_controller(fleet: &Fleet, host: &str) {
    let netns = fleet.netns(host);
    let controller = format!("{}/32", fleet.controller_address());
    let status = Command::new("ip")
        .args(["netns", "exec", &netns, "ip", "route", "add", "blackhole", &controller])
        .status()
        .expect("run ip");
    assert!(status.success(), "could not cut {host} off");
}

fn reachable(address: std::net::IpAddr) -> bool {
    TcpStream::connect_timeout(&SocketAddr::new(address, 22), Duration::from_secs(2)).is_ok()
}

fn write_config(dir: &Path, fleet: &Fleet, body: &str) -> PathBuf {
    let text = format!(
        "{body}\nHost *\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n  ConnectTimeout 5\n",
        fleet.key_path().display(),
        fleet.known_hosts_path().display()
    );
    let path = dir.join("ssh_config");
    std::fs::write(&path, text).unwrap();
    path
}

fn inputs(host: &str, config: &Path) -> SshInputs {
    SshInputs {
        name: host.into(),
        host: host.into(),
        default_timeout: Duration::from_secs(10),
        config_file: Some(config.to_path_buf()),
        ..SshInputs::default()
    }
}

#[test]
fn proxy_jump_through_one_and_two_hops_reaches_a_host_the_controller_cannot() {
    let fleet = Fleet::up(3);
    let [a1, a2, a3] = ["fleet01", "fleet02", "fleet03"].map(|h| fleet.address_of(h));
    cut_off_from_controller(&fleet, "fleet02");
    assert!(!reachable(a2), "fleet02 must be out of the controller's reach");
    assert!(reachable(a1));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &fleet,
        &format!(
            "Host hidden\n  HostName {a2}\n  ProxyJump bastion\nHost hidden2\n  HostName {a2}\n  ProxyJump bastion,{a3}\nHost bastion\n  HostName {a1}\n"
        ),
    );
    block_on(async {
        for alias in ["hidden", "hidden2"] {
            let spec = ssh_config::resolve(&inputs(alias, &config)).expect("config resolves");
            assert_eq!(spec.jumps.len(), if alias == "hidden" { 1 } else { 2 });
            let conn = tokio::time::timeout(Duration::from_secs(30), open(&spec))
                .await
                .expect("bounded")
                .unwrap_or_else(|e| panic!("{alias}: {e}"));
            let out = conn.exec("cat /etc/hostname; echo \"$SSH_CONNECTION\"", None).await.unwrap();
            let text = out.stdout_str();
            assert!(text.starts_with("fleet02\n"), "{alias}: {text}");
            // The connection came from the last jump host, not from the controller.
            let from = if alias == "hidden" { a1 } else { a3 };
            assert!(text.contains(&format!("{from} ")), "{alias}: {text}");
            conn.close().await;
        }
        let direct = ConnectSpec { jumps: Vec::new(), connect_timeout: Duration::from_secs(3), ..ssh_config::resolve(&inputs("hidden", &config)).unwrap() };
        assert!(open(&direct).await.is_err(), "without the jump host fleet02 is unreachable");
    });
}

#[test]
fn playbook_reaches_the_hidden_host_through_the_ssh_config_jump() {
    let fleet = Fleet::up(2);
    let [a1, a2] = ["fleet01", "fleet02"].map(|h| fleet.address_of(h));
    cut_off_from_controller(&fleet, "fleet02");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fleet, &format!("Host fleet02\n  HostName {a2}\n  ProxyJump {a1}\n"));
    std::fs::write(dir.path().join("hosts.ini"), "[hidden]\nfleet02\n").unwrap();
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: hidden\n  gather_facts: false\n  tasks:\n    - copy:\n        content: \"via jump\\n\"\n        dest: /root/jumped\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stockman"))
        .args(["playbook", "-i", "hosts.ini", "--ssh-config"])
        .arg(&config)
        .arg("site.yml")
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fleet.sh("fleet02", "cat /root/jumped"), "via jump\n");
}

/// A login user with a password (and no key) on `host`.
fn add_password_user(fleet: &Fleet, host: &str, user: &str, password: &str) {
    fleet.sh(host, &format!("useradd -m -s /bin/sh {user} && echo '{user}:{password}' | chpasswd"));
    // The fleet's sshd takes keys only; a host being bootstrapped takes passwords.
    fleet.sh(
        host,
        "echo 'PasswordAuthentication yes' > /etc/ssh/sshd_config.d/00-password.conf && systemctl restart ssh",
    );
    let address = fleet.address_of(host);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !reachable(address) {
        assert!(std::time::Instant::now() < deadline, "sshd on {host} did not come back");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn password_login_works_and_a_wrong_password_is_refused_without_showing_it() {
    let fleet = Fleet::up(1);
    add_password_user(&fleet, "fleet01", "alice", "Alice-pw-42");
    let base = ConnectSpec {
        name: "fleet01".into(),
        address: fleet.address_of("fleet01").to_string(),
        user: Some("alice".into()),
        known_hosts: vec![fleet.known_hosts_path().to_path_buf()],
        global_known_hosts: Vec::new(),
        ..ConnectSpec::default()
    };
    block_on(async {
        let spec = ConnectSpec { password: Some(Secret::new("Alice-pw-42")), ..base.clone() };
        let conn = open(&spec).await.expect("password login");
        assert_eq!(conn.exec("id -un", None).await.unwrap().stdout_str(), "alice\n");
        let wrong = ConnectSpec { password: Some(Secret::new("Wrong-pw-13")), ..base };
        let err = open(&wrong).await.err().expect("wrong password refused");
        let msg = err.to_string();
        assert!(matches!(err, TransportError::Auth { .. }), "{msg}");
        assert!(msg.contains("password: rejected") && !msg.contains("Wrong-pw-13"), "{msg}");
    });
}
