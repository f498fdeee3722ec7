//! become (sudo) on real Debian hosts: a user with a sudo password, one with
//! NOPASSWD, wrong and missing passwords, and the password kept off `ps`.

use std::time::{Duration, Instant};

use stockman::transport::{BecomeMethod, BecomeSpec, BecomeTarget, ConnectSpec, Connection, IdentitySources, Secret};
use stockman_modules::{ExecOutput, Target, TargetError};

use crate::fleet::Fleet;

const SUDO_PW: &str = "Bob-sudo-pw-77";

/// `bob` (sudo with a password) and `carol` (NOPASSWD), both logging in with the fleet key.
fn add_sudo_users(fleet: &Fleet) {
    fleet.sh(
        "fleet01",
        &format!(
            "for u in bob carol; do useradd -m -s /bin/sh $u; mkdir -p /home/$u/.ssh; \
             cp /root/.ssh/authorized_keys /home/$u/.ssh/; chown -R $u: /home/$u/.ssh; done; \
             echo 'bob:{SUDO_PW}' | chpasswd; \
             echo 'bob ALL=(ALL:ALL) ALL' > /etc/sudoers.d/bob; \
             echo 'carol ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/carol"
        ),
    );
}

async fn login(fleet: &Fleet, user: &str) -> Connection {
    let spec = ConnectSpec {
        name: "fleet01".into(),
        address: fleet.address_of("fleet01").to_string(),
        user: Some(user.into()),
        private_key: Some(fleet.key_path().to_path_buf()),
        known_hosts: vec![fleet.known_hosts_path().to_path_buf()],
        global_known_hosts: Vec::new(),
        ..ConnectSpec::default()
    };
    Connection::open_with(&spec, &IdentitySources::default()).await.expect("login")
}

fn sudo(password: Option<&str>) -> BecomeSpec {
    BecomeSpec { method: BecomeMethod::Sudo, user: "root".into(), password: password.map(Secret::new) }
}

async fn as_root(conn: &Connection, spec: &BecomeSpec, cmd: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
    tokio::time::timeout(Duration::from_secs(60), BecomeTarget { conn, spec }.exec(cmd, stdin))
        .await
        .expect("become is bounded")
}

#[test]
fn sudo_with_a_password_and_with_nopasswd_runs_as_root_with_stdin_intact() {
    let fleet = Fleet::up(1);
    add_sudo_users(&fleet);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let bob = login(&fleet, "bob").await;
        let carol = login(&fleet, "carol").await;
        let with_pw = sudo(Some(SUDO_PW));
        let out = as_root(&bob, &with_pw, "id -u; echo err >&2", None).await.expect("bob becomes root");
        assert_eq!((out.stdout_str().as_str(), out.stderr_str().as_str(), out.rc), ("0\n", "err\n", 0));
        // The module's stdin reaches the command whole, after (never mixed with) the password.
        let data = b"line one\nline two with 'quotes' and $(x)\n".to_vec();
        let out = as_root(&bob, &with_pw, "cat", Some(&data)).await.unwrap();
        assert_eq!(out.stdout, data);
        // NOPASSWD: nothing to ask, with or without a password given, stdin intact.
        for spec in [sudo(None), sudo(Some("unused-pw"))] {
            let out = as_root(&carol, &spec, "id -u; cat", Some(b"hi")).await.expect("carol becomes root");
            assert_eq!(out.stdout_str(), "0\nhi");
        }
        let out = as_root(&carol, &BecomeSpec { user: "bob".into(), ..sudo(None) }, "id -un; echo $HOME", None).await.unwrap();
        assert_eq!(out.stdout_str(), "bob\n/home/bob\n");
    });
}

#[test]
fn wrong_or_missing_sudo_password_fails_fast_and_clearly() {
    let fleet = Fleet::up(1);
    add_sudo_users(&fleet);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let bob = login(&fleet, "bob").await;
        let started = Instant::now();
        let err = as_root(&bob, &sudo(Some("Not-the-pw-1")), "id -u", None).await.expect_err("wrong password");
        assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
        assert!(err.0.contains("incorrect sudo password") && !err.0.contains("Not-the-pw-1"), "{}", err.0);
        let err = as_root(&bob, &sudo(None), "id -u", None).await.expect_err("no password");
        assert!(err.0.contains("-K") && err.0.contains("ansible_become_password"), "{}", err.0);
    });
}

#[test]
fn the_sudo_password_never_appears_in_the_targets_process_list() {
    let fleet = Fleet::up(1);
    add_sudo_users(&fleet);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bob = rt.block_on(login(&fleet, "bob"));
    let spec = sudo(Some(SUDO_PW));
    let long = rt.spawn({
        let bob = std::sync::Arc::new(bob);
        async move { as_root(&bob, &spec, "sleep 4; echo slept", None).await }
    });
    std::thread::sleep(Duration::from_secs(2));
    // All command lines on the host while sudo runs; `[B]ob` keeps this grep out of its own match.
    let scan = "cat /proc/[0-9]*/cmdline | tr '\\0' ' '";
    let listing = fleet.sh("fleet01", scan);
    assert!(listing.contains("sleep 4"), "the sudo'd command should be running:\n{listing}");
    assert!(!listing.contains(SUDO_PW), "the password is on a command line:\n{listing}");
    let out = rt.block_on(long).unwrap().expect("the long command finishes");
    assert_eq!(out.stdout_str(), "slept\n");
}
