//! become through a terminal: `su` with a password and sudo under
//! `Defaults requiretty`, plus refused become reported as a FAILED task.
//!
//! Real sudo and su need real accounts. The sshd here runs in a private mount
//! namespace where /etc/passwd, /etc/shadow, /etc/group and /etc/sudoers.d are
//! bind-mounted copies holding the test users: the machine's own files are
//! never touched, and the accounts vanish with the server. Needs root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stockman::transport::{
    BecomeError, BecomeMethod, BecomeSpec, BecomeTarget, ConnectSpec, Connection, ConnectionKind, IdentitySources,
    Secret,
};
use stockman_modules::ExecOutput;

use crate::sshd::{descendants, keygen, read};

const ROOT_PW: &str = "Root-pw-'$(x)";
const SMB_PW: &str = "Smb pw \"2\";`y`";

/// Accounts: `smb` may sudo with its password; `smt` too but sudo requires a
/// tty for it; `smn` may sudo without a password, also requiretty only.
const USERS: [(&str, u32); 3] = [("smb", 4242), ("smt", 4243), ("smn", 4244)];

pub struct UserSshd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl UserSshd {
    pub fn start() -> UserSshd {
        assert!(is_root(), "these tests bind-mount account files in a namespace: run them as root");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        keygen(&d.join("hostkey"), "ed25519");
        keygen(&d.join("client_key"), "ed25519");
        fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        write_accounts(d);
        fs::create_dir_all("/run/sshd").unwrap();
        let (port, child) = spawn(d);
        fs::write(d.join("known_hosts"), format!("[127.0.0.1]:{port} {}", read(&d.join("hostkey.pub")))).unwrap();
        UserSshd { port, dir, child }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn spec(&self, user: &str) -> ConnectSpec {
        ConnectSpec {
            name: "pty".into(),
            address: "127.0.0.1".into(),
            port: self.port,
            user: Some(user.into()),
            private_key: Some(self.path("client_key")),
            known_hosts: vec![self.path("known_hosts")],
            global_known_hosts: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            kind: ConnectionKind::Ssh,
            ..ConnectSpec::default()
        }
    }
}

impl Drop for UserSshd {
    fn drop(&mut self) {
        let mut pids = descendants(self.child.id());
        pids.push(self.child.id());
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        let _ = Command::new("kill").arg("-KILL").args(&pids).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

fn write_accounts(d: &Path) {
    let mut passwd = read(Path::new("/etc/passwd"));
    let mut group = read(Path::new("/etc/group"));
    let shadow = read(Path::new("/etc/shadow"));
    let mut shadow: String = shadow
        .lines()
        .map(|l| match l.strip_prefix("root:") {
            Some(rest) => format!("root:{}:{}\n", hash(ROOT_PW), rest.split_once(':').map_or("", |r| r.1)),
            None => format!("{l}\n"),
        })
        .collect();
    fs::create_dir_all(d.join("sudoers.d")).unwrap();
    for (name, id) in USERS {
        let home = d.join("home").join(name);
        fs::create_dir_all(&home).unwrap();
        std::os::unix::fs::chown(&home, Some(id), Some(id)).unwrap();
        passwd.push_str(&format!("{name}:x:{id}:{id}::{}:/bin/sh\n", home.display()));
        group.push_str(&format!("{name}:x:{id}:\n"));
        shadow.push_str(&format!("{name}:{}:19000:0:99999:7:::\n", hash(SMB_PW)));
    }
    let sudoers = "smb ALL=(ALL:ALL) ALL\n\
                   smt ALL=(ALL:ALL) ALL\n\
                   smn ALL=(ALL:ALL) NOPASSWD: ALL\n\
                   Defaults:smt requiretty\n\
                   Defaults:smn requiretty\n";
    fs::write(d.join("sudoers.d/stockman-test"), sudoers).unwrap();
    fs::set_permissions(d.join("sudoers.d/stockman-test"), std::os::unix::fs::PermissionsExt::from_mode(0o440)).unwrap();
    fs::write(d.join("passwd"), passwd).unwrap();
    fs::write(d.join("group"), group).unwrap();
    fs::write(d.join("shadow"), shadow).unwrap();
    fs::set_permissions(d.join("shadow"), std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
}

fn hash(password: &str) -> String {
    let out = Command::new("openssl").args(["passwd", "-6", "-stdin"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().and_then(|mut c| {
        use std::io::Write;
        c.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes())?;
        c.wait_with_output()
    });
    let out = out.expect("openssl passwd");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A shell command line: sshd in a new mount namespace over the copied files.
fn spawn(d: &Path) -> (u16, Child) {
    for _ in 0..10 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dd = d.display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dd}/hostkey\nAuthorizedKeysFile {dd}/authorized_keys\n\
             PidFile {dd}/sshd.pid\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n"
        );
        fs::write(d.join("sshd_config"), config).unwrap();
        let mounts = ["passwd", "shadow", "group", "sudoers.d"]
            .map(|f| format!("mount --bind {dd}/{f} /etc/{f}"))
            .join(" && ");
        let mut child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
            .arg(format!("{mounts} && exec /usr/sbin/sshd -D -e -f {dd}/sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(d.join("sshd.log")).unwrap())
            .spawn()
            .expect("unshare sshd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (port, child);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("namespaced sshd did not start: {}", read(&d.join("sshd.log")));
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

async fn login(sshd: &UserSshd, user: &str) -> Connection {
    Connection::open_with(&sshd.spec(user), &IdentitySources::default()).await.expect("login")
}

fn spec(method: BecomeMethod, password: Option<&str>) -> BecomeSpec {
    BecomeSpec { method, user: "root".into(), password: password.map(Secret::new) }
}

async fn become_run(conn: &Connection, spec: &BecomeSpec, cmd: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, BecomeError> {
    tokio::time::timeout(Duration::from_secs(60), BecomeTarget { conn, spec }.run(cmd, stdin))
        .await
        .expect("become is bounded")
}

/// Every byte value, CR/LF pairs, ^C/^D/^Z and a long line: a pty would mangle them.
fn hostile_stdin() -> Vec<u8> {
    let mut data: Vec<u8> = (0..=255u8).collect();
    data.extend_from_slice(b"\r\n\x03\x04\x1a\x7f\n");
    data.extend(std::iter::repeat_n(b'x', 10_000));
    data.extend_from_slice(b"no final newline");
    data
}

#[tokio::test(flavor = "multi_thread")]
async fn su_with_a_password_runs_as_root_with_exact_stdin_stdout_and_stderr() {
    let sshd = UserSshd::start();
    let conn = login(&sshd, "smb").await;
    let su = spec(BecomeMethod::Su, Some(ROOT_PW));
    let out = become_run(&conn, &su, "id -u; echo to-stderr >&2; exit 3", None).await.expect("su to root");
    assert_eq!((out.stdout_str().as_str(), out.stderr_str().as_str(), out.rc), ("0\n", "to-stderr\n", 3));
    let data = hostile_stdin();
    let out = become_run(&conn, &su, "cat", Some(&data)).await.expect("su cat");
    assert_eq!(out.stdout, data, "stdin → stdout through su's terminal must be byte-exact");
    let out = become_run(&conn, &su, "printf 'a\\nb\\r\\n'; wc -c", Some(b"")).await.expect("su empty stdin");
    assert_eq!(out.stdout_str(), "a\nb\r\n0\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn su_without_a_password_works_from_root_and_is_refused_elsewhere() {
    let sshd = UserSshd::start();
    let root = login(&sshd, "root").await;
    let to_smb = BecomeSpec { user: "smb".into(), ..spec(BecomeMethod::Su, None) };
    let out = become_run(&root, &to_smb, "id -un; cat", Some(b"in")).await.expect("root su's freely");
    assert_eq!(out.stdout_str(), "smb\nin");
    let smb = login(&sshd, "smb").await;
    let started = Instant::now();
    let err = become_run(&smb, &spec(BecomeMethod::Su, None), "id -u", Some(b"not a password\n")).await.expect_err("asks");
    assert!(matches!(&err, BecomeError::Refused(why) if why.starts_with("Missing su password")), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn su_with_a_wrong_password_is_refused_quickly_and_never_shown() {
    let sshd = UserSshd::start();
    let conn = login(&sshd, "smb").await;
    let started = Instant::now();
    let err = become_run(&conn, &spec(BecomeMethod::Su, Some("Wrong-pw-9")), "id -u", None).await.expect_err("wrong");
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    match err {
        BecomeError::Refused(why) => assert_eq!(why, "Incorrect su password"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sudo_under_requiretty_retries_through_a_terminal_with_stdin_intact() {
    let sshd = UserSshd::start();
    let data = hostile_stdin();
    // smt: requiretty and a password.
    let smt = login(&sshd, "smt").await;
    let with_pw = spec(BecomeMethod::Sudo, Some(SMB_PW));
    let out = become_run(&smt, &with_pw, "id -u; echo e >&2; cat", Some(&data)).await.expect("sudo with a tty");
    let mut expected = b"0\n".to_vec();
    expected.extend_from_slice(&data);
    assert_eq!((out.stderr_str(), out.rc), ("e\n".to_string(), 0));
    assert_eq!(out.stdout, expected);
    let err = become_run(&smt, &spec(BecomeMethod::Sudo, Some("nope")), "id -u", None).await.expect_err("wrong");
    assert!(matches!(&err, BecomeError::Refused(why) if why == "Incorrect sudo password"), "{err:?}");
    // smn: requiretty, NOPASSWD.
    let smn = login(&sshd, "smn").await;
    let out = become_run(&smn, &spec(BecomeMethod::Sudo, None), "id -un; cat", Some(b"hi")).await.expect("nopasswd");
    assert_eq!(out.stdout_str(), "root\nhi");
    // smb (no requiretty) without a password: Ansible's message, plus the fix.
    let smb = login(&sshd, "smb").await;
    let err = become_run(&smb, &spec(BecomeMethod::Sudo, None), "id -u", None).await.expect_err("missing");
    assert!(matches!(&err, BecomeError::Refused(why) if why.starts_with("Missing sudo password") && why.contains("-K")), "{err:?}");
}

/// A scratch project readable by the test users, with `hosts.ini` and `pb.yml`.
fn project(inventory: &str, playbook: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    fs::write(dir.path().join("hosts.ini"), inventory).unwrap();
    fs::write(dir.path().join("pb.yml"), playbook).unwrap();
    dir
}

const BECOME_PLAYBOOK: &str = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: id -u\n      become: true\n      register: r\n    - debug:\n        msg: \"uid={{ r.stdout }}\"\n";

fn stockman(dir: &Path, home: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockman"));
    cmd.args(["playbook", "-i", "hosts.ini", "pb.yml"]).args(extra).current_dir(dir).env("HOME", home).env_remove("SSH_AUTH_SOCK");
    cmd
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// An inventory line for `smb` on `sshd`, its key checked against the sshd's known_hosts.
fn smb_host(sshd: &UserSshd) -> String {
    format!(
        "h ansible_host=127.0.0.1 ansible_port={} ansible_user=smb ansible_ssh_private_key_file={} \
         ansible_ssh_common_args='-o UserKnownHostsFile={}'\n",
        sshd.port,
        sshd.path("client_key").display(),
        sshd.path("known_hosts").display()
    )
}

#[test]
fn a_wrong_or_missing_sudo_password_fails_the_task_like_ansible() {
    let sshd = UserSshd::start();
    let host = smb_host(&sshd);
    let dir = project(&host, BECOME_PLAYBOOK);
    let home = dir.path();
    let wrong = stockman(dir.path(), home, &["-e", "ansible_become_password=Wrong-pw-9"]).output().unwrap();
    let all = text(&wrong);
    assert_eq!(wrong.status.code(), Some(2), "{all}");
    assert!(all.contains("fatal: [h]: FAILED! => {\"changed\": false, \"msg\": \"Task failed: Incorrect sudo password\"}"), "{all}");
    assert!(all.contains("unreachable=0    failed=1"), "{all}");
    assert!(!all.contains("Wrong-pw-9"), "the password leaked:\n{all}");
    let missing = stockman(dir.path(), home, &[]).output().unwrap();
    let all = text(&missing);
    assert_eq!(missing.status.code(), Some(2), "{all}");
    assert!(all.contains("\"msg\": \"Task failed: Missing sudo password"), "{all}");
    let right = stockman(dir.path(), home, &["-e", &format!("ansible_become_password={}", serde_json::json!(SMB_PW))]).output().unwrap();
    let all = text(&right);
    assert_eq!(right.status.code(), Some(0), "{all}");
    assert!(all.contains("uid=0"), "{all}");
}

/// The controller itself runs as `smb` inside the namespace: become on the
/// local connection asks sudo for smb's password, as over ssh.
#[test]
fn become_with_a_password_works_on_the_local_connection() {
    let sshd = UserSshd::start();
    let dir = project("here ansible_connection=local\n", BECOME_PLAYBOOK);
    let run_as_smb = |password: &str| {
        let d = sshd.dir.path().display();
        let mounts = ["passwd", "shadow", "group", "sudoers.d"].map(|f| format!("mount --bind {d}/{f} /etc/{f}")).join(" && ");
        let vars = serde_json::json!({ "ansible_become_password": password }).to_string();
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
            .arg(format!("{mounts} && exec setpriv --reuid=4242 --regid=4242 --clear-groups \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_stockman"))
            .args(["playbook", "-i", "hosts.ini", "pb.yml", "-e", &vars])
            .current_dir(dir.path())
            .env("HOME", sshd.path("home/smb"))
            .output()
            .unwrap()
    };
    let out = run_as_smb(SMB_PW);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("uid=0"), "{}", text(&out));
    let out = run_as_smb("Wrong-pw-9");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("\"msg\": \"Task failed: Incorrect sudo password\""), "{}", text(&out));
}

/// A module run through the Ansible fallback (the venv's ansible-core, the
/// host's Python) under become with a password, through sudo's prompt and
/// through a terminal under requiretty: the module's whole bundle travels
/// on stdin intact, and it runs as root.
#[test]
fn a_fallback_module_runs_under_become_with_a_password_also_through_a_terminal() {
    let sshd = UserSshd::start();
    let playbook = "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.tempfile:\n        suffix: .stockman\n      become: true\n      register: t\n    - stat:\n        path: \"{{ t.path }}\"\n      register: s\n    - debug:\n        msg: \"owner={{ s.stat.pw_name }}\"\n    - file:\n        path: \"{{ t.path }}\"\n        state: absent\n      become: true\n";
    for user in ["smb", "smt"] {
        let host = format!(
            "h ansible_host=127.0.0.1 ansible_port={} ansible_user={user} ansible_ssh_private_key_file={} \
             ansible_ssh_common_args='-o UserKnownHostsFile={}'\n",
            sshd.port,
            sshd.path("client_key").display(),
            sshd.path("known_hosts").display()
        );
        let dir = project(&host, playbook);
        let password = format!("ansible_become_password={}", serde_json::json!(SMB_PW));
        let out = stockman(dir.path(), dir.path(), &["-e", &password]).env("STOCKMAN_ANSIBLE_PYTHON", "/var/cache/stockman/ansible-venv/bin/python3").output().unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{user}: {all}");
        assert!(all.contains("\"msg\": \"owner=root\""), "{user}: {all}");
        assert!(!all.contains(SMB_PW), "the password leaked:\n{all}");
    }
}

/// --become-password-file and ansible.cfg's become_password_file give sudo its
/// password without a prompt (a play's own `become: true`, no -b), never shown.
#[test]
fn a_become_password_file_gives_sudo_its_password_and_never_shows_it() {
    let sshd = UserSshd::start();
    let host = smb_host(&sshd);
    let dir = project(&host, BECOME_PLAYBOOK);
    let home = dir.path();
    fs::write(dir.path().join("right.txt"), format!("{SMB_PW}\n")).unwrap();
    fs::write(dir.path().join("wrong.txt"), "Wrong-pw-9\n").unwrap();
    let right = stockman(dir.path(), home, &["--become-password-file", "right.txt"]).output().unwrap();
    assert_eq!(right.status.code(), Some(0), "{}", text(&right));
    assert!(text(&right).contains("uid=0"), "{}", text(&right));
    assert!(!text(&right).contains(SMB_PW), "the password leaked:\n{}", text(&right));
    let wrong = stockman(dir.path(), home, &["--become-pass-file", "wrong.txt"]).output().unwrap();
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(text(&wrong).contains("Incorrect sudo password") && !text(&wrong).contains("Wrong-pw-9"), "{}", text(&wrong));
    fs::write(dir.path().join("ansible.cfg"), "[defaults]\nbecome_password_file = right.txt\n").unwrap();
    let from_cfg = stockman(dir.path(), home, &[]).env("ANSIBLE_CONFIG", dir.path().join("ansible.cfg")).output().unwrap();
    assert_eq!(from_cfg.status.code(), Some(0), "{}", text(&from_cfg));
    assert!(text(&from_cfg).contains("uid=0"), "{}", text(&from_cfg));
}
