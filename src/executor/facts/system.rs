//! The `min` collectors' facts (platform, distribution, user, env, time,
//! python, dns, lsb, security modules, managers, kernel command line, ssh
//! host keys), parsed on the controller from the probe's output.

use serde_json::{json, Map, Value};

use super::probe::Output;
use super::subset::Collector::{self, *};

pub fn collect(out: &Output, has: &dyn Fn(Collector) -> bool, facts: &mut Map<String, Value>) {
    let tools: Vec<&str> = out.section("tools").lines().collect();
    if has(Platform) {
        platform(out, facts);
    }
    if has(Distribution) {
        distribution(out, facts);
    }
    if has(User) {
        user(out, facts);
    }
    if has(Env) {
        facts.insert("env".into(), Value::Object(parse_env(out.section("env"))));
    }
    if has(DateTime) {
        if let Some(dt) = date_time(out.section("date")) {
            facts.insert("date_time".into(), dt);
        }
    }
    if has(Python) {
        if let Some(python) = python(out.section("python")) {
            facts.insert("python".into(), python);
        }
    }
    if has(Lsb) {
        facts.insert("lsb".into(), lsb(out));
    }
    if has(Dns) {
        facts.insert("dns".into(), dns(out.file("/etc/resolv.conf").unwrap_or_default()));
    }
    if has(Selinux) {
        selinux(out, facts);
    }
    if has(Apparmor) {
        let status = if tools.contains(&"apparmor") { "enabled" } else { "disabled" };
        facts.insert("apparmor".into(), json!({ "status": status }));
    }
    if has(Fips) {
        facts.insert("fips".into(), (out.file("/proc/sys/crypto/fips_enabled").map(str::trim) == Some("1")).into());
    }
    if has(ServiceMgr) {
        facts.insert("service_mgr".into(), service_mgr(out.file("/proc/1/comm").unwrap_or_default().trim(), &tools).into());
    }
    if has(PkgMgr) {
        facts.insert("pkg_mgr".into(), pkg_mgr(&tools).into());
    }
    if has(Cmdline) {
        if let Some(line) = out.file("/proc/cmdline").filter(|l| !l.trim().is_empty()) {
            facts.insert("cmdline".into(), cmdline(line, false));
            facts.insert("proc_cmdline".into(), cmdline(line, true));
        }
    }
    if has(Systemd) {
        systemd(out.section("systemd"), facts);
    }
    if has(SshPubKeys) {
        ssh_host_keys(out, facts);
    }
}

fn platform(out: &Output, facts: &mut Map<String, Value>) {
    let read = |p: &str| out.file(p).unwrap_or_default().trim().to_string();
    let machine = out.file("/proc/sys/kernel/arch").unwrap_or(out.section("uname")).trim().to_string();
    let nodename = read("/proc/sys/kernel/hostname");
    facts.insert("system".into(), read("/proc/sys/kernel/ostype").into());
    facts.insert("kernel".into(), read("/proc/sys/kernel/osrelease").into());
    facts.insert("kernel_version".into(), read("/proc/sys/kernel/version").into());
    facts.insert("machine".into(), machine.clone().into());
    facts.insert("architecture".into(), machine.clone().into());
    facts.insert("userspace_architecture".into(), machine.clone().into());
    if machine.ends_with("64") || machine == "s390x" {
        facts.insert("userspace_bits".into(), "64".into());
    }
    facts.insert("nodename".into(), nodename.clone().into());
    facts.insert("hostname".into(), nodename.split('.').next().unwrap_or_default().into());
    let fqdn = out.section("fqdn").trim();
    let fqdn = if fqdn.is_empty() { nodename.as_str() } else { fqdn };
    facts.insert("fqdn".into(), fqdn.into());
    facts.insert("domain".into(), fqdn.split_once('.').map(|(_, d)| d).unwrap_or_default().into());
    // Ansible reads D-Bus's copy first.
    let machine_id = Some(read("/var/lib/dbus/machine-id")).filter(|m| !m.is_empty()).unwrap_or_else(|| read("/etc/machine-id"));
    if !machine_id.is_empty() {
        facts.insert("machine_id".into(), machine_id.into());
    }
    if let Some(Value::Object(python)) = python(out.section("python")) {
        if let Some(v) = python.get("version_info").and_then(Value::as_array) {
            let parts: Vec<String> = v.iter().take(3).map(|p| p.to_string()).collect();
            facts.insert("python_version".into(), parts.join(".").into());
        }
    }
}

/// os-release's fields (quotes removed), as a map.
pub fn os_release(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), Value::String(v.trim().trim_matches('"').trim_matches('\'').to_string())))
        .collect()
}

fn distribution(out: &Output, facts: &mut Map<String, Value>) {
    let release = os_release(out.file("/etc/os-release").unwrap_or_default());
    let get = |k: &str| release.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let id = get("ID");
    let debian_version = out.file("/etc/debian_version").unwrap_or_default().trim().to_string();
    let distribution = match id.as_str() {
        "" => out.file("/proc/sys/kernel/ostype").unwrap_or_default().trim().to_string(),
        "debian" => "Debian".into(),
        "ubuntu" => "Ubuntu".into(),
        other => capitalize(other),
    };
    let version = if id == "debian" && debian_version.chars().next().is_some_and(|c| c.is_ascii_digit()) { debian_version } else { get("VERSION_ID") };
    let mut parts = version.split('.');
    facts.insert("distribution".into(), distribution.clone().into());
    facts.insert("distribution_version".into(), version.clone().into());
    facts.insert("distribution_major_version".into(), parts.next().unwrap_or_default().into());
    if let Some(minor) = parts.next() {
        facts.insert("distribution_minor_version".into(), minor.into());
    }
    facts.insert("distribution_release".into(), get("VERSION_CODENAME").into());
    if !release.is_empty() {
        facts.insert("distribution_file_path".into(), "/etc/os-release".into());
        facts.insert("distribution_file_parsed".into(), true.into());
    }
    let like = format!("{id} {}", get("ID_LIKE"));
    let family = if like.split_whitespace().any(|w| w == "debian" || w == "ubuntu") { "Debian".to_string() } else { distribution };
    if family == "Debian" && !release.is_empty() {
        facts.insert("distribution_file_variety".into(), "Debian".into());
    }
    facts.insert("os_family".into(), family.into());
}

/// user_*: the passwd entry of the user Python's getuser() names, and the
/// real and effective ids from /proc/self/status.
fn user(out: &Output, facts: &mut Map<String, Value>) {
    let entry: Vec<&str> = out.section("passwd").lines().next().unwrap_or_default().split(':').collect();
    if let [name, _, uid, gid, gecos, dir, shell] = entry.as_slice() {
        facts.insert("user_id".into(), (*name).into());
        if let (Ok(uid), Ok(gid)) = (uid.parse::<u64>(), gid.parse::<u64>()) {
            facts.insert("user_uid".into(), uid.into());
            facts.insert("user_gid".into(), gid.into());
        }
        facts.insert("user_gecos".into(), (*gecos).into());
        facts.insert("user_dir".into(), (*dir).into());
        facts.insert("user_shell".into(), (*shell).into());
    }
    let status = out.file("/proc/self/status").unwrap_or_default();
    let ids = |key: &str| -> Vec<u64> {
        status.lines().find_map(|l| l.strip_prefix(key)).map(|rest| rest.split_whitespace().filter_map(|n| n.parse().ok()).collect()).unwrap_or_default()
    };
    let (uids, gids) = (ids("Uid:"), ids("Gid:"));
    if let ([real_uid, effective_uid, ..], [real_gid, effective_gid, ..]) = (uids.as_slice(), gids.as_slice()) {
        facts.insert("real_user_id".into(), (*real_uid).into());
        facts.insert("effective_user_id".into(), (*effective_uid).into());
        facts.insert("real_group_id".into(), (*real_gid).into());
        facts.insert("effective_group_id".into(), (*effective_gid).into());
    }
}

/// `env` output: NAME=value lines (a value's own newlines continue it).
pub fn parse_env(text: &str) -> Map<String, Value> {
    let mut env = Map::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        match line.split_once('=') {
            Some((name, value)) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
                env.insert(name.to_string(), value.into());
                last = Some(name.to_string());
            }
            _ => {
                if let Some(Value::String(v)) = last.as_ref().and_then(|n| env.get_mut(n)) {
                    v.push('\n');
                    v.push_str(line);
                }
            }
        }
    }
    env
}

/// `ansible_date_time` from `date '+%Y %m %d %H %M %S %s %Z %z %A %w %W %N'`.
pub fn date_time(now: &str) -> Option<Value> {
    let p: Vec<&str> = now.split_whitespace().collect();
    let [year, month, day, hour, minute, second, epoch, tz, offset, weekday, weekday_number, weeknumber, nanos] = p.as_slice() else { return None };
    let micro = nanos.get(..6).unwrap_or("000000");
    // Ansible's iso8601 fields are UTC; the local date minus the offset gives it.
    let utc = utc_parts(epoch.parse().ok()?);
    Some(json!({
        "year": year, "month": month, "day": day, "hour": hour, "minute": minute, "second": second,
        "epoch": epoch, "epoch_int": epoch, "date": format!("{year}-{month}-{day}"), "time": format!("{hour}:{minute}:{second}"),
        "iso8601": format!("{}Z", utc), "iso8601_micro": format!("{utc}.{micro}Z"),
        "iso8601_basic": format!("{year}{month}{day}T{hour}{minute}{second}{micro}"), "iso8601_basic_short": format!("{year}{month}{day}T{hour}{minute}{second}"),
        "tz": tz, "tz_dst": tz, "tz_offset": offset, "weekday": weekday, "weekday_number": weekday_number, "weeknumber": weeknumber,
    }))
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC for a Unix time.
fn utc_parts(epoch: i64) -> String {
    let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    let (year, month, day) = stockman_modules::clock::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `ansible_python` from the probe's `sys.executable` and `sys.version_info` lines.
fn python(text: &str) -> Option<Value> {
    let mut lines = text.lines();
    let executable = lines.next()?.trim();
    let info: Vec<&str> = lines.next()?.split_whitespace().collect();
    let [major, minor, micro, releaselevel, serial] = info.as_slice() else { return None };
    let number = |s: &str| s.parse::<u64>().ok().map(Value::from).unwrap_or_else(|| s.into());
    Some(json!({
        "executable": executable, "has_sslcontext": true, "type": "cpython",
        "version": {"major": number(major), "minor": number(minor), "micro": number(micro), "releaselevel": releaselevel, "serial": number(serial)},
        "version_info": [number(major), number(minor), number(micro), releaselevel, number(serial)],
    }))
}

/// `lsb_release -a` when installed, else /etc/lsb-release, as Ansible reads them.
fn lsb(out: &Output) -> Value {
    let mut lsb = Map::new();
    let tool = out.section("lsb");
    if !tool.trim().is_empty() {
        for line in tool.lines() {
            let Some((key, value)) = line.split_once(':') else { continue };
            let value = value.trim().to_string();
            let name = match key.trim() {
                "LSB Version" => "release_lsb",
                "Distributor ID" => "id",
                "Description" => "description",
                "Release" => "release",
                "Codename" => "codename",
                _ => continue,
            };
            lsb.insert(name.into(), value.into());
        }
    } else if let Some(text) = out.file("/etc/lsb-release") {
        for (key, value) in os_release(text) {
            let name = match key.as_str() {
                "DISTRIB_ID" => "id",
                "DISTRIB_RELEASE" => "release",
                "DISTRIB_DESCRIPTION" => "description",
                "DISTRIB_CODENAME" => "codename",
                _ => continue,
            };
            lsb.insert(name.into(), value);
        }
    }
    if let Some(release) = lsb.get("release").and_then(Value::as_str).map(str::to_string) {
        lsb.insert("major_release".into(), release.split('.').next().unwrap_or_default().into());
    }
    Value::Object(lsb)
}

pub fn dns(text: &str) -> Value {
    let mut dns = Map::new();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let Some((first, rest)) = tokens.split_first() else { continue };
        let words = || Value::Array(rest.iter().map(|t| Value::String(t.to_string())).collect());
        match *first {
            "nameserver" => {
                let list = dns.entry("nameservers").or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = list {
                    list.extend(rest.iter().map(|t| Value::String(t.to_string())));
                }
            }
            "domain" if !rest.is_empty() => {
                dns.insert("domain".into(), rest[0].into());
            }
            "search" => {
                dns.insert("search".into(), words());
            }
            "sortlist" => {
                dns.insert("sortlist".into(), words());
            }
            "options" => {
                let options: Map<String, Value> = rest
                    .iter()
                    .map(|o| match o.split_once(':') {
                        Some((k, v)) if !v.is_empty() => (k.to_string(), Value::String(v.to_string())),
                        Some((k, _)) => (k.to_string(), true.into()),
                        None => (o.to_string(), true.into()),
                    })
                    .collect();
                dns.insert("options".into(), Value::Object(options));
            }
            _ => {}
        }
    }
    Value::Object(dns)
}

/// SELinux from /sys/fs/selinux and /etc/selinux/config, without Python's
/// selinux library (stockman reads the kernel's files directly).
fn selinux(out: &Output, facts: &mut Map<String, Value>) {
    let Some(enforce) = out.file("/sys/fs/selinux/enforce") else {
        facts.insert("selinux".into(), json!({ "status": "disabled" }));
        return;
    };
    let config = os_release(out.file("/etc/selinux/config").unwrap_or_default());
    let mode = if enforce.trim() == "1" { "enforcing" } else { "permissive" };
    let mut selinux = json!({ "status": "enabled", "mode": mode });
    if let Some(v) = out.file("/sys/fs/selinux/policyvers").and_then(|v| v.trim().parse::<u64>().ok()) {
        selinux["policyvers"] = v.into();
    }
    if let Some(v) = config.get("SELINUX") {
        selinux["config_mode"] = v.clone();
    }
    if let Some(v) = config.get("SELINUXTYPE") {
        selinux["type"] = v.clone();
    }
    facts.insert("selinux".into(), selinux);
}

/// Ansible's order: PID 1's name, then systemd's run directory, OpenRC, SysV.
fn service_mgr(comm: &str, tools: &[&str]) -> &'static str {
    match comm {
        "systemd" => return "systemd",
        "runit" | "runit-init" => return "runit",
        "openrc-init" => return "openrc",
        "upstart" => return "upstart",
        _ => {}
    }
    if tools.contains(&"systemd-run") {
        "systemd"
    } else if tools.contains(&"openrc") {
        "openrc"
    } else if tools.contains(&"init.d") {
        "sysvinit"
    } else {
        "service"
    }
}

fn pkg_mgr(tools: &[&str]) -> &'static str {
    for (tool, name) in [("apt-get", "apt"), ("dnf", "dnf"), ("yum", "yum"), ("zypper", "zypper"), ("apk", "apk"), ("pacman", "pacman"), ("emerge", "portage"), ("xbps-install", "xbps")] {
        if tools.contains(&tool) {
            return name;
        }
    }
    "unknown"
}

/// /proc/cmdline as `cmdline` (the last value of a repeated key wins) or
/// `proc_cmdline` (repeated keys collect a list).
fn cmdline(line: &str, lists: bool) -> Value {
    let mut map = Map::new();
    for piece in line.split_whitespace() {
        let Some((key, value)) = piece.split_once('=') else {
            map.insert(piece.to_string(), true.into());
            continue;
        };
        let value = Value::String(value.to_string());
        match map.get_mut(key) {
            Some(Value::Array(list)) if lists => list.push(value),
            Some(existing @ Value::String(_)) if lists => *existing = Value::Array(vec![existing.clone(), value]),
            _ => {
                map.insert(key.to_string(), value);
            }
        }
    }
    Value::Object(map)
}

/// `systemctl --version`: its number and its feature line.
fn systemd(text: &str, facts: &mut Map<String, Value>) {
    let mut lines = text.lines();
    let Some(version) = lines.next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()) else { return };
    facts.insert("systemd".into(), json!({ "version": version, "features": lines.next().unwrap_or_default().trim() }));
}

fn ssh_host_keys(out: &Output, facts: &mut Map<String, Value>) {
    for kind in ["dsa", "rsa", "ecdsa", "ed25519"] {
        let Some(line) = out.file(&format!("/etc/ssh/ssh_host_{kind}_key.pub")) else { continue };
        let mut words = line.split_whitespace();
        if let (Some(keytype), Some(key)) = (words.next(), words.next()) {
            facts.insert(format!("ssh_host_key_{kind}_public"), key.into());
            facts.insert(format!("ssh_host_key_{kind}_public_keytype"), keytype.into());
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_split_as_ansible_does() {
        let dt = date_time("2026 12 02 01 02 03 1796173323 UTC +0000 Wednesday 3 48 192289123").unwrap();
        assert_eq!(dt["iso8601"], "2026-12-02T01:02:03Z");
        assert_eq!(dt["iso8601_micro"], "2026-12-02T01:02:03.192289Z");
        assert_eq!(dt["iso8601_basic"], "20261202T010203192289");
        assert_eq!(dt["weeknumber"], "48");
    }

    #[test]
    fn resolv_conf_and_cmdline() {
        let dns = dns("# c\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch a b\noptions ndots:2 rotate\n");
        assert_eq!(dns, json!({"nameservers": ["1.1.1.1", "8.8.8.8"], "search": ["a", "b"], "options": {"ndots": "2", "rotate": true}}));
        assert_eq!(cmdline("a=1 a=2 quiet", true), json!({"a": ["1", "2"], "quiet": true}));
        assert_eq!(cmdline("a=1 a=2 quiet", false), json!({"a": "2", "quiet": true}));
    }

    #[test]
    fn managers_follow_ansible_order() {
        assert_eq!(service_mgr("systemd", &[]), "systemd");
        assert_eq!(service_mgr("init", &["init.d"]), "sysvinit");
        assert_eq!(pkg_mgr(&["dnf", "apt-get"]), "apt");
        assert_eq!(pkg_mgr(&[]), "unknown");
    }
}
