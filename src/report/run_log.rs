//! ansible.cfg's `log_path`: every line the human output shows, also appended to a
//! file as Ansible's display logs it: `2026-12-02 01:24:58,713 p=PID u=USER n=ansible
//! INFO| TEXT`, `ERROR|` for error blocks, `WARNING|` for warnings, no colour, no
//! blank lines. It gets the text after censoring (no_log, vault values), so secrets
//! never reach it.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{LazyLock, Mutex};

pub struct RunLog {
    file: Mutex<File>,
    /// ` p=PID u=USER n=ansible `.
    who: String,
}

impl RunLog {
    /// Appends to `path` (created, mode 0600: the log holds hosts' output).
    pub fn open(path: &Path) -> std::io::Result<RunLog> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new().append(true).create(true).mode(0o600).open(path)?;
        Ok(RunLog { file: Mutex::new(file), who: format!(" p={} u={} n=ansible ", std::process::id(), user_name()) })
    }

    /// One shown line (or block); leading line breaks dropped, as Ansible logs banners.
    pub fn line(&self, text: &str) {
        let plain = COLOUR.replace_all(text, "");
        let message = plain.trim_start_matches('\n');
        if message.trim().is_empty() {
            return;
        }
        let entry = format!("{}{}{}| {message}\n", now(), self.who, level(message));
        // A full disk must not stop the run; the screen still shows everything.
        let _ = self.file.lock().unwrap_or_else(|e| e.into_inner()).write_all(entry.as_bytes());
    }
}

static COLOUR: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new("\x1b\\[[0-9;]*m").unwrap_or_else(|_| unreachable!("a constant pattern")));

fn level(message: &str) -> &'static str {
    if message.starts_with("[ERROR]") {
        "ERROR"
    } else if message.starts_with("[WARNING]") || message.starts_with("[DEPRECATION WARNING]") {
        "WARNING"
    } else {
        "INFO"
    }
}

/// `2026-12-02 01:24:58,713` in the controller's local time, as Python logging's asctime.
fn now() -> String {
    let at = std::time::SystemTime::now();
    let offset = utc_offset_secs(at);
    let local = if offset >= 0 { at + std::time::Duration::from_secs(offset.unsigned_abs()) } else { at - std::time::Duration::from_secs(offset.unsigned_abs()) };
    let stamp = stockman_modules::clock::format_timestamp(local);
    format!("{},{}", &stamp[..19], &stamp[20..23])
}

/// The local time zone's offset from UTC at `at` (TZ and /etc/localtime, as the C library reads them); 0 when unknown.
fn utc_offset_secs(at: std::time::SystemTime) -> i64 {
    let Ok(secs) = at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as libc::time_t) else { return 0 };
    // SAFETY: a zeroed tm is a valid out-parameter; both pointers are valid for the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let done = unsafe { libc::localtime_r(&secs, &mut tm) };
    if done.is_null() { 0 } else { tm.tm_gmtoff }
}

/// As Python's getpass.getuser: LOGNAME, USER, LNAME, USERNAME, else the uid's name in
/// /etc/passwd, else the uid.
fn user_name() -> String {
    let from_env = ["LOGNAME", "USER", "LNAME", "USERNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
    from_env.unwrap_or_else(|| {
        let uid = process_uid().to_string();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let name = passwd.lines().map(|l| l.split(':').collect::<Vec<_>>()).find(|f| f.len() > 2 && f[2] == uid).map(|f| f[0].to_string());
        name.unwrap_or(uid)
    })
}

fn process_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_logged_as_ansibles_display_logs_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let log = RunLog::open(&path).unwrap();
        log.line("\nPLAY [web] ***");
        log.line("");
        log.line("\x1b[0;31m[ERROR]: Task failed\x1b[0m\nOrigin: x.yml:1:3\n");
        log.line("[WARNING]: careful");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        let shape = regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} p=\d+ u=\S+ n=ansible (INFO|ERROR|WARNING)\| ").unwrap();
        assert!(shape.is_match(lines[0]) && lines[0].ends_with("INFO| PLAY [web] ***"), "{text}");
        assert!(lines[1].ends_with("ERROR| [ERROR]: Task failed") && lines[2] == "Origin: x.yml:1:3", "{text}");
        assert!(lines[3].ends_with("WARNING| [WARNING]: careful"), "{text}");
        assert_eq!(lines.len(), 4, "the empty line is not logged\n{text}");
    }
}
