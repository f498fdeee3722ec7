//! `gather_facts`: one probe command per host collecting the facts playbooks
//! use most (OS, distribution, hostname, user), under Ansible's names.

use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};
use stockman_modules::{Args, ModuleError, ModuleResult, Target};

use super::play::PlayRun;
use super::Executor;
use crate::report::{Event, HostResult, Status, TaskHeader, TaskKind};

/// A fixed script (no user input): prints `key=value` lines. Seven programs
/// run; the rest is shell builtins, since on a busy host each exec costs more
/// than everything else the probe does.
const PROBE: &str = r#"set -f; u=$(uname -snrm); set -- $u
printf 'system=%s\nnodename=%s\nkernel=%s\nmachine=%s\n' "$1" "$2" "$3" "$4"
f=$(hostname -f 2>/dev/null) || f=$2; printf 'fqdn=%s\n' "$f"
i=$(LC_ALL=C id); u=${i#uid=}; u=${u%% *}; g=${i#* gid=}; g=${g%% *}; n=${u#*(}
printf 'user_id=%s\nuser_uid=%s\nuser_gid=%s\nuser_dir=%s\nuser_shell=%s\n' "${n%)}" "${u%%(*}" "${g%%(*}" "$HOME" "$SHELL"
[ -d /run/systemd/system ] && echo service_mgr=systemd
command -v apt-get >/dev/null 2>&1 && echo pkg_mgr=apt
[ -r /etc/debian_version ] && read -r v </etc/debian_version && printf 'debian_version=%s\n' "$v"
[ -r /etc/os-release ] && while IFS= read -r l || [ -n "$l" ]; do case $l in [A-Z_]*=*) printf 'os_%s\n' "$l";; esac; done </etc/os-release
[ -r /etc/machine-id ] && read -r v </etc/machine-id && printf 'machine_id=%s\n' "$v"
while read -r k v r; do [ "$k" = MemTotal: ] && printf 'memtotal_kb=%s\n' "$v" && break; done </proc/meminfo
read -r v </sys/devices/system/cpu/online && printf 'cpus_online=%s\n' "$v"
r=$(ip -4 route show default 2>/dev/null); printf 'default_route=%s\n' "${r%%
*}"
ip -4 -o addr show 2>/dev/null | while read -r x d t a r; do [ "$t" = inet ] && printf 'ipv4=%s %s %s\n' "$d" "${a%/*}" "${a#*/}"; done
printf 'now=%s\n' "$(date '+%Y %m %d %H %M %S %s %Z %z %A %w')"
printf 'ENV\n'
env
true"#;

impl Executor<'_> {
    pub(super) async fn gather_facts(&mut self, run: &mut PlayRun<'_>) {
        let mut targets = run.active();
        // gathering = smart: hosts with facts gathered before (this run, or cached) are not asked
        // again; with none left there is no task at all, as in Ansible.
        if self.settings.gathering == crate::config::Gathering::Smart {
            targets.retain(|&h| !self.facts.gathered(&run.hosts[h].name));
            if targets.is_empty() {
                return;
            }
        }
        self.emit(Event::TaskStart(TaskHeader { name: "Gathering Facts".into(), kind: TaskKind::GatherFacts, span: None, hosts: targets.len(), action: None }));
        let results: Vec<(usize, HostResult, Option<Map<String, Value>>)> = {
            let hosts = &run.hosts;
            let this = &*self;
            let mut pending = stream::iter(targets)
                .map(|h| async move {
                    let host = &hosts[h];
                    this.reporter.event(&Event::HostStart { host: host.name.clone() });
                    let started = std::time::Instant::now();
                    let probe = async {
                        let conn = this.connect(host).await.map_err(|e| e.to_string())?;
                        conn.exec(PROBE, None).await.map_err(|e| e.to_string())
                    };
                    let (status, result, facts) = match probe.await {
                        Ok(out) if out.rc == 0 => {
                            let facts = parse_facts(&out.stdout_str());
                            let mut r = Map::new();
                            r.insert("changed".into(), false.into());
                            r.insert("ansible_facts".into(), Value::Object(facts.clone()));
                            (Status::Ok, r, Some(facts))
                        }
                        Ok(out) => (Status::Failed, failure(format!("fact probe failed (rc={}): {}", out.rc, out.stderr_str().trim())), None),
                        Err(msg) => {
                            let mut r = failure(msg);
                            r.insert("unreachable".into(), true.into());
                            (Status::Unreachable, r, None)
                        }
                    };
                    let mut result = HostResult::new(&host.name, status, result);
                    result.duration = Some(started.elapsed());
                    this.reporter.event(&Event::HostResult(result.clone()));
                    (h, result, facts)
                })
                .buffer_unordered(self.settings.forks.max(1));
            let mut all = Vec::new();
            while let Some(r) = pending.next().await {
                all.push(r);
            }
            all
        };
        for (h, result, facts) in results {
            self.stats.record(&result);
            let host = &mut run.hosts[h];
            match (result.status, facts) {
                (_, Some(facts)) => {
                    if let Err(message) = host.set_facts(facts) {
                        self.emit(Event::Warning(message));
                    }
                }
                (Status::Unreachable, _) => host.unreachable = true,
                _ => host.failed = true,
            }
        }
    }
}

/// The `setup` module: the same probe as `gather_facts`, run through the task's
/// target (so `become` and `environment` apply), its facts returned under
/// `ansible_facts` with Ansible's `ansible_` names, narrowed by `filter`.
/// `gather_subset`, `gather_timeout` and `fact_path` are accepted; the probe
/// always collects its one set.
pub(super) async fn setup<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let filters = setup_filters(args.get("filter"))?;
    let out = target.exec(PROBE, None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("fact probe failed (rc={}): {}", out.rc, out.stderr_str().trim())));
    }
    let facts: Map<String, Value> = parse_facts(&out.stdout_str())
        .into_iter()
        .map(|(k, v)| (format!("ansible_{k}"), v))
        .filter(|(k, _)| filters.is_empty() || filters.iter().any(|f| crate::playbook::fnmatch(k, f)))
        .collect();
    Ok(ModuleResult::ok().with("ansible_facts", Value::Object(facts)))
}

/// `filter`: fnmatch patterns on the facts' `ansible_` names (a string or a list).
fn setup_filters(value: Option<&Value>) -> Result<Vec<String>, ModuleError> {
    let patterns: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        Some(Value::Array(items)) => items.iter().map(stockman_modules::args::value_to_string).collect(),
        Some(other) => return Err(ModuleError::BadArgs(format!("`filter` must be a pattern or a list of patterns, got {other}"))),
    };
    Ok(patterns)
}

fn failure(msg: String) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), false.into());
    r.insert("msg".into(), msg.into());
    r
}

/// Turns the probe's lines into Ansible's fact names.
fn parse_facts(output: &str) -> Map<String, Value> {
    let (text, env) = output.split_once("\nENV\n").unwrap_or((output, ""));
    let raw: Map<String, Value> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(v.trim_matches('"').to_string())))
        .collect();
    let get = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut facts = Map::new();
    for key in ["system", "kernel", "nodename", "fqdn", "user_id", "user_dir", "user_shell", "service_mgr", "pkg_mgr"] {
        if raw.contains_key(key) {
            facts.insert(key.into(), get(key).into());
        }
    }
    facts.insert("machine".into(), get("machine").into());
    facts.insert("architecture".into(), get("machine").into());
    facts.insert("hostname".into(), get("nodename").split('.').next().unwrap_or_default().into());
    for key in ["user_uid", "user_gid"] {
        if let Ok(n) = get(key).parse::<u64>() {
            facts.insert(key.into(), n.into());
        }
    }
    let id = get("os_ID");
    let distribution = match id.as_str() {
        "" => get("system"),
        "debian" => "Debian".into(),
        "ubuntu" => "Ubuntu".into(),
        other => capitalize(other),
    };
    let version = if id == "debian" && !get("debian_version").is_empty() { get("debian_version") } else { get("os_VERSION_ID") };
    facts.insert("distribution".into(), distribution.clone().into());
    facts.insert("distribution_version".into(), version.clone().into());
    facts.insert("distribution_major_version".into(), version.split('.').next().unwrap_or_default().into());
    facts.insert("distribution_release".into(), get("os_VERSION_CODENAME").into());
    let like = format!("{id} {}", get("os_ID_LIKE"));
    let family = if like.split_whitespace().any(|w| w == "debian" || w == "ubuntu") { "Debian".to_string() } else { distribution };
    facts.insert("os_family".into(), family.into());
    add_hardware_facts(&mut facts, &get);
    add_network_facts(&mut facts, text, &get("default_route"));
    if let Some(dt) = date_time(&get("now")) {
        facts.insert("date_time".into(), dt);
    }
    facts.insert("env".into(), Value::Object(parse_env(env)));
    facts
}

fn add_hardware_facts(facts: &mut Map<String, Value>, get: &dyn Fn(&str) -> String) {
    if !get("machine_id").is_empty() {
        facts.insert("machine_id".into(), get("machine_id").into());
    }
    if let Ok(kb) = get("memtotal_kb").parse::<u64>() {
        facts.insert("memtotal_mb".into(), (kb / 1024).into());
    }
    if let Some(n) = cpu_count(&get("cpus_online")) {
        facts.insert("processor_vcpus".into(), n.into());
    }
}

/// How many CPUs a kernel CPU list names (`0-3,8,10-11`), as `getconf
/// _NPROCESSORS_ONLN` counts them.
fn cpu_count(list: &str) -> Option<u64> {
    let mut count = 0;
    for part in list.trim().split(',') {
        count += match part.split_once('-') {
            Some((first, last)) => last.parse::<u64>().ok()?.checked_sub(first.parse().ok()?)? + 1,
            None => part.parse::<u64>().map(|_| 1).ok()?,
        };
    }
    (count > 0).then_some(count)
}

/// `ansible_default_ipv4` (from the default route) and `ansible_all_ipv4_addresses`.
fn add_network_facts(facts: &mut Map<String, Value>, text: &str, default_route: &str) {
    let addresses: Vec<(String, String, u32)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("ipv4="))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((parts.next()?.to_string(), parts.next()?.to_string(), parts.next()?.parse().ok()?))
        })
        .collect();
    let all: Vec<Value> = addresses.iter().filter(|(_, a, _)| !a.starts_with("127.")).map(|(_, a, _)| Value::String(a.clone())).collect();
    facts.insert("all_ipv4_addresses".into(), Value::Array(all));
    let words: Vec<&str> = default_route.split_whitespace().collect();
    let after = |key: &str| words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1)).map(|s| s.to_string());
    let mut default = Map::new();
    if let Some(interface) = after("dev") {
        if let Some((_, address, prefix)) = addresses.iter().find(|(i, _, _)| *i == interface) {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            let ip: std::net::Ipv4Addr = address.parse().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
            default.insert("address".into(), address.clone().into());
            default.insert("prefix".into(), prefix.to_string().into());
            default.insert("netmask".into(), std::net::Ipv4Addr::from(mask).to_string().into());
            default.insert("network".into(), std::net::Ipv4Addr::from(u32::from(ip) & mask).to_string().into());
        }
        default.insert("interface".into(), interface.clone().into());
        default.insert("alias".into(), interface.into());
        if let Some(gateway) = after("via") {
            default.insert("gateway".into(), gateway.into());
        }
    }
    facts.insert("default_ipv4".into(), Value::Object(default));
}

/// `ansible_date_time` from `date '+%Y %m %d %H %M %S %s %Z %z %A %w'`.
fn date_time(now: &str) -> Option<Value> {
    let p: Vec<&str> = now.split_whitespace().collect();
    let [year, month, day, hour, minute, second, epoch, tz, offset, weekday, weekday_number] = p.as_slice() else { return None };
    Some(serde_json::json!({
        "year": year, "month": month, "day": day, "hour": hour, "minute": minute, "second": second,
        "epoch": epoch, "epoch_int": epoch, "date": format!("{year}-{month}-{day}"), "time": format!("{hour}:{minute}:{second}"),
        "iso8601": format!("{year}-{month}-{day}T{hour}:{minute}:{second}Z"), "tz": tz, "tz_offset": offset,
        "weekday": weekday, "weekday_number": weekday_number,
    }))
}

/// `env` output: NAME=value lines (a value's own newlines continue it).
fn parse_env(text: &str) -> Map<String, Value> {
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

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_facts_use_ansible_names() {
        let facts = parse_facts("system=Linux\nmachine=x86_64\nnodename=web1.example.com\nos_ID=debian\nos_VERSION_ID=\"12\"\nos_VERSION_CODENAME=bookworm\ndebian_version=12.5\nuser_uid=0\n");
        assert_eq!(facts["distribution"], "Debian");
        assert_eq!(facts["distribution_version"], "12.5");
        assert_eq!(facts["distribution_major_version"], "12");
        assert_eq!(facts["os_family"], "Debian");
        assert_eq!(facts["hostname"], "web1");
        assert_eq!(facts["user_uid"], 0);
    }

    #[test]
    fn cpu_lists_count_like_getconf() {
        assert_eq!(cpu_count("0"), Some(1));
        assert_eq!(cpu_count("0-3,8,10-11\n"), Some(7));
        assert_eq!(cpu_count(""), None);
        assert_eq!(cpu_count("3-1"), None);
    }

    #[test]
    fn network_hardware_time_and_env_facts() {
        let out = "memtotal_kb=2048000\ncpus_online=0-1\nmachine_id=abc\ndefault_route=default via 10.0.0.1 dev eth0 proto static\n\
                   ipv4=lo 127.0.0.1 8\nipv4=eth0 10.0.0.11 16\nnow=2026 11 22 02 31 05 1795314665 UTC +0000 Sunday 0\nENV\nHOME=/root\nX=a\nb\n";
        let facts = parse_facts(out);
        assert_eq!(facts["memtotal_mb"], 2000);
        assert_eq!(facts["processor_vcpus"], 2);
        assert_eq!(facts["default_ipv4"]["address"], "10.0.0.11");
        assert_eq!(facts["default_ipv4"]["gateway"], "10.0.0.1");
        assert_eq!(facts["default_ipv4"]["netmask"], "255.255.0.0");
        assert_eq!(facts["default_ipv4"]["network"], "10.0.0.0");
        assert_eq!(facts["all_ipv4_addresses"], serde_json::json!(["10.0.0.11"]));
        assert_eq!(facts["date_time"]["date"], "2026-11-22");
        assert_eq!(facts["env"]["HOME"], "/root");
        assert_eq!(facts["env"]["X"], "a\nb");
    }
}
