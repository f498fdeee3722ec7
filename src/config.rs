//! Validated settings for a run: flags, environment and defaults resolved once.
//! Nothing after this point sees a raw flag.

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
    /// Where the vault passwords came from (already loaded into the vault keyring).
    pub vault_sources: Vec<crate::vault::SecretSource>,
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
            vault_sources: Vec::new(),
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
