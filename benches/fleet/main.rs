//! stockman's fleet benchmark (issue 8): a realistic playbook's first run and
//! no-op rerun on N systemd hosts, under stockman, under ansible-playbook and
//! as the OpenSSH lower bound, side by side in one run. Prints figures; it is
//! not a test. Needs root (the fleet is systemd-nspawn containers).
//!
//!     cargo bench --bench fleet -- [--hosts N] [--repeat K] [--no-ansible] [--no-pyinfra] [--fallback | --fallback-only]
//!
//! site.yml runs under stockman, pyinfra (benches/fleet/pyinfra.rs, the same
//! work as a deploy) and ansible-playbook, each from freshly reset hosts, and
//! the OpenSSH floors: one batched command per host making the first run's
//! changes on fresh hosts, and one doing the rerun's checks.
//!
//! `--fallback` adds benches/fleet/fallback.yml (five tasks of a module run
//! through the fallback) under both tools; `--fallback-only` runs only that.
#![allow(clippy::print_stdout, clippy::print_stderr)] // printing figures is its job

#[allow(dead_code)] // the tier-2 fleet wrapper, shared as is
#[path = "../../tests/tier2/fleet.rs"]
mod fleet;
mod measure;
mod openssh;
mod project;
mod pyinfra;
mod report;

use std::path::{Path, PathBuf};
use measure::Cost;
use project::Project;

const ANSIBLE_PLAYBOOK: &str = "/var/cache/stockman/ansible-venv/bin/ansible-playbook";
/// The Python that has ansible-core and the collections, for stockman's fallback.
pub const ANSIBLE_PYTHON: &str = "/var/cache/stockman/ansible-venv/bin/python3";

/// Tasks per host on a no-op rerun: facts + 7 tasks; the first run adds the handler.
pub const RERUN_TASKS: u32 = 8;
pub const FIRST_TASKS: u32 = 9;
/// Tasks per host in fallback.yml.
pub const FALLBACK_TASKS: u32 = 5;

struct Options {
    hosts: usize,
    repeat: usize,
    ansible: bool,
    pyinfra: bool,
    stockman: PathBuf,
    /// fallback.yml: 0 no, 1 as well, 2 only.
    fallback: u8,
}

fn main() {
    let options = parse_args();
    eprintln!("bench: booting {} hosts", options.hosts);
    let fleet = fleet::Fleet::up(options.hosts);
    let project = Project::new(&fleet);
    let mut figures = report::Figures { hosts: options.hosts, ..Default::default() };
    if options.fallback < 2 {
        site(&options, &fleet, &project, &mut figures);
    }
    if options.fallback > 0 {
        if options.fallback < 2 {
            project.reset_all(&fleet);
        }
        fallback(&options, &fleet, &project, &mut figures);
    }
    drop(fleet);
    println!("{}", report::render(&figures));
}

/// fallback.yml: first run (the hosts' bundle cache empty) and reruns, under
/// stockman, then ansible-playbook on freshly reset hosts.
fn fallback(options: &Options, fleet: &fleet::Fleet, project: &Project, figures: &mut report::Figures) {
    let inventory = fleet.inventory_path();
    (figures.fallback_stockman_first, figures.fallback_stockman_rerun) = first_and_reruns("fallback.yml, stockman", options.repeat, |rerun| project.stockman(&options.stockman, inventory, "fallback.yml", rerun));
    if options.ansible {
        eprintln!("bench: resetting the hosts for ansible-playbook");
        project.reset_all(fleet);
        (figures.fallback_ansible_first, figures.fallback_ansible_rerun) = first_and_reruns("fallback.yml, ansible-playbook", options.repeat, |rerun| project.ansible(Path::new(ANSIBLE_PLAYBOOK), inventory, "fallback.yml", rerun));
    }
}

/// A first run, then `repeat` no-op reruns (their median).
fn first_and_reruns(label: &str, repeat: usize, run: impl Fn(bool) -> Cost) -> (Option<Cost>, Option<Cost>) {
    eprintln!("bench: {label} first run");
    let first = run(false);
    eprintln!("bench: {label} no-op rerun x{repeat}");
    (Some(first), median((0..repeat).map(|_| run(true)).collect()))
}

/// site.yml: the issue-8 figures.
fn site(options: &Options, fleet: &fleet::Fleet, project: &Project, figures: &mut report::Figures) {
    let hosts = fleet.hosts();

    let inventory = fleet.inventory_path();
    (figures.stockman_first, figures.stockman_rerun) = first_and_reruns("stockman", options.repeat, |rerun| project.stockman(&options.stockman, inventory, "site.yml", rerun));

    let ssh = openssh::Ssh { key: fleet.key_path().to_path_buf(), known_hosts: fleet.known_hosts_path().to_path_buf(), sockets: openssh::socket_dir() };
    eprintln!("bench: OpenSSH lower bound x{}", options.repeat);
    figures.ssh_per_check = median_phase((0..options.repeat).map(|_| ssh.per_check(&hosts)).collect());
    figures.ssh_batched = median_phase((0..options.repeat).map(|_| ssh.batched(&hosts)).collect());
    eprintln!("bench: OpenSSH first-run floor");
    project.reset_all(fleet);
    figures.ssh_first = Some(ssh.batched_first(&hosts, project::UNIT));
    let _ = std::fs::remove_dir_all(&ssh.sockets);

    if options.pyinfra {
        let program = pyinfra::ensure_installed();
        eprintln!("bench: resetting the hosts for pyinfra");
        project.reset_all(fleet);
        (figures.pyinfra_first, figures.pyinfra_rerun) = first_and_reruns("pyinfra", options.repeat, |_| project.pyinfra(&program, &hosts, fleet.key_path()));
    }

    if options.ansible {
        eprintln!("bench: resetting the hosts for ansible-playbook");
        project.reset_all(fleet);
        (figures.ansible_first, figures.ansible_rerun) = first_and_reruns("ansible-playbook", options.repeat, |rerun| project.ansible(Path::new(ANSIBLE_PLAYBOOK), inventory, "site.yml", rerun));
    }
}

fn parse_args() -> Options {
    let mut options = Options { hosts: 50, repeat: 3, ansible: Path::new(ANSIBLE_PLAYBOOK).exists(), pyinfra: true, stockman: default_stockman(), fallback: 0 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| usage(&format!("{name} needs a value")));
        match arg.as_str() {
            "--hosts" => options.hosts = value("--hosts").parse().unwrap_or_else(|_| usage("--hosts takes a number")),
            "--repeat" => options.repeat = value("--repeat").parse().unwrap_or_else(|_| usage("--repeat takes a number")),
            "--stockman" => options.stockman = PathBuf::from(value("--stockman")),
            "--no-ansible" => options.ansible = false,
            "--no-pyinfra" => options.pyinfra = false,
            "--fallback" => options.fallback = 1,
            "--fallback-only" => options.fallback = 2,
            // `cargo bench` passes --bench to harness-less targets.
            "--bench" => {}
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    if options.hosts == 0 || options.repeat == 0 {
        usage("--hosts and --repeat must be at least 1");
    }
    options
}

fn usage(problem: &str) -> ! {
    eprintln!("bench: {problem}\nusage: cargo bench --bench fleet -- [--hosts N] [--repeat K] [--no-ansible] [--no-pyinfra] [--stockman PATH] [--fallback | --fallback-only]");
    std::process::exit(2)
}

/// The stockman binary cargo built beside this benchmark (release profile).
fn default_stockman() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stockman"))
}

fn median(mut costs: Vec<Cost>) -> Option<Cost> {
    costs.sort_by_key(|c| c.wall);
    costs.get(costs.len() / 2).copied()
}

fn median_phase(mut phases: Vec<openssh::Phase>) -> Option<openssh::Phase> {
    phases.sort_by_key(|p| p.wall);
    phases.get(phases.len() / 2).copied()
}
