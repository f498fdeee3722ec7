//! A real `Target` (every command through `/bin/sh -c`, like sshd does) that
//! counts and records commands, a test `Controller`, and a temp dir per test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;

use serde_json::{Map, Value};
use stockman_modules::{
    Args, Controller, ExecOutput, ModuleError, ModuleKind, ModuleResult, RunMode, Target,
    TargetError,
};
use tokio::io::AsyncWriteExt;

pub struct ShellTarget {
    cwd: PathBuf,
    commands: Mutex<Vec<String>>,
}

impl ShellTarget {
    pub fn new(cwd: &Path) -> Self {
        ShellTarget {
            cwd: cwd.to_path_buf(),
            commands: Mutex::new(Vec::new()),
        }
    }

    /// How many commands ran since the last call (and forgets them).
    pub fn take_count(&self) -> usize {
        std::mem::take(&mut *self.commands.lock().unwrap()).len()
    }

    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

impl Target for ShellTarget {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        self.commands.lock().unwrap().push(command.to_string());
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TargetError(e.to_string()))?;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = stdin.map(<[u8]>::to_vec).unwrap_or_default();
        let writer = tokio::spawn(async move {
            // A command that does not read stdin closes it early: not an error.
            let _ = pipe.write_all(&input).await;
        });
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| TargetError(e.to_string()))?;
        writer.await.map_err(|e| TargetError(e.to_string()))?;
        Ok(ExecOutput {
            rc: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

/// Files and templates from maps; variables from a map.
#[derive(Default)]
pub struct MapController {
    pub files: HashMap<String, Vec<u8>>,
    pub templates: HashMap<String, String>,
    pub vars: HashMap<String, Value>,
}

impl Controller for MapController {
    fn read_src(&self, src: &str) -> Result<Vec<u8>, String> {
        self.files
            .get(src)
            .cloned()
            .ok_or_else(|| format!("Could not find or access '{src}'"))
    }
    fn render_template(&self, src: &str) -> Result<String, String> {
        self.templates
            .get(src)
            .cloned()
            .ok_or_else(|| format!("Could not find or access '{src}'"))
    }
    fn eval_var(&self, expr: &str) -> Result<Value, stockman_modules::EvalError> {
        self.vars
            .get(expr)
            .cloned()
            .ok_or_else(|| stockman_modules::EvalError::undefined(format!("'{expr}' is undefined")))
    }
}

/// One test's world: a temp dir that is also the target's working directory.
pub struct World {
    pub dir: tempfile::TempDir,
    pub target: ShellTarget,
    pub controller: MapController,
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let target = ShellTarget::new(dir.path());
        World {
            dir,
            target,
            controller: MapController::default(),
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    pub async fn run(
        &self,
        kind: ModuleKind,
        args: Value,
        mode: RunMode,
    ) -> Result<ModuleResult, ModuleError> {
        let map: Map<String, Value> = args.as_object().expect("args are a mapping").clone();
        stockman_modules::run(kind, &Args::new(map), &self.target, &self.controller, mode).await
    }

    /// Runs and expects no module error; also returns how many commands it cost.
    pub async fn ok(&self, kind: ModuleKind, args: Value, mode: RunMode) -> (ModuleResult, usize) {
        self.target.take_count();
        let result = self.run(kind, args, mode).await.expect("module runs");
        (result, self.target.take_count())
    }

    /// Names in the temp dir, to prove nothing (e.g. a temp file) was left behind.
    pub fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

pub const NORMAL: RunMode = RunMode {
    check: false,
    diff: false,
};
pub const CHECK: RunMode = RunMode {
    check: true,
    diff: false,
};
pub const DIFF: RunMode = RunMode {
    check: false,
    diff: true,
};
pub const CHECK_DIFF: RunMode = RunMode {
    check: true,
    diff: true,
};

/// A file name that is every kind of trouble for a shell.
pub const HOSTILE_NAME: &str = "-a b'c\"$(touch PWNED)`touch PWNED2`;x\nl2 *";

/// The process umask, as the target's shell sees it.
pub fn umask() -> u32 {
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg("umask")
        .output()
        .unwrap();
    u32::from_str_radix(String::from_utf8_lossy(&out.stdout).trim(), 8).unwrap()
}

pub fn mode_of(path: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn id(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Tests that chown to other users need root.
pub fn is_root() -> bool {
    id("-u") == "0"
}

pub fn whoami() -> String {
    id("-un")
}
