//! Wall time, CPU time and peak memory of a child process, from `wait4`, and
//! the whole machine's busy CPU time meanwhile (the hosts share its cores).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a program cost the controller.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub wall: Duration,
    /// User + system CPU of the process and the children it waited for.
    pub cpu: Duration,
    /// Peak resident memory (ru_maxrss), in KiB.
    pub max_rss_kib: u64,
    /// CPU time the whole machine (controller and hosts) was busy meanwhile.
    pub machine_cpu: Duration,
}

/// Busy CPU time of the whole machine since boot (user, nice, system, irq,
/// softirq of /proc/stat; idle, iowait and steal excluded).
pub fn machine_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat.lines().next().unwrap_or_default().split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect();
    let busy: u64 = [0, 1, 2, 5, 6].iter().filter_map(|&i| fields.get(i)).sum();
    // SAFETY: sysconf has no preconditions.
    let ticks = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100).max(1);
    Duration::from_millis(busy * 1000 / ticks)
}

/// The outcome of [`run`]: the cost, the exit code and what was printed.
pub struct Finished {
    pub cost: Cost,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion, output captured in temporary files (pipes would
/// need reader threads, and their CPU would count as the controller's).
pub fn run(cmd: &mut Command) -> Finished {
    let out = tempfile::tempfile().expect("a temporary file");
    let err = tempfile::tempfile().expect("a temporary file");
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(err.try_clone().expect("dup"));
    let started = Instant::now();
    let busy_before = machine_busy();
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    // Reaped by wait4 below, which also gives the rusage `Child::wait` can't.
    let (status, usage) = wait4(child.id());
    std::mem::forget(child);
    let wall = started.elapsed();
    let machine_cpu = machine_busy().saturating_sub(busy_before);
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    Finished {
        cost: Cost { wall, cpu: cpu_of(&usage), max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0), machine_cpu },
        code,
        stdout: read_all(out),
        stderr: read_all(err),
    }
}

fn wait4(pid: u32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: wait4 only writes into the status and rusage we own; the pid is our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if rc >= 0 {
            return (status, usage);
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted, "wait4: {err}");
    }
}

fn cpu_of(usage: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn read_all(mut file: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut text = String::new();
    let _ = file.rewind();
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    text.push_str(&String::from_utf8_lossy(&bytes));
    text
}
