//! Module names and the arguments each module takes, so a playbook can be
//! validated before any host is contacted.

/// The closed set of modules stockman ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    Command,
    Shell,
    Copy,
    File,
    Template,
    Debug,
    Apt,
    User,
    Group,
    Systemd,
    /// `service`: systemd's run after the service action's argument handling.
    Service,
    Git,
    Stat,
    Lineinfile,
    Blockinfile,
    Getent,
    WaitFor,
    /// `async_status`: the state of a background job started by `async:`.
    AsyncStatus,
    /// `ping`: a login and one command.
    Ping,
    /// `raw`: a command line as is.
    Raw,
    /// `script`: a controller file run on the host.
    Script,
    /// `tempfile`: a new temporary file or directory.
    Tempfile,
    /// `package`: the generic package module, on its apt backend.
    Package,
    /// `slurp`: a file of the host, base64-encoded.
    Slurp,
    /// `replace`: every match of a regular expression in a file replaced.
    Replace,
    /// `find`: files chosen by name, age, size, type, mode and content.
    Find,
    /// `fetch`: a file of the host copied to the controller.
    Fetch,
    /// `get_url`: a URL downloaded on the host (curl).
    GetUrl,
    /// `uri`: one HTTP request made on the host (curl).
    Uri,
    /// `cron`: a job or variable of a crontab or a cron file.
    Cron,
    /// `ansible.posix.authorized_key`: SSH keys of a user's authorized_keys.
    AuthorizedKey,
    /// `ansible.posix.sysctl`: a kernel parameter in a sysctl file.
    Sysctl,
    /// `ansible.posix.mount`: an fstab entry and what is mounted at its point.
    Mount,
    /// `hostname`: the host's name (hostnamectl or /etc/hostname).
    Hostname,
    /// `community.general.timezone`: the time zone and the RTC mode (timedatectl).
    Timezone,
    /// `community.general.ini_file`: an option or a section of an INI file.
    IniFile,
    /// `unarchive`: a tar or zip archive unpacked on the host.
    Unarchive,
    /// `apt_repository`: a one-line apt source added or removed.
    AptRepository,
    /// `deb822_repository`: a deb822 `.sources` file (and its key).
    Deb822Repository,
    /// `reboot`: the host rebooted and waited for; the engine reconnects.
    Reboot,
    /// `wait_for_connection`: the engine connects until a round trip works.
    WaitForConnection,
    /// `setup`: gathers facts on the host; the engine runs its probe.
    Setup,
    /// Controller-side actions: the engine runs these itself.
    SetFact,
    Assert,
    Fail,
    /// Waits on the controller, once for all the play's hosts.
    Pause,
    /// `group_by`: puts the host in a group made from a key.
    GroupBy,
    /// `add_host`: adds a host (and its groups, variables) to the inventory.
    AddHost,
    /// `validate_argument_spec`: variables checked against an argument spec.
    ValidateArgumentSpec,
    /// Not native: an Ansible module from the controller's ansible-core or
    /// collections, run with the target's Python (the engine's fallback).
    Python,
}

impl ModuleKind {
    /// Runs on the controller only, never contacting the host.
    pub fn is_controller_side(self) -> bool {
        matches!(self, ModuleKind::Debug | ModuleKind::SetFact | ModuleKind::Assert | ModuleKind::Fail | ModuleKind::Pause | ModuleKind::GroupBy | ModuleKind::AddHost | ModuleKind::ValidateArgumentSpec)
    }

    /// Ansible checks its arguments in the action plugin on the controller,
    /// not in a module on the host: a violation fails the task, not the module.
    pub fn checked_by_action(self) -> bool {
        self.is_controller_side() || matches!(self, ModuleKind::Script | ModuleKind::Raw | ModuleKind::Fetch)
    }

    /// Runs once for the whole play, on its first host (Ansible's bypass-host-loop).
    pub fn bypasses_host_loop(self) -> bool {
        self == ModuleKind::AddHost
    }
}

/// The type Ansible's argument spec gives a parameter (`type:` in its docs);
/// `Raw` (and `Str`, which Ansible converts from any scalar) accept anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Str,
    Bool,
    Int,
    Float,
    List,
    Dict,
    Path,
    Raw,
}

impl ParamType {
    /// The name Ansible prints in its type errors.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Str => "str",
            ParamType::Bool => "bool",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::List => "list",
            ParamType::Dict => "dict",
            ParamType::Path => "path",
            ParamType::Raw => "raw",
        }
    }
}

/// One parameter a module accepts, as its Ansible docs declare it.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
    pub ty: ParamType,
    /// The only values accepted (empty: any).
    pub choices: &'static [&'static str],
    /// Ansible's default, as the text it would print, where validation needs
    /// it (`required_if` on a defaulted `state`); `None` elsewhere.
    pub default: Option<&'static str>,
    /// A secret: its value never appears in output, logs or errors.
    pub no_log: bool,
}

/// An optional parameter, type `raw` until a builder says otherwise (kept
/// for the tables that predate types: they validate as before).
pub(crate) const fn p(name: &'static str) -> Param {
    Param { name, aliases: &[], required: false, ty: ParamType::Raw, choices: &[], default: None, no_log: false }
}
pub(crate) const fn req(name: &'static str) -> Param {
    p(name).required()
}
pub(crate) const fn alias(name: &'static str, aliases: &'static [&'static str], required: bool) -> Param {
    let param = p(name).aliases(aliases);
    if required { param.required() } else { param }
}

/// Chainable builders: `p("state").choices(&["present", "absent"]).default("present")`.
impl Param {
    pub const fn required(mut self) -> Param {
        self.required = true;
        self
    }
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Param {
        self.aliases = aliases;
        self
    }
    pub const fn ty(mut self, ty: ParamType) -> Param {
        self.ty = ty;
        self
    }
    pub const fn str(self) -> Param {
        self.ty(ParamType::Str)
    }
    pub const fn bool(self) -> Param {
        self.ty(ParamType::Bool)
    }
    pub const fn int(self) -> Param {
        self.ty(ParamType::Int)
    }
    pub const fn float(self) -> Param {
        self.ty(ParamType::Float)
    }
    pub const fn list(self) -> Param {
        self.ty(ParamType::List)
    }
    pub const fn dict(self) -> Param {
        self.ty(ParamType::Dict)
    }
    pub const fn path(self) -> Param {
        self.ty(ParamType::Path)
    }
    /// The accepted values; a parameter with choices is a `str`.
    pub const fn choices(mut self, choices: &'static [&'static str]) -> Param {
        self.choices = choices;
        if matches!(self.ty, ParamType::Raw) {
            self.ty = ParamType::Str;
        }
        self
    }
    pub const fn default(mut self, value: &'static str) -> Param {
        self.default = Some(value);
        self
    }
    pub const fn no_log(mut self) -> Param {
        self.no_log = true;
        self
    }
}

/// "When `param` is `value`, every one of `then` (or, with `any`, one of
/// them) is required": Ansible's `required_if` entry.
#[derive(Debug, Clone, Copy)]
pub struct RequiredIf {
    pub param: &'static str,
    pub value: &'static str,
    pub then: &'static [&'static str],
    pub any: bool,
}

/// The rules between a module's parameters (Ansible's `mutually_exclusive`,
/// `required_one_of`, `required_together`, `required_if`), by canonical name.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub mutually_exclusive: &'static [&'static [&'static str]],
    pub required_one_of: &'static [&'static [&'static str]],
    pub required_together: &'static [&'static [&'static str]],
    pub required_if: &'static [RequiredIf],
}

impl Rules {
    pub const NONE: Rules = Rules { mutually_exclusive: &[], required_one_of: &[], required_together: &[], required_if: &[] };
}

/// A module's name and parameters.
#[derive(Debug)]
pub struct ModuleSpec {
    pub name: &'static str,
    pub kind: ModuleKind,
    /// Takes a free-form string (`command: echo hi`), stored as `_raw_params`.
    pub free_form: bool,
    /// Takes any argument name (`set_fact`: the names are the variables).
    pub any_params: bool,
    pub params: &'static [Param],
    /// The rules between the parameters, declared beside them in the module's file.
    pub rules: &'static Rules,
}

impl ModuleSpec {
    /// The canonical parameter name for `name` (resolving aliases).
    pub fn canonical(&self, name: &str) -> Option<&'static str> {
        self.params
            .iter()
            .find(|p| p.name == name || p.aliases.contains(&name))
            .map(|p| p.name)
    }

    /// Every accepted spelling, for "did you mean" suggestions.
    pub fn spellings(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.params.iter().flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
    }
}


/// `mode`, `owner`, `group` of Ansible's file-common arguments.
pub(crate) const FILE_ATTRS: [Param; 3] = [p("mode"), p("owner").str(), p("group").str()];


/// `package`: `use` picks the backend, which gets every other argument (apt's).
const PACKAGE_PARAMS: [Param; crate::apt::PARAMS.len() + 1] = {
    let mut params = [p("use"); crate::apt::PARAMS.len() + 1];
    let mut i = 0;
    while i < crate::apt::PARAMS.len() {
        params[i + 1] = crate::apt::PARAMS[i];
        i += 1;
    }
    params
};

const SETUP_PARAMS: &[Param] = &[p("gather_subset").list(), p("gather_timeout").int(), p("filter").list(), p("fact_path").path(), p("parallel").bool()];

// minutes and seconds are Python's int(): floats are taken and cut (the module does it).
const PAUSE_PARAMS: &[Param] = &[p("seconds"), p("minutes"), p("prompt").str(), p("echo").bool()];
const PAUSE_RULES: Rules = Rules { mutually_exclusive: &[&["minutes", "seconds"]], ..Rules::NONE };

// `that` and the messages take a string or a list of strings, as Ansible's action (not its comma-splitting `list`).
const ASSERT_PARAMS: &[Param] = &[req("that"), alias("fail_msg", &["msg"], false), p("success_msg"), p("quiet").bool()];

pub static MODULES: &[ModuleSpec] = &[
    ModuleSpec { name: "command", kind: ModuleKind::Command, free_form: true, any_params: false, params: crate::command::PARAMS, rules: &crate::command::RULES },
    ModuleSpec { name: "shell", kind: ModuleKind::Shell, free_form: true, any_params: false, params: crate::command::PARAMS, rules: &crate::command::RULES },
    ModuleSpec { name: "copy", kind: ModuleKind::Copy, free_form: false, any_params: false, params: crate::copy::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "template", kind: ModuleKind::Template, free_form: false, any_params: false, params: crate::template::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "file", kind: ModuleKind::File, free_form: false, any_params: false, params: crate::file::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "debug", kind: ModuleKind::Debug, free_form: false, any_params: false, params: crate::debug::PARAMS, rules: &crate::debug::RULES },
    ModuleSpec { name: "apt", kind: ModuleKind::Apt, free_form: false, any_params: false, params: crate::apt::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "apt_repository", kind: ModuleKind::AptRepository, free_form: false, any_params: false, params: crate::apt_repository::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "deb822_repository", kind: ModuleKind::Deb822Repository, free_form: false, any_params: false, params: crate::deb822_repository::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "package", kind: ModuleKind::Package, free_form: false, any_params: false, params: &PACKAGE_PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "slurp", kind: ModuleKind::Slurp, free_form: false, any_params: false, params: crate::slurp::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "replace", kind: ModuleKind::Replace, free_form: false, any_params: false, params: crate::replace::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "find", kind: ModuleKind::Find, free_form: false, any_params: false, params: crate::find::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "fetch", kind: ModuleKind::Fetch, free_form: false, any_params: false, params: crate::fetch::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "get_url", kind: ModuleKind::GetUrl, free_form: false, any_params: false, params: crate::get_url::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "uri", kind: ModuleKind::Uri, free_form: false, any_params: false, params: crate::uri::PARAMS, rules: &crate::uri::RULES },
    ModuleSpec { name: "cron", kind: ModuleKind::Cron, free_form: false, any_params: false, params: crate::cron::PARAMS, rules: &crate::cron::RULES },
    ModuleSpec { name: "authorized_key", kind: ModuleKind::AuthorizedKey, free_form: false, any_params: false, params: crate::authorized_key::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "sysctl", kind: ModuleKind::Sysctl, free_form: false, any_params: false, params: crate::sysctl::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "hostname", kind: ModuleKind::Hostname, free_form: false, any_params: false, params: crate::hostname::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "ini_file", kind: ModuleKind::IniFile, free_form: false, any_params: false, params: crate::ini_file::PARAMS, rules: &crate::ini_file::RULES },
    ModuleSpec { name: "timezone", kind: ModuleKind::Timezone, free_form: false, any_params: false, params: crate::timezone::PARAMS, rules: &crate::timezone::RULES },
    ModuleSpec { name: "mount", kind: ModuleKind::Mount, free_form: false, any_params: false, params: crate::mount::PARAMS, rules: &crate::mount::RULES },
    ModuleSpec { name: "unarchive", kind: ModuleKind::Unarchive, free_form: false, any_params: false, params: crate::unarchive::PARAMS, rules: &crate::unarchive::RULES },
    ModuleSpec { name: "user", kind: ModuleKind::User, free_form: false, any_params: false, params: crate::user::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "group", kind: ModuleKind::Group, free_form: false, any_params: false, params: crate::group::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "systemd", kind: ModuleKind::Systemd, free_form: false, any_params: false, params: crate::systemd::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "systemd_service", kind: ModuleKind::Systemd, free_form: false, any_params: false, params: crate::systemd::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "git", kind: ModuleKind::Git, free_form: false, any_params: false, params: crate::git::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "service", kind: ModuleKind::Service, free_form: false, any_params: false, params: crate::systemd::SERVICE_PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "ping", kind: ModuleKind::Ping, free_form: false, any_params: false, params: crate::ping::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "stat", kind: ModuleKind::Stat, free_form: false, any_params: false, params: crate::stat::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "lineinfile", kind: ModuleKind::Lineinfile, free_form: false, any_params: false, params: crate::lineinfile::PARAMS, rules: &crate::lineinfile::RULES },
    ModuleSpec { name: "blockinfile", kind: ModuleKind::Blockinfile, free_form: false, any_params: false, params: crate::blockinfile::PARAMS, rules: &crate::blockinfile::RULES },
    ModuleSpec { name: "getent", kind: ModuleKind::Getent, free_form: false, any_params: false, params: crate::getent::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "wait_for", kind: ModuleKind::WaitFor, free_form: false, any_params: false, params: crate::wait_for::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "async_status", kind: ModuleKind::AsyncStatus, free_form: false, any_params: false, params: &[req("jid").str(), p("mode").choices(&["cleanup", "status"]).default("status"), p("_async_dir").path()], rules: &Rules::NONE },
    ModuleSpec { name: "raw", kind: ModuleKind::Raw, free_form: true, any_params: false, params: crate::raw::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "script", kind: ModuleKind::Script, free_form: true, any_params: false, params: crate::script::PARAMS, rules: &crate::script::RULES },
    ModuleSpec { name: "tempfile", kind: ModuleKind::Tempfile, free_form: false, any_params: false, params: crate::tempfile::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "reboot", kind: ModuleKind::Reboot, free_form: false, any_params: false, params: crate::reboot::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "wait_for_connection", kind: ModuleKind::WaitForConnection, free_form: false, any_params: false, params: crate::wait_for_connection::PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "setup", kind: ModuleKind::Setup, free_form: false, any_params: false, params: SETUP_PARAMS, rules: &Rules::NONE },
    // The `gather_facts` action as a task: stockman's one fact probe, as setup.
    ModuleSpec { name: "gather_facts", kind: ModuleKind::Setup, free_form: false, any_params: false, params: SETUP_PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "pause", kind: ModuleKind::Pause, free_form: false, any_params: false, params: PAUSE_PARAMS, rules: &PAUSE_RULES },
    ModuleSpec { name: "set_fact", kind: ModuleKind::SetFact, free_form: false, any_params: true, params: &[p("cacheable")], rules: &Rules::NONE },
    ModuleSpec { name: "assert", kind: ModuleKind::Assert, free_form: false, any_params: false, params: ASSERT_PARAMS, rules: &Rules::NONE },
    ModuleSpec { name: "validate_argument_spec", kind: ModuleKind::ValidateArgumentSpec, free_form: false, any_params: false, params: &[req("argument_spec"), p("provided_arguments"), p("validate_args_context")], rules: &Rules::NONE },
    ModuleSpec { name: "fail", kind: ModuleKind::Fail, free_form: false, any_params: false, params: &[p("msg")], rules: &Rules::NONE },
    ModuleSpec { name: "group_by", kind: ModuleKind::GroupBy, free_form: false, any_params: false, params: &[req("key"), p("parents")], rules: &Rules::NONE },
    // Any other argument becomes a host variable of the new host.
    ModuleSpec { name: "add_host", kind: ModuleKind::AddHost, free_form: false, any_params: true, params: &[alias("name", &["host", "hostname"], true), alias("groups", &["group", "groupname"], false)], rules: &Rules::NONE },
];

/// The spec of every fallback module: its arguments are the Python module's
/// business (it validates them on the host, as under Ansible).
pub static FALLBACK: ModuleSpec = ModuleSpec { name: "fallback", kind: ModuleKind::Python, free_form: false, any_params: true, params: &[], rules: &Rules::NONE };

/// The ansible.posix modules stockman ships (ansible-core routes their short
/// names there too).
const POSIX_MODULES: &[&str] = &["authorized_key", "sysctl", "mount"];

/// The community.general modules stockman ships (short names routed there too).
const GENERAL_MODULES: &[&str] = &["timezone", "ini_file"];

/// Finds a module by short name or `ansible.builtin.` / `ansible.legacy.` FQCN
/// (`ansible.posix.` for [`POSIX_MODULES`], `community.general.` for [`GENERAL_MODULES`]).
pub fn lookup(name: &str) -> Option<&'static ModuleSpec> {
    let short = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .or_else(|| name.strip_prefix("ansible.posix.").filter(|s| POSIX_MODULES.contains(s)))
        .or_else(|| name.strip_prefix("community.general.").filter(|s| GENERAL_MODULES.contains(s)))
        .unwrap_or(name);
    MODULES.iter().find(|m| m.name == short)
}

/// Every module name, for "did you mean" suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|m| m.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqcn_and_short_names_resolve() {
        assert_eq!(lookup("ansible.builtin.copy").unwrap().kind, ModuleKind::Copy);
        assert_eq!(lookup("shell").unwrap().kind, ModuleKind::Shell);
        assert!(lookup("cpoy").is_none());
        assert_eq!(lookup("ansible.posix.authorized_key").unwrap().kind, ModuleKind::AuthorizedKey);
        assert!(lookup("ansible.posix.copy").is_none(), "only ansible.posix's own modules");
    }

    #[test]
    fn aliases_resolve_to_canonical() {
        let file = lookup("file").unwrap();
        assert_eq!(file.canonical("dest"), Some("path"));
        assert_eq!(file.canonical("bogus"), None);
    }

    #[test]
    fn builders_type_and_constrain_params() {
        let state = lookup("file").unwrap().params.iter().find(|p| p.name == "state").unwrap();
        assert_eq!(state.ty, ParamType::Str, "choices make a str");
        assert!(state.choices.contains(&"directory"));
        let legacy = alias("dest", &["path"], true);
        assert!(legacy.required && legacy.ty == ParamType::Raw && legacy.choices.is_empty() && !legacy.no_log);
        assert_eq!(lookup("shell").unwrap().rules.required_one_of, &[&["_raw_params", "cmd", "argv"][..]]);
        assert!(lookup("copy").unwrap().rules.mutually_exclusive.is_empty());
    }
}
