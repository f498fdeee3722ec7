//! Validated settings for a run: flags, ANSIBLE_* variables, ansible.cfg and defaults
//! resolved once (in that order of precedence). Nothing after this point sees a raw flag.
//!
//! - [`table`]: every setting declared once (cfg section and key, variables, type, default).
//! - [`locate`]: which ansible.cfg is read, as ansible-core finds it.
//! - [`ini`]: the file read as Python's configparser reads it, with lines kept.
//! - [`values`]: the table resolved against the environment and the file, with origins,
//!   warnings for unknown keys, and notes for keys stockman accepts and ignores.
//! - [`show`]: `stockman config list|dump|view`.

mod expand;
pub mod ini;
pub mod locate;
pub mod show;
pub mod table;
pub mod values;

pub use locate::Env;
pub use table::Id;
pub use values::{ConfigError, Loaded, Origin};

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::transport::{BecomeSpec, Secret};

/// Everything the executor needs to know about how to run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub inventories: Vec<PathBuf>,
    pub limit: Option<String>,
    /// Hosts worked on at once.
    pub forks: usize,
    /// `-u`: the remote user when neither the inventory nor the play names one.
    pub remote_user: Option<String>,
    /// `--private-key`: used when the inventory names no key for a host.
    pub private_key: Option<PathBuf>,
    pub extra_vars: Map<String, Value>,
    pub check: bool,
    pub diff: bool,
    pub verbosity: u8,
    /// False when ANSIBLE_HOST_KEY_CHECKING=False.
    pub host_key_checking: bool,
    pub known_hosts: PathBuf,
    pub connect_timeout: Duration,
    pub no_color: bool,
    /// `--tags`: run only tasks with one of these (empty: all).
    pub tags: Vec<String>,
    /// `--skip-tags`: never run tasks with one of these.
    pub skip_tags: Vec<String>,
    /// `--step`: ask on the terminal before each task.
    pub step: bool,
    /// --ssh-config: an OpenSSH client config read instead of ~/.ssh/config (like `ssh -F`).
    pub ssh_config: Option<PathBuf>,
    /// -k: the SSH password when the inventory gives none.
    pub password: Option<Secret>,
    /// --private-key-passphrase-file: decrypts encrypted private keys.
    pub key_passphrase: Option<Secret>,
    /// -b/--become, --become-user, --become-method, -K: the default for every task.
    pub become_default: Option<BecomeSpec>,
    /// Whom and how a play's or task's own `become: true` becomes when it names no
    /// become_user/become_method: --become-user/--become-method, else [privilege_escalation].
    pub become_base: BecomeSpec,
    /// Where the vault passwords came from (already loaded into the vault keyring).
    pub vault_sources: Vec<crate::vault::SecretSource>,
    /// The ansible.cfg in use, if any.
    pub config_file: Option<PathBuf>,
    /// roles_path: searched for roles after the playbook's roles/.
    pub roles_path: Vec<PathBuf>,
    /// collections_path: where Ansible collections are (for modules stockman lacks).
    pub collections_path: Vec<PathBuf>,
    /// interpreter_python: the targets' Python (`auto` by default), for modules stockman lacks.
    pub interpreter_python: String,
    /// remote_tmp: the targets' temporary directory for modules stockman lacks.
    pub remote_tmp: String,
    /// gathering: when plays gather facts.
    pub gathering: Gathering,
    /// inject_facts_as_vars: facts also become `ansible_*` variables.
    pub inject_facts_as_vars: bool,
    /// ansible_managed: the string templates see.
    pub ansible_managed: String,
    /// any_errors_fatal: the default of plays that do not say.
    pub any_errors_fatal: bool,
    /// [ssh_connection] ssh_args when set (its default's ControlMaster options are OpenSSH
    /// multiplexing, which one connection per host does not need): `-o` options for every host.
    pub ssh_args: Option<String>,
    /// [ssh_connection] ssh_common_args / ssh_extra_args: for hosts without
    /// ansible_ssh_common_args / ansible_ssh_extra_args.
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    /// [ssh_connection] retries: for hosts without ansible_ssh_retries.
    pub ssh_retries: u32,
    /// display_ok_hosts / display_skipped_hosts: `ok:` and `skipping:` lines shown.
    pub display_ok_hosts: bool,
    pub display_skipped_hosts: bool,
    /// callbacks_enabled = profile_tasks: as --profile.
    pub profile_tasks: bool,
    /// callbacks_enabled = timer: the run's duration after the recap.
    pub timer: bool,
    /// callbacks_enabled = junit: a JUnit report in this directory (JUNIT_OUTPUT_DIR), as --junit.
    pub junit_dir: Option<PathBuf>,
    /// stdout_callback: default, yaml, minimal, oneline or json.
    pub stdout_callback: crate::report::StdoutCallback,
    /// `[callback_json] json_indent`: the json callback's indent (None: one line).
    pub json_indent: Option<usize>,
    /// force_color: colour even when stdout is not a terminal.
    pub force_color: bool,
    /// fact_caching, fact_caching_connection, fact_caching_timeout.
    pub fact_caching: FactCaching,
    /// log_path: a run log of what the output shows.
    pub log_path: Option<PathBuf>,
    /// `--shard I/N`: the hosts this process runs (None: all).
    pub shard: Option<crate::shard::Shard>,
    /// ansible-playbook's `-c`: the connection of hosts whose inventory and play name
    /// none (`stockman pull` runs with `local`, as ansible-pull's `-c local`).
    pub connection: Option<crate::transport::ConnectionKind>,
    /// --force-handlers / force_handlers: the default of plays that do not say.
    pub force_handlers: bool,
    /// task_timeout: seconds allowed to tasks without `timeout:` (None: no limit).
    pub task_timeout: Option<u64>,
    /// --flush-cache: the fact cache's entries for the inventory's hosts are dropped first.
    pub flush_cache: bool,
    /// callback_result_format / callback_format_pretty: how the default callback dumps results.
    pub result_style: crate::report::human::ResultStyle,
    /// display_args_to_stdout: task banners show the task's arguments.
    pub display_args: bool,
    /// hash_behaviour: how variable layers combine (replace, merge).
    pub hash_behaviour: crate::combine::HashBehaviour,
    /// `[stockman] history` / STOCKMAN_HISTORY: record runs in the run history.
    pub history: bool,
    /// `[stockman] history_url` / STOCKMAN_HISTORY_URL: PostgreSQL instead of the SQLite file.
    pub history_url: Option<String>,
}

impl Settings {
    /// Whether this process runs tasks on `host` (false for hosts of other shards).
    pub fn runs_on(&self, host: &str) -> bool {
        self.shard.as_ref().is_none_or(|s| s.admits(host))
    }
}

/// Where facts are kept (Ansible's `fact_caching`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FactCaching {
    /// For the run.
    #[default]
    Memory,
    /// One JSON file per host in `dir` (fact_caching_connection), valid `timeout_secs` (0: always),
    /// its name starting with `prefix` (fact_caching_prefix).
    JsonFile { dir: PathBuf, timeout_secs: u64, prefix: String },
}

/// When plays gather facts (Ansible's `gathering`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gathering {
    /// Unless the play says `gather_facts: false`.
    #[default]
    Implicit,
    /// Only when the play says `gather_facts: true`.
    Explicit,
    /// Like implicit, but not for hosts whose facts are cached (this run, or jsonfile's cache).
    Smart,
}

impl Gathering {
    pub fn parse(word: &str) -> Option<Gathering> {
        match word {
            "implicit" => Some(Gathering::Implicit),
            "explicit" => Some(Gathering::Explicit),
            "smart" => Some(Gathering::Smart),
            _ => None,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            inventories: Vec::new(),
            limit: None,
            forks: DEFAULT_FORKS,
            remote_user: None,
            private_key: None,
            extra_vars: Map::new(),
            check: false,
            diff: false,
            verbosity: 0,
            host_key_checking: true,
            known_hosts: home_dir().join(".ssh/known_hosts"),
            connect_timeout: Duration::from_secs(10),
            no_color: false,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            step: false,
            ssh_config: None,
            password: None,
            key_passphrase: None,
            become_default: None,
            become_base: BecomeSpec::default(),
            vault_sources: Vec::new(),
            config_file: None,
            roles_path: Vec::new(),
            collections_path: Vec::new(),
            interpreter_python: "auto".into(),
            remote_tmp: "~/.ansible/tmp".into(),
            gathering: Gathering::Implicit,
            inject_facts_as_vars: true,
            ansible_managed: stockman_modules::template::ANSIBLE_MANAGED.into(),
            any_errors_fatal: false,
            ssh_args: None,
            ssh_common_args: None,
            ssh_extra_args: None,
            ssh_retries: 0,
            display_ok_hosts: true,
            display_skipped_hosts: true,
            profile_tasks: false,
            timer: false,
            junit_dir: None,
            stdout_callback: crate::report::StdoutCallback::Default,
            json_indent: Some(4),
            force_color: false,
            fact_caching: FactCaching::Memory,
            log_path: None,
            shard: None,
            connection: None,
            force_handlers: false,
            task_timeout: None,
            flush_cache: false,
            hash_behaviour: crate::combine::HashBehaviour::Replace,
            result_style: crate::report::human::ResultStyle::default(),
            display_args: false,
            history: true,
            history_url: None,
        }
    }
}

/// Ansible defaults to 5; a 50-host fleet should run in one wave.
pub const DEFAULT_FORKS: usize = 50;

pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}

/// Ansible's boolean spelling for environment variables (False, no, 0, off...).
pub fn env_bool(name: &str) -> Option<bool> {
    let value = std::env::var(name).ok()?;
    stockman_modules::args::parse_bool(&Value::String(value))
}

/// The process's settings from ANSIBLE_* and ansible.cfg, warnings printed.
pub fn load_reporting() -> Result<Loaded, String> {
    let loaded = Loaded::load(&Env::current()).map_err(|e| e.to_string())?;
    // Before anything is printed: warnings below are painted in its colours.
    crate::report::palette::set(crate::report::palette::Palette::from_config(&loaded));
    for warning in loaded.warnings.iter().chain(&callback_warnings(&loaded)) {
        crate::report::error::warning(warning);
    }
    let deprecated = deprecations(&loaded);
    if !deprecated.is_empty() && loaded.bool(Id::DeprecationWarnings) {
        crate::report::error::warning("Deprecation warnings can be disabled by setting `deprecation_warnings=False` in ansible.cfg.");
        for text in &deprecated {
            crate::report::error::deprecation(text);
        }
    }
    Ok(loaded)
}

/// Settings that are set and that ansible-core 2.19 deprecates, with its words.
/// error_on_undefined_vars is one: 2.19 no longer reads it, so False changes
/// nothing (an undefined variable fails the task either way) and stockman
/// behaves the same.
fn deprecations(loaded: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    if loaded.get(Id::ErrorOnUndefinedVars).origin != Origin::Default {
        out.push("DEFAULT_UNDEFINED_VAR_BEHAVIOR option. Reason: This option is no longer used in the Ansible Core code base.\nAlternatives: There is no alternative at the moment. A different mechanism would have to be implemented in the current code base. This feature will be removed from ansible-core version 2.23.".to_string());
    }
    out
}

impl Settings {
    /// The settings ansible.cfg and ANSIBLE_* give (flags are applied over these by the CLI).
    pub fn from_config(loaded: &Loaded) -> Result<Settings, String> {
        let forks = usize::try_from(loaded.int(Id::Forks)).ok().filter(|n| *n > 0);
        let forks = forks.ok_or_else(|| format!("{}: forks must be at least 1", loaded.get(Id::Forks).origin))?;
        let words = |id| loaded.string(id).filter(|a: &String| !a.trim().is_empty());
        Ok(Settings {
            inventories: configured_inventories(loaded),
            forks,
            remote_user: loaded.string(Id::RemoteUser),
            private_key: loaded.paths(Id::PrivateKeyFile).into_iter().next(),
            host_key_checking: loaded.bool(Id::HostKeyChecking),
            connect_timeout: Duration::from_secs(u64::try_from(loaded.int(Id::Timeout)).unwrap_or(0)),
            no_color: loaded.bool(Id::NoColor),
            config_file: loaded.file.clone(),
            roles_path: loaded.paths(Id::RolesPath),
            collections_path: loaded.paths(Id::CollectionsPath),
            interpreter_python: loaded.string(Id::InterpreterPython).unwrap_or_else(|| "auto".into()),
            remote_tmp: loaded.string(Id::RemoteTmp).unwrap_or_else(|| "~/.ansible/tmp".into()),
            gathering: loaded.string(Id::Gathering).as_deref().and_then(Gathering::parse).unwrap_or_default(),
            inject_facts_as_vars: loaded.bool(Id::InjectFactsAsVars),
            ansible_managed: loaded.string(Id::AnsibleManaged).unwrap_or_else(|| stockman_modules::template::ANSIBLE_MANAGED.into()),
            any_errors_fatal: loaded.bool(Id::AnyErrorsFatal),
            ssh_args: words(Id::SshArgs).filter(|_| loaded.get(Id::SshArgs).origin != Origin::Default),
            ssh_common_args: words(Id::SshCommonArgs),
            ssh_extra_args: words(Id::SshExtraArgs),
            ssh_retries: u32::try_from(loaded.int(Id::Retries)).unwrap_or(0),
            display_ok_hosts: loaded.bool(Id::DisplayOkHosts),
            display_skipped_hosts: loaded.bool(Id::DisplaySkippedHosts),
            profile_tasks: enabled(loaded, PROFILE_CALLBACKS),
            timer: enabled(loaded, TIMER_CALLBACKS),
            junit_dir: enabled(loaded, JUNIT_CALLBACKS).then(junit_output_dir),
            stdout_callback: loaded.string(Id::StdoutCallback).as_deref().and_then(stdout_callback).unwrap_or_default(),
            json_indent: usize::try_from(loaded.int(Id::JsonIndent)).ok().filter(|&n| n > 0),
            force_color: loaded.bool(Id::ForceColor),
            fact_caching: fact_caching(loaded)?,
            log_path: loaded.paths(Id::LogPath).into_iter().next(),
            result_style: crate::report::human::ResultStyle {
                yaml: loaded.string(Id::CallbackResultFormat).as_deref() == Some("yaml"),
                pretty: (loaded.get(Id::CallbackFormatPretty).origin != Origin::Default).then(|| loaded.bool(Id::CallbackFormatPretty)),
            },
            display_args: loaded.bool(Id::DisplayArgsToStdout),
            hash_behaviour: loaded.string(Id::HashBehaviour).as_deref().and_then(crate::combine::HashBehaviour::parse).unwrap_or_default(),
            history: loaded.bool(Id::History),
            connection: loaded.string(Id::Transport).as_deref().and_then(crate::transport::ConnectionKind::parse),
            force_handlers: loaded.bool(Id::ForceHandlers),
            task_timeout: u64::try_from(loaded.int(Id::TaskTimeout)).ok().filter(|&n| n > 0),
            history_url: loaded.string(Id::HistoryUrl).filter(|u| !u.trim().is_empty()),
            ..Settings::default()
        })
    }
}

/// The inventory setting; Ansible's default /etc/ansible/hosts only when it exists
/// (otherwise only the implicit localhost, as today).
fn configured_inventories(loaded: &Loaded) -> Vec<PathBuf> {
    let paths = loaded.paths(Id::Inventory);
    if loaded.get(Id::Inventory).origin == Origin::Default {
        return paths.into_iter().filter(|p| p.exists()).collect();
    }
    paths
}

/// The fact cache asked for: `memory`, or `jsonfile` with its directory (`~` and `$VARS`
/// expanded, relative to the current directory, as Ansible reads it). Other plugins are
/// warned about (in [`callback_warnings`]) and the facts are kept in memory.
fn fact_caching(loaded: &Loaded) -> Result<FactCaching, String> {
    let plugin = loaded.string(Id::FactCaching).unwrap_or_default();
    if !JSONFILE.contains(&plugin.as_str()) {
        return Ok(FactCaching::Memory);
    }
    let connection = loaded.string(Id::FactCachingConnection).filter(|c| !c.trim().is_empty());
    let Some(connection) = connection else {
        return Err(format!("{}: fact_caching = {plugin} needs fact_caching_connection (a directory for the cache files)", loaded.get(Id::FactCaching).origin));
    };
    let env = Env::current();
    let dir = expand::path(&connection, &env.cwd, &env);
    let timeout = loaded.int(Id::FactCachingTimeout);
    let timeout_secs = u64::try_from(timeout).map_err(|_| format!("{}: fact_caching_timeout must be 0 or more seconds", loaded.get(Id::FactCachingTimeout).origin))?;
    let prefix = loaded.string(Id::FactCachingPrefix).unwrap_or_default();
    Ok(FactCaching::JsonFile { dir, timeout_secs, prefix })
}

const JSONFILE: &[&str] = &["jsonfile", "ansible.builtin.jsonfile"];
const MEMORY: &[&str] = &["memory", "ansible.builtin.memory"];

/// callbacks_enabled entries stockman has: --profile, the run's duration, --junit.
const PROFILE_CALLBACKS: &[&str] = &["profile_tasks", "ansible.posix.profile_tasks"];
const TIMER_CALLBACKS: &[&str] = &["timer", "ansible.posix.timer"];
const JUNIT_CALLBACKS: &[&str] = &["junit", "ansible.builtin.junit", "community.general.junit"];

fn enabled(loaded: &Loaded, names: &[&str]) -> bool {
    loaded.words(Id::CallbacksEnabled).iter().any(|n| names.contains(&n.as_str()))
}

/// The junit callback's directory: JUNIT_OUTPUT_DIR, else ~/.ansible.log.
fn junit_output_dir() -> PathBuf {
    std::env::var_os("JUNIT_OUTPUT_DIR").filter(|d| !d.is_empty()).map(PathBuf::from).unwrap_or_else(|| home_dir().join(".ansible.log"))
}

/// The stdout callbacks stockman prints, by the names Ansible resolves (`yaml` is community.general.yaml in the `ansible` package).
fn stdout_callback(name: &str) -> Option<crate::report::StdoutCallback> {
    use crate::report::StdoutCallback as S;
    match name {
        "default" | "ansible.builtin.default" => Some(S::Default),
        "yaml" | "community.general.yaml" => Some(S::Yaml),
        "minimal" | "ansible.builtin.minimal" => Some(S::Minimal),
        "oneline" | "ansible.builtin.oneline" => Some(S::Oneline),
        "json" | "ansible.posix.json" => Some(S::Json),
        _ => None,
    }
}

/// Callbacks asked for that stockman does not have: said once, the default output is used.
fn callback_warnings(loaded: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    let stdout = loaded.get(Id::StdoutCallback);
    match loaded.string(Id::StdoutCallback) {
        Some(name) if stdout_callback(&name).is_none() => {
            out.push(format!("{}: stdout_callback `{name}` is not implemented; stockman prints the default callback's output (it has default, yaml, minimal, oneline, json)", stdout.origin));
        }
        _ => {}
    }
    if let Some(plugin) = loaded.string(Id::FactCaching).filter(|p| !JSONFILE.contains(&p.as_str()) && !MEMORY.contains(&p.as_str())) {
        out.push(format!("{}: fact_caching `{plugin}` is not implemented (stockman has memory and jsonfile); facts are kept in memory for the run", loaded.get(Id::FactCaching).origin));
    }
    let known = [PROFILE_CALLBACKS, TIMER_CALLBACKS, JUNIT_CALLBACKS].concat();
    let enabled = loaded.get(Id::CallbacksEnabled);
    for name in loaded.words(Id::CallbacksEnabled).iter().filter(|n| !known.contains(&n.as_str())) {
        out.push(format!("{}: callback `{name}` is not implemented (stockman has profile_tasks, timer and junit)", enabled.origin));
    }
    out
}

/// The vault settings, for `stockman playbook` and `stockman vault`.
pub fn vault_defaults(loaded: &Loaded) -> crate::vault::VaultDefaults {
    crate::vault::VaultDefaults {
        identity_list: loaded.words(Id::VaultIdentityList),
        password_file: loaded.paths(Id::VaultPasswordFile).into_iter().next(),
        ask_vault_pass: loaded.bool(Id::AskVaultPass),
    }
}
