//! The table the benchmark prints: wall times, ratios, the targets of issue 18,
//! stockman's controller CPU and peak memory.

use std::fmt::Write;

use crate::measure::Cost;
use crate::openssh::Phase;
use crate::{FALLBACK_TASKS, FIRST_TASKS, RERUN_TASKS};

#[derive(Default)]
pub struct Figures {
    pub hosts: usize,
    pub stockman_first: Option<Cost>,
    pub stockman_rerun: Option<Cost>,
    pub ansible_first: Option<Cost>,
    pub ansible_rerun: Option<Cost>,
    pub pyinfra_first: Option<Cost>,
    pub pyinfra_rerun: Option<Cost>,
    /// One batched command per fresh host making the first run's changes.
    pub ssh_first: Option<Phase>,
    /// Medians (by wall time) of the OpenSSH lower bounds.
    pub ssh_per_check: Option<Phase>,
    pub ssh_batched: Option<Phase>,
    /// fallback.yml (five fallback-module tasks).
    pub fallback_stockman_first: Option<Cost>,
    pub fallback_stockman_rerun: Option<Cost>,
    pub fallback_ansible_first: Option<Cost>,
    pub fallback_ansible_rerun: Option<Cost>,
}

pub fn render(f: &Figures) -> String {
    let mut out = String::new();
    if f.stockman_first.is_some() {
        site(&mut out, f);
    }
    if f.fallback_stockman_first.is_some() {
        fallback(&mut out, f);
    }
    out
}

/// fallback.yml's rows and the per-task cost (wall time over the five tasks,
/// connection set-up included, hosts in parallel).
fn fallback(out: &mut String, f: &Figures) {
    let title = format!("benches/fleet/fallback.yml ({FALLBACK_TASKS} tasks of community.general.ini_file, no facts)");
    table(out, f.hosts, &title, [f.fallback_stockman_first, f.fallback_ansible_first, f.fallback_stockman_rerun, f.fallback_ansible_rerun]);
    let per_task = |c: Option<Cost>| c.map(|c| c.wall.as_secs_f64() * 1000.0 / f64::from(FALLBACK_TASKS));
    info(out, "wall per task, first run, stockman", per_task(f.fallback_stockman_first), " ms");
    info(out, "wall per task, first run, ansible-playbook", per_task(f.fallback_ansible_first), " ms");
    info(out, "wall per task, rerun, stockman", per_task(f.fallback_stockman_rerun), " ms");
    info(out, "wall per task, rerun, ansible-playbook", per_task(f.fallback_ansible_rerun), " ms");
    let wall = |c: Option<Cost>| c.map(|c| c.wall.as_secs_f64());
    info(out, "rerun: ansible / stockman", ratio(wall(f.fallback_ansible_rerun), wall(f.fallback_stockman_rerun)), "x");
    let machine = |c: Option<Cost>| c.map(|c| c.machine_cpu.as_secs_f64());
    info(out, "rerun: machine CPU, ansible / stockman", ratio(machine(f.fallback_ansible_rerun), machine(f.fallback_stockman_rerun)), "x");
}

/// site.yml's rows: each tool and the OpenSSH floors, then each phase's
/// ratios from this same run, and the targets of issue 18.
fn site(out: &mut String, f: &Figures) {
    table(out, f.hosts, "benches/fleet/site.yml (facts + 7 tasks, 1 handler)", [f.stockman_first, f.ansible_first, f.stockman_rerun, f.ansible_rerun]);
    row(out, "first run    pyinfra", f.pyinfra_first);
    row(out, "no-op rerun  pyinfra", f.pyinfra_rerun);
    let floors = [("first run    OpenSSH, 1 command/host", f.ssh_first), ("no-op rerun  OpenSSH, mux, 1 RT/check", f.ssh_per_check), ("             OpenSSH, 1 command/host", f.ssh_batched)];
    for (label, phase) in floors {
        if let Some(p) = phase {
            let note = if p.failures > 0 { format!("  ({} commands failed)", p.failures) } else { String::new() };
            let _ = writeln!(out, "{label:<38}{:>9.2}s{:>41.2}s{note}", p.wall.as_secs_f64(), p.machine_cpu.as_secs_f64());
        }
    }
    let wall = |c: Option<Cost>| c.map(|c| c.wall.as_secs_f64());
    let floor = |p: Option<Phase>| p.map(|p| p.wall.as_secs_f64());
    for (phase, stockman, ansible, pyinfra, openssh) in [("first run", f.stockman_first, f.ansible_first, f.pyinfra_first, f.ssh_first), ("no-op rerun", f.stockman_rerun, f.ansible_rerun, f.pyinfra_rerun, f.ssh_batched)] {
        let _ = writeln!(out, "\n{phase}, ratios of wall times in this run:");
        info(out, "ansible-playbook / stockman", ratio(wall(ansible), wall(stockman)), "x");
        info(out, "pyinfra / stockman", ratio(wall(pyinfra), wall(stockman)), "x");
        info(out, "stockman / OpenSSH, 1 command/host", ratio(wall(stockman), floor(openssh)), "x");
    }
    let _ = writeln!(out, "\ntargets (issue 18):");
    target(out, "no-op rerun: stockman / OpenSSH batched <= 1.0", ratio(wall(f.stockman_rerun), floor(f.ssh_batched)), |r| r <= 1.0, "x");
    target(out, "first run: pyinfra / stockman >= 2", ratio(wall(f.pyinfra_first), wall(f.stockman_first)), |r| r >= 2.0, "x");
    target(out, "first run: stockman / OpenSSH batched <= 1.2", ratio(wall(f.stockman_first), floor(f.ssh_first)), |r| r <= 1.2, "x");
    let _ = writeln!(out, "\nstockman's controller:");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let saturation = f.stockman_rerun.map(|c| c.machine_cpu.as_secs_f64() / (c.wall.as_secs_f64() * cores) * 100.0);
    info(out, "no-op rerun: cores busy during stockman's", saturation, " %");
    let per_task = |c: Option<Cost>, tasks: u32| c.map(|c| c.cpu.as_secs_f64() * 1000.0 / (f.hosts as f64 * f64::from(tasks)));
    info(out, "CPU per host-task, first run", per_task(f.stockman_first, FIRST_TASKS), " ms");
    info(out, "CPU per host-task, rerun", per_task(f.stockman_rerun, RERUN_TASKS), " ms");
    let peak = [f.stockman_first, f.stockman_rerun].iter().flatten().map(|c| c.max_rss_kib).max().map(|k| k as f64 / 1024.0);
    info(out, "peak memory", peak, " MiB");
}

/// The title, the machine, and the four runs' rows: first run and rerun,
/// each under stockman then ansible-playbook.
fn table(out: &mut String, hosts: usize, title: &str, [first_s, first_a, rerun_s, rerun_a]: [Option<Cost>; 4]) {
    let _ = writeln!(out, "\nstockman fleet benchmark: {hosts} hosts, {title}");
    let _ = writeln!(out, "{}", machine());
    let _ = writeln!(out, "\n{:<38}{:>10}{:>12}{:>14}{:>16}", "", "wall", "ctl CPU", "ctl peak RSS", "machine CPU");
    row(out, "first run    stockman", first_s);
    row(out, "             ansible-playbook", first_a);
    row(out, "no-op rerun  stockman", rerun_s);
    row(out, "             ansible-playbook", rerun_a);
}

fn row(out: &mut String, label: &str, cost: Option<Cost>) {
    if let Some(c) = cost {
        let _ = writeln!(out, "{label:<38}{:>9.2}s{:>11.2}s{:>10.1} MiB{:>15.2}s", c.wall.as_secs_f64(), c.cpu.as_secs_f64(), c.max_rss_kib as f64 / 1024.0, c.machine_cpu.as_secs_f64());
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

/// A figure for context, with no target to meet.
fn info(out: &mut String, label: &str, value: Option<f64>, unit: &str) {
    let _ = match value {
        Some(v) => writeln!(out, "  {label:<52}{v:>9.2}{unit:<5}(info)"),
        None => writeln!(out, "  {label:<52}{:>9}", "n/a"),
    };
}

fn target(out: &mut String, label: &str, value: Option<f64>, met: impl Fn(f64) -> bool, unit: &str) {
    let _ = match value {
        Some(v) => writeln!(out, "  {label:<52}{v:>9.2}{unit:<5}{}", if met(v) { "met" } else { "NOT MET" }),
        None => writeln!(out, "  {label:<52}{:>9}", "n/a"),
    };
}

/// Date, CPU model and core count, for the record.
fn machine() -> String {
    let date = std::process::Command::new("date").arg("-u").arg("+%Y-%m-%d %H:%M UTC").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']).to_string()).unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{date}, {model}, {cores} cores, Linux {}", kernel.trim())
}
