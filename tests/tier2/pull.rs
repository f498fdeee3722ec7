//! `stockman pull` on fleet hosts: installed by playbooks/pull-install.yml from the
//! controller, pulling a git repository served over file:// (a controller
//! directory bound read-only into the host; commits are made on the controller).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::fleet::Fleet;

const H: &str = "fleet01";
/// Where the unit's pull keeps its checkout: `XDG_STATE_HOME=%S` (/var/lib), per host name.
const CHECKOUT: &str = "/var/lib/stockman/pull/fleet01";
const STATE: &str = "/srv/pulled/state";
const RUNS: &str = "/srv/pulled/runs";

/// A bare repository and a work clone on the controller, plus a stripped copy of
/// the binary, in one directory that the fleet binds into its hosts.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo { dir };
        repo.git(&["init", "-q", "--bare", "-b", "main", "site.git"], repo.dir.path());
        repo.git(&["init", "-q", "-b", "main", "work"], repo.dir.path());
        repo.git(&["remote", "add", "origin", &repo.dir.path().join("site.git").display().to_string()], &repo.work());
        std::fs::create_dir(repo.dir.path().join("bin")).unwrap();
        // The debug binary carries ~200 MB of debug info the hosts do not need.
        let out = Command::new("strip").arg("-o").arg(repo.binary()).arg(env!("CARGO_BIN_EXE_stockman")).output().unwrap();
        assert!(out.status.success(), "strip: {}", String::from_utf8_lossy(&out.stderr));
        repo
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn binary(&self) -> PathBuf {
        self.dir.path().join("bin/stockman")
    }

    fn url(&self) -> String {
        format!("file://{}/site.git", self.dir.path().display())
    }

    fn git(&self, args: &[&str], dir: &Path) -> String {
        let out = Command::new("git").args(["-c", "user.name=t", "-c", "user.email=t@example.com"]).args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes `local.yml`, commits and pushes it; returns the commit id.
    fn commit(&self, local_yml: &str, message: &str) -> String {
        self.commit_files(&[("local.yml", local_yml)], message)
    }

    fn commit_files(&self, files: &[(&str, &str)], message: &str) -> String {
        for (name, content) in files {
            std::fs::write(self.work().join(name), content).unwrap();
        }
        self.git(&["add", "-A"], &self.work());
        self.git(&["commit", "-q", "-m", message], &self.work());
        self.git(&["push", "-q", "origin", "HEAD:main"], &self.work());
        self.git(&["rev-parse", "HEAD"], &self.work())
    }

    fn tag(&self, name: &str) {
        self.git(&["tag", name], &self.work());
        self.git(&["push", "-q", "origin", name], &self.work());
    }
}

/// A playbook that records each run (never "changed") and converges one file.
fn state_playbook(version: &str) -> String {
    format!(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n\
         \x20   - file: {{path: /srv/pulled, state: directory}}\n\
         \x20   - name: count the run\n      shell: date +%s.%N >> {RUNS}\n      changed_when: false\n\
         \x20   - copy: {{content: \"{version}\\n\", dest: {STATE}}}\n"
    )
}

fn text(out: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", out.status.code(), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn cat(fleet: &Fleet, path: &str) -> String {
    fleet.sh(H, &format!("cat {path} 2>/dev/null || true"))
}

fn runs(fleet: &Fleet) -> usize {
    cat(fleet, RUNS).lines().count()
}

/// `stockman pull` inside the host with the unit's checkout and `args`.
fn pull(fleet: &Fleet, binary: &str, url: &str, args: &[&str]) -> Output {
    let mut cmd = vec![binary, "pull", "-U", url, "-d", CHECKOUT];
    cmd.extend_from_slice(args);
    fleet.exec(H, &cmd)
}

/// `stockman playbook` on the controller against the fleet, trusting its host keys.
fn controller_playbook(fleet: &Fleet, home: &Path, playbook: &Path, extra: &[&str]) -> Output {
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(fleet.known_hosts_path(), home.join(".ssh/known_hosts")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_stockman"))
        .arg("playbook")
        .arg("-i")
        .arg(fleet.inventory_path())
        .arg(playbook)
        .args(extra)
        .env("HOME", home)
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

fn install_playbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/pull-install.yml")
}

fn systemctl(fleet: &Fleet, args: &str) -> String {
    fleet.sh(H, &format!("systemctl {args} || true")).trim().to_string()
}

#[test]
fn pull_installs_converges_applies_commits_reports_drift_and_refuses_bad_commits() {
    let repo = Repo::new();
    let v1 = repo.commit(&state_playbook("v1"), "v1");
    let fleet = Fleet::up_binding(1, &[repo.path()]);
    let home = repo.path().join("home");
    let url = repo.url();
    let binary = repo.binary().display().to_string();

    // Install: binary, units, timer; the first convergence runs from the unit.
    let extra = format!("stockman_binary={binary} pull_url={url}");
    let out = controller_playbook(&fleet, &home, &install_playbook(), &["-e", &extra, "-e", r#"{"pull_args": ["--lock-wait", "60"]}"#]);
    assert!(out.status.success(), "install: {}", text(&out));
    assert_eq!(cat(&fleet, STATE), "v1\n");
    assert_eq!(runs(&fleet), 1);
    assert_eq!(systemctl(&fleet, "show -p Result --value stockman-pull.service"), "success");
    assert_eq!(systemctl(&fleet, "is-enabled stockman-pull.timer"), "enabled");
    assert_eq!(systemctl(&fleet, "is-active stockman-pull.timer"), "active");
    let unit = cat(&fleet, "/etc/systemd/system/stockman-pull.service");
    assert!(unit.contains(&format!("ExecStart=/usr/local/bin/stockman pull -U {url} --lock-wait 60\n")), "{unit}");
    let timer = cat(&fleet, "/etc/systemd/system/stockman-pull.timer");
    assert!(timer.contains("Persistent=true") && timer.contains("RandomizedDelaySec=300") && timer.contains("OnCalendar=*:0/30"), "{timer}");
    assert_eq!(fleet.sh(H, &format!("git -C {CHECKOUT} rev-parse HEAD")).trim(), v1, "the unit's checkout is under /var/lib, per host name");
    let bin = "/usr/local/bin/stockman";

    // A later commit is applied on the next run (started as the timer starts it).
    repo.commit(&state_playbook("v2"), "v2");
    fleet.sh(H, "systemctl start stockman-pull.service");
    assert_eq!(cat(&fleet, STATE), "v2\n");
    assert_eq!(runs(&fleet), 2);

    // The unit's runs are in the host's run history (its state dir, /var/lib),
    // each with the playbook and the revision it applied.
    let out = fleet.exec(H, &["env", "XDG_STATE_HOME=/var/lib", bin, "history", "list", "--output", "json"]);
    assert!(out.status.success(), "history list: {}", text(&out));
    let recorded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("history list --output json: {e}: {}", text(&out)));
    let recorded = recorded.as_array().expect("a list of runs");
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    let head = fleet.sh(H, &format!("git -C {CHECKOUT} rev-parse HEAD"));
    let revisions: Vec<&str> = recorded.iter().flat_map(|r| r["playbooks"].as_array().into_iter().flatten()).filter_map(|p| p["git"]["revision"].as_str()).collect();
    assert!(revisions.contains(&v1.as_str()) && revisions.contains(&head.trim()), "revisions {revisions:?}, wanted {v1} and {}", head.trim());

    // --only-if-changed: the revision did not move, nothing runs.
    let out = pull(&fleet, bin, &url, &["-o"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Repository has not changed"), "{}", text(&out));
    assert_eq!(runs(&fleet), 2, "-o ran the playbook");

    // Drift: reported by --check (exit 2) without a change, corrected by the next run.
    fleet.sh(H, &format!("echo manual > {STATE}"));
    let out = pull(&fleet, bin, &url, &["--check", "--diff", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("-manual\n+v2"), "no diff of the drift: {}", text(&out));
    assert_eq!(cat(&fleet, STATE), "manual\n", "check mode changed the host");
    let out = pull(&fleet, bin, &url, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(cat(&fleet, STATE), "v2\n");
    let out = pull(&fleet, bin, &url, &["--check", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "drift left: {}", text(&out));

    // A bad commit (a YAML error) changes nothing and says where, every run, even with -o.
    let runs_before = runs(&fleet);
    let bad = repo.commit("- hosts: all\n  tasks:\n    - copy: {content: broken\n", "bad");
    for extra in [&[][..], &["-o"][..]] {
        let out = pull(&fleet, bin, &url, extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out));
        assert!(stderr.contains(&format!("{CHECKOUT}/local.yml:4:")) || stderr.contains(&format!("{CHECKOUT}/local.yml:3:")), "no file:line: {}", text(&out));
        assert!(stderr.contains(&format!("revision {bad} was not applied")) && stderr.contains("the host was left as it was"), "{}", text(&out));
    }
    assert_eq!(cat(&fleet, STATE), "v2\n");
    assert_eq!(runs(&fleet), runs_before, "a bad commit ran tasks");

    // The fix is applied by the next -o run: the bad revision was never recorded as applied.
    repo.commit(&state_playbook("v3"), "v3");
    let out = pull(&fleet, bin, &url, &["-o"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(cat(&fleet, STATE), "v3\n");

    // The repository cannot be reached: nothing runs, unless --force runs the checkout there is.
    let gone = format!("file://{}/missing.git", repo.path().display());
    let out = pull(&fleet, bin, &gone, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nothing was run"), "{}", text(&out));
    let runs_before = runs(&fleet);
    let out = pull(&fleet, bin, &gone, &["-f"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unable to update the repository"), "{}", text(&out));
    assert_eq!(runs(&fleet), runs_before + 1, "--force did not run");

    // Shallow by default; --full fetches the whole history (v1, v2, bad, v3 so far).
    let count = || fleet.sh(H, &format!("git -C {CHECKOUT} rev-list --count HEAD")).trim().to_string();
    assert_eq!(count(), "1", "not a shallow fetch");
    let out = pull(&fleet, bin, &url, &["--full", "-s", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Sleeping for 0 seconds..."), "{}", text(&out));
    assert_eq!(count(), "4", "--full left history out");

    // Vault options reach the run: a vaulted vars file in the repository, the password file on the host.
    let pass = repo.path().join("vault-pass");
    std::fs::write(&pass, "pw\n").unwrap();
    std::fs::write(repo.work().join("secret.yml"), "secret_word: hush-7f3a\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stockman")).args(["vault", "encrypt", "--vault-password-file"]).arg(&pass).arg(repo.work().join("secret.yml")).output().unwrap();
    assert!(out.status.success(), "vault encrypt: {}", text(&out));
    let vaulted = "- hosts: localhost\n  gather_facts: false\n  vars_files: [secret.yml]\n  tasks:\n    - copy: {content: \"{{ secret_word }}\\n\", dest: /srv/pulled/secret}\n";
    repo.commit(vaulted, "vaulted");
    let out = pull(&fleet, bin, &url, &["--vault-password-file", &pass.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(cat(&fleet, "/srv/pulled/secret"), "hush-7f3a\n");
    repo.commit(&state_playbook("v3"), "back to v3");

    // A password in the URL never reaches the output, on failure or with --force.
    for extra in [&[][..], &["-f"][..]] {
        let out = pull(&fleet, bin, "https://bob:s3cretpw@127.0.0.1:9/site.git", extra);
        assert!(!text(&out).contains("s3cretpw"), "the URL's password leaked: {}", text(&out));
        assert!(text(&out).contains("127.0.0.1:9"), "{}", text(&out));
    }

    // The timer itself fires: every 2 s (systemd's default AccuracySec=1min may delay it).
    let extra = format!("stockman_binary={binary} pull_url={url} pull_on_calendar=*:*:0/2 pull_randomized_delay=0 pull_first_run=false");
    let out = controller_playbook(&fleet, &home, &install_playbook(), &["-e", &extra]);
    assert!(out.status.success(), "reinstall: {}", text(&out));
    repo.commit(&state_playbook("v4"), "v4");
    let deadline = Instant::now() + Duration::from_secs(150);
    while cat(&fleet, STATE) != "v4\n" {
        assert!(Instant::now() < deadline, "the timer never applied v4: {}", systemctl(&fleet, "list-timers --all"));
        std::thread::sleep(Duration::from_secs(2));
    }
}

#[test]
fn two_pulls_on_one_checkout_never_overlap() {
    let repo = Repo::new();
    let log = "/srv/overlap.log";
    repo.commit(
        &format!("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - shell: echo start $(date +%s%N) >> {log}; sleep 2; echo end $(date +%s%N) >> {log}\n"),
        "sleepy",
    );
    let fleet = Fleet::up_binding(1, &[repo.path()]);
    let url = repo.url();
    let binary = repo.binary().display().to_string();
    let args = |wait: &'static str| -> Vec<String> { [binary.as_str(), "pull", "-U", &url, "-d", CHECKOUT, "--lock-wait", wait].map(String::from).to_vec() };
    let spawn = |wait: &'static str| {
        let args = args(wait);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fleet.exec_command(H, &args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    };

    // Two at once, both allowed to wait: both run, one after the other.
    let (a, b) = (spawn("60"), spawn("60"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{}\n{}", text(&a), text(&b));
    let waited = [&a, &b].iter().filter(|o| String::from_utf8_lossy(&o.stdout).contains("Waiting up to 60s for the other stockman pull (pid ")).count();
    assert_eq!(waited, 1, "exactly one run waited:\n{}\n{}", text(&a), text(&b));
    let lines: Vec<(String, u128)> = cat_lines(&fleet, log);
    let kinds: Vec<&str> = lines.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["start", "end", "start", "end"], "the runs interleaved: {lines:?}");
    assert!(lines[1].1 <= lines[2].1, "the second started before the first ended: {lines:?}");

    // One running, the next told to give up at once: it does, with a clear message.
    let first = spawn("0");
    let deadline = Instant::now() + Duration::from_secs(60);
    while cat_lines(&fleet, log).len() < 5 {
        assert!(Instant::now() < deadline, "the first run never started its task");
        std::thread::sleep(Duration::from_millis(100));
    }
    let started = Instant::now();
    let args = args("0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let second = fleet.exec(H, &args);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another `stockman pull` (pid "), "{}", text(&second));
    assert!(started.elapsed() < Duration::from_secs(2), "did not give up at once");
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(cat_lines(&fleet, log).len(), 6, "the refused run ran its task");

    // --purge: the checkout is gone after the run, and the next run clones again.
    let out = fleet.exec(H, &[&binary, "pull", "-U", &url, "-d", "/srv/purged", "--purge"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fleet.sh(H, "test -e /srv/purged && echo present || echo gone").trim(), "gone");
}

fn cat_lines(fleet: &Fleet, path: &str) -> Vec<(String, u128)> {
    let text = fleet.sh(H, &format!("cat {path} 2>/dev/null || true"));
    text.lines()
        .map(|l| {
            let (kind, at) = l.split_once(' ').unwrap_or_else(|| panic!("bad log line `{l}`"));
            (kind.to_string(), at.parse().unwrap_or_else(|_| panic!("bad time in `{l}`")))
        })
        .collect()
}

/// The hostile corpus with `@M@` as a marker path on the host.
fn hostile_corpus() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile/strings.json");
    let raw: Vec<String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    raw.iter().enumerate().map(|(i, s)| s.replace("@M@", &format!("/srv/PWNED-{i}"))).collect()
}

#[test]
fn hostile_urls_versions_directories_keys_and_playbook_names_stay_data() {
    let repo = Repo::new();
    repo.commit(&state_playbook("v1"), "v1");
    let fleet = Fleet::up_binding(1, &[repo.path()]);
    let url = repo.url();
    let binary = repo.binary().display().to_string();
    fleet.sh(H, "mkdir -p /srv/hostile");
    let mut runs_done = 0;
    for (i, word) in hostile_corpus().iter().enumerate() {
        let dir = format!("/srv/hostile/{}", word.replace('/', "_"));
        let checkout = format!("/srv/co-{i}");
        let tries: [Vec<&str>; 5] = [
            vec!["-U", word, "-d", &checkout],
            vec!["-U", &url, "-d", &checkout, "-C", word],
            vec!["-U", &url, "-d", &checkout, word],
            vec!["-U", "ssh://127.0.0.1:9/site.git", "-d", &checkout, "--private-key", word, "--accept-host-key"],
            vec!["-U", &url, "-d", &dir],
        ];
        for args in &tries {
            let mut cmd = vec![binary.as_str(), "pull"];
            cmd.extend(args.iter().copied());
            let out = fleet.exec(H, &cmd);
            // Either a clear refusal or (for a hostile directory name) a normal run.
            if out.status.success() {
                runs_done += 1;
            } else {
                assert!(String::from_utf8_lossy(&out.stderr).contains("ERROR!") || String::from_utf8_lossy(&out.stderr).contains("error:"), "{word:?} {args:?}: {}", text(&out));
            }
        }
        let marker = fleet.sh(H, "ls /srv | grep PWNED || true");
        assert_eq!(marker.trim(), "", "{word:?} ran as code");
    }
    // Every hostile directory name was a directory like any other (bar `..`-like ones that still resolve).
    assert!(runs_done >= hostile_corpus().len(), "only {runs_done} runs succeeded");
    assert_eq!(fleet.sh(H, "ls /srv | grep PWNED || true").trim(), "");
}

const VENV: &str = "/var/cache/stockman/ansible-venv";

/// ansible-pull on `host`: a venv of the host's python3.11 that sees the bound
/// controller venv's site-packages, with `ansible`, `ansible-playbook` and
/// `ansible-pull` side by side (ansible-pull runs the other two from its own directory).
fn install_ansible_pull(fleet: &Fleet, host: &str) -> String {
    let script = format!(
        "set -e; python3 -m venv --without-pip /opt/ansible; \
         site=$(/opt/ansible/bin/python3 -c 'import site; print(site.getsitepackages()[0])'); \
         echo {VENV}/lib/python3.11/site-packages > \"$site/ansible-venv.pth\"; \
         for tool in ansible ansible-playbook ansible-pull; do \
           sed '1s|.*|#!/opt/ansible/bin/python3|' {VENV}/bin/$tool > /opt/ansible/bin/$tool; \
           chmod +x /opt/ansible/bin/$tool; done"
    );
    fleet.sh(host, &script);
    "/opt/ansible/bin/ansible-pull".into()
}

/// One pull on `host` (stockman or ansible-pull), the output's recap and the host's state.
struct Side {
    code: Option<i32>,
    stdout: String,
    state: String,
    runs: usize,
}

fn side(fleet: &Fleet, host: &str, program: &str, url: &str, args: &[&str]) -> Side {
    // ansible-pull merges its playbook run's stderr into its stdout a chunk at a
    // time, so a warning printed mid-run (interpreter discovery) can land inside
    // the recap; auto_silent keeps that warning out.
    let mut cmd = vec!["env", "ANSIBLE_NOCOLOR=1", "NO_COLOR=1", "ANSIBLE_PYTHON_INTERPRETER=auto_silent", program, "-U", url, "-d", "/srv/co"];
    if program.ends_with("stockman") {
        cmd.insert(5, "pull");
    }
    cmd.extend_from_slice(args);
    let out = fleet.exec(host, &cmd);
    let cat = |path: &str| fleet.sh(host, &format!("cat {path} 2>/dev/null || true"));
    Side { code: out.status.code(), stdout: format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)), state: cat(STATE), runs: cat(RUNS).lines().count() }
}

fn recap_line(output: &str) -> String {
    let recap = output.split("PLAY RECAP").nth(1).unwrap_or_else(|| panic!("no recap in:\n{output}"));
    recap.lines().find(|l| l.starts_with("localhost")).unwrap_or_else(|| panic!("no localhost recap in:\n{output}")).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn pull_matches_ansible_pull_side_by_side() {
    let repo = Repo::new();
    repo.commit(&state_playbook("v1"), "v1");
    let fleet = Fleet::up_binding(2, &[repo.path(), PathBuf::from(VENV)]);
    let (ours, theirs) = ("fleet01", "fleet02");
    let ansible_pull = install_ansible_pull(&fleet, theirs);
    let stockman = repo.binary().display().to_string();
    let url = repo.url();
    let both = |args: &[&str], url: &str| (side(&fleet, ours, &stockman, url, args), side(&fleet, theirs, &ansible_pull, url, args));
    let same_run = |what: &str, (s, a): &(Side, Side)| {
        assert_eq!(s.code, a.code, "{what}: exit codes\n--- stockman\n{}\n--- ansible-pull\n{}", s.stdout, a.stdout);
        assert_eq!((&s.state, s.runs), (&a.state, a.runs), "{what}: host state\n--- stockman\n{}\n--- ansible-pull\n{}", s.stdout, a.stdout);
    };

    // First convergence: same recap, same host.
    let first = both(&[], &url);
    same_run("first run", &first);
    assert_eq!(first.0.code, Some(0), "{}", first.0.stdout);
    assert_eq!(recap_line(&first.0.stdout), recap_line(&first.1.stdout));
    assert_eq!(first.0.state, "v1\n");

    // -o with no new commit: both quit without running.
    let unchanged = both(&["-o"], &url);
    same_run("-o unchanged", &unchanged);
    assert!(unchanged.0.stdout.contains("Repository has not changed") && unchanged.1.stdout.contains("Repository has not changed"), "{}\n{}", unchanged.0.stdout, unchanged.1.stdout);
    assert_eq!(unchanged.0.runs, 1);

    // A new commit with -o: both run it.
    repo.commit(&state_playbook("v2"), "v2");
    let moved = both(&["-o"], &url);
    same_run("-o after a commit", &moved);
    assert_eq!(recap_line(&moved.0.stdout), recap_line(&moved.1.stdout));
    assert_eq!(moved.0.state, "v2\n");

    // Drift seen by --check, the same way, and left alone.
    for host in [ours, theirs] {
        fleet.sh(host, &format!("echo manual > {STATE}"));
    }
    let check = both(&["--check"], &url);
    same_run("--check on drift", &check);
    assert_eq!(recap_line(&check.0.stdout), recap_line(&check.1.stdout));
    assert_eq!(check.0.state, "manual\n");

    // A commit that does not load: the same exit code, the host left as it was.
    repo.commit("- hosts: all\n  tasks:\n    - copy: {content: broken\n", "bad");
    let bad = both(&[], &url);
    same_run("bad commit", &bad);
    assert_eq!(bad.0.code, Some(4), "{}", bad.0.stdout);

    // The repository is gone: the same failure, and -f runs the checkout there is.
    repo.commit(&state_playbook("v3"), "v3");
    both(&[], &url);
    let gone = format!("file://{}/missing.git", repo.path().display());
    let failed = both(&[], &gone);
    same_run("unreachable repository", &failed);
    assert_eq!(failed.0.code, Some(2), "{}", failed.0.stdout);
    let forced = both(&["-f"], &gone);
    same_run("unreachable repository with -f", &forced);
    assert_eq!(forced.0.code, Some(0), "{}", forced.0.stdout);
    assert_eq!(recap_line(&forced.0.stdout), recap_line(&forced.1.stdout));

    // A modified checkout: refused (nothing runs), then discarded by --clean.
    for host in [ours, theirs] {
        fleet.sh(host, "echo '# local edit' >> /srv/co/local.yml");
    }
    let modified = both(&[], &url);
    same_run("modified checkout", &modified);
    assert_eq!(modified.0.code, Some(2), "{}", modified.0.stdout);
    let cleaned = both(&["--clean"], &url);
    same_run("--clean", &cleaned);
    assert_eq!(cleaned.0.code, Some(0), "{}", cleaned.0.stdout);
    for host in [ours, theirs] {
        assert_eq!(fleet.sh(host, "git -C /srv/co status --porcelain --untracked-files=no"), "", "{host}: not clean");
    }

    // An unsigned commit under --verify-commit is not run.
    repo.commit(&state_playbook("v4"), "v4");
    let unsigned = both(&["--verify-commit"], &url);
    same_run("--verify-commit on an unsigned commit", &unsigned);
    assert_eq!(unsigned.0.code, Some(2), "{}", unsigned.0.stdout);
    assert_eq!(unsigned.0.state, "v3\n");

    // -C: a tag, while the branch has moved on.
    repo.tag("release");
    repo.commit(&state_playbook("v5"), "v5");
    let tagged = both(&["-C", "release"], &url);
    same_run("-C tag", &tagged);
    assert_eq!(tagged.0.state, "v4\n");

    // -i: an inventory inside the checkout, read after the update; a named playbook for a group.
    let site = "- hosts: web\n  gather_facts: false\n  tasks:\n    - copy: {content: \"web\\n\", dest: /srv/pulled/state}\n";
    repo.commit_files(&[("hosts.ini", "[web]\nlocalhost ansible_connection=local\n"), ("site.yml", site)], "inventory");
    let grouped = both(&["-i", "hosts.ini", "site.yml"], &url);
    same_run("-i and a named playbook", &grouped);
    assert_eq!(grouped.0.state, "web\n", "{}", grouped.0.stdout);
    assert_eq!(recap_line(&grouped.0.stdout), recap_line(&grouped.1.stdout));
}
