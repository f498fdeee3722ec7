//! `--output json`: every stdout line is a JSON event of the documented schema
//! (docs/output-json.md); human output moves to stderr; no_log stays censored.

use std::process::Command;

use serde_json::Value;

use crate::run::{Project, Run};
use crate::sshd::TestSshd;

/// Runs `stockman playbook -i hosts.ini PLAYBOOK ARGS...` like [`Project::run`], with extra environment.
pub fn run_env(p: &Project, sshd: &TestSshd, playbook: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = p.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join(".ssh/known_hosts")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockman"));
    cmd.arg("playbook").arg("-i").arg(p.path("hosts.ini")).arg(p.path(playbook)).args(args);
    cmd.current_dir(p.dir.path()).env("HOME", &home).env_remove("SSH_AUTH_SOCK").env_remove("ANSIBLE_HOST_KEY_CHECKING").env_remove("STOCKMAN_OUTPUT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run stockman");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every stdout line, parsed; panics on a line that is not a JSON object with schema 1.
pub fn events(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{}", run.stdout));
            assert_eq!(v["schema"], 1, "{line}");
            assert!(v["event"].is_string(), "{line}");
            v
        })
        .collect()
}

/// The fields every event of a kind must carry: the schema contract. Removing
/// or renaming a field must fail here (and bump the schema version).
const REQUIRED: &[(&str, &[&str])] = &[
    ("playbook_start", &["path", "check"]),
    ("play_start", &["play"]),
    ("task_start", &["play", "task", "kind", "path", "hosts"]),
    ("host_result", &["play", "task", "kind", "path", "host", "status", "changed", "ignored", "msg", "item", "diff", "duration_ms", "result"]),
    ("recap", &["hosts"]),
    ("exit", &["code"]),
];

const SITE: &str = r#"
- name: Site
  hosts: test
  gather_facts: false
  tasks:
    - name: Write a file
      copy:
        content: "hello {{ inventory_hostname }}\n"
        dest: "{{ remote }}/{{ inventory_hostname }}.txt"
      notify: announce
    - name: Never on alpha
      command: "true"
      when: inventory_hostname != 'alpha'
    - name: Fails but is ignored
      command: "false"
      ignore_errors: true
  handlers:
    - name: announce
      debug:
        msg: "{{ inventory_hostname }} changed"
"#;

fn site(sshd: &TestSshd) -> Project {
    let p = Project::new();
    p.inventory(sshd, &["alpha", "beta"]).write("site.yml", SITE);
    p
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

#[test]
fn output_json_lines_follow_the_schema() {
    let sshd = TestSshd::start();
    let p = site(&sshd);
    let remote = format!("remote={}", p.remote_str());
    let run = run_env(&p, &sshd, "site.yml", &["-e", &remote, "--diff", "--output", "json"], &[]);
    run.assert_code(0);
    let events = events(&run);
    for e in &events {
        let kind = e["event"].as_str().unwrap();
        if let Some((_, fields)) = REQUIRED.iter().find(|(k, _)| *k == kind) {
            for field in *fields {
                assert!(e.get(*field).is_some(), "`{kind}` lacks `{field}`: {e}");
            }
        }
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..3], ["playbook_start", "play_start", "task_start"], "{kinds:?}");
    assert_eq!(&kinds[kinds.len() - 2..], ["recap", "exit"], "{kinds:?}");
    assert_eq!(events.last().unwrap()["code"], 0);

    let results = of_kind(&events, "host_result");
    assert_eq!(results.len(), 2 * 3 + 2, "three tasks and a handler on two hosts: {kinds:?}");
    let write = results.iter().find(|r| r["task"] == "Write a file" && r["host"] == "alpha").unwrap();
    assert_eq!(write["status"], "changed");
    assert_eq!(write["changed"], true);
    assert_eq!(write["kind"], "task");
    assert!(write["path"].as_str().unwrap().ends_with("site.yml:6"), "{write}");
    assert!(write["duration_ms"].is_u64(), "{write}");
    assert!(write["diff"][0]["unified"].as_str().unwrap().contains("+hello alpha"), "JSON carries the diff: {write}");
    let skipped = results.iter().find(|r| r["task"] == "Never on alpha" && r["host"] == "alpha").unwrap();
    assert_eq!(skipped["status"], "skipped");
    let ignored = results.iter().find(|r| r["task"] == "Fails but is ignored" && r["host"] == "beta").unwrap();
    assert_eq!((ignored["status"].as_str(), ignored["ignored"].as_bool()), (Some("failed"), Some(true)));
    assert_eq!(ignored["result"]["rc"], 1);
    let handler = results.iter().find(|r| r["kind"] == "handler" && r["host"] == "beta").unwrap();
    assert_eq!(handler["msg"], "beta changed");
    assert!(of_kind(&events, "task_start").iter().any(|t| t["kind"] == "handler" && t["task"] == "announce"));

    let recap = &of_kind(&events, "recap")[0]["hosts"];
    assert_eq!(recap["alpha"]["changed"], 2, "{recap}");
    assert_eq!(recap["alpha"]["skipped"], 1, "{recap}");
    assert_eq!(recap["beta"]["ignored"], 1, "{recap}");
    assert!(run.stderr.contains("PLAY RECAP"), "human output goes to stderr:\n{}", run.stderr);
}

#[test]
fn output_json_from_the_environment() {
    let sshd = TestSshd::start();
    let p = site(&sshd);
    let remote = format!("remote={}", p.remote_str());
    let run = run_env(&p, &sshd, "site.yml", &["-e", &remote, "--check"], &[("STOCKMAN_OUTPUT", "json")]);
    run.assert_code(0);
    let events = events(&run);
    assert_eq!(events[0]["event"], "playbook_start");
    assert_eq!(events[0]["check"], true);
    assert!(!p.remote("alpha.txt").exists(), "check mode wrote a file");
}

/// A one-host, one-task run, line for line, with times and paths normalised.
#[test]
fn output_json_golden() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["solo"]).write(
        "hello.yml",
        "- name: Hello\n  hosts: all\n  gather_facts: false\n  tasks:\n    - name: Say hello\n      debug:\n        msg: \"hi <&> \\\"quoted\\\"\"\n",
    );
    let run = run_env(&p, &sshd, "hello.yml", &["--output", "json"], &[]);
    run.assert_code(0);
    let dir = p.dir.path().display().to_string();
    let re = regex::Regex::new(r#""duration_ms":\d+"#).unwrap();
    let text = re.replace_all(&run.stdout.replace(&dir, "<DIR>"), r#""duration_ms":<MS>"#).into_owned();
    let expected = r#"{"schema":1,"event":"playbook_start","path":"<DIR>/hello.yml","check":false}
{"schema":1,"event":"play_start","play":"Hello"}
{"schema":1,"event":"task_start","play":"Hello","task":"Say hello","kind":"task","path":"<DIR>/hello.yml:5","hosts":1}
{"schema":1,"event":"host_result","play":"Hello","task":"Say hello","kind":"task","path":"<DIR>/hello.yml:5","host":"solo","status":"ok","changed":false,"ignored":false,"msg":"hi <&> \"quoted\"","item":null,"diff":[],"duration_ms":<MS>,"result":{"changed":false,"msg":"hi <&> \"quoted\""}}
{"schema":1,"event":"recap","hosts":{"solo":{"ok":1,"changed":0,"unreachable":0,"failed":0,"skipped":0,"rescued":0,"ignored":0}}}
{"schema":1,"event":"exit","code":0}
"#;
    assert_eq!(text, expected);
}

const SECRET: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    token: s3cr3t-t0ken
  tasks:
    - name: uses the secret
      shell: echo {{ token }}
      no_log: true
    - name: diff of a secret file
      copy:
        content: "{{ token }}\n"
        dest: "{{ remote }}/secret"
      no_log: true
    - name: fails with the secret
      shell: echo {{ token }}; exit 3
      no_log: "{{ 1 == 1 }}"
"#;

#[test]
fn output_no_log_secret_never_in_json_or_junit() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("secret.yml", SECRET);
    let remote = format!("remote={}", p.remote_str());
    let junit = p.path("report.xml");
    for verbosity in ["-v", "-vvvv"] {
        let args = ["-e", &remote, "--diff", verbosity, "--output", "json", "--junit", junit.to_str().unwrap()];
        let run = run_env(&p, &sshd, "secret.yml", &args, &[]);
        run.assert_code(2);
        let xml = std::fs::read_to_string(&junit).unwrap();
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr), ("junit", &xml)] {
            assert!(!text.contains("s3cr3t"), "secret leaked into {name} at {verbosity}:\n{text}");
            assert!(text.contains("the output has been hidden"), "{name} shows the censored text:\n{text}");
        }
        let events = events(&run);
        let failed = events.iter().find(|e| e["event"] == "host_result" && e["status"] == "failed").unwrap();
        assert_eq!(failed["msg"], stockman::report::CENSORED, "{failed}");
        assert!(failed["diff"].as_array().unwrap().is_empty());
        assert!(xml.contains("<failure type=\"failed\""), "{xml}");
    }
}
