//! The terminal layout: golden text when stdout is not a terminal (no colour,
//! no progress bar), and the progress bar in a real terminal (tmux) that never
//! tears the normal output.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::run::Project;
use crate::sshd::TestSshd;

const SITE: &str = r#"- name: Layout
  hosts: test
  gather_facts: false
  tasks:
    - name: Write
      copy:
        content: "x\n"
        dest: "{{ remote }}/{{ inventory_hostname }}"
      notify: done
    - name: Only beta
      command: "true"
      when: inventory_hostname == 'beta'
  handlers:
    - name: done
      command: "true"
"#;

const GOLDEN: &str = "
PLAY [Layout] ******************************************************************

TASK [Write] *******************************************************************
changed: [alpha]
changed: [beta]

TASK [Only beta] ***************************************************************
skipping: [alpha]
changed: [beta]

RUNNING HANDLER [done] *********************************************************
changed: [alpha]
changed: [beta]

PLAY RECAP *********************************************************************
alpha                      : ok=2    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   
beta                       : ok=3    changed=3    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   

";

#[test]
fn output_terminal_golden_layout_without_a_terminal() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["alpha", "beta"]).write("site.yml", SITE);
    let remote = format!("remote={}", p.remote_str());
    // One fork keeps the host order fixed.
    let run = p.run(&sshd, "site.yml", &["-e", &remote, "-f", "1"]);
    run.assert_code(0);
    assert_eq!(run.stdout, GOLDEN);
    assert!(!run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'), "no colour off a terminal");
    assert!(!run.stdout.contains("hosts done") && !run.stderr.contains("hosts done"), "no progress bar off a terminal");

    // -vv adds the playbook and each task's file:line.
    let run = p.run(&sshd, "site.yml", &["-e", &remote, "-f", "1", "-vv"]);
    let stdout = run.stdout.replace(&p.dir.path().display().to_string(), "<DIR>");
    // As ansible-playbook -v: which config file is used, first.
    assert!(stdout.starts_with("No config file found; using defaults\n\nPLAYBOOK: <DIR>/site.yml ***"), "{stdout}");
    assert!(stdout.contains("TASK [Only beta] ***************************************************************\ntask path: <DIR>/site.yml:10\n"), "{stdout}");
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux").arg("-L").arg(socket).args(args).output().expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills the test's own tmux server (its private socket) however the test ends.
struct TmuxServer(String);

impl Drop for TmuxServer {
    fn drop(&mut self) {
        tmux(&self.0, &["kill-server"]);
    }
}

#[test]
fn output_terminal_progress_bar_names_the_slowest_host_and_never_tears() {
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is missing: apt-get install tmux (tests/run-all.sh installs it)");
    }
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["quick1", "quick2", "slowpoke"]).write(
        "slow.yml",
        "- hosts: test\n  gather_facts: false\n  tasks:\n    - name: Sleep\n      command: sleep {{ 4 if inventory_hostname == 'slowpoke' else 0.2 }}\n    - name: After\n      command: \"true\"\n",
    );
    let home = p.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join(".ssh/known_hosts")).unwrap();
    let script = format!(
        "env -u SSH_AUTH_SOCK -u NO_COLOR HOME={home} {bin} playbook -i {inv} {pb}; echo EXIT=$?; sleep 60",
        home = home.display(),
        bin = env!("CARGO_BIN_EXE_stockman"),
        inv = p.path("hosts.ini").display(),
        pb = p.path("slow.yml").display(),
    );
    let socket = format!("stockman-test-{}", std::process::id());
    let _server = TmuxServer(socket.clone());
    tmux(&socket, &["-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "120", "-y", "40", &script]);

    let started = Instant::now();
    let mut saw_bar = false;
    let screen = loop {
        let screen = tmux(&socket, &["capture-pane", "-p", "-t", "t"]);
        saw_bar |= screen.contains("hosts done") && screen.contains("slowest: slowpoke");
        if screen.contains("EXIT=") || started.elapsed() > Duration::from_secs(30) {
            break screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(saw_bar, "the bar showed hosts done and the slowest host while slowpoke slept:\n{screen}");
    let banner = regex::Regex::new(r"^(PLAY \[.*\]|TASK \[.*\]|PLAY RECAP) \*+$").unwrap();
    let result = regex::Regex::new(r"^changed: \[(quick1|quick2|slowpoke)\]$").unwrap();
    let recap = regex::Regex::new(r"^(quick1|quick2|slowpoke) +: ok=2 +changed=2 +unreachable=0 +failed=0 +skipped=0 +rescued=0 +ignored=0$").unwrap();
    let lines: Vec<&str> = screen.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    for line in &lines {
        assert!(banner.is_match(line) || result.is_match(line) || recap.is_match(line) || *line == "EXIT=0", "torn or stray line {line:?}:\n{screen}");
    }
    assert_eq!(lines.iter().filter(|l| result.is_match(l)).count(), 6, "{screen}");
    assert_eq!(lines.iter().filter(|l| recap.is_match(l)).count(), 3, "{screen}");
}
