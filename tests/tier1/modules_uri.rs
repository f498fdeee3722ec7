//! `uri`, native (curl on the host, no Python): methods and bodies (raw,
//! json, form-urlencoded) as sent, status_code, return_content, JSON
//! responses parsed, response headers as keys, creates/removes, check mode
//! skipped as Ansible, and credentials and bodies that never reach a command
//! line or the output. The server is tests/tier1/httpd.rs on 127.0.0.1.

use crate::httpd::{Httpd, Route};
use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /nonexistent/python3
  tasks:
    - name: a JSON answer
      uri: {url: "{{ base }}/api"}
      register: api
    - name: POST a JSON body
      uri:
        url: "{{ base }}/items"
        method: POST
        body_format: json
        body: {name: "é x", tags: [1, true]}
        status_code: [201]
        return_content: true
      register: created
    - name: a form
      uri: {url: "{{ base }}/items", method: PUT, body_format: form-urlencoded, body: {a: "1 2", b: "x&y"}, status_code: "200,201"}
      register: form
    - name: a raw body starting with @ is data, not a file
      uri: {url: "{{ base }}/items", method: POST, body: "@/etc/passwd", status_code: 201}
    - name: not found
      uri: {url: "{{ base }}/nothere"}
      register: missing
      ignore_errors: true
    - name: not found, expected
      uri: {url: "{{ base }}/nothere", status_code: 404}
      register: expected
    - name: creates exists
      uri: {url: "{{ base }}/never", creates: "{{ remote }}"}
      register: created_skip
    - name: removes absent
      uri: {url: "{{ base }}/never", removes: "{{ remote }}/absent"}
      register: removes_skip
    - name: check mode is not supported
      uri: {url: "{{ base }}/never"}
      check_mode: true
      register: checked
    - name: nobody listens
      uri: {url: "http://127.0.0.1:9/x", timeout: 2}
      register: down
      ignore_errors: true
    - name: a body cut short after the headers
      uri: {url: "{{ base }}/short"}
      register: short
      ignore_errors: true
    - assert:
        that:
          - short is failed
          - 'short.msg.startswith("HTTP Error while fetching " ~ base ~ "/short: (18)")'
          - api is not changed
          - api.status == 200
          - 'api.json == {"a": 1, "b": ["x"]}'
          - api.content is not defined
          - api.content_type == "application/json"
          - api.x_custom_header == "yes"
          - api.msg == "OK (22 bytes)"
          - api.url == base ~ "/api"
          - api.redirected == false
          - created.status == 201
          - "created.content == '{\"id\": 7}'"
          - created.json.id == 7
          - form.status == 201
          - missing is failed
          - missing.status == 404
          - 'missing.msg == "Status code was 404 and not [200]: HTTP Error 404: NOT FOUND"'
          - expected is not failed
          - created_skip is not changed
          - created_skip.stdout == "skipped, since '" ~ remote ~ "' exists"
          - removes_skip.stdout == "skipped, since '" ~ remote ~ "/absent' does not exist"
          - checked is skipped
          - down is failed
          - down.status == -1
          - 'down.msg.startswith("Status code was -1 and not [200]: Request failed")'
"#;

#[test]
fn uri_sends_methods_and_bodies_and_reports_as_ansible() {
    let sshd = TestSshd::start();
    let http = Httpd::start();
    let api = Route {
        headers: vec![("Content-Type".into(), "application/json".into()), ("X-Custom-Header".into(), "yes".into())],
        ..Route::ok(br#"{"a": 1, "b": ["x"]}  "#)
    };
    http.route("/api", api);
    http.route("/short", Route { truncated: true, ..Route::ok(b"short") });
    http.route("/items", Route { status: 201, headers: vec![("Content-Type".into(), "application/json".into())], ..Route::ok(br#"{"id": 7}"#) });
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("uri.yml", PLAY);
    let vars = format!("remote={} base={}", p.remote_str(), http.url(""));
    let run = p.run(&sshd, "uri.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_eq!(run.recap("h"), recap("h", 11, 0, 0, 0, 1, 3), "{}", run.stdout);
    let seen = http.seen();
    let items: Vec<_> = seen.iter().filter(|s| s.path == "/items").collect();
    assert_eq!(items.len(), 3, "{seen:?}");
    assert_eq!((items[0].method.as_str(), items[0].body.as_slice()), ("POST", br#"{"name": "\u00e9 x", "tags": [1, true]}"#.as_slice()));
    assert_eq!(items[0].header("content-type"), Some("application/json"));
    assert_eq!((items[1].method.as_str(), items[1].body.as_slice()), ("PUT", b"a=1+2&b=x%26y".as_slice()));
    assert_eq!(items[1].header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(items[2].body, b"@/etc/passwd");
    assert!(seen.iter().all(|s| s.path != "/never"), "creates/removes/check mode sent nothing: {seen:?}");
    assert!(seen.iter().all(|s| s.header("user-agent") == Some("ansible-httpget")), "{seen:?}");
}

const SECRET_PLAY: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: credentials, a secret header and a secret body
      uri:
        url: "{{ base }}/private"
        method: POST
        url_username: alice
        url_password: "s3cr3t-pw'$(touch {{ remote }}/PWNED)"
        force_basic_auth: true
        headers: {X-Token: "tok-s3cr3t"}
        body: "body-s3cr3t"
        return_content: true
      register: r
    - assert:
        that:
          - r.status == 200
          - r.content == "private"
"#;

#[test]
fn uri_credentials_headers_and_bodies_never_on_a_command_line_or_in_output() {
    let sshd = TestSshd::start();
    let http = Httpd::start();
    let p = Project::new();
    let password = format!("s3cr3t-pw'$(touch {}/PWNED)", p.remote_str());
    http.route("/private", Route { basic_auth: Some(format!("alice:{password}")), ..Route::ok(b"private") });
    p.inventory(&sshd, &["h"]).write("secret.yml", SECRET_PLAY);
    let vars = format!("remote={} base={}", p.remote_str(), http.url(""));
    // -vvvv prints every command stockman runs on the host.
    let run = p.run(&sshd, "secret.yml", &["-vvvv", "-e", &vars]);
    run.assert_code(0);
    assert_eq!(run.recap("h"), recap("h", 2, 0, 0, 0, 0, 0), "{}", run.stdout);
    assert!(run.stdout.contains(" EXEC "), "commands are shown at -vvvv: {}", run.stdout);
    for secret in ["s3cr3t-pw", "tok-s3cr3t", "body-s3cr3t"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "{secret} shown:\n{}\n{}", run.stdout, run.stderr);
    }
    assert!(!p.remote("PWNED").exists(), "the password ran as code");
    let seen = http.seen();
    assert!(seen.iter().any(|s| s.header("x-token") == Some("tok-s3cr3t") && s.body == b"body-s3cr3t"), "{seen:?}");
}

const DEST_PLAY: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: the body to a file
      uri: {url: "{{ base }}/file", dest: "{{ remote }}/out.txt", mode: "0640"}
      register: first
    - name: again, same bytes (Ansible's uri reports a change whenever it writes)
      uri: {url: "{{ base }}/file", dest: "{{ remote }}/out.txt", mode: "0640"}
      register: again
    - name: a conditional download, then 304 (If-Modified-Since from dest)
      uri: {url: "{{ base }}/cond", dest: "{{ remote }}/cond.txt", status_code: [200, 304]}
      register: cond1
    - uri: {url: "{{ base }}/cond", dest: "{{ remote }}/cond.txt", status_code: [200, 304]}
      register: cond2
    - name: into a directory, named by Content-Disposition
      uri: {url: "{{ base }}/named", dest: "{{ remote }}/dir/"}
      register: named
    - name: an unexpected status writes nothing
      uri: {url: "{{ base }}/nothere", dest: "{{ remote }}/missing.txt"}
      register: missing
      ignore_errors: true
    - name: a file on the host as the body
      uri: {url: "{{ base }}/upload", method: PUT, src: "{{ remote }}/out.txt", remote_src: true}
    - name: a file on the controller as the body
      uri: {url: "{{ base }}/upload", method: POST, src: payload.txt}
    - name: body and src together
      uri: {url: "{{ base }}/upload", body: x, src: payload.txt}
      register: both
      ignore_errors: true
    - assert:
        that:
          - first is changed
          - first.path == remote ~ "/out.txt"
          - first.status == 200
          - again is changed
          - cond1 is changed
          - cond2 is not changed
          - cond2.status == 304
          - named.path == remote ~ "/dir/report.csv"
          - missing is failed
          - missing.status == 404
          - both is failed
          - 'both.msg == "parameters are mutually exclusive: body|src"'
"#;

#[test]
fn uri_writes_dest_atomically_and_sends_files_as_ansible() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = TestSshd::start();
    let http = Httpd::start();
    http.route("/file", Route::ok(b"file body\n"));
    http.route("/cond", Route { conditional: true, ..Route::ok(b"cond body\n") });
    http.route("/named", Route { headers: vec![("Content-Disposition".into(), "attachment; filename=\"report.csv\"".into())], ..Route::ok(b"a,b\n") });
    http.route("/upload", Route::ok(b"thanks"));
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("dest.yml", DEST_PLAY).write("files/payload.txt", "from the controller\n");
    std::fs::create_dir_all(p.remote("dir")).unwrap();
    let vars = format!("remote={} base={}", p.remote_str(), http.url(""));
    let run = p.run(&sshd, "dest.yml", &["-e", &vars]);
    run.assert_code(0);
    assert_eq!(run.recap("h"), recap("h", 10, 4, 0, 0, 0, 2), "{}", run.stdout);
    assert_eq!(std::fs::read(p.remote("out.txt")).unwrap(), b"file body\n");
    assert_eq!(std::fs::metadata(p.remote("out.txt")).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(std::fs::read(p.remote("dir/report.csv")).unwrap(), b"a,b\n");
    assert!(!p.remote("missing.txt").exists());
    let leftovers: Vec<_> = std::fs::read_dir(p.remote("")).unwrap().flatten().map(|e| e.file_name()).filter(|n| n.to_string_lossy().starts_with(".stockman")).collect();
    assert!(leftovers.is_empty(), "temp files left beside dest: {leftovers:?}");
    let seen = http.seen();
    let cond: Vec<_> = seen.iter().filter(|s| s.path == "/cond").collect();
    assert!(cond[0].header("if-modified-since").is_none() && cond[1].header("if-modified-since").is_some(), "{cond:?}");
    let uploads: Vec<_> = seen.iter().filter(|s| s.path == "/upload").collect();
    assert_eq!(uploads.len(), 2, "the mutually exclusive task sent nothing: {seen:?}");
    assert_eq!((uploads[0].method.as_str(), uploads[0].body.as_slice()), ("PUT", b"file body\n".as_slice()));
    assert_eq!((uploads[1].method.as_str(), uploads[1].body.as_slice()), ("POST", b"from the controller\n".as_slice()));
}
