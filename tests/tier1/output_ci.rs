//! CI features of the real binary: the JUnit report, --detailed-exitcode drift
//! detection on a real host, --profile.

use crate::output_json::{events, run_env};
use crate::run::Project;
use crate::sshd::TestSshd;

const SITE: &str = r#"
- name: Site
  hosts: test
  gather_facts: false
  tasks:
    - name: Config file
      copy:
        content: "port=8080\n"
        dest: "{{ remote }}/{{ inventory_hostname }}.conf"
    - name: Skipped everywhere
      command: "true"
      when: false
"#;

fn project(sshd: &TestSshd, hosts: &[&str], playbook: &str) -> (Project, String) {
    let p = Project::new();
    p.inventory(sshd, hosts).write("site.yml", playbook);
    let remote = format!("remote={}", p.remote_str());
    (p, remote)
}

#[test]
fn output_detailed_exitcode_detects_drift_without_changing_anything() {
    let sshd = TestSshd::start();
    let (p, remote) = project(&sshd, &["web1", "web2"], SITE);
    let check = |p: &Project| p.run(&sshd, "site.yml", &["-e", &remote, "--check", "--detailed-exitcode"]);

    check(&p).assert_code(2);
    assert!(!p.remote("web1.conf").exists(), "--check changed the host");
    p.run(&sshd, "site.yml", &["-e", &remote]).assert_code(0);
    check(&p).assert_code(0);

    // Someone edits a file by hand: drift, reported and left alone.
    std::fs::write(p.remote("web2.conf"), "port=9999\n").unwrap();
    let drift = check(&p);
    drift.assert_code(2);
    assert!(drift.stdout.contains("changed: [web2]") && drift.stdout.contains("ok: [web1]"), "{}", drift.stdout);
    assert_eq!(std::fs::read_to_string(p.remote("web2.conf")).unwrap(), "port=9999\n");

    // Without the flag, ansible-playbook's codes: drift alone is success.
    p.run(&sshd, "site.yml", &["-e", &remote, "--check"]).assert_code(0);
}

#[test]
fn output_detailed_exitcode_failure_wins_over_drift() {
    let sshd = TestSshd::start();
    // An undefined variable fails in check mode too (commands would be skipped).
    let playbook = format!("{SITE}    - name: Breaks\n      debug:\n        msg: \"{{{{ undefined_variable }}}}\"\n");
    let (p, remote) = project(&sshd, &["web1"], &playbook);
    let failed = p.run(&sshd, "site.yml", &["-e", &remote, "--check", "--detailed-exitcode"]);
    failed.assert_code(1);
    // Ansible's own code for a failed host is kept without the flag.
    p.run(&sshd, "site.yml", &["-e", &remote, "--check"]).assert_code(2);
    // The JSON exit event carries the final code.
    let json = run_env(&p, &sshd, "site.yml", &["-e", &remote, "--check", "--detailed-exitcode", "--output", "json"], &[]);
    json.assert_code(1);
    assert_eq!(events(&json).last().unwrap()["code"], 1);
}

#[test]
fn output_detailed_exitcode_unreachable_and_usage_errors() {
    let sshd = TestSshd::start();
    let (p, remote) = project(&sshd, &["web1"], SITE);
    let mut inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    inventory.push_str("down ansible_host=127.0.0.1 ansible_port=1\n");
    p.write("hosts.ini", &inventory);
    p.run(&sshd, "site.yml", &["-e", &remote, "--check", "--detailed-exitcode"]).assert_code(4);
    // Usage errors must not look like drift (clap's own code would be 2).
    let usage = p.run(&sshd, "site.yml", &["--detailed-exitcode"]);
    usage.assert_code(5);
    assert!(usage.stderr.contains("--check"), "{}", usage.stderr);
}

#[test]
fn output_junit_report_parses_and_names_failures() {
    let sshd = TestSshd::start();
    let hostile = "quote\" apos' <tag> & \u{1b}[31m\nnext line";
    // JSON's string syntax is also YAML's double-quoted one.
    let playbook = format!(
        "{SITE}    - name: Breaks <on> \"beta\"\n      shell: printf '%s' {{{{ text | quote }}}} >&2; exit 3\n      when: inventory_hostname == 'beta'\n      vars:\n        text: {}\n",
        serde_json::to_string(hostile).unwrap()
    );
    let (p, remote) = project(&sshd, &["alpha", "beta"], &playbook);
    let mut inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    inventory.push_str("down ansible_host=127.0.0.1 ansible_port=1\n");
    p.write("hosts.ini", &inventory);
    let report = p.path("out/junit.xml");
    std::fs::create_dir_all(p.path("out")).unwrap();
    let run = p.run(&sshd, "site.yml", &["-e", &remote, "--junit", report.to_str().unwrap()]);
    run.assert_code(4);

    let xml = std::fs::read_to_string(&report).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not well-formed ({e}):\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<_> = root.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    // Three hosts for the first task; `down` is then out; two hosts for the others.
    assert_eq!(cases.len(), 3 + 2 + 2, "{xml}");
    assert_eq!(root.attribute("tests"), Some("7"));
    let case = |name: &str| cases.iter().find(|c| c.attribute("name") == Some(name)).unwrap_or_else(|| panic!("no testcase {name}:\n{xml}"));
    let failure = |name: &str| case(name).children().find(|n| n.has_tag_name("failure"));

    let unreachable = failure("[down] Site: Config file").expect("unreachable is a failure");
    assert_eq!(unreachable.attribute("type"), Some("unreachable"));
    assert!(!unreachable.attribute("message").unwrap().is_empty());
    let broken = failure("[beta] Site: Breaks <on> \"beta\"").expect("failed is a failure");
    assert_eq!(broken.attribute("type"), Some("failed"));
    let body = broken.text().unwrap();
    let stderr = format!("\"stderr\": {}", serde_json::to_string(hostile).unwrap());
    assert!(body.contains(&stderr), "stderr survives escaping: {body}");
    assert_eq!(broken.attribute("message"), Some("non-zero return code"));
    assert!(failure("[alpha] Site: Config file").is_none());
    assert!(case("[alpha] Site: Skipped everywhere").children().any(|n| n.has_tag_name("skipped")));
    assert!(case("[alpha] Site: Breaks <on> \"beta\"").children().any(|n| n.has_tag_name("skipped")));
    assert_eq!(root.attribute("failures"), Some("2"));
    assert!(case("[alpha] Site: Config file").attribute("file").unwrap().ends_with("site.yml"));
    assert_eq!(case("[alpha] Site: Config file").attribute("line"), Some("6"));
}

#[test]
fn output_junit_unwritable_path_fails_before_the_run() {
    let sshd = TestSshd::start();
    let (p, remote) = project(&sshd, &["web1"], SITE);
    let run = p.run(&sshd, "site.yml", &["-e", &remote, "--junit", "/nonexistent-dir/junit.xml"]);
    run.assert_code(5);
    assert!(run.stderr.contains("/nonexistent-dir/junit.xml"), "{}", run.stderr);
    assert!(!p.remote("web1.conf").exists(), "the run went ahead");
}

#[test]
fn output_profile_lists_task_times_after_the_recap() {
    let sshd = TestSshd::start();
    let playbook = format!("{SITE}    - name: Slow one\n      command: sleep 0.3\n");
    let (p, remote) = project(&sshd, &["web1"], &playbook);
    let run = p.run(&sshd, "site.yml", &["-e", &remote, "--profile"]);
    run.assert_code(0);
    let after_recap = run.stdout.split("PLAY RECAP").nth(1).unwrap();
    let summary = after_recap.split(&"=".repeat(79)).nth(1).unwrap_or_else(|| panic!("no summary:\n{}", run.stdout));
    let lines: Vec<&str> = summary.trim().lines().collect();
    assert_eq!(lines.len(), 3, "{summary}");
    let secs = |line: &str| -> f64 { line.rsplit(' ').next().unwrap().trim_end_matches('s').parse().unwrap() };
    assert!(lines.windows(2).all(|w| secs(w[0]) >= secs(w[1])), "slowest first:\n{summary}");
    let slow = lines.iter().find(|l| l.starts_with("Slow one ---")).unwrap_or_else(|| panic!("{summary}"));
    assert!(secs(slow) >= 0.3, "{summary}");
    // A timing line under each task banner, as profile_tasks prints.
    let timing = regex::Regex::new(r"TASK \[Config file\] \*+\n\(0:00:00\.\d{3}\)       0:00:\d\d\.\d{3}\n").unwrap();
    assert!(timing.is_match(&run.stdout), "{}", run.stdout);
}
