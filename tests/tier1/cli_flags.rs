//! ansible-playbook's flags for connecting and running (-c, -T, --force-handlers,
//! --flush-cache, ssh args, password files) and their ansible.cfg keys, side by
//! side with ansible-playbook where both can run.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::differential::{compare, compare_with_env, ANSIBLE_PLAYBOOK};
use crate::run::Project;
use crate::sshd::TestSshd;

#[test]
fn force_handlers_from_the_flag_and_from_the_environment_match_ansible() {
    compare("cli_flags/force_handlers.yml", &["--force-handlers"]);
    compare_with_env("cli_flags/force_handlers.yml", &[], &[("ANSIBLE_FORCE_HANDLERS", "true")]);
    compare("cli_flags/force_handlers.yml", &[]);
}

#[test]
fn connection_local_from_the_flag_and_the_transport_setting_matches_ansible() {
    compare("cli_flags/connection.yml", &["-c", "local"]);
    compare_with_env("cli_flags/connection.yml", &[], &[("ANSIBLE_TRANSPORT", "local")]);
}

#[test]
fn task_timeout_stops_tasks_without_their_own_timeout_as_ansible() {
    compare_with_env("cli_flags/task_timeout.yml", &[], &[("ANSIBLE_TASK_TIMEOUT", "1")]);
}

#[test]
fn an_unknown_connection_is_refused_before_anything_runs() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write("pb.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n");
    let run = p.run(&sshd, "pb.yml", &["-c", "winrm"]);
    run.assert_code(5);
    assert!(run.stderr.contains("-c/--connection `winrm`: stockman connects with ssh"), "{}", run.stderr);
}

/// A server that accepts connections and never says a word: only -T ends the wait.
#[test]
fn timeout_flag_bounds_the_wait_for_a_silent_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let p = Project::new();
    p.write("hosts.ini", &format!("silent ansible_host=127.0.0.1 ansible_port={port} ansible_user=nobody\n"));
    p.write("pb.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n");
    let started = Instant::now();
    let run = p.run_with_home(None, "pb.yml", &["-T", "1", "-e", "ansible_host_key_checking=false"]);
    let took = started.elapsed();
    run.assert_code(4);
    assert!(took < Duration::from_secs(8), "-T 1 took {took:?}\n{}", run.stdout);
    assert!(run.stdout.contains("UNREACHABLE"), "{}", run.stdout);
}

/// Cache files as both tools name them; `--flush-cache` removes those of the
/// inventory's hosts and keeps any other.
#[test]
fn flush_cache_drops_the_inventory_hosts_cached_facts_as_ansible() {
    assert!(Path::new(ANSIBLE_PLAYBOOK).exists(), "{ANSIBLE_PLAYBOOK} is missing: run tests/run-all.sh");
    let sshd = TestSshd::start();
    for program in [env!("CARGO_BIN_EXE_stockman"), ANSIBLE_PLAYBOOK] {
        let p = Project::new();
        p.inventory(&sshd, &["h1", "h2"]).write("pb.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: hi\n");
        let cache = p.path("cache");
        std::fs::create_dir_all(&cache).unwrap();
        let entry = "{\"__payload__\": \"{\\\"ansible_hostname\\\": \\\"old\\\", \\\"_ansible_facts_gathered\\\": true}\"}";
        for host in ["h1", "h2", "elsewhere"] {
            std::fs::write(cache.join(format!("s1_{host}")), entry).unwrap();
        }
        let mut cmd = p.command(Some(&sshd.known_hosts), "pb.yml", &["--flush-cache"]);
        if program == ANSIBLE_PLAYBOOK {
            cmd = std::process::Command::new(program);
            cmd.args(["-i", p.path("hosts.ini").to_str().unwrap(), p.path("pb.yml").to_str().unwrap(), "--flush-cache"])
                .env("HOME", p.path("home"))
                .env("ANSIBLE_HOST_KEY_CHECKING", "false")
                .env("ANSIBLE_LOCAL_TEMP", p.path("tmp"));
        }
        let out = cmd.env("ANSIBLE_CACHE_PLUGIN", "jsonfile").env("ANSIBLE_CACHE_PLUGIN_CONNECTION", &cache).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{program}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let left: Vec<String> = {
            let mut names: Vec<String> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            names
        };
        assert_eq!(left, ["s1_elsewhere"], "{program} left these cache files");
    }
}

#[test]
fn ssh_common_args_flag_applies_its_options_and_the_inventory_wins() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write("pb.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n");
    // No known_hosts in HOME: only the flag's UserKnownHostsFile lets the key be checked.
    let kh = format!("-o UserKnownHostsFile={}", sshd.known_hosts.display());
    p.run_with_home(None, "pb.yml", &["--ssh-common-args", &kh]).assert_code(0);
    p.run_with_home(None, "pb.yml", &[]).assert_code(4);
    p.run_with_home(None, "pb.yml", &["--ssh-extra-args", &kh]).assert_code(0);
    // scp/sftp arguments are accepted (stockman never uses scp or sftp).
    p.run_with_home(None, "pb.yml", &["--ssh-common-args", &kh, "--scp-extra-args", "-l 100", "--sftp-extra-args", "-f"]).assert_code(0);
}
