//! `--shard`: three shards over 30 fleet hosts, run at once with a Kubernetes
//! Indexed Job's variable, give exactly the recap, exit code and host state of
//! one unsharded run once `stockman merge` joins them.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::fleet::Fleet;
use crate::playbook::recap_block;

const HOSTS: usize = 30;

const SITE: &str = r#"
- name: Sharded
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Directory
      file:
        path: /srv/shard
        state: directory
        mode: "0750"
    - name: Who and how many
      copy:
        content: "{{ inventory_hostname }} of {{ groups['fleet'] | length }}\n"
        dest: /srv/shard/who
        mode: "0640"
    - name: Once per host
      command: touch /srv/shard/once
      args:
        creates: /srv/shard/once
    - name: fleet07 fails
      fail:
        msg: fleet07 is broken
      when: inventory_hostname == 'fleet07'
    - name: After the failure
      copy:
        content: "done\n"
        dest: /srv/shard/done
"#;

const UNSAFE: &str = r#"
- hosts: fleet
  gather_facts: false
  tasks:
    - name: Elect a leader
      copy:
        content: "leader\n"
        dest: /srv/leader
      run_once: true
"#;

fn stockman(dir: &Path, fleet: &Fleet, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockman"));
    cmd.arg("playbook").arg("-i").arg(fleet.inventory_path()).args(args).current_dir(dir);
    cmd.env("HOME", dir.join("home")).env("NO_COLOR", "1").env_remove("SSH_AUTH_SOCK").env_remove("STOCKMAN_OUTPUT");
    for var in ["JOB_COMPLETION_INDEX", "CI_NODE_INDEX", "CI_NODE_TOTAL", "STOCKMAN_SHARD_INDEX", "STOCKMAN_SHARD_TOTAL"] {
        cmd.env_remove(var);
    }
    cmd
}

/// Every host's /srv/shard: names, modes and contents.
fn state(fleet: &Fleet) -> Vec<String> {
    fleet
        .hosts()
        .iter()
        .map(|h| {
            let listing = fleet.sh(&h.name, "cd /srv/shard 2>/dev/null && stat -c '%n %a' . * && cat who done 2>/dev/null; true");
            format!("{}:\n{listing}", h.name)
        })
        .collect()
}

fn wipe(fleet: &Fleet) {
    for h in fleet.hosts() {
        fleet.sh(&h.name, "rm -rf /srv/shard");
    }
}

#[test]
fn three_shards_over_30_hosts_match_one_unsharded_run() {
    let fleet = Fleet::up(HOSTS);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("home/.ssh")).unwrap();
    std::fs::copy(fleet.known_hosts_path(), p.join("home/.ssh/known_hosts")).unwrap();
    std::fs::write(p.join("site.yml"), SITE).unwrap();
    std::fs::write(p.join("unsafe.yml"), UNSAFE).unwrap();

    let whole = stockman(p, &fleet, &["site.yml"]).output().unwrap();
    let whole_out = String::from_utf8_lossy(&whole.stdout).into_owned();
    assert_eq!(whole.status.code(), Some(2), "fleet07 fails:\n{whole_out}");
    let whole_state = state(&fleet);
    assert!(whole_state.iter().any(|s| s.contains("fleet30 of 30")), "{whole_state:?}");
    wipe(&fleet);

    // The three pods of an Indexed Job with completions: 3, all at once.
    let children: Vec<_> = (0..3)
        .map(|i| {
            let events = std::fs::File::create(p.join(format!("events-{i}.jsonl"))).unwrap();
            stockman(p, &fleet, &["--shard", "auto/3", "--output", "json", "site.yml"])
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .stdout(events)
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<Option<i32>> = children.into_iter().map(|mut c| c.wait().unwrap().code()).collect();
    // fleet07 is the 7th host: index 6, shard 0.
    assert_eq!(codes, [Some(2), Some(0), Some(0)], "only fleet07's shard fails");
    let streams: Vec<String> = (0..3).map(|i| format!("events-{i}.jsonl")).collect();
    let merged = Command::new(env!("CARGO_BIN_EXE_stockman")).arg("merge").args(&streams).current_dir(p).env("NO_COLOR", "1").output().unwrap();
    let merged_out = String::from_utf8_lossy(&merged.stdout).into_owned();
    assert_eq!(merged.status.code(), whole.status.code(), "merged exit code = unsharded:\n{merged_out}{}", String::from_utf8_lossy(&merged.stderr));
    assert_eq!(recap_block(&merged_out), recap_block(&whole_out), "merged recap = unsharded recap");
    assert_eq!(state(&fleet), whole_state, "host state after the shards = after one run");

    // A play that does not split is refused before it touches a host, and runs under --shard-unsafe.
    wipe(&fleet);
    let refused = stockman(p, &fleet, &["--shard", "1/3", "unsafe.yml"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unsafe.yml:5:7: task `Elect a leader`: `run_once`"), "{}", String::from_utf8_lossy(&refused.stderr));
    let leaders = |fleet: &Fleet| fleet.hosts().iter().filter(|h| fleet.exec(&h.name, &["test", "-e", "/srv/leader"]).status.success()).count();
    assert_eq!(leaders(&fleet), 0);
    for i in 0..3 {
        let ran = stockman(p, &fleet, &["--shard", &format!("{i}/3"), "--shard-unsafe", "unsafe.yml"]).output().unwrap();
        assert_eq!(ran.status.code(), Some(0), "{}", String::from_utf8_lossy(&ran.stderr));
    }
    assert_eq!(leaders(&fleet), 3, "run_once ran once per shard, as the warning said");
}
