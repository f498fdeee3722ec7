//! `hardware`, `virtual`, `loadavg` and `chroot`: memory, processors,
//! mounts with their sizes, uptime, DMI, virtualization, from files the probe
//! read in one program plus one `stat -f` of every mount.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::probe::Output;
use super::subset::Collector::{self, *};

pub fn collect(out: &Output, has: &dyn Fn(Collector) -> bool, facts: &mut Map<String, Value>) {
    if has(Hardware) {
        memory(out.file("/proc/meminfo").unwrap_or_default(), facts);
        processors(out, facts);
        facts.insert("mounts".into(), Value::Array(mounts(out)));
        if let Some(up) = out.file("/proc/uptime").and_then(|u| u.split_whitespace().next()?.parse::<f64>().ok()) {
            facts.insert("uptime_seconds".into(), (up as u64).into());
        }
        dmi(out, facts);
        storage_ids(out, facts);
    }
    if has(Virtual) {
        virtualization(out, facts);
    }
    if has(Loadavg) {
        if let Some(l) = out.file("/proc/loadavg") {
            let n: Vec<f64> = l.split_whitespace().take(3).filter_map(|v| v.parse().ok()).collect();
            if let [one, five, fifteen] = n.as_slice() {
                facts.insert("loadavg".into(), json!({"1m": one, "5m": five, "15m": fifteen}));
            }
        }
    }
}

fn memory(meminfo: &str, facts: &mut Map<String, Value>) {
    let mb: BTreeMap<&str, u64> = meminfo
        .lines()
        .filter_map(|l| {
            let (key, rest) = l.split_once(':')?;
            Some((key, rest.split_whitespace().next()?.parse::<u64>().ok()? / 1024))
        })
        .collect();
    let get = |k: &str| mb.get(k).copied().unwrap_or(0);
    if mb.is_empty() {
        return;
    }
    let (total, free, swap_total, swap_free) = (get("MemTotal"), get("MemFree"), get("SwapTotal"), get("SwapFree"));
    facts.insert("memtotal_mb".into(), total.into());
    facts.insert("memfree_mb".into(), free.into());
    facts.insert("swaptotal_mb".into(), swap_total.into());
    facts.insert("swapfree_mb".into(), swap_free.into());
    let nocache_free = free + get("Buffers") + get("Cached");
    facts.insert(
        "memory_mb".into(),
        json!({
            "real": {"total": total, "used": total.saturating_sub(free), "free": free},
            "nocache": {"free": nocache_free, "used": total.saturating_sub(nocache_free)},
            "swap": {"total": swap_total, "free": swap_free, "used": swap_total.saturating_sub(swap_free), "cached": get("SwapCached")},
        }),
    );
}

/// /proc/cpuinfo counted as Ansible counts it (sockets by `physical id`,
/// cores from the first socket's `cpu cores`, threads from `siblings`).
fn processors(out: &Output, facts: &mut Map<String, Value>) {
    let Some(cpuinfo) = out.file("/proc/cpuinfo") else { return };
    let mut processor = Vec::new();
    let mut sockets: Vec<(String, u64)> = Vec::new();
    let mut siblings: Vec<(String, u64)> = Vec::new();
    let (mut physid, mut coreid) = (String::new(), String::new());
    let mut occurrences = 0u64;
    let mut flags: Option<Vec<Value>> = None;
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let (key, value) = (key.trim(), value.trim());
        let set = |list: &mut Vec<(String, u64)>, id: &str, n: u64, replace: bool| match list.iter_mut().find(|(k, _)| k == id) {
            Some(entry) if replace => entry.1 = n,
            Some(_) => {}
            None => list.push((id.to_string(), n)),
        };
        match key {
            "model name" | "Processor" | "vendor_id" | "cpu" | "Vendor" | "processor" => {
                processor.push(Value::String(value.to_string()));
                if key == "processor" {
                    occurrences += 1;
                }
            }
            "flags" | "Features" if flags.is_none() => flags = Some(value.split_whitespace().map(|f| Value::String(f.to_string())).collect::<Vec<_>>()),
            "physical id" => {
                physid = value.to_string();
                set(&mut sockets, &physid, 1, false);
            }
            "core id" => {
                coreid = value.to_string();
                set(&mut siblings, &coreid, 1, false);
            }
            "cpu cores" => set(&mut sockets, &physid.clone(), value.parse().unwrap_or(1), true),
            "siblings" => set(&mut siblings, &coreid.clone(), value.parse().unwrap_or(1), true),
            _ => {}
        }
    }
    let count = if sockets.is_empty() { occurrences } else { sockets.len() as u64 };
    let cores = sockets.first().map(|s| s.1).filter(|c| *c > 0).unwrap_or(1);
    let threads = siblings.first().map(|s| s.1).unwrap_or(1) / cores;
    facts.insert("processor".into(), Value::Array(processor));
    if let Some(flags) = flags {
        facts.insert("flags".into(), flags.into());
    }
    facts.insert("processor_count".into(), count.into());
    facts.insert("processor_cores".into(), cores.into());
    facts.insert("processor_threads_per_core".into(), threads.into());
    facts.insert("processor_vcpus".into(), (threads * cores * count).into());
    let allowed = out.file("/proc/self/status").unwrap_or_default().lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).and_then(cpu_count);
    facts.insert("processor_nproc".into(), allowed.unwrap_or(occurrences).into());
}

/// How many CPUs a kernel CPU list names (`0-3,8,10-11`).
pub fn cpu_count(list: &str) -> Option<u64> {
    let mut count = 0;
    for part in list.trim().split(',') {
        count += match part.split_once('-') {
            Some((first, last)) => last.parse::<u64>().ok()?.checked_sub(first.parse().ok()?)? + 1,
            None => part.parse::<u64>().map(|_| 1).ok()?,
        };
    }
    (count > 0).then_some(count)
}

/// `\040`-style escapes of /proc/mounts decoded.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal.and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok()) {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `ansible_mounts`: block devices and network shares of /proc/mounts, with
/// statvfs sizes, `bind` added where the mount's root is not its
/// filesystem's (what findmnt shows as `dev[/dir]`), and by-uuid UUIDs.
fn mounts(out: &Output) -> Vec<Value> {
    let binds: BTreeSet<String> = out
        .file("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 4 && f[3] != "/").then(|| unescape(f[4]))
        })
        .collect();
    let sizes = statfs(out.section("statfs"));
    let uuids = uuids(out.section("links"));
    let mut list = Vec::new();
    for line in out.file("/proc/mounts").unwrap_or_default().lines() {
        let f: Vec<String> = line.split_whitespace().map(unescape).collect();
        let [device, mount, fstype, options, dump, passno] = f.as_slice() else { continue };
        if (!device.starts_with(['/', '\\']) && !device.contains(":/")) || fstype == "none" {
            continue;
        }
        let mut options = options.clone();
        if binds.contains(mount) && !options.contains("bind") {
            options.push_str(",bind");
        }
        let mut entry = json!({
            "mount": mount, "device": device, "fstype": fstype, "options": options,
            "dump": dump.parse::<u64>().unwrap_or(0), "passno": passno.parse::<u64>().unwrap_or(0),
        });
        if let (Some(size), Value::Object(e)) = (sizes.get(mount.as_str()), &mut entry) {
            e.extend(size.clone());
        }
        let name = device.rsplit('/').next().unwrap_or_default();
        entry["uuid"] = uuids.get(name).cloned().unwrap_or_else(|| "N/A".into()).into();
        // Over-mounted points: the last entry wins, at the first one's place (a Python dict).
        match list.iter_mut().find(|e: &&mut Value| e["mount"] == entry["mount"]) {
            Some(earlier) => *earlier = entry,
            None => list.push(entry),
        }
    }
    list
}

/// `stat -f -c '%s %S %b %f %a %c %d %n'` lines into Ansible's size keys.
fn statfs(text: &str) -> BTreeMap<String, Map<String, Value>> {
    let mut sizes = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(8, ' ');
        let numbers: Vec<u64> = parts.by_ref().take(7).filter_map(|n| n.parse().ok()).collect();
        let (Some(name), [bsize, frsize, blocks, _bfree, bavail, files, ffree]) = (parts.next(), numbers.as_slice()) else { continue };
        let mut m = Map::new();
        m.insert("size_total".into(), (frsize * blocks).into());
        m.insert("size_available".into(), (frsize * bavail).into());
        m.insert("block_size".into(), (*bsize).into());
        m.insert("block_total".into(), (*blocks).into());
        m.insert("block_available".into(), (*bavail).into());
        m.insert("block_used".into(), blocks.saturating_sub(*bavail).into());
        m.insert("inode_total".into(), (*files).into());
        m.insert("inode_available".into(), (*ffree).into());
        m.insert("inode_used".into(), files.saturating_sub(*ffree).into());
        sizes.insert(name.to_string(), m);
    }
    sizes
}

/// `ls -ld /dev/disk/by-uuid/*`: device name → UUID.
fn uuids(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let (left, target) = l.split_once(" -> ")?;
            let uuid = left.rsplit(' ').next()?.strip_prefix("/dev/disk/by-uuid/")?;
            Some((target.rsplit('/').next()?.to_string(), uuid.to_string()))
        })
        .collect()
}

const DMI: &[(&str, &str)] = &[
    ("bios_date", "bios_date"), ("bios_vendor", "bios_vendor"), ("bios_version", "bios_version"), ("board_asset_tag", "board_asset_tag"),
    ("board_name", "board_name"), ("board_serial", "board_serial"), ("board_vendor", "board_vendor"), ("board_version", "board_version"),
    ("chassis_asset_tag", "chassis_asset_tag"), ("chassis_serial", "chassis_serial"), ("chassis_vendor", "chassis_vendor"),
    ("chassis_version", "chassis_version"), ("product_name", "product_name"), ("product_serial", "product_serial"),
    ("product_uuid", "product_uuid"), ("product_version", "product_version"), ("system_vendor", "sys_vendor"),
];

const FORM_FACTOR: &[&str] = &[
    "Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower", "Portable", "Laptop", "Notebook",
    "Hand Held", "Docking Station", "All In One", "Sub Notebook", "Space-saving", "Lunch Box", "Main Server Chassis", "Expansion Chassis",
    "Sub Chassis", "Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC", "Multi-system",
    "CompactPCI", "AdvancedTCA", "Blade", "Blade Enclosure", "Tablet", "Convertible", "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC",
];

/// NVMe host NQN, iSCSI initiator name, Fibre Channel WWNs, and `lvm`
/// (`N/A` without the LVM tools, as Ansible reports it).
fn storage_ids(out: &Output, facts: &mut Map<String, Value>) {
    facts.insert("hostnqn".into(), out.file("/etc/nvme/hostnqn").map(str::trim).unwrap_or_default().into());
    let iqn = out.file("/etc/iscsi/initiatorname.iscsi").unwrap_or_default().lines().find_map(|l| l.trim().strip_prefix("InitiatorName=")).unwrap_or_default();
    facts.insert("iscsi_iqn".into(), iqn.trim().into());
    let wwns: Vec<Value> = out.files.iter().filter(|(p, _)| p.starts_with("/sys/class/fc_host/")).map(|(_, v)| Value::String(v.trim().trim_start_matches("0x").to_string())).collect();
    facts.insert("fibre_channel_wwn".into(), wwns.into());
    if !out.section("tools").lines().any(|t| t == "vgs") {
        facts.insert("lvm".into(), "N/A".into());
    }
}

fn dmi_value(out: &Output, file: &str) -> Option<String> {
    out.file(&format!("/sys/class/dmi/id/{file}")).map(|v| v.trim().to_string())
}

fn dmi(out: &Output, facts: &mut Map<String, Value>) {
    for (fact, file) in DMI {
        facts.insert(fact.to_string(), dmi_value(out, file).unwrap_or_else(|| "NA".into()).into());
    }
    let form = dmi_value(out, "chassis_type").map(|t| t.parse::<usize>().ok().and_then(|i| FORM_FACTOR.get(i)).map_or("unknown", |f| f).to_string());
    facts.insert("form_factor".into(), form.unwrap_or_else(|| "NA".into()).into());
}

/// Ansible's container checks in its order, then a DMI table of hypervisors.
fn virtualization(out: &Output, facts: &mut Map<String, Value>) {
    let mut guest: BTreeSet<String> = BTreeSet::new();
    let mut host: BTreeSet<String> = BTreeSet::new();
    let mut found: Option<(String, &str)> = None;
    let mut saw = |tech: &str, kind: &str, role: &'static str, set: &mut BTreeSet<String>| {
        set.insert(tech.to_string());
        found.get_or_insert((kind.to_string(), role));
    };
    for line in out.file("/proc/1/cgroup").unwrap_or_default().lines() {
        if line.contains("/docker/") || (line.contains("/docker-") && line.ends_with(".scope")) {
            saw("docker", "docker", "guest", &mut guest);
        }
        if line.contains("/lxc/") || line.contains("/machine.slice/machine-lxc") {
            saw("lxc", "lxc", "guest", &mut guest);
        }
        if line.contains("/system.slice/containerd.service") {
            saw("containerd", "containerd", "guest", &mut guest);
        }
    }
    for var in out.file("/proc/1/environ").unwrap_or_default().split('\0') {
        if var.contains("container=lxc") {
            saw("lxc", "lxc", "guest", &mut guest);
        }
        if var.contains("container=podman") {
            saw("podman", "podman", "guest", &mut guest);
        }
        if var.strip_prefix("container=").is_some_and(|v| !v.is_empty()) {
            saw("container", "container", "guest", &mut guest);
        }
    }
    if out.file("/proc/vz/version").is_some() && out.file("/proc/lve/list").is_none() {
        if out.file("/proc/bc/0/resources").is_some() {
            saw("openvz", "openvz", "host", &mut host);
        } else {
            saw("openvz", "openvz", "guest", &mut guest);
        }
    }
    let systemd_container = out.file("/run/systemd/container").map(str::trim).unwrap_or_default().to_string();
    if !systemd_container.is_empty() {
        saw(&systemd_container, &systemd_container, "guest", &mut guest);
    }
    if out.section("tools").lines().any(|l| l == "dockerenv") {
        saw("docker", "docker", "guest", &mut guest);
    }
    if !systemd_container.is_empty() || ["docker", "lxc", "podman", "openvz", "containerd"].iter().any(|t| guest.contains(*t)) {
        guest.insert("container".into());
    }
    let product = dmi_value(out, "product_name").unwrap_or_default();
    let vendor = dmi_value(out, "sys_vendor").unwrap_or_default();
    let bios = dmi_value(out, "bios_vendor").unwrap_or_default();
    let hypervisor = if ["KVM", "KVM Server", "Bochs", "AHV", "CloudStack KVM Hypervisor"].contains(&product.as_str())
        || ["Amazon EC2", "DigitalOcean", "Hetzner", "Linode"].contains(&bios.as_str())
        || ["QEMU", "Amazon EC2", "DigitalOcean", "Google", "Scaleway", "Nutanix"].contains(&vendor.as_str())
    {
        Some("kvm")
    } else if product.starts_with("VMware") {
        Some("VMware")
    } else if bios == "Xen" {
        Some("xen")
    } else if bios == "innotek GmbH" {
        Some("virtualbox")
    } else if vendor == "Microsoft Corporation" {
        Some("VirtualPC")
    } else if ["OpenStack Compute", "OpenStack Nova"].contains(&product.as_str()) || vendor == "OpenStack Foundation" {
        Some("openstack")
    } else {
        None
    };
    if let Some(h) = hypervisor {
        saw(h, h, "guest", &mut guest);
    }
    let (kind, role) = found.unwrap_or_else(|| ("NA".into(), "NA"));
    facts.insert("virtualization_type".into(), kind.into());
    facts.insert("virtualization_role".into(), role.into());
    facts.insert("virtualization_tech_guest".into(), guest.into_iter().collect::<Vec<_>>().into());
    facts.insert("virtualization_tech_host".into(), host.into_iter().collect::<Vec<_>>().into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_count_like_getconf() {
        assert_eq!(cpu_count("0"), Some(1));
        assert_eq!(cpu_count("0-3,8,10-11\n"), Some(7));
        assert_eq!(cpu_count(""), None);
        assert_eq!(cpu_count("3-1"), None);
    }

    #[test]
    fn mount_sizes_and_escapes() {
        assert_eq!(unescape("/mnt/a\\040b"), "/mnt/a b");
        let sizes = statfs("4096 4096 100 40 30 1000 900 /mnt/a b\n");
        assert_eq!(sizes["/mnt/a b"]["size_total"], 409_600);
        assert_eq!(sizes["/mnt/a b"]["size_available"], 122_880);
        assert_eq!(sizes["/mnt/a b"]["block_used"], 70);
        assert_eq!(sizes["/mnt/a b"]["inode_used"], 100);
        assert_eq!(uuids("lrwxrwxrwx 1 root root 10 Dec  1 /dev/disk/by-uuid/a-b-c -> ../../sda1\n")["sda1"], "a-b-c");
    }

    #[test]
    fn memory_as_ansible_computes_it() {
        let mut f = Map::new();
        memory("MemTotal: 2048000 kB\nMemFree: 1024000 kB\nBuffers: 10240 kB\nCached: 102400 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n", &mut f);
        assert_eq!(f["memtotal_mb"], 2000);
        assert_eq!(f["memory_mb"]["nocache"]["free"], 1000 + 10 + 100);
    }
}
