//! `hostname`: the host's name, as ansible.builtin.hostname on Linux. The
//! strategy is Ansible's: `use` when given (`debian` means systemd, as in
//! Ansible), else hostnamectl on a systemd-managed host, else the
//! /etc/hostname file on the Debian family and Alpine. One command reads all
//! the strategy needs (systemd canaries, the os-release ID, hostnamectl's
//! transient and static names, /etc/hostname, and the name's FQDN as
//! Python's `socket.getfqdn()` finds it); changes are planned here and made
//! in Ansible's order (permanent, then current). /etc/hostname is replaced
//! atomically, keeping its mode and owner. The strategies of other systems
//! (redhat, sles, openrc, the BSDs, macOS, Solaris, generic) are refused with
//! a message: they are not native.

use serde_json::json;

use crate::remote_file::{self, WritePlan};
use crate::shell::Cmd;
use crate::spec::{p, req, Param};
use crate::text_edit::{self, TextFile};
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};

/// Ansible's `use` choices (its STRATS table).
const USES: &[&str] = &["alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc", "redhat", "sles", "solaris", "systemd"];

pub const PARAMS: &[Param] = &[req("name").str(), p("use").choices(USES)];

/// The file the file strategies keep the name in.
const HOSTNAME_FILE: &str = "/etc/hostname";

/// `fq NAME`: Python's getfqdn: the name's first address (getaddrinfo
/// order), that address's name and aliases, the first with a dot, else the
/// name it resolved to; the name itself when either lookup fails.
const FQDN_FN: &str = r#"fq() {
  ip=$(getent ahosts "$1" 2>/dev/null | awk 'NR==1{print $1}')
  l=; [ -n "$ip" ] && l=$(getent hosts "$ip" 2>/dev/null | head -n 1)
  if [ -z "$l" ]; then printf '%s\0' "$1"; return; fi
  set -f; set -- $l; set +f; shift; c=$1
  for a do case $a in *.*) printf '%s\0' "$a"; return ;; esac; done
  printf '%s\0' "$c"
}"#;

/// Prints: systemd-managed (Ansible's canaries), the os-release ID, then
/// for `hostnamectl --transient status` and `--static status` the exit
/// status (127: no hostnamectl), stdout and stderr, then the FQDN of the
/// kernel's name. /etc/hostname's read follows.
const PROBE_SCRIPT: &str = r#"s=0
if command -v systemctl >/dev/null 2>&1 && { [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ]; }; then s=1; fi
id=$( . /etc/os-release 2>/dev/null; printf '%s' "${ID-}")
printf '%s\0%s\0' "$s" "$id"
for k in --transient --static; do
  if command -v hostnamectl >/dev/null 2>&1; then
    e=$(mktemp) || exit 1
    o=$(hostnamectl "$k" status 2>"$e"; echo "x$?"); rc=${o##*x}; o=${o%x*}
    printf '%s\0%s\0%s\0' "$rc" "$o" "$(cat "$e")"; rm -f "$e"
  else printf '127\0\0\0'; fi
done
FQDN
fq "$(uname -n)""#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// hostnamectl: static (and pretty) name, then the transient one.
    Systemd,
    /// /etc/hostname alone: the current name is the file's.
    File,
    /// /etc/hostname, then `hostname -F /etc/hostname`.
    Alpine,
}

/// What `hostnamectl STATUS` answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub rc: i32,
    pub out: String,
    pub err: String,
}

impl Answer {
    /// The name, or Ansible's failure.
    fn name(&self) -> Result<String, String> {
        match self.rc {
            0 => Ok(self.out.trim().to_string()),
            127 => Err("Failed to find required executable \"hostnamectl\" in paths".to_string()),
            rc => Err(format!("Command failed rc={rc}, out={}, err={}", self.out, self.err)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Facts {
    pub systemd: bool,
    pub os_id: String,
    pub transient: Answer,
    pub r#static: Answer,
    pub fqdn: String,
    pub file: TextFile,
}

/// Ansible's strategy for `use` (None: picked from the host), or why it is not native.
pub fn strategy(given: Option<&str>, facts: &Facts) -> Result<Strategy, String> {
    let not_native = |what: &str| Err(format!("hostname: {what} is not native in stockman (only systemd, debian, alpine and the Debian family's /etc/hostname are); run this task with Ansible's module"));
    match given {
        Some("systemd" | "debian") => Ok(Strategy::Systemd),
        Some("alpine") => Ok(Strategy::Alpine),
        Some(other) => not_native(&format!("`use: {other}`")),
        None if facts.systemd => Ok(Strategy::Systemd),
        None => match facts.os_id.as_str() {
            "alpine" => Ok(Strategy::Alpine),
            "debian" | "ubuntu" | "linuxmint" | "raspbian" | "kali" | "devuan" | "pop" | "neon" | "parrot" | "deepin" | "uos" | "kylin" | "cumulus-linux" | "linaro" | "void" => Ok(Strategy::File),
            "" => not_native("this platform"),
            id => not_native(&format!("the platform of a non-systemd `{id}` host")),
        },
    }
}

/// The current and permanent names as the strategy reads them.
fn names(strategy: Strategy, facts: &Facts) -> Result<(String, String), String> {
    match strategy {
        Strategy::Systemd => Ok((facts.transient.name()?, facts.r#static.name()?)),
        Strategy::File | Strategy::Alpine => {
            let permanent = if facts.file.facts.kind == remote_file::FileKind::File { String::from_utf8_lossy(&facts.file.content).trim().to_string() } else { String::new() };
            Ok((permanent.clone(), permanent))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub set_permanent: bool,
    pub set_current: bool,
    /// `name_before` of Ansible's diff.
    pub before: String,
}

impl Plan {
    pub fn changed(&self) -> bool {
        self.set_permanent || self.set_current
    }
}

/// What changes, pure. The file strategies have no separate current name.
pub fn plan(strategy: Strategy, name: &str, current: &str, permanent: &str) -> Plan {
    let separate = strategy == Strategy::Systemd;
    Plan {
        set_permanent: permanent != name,
        set_current: separate && current != name,
        before: if name != current { current.to_string() } else { permanent.to_string() },
    }
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let name = args.required_str("name")?;
    let facts = match probe(target).await? {
        Ok(facts) => facts,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let decided = strategy(args.str("use").as_deref(), &facts).and_then(|s| names(s, &facts).map(|n| (s, n)));
    let (strategy, (current, permanent)) = match decided {
        Ok(decided) => decided,
        Err(msg) => return Ok(ModuleResult::failed(msg)),
    };
    let plan = plan(strategy, &name, &current, &permanent);
    let mut fqdn = facts.fqdn.clone();
    if plan.changed() && !mode.check {
        if let Err(msg) = apply(strategy, &plan, &name, &facts.file, target).await? {
            return Ok(ModuleResult::failed(msg));
        }
        fqdn = fqdn_now(target).await?;
    }
    let domain = fqdn.split_once('.').map(|(_, d)| d).unwrap_or_default();
    let mut result = ModuleResult::changed(plan.changed()).with("name", name.as_str()).with(
        "ansible_facts",
        json!({"ansible_hostname": name.split('.').next().unwrap_or_default(), "ansible_nodename": name, "ansible_fqdn": fqdn, "ansible_domain": domain}),
    );
    if plan.changed() {
        let (before, after) = (format!("hostname = {}\n", plan.before), format!("hostname = {name}\n"));
        // Ansible's module returns its diff in the result (registered too) whenever it changes.
        result = result.with("diff", json!({"after": after, "before": before}));
        if mode.diff {
            result.diff.push(FileDiff { before, after, ..FileDiff::default() });
        }
    }
    Ok(result)
}

async fn probe<T: Target>(target: &T) -> Result<Result<Facts, String>, ModuleError> {
    let script = PROBE_SCRIPT.replace("FQDN", FQDN_FN);
    let cmd = Cmd::new("/bin/sh").flag("-c").arg(script).then("&&", text_edit::read_cmd(HOSTNAME_FILE));
    let out = target.exec(cmd.as_str(), None).await?;
    let mut fields = out.stdout.splitn(10, |&b| b == 0).map(|f| f.to_vec());
    let mut text = || fields.next().map(|f| String::from_utf8_lossy(&f).into_owned());
    let fields: Option<Vec<String>> = (0..9).map(|_| text()).collect();
    let rest = out.stdout.splitn(10, |&b| b == 0).nth(9);
    let (Some(f), Some(rest), 0) = (fields, rest, out.rc) else {
        return Ok(Err(format!("could not read the host's name: {}", out.stderr_str().trim())));
    };
    let Some(file) = text_edit::parse_read(rest, HOSTNAME_FILE) else {
        return Ok(Err(format!("unexpected output reading `{HOSTNAME_FILE}`")));
    };
    let answer = |i: usize| Answer { rc: f[i].parse().unwrap_or(-1), out: f[i + 1].clone(), err: f[i + 2].clone() };
    Ok(Ok(Facts { systemd: f[0] == "1", os_id: f[1].clone(), transient: answer(2), r#static: answer(5), fqdn: f[8].clone(), file }))
}

/// Makes the planned changes; a failure is the task's message.
async fn apply<T: Target>(strategy: Strategy, plan: &Plan, name: &str, file: &TextFile, target: &T) -> Result<Result<(), String>, ModuleError> {
    if strategy == Strategy::Systemd && name.chars().count() > 64 {
        return Ok(Err("name cannot be longer than 64 characters on systemd servers, try a shorter name".into()));
    }
    let commands: Vec<Cmd> = match strategy {
        Strategy::Systemd => [
            plan.set_permanent.then(|| Cmd::new("hostnamectl").flag("--pretty").flag("--static").flag("set-hostname").flag("--").arg(name)),
            plan.set_current.then(|| Cmd::new("hostnamectl").flag("--transient").flag("set-hostname").flag("--").arg(name)),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Strategy::File | Strategy::Alpine => {
            if let Err(msg) = write_file(file, name, target).await? {
                return Ok(Err(format!("failed to update hostname: {msg}")));
            }
            if strategy == Strategy::Alpine { vec![Cmd::new("hostname").flag("-F").arg(HOSTNAME_FILE)] } else { vec![] }
        }
    };
    for cmd in commands {
        let out = target.exec(cmd.as_str(), None).await?;
        if out.rc != 0 {
            return Ok(Err(format!("Command failed rc={}, out={}, err={}", out.rc, out.stdout_str(), out.stderr_str())));
        }
    }
    Ok(Ok(()))
}

/// /etc/hostname replaced by `NAME\n`, its mode and owner kept (0644 minus umask when new).
async fn write_file<T: Target>(file: &TextFile, name: &str, target: &T) -> Result<Result<(), String>, ModuleError> {
    let content = format!("{name}\n");
    let exists = file.facts.exists();
    let write = WritePlan {
        dest: file.real_path.clone(),
        mode: if exists { file.facts.mode } else { 0o666 & !file.umask },
        chown: None,
        keep_ids: exists.then_some((file.facts.uid, file.facts.gid)),
        create_dir: false,
        backup: false,
        size: content.len(),
    };
    Ok(remote_file::apply(target, &write.cmd(), Some(content.as_bytes()), 1, &file.real_path).await?.map(|_| ()))
}

/// The FQDN after a change (Python computes it after setting the name).
async fn fqdn_now<T: Target>(target: &T) -> Result<String, ModuleError> {
    let script = format!("{FQDN_FN}\nfq \"$(uname -n)\"");
    let out = target.exec(Cmd::new("/bin/sh").flag("-c").arg(script).as_str(), None).await?;
    Ok(String::from_utf8_lossy(out.stdout.split(|&b| b == 0).next().unwrap_or_default()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(systemd: bool, os_id: &str) -> Facts {
        let file = TextFile { path: HOSTNAME_FILE.into(), real_path: HOSTNAME_FILE.into(), facts: remote_file::FileFacts::absent(), umask: 0o22, content: vec![] };
        Facts { systemd, os_id: os_id.into(), transient: Answer::default(), r#static: Answer::default(), fqdn: String::new(), file }
    }

    #[test]
    fn strategies_as_ansible_picks_them() {
        assert_eq!(strategy(None, &facts(true, "debian")), Ok(Strategy::Systemd));
        assert_eq!(strategy(Some("debian"), &facts(false, "debian")), Ok(Strategy::Systemd), "Ansible maps `debian` to systemd");
        assert_eq!(strategy(None, &facts(false, "ubuntu")), Ok(Strategy::File));
        assert_eq!(strategy(None, &facts(false, "alpine")), Ok(Strategy::Alpine));
        assert!(strategy(Some("redhat"), &facts(true, "rhel")).unwrap_err().contains("`use: redhat` is not native"));
        assert!(strategy(None, &facts(false, "rhel")).is_err());
    }

    #[test]
    fn plans_and_diff_before_as_ansible() {
        let p = plan(Strategy::Systemd, "web1", "old", "old");
        assert_eq!(p, Plan { set_permanent: true, set_current: true, before: "old".into() });
        let p = plan(Strategy::Systemd, "web1", "web1", "stale");
        assert_eq!(p, Plan { set_permanent: true, set_current: false, before: "stale".into() });
        assert!(!plan(Strategy::File, "web1", "web1", "web1").changed());
        assert!(!plan(Strategy::File, "web1", "x", "web1").set_current, "files have no separate current name");
        assert_eq!(Answer { rc: 1, out: "o".into(), err: "e".into() }.name().unwrap_err(), "Command failed rc=1, out=o, err=e");
    }
}
