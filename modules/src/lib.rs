//! What stockman changes on a host.
//!
//! Each module turns its arguments and a few facts probed on the host into a plan
//! (what would change), then applies the plan unless the run is in check mode.
//! An empty plan means "ok, unchanged". Modules never see SSH, the CLI or the
//! playbook: they talk to the host only through [`Target`], and to the
//! controller (files beside the playbook, templates, variables) only through
//! [`Controller`]. Every remote command is built with [`shell::Cmd`].
//!
//! Central types: [`Target`] (run a command on the host), [`ModuleResult`]
//! (what a task reports), [`spec::ModuleSpec`] (the arguments a module takes,
//! used to validate a playbook before any host is contacted).
//!
//! ```text
//! let module = stockman_modules::spec::lookup("ansible.builtin.copy").unwrap();
//! let result = stockman_modules::run(module.kind, &args, &target, &controller, &mode).await?;
//! ```
//!
//! # Layout
//! - `shell`: the one quoting builder for remote commands.
//! - `spec`: module names, aliases and parameter specs (each module declares its own `PARAMS`/`RULES`).
//! - `validate`: every violation of a spec, with Ansible's messages (load and run time); `convert`: Ansible's type conversions, so modules get converted values.
//! - `args`: typed access to a module's (already templated) arguments.
//! - `command`, `copy`, `file`, `template`, `debug`, `apt`, `user`, `group`, `systemd` (also `service`), `git`: one file per module.
//! - `listarg`: Ansible's list/int/choice argument types.
//! - `mode`: parsing and resolving `mode:` (octal and symbolic), pure.
//! - `shlex`: Python-compatible word splitting for `command`.
//! - `package`: the generic package module, handing its arguments to `apt`.
//! - `ping`, `tempfile`, `raw`, `script`, `slurp`: small host modules (a login check; `mktemp`; a command line as is; a controller script run on the host; a file read back base64-encoded).
//! - `fetch`: a host's file copied to the controller (checksum first, bytes only when they differ).
//! - `get_url`: a URL downloaded on the host with curl into a temp file beside `dest`, renamed onto it when it differs; `http`: the curl config (URL, headers and credentials on stdin) and URL helpers it shares with the other URL modules.
//! - `find`: files chosen on the host by one `find -printf` listing, walked here as Python's os.walk.
//! - `stat`, `lineinfile`, `blockinfile`, `replace`, `wait_for`: helper modules; `text_edit` reads a file whole and writes an edit back (lineinfile/blockinfile/replace).
//! - `home`: a leading `~`/`~user` in path arguments, expanded on the target as Ansible's modules do.
//! - `remote_file`: facts about and atomic writes of files on the target, shared by copy/template/file.
//! - `upload`: content sources (bytes, a controller file, a file on the target), hashing and streamed staging.
//! - `authorized_key`: ansible.posix's keys of a user's authorized_keys.
//! - `sysctl`: ansible.posix's kernel parameters in a sysctl file (and the running kernel).
//! - `mount`: ansible.posix's fstab entries and mounts (mount, umount, remount).
//! - `hostname`: the host's name, with hostnamectl or in /etc/hostname.
//! - `timezone`: community.general's time zone and RTC mode, with timedatectl.
//! - `ini_file`: community.general's options and sections of an INI file, edited as the module edits them.
//! - `unarchive`: a tar or zip archive (from the controller, the host or a URL) unpacked on the host by GNU tar or unzip.
//! - `reboot`, `wait_for_connection`: arguments and commands of the two engine actions that reconnect (the waiting is the executor's).
//! - `apt_repository`, `deb822_repository`: apt's sources, one-line (`.list`, with `apt-get update`) and deb822 (`.sources`, with its key).
//! - `cron`: a job or variable in a user's crontab or a file of /etc/cron.d.
//! - `copy_tree`: `copy` of a directory (controller or remote), planned from one probe.
//! - `async_status`: background jobs of `command`/`shell` (`async:`) and the module reporting on them.

use std::future::Future;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub mod apt;
pub mod apt_repository;
pub mod args;
pub mod async_status;
pub mod authorized_key;
pub mod blockinfile;
pub mod clock;
pub mod command;
pub mod copy;
pub mod convert;
pub mod copy_tree;
pub mod cron;
pub mod deb822_repository;
pub mod debug;
pub mod fetch;
pub mod file;
pub mod find;
pub mod fnmatch;
mod file_times;
pub mod get_url;
pub mod getent;
pub mod hostname;
pub mod ini_file;
pub mod http;
pub mod ping;
pub mod pyjson;
pub mod pyregex;
pub mod git;
pub mod group;
mod home;
pub mod lineinfile;
mod listarg;
pub mod mode;
pub mod module_json;
pub mod package;
pub mod path_info;
pub mod raw;
pub mod reboot;
pub mod script;
pub mod remote_file;
pub mod replace;
pub mod shell;
pub mod shlex;
pub mod slurp;
pub mod unarchive;
pub mod uri;
pub mod spec;
pub mod suggest;
pub mod stat;
pub mod mount;
pub mod sysctl;
pub mod systemd;
pub mod template;
pub mod tempfile;
pub mod text_edit;
pub mod timezone;
pub mod upload;
pub mod validate;
pub mod user;
mod user_ssh_key;
pub mod wait_for;
pub mod wait_for_connection;

pub use args::Args;
pub use spec::{ModuleKind, ModuleSpec};

/// Output of one command run on a target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; -1 when the command was killed by a signal or gave none.
    pub rc: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The host could not be talked to: the task's host becomes UNREACHABLE.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

/// The small API a module needs from a host. The engine implements it for SSH
/// and for the local machine; how commands travel (one exec channel each, or
/// one long-lived shell) is the transport's business, not the module's.
pub trait Target: Send + Sync {
    /// Runs `command` with POSIX `sh -c` semantics, feeding `stdin` (then EOF).
    /// `command` must have been built with [`shell::Cmd`] or [`shell::quote`].
    fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> impl Future<Output = Result<ExecOutput, TargetError>> + Send;

    /// Runs the task's own command (what `command`/`shell` were asked to
    /// run, never a probe): the engine runs it as a background job under
    /// `async:`. Every other target runs it like [`Target::exec`].
    fn exec_task_command(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> impl Future<Output = Result<ExecOutput, TargetError>> + Send {
        self.exec(command, stdin)
    }

    /// Runs `command` like [`Target::exec`], its stdin streamed from the
    /// controller file `source` in chunks (a large file is never held in
    /// memory). `Ok(None)`: this target cannot stream (the default, e.g. a
    /// wrapper that does not pass it on); callers then send the file in
    /// bounded pieces through `exec` (see `upload`).
    fn exec_file_stdin(
        &self,
        command: &str,
        source: &Path,
    ) -> impl Future<Output = Result<Option<ExecOutput>, TargetError>> + Send {
        let _ = (command, source);
        async { Ok(None) }
    }
}

/// Why an expression has no value: `debug: var=` shows Ansible's placeholder
/// for an undefined one and fails the task on any other error, as Ansible does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub undefined: bool,
    pub message: String,
}

impl EvalError {
    pub fn undefined(message: impl Into<String>) -> Self {
        EvalError { undefined: true, message: message.into() }
    }
}

/// What a module may ask of the controller side: files beside the playbook and
/// rendered templates. Errors are messages for the task's failure.
pub trait Controller: Send + Sync {
    /// Bytes of a file named by a `copy` `src` (looked up in the playbook's files/).
    fn read_src(&self, src: &str) -> Result<Vec<u8>, String>;
    /// The controller path of a `copy` `src` (a file or a directory), so that
    /// files stream and directories can be walked. None: this controller only
    /// serves bytes through [`Controller::read_src`].
    fn locate_src(&self, src: &str) -> Option<Result<PathBuf, String>> {
        let _ = src;
        None
    }
    /// The controller path of a template `src`, for `template_path` and
    /// `mode: preserve`. None: not known.
    fn locate_template(&self, src: &str) -> Option<Result<PathBuf, String>> {
        let _ = src;
        None
    }
    /// Renders template `src` with `options` (extra variables, block
    /// whitespace rules). None: this controller only has [`Controller::render_template`].
    fn render_template_with(&self, src: &str, options: &template::RenderOptions) -> Option<Result<String, String>> {
        let _ = (src, options);
        None
    }
    /// A template (looked up in the playbook's templates/) rendered with the host's variables.
    fn render_template(&self, src: &str) -> Result<String, String>;
    /// The value of a variable or expression (for `debug: var=`).
    fn eval_var(&self, expr: &str) -> Result<Value, EvalError>;
    /// The directory a relative controller path (`fetch`'s `dest`) is under:
    /// the playbook's, as Ansible's `path_dwim`.
    fn base_dir(&self) -> PathBuf {
        PathBuf::from(".")
    }
    /// Whether the controller's Ansible has a module of this name (`package`'s
    /// `use`). None: not known here.
    fn module_exists(&self, name: &str) -> Option<bool> {
        let _ = name;
        None
    }
}

/// How the run treats changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunMode {
    /// --check: plan only, change nothing.
    pub check: bool,
    /// --diff: report before/after of what changes.
    pub diff: bool,
}

/// One before/after pair for --diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileDiff {
    pub before_header: String,
    pub after_header: String,
    pub before: String,
    pub after: String,
}

/// What a task reports for one host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleResult {
    pub changed: bool,
    pub failed: bool,
    pub skipped: bool,
    pub msg: Option<String>,
    pub diff: Vec<FileDiff>,
    /// Module-specific return values (`rc`, `stdout`, `dest`, ...), as `register` sees them.
    pub data: Map<String, Value>,
    /// The failure is one an Ansible action plugin raises (AnsibleActionFail)
    /// rather than a module's result: its `[ERROR]` line is the message alone.
    pub raised: bool,
}

impl ModuleResult {
    pub fn ok() -> Self {
        Self::default()
    }
    pub fn changed(changed: bool) -> Self {
        Self { changed, ..Self::default() }
    }
    pub fn failed(msg: impl Into<String>) -> Self {
        Self { failed: true, msg: Some(msg.into()), ..Self::default() }
    }
    /// A failure as an action plugin raises it ([`ModuleResult::raised`]).
    pub fn raised(msg: impl Into<String>) -> Self {
        Self { raised: true, ..Self::failed(msg) }
    }
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }
}

/// A module could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// Arguments are wrong in a way only visible once templated (the task fails).
    #[error("{0}")]
    BadArgs(String),
    /// The host went away (the host becomes UNREACHABLE).
    #[error(transparent)]
    Unreachable(#[from] TargetError),
}

/// Runs one module on one host.
pub async fn run<T: Target>(
    kind: ModuleKind,
    args: &Args,
    target: &T,
    controller: &dyn Controller,
    mode: RunMode,
) -> Result<ModuleResult, ModuleError> {
    refuse_nul(args)?;
    let expanded = home::expand(kind, args, target).await?;
    let args = expanded.as_ref();
    match kind {
        ModuleKind::Command => command::run(args, target, mode, false).await,
        ModuleKind::Shell => command::run(args, target, mode, true).await,
        ModuleKind::Copy => copy::run(args, target, controller, mode).await,
        ModuleKind::Template => template::run(args, target, controller, mode).await,
        ModuleKind::File => file::run(args, target, mode).await,
        ModuleKind::Debug => debug::run(args, controller),
        ModuleKind::Apt => apt::run(args, target, mode).await,
        ModuleKind::AptRepository => apt_repository::run(args, target, mode).await,
        ModuleKind::Deb822Repository => deb822_repository::run(args, target, mode).await,
        ModuleKind::User => user::run(args, target, mode).await,
        ModuleKind::Group => group::run(args, target, mode).await,
        ModuleKind::Systemd => systemd::run(args, target, mode).await,
        ModuleKind::Service => systemd::run_service(args, target, mode).await,
        ModuleKind::Git => git::run(args, target, mode).await,
        ModuleKind::Stat => stat::run(args, target).await,
        ModuleKind::Lineinfile => lineinfile::run(args, target, mode).await,
        ModuleKind::Blockinfile => blockinfile::run(args, target, mode).await,
        ModuleKind::Getent => getent::run(args, target).await,
        ModuleKind::Ping => ping::run(args, target).await,
        ModuleKind::WaitFor => wait_for::run(args, target, mode).await,
        ModuleKind::AsyncStatus => async_status::run(args, target).await,
        ModuleKind::Raw => raw::run(args, target, mode).await,
        ModuleKind::Script => script::run(args, target, controller, mode).await,
        ModuleKind::Tempfile => tempfile::run(args, target, mode).await,
        ModuleKind::Package => package::run(args, target, controller, mode).await,
        ModuleKind::Slurp => slurp::run(args, target).await,
        ModuleKind::Replace => replace::run(args, target, mode).await,
        ModuleKind::Find => find::run(args, target).await,
        ModuleKind::Fetch => fetch::run(args, target, controller, mode).await,
        ModuleKind::GetUrl => get_url::run(args, target, mode).await,
        ModuleKind::Uri => uri::run(args, target, controller, mode).await,
        ModuleKind::Cron => cron::run(args, target, mode).await,
        ModuleKind::AuthorizedKey => authorized_key::run(args, target, mode).await,
        ModuleKind::Sysctl => sysctl::run(args, target, mode).await,
        ModuleKind::Mount => mount::run(args, target, mode).await,
        ModuleKind::Hostname => hostname::run(args, target, mode).await,
        ModuleKind::Timezone => timezone::run(args, target, mode).await,
        ModuleKind::IniFile => ini_file::run(args, target, mode).await,
        ModuleKind::Unarchive => unarchive::run(args, target, controller, mode).await,
        ModuleKind::Reboot => Err(ModuleError::BadArgs("reboot runs in the engine, not as a module".into())),
        ModuleKind::WaitForConnection => Err(ModuleError::BadArgs("wait_for_connection runs in the engine, not as a module".into())),
        ModuleKind::Setup | ModuleKind::SetFact | ModuleKind::Assert | ModuleKind::Fail | ModuleKind::Pause | ModuleKind::GroupBy | ModuleKind::AddHost | ModuleKind::ValidateArgumentSpec | ModuleKind::Python => {
            Err(ModuleError::BadArgs("this action runs in the engine, not as a module".into()))
        }
    }
}

/// Arguments sent as data on stdin: they may hold any byte.
const STDIN_ARGS: &[&str] = &["content", "stdin"];

/// A NUL byte cannot be part of a command line (sshd drops the connection on
/// one, and no POSIX argument or path can hold it): refuse it clearly.
fn refuse_nul(args: &Args) -> Result<(), ModuleError> {
    fn has_nul(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    match args.0.iter().find(|(name, value)| !STDIN_ARGS.contains(&name.as_str()) && has_nul(value)) {
        Some((name, _)) => Err(ModuleError::BadArgs(format!(
            "argument `{name}` contains a NUL byte, which no remote command, path or name can hold; remove it"
        ))),
        None => Ok(()),
    }
}
