//! The run history (issue 19, part 2): every playbook run recorded as it goes, in SQLite
//! by default or PostgreSQL (`--history-url`), read back by `stockman history`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::output_json::{events, run_env};
use crate::run::{Project, Run};
use crate::sshd::TestSshd;

/// The environment every run here gets: its own state directory (so its own history.db).
fn state_env(p: &Project) -> Vec<(&'static str, String)> {
    vec![("XDG_STATE_HOME", p.path("state").display().to_string())]
}

fn db_path(p: &Project) -> PathBuf {
    p.path("state/stockman/history.db")
}

fn playbook(p: &Project, sshd: &TestSshd, name: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let state = state_env(p);
    let mut env: Vec<(&str, &str)> = state.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra_env);
    run_env(p, sshd, name, args, &env)
}

/// `stockman history ARGS... --output json`, parsed.
fn history_json(p: &Project, args: &[&str]) -> Value {
    let out = history(p, args, &["--output", "json"]);
    assert!(out.status.success(), "stockman history {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn history(p: &Project, args: &[&str], more: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockman"));
    cmd.arg("history").args(args).args(more).current_dir(p.dir.path()).env("HOME", p.path("home")).env_remove("STOCKMAN_HISTORY_URL");
    for (k, v) in state_env(p) {
        cmd.env(k, v);
    }
    cmd.output().expect("run stockman history")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(["-c", "user.name=t", "-c", "user.email=t@t", "-C"]).arg(dir).args(args).output().expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const SITE: &str = r#"
- name: Site
  hosts: test
  gather_facts: false
  tasks:
    - name: Write a file
      copy:
        content: "hello {{ inventory_hostname }} {{ version }}\n"
        dest: "{{ remote }}/{{ inventory_hostname }}.txt"
    - name: Loop
      debug:
        msg: "item {{ item }}"
      loop: [a, b]
    - name: Fails but is ignored
      command: "false"
      ignore_errors: true
"#;

/// The fields of a `host_result` event that the history keeps, as the history shows them.
const KEPT: &[&str] = &["play", "task", "kind", "path", "host", "status", "changed", "ignored", "msg", "item", "diff", "duration_ms", "result"];

#[test]
fn history_records_what_the_json_events_say() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["alpha", "beta"]).write("site.yml", SITE);
    git(p.dir.path(), &["init", "-q"]);
    git(p.dir.path(), &["add", "site.yml"]);
    git(p.dir.path(), &["commit", "-qm", "site"]);
    let head = git(p.dir.path(), &["rev-parse", "HEAD"]);
    let remote = format!("remote={}", p.remote_str());
    let run = playbook(&p, &sshd, "site.yml", &["-e", &remote, "-e", "version=1", "--diff", "--output", "json"], &[]);
    run.assert_code(0);
    let events = events(&run);
    let results: Vec<&Value> = events.iter().filter(|e| e["event"] == "host_result").collect();
    assert!(results.len() >= 8, "{}", run.stdout);

    let shown = history_json(&p, &["show", "last"]);
    assert_eq!(shown["complete"], true, "{shown}");
    assert_eq!(shown["exit_code"], events.last().unwrap()["code"]);
    let recorded = shown["results"].as_array().unwrap();
    assert_eq!(recorded.len(), results.len(), "one row per host_result event: {shown}");
    for (event, row) in results.iter().zip(recorded) {
        for field in KEPT {
            assert_eq!(event[*field], row[*field], "`{field}` of {event}\nrecorded as {row}");
        }
    }
    let write = recorded.iter().find(|r| r["task"] == "Write a file" && r["host"] == "alpha").unwrap();
    assert!(write["diff"][0]["unified"].as_str().unwrap().contains("+hello alpha 1"), "{write}");
    assert_eq!(shown["playbooks"][0]["git"]["revision"], head.as_str(), "{shown}");
    assert_eq!(shown["playbooks"][0]["git"]["dirty"], false);
    let command: Vec<&str> = shown["command"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(command.contains(&"version=********") && command.contains(&"--diff"), "inline -e values are censored, flags kept: {command:?}");
    assert!(shown["inventory"][0].as_str().unwrap().ends_with("hosts.ini"), "{shown}");

    // A second run at a new version changes alpha's file again; one that skips beta.
    std::fs::write(p.path("site.yml"), SITE.replace("hello", "hi")).unwrap();
    playbook(&p, &sshd, "site.yml", &["-e", &remote, "-e", "version=2", "--diff", "-l", "alpha"], &[]).assert_code(0);
    playbook(&p, &sshd, "site.yml", &["-e", &remote, "-e", "version=2", "-l", "alpha"], &[]).assert_code(0);
    let runs = history_json(&p, &["list"]);
    assert_eq!(runs.as_array().unwrap().len(), 3, "{runs}");
    assert_eq!(runs[0]["playbooks"][0]["git"]["dirty"], true, "site.yml changed since the commit: {runs}");
    assert_eq!(history_json(&p, &["list", "--host", "beta"]).as_array().unwrap().len(), 1);
    assert_eq!(history_json(&p, &["list", "--host", "nobody"]).as_array().unwrap().len(), 0);
    assert_eq!(history_json(&p, &["list", "--since", "1h"]).as_array().unwrap().len(), 3);
    assert_eq!(history_json(&p, &["list", "--since", "2000-01-01", "--last", "1"]).as_array().unwrap().len(), 1);
    assert_eq!(history_json(&p, &["list", "--failed"]).as_array().unwrap().len(), 0, "an ignored failure is no failure");
    let only_beta = history_json(&p, &["show", runs[2]["id"].as_str().unwrap(), "--host", "beta"]);
    assert!(only_beta["results"].as_array().unwrap().iter().all(|r| r["host"] == "beta"), "{only_beta}");

    // Drift: alpha's file last changed in the second run (to "hi alpha 2"); the loop never changes.
    let drift = history_json(&p, &["drift", "alpha"]);
    let tasks = drift["tasks"].as_array().unwrap();
    let write = tasks.iter().find(|t| t["task"] == "Write a file").unwrap();
    assert_eq!(write["last_change"]["run"], runs[1]["id"], "{drift}");
    assert!(write["last_change"]["diff"][0]["unified"].as_str().unwrap().contains("+hi alpha 2"), "{drift}");
    assert_eq!(write["runs"], 3);
    let looped = tasks.iter().find(|t| t["task"] == "Loop").unwrap();
    assert!(looped["last_change"].is_null(), "{drift}");

    // The text forms say the same.
    let text = String::from_utf8(history(&p, &["drift", "alpha"], &[]).stdout).unwrap();
    assert!(text.contains("last changed") && text.contains("never changed") && text.contains("+hi alpha 2"), "{text}");
    let list = String::from_utf8(history(&p, &["list"], &[]).stdout).unwrap();
    assert!(list.starts_with("RUN ") && list.contains(runs[0]["id"].as_str().unwrap()) && list.contains("changed"), "{list}");
}

const FAILS: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - command: "false"
"#;

#[test]
fn history_lists_failed_runs_and_reads_nothing_it_was_not_given() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("fails.yml", FAILS);
    let missing = history(&p, &["list"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no run history at"), "{}", String::from_utf8_lossy(&missing.stderr));
    assert!(!db_path(&p).exists(), "reading never creates a history");
    playbook(&p, &sshd, "fails.yml", &[], &[]).assert_code(2);
    let failed = history_json(&p, &["list", "--failed"]);
    assert_eq!(failed.as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed[0]["exit_code"], 2);
    for (args, wanted) in [(&["show", "zz"][..], "is not a run id"), (&["show", "0123"][..], "no run `0123`"), (&["list", "--since", "soon"][..], "--since `soon`")] {
        let out = history(&p, args, &[]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(wanted), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn history_is_off_with_the_flag_the_variable_or_the_setting() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("fails.yml", FAILS);
    playbook(&p, &sshd, "fails.yml", &["--no-history"], &[]).assert_code(2);
    playbook(&p, &sshd, "fails.yml", &[], &[("STOCKMAN_HISTORY", "0")]).assert_code(2);
    p.write("ansible.cfg", "[stockman]\nhistory = False\n");
    let run = playbook(&p, &sshd, "fails.yml", &[], &[]);
    run.assert_code(2);
    assert!(!run.stderr.contains("WARNING"), "[stockman] keys are known ones: {}", run.stderr);
    assert!(!db_path(&p).exists(), "nothing recorded");
    // The variable wins over the file, as ANSIBLE_* variables do.
    playbook(&p, &sshd, "fails.yml", &[], &[("STOCKMAN_HISTORY", "1")]).assert_code(2);
    assert!(db_path(&p).exists());
}

#[test]
fn concurrent_runs_write_one_history() {
    // Twelve logins at once: past sshd's default MaxStartups (10) it drops
    // connections at random, which is no fault of the history.
    let sshd = TestSshd::start_with(|_| "MaxStartups 100\n".to_string());
    let p = Project::new();
    p.inventory(&sshd, &["a", "b", "c"]).write("site.yml", SITE);
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|i| {
                // Each run its own files: only the history is shared.
                let remote = p.remote(&format!("run{i}"));
                std::fs::create_dir_all(&remote).unwrap();
                let (p, sshd) = (&p, &sshd);
                s.spawn(move || playbook(p, sshd, "site.yml", &["-e", &format!("remote={}", remote.display()), "-e", &format!("version={i}")], &[]))
            })
            .collect();
        for run in runs {
            let run = run.join().unwrap();
            run.assert_code(0);
            assert!(!run.stderr.contains("history"), "every run recorded: {}", run.stderr);
        }
    });
    let runs = history_json(&p, &["list"]);
    assert_eq!(runs.as_array().unwrap().len(), 4, "{runs}");
    for run in runs.as_array().unwrap() {
        assert_eq!(run["complete"], true, "{run}");
        let shown = history_json(&p, &["show", run["id"].as_str().unwrap()]);
        // Every task on all three hosts.
        let results = shown["results"].as_array().unwrap();
        assert_eq!(results.iter().filter(|r| r["task"] == "Write a file").count(), 3, "{shown}");
        assert_eq!(results.iter().filter(|r| r["task"] == "Fails but is ignored").count(), 3, "{shown}");
    }
}

const SLOW: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - name: Before
      debug:
        msg: started
    - name: Takes long
      command: sleep 60
    - name: Never reached
      debug:
        msg: after
"#;

#[test]
fn a_killed_run_leaves_a_readable_incomplete_record() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("slow.yml", SLOW);
    let mut cmd = p.command(Some(sshd.known_hosts.as_path()), "slow.yml", &[]);
    for (k, v) in state_env(&p) {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Wait until the history holds the first task's result, then kill the run mid-task.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "the first result never reached the history");
        if db_path(&p).exists() {
            let out = history(&p, &["show", "last"], &["--output", "json"]);
            let shown: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            if shown["results"].as_array().is_some_and(|r| !r.is_empty()) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL: no chance to write anything more
    child.wait().unwrap();
    let shown = history_json(&p, &["show", "last"]);
    assert_eq!(shown["complete"], false, "{shown}");
    assert!(shown["exit_code"].is_null() && shown["ended"].is_null(), "{shown}");
    assert_eq!(shown["results"][0]["task"], "Before");
    assert!(shown["results"].as_array().unwrap().iter().all(|r| r["task"] != "Never reached"), "{shown}");
    let text = String::from_utf8(history(&p, &["list"], &[]).stdout).unwrap();
    assert!(text.contains("incomplete"), "{text}");
    let text = String::from_utf8(history(&p, &["show", "last"], &[]).stdout).unwrap();
    assert!(text.contains("never: the run was killed"), "{text}");
}

const SECRETS: &str = r#"
- hosts: test
  gather_facts: false
  vars_files: [vaulted.yml]
  vars:
    token: s3cr3t-t0ken
  tasks:
    - name: uses the secret
      shell: echo {{ token }}
      no_log: true
    - name: a secret file's diff
      copy:
        content: "{{ token }}\n"
        dest: "{{ remote }}/secret"
      no_log: true
    - name: shows a vaulted value
      debug:
        msg: "the key is {{ vault_key }}"
"#;

/// Every byte of the history's files (the database and, while open, its WAL).
fn history_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn no_secret_reaches_the_history() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("secrets.yml", SECRETS).write("vault-pw", "Vault-pw-93\n");
    // An inline `!vault` value: censored in every output (a wholly encrypted vars file's values are not, as in Ansible).
    let enc = Command::new(env!("CARGO_BIN_EXE_stockman"))
        .args(["vault", "encrypt_string", "--vault-password-file", "vault-pw", "--name", "vault_key", "V4ulted-k3y"])
        .current_dir(p.dir.path())
        .output()
        .unwrap();
    assert!(enc.status.success(), "{}", String::from_utf8_lossy(&enc.stderr));
    p.write("vaulted.yml", &String::from_utf8(enc.stdout).unwrap());
    let remote = format!("remote={}", p.remote_str());
    let args = ["-e", &remote, "-e", "ansible_become_password=B3come-pw", "--vault-password-file", "vault-pw", "--diff", "-vvv"];
    let run = playbook(&p, &sshd, "secrets.yml", &args, &[]);
    run.assert_code(0);
    let shown = history_json(&p, &["show", "last"]);
    assert_eq!(shown["results"].as_array().unwrap().len(), 3, "{shown}");
    assert!(shown.to_string().contains("the output has been hidden"), "{shown}");
    let bytes = history_bytes(&p.path("state/stockman"));
    assert!(contains(&bytes, "shows a vaulted value"), "the test reads the real database");
    for secret in ["s3cr3t-t0ken", "B3come-pw", "Vault-pw-93", "V4ulted-k3y"] {
        assert!(!contains(&bytes, secret), "`{secret}` is in the history database");
    }
}

#[test]
fn an_unreachable_history_database_does_not_stop_the_run() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("fails.yml", FAILS);
    // Port 1 on 127.0.0.1: nothing listens there.
    let run = playbook(&p, &sshd, "fails.yml", &["--history-url", "postgres://ci:Pg-s3cret@127.0.0.1:1/history"], &[]);
    run.assert_code(2);
    assert!(run.stdout.contains("PLAY RECAP"), "the run ran: {}", run.stdout);
    let warning = run.stderr.lines().find(|l| l.contains("the run history was not written")).unwrap_or_else(|| panic!("no warning: {}", run.stderr));
    assert!(warning.contains("postgres://ci:********@127.0.0.1:1/history") && warning.contains("refused"), "{warning}");
    assert!(!run.stdout.contains("Pg-s3cret") && !run.stderr.contains("Pg-s3cret"), "{}{}", run.stdout, run.stderr);
    let bad = playbook(&p, &sshd, "fails.yml", &["--history-url", "mysql://ci:Pg-s3cret@db/h"], &[]);
    assert_eq!(bad.code, 5, "{}", bad.stderr);
    assert!(bad.stderr.contains("give a postgres:// URL") && !bad.stderr.contains("Pg-s3cret"), "{}", bad.stderr);
}

/// The PostgreSQL server tests/postgres/server started (tests/run-all.sh does).
fn postgres_url() -> String {
    std::env::var("STOCKMAN_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("STOCKMAN_TEST_POSTGRES_URL is not set: start a server with `tests/postgres/server start DIR` (tests/run-all.sh does) and export the URL it prints")
    })
}

#[test]
fn history_postgres_holds_the_same_records() {
    let url = postgres_url();
    let password = url.split(':').nth(2).and_then(|s| s.split('@').next()).unwrap().to_string();
    let sshd = TestSshd::start();
    let p = Project::new();
    // Host names of this test's own, so runs of other tests in the shared database do not count.
    let tag = format!("pg{}", std::process::id());
    let (a, b) = (format!("{tag}a"), format!("{tag}b"));
    p.inventory(&sshd, &[&a, &b]).write("site.yml", SITE);
    let remote = format!("remote={}", p.remote_str());
    let run = playbook(&p, &sshd, "site.yml", &["-e", &remote, "-e", "version=1", "--diff", "--output", "json", "--history-url", &url], &[]);
    run.assert_code(0);
    assert!(!run.stderr.contains("history"), "{}", run.stderr);
    // The setting (here its variable) works as the flag does; two runs at once are fine.
    std::thread::scope(|s| {
        let (p, sshd, remote, url) = (&p, &sshd, &remote, &url);
        let two: Vec<_> = (2..4).map(|i| s.spawn(move || playbook(p, sshd, "site.yml", &["-e", remote, "-e", &format!("version={i}")], &[("STOCKMAN_HISTORY_URL", url)]))).collect();
        for r in two {
            r.join().unwrap().assert_code(0);
        }
    });
    assert!(!db_path(&p).exists(), "PostgreSQL instead of the file");

    let pg = |args: &[&str]| history_json(&p, &[args, &["--history-url", &url]].concat());
    let runs = pg(&["list", "--host", &a]);
    assert_eq!(runs.as_array().unwrap().len(), 3, "{runs}");
    let first = pg(&["show", runs[2]["id"].as_str().unwrap()]);
    let results: Vec<Value> = events(&run).into_iter().filter(|e| e["event"] == "host_result").collect();
    let recorded = first["results"].as_array().unwrap();
    assert_eq!(recorded.len(), results.len(), "{first}");
    for (event, row) in results.iter().zip(recorded) {
        for field in KEPT {
            assert_eq!(event[*field], row[*field], "`{field}` of {event}\nrecorded as {row}");
        }
    }
    assert!(first["command"].to_string().contains("--history-url") && !first.to_string().contains(&password), "the URL's password is censored: {first}");
    let drift = pg(&["drift", &b]);
    let write = drift["tasks"].as_array().unwrap().iter().find(|t| t["task"] == "Write a file").unwrap().clone();
    assert_eq!(write["runs"], 3, "{drift}");
    assert!(write["last_change"]["diff"].is_array(), "{drift}");
    // The schema is versioned in the database itself.
    let version = Command::new("psql").arg(&url).args(["-tAc", "SELECT MAX(version) FROM stockman_schema"]).output().expect("psql");
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), "1", "{}", String::from_utf8_lossy(&version.stderr));
}
