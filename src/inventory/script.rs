//! Dynamic inventory: an executable `-i` source is run with `--list`, and
//! with `--host NAME` for each host when its answer has no `_meta.hostvars`,
//! as Ansible's `script` plugin does. Both answers are JSON (see
//! `json_source`). A script that fails, prints something else or runs longer
//! than [`TIMEOUT`] is an error naming the script, with its exit code and
//! stderr.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::json_source;
use super::model::Model;

/// How long one run of the script may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the script and adds what it lists to `model`.
pub(crate) fn load(script: &Path, model: &mut Model, timeout: Duration) -> Result<(), String> {
    let list = run_json(script, &["--list"], timeout)?;
    let first_new_host = model.hosts.len();
    let read = json_source::read(&list, model).map_err(|m| format!("`{} --list` printed JSON that is not an inventory: {m}", script.display()))?;
    if read.has_hostvars {
        return Ok(());
    }
    let names: Vec<String> = model.hosts[first_new_host..].iter().map(|h| h.name.clone()).collect();
    for name in names {
        let vars = run_json(script, &["--host", &name], timeout)?;
        json_source::host_vars(model, &name, &vars).map_err(|m| format!("`{} --host {name}` printed JSON that is not host variables: {m}", script.display()))?;
    }
    Ok(())
}

/// The script's stdout parsed as JSON, or an error saying what went wrong.
fn run_json(script: &Path, args: &[&str], timeout: Duration) -> Result<Value, String> {
    let shown = format!("`{} {}`", script.display(), args.join(" "));
    let output = run(script, args, timeout).map_err(|m| format!("{shown} {m}"))?;
    if !output.success {
        let code = output.code.map_or_else(|| "was killed by a signal".to_string(), |c| format!("exited with code {c}"));
        return Err(format!("{shown} {code}{}", stderr_suffix(&output.stderr)));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "{shown} did not print JSON ({e}); a dynamic inventory script must print Ansible's JSON inventory{}",
            stderr_suffix(&output.stderr)
        )
    })
}

fn stderr_suffix(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!("; its stderr:\n{text}")
    }
}

struct Output {
    success: bool,
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs the script with no stdin, collecting its output, killing it after `timeout`.
fn run(script: &Path, args: &[&str], timeout: Duration) -> Result<Output, String> {
    // A bare relative name (`-i inventory.sh`) means the file, not a program on PATH.
    let program = std::path::absolute(script).unwrap_or_else(|_| script.to_path_buf());
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = crate::process::spawn(&mut command).map_err(|e| format!("could not be started: {e}"))?;
    // Read both pipes while waiting, so a chatty script cannot block on a full pipe.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait(&mut child, timeout)?;
    Ok(Output {
        success: status.success(),
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn wait(child: &mut Child, timeout: Duration) -> Result<std::process::ExitStatus, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                // Our own child; its reader threads end when its pipes close.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {} s and was stopped", timeout.as_secs()));
            }
            Err(e) => return Err(format!("could not be waited for: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("inv.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn load_script(body: &str, timeout: Duration) -> Result<Model, String> {
        let tmp = tempfile::tempdir().unwrap();
        let path = script(tmp.path(), body);
        let mut model = Model::default();
        load(&path, &mut model, timeout)?;
        model.reconcile();
        Ok(model)
    }

    #[test]
    fn list_with_meta_needs_no_host_calls() {
        let body = r#"[ "$1" = --list ] || exit 3
echo '{"web": {"hosts": ["w1"]}, "_meta": {"hostvars": {"w1": {"x": 1}}}}'"#;
        let m = load_script(body, TIMEOUT).unwrap();
        assert_eq!(m.hosts[m.host_id("w1").unwrap()].vars["x"], 1);
    }

    #[test]
    fn without_meta_each_host_is_asked_for() {
        let body = r#"case "$1" in
--list) echo '{"web": ["w1", "w2"]}';;
--host) printf '{"asked": "%s"}' "$2";;
esac"#;
        let m = load_script(body, TIMEOUT).unwrap();
        assert_eq!(m.hosts[m.host_id("w2").unwrap()].vars["asked"], "w2");
    }

    #[test]
    fn failure_shows_exit_code_and_stderr() {
        let e = load_script("echo 'token expired' >&2; exit 7", TIMEOUT).unwrap_err();
        assert!(e.contains("inv.sh --list` exited with code 7; its stderr:\ntoken expired"), "{e}");
    }

    #[test]
    fn non_json_output_names_the_script() {
        let e = load_script("echo 'web1 web2'", TIMEOUT).unwrap_err();
        assert!(e.contains("inv.sh --list` did not print JSON"), "{e}");
        let e = load_script("echo '[1]'", TIMEOUT).unwrap_err();
        assert!(e.contains("inv.sh --list` printed JSON that is not an inventory: expected a JSON object of groups"), "{e}");
    }

    #[test]
    fn a_slow_script_is_stopped() {
        let started = Instant::now();
        let e = load_script("exec sleep 30", Duration::from_secs(1)).unwrap_err();
        assert!(e.contains("did not finish within 1 s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
