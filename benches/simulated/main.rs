//! Controller-side scale (issue 8 item 3, issue 9 item 6): the 20-task load
//! playbook on N simulated hosts (distinct inventory names, one OpenSSH sshd
//! on 127.0.0.1, every host a real SSH session), first run and no-op rerun.
//! Prints the controller's wall time, CPU time (total and per host-task) and
//! peak memory. Needs no root and no fleet; it is not a test.
//!
//!     cargo bench --bench simulated -- [--hosts 1000] [--forks 50] [--repeat 1] [--stockman PATH]
#![allow(clippy::print_stdout, clippy::print_stderr)] // printing figures is its job

#[allow(dead_code)] // the load test's simulated fleet, shared as is
#[path = "../../tests/tier1/load_fleet.rs"]
mod load_fleet;
#[allow(dead_code)]
#[path = "../fleet/measure.rs"]
mod measure;
#[allow(dead_code)] // tier 1's sshd, shared as is
#[path = "../../tests/tier1/sshd.rs"]
mod sshd;

use std::path::PathBuf;

use load_fleet::LoadProject;
use measure::Cost;

struct Options {
    hosts: usize,
    forks: usize,
    repeat: usize,
    stockman: PathBuf,
}

fn main() {
    let options = parse_args();
    let sshd = load_fleet::start_sshd();
    let project = LoadProject::new(&sshd, options.hosts);
    eprintln!("simulated: {} hosts on sshd port {}, forks {}", options.hosts, sshd.port, options.forks);
    let first = run(&project, &options, false);
    let reruns: Vec<Cost> = (0..options.repeat).map(|_| run(&project, &options, true)).collect();
    println!("{}", render(&options, first, median(reruns)));
}

/// One run of the load playbook; panics unless every host ended ok.
fn run(project: &LoadProject, options: &Options, rerun: bool) -> Cost {
    let label = if rerun { "no-op rerun" } else { "first run" };
    eprintln!("simulated: {label}");
    let finished = measure::run(&mut project.command(&[], &options.stockman, options.forks));
    if let Err(problem) = load_fleet::judge(finished.code, &finished.stdout, options.hosts, rerun) {
        let tail: Vec<&str> = finished.stdout.lines().rev().take(30).collect();
        panic!("{label}: {problem}\n{}\n--- stderr\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"), finished.stderr);
    }
    finished.cost
}

fn render(options: &Options, first: Cost, rerun: Cost) -> String {
    let host_tasks = options.hosts as f64 * f64::from(load_fleet::TASKS);
    let mut out = format!(
        "\nstockman simulated fleet: {} hosts (one sshd on 127.0.0.1), tests/data/load/load.yml ({} tasks), forks {}\n",
        options.hosts,
        load_fleet::TASKS,
        options.forks
    );
    out.push_str(&format!("{:<14}{:>10}{:>12}{:>18}{:>14}\n", "", "wall", "ctl CPU", "CPU/host-task", "ctl peak RSS"));
    for (label, cost) in [("first run", first), ("no-op rerun", rerun)] {
        out.push_str(&format!(
            "{label:<14}{:>9.2}s{:>11.2}s{:>15.3} ms{:>10.1} MiB\n",
            cost.wall.as_secs_f64(),
            cost.cpu.as_secs_f64(),
            cost.cpu.as_secs_f64() * 1000.0 / host_tasks,
            cost.max_rss_kib as f64 / 1024.0
        ));
    }
    let peak_mib = first.max_rss_kib.max(rerun.max_rss_kib) as f64 / 1024.0;
    let worst_ms = first.cpu.max(rerun.cpu).as_secs_f64() * 1000.0 / host_tasks;
    out.push_str(&format!("targets (issue 8): CPU per host-task <= 2 ms: {worst_ms:.3} ms {}\n", verdict(worst_ms <= 2.0)));
    out.push_str(&format!("                   peak RSS <= 500 MiB at 1,000 hosts: {peak_mib:.1} MiB {}\n", verdict(peak_mib <= 500.0)));
    out
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

fn median(mut costs: Vec<Cost>) -> Cost {
    costs.sort_by_key(|c| c.wall);
    costs[costs.len() / 2]
}

fn parse_args() -> Options {
    let mut options = Options { hosts: 1000, forks: 50, repeat: 1, stockman: PathBuf::from(env!("CARGO_BIN_EXE_stockman")) };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> usize {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage(&format!("{name} takes a number")))
        };
        match arg.as_str() {
            "--hosts" => options.hosts = number("--hosts"),
            "--forks" => options.forks = number("--forks"),
            "--repeat" => options.repeat = number("--repeat"),
            "--stockman" => options.stockman = PathBuf::from(args.next().unwrap_or_else(|| usage("--stockman needs a path"))),
            // `cargo bench` passes --bench to harness-less targets.
            "--bench" => {}
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    if options.hosts == 0 || options.forks == 0 || options.repeat == 0 {
        usage("--hosts, --forks and --repeat must be at least 1");
    }
    options
}

fn usage(problem: &str) -> ! {
    eprintln!("simulated: {problem}\nusage: cargo bench --bench simulated -- [--hosts N] [--forks F] [--repeat K] [--stockman PATH]");
    std::process::exit(2)
}
