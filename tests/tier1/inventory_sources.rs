//! Generated inventories through the real binary against a real sshd: a
//! Terraform state, a saved `terraform output -json` and a dynamic inventory
//! script, each given with nothing but `-i`, `-u` and `--private-key`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::run::{Project, Run};
use crate::sshd::TestSshd;

/// Every host writes its name and groups; hosts of group `web` also write a marker.
const PLAYBOOK: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: Record groups
      copy:
        content: "groups={{ group_names | join(',') }}\n"
        dest: "{{ remote }}/{{ inventory_hostname | replace('/', '_') }}.groups"
- hosts: web
  gather_facts: false
  tasks:
    - name: Mark web hosts
      copy:
        content: "type={{ terraform.attributes.instance_type | default('n/a') if terraform is defined else 'none' }}\n"
        dest: "{{ remote }}/{{ inventory_hostname }}.web"
"#;

/// `stockman playbook -i INVENTORY -u USER --private-key KEY site.yml ARGS`.
fn run(p: &Project, sshd: &TestSshd, inventory: &str, args: &[&str]) -> Run {
    let home = p.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join(".ssh/known_hosts")).unwrap();
    let remote = format!("remote={}", p.remote_str());
    let out = Command::new(env!("CARGO_BIN_EXE_stockman"))
        .arg("playbook")
        .args(["-i", inventory, "-u", &sshd.user, "--private-key"])
        .arg(&sshd.client_key)
        .args(["-e", &remote, "site.yml"])
        .args(args)
        .current_dir(p.dir.path())
        .env("HOME", &home)
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ANSIBLE_HOST_KEY_CHECKING")
        .output()
        .expect("run stockman");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn groups_of(p: &Project, host: &str) -> String {
    std::fs::read_to_string(p.remote(&format!("{host}.groups"))).unwrap_or_else(|e| panic!("{host} was not reached: {e}"))
}

fn aws_instance(name: &str, role: &str) -> String {
    format!(
        r#"{{"index_key": {index}, "schema_version": 1, "attributes": {{"id": "i-{name}", "instance_type": "t3.micro",
           "public_ip": "", "private_ip": "127.0.0.1", "tags": {{"Name": "{name}", "Role": "{role}"}}}}, "sensitive_attributes": []}}"#,
        index = if name.ends_with('1') { 0 } else { 1 }
    )
}

/// A state whose instances all point at 127.0.0.1: two AWS instances (one
/// tagged Role=web), a Hetzner server, and an unnamed DigitalOcean droplet.
fn state() -> String {
    format!(
        r#"{{"version": 4, "terraform_version": "1.7.5", "serial": 3, "lineage": "x", "outputs": {{}}, "resources": [
  {{"mode": "managed", "type": "aws_security_group", "name": "sg", "provider": "p", "instances": [{{"attributes": {{"id": "sg-1"}}}}]}},
  {{"mode": "managed", "type": "aws_instance", "name": "app", "provider": "p", "instances": [{}, {}]}},
  {{"mode": "managed", "type": "hcloud_server", "name": "edge", "provider": "p", "instances": [
    {{"attributes": {{"name": "edge-1", "ipv4_address": "127.0.0.1", "labels": {{"group": "web"}}}}}}]}},
  {{"mode": "managed", "type": "digitalocean_droplet", "name": "spare", "provider": "p", "instances": [
    {{"index_key": "blue", "attributes": {{"name": "", "ipv4_address": "127.0.0.1", "tags": ["spare-pool"]}}}}]}}
]}}"#,
        aws_instance("app-1", "web"),
        aws_instance("app-2", "db")
    )
}

#[test]
fn a_terraform_state_reaches_every_instance_with_groups_from_tags() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.write("site.yml", PLAYBOOK).write("infra/terraform.tfstate", &state());
    // The state has no ports: group_vars beside it supply the test sshd's.
    p.write("infra/group_vars/all.yml", &format!("ansible_port: {}\n", sshd.port));
    let run = run(&p, &sshd, "infra/terraform.tfstate", &[]);
    run.assert_code(0);
    assert_eq!(groups_of(&p, "app-1"), "groups=app,aws_instance,web\n");
    assert_eq!(groups_of(&p, "app-2"), "groups=app,aws_instance,db\n");
    assert_eq!(groups_of(&p, "edge-1"), "groups=edge,hcloud_server,web\n");
    assert_eq!(groups_of(&p, r#"digitalocean_droplet.spare["blue"]"#), "groups=digitalocean_droplet,spare,spare_pool\n");
    let web: Vec<String> = ["app-1", "edge-1"].iter().map(|h| std::fs::read_to_string(p.remote(&format!("{h}.web"))).unwrap()).collect();
    assert_eq!(web, ["type=t3.micro\n", "type=n/a\n"], "the terraform variable reaches templates");
    assert!(!p.remote("app-2.web").exists(), "app-2 is tagged Role=db");
    assert!(run.stdout.contains(r#"digitalocean_droplet.spare["blue"]"#), "{}", run.stdout);
}

#[test]
fn terraform_outputs_reach_every_address_and_never_print_sensitive_ones() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.write("site.yml", PLAYBOOK);
    p.write(
        "outputs.json",
        r#"{
  "web": {"sensitive": false, "type": ["map", "string"], "value": {"web-a": "127.0.0.1", "web-b": "127.0.0.1"}},
  "region": {"sensitive": false, "type": "string", "value": "eu-west-1"}
}"#,
    );
    // Alone in its file, so that any 127.0.0.1 printed could only come from it.
    p.write(
        "secret-outputs.json",
        r#"{
  "bastion": {"sensitive": true, "type": ["list", "string"], "value": ["127.0.0.1"]},
  "db_password": {"sensitive": true, "type": "string", "value": "hunter2-very-secret"}
}"#,
    );
    let port = format!("ansible_port={}", sshd.port);
    run(&p, &sshd, "outputs.json", &["-e", &port]).assert_code(0);
    assert_eq!(groups_of(&p, "web-a"), "groups=web\n");
    assert_eq!(groups_of(&p, "web-b"), "groups=web\n");
    assert!(p.remote("web-a.web").exists());

    let secret = run(&p, &sshd, "secret-outputs.json", &["-e", &port, "-vvv"]);
    secret.assert_code(0);
    assert_eq!(groups_of(&p, "bastion_0"), "groups=bastion\n");
    let all = format!("{}{}", secret.stdout, secret.stderr);
    assert!(!all.contains("hunter2"), "a sensitive output was printed:\n{all}");
    assert!(!all.contains("127.0.0.1"), "a sensitive address was printed:\n{all}");

    // Unreachable: the transport's error names the address, and the output must not.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("ansible_port={closed}");
    let unreachable = run(&p, &sshd, "secret-outputs.json", &["-e", &closed, "-vvv"]);
    unreachable.assert_code(4);
    let all = format!("{}{}", unreachable.stdout, unreachable.stderr);
    assert!(all.contains("UNREACHABLE"), "{all}");
    assert!(!all.contains("127.0.0.1"), "a sensitive address was printed in an error:\n{all}");
}

#[test]
fn a_dynamic_inventory_script_is_asked_for_its_hosts() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.write("site.yml", PLAYBOOK);
    // No _meta: stockman must ask `--host` for each host's variables.
    let script = format!(
        r#"#!/bin/sh
case "$1" in
  --list) echo '{{"web": {{"hosts": ["s1", "s2"]}}, "ops": ["s3"], "prod": {{"children": ["web", "ops"]}}}}' ;;
  --host) echo "$2" >> "$(dirname "$0")/asked"; echo '{{"ansible_host": "127.0.0.1", "ansible_port": {port}}}' ;;
  *) exit 2 ;;
esac
"#,
        port = sshd.port
    );
    p.write("inventory.sh", &script);
    make_executable(&p.path("inventory.sh"));
    let run = run(&p, &sshd, "inventory.sh", &[]);
    run.assert_code(0);
    assert_eq!(groups_of(&p, "s1"), "groups=prod,web\n");
    assert_eq!(groups_of(&p, "s3"), "groups=ops,prod\n");
    assert!(p.remote("s2.web").exists() && !p.remote("s3.web").exists());
    assert_eq!(std::fs::read_to_string(p.path("asked")).unwrap(), "s1\ns2\ns3\n");
}

#[test]
fn a_failing_script_stops_the_run_with_its_stderr() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.write("site.yml", PLAYBOOK).write("inventory.sh", "#!/bin/sh\necho 'API token expired' >&2\nexit 3\n");
    make_executable(&p.path("inventory.sh"));
    let run = run(&p, &sshd, "inventory.sh", &[]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("inventory.sh --list` exited with code 3"), "{}", run.stderr);
    assert!(run.stderr.contains("API token expired"), "{}", run.stderr);
    assert!(!run.stdout.contains("PLAY ["), "no play starts: {}", run.stdout);
}

fn make_executable(path: &Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
