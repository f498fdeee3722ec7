//! `reboot`: what to run to reboot a Linux host and to tell that it came back.
//! The engine does the waiting (it must drop and reopen the host's connection,
//! which no module can): see the executor's `reboot` action. Here are the
//! arguments, the one probe (the shutdown command's path and the boot time),
//! the reboot command line and the checks, as pure functions.
//!
//! As ansible.builtin.reboot on Linux: `shutdown -r MINUTES MSG`, the boot
//! time from `/proc/sys/kernel/random/boot_id`, `whoami` as the test command.

use std::time::Duration;

use serde_json::Value;

use crate::args::value_to_string;
use crate::shell::{quote, Cmd};
use crate::spec::{p, Param};
use crate::{Args, ModuleError};

/// ansible.builtin.reboot's arguments. The delays are `raw`: Ansible's action
/// takes any number and truncates it (`post_reboot_delay: -0.5` is 0).
pub const PARAMS: &[Param] = &[
    p("pre_reboot_delay"),
    p("post_reboot_delay"),
    p("reboot_timeout").int(),
    p("connect_timeout").int(),
    p("test_command").str().default("whoami"),
    p("msg").str().default(DEFAULT_MESSAGE),
    p("search_paths").list(),
    p("boot_time_command").str().default(DEFAULT_BOOT_TIME),
    p("reboot_command").str(),
];

const DEFAULT_MESSAGE: &str = "Reboot initiated by Ansible";
const DEFAULT_BOOT_TIME: &str = "cat /proc/sys/kernel/random/boot_id";
const DEFAULT_SEARCH_PATHS: [&str; 5] = ["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"];
const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// What the reboot runs, settled from the arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The shutdown program: a name searched in `search_paths`, or an absolute path.
    pub program: String,
    /// Its arguments: the user's text after the program in `reboot_command`
    /// (a shell line the user wrote), or `-r MINUTES MSG` built and quoted here.
    arguments: Arguments,
    pub search_paths: Vec<String>,
    pub boot_time_command: String,
    pub test_command: String,
    /// Each of the two waits (boot time changed, test command passed) may take this long.
    pub reboot_timeout: Duration,
    /// Replaces the connection's own connect timeout while waiting.
    pub connect_timeout: Option<Duration>,
    pub post_reboot_delay: Duration,
}

#[derive(Debug, Clone, PartialEq)]
enum Arguments {
    /// From `reboot_command`: shell text, as the user wrote it.
    Written(String),
    /// `shutdown -r MINUTES MSG`.
    Shutdown { minutes: u64, message: String },
}

impl Plan {
    pub fn from_args(args: &Args) -> Result<Plan, ModuleError> {
        let pre_delay = delay(args, "pre_reboot_delay")?;
        let (program, arguments) = match args.str("reboot_command") {
            Some(line) => {
                let (program, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                (program.to_string(), Arguments::Written(rest.to_string()))
            }
            None => {
                let message = args.str("msg").unwrap_or_else(|| DEFAULT_MESSAGE.into());
                ("shutdown".to_string(), Arguments::Shutdown { minutes: pre_delay / 60, message })
            }
        };
        if program.is_empty() {
            return Err(ModuleError::BadArgs("Invalid value given for 'reboot_command': the command is empty.".into()));
        }
        let search_paths = match args.get("search_paths") {
            None => DEFAULT_SEARCH_PATHS.iter().map(|s| s.to_string()).collect(),
            Some(_) => crate::listarg::list(args, "search_paths")?,
        };
        let seconds = |name: &str| -> Result<Option<u64>, ModuleError> { Ok(crate::listarg::int(args, name)?.map(|n| n.max(0) as u64)) };
        Ok(Plan {
            program,
            arguments,
            search_paths,
            boot_time_command: args.str("boot_time_command").filter(|c| !c.is_empty()).unwrap_or_else(|| DEFAULT_BOOT_TIME.into()),
            test_command: args.str("test_command").unwrap_or_else(|| "whoami".into()),
            reboot_timeout: Duration::from_secs(seconds("reboot_timeout")?.unwrap_or(DEFAULT_TIMEOUT_SECS)),
            // 0 is "unset", as Ansible's `if connect_timeout:`.
            connect_timeout: seconds("connect_timeout")?.filter(|&s| s > 0).map(Duration::from_secs),
            post_reboot_delay: Duration::from_secs(delay(args, "post_reboot_delay")?),
        })
    }

    /// One command: prints the shutdown program's path (empty: not found)
    /// and a NUL, then runs the boot time command (its rc is the command's).
    /// An absolute program is taken as is, as Ansible does.
    pub fn probe(&self) -> Cmd {
        let paths: &[String] = if self.program.starts_with('/') { &[] } else { &self.search_paths };
        Cmd::new("/bin/sh").flag("-c").arg(PROBE_SCRIPT).arg("reboot-probe").arg(&self.program).arg(&self.boot_time_command).args(paths)
    }

    /// The probe's answer: `(path of the shutdown program, the boot time
    /// command's output as is)`.
    pub fn read_probe(&self, stdout: &str) -> (Option<String>, String) {
        let (found, boot) = stdout.split_once('\0').unwrap_or(("", stdout));
        let path = if self.program.starts_with('/') { Some(self.program.clone()) } else { Some(found.to_string()).filter(|f| !f.is_empty()) };
        (path, boot.to_string())
    }

    /// Ansible's error when the program is in none of the search paths.
    pub fn not_found(&self) -> String {
        let paths: Vec<String> = self.search_paths.iter().map(|p| crate::convert::py_repr(&Value::String(p.clone()))).collect();
        format!("Unable to find command \"{}\" in search paths: [{}]", self.program, paths.join(", "))
    }

    /// The reboot command line for the program found at `path`. The message
    /// is quoted (data, never code; Ansible wraps it in double quotes as is).
    pub fn reboot_command(&self, path: &str) -> String {
        match &self.arguments {
            Arguments::Written(rest) if rest.is_empty() => quote(path),
            Arguments::Written(rest) => format!("{} {rest}", quote(path)),
            Arguments::Shutdown { minutes, message } => format!("{} -r {minutes} {}", quote(path), quote(message)),
        }
    }

    /// The boot time command alone, for the checks after the reboot.
    pub fn boot_time(&self) -> Cmd {
        Cmd::sh(&self.boot_time_command)
    }

    pub fn test(&self) -> Cmd {
        Cmd::sh(&self.test_command)
    }
}

/// Whether the host has booted again: a boot time that is there and differs.
/// (Ansible checks the length too: some systems print nothing just before.)
pub fn rebooted(before: &str, now: &str) -> bool {
    !now.is_empty() && now != before
}

/// `$1` the program, `$2` the boot time command, then the search paths.
const PROBE_SCRIPT: &str = r#"b=$1; c=$2; shift 2
for d in "$@"; do if [ -e "$d/$b" ]; then printf '%s' "$d/$b"; break; fi; done
printf '\0'
exec /bin/sh -c "$c""#;

/// A delay in whole seconds: any number, truncated, negatives as 0 (Ansible's `int()` then `max(0)`).
fn delay(args: &Args, name: &str) -> Result<u64, ModuleError> {
    let Some(value) = args.get(name) else { return Ok(0) };
    let seconds = match value {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        other => value_to_string(other).trim().parse::<i64>().map(|n| n as f64).map_err(|_| {
            ModuleError::BadArgs(format!("invalid literal for int() with base 10: '{}' (`{name}` must be a number of seconds)", value_to_string(other)))
        })?,
    };
    Ok(seconds.max(0.0).trunc() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(v: Value) -> Plan {
        Plan::from_args(&Args::new(v.as_object().cloned().unwrap())).unwrap()
    }

    #[test]
    fn defaults_are_ansibles_linux_ones() {
        let p = plan(json!({}));
        assert_eq!(p.reboot_command("/sbin/shutdown"), "/sbin/shutdown -r 0 'Reboot initiated by Ansible'");
        assert_eq!(p.boot_time().as_str(), "/bin/sh -c 'cat /proc/sys/kernel/random/boot_id'");
        assert_eq!(p.test().as_str(), "/bin/sh -c whoami");
        assert_eq!(p.reboot_timeout, Duration::from_secs(600));
        assert_eq!(p.connect_timeout, None);
        assert_eq!(
            p.probe().as_str(),
            format!("/bin/sh -c {} reboot-probe shutdown 'cat /proc/sys/kernel/random/boot_id' /sbin /bin /usr/sbin /usr/bin /usr/local/sbin", quote(PROBE_SCRIPT))
        );
    }

    #[test]
    fn delays_truncate_clamp_and_become_minutes() {
        let p = plan(json!({"pre_reboot_delay": 61, "post_reboot_delay": -0.5, "msg": "it's $(now)"}));
        assert_eq!(p.reboot_command("/sbin/shutdown"), "/sbin/shutdown -r 1 'it'\\''s $(now)'");
        assert_eq!(p.post_reboot_delay, Duration::ZERO);
        assert_eq!(plan(json!({"pre_reboot_delay": -61})).reboot_command("/s"), "/s -r 0 'Reboot initiated by Ansible'");
        assert_eq!(plan(json!({"post_reboot_delay": 2.9})).post_reboot_delay, Duration::from_secs(2));
        assert!(Plan::from_args(&Args::new(json!({"post_reboot_delay": "soon"}).as_object().cloned().unwrap())).is_err());
    }

    #[test]
    fn reboot_command_splits_at_the_first_space() {
        let p = plan(json!({"reboot_command": "systemctl reboot --force", "search_paths": "/usr/bin,/bin", "connect_timeout": 0}));
        assert_eq!(p.program, "systemctl");
        assert_eq!(p.search_paths, ["/usr/bin", "/bin"]);
        assert_eq!(p.reboot_command("/usr/bin/systemctl"), "/usr/bin/systemctl reboot --force");
        assert_eq!(p.connect_timeout, None, "0 is unset");
        let abs = plan(json!({"reboot_command": "/sbin/reboot"}));
        assert_eq!(abs.reboot_command("/sbin/reboot"), "/sbin/reboot");
        assert!(abs.probe().as_str().ends_with("reboot-probe /sbin/reboot 'cat /proc/sys/kernel/random/boot_id'"), "no search for an absolute path");
        assert_eq!(abs.read_probe("\0id\n"), (Some("/sbin/reboot".into()), "id\n".into()));
    }

    #[test]
    fn probe_answer_and_boot_check() {
        let p = plan(json!({"search_paths": ["/a b", "/it's"]}));
        assert_eq!(p.read_probe("/a b/shutdown\0abc\n"), (Some("/a b/shutdown".into()), "abc\n".into()));
        assert_eq!(p.read_probe("\0abc\n").0, None);
        assert_eq!(p.not_found(), r#"Unable to find command "shutdown" in search paths: ['/a b', "/it's"]"#);
        assert!(rebooted("a", "b") && !rebooted("a", "a") && !rebooted("a", ""));
    }
}
