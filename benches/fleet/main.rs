//! stockman's fleet benchmark (issue 8): a realistic playbook's first run and
//! no-op rerun on N systemd hosts, under stockman, under ansible-playbook and
//! as the OpenSSH lower bound, side by side in one run. Prints figures; it is
//! not a test. Needs root (the fleet is systemd-nspawn containers).
//!
//!     cargo bench --bench fleet -- [--hosts N] [--repeat K] [--no-ansible]
#![allow(clippy::print_stdout, clippy::print_stderr)] // printing figures is its job

#[allow(dead_code)] // the tier-2 fleet wrapper, shared as is
#[path = "../../tests/tier2/fleet.rs"]
mod fleet;
mod measure;
mod openssh;
mod project;
mod report;

use std::path::{Path, PathBuf};
use measure::Cost;
use project::Project;

const ANSIBLE_PLAYBOOK: &str = "/var/cache/stockman/ansible-venv/bin/ansible-playbook";

/// Tasks per host on a no-op rerun: facts + 7 tasks; the first run adds the handler.
pub const RERUN_TASKS: u32 = 8;
pub const FIRST_TASKS: u32 = 9;

struct Options {
    hosts: usize,
    repeat: usize,
    ansible: bool,
    stockman: PathBuf,
}

fn main() {
    let options = parse_args();
    eprintln!("bench: booting {} hosts", options.hosts);
    let fleet = fleet::Fleet::up(options.hosts);
    let hosts = fleet.hosts();
    let project = Project::new(&fleet);
    let mut figures = report::Figures { hosts: options.hosts, ..Default::default() };

    eprintln!("bench: stockman first run");
    figures.stockman_first = Some(project.stockman(&options.stockman, fleet.inventory_path(), false));
    eprintln!("bench: stockman no-op rerun x{}", options.repeat);
    figures.stockman_rerun = median((0..options.repeat).map(|_| project.stockman(&options.stockman, fleet.inventory_path(), true)).collect());

    let ssh = openssh::Ssh { key: fleet.key_path().to_path_buf(), known_hosts: fleet.known_hosts_path().to_path_buf(), sockets: openssh::socket_dir() };
    eprintln!("bench: OpenSSH lower bound x{}", options.repeat);
    figures.ssh_per_check = median_phase((0..options.repeat).map(|_| ssh.per_check(&hosts)).collect());
    figures.ssh_batched = median_phase((0..options.repeat).map(|_| ssh.batched(&hosts)).collect());
    let _ = std::fs::remove_dir_all(&ssh.sockets);

    if options.ansible {
        eprintln!("bench: resetting the hosts for ansible-playbook");
        project.reset_all(&fleet);
        eprintln!("bench: ansible-playbook first run");
        figures.ansible_first = Some(project.ansible(Path::new(ANSIBLE_PLAYBOOK), fleet.inventory_path(), false));
        eprintln!("bench: ansible-playbook no-op rerun x{}", options.repeat);
        figures.ansible_rerun = median((0..options.repeat).map(|_| project.ansible(Path::new(ANSIBLE_PLAYBOOK), fleet.inventory_path(), true)).collect());
    }
    drop(fleet);
    println!("{}", report::render(&figures));
}

fn parse_args() -> Options {
    let mut options = Options { hosts: 50, repeat: 3, ansible: Path::new(ANSIBLE_PLAYBOOK).exists(), stockman: default_stockman() };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| usage(&format!("{name} needs a value")));
        match arg.as_str() {
            "--hosts" => options.hosts = value("--hosts").parse().unwrap_or_else(|_| usage("--hosts takes a number")),
            "--repeat" => options.repeat = value("--repeat").parse().unwrap_or_else(|_| usage("--repeat takes a number")),
            "--stockman" => options.stockman = PathBuf::from(value("--stockman")),
            "--no-ansible" => options.ansible = false,
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
    eprintln!("bench: {problem}\nusage: cargo bench --bench fleet -- [--hosts N] [--repeat K] [--no-ansible] [--stockman PATH]");
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
