//! `pause` and `vars_prompt` through the binary: without a terminal (stdin
//! not a tty, as under `Command::output`) and in a real one (tmux), where
//! the test types the answers.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::run::Project;
use crate::sshd::TestSshd;

const PROMPTS: &str = r#"- hosts: test
  gather_facts: false
  vars_prompt:
    - name: colour
      prompt: Which colour?
      default: blue
      private: false
    - name: secret
      prompt: Secret
      confirm: true
    - name: hashed
      prompt: Hashed
      encrypt: sha512_crypt
      salt: saltsalt
  tasks:
    - name: Show
      debug:
        msg: "colour={{ colour }} secret={{ secret }} hashed={{ hashed }}"
    - name: Ask
      pause:
        prompt: Type a word
      register: typed
    - name: Echo
      debug:
        msg: "typed={{ typed.user_input }}"
"#;

#[test]
fn lang_wait_prompt_without_a_terminal_needs_a_default_or_e() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write("site.yml", PROMPTS);
    let out = p.run(&sshd, "site.yml", &[]);
    out.assert_code(1);
    assert!(out.stdout.is_empty(), "nothing runs:\n{}", out.stdout);
    assert!(out.stderr.contains("site.yml:8:7: vars_prompt `secret` needs an answer, but there is no terminal"), "{}", out.stderr);
    assert!(out.stderr.contains("-e secret=VALUE"), "{}", out.stderr);

    // -e answers skip the prompts; the default answers the other; an untimed pause goes on at once.
    let started = Instant::now();
    let out = p.run(&sshd, "site.yml", &["-e", "secret=s3", "-e", "hashed=h"]);
    out.assert_code(0);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(out.stdout.contains("\"msg\": \"colour=blue secret=s3 hashed=h\""), "{}", out.stdout);
    assert!(out.stdout.contains("\"msg\": \"typed=\""), "{}", out.stdout);
    assert!(out.stderr.contains("[WARNING]: Not prompting as we are not in interactive mode"), "{}", out.stderr);
    assert!(out.stderr.contains("[WARNING]: Not waiting for response to prompt as stdin is not interactive"), "{}", out.stderr);
}

#[test]
fn lang_wait_prompt_unknown_keys_are_refused_at_load() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"])
        .write("site.yml", "- hosts: test\n  gather_facts: false\n  vars_prompt:\n    - name: x\n      promt: Hi\n  tasks: []\n");
    let out = p.run(&sshd, "site.yml", &[]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("unsupported key 'promt'") && out.stderr.contains("`prompt`"), "{}", out.stderr);
}

#[test]
fn lang_wait_pause_seconds_waits_once_for_all_hosts() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1", "h2", "h3"]).write(
        "site.yml",
        "- hosts: test\n  gather_facts: false\n  tasks:\n    - pause: seconds=2\n      register: p\n    - debug: var=p.stdout\n",
    );
    let started = Instant::now();
    let out = p.run(&sshd, "site.yml", &[]);
    let took = started.elapsed();
    out.assert_code(0);
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(5), "one pause, not one per host: {took:?}");
    assert!(out.stdout.contains("TASK [pause] ******"), "{}", out.stdout);
    assert!(out.stdout.contains("\nPausing for 2 seconds\nok: [h1]\n"), "{}", out.stdout);
    assert!(out.stdout.contains("\"p.stdout\": \"Paused for 2.0 seconds\"") || out.stdout.contains("\"p.stdout\": \"Paused for 2.0"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("Paused for").count(), 1, "only the first host has the result:\n{}", out.stdout);
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux").arg("-L").arg(socket).args(args).output().expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The test's own tmux server, killed however the test ends.
struct Tmux(String);

impl Tmux {
    fn screen(&self) -> String {
        tmux(&self.0, &["capture-pane", "-p", "-J", "-S", "-200", "-t", "t"])
    }

    /// Waits until the screen shows `text` the `nth` time, then types `keys` and Enter.
    fn answer(&self, text: &str, nth: usize, keys: &str) {
        self.wait_for_nth(text, nth);
        tmux(&self.0, &["send-keys", "-t", "t", "-l", keys]);
        tmux(&self.0, &["send-keys", "-t", "t", "Enter"]);
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_for_nth(text, 1)
    }

    fn wait_for_nth(&self, text: &str, nth: usize) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= nth {
                return screen;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "never saw {text:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        tmux(&self.0, &["kill-server"]);
    }
}

#[test]
fn lang_wait_prompt_asks_on_the_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is missing: apt-get install tmux (tests/run-all.sh installs it)");
    }
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write("site.yml", PROMPTS);
    let home = p.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join(".ssh/known_hosts")).unwrap();
    let script = format!(
        "env -u SSH_AUTH_SOCK NO_COLOR=1 HOME={home} {bin} playbook -i {inv} {pb}; echo EXIT=$?; sleep 60",
        home = home.display(),
        bin = env!("CARGO_BIN_EXE_stockman"),
        inv = p.path("hosts.ini").display(),
        pb = p.path("site.yml").display(),
    );
    let session = Tmux(format!("stockman-prompt-{}", std::process::id()));
    tmux(&session.0, &["-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "50", &script]);

    // The screen keeps what was shown: count the prompts ("confirm Secret:" holds "Secret:" too).
    session.answer("Which colour? [blue]:", 1, "");
    session.answer("Secret:", 1, "zq1xv");
    session.answer("confirm Secret:", 1, "zq2xv");
    session.wait_for("***** VALUES ENTERED DO NOT MATCH ****");
    session.answer("Secret:", 3, "s3 cr'et");
    session.answer("confirm Secret:", 2, "s3 cr'et");
    session.answer("Hashed:", 1, "secret");
    session.answer("Type a word:", 1, "hello world");
    let screen = session.wait_for("EXIT=");

    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(!screen.contains("zq1xv") && !screen.contains("zq2xv"), "private answers are not echoed:\n{screen}");
    assert!(screen.contains("[Ask]\nType a word:"), "pause shows Ansible's prompt:\n{screen}");
    // As glibc's crypt(3) computes it, with passlib's default rounds (Ansible 2.19 encrypts through passlib).
    let expected_hash = "$6$rounds=656000$saltsalt$Vg7us3Hcq8rplCTNjwvGRwObM2xyfDZZ.XP2YLQ.ii85wAq/psu28uEfoMveNszsQWMgkWRxbZm2mBBlNn3.J0";
    assert!(screen.contains(&format!("\"msg\": \"colour=blue secret=s3 cr'et hashed={expected_hash}\"")), "{screen}");
    assert!(screen.contains("hello world") && screen.contains("\"msg\": \"typed=hello world\""), "{screen}");
    assert!(screen.find("Which colour?").unwrap() < screen.find("PLAY [test]").unwrap(), "prompts come before the play:\n{screen}");
}

const STEPS: &str = r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: one
      debug: msg=ran-one
    - name: two
      debug: msg=ran-two
    - name: three
      debug: msg=ran-three
    - name: four
      debug: msg=ran-four
"#;

#[test]
fn lang_wait_step_asks_before_each_task_until_continue() {
    let sshd = TestSshd::start();
    let p = Project::new();
    p.inventory(&sshd, &["h1"]).write("site.yml", STEPS);
    let home = p.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(&sshd.known_hosts, home.join(".ssh/known_hosts")).unwrap();
    let script = format!(
        "env -u SSH_AUTH_SOCK NO_COLOR=1 HOME={home} {bin} playbook --step -i {inv} {pb}; echo EXIT=$?; sleep 60",
        home = home.display(),
        bin = env!("CARGO_BIN_EXE_stockman"),
        inv = p.path("hosts.ini").display(),
        pb = p.path("site.yml").display(),
    );
    let session = Tmux(format!("stockman-step-{}", std::process::id()));
    tmux(&session.0, &["-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "50", &script]);

    session.answer("Perform task: TASK: one (N)o/(y)es/(c)ontinue:", 1, "y");
    session.answer("Perform task: TASK: two (N)o/(y)es/(c)ontinue:", 1, "n");
    session.answer("Perform task: TASK: three (N)o/(y)es/(c)ontinue:", 1, "c");
    let screen = session.wait_for("EXIT=");

    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(screen.contains("ran-one") && screen.contains("ran-three") && screen.contains("ran-four"), "{screen}");
    assert!(!screen.contains("ran-two") && !screen.contains("TASK [two]"), "answered no: not run\n{screen}");
    assert!(!screen.contains("Perform task: TASK: four"), "continue stops asking\n{screen}");
    assert!(screen.contains("Perform task: TASK: two (N)o/(y)es/(c)ontinue: ****"), "the answered question is a banner\n{screen}");
}
