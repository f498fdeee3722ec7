//! Running the parity playbooks: one project directory, two inventories that give the
//! same host aliases different fleet hosts, and what to read out of each run.
//!
//! Both tools see the same inventory names (`apt`, `file`, …), the same project
//! directory and the same HOME, so their outputs differ only where the tools do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::fleet::Fleet;
use crate::playbook::ansible_command;

/// A temp project: one playbook per scenario (NAME.yml), files/, templates/ and
/// roles/ when the suite has them, a HOME that trusts the fleet, and one inventory
/// per tool.
pub struct Project {
    dir: tempfile::TempDir,
}

/// Which tool ran, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Ansible,
    Stockman,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Ansible => "ansible-playbook",
            Tool::Stockman => "stockman",
        }
    }
}

/// One run of one tool.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub seconds: f64,
    pub stdout: String,
    pub stderr: String,
}

impl Project {
    /// `data` holds the playbooks (NAME.yml) and maybe files/ and templates/; `roles`
    /// the roles; `scenarios` are (inventory alias, ansible's fleet host, stockman's
    /// fleet host).
    pub fn new(fleet: &Fleet, data: &Path, roles: Option<&Path>, scenarios: &[(&str, String, String)]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        if data.join("files").is_dir() {
            copy_tree(&data.join("files"), &root.join("files"));
            // Every byte value, twice: binary content must stay byte-exact.
            let binary: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
            std::fs::write(root.join("files/binary.bin"), binary).unwrap();
            set_mode(&root.join("files/exec.sh"), 0o755);
        }
        if data.join("templates").is_dir() {
            copy_tree(&data.join("templates"), &root.join("templates"));
        }
        if let Some(roles) = roles {
            copy_tree(roles, &root.join("roles"));
        }

        for (alias, _, _) in scenarios {
            std::fs::copy(data.join(format!("{alias}.yml")), root.join(format!("{alias}.yml"))).unwrap();
        }

        let ssh = root.join("home/.ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::copy(fleet.known_hosts_path(), ssh.join("known_hosts")).unwrap();
        for tool in [Tool::Ansible, Tool::Stockman] {
            let lines: String = scenarios
                .iter()
                .map(|(alias, ansible_host, stockman_host)| {
                    let host = if tool == Tool::Ansible { ansible_host } else { stockman_host };
                    format!(
                        "{alias} ansible_host={} ansible_user=root ansible_ssh_private_key_file={}\n",
                        fleet.address_of(host),
                        fleet.key_path().display()
                    )
                })
                .collect();
            // OpenSSH reads ~/.ssh of the passwd entry, not $HOME: name the file.
            let vars = format!(
                "[parity:vars]\nansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o KexAlgorithms=curve25519-sha256'\nansible_python_interpreter=/usr/bin/python3\n",
                ssh.join("known_hosts").display()
            );
            std::fs::write(root.join(inventory_name(tool)), format!("[parity]\n{lines}\n{vars}")).unwrap();
        }
        Project { dir }
    }

    /// Takes out of a scenario's playbook, for both tools, each task that stockman
    /// refuses to load (`--syntax-check`), so that the rest is still compared. Returns,
    /// per refused task, its lines and stockman's error; the judge reports them.
    pub fn prune_refused_tasks(&self, scenario: &str) -> Vec<Refused> {
        let site = self.playbook(scenario);
        let mut refused = Vec::new();
        loop {
            let check = self.stockman_command().arg("--syntax-check").arg(&site).output().unwrap();
            if check.status.success() {
                return refused;
            }
            let stderr = String::from_utf8_lossy(&check.stderr).into_owned();
            let line = error_line(&stderr, &site).unwrap_or_else(|| panic!("stockman refused the playbook without a line:\n{stderr}"));
            let text = std::fs::read_to_string(&site).unwrap();
            let play = play_at(&text, line);
            let (task, rest) = remove_task(&text, line).unwrap_or_else(|| panic!("no task around line {line}:\n{stderr}"));
            assert!(refused.len() < 100, "stockman keeps refusing the playbook:\n{stderr}");
            refused.push(Refused { play, task, error: stderr.lines().next().unwrap_or("").to_string() });
            std::fs::write(&site, rest).unwrap();
        }
    }

    /// stockman's `--syntax-check` of a scenario's playbook: its error output if it refuses.
    pub fn syntax_check(&self, scenario: &str) -> Result<(), String> {
        let check = self.stockman_command().arg("--syntax-check").arg(self.playbook(scenario)).output().unwrap();
        if check.status.success() {
            return Ok(());
        }
        Err(String::from_utf8_lossy(&check.stderr).into_owned())
    }

    fn stockman_command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockman"));
        cmd.arg("playbook")
            .arg("-i")
            .arg(self.dir.path().join(inventory_name(Tool::Stockman)))
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path().join("home"))
            // The fallback's modules come from the same ansible-core and collections as ansible-playbook's.
            .env("STOCKMAN_ANSIBLE_PYTHON", "/var/cache/stockman/ansible-venv/bin/python3")
            .env_remove("SSH_AUTH_SOCK");
        cmd
    }

    fn playbook(&self, scenario: &str) -> PathBuf {
        self.dir.path().join(format!("{scenario}.yml"))
    }

    /// Runs a scenario's playbook with `tool` against its inventory, `args` (such as
    /// `--check --diff`) before the playbook.
    pub fn run(&self, tool: Tool, scenario: &str, args: &[&str]) -> Run {
        let root = self.dir.path();
        let mut cmd = match tool {
            Tool::Ansible => {
                let mut cmd = ansible_command(crate::playbook::ANSIBLE_PLAYBOOK, &root.join("home"));
                cmd.env("ANSIBLE_FORKS", "10");
                cmd
            }
            Tool::Stockman => self.stockman_command(),
        };
        if tool == Tool::Ansible {
            cmd.arg("-i").arg(root.join(inventory_name(tool)));
        }
        let started = std::time::Instant::now();
        let out: Output = cmd
            .args(args)
            .arg(self.playbook(scenario))
            .current_dir(root)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.name()));
        Run {
            code: out.status.code().unwrap_or(-1),
            seconds: started.elapsed().as_secs_f64(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A task stockman would not load: the task's first lines and the error.
#[derive(Debug, Clone)]
pub struct Refused {
    /// The play's `hosts:`, i.e. the scenario.
    pub play: String,
    pub task: String,
    pub error: String,
}

/// The line number in `--> SITE:LINE:COL` of a load error.
fn error_line(stderr: &str, site: &Path) -> Option<usize> {
    let marker = format!("{}:", site.display());
    let at = stderr.find(&marker)? + marker.len();
    stderr[at..].split(':').next()?.trim().parse().ok()
}

/// The `hosts:` of the play that holds 1-based `line`.
fn play_at(text: &str, line: usize) -> String {
    text.lines().take(line).filter_map(|l| l.strip_prefix("- hosts: ")).last().unwrap_or("?").trim().to_string()
}

/// Removes the task (a `    - ` item of a play's task list) that holds 1-based `line`;
/// returns its first line (trimmed) and the text without it.
fn remove_task(text: &str, line: usize) -> Option<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let is_item = |l: &str| l.starts_with("    - ");
    let start = (0..line.min(lines.len())).rev().find(|&i| is_item(lines[i]))?;
    // A play keyword (column 2) is not inside a task.
    if lines[start..line.min(lines.len())].iter().any(|l| !l.starts_with(' ') && !l.trim().is_empty()) {
        return None;
    }
    let end = (start + 1..lines.len())
        .find(|&i| is_item(lines[i]) || (!lines[i].trim().is_empty() && !lines[i].starts_with("      ")))
        .unwrap_or(lines.len());
    let task = lines[start..end].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    let mut rest: Vec<&str> = lines[..start].to_vec();
    rest.extend_from_slice(&lines[end..]);
    Some((task, rest.join("\n") + "\n"))
}

fn inventory_name(tool: Tool) -> &'static str {
    match tool {
        Tool::Ansible => "inventory-ansible.ini",
        Tool::Stockman => "inventory-stockman.ini",
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Run {
    /// Each host's PLAY RECAP counts, whitespace collapsed: `ok=3 changed=1 …`.
    pub fn recap(&self) -> BTreeMap<String, String> {
        let Some((_, recap)) = self.stdout.split_once("PLAY RECAP") else {
            return BTreeMap::new();
        };
        recap
            .lines()
            .filter_map(|line| {
                let (host, counts) = line.split_once(':')?;
                let counts = counts.split_whitespace().collect::<Vec<_>>().join(" ");
                Some((host.trim().to_string(), counts))
            })
            .filter(|(host, counts)| !host.is_empty() && counts.contains("ok="))
            .collect()
    }

    /// Every `debug: var=NAME` result: (host, NAME) → value. The block is the
    /// default callback's `ok: [host] => {` … `}` (a JSON object of one key).
    pub fn registered(&self) -> BTreeMap<(String, String), Value> {
        let mut found = BTreeMap::new();
        let mut lines = self.stdout.lines();
        while let Some(line) = lines.next() {
            let Some(host) = line.strip_prefix("ok: [").and_then(|l| l.strip_suffix("] => {")) else {
                continue;
            };
            let mut json = String::from("{\n");
            for body in lines.by_ref() {
                json.push_str(body);
                json.push('\n');
                if body == "}" {
                    break;
                }
            }
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&json) {
                for (name, value) in map {
                    found.insert((host.to_string(), name), value);
                }
            }
        }
        found
    }

    pub fn all(&self) -> String {
        format!("exit {} after {:.0} s\n--- stdout\n{}\n--- stderr\n{}", self.code, self.seconds, self.stdout, self.stderr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_the_task_around_a_line() {
        let text = "- hosts: a\n  tasks:\n    - name: one\n      copy: x=1\n    - debug: var=r\n- hosts: b\n  tasks:\n    - file: y=2\n";
        let (task, rest) = remove_task(text, 4).unwrap();
        assert_eq!(task, "- name: one copy: x=1");
        assert_eq!(rest, "- hosts: a\n  tasks:\n    - debug: var=r\n- hosts: b\n  tasks:\n    - file: y=2\n");
        let (task, rest) = remove_task(text, 8).unwrap();
        assert_eq!(task, "- file: y=2");
        assert!(rest.ends_with("  tasks:\n"));
        assert_eq!(play_at(text, 8), "b");
        assert_eq!(error_line("x\n  --> /p/site.yml:245:13\n", Path::new("/p/site.yml")), Some(245));
    }
}
