//! `wait_for` through the binary against the tier-1 sshd (the "host" is this
//! machine, so ports the test opens and files it writes are the host's).

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::run::{Project, Run};
use crate::sshd::TestSshd;

fn play(tasks: &str) -> String {
    format!("- hosts: test\n  gather_facts: false\n  tasks:\n{tasks}")
}

fn run(sshd: &TestSshd, tasks: &str) -> Run {
    let p = Project::new();
    p.inventory(sshd, &["h1"]).write("site.yml", &play(tasks));
    p.run(sshd, "site.yml", &[])
}

/// A port nothing listens on (bound once by us, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn lang_wait_for_port_started_on_loopback_names() {
    let sshd = TestSshd::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tasks = format!(
        "    - wait_for: port={port} timeout=5\n      register: r\n    - wait_for: {{ port: {port}, host: localhost, timeout: 5 }}\n    - wait_for: {{ port: {port}, host: 0.0.0.0, timeout: 5 }}\n    - assert:\n        that:\n          - r.port == {port}\n          - r.state == 'started'\n          - r.elapsed == 0\n          - r.match_groups == []\n          - r is not changed\n"
    );
    let started = Instant::now();
    let out = run(&sshd, &tasks);
    out.assert_code(0);
    assert!(started.elapsed() < Duration::from_secs(5), "a listening port is seen at once");
    assert_eq!(out.recap("h1"), crate::run::recap("h1", 4, 0, 0, 0, 0, 0));
}

#[test]
fn lang_wait_for_port_timeout_is_ansibles_message() {
    let sshd = TestSshd::start();
    let port = free_port();
    let out = run(&sshd, &format!("    - wait_for: port={port} timeout=1\n"));
    out.assert_code(2);
    let expected = format!("fatal: [h1]: FAILED! => {{\"changed\": false, \"elapsed\": 1, \"msg\": \"Timeout when waiting for 127.0.0.1:{port}\"}}");
    assert!(out.stdout.contains(&expected), "{}", out.stdout);

    let out = run(&sshd, &format!("    - wait_for: port={port} timeout=1 msg='still down'\n"));
    assert!(out.stdout.contains("\"msg\": \"still down\""), "msg replaces the message:\n{}", out.stdout);
}

#[test]
fn lang_wait_for_port_stopped_waits_for_the_listener_to_close() {
    let sshd = TestSshd::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let closer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        drop(listener);
    });
    let tasks = format!("    - wait_for: port={port} state=stopped timeout=10 sleep=1\n      register: r\n    - assert:\n        that: r.elapsed >= 1 and r.elapsed < 10\n");
    let out = run(&sshd, &tasks);
    closer.join().unwrap();
    out.assert_code(0);
}

#[test]
fn lang_wait_for_another_host_connects_with_bash() {
    // `127.1` (127.0.0.1 as inet_aton reads it) is not a loopback literal
    // stockman recognises: the host connects through bash's /dev/tcp.
    let sshd = TestSshd::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let closed = free_port();
    let tasks = format!(
        "    - wait_for: {{ host: '127.1', port: {port}, timeout: 5 }}\n    - wait_for: {{ host: '127.1', port: {closed}, timeout: 1 }}\n      ignore_errors: true\n      register: down\n    - assert:\n        that: down.msg == 'Timeout when waiting for 127.1:{closed}'\n"
    );
    let out = run(&sshd, &tasks);
    out.assert_code(0);
    assert_eq!(out.recap("h1"), crate::run::recap("h1", 3, 0, 0, 0, 0, 1));
}

#[test]
fn lang_wait_for_search_regex_reads_a_port_banner() {
    let sshd = TestSshd::start();
    let tasks = format!(
        "    - wait_for: {{ port: {}, search_regex: '^SSH-(?P<proto>[0-9.]+)-(\\S+)', timeout: 10 }}\n      register: r\n    - assert:\n        that:\n          - r.match_groupdict.proto == '2.0'\n          - r.match_groups[1] is match('OpenSSH')\n",
        sshd.port
    );
    run(&sshd, &tasks).assert_code(0);
}

#[test]
fn lang_wait_for_file_appears_and_holds_a_match() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let path = p.remote("app.log");
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(800));
            std::fs::write(&path, "booting\n").unwrap();
            // Long enough that the first wait_for has surely ended on a busy machine.
            std::thread::sleep(Duration::from_millis(3000));
            std::fs::write(&path, "booting\nready on port 8080\n").unwrap();
        })
    };
    let tasks = format!(
        "    - wait_for: path={path} timeout=10\n      register: exists\n    - wait_for:\n        path: {path}\n        search_regex: 'ready on port (?P<port>\\d+)'\n        timeout: 10\n      register: ready\n    - assert:\n        that:\n          - exists.path == '{path}'\n          - ready.match_groups == ['8080']\n          - ready.match_groupdict.port == '8080'\n          - ready.elapsed >= 1\n",
        path = path.display()
    );
    p.inventory(&sshd, &["h1"]).write("site.yml", &play(&tasks));
    let out = p.run(&sshd, "site.yml", &[]);
    writer.join().unwrap();
    out.assert_code(0);
}

#[test]
fn lang_wait_for_path_timeouts_and_hostile_paths() {
    let sshd = TestSshd::start();
    let p = Project::new();
    let present = p.remote("present");
    std::fs::write(&present, "x").unwrap();
    let hostile = format!("{}/$(touch {}/pwned);`id`'\"", p.remote_str(), p.remote_str());
    let tasks = format!(
        "    - wait_for: {{ path: '{present}', state: absent, timeout: 1 }}\n      ignore_errors: true\n      register: a\n    - wait_for: {{ path: {hostile:?}, timeout: 1 }}\n      ignore_errors: true\n      register: b\n    - wait_for: {{ path: {hostile:?}, state: absent, timeout: 3 }}\n    - assert:\n        that:\n          - a.msg == 'Timeout when waiting for {present} to be absent.'\n          - b.msg == 'Timeout when waiting for file ' ~ {hostile:?}\n",
        present = present.display()
    );
    p.inventory(&sshd, &["h1"]).write("site.yml", &play(&tasks));
    let out = p.run(&sshd, "site.yml", &[]);
    out.assert_code(0);
    assert!(!p.remote("pwned").exists(), "a path is data, never a command");
}

#[test]
fn lang_wait_for_drained_counts_connections() {
    let sshd = TestSshd::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let quiet = format!("    - wait_for: port={port} state=drained timeout=5\n");
    run(&sshd, &quiet).assert_code(0);
    let _client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _accepted = listener.accept().unwrap();
    let out = run(&sshd, &format!("    - wait_for: port={port} state=drained timeout=1\n"));
    out.assert_code(2);
    assert!(out.stdout.contains(&format!("Timeout when waiting for 127.0.0.1:{port} to drain")), "{}", out.stdout);
}

#[test]
fn lang_wait_for_refuses_bad_combinations_like_ansible() {
    let sshd = TestSshd::start();
    let out = run(&sshd, "    - wait_for: port=22 path=/etc/passwd\n");
    out.assert_code(2);
    assert!(out.stdout.contains("port and path parameter can not both be passed to wait_for"), "{}", out.stdout);
    let out = run(&sshd, "    - wait_for: prot=22\n");
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("port"), "an unknown argument suggests the right one:\n{}", out.stderr);
}

#[test]
fn lang_wait_for_pause_and_vars_prompt_match_ansible() {
    crate::differential::compare("wait_for.yml", &["-e", "given_with_e=green"]);
}

#[test]
fn lang_wait_for_check_mode_matches_ansible() {
    crate::differential::compare("wait_for_check.yml", &["--check"]);
}
