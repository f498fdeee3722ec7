//! `wait_for`: waits for a port to listen (or stop, or drain), for a file to
//! appear (or go, or hold a regex match), or just for some time, with
//! Ansible's arguments, results and messages. Changes nothing.
//!
//! Targets have no Python, so the polling runs on the host in one POSIX shell
//! loop bounded by the timeout: a port on the host itself is checked in
//! `/proc/net/tcp{,6}` (a listening socket, as a local connect would find), a
//! port on another machine with bash's `/dev/tcp`. Only `search_regex` needs
//! the controller (Python-style regexes): the host sends the file each time it
//! changes, or what a port says, and the controller looks for the match.

use std::net::IpAddr;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::listarg::{choice, int, list};
use crate::shell::Cmd;
use crate::{Args, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{p, Param};

/// The arguments of `wait_for`, typed as ansible.builtin.wait_for's docs.
pub const PARAMS: &[Param] = &[
    p("host").str(),
    p("port").int(),
    p("path").path(),
    p("state").choices(&["absent", "drained", "present", "started", "stopped"]).default("started"),
    p("search_regex").str(),
    p("timeout").int(),
    p("connect_timeout").int(),
    p("delay").int(),
    p("sleep").int(),
    p("msg").str(),
    p("active_connection_states").list(),
    p("exclude_hosts").list(),
];

const STATES: &[&str] = &["absent", "drained", "present", "started", "stopped"];
const DEFAULT_ACTIVE: &[&str] = &["ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "SYN_RECV", "SYN_SENT", "TIME_WAIT"];

/// Milliseconds since the epoch (seconds × 1000 where `date` has no `%N`).
const NOW_FN: &str = r#"now() { t=$(date +%s%3N); case $t in *N) t=${t%%[!0-9]*}000;; esac; echo "$t"; }"#;

/// `$1` ms left, `$2` sleep, `$3` delay, `$4` 1 = wait until the check holds,
/// 0 = until it fails, `$5` check (`path`, `proc`, `connect`), then its
/// arguments. Exit 0: done; 3: timed out; 4: no /proc/net/tcp; 5: no bash.
const POLL_SCRIPT: &str = r#"left=$1 nap=$2 delay=$3 want=$4 kind=$5; shift 5
case $kind in
  proc) [ -r /proc/net/tcp ] || exit 4 ;;
  connect) command -v bash >/dev/null 2>&1 || exit 5 ;;
esac
check() {
  case $kind in
    path) [ -e "$1" ] ;;
    proc) grep -hE -- "$1" /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -Evq -- "$2" ;;
    connect) timeout "$3" bash -c 'exec 3<>"/dev/tcp/$1/$2"' sh "$1" "$2" 2>/dev/null ;;
  esac
}
end=$(( $(now) + left ))
[ "$delay" -gt 0 ] && sleep "$delay"
while [ "$(now)" -lt "$end" ]; do
  if check "$@"; then [ "$want" = 1 ] && exit 0; else [ "$want" = 0 ] && exit 0; fi
  sleep "$nap"
done
exit 3"#;

/// `$1` path, `$2` checksum already seen, `$3` ms left, `$4` sleep, `$5`
/// delay. Prints the file's checksum line and the file once it differs from
/// `$2`; exit 3: timed out.
const CHANGED_FILE_SCRIPT: &str = r#"p=$1 last=$2 left=$3 nap=$4 delay=$5
end=$(( $(now) + left ))
[ "$delay" -gt 0 ] && sleep "$delay"
while [ "$(now)" -lt "$end" ]; do
  if [ -e "$p" ] && sum=$(cksum < "$p" 2>/dev/null) && [ "$sum" != "$last" ]; then
    printf '%s\n' "$sum"; exec cat -- "$p"
  fi
  sleep "$nap"
done
exit 3"#;

/// `$1` host, `$2` port, `$3` seconds to connect. Prints what the port says
/// until it closes or is quiet for a second; exit 2: no connection; 5: no bash.
const PORT_TALK_SCRIPT: &str = r#"command -v bash >/dev/null 2>&1 || exit 5
exec timeout "$3" bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 2
while IFS= read -r -t 1 line <&3; do printf "%s\n" "$line"; done
printf "%s" "$line"' sh "$1" "$2" 2>/dev/null"#;

/// What to wait for, from the arguments.
#[derive(Debug, Clone, PartialEq)]
enum Goal {
    /// No port, no path: just sleep `timeout` seconds.
    Sleep,
    Port { port: u16, regex: Option<String> },
    Path { path: String, regex: Option<String> },
    Drained { port: u16 },
}

/// The validated arguments.
#[derive(Debug)]
struct WaitFor {
    host: String,
    goal: Goal,
    state: &'static str,
    timeout: u64,
    connect_timeout: u64,
    delay: u64,
    sleep: u64,
    msg: Option<String>,
    /// Hex codes of the TCP states `drained` waits out.
    active_states: Vec<&'static str>,
    exclude_hosts: Vec<IpAddr>,
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    if mode.check {
        // Ansible's wait_for does not support check mode: the task is skipped.
        let mut skipped = ModuleResult::ok();
        skipped.skipped = true;
        skipped.msg = Some("remote module (wait_for) does not support check mode".into());
        return Ok(skipped);
    }
    let wf = match parse(args)? {
        Ok(wf) => wf,
        Err(failure) => return Ok(failure),
    };
    let start = Instant::now();
    let outcome = match &wf.goal {
        Goal::Sleep => sleep(&wf, target).await?,
        Goal::Path { regex: Some(re), path } => wait_for_content(&wf, path, re, target).await?,
        Goal::Port { regex: Some(re), port } => wait_for_banner(&wf, *port, re, target).await?,
        _ => poll(&wf, target).await?,
    };
    let elapsed = start.elapsed().as_secs();
    Ok(match outcome {
        Outcome::Done(groups) => success(&wf, groups, elapsed),
        Outcome::TimedOut => ModuleResult::failed(wf.msg.clone().unwrap_or_else(|| timeout_message(&wf))).with("elapsed", elapsed),
        Outcome::Failed(message) => ModuleResult::failed(message).with("elapsed", elapsed),
    })
}

/// How a wait ended.
enum Outcome {
    /// With the regex's match groups (when there was a regex).
    Done(Option<Groups>),
    TimedOut,
    Failed(String),
}

/// `match_groups` and `match_groupdict`, as Python's `groups()` and `groupdict()`.
#[derive(Debug, Default, PartialEq)]
struct Groups {
    list: Vec<Value>,
    named: Map<String, Value>,
}

/// The arguments, or the failure Ansible reports for a bad combination.
fn parse(args: &Args) -> Result<Result<WaitFor, ModuleResult>, ModuleError> {
    let state = choice(args, "state", STATES)?.unwrap_or("started");
    let port = int(args, "port")?.filter(|p| *p != 0);
    let path = args.str("path");
    let regex = args.str("search_regex");
    let refuse = |msg: &str| Ok(Err(ModuleResult::failed(msg).with("elapsed", 0)));
    if let Some(re) = &regex {
        if let Err(e) = compile(re) {
            return Ok(Err(ModuleResult::failed(format!("Invalid regular expression: {e}"))));
        }
    }
    if port.is_some() && path.is_some() {
        return refuse("port and path parameter can not both be passed to wait_for");
    }
    if path.is_some() && state == "stopped" {
        return refuse("state=stopped should only be used for checking a port in the wait_for module");
    }
    if path.is_some() && state == "drained" {
        return refuse("state=drained should only be used for checking a port in the wait_for module");
    }
    if args.get("exclude_hosts").is_some() && state != "drained" {
        return refuse("exclude_hosts should only be with state=drained");
    }
    let mut active_states = Vec::new();
    let named_states = if args.get("active_connection_states").is_some() { list(args, "active_connection_states")? } else { DEFAULT_ACTIVE.iter().map(|s| s.to_string()).collect() };
    for name in named_states {
        match tcp_state_code(&name) {
            Some(code) => active_states.push(code),
            None => return refuse(&format!("unknown active_connection_state ({name}) defined")),
        }
    }
    let port = match port.map(u16::try_from).transpose() {
        Ok(port) => port,
        Err(_) => return Ok(Err(ModuleResult::failed("port must be between 1 and 65535"))),
    };
    let mut exclude_hosts = Vec::new();
    for host in list(args, "exclude_hosts")? {
        match host.parse() {
            Ok(ip) => exclude_hosts.push(ip),
            Err(_) => return Ok(Err(ModuleResult::failed(format!("exclude_hosts: `{host}` is not an IP address (stockman does not resolve names here)")))),
        }
    }
    let goal = match (port, path) {
        (Some(port), _) if state == "drained" => Goal::Drained { port },
        (Some(port), _) => Goal::Port { port, regex },
        (None, Some(path)) => Goal::Path { path, regex },
        (None, None) if state == "drained" => return Ok(Err(ModuleResult::failed("state=drained needs a `port` to watch"))),
        (None, None) => Goal::Sleep,
    };
    let seconds = |name: &str, default: i64| -> Result<u64, ModuleError> { Ok(int(args, name)?.unwrap_or(default).max(0) as u64) };
    Ok(Ok(WaitFor {
        host: args.str("host").unwrap_or_else(|| "127.0.0.1".into()),
        goal,
        state,
        timeout: seconds("timeout", 300)?,
        connect_timeout: seconds("connect_timeout", 5)?.max(1),
        delay: seconds("delay", 0)?,
        sleep: seconds("sleep", 1)?,
        msg: args.str("msg"),
        active_states,
        exclude_hosts,
    }))
}

/// The regex as Python's `re.compile(.., re.MULTILINE)` on bytes would read it.
fn compile(re: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(re).multi_line(true).build()
}

fn tcp_state_code(name: &str) -> Option<&'static str> {
    Some(match name {
        "ESTABLISHED" => "01",
        "SYN_SENT" => "02",
        "SYN_RECV" => "03",
        "FIN_WAIT1" => "04",
        "FIN_WAIT2" => "05",
        "TIME_WAIT" => "06",
        "CLOSE" => "07",
        "CLOSE_WAIT" => "08",
        "LAST_ACK" => "09",
        "LISTEN" => "0A",
        "CLOSING" => "0B",
        _ => return None,
    })
}

/// Ansible's message when the time is up.
fn timeout_message(wf: &WaitFor) -> String {
    let host = &wf.host;
    match (&wf.goal, wf.state) {
        (Goal::Port { port, .. }, "stopped" | "absent") => format!("Timeout when waiting for {host}:{port} to stop."),
        (Goal::Path { path, .. }, "stopped" | "absent") => format!("Timeout when waiting for {path} to be absent."),
        (Goal::Port { port, regex: Some(re) }, _) => format!("Timeout when waiting for search string {re} in {host}:{port}"),
        (Goal::Port { port, .. }, _) => format!("Timeout when waiting for {host}:{port}"),
        (Goal::Path { path, regex: Some(re) }, _) => format!("Timeout when waiting for search string {re} in {path}"),
        (Goal::Path { path, .. }, _) => format!("Timeout when waiting for file {path}"),
        (Goal::Drained { port }, _) => format!("Timeout when waiting for {host}:{port} to drain"),
        (Goal::Sleep, _) => "Timeout".into(),
    }
}

fn success(wf: &WaitFor, groups: Option<Groups>, elapsed: u64) -> ModuleResult {
    let groups = groups.unwrap_or_default();
    let (port, path, regex) = match &wf.goal {
        Goal::Port { port, regex } => (Value::from(*port), Value::Null, regex.clone()),
        Goal::Drained { port } => (Value::from(*port), Value::Null, None),
        Goal::Path { path, regex } => (Value::Null, Value::from(path.clone()), regex.clone()),
        Goal::Sleep => (Value::Null, Value::Null, None),
    };
    ModuleResult::ok()
        .with("state", wf.state)
        .with("port", port)
        .with("search_regex", regex.map(Value::from).unwrap_or(Value::Null))
        .with("match_groups", Value::Array(groups.list))
        .with("match_groupdict", Value::Object(groups.named))
        .with("path", path)
        .with("elapsed", elapsed)
}

/// Neither port nor path: Ansible sleeps for the whole timeout (after `delay`).
async fn sleep<T: Target>(wf: &WaitFor, target: &T) -> Result<Outcome, ModuleError> {
    let out = target.exec(Cmd::new("sleep").arg((wf.delay + wf.timeout).to_string()).as_str(), None).await?;
    Ok(match out.rc {
        0 => Outcome::Done(None),
        _ => Outcome::Failed(format!("sleep failed on the host: {}", out.stderr_str().trim())),
    })
}

/// Waits in one remote loop for a path, a listening port, a connection or a drain.
async fn poll<T: Target>(wf: &WaitFor, target: &T) -> Result<Outcome, ModuleError> {
    let want_present = matches!(wf.state, "started" | "present");
    let check: Vec<String> = match &wf.goal {
        Goal::Path { path, .. } => vec!["path".into(), path.clone()],
        Goal::Port { port, .. } => match local_addresses(&wf.host) {
            Some(addrs) => vec!["proc".into(), proc_pattern(&addrs, *port, &["0A"]), "^$".into()],
            None => vec!["connect".into(), wf.host.clone(), port.to_string(), wf.connect_timeout.to_string()],
        },
        Goal::Drained { port } => {
            let addrs = drain_addresses(&wf.host);
            vec!["proc".into(), proc_pattern(&addrs, *port, &wf.active_states), exclusion_pattern(&wf.exclude_hosts)]
        }
        Goal::Sleep => unreachable!("handled by sleep()"),
    };
    // drained: done when no active connection is left, like stopped.
    let want = if want_present { "1" } else { "0" };
    let cmd = Cmd::sh(&format!("{NOW_FN}\n{POLL_SCRIPT}"))
        .arg("sh")
        .arg((wf.timeout * 1000).to_string())
        .arg(wf.sleep.to_string())
        .arg(wf.delay.to_string())
        .arg(want)
        .args(check);
    let out = target.exec(cmd.as_str(), None).await?;
    Ok(match out.rc {
        0 => Outcome::Done(None),
        3 => Outcome::TimedOut,
        4 => Outcome::Failed("wait_for: the host has no /proc/net/tcp to look for listening ports in (stockman checks a local port there); give `host:` the host's address instead".into()),
        5 => Outcome::Failed(no_bash(&wf.host)),
        rc => Outcome::Failed(format!("wait_for failed on the host (rc {rc}): {}", out.stderr_str().trim())),
    })
}

fn no_bash(host: &str) -> String {
    format!("wait_for: checking a port on `{host}` needs bash on the target (its /dev/tcp makes the connection, as the host has no Python); install bash, or wait for a port of the host itself (host: 127.0.0.1)")
}

/// `path` with `search_regex`: the host sends the file whenever it changes
/// (checked every `sleep` seconds), until it matches or the time is up.
async fn wait_for_content<T: Target>(wf: &WaitFor, path: &str, re: &str, target: &T) -> Result<Outcome, ModuleError> {
    let regex = compile(re).map_err(|e| ModuleError::BadArgs(e.to_string()))?;
    let start = Instant::now();
    let mut seen = String::new();
    let mut delay = wf.delay;
    loop {
        let Some(left) = ms_left(wf, start) else { return Ok(Outcome::TimedOut) };
        let cmd = Cmd::sh(&format!("{NOW_FN}\n{CHANGED_FILE_SCRIPT}"))
            .arg("sh")
            .arg(path)
            .arg(&seen)
            .arg(left.to_string())
            .arg(wf.sleep.to_string())
            .arg(delay.to_string());
        delay = 0;
        let out = target.exec(cmd.as_str(), None).await?;
        if out.rc == 3 {
            return Ok(Outcome::TimedOut);
        }
        // A file that went unreadable between the checksum and `cat` is tried again.
        let Some(newline) = out.stdout.iter().position(|b| *b == b'\n') else {
            return Ok(Outcome::Failed(format!("wait_for could not read `{path}` (rc {}): {}", out.rc, out.stderr_str().trim())));
        };
        seen = String::from_utf8_lossy(&out.stdout[..newline]).into_owned();
        if let Some(groups) = find(&regex, &out.stdout[newline + 1..]) {
            return Ok(Outcome::Done(Some(groups)));
        }
    }
}

/// `port` with `search_regex`: connects every `sleep` seconds and reads what
/// the port says, until it matches or the time is up.
async fn wait_for_banner<T: Target>(wf: &WaitFor, port: u16, re: &str, target: &T) -> Result<Outcome, ModuleError> {
    let regex = compile(re).map_err(|e| ModuleError::BadArgs(e.to_string()))?;
    let start = Instant::now();
    let mut pause = wf.delay;
    loop {
        let Some(left) = ms_left(wf, start) else { return Ok(Outcome::TimedOut) };
        let talk = Cmd::sh(PORT_TALK_SCRIPT).arg("sh").arg(&wf.host).arg(port.to_string()).arg(left.div_ceil(1000).to_string());
        let cmd = Cmd::new("sleep").arg(pause.to_string()).then(";", talk);
        pause = wf.sleep;
        let out = target.exec(cmd.as_str(), None).await?;
        if out.rc == 5 {
            return Ok(Outcome::Failed(no_bash(&wf.host)));
        }
        if let Some(groups) = find(&regex, &out.stdout) {
            return Ok(Outcome::Done(Some(groups)));
        }
    }
}

/// Milliseconds until the deadline, or None once it has passed.
fn ms_left(wf: &WaitFor, start: Instant) -> Option<u64> {
    let spent = start.elapsed().as_millis() as u64;
    (wf.timeout * 1000).checked_sub(spent).filter(|left| *left > 0)
}

/// The first match's groups, as Python's `search().groups()`/`groupdict()`.
fn find(regex: &regex::bytes::Regex, haystack: &[u8]) -> Option<Groups> {
    let caps = regex.captures(haystack)?;
    let text = |m: Option<regex::bytes::Match<'_>>| m.map(|m| Value::from(String::from_utf8_lossy(m.as_bytes()).into_owned())).unwrap_or(Value::Null);
    let list = (1..caps.len()).map(|i| text(caps.get(i))).collect();
    let named = regex.capture_names().flatten().map(|name| (name.to_string(), text(caps.name(name)))).collect();
    Some(Groups { list, named })
}

/// The addresses a connection to `host` on the host itself would reach, or
/// None when `host` is another machine. `0.0.0.0` and `::` reach the loopback.
fn local_addresses(host: &str) -> Option<Vec<IpAddr>> {
    if host == "localhost" {
        return Some(vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]);
    }
    match host.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if v4.is_unspecified() => Some(vec![IpAddr::from([127, 0, 0, 1])]),
        IpAddr::V4(v4) if v4.is_loopback() => Some(vec![IpAddr::V4(v4)]),
        IpAddr::V6(v6) if v6.is_unspecified() || v6.is_loopback() => Some(vec![IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]),
        _ => None,
    }
}

/// Local addresses whose connections `drained` counts: the host's address,
/// or every address for `0.0.0.0`, `::` or a name (empty list = any).
fn drain_addresses(host: &str) -> Vec<IpAddr> {
    if host == "localhost" {
        return local_addresses(host).unwrap_or_default();
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if !ip.is_unspecified() => vec![ip],
        _ => Vec::new(),
    }
}

/// An ERE for `/proc/net/tcp{,6}` lines whose local address is one of
/// `addrs` (or any when empty), or a wildcard listening on all of them, on
/// `port`, in one of `states`.
fn proc_pattern(addrs: &[IpAddr], port: u16, states: &[&str]) -> String {
    let mut locals: Vec<String> = Vec::new();
    for addr in addrs {
        locals.push(proc_hex(addr));
        match addr {
            IpAddr::V4(v4) => {
                locals.push(proc_hex(&IpAddr::from([0, 0, 0, 0])));
                locals.push(proc_hex(&IpAddr::V6(v4.to_ipv6_mapped())));
            }
            IpAddr::V6(_) => {}
        }
        locals.push(proc_hex(&IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED)));
    }
    locals.dedup();
    let local = if locals.is_empty() { "[0-9A-F]+".to_string() } else { format!("({})", locals.join("|")) };
    format!("^ *[0-9]+: {local}:{port:04X} [0-9A-F]+:[0-9A-F]{{4}} ({}) ", states.join("|"))
}

/// An ERE for lines whose remote address is excluded (`^$` matches no line).
fn exclusion_pattern(excluded: &[IpAddr]) -> String {
    if excluded.is_empty() {
        return "^$".into();
    }
    let mut remotes: Vec<String> = Vec::new();
    for ip in excluded {
        remotes.push(proc_hex(ip));
        if let IpAddr::V4(v4) = ip {
            remotes.push(proc_hex(&IpAddr::V6(v4.to_ipv6_mapped())));
        }
    }
    format!("^ *[0-9]+: [0-9A-F]+:[0-9A-F]{{4}} ({}):", remotes.join("|"))
}

/// An address as the kernel prints it in `/proc/net/tcp{,6}`: each 32-bit
/// word of the network-order bytes printed as a little-endian number.
fn proc_hex(addr: &IpAddr) -> String {
    let octets = match addr {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    octets.chunks(4).map(|w| format!("{:08X}", u32::from_le_bytes([w[0], w[1], w[2], w[3]]))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        Args::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn addresses_print_as_the_kernel_does() {
        assert_eq!(proc_hex(&"127.0.0.1".parse().unwrap()), "0100007F");
        assert_eq!(proc_hex(&"::1".parse().unwrap()), "00000000000000000000000001000000");
        assert_eq!(proc_hex(&"::ffff:127.0.0.1".parse().unwrap()), "0000000000000000FFFF00000100007F");
    }

    #[test]
    fn a_listening_line_matches_and_a_connection_does_not() {
        let re = regex::Regex::new(&proc_pattern(&local_addresses("127.0.0.1").unwrap(), 8081, &["0A"])).unwrap();
        assert!(re.is_match("   3: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000"));
        assert!(re.is_match("   3: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000"));
        assert!(!re.is_match("   3: 0100007F:1F91 0100007F:A000 01 00000000:00000000 00:00000000 00000000"));
        assert!(!re.is_match("   3: 0200007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000"));
        assert!(!re.is_match("  13: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000"));
    }

    #[test]
    fn only_loopback_names_are_checked_locally() {
        assert!(local_addresses("127.0.0.1").is_some());
        assert!(local_addresses("0.0.0.0").is_some());
        assert!(local_addresses("localhost").is_some());
        assert!(local_addresses("::").is_some());
        assert!(local_addresses("10.0.0.1").is_none());
        assert!(local_addresses("db.example").is_none());
    }

    #[test]
    fn python_style_groups() {
        let re = compile(r"^port=(?P<port>\d+)( tls)?$").unwrap();
        let groups = find(&re, b"name=x\nport=443\n").unwrap();
        assert_eq!(Value::Array(groups.list), json!(["443", null]));
        assert_eq!(Value::Object(groups.named), json!({"port": "443"}));
    }

    #[test]
    fn ansible_refusals() {
        let refused = |v: Value| match parse(&args(v)).unwrap() {
            Err(r) => r.msg.unwrap(),
            Ok(_) => panic!("accepted"),
        };
        assert_eq!(refused(json!({"port": 1, "path": "/x"})), "port and path parameter can not both be passed to wait_for");
        assert_eq!(refused(json!({"path": "/x", "state": "stopped"})), "state=stopped should only be used for checking a port in the wait_for module");
        assert_eq!(refused(json!({"port": 1, "active_connection_states": ["BOGUS"], "state": "drained"})), "unknown active_connection_state (BOGUS) defined");
        assert!(refused(json!({"path": "/x", "search_regex": "("})).starts_with("Invalid regular expression: "));
    }

    #[test]
    fn timeout_messages_match_ansible() {
        let wf = parse(&args(json!({"port": 8081, "timeout": 1}))).unwrap().unwrap();
        assert_eq!(timeout_message(&wf), "Timeout when waiting for 127.0.0.1:8081");
        let wf = parse(&args(json!({"path": "/tmp/f", "state": "absent"}))).unwrap().unwrap();
        assert_eq!(timeout_message(&wf), "Timeout when waiting for /tmp/f to be absent.");
    }
}
