//! The Terraform sources, mostly through the examples in inventory-examples/terraform.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;
use crate::inventory::Inventory;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("inventory-examples/terraform").join(name)
}

fn var<'a>(inv: &'a Inventory, host: &str, key: &str) -> &'a Value {
    inv.host(host).unwrap_or_else(|| panic!("no host {host}")).vars.get(key).unwrap_or(&Value::Null)
}

fn group<'a>(inv: &'a Inventory, name: &str) -> &'a [String] {
    &inv.groups().iter().find(|(g, _)| g == name).unwrap_or_else(|| panic!("no group {name}")).1
}

fn state_inventory() -> Inventory {
    Inventory::load(&[example("terraform.tfstate")]).unwrap()
}

#[test]
fn every_known_compute_type_gives_hosts_with_their_address() {
    let inv = state_inventory();
    let expected = [
        ("web-1", "203.0.113.10"),              // aws: Name tag, public ip
        ("web-2", "203.0.113.11"),
        ("aws_instance.worker[0]", "10.0.2.20"), // empty Name tag: the address; no public ip
        ("db-primary", "198.51.100.20"),         // gce: name attribute, nat ip
        ("db-replica", "10.132.0.6"),            // gce without access config: network ip
        ("app-vm", "198.51.100.30"),             // azure
        ("ci-runner", "192.168.10.7"),           // openstack: no floating ip
        ("edge-fsn1", "203.0.113.40"),           // hcloud
        ("cache-ams3", "198.51.100.50"),         // digitalocean
        ("lab-vm", "192.168.122.50"),            // libvirt
        ("legacy-app-01", "172.16.5.21"),        // vsphere
    ];
    let names: Vec<&str> = inv.hosts().iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, expected.map(|(n, _)| n), "data sources and non-compute resources are no hosts");
    for (host, address) in expected {
        assert_eq!(var(&inv, host, "ansible_host"), address, "{host}");
    }
    assert!(inv.warnings().is_empty(), "{:?}", inv.warnings());
}

#[test]
fn groups_come_from_type_name_and_tags() {
    let inv = state_inventory();
    assert_eq!(group(&inv, "aws_instance"), ["web-1", "web-2", "aws_instance.worker[0]"]);
    assert_eq!(group(&inv, "web"), ["web-1", "web-2"], "resource name and Role tag");
    assert_eq!(group(&inv, "batch"), ["aws_instance.worker[0]"], "Group tag with a comma-separated list");
    assert_eq!(group(&inv, "workers"), ["aws_instance.worker[0]"]);
    assert_eq!(group(&inv, "db"), ["db-primary", "db-replica"], "gce label role and network tag");
    assert_eq!(group(&inv, "ssh_allowed"), ["db-primary", "db-replica"], "sanitised network tag");
    assert_eq!(group(&inv, "ci"), ["ci-runner"], "openstack metadata Role");
    assert_eq!(group(&inv, "runner"), ["ci-runner"], "openstack tags");
    assert_eq!(group(&inv, "edge"), ["edge-fsn1"], "hcloud labels");
    assert_eq!(group(&inv, "prod"), ["cache-ams3"], "digitalocean tags");
    assert_eq!(group(&inv, "legacy_app"), ["legacy-app-01"]);
    assert_eq!(inv.host("web-1").unwrap().groups, ["aws_instance", "web"]);
}

#[test]
fn the_terraform_variable_holds_address_and_attributes_without_secrets() {
    let inv = state_inventory();
    let tf = var(&inv, "db-replica", "terraform");
    assert_eq!(tf["address"], r#"module.database.google_compute_instance.db["replica"]"#);
    assert_eq!((&tf["type"], &tf["name"], &tf["module"], &tf["index"]), (&json!("google_compute_instance"), &json!("db"), &json!("module.database"), &json!("replica")));
    assert_eq!(tf["attributes"]["machine_type"], "e2-standard-2");
    assert_eq!(var(&inv, "web-2", "terraform")["address"], "aws_instance.web[1]");
    assert_eq!(var(&inv, "web-2", "terraform")["index"], 1);
    let app = &var(&inv, "app-vm", "terraform")["attributes"];
    assert_eq!(app["admin_username"], "azureuser");
    assert!(app.get("admin_password").is_none(), "sensitive attributes are dropped: {app}");
    assert!(!format!("{:?}", inv.hosts()).contains("Az-Very-Secret"));
}

#[test]
fn outputs_lists_and_maps_become_groups_and_sensitive_ones_stay_hidden() {
    let inv = Inventory::load(&[example("outputs.json")]).unwrap();
    assert_eq!(group(&inv, "web_public_ips"), ["203.0.113.10", "203.0.113.11"]);
    assert_eq!(var(&inv, "203.0.113.10", "ansible_host"), &Value::Null, "the name is the address");
    assert_eq!(group(&inv, "db_hosts"), ["db-primary", "db-replica"]);
    assert_eq!(var(&inv, "db-replica", "ansible_host"), "10.132.0.6");
    assert_eq!(group(&inv, "bastion_ips"), ["bastion_ips_0"], "a sensitive address is not a name");
    assert_eq!(var(&inv, "bastion_ips_0", "ansible_host"), "198.51.100.7");
    assert_eq!(inv.secrets(), ["198.51.100.7"]);
    let outputs = var(&inv, "db-primary", "terraform_outputs");
    assert_eq!(outputs["vpc_id"], "vpc-0a1b2c3d");
    assert!(outputs.get("db_password").is_none() && outputs.get("bastion_ips").is_none());
    let everything = format!("{:?} {:?} {:?}", inv.hosts(), inv.groups(), inv.warnings());
    assert!(!everything.contains("s3cr3t"));
}

#[test]
fn an_inventory_output_is_used_as_it_is() {
    let inv = Inventory::load(&[example("inventory-output.json")]).unwrap();
    assert_eq!(group(&inv, "prod"), ["web-1", "web-2"]);
    assert_eq!(var(&inv, "web-2", "ansible_host"), "203.0.113.11");
    assert_eq!(var(&inv, "web-2", "http_port"), 8080);
}

fn outputs_error(doc: Value) -> String {
    read_outputs(&doc, &mut Model::default()).err().unwrap_or_default()
}

#[test]
fn a_broken_sensitive_inventory_output_is_not_quoted() {
    let broken = json!({"stockman_inventory": {"sensitive": true, "type": "x", "value": {"web": {"hosts": [{"pw": "hunter2"}]}}}});
    let e = outputs_error(broken);
    assert!(e.contains("sensitive output `stockman_inventory` is not an Ansible JSON inventory"), "{e}");
    assert!(!e.contains("hunter2") && !e.contains("web"), "{e}");
    let shown = json!({"ansible_inventory": {"sensitive": false, "type": "x", "value": {"web": {"hosts": [1]}}}});
    assert!(outputs_error(shown).contains("hosts of group `web` must be names"));
}

#[test]
fn mixed_lists_are_skipped_with_a_warning_and_ids_are_ignored() {
    let mut model = Model::default();
    let doc = json!({
        "mixed": {"sensitive": false, "type": "x", "value": ["10.0.0.1", "subnet-1"]},
        "ids": {"sensitive": false, "type": "x", "value": ["subnet-1", "sg-2"]},
        "count": {"sensitive": false, "type": "number", "value": 3},
    });
    let extras = read_outputs(&doc, &mut model).unwrap();
    assert_eq!(extras.warnings, ["Skipping Terraform output `mixed`: only some of its entries are addresses"]);
    assert_eq!(model.hosts.len(), 0);
}

#[test]
fn recognition_is_by_content() {
    assert_eq!(recognise(&json!({"version": 4, "terraform_version": "1.7.5", "resources": []})), Some(Document::State));
    assert_eq!(recognise(&json!({"a": {"value": 1, "type": "number", "sensitive": false}})), Some(Document::Outputs));
    assert_eq!(recognise(&json!({"all": {"hosts": {"a": null}}})), None);
    assert_eq!(recognise(&json!({})), None);
}

#[test]
fn other_state_versions_are_refused() {
    let e = read_state(&json!({"version": 3, "terraform_version": "0.11.14", "resources": []}), &mut Model::default()).err().unwrap();
    assert!(e.contains("version 3 is not supported"), "{e}");
}

#[test]
fn duplicate_names_fall_back_to_the_address() {
    let state = json!({"version": 4, "terraform_version": "1.7.5", "resources": [
        {"mode": "managed", "type": "hcloud_server", "name": "n", "instances": [
            {"index_key": 0, "attributes": {"name": "same", "ipv4_address": "203.0.113.1"}},
            {"index_key": 1, "attributes": {"name": "same", "ipv4_address": "203.0.113.2"}}]}]});
    let mut model = Model::default();
    let extras = read_state(&state, &mut model).unwrap();
    let names: Vec<&str> = model.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["same", "hcloud_server.n[1]"]);
    assert!(extras.warnings[0].contains("`hcloud_server.n[1]` is named `same` like another host"), "{:?}", extras.warnings);
}

#[test]
fn group_names_are_sanitised_like_ansible() {
    assert_eq!(group_name("web-servers.eu"), "web_servers_eu");
    assert_eq!(group_name("db_1"), "db_1");
}

#[test]
fn addresses() {
    for ok in ["10.0.0.1", "2001:db8::1", "web1.example.com"] {
        assert!(is_address(ok), "{ok}");
    }
    for no in ["subnet-1", "", "1.2.3", "a..b", "vpc_id"] {
        assert!(!is_address(no), "{no}");
    }
}
