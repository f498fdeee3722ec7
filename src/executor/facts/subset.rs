//! `gather_subset`: which of Ansible's fact collectors run, resolved as
//! ansible-core 2.19 resolves it (`min` always joins unless `!min`; `!all`
//! leaves `min`; an explicit name beats an exclusion).

use std::collections::BTreeSet;

/// The collectors stockman implements, under Ansible's subset names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Collector {
    Apparmor,
    Cmdline,
    DateTime,
    Distribution,
    Dns,
    Env,
    Fips,
    Local,
    Lsb,
    PkgMgr,
    Platform,
    Python,
    Selinux,
    ServiceMgr,
    SshPubKeys,
    User,
    Chroot,
    Loadavg,
    Systemd,
    Hardware,
    Network,
    Virtual,
}

use Collector::*;

/// Ansible's `minimal_gather_subset`.
const MINIMAL: &[Collector] = &[Apparmor, Cmdline, DateTime, Distribution, Dns, Env, Fips, Local, Lsb, PkgMgr, Platform, Python, Selinux, ServiceMgr, SshPubKeys, User];
const REST: &[Collector] = &[Chroot, Loadavg, Systemd, Hardware, Network, Virtual];

/// Subset names Ansible accepts that gather nothing here: `caps` needs capsh,
/// `facter` and `ohai` need those tools (see README).
const ACCEPTED_EMPTY: &[&str] = &["caps", "facter", "ohai"];

fn named(name: &str) -> Option<Collector> {
    Some(match name {
        "apparmor" => Apparmor,
        "cmdline" => Cmdline,
        "date_time" => DateTime,
        "distribution" => Distribution,
        "dns" => Dns,
        "env" => Env,
        "fips" => Fips,
        "local" => Local,
        "lsb" => Lsb,
        "pkg_mgr" => PkgMgr,
        "platform" => Platform,
        "python" => Python,
        "selinux" => Selinux,
        "service_mgr" => ServiceMgr,
        "ssh_pub_keys" => SshPubKeys,
        "user" => User,
        "chroot" => Chroot,
        "loadavg" => Loadavg,
        "systemd" => Systemd,
        "hardware" | "devices" | "dmi" | "mounts" => Hardware,
        "network" | "interfaces" => Network,
        "virtual" => Virtual,
        _ => return None,
    })
}

/// Resolves a `gather_subset` list; an unknown name is an error naming the
/// valid ones (as Ansible's "Bad subset").
pub fn resolve(subsets: &[String]) -> Result<BTreeSet<Collector>, String> {
    let all: BTreeSet<Collector> = MINIMAL.iter().chain(REST).copied().collect();
    let minimal: BTreeSet<Collector> = MINIMAL.iter().copied().collect();
    let mut added: BTreeSet<Collector> = minimal.clone();
    let mut excluded = BTreeSet::new();
    let mut explicit = BTreeSet::new();
    let given: Vec<&str> = if subsets.is_empty() { vec!["all"] } else { subsets.iter().map(|s| s.trim()).collect() };
    for subset in given {
        match subset {
            "min" => added.extend(&minimal),
            "all" => added.extend(&all),
            "!min" => excluded.extend(&minimal),
            "!all" => excluded.extend(all.difference(&minimal)),
            _ => {
                let (name, exclude) = match subset.strip_prefix('!') {
                    Some(name) => (name, true),
                    None => (subset, false),
                };
                match named(name) {
                    Some(c) if exclude => {
                        excluded.insert(c);
                    }
                    Some(c) => {
                        explicit.insert(c);
                        added.insert(c);
                    }
                    None if ACCEPTED_EMPTY.contains(&name) || exclude => {}
                    None => return Err(format!("Bad subset '{name}' given to Ansible. gather_subset options allowed: all, {}", valid_names())),
                }
            }
        }
    }
    Ok(added.into_iter().filter(|c| !excluded.contains(c) || explicit.contains(c)).collect())
}

fn valid_names() -> String {
    let mut names = vec![
        "apparmor", "caps", "chroot", "cmdline", "date_time", "devices", "distribution", "dmi", "dns", "env", "facter", "fips", "hardware", "interfaces", "loadavg", "local", "lsb",
        "min", "mounts", "network", "ohai", "pkg_mgr", "platform", "python", "selinux", "service_mgr", "ssh_pub_keys", "systemd", "user", "virtual",
    ];
    names.sort_unstable();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subset(names: &[&str]) -> BTreeSet<Collector> {
        resolve(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn subsets_resolve_as_ansible() {
        assert!(subset(&[]).contains(&Network));
        assert_eq!(subset(&["!all"]), MINIMAL.iter().copied().collect());
        assert_eq!(subset(&["min"]), MINIMAL.iter().copied().collect());
        let network = subset(&["!all", "network"]);
        assert!(network.contains(&Network) && network.contains(&Platform) && !network.contains(&Hardware));
        assert!(subset(&["!all", "!min"]).is_empty());
        assert_eq!(subset(&["!all", "!min", "env"]), [Env].into_iter().collect());
        assert!(!subset(&["all", "!hardware", "!facter"]).contains(&Hardware));
        assert!(resolve(&["bogus".to_string()]).unwrap_err().contains("Bad subset 'bogus'"));
    }
}
