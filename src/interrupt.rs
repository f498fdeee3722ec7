//! Ctrl-C (SIGINT): stop the run at once, as ansible-playbook does.
//!
//! A watcher thread waits for SIGINT and then ends the process with
//! Ansible's `[ERROR]: User interrupted execution` and exit code 99
//! (`ExitCode.KEYBOARD_INTERRUPT`). Ending the process is what stops the run
//! cleanly: no further task starts, and the kernel closes every SSH
//! connection, so sshd ends each remote command's session. A remote file
//! write cut off mid-stdin never replaces its destination: the write script
//! (modules' `remote_file`) checks the size it received before its rename
//! and removes its temp file on any exit.

use std::io::Write;

/// ansible-playbook's exit code after Ctrl-C.
pub const INTERRUPTED_EXIT_CODE: i32 = 99;

/// Starts the SIGINT watcher; without it, SIGINT keeps its default action.
pub fn install() {
    let spawned = std::thread::Builder::new().name("sigint".into()).spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_io().build() else {
            return;
        };
        if runtime.block_on(tokio::signal::ctrl_c()).is_ok() {
            interrupted();
        }
    });
    // No watcher thread: Ctrl-C still ends the process (default action).
    drop(spawned);
}

/// Reports the interruption and ends the process.
fn interrupted() -> ! {
    // The one message printed outside the reporter: the reporter belongs to
    // the run being abandoned, possibly mid-line.
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "[ERROR]: User interrupted execution");
    let _ = err.flush();
    std::process::exit(INTERRUPTED_EXIT_CODE)
}
