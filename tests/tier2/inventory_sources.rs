//! Generated inventories on the real fleet: the fleet's addresses written into a
//! Terraform state, a saved `terraform output -json` and a dynamic inventory
//! script, each used with nothing but `-i`, `-u root` and `--private-key`.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::fleet::Fleet;

/// Every host records its groups, then the `web` group records its instance type.
const SITE: &str = r#"
- hosts: all
  tasks:
    - name: Record groups
      copy:
        content: "groups={{ group_names | join(',') }} on {{ ansible_hostname }}\n"
        dest: "/root/groups-{{ source }}"
- hosts: web
  gather_facts: false
  tasks:
    - name: Mark web hosts
      copy:
        content: "web {{ terraform.attributes.instance_type | default('') if terraform is defined else '' }}\n"
        dest: "/root/web-{{ source }}"
"#;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(fleet: &Fleet) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.yml"), SITE).unwrap();
        std::fs::create_dir_all(dir.path().join("home/.ssh")).unwrap();
        std::fs::copy(fleet.known_hosts_path(), dir.path().join("home/.ssh/known_hosts")).unwrap();
        Project { dir }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    /// `stockman playbook -i INVENTORY -u root --private-key KEY site.yml -e source=INVENTORY`.
    fn run(&self, fleet: &Fleet, inventory: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_stockman"))
            .args(["playbook", "-i", inventory, "-u", "root", "--private-key"])
            .arg(fleet.key_path())
            .args(["site.yml", "-e", &format!("source={inventory}")])
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path().join("home"))
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    }
}

/// fleet01 and fleet02 as `aws_instance.web[0..1]` (Role=web), fleet03 as an
/// `hcloud_server` labelled role=db.
fn state(fleet: &Fleet) -> String {
    let aws = |i: usize, name: &str| {
        format!(
            r#"{{"index_key": {i}, "schema_version": 1, "attributes": {{"id": "i-{i}", "instance_type": "t3.small",
               "public_ip": "", "private_ip": "{}", "tags": {{"Name": "{name}", "Role": "web"}}}}, "sensitive_attributes": []}}"#,
            fleet.address_of(name)
        )
    };
    format!(
        r#"{{"version": 4, "terraform_version": "1.7.5", "serial": 1, "lineage": "l", "outputs": {{}}, "resources": [
  {{"mode": "managed", "type": "aws_instance", "name": "app", "provider": "p", "instances": [{}, {}]}},
  {{"mode": "managed", "type": "hcloud_server", "name": "store", "provider": "p", "instances": [
    {{"attributes": {{"name": "fleet03", "ipv4_address": "{}", "labels": {{"role": "db"}}}}}}]}}
]}}"#,
        aws(0, "fleet01"),
        aws(1, "fleet02"),
        fleet.address_of("fleet03")
    )
}

#[test]
fn terraform_state_outputs_and_a_script_reach_the_whole_fleet() {
    let fleet = Fleet::up(3);
    let p = Project::new(&fleet);
    let address = |h: &str| fleet.address_of(h).to_string();

    p.write("terraform.tfstate", &state(&fleet));
    p.run(&fleet, "terraform.tfstate");
    assert_eq!(fleet.sh("fleet01", "cat /root/groups-terraform.tfstate"), "groups=app,aws_instance,web on fleet01\n");
    assert_eq!(fleet.sh("fleet03", "cat /root/groups-terraform.tfstate"), "groups=db,hcloud_server,store on fleet03\n");
    assert_eq!(fleet.sh("fleet02", "cat /root/web-terraform.tfstate"), "web t3.small\n");
    assert!(!fleet.exec("fleet03", &["test", "-e", "/root/web-terraform.tfstate"]).status.success());

    let outputs = format!(
        r#"{{"web": {{"sensitive": false, "type": ["map", "string"], "value": {{"fleet01": "{}", "fleet02": "{}"}}}},
            "db_addresses": {{"sensitive": false, "type": ["list", "string"], "value": ["{}"]}}}}"#,
        address("fleet01"),
        address("fleet02"),
        address("fleet03")
    );
    p.write("outputs.json", &outputs);
    p.run(&fleet, "outputs.json");
    assert_eq!(fleet.sh("fleet02", "cat /root/groups-outputs.json"), "groups=web on fleet02\n");
    assert_eq!(fleet.sh("fleet03", "cat /root/groups-outputs.json"), "groups=db_addresses on fleet03\n");
    assert_eq!(fleet.sh("fleet01", "cat /root/web-outputs.json"), "web \n");

    let hostvars: Vec<String> = fleet.hosts().iter().map(|h| format!(r#""{}": {{"ansible_host": "{}"}}"#, h.name, h.address)).collect();
    let script = format!(
        "#!/bin/sh\ncat <<'EOF'\n{{\"web\": [\"fleet01\"], \"rest\": [\"fleet02\", \"fleet03\"], \"_meta\": {{\"hostvars\": {{{}}}}}}}\nEOF\n",
        hostvars.join(", ")
    );
    p.write("inventory.sh", &script);
    std::fs::set_permissions(p.dir.path().join("inventory.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    p.run(&fleet, "inventory.sh");
    for (host, groups) in [("fleet01", "web"), ("fleet02", "rest"), ("fleet03", "rest")] {
        assert_eq!(fleet.sh(host, "cat /root/groups-inventory.sh"), format!("groups={groups} on {host}\n"));
    }
}
