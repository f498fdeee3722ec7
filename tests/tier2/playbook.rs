//! The stockman binary on real Debian hosts, side by side with ansible-playbook.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fleet::Fleet;

pub const ANSIBLE_PLAYBOOK: &str = "/var/cache/stockman/ansible-venv/bin/ansible-playbook";

const SITE: &str = r#"
- name: Deploy the demo app
  hosts: fleet
  vars:
    app_dir: /srv/app
  tasks:
    - name: App directory
      file:
        path: "{{ app_dir }}"
        state: directory
        mode: "0755"
    - name: Greeting
      copy:
        content: "hello from {{ inventory_hostname }}\n"
        dest: "{{ app_dir }}/greeting"
        mode: "0640"
      notify: Reload app
    - name: Static file
      copy:
        src: static.txt
        dest: "{{ app_dir }}/static.txt"
    - name: Config from a template
      template:
        src: app.conf.j2
        dest: "{{ app_dir }}/app.conf"
        mode: "0600"
      notify: Reload app
    - name: Link current config
      file:
        src: "{{ app_dir }}/app.conf"
        dest: "{{ app_dir }}/current.conf"
        state: link
    - name: Initialise once
      command: touch {{ app_dir }}/initialised
      args:
        creates: "{{ app_dir }}/initialised"
    - name: Only on the first host
      debug:
        msg: "first is {{ inventory_hostname }} on {{ ansible_distribution_release }}"
      when: inventory_hostname == 'fleet01'
  handlers:
    - name: Reload app
      shell: echo reloaded >> {{ app_dir }}/reloads
"#;

/// A project directory and a HOME whose known_hosts holds the fleet's keys.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(fleet: &Fleet) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.yml"), SITE).unwrap();
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("files/static.txt"), "static content\n").unwrap();
        std::fs::write(
            dir.path().join("templates/app.conf.j2"),
            "host={{ inventory_hostname }}\nos={{ ansible_distribution }} {{ ansible_distribution_major_version }}\n{% for g in group_names %}\ngroup={{ g }}\n{% endfor %}\n",
        )
        .unwrap();
        let p = Project { dir };
        p.refresh_known_hosts(fleet);
        p
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn refresh_known_hosts(&self, fleet: &Fleet) {
        std::fs::create_dir_all(self.home().join(".ssh")).unwrap();
        std::fs::copy(fleet.known_hosts_path(), self.home().join(".ssh/known_hosts")).unwrap();
    }

    fn run(&self, program: &str, inventory: &Path) -> (i32, String) {
        let out = ansible_command(program, &self.home())
            .args(["-i"])
            .arg(inventory)
            .arg(self.dir.path().join("site.yml"))
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.code().is_some(), "{program} killed: {}", String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap(), stdout)
    }

    fn stockman(&self, inventory: &Path) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_stockman"))
            .arg("playbook")
            .arg("-i")
            .arg(inventory)
            .arg(self.dir.path().join("site.yml"))
            .current_dir(self.dir.path())
            .env("HOME", self.home())
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// `program` (ansible-playbook) set up for the fleet: python3 on the hosts, pipelining,
/// no colours, `home` as HOME (its .ssh/known_hosts trusts the fleet), no agent.
pub fn ansible_command(program: &str, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("HOME", home)
        .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
        .env("ANSIBLE_PIPELINING", "True")
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("SSH_AUTH_SOCK");
    cmd
}

/// The PLAY RECAP block, exactly as printed.
pub fn recap_block(output: &str) -> String {
    let start = output.find("PLAY RECAP").unwrap_or_else(|| panic!("no recap in:\n{output}"));
    output[start..].trim_end().to_string()
}

/// The output with each block's result lines sorted (hosts finish in any order).
fn normalized(output: &str) -> Vec<String> {
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        let banner = line.starts_with("PLAY") || line.starts_with("TASK [") || line.starts_with("RUNNING HANDLER");
        if banner || blocks.is_empty() {
            blocks.push(Vec::new());
        }
        blocks.last_mut().unwrap().push(line.to_string());
    }
    blocks
        .into_iter()
        .flat_map(|mut b| {
            let head = b.remove(0);
            b.sort();
            std::iter::once(head).chain(b)
        })
        .collect()
}

fn assert_deployed(fleet: &Fleet) {
    for host in fleet.hosts() {
        let h = &host.name;
        assert_eq!(fleet.sh(h, "cat /srv/app/greeting"), format!("hello from {h}\n"));
        assert_eq!(fleet.sh(h, "cat /srv/app/static.txt"), "static content\n");
        assert_eq!(fleet.sh(h, "cat /srv/app/app.conf"), "host=".to_string() + h + "\nos=Debian 12\ngroup=fleet\n");
        assert_eq!(fleet.sh(h, "stat -c '%a %U' /srv/app /srv/app/greeting /srv/app/app.conf"), "755 root\n640 root\n600 root\n");
        assert_eq!(fleet.sh(h, "readlink /srv/app/current.conf"), "/srv/app/app.conf\n");
        assert_eq!(fleet.sh(h, "cat /srv/app/reloads"), "reloaded\n", "the handler ran once on {h}");
        assert_eq!(fleet.sh(h, "ls -A /srv/app | grep -c '^\\.' || true"), "0\n", "no temp file left on {h}");
    }
}

#[test]
fn three_hosts_same_recap_as_ansible_and_idempotent() {
    assert!(Path::new(ANSIBLE_PLAYBOOK).exists(), "{ANSIBLE_PLAYBOOK} is missing: run tests/run-all.sh, which installs it");
    let fleet = Fleet::up(3);
    let project = Project::new(&fleet);
    let inventory = fleet.inventory_path();

    let (code, first) = project.stockman(inventory);
    assert_eq!(code, 0, "{first}");
    assert_deployed(&fleet);
    let (code, second) = project.stockman(inventory);
    assert_eq!(code, 0, "{second}");
    for line in recap_block(&second).lines().skip(1) {
        assert!(line.contains("changed=0 "), "second run changed something: {line}\n{second}");
    }
    assert_deployed(&fleet);

    for host in fleet.hosts() {
        fleet.reset(&host.name);
    }
    project.refresh_known_hosts(&fleet);
    let (code, ansible_first) = project.run(ANSIBLE_PLAYBOOK, inventory);
    assert_eq!(code, 0, "{ansible_first}");
    let (_, ansible_second) = project.run(ANSIBLE_PLAYBOOK, inventory);

    assert_eq!(recap_block(&first), recap_block(&ansible_first), "first run recap differs from ansible-playbook's");
    assert_eq!(recap_block(&second), recap_block(&ansible_second), "second run recap differs from ansible-playbook's");
    assert_eq!(normalized(&first), normalized(&ansible_first), "first run output differs from ansible-playbook's");
    assert_eq!(normalized(&second), normalized(&ansible_second), "second run output differs from ansible-playbook's");
}
