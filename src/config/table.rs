//! Every setting stockman reads from ansible.cfg and ANSIBLE_* variables, declared once.
//!
//! Names, sections, keys, environment variables and defaults are ansible-core 2.19's
//! (its config/base.yml and the ssh connection plugin's options). Lookup, `stockman config
//! list/dump`, -v notes about ignored keys and "did you mean" all come from [`TABLE`].

/// How a value is read (Ansible's config types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ansible's non-strict boolean: y/yes/on/1/true/t are true, anything else false.
    Bool,
    Int,
    Str,
    /// One path: `~` and `$VARS` expanded, relative to the cfg file's directory.
    Path,
    /// Comma-separated paths (Ansible's `pathlist`).
    PathList,
    /// Colon-separated paths (Ansible's `pathspec`).
    PathSpec,
    /// Comma-separated words.
    List,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A colour name (Ansible's named colours, colorN, rgbRGB, grayN).
    Color,
}

/// What stockman does with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Honoured,
    /// Kept in the validated settings for a part of stockman that reads it later.
    Stored,
    /// Accepted and not used; `-v` says so, with this reason.
    Ignored(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Inventory,
    RemoteUser,
    PrivateKeyFile,
    HostKeyChecking,
    Forks,
    RolesPath,
    CollectionsPath,
    VaultPasswordFile,
    VaultIdentityList,
    AskVaultPass,
    AskPass,
    Timeout,
    Transport,
    ForceHandlers,
    TaskTimeout,
    BecomePasswordFile,
    ConnectionPasswordFile,
    Become,
    BecomeMethod,
    BecomeUser,
    BecomeAskPass,
    Gathering,
    InjectFactsAsVars,
    InterpreterPython,
    RemoteTmp,
    LocalTmp,
    AnsibleManaged,
    AnyErrorsFatal,
    ErrorOnUndefinedVars,
    DisplaySkippedHosts,
    DisplayOkHosts,
    DisplayArgsToStdout,
    NoColor,
    ForceColor,
    HashBehaviour,
    DeprecationWarnings,
    StdoutCallback,
    CallbackResultFormat,
    CallbackFormatPretty,
    JsonIndent,
    CallbacksEnabled,
    FactCaching,
    FactCachingConnection,
    FactCachingTimeout,
    FactCachingPrefix,
    LogPath,
    RetryFilesEnabled,
    RetryFilesSavePath,
    InventoryEnabled,
    SshArgs,
    SshCommonArgs,
    SshExtraArgs,
    Pipelining,
    Retries,
    ControlPath,
    ControlPathDir,
    TransferMethod,
    UseTty,
    History,
    HistoryUrl,
    ColorHighlight,
    ColorVerbose,
    ColorWarn,
    ColorError,
    ColorDebug,
    ColorDeprecate,
    ColorSkip,
    ColorUnreachable,
    ColorOk,
    ColorChanged,
    ColorDiffAdd,
    ColorDiffRemove,
    ColorDiffLines,
    ColorIncluded,
    ColorConsolePrompt,
    ColorDocModule,
    ColorDocReference,
    ColorDocLink,
    ColorDocDeprecated,
    ColorDocConstant,
    ColorDocPlugin,
}

/// One setting: where it is read from and what it means.
#[derive(Debug)]
pub struct Def {
    pub id: Id,
    /// ansible-config's name for it.
    pub name: &'static str,
    /// `(section, key)` places in ansible.cfg, the first being the usual one.
    pub ini: &'static [(&'static str, &'static str)],
    pub env: &'static [&'static str],
    pub kind: Kind,
    /// As it would be written in ansible.cfg; None: unset.
    pub default: Option<&'static str>,
    pub support: Support,
    pub doc: &'static str,
}

impl Def {
    /// `[section] key` of the usual place.
    pub fn ini_label(&self) -> String {
        let (section, key) = self.ini[0];
        format!("[{section}] {key}")
    }
}

const D: &str = "defaults";
const SSH: &str = "ssh_connection";
const PE: &str = "privilege_escalation";
/// stockman's own settings (Ansible has no such section).
pub const STOCKMAN: &str = "stockman";
const COLORS: &str = "colors";
const NO_DOC: Support = Support::Ignored("stockman has no ansible-doc or ansible-console");
const ONE_CONNECTION: Support = Support::Ignored("stockman keeps one SSH connection per host for the whole run");

/// The table. Order is `stockman config list`'s order.
pub static TABLE: &[Def] = &[
    Def { id: Id::Inventory, name: "DEFAULT_HOST_LIST", ini: &[(D, "inventory")], env: &["ANSIBLE_INVENTORY"], kind: Kind::PathList, default: Some("/etc/ansible/hosts"), support: Support::Honoured, doc: "Inventory sources (files, directories, scripts, Terraform state), comma-separated; used when no -i is given." },
    Def { id: Id::RemoteUser, name: "DEFAULT_REMOTE_USER", ini: &[(D, "remote_user")], env: &["ANSIBLE_REMOTE_USER"], kind: Kind::Str, default: None, support: Support::Honoured, doc: "The user to log in as when neither the inventory (ansible_user) nor the play (remote_user) names one." },
    Def { id: Id::PrivateKeyFile, name: "DEFAULT_PRIVATE_KEY_FILE", ini: &[(D, "private_key_file")], env: &["ANSIBLE_PRIVATE_KEY_FILE"], kind: Kind::Path, default: None, support: Support::Honoured, doc: "The SSH private key used when the inventory names none (ansible_ssh_private_key_file)." },
    Def { id: Id::HostKeyChecking, name: "HOST_KEY_CHECKING", ini: &[(D, "host_key_checking"), (SSH, "host_key_checking")], env: &["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"], kind: Kind::Bool, default: Some("True"), support: Support::Honoured, doc: "Check host keys against ~/.ssh/known_hosts; False accepts any key." },
    Def { id: Id::Forks, name: "DEFAULT_FORKS", ini: &[(D, "forks")], env: &["ANSIBLE_FORKS"], kind: Kind::Int, default: Some("50"), support: Support::Honoured, doc: "Hosts worked on in parallel (Ansible's default is 5, stockman's 50)." },
    Def { id: Id::RolesPath, name: "DEFAULT_ROLES_PATH", ini: &[(D, "roles_path")], env: &["ANSIBLE_ROLES_PATH"], kind: Kind::PathSpec, default: Some("~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles"), support: Support::Honoured, doc: "Colon-separated directories searched for roles after the playbook's roles/." },
    Def { id: Id::CollectionsPath, name: "COLLECTIONS_PATHS", ini: &[(D, "collections_path"), (D, "collections_paths")], env: &["ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"], kind: Kind::PathSpec, default: Some("~/.ansible/collections:/usr/share/ansible/collections"), support: Support::Stored, doc: "Colon-separated directories holding ansible_collections, for modules stockman does not have natively." },
    Def { id: Id::VaultPasswordFile, name: "DEFAULT_VAULT_PASSWORD_FILE", ini: &[(D, "vault_password_file")], env: &["ANSIBLE_VAULT_PASSWORD_FILE"], kind: Kind::Path, default: None, support: Support::Honoured, doc: "A file holding the vault password (or an executable printing it), used besides --vault-password-file." },
    Def { id: Id::VaultIdentityList, name: "DEFAULT_VAULT_IDENTITY_LIST", ini: &[(D, "vault_identity_list")], env: &["ANSIBLE_VAULT_IDENTITY_LIST"], kind: Kind::List, default: None, support: Support::Honoured, doc: "Vault ids (`id@source`), comma-separated, tried before --vault-id." },
    Def { id: Id::AskVaultPass, name: "DEFAULT_ASK_VAULT_PASS", ini: &[(D, "ask_vault_pass")], env: &["ANSIBLE_ASK_VAULT_PASS"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Ask for the vault password, as --ask-vault-pass." },
    Def { id: Id::AskPass, name: "DEFAULT_ASK_PASS", ini: &[(D, "ask_pass")], env: &["ANSIBLE_ASK_PASS"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Ask for the SSH password, as -k." },
    Def { id: Id::Timeout, name: "DEFAULT_TIMEOUT", ini: &[(D, "timeout"), (SSH, "timeout")], env: &["ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"], kind: Kind::Int, default: Some("10"), support: Support::Honoured, doc: "Seconds to wait for an SSH connection (ansible_ssh_timeout wins)." },
    Def { id: Id::Transport, name: "DEFAULT_TRANSPORT", ini: &[(D, "transport")], env: &["ANSIBLE_TRANSPORT"], kind: Kind::Choice(&["ssh", "smart", "paramiko", "local"]), default: Some("ssh"), support: Support::Honoured, doc: "The connection of hosts whose inventory and play name none, as -c (smart and paramiko are ssh)." },
    Def { id: Id::ForceHandlers, name: "DEFAULT_FORCE_HANDLERS", ini: &[(D, "force_handlers")], env: &["ANSIBLE_FORCE_HANDLERS"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Run notified handlers even on hosts that failed, as --force-handlers (a play's force_handlers wins)." },
    Def { id: Id::TaskTimeout, name: "TASK_TIMEOUT", ini: &[(D, "task_timeout")], env: &["ANSIBLE_TASK_TIMEOUT"], kind: Kind::Int, default: Some("0"), support: Support::Honoured, doc: "Seconds a task may run before it fails, for tasks without `timeout:` (0: no limit)." },
    Def { id: Id::BecomePasswordFile, name: "BECOME_PASSWORD_FILE", ini: &[(D, "become_password_file")], env: &["ANSIBLE_BECOME_PASSWORD_FILE"], kind: Kind::Path, default: None, support: Support::Honoured, doc: "The become password: the file's text, or an executable's output, as --become-password-file." },
    Def { id: Id::ConnectionPasswordFile, name: "CONNECTION_PASSWORD_FILE", ini: &[(D, "connection_password_file")], env: &["ANSIBLE_CONNECTION_PASSWORD_FILE"], kind: Kind::Path, default: None, support: Support::Honoured, doc: "The SSH password: the file's text, or an executable's output, as --connection-password-file." },
    Def { id: Id::Become, name: "DEFAULT_BECOME", ini: &[(PE, "become")], env: &["ANSIBLE_BECOME"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Run every task as become_user, as -b." },
    Def { id: Id::BecomeMethod, name: "DEFAULT_BECOME_METHOD", ini: &[(PE, "become_method")], env: &["ANSIBLE_BECOME_METHOD"], kind: Kind::Choice(&["sudo", "su"]), default: Some("sudo"), support: Support::Honoured, doc: "How to become: sudo or su." },
    Def { id: Id::BecomeUser, name: "DEFAULT_BECOME_USER", ini: &[(PE, "become_user")], env: &["ANSIBLE_BECOME_USER"], kind: Kind::Str, default: Some("root"), support: Support::Honoured, doc: "The user to become." },
    Def { id: Id::BecomeAskPass, name: "DEFAULT_BECOME_ASK_PASS", ini: &[(PE, "become_ask_pass")], env: &["ANSIBLE_BECOME_ASK_PASS"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Ask for the become password, as -K." },
    Def { id: Id::Gathering, name: "DEFAULT_GATHERING", ini: &[(D, "gathering")], env: &["ANSIBLE_GATHERING"], kind: Kind::Choice(&["implicit", "explicit", "smart"]), default: Some("implicit"), support: Support::Honoured, doc: "implicit: gather facts unless a play says gather_facts: false; explicit: only when it says true; smart: like implicit, but not for hosts whose facts are cached (this run, or fact_caching = jsonfile)." },
    Def { id: Id::InjectFactsAsVars, name: "INJECT_FACTS_AS_VARS", ini: &[(D, "inject_facts_as_vars")], env: &["ANSIBLE_INJECT_FACT_VARS"], kind: Kind::Bool, default: Some("True"), support: Support::Honoured, doc: "Facts are variables of their own (`ansible_os_family`) besides `ansible_facts`; False keeps only `ansible_local` (and `ansible_facts`)." },
    Def { id: Id::InterpreterPython, name: "INTERPRETER_PYTHON", ini: &[(D, "interpreter_python")], env: &["ANSIBLE_PYTHON_INTERPRETER"], kind: Kind::Str, default: Some("auto"), support: Support::Stored, doc: "The Python on targets, for modules stockman does not have natively (ansible_python_interpreter wins)." },
    Def { id: Id::RemoteTmp, name: "DEFAULT_REMOTE_TMP", ini: &[(D, "remote_tmp")], env: &["ANSIBLE_REMOTE_TEMP", "ANSIBLE_REMOTE_TMP"], kind: Kind::Str, default: Some("~/.ansible/tmp"), support: Support::Stored, doc: "Temporary directory on targets, for modules stockman does not have natively (native modules write beside their destination)." },
    Def { id: Id::LocalTmp, name: "DEFAULT_LOCAL_TMP", ini: &[(D, "local_tmp")], env: &["ANSIBLE_LOCAL_TEMP"], kind: Kind::Path, default: Some("~/.ansible/tmp"), support: Support::Ignored("stockman keeps no temporary files on the controller"), doc: "Temporary directory on the controller." },
    Def { id: Id::AnsibleManaged, name: "DEFAULT_MANAGED_STR", ini: &[(D, "ansible_managed")], env: &[], kind: Kind::Str, default: Some("Ansible managed"), support: Support::Honoured, doc: "The `ansible_managed` string templates see." },
    Def { id: Id::AnyErrorsFatal, name: "ANY_ERRORS_FATAL", ini: &[(D, "any_errors_fatal")], env: &["ANSIBLE_ANY_ERRORS_FATAL"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Plays without any_errors_fatal behave as if it were this." },
    Def { id: Id::ErrorOnUndefinedVars, name: "DEFAULT_UNDEFINED_VAR_BEHAVIOR", ini: &[(D, "error_on_undefined_vars")], env: &["ANSIBLE_ERROR_ON_UNDEFINED_VARS"], kind: Kind::Bool, default: Some("True"), support: Support::Honoured, doc: "Deprecated and no longer read by ansible-core 2.19: an undefined variable is an error either way; setting it gives Ansible's deprecation warning." },
    Def { id: Id::DeprecationWarnings, name: "DEPRECATION_WARNINGS", ini: &[(D, "deprecation_warnings")], env: &["ANSIBLE_DEPRECATION_WARNINGS"], kind: Kind::Bool, default: Some("True"), support: Support::Honoured, doc: "Show the deprecation warnings of deprecated settings (False: not shown)." },
    Def { id: Id::DisplaySkippedHosts, name: "DISPLAY_SKIPPED_HOSTS", ini: &[(D, "display_skipped_hosts")], env: &["ANSIBLE_DISPLAY_SKIPPED_HOSTS"], kind: Kind::Bool, default: Some("True"), support: Support::Honoured, doc: "Show `skipping:` lines (False also holds back a task's banner until something is shown)." },
    Def { id: Id::DisplayOkHosts, name: "DISPLAY_OK_HOSTS", ini: &[(D, "display_ok_hosts")], env: &["ANSIBLE_DISPLAY_OK_HOSTS"], kind: Kind::Bool, default: Some("True"), support: Support::Honoured, doc: "Show `ok:` lines (False also holds back a task's banner until something is shown)." },
    Def { id: Id::DisplayArgsToStdout, name: "DISPLAY_ARGS_TO_STDOUT", ini: &[(D, "display_args_to_stdout")], env: &["ANSIBLE_DISPLAY_ARGS_TO_STDOUT"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Task banners show the task's arguments (`TASK [name k=v, k=v]`), as Ansible prints them; not for no_log tasks." },
    Def { id: Id::NoColor, name: "ANSIBLE_NOCOLOR", ini: &[(D, "nocolor")], env: &["ANSIBLE_NOCOLOR"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "No colour in the output (NO_COLOR works too)." },
    Def { id: Id::ForceColor, name: "ANSIBLE_FORCE_COLOR", ini: &[(D, "force_color")], env: &["ANSIBLE_FORCE_COLOR"], kind: Kind::Bool, default: Some("False"), support: Support::Honoured, doc: "Colour even when the output is not a terminal (beats nocolor, as in Ansible)." },
    Def { id: Id::HashBehaviour, name: "DEFAULT_HASH_BEHAVIOUR", ini: &[(D, "hash_behaviour")], env: &["ANSIBLE_HASH_BEHAVIOUR"], kind: Kind::Choice(&["replace", "merge"]), default: Some("replace"), support: Support::Honoured, doc: "How variables of the same name combine: replace, or merge (dictionaries merged recursively)." },
    Def { id: Id::StdoutCallback, name: "DEFAULT_STDOUT_CALLBACK", ini: &[(D, "stdout_callback")], env: &["ANSIBLE_STDOUT_CALLBACK"], kind: Kind::Str, default: Some("default"), support: Support::Honoured, doc: "The output format: default, yaml (community.general.yaml), minimal, oneline, json (ansible.posix.json); others are warned about and the default is used." },
    Def { id: Id::JsonIndent, name: "json_indent", ini: &[("callback_json", "json_indent")], env: &["ANSIBLE_JSON_INDENT"], kind: Kind::Int, default: Some("4"), support: Support::Honoured, doc: "The json stdout callback's indent (0 or less: one line)." },
    Def { id: Id::CallbackResultFormat, name: "result_format", ini: &[(D, "callback_result_format")], env: &["ANSIBLE_CALLBACK_RESULT_FORMAT"], kind: Kind::Choice(&["json", "yaml"]), default: Some("json"), support: Support::Honoured, doc: "How the default callback dumps results: json, or yaml (indented YAML after the `=>`)." },
    Def { id: Id::CallbackFormatPretty, name: "pretty_results", ini: &[(D, "callback_format_pretty")], env: &["ANSIBLE_CALLBACK_FORMAT_PRETTY"], kind: Kind::Bool, default: None, support: Support::Honoured, doc: "True: every result indented (json) or tidied (yaml, its default); False: none indented, not even debug's." },
    Def { id: Id::CallbacksEnabled, name: "CALLBACKS_ENABLED", ini: &[(D, "callbacks_enabled")], env: &["ANSIBLE_CALLBACKS_ENABLED"], kind: Kind::List, default: None, support: Support::Honoured, doc: "Extra callbacks: profile_tasks is --profile, timer prints the run's duration, junit is --junit into JUNIT_OUTPUT_DIR; others are warned about." },
    Def { id: Id::FactCaching, name: "CACHE_PLUGIN", ini: &[(D, "fact_caching")], env: &["ANSIBLE_CACHE_PLUGIN"], kind: Kind::Str, default: Some("memory"), support: Support::Honoured, doc: "Where facts are cached: memory (the run) or jsonfile (files shared with Ansible across runs); others are warned about." },
    Def { id: Id::FactCachingConnection, name: "CACHE_PLUGIN_CONNECTION", ini: &[(D, "fact_caching_connection")], env: &["ANSIBLE_CACHE_PLUGIN_CONNECTION"], kind: Kind::Str, default: None, support: Support::Honoured, doc: "jsonfile's directory (`~` and $VARS expanded, relative to the current directory)." },
    Def { id: Id::FactCachingTimeout, name: "CACHE_PLUGIN_TIMEOUT", ini: &[(D, "fact_caching_timeout")], env: &["ANSIBLE_CACHE_PLUGIN_TIMEOUT"], kind: Kind::Int, default: Some("86400"), support: Support::Honoured, doc: "Seconds a cached host's facts stay valid (0: forever)." },
    Def { id: Id::FactCachingPrefix, name: "CACHE_PLUGIN_PREFIX", ini: &[(D, "fact_caching_prefix")], env: &["ANSIBLE_CACHE_PLUGIN_PREFIX"], kind: Kind::Str, default: None, support: Support::Honoured, doc: "Put before jsonfile's file names (`PREFIXs1_HOST`); none by default, as the jsonfile plugin has none." },
    Def { id: Id::LogPath, name: "DEFAULT_LOG_PATH", ini: &[(D, "log_path")], env: &["ANSIBLE_LOG_PATH"], kind: Kind::Path, default: None, support: Support::Honoured, doc: "A file the run's output is also logged to, as Ansible logs it (time, pid, user, level, line; censored as on screen)." },
    Def { id: Id::RetryFilesEnabled, name: "RETRY_FILES_ENABLED", ini: &[(D, "retry_files_enabled")], env: &["ANSIBLE_RETRY_FILES_ENABLED"], kind: Kind::Bool, default: Some("False"), support: Support::Ignored("stockman writes no .retry files"), doc: "Write a .retry file of failed hosts." },
    Def { id: Id::RetryFilesSavePath, name: "RETRY_FILES_SAVE_PATH", ini: &[(D, "retry_files_save_path")], env: &["ANSIBLE_RETRY_FILES_SAVE_PATH"], kind: Kind::Path, default: None, support: Support::Ignored("stockman writes no .retry files"), doc: "Where .retry files go." },
    Def { id: Id::InventoryEnabled, name: "INVENTORY_ENABLED", ini: &[("inventory", "enable_plugins")], env: &["ANSIBLE_INVENTORY_ENABLED"], kind: Kind::List, default: Some("host_list, script, auto, yaml, ini, toml"), support: Support::Ignored("stockman's inventory sources are built in: host lists, INI, YAML, JSON, scripts, Terraform"), doc: "Inventory plugins to try." },
    Def { id: Id::SshArgs, name: "ssh_args", ini: &[(SSH, "ssh_args")], env: &["ANSIBLE_SSH_ARGS"], kind: Kind::Str, default: Some("-C -o ControlMaster=auto -o ControlPersist=60s"), support: Support::Honoured, doc: "Arguments for ssh; its -o options are applied as in ansible_ssh_common_args (the default's ControlMaster options do not apply: one connection per host)." },
    Def { id: Id::SshCommonArgs, name: "ssh_common_args", ini: &[(SSH, "ssh_common_args")], env: &["ANSIBLE_SSH_COMMON_ARGS"], kind: Kind::Str, default: Some(""), support: Support::Honoured, doc: "Like ansible_ssh_common_args, for hosts that do not set it." },
    Def { id: Id::SshExtraArgs, name: "ssh_extra_args", ini: &[(SSH, "ssh_extra_args")], env: &["ANSIBLE_SSH_EXTRA_ARGS"], kind: Kind::Str, default: Some(""), support: Support::Honoured, doc: "Like ansible_ssh_extra_args, for hosts that do not set it." },
    Def { id: Id::Pipelining, name: "pipelining", ini: &[(D, "pipelining"), ("connection", "pipelining"), (SSH, "pipelining")], env: &["ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING"], kind: Kind::Bool, default: Some("False"), support: Support::Ignored("stockman always sends commands over its one connection (no files to pipe)"), doc: "Send modules over stdin instead of as files." },
    Def { id: Id::Retries, name: "reconnection_retries", ini: &[("connection", "retries"), (SSH, "retries")], env: &["ANSIBLE_SSH_RETRIES"], kind: Kind::Int, default: Some("0"), support: Support::Honoured, doc: "Connection attempts after the first fails (ansible_ssh_retries wins)." },
    Def { id: Id::ControlPath, name: "control_path", ini: &[(SSH, "control_path")], env: &["ANSIBLE_SSH_CONTROL_PATH"], kind: Kind::Str, default: None, support: ONE_CONNECTION, doc: "OpenSSH ControlPath for multiplexing." },
    Def { id: Id::ControlPathDir, name: "control_path_dir", ini: &[(SSH, "control_path_dir")], env: &["ANSIBLE_SSH_CONTROL_PATH_DIR"], kind: Kind::Str, default: Some("~/.ansible/cp"), support: ONE_CONNECTION, doc: "Directory of the ControlPath sockets." },
    Def { id: Id::TransferMethod, name: "ssh_transfer_method", ini: &[(SSH, "transfer_method")], env: &["ANSIBLE_SSH_TRANSFER_METHOD"], kind: Kind::Str, default: Some("smart"), support: Support::Ignored("stockman streams files over its own SSH channel"), doc: "sftp, scp, piped or smart." },
    Def { id: Id::UseTty, name: "use_tty", ini: &[(SSH, "usetty")], env: &["ANSIBLE_SSH_USETTY"], kind: Kind::Bool, default: Some("True"), support: Support::Ignored("stockman asks for a terminal only where sudo needs one"), doc: "ssh -tt." },
    Def { id: Id::ColorHighlight, name: "COLOR_HIGHLIGHT", ini: &[(COLORS, "highlight")], env: &["ANSIBLE_COLOR_HIGHLIGHT"], kind: Kind::Color, default: Some("white"), support: Support::Ignored("no stockman output is painted in it (Ansible paints ansible-doc and ansible-console with it)"), doc: "Colour of highlighted text." },
    Def { id: Id::ColorVerbose, name: "COLOR_VERBOSE", ini: &[(COLORS, "verbose")], env: &["ANSIBLE_COLOR_VERBOSE"], kind: Kind::Color, default: Some("blue"), support: Support::Honoured, doc: "Colour of the `<host> ...` lines of -v to -vvvv (not yet of the notes printed before the run)." },
    Def { id: Id::ColorWarn, name: "COLOR_WARN", ini: &[(COLORS, "warn")], env: &["ANSIBLE_COLOR_WARN"], kind: Kind::Color, default: Some("bright purple"), support: Support::Honoured, doc: "Colour of `[WARNING]:` lines and the recap's `ignored=` count." },
    Def { id: Id::ColorError, name: "COLOR_ERROR", ini: &[(COLORS, "error")], env: &["ANSIBLE_COLOR_ERROR"], kind: Kind::Color, default: Some("red"), support: Support::Honoured, doc: "Colour of Failures, `[ERROR]:` and `ERROR!` lines, the recap's `failed=` count and failed hosts." },
    Def { id: Id::ColorDebug, name: "COLOR_DEBUG", ini: &[(COLORS, "debug")], env: &["ANSIBLE_COLOR_DEBUG"], kind: Kind::Color, default: Some("dark gray"), support: Support::Honoured, doc: "Colour of `FAILED - RETRYING:` lines." },
    Def { id: Id::ColorDeprecate, name: "COLOR_DEPRECATE", ini: &[(COLORS, "deprecate")], env: &["ANSIBLE_COLOR_DEPRECATE"], kind: Kind::Color, default: Some("purple"), support: Support::Honoured, doc: "Colour of `[DEPRECATION WARNING]:` lines." },
    Def { id: Id::ColorSkip, name: "COLOR_SKIP", ini: &[(COLORS, "skip")], env: &["ANSIBLE_COLOR_SKIP"], kind: Kind::Color, default: Some("cyan"), support: Support::Honoured, doc: "Colour of `skipping:` and `...ignoring` lines, the recap's `skipped=` count." },
    Def { id: Id::ColorUnreachable, name: "COLOR_UNREACHABLE", ini: &[(COLORS, "unreachable")], env: &["ANSIBLE_COLOR_UNREACHABLE"], kind: Kind::Color, default: Some("bright red"), support: Support::Honoured, doc: "Colour of `UNREACHABLE!` lines and the recap's `unreachable=` count." },
    Def { id: Id::ColorOk, name: "COLOR_OK", ini: &[(COLORS, "ok")], env: &["ANSIBLE_COLOR_OK"], kind: Kind::Color, default: Some("green"), support: Support::Honoured, doc: "Colour of `ok:` and ad-hoc `SUCCESS` lines, the recap's `ok=` and `rescued=` counts and hosts with no changes." },
    Def { id: Id::ColorChanged, name: "COLOR_CHANGED", ini: &[(COLORS, "changed")], env: &["ANSIBLE_COLOR_CHANGED"], kind: Kind::Color, default: Some("yellow"), support: Support::Honoured, doc: "Colour of `changed:` and ad-hoc `CHANGED` lines, the recap's `changed=` count and changed hosts." },
    Def { id: Id::ColorDiffAdd, name: "COLOR_DIFF_ADD", ini: &[(COLORS, "diff_add")], env: &["ANSIBLE_COLOR_DIFF_ADD"], kind: Kind::Color, default: Some("green"), support: Support::Honoured, doc: "Colour of `+` lines of --diff output." },
    Def { id: Id::ColorDiffRemove, name: "COLOR_DIFF_REMOVE", ini: &[(COLORS, "diff_remove")], env: &["ANSIBLE_COLOR_DIFF_REMOVE"], kind: Kind::Color, default: Some("red"), support: Support::Honoured, doc: "Colour of `-` lines of --diff output." },
    Def { id: Id::ColorDiffLines, name: "COLOR_DIFF_LINES", ini: &[(COLORS, "diff_lines")], env: &["ANSIBLE_COLOR_DIFF_LINES"], kind: Kind::Color, default: Some("cyan"), support: Support::Honoured, doc: "Colour of `@@` lines of --diff output." },
    Def { id: Id::ColorIncluded, name: "COLOR_INCLUDED", ini: &[(COLORS, "included")], env: &["ANSIBLE_COLOR_INCLUDED"], kind: Kind::Color, default: Some("cyan"), support: Support::Honoured, doc: "Colour of `included:` lines." },
    Def { id: Id::ColorConsolePrompt, name: "COLOR_CONSOLE_PROMPT", ini: &[(COLORS, "console_prompt")], env: &["ANSIBLE_COLOR_CONSOLE_PROMPT"], kind: Kind::Color, default: Some("white"), support: NO_DOC, doc: "Colour of ansible-console's prompt." },
    Def { id: Id::ColorDocModule, name: "COLOR_DOC_MODULE", ini: &[(COLORS, "doc_module")], env: &["ANSIBLE_COLOR_DOC_MODULE"], kind: Kind::Color, default: Some("yellow"), support: NO_DOC, doc: "Colour of ansible-doc's module names." },
    Def { id: Id::ColorDocReference, name: "COLOR_DOC_REFERENCE", ini: &[(COLORS, "doc_reference")], env: &["ANSIBLE_COLOR_DOC_REFERENCE"], kind: Kind::Color, default: Some("magenta"), support: NO_DOC, doc: "Colour of ansible-doc's references." },
    Def { id: Id::ColorDocLink, name: "COLOR_DOC_LINK", ini: &[(COLORS, "doc_link")], env: &["ANSIBLE_COLOR_DOC_LINK"], kind: Kind::Color, default: Some("cyan"), support: NO_DOC, doc: "Colour of ansible-doc's links." },
    Def { id: Id::ColorDocDeprecated, name: "COLOR_DOC_DEPRECATED", ini: &[(COLORS, "doc_deprecated")], env: &["ANSIBLE_COLOR_DOC_DEPRECATED"], kind: Kind::Color, default: Some("magenta"), support: NO_DOC, doc: "Colour of ansible-doc's deprecation notes." },
    Def { id: Id::ColorDocConstant, name: "COLOR_DOC_CONSTANT", ini: &[(COLORS, "doc_constant")], env: &["ANSIBLE_COLOR_DOC_CONSTANT"], kind: Kind::Color, default: Some("dark gray"), support: NO_DOC, doc: "Colour of ansible-doc's constants." },
    Def { id: Id::ColorDocPlugin, name: "COLOR_DOC_PLUGIN", ini: &[(COLORS, "doc_plugin")], env: &["ANSIBLE_COLOR_DOC_PLUGIN"], kind: Kind::Color, default: Some("yellow"), support: NO_DOC, doc: "Colour of ansible-doc's plugin names." },
    Def { id: Id::History, name: "STOCKMAN_HISTORY", ini: &[(STOCKMAN, "history")], env: &["STOCKMAN_HISTORY"], kind: Kind::Bool, default: Some("True"), support: Support::Honoured, doc: "Record every playbook run in the run history (`stockman history`); False or --no-history turns it off." },
    Def { id: Id::HistoryUrl, name: "STOCKMAN_HISTORY_URL", ini: &[(STOCKMAN, "history_url")], env: &["STOCKMAN_HISTORY_URL"], kind: Kind::Str, default: None, support: Support::Honoured, doc: "A postgres:// URL to record the run history in, instead of the SQLite file under $XDG_STATE_HOME/stockman (--history-url wins)." },
];

/// Keys that ansible-core 2.19 no longer reads, with what to use instead.
pub static REMOVED: &[(&str, &str, &str)] = &[
    (D, "gather_subset", "ansible-core 2.19 no longer reads it; use `module_defaults` for setup, or `gather_subset:` on the play"),
    (D, "gather_timeout", "ansible-core 2.19 no longer reads it; use `module_defaults` for setup, or `gather_timeout:` on the play"),
    (SSH, "scp_if_ssh", "ansible-core 2.17 removed it; it is `transfer_method` now (ignored by stockman)"),
    (D, "callback_whitelist", "ansible-core 2.15 removed it; it is `callbacks_enabled` now"),
];

/// Every `[section] key` ansible-core 2.19 reads (names are facts about Ansible, listed from its base.yml and plugins).
const ANSIBLE_KEYS: &str = include_str!("ansible-2.19-keys.txt");

/// `(section, key)` pairs Ansible knows, stockman's table first.
pub fn known_keys() -> impl Iterator<Item = (&'static str, &'static str)> {
    let table = TABLE.iter().flat_map(|d| d.ini.iter().copied());
    let ansible = ANSIBLE_KEYS.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once(' '));
    table.chain(ansible)
}

/// The definition of `id`.
pub fn def(id: Id) -> &'static Def {
    TABLE.iter().find(|d| d.id == id).unwrap_or_else(|| unreachable!("every Id has a row in TABLE"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_a_place_and_a_unique_id() {
        for (i, d) in TABLE.iter().enumerate() {
            assert!(!d.ini.is_empty(), "{}", d.name);
            assert!(TABLE[..i].iter().all(|o| o.id != d.id), "{:?} twice", d.id);
            assert!(std::ptr::eq(def(d.id), d));
        }
    }

    #[test]
    fn the_ansible_key_list_holds_the_table_and_is_well_formed() {
        let keys: Vec<_> = ANSIBLE_KEYS.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(keys.iter().all(|l| l.split(' ').count() == 2), "one `section key` a line");
        for d in TABLE {
            let (section, key) = d.ini[0];
            let ours = section == STOCKMAN;
            assert!(ours || keys.contains(&format!("{section} {key}").as_str()) || REMOVED.iter().any(|r| r.1 == key), "{section} {key}");
        }
    }
}
