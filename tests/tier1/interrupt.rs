//! Ctrl-C: the controller stops within a bound with Ansible's message and
//! exit code, and a file transfer cut off mid-way leaves neither a partial
//! destination nor a temp file on the target.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::Project;
use crate::sshd::TestSshd;

/// Incompressible bytes (a xorshift stream), so the transfer takes a while.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The write script's temp files (`.stockman.XXXXXXXX`) in `dir`.
fn temp_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".stockman."))
        .collect()
}

/// Bytes the process has read so far (`rchar` in /proc/PID/io); 0 once it is gone.
fn controller_read(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines().find_map(|l| l.strip_prefix("rchar: ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

fn wait_until(bound: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// When to send SIGINT, once the copy task has started.
enum Trigger {
    /// Once the controller has read this many bytes (its `rchar` in
    /// /proc): the persistent shell reads the whole here-document before the
    /// write starts, so the target shows nothing yet, and a fixed delay
    /// misses the transfer on a fast, idle machine.
    ControllerRead(u64),
    /// Once the temp file beside the destination has started to fill (one
    /// exec channel per command streams stdin straight into it).
    TempFileFilling,
}

fn interrupt_a_big_copy(exec_mode: Option<&str>, trigger: Trigger) {
    let sshd = TestSshd::start();
    let project = Project::new();
    project.inventory(&sshd, &["h"]);
    std::fs::create_dir_all(project.path("files")).unwrap();
    std::fs::write(project.path("files/big.bin"), noise(200 << 20)).unwrap();
    project.write(
        "pb.yml",
        "- hosts: test\n  gather_facts: false\n  tasks:\n    - copy:\n        src: big.bin\n        dest: \"{{ lookup('env', 'REMOTE') }}/big.bin\"\n",
    );
    let home = project.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join(".ssh/known_hosts")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_stockman"));
    command
        .args(["playbook", "-i", "hosts.ini", "pb.yml"])
        .current_dir(project.dir.path())
        .env("HOME", &home)
        .env("REMOTE", project.remote.path())
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("STOCKMAN_SSH_EXEC")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(mode) = exec_mode {
        command.env("STOCKMAN_SSH_EXEC", mode);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (banner_tx, banner_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut text = String::new();
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("TASK [copy]") {
                let _ = banner_tx.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let remote = project.remote.path();
    match trigger {
        Trigger::ControllerRead(bytes) => {
            banner_rx.recv_timeout(Duration::from_secs(30)).expect("the copy task started");
            let pid = child.id();
            assert!(wait_until(Duration::from_secs(60), || controller_read(pid) > bytes), "the transfer never started");
        }
        Trigger::TempFileFilling => {
            let filling = wait_until(Duration::from_secs(60), || {
                temp_files(remote).iter().any(|n| std::fs::metadata(remote.join(n)).is_ok_and(|m| m.len() > 0))
            });
            assert!(filling, "the transfer never started");
        }
    }
    assert!(child.try_wait().unwrap().is_none(), "the run ended before the interrupt: make the file bigger");
    let sent = Instant::now();
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    assert!(wait_until(Duration::from_secs(10), || child.try_wait().unwrap().is_some()), "the controller did not stop within 10 s");
    assert!(sent.elapsed() < Duration::from_secs(5), "took {:?}", sent.elapsed());
    let out = child.wait_with_output().unwrap();
    let stdout = reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(99), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("[ERROR]: User interrupted execution"), "{stderr}");
    assert!(!stdout.contains("PLAY RECAP"), "an interrupted run has no recap, as in Ansible:\n{stdout}");
    // The remote side sees its input end early: no rename, temp file removed.
    assert!(
        wait_until(Duration::from_secs(20), || temp_files(remote).is_empty()),
        "temp files left behind: {:?}",
        temp_files(remote)
    );
    assert!(!remote.join("big.bin").exists(), "a partial file was renamed onto the destination");
}

#[test]
fn sigint_mid_transfer_over_the_persistent_shell_exits_99_and_leaves_no_file() {
    interrupt_a_big_copy(None, Trigger::ControllerRead(40 << 20));
}

#[test]
fn sigint_mid_transfer_over_exec_channels_exits_99_and_leaves_no_file() {
    interrupt_a_big_copy(Some("channel"), Trigger::TempFileFilling);
}
