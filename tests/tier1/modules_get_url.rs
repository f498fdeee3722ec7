//! `get_url`, native (curl on the host, no Python): downloads, idempotence
//! (If-Modified-Since, same bytes, a matching checksum that skips the
//! download), checksums, dest as a directory, check mode, failures with
//! Ansible's messages, and credentials that never reach a command line or
//! the output. The server is tests/tier1/httpd.rs on 127.0.0.1.

use std::os::unix::fs::PermissionsExt;

use crate::httpd::{Httpd, Route};
use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const SHA256_HELLO: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /nonexistent/python3
  tasks:
    - name: first download
      get_url: {url: "{{ base }}/hello.txt", dest: "{{ remote }}/hello.txt", mode: "0640"}
      register: first
    - name: again, the server says not modified
      get_url: {url: "{{ base }}/hello.txt", dest: "{{ remote }}/hello.txt", mode: "0640"}
      register: again
    - name: forced, same bytes
      get_url: {url: "{{ base }}/hello.txt", dest: "{{ remote }}/hello.txt", force: true}
      register: forced
    - name: a matching checksum downloads nothing
      get_url: {url: "{{ base }}/hello.txt", dest: "{{ remote }}/hello.txt", checksum: "sha256:{{ sha }}"}
      register: skipped
    - name: checksum from a checksum file
      get_url: {url: "{{ base }}/hello.txt", dest: "{{ remote }}/by-file.txt", checksum: "sha256:{{ base }}/SHA256SUMS"}
      register: byfile
    - name: a wrong checksum fails and leaves nothing
      get_url: {url: "{{ base }}/hello.txt", dest: "{{ remote }}/bad.txt", checksum: "sha1:0000000000000000000000000000000000000000"}
      register: bad
      ignore_errors: true
    - name: dest a directory, name from Content-Disposition
      get_url: {url: "{{ base }}/named", dest: "{{ remote }}"}
      register: named
    - name: not found
      get_url: {url: "{{ base }}/nothere", dest: "{{ remote }}/nothere"}
      register: missing
      ignore_errors: true
    - name: check mode
      get_url: {url: "{{ base }}/hello.txt", dest: "{{ remote }}/checked.txt"}
      check_mode: true
      register: checked
    - assert:
        that:
          - first is changed
          - first.status_code == 200
          - first.mode == "0640"
          - first.checksum_src == "f572d396fae9206628714fb2ce00f72e94f2258f"
          - first.md5sum == "b1946ac92492d2347c6235b4d2611184"
          - first.msg == "OK (6 bytes)"
          - first.url == base ~ "/hello.txt"
          - again is not changed
          - again.status_code == 304
          - forced is not changed
          - forced.checksum_dest == forced.checksum_src
          - skipped is not changed
          - skipped.msg == "file already exists"
          - byfile is changed
          - bad is failed
          - bad.msg is search("did not match 0000000000000000000000000000000000000000; it was f572d396fae9206628714fb2ce00f72e94f2258f")
          - named.dest == remote ~ "/report.json"
          - missing is failed
          - missing.msg == "Request failed"
          - missing.status_code == 404
          - missing.response == "HTTP Error 404: NOT FOUND"
          - checked is changed
"#;

#[test]
fn get_url_downloads_once_checks_sums_and_replaces_atomically() {
    let sshd = TestSshd::start();
    let http = Httpd::start();
    let conditional = Route { conditional: true, ..Route::ok(b"hello\n") };
    http.route("/hello.txt", conditional);
    http.route("/SHA256SUMS", Route::ok(format!("{SHA256_HELLO}  hello.txt\n0000  other.txt\n").as_bytes()));
    let named = Route { headers: vec![("Content-Disposition".into(), "attachment; filename=\"../report.json\"".into())], ..Route::ok(b"{}") };
    http.route("/named", named);
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("get_url.yml", PLAY);
    let vars = format!("remote={} base={} sha={SHA256_HELLO}", p.remote_str(), http.url(""));
    let run = p.run(&sshd, "get_url.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_eq!(run.recap("h"), recap("h", 10, 4, 0, 0, 0, 2), "{}", run.stdout);
    let hello = p.remote("hello.txt");
    assert_eq!(std::fs::read(&hello).unwrap(), b"hello\n");
    assert_eq!(std::fs::metadata(&hello).unwrap().permissions().mode() & 0o7777, 0o640);
    assert!(p.remote("report.json").exists(), "dest dir: name from the response");
    for absent in ["bad.txt", "checked.txt", "nothere"] {
        assert!(!p.remote(absent).exists(), "{absent} must not be created");
    }
    let leftovers: Vec<_> = std::fs::read_dir(p.remote.path()).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".stockman")).collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    // The matching checksum task sent no request at all; check mode sent HEAD.
    let seen = http.seen();
    let hello_gets = seen.iter().filter(|s| s.path == "/hello.txt" && s.method == "GET").count();
    assert_eq!(hello_gets, 5, "{seen:?}");
    assert!(seen.iter().any(|s| s.method == "HEAD"), "{seen:?}");
    assert!(seen.iter().any(|s| s.header("if-modified-since").is_some()), "the second task is conditional: {seen:?}");
    assert!(seen.iter().all(|s| s.header("user-agent") == Some("ansible-httpget")), "{seen:?}");
}

const SECRET_PLAY: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: credentials and a header
      get_url:
        url: "{{ base }}/private"
        dest: "{{ remote }}/private"
        url_username: alice
        url_password: "s3cr3t-pw'$(touch {{ remote }}/PWNED)"
        headers: {X-Token: "tok-s3cr3t"}
      register: r
    - name: credentials in the URL
      get_url:
        url: "http://alice:s3cr3t-pw%27%24%28id%29@127.0.0.1:{{ port }}/private2"
        dest: "{{ remote }}/private2"
      register: r2
    - assert:
        that:
          - r is changed
          - r2.url == "http://alice:********@127.0.0.1:" ~ port ~ "/private2"
"#;

#[test]
fn get_url_credentials_never_on_a_command_line_or_in_output() {
    let sshd = TestSshd::start();
    let http = Httpd::start();
    let p = Project::new();
    let password = format!("s3cr3t-pw'$(touch {}/PWNED)", p.remote_str());
    let route = Route { basic_auth: Some(format!("alice:{password}")), ..Route::ok(b"private\n") };
    http.route("/private", route);
    // Percent-encoded in the URL, decoded by curl.
    http.route("/private2", Route { basic_auth: Some("alice:s3cr3t-pw'$(id)".into()), ..Route::ok(b"private\n") });
    p.inventory(&sshd, &["h"]).write("secret.yml", SECRET_PLAY);
    let vars = format!("remote={} base={} port={}", p.remote_str(), http.url(""), http.port);
    // -vvvv prints every command stockman runs on the host.
    let run = p.run(&sshd, "secret.yml", &["-vvvv", "-e", &vars]);
    run.assert_code(0);
    assert_eq!(run.recap("h"), recap("h", 3, 2, 0, 0, 0, 0), "{}", run.stdout);
    assert!(run.stdout.contains(" EXEC "), "commands are shown at -vvvv: {}", run.stdout);
    for secret in ["s3cr3t-pw", "tok-s3cr3t"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "{secret} shown:\n{}\n{}", run.stdout, run.stderr);
    }
    assert!(!p.remote("PWNED").exists(), "the password ran as code");
    let seen = http.seen();
    assert!(seen.iter().any(|s| s.header("x-token") == Some("tok-s3cr3t")), "{seen:?}");
    assert_eq!(std::fs::read(p.remote("private2")).unwrap(), b"private\n");
}

#[test]
fn get_url_reads_file_urls_refuses_what_curl_cannot_honour_and_needs_an_existing_directory() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let play = r#"
- hosts: all
  gather_facts: false
  tasks:
    - get_url: {url: "http://127.0.0.1:9/x", dest: "{{ remote }}/x", use_gssapi: true}
      register: gss
      ignore_errors: true
    - get_url: {url: "http://127.0.0.1:9/x", dest: "{{ remote }}/x", unredirected_headers: [Authorization]}
      register: unred
      ignore_errors: true
    - get_url: {url: "http://127.0.0.1:9/x", dest: "{{ remote }}/no/such/dir/x"}
      register: nodir
      ignore_errors: true
    - name: a cut transfer
      get_url: {url: "{{ base }}/short", dest: "{{ remote }}/short"}
      register: short
      ignore_errors: true
    - name: a file URL
      get_url:
        url: "file://{{ remote }}/src.txt"
        dest: "{{ remote }}/from-file.txt"
        checksum: sha3_256:fab7adbe185e45d7ce03b1bcd6fe078f573afa7bb96371971868203ac6b7a1a9
      register: file_url
    - assert:
        that:
          - file_url is changed
          - file_url.msg == "OK (4 bytes)"
          - short is failed
          - '"Incomplete read" in short.msg'
          - gss.msg is search("use_gssapi")
          - unred.msg is search("unredirected_headers")
          - nodir.msg == "Destination " ~ remote ~ "/no/such/dir does not exist"
"#;
    p.inventory(&sshd, &["h"]).write("refuse.yml", play);
    std::fs::write(p.remote("src.txt"), "src\n").unwrap();
    let http = Httpd::start();
    http.route("/short", Route { truncated: true, ..Route::ok(b"short") });
    let vars = format!("remote={} base={}", p.remote_str(), http.url(""));
    let run = p.run(&sshd, "refuse.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_eq!(run.recap("h"), recap("h", 6, 1, 0, 0, 0, 4), "{}", run.stdout);
    assert!(!p.remote("short").exists(), "a cut transfer leaves dest alone");
    assert_eq!(std::fs::read(p.remote("from-file.txt")).unwrap(), b"src\n");
}
