//! Command-line flags (clap) → validated [`Settings`], then the run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};
use serde_json::{Map, Value};

use crate::config::{Id, Loaded, Settings};
use crate::executor::Executor;
use crate::inventory::Inventory;
use crate::playbook::{self, parse_kv};
use crate::transport::{BecomeMethod, BecomeSpec, Secret};
use crate::report::{self, Format, OutputOptions, Outputs, Reporter as _};

mod adhoc;
pub(crate) mod history;
mod inventory;
mod merge;
mod password_file;
mod pull;

const EXAMPLES: &str = "\
Examples:
  stockman playbook -i inventory-examples/localhost.ini playbooks/quickstart.yml
  stockman playbook -i hosts.ini -l web site.yml --check --diff
  stockman playbook -i hosts.yml -u admin --private-key ~/.ssh/deploy -e version=1.2 site.yml
  stockman playbook -i hosts.ini -e @vars.yml -f 100 -v site.yml
  stockman playbook -i hosts.ini --output json site.yml > events.jsonl
  stockman playbook -i hosts.ini --check --detailed-exitcode --junit report.xml site.yml
  stockman playbook -i hosts.ini --profile site.yml
  stockman playbook -i hosts.ini --shard 0/3 --output json site.yml > events-0.jsonl
  stockman completions bash > /etc/bash_completion.d/stockman";

const COMPLETION_EXAMPLES: &str = "\
Examples:
  stockman completions bash > /etc/bash_completion.d/stockman
  stockman completions zsh > \"${fpath[1]}/_stockman\"
  stockman completions fish > ~/.config/fish/completions/stockman.fish";

#[derive(Parser, Debug)]
#[command(name = "stockman", version, propagate_version = true, about = "Runs Ansible playbooks over SSH: agentless, fast, one binary.", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run playbooks against the hosts of an inventory (like ansible-playbook).
    #[command(after_help = EXAMPLES)]
    Playbook(PlaybookArgs),
    /// Update a git checkout and run its playbook on this host (like ansible-pull).
    #[command(after_help = pull::EXAMPLES)]
    // -C and -f are ansible-pull's --checkout and --force here; --check and --forks stay long.
    #[command(mut_arg("check", |a| a.short(None)), mut_arg("forks", |a| a.short(None)), mut_arg("playbooks", |a| a.required(false)))]
    Pull(pull::PullArgs),
    /// Run one module on the hosts of a pattern (like ansible's ad-hoc command).
    #[command(after_help = adhoc::EXAMPLES)]
    Adhoc(adhoc::AdhocArgs),
    /// Show the inventory as ansible-inventory does: --list, --host, --graph.
    #[command(after_help = inventory::EXAMPLES)]
    Inventory(inventory::InventoryArgs),
    /// Join the `--output json` streams of a `--shard` run's shards: one recap, exit code and JUnit report.
    #[command(after_help = merge::EXAMPLES)]
    Merge(merge::MergeArgs),
    /// Encrypt, decrypt, view, edit and rekey Ansible Vault files (like ansible-vault).
    Vault(crate::vault::command::VaultArgs),
    /// Show the settings from ansible.cfg and ANSIBLE_* variables (like ansible-config).
    Config(crate::config::show::ConfigArgs),
    /// Query the run history: list runs, show one, or a host's drift.
    #[command(after_help = history::EXAMPLES)]
    History(history::HistoryArgs),
    /// List each task's module: native, run through the Ansible fallback, or missing.
    Modules {
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
    },
    /// Print shell completions for bash, zsh or fish.
    #[command(after_help = COMPLETION_EXAMPLES)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
struct PlaybookArgs {
    #[command(flatten)]
    common: CommonFlags,
    /// Only run tasks tagged with these (comma-separated; repeatable).
    #[arg(short = 't', long = "tags", value_name = "TAGS", action = ArgAction::Append)]
    tags: Vec<String>,
    /// Skip tasks tagged with these (comma-separated; repeatable).
    #[arg(long = "skip-tags", value_name = "TAGS", action = ArgAction::Append)]
    skip_tags: Vec<String>,
    /// Run notified handlers even on hosts that failed (a play's force_handlers wins).
    #[arg(long = "force-handlers")]
    force_handlers: bool,
    /// Drop the cached facts of every inventory host before the first play.
    #[arg(long = "flush-cache")]
    flush_cache: bool,
    /// Load and validate the playbooks, then stop.
    #[arg(long = "syntax-check")]
    syntax_check: bool,
    /// List the hosts each play would run on, then stop.
    #[arg(long = "list-hosts")]
    list_hosts: bool,
    /// List the tasks each play would run (with their tags), then stop.
    #[arg(long = "list-tasks")]
    list_tasks: bool,
    /// List the tags of the tasks each play would run, then stop.
    #[arg(long = "list-tags")]
    list_tags: bool,
    /// Start at the first task whose name (or `role : name`) matches this fnmatch pattern.
    #[arg(long = "start-at-task", value_name = "TASK")]
    start_at_task: Option<String>,
    /// Confirm each task before running it (needs a terminal).
    #[arg(long = "step")]
    step: bool,
    /// Run only shard I of N (0-based) of the inventory's hosts; `auto/N` and `auto` take them from
    /// JOB_COMPLETION_INDEX, CI_NODE_INDEX/CI_NODE_TOTAL or STOCKMAN_SHARD_INDEX/STOCKMAN_SHARD_TOTAL.
    #[arg(long = "shard", value_name = "I/N|auto/N|auto")]
    shard: Option<String>,
    /// With --shard: also run plays that do not split faithfully (run_once, serial, ...), warning about each.
    #[arg(long = "shard-unsafe", requires = "shard")]
    shard_unsafe: bool,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    history: history::RecordFlags,
    /// Playbook files to run, in order.
    #[arg(required = true, value_name = "PLAYBOOK")]
    playbooks: Vec<PathBuf>,
}

/// Flags `playbook` and the ad-hoc command share: hosts, connection, become, variables, check/diff.
#[derive(Args, Debug)]
struct CommonFlags {
    /// Inventory file, directory or comma-separated host list; repeatable.
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY", action = ArgAction::Append)]
    inventory: Vec<PathBuf>,
    /// Further limit the selected hosts to a pattern (e.g. `web,!web3`).
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    limit: Option<String>,
    /// Number of hosts worked on in parallel (default: ansible.cfg's forks, or 50).
    #[arg(short = 'f', long = "forks", value_name = "FORKS")]
    forks: Option<usize>,
    /// Connect as this user (inventory and play settings take precedence).
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    user: Option<String>,
    /// Private key file for SSH (the inventory's ansible_ssh_private_key_file takes precedence).
    #[arg(long = "private-key", visible_alias = "key-file", value_name = "FILE")]
    private_key: Option<PathBuf>,
    /// Extra variables: KEY=VALUE pairs, a YAML/JSON mapping, or @FILE; repeatable.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS", action = ArgAction::Append)]
    extra_vars: Vec<String>,
    /// Report what would change without changing anything.
    #[arg(short = 'C', long = "check")]
    check: bool,
    /// Show the differences in files that change.
    #[arg(short = 'D', long = "diff")]
    diff: bool,
    /// More detail: -v results, -vv task paths, -vvv connections.
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    verbose: u8,
    /// No colour, even on a terminal (NO_COLOR works too).
    #[arg(long = "no-color")]
    no_color: bool,
    /// Connection of hosts whose inventory and play name none: ssh (also smart, paramiko) or local.
    #[arg(short = 'c', long = "connection", value_name = "CONNECTION")]
    connection: Option<String>,
    /// Seconds to wait for an SSH connection (ansible_ssh_timeout wins).
    #[arg(short = 'T', long = "timeout", value_name = "TIMEOUT")]
    timeout: Option<u64>,
    /// ssh options for hosts without ansible_ssh_common_args (its -o options apply).
    #[arg(long = "ssh-common-args", value_name = "ARGS", allow_hyphen_values = true)]
    ssh_common_args: Option<String>,
    /// ssh options for hosts without ansible_ssh_extra_args (its -o options apply).
    #[arg(long = "ssh-extra-args", value_name = "ARGS", allow_hyphen_values = true)]
    ssh_extra_args: Option<String>,
    /// Accepted and not used: stockman copies files over its one SSH connection, never with scp.
    #[arg(long = "scp-extra-args", value_name = "ARGS", allow_hyphen_values = true)]
    scp_extra_args: Option<String>,
    /// Accepted and not used: stockman copies files over its one SSH connection, never with sftp.
    #[arg(long = "sftp-extra-args", value_name = "ARGS", allow_hyphen_values = true)]
    sftp_extra_args: Option<String>,
    /// The SSH password from FILE (its text, or an executable's output; `-`: stdin).
    #[arg(long = "connection-password-file", visible_alias = "conn-pass-file", value_name = "FILE")]
    connection_password_file: Option<PathBuf>,
    /// OpenSSH client config read instead of ~/.ssh/config (like `ssh -F`).
    #[arg(long = "ssh-config", value_name = "FILE")]
    ssh_config: Option<PathBuf>,
    /// Ask for the SSH password (for hosts without a key yet).
    #[arg(short = 'k', long = "ask-pass")]
    ask_pass: bool,
    /// File whose first line is the passphrase of encrypted private keys.
    #[arg(long = "private-key-passphrase-file", value_name = "FILE")]
    private_key_passphrase_file: Option<PathBuf>,
    /// Run tasks as another user (sudo by default), like `become: true`.
    #[arg(short = 'b', long = "become")]
    r#become: bool,
    /// The user to become (default root).
    #[arg(long = "become-user", value_name = "USER")]
    become_user: Option<String>,
    /// How to become: sudo or su.
    #[arg(long = "become-method", value_name = "METHOD")]
    become_method: Option<String>,
    /// Ask for the become (sudo) password.
    #[arg(short = 'K', long = "ask-become-pass")]
    ask_become_pass: bool,
    /// The become password from FILE (its text, or an executable's output; `-`: stdin).
    #[arg(long = "become-password-file", visible_alias = "become-pass-file", value_name = "FILE", conflicts_with = "ask_become_pass")]
    become_password_file: Option<PathBuf>,
    #[command(flatten)]
    vault: crate::vault::command::VaultFlags,
}

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> ExitCode {
    // Usage errors exit 5 (ansible's "bad options"), not clap's 2, which means drift under --detailed-exitcode.
    let cli = match Cli::try_parse_from(dispatched_args(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 5 } else { 0 });
        }
    };
    let code = match cli.command {
        Command::Playbook(args) => run_playbook(args),
        Command::Pull(args) => pull::run(args),
        Command::Adhoc(args) => adhoc::run(args),
        Command::Inventory(args) => inventory::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Vault(args) => crate::vault::command::run(args),
        Command::History(args) => history::run(args),
        Command::Config(args) => crate::config::show::run(args),
        Command::Modules { playbooks } => list_modules(&playbooks),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "stockman", &mut std::io::stdout());
            0
        }
    };
    ExitCode::from(code)
}

fn list_modules(paths: &[PathBuf]) -> u8 {
    for path in paths {
        match playbook::load(path) {
            Ok(pb) => report::listing::print(&report::listing::render_modules(&path.display().to_string(), &playbook::module_uses(&pb))),
            Err(e) => return report::error::load_error(&e),
        }
    }
    0
}

/// Ansible's command names: a link named `ansible-playbook` (or `ansible`,
/// `ansible-inventory`, `ansible-vault`) to the binary runs that subcommand,
/// so scripts written for Ansible run unchanged.
fn dispatched_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.collect();
    let invoked = args.first().map(PathBuf::from).and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
    let subcommand = match invoked.as_str() {
        "ansible" => "adhoc",
        "ansible-playbook" => "playbook",
        "ansible-inventory" => "inventory",
        "ansible-vault" => "vault",
        _ => return args,
    };
    args[0] = "stockman".into();
    args.insert(1, subcommand.into());
    args
}

fn run_playbook(args: PlaybookArgs) -> u8 {
    run_playbook_as(args, &RunContext::default())
}

/// What `stockman pull` adds to a playbook run.
#[derive(Debug, Default)]
struct RunContext {
    /// ansible-playbook's `-c` (pull runs with `local`, as ansible-pull does).
    connection: Option<crate::transport::ConnectionKind>,
    /// Said after the error when a playbook does not load (pull: the revision not applied).
    load_failure_note: Option<String>,
}

/// The one run path of `stockman playbook` and `stockman pull`.
fn run_playbook_as(args: PlaybookArgs, context: &RunContext) -> u8 {
    if let Err(message) = check_step(&args) {
        return report::error::fatal(&message, 5);
    }
    let loaded = match crate::config::load_reporting() {
        Ok(l) => l,
        Err(message) => return report::error::fatal(&message, 5),
    };
    if args.common.verbose > 0 && args.output.format == OutputFormat::Human {
        announce_config(&loaded);
    }
    let mut settings = match settings_from(&args, &loaded, context.connection) {
        Ok(s) => s,
        Err(message) => return report::error::fatal(&message, 5),
    };
    let mut playbooks: Vec<playbook::Playbook> = Vec::new();
    for path in &args.playbooks {
        match playbook::load_with_roles_path(path, &settings.roles_path) {
            Ok(pb) => playbooks.push(pb),
            Err(e) => {
                let code = report::error::load_error(&e);
                if let Some(note) = &context.load_failure_note {
                    report::error::fatal(note, code);
                }
                return code;
            }
        }
    }
    let inventory = match Inventory::load(&settings.inventories) {
        Ok(inv) if settings.hash_behaviour != crate::combine::HashBehaviour::Replace => inv.with_hash_behaviour(settings.hash_behaviour),
        Ok(inv) => inv,
        Err(e) => return report::error::fatal(&e.to_string(), 1),
    };
    // Sensitive Terraform outputs are censored in every output, like vault values.
    for secret in inventory.secrets() {
        crate::vault::keyring::remember_secret(secret);
    }
    let hazards = match sharding(&args, &playbooks, &inventory, &mut settings) {
        Ok(hazards) => hazards,
        Err(message) => return report::error::fatal(&message, 5),
    };
    if args.syntax_check {
        for path in &args.playbooks {
            report::error::note(&format!("\nplaybook: {}", path.display()));
        }
        return 0;
    }
    if args.list_hosts || args.list_tasks || args.list_tags {
        return list(&args, &settings, &playbooks, &inventory);
    }
    if let Err(message) = crate::executor::prompt::check_answerable(&playbooks, &settings.extra_vars) {
        return report::error::fatal(&message, 1);
    }
    // Every host keeps its connection for the whole run: refuse before connecting when they can't all be open.
    let hosts = inventory.select("all", settings.limit.as_deref()).map_or(inventory.hosts().len(), |s| s.hosts.iter().filter(|h| settings.runs_on(&h.name)).count());
    if let Err(e) = crate::rlimit::check_open_files(hosts) {
        return report::error::fatal(&e.to_string(), 1);
    }
    let started = match &args.start_at_task {
        Some(pattern) => playbook::start_at_task(&mut playbooks, pattern),
        None => true,
    };
    let reporter = match output_options(&args, &settings).and_then(|o| Outputs::new(&o).map_err(|e| e.to_string())) {
        Ok(r) => r,
        Err(message) => return report::error::fatal(&message, 5),
    };
    // One thread: the controller mostly waits on sockets, and on a busy machine
    // (2 cores shared with 1,000 sshds) cross-thread wake-ups cost 10-20% more
    // CPU than a multi-threaded runtime saves (measured, README Performance).
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return report::error::fatal(&format!("cannot start the async runtime: {e}"), 1),
    };
    announce_shard(&settings, &hazards, &reporter);
    let code = runtime.block_on(Executor::new(&settings, &inventory, &reporter).run(&playbooks));
    // Shard 0 also runs the implicit localhost: only the others can be empty of hosts.
    if let Some(shard) = settings.shard.as_ref().filter(|s| s.hosts.is_empty() && s.slot.index > 0) {
        reporter.event(&report::Event::Display(empty_shard_note(shard)));
    }
    if let (false, Some(pattern)) = (started, &args.start_at_task) {
        // As ansible-playbook: reported after the recap, and not a failure.
        report::error::fatal(&format!("No matching task \"{pattern}\" found. Note: --start-at-task can only follow static includes."), 0);
    }
    u8::try_from(reporter.finish(code)).unwrap_or(1)
}

/// `--shard`: this process's share of the hosts into `settings`; the plays that do not
/// split refused (an error listing them) unless `--shard-unsafe`, which returns them to warn about.
fn sharding(args: &PlaybookArgs, playbooks: &[playbook::Playbook], inventory: &Inventory, settings: &mut Settings) -> Result<Vec<crate::shard::safety::Hazard>, String> {
    let Some(spec) = &args.shard else { return Ok(Vec::new()) };
    let slot = crate::shard::Slot::resolve(spec, &|name| std::env::var(name).ok())?;
    let hazards = crate::shard::safety::hazards(playbooks, settings.any_errors_fatal);
    if !hazards.is_empty() && !args.shard_unsafe {
        let lines: Vec<String> = hazards.iter().map(|h| format!("  {h}")).collect();
        return Err(format!(
            "--shard {}/{}: {} of these playbooks would not run as one unsharded run does:\n{}\nRun them without --shard, change them, or pass --shard-unsafe to run them anyway (each is then a warning).",
            slot.index,
            slot.total,
            if hazards.len() == 1 { "this part" } else { "these parts" },
            lines.join("\n")
        ));
    }
    settings.shard = Some(crate::shard::Shard::assign(slot, inventory));
    Ok(hazards)
}

/// The shard's identity for `stockman merge`, and each `--shard-unsafe` hazard as a warning.
fn announce_shard(settings: &Settings, hazards: &[crate::shard::safety::Hazard], reporter: &Outputs) {
    let Some(shard) = &settings.shard else { return };
    reporter.event(&report::Event::Shard(shard.clone()));
    for hazard in hazards {
        reporter.event(&report::Event::Warning(format!("--shard-unsafe: {hazard}")));
    }
}

/// After the recap of a shard without hosts: why nothing ran.
fn empty_shard_note(shard: &crate::shard::Shard) -> String {
    format!(
        "shard {}/{} has no hosts: the inventory's {} host(s) are all in other shards, so every play was skipped",
        shard.slot.index, shard.slot.total, shard.inventory_hosts
    )
}

/// `--step` asks on the terminal before each task: refused up front when there is none to ask on.
fn check_step(args: &PlaybookArgs) -> Result<(), String> {
    use std::io::IsTerminal;
    if !args.step || args.syntax_check || args.list_hosts || args.list_tasks || args.list_tags {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err("--step asks \"Perform task: TASK: ... (N)o/(y)es/(c)ontinue:\" before each task and needs a terminal on stdin; run interactively, or drop --step".into());
    }
    Ok(())
}

/// `--list-hosts`, `--list-tasks`, `--list-tags`: what would run, as ansible-playbook lists it.
fn list(args: &PlaybookArgs, settings: &Settings, playbooks: &[playbook::Playbook], inventory: &Inventory) -> u8 {
    let what = report::listing::ListWhat { hosts: args.list_hosts, tasks: args.list_tasks, tags: args.list_tags };
    // Listing tags shows `never` tasks too, unless tags were asked for (as Ansible).
    let mut only = settings.tags.clone();
    if args.list_tags && settings.tags.is_empty() && settings.skip_tags.is_empty() {
        only = vec!["never".into(), "all".into()];
    }
    let filter = playbook::TagFilter { only, skip: settings.skip_tags.clone() };
    for (pb, path) in playbooks.iter().zip(&args.playbooks) {
        let mut plays = Vec::new();
        let templar = crate::template::Templar::new();
        for (index, play) in pb.plays.iter().enumerate() {
            let mut listing = playbook::list_play(play, index + 1, &filter);
            // Templated as the run templates them (no prompts are asked here).
            if let Ok(heading) = crate::executor::PlayHeading::of(&templar, play, &Default::default(), &settings.extra_vars) {
                (listing.hosts, listing.name) = (heading.pattern, heading.name);
            }
            let hosts = match inventory.select(&listing.hosts, settings.limit.as_deref()) {
                Ok(selection) => selection.hosts.into_iter().map(|h| h.name).filter(|h| settings.runs_on(h)).collect(),
                Err(_) => Vec::new(),
            };
            plays.push(report::listing::ListedPlay { listing, hosts });
        }
        report::listing::print(&report::listing::render(&path.display().to_string(), &plays, what));
    }
    0
}

/// As ansible-playbook -v: which ansible.cfg is used, and (stockman's addition) the keys in it that do nothing.
fn announce_config(loaded: &Loaded) {
    match &loaded.file {
        Some(path) => report::error::note(&format!("Using {} as config file", path.display())),
        None => report::error::note("No config file found; using defaults"),
    }
    for line in &loaded.ignored {
        report::error::note(line);
    }
}

/// Flags over the configured settings (ANSIBLE_* over ansible.cfg over defaults).
/// `default_connection`: the command's own default (pull's `local`), below -c
/// and above ansible.cfg's transport.
fn settings_from(args: &PlaybookArgs, loaded: &Loaded, default_connection: Option<crate::transport::ConnectionKind>) -> Result<Settings, String> {
    if args.common.forks == Some(0) {
        return Err("--forks must be at least 1".into());
    }
    let configured = Settings::from_config(loaded)?;
    // Installed before `-e @file`: from here on any YAML read may hold vault data.
    let vault_sources = args.common.vault.sources(&crate::config::vault_defaults(loaded)).map_err(|e| e.to_string())?;
    crate::vault::install_for_run(&vault_sources).map_err(|e| e.to_string())?;
    let mut extra_vars = Map::new();
    for spec in &args.common.extra_vars {
        configured.hash_behaviour.overlay(&mut extra_vars, &parse_extra_vars(spec)?);
    }
    let password = match password_file(args.common.connection_password_file.as_ref(), loaded, Id::ConnectionPasswordFile) {
        Some(file) => Some(password_file::read(&file, "--connection-password-file")?),
        None => (args.common.ask_pass || loaded.bool(Id::AskPass)).then(|| ask_secret("SSH password: ")).transpose()?,
    };
    let key_passphrase = args.common.private_key_passphrase_file.as_deref().map(read_passphrase_file).transpose()?;
    let (become_default, become_base) = become_from(&BecomeWish::new(args, loaded), password.as_ref())?;
    Ok(Settings {
        become_base,
        ssh_config: args.common.ssh_config.clone(),
        password,
        key_passphrase,
        become_default,
        inventories: if args.common.inventory.is_empty() { configured.inventories.clone() } else { args.common.inventory.clone() },
        limit: args.common.limit.clone(),
        forks: args.common.forks.unwrap_or(configured.forks),
        remote_user: args.common.user.clone().or_else(|| configured.remote_user.clone()),
        connection: args.common.connection.as_deref().map(connection_kind).transpose()?.or(default_connection).or(configured.connection),
        connect_timeout: args.common.timeout.map(std::time::Duration::from_secs).unwrap_or(configured.connect_timeout),
        ssh_common_args: args.common.ssh_common_args.clone().filter(|a| !a.trim().is_empty()).or_else(|| configured.ssh_common_args.clone()),
        ssh_extra_args: args.common.ssh_extra_args.clone().filter(|a| !a.trim().is_empty()).or_else(|| configured.ssh_extra_args.clone()),
        force_handlers: args.force_handlers || configured.force_handlers,
        flush_cache: args.flush_cache,
        private_key: args.common.private_key.clone().or_else(|| configured.private_key.clone()),
        extra_vars,
        check: args.common.check,
        diff: args.common.diff,
        verbosity: args.common.verbose,
        no_color: args.common.no_color || configured.no_color,
        tags: split_commas(&args.tags),
        skip_tags: split_commas(&args.skip_tags),
        step: args.step,
        vault_sources,
        ..configured
    })
}

/// `-c`: the connection plugins stockman has.
fn connection_kind(name: &str) -> Result<crate::transport::ConnectionKind, String> {
    crate::transport::ConnectionKind::parse(name).ok_or_else(|| format!("-c/--connection `{name}`: stockman connects with ssh (also smart, paramiko) or local"))
}

/// A password file from the flag, else from ansible.cfg / its ANSIBLE_* variable.
fn password_file(flag: Option<&PathBuf>, loaded: &Loaded, id: Id) -> Option<PathBuf> {
    flag.cloned().or_else(|| loaded.paths(id).into_iter().next())
}

fn split_commas(values: &[String]) -> Vec<String> {
    values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// Become as asked by -b/--become-user/--become-method/-K, over [privilege_escalation].
struct BecomeWish {
    /// -b, -K, --become-user, --become-method, or `become = True`: tasks become unless they say not to.
    requested: bool,
    ask_pass: bool,
    /// --become-password-file / become_password_file: the password, without asking.
    password_file: Option<PathBuf>,
    user: Option<String>,
    method: Option<String>,
}

impl BecomeWish {
    fn new(args: &PlaybookArgs, loaded: &Loaded) -> BecomeWish {
        let configured = |id| Some(loaded.get(id)).filter(|r| r.origin != crate::config::Origin::Default).and_then(|_| loaded.string(id));
        let flags = args.common.r#become || args.common.ask_become_pass || args.common.become_user.is_some() || args.common.become_method.is_some();
        BecomeWish {
            requested: flags || loaded.bool(Id::Become) || loaded.bool(Id::BecomeAskPass),
            ask_pass: args.common.ask_become_pass || loaded.bool(Id::BecomeAskPass),
            password_file: password_file(args.common.become_password_file.as_ref(), loaded, Id::BecomePasswordFile),
            user: args.common.become_user.clone().or_else(|| configured(Id::BecomeUser)),
            method: args.common.become_method.clone().or_else(|| configured(Id::BecomeMethod)),
        }
    }
}

/// The become settings every task starts from (when asked for), and those a play's or
/// task's own `become: true` starts from (always, as Ansible's become_user/become_method).
fn become_from(wish: &BecomeWish, ssh_password: Option<&Secret>) -> Result<(Option<BecomeSpec>, BecomeSpec), String> {
    let method = match wish.method.as_deref() {
        None => BecomeMethod::Sudo,
        Some(name) => BecomeMethod::parse(name).ok_or_else(|| format!("--become-method `{name}`: use sudo or su"))?,
    };
    // As Ansible: the file's password serves every task that becomes, asked for here or by a play.
    let from_file = wish.password_file.as_deref().map(|f| password_file::read(f, "--become-password-file")).transpose()?;
    let base = BecomeSpec { method, user: wish.user.clone().unwrap_or_else(|| "root".into()), password: from_file.clone() };
    if !wish.requested {
        return Ok((None, base));
    }
    let password = if from_file.is_some() {
        from_file
    } else if wish.ask_pass {
        // As Ansible: an empty answer means "the same as the SSH password".
        let given = ask_secret(&format!("{} password: ", method_label(method)))?;
        if given.expose().is_empty() { ssh_password.cloned() } else { Some(given) }
    } else {
        None
    };
    Ok((Some(BecomeSpec { password, ..base.clone() }), base))
}

fn method_label(method: BecomeMethod) -> &'static str {
    match method {
        BecomeMethod::Sudo => "BECOME (sudo)",
        BecomeMethod::Su => "BECOME (su)",
    }
}

fn ask_secret(prompt: &str) -> Result<Secret, String> {
    rpassword::prompt_password(prompt).map(Secret::new).map_err(|e| format!("cannot read the password: {e}"))
}

fn read_passphrase_file(path: &std::path::Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--private-key-passphrase-file {}: {e}", path.display()))?;
    Ok(Secret::new(text.lines().next().unwrap_or_default()))
}

/// `-e`: `@file` (YAML or JSON), an inline mapping, or `key=value` words.
fn parse_extra_vars(spec: &str) -> Result<Map<String, Value>, String> {
    let node = if let Some(file) = spec.strip_prefix('@') {
        crate::yaml::parse_file(std::path::Path::new(file)).map_err(|e| format!("-e @{file}: {e}"))?
    } else if spec.trim_start().starts_with('{') {
        crate::yaml::parse_str(spec, "-e".into()).map_err(|e| format!("-e {spec}: {e}"))?
    } else {
        return parse_kv(spec, false, playbook::is_identifier).map_err(|e| format!("-e {spec}: {e}"));
    };
    match node.to_json() {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(format!("-e {spec}: extra vars must be a mapping")),
    }
}

/// Output and CI flags.
#[derive(Args, Debug)]
struct OutputArgs {
    /// `json`: one JSON object per event on stdout (schema in docs/output-json.md); human output goes to stderr.
    #[arg(long = "output", value_name = "FORMAT", env = "STOCKMAN_OUTPUT", value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Also write a JUnit XML report to FILE (one testcase per task and host).
    #[arg(long = "junit", value_name = "FILE")]
    junit: Option<PathBuf>,
    /// With --check: exit 0 if nothing would change, 2 if something would (drift), 1 if a host failed, 4 if one was unreachable.
    #[arg(long = "detailed-exitcode", requires = "check")]
    detailed_exitcode: bool,
    /// Time each task and list the slowest after the recap (like profile_tasks).
    #[arg(long = "profile")]
    profile: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OutputFormat {
    Human,
    Json,
}

fn output_options(args: &PlaybookArgs, settings: &Settings) -> Result<OutputOptions, String> {
    let o = &args.output;
    Ok(OutputOptions {
        format: match o.format {
            OutputFormat::Human => Format::Human,
            OutputFormat::Json => Format::Json,
        },
        junit: match (&o.junit, &settings.junit_dir, args.playbooks.first()) {
            (Some(file), _, _) => Some(file.clone()),
            (None, Some(dir), Some(playbook)) => Some(junit_callback_file(dir, playbook)?),
            _ => None,
        },
        detailed_exitcode: o.detailed_exitcode,
        profile: o.profile || settings.profile_tasks,
        verbosity: settings.verbosity,
        no_color: settings.no_color,
        check: settings.check,
        shown: report::human::Shown { ok_hosts: settings.display_ok_hosts, skipped_hosts: settings.display_skipped_hosts },
        stdout_callback: settings.stdout_callback,
        json_indent: settings.json_indent,
        timer: settings.timer,
        force_color: settings.force_color,
        log_path: settings.log_path.clone(),
        result_style: settings.result_style,
        display_args: settings.display_args,
        history: history::record_options(&args.history, settings, &args.playbooks)?,
    })
}

/// callbacks_enabled = junit: `JUNIT_OUTPUT_DIR/PLAYBOOK-TIME.xml`, as Ansible's junit callback names it.
fn junit_callback_file(dir: &std::path::Path, playbook: &std::path::Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("callbacks_enabled = junit: cannot create {}: {e}", dir.display()))?;
    let stem = playbook.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "playbook".into());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Ok(dir.join(format!("{stem}-{}.{:06}.xml", now.as_secs(), now.subsec_micros())))
}
