//! Starting local helper programs (inventory and vault password scripts).

use std::io;
use std::process::{Child, Command};
use std::time::Duration;

/// How many times a start refused with "Text file busy" is retried.
const BUSY_RETRIES: u32 = 50;

/// `command.spawn()`, retried while the kernel answers ETXTBSY.
///
/// A script written just before it is run can still be open for writing in a
/// child that another thread of this process is forking at that moment (the
/// descriptor is closed on its exec, not on its fork); the kernel then refuses
/// to execute the file for a few milliseconds. Waiting is the only remedy.
pub fn spawn(command: &mut Command) -> io::Result<Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && tries < BUSY_RETRIES => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// `command.output()` with the same retry as [`spawn`].
pub fn output(command: &mut Command) -> io::Result<std::process::Output> {
    spawn(command)?.wait_with_output()
}
