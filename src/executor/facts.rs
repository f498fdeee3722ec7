//! `gather_facts`: one probe command per host collecting the facts playbooks
//! use most (OS, distribution, hostname, user), under Ansible's names.

use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};
use stockman_modules::Target;

use super::play::PlayRun;
use super::Executor;
use crate::report::{Event, HostResult, Status, TaskHeader, TaskKind};

/// A fixed script (no user input): prints `key=value` lines.
const PROBE: &str = r#"printf 'system=%s\nkernel=%s\nmachine=%s\nnodename=%s\n' "$(uname -s)" "$(uname -r)" "$(uname -m)" "$(uname -n)"
printf 'fqdn=%s\n' "$(hostname -f 2>/dev/null || uname -n)"
printf 'user_id=%s\nuser_uid=%s\nuser_gid=%s\nuser_dir=%s\nuser_shell=%s\n' "$(id -un)" "$(id -u)" "$(id -g)" "$HOME" "$SHELL"
[ -d /run/systemd/system ] && echo service_mgr=systemd
command -v apt-get >/dev/null 2>&1 && echo pkg_mgr=apt
[ -r /etc/debian_version ] && printf 'debian_version=%s\n' "$(cat /etc/debian_version)"
[ -r /etc/os-release ] && sed -n 's/^\([A-Z_]*\)=\(.*\)$/os_\1=\2/p' /etc/os-release
true"#;

impl Executor<'_> {
    pub(super) async fn gather_facts(&mut self, run: &mut PlayRun<'_>) {
        let targets = run.active();
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
                (_, Some(facts)) => host.set_facts(facts),
                (Status::Unreachable, _) => host.unreachable = true,
                _ => host.failed = true,
            }
        }
    }
}

fn failure(msg: String) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), false.into());
    r.insert("msg".into(), msg.into());
    r
}

/// Turns the probe's lines into Ansible's fact names.
fn parse_facts(text: &str) -> Map<String, Value> {
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
    facts
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
}
