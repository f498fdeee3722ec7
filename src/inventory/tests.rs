//! Whole-inventory behaviour: sources, precedence, patterns, examples.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn inventory_from(files: &[(&str, &str)]) -> (tempfile::TempDir, Inventory) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(&tmp.path().join(name), text);
    }
    let inv = Inventory::load(&[tmp.path().join(files[0].0)]).unwrap();
    (tmp, inv)
}

fn var(inv: &Inventory, host: &str, key: &str) -> Value {
    inv.host(host).unwrap_or_else(|| panic!("no host {host}")).vars.get(key).cloned().unwrap_or(Value::Null)
}

fn names(selection: &Selection) -> Vec<&str> {
    selection.hosts.iter().map(|h| h.name.as_str()).collect()
}

fn select(inv: &Inventory, pattern: &str) -> Vec<String> {
    inv.select(pattern, None).unwrap().hosts.into_iter().map(|h| h.name).collect()
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("inventory-examples")
}

// ---- precedence ----

#[test]
fn children_override_parents_and_hosts_override_groups() {
    let (_t, inv) = inventory_from(&[(
        "hosts",
        "[web]\nw1 x=host\nw2\n[prod:children]\nweb\n[web:vars]\nx=web\ny=web\n[prod:vars]\nx=prod\ny=prod\nz=prod\n[all:vars]\nx=all\nz=all\na=all\n",
    )]);
    assert_eq!((var(&inv, "w1", "x"), var(&inv, "w2", "x")), (json!("host"), json!("web")));
    assert_eq!(var(&inv, "w2", "y"), json!("web"));
    assert_eq!(var(&inv, "w2", "z"), json!("prod"));
    assert_eq!(var(&inv, "w2", "a"), json!("all"));
}

#[test]
fn siblings_merge_by_name_unless_a_priority_says_otherwise() {
    let text = "[a]\nh\n[b]\nh\n[a:vars]\nx=a\n[b:vars]\nx=b\n";
    let (_t, inv) = inventory_from(&[("hosts", text)]);
    assert_eq!(var(&inv, "h", "x"), json!("b"));
    let with_priority = "[a]\nh\n[b]\nh\n[a:vars]\nx=a\nansible_group_priority=10\n[b:vars]\nx=b\n";
    let (_t, inv) = inventory_from(&[("hosts", with_priority)]);
    assert_eq!(var(&inv, "h", "x"), json!("a"));
    assert_eq!(var(&inv, "h", "ansible_group_priority"), Value::Null);
}

#[test]
fn deeper_groups_win_over_shallower_ones_whatever_their_names() {
    // `a_child` sorts before `z_parent` by name but is deeper.
    let (_t, inv) = inventory_from(&[(
        "hosts.yml",
        "all:\n  children:\n    z_parent:\n      vars: {x: parent}\n      children:\n        a_child:\n          vars: {x: child}\n          hosts: {h: }\n",
    )]);
    assert_eq!(var(&inv, "h", "x"), json!("child"));
}

#[test]
fn group_vars_and_host_vars_files_apply_at_their_levels() {
    let (tmp, inv) = inventory_from(&[
        ("hosts", "[web]\nw1 inline=host\nw2\n[web:vars]\nfrom_ini=web\n[all:vars]\nall_ini=ini\n"),
        ("group_vars/all.yml", "all_ini: file\nfrom_ini: all_file\ninline: all_file\n"),
        ("group_vars/web/10.yml", "web_file: a\n"),
        ("group_vars/web/20.yml", "web_file: b\ninline: web_file\n"),
        ("host_vars/w1.yml", "web_file: host_file\n"),
    ]);
    // group_vars/all is above every inline group var (Ansible's default order).
    assert_eq!(var(&inv, "w2", "all_ini"), json!("file"));
    assert_eq!(var(&inv, "w2", "from_ini"), json!("all_file"));
    assert_eq!(var(&inv, "w2", "web_file"), json!("b"));
    assert_eq!(var(&inv, "w1", "web_file"), json!("host_file"));
    // Inline host vars beat every group layer.
    assert_eq!(var(&inv, "w1", "inline"), json!("host"));
    assert_eq!(var(&inv, "w2", "inline"), json!("web_file"));
    assert_eq!(var(&inv, "w1", "inventory_dir"), json!(std::path::absolute(tmp.path()).unwrap().display().to_string()));
}

#[test]
fn playbook_dir_vars_layer_between_the_inventory_levels() {
    let (tmp, inv) = inventory_from(&[
        ("inv/hosts", "[web]\nw1 hostvar=inline\n[web:vars]\ngroupvar=inline\n"),
        ("inv/group_vars/all.yml", "a: inv_all\nb: inv_all\n"),
        ("inv/group_vars/web.yml", "groupvar: inv_web\nc: inv_web\n"),
        ("play/group_vars/all.yml", "a: play_all\nc: play_all\n"),
        ("play/group_vars/web.yml", "groupvar: play_web\n"),
        ("play/host_vars/w1.yml", "hostvar: play_host\n"),
        ("play/host_vars/localhost.yml", "lh: play\n"),
    ]);
    let before = var(&inv, "w1", "groupvar");
    let inv = inv.with_playbook_dir(&tmp.path().join("play")).unwrap();
    assert_eq!(before, json!("inv_web"));
    assert_eq!(var(&inv, "w1", "a"), json!("play_all"));
    assert_eq!(var(&inv, "w1", "b"), json!("inv_all"));
    // inventory group_vars/web (level 5) beats playbook group_vars/all (level 4).
    assert_eq!(var(&inv, "w1", "c"), json!("inv_web"));
    assert_eq!(var(&inv, "w1", "groupvar"), json!("play_web"));
    assert_eq!(var(&inv, "w1", "hostvar"), json!("play_host"));
    assert_eq!(var(&inv, "localhost", "lh"), json!("play"));
}

#[test]
fn several_sources_merge_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("a/hosts"), "[web]\nw1 x=1 y=1\n");
    write(&tmp.path().join("b/hosts.yml"), "web:\n  hosts:\n    w1: {y: 2}\n    w2:\n");
    write(&tmp.path().join("b/group_vars/web.yml"), "from_b: true\n");
    let inv = Inventory::load(&[tmp.path().join("a/hosts"), tmp.path().join("b/hosts.yml")]).unwrap();
    assert_eq!((var(&inv, "w1", "x"), var(&inv, "w1", "y")), (json!(1), json!(2)));
    assert_eq!(var(&inv, "w1", "from_b"), json!(true));
    assert_eq!(select(&inv, "web"), ["w1", "w2"]);
}

// ---- sources ----

#[test]
fn host_lists_directories_and_format_detection() {
    let inv = Inventory::load(&[PathBuf::from("web1, web2:2222 ,")]).unwrap();
    assert_eq!(select(&inv, "ungrouped"), ["web1", "web2"]);
    assert_eq!(var(&inv, "web2", "ansible_port"), json!(2222));

    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("inv/01-hosts"), "[web]\nw1\n");
    write(&tmp.path().join("inv/02-more"), "db:\n  hosts:\n    d1:\n");
    write(&tmp.path().join("inv/03.json"), "{\"cache\": {\"hosts\": {\"c1\": {\"x\": 1}}}}");
    write(&tmp.path().join("inv/README.md"), "# not an inventory\n");
    write(&tmp.path().join("inv/.hidden"), "[bad\n");
    write(&tmp.path().join("inv/sub/hosts.ini"), "[mon]\nm1\n");
    write(&tmp.path().join("inv/group_vars/web.yml"), "w: 1\n");
    let inv = Inventory::load(&[tmp.path().join("inv")]).unwrap();
    assert_eq!(select(&inv, "all"), ["w1", "d1", "c1", "m1"]);
    assert_eq!(var(&inv, "w1", "w"), json!(1));
    assert_eq!(var(&inv, "c1", "x"), json!(1));
}

#[test]
fn missing_sources_and_scripts_are_clear_errors() {
    let err = Inventory::load(&[PathBuf::from("/nonexistent/hosts")]).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/hosts") && err.contains("-i 'web1,'"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("inv.py");
    write(&script, "#!/bin/sh\necho 'cannot reach the CMDB' >&2\nexit 4\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let err = Inventory::load(&[script]).unwrap_err().to_string();
    assert!(err.contains("inv.py --list` exited with code 4; its stderr:\ncannot reach the CMDB"), "{err}");
}

#[test]
fn json_files_in_the_yaml_structure_and_in_the_script_protocol() {
    let yaml_shaped = r#"{"all": {"children": {"web": {"hosts": {"w1": {"x": 1}}, "vars": {"port": 80}}}}}"#;
    let (_t, inv) = inventory_from(&[("inv.json", yaml_shaped)]);
    assert_eq!((var(&inv, "w1", "x"), var(&inv, "w1", "port")), (json!(1), json!(80)));
    let script_shaped = r#"{"web": {"hosts": ["w1"]}, "db": ["d1"], "_meta": {"hostvars": {"d1": {"y": 2}}}}"#;
    let (_t, inv) = inventory_from(&[("saved-list.json", script_shaped), ("group_vars/db.yml", "from_file: yes\n")]);
    assert_eq!(select(&inv, "all"), ["w1", "d1"]);
    assert_eq!((var(&inv, "d1", "y"), var(&inv, "d1", "from_file")), (json!(2), json!(true)));
    let err = Inventory::load(&[_t.path().join("broken.json")]).unwrap_err().to_string();
    assert!(err.contains("broken.json"), "{err}");
    write(&_t.path().join("broken.json"), "{\"all\": {\"hosts\": {\"a\": 3}}}");
    let err = Inventory::load(&[_t.path().join("broken.json")]).unwrap_err().to_string();
    assert!(err.contains("broken.json:1:"), "a YAML-shaped JSON error has its location: {err}");
}

#[test]
fn scripts_and_terraform_state_take_group_vars_from_beside_them() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("inventory");
    write(&script, "#!/bin/sh\n[ \"$1\" = --list ] && echo '{\"web\": [\"w1\"]}' || echo '{\"asked\": true}'\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    write(&tmp.path().join("group_vars/web.yml"), "ansible_port: 2222\n");
    let state = tmp.path().join("tf/terraform.tfstate");
    write(&state, r#"{"version": 4, "terraform_version": "1.7.5", "resources": [{"mode": "managed", "type": "hcloud_server",
        "name": "box", "instances": [{"attributes": {"name": "h1", "ipv4_address": "203.0.113.1", "labels": {"Role": "edge"}}}]}]}"#);
    write(&tmp.path().join("tf/group_vars/all.yml"), "ansible_user: deploy\n");
    let inv = Inventory::load(&[script, state]).unwrap();
    assert_eq!((var(&inv, "w1", "ansible_port"), var(&inv, "w1", "asked")), (json!(2222), json!(true)));
    assert_eq!(var(&inv, "h1", "ansible_user"), json!("deploy"));
    assert_eq!(var(&inv, "h1", "ansible_port"), Value::Null, "the script's group_vars are for its groups");
    assert_eq!(select(&inv, "edge:web"), ["h1", "w1"]);
}

#[test]
fn broken_files_report_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("hosts.yml"), "all:\n  hosts:\n    web1: [oops\n");
    let err = Inventory::load(&[tmp.path().join("hosts.yml")]).unwrap_err().to_string();
    assert!(err.contains("hosts.yml:"), "{err}");
    write(&tmp.path().join("hosts"), "all:\n  children: [\n");
    let err = Inventory::load(&[tmp.path().join("hosts")]).unwrap_err().to_string();
    assert!(err.contains("hosts:"), "{err}");
    write(&tmp.path().join("bad.ini"), "[web]\nok\nweb2 = 3\n");
    let err = Inventory::load(&[tmp.path().join("bad.ini")]).unwrap_err().to_string();
    assert!(err.contains("bad.ini:3:6: missing variable name before `=`"), "{err}");
}

// ---- groups and hosts ----

#[test]
fn implicit_groups_and_group_names() {
    let (_t, inv) = inventory_from(&[("hosts", "solo\n[web]\nw1\n[prod:children]\nweb\n")]);
    let groups: Vec<(&str, Vec<&str>)> =
        inv.groups().iter().map(|(g, h)| (g.as_str(), h.iter().map(String::as_str).collect())).collect();
    assert_eq!(groups, [("all", vec!["solo", "w1"]), ("ungrouped", vec!["solo"]), ("web", vec!["w1"]), ("prod", vec!["w1"])]);
    assert_eq!(inv.host("w1").unwrap().groups, ["prod", "web"]);
    assert_eq!(inv.host("solo").unwrap().groups, ["ungrouped"]);
    assert_eq!(inv.groups_value()["prod"], json!(["w1"]));
}

#[test]
fn implicit_localhost_is_local_and_outside_all() {
    let (_t, inv) = inventory_from(&[("hosts", "[web]\nw1\n[all:vars]\nshared=1\n")]);
    let sel = inv.select("localhost", None).unwrap();
    assert_eq!(names(&sel), ["localhost"]);
    let lh = &sel.hosts[0];
    assert!(lh.implicit);
    assert_eq!(lh.vars["ansible_connection"], "local");
    assert_eq!(lh.vars["shared"], 1);
    assert!(sel.warnings.is_empty());
    assert_eq!(select(&inv, "all"), ["w1"]);
    assert_eq!(select(&inv, "127.0.0.1"), ["127.0.0.1"]);
    assert!(inv.hosts().iter().all(|h| !h.implicit));
}

#[test]
fn an_inventory_localhost_is_a_normal_host() {
    let (_t, inv) = inventory_from(&[("hosts", "127.0.0.1 x=1\n")]);
    // Any localhost name finds the inventory's localhost-like host.
    assert_eq!(select(&inv, "localhost"), ["127.0.0.1"]);
    assert_eq!(select(&inv, "all"), ["127.0.0.1"]);
    assert!(!inv.host("127.0.0.1").unwrap().implicit);
}

// ---- patterns ----

const PATTERN_INVENTORY: &str = "\
[web]
web1.example.com
web2.example.com
web3.example.com
[db]
db1.example.com
web2.example.com
[prod:children]
web
db
[staging]
stage1
";

#[test]
fn pattern_lists_exclusions_and_intersections() {
    let (_t, inv) = inventory_from(&[("hosts", PATTERN_INVENTORY)]);
    assert_eq!(select(&inv, "db,stage1"), ["db1.example.com", "web2.example.com", "stage1"]);
    assert_eq!(select(&inv, "db:staging"), ["db1.example.com", "web2.example.com", "stage1"]);
    assert_eq!(select(&inv, "web:!db"), ["web1.example.com", "web3.example.com"]);
    assert_eq!(select(&inv, "web:&db"), ["web2.example.com"]);
    // Exclusions apply last, whatever their position.
    assert_eq!(select(&inv, "!web3.example.com,web"), ["web1.example.com", "web2.example.com"]);
    // Only exclusions: `all` is implied.
    assert_eq!(select(&inv, "!prod"), ["stage1"]);
    assert_eq!(select(&inv, "all").len(), 5);
    assert_eq!(select(&inv, "*").len(), 5);
}

#[test]
fn wildcards_regexes_and_subscripts() {
    let (_t, inv) = inventory_from(&[("hosts", PATTERN_INVENTORY)]);
    assert_eq!(select(&inv, "web*"), ["web1.example.com", "web2.example.com", "web3.example.com"]);
    assert_eq!(select(&inv, "*.example.com").len(), 4);
    assert_eq!(select(&inv, "~web[13]"), ["web1.example.com", "web3.example.com"]);
    assert_eq!(select(&inv, r"~(db|stage)\d"), ["db1.example.com", "stage1"]);
    assert_eq!(select(&inv, "web[0]"), ["web1.example.com"]);
    assert_eq!(select(&inv, "web[-1]"), ["web3.example.com"]);
    assert_eq!(select(&inv, "web[1:]"), ["web2.example.com", "web3.example.com"]);
    let err = inv.select("web[7]", None).unwrap_err().to_string();
    assert_eq!(err, "No hosts matched the subscripted pattern 'web[7]'");
    assert!(inv.select("~web(", None).unwrap_err().to_string().contains("Invalid host list pattern"));
}

#[test]
fn limits_intersect_and_unmatched_terms_warn() {
    let (tmp, inv) = inventory_from(&[("hosts", PATTERN_INVENTORY), ("retry", "web3.example.com\nstage1\n\n")]);
    let sel = inv.select("prod", Some("web*,!web2.example.com")).unwrap();
    assert_eq!(names(&sel), ["web1.example.com", "web3.example.com"]);
    let sel = inv.select("all", Some(&format!("@{}", tmp.path().join("retry").display()))).unwrap();
    // `all` lists top-level groups' hosts before their children's (as Ansible).
    assert_eq!(names(&sel), ["stage1", "web3.example.com"]);
    let sel = inv.select("web,nosuch,nosuch", Some("nomatch*")).unwrap();
    assert!(sel.hosts.is_empty());
    assert_eq!(sel.warnings, [
        "Could not match supplied host pattern, ignoring: nosuch",
        "Could not match supplied host pattern, ignoring: nomatch*",
    ]);
    assert!(inv.select("all", Some("@/nonexistent")).unwrap_err().to_string().contains("does not exist"));
}

#[test]
fn selection_order_follows_the_pattern_then_the_group() {
    let (_t, inv) = inventory_from(&[("hosts", "[db]\na\n[web]\nb\na\n")]);
    assert_eq!(select(&inv, "web"), ["b", "a"]);
    assert_eq!(select(&inv, "db:web"), ["a", "b"]);
    assert_eq!(inv.hosts().iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
}

// ---- the shipped examples ----

#[test]
fn example_inventories_parse_and_agree() {
    let ini = Inventory::load(&[examples().join("hosts.ini")]).unwrap();
    let yml = Inventory::load(&[examples().join("hosts.yml")]).unwrap();
    assert!(ini.warnings().is_empty() && yml.warnings().is_empty());
    let strip = |inv: &Inventory| -> Vec<(String, Value, Vec<String>)> {
        let mut hosts: Vec<_> = inv.hosts().iter().map(|h| {
            let mut vars = h.vars.clone();
            vars.remove("inventory_file");
            (h.name.clone(), Value::Object(vars), h.groups.clone())
        }).collect();
        hosts.sort_by(|a, b| a.0.cmp(&b.0));
        hosts
    };
    assert_eq!(strip(&ini), strip(&yml));
    assert_eq!(select(&ini, "web").len(), 4);
    assert_eq!(var(&ini, "web04.example.com", "ansible_port"), json!(2222));
    assert_eq!(var(&ini, "web04.example.com", "http_port"), json!(8081));
    assert_eq!(var(&ini, "web01.example.com", "http_port"), json!(8080));
    assert_eq!(var(&ini, "db-b.example.com", "http_port"), json!(80));
    assert_eq!(var(&ini, "db-b.example.com", "ntp_servers"), json!(["ntp1.example.com", "ntp2.example.com"]));
    assert_eq!(var(&ini, "db-a.example.com", "backup"), json!(false));
    assert_eq!(var(&ini, "db-b.example.com", "backup"), json!(true));
    assert_eq!(var(&ini, "bastion.example.com", "timezone"), json!("Europe/Paris"));
    assert_eq!(select(&ini, "ungrouped"), ["bastion.example.com"]);

    let local = Inventory::load(&[examples().join("localhost.ini")]).unwrap();
    let lh = local.host("localhost").unwrap();
    assert!(!lh.implicit);
    assert_eq!(lh.vars["ansible_connection"], "local");
}

#[test]
fn the_example_dynamic_script_lists_its_machines() {
    let inv = Inventory::load(&[examples().join("dynamic/inventory.sh")]).unwrap();
    assert_eq!(select(&inv, "prod:&web"), ["web-1", "web-2"]);
    assert_eq!(select(&inv, "db"), ["db-1"]);
    assert_eq!(var(&inv, "db-1", "ansible_host"), json!("10.0.3.5"));
}
