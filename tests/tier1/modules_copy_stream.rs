//! Large `copy` sources stream: a 200 MB file arrives byte-exact, the
//! controller's peak RSS stays far below the file's size, a transfer whose
//! checksum does not match fails and leaves nothing behind, and the
//! throughput is measured against `scp` to the same sshd (printed; run with
//! `--nocapture` to see the figures).
#![allow(clippy::print_stderr)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Map, Value};
use stockman::transport::{Connection, IdentitySources};
use stockman_modules::upload::{self, Content, LocalFile};
use stockman_modules::{Args, Controller, ModuleKind, RunMode};

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const SIZE: usize = 200 << 20;
/// "Far below the file size": a quarter of it.
const MAX_RSS_KIB: u64 = (SIZE as u64 / 4) >> 10;

/// Writes `len` pseudo-random bytes (xorshift: incompressible, not all alike).
fn write_payload(path: &Path, len: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for word in chunk.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
        }
        let n = left.min(chunk.len());
        file.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    file.flush().unwrap();
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (std::fs::File::open(a).unwrap(), std::fs::File::open(b).unwrap());
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        let mut m = 0;
        while m < n {
            let k = fb.read(&mut bb[m..n]).unwrap();
            if k == 0 {
                return false;
            }
            m += k;
        }
        if ba[..n] != bb[..n] {
            return false;
        }
        if n == 0 {
            return fb.read(&mut bb).unwrap() == 0;
        }
    }
}

fn mb_per_s(seconds: f64) -> f64 {
    (SIZE >> 20) as f64 / seconds
}

/// Seconds `scp` takes to send `src` to `dest` on the test sshd.
fn scp_seconds(sshd: &TestSshd, src: &Path, dest: &Path) -> f64 {
    let started = Instant::now();
    let out = Command::new("scp")
        .args(["-q", "-O", "-B", "-P", &sshd.port.to_string(), "-i"])
        .arg(&sshd.client_key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", sshd.known_hosts.display()))
        .args(["-o", "StrictHostKeyChecking=yes"])
        .arg(src)
        .arg(format!("{}@127.0.0.1:{}", sshd.user, dest.display()))
        .output()
        .expect("run scp");
    assert!(out.status.success(), "scp failed: {}", String::from_utf8_lossy(&out.stderr));
    started.elapsed().as_secs_f64()
}

const BIG: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - copy: {src: big.bin, dest: "{{ remote }}/big.bin"}
"#;

#[test]
fn a_200_mb_file_streams_byte_exact_in_bounded_memory() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("big.yml", BIG);
    std::fs::create_dir_all(p.path("files")).unwrap();
    write_payload(&p.path("files/big.bin"), SIZE);
    let remote = format!("remote={}", p.remote_str());

    let stats = p.path("time.out");
    let home = p.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join(".ssh/known_hosts")).unwrap();
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&stats)
        .arg(env!("CARGO_BIN_EXE_stockman"))
        .args(["playbook", "-i"])
        .arg(p.path("hosts.ini"))
        .arg(p.path("big.yml"))
        .args(["-e", &remote])
        .env("HOME", &home)
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("run stockman under /usr/bin/time (package `time`)");
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let rss_kib: u64 = std::fs::read_to_string(&stats).unwrap().lines().last().unwrap().trim().parse().unwrap();
    assert!(same_bytes(&p.path("files/big.bin"), &p.remote("big.bin")), "content differs");
    let scp = scp_seconds(&sshd, &p.path("files/big.bin"), &p.remote("scp.bin"));
    eprintln!(
        "copy 200 MiB through the binary: {seconds:.2} s ({:.0} MiB/s, peak RSS {} MiB); scp: {scp:.2} s ({:.0} MiB/s)",
        mb_per_s(seconds),
        rss_kib >> 10,
        mb_per_s(scp)
    );
    assert!(rss_kib < MAX_RSS_KIB, "peak RSS {rss_kib} KiB for a {} MiB file (bound {MAX_RSS_KIB} KiB)", SIZE >> 20);

    let again = p.run(&sshd, "big.yml", &["-e", &remote]);
    assert_eq!(again.recap("h"), recap("h", 1, 0, 0, 0, 0, 0), "{}", again.stdout);
}

/// Serves one controller file by path, as the engine's controller does.
struct FileController(PathBuf);

impl Controller for FileController {
    fn read_src(&self, _: &str) -> Result<Vec<u8>, String> {
        Err("read_src must not be used for a located file".into())
    }
    fn locate_src(&self, _: &str) -> Option<Result<PathBuf, String>> {
        Some(Ok(self.0.clone()))
    }
    fn render_template(&self, _: &str) -> Result<String, String> {
        Err("no templates".into())
    }
    fn eval_var(&self, _: &str) -> Result<Value, stockman_modules::EvalError> {
        Err(stockman_modules::EvalError::undefined("no variables"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssh_stream_path_keeps_up_with_scp() {
    let sshd = TestSshd::start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    write_payload(&src, SIZE);
    let conn = Connection::open_with(&sshd.spec(), &IdentitySources::default()).await.unwrap();
    let dest = dir.path().join("dest.bin");
    let mut args = Map::new();
    args.insert("src".into(), "big.bin".into());
    args.insert("dest".into(), dest.display().to_string().into());
    let started = Instant::now();
    let result = stockman_modules::run(ModuleKind::Copy, &Args::new(args), &conn, &FileController(src.clone()), RunMode::default()).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(result.changed && !result.failed, "{result:?}");
    assert!(same_bytes(&src, &dest), "content differs");
    let scp = scp_seconds(&sshd, &src, &dir.path().join("scp.bin"));
    eprintln!(
        "copy 200 MiB over the ssh stream path: {seconds:.2} s ({:.0} MiB/s); scp: {scp:.2} s ({:.0} MiB/s); ratio {:.2}",
        mb_per_s(seconds),
        mb_per_s(scp),
        scp / seconds
    );
    conn.close().await;
}

#[tokio::test]
async fn a_checksum_mismatch_fails_and_leaves_no_temp_file() {
    let sshd = TestSshd::start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("f");
    std::fs::write(&src, "some content\n").unwrap();
    let mut file = LocalFile::hash(&src).unwrap();
    file.sha1 = "0".repeat(40);
    let conn = Connection::open_with(&sshd.spec(), &IdentitySources::default()).await.unwrap();
    let target_dir = dir.path().join("target");
    std::fs::create_dir(&target_dir).unwrap();
    let staged = upload::stage(&conn, &Content::Local(file), target_dir.to_str().unwrap(), false).await.unwrap();
    let why = staged.unwrap_err();
    assert!(why.contains("checksum mismatch"), "{why}");
    assert_eq!(std::fs::read_dir(&target_dir).unwrap().count(), 0, "the temp file is removed");
    conn.close().await;
}

/// Issue 13 item 7: a copy whose remote shell is killed mid-transfer leaves
/// its `.stockman.*` temp file (the destination intact); a later run, even a
/// no-op one, removes that orphan once it is old enough, and leaves alone a
/// fresh temp file (a concurrent run's) and files stockman did not name.
#[test]
fn a_later_run_removes_the_temp_file_of_a_killed_transfer() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]);
    p.write("files/big.bin", "");
    write_payload(&p.path("files/big.bin"), SIZE);
    let dest = p.remote("dest.bin");
    std::fs::write(&dest, "old\n").unwrap();
    p.write("big.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: {src: big.bin, dest: \"{{ lookup('env', 'REMOTE') }}/dest.bin\"}\n");
    let mut child = p.command(Some(&sshd.known_hosts), "big.yml", &[]).stdout(std::process::Stdio::null()).spawn().unwrap();

    let orphan = loop {
        if let Some(tmp) = temp_files(&p.remote("")).into_iter().find(|t| std::fs::metadata(t).is_ok_and(|m| m.len() > 0)) {
            break tmp;
        }
        assert!(child.try_wait().unwrap().is_none(), "the copy ended before its transfer could be cut");
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    // The remote shell and its `tee`: every process naming the remote dir, killed at once.
    let remote_dir = p.remote_str();
    let pids: Vec<String> = processes_naming(&remote_dir).iter().map(u32::to_string).collect();
    assert!(!pids.is_empty(), "the transfer's processes are found");
    Command::new("kill").arg("-KILL").args(&pids).status().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the cut copy fails");
    assert_eq!(std::fs::read(&dest).unwrap(), b"old\n", "the destination is intact");
    assert!(orphan.exists(), "the killed shell left its temp file");

    // Aged past the bound; beside it a fresh one (in use) and look-alikes.
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
    std::fs::File::options().write(true).open(&orphan).unwrap().set_modified(two_hours_ago).unwrap();
    let fresh = p.remote(".stockman.Fr3shAbc");
    std::fs::write(&fresh, "in use").unwrap();
    let mut others = Vec::new();
    for name in [".stockman.notes.txt", ".stockman.abc", "stockman.ABCDEFGH"] {
        let path = p.remote(name);
        std::fs::write(&path, "user data").unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(two_hours_ago).unwrap();
        others.push(path);
    }

    p.write("noop.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: {content: \"old\\n\", dest: \"{{ lookup('env', 'REMOTE') }}/dest.bin\"}\n");
    let run = p.run(&sshd, "noop.yml", &[]);
    run.assert_code(0);
    assert_eq!(run.recap("h"), recap("h", 1, 0, 0, 0, 0, 0));
    assert!(!orphan.exists(), "the orphan is removed");
    assert!(fresh.exists(), "a fresh temp file (a concurrent run's) stays");
    for path in &others {
        assert!(path.exists(), "{} is not stockman's and stays", path.display());
    }
    assert_eq!(std::fs::read(&dest).unwrap(), b"old\n");
}

/// `.stockman.*` files in `dir`.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries.map(|e| e.path()).filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".stockman."))).collect()
}

/// Our processes whose command line mentions `needle` (the test sshd runs as us).
fn processes_naming(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    entries
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|&pid| pid != me)
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle)))
        .collect()
}
