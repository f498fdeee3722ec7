//! OpenSSH client configuration → a [`ConnectSpec`], as `ssh` would resolve it.
//!
//! Sources, in order, the first value obtained for a keyword winning (lists
//! such as IdentityFile accumulate): what the inventory sets (passed first,
//! as Ansible passes `-o User=… -o Port=…` to ssh, so it overrides the
//! files), then `-o`/`-i`/`-p`/`-l`/`-J` in ansible_ssh_common_args and
//! ansible_ssh_extra_args, then the file given by `-F` or --ssh-config, or else
//! `~/.ssh/config` and `/etc/ssh/ssh_config`.
//!
//! Understood: Host (wildcards, negation), Match (host, originalhost, user,
//! localuser, all, final; `exec` and `canonical` never match), Include (globs),
//! HostName, User, Port, IdentityFile, IdentitiesOnly, CertificateFile,
//! ProxyJump, ConnectTimeout, ServerAliveInterval, ServerAliveCountMax,
//! StrictHostKeyChecking, UserKnownHostsFile, GlobalKnownHostsFile, and the
//! tokens `%h %p %r %u %n %d %%`. Other keywords are ignored, except
//! ProxyCommand, which is refused (stockman cannot run it: use ProxyJump).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::host_keys::HostKeyPolicy;
use super::known_hosts::{pattern_list_matches, wildcard_match};
use super::{ConnectSpec, ConnectionKind, Secret};

/// How deep Include and ProxyJump may nest before we call it a loop.
const MAX_DEPTH: usize = 16;

/// A problem in the SSH configuration, naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    #[error("cannot read ssh config `{file}`: {reason}")]
    Read { file: String, reason: String },
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
}

/// What the inventory, the play and the command line say about one host,
/// before the SSH configuration is applied.
#[derive(Debug, Clone, Default)]
pub struct SshInputs {
    /// The inventory name, for messages.
    pub name: String,
    /// What `ssh` is given as the host: ansible_host, or the inventory name.
    pub host: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    /// ansible_ssh_private_key_file / --private-key.
    pub private_key: Option<PathBuf>,
    /// Off when ansible_host_key_checking=false or ANSIBLE_HOST_KEY_CHECKING=False.
    pub host_key_policy: Option<HostKeyPolicy>,
    /// ansible_ssh_timeout / ansible_timeout, when set.
    pub connect_timeout: Option<Duration>,
    /// Used when neither the inventory nor the config sets ConnectTimeout.
    pub default_timeout: Duration,
    /// --ssh-config (same as `-F`).
    pub config_file: Option<PathBuf>,
    /// ansible_ssh_common_args then ansible_ssh_extra_args, unsplit.
    pub ssh_args: Vec<String>,
    pub password: Option<Secret>,
    pub key_passphrase: Option<Secret>,
    pub retries: u32,
}

/// Resolves `inputs` against the SSH configuration into a connectable spec.
pub fn resolve(inputs: &SshInputs) -> Result<ConnectSpec, SshConfigError> {
    resolve_at_depth(inputs, 0)
}

fn resolve_at_depth(inputs: &SshInputs, depth: usize) -> Result<ConnectSpec, SshConfigError> {
    let mut opts = Options::default();
    opts.apply_inputs(inputs);
    let mut config_file = inputs.config_file.clone();
    for args in &inputs.ssh_args {
        apply_ssh_args(args, &mut opts, &mut config_file, &inputs.name)?;
    }
    let files = match config_file {
        Some(file) => vec![(file, true)],
        None => vec![
            (super::home_dir().unwrap_or_default().join(".ssh/config"), false),
            (PathBuf::from("/etc/ssh/ssh_config"), false),
        ],
    };
    let mut reader = Reader { original_host: &inputs.host, opts: &mut opts };
    for (file, required) in &files {
        reader.apply_file(file, *required, 0)?;
    }
    opts.into_spec(inputs, depth)
}

/// Values obtained so far; the first one for a keyword wins.
#[derive(Debug, Default)]
struct Options {
    hostname: Option<String>,
    user: Option<String>,
    port: Option<u16>,
    identity_files: Vec<String>,
    identities_only: Option<bool>,
    certificate_files: Vec<String>,
    proxy_jump: Option<String>,
    connect_timeout: Option<Duration>,
    alive_interval: Option<Duration>,
    alive_count: Option<usize>,
    strict: Option<HostKeyPolicy>,
    user_known_hosts: Option<Vec<String>>,
    global_known_hosts: Option<Vec<String>>,
}

fn first<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

impl Options {
    fn apply_inputs(&mut self, inputs: &SshInputs) {
        self.port = inputs.port;
        self.user.clone_from(&inputs.user);
        if let Some(key) = &inputs.private_key {
            self.identity_files.push(key.display().to_string().replace('%', "%%"));
        }
        self.strict = inputs.host_key_policy;
        self.connect_timeout = inputs.connect_timeout;
    }

    /// Sets `keyword` (lower case) from `args`; Err(message) if the value is unusable.
    fn set(&mut self, keyword: &str, args: &[String]) -> Result<(), String> {
        let value = args.first().cloned().unwrap_or_default();
        let no_value = || format!("`{keyword}` needs a value");
        if value.is_empty() {
            return Err(no_value());
        }
        match keyword {
            "hostname" => first(&mut self.hostname, value),
            "user" => first(&mut self.user, value),
            "port" => first(&mut self.port, value.parse().map_err(|_| format!("bad port `{value}`"))?),
            "identityfile" => self.identity_files.push(value),
            "certificatefile" => self.certificate_files.push(value),
            "identitiesonly" => first(&mut self.identities_only, yes_no(&value)?),
            "proxyjump" => first(&mut self.proxy_jump, value),
            "connecttimeout" => first(&mut self.connect_timeout, seconds(&value)?),
            "serveraliveinterval" => first(&mut self.alive_interval, seconds(&value)?),
            "serveralivecountmax" => {
                first(&mut self.alive_count, value.parse().map_err(|_| format!("bad count `{value}`"))?)
            }
            "stricthostkeychecking" => first(
                &mut self.strict,
                HostKeyPolicy::parse(&value).ok_or_else(|| format!("bad StrictHostKeyChecking `{value}`"))?,
            ),
            "userknownhostsfile" => first(&mut self.user_known_hosts, args.to_vec()),
            "globalknownhostsfile" => first(&mut self.global_known_hosts, args.to_vec()),
            "proxycommand" if value != "none" => {
                return Err("ProxyCommand is not supported by stockman: use ProxyJump".into())
            }
            _ => {}
        }
        Ok(())
    }

    fn into_spec(self, inputs: &SshInputs, depth: usize) -> Result<ConnectSpec, SshConfigError> {
        let original = inputs.host.as_str();
        let hostname = match &self.hostname {
            Some(h) => expand_tokens(h, &Tokens { host: original, original, port: 0, user: "" }),
            None => original.to_string(),
        };
        let port = self.port.unwrap_or(22);
        let remote_user = self.user.clone().unwrap_or_else(super::controller_user);
        let tokens = Tokens { host: &hostname, original, port, user: &remote_user };
        let paths = |list: &[String]| -> Vec<PathBuf> {
            list.iter().map(|p| expand_path(p, &tokens)).collect()
        };
        let known_list = |list: &Option<Vec<String>>, default: &[&str]| -> Vec<PathBuf> {
            match list {
                Some(l) if l.iter().any(|f| f.eq_ignore_ascii_case("none")) => Vec::new(),
                Some(l) => paths(l),
                None => default.iter().map(|d| expand_path(d, &tokens)).collect(),
            }
        };
        let mut spec = ConnectSpec {
            name: inputs.name.clone(),
            address: hostname.clone(),
            port,
            user: self.user.clone(),
            private_key: None,
            identity_files: paths(&self.identity_files),
            identities_only: self.identities_only.unwrap_or(false),
            certificate_files: paths(&self.certificate_files),
            host_key_policy: self.strict.unwrap_or_default(),
            known_hosts: known_list(&self.user_known_hosts, &["~/.ssh/known_hosts", "~/.ssh/known_hosts2"]),
            global_known_hosts: known_list(
                &self.global_known_hosts,
                &["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"],
            ),
            connect_timeout: self.connect_timeout.unwrap_or(inputs.default_timeout),
            keepalive_interval: self.alive_interval.unwrap_or(Duration::from_secs(15)),
            keepalive_max: self.alive_count.unwrap_or(3),
            password: inputs.password.clone(),
            key_passphrase: inputs.key_passphrase.clone(),
            jumps: Vec::new(),
            retries: inputs.retries,
            kind: ConnectionKind::Ssh,
        };
        if let Some(jump) = self.proxy_jump.as_deref().filter(|j| !j.eq_ignore_ascii_case("none")) {
            spec.jumps = resolve_jumps(jump, inputs, depth)?;
        }
        Ok(spec)
    }
}

/// ProxyJump `[user@]host[:port][,…]`: each hop resolved with the config files
/// (not the inventory's or the command line's options, as `ssh -J` does), its
/// own hops first.
fn resolve_jumps(list: &str, target: &SshInputs, depth: usize) -> Result<Vec<ConnectSpec>, SshConfigError> {
    if depth >= MAX_DEPTH {
        return Err(SshConfigError::Invalid {
            at: format!("host `{}`", target.name),
            message: format!("ProxyJump nests more than {MAX_DEPTH} deep (a loop?)"),
        });
    }
    let mut hops = Vec::new();
    for hop in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let (user, host, port) = parse_jump(hop).ok_or_else(|| SshConfigError::Invalid {
            at: format!("host `{}`", target.name),
            message: format!("bad ProxyJump hop `{hop}` (expected [user@]host[:port])"),
        })?;
        let inputs = SshInputs {
            name: format!("{host} (jump host)"),
            host,
            port,
            user,
            default_timeout: target.default_timeout,
            config_file: config_file_of(target),
            ..SshInputs::default()
        };
        let hop_spec = resolve_at_depth(&inputs, depth + 1)?;
        let mut hop_spec = hop_spec;
        hops.append(&mut hop_spec.jumps);
        hops.push(hop_spec);
    }
    Ok(hops)
}

/// The `-F` file in effect for the target, which its jump hosts read too.
fn config_file_of(target: &SshInputs) -> Option<PathBuf> {
    let mut file = target.config_file.clone();
    let mut ignored = Options::default();
    for args in &target.ssh_args {
        let _ = apply_ssh_args(args, &mut ignored, &mut file, &target.name);
    }
    file
}

fn parse_jump(hop: &str) -> Option<(Option<String>, String, Option<u16>)> {
    let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
    let (user, rest) = match hop.rsplit_once('@') {
        Some((u, r)) => (Some(u.to_string()), r),
        None => (None, hop),
    };
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    (!host.is_empty()).then(|| (user, host.to_string(), port))
}

/// `-o Key=Value`, `-F file`, `-i key`, `-p port`, `-l user`, `-J hops` in an
/// ansible_ssh_*_args string; other flags are ignored.
fn apply_ssh_args(
    args: &str,
    opts: &mut Options,
    config_file: &mut Option<PathBuf>,
    host: &str,
) -> Result<(), SshConfigError> {
    let invalid = |message: String| SshConfigError::Invalid {
        at: format!("ssh arguments of host `{host}`"),
        message,
    };
    let words = split_words(args).map_err(invalid)?;
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let Some(flag) = word.strip_prefix('-').and_then(|w| w.chars().next()) else {
            continue;
        };
        if !"oFipljJ".contains(flag) {
            continue;
        }
        let attached = &word[2..];
        let value = if attached.is_empty() {
            words.next().ok_or_else(|| invalid(format!("`-{flag}` needs a value")))?
        } else {
            attached.to_string()
        };
        let result = match flag {
            'o' => {
                let (keyword, rest) = split_keyword(&value);
                let values = split_words(rest).map_err(invalid)?;
                opts.set(&keyword, &values)
            }
            'F' => {
                first(config_file, PathBuf::from(expand_tilde(&value)));
                Ok(())
            }
            'i' => opts.set("identityfile", &[value]),
            'p' => opts.set("port", &[value]),
            'l' => opts.set("user", &[value]),
            _ => opts.set("proxyjump", &[value]),
        };
        result.map_err(invalid)?;
    }
    Ok(())
}

/// Reads config files into the options, following Include.
struct Reader<'a> {
    original_host: &'a str,
    opts: &'a mut Options,
}

impl Reader<'_> {
    fn apply_file(&mut self, file: &Path, required: bool, depth: usize) -> Result<(), SshConfigError> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(SshConfigError::Read { file: file.display().to_string(), reason: e.to_string() })
            }
        };
        let mut active = true;
        for (index, line) in text.lines().enumerate() {
            let at = || format!("{}:{}", file.display(), index + 1);
            let invalid = |message: String| SshConfigError::Invalid { at: at(), message };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = split_keyword(line);
            let args = split_words(rest).map_err(invalid)?;
            match keyword.as_str() {
                "host" => active = !args.is_empty() && self.host_matches(&args),
                "match" => active = self.match_criteria(&args).map_err(invalid)?,
                "include" if active => self.include(file, &args, depth).map_err(|e| match e {
                    SshConfigError::Invalid { at: inner, message } if inner.is_empty() => invalid(message),
                    other => other,
                })?,
                _ if active => self.opts.set(&keyword, &args).map_err(invalid)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// `Host` patterns: any positive pattern matches and no negated one does.
    fn host_matches(&self, patterns: &[String]) -> bool {
        pattern_list_matches(&patterns.join(","), self.original_host)
    }

    fn match_criteria(&self, args: &[String]) -> Result<bool, String> {
        let mut words = args.iter();
        let mut all = true;
        while let Some(word) = words.next() {
            let (negate, criterion) = match word.strip_prefix('!') {
                Some(c) => (true, c.to_ascii_lowercase()),
                None => (false, word.to_ascii_lowercase()),
            };
            let result = match criterion.as_str() {
                "all" | "final" => true,
                "canonical" => false,
                "host" | "originalhost" | "user" | "localuser" | "exec" => {
                    let value = words.next().ok_or_else(|| format!("`Match {criterion}` needs a value"))?;
                    self.criterion(&criterion, value)
                }
                other => return Err(format!("unsupported Match criterion `{other}`")),
            };
            all &= result != negate;
        }
        Ok(all)
    }

    fn criterion(&self, criterion: &str, value: &str) -> bool {
        let local_user = super::controller_user();
        let subject = match criterion {
            "host" => self.opts.hostname.clone().unwrap_or_else(|| self.original_host.to_string()),
            "originalhost" => self.original_host.to_string(),
            "user" => self.opts.user.clone().unwrap_or_else(|| local_user.clone()),
            "localuser" => local_user,
            // `exec` would run a local command: stockman does not, so it never matches.
            _ => return false,
        };
        pattern_list_matches(value, &subject)
    }

    fn include(&mut self, from: &Path, patterns: &[String], depth: usize) -> Result<(), SshConfigError> {
        if depth >= MAX_DEPTH {
            return Err(SshConfigError::Invalid { at: String::new(), message: "Include nests too deep (a loop?)".into() });
        }
        let base = if from.starts_with("/etc/ssh") {
            PathBuf::from("/etc/ssh")
        } else {
            super::home_dir().unwrap_or_default().join(".ssh")
        };
        for pattern in patterns {
            let expanded = PathBuf::from(expand_tilde(pattern));
            let full = if expanded.is_absolute() { expanded } else { base.join(expanded) };
            for file in glob(&full) {
                self.apply_file(&file, false, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// `Keyword value…` or `Keyword=value…`: the keyword in lower case and the rest.
fn split_keyword(line: &str) -> (String, &str) {
    let line = line.trim();
    let end = line.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(line.len());
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    (line[..end].to_ascii_lowercase(), rest)
}

/// Splits on whitespace, honouring single and double quotes and backslashes.
pub(crate) fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(current.take()),
            '\'' | '"' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        None => return Err(format!("unterminated {c} quote in `{text}`")),
                        Some(q) if q == c => break,
                        Some('\\') if c == '"' => word.extend(chars.next()),
                        Some(other) => word.push(other),
                    }
                }
            }
            '\\' => current.get_or_insert_with(String::new).extend(chars.next()),
            other => current.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(current);
    Ok(words)
}

struct Tokens<'a> {
    host: &'a str,
    original: &'a str,
    port: u16,
    user: &'a str,
}

fn expand_tokens(text: &str, t: &Tokens) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('h') => out.push_str(t.host),
            Some('n') => out.push_str(t.original),
            Some('p') => out.push_str(&t.port.to_string()),
            Some('r') => out.push_str(t.user),
            Some('u') => out.push_str(&super::controller_user()),
            Some('d') => out.push_str(&super::home_dir().unwrap_or_default().display().to_string()),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

fn expand_path(text: &str, tokens: &Tokens) -> PathBuf {
    PathBuf::from(expand_tilde(&expand_tokens(text, tokens)))
}

fn expand_tilde(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => super::home_dir().unwrap_or_default().join(rest).display().to_string(),
        None => path.to_string(),
    }
}

/// Files matching `path`, whose components may hold `*` and `?`; sorted, as glob(3).
fn glob(path: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("/")];
    for part in path.components().skip(1) {
        let part = part.as_os_str().to_string_lossy().into_owned();
        found = found
            .into_iter()
            .flat_map(|dir| {
                if !part.contains(['*', '?']) {
                    return vec![dir.join(&part)];
                }
                let mut names: Vec<String> = std::fs::read_dir(&dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter(|n| !n.starts_with('.') && wildcard_match(&part, n))
                    .collect();
                names.sort();
                names.into_iter().map(|n| dir.join(n)).collect()
            })
            .collect();
    }
    found.into_iter().filter(|p| p.is_file()).collect()
}

fn yes_no(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("expected yes or no, not `{value}`")),
    }
}

/// Seconds, as ssh_config writes them (also `30s`, `2m`).
fn seconds(value: &str) -> Result<Duration, String> {
    let bad = || format!("bad time `{value}`");
    let (number, unit) = value.split_at(value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len()));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let factor = match unit.to_ascii_lowercase().as_str() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(n * factor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(host: &str, config: &Path) -> SshInputs {
        SshInputs {
            name: host.into(),
            host: host.into(),
            default_timeout: Duration::from_secs(10),
            config_file: Some(config.to_path_buf()),
            ..SshInputs::default()
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn first_value_wins_and_patterns_match() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(dir.path(), "config", "\
Host web* !web9
  HostName %h.example.com
  User deploy
  IdentityFile /k/%r@%h
Host *
  User other
  Port 2200
  IdentityFile /k/default
  ConnectTimeout 3
  StrictHostKeyChecking accept-new
  UserKnownHostsFile /kh/one /kh/two
");
        let spec = resolve(&inputs("web1", &config)).unwrap();
        assert_eq!(spec.address, "web1.example.com");
        assert_eq!(spec.user.as_deref(), Some("deploy"));
        assert_eq!(spec.port, 2200);
        assert_eq!(spec.identity_files, vec![PathBuf::from("/k/deploy@web1.example.com"), PathBuf::from("/k/default")]);
        assert_eq!(spec.connect_timeout, Duration::from_secs(3));
        assert_eq!(spec.host_key_policy, HostKeyPolicy::AcceptNew);
        assert_eq!(spec.known_hosts, vec![PathBuf::from("/kh/one"), PathBuf::from("/kh/two")]);
        let negated = resolve(&inputs("web9", &config)).unwrap();
        assert_eq!((negated.address.as_str(), negated.user.as_deref()), ("web9", Some("other")));
    }

    #[test]
    fn inventory_and_dash_o_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(dir.path(), "config", "Host *\n User fromfile\n Port 2200\n ServerAliveInterval 2\n");
        let mut given = inputs("h", &config);
        given.user = Some("inv".into());
        given.ssh_args = vec!["-o Port=2300 -o 'ServerAliveCountMax 5' -oStrictHostKeyChecking=no".into()];
        let spec = resolve(&given).unwrap();
        assert_eq!(spec.user.as_deref(), Some("inv"));
        assert_eq!(spec.port, 2300);
        assert_eq!((spec.keepalive_interval, spec.keepalive_max), (Duration::from_secs(2), 5));
        assert_eq!(spec.host_key_policy, HostKeyPolicy::Off);
    }

    #[test]
    fn include_with_glob_inside_a_matching_block_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        write(dir.path(), "conf.d/10-a.conf", "Host a\n User ua\n");
        write(dir.path(), "conf.d/20-b.conf", "Host *\n Port 2022\n");
        let config = write(
            dir.path(),
            "config",
            &format!("Host nomatch\n Include {0}/never\nHost *\n Include {0}/conf.d/*.conf\n", dir.path().display()),
        );
        let spec = resolve(&inputs("a", &config)).unwrap();
        assert_eq!((spec.user.as_deref(), spec.port), (Some("ua"), 2022));
    }

    #[test]
    fn match_host_sees_hostname_and_match_user() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(dir.path(), "config", "\
Host alias
  HostName 10.1.2.3
Match host 10.1.*.* user admin
  Port 2201
Match host 10.1.*.*
  Port 2202
");
        let mut given = inputs("alias", &config);
        assert_eq!(resolve(&given).unwrap().port, 2202);
        given.user = Some("admin".into());
        assert_eq!(resolve(&given).unwrap().port, 2201);
    }

    #[test]
    fn proxy_jump_hops_are_resolved_with_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(dir.path(), "config", "\
Host target
  ProxyJump j1,admin@j2:2222
Host j1
  HostName 192.0.2.1
  User jumper
Host j2
  ProxyJump j0
");
        let spec = resolve(&inputs("target", &config)).unwrap();
        let hops: Vec<(String, u16, Option<String>)> =
            spec.jumps.iter().map(|h| (h.address.clone(), h.port, h.user.clone())).collect();
        assert_eq!(
            hops,
            vec![
                ("192.0.2.1".into(), 22, Some("jumper".into())),
                ("j0".into(), 22, None),
                ("j2".into(), 2222, Some("admin".into())),
            ]
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(dir.path(), "config", "Host *\n  Port many\n");
        let err = resolve(&inputs("h", &config)).unwrap_err().to_string();
        assert!(err.contains("config:2") && err.contains("many"), "{err}");
        let config = write(dir.path(), "c2", "Host *\n  ProxyCommand nc %h %p\n");
        let err = resolve(&inputs("h", &config)).unwrap_err().to_string();
        assert!(err.contains("use ProxyJump"), "{err}");
    }

    #[test]
    fn words_and_tokens() {
        assert_eq!(split_words(r#"a "b c" 'd e' f\ g"#).unwrap(), vec!["a", "b c", "d e", "f g"]);
        let t = Tokens { host: "h", original: "o", port: 22, user: "r" };
        assert_eq!(expand_tokens("%h-%p-%r-%n-%%", &t), "h-22-r-o-%");
        assert_eq!(parse_jump("u@[::1]:2"), Some((Some("u".into()), "::1".into(), Some(2))));
    }
}
