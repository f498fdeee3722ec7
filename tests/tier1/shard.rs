//! `--shard I/N` and `stockman merge` against the tier-1 sshd: each engine's
//! variables exactly as the engine sets them, N processes whose hosts are
//! disjoint and together all of them, refusals of plays that do not split,
//! and the merged recap, exit code and JUnit report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use crate::output_json::events;
use crate::run::{Project, Run};
use crate::sshd::TestSshd;

/// Every variable an engine sets that `--shard auto` reads: removed from each
/// run, so that the test's own environment (a CI job) cannot leak in.
const ENGINE_VARS: [&str; 5] = ["JOB_COMPLETION_INDEX", "CI_NODE_INDEX", "CI_NODE_TOTAL", "STOCKMAN_SHARD_INDEX", "STOCKMAN_SHARD_TOTAL"];

const HOSTS: [&str; 7] = ["h0", "h1", "h2", "h3", "h4", "h5", "h6"];

const SITE: &str = r#"
- name: Site
  hosts: test
  gather_facts: false
  tasks:
    - name: Mark the host
      copy:
        content: "{{ groups['test'] | length }} {{ groups['all'] | last }}\n"
        dest: "{{ lookup('env', 'REMOTE') }}/{{ inventory_hostname }}"
    - name: Fail on h4
      fail:
        msg: h4 fails
      when: inventory_hostname == 'h4' and (fail_h4 | default(false) | bool)
"#;

fn run(p: &Project, sshd: &TestSshd, playbook: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = p.command(Some(&sshd.known_hosts), playbook, args);
    for var in ENGINE_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).env_remove("STOCKMAN_OUTPUT");
    finish(cmd)
}

fn finish(mut cmd: Command) -> Run {
    let out = cmd.output().expect("run stockman");
    Run { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

fn merge(p: &Project, args: &[&str], streams: &[PathBuf]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockman"));
    cmd.arg("merge").args(args).args(streams).current_dir(p.dir.path()).env("NO_COLOR", "1");
    finish(cmd)
}

/// The hosts of a run's `recap` event.
fn recap_hosts(run: &Run) -> BTreeSet<String> {
    let events = events(run);
    let recap = events.iter().find(|e| e["event"] == "recap").unwrap_or_else(|| panic!("no recap:\n{}\n{}", run.stdout, run.stderr));
    recap["hosts"].as_object().unwrap().keys().cloned().collect()
}

/// The lines from PLAY RECAP on.
fn recap_block(text: &str) -> String {
    text.lines().skip_while(|l| !l.starts_with("PLAY RECAP")).collect::<Vec<_>>().join("\n").trim_end().to_string()
}

fn project(sshd: &TestSshd) -> Project {
    let p = Project::new();
    p.inventory(sshd, &HOSTS).write("site.yml", SITE);
    p
}

/// Runs the three shards with the variables `engine(i)` gives shard i, writing `events-i.jsonl`.
fn shards(p: &Project, sshd: &TestSshd, tag: &str, flag: &str, engine: impl Fn(usize) -> Vec<(String, String)>, extra: &[&str]) -> Vec<(PathBuf, Run)> {
    (0..3)
        .map(|i| {
            let vars = engine(i);
            let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let flag = flag.replace("{i}", &i.to_string());
            let mut args = vec!["--shard", flag.as_str(), "--output", "json"];
            args.extend_from_slice(extra);
            let run = run(p, sshd, "site.yml", &args, &env);
            let path = p.path(&format!("events-{tag}-{i}.jsonl"));
            std::fs::write(&path, &run.stdout).unwrap();
            (path, run)
        })
        .collect()
}

fn vars(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// The variables an engine gives shard i.
type Engine = Box<dyn Fn(usize) -> Vec<(String, String)>>;

#[test]
fn shard_engines_split_the_hosts_disjointly_and_completely() {
    let sshd = TestSshd::start();
    let p = project(&sshd);
    let engines: Vec<(&str, &str, Engine)> = vec![
        ("explicit", "{i}/3", Box::new(|_| Vec::new())),
        // A Kubernetes Indexed Job sets only the 0-based index.
        ("kubernetes", "auto/3", Box::new(|i| vars(&[("JOB_COMPLETION_INDEX", i.to_string())]))),
        // GitLab's parallel: 1-based index and the total.
        ("gitlab", "auto", Box::new(|i| vars(&[("CI_NODE_INDEX", (i + 1).to_string()), ("CI_NODE_TOTAL", "3".into())]))),
        // The GitHub workflow sets these from its matrix.
        ("github", "auto", Box::new(|i| vars(&[("STOCKMAN_SHARD_INDEX", i.to_string()), ("STOCKMAN_SHARD_TOTAL", "3".into())]))),
    ];
    let mut assignments: BTreeMap<&str, Vec<BTreeSet<String>>> = BTreeMap::new();
    for (name, flag, engine) in &engines {
        let runs = shards(&p, &sshd, name, flag, engine, &[]);
        let sets: Vec<BTreeSet<String>> = runs.iter().map(|(_, r)| recap_hosts(r.assert_code(0))).collect();
        let mut union = BTreeSet::new();
        for set in &sets {
            assert!(union.is_disjoint(set), "{name}: shards overlap: {sets:?}");
            union.extend(set.iter().cloned());
        }
        assert_eq!(union, HOSTS.iter().map(|h| h.to_string()).collect(), "{name}: every host in exactly one shard");
        let sizes: Vec<usize> = sets.iter().map(BTreeSet::len).collect();
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{name}: round-robin balances the shards: {sizes:?}");
        assignments.insert(name, sets);
    }
    let explicit = &assignments["explicit"];
    for (name, sets) in &assignments {
        assert_eq!(sets, explicit, "{name} gives shard i the hosts of --shard i/3");
    }
    // Each shard sees the whole inventory's groups.
    for host in HOSTS {
        assert_eq!(std::fs::read_to_string(p.remote(host)).unwrap(), "7 h6\n", "{host}");
    }
}

#[test]
fn merged_shards_give_the_unsharded_recap_exit_code_and_junit() {
    let sshd = TestSshd::start();
    let p = project(&sshd);
    // The unsharded run writes elsewhere, so that the shards find the same fresh state.
    let elsewhere = tempfile::tempdir().unwrap();
    let whole = run(&p, &sshd, "site.yml", &["-e", "fail_h4=true"], &[("NO_COLOR", "1"), ("REMOTE", elsewhere.path().to_str().unwrap())]);
    whole.assert_code(2);
    let runs = shards(&p, &sshd, "fail", "{i}/3", |_| Vec::new(), &["-e", "fail_h4=true"]);
    let failing: Vec<i32> = runs.iter().map(|(_, r)| r.code).collect();
    assert_eq!(failing.iter().filter(|c| **c == 2).count(), 1, "only h4's shard fails: {failing:?}");
    let streams: Vec<PathBuf> = runs.into_iter().map(|(path, _)| path).collect();
    let junit = p.path("merged.xml");
    let merged = merge(&p, &["--junit", junit.to_str().unwrap()], &streams);
    merged.assert_code(2);
    assert_eq!(recap_block(&merged.stdout), recap_block(&whole.stdout), "merged recap = unsharded recap");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), 1, "one suite for the one playbook:\n{xml}");
    assert_eq!(suites[0].attribute("tests"), Some("14"), "two tasks on seven hosts:\n{xml}");
    assert_eq!(suites[0].attribute("failures"), Some("1"), "{xml}");
    assert!(xml.contains("[h4] Site: Fail on h4"), "{xml}");

    // The order of the streams on the command line does not matter.
    let reversed: Vec<PathBuf> = streams.iter().rev().cloned().collect();
    assert_eq!(recap_block(&merge(&p, &[], &reversed).assert_code(2).stdout), recap_block(&whole.stdout));
}

#[test]
fn merge_exit_codes_rank_failure_unreachable_drift_ok() {
    let sshd = TestSshd::start();
    let p = project(&sshd);
    let check = ["--check"];
    // Check mode, nothing done yet: the copies would change (drift).
    let drift: Vec<PathBuf> = shards(&p, &sshd, "drift", "{i}/3", |_| Vec::new(), &check).into_iter().map(|(path, _)| path).collect();
    merge(&p, &["--detailed-exitcode"], &drift).assert_code(2);
    merge(&p, &[], &drift).assert_code(0);
    // A failed host wins over drift.
    let failed: Vec<PathBuf> = shards(&p, &sshd, "failcheck", "{i}/3", |_| Vec::new(), &["--check", "-e", "fail_h4=true"]).into_iter().map(|(path, _)| path).collect();
    merge(&p, &["--detailed-exitcode"], &failed).assert_code(1);
    merge(&p, &[], &failed).assert_code(2);
    // Without --check, `changed` is not drift: --detailed-exitcode refuses.
    let plain: Vec<PathBuf> = shards(&p, &sshd, "plain", "{i}/3", |_| Vec::new(), &[]).into_iter().map(|(path, _)| path).collect();
    let refused = merge(&p, &["--detailed-exitcode"], &plain);
    refused.assert_code(1);
    assert!(refused.stderr.contains("without --check"), "{}", refused.stderr);

    // An unreachable host: 4 (here as the last host, h7, in shard 1).
    let mut inventory = std::fs::read_to_string(p.path("hosts.ini")).unwrap();
    inventory.push_str(&format!("h7 ansible_host=127.0.0.1 ansible_port=1 ansible_user={}\n", sshd.user));
    p.write("hosts.ini", &inventory);
    let unreachable: Vec<PathBuf> = shards(&p, &sshd, "dead", "{i}/3", |_| Vec::new(), &check).into_iter().map(|(path, _)| path).collect();
    merge(&p, &["--detailed-exitcode"], &unreachable).assert_code(4);
    merge(&p, &[], &unreachable).assert_code(4);

    // Shards of different inventories (8 hosts against 7) are not one run.
    let mixed = vec![drift[0].clone(), unreachable[1].clone(), unreachable[2].clone()];
    let refused = merge(&p, &[], &mixed);
    refused.assert_code(1);
    assert!(refused.stderr.contains("must split one inventory the same way"), "{}", refused.stderr);
}

#[test]
fn merge_names_missing_shards_and_malformed_lines() {
    let sshd = TestSshd::start();
    let p = project(&sshd);
    let streams: Vec<PathBuf> = shards(&p, &sshd, "ok", "{i}/3", |_| Vec::new(), &[]).into_iter().map(|(path, _)| path).collect();
    merge(&p, &[], &streams).assert_code(0);

    let missing = merge(&p, &[], &streams[..2]);
    missing.assert_code(1);
    assert!(missing.stderr.contains("shard 2/3 missing"), "{}", missing.stderr);
    let twice = merge(&p, &[], &[streams[0].clone(), streams[0].clone(), streams[1].clone()]);
    assert!(twice.stderr.contains("are both shard 0/3"), "{}", twice.stderr);

    let text = std::fs::read_to_string(&streams[1]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let broken = p.path("broken.jsonl");
    let mut damaged = lines.clone();
    damaged[2] = r#"{"schema":1,"event":"play_start","play":"#;
    std::fs::write(&broken, damaged.join("\n")).unwrap();
    let run = merge(&p, &[], &[streams[0].clone(), broken.clone(), streams[2].clone()]);
    run.assert_code(1);
    assert!(run.stderr.contains(&format!("{}:3:", broken.display())), "file:line:col of the bad line: {}", run.stderr);
    assert!(run.stdout.is_empty(), "no recap from broken input: {}", run.stdout);

    // A shard killed before its recap: named, not silently left out.
    std::fs::write(&broken, lines[..lines.len() - 2].join("\n")).unwrap();
    let run = merge(&p, &[], &[streams[0].clone(), broken.clone(), streams[2].clone()]);
    run.assert_code(1);
    assert!(run.stderr.contains("no `recap` event"), "{}", run.stderr);

    std::fs::write(&broken, "{\"schema\":1,\"event\":\"exit\",\"code\":\"x\"}\n").unwrap();
    let run = merge(&p, &[], std::slice::from_ref(&broken));
    assert!(run.stderr.contains(&format!("{}:1:1: `exit` with a `code` that is not a whole number", broken.display())), "{}", run.stderr);
    let absent = merge(&p, &[], &[p.path("nowhere.jsonl")]);
    absent.assert_code(1);
    assert!(absent.stderr.contains("nowhere.jsonl"), "{}", absent.stderr);
}

const UNSAFE: &str = r#"
- name: Unsafe
  hosts: test
  gather_facts: false
  serial: 2
  tasks:
    - name: Once
      copy:
        content: "once\n"
        dest: "{{ lookup('env', 'REMOTE') }}/once-{{ inventory_hostname }}"
      run_once: true
    - name: Peek at h0
      debug:
        msg: "h0 port {{ hostvars['h0'].ansible_port }}"
    - name: On the controller is fine
      command: "true"
      delegate_to: localhost
    - name: Read the inventory again
      meta: refresh_inventory
"#;

#[test]
fn plays_that_do_not_split_are_refused_unless_shard_unsafe() {
    let sshd = TestSshd::start();
    let p = project(&sshd);
    p.write("unsafe.yml", UNSAFE);
    let file = p.path("unsafe.yml").display().to_string();
    let refused = run(&p, &sshd, "unsafe.yml", &["--shard", "1/3"], &[]);
    refused.assert_code(5);
    for expected in [
        format!("{file}:2:3: play `Unsafe`: `serial`"),
        format!("{file}:7:7: task `Once`: `run_once` runs once in every shard"),
        format!("{file}:12:7: task `Peek at h0`: reads `hostvars['h0']`"),
        format!("{file}:18:7: task `Read the inventory again`: `meta: refresh_inventory`"),
        "--shard-unsafe".to_string(),
    ] {
        assert!(refused.stderr.contains(&expected), "`{expected}` in:\n{}", refused.stderr);
    }
    assert!(!refused.stderr.contains("On the controller"), "delegate_to localhost splits fine:\n{}", refused.stderr);
    assert!(!refused.stdout.contains("PLAY ["), "nothing ran:\n{}", refused.stdout);
    assert_eq!(std::fs::read_dir(p.remote.path()).unwrap().count(), 0, "nothing ran");

    let warned = run(&p, &sshd, "unsafe.yml", &["--shard", "1/3", "--shard-unsafe"], &[("NO_COLOR", "1")]);
    warned.assert_code(0);
    let all = format!("{}{}", warned.stdout, warned.stderr);
    assert!(all.contains(&format!("[WARNING]: --shard-unsafe: {file}:7:7: task `Once`")), "{all}");
    // Shard 1 of 3 holds h1 and h4; serial 2 makes one batch of them, and run_once runs on its first host.
    let written: Vec<String> = std::fs::read_dir(p.remote.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(written, ["once-h1"], "run_once ran once in this shard");
    assert_eq!(warned.recap("h1").split_whitespace().next(), Some("h1"));
    assert!(!recap_block(&warned.stdout).contains("h0 "), "h0 belongs to shard 0:\n{}", warned.stdout);
    // Another shard's host keeps its inventory variables in hostvars.
    assert!(warned.stdout.contains(&format!("\"msg\": \"h0 port {}\"", sshd.port)), "{}", warned.stdout);

    // Without --shard nothing is refused.
    run(&p, &sshd, "unsafe.yml", &[], &[]).assert_code(0);
}

#[test]
fn a_shard_without_hosts_exits_0_and_says_so() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["only0", "only1"]).write("site.yml", SITE);
    let empty = run(&p, &sshd, "site.yml", &["--shard", "2/3"], &[("NO_COLOR", "1")]);
    empty.assert_code(0);
    let recap = recap_block(&empty.stdout);
    assert!(recap.contains("shard 2/3 has no hosts: the inventory's 2 host(s) are all in other shards"), "{}", empty.stdout);
    assert!(empty.stdout.contains("skipping: no hosts matched"), "{}", empty.stdout);
    assert_eq!(std::fs::read_dir(p.remote.path()).unwrap().count(), 0);
}

#[test]
fn shard_flag_and_engine_variables_are_checked() {
    let sshd = TestSshd::start();
    let p = project(&sshd);
    for (args, env, expected) in [
        (vec!["--shard", "3/3"], vec![], "the index must be below the total"),
        (vec!["--shard", "1"], vec![], "write I/N"),
        (vec!["--shard", "x/3"], vec![], "`x` is not a whole number"),
        (vec!["--shard", "auto"], vec![], "none of STOCKMAN_SHARD_INDEX, JOB_COMPLETION_INDEX, CI_NODE_INDEX is set"),
        (vec!["--shard", "auto"], vec![("JOB_COMPLETION_INDEX", "1")], "gives the index (JOB_COMPLETION_INDEX) but not the total"),
        (vec!["--shard", "auto"], vec![("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "2")], "counts from 1"),
        (vec!["--shard", "auto/2"], vec![("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "3")], "the two totals disagree"),
        (vec!["--shard-unsafe"], vec![], "--shard"),
    ] {
        let run = run(&p, &sshd, "site.yml", &args, &env);
        run.assert_code(5);
        assert!(run.stderr.contains(expected), "{args:?} {env:?}: `{expected}` in:\n{}", run.stderr);
    }
    assert_eq!(std::fs::read_dir(p.remote.path()).unwrap().count(), 0, "nothing ran");
    // --list-hosts shows the shard's share.
    let listed = run(&p, &sshd, "site.yml", &["--shard", "auto", "--list-hosts"], &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]);
    listed.assert_code(0);
    let hosts: Vec<&str> = listed.stdout.lines().map(str::trim).filter(|l| l.starts_with('h') && l.len() == 2).collect();
    assert_eq!(hosts, ["h1", "h4"], "{}", listed.stdout);
}

/// The validators tests/run-all.sh installs (its install step); missing is a failure.
const VALIDATORS: &str = "/var/cache/stockman/validators-venv/bin";

fn validate(tool: &str, args: &[&str], file: &std::path::Path) -> Run {
    let bin = std::path::Path::new(VALIDATORS).join(tool);
    assert!(bin.exists(), "{} is missing: run `bash tests/run-all.sh --setup-only` (it installs check-jsonschema and kubernetes-validate)", bin.display());
    finish({
        let mut cmd = Command::new(bin);
        cmd.args(args).arg(file);
        cmd
    })
}

#[test]
fn scaling_out_manifests_pass_their_schemas() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scaling-out");
    let scratch = tempfile::tempdir().unwrap();
    let checks: [(&str, &str, &[&str], &str, &str); 4] = [
        ("kubernetes-job.yaml", "kubernetes-validate", &["--strict"], "completionMode: Indexed", "completionMod: Indexed"),
        ("kubernetes-merge.yaml", "kubernetes-validate", &["--strict"], "backoffLimit: 0", "backoffLimit: none"),
        ("gitlab-ci.yml", "check-jsonschema", &["--builtin-schema", "vendor.gitlab-ci"], "parallel: 3", "parallel: many"),
        ("github-workflow.yml", "check-jsonschema", &["--builtin-schema", "vendor.github-workflows"], "runs-on:", "runs_on:"),
    ];
    for (name, tool, args, good, bad) in checks {
        let file = docs.join(name);
        let run = validate(tool, args, &file);
        assert_eq!(run.code, 0, "{name} against its schema:\n{}{}", run.stdout, run.stderr);
        // The validator does reject a broken copy: the check above can fail.
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(good), "{name} has `{good}`");
        let broken = scratch.path().join(name);
        std::fs::write(&broken, text.replacen(good, bad, 1)).unwrap();
        assert_ne!(validate(tool, args, &broken).code, 0, "{name} with `{bad}` must not validate");
    }
    // The shard arithmetic the manifests rely on matches what they say.
    let job = std::fs::read_to_string(docs.join("kubernetes-job.yaml")).unwrap();
    assert!(job.contains("completions: 3") && job.contains("--shard auto/3") && job.contains("events-$JOB_COMPLETION_INDEX.jsonl"), "{job}");
    let gitlab = std::fs::read_to_string(docs.join("gitlab-ci.yml")).unwrap();
    assert!(gitlab.contains("parallel: 3") && gitlab.contains("--shard auto ") && gitlab.contains("stockman merge"), "{gitlab}");
    let github = std::fs::read_to_string(docs.join("github-workflow.yml")).unwrap();
    assert!(github.contains("index: [0, 1, 2]") && github.contains("STOCKMAN_SHARD_TOTAL: 3") && github.contains("STOCKMAN_SHARD_INDEX: ${{ matrix.index }}"), "{github}");
}
