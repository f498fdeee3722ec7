//! The network fails under a transfer: the link of one host goes down on the
//! controller's side mid-copy, or it is slow and lossy (tc netem). The affected
//! host ends UNREACHABLE (or succeeds, when merely slow), the file is either the
//! old one or the new one in full, no temp file is left, and a rerun converges.

use sha2::Digest;
use std::time::Duration;

use crate::faults_support::{sh, temp_files, FaultProject, RUN_BOUND};
use crate::fleet::Fleet;

const BIG_COPY: &str = r#"
- hosts: fleet
  gather_facts: false
  tasks:
    - file: {path: /srv/big, state: directory}
    - copy: {src: big.bin, dest: /srv/big/big.bin}
    - copy: {content: "done\n", dest: /srv/big/done}
"#;

/// 64 MiB of non-repeating bytes (so no layer can compress it away).
fn big_payload() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..64 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256_on(fleet: &Fleet, host: &str, path: &str) -> String {
    fleet.sh(host, &format!("sha256sum {path} 2>/dev/null | cut -d' ' -f1 || true")).trim().to_string()
}

/// Removes a qdisc and brings links up again even when the test fails.
struct Restore(Vec<(&'static str, Vec<String>)>);

impl Drop for Restore {
    fn drop(&mut self) {
        for (program, args) in &self.0 {
            let _ = std::process::Command::new(program).args(args).output();
        }
    }
}

#[test]
fn link_down_mid_copy_leaves_the_old_file_and_no_temp_file() {
    let fleet = Fleet::up(2);
    let p = FaultProject::new(&fleet, BIG_COPY);
    let payload = big_payload();
    p.write("files/big.bin", &payload);
    fleet.sh("fleet02", "mkdir -p /srv/big && echo old > /srv/big/big.bin");
    let old = sha256_on(&fleet, "fleet02", "/srv/big/big.bin");
    let _restore = Restore(vec![("ip", vec!["link".into(), "set".into(), "smv-fleet02".into(), "up".into()])]);
    // Slow the link so the transfer takes long enough to be cut in the middle.
    sh("tc", &["qdisc", "add", "dev", "smv-fleet02", "root", "tbf", "rate", "40mbit", "burst", "64kb", "latency", "400ms"]);
    let running = p.start(&[]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // Cut once the temp file of the transfer shows up in the destination directory.
    while temp_files(&fleet, "fleet02", "/srv/big").is_empty() {
        assert!(std::time::Instant::now() < deadline, "the transfer never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    sh("ip", &["link", "set", "smv-fleet02", "down"]);
    let run = running.finish();
    assert!(run.elapsed < RUN_BOUND);
    assert_eq!(run.count("fleet02", "unreachable"), 1, "{}", run.all());
    assert_eq!(run.count("fleet01", "failed") + run.count("fleet01", "unreachable"), 0, "{}", run.all());
    sh("ip", &["link", "set", "smv-fleet02", "up"]);
    sh("tc", &["qdisc", "del", "dev", "smv-fleet02", "root"]);
    // The writer on the host may need a moment to notice its client is gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !temp_files(&fleet, "fleet02", "/srv/big").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    // Replaced atomically or not at all: the old file, or the whole new one
    // (the cut may come after the last byte was already on its way).
    let after = sha256_on(&fleet, "fleet02", "/srv/big/big.bin");
    let whole: String = sha2::Sha256::digest(&payload).iter().map(|b| format!("{b:02x}")).collect();
    assert!(after == old || after == whole, "dest is neither the old file nor the whole new one after a cut transfer");
    let left = temp_files(&fleet, "fleet02", "/srv/big");
    assert_eq!(left, "", "a cut transfer left a temp file behind");

    let rerun = p.run(&[]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    let full = sha256_on(&fleet, "fleet01", "/srv/big/big.bin");
    assert_eq!(sha256_on(&fleet, "fleet02", "/srv/big/big.bin"), full, "rerun converges");
    assert_eq!(p.run(&[]).count("fleet02", "changed"), 0);
}

#[test]
fn a_slow_lossy_link_is_slow_but_correct() {
    let fleet = Fleet::up(2);
    let p = FaultProject::new(&fleet, BIG_COPY);
    let payload: Vec<u8> = big_payload().into_iter().take(2 << 20).collect();
    p.write("files/big.bin", &payload);
    let _restore = Restore(vec![("tc", vec!["qdisc".into(), "del".into(), "dev".into(), "smv-fleet02".into(), "root".into()])]);
    // netem needs sch_netem; kernels without it (some VM kernels) get a slow
    // token bucket instead: slow, but no delay or loss.
    let netem = std::process::Command::new("tc")
        .args(["qdisc", "add", "dev", "smv-fleet02", "root", "netem", "delay", "200ms", "loss", "5%"])
        .output()
        .unwrap();
    if !netem.status.success() {
        assert!(String::from_utf8_lossy(&netem.stderr).contains("unknown"), "{}", String::from_utf8_lossy(&netem.stderr));
        sh("tc", &["qdisc", "add", "dev", "smv-fleet02", "root", "tbf", "rate", "2mbit", "burst", "16kb", "latency", "800ms"]);
    }
    let run = p.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.count("fleet02", "changed"), 3, "{}", run.all());
    assert_eq!(sha256_on(&fleet, "fleet02", "/srv/big/big.bin"), sha256_on(&fleet, "fleet01", "/srv/big/big.bin"));
    assert_eq!(temp_files(&fleet, "fleet02", "/srv/big"), "");
    let rerun = p.run(&[]);
    assert_eq!(rerun.count("fleet02", "changed"), 0, "{}", rerun.all());
}
