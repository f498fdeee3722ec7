//! The SSH and local transports against a real sshd on 127.0.0.1.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stockman::transport::{
    ConnectSpec, Connection, ConnectionKind, HostKeyPolicy, IdentitySources, TransportError,
};
use stockman_modules::shell::{quote, Cmd};
use stockman_modules::{ExecOutput, Target};

use crate::sshd::{keygen, read, TestSshd, WRONG_KEY_LINE};

/// No ssh-agent, no default identity files, no prompt: only the spec's key counts.
fn only_spec_key() -> IdentitySources {
    IdentitySources::default()
}

async fn open(spec: &ConnectSpec) -> Result<Connection, TransportError> {
    Connection::open_with(spec, &only_spec_key()).await
}

async fn connect(sshd: &TestSshd) -> Connection {
    open(&sshd.spec()).await.expect("connect to the test sshd")
}

async fn run(conn: &Connection, command: &str, stdin: Option<&[u8]>) -> ExecOutput {
    let bounded = tokio::time::timeout(Duration::from_secs(60), conn.exec(command, stdin));
    bounded
        .await
        .expect("exec finished in time")
        .expect("exec succeeded")
}

/// Deterministic bytes that are not all alike (a small LCG), `len` of them.
fn payload(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------- exec

#[tokio::test]
async fn exec_collects_stdout_stderr_and_exit_code() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let out = run(&conn, "echo out; echo err >&2; exit 3", None).await;
    assert_eq!(out.stdout_str(), "out\n");
    assert_eq!(out.stderr_str(), "err\n");
    assert_eq!(out.rc, 3);
    let ok = run(&conn, "true", None).await;
    assert_eq!((ok.rc, ok.stdout.len(), ok.stderr.len()), (0, 0, 0));
    conn.close().await;
}

#[tokio::test]
async fn a_signal_gives_rc_minus_one_and_says_which() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let out = run(&conn, "sh -c 'kill -TERM $$'", None).await;
    assert_eq!(out.rc, -1);
    assert!(
        out.stderr_str().contains("SIGTERM"),
        "stderr: {}",
        out.stderr_str()
    );
}

#[tokio::test]
async fn stdin_round_trips_every_byte_value() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let data: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let out = run(&conn, "cat", Some(&data)).await;
    assert_eq!(out.rc, 0);
    assert!(out.stdout == data, "binary stdin came back altered");
    // No stdin still means EOF: `cat` must not wait forever.
    assert_eq!(run(&conn, "cat", None).await.stdout, b"");
    assert_eq!(run(&conn, "cat", Some(b"")).await.stdout, b"");
}

#[tokio::test]
async fn large_stdin_and_output_beyond_the_channel_window() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let data = payload(5 * 1024 * 1024);
    let echoed = run(&conn, "cat", Some(&data)).await;
    assert_eq!(echoed.stdout.len(), data.len());
    assert!(echoed.stdout == data, "5 MiB through cat came back altered");

    let both = "head -c 8388608 /dev/zero; head -c 3145728 /dev/zero >&2; echo done >&2";
    let out = run(&conn, both, None).await;
    assert_eq!(out.stdout.len(), 8 * 1024 * 1024);
    assert_eq!(out.stderr.len(), 3 * 1024 * 1024 + 5);
    assert!(out.stderr.ends_with(b"done\n"));
}

#[tokio::test]
async fn a_command_that_ignores_its_stdin_does_not_hang() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let out = run(&conn, "echo ignored", Some(&payload(5 * 1024 * 1024))).await;
    assert_eq!((out.rc, out.stdout_str().as_str()), (0, "ignored\n"));
    // The session is still usable afterwards.
    assert_eq!(run(&conn, "echo again", None).await.stdout_str(), "again\n");
}

#[tokio::test]
async fn concurrent_execs_share_one_connection() {
    let sshd = TestSshd::start();
    let conn = Arc::new(connect(&sshd).await);
    let rendezvous = sshd.path("rendezvous");
    fs::create_dir(&rendezvous).unwrap();
    // Each command checks in, then waits (up to 30 s) until all 8 have: run
    // one after the other, the first would give up seeing only itself.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let conn = Arc::clone(&conn);
        let dir = quote(&rendezvous.display().to_string());
        tasks.spawn(async move {
            let wait_for_all = format!(
                "cd {dir} && touch {i} && n=0; while [ $(ls | wc -l) -lt 8 ] && [ $n -lt 300 ]; \
                 do sleep 0.1; n=$((n+1)); done; echo $(ls | wc -l) $SSH_CONNECTION"
            );
            (i, run(&conn, &wait_for_all, None).await.stdout_str())
        });
    }
    let results = tasks.join_all().await;
    let first_connection = results[0].1.split_once(' ').unwrap().1;
    for (i, out) in &results {
        let (seen, connection) = out.split_once(' ').unwrap();
        assert_eq!(seen, "8", "command {i} ran without the others: {out:?}");
        assert_eq!(connection, first_connection, "not one connection");
    }
}

#[tokio::test]
#[allow(clippy::print_stderr)]
async fn many_sequential_execs_reuse_the_connection() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let first = run(&conn, "echo $SSH_CONNECTION", None).await.stdout;
    let count = 100;
    let started = Instant::now();
    for i in 0..count {
        let out = run(&conn, &format!("echo {i}"), None).await;
        assert_eq!(out.stdout_str(), format!("{i}\n"));
    }
    let per_exec = started.elapsed() / count;
    assert_eq!(run(&conn, "echo $SSH_CONNECTION", None).await.stdout, first);
    eprintln!("tier1 transport: {count} sequential execs, {per_exec:?} per exec on loopback");
}

#[tokio::test]
async fn hostile_arguments_round_trip_byte_for_byte() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let hostile = [
        "plain",
        "a b",
        "it's",
        "\"double\"",
        "$(echo pwned)",
        "`id`",
        "x;y",
        "a && b",
        "l1\nl2\n",
        "-n",
        "\\",
        "*",
        "~",
        "$HOME",
        "tab\there",
        "unicode é ✓",
        "",
        "'; rm -rf / #",
    ];
    for word in hostile {
        let cmd = Cmd::new("printf").arg("%s").arg(word);
        let out = run(&conn, cmd.as_str(), None).await;
        assert_eq!(out.stdout, word.as_bytes(), "for {word:?}");
        assert_eq!(out.rc, 0);
    }
    let script = "printf '%s|' \"$0\" x'$(y)'; echo";
    let out = run(&conn, Cmd::sh(script).as_str(), None).await;
    assert_eq!(out.stdout_str(), "/bin/sh|x$(y)|\n");
}

// ---------------------------------------------------------------- persistent shell
// The default exec path keeps one shell per channel; these hold on both paths
// (run the suite again with STOCKMAN_SSH_EXEC=channel for the other one).

fn persistent_shell_mode() -> bool {
    std::env::var("STOCKMAN_SSH_EXEC").as_deref() != Ok("channel")
}

#[tokio::test]
async fn consecutive_commands_share_one_remote_shell_by_default() {
    if !persistent_shell_mode() {
        return;
    }
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    // In a subshell $$ stays the PID of the shell it was forked from.
    let first = run(&conn, "echo $$", None).await.stdout_str();
    let second = run(&conn, "echo $$", None).await.stdout_str();
    assert_eq!(first, second, "each command got a new shell");
}

#[tokio::test]
async fn marker_like_text_in_the_output_is_plain_data() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let fake = "\n__stockman_00000000000000000000000000000000__ 0\n__stockman_\n__stockman_ 1";
    for (stream, redirect) in [("stdout", ""), ("stderr", " >&2")] {
        let out = run(&conn, &format!("printf '%b' {}{redirect}; exit 5", quote(fake)), None).await;
        let got = if stream == "stdout" { out.stdout_str() } else { out.stderr_str() };
        assert_eq!(got, fake, "{stream}");
        assert_eq!(out.rc, 5);
    }
    // Output echoing a frame's own shape, fed through stdin.
    let framed = b"c='x'\nunset c\n__stockman_\x00\xff";
    assert_eq!(run(&conn, "cat", Some(framed)).await.stdout, framed);
}

#[tokio::test]
async fn commands_reading_part_of_their_stdin_leave_the_next_command_alone() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let out = run(&conn, "read a; read b; echo \"$b-$a\"", Some(b"one\ntwo\nthree\n")).await;
    assert_eq!(out.stdout_str(), "two-one\n");
    let head = run(&conn, "head -c 3", Some(&payload(100_000))).await;
    assert_eq!(head.stdout, payload(3));
    // Nothing left over reaches a later command's stdin.
    assert_eq!(run(&conn, "cat", None).await.stdout, b"");
    assert_eq!(run(&conn, "wc -c", Some(b"no newline")).await.stdout_str().trim(), "10");
}

#[tokio::test]
async fn a_command_that_closes_its_stdout_early_still_reports() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let out = run(&conn, "echo before; exec >&-; echo err >&2; exit 4", None).await;
    assert_eq!((out.rc, out.stdout_str().as_str(), out.stderr_str().as_str()), (4, "before\n", "err\n"));
    let out = run(&conn, "exec 2>&- <&-; echo still", None).await;
    assert_eq!((out.rc, out.stdout_str().as_str()), (0, "still\n"));
}

#[tokio::test]
async fn exit_cd_and_variables_do_not_leak_into_later_commands() {
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    let home = run(&conn, "pwd", None).await.stdout_str();
    assert_eq!(run(&conn, "cd / && x=1 && export Y=2 && umask 077 && exit 7", None).await.rc, 7);
    let after = run(&conn, "pwd; echo ${x-unset} ${Y-unset}; umask", None).await.stdout_str();
    let umask = run(&conn, "umask", None).await.stdout_str();
    assert_eq!(after, format!("{home}unset unset\n{umask}"));
    assert_ne!(umask.trim(), "0077");
    assert_eq!(run(&conn, "exec true", None).await.rc, 0);
    assert_eq!(run(&conn, "syntax error (", None).await.rc, 2);
    assert_eq!(run(&conn, "echo fine", None).await.stdout_str(), "fine\n");
}

#[tokio::test]
async fn the_remote_shell_dying_gives_rc_minus_one_and_the_next_command_runs() {
    if !persistent_shell_mode() {
        return; // there $$ is the command's own shell
    }
    let sshd = TestSshd::start();
    let conn = connect(&sshd).await;
    // $$ is the persistent shell the command's subshell was forked from.
    let out = run(&conn, "echo partial; kill -KILL $$; sleep 5", None).await;
    assert_eq!(out.rc, -1, "stderr: {}", out.stderr_str());
    assert_eq!(out.stdout_str(), "partial\n");
    assert_eq!(run(&conn, "echo next", None).await.stdout_str(), "next\n");
}

#[tokio::test]
async fn key_exchange_is_the_cheap_curve25519() {
    let sshd = TestSshd::start_with_debug_log();
    let conn = connect(&sshd).await;
    run(&conn, "true", None).await;
    let log = read(&sshd.path("sshd.log"));
    assert!(log.contains("kex: algorithm: curve25519-sha256 "), "sshd log: {log}");
}

// ---------------------------------------------------------------- host keys

#[tokio::test]
async fn hashed_known_hosts_entry_is_trusted() {
    let sshd = TestSshd::start();
    let hashed = sshd.path("hashed_known_hosts");
    fs::copy(&sshd.known_hosts, &hashed).unwrap();
    let status = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&hashed)
        .output()
        .map(|o| o.status);
    assert!(status.unwrap().success());
    assert!(
        read(&hashed).starts_with("|1|"),
        "ssh-keygen -H did not hash: {}",
        read(&hashed)
    );
    let spec = ConnectSpec {
        known_hosts: vec![hashed],
        ..sshd.spec()
    };
    let conn = open(&spec).await.expect("hashed entry accepted");
    assert_eq!(run(&conn, "echo ok", None).await.stdout_str(), "ok\n");
}

#[tokio::test]
async fn changed_host_key_is_refused_naming_file_and_line() {
    let sshd = TestSshd::start();
    let spec = ConnectSpec {
        known_hosts: vec![sshd.wrong_known_hosts.clone()],
        ..sshd.spec()
    };
    let err = open(&spec)
        .await
        .err()
        .expect("a changed key must be refused");
    let TransportError::HostKeyChanged {
        host, file, line, ..
    } = &err
    else {
        panic!("expected HostKeyChanged, got {err}");
    };
    assert_eq!(host, &format!("[127.0.0.1]:{}", sshd.port));
    assert_eq!(file, &sshd.wrong_known_hosts.display().to_string());
    assert_eq!(*line, WRONG_KEY_LINE);
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("line {WRONG_KEY_LINE}")) && msg.contains("SHA256:"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_host_is_refused_and_the_file_left_alone() {
    let sshd = TestSshd::start();
    let other_hosts = sshd.path("other_known_hosts");
    let only_other = read(&sshd.known_hosts).replace(&format!(":{}", sshd.port), ":1");
    fs::write(&other_hosts, &only_other).unwrap();
    for file in [other_hosts.clone(), sshd.path("missing_known_hosts")] {
        let spec = ConnectSpec {
            known_hosts: vec![file.clone()],
            ..sshd.spec()
        };
        let err = open(&spec)
            .await
            .err()
            .expect("an unknown host must be refused");
        assert!(
            matches!(&err, TransportError::HostKeyUnknown { port, .. } if *port == sshd.port),
            "expected HostKeyUnknown for {}, got {err}",
            file.display()
        );
        assert!(err.to_string().contains("ssh-keyscan"), "{err}");
    }
    assert_eq!(
        read(&other_hosts),
        only_other,
        "known_hosts must never be written"
    );
    assert!(!sshd.path("missing_known_hosts").exists());
}

#[tokio::test]
async fn host_key_checking_off_accepts_any_key() {
    let sshd = TestSshd::start();
    for file in [
        sshd.wrong_known_hosts.clone(),
        sshd.path("missing_known_hosts"),
    ] {
        let spec = ConnectSpec {
            known_hosts: vec![file],
            host_key_policy: HostKeyPolicy::Off,
            ..sshd.spec()
        };
        let conn = open(&spec).await.expect("checking off connects");
        assert_eq!(run(&conn, "echo ok", None).await.stdout_str(), "ok\n");
    }
}

// ---------------------------------------------------------------- authentication

#[tokio::test]
async fn wrong_user_is_an_auth_error_naming_user_and_key() {
    let sshd = TestSshd::start();
    let spec = ConnectSpec {
        user: Some("no-such-user-stockman".into()),
        ..sshd.spec()
    };
    let err = open(&spec).await.err().expect("unknown user must fail");
    let TransportError::Auth { user, tried } = &err else {
        panic!("expected Auth, got {err}")
    };
    assert_eq!(user, "no-such-user-stockman");
    assert!(
        tried.contains(&sshd.client_key.display().to_string()),
        "{tried}"
    );
    assert!(err.to_string().contains("publickey"), "{err}");
}

#[tokio::test]
async fn unauthorized_key_is_an_auth_error_listing_what_was_tried() {
    let sshd = TestSshd::start();
    let stranger = sshd.path("stranger_key");
    keygen(&stranger, "ed25519");
    let spec = ConnectSpec {
        private_key: Some(stranger.clone()),
        ..sshd.spec()
    };
    let err = open(&spec)
        .await
        .err()
        .expect("an unauthorized key must fail");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::Auth { .. }), "{msg}");
    assert!(
        msg.contains(&format!("{}: rejected", stranger.display())),
        "{msg}"
    );
    assert!(msg.contains("the server accepts: publickey"), "{msg}");
}

#[tokio::test]
async fn missing_key_file_is_named_in_the_auth_error() {
    let sshd = TestSshd::start();
    let missing = sshd.path("no_such_key");
    let spec = ConnectSpec {
        private_key: Some(missing.clone()),
        ..sshd.spec()
    };
    let msg = open(&spec).await.err().expect("must fail").to_string();
    assert!(
        msg.contains(&format!("{}: cannot read it", missing.display())),
        "{msg}"
    );
}

#[tokio::test]
async fn rsa_key_authenticates_with_sha2_signatures() {
    // OpenSSH 9 refuses SHA-1 `ssh-rsa` signatures: success proves rsa-sha2-*.
    let sshd = TestSshd::start();
    let spec = ConnectSpec {
        private_key: Some(sshd.rsa_client_key.clone()),
        ..sshd.spec()
    };
    let conn = open(&spec).await.expect("RSA key accepted");
    assert_eq!(run(&conn, "echo rsa", None).await.stdout_str(), "rsa\n");
    let log = read(&sshd.path("sshd.log"));
    assert!(
        log.contains("Accepted publickey") && log.contains("RSA SHA256:"),
        "sshd log: {log}"
    );
}

#[tokio::test]
async fn default_identity_files_are_tried_when_no_key_is_given() {
    let sshd = TestSshd::start();
    let sources = IdentitySources {
        default_identity_files: vec![sshd.path("id_absent"), sshd.client_key.clone()],
        ..only_spec_key()
    };
    let spec = ConnectSpec {
        private_key: None,
        ..sshd.spec()
    };
    let conn = Connection::open_with(&spec, &sources)
        .await
        .expect("default identity used");
    assert_eq!(run(&conn, "echo ok", None).await.stdout_str(), "ok\n");
}

#[tokio::test]
async fn encrypted_key_without_a_terminal_fails_naming_the_file_and_the_agent() {
    let sshd = TestSshd::start();
    let locked = encrypted_key(&sshd, "locked_key");
    let spec = ConnectSpec {
        private_key: Some(locked.clone()),
        ..sshd.spec()
    };
    let msg = open(&spec).await.err().expect("must fail").to_string();
    assert!(msg.contains(&locked.display().to_string()), "{msg}");
    assert!(
        msg.contains("encrypted") && msg.contains("ssh-add"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "the passphrase leaked: {msg}");
}

#[tokio::test]
async fn agent_identities_authenticate_even_for_an_encrypted_key_file() {
    let sshd = TestSshd::start();
    let locked = encrypted_key(&sshd, "agent_key");
    let agent = TestAgent::start(&sshd.path("agent.sock"));
    agent.add(&sshd.client_key, None);
    let sources = IdentitySources {
        agent_socket: Some(agent.socket.clone()),
        ..only_spec_key()
    };

    let spec = ConnectSpec {
        private_key: None,
        ..sshd.spec()
    };
    let conn = Connection::open_with(&spec, &sources)
        .await
        .expect("agent key used");
    assert_eq!(run(&conn, "echo agent", None).await.stdout_str(), "agent\n");

    // The encrypted key file given is signed by the agent that holds it: no passphrase needed.
    agent.add(&locked, Some("s3cret"));
    let spec = ConnectSpec {
        private_key: Some(locked),
        ..sshd.spec()
    };
    let conn = Connection::open_with(&spec, &sources)
        .await
        .expect("encrypted key via agent");
    assert_eq!(
        run(&conn, "echo locked", None).await.stdout_str(),
        "locked\n"
    );
}

/// An ed25519 key with passphrase `s3cret`, authorized on `sshd`.
fn encrypted_key(sshd: &TestSshd, name: &str) -> PathBuf {
    let path = sshd.path(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "s3cret", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let authorized = sshd.path("authorized_keys");
    let mut keys = read(&authorized);
    keys.push_str(&read(&path.with_extension("pub")));
    fs::write(&authorized, keys).unwrap();
    path
}

/// A private ssh-agent on a socket in the test's temp dir.
struct TestAgent {
    socket: PathBuf,
    child: Child,
}

impl TestAgent {
    fn start(socket: &Path) -> TestAgent {
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(socket)
            .stdout(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !socket.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        TestAgent {
            socket: socket.to_path_buf(),
            child,
        }
    }

    /// ssh-add, answering the passphrase through SSH_ASKPASS (no terminal here).
    fn add(&self, key: &Path, passphrase: Option<&str>) {
        let askpass = self.socket.with_extension("askpass");
        fs::write(
            &askpass,
            format!("#!/bin/sh\necho '{}'\n", passphrase.unwrap_or("")),
        )
        .unwrap();
        Command::new("chmod")
            .arg("700")
            .arg(&askpass)
            .status()
            .unwrap();
        let status = Command::new("ssh-add")
            .arg("-q")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .stdin(Stdio::null())
            .status()
            .expect("run ssh-add");
        assert!(status.success(), "ssh-add {} failed", key.display());
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- failures

#[tokio::test]
async fn refused_port_is_a_connect_error_at_once() {
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sshd = TestSshd::start();
    let spec = ConnectSpec {
        port: closed_port,
        ..sshd.spec()
    };
    let started = Instant::now();
    let err = open(&spec).await.err().expect("nothing listens there");
    assert!(matches!(err, TransportError::Connect(_)), "{err}");
    assert!(
        err.to_string().contains(&format!("port {closed_port}")),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn silent_server_times_out_within_the_connect_timeout() {
    // The kernel accepts the TCP connection but nobody ever speaks SSH.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sshd = TestSshd::start();
    let spec = ConnectSpec {
        port,
        connect_timeout: Duration::from_secs(1),
        ..sshd.spec()
    };
    let started = Instant::now();
    let err = open(&spec).await.err().expect("must time out");
    let elapsed = started.elapsed();
    assert!(matches!(err, TransportError::Connect(_)), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    drop(listener);
}

#[tokio::test]
async fn sshd_killed_mid_command_is_a_target_error_not_a_hang() {
    let mut sshd = TestSshd::start();
    let conn = Arc::new(connect(&sshd).await);
    let running = {
        let conn = Arc::clone(&conn);
        tokio::spawn(async move { conn.exec("echo started; sleep 60", None).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    sshd.kill();
    let result = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("exec must end when the host dies")
        .unwrap();
    let err = result.expect_err("a lost connection is a TargetError");
    assert!(err.0.contains("tier1") && err.0.contains("lost"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    // Later commands fail at once too.
    let again = tokio::time::timeout(Duration::from_secs(5), conn.exec("true", None)).await;
    assert!(again.expect("no hang").is_err());
}

// ---------------------------------------------------------------- local

#[tokio::test]
async fn local_connection_runs_commands_with_sh() {
    let spec = ConnectSpec {
        name: "localhost".into(),
        address: "localhost".into(),
        kind: ConnectionKind::Local,
        ..ConnectSpec::default()
    };
    let conn = Connection::open(&spec)
        .await
        .expect("local never fails to open");
    let out = run(&conn, "echo out; echo err >&2; exit 4", None).await;
    assert_eq!(
        (out.stdout_str().as_str(), out.stderr_str().as_str(), out.rc),
        ("out\n", "err\n", 4)
    );
    let data = payload(5 * 1024 * 1024);
    assert!(run(&conn, "cat", Some(&data)).await.stdout == data);
    assert_eq!(run(&conn, "cat", None).await.stdout, b"");
    assert_eq!(run(&conn, "echo x", Some(&data)).await.stdout_str(), "x\n");
    let word = "it's $(id) `id` ;\n";
    let out = run(&conn, Cmd::new("printf").arg("%s").arg(word).as_str(), None).await;
    assert_eq!(out.stdout, word.as_bytes());
    let killed = run(&conn, "kill -KILL $$", None).await;
    assert_eq!(killed.rc, -1);
    assert!(
        killed.stderr_str().contains("signal 9"),
        "{}",
        killed.stderr_str()
    );
    conn.close().await;
}
