//! The modules' probe parsers and output framing: every module runs against a
//! fake host whose answers (exit code, stdout, stderr) come from the input, so
//! whatever a hostile or broken host prints is parsed without a panic.
//!
//! Input: the first byte picks a module; the rest is split on 0xFF into answers,
//! one per command, each `rc stdout... [0xFE stderr...]`.
#![no_main]
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use stockman_modules::{Args, Controller, ExecOutput, ModuleKind, RunMode, Target, TargetError};

struct FakeHost {
    answers: Mutex<std::vec::IntoIter<ExecOutput>>,
}

impl Target for FakeHost {
    async fn exec(&self, _command: &str, _stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        let next = self.answers.lock().expect("not poisoned").next();
        next.ok_or_else(|| TargetError("connection lost".into()))
    }
}

struct NoController;

impl Controller for NoController {
    fn read_src(&self, _: &str) -> Result<Vec<u8>, String> {
        Ok(b"payload\n".to_vec())
    }
    fn render_template(&self, _: &str) -> Result<String, String> {
        Ok("rendered\n".into())
    }
    fn eval_var(&self, _: &str) -> Result<Value, String> {
        Ok(Value::Null)
    }
}

/// A module with typical arguments.
fn module(pick: u8) -> (ModuleKind, Value) {
    match pick % 10 {
        0 => (ModuleKind::Copy, json!({"content": "x", "dest": "/etc/x", "mode": "0644", "owner": "root"})),
        1 => (ModuleKind::Template, json!({"src": "t.j2", "dest": "/etc/t"})),
        2 => (ModuleKind::File, json!({"path": "/srv/d", "state": "directory", "recurse": true, "owner": "a"})),
        3 => (ModuleKind::Apt, json!({"name": ["hello", "jq=1.6*"], "update_cache": true, "cache_valid_time": 60})),
        4 => (ModuleKind::User, json!({"name": "alice", "groups": ["sudo"], "append": true, "password": "$6$x"})),
        5 => (ModuleKind::Group, json!({"name": "staff", "gid": 50})),
        6 => (ModuleKind::Systemd, json!({"name": "nginx", "state": "restarted", "enabled": true})),
        7 => (ModuleKind::Git, json!({"repo": "/srv/r.git", "dest": "/srv/app", "version": "main"})),
        8 => (ModuleKind::Command, json!({"_raw_params": "echo hi", "creates": "/x", "chdir": "/tmp"})),
        _ => (ModuleKind::File, json!({"path": "/srv/l", "src": "/srv/t", "state": "link"})),
    }
}

fn answers(data: &[u8]) -> Vec<ExecOutput> {
    data.split(|b| *b == 0xFF)
        .map(|chunk| {
            let (rc, rest) = chunk.split_first().map_or((0, &[][..]), |(rc, rest)| (i32::from(*rc) - 1, rest));
            let mut parts = rest.splitn(2, |b| *b == 0xFE);
            let stdout = parts.next().unwrap_or_default().to_vec();
            let stderr = parts.next().unwrap_or_default().to_vec();
            ExecOutput { rc, stdout, stderr }
        })
        .collect()
}

/// Polls a future that never waits on anything real (the fake host answers at once).
fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let Some((pick, rest)) = data.split_first() else { return };
    let (kind, args) = module(*pick);
    let Value::Object(map) = args else { return };
    let host = FakeHost { answers: Mutex::new(answers(rest).into_iter()) };
    for check in [false, true] {
        let mode = RunMode { check, diff: true };
        let _ = block_on(stockman_modules::run(kind, &Args::new(map.clone()), &host, &NoController, mode));
    }
});
