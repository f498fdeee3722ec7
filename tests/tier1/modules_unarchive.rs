//! Native `unarchive` on the test sshd (GNU tar and unzip on the host, no
//! Python): a tar.gz and a zip from the controller, a tar.xz already on the
//! host (`remote_src`) with `include`, a URL downloaded on the host, `exclude`,
//! `creates`, `list_files`, check mode, a missing dest; the second run
//! changes nothing and leaves no temp dir behind.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::httpd::{Httpd, Route};
use crate::run::{recap, Project};
use crate::sshd::TestSshd;

const PLAY: &str = r#"
- hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: /nonexistent/python3
  tasks:
    - file: {path: "{{ remote }}/{{ item }}", state: directory}
      loop: [tgz, zip, txz, url, checked]
    - name: a tar.gz from the controller, logs left out
      unarchive: {src: app.tgz, dest: "{{ remote }}/tgz", exclude: ["*.log"], list_files: true}
      register: tgz
    - name: a zip from the controller
      unarchive: {src: app.zip, dest: "{{ remote }}/zip", list_files: true}
      register: zip
    - name: a tar.xz already on the host, one member
      unarchive: {src: "{{ remote }}/app.txz", dest: "{{ remote }}/txz", remote_src: true, include: ["app/a.txt"]}
      register: txz
    - name: a URL, downloaded on the host
      unarchive: {src: "{{ base }}/release.tgz", dest: "{{ remote }}/url", remote_src: true}
      register: url
    - name: creates exists
      unarchive: {src: app.tgz, dest: "{{ remote }}/tgz", creates: "{{ remote }}/tgz/app"}
      register: creates
    - name: zip in check mode
      unarchive: {src: app.zip, dest: "{{ remote }}/checked"}
      check_mode: true
      register: zcheck
    - name: tar in check mode (Ansible's tar handler skips)
      unarchive: {src: app.tgz, dest: "{{ remote }}/checked"}
      check_mode: true
      register: tcheck
    - name: dest missing
      unarchive: {src: app.tgz, dest: "{{ remote }}/nodir"}
      register: nodest
      ignore_errors: true
    - copy:
        dest: "{{ remote }}/results-{{ run }}.json"
        content: "{{ {'tgz': tgz, 'zip': zip, 'txz': txz, 'url': url, 'creates': creates, 'zcheck': zcheck, 'tcheck': tcheck, 'nodest': nodest} | to_json }}"
"#;

/// Builds the archives of the test tree `app/` in `dir` with the controller's tar and zip.
fn archives(dir: &Path) {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("app/sub")).unwrap();
    std::fs::write(tree.join("app/a.txt"), "alpha\n").unwrap();
    std::fs::write(tree.join("app/sub/b.txt"), "beta\n").unwrap();
    std::fs::write(tree.join("app/debug.log"), "noise\n").unwrap();
    let run = |cmd: &mut Command| assert!(cmd.current_dir(&tree).status().expect("tar and zip on the controller").success(), "{cmd:?}");
    run(Command::new("tar").args(["-czf", "../app.tgz", "app"]));
    run(Command::new("tar").args(["-cJf", "../app.txz", "app"]));
    run(Command::new("zip").args(["-qr", "../app.zip", "app"]));
}

fn results(p: &Project, run: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p.remote(&format!("results-{run}.json"))).unwrap()).unwrap()
}

#[test]
fn unarchive_tar_and_zip_from_controller_host_and_url_idempotently() {
    let sshd = TestSshd::start();
    let http = Httpd::start();
    let p = Project::new();
    archives(&p.path(""));
    std::fs::create_dir_all(p.path("files")).unwrap();
    for name in ["app.tgz", "app.zip"] {
        std::fs::rename(p.path(name), p.path(&format!("files/{name}"))).unwrap();
    }
    std::fs::rename(p.path("app.txz"), p.remote("app.txz")).unwrap();
    http.route("/release.tgz", Route::ok(&std::fs::read(p.path("files/app.tgz")).unwrap()));
    p.inventory(&sshd, &["h"]).write("unarchive.yml", PLAY);
    let vars = |run: &str| format!("remote={} base={} run={run}", p.remote_str(), http.url(""));

    let first = p.run(&sshd, "unarchive.yml", &["-e", &vars("1")]);
    first.assert_code(0);
    assert_eq!(first.recap("h"), recap("h", 8, 7, 0, 0, 2, 1), "{}", first.stdout);
    let read = |rel: &str| std::fs::read_to_string(p.remote(rel)).unwrap_or_default();
    assert_eq!((read("tgz/app/a.txt"), read("tgz/app/sub/b.txt")), ("alpha\n".into(), "beta\n".into()));
    assert!(!p.remote("tgz/app/debug.log").exists(), "excluded");
    assert_eq!((read("zip/app/a.txt"), read("zip/app/debug.log")), ("alpha\n".into(), "noise\n".into()));
    assert_eq!(read("txz/app/a.txt"), "alpha\n");
    assert!(!p.remote("txz/app/sub").exists(), "only the included member");
    assert_eq!(read("url/app/sub/b.txt"), "beta\n");
    assert!(!p.remote("checked/app").exists(), "check mode unpacked nothing");

    let r = results(&p, "1");
    assert_eq!(r["tgz"]["handler"], "TgzArchive");
    assert_eq!(r["tgz"]["files"], serde_json::json!(["app/", "app/sub/", "app/sub/b.txt", "app/a.txt"]));
    assert_eq!(r["tgz"]["extract_results"]["rc"], 0);
    assert_eq!(r["tgz"]["dest"], format!("{}/tgz", p.remote_str()));
    assert_eq!(r["tgz"]["state"], "directory");
    assert_eq!(r["zip"]["handler"], "ZipArchive");
    assert_eq!(r["zip"]["files"].as_array().map(Vec::len), Some(5));
    assert_eq!(r["txz"]["handler"], "TarArchive", "plain tar reads xz itself, as under Ansible");
    assert_eq!(r["url"]["changed"], true);
    assert_eq!(r["creates"]["skipped"], true);
    assert_eq!(r["creates"]["msg"], format!("skipped, since {}/tgz/app exists", p.remote_str()));
    assert_eq!(r["zcheck"]["changed"], true);
    assert_eq!(r["tcheck"]["msg"], "remote module (ansible.legacy.unarchive) does not support check mode when using gtar");
    assert_eq!(r["nodest"]["msg"], format!("dest '{}/nodir' must be an existing dir", p.remote_str()));
    for key in ["tgz", "zip", "url"] {
        let staged = r[key]["src"].as_str().unwrap();
        assert!(!Path::new(staged).exists(), "{key}: the temp copy {staged} is removed");
    }

    let second = p.run(&sshd, "unarchive.yml", &["-e", &vars("2")]);
    second.assert_code(0);
    let r = results(&p, "2");
    for key in ["tgz", "zip", "txz", "url"] {
        assert_eq!(r[key]["changed"], false, "{key} is unpacked already: {}", r[key]);
        assert!(r[key].get("extract_results").is_none(), "{key}: nothing extracted");
    }
    assert_eq!(second.recap("h"), recap("h", 8, 2, 0, 0, 2, 1), "only check mode and the results file change:\n{}", second.stdout);
}

#[test]
fn unarchive_redoes_a_changed_member_and_fixes_modes() {
    let sshd = TestSshd::start();
    let p = Project::new();
    archives(&p.path(""));
    std::fs::create_dir_all(p.path("files")).unwrap();
    std::fs::rename(p.path("app.tgz"), p.path("files/app.tgz")).unwrap();
    std::fs::rename(p.path("app.zip"), p.path("files/app.zip")).unwrap();
    std::fs::create_dir_all(p.remote("t")).unwrap();
    std::fs::create_dir_all(p.remote("z")).unwrap();
    let play = r#"
- hosts: all
  gather_facts: false
  tasks:
    - unarchive: {src: app.tgz, dest: "{{ remote }}/t", mode: "u=rwX,g=rX,o="}
    - unarchive: {src: app.zip, dest: "{{ remote }}/z", mode: "0640"}
"#;
    p.inventory(&sshd, &["h"]).write("modes.yml", play);
    let remote = format!("remote={}", p.remote_str());
    p.run(&sshd, "modes.yml", &["-e", &remote]).assert_code(0);
    use std::os::unix::fs::PermissionsExt;
    let mode = |rel: &str| std::fs::metadata(p.remote(rel)).unwrap().permissions().mode() & 0o7777;
    assert_eq!((mode("t/app"), mode("t/app/a.txt"), mode("z/app/a.txt")), (0o750, 0o640, 0o640));
    let again = p.run(&sshd, "modes.yml", &["-e", &remote]);
    assert!(again.stdout.contains(" changed=0 "), "modes already right:\n{}", again.stdout);
    std::fs::write(p.remote("t/app/a.txt"), "edited\n").unwrap();
    std::fs::write(p.remote("z/app/a.txt"), "edited\n").unwrap();
    let redo = p.run(&sshd, "modes.yml", &["-e", &remote]);
    assert!(redo.stdout.contains(" changed=2 "), "both differ again:\n{}", redo.stdout);
    assert_eq!(std::fs::read_to_string(p.remote("t/app/a.txt")).unwrap(), "alpha\n");
    assert_eq!(std::fs::read_to_string(p.remote("z/app/a.txt")).unwrap(), "alpha\n");
}
