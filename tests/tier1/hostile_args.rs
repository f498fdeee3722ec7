//! Hostile strings (tests/data/hostile/strings.json) through every module
//! argument that reaches a remote command: nothing runs as code, names and
//! contents arrive byte for byte, invalid values fail with a clear message.
//!
//! Each string's `@M@` becomes a marker path unique to it; a marker that
//! exists after the run names the string that was executed. Modules that would
//! change this (root) machine for real (user, group, apt, systemd) run in check
//! mode here, which still sends their probes; tier 2 applies them on the fleet.

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::run::Project;
use crate::sshd::TestSshd;

/// The corpus with `@M@` replaced by `marker(index)`.
fn corpus(marker: impl Fn(usize) -> String) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile/strings.json");
    let raw: Vec<String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    raw.iter().enumerate().map(|(i, s)| s.replace("@M@", &marker(i))).collect()
}

/// Strings for contents and arguments (markers are absolute paths), and for
/// file names (markers are relative: no `/` in a name; they would land in the
/// remote login's working directory, its home).
struct Hostile {
    values: Vec<String>,
    names: Vec<String>,
}

impl Hostile {
    fn new(p: &Project) -> Hostile {
        let remote = p.remote_str();
        Hostile { values: corpus(|i| format!("{remote}/PWNED-{i}")), names: corpus(|i| format!("PWNED-name-{i}")) }
    }

    /// `-e @vars.json` with `values`, `names` and `remote`.
    fn vars_file(&self, p: &Project, extra: Value) -> String {
        let mut vars = json!({"values": self.values, "names": self.names, "remote": p.remote_str()});
        vars.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p.write("vars.json", &vars.to_string());
        format!("@{}", p.path("vars.json").display())
    }
}

/// No marker anywhere a hostile string could have written one.
fn assert_no_marker(p: &Project, sshd: &TestSshd) {
    let home = login_home(&sshd.user);
    for dir in [p.remote.path(), p.dir.path(), home.as_path()] {
        let found: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("PWNED"))
            .collect();
        assert!(found.is_empty(), "injection: {found:?} created in {}", dir.display());
    }
}

fn login_home(user: &str) -> PathBuf {
    let out = std::process::Command::new("getent").args(["passwd", user]).output().unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(line.trim().split(':').nth(5).expect("home in passwd"))
}

/// File names in `dir`, as raw bytes turned into strings (all are UTF-8 here).
fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| String::from_utf8(e.unwrap().file_name().as_bytes().to_vec()).unwrap())
        .collect()
}

const FILES: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - file: {path: "{{ remote }}/{{ d }}", state: directory}
      loop: [copy, dirs, touch, links, tmpl, created]
      loop_control: {loop_var: d}
    - name: copy content to hostile names
      copy:
        content: "{{ values[i] }}"
        dest: "{{ remote }}/copy/{{ item }}"
        mode: "0640"
      loop: "{{ names }}"
      loop_control: {index_var: i}
    - name: directories with hostile names
      file: {path: "{{ remote }}/dirs/{{ item }}", state: directory}
      loop: "{{ names }}"
    - name: touch hostile names
      file: {path: "{{ remote }}/touch/{{ item }}", state: touch}
      loop: "{{ names }}"
    - name: links to hostile targets
      file: {src: "{{ values[i] }}", dest: "{{ remote }}/links/{{ item }}", state: link, force: true}
      loop: "{{ names }}"
      loop_control: {index_var: i}
    - name: template to hostile names
      template: {src: t.j2, dest: "{{ remote }}/tmpl/{{ item }}"}
      loop: "{{ names }}"
      loop_control: {index_var: i}
    - name: command argv
      command:
        argv: [printf, "%s|", "{{ item }}"]
        expand_argument_vars: false
      loop: "{{ values }}"
      register: argv_r
    - name: command free form with quote
      command: printf %s| {{ item | quote }}
      loop: "{{ values }}"
      register: free_r
    - name: shell with quote
      shell: printf '%s|' {{ item | quote }}
      loop: "{{ values }}"
      register: shell_r
    - name: chdir into hostile dirs
      command: pwd
      args: {chdir: "{{ remote }}/dirs/{{ item }}"}
      loop: "{{ names }}"
      register: pwd_r
    - name: creates names an existing hostile file, so nothing runs
      command: touch {{ remote }}/created/{{ i }}
      args: {creates: "{{ remote }}/copy/{{ item }}"}
      loop: "{{ names }}"
      loop_control: {index_var: i}
    - name: removes names a missing hostile file, so nothing runs
      command: touch {{ remote }}/created/{{ i }}
      args: {removes: "{{ remote }}/missing/{{ item }}"}
      loop: "{{ names }}"
      loop_control: {index_var: i}
    - name: hostile owners are refused
      copy: {content: x, dest: "{{ remote }}/owned", owner: "{{ item }}"}
      loop: "{{ values }}"
      register: owner_r
      ignore_errors: true
    - name: hostile groups are refused
      file: {path: "{{ remote }}/touch", group: "{{ item }}"}
      loop: "{{ values }}"
      register: group_r
      ignore_errors: true
    - name: hostile modes are refused
      copy: {content: x, dest: "{{ remote }}/moded", mode: "{{ item }}"}
      loop: "{{ values }}"
      register: mode_r
      ignore_errors: true
    - name: results
      copy:
        dest: "{{ remote }}/results.json"
        content: "{{ {'argv': argv_r.results | map(attribute='stdout') | list,
                     'free': free_r.results | map(attribute='stdout') | list,
                     'shell': shell_r.results | map(attribute='stdout') | list,
                     'pwd': pwd_r.results | map(attribute='stdout') | list,
                     'owner': owner_r.results | map(attribute='failed') | list,
                     'owner_msg': owner_r.results | map(attribute='msg') | list,
                     'group': group_r.results | map(attribute='failed') | list,
                     'group_msg': group_r.results | map(attribute='msg') | list,
                     'mode': mode_r.results | map(attribute='failed') | list,
                     'mode_msg': mode_r.results | map(attribute='msg') | list} | to_json }}"
"#;

#[test]
fn file_modules_and_commands_keep_hostile_strings_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("files.yml", FILES).write("templates/t.j2", "{{ values[i] }}");
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "files.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_no_marker(&p, &sshd);

    let expected: BTreeSet<String> = h.names.iter().cloned().collect();
    for dir in ["copy", "dirs", "touch", "links", "tmpl"] {
        assert_eq!(names_in(&p.remote(dir)), expected, "names in {dir}/ preserved byte for byte");
    }
    for (name, value) in h.names.iter().zip(&h.values) {
        let copy = p.remote("copy").join(name);
        assert_eq!(std::fs::read(&copy).unwrap(), value.as_bytes(), "content of {name:?}");
        assert_eq!(std::fs::read(p.remote("tmpl").join(name)).unwrap(), value.as_bytes(), "template {name:?}");
        // file's `src` is a path: a leading `~user` is that user's home, as Ansible's expanduser makes it.
        let target = match value.strip_prefix("~root") {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{}{rest}", login_home("root").display()),
            _ => value.clone(),
        };
        assert_eq!(std::fs::read_link(p.remote("links").join(name)).unwrap().as_os_str().as_bytes(), target.as_bytes());
    }
    assert!(names_in(&p.remote("created")).is_empty(), "creates/removes with hostile names ran the command");

    let results: Value = serde_json::from_slice(&std::fs::read(p.remote("results.json")).unwrap()).unwrap();
    let piped: Vec<String> = h.values.iter().map(|v| format!("{v}|")).collect();
    for key in ["argv", "shell"] {
        assert_eq!(results[key], json!(piped), "{key}: every argument arrives byte for byte");
    }
    // command's default expand_argument_vars: `~root` and a set variable are
    // expanded as Python's expanduser/expandvars do; nothing else is touched.
    let path_at = h.values.iter().position(|x| x == "${PATH}").unwrap();
    let free = results["free"].as_array().unwrap();
    assert!(free[path_at].as_str().unwrap().starts_with('/'), "${{PATH}} expanded: {}", free[path_at]);
    let mut expanded: Vec<Value> = h.values.iter().map(|v| match v.as_str() {
        "~root" => json!(format!("{}|", login_home("root").display())),
        _ => json!(format!("{v}|")),
    }).collect();
    expanded[path_at] = free[path_at].clone();
    assert_eq!(free, &expanded, "free: data but for `~root` and `${{PATH}}`");
    let dirs: Vec<String> = h.names.iter().map(|n| format!("{}/dirs/{n}", p.remote_str())).collect();
    assert_eq!(results["pwd"], json!(dirs), "chdir");
    for key in ["owner", "group", "mode"] {
        let failed = results[key].as_array().unwrap();
        assert!(failed.iter().all(|f| f == &json!(true)), "every hostile {key} fails: {}", results[format!("{key}_msg")]);
        for msg in results[format!("{key}_msg")].as_array().unwrap() {
            let msg = msg.as_str().unwrap_or_default();
            assert!(!msg.is_empty(), "{key}: a failure says why");
        }
    }
}

const NUL: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: binary content with NUL is data
      copy: {content: "{{ nul }}", dest: "{{ remote }}/binary"}
    - name: a NUL in a path is refused
      copy: {content: x, dest: "{{ remote }}/a{{ nul }}"}
      register: dest_r
      ignore_errors: true
    - name: a NUL in an argument is refused
      command:
        argv: [touch, "{{ remote }}/PWNED-nul{{ nul }}"]
      register: arg_r
      ignore_errors: true
"#;

#[test]
fn nul_in_a_name_or_argument_is_refused_clearly() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("nul.yml", NUL);
    let vars = json!({"remote": p.remote_str(), "nul": "x\u{0}; touch PWNED-nul"}).to_string();
    let run = p.run(&sshd, "nul.yml", &["-e", &vars, "-v"]);
    run.assert_code(0);
    assert_eq!(std::fs::read(p.remote("binary")).unwrap(), b"x\0; touch PWNED-nul");
    assert_eq!(run.stdout.matches("...ignoring").count(), 2, "both refusals fail the task:\n{}", run.stdout);
    assert!(run.stdout.contains("NUL"), "the error names the NUL byte:\n{}", run.stdout);
    assert_no_marker(&p, &sshd);
    assert_eq!(names_in(p.remote.path()), BTreeSet::from(["binary".to_string()]));
}

const SYSTEM: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: user
      user: {name: "{{ item }}", comment: "{{ values[i] }}", home: "{{ values[i] }}", shell: "{{ values[i] }}"}
      loop: "{{ values }}"
      loop_control: {index_var: i}
      ignore_errors: true
    - name: group
      group: {name: "{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
    - name: apt
      apt: {name: "{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
    - name: systemd
      systemd: {name: "{{ item }}", state: started}
      loop: "{{ values }}"
      ignore_errors: true
    - name: package names
      package: {name: "{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
    - name: package backends
      package: {name: hello, use: "{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
"#;

const READ_AND_REPLACE: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - file: {path: "{{ remote }}/text", state: directory}
    - name: hostile content in hostile names
      copy: {content: "{{ values[i] }}", dest: "{{ remote }}/text/{{ item }}"}
      loop: "{{ names }}"
      loop_control: {index_var: i}
    - name: slurp each back
      slurp: {src: "{{ remote }}/text/{{ item }}"}
      loop: "{{ names }}"
      register: slurp_r
    - name: replace each whole content (a literal pattern)
      replace:
        path: "{{ remote }}/text/{{ item }}"
        regexp: "{{ values[i] | regex_escape }}"
        replace: "REPLACED-{{ i }}"
        validate: "test -f %s"
        backup: true
      loop: "{{ names }}"
      loop_control: {index_var: i}
      register: replace_r
      ignore_errors: true
    - copy: {content: "plain\n", dest: "{{ remote }}/plain.txt"}
    - name: hostile regexps and replacements on a plain file
      replace: {path: "{{ remote }}/plain.txt", regexp: "{{ item }}", replace: "{{ item }}", after: "{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
    - copy:
        dest: "{{ remote }}/text-results.json"
        content: "{{ {'slurp': slurp_r.results | map(attribute='content') | map('b64decode') | list,
                     'replaced': replace_r.results | map(attribute='failed') | list} | to_json }}"
"#;

#[test]
fn slurp_and_replace_keep_hostile_names_contents_and_patterns_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("text.yml", READ_AND_REPLACE);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "text.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_no_marker(&p, &sshd);
    let results: Value = serde_json::from_slice(&std::fs::read(p.remote("text-results.json")).unwrap()).unwrap();
    assert_eq!(results["slurp"], json!(h.values), "slurp returns each content byte for byte");
    for (i, (name, value)) in h.names.iter().zip(&h.values).enumerate() {
        let now = std::fs::read(p.remote("text").join(name)).unwrap();
        if value.is_empty() || results["replaced"][i] != json!(false) {
            continue;
        }
        assert_eq!(String::from_utf8_lossy(&now), format!("REPLACED-{i}"), "replace matched {value:?} literally");
    }
}

#[test]
fn system_modules_probe_hostile_names_without_running_them() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("system.yml", SYSTEM);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "system.yml", &["-e", &vars, "--check"]);
    assert!(run.code == 0 || run.code == 2, "no crash, no unreachable:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert!(!passwd.contains("PWNED"), "check mode created a user");
}

const GIT: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: clone into hostile names
      git: {repo: "{{ repo }}", dest: "{{ remote }}/git/{{ item }}"}
      loop: "{{ names }}"
    - name: hostile versions are not found, never run
      git: {repo: "{{ repo }}", dest: "{{ remote }}/git/plain", version: "{{ item }}"}
      loop: "{{ values }}"
      register: version_r
      ignore_errors: true
    - name: hostile repositories fail to be read
      git: {repo: "{{ item }}", dest: "{{ remote }}/other/{{ i }}"}
      loop: "{{ values }}"
      loop_control: {index_var: i}
      register: repo_r
      ignore_errors: true
    - copy:
        dest: "{{ remote }}/git-results.json"
        content: "{{ {'version': version_r.results | map(attribute='failed') | list,
                     'repo': repo_r.results | map(attribute='failed') | list} | to_json }}"
"#;

#[test]
fn git_keeps_hostile_dest_version_and_repo_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    let repo = p.path("repo.git");
    let git = |args: &[&str], dir: &Path| {
        let out = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let work = p.path("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&["init", "-q", "-b", "main"], &work);
    std::fs::write(work.join("README"), "hi\n").unwrap();
    git(&["add", "README"], &work);
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one"], &work);
    git(&["clone", "-q", "--bare", work.to_str().unwrap(), repo.to_str().unwrap()], p.dir.path());
    p.inventory(&sshd, &["h"]).write("git.yml", GIT);
    let vars = h.vars_file(&p, json!({"repo": repo.display().to_string()}));
    let run = p.run(&sshd, "git.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_no_marker(&p, &sshd);
    let expected: BTreeSet<String> = h.names.iter().cloned().collect();
    assert_eq!(names_in(&p.remote("git")), expected);
    for name in &h.names {
        assert_eq!(std::fs::read_to_string(p.remote("git").join(name).join("README")).unwrap(), "hi\n");
    }
    let results: Value = serde_json::from_slice(&std::fs::read(p.remote("git-results.json")).unwrap()).unwrap();
    for key in ["version", "repo"] {
        assert!(results[key].as_array().unwrap().iter().all(|f| f == &json!(true)), "{key}: {results}");
    }
}

const TRAVERSAL: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: copy src escaping the project
      copy: {src: "{{ item }}", dest: "{{ remote }}/escaped-copy"}
      loop: "{{ escapes }}"
      ignore_errors: true
    - name: template src escaping the project
      template: {src: "{{ item }}", dest: "{{ remote }}/escaped-template"}
      loop: "{{ escapes }}"
      ignore_errors: true
    - name: dot-dot that stays inside the project is fine
      copy: {src: ../inside.txt, dest: "{{ remote }}/inside"}
    - name: absolute paths are allowed, as in Ansible
      copy: {src: "{{ absolute }}", dest: "{{ remote }}/absolute"}
"#;

#[test]
fn src_traversal_out_of_the_project_is_refused() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "controller secret\n").unwrap();
    let rel_secret = pathdiff(p.path("files"), &outside.path().join("secret"));
    p.inventory(&sshd, &["h"]).write("t.yml", TRAVERSAL).write("inside.txt", "inside\n").write("files/keep", "");
    let escapes = json!(["../../../../../../../../etc/passwd", "../../etc/hostname", rel_secret, "files/../../../x"]);
    let absolute = outside.path().join("secret").display().to_string();
    let vars = json!({"remote": p.remote_str(), "escapes": escapes, "absolute": absolute}).to_string();
    let run = p.run(&sshd, "t.yml", &["-e", &vars]);
    run.assert_code(0);
    assert!(!p.remote("escaped-copy").exists() && !p.remote("escaped-template").exists(), "{}", run.stdout);
    let refused = run.stdout.lines().filter(|l| l.starts_with("failed: [h]") && l.contains("refusing '")).count();
    assert_eq!(refused, 8, "each escape refused, naming it:\n{}", run.stdout);
    assert!(run.stdout.contains("use an absolute path"), "the error suggests the fix:\n{}", run.stdout);
    assert_eq!(std::fs::read_to_string(p.remote("inside")).unwrap(), "inside\n");
    assert_eq!(std::fs::read_to_string(p.remote("absolute")).unwrap(), "controller secret\n");
}

/// `target` relative to `base` (both absolute), with `..` as needed.
fn pathdiff(base: PathBuf, target: &Path) -> String {
    let depth = base.components().count() - 1;
    format!("{}{}", "../".repeat(depth), target.strip_prefix("/").unwrap().display())
}

const GET_URL: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - file: {path: "{{ remote }}/dl", state: directory}
    - name: hostile dest names
      get_url: {url: "{{ base }}/data", dest: "{{ remote }}/dl/{{ item }}"}
      loop: "{{ names }}"
    - name: hostile header values, query strings, user names, passwords and checksums
      get_url:
        url: "{{ base }}/data?q={{ item | urlencode }}"
        dest: "{{ remote }}/dl/by-header"
        force: true
        headers: {X-Hostile: "{{ item }}"}
        url_username: "{{ item }}"
        url_password: "{{ item }}"
        http_agent: "{{ item }}"
      loop: "{{ values }}"
      ignore_errors: true
    - name: hostile checksum URLs and URLs
      get_url: {url: "{{ item }}", dest: "{{ remote }}/dl/by-url", checksum: "sha1:{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
"#;

#[test]
fn get_url_keeps_hostile_dest_headers_urls_and_credentials_as_data() {
    let sshd = TestSshd::start();
    let http = crate::httpd::Httpd::start();
    http.route("/data", crate::httpd::Route::ok(b"data\n"));
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("get_url.yml", GET_URL);
    let vars = h.vars_file(&p, json!({"base": http.url("")}));
    let run = p.run(&sshd, "get_url.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_no_marker(&p, &sshd);
    let dl = p.remote("dl");
    let expected: BTreeSet<String> = h.names.iter().cloned().chain(["by-header".to_string()]).collect();
    assert_eq!(names_in(&dl), expected, "each name is one file, nothing else (no temp files left)");
    for name in &h.names {
        assert_eq!(std::fs::read(dl.join(name)).unwrap(), b"data\n", "{name:?}");
    }
    // Header values arrive as sent (curl drops only what cannot be one header line).
    let seen = http.seen();
    for value in h.values.iter().filter(|v| !v.contains(['\n', '\r']) && v.trim() == v.as_str() && !v.is_empty()) {
        assert!(seen.iter().any(|s| s.header("x-hostile") == Some(value.as_str())), "header {value:?} not sent as is");
    }
}

const URI: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile bodies, header values, query strings, methods-as-data, credentials and creates paths
      uri:
        url: "{{ base }}/data?q={{ item | urlencode }}"
        method: POST
        body: "{{ item }}"
        headers: {X-Hostile: "{{ item }}"}
        url_username: "{{ item }}"
        url_password: "{{ item }}"
        http_agent: "{{ item }}"
        removes: "{{ remote }}"
        creates: "{{ remote }}/{{ item }}"
      loop: "{{ values }}"
      ignore_errors: true
    - name: hostile URLs and methods
      uri: {url: "{{ item }}", method: "{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
    - name: hostile dest file names
      uri: {url: "{{ base }}/data", dest: "{{ remote }}/{{ item }}"}
      loop: "{{ names }}"
      ignore_errors: true
    - name: hostile src file names on the host
      uri: {url: "{{ base }}/data", method: PUT, src: "{{ remote }}/{{ item }}", remote_src: true}
      loop: "{{ names }}"
      ignore_errors: true
"#;

#[test]
fn uri_keeps_hostile_bodies_headers_urls_and_credentials_as_data() {
    let sshd = TestSshd::start();
    let http = crate::httpd::Httpd::start();
    http.route("/data", crate::httpd::Route::ok(b"data\n"));
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("uri.yml", URI);
    let vars = h.vars_file(&p, json!({"base": http.url("")}));
    let run = p.run(&sshd, "uri.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_no_marker(&p, &sshd);
    // Bodies arrive byte for byte (a NUL cannot be a module argument; those items fail before any request).
    let seen = http.seen();
    for value in h.values.iter().filter(|v| !v.contains('\0') && !v.is_empty()) {
        assert!(seen.iter().any(|s| s.body == value.as_bytes()), "body {value:?} not sent as is");
    }
    // Downloads land under their hostile names, and are sent back from there.
    let puts = seen.iter().filter(|s| s.method == "PUT" && s.body == b"data\n").count();
    let mut written = 0;
    for name in h.names.iter().filter(|n| !n.contains(['\0', '/']) && !n.is_empty() && n.as_str() != "." && n.as_str() != "..") {
        assert_eq!(std::fs::read(p.remote(name)).ok().as_deref(), Some(b"data\n".as_slice()), "dest {name:?}");
        written += 1;
    }
    assert!(written > 0 && puts >= written, "{written} files written, {puts} sent back");
}

/// cron: hostile names, jobs and variable values land in a cron file as text;
/// a hostile `user` of a user's crontab reaches `crontab -u` as one word
/// (this machine has no crontab: the probe fails cleanly, nothing runs).
const CRON: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile names and jobs in a cron file
      cron: {name: "{{ item }}", job: "{{ item }}", user: root, cron_file: "{{ remote }}/hostile.cron"}
      loop: "{{ values }}"
    - name: hostile variable values
      cron: {name: "V{{ i }}", job: "{{ item }}", env: true, user: root, cron_file: "{{ remote }}/hostile.cron"}
      loop: "{{ values }}"
      loop_control: {index_var: i}
    - name: hostile users of a crontab
      cron: {name: x, job: x, user: "{{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
"#;

#[test]
fn cron_keeps_hostile_names_jobs_and_users_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("cron.yml", CRON);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "cron.yml", &["-e", &vars]);
    run.assert_code(0);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let table = std::fs::read_to_string(p.remote("hostile.cron")).unwrap();
    let breaks = ['\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u{85}', '\u{2028}', '\u{2029}'];
    for (i, value) in h.values.iter().enumerate().filter(|(_, v)| !v.contains(breaks)) {
        assert!(table.contains(&format!("\n#Ansible: {value}\n* * * * * root {value}\n")), "job {value:?} as text:\n{table}");
        assert!(table.contains(&format!("V{i}=\"{value}\"\n")), "variable {value:?} as text:\n{table}");
    }
}

/// authorized_key: hostile users, paths, comments and options stay data.
const AUTHORIZED_KEY: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile comments and options in a file named by a hostile name
      authorized_key:
        user: "{{ ansible_user }}"
        path: "{{ remote }}/keys/{{ item }}"
        key: "ssh-rsa AAAAKey{{ i }}"
        comment: "{{ item }}"
        key_options: "{{ item }}"
        manage_dir: false
      loop: "{{ names }}"
      loop_control: {index_var: i}
      ignore_errors: true
    - name: hostile users
      authorized_key: {user: "{{ item }}", key: "ssh-rsa AAAAKey"}
      loop: "{{ values }}"
      ignore_errors: true
"#;

#[test]
fn authorized_key_keeps_hostile_users_paths_and_comments_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    std::fs::create_dir_all(p.remote("keys")).unwrap();
    p.inventory(&sshd, &["h"]).write("ak.yml", AUTHORIZED_KEY);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "ak.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let written = names_in(&p.remote("keys"));
    let breaks = ['\n', '\r', '\t', ' '];
    for (i, name) in h.names.iter().enumerate().filter(|(_, n)| !n.contains(breaks) && !n.contains(',') && !n.contains('"') && !n.contains('\'') && !n.is_empty() && *n != "." && *n != "..") {
        assert!(written.contains(name), "file {name:?} written under its own name: {written:?}");
        let text = std::fs::read_to_string(p.remote("keys").join(name)).unwrap();
        assert!(text.contains(&format!("ssh-rsa AAAAKey{i} {name}\n")), "comment {name:?} as text: {text:?}");
    }
    assert!(run.stdout.contains("Failed to lookup user"), "{}", run.stdout);
}

/// sysctl: hostile names and values land in the file as text and reach
/// `sysctl` as one word each. Check mode: `sysctl -w` must not touch this
/// machine's kernel; the probe still sends the name.
const SYSCTL: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile values in a file
      sysctl: {name: "k{{ i }}", value: "{{ item }}", sysctl_file: "{{ remote }}/hostile.conf", reload: false}
      loop: "{{ values }}"
      loop_control: {index_var: i}
      ignore_errors: true
    - name: hostile names probed
      sysctl: {name: "{{ item }}", value: "1", sysctl_set: true, sysctl_file: "{{ remote }}/probe.conf"}
      loop: "{{ values }}"
      check_mode: true
      ignore_errors: true
"#;

#[test]
fn sysctl_keeps_hostile_names_and_values_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("sysctl.yml", SYSCTL);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "sysctl.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let text = std::fs::read_to_string(p.remote("hostile.conf")).unwrap();
    for (i, value) in h.values.iter().enumerate().filter(|(_, v)| !v.contains(['\n', '\r']) && !v.trim().is_empty()) {
        assert!(text.contains(&format!("k{i}={}\n", value.trim())), "value {value:?} as text:\n{text}");
    }
}

/// mount: hostile sources and options land in the fstab as escaped text,
/// and hostile mount points, sources and options reach (a stand-in) `mount`
/// as one word each.
const MOUNT: &str = r#"
- hosts: all
  gather_facts: false
  environment:
    PATH: "{{ remote }}/bin:/usr/bin:/bin"
  tasks:
    - name: hostile fstab fields
      mount: {path: "/mnt/h{{ i }}", src: "{{ item }}", fstype: ext4, opts: "{{ item }}", state: present, fstab: "{{ remote }}/fstab"}
      loop: "{{ values }}"
      loop_control: {index_var: i}
      ignore_errors: true
    - name: hostile mount points and sources mounted
      mount: {path: "{{ remote }}/pts/{{ names[i] }}", src: "{{ item }}", fstype: tmpfs, opts: "{{ item }}", state: ephemeral}
      loop: "{{ values }}"
      loop_control: {index_var: i}
      ignore_errors: true
"#;

#[test]
fn mount_keeps_hostile_fields_as_data() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    std::fs::create_dir_all(p.remote("bin")).unwrap();
    std::fs::create_dir_all(p.remote("pts")).unwrap();
    let log = p.remote("mount.log");
    let fake = p.remote("bin/mount");
    std::fs::write(&fake, format!("#!/bin/sh\nfor a do printf '[%s]' \"$a\"; done >> '{}'; echo >> '{}'\n", log.display(), log.display())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.inventory(&sshd, &["h"]).write("mount.yml", MOUNT);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "mount.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let escape = |v: &str| v.replace('\\', "\\134").replace(' ', "\\040").replace('&', "\\046");
    let fstab = std::fs::read_to_string(p.remote("fstab")).unwrap();
    let mounted = std::fs::read_to_string(&log).unwrap();
    let plain = |v: &&String| !v.contains(['\n', '\r', '\t']) && !v.starts_with('~') && !v.is_empty();
    for (i, value) in h.values.iter().enumerate().filter(|(_, v)| plain(v)) {
        let e = escape(value);
        assert!(fstab.contains(&format!("{e} /mnt/h{i} ext4 {e} 0 0\n")), "value {value:?} as text:\n{fstab}");
        let point = p.remote("pts").join(&h.names[i]).display().to_string();
        assert!(mounted.contains(&format!("[-o][{value}][-t][tmpfs][--][{value}][{point}]\n")), "value {value:?} as words:\n{mounted}");
    }
}

/// hostname: hostile names reach (a stand-in) `hostnamectl` as one word.
const HOSTNAME: &str = r#"
- hosts: all
  gather_facts: false
  environment:
    PATH: "{{ remote }}/bin:/usr/bin:/bin"
  tasks:
    - hostname: {name: "{{ item }}", use: systemd}
      loop: "{{ values }}"
      ignore_errors: true
"#;

#[test]
fn hostname_keeps_hostile_names_as_data() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    std::fs::create_dir_all(p.remote("bin")).unwrap();
    let log = p.remote("set.log");
    // `status` prints a fixed name; `set-hostname -- NAME` logs NAME.
    let fake = p.remote("bin/hostnamectl");
    let script = format!("#!/bin/sh\nfor a do last=$a; done\ncase \" $* \" in *' status '*) echo fixed ;; *' set-hostname -- '*) printf '[%s]\\n' \"$last\" >> '{}' ;; esac\n", log.display());
    std::fs::write(&fake, script).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.inventory(&sshd, &["h"]).write("hostname.yml", HOSTNAME);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "hostname.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let set = std::fs::read_to_string(&log).unwrap();
    for value in h.values.iter().filter(|v| !v.contains(['\n', '\r']) && v.as_str() != "fixed" && v.chars().count() <= 64) {
        assert!(set.contains(&format!("[{value}]\n")), "name {value:?} as one word:\n{set}");
    }
}

/// timezone: hostile zone names are only looked up (as files under
/// /usr/share/zoneinfo), and the refusal names them as text.
const TIMEZONE: &str = r#"
- hosts: all
  gather_facts: false
  environment:
    PATH: "{{ remote }}/bin:/usr/bin:/bin"
  tasks:
    - timezone: {name: "{{ item }}"}
      loop: "{{ values }}"
      register: r
      ignore_errors: true
    - copy: {dest: "{{ remote }}/msgs.json", content: "{{ r.results | map(attribute='msg') | list | to_json }}"}
"#;

#[test]
fn timezone_keeps_hostile_names_as_data() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    std::fs::create_dir_all(p.remote("bin")).unwrap();
    let fake = p.remote("bin/timedatectl");
    std::fs::write(&fake, "#!/bin/sh\nprintf '  Time zone: Etc/UTC (UTC, +0000)\\n  RTC in local TZ: no\\n'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.inventory(&sshd, &["h"]).write("tz.yml", TIMEZONE);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "tz.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let msgs: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(p.remote("msgs.json")).unwrap()).unwrap();
    for (value, msg) in h.values.iter().zip(&msgs).filter(|(v, _)| !v.is_empty()) {
        assert_eq!(msg.as_str(), Some(format!("Error message:\ngiven timezone \"{value}\" is not available").as_str()), "for {value:?}");
    }
}

/// unarchive: hostile member names arrive byte for byte; hostile dest,
/// creates, include, exclude and extra_opts values reach tar and unzip as
/// one argument each, never as shell code.
const UNARCHIVE: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile member names, from the controller
      unarchive: {src: hostile.tgz, dest: "{{ remote }}/t"}
    - name: the same names from a zip
      unarchive: {src: hostile.zip, dest: "{{ remote }}/z"}
    - file: {path: "{{ remote }}/d/{{ item }}", state: directory}
      loop: "{{ names }}"
    - name: hostile dest names
      unarchive: {src: "{{ remote }}/plain.tgz", dest: "{{ remote }}/d/{{ item }}", remote_src: true}
      loop: "{{ names }}"
    - name: hostile creates, include and exclude values
      unarchive:
        src: "{{ remote }}/plain.tgz"
        dest: "{{ remote }}/d"
        remote_src: true
        creates: "{{ remote }}/{{ item }}"
        include: ["{{ item }}"]
      loop: "{{ values }}"
      ignore_errors: true
    - name: hostile excludes and extra_opts for tar
      unarchive: {src: "{{ remote }}/plain.tgz", dest: "{{ remote }}/d", remote_src: true, exclude: ["{{ item }}"], extra_opts: ["{{ item }}"]}
      loop: "{{ values }}"
      ignore_errors: true
    - name: hostile excludes and extra_opts for unzip
      unarchive: {src: hostile.zip, dest: "{{ remote }}/z", exclude: ["{{ item }}"], extra_opts: ["{{ item }}"]}
      loop: "{{ values }}"
      ignore_errors: true
"#;

#[test]
fn unarchive_keeps_hostile_member_names_and_values_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    let tree = p.path("tree");
    std::fs::create_dir_all(&tree).unwrap();
    // unzip itself writes control characters of names as `^X` (as under Ansible).
    let zip_names: Vec<&String> = h.names.iter().filter(|n| !n.chars().any(char::is_control)).collect();
    for name in &h.names {
        std::fs::write(tree.join(name), name.as_bytes()).unwrap();
    }
    std::fs::create_dir_all(p.path("files")).unwrap();
    let status = |cmd: &mut std::process::Command| assert!(cmd.current_dir(&tree).status().unwrap().success(), "{cmd:?}");
    status(std::process::Command::new("tar").args(["-czf", "../files/hostile.tgz", "."]));
    let mut zip = std::process::Command::new("zip");
    zip.args(["-q", "../files/hostile.zip", "--"]).args(&zip_names);
    status(&mut zip);
    std::fs::create_dir_all(p.path("plain/app")).unwrap();
    std::fs::write(p.path("plain/app/f"), "f\n").unwrap();
    status(std::process::Command::new("tar").args(["-czf"]).arg(p.remote("plain.tgz")).args(["-C"]).arg(p.path("plain")).arg("app"));
    std::fs::create_dir_all(p.remote("t")).unwrap();
    std::fs::create_dir_all(p.remote("z")).unwrap();
    p.inventory(&sshd, &["h"]).write("unarchive.yml", UNARCHIVE);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "unarchive.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    for name in &h.names {
        assert_eq!(std::fs::read(p.remote("t").join(name)).unwrap(), name.as_bytes(), "tar member {name:?}");
        assert_eq!(std::fs::read(p.remote("d").join(name).join("app/f")).unwrap(), b"f\n", "dest {name:?}");
    }
    let wrong: Vec<&&String> = zip_names.iter().filter(|n| std::fs::read(p.remote("z").join(n)).ok().as_deref() != Some(n.as_bytes())).collect();
    assert!(wrong.is_empty(), "zip members not unpacked as they are: {wrong:?}\n{}", run.stdout);
}

/// reboot: every hostile `msg` reaches shutdown as one argument, byte for
/// byte, and hostile `search_paths` are only looked in. A fake shutdown in
/// the remote dir records its arguments and moves a fake boot time on (this
/// machine must not reboot; tests/tier1/modules_reboot.rs drives the rest).
const REBOOT: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile messages and search paths
      reboot:
        msg: "{{ item.0 }}"
        search_paths: ["{{ remote }}/{{ item.1 }}", "{{ remote }}/bin"]
        boot_time_command: "cat {{ remote }}/boot"
        reboot_timeout: 20
      loop: "{{ values | zip(names) | list }}"
"#;

#[test]
fn reboot_keeps_hostile_messages_and_search_paths_as_data() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    let remote = p.remote_str();
    std::fs::create_dir_all(p.remote("bin")).unwrap();
    let fake = format!("#!/bin/sh\nn=$(cat '{remote}/boot')\nprintf '%s\\0' \"$@\" > '{remote}/args-'$n\necho $((n + 1)) > '{remote}/boot'\n");
    std::fs::write(p.remote("bin/shutdown"), fake).unwrap();
    std::fs::set_permissions(p.remote("bin/shutdown"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(p.remote("boot"), "0\n").unwrap();
    p.inventory(&sshd, &["h"]).write("reboot.yml", REBOOT);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "reboot.yml", &["-e", &vars]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_no_marker(&p, &sshd);
    for (i, value) in h.values.iter().enumerate() {
        let raw = std::fs::read(p.remote(&format!("args-{i}"))).unwrap_or_else(|e| panic!("no shutdown for {value:?}: {e}"));
        let args: Vec<&[u8]> = raw.split(|&b| b == 0).filter(|a| !a.is_empty()).collect();
        let expected: Vec<&[u8]> = ["-r".as_bytes(), b"0", value.as_bytes()].into_iter().filter(|a| !a.is_empty()).collect();
        assert_eq!(args, expected, "for {value:?}");
    }
}

/// ini_file: hostile sections, options and values land in the file as text
/// (only the path reaches a command); hostile file names are one path each.
const INI_FILE: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile sections, options and values
      community.general.ini_file: {path: "{{ remote }}/hostile.ini", section: "s{{ i }}", option: "o{{ i }}", value: "{{ item }}"}
      loop: "{{ values }}"
      loop_control: {index_var: i}
      ignore_errors: true
    - name: hostile option names
      ini_file: {path: "{{ remote }}/options.ini", section: "{{ item }}", option: "{{ item }}", value: "v{{ i }}"}
      loop: "{{ values }}"
      loop_control: {index_var: i}
      ignore_errors: true
    - name: hostile file names
      ini_file: {path: "{{ remote }}/names/{{ item }}", section: s, option: o, value: v}
      loop: "{{ names }}"
      ignore_errors: true
"#;

#[test]
fn ini_file_keeps_hostile_sections_options_and_values_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("ini.yml", INI_FILE);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "ini.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
    let text = std::fs::read_to_string(p.remote("hostile.ini")).unwrap();
    for (i, value) in h.values.iter().enumerate().filter(|(_, v)| !v.contains(['\n', '\r'])) {
        assert!(text.contains(&format!("[s{i}]\no{i} = {value}\n")), "value {value:?} as text:\n{text}");
    }
    let options = std::fs::read_to_string(p.remote("options.ini")).unwrap();
    for (i, name) in h.values.iter().enumerate().filter(|(_, v)| !v.contains(['\n', '\r']) && !v.trim().is_empty()) {
        assert!(options.contains(&format!("{name} = v{i}\n")), "option {name:?} as text:\n{options}");
    }
    for name in h.names.iter().filter(|n| !n.contains('/') && !n.is_empty()) {
        let path = p.remote("names").join(name);
        let got = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(got, "\n[s]\no = v\n", "{name:?}");
    }
}

/// apt_repository and deb822_repository in check mode (tier 1 is not root, so
/// nothing is written under /etc/apt): hostile repo lines, file names, names,
/// URIs and signed_by values reach the host's shell only as arguments of the
/// one probe, never as code.
const APT_REPOSITORY: &str = r#"
- hosts: all
  gather_facts: false
  check_mode: true
  tasks:
    - name: hostile repo lines
      apt_repository: {repo: "deb [trusted=yes] file:/srv/{{ item }} ./ {{ item }}"}
      loop: "{{ values }}"
      ignore_errors: true
    - name: hostile file names
      apt_repository: {repo: "deb http://example.invalid/debian x main", filename: "{{ item }}"}
      loop: "{{ names }}"
      ignore_errors: true
    - name: hostile deb822 names, uris and signed_by
      deb822_repository: {name: "{{ item }}", uris: "http://example.invalid/{{ item }}", suites: x, signed_by: "{{ item }}"}
      loop: "{{ values + names }}"
      ignore_errors: true
"#;

#[test]
fn apt_repository_and_deb822_keep_hostile_lines_and_names_as_data() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let h = Hostile::new(&p);
    p.inventory(&sshd, &["h"]).write("aptrepo.yml", APT_REPOSITORY);
    let vars = h.vars_file(&p, json!({}));
    let run = p.run(&sshd, "aptrepo.yml", &["-e", &vars]);
    assert!(run.code == 0 || run.code == 2, "no crash:\n{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
    assert!(!run.stdout.contains("panicked"), "{}", run.stdout);
    assert_no_marker(&p, &sshd);
}
