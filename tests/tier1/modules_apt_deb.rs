//! `apt` `deb:` given as a URL, in check mode (nothing is installed on the
//! machine running the tests): the package is downloaded on the host with
//! what it has, inspected, reported as a change, and the download removed.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::{recap, Project};
use crate::sshd::TestSshd;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `python3 -m http.server` on a free 127.0.0.1 port serving `dir`.
fn serve(dir: &std::path::Path) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string(), "--directory"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 serves the test package");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "http server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Server(child), port)
}

const PLAY: &str = r#"
- hosts: test
  gather_facts: false
  tasks:
    - apt: {deb: "{{ url }}"}
      register: got
    - copy: {content: "{{ got.changed }}", dest: "{{ remote }}/changed"}
    - apt: {deb: "{{ url }}.missing"}
"#;

#[test]
fn a_deb_url_is_downloaded_on_the_host_in_check_mode_too() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h"]).write("deb.yml", PLAY);
    let pkg = p.path("pkg");
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::write(pkg.join("DEBIAN/control"), "Package: stockman-test-dummy\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test\n").unwrap();
    let served = p.path("served");
    std::fs::create_dir_all(&served).unwrap();
    let built = Command::new("dpkg-deb").args(["--build", "--root-owner-group"]).arg(&pkg).arg(served.join("dummy.deb")).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let (_server, port) = serve(&served);
    let vars = serde_json::json!({"remote": p.remote_str(), "url": format!("http://127.0.0.1:{port}/dummy.deb")}).to_string();
    let run = p.run(&sshd, "deb.yml", &["-e", &vars, "--check"]);
    assert_eq!(run.recap("h"), recap("h", 2, 2, 0, 1, 0, 0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("could not download"), "{}", run.stdout);
    let listed = Command::new("dpkg-query").args(["-W", "stockman-test-dummy"]).output().unwrap();
    assert!(!listed.status.success(), "check mode installed the package");
}
