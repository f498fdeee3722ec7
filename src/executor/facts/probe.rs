//! The one probe command a host runs for its facts: fixed shell fragments,
//! one per collector asked for, plus the user's values (`fact_path`, the
//! timeout) assigned through the quoting builder. Its output is sections,
//! each opened by a marker line holding a nonce the controller made for this
//! run, so nothing a host prints (a fact script, a file) can forge one.

use std::collections::{BTreeMap, BTreeSet};

use stockman_modules::shell::quote;

use super::subset::Collector::{self, *};

/// Files read in one `grep -H -Z` (each line comes back as `path\0line`):
/// one program for what would otherwise be dozens of reads.
const FILES_MIN: &str = "/etc/os-release /etc/debian_version /etc/lsb-release /var/lib/dbus/machine-id /etc/machine-id /proc/sys/kernel/ostype \
/proc/sys/kernel/arch /proc/sys/kernel/hostname /proc/sys/kernel/osrelease /proc/sys/kernel/version /proc/self/status /etc/resolv.conf /proc/cmdline \
/proc/sys/crypto/fips_enabled /proc/1/comm /etc/ssh/ssh_host_*_key.pub /sys/fs/selinux/enforce /sys/fs/selinux/policyvers \
/etc/selinux/config";
const FILES_HARDWARE: &str = "/proc/meminfo /proc/cpuinfo /proc/uptime /proc/mounts /proc/self/mountinfo /sys/class/dmi/id/bios_date \
/sys/class/dmi/id/bios_vendor /sys/class/dmi/id/bios_version /sys/class/dmi/id/board_asset_tag /sys/class/dmi/id/board_name \
/sys/class/dmi/id/board_serial /sys/class/dmi/id/board_vendor /sys/class/dmi/id/board_version /sys/class/dmi/id/chassis_asset_tag \
/sys/class/dmi/id/chassis_serial /sys/class/dmi/id/chassis_vendor /sys/class/dmi/id/chassis_version /sys/class/dmi/id/chassis_type \
/sys/class/dmi/id/product_name /sys/class/dmi/id/product_serial /sys/class/dmi/id/product_uuid /sys/class/dmi/id/product_version \
/sys/class/dmi/id/sys_vendor /etc/nvme/hostnqn /etc/iscsi/initiatorname.iscsi /sys/class/fc_host/*/port_name";
const FILES_VIRTUAL: &str = "/proc/1/cgroup /proc/1/environ /run/systemd/container /proc/vz/version /proc/bc/0/resources /proc/lve/list";
const FILES_NETWORK: &str = "/sys/class/net/*/address /sys/class/net/*/mtu /sys/class/net/*/operstate /sys/class/net/*/type \
/sys/class/net/*/speed /sys/class/net/*/flags /sys/class/net/*/bridge/bridge_id /sys/class/net/*/bridge/stp_state \
/sys/class/net/*/bonding/slaves /sys/class/net/*/bonding/mode /sys/class/net/*/bonding/miimon /sys/class/net/*/bonding/lacp_rate \
/sys/class/net/*/bonding/primary /sys/class/net/*/bonding_slave/perm_hwaddr";
const FILES_LOADAVG: &str = "/proc/loadavg";

/// Section fragments: `M NAME` opens a section. Each one is a fixed script.
const SYSTEMD: &str = "M systemd; [ -d /run/systemd/system ] && systemctl --version 2>/dev/null\n";
/// uname -m only where the kernel has no /proc/sys/kernel/arch (before 5.x).
const UNAME: &str = "[ -r /proc/sys/kernel/arch ] || { M uname; uname -m; }\n";
const FQDN: &str = "M fqdn; hostname -f 2>/dev/null\n";
/// The user as Python's getpass.getuser() finds it (LOGNAME first), then its passwd entry.
/// /etc/passwd is read by the shell (its first 500 lines); getent (NSS) only when the user is not there.
const USER: &str = "M passwd; u=${LOGNAME:-${USER:-${LNAME:-$USERNAME}}}; f=; n=0; [ -n \"$u\" ] && while IFS= read -r l && [ $n -lt 500 ]; do \
n=$((n+1)); case $l in \"$u\":*) f=$l; break;; esac; done </etc/passwd; \
if [ -n \"$f\" ]; then printf '%s\\n' \"$f\"; else { [ -n \"$u\" ] && getent passwd \"$u\"; } || getent passwd \"$(id -u)\"; fi\n";
const ENV: &str = "M env; env\n";
const DATE: &str = "M date; date '+%Y %m %d %H %M %S %s %Z %z %A %w %W %N'\n";
const PYTHON: &str = "M python; p=$(command -v python3 || command -v python) && \"$p\" -I -S -c 'import sys; print(sys.executable); print(*sys.version_info)' 2>/dev/null\n";
const LSB: &str = "M lsb; command -v lsb_release >/dev/null 2>&1 && lsb_release -a 2>/dev/null\n";
const TOOLS: &str = "M tools; for t in apt-get dnf yum zypper apk pacman emerge pkg pkgng xbps-install vgs; do command -v $t >/dev/null 2>&1 && echo $t; done; \
[ -d /run/systemd/system ] && echo systemd-run; [ -d /sys/kernel/security/apparmor ] && echo apparmor; [ -x /sbin/openrc ] && echo openrc; \
[ -d /etc/init.d ] && echo init.d; [ -e /.dockerenv ] && echo dockerenv; [ -e /.dockerinit ] && echo dockerenv; true\n";
/// Addresses and both default routes from one `ip -batch`.
const NETWORK: &str = "M ip; printf 'addr show\\nroute get 8.8.8.8\\nroute get 2404:6800:400a:800::1012\\n' | ip -force -batch - 2>/dev/null\n";
/// Symlinks and directories listed by one `ls -ld` (interfaces, their PCI
/// device, driver module and bridge members; the by-uuid disk names).
const LINKS_NETWORK: &str = "/sys/class/net/*/ /sys/class/net/*/device /sys/class/net/*/device/driver/module /sys/class/net/*/brif/*";
const LINKS_HARDWARE: &str = "/dev/disk/by-uuid/*";
/// statvfs of every mount Ansible reports, under the gather timeout.
const MOUNTS: &str = "M statfs; set --; while read -r d m f r; do case $d in /*|\\\\*|*:/*) [ \"$f\" = none ] || set -- \"$@\" \"$m\";; esac; done </proc/mounts; \
t=; command -v timeout >/dev/null 2>&1 && t=\"timeout $gt\"; [ $# -gt 0 ] && $t stat -f -c '%s %S %b %f %a %c %d %n' -- \"$@\" 2>/dev/null; true\n";
/// Local facts: executables run (stdout here, stderr on stderr after a marker), others read.
const LOCAL: &str = "M local; if [ -d \"$fp\" ]; then for f in \"$fp\"/*.fact; do [ -e \"$f\" ] || [ -L \"$f\" ] || continue; \
if [ ! -e \"$f\" ]; then M fact \"missing $f\"; elif [ -x \"$f\" ]; then M fact \"exec $f\"; printf '%s %s\\n' \"$N\" \"$f\" >&2; \"$f\" </dev/null; M rc \"$?\"; \
else M fact \"file $f\"; cat -- \"$f\" 2>/dev/null; fi; done; fi\n";

/// What the controller asked for, to build one probe.
pub struct ProbeRequest<'a> {
    pub collectors: &'a BTreeSet<Collector>,
    pub fact_path: &'a str,
    pub timeout_seconds: u64,
}

/// The probe script and the nonce its section markers carry.
pub struct Probe {
    pub script: String,
    pub nonce: String,
}

pub fn build(request: &ProbeRequest<'_>) -> Probe {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    let nonce: String = (0..24).map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)])).collect();
    let has = |c: Collector| request.collectors.contains(&c);
    let mut s = format!(
        "N={}; fp={}; gt={}\nM() {{ printf '\\n%s %s\\n' \"$N\" \"$*\"; }}\n",
        quote(&nonce),
        quote(request.fact_path),
        request.timeout_seconds
    );
    let mut files = String::from(FILES_MIN);
    for (collector, list) in [(Hardware, FILES_HARDWARE), (Virtual, FILES_HARDWARE), (Virtual, FILES_VIRTUAL), (Network, FILES_NETWORK), (Loadavg, FILES_LOADAVG)] {
        if has(collector) && !files.contains(list) {
            files.push(' ');
            files.push_str(list);
        }
    }
    s.push_str(&format!("M files; grep -a -H -Z -s '' {files}\n"));
    if has(Platform) {
        s.push_str(UNAME);
        s.push_str(FQDN);
    }
    if has(User) {
        s.push_str(USER);
    }
    if has(Env) {
        s.push_str(ENV);
    }
    if has(DateTime) {
        s.push_str(DATE);
    }
    if has(Python) || has(Platform) {
        s.push_str(PYTHON);
    }
    if has(Lsb) {
        s.push_str(LSB);
    }
    s.push_str(TOOLS);
    if has(Systemd) {
        s.push_str(SYSTEMD);
    }
    if has(Network) {
        s.push_str(NETWORK);
    }
    if has(Hardware) {
        s.push_str(MOUNTS);
    }
    let links: Vec<&str> = [(Network, LINKS_NETWORK), (Hardware, LINKS_HARDWARE)].into_iter().filter(|(c, _)| has(*c)).map(|(_, l)| l).collect();
    if !links.is_empty() {
        s.push_str(&format!("M links; ls -ld {} 2>/dev/null\n", links.join(" ")));
    }
    if has(Local) {
        s.push_str(LOCAL);
    }
    s.push_str("M end\n");
    Probe { script: s, nonce }
}

/// The probe's output, split into its sections (`files` further into one
/// entry per file read).
#[derive(Debug, Default)]
pub struct Output {
    pub sections: BTreeMap<String, String>,
    /// `path` → the file's lines as read (joined with `\n`).
    pub files: BTreeMap<String, String>,
    /// Local facts in the order found: (kind, path, content, rc).
    pub local: Vec<LocalFact>,
    /// Each executed fact script's stderr, by path.
    pub local_stderr: BTreeMap<String, String>,
    /// Whether the probe ran to its end (a killed probe did not).
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocalFact {
    pub kind: String,
    pub path: String,
    pub content: String,
    pub rc: Option<i32>,
}

impl Output {
    pub fn section(&self, name: &str) -> &str {
        self.sections.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn file(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }
}

pub fn split(stdout: &str, stderr: &str, nonce: &str) -> Output {
    let marker = format!("\n{nonce} ");
    let mut out = Output::default();
    let text = format!("\n{stdout}");
    let mut parts = text.split(marker.as_str());
    parts.next();
    for part in parts {
        let (header, body) = part.split_once('\n').unwrap_or((part, ""));
        let (name, arg) = header.split_once(' ').unwrap_or((header, ""));
        match name {
            "fact" => {
                let (kind, path) = arg.split_once(' ').unwrap_or((arg, ""));
                out.local.push(LocalFact { kind: kind.into(), path: path.into(), content: body.into(), rc: None });
            }
            "rc" => {
                if let Some(last) = out.local.last_mut() {
                    last.rc = arg.trim().parse().ok();
                }
            }
            "end" => out.complete = true,
            "files" => out.files = split_files(body),
            _ => {
                out.sections.insert(name.to_string(), body.to_string());
            }
        }
    }
    out.local_stderr = split_stderr(stderr, nonce);
    out
}

/// `grep -H -Z` lines (`path\0line`) into each file's text.
fn split_files(body: &str) -> BTreeMap<String, String> {
    let mut lines: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in body.lines() {
        if let Some((path, content)) = line.split_once('\0') {
            lines.entry(path).or_default().push(content);
        }
    }
    lines.into_iter().map(|(path, content)| (path.to_string(), content.join("\n"))).collect()
}

fn split_stderr(stderr: &str, nonce: &str) -> BTreeMap<String, String> {
    let mut by_path: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in stderr.lines() {
        if let Some(path) = line.strip_prefix(nonce).and_then(|r| r.strip_prefix(' ')) {
            current = Some(path.to_string());
            by_path.entry(path.to_string()).or_default();
        } else if let Some(text) = current.as_ref().and_then(|p| by_path.get_mut(p)) {
            text.push_str(line);
            text.push('\n');
        }
    }
    by_path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_files_and_local_facts_split_on_the_nonce() {
        let n = "abc";
        let out = "\nabc files\n/etc/a\0one\n/etc/a\0two\n/etc/b\0\n\nabc uname\nx86_64\n\nabc local\n\nabc fact exec /f/a.fact\n{\"x\": 1}\n\nabc rc 0\n\nabc fact file /f/b.fact\n[s]\nk=v\n\nabc end\n";
        let parsed = split(out, "abc /f/a.fact\noops\n", n);
        assert!(parsed.complete);
        assert_eq!(parsed.file("/etc/a"), Some("one\ntwo"));
        assert_eq!(parsed.file("/etc/b"), Some(""));
        assert_eq!(parsed.section("uname"), "x86_64\n");
        assert_eq!(parsed.local.len(), 2);
        assert_eq!(parsed.local[0], LocalFact { kind: "exec".into(), path: "/f/a.fact".into(), content: "{\"x\": 1}\n".into(), rc: Some(0) });
        assert_eq!(parsed.local[1].content, "[s]\nk=v\n");
        assert_eq!(parsed.local_stderr["/f/a.fact"], "oops\n");
    }

    #[test]
    fn user_values_are_quoted_in_the_probe() {
        let collectors = [Local].into_iter().collect();
        let probe = build(&ProbeRequest { collectors: &collectors, fact_path: "/x'; rm -rf /; '", timeout_seconds: 10 });
        assert!(probe.script.contains(&format!("fp={}", quote("/x'; rm -rf /; '"))), "{}", probe.script);
    }
}
