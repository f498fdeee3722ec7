//! `network`: interfaces from /sys/class/net (as Ansible reads them),
//! addresses from one `ip addr show`, default routes from `ip route get`.

use std::net::Ipv4Addr;

use serde_json::{json, Map, Value};

use super::probe::Output;

const INTERFACE_TYPES: &[(&str, &str)] = &[("1", "ether"), ("32", "infiniband"), ("512", "ppp"), ("772", "loopback"), ("65534", "tunnel")];

/// The addresses Ansible asks the routing table about (Google's DNS, ipv6.google.com).
const V4_PROBE: &str = "8.8.8.8";
const V6_PROBE: &str = "2404:6800:400a:800::1012";

pub fn collect(out: &Output, facts: &mut Map<String, Value>) {
    let ip = out.section("ip");
    let route_line = |asked: &str| ip.lines().find(|l| l.split_whitespace().next() == Some(asked)).unwrap_or_default();
    let mut default_v4 = route(route_line(V4_PROBE), V4_PROBE);
    let mut default_v6 = route(route_line(V6_PROBE), V6_PROBE);
    let links = out.section("links");
    let names: Vec<String> = links
        .lines()
        .filter_map(|l| l.rsplit(' ').next()?.strip_prefix("/sys/class/net/")?.strip_suffix('/'))
        .map(str::to_string)
        .collect();
    let mut interfaces: Map<String, Value> = Map::new();
    for name in &names {
        interfaces.insert(name.clone(), Value::Object(interface(out, links, name)));
    }
    // `ip -batch` prints the routes after the addresses: each starts with the address asked for.
    let addr_show: String = ip.lines().take_while(|l| ![V4_PROBE, V6_PROBE].contains(&l.split_whitespace().next().unwrap_or_default())).map(|l| format!("{l}\n")).collect();
    let (all_v4, all_v6) = addresses(&addr_show, &mut interfaces, &mut default_v4, &mut default_v6);
    facts.insert("interfaces".into(), names.iter().map(|n| Value::String(n.clone())).collect::<Vec<_>>().into());
    for (name, value) in interfaces {
        facts.insert(name.replace([':', '-'], "_"), value);
    }
    facts.insert("default_ipv4".into(), Value::Object(default_v4));
    facts.insert("default_ipv6".into(), Value::Object(default_v6));
    facts.insert("all_ipv4_addresses".into(), all_v4.into());
    facts.insert("all_ipv6_addresses".into(), all_v6.into());
}

/// `ip route get ADDR`: interface, source address and gateway, if the first
/// word is the address asked for.
fn route(text: &str, asked: &str) -> Map<String, Value> {
    let mut r = Map::new();
    let words: Vec<&str> = text.lines().next().unwrap_or_default().split_whitespace().collect();
    if words.first() != Some(&asked) {
        return r;
    }
    for pair in words.windows(2) {
        match pair[0] {
            "dev" => r.insert("interface".into(), pair[1].into()),
            "src" => r.insert("address".into(), pair[1].into()),
            "via" if pair[1] != asked => r.insert("gateway".into(), pair[1].into()),
            _ => None,
        };
    }
    r
}

fn interface(out: &Output, links: &str, name: &str) -> Map<String, Value> {
    let read = |file: &str| out.file(&format!("/sys/class/net/{name}/{file}")).map(|v| v.trim().to_string());
    let link = |file: &str| {
        let prefix = format!("/sys/class/net/{name}/{file} -> ");
        links.lines().find_map(|l| l.split_once(&prefix).map(|(_, t)| t.rsplit('/').next().unwrap_or_default().to_string()))
    };
    let mut i = Map::new();
    i.insert("device".into(), name.into());
    if let Some(mac) = read("address").filter(|m| !m.is_empty() && m != "00:00:00:00:00:00") {
        i.insert("macaddress".into(), mac.into());
    }
    if let Some(mtu) = read("mtu").and_then(|m| m.parse::<u64>().ok()) {
        i.insert("mtu".into(), mtu.into());
    }
    if let Some(state) = read("operstate") {
        i.insert("active".into(), (state != "down").into());
    }
    if let Some(module) = link("device/driver/module") {
        i.insert("module".into(), module.into());
    }
    if let Some(t) = read("type") {
        i.insert("type".into(), INTERFACE_TYPES.iter().find(|(k, _)| *k == t).map_or("unknown", |(_, v)| v).into());
    }
    if let Some(id) = read("bridge/bridge_id") {
        let members: Vec<Value> = links.lines().filter_map(|l| l.split_once(" -> ")?.0.rsplit_once(&format!("/sys/class/net/{name}/brif/"))).map(|(_, m)| Value::String(m.to_string())).collect();
        i.insert("type".into(), "bridge".into());
        i.insert("interfaces".into(), members.into());
        i.insert("id".into(), id.into());
        if let Some(stp) = read("bridge/stp_state") {
            i.insert("stp".into(), (stp == "1").into());
        }
    }
    if let Some(slaves) = read("bonding/slaves") {
        let first = |f: &str| read(f).unwrap_or_default().split_whitespace().next().unwrap_or_default().to_string();
        i.insert("type".into(), "bonding".into());
        i.insert("slaves".into(), slaves.split_whitespace().collect::<Vec<_>>().into());
        i.insert("mode".into(), first("bonding/mode").into());
        i.insert("miimon".into(), first("bonding/miimon").into());
        i.insert("lacp_rate".into(), first("bonding/lacp_rate").into());
        if let Some(primary) = read("bonding/primary").filter(|p| !p.is_empty()) {
            i.insert("primary".into(), primary.into());
        }
    }
    if let Some(perm) = read("bonding_slave/perm_hwaddr") {
        i.insert("perm_macaddress".into(), perm.into());
    }
    if let Some(pci) = link("device") {
        i.insert("pciid".into(), pci.into());
    }
    if let Some(speed) = read("speed").and_then(|s| s.parse::<i64>().ok()) {
        i.insert("speed".into(), speed.into());
    }
    if let Some(flags) = read("flags").and_then(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).ok()) {
        i.insert("promisc".into(), (flags & 0x100 != 0).into());
    }
    i
}

fn ipv4(address: &str, prefix: &str, broadcast: &str) -> Option<Map<String, Value>> {
    let ip: Ipv4Addr = address.parse().ok()?;
    let bits: u32 = prefix.parse().ok().filter(|b| *b <= 32)?;
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    let mut m = Map::new();
    m.insert("address".into(), address.into());
    m.insert("broadcast".into(), broadcast.into());
    m.insert("netmask".into(), Ipv4Addr::from(mask).to_string().into());
    m.insert("network".into(), Ipv4Addr::from(u32::from(ip) & mask).to_string().into());
    m.insert("prefix".into(), prefix.into());
    Some(m)
}

/// `ip addr show`: each device's inet/inet6 lines, the first primary IPv4
/// address as `ipv4`, the others (and `secondary` ones) in
/// `ipv4_secondaries`; the default routes' details filled in.
fn addresses(text: &str, interfaces: &mut Map<String, Value>, v4: &mut Map<String, Value>, v6: &mut Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let (mut all_v4, mut all_v6) = (Vec::new(), Vec::new());
    let mut device = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') {
            if let Some(name) = line.split(": ").nth(1) {
                device = name.split('@').next().unwrap_or_default().to_string();
            }
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let entry = interfaces.entry(device.clone()).or_insert_with(|| json!({})).as_object_mut().expect("object");
        match words.first() {
            Some(&"inet") if words.len() > 1 => {
                let (address, prefix) = words[1].split_once('/').unwrap_or((words[1], "32"));
                let broadcast = if words.get(2) == Some(&"brd") { words.get(3).copied().unwrap_or_default() } else { "" };
                let Some(info) = ipv4(address, prefix, broadcast) else { continue };
                if !words.contains(&"secondary") && !entry.contains_key("ipv4") {
                    entry.insert("ipv4".into(), Value::Object(info.clone()));
                } else if let Value::Array(list) = entry.entry("ipv4_secondaries").or_insert_with(|| json!([])) {
                    list.push(Value::Object(info.clone()));
                }
                if v4.get("address").and_then(Value::as_str) == Some(address) {
                    for key in ["broadcast", "netmask", "network", "prefix"] {
                        v4.insert(key.into(), info[key].clone());
                    }
                    v4.insert("macaddress".into(), entry.get("macaddress").cloned().unwrap_or_else(|| "unknown".into()));
                    v4.insert("mtu".into(), entry.get("mtu").cloned().unwrap_or(Value::Null));
                    v4.insert("type".into(), entry.get("type").cloned().unwrap_or_else(|| "unknown".into()));
                    v4.insert("alias".into(), words.last().copied().unwrap_or_default().into());
                }
                if !address.starts_with("127.") {
                    all_v4.push(address.to_string());
                }
            }
            Some(&"inet6") if words.len() > 3 => {
                let (address, prefix, scope) = if words[2] == "peer" {
                    (words[1], words[3].split_once('/').map_or("", |(_, p)| p), words.get(5).copied().unwrap_or_default())
                } else {
                    let (a, p) = words[1].split_once('/').unwrap_or((words[1], ""));
                    (a, p, words[3])
                };
                if let Value::Array(list) = entry.entry("ipv6").or_insert_with(|| json!([])) {
                    list.push(json!({"address": address, "prefix": prefix, "scope": scope}));
                }
                if v6.get("address").and_then(Value::as_str) == Some(address) {
                    v6.insert("prefix".into(), prefix.into());
                    v6.insert("scope".into(), scope.into());
                    v6.insert("macaddress".into(), entry.get("macaddress").cloned().unwrap_or_else(|| "unknown".into()));
                    v6.insert("mtu".into(), entry.get("mtu").cloned().unwrap_or(Value::Null));
                    v6.insert("type".into(), entry.get("type").cloned().unwrap_or_else(|| "unknown".into()));
                }
                if address != "::1" {
                    all_v6.push(address.to_string());
                }
            }
            _ => {}
        }
    }
    (all_v4, all_v6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_default_route() {
        let mut interfaces = Map::new();
        interfaces.insert("eth0".into(), json!({"device": "eth0", "mtu": 1500, "type": "ether", "macaddress": "02:00:00:00:00:01"}));
        let mut v4 = route("8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.0.11 uid 0\n    cache\n", "8.8.8.8");
        let mut v6 = Map::new();
        let text = "2: eth0@if5: <BROADCAST,UP> mtu 1500\n    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n    inet 10.0.0.11/16 brd 10.0.255.255 scope global eth0\n    inet 10.0.0.12/16 scope global secondary eth0\n    inet6 fe80::1/64 scope link \n";
        let (all4, all6) = addresses(text, &mut interfaces, &mut v4, &mut v6);
        assert_eq!(all4, ["10.0.0.11", "10.0.0.12"]);
        assert_eq!(all6, ["fe80::1"]);
        assert_eq!(interfaces["eth0"]["ipv4"]["broadcast"], "10.0.255.255");
        assert_eq!(interfaces["eth0"]["ipv4_secondaries"][0]["address"], "10.0.0.12");
        assert_eq!(v4["gateway"], "10.0.0.1");
        assert_eq!(v4["netmask"], "255.255.0.0");
        assert_eq!(v4["alias"], "eth0");
        assert!(route("RTNETLINK answers: Network is unreachable", "8.8.8.8").is_empty());
    }
}
